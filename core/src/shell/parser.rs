//! A recursive-descent parser for the POSIX shell language with the bash
//! extensions agents use (`$'...'`, `[[ ]]`, `(( ))`, `<(...)`, `&>`, `<<<`,
//! `|&`, `function`, arrays in assignments).
//!
//! The parser works on bytes (every syntax character is ASCII, so literal
//! text is always cut at character boundaries), recurses at most
//! [`MAX_DEPTH`] levels, and reads each byte a bounded number of times.

use super::ast::*;
use std::fmt;

#[cfg(test)]
mod tests;
mod words;

pub use words::word_text;

/// The deepest nesting of compound commands, substitutions and quotes the
/// parser accepts; deeper input is a [`ParseError`], never a stack overflow.
pub const MAX_DEPTH: usize = 100;

/// Why a command line could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong, in words.
    pub message: String,
    /// The byte offset in the input where it was noticed.
    pub offset: usize,
}

impl ParseError {
    /// Whether the input was rejected only for nesting deeper than
    /// [`MAX_DEPTH`] levels (not for being invalid).
    pub fn is_too_deep(&self) -> bool {
        self.message == too_deep_message()
    }
}

fn too_deep_message() -> String {
    format!("nesting deeper than {MAX_DEPTH} levels")
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)
    }
}

impl std::error::Error for ParseError {}

type PResult<T> = Result<T, ParseError>;

/// Parses a whole command line.
pub fn parse(src: &str) -> Result<Script, ParseError> {
    parse_nested(src, 0)
}

/// Parses a script found inside another one (for `bash -c '...'`), counting
/// `depth` levels of nesting already used.
pub fn parse_nested(src: &str, depth: usize) -> Result<Script, ParseError> {
    // A byte loop: cheaper than `str::find`'s searcher on the short lines
    // that are the rule.
    if let Some(i) = src.bytes().position(|b| b == 0) {
        return Err(ParseError {
            message: "the command contains a NUL byte, which no shell can receive".into(),
            offset: i,
        });
    }
    let mut p = Parser::new(src, depth)?;
    let body = p.parse_list()?;
    p.skip_blanks();
    if p.pos < p.s.len() {
        return Err(p.unexpected());
    }
    p.finish_heredocs();
    Ok(Script {
        body,
        heredocs: p.heredocs,
    })
}

/// Bash's reserved words (a superset of POSIX's).
pub const RESERVED_WORDS: &[&str] = &[
    "!", "{", "}", "[[", "]]", "case", "coproc", "do", "done", "elif", "else", "esac", "fi", "for",
    "function", "if", "in", "select", "then", "time", "until", "while",
];

/// Reserved words that may not start a command (they close or continue one).
const CLOSING_WORDS: &[&str] = &[
    "}", "do", "done", "elif", "else", "esac", "fi", "in", "then",
];

struct PendingHereDoc {
    index: usize,
    delimiter: Vec<u8>,
    strip_tabs: bool,
}

struct Parser<'a> {
    s: &'a [u8],
    /// The same input as text (slicing it at ASCII positions is O(1)).
    src: &'a str,
    pos: usize,
    depth: usize,
    heredocs: Vec<HereDoc>,
    pending: Vec<PendingHereDoc>,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Characters that end an unquoted word.
fn is_meta(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')'
    )
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Length of the UTF-8 sequence that starts with `b`.
fn utf8_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// The text of a byte range. The input is UTF-8 and ranges are cut at ASCII
/// bytes, so this borrows; only decoded `$'...'` bytes can be invalid.
fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// Appends literal text to `parts`, merging with a preceding literal of the
/// same quoting.
fn push_lit(parts: &mut Vec<WordPart>, s: &str, quoted: bool) {
    if let Some(WordPart::Lit { text, quoted: q }) = parts.last_mut() {
        if *q == quoted {
            text.push_str(s);
            return;
        }
    }
    parts.push(WordPart::Lit {
        text: s.to_string(),
        quoted,
    });
}

/// Whether a word is an assignment (`NAME=`, `NAME+=`, `NAME[...]=`).
pub fn is_assignment(word: &Word) -> bool {
    let Some(WordPart::Lit {
        text,
        quoted: false,
    }) = word.parts.first()
    else {
        return false;
    };
    let b = text.as_bytes();
    if b.is_empty() || !is_name_start(b[0]) {
        return false;
    }
    let mut i = 1;
    while i < b.len() && is_name_char(b[i]) {
        i += 1;
    }
    match b.get(i) {
        Some(b'=') => true,
        Some(b'+') => b.get(i + 1) == Some(&b'='),
        Some(b'[') => true,
        _ => false,
    }
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, depth: usize) -> PResult<Self> {
        let p = Parser {
            s: src.as_bytes(),
            src,
            pos: 0,
            depth,
            heredocs: Vec::new(),
            pending: Vec::new(),
        };
        if depth > MAX_DEPTH {
            return Err(p.too_deep());
        }
        Ok(p)
    }

    /// The input between two byte offsets as text: borrowed when both are
    /// character boundaries (always, for offsets next to ASCII bytes).
    fn slice(&self, start: usize, end: usize) -> std::borrow::Cow<'a, str> {
        match self.src.get(start..end) {
            Some(s) => std::borrow::Cow::Borrowed(s),
            None => String::from_utf8_lossy(&self.s[start..end]),
        }
    }

    fn too_deep(&self) -> ParseError {
        ParseError {
            message: too_deep_message(),
            offset: self.pos,
        }
    }

    fn err(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            message: message.into(),
            offset: self.pos,
        }
    }

    fn unexpected(&self) -> ParseError {
        match self.s.get(self.pos) {
            None => self.err("unexpected end of input"),
            Some(_) => {
                let end = (self.pos + 1..=self.s.len())
                    .find(|&e| e == self.s.len() || is_meta(self.s[e]) != is_meta(self.s[self.pos]))
                    .unwrap_or(self.s.len())
                    .min(self.pos + 8);
                let tok = String::from_utf8_lossy(&self.s[self.pos..end]);
                self.err(format!("syntax error near unexpected token `{tok}`"))
            }
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.too_deep());
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn peek_at(&self, off: usize) -> Option<u8> {
        self.s.get(self.pos + off).copied()
    }

    fn starts_with(&self, t: &[u8]) -> bool {
        self.s[self.pos..].starts_with(t)
    }

    /// Skips backslash-newline pairs (line continuations).
    fn skip_continuations(&mut self) {
        while self.peek() == Some(b'\\') && self.peek_at(1) == Some(b'\n') {
            self.pos += 2;
        }
    }

    /// Skips blanks, line continuations and a comment, stopping at a newline.
    fn skip_blanks(&mut self) {
        loop {
            self.skip_continuations();
            match self.peek() {
                Some(b) if is_blank(b) => self.pos += 1,
                Some(b'#') => {
                    while let Some(b) = self.peek() {
                        if b == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                _ => return,
            }
        }
    }

    /// Skips blanks, comments and newlines (reading here-documents).
    fn skip_linebreaks(&mut self) {
        loop {
            self.skip_blanks();
            if self.peek() == Some(b'\n') {
                self.consume_newline();
            } else {
                return;
            }
        }
    }

    /// Consumes one newline and reads the bodies of pending here-documents.
    fn consume_newline(&mut self) {
        self.pos += 1;
        let pending = std::mem::take(&mut self.pending);
        for h in pending {
            self.read_heredoc_body(h);
        }
    }

    fn read_heredoc_body(&mut self, h: PendingHereDoc) {
        let mut after = self.s.len();
        let mut lines: Vec<u8> = Vec::new();
        let mut i = self.pos;
        while i < self.s.len() {
            let line_end = self.s[i..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(self.s.len(), |n| i + n);
            let mut line = &self.s[i..line_end];
            if h.strip_tabs {
                while let [b'\t', rest @ ..] = line {
                    line = rest;
                }
            }
            if line == h.delimiter.as_slice() {
                after = (line_end + 1).min(self.s.len());
                break;
            }
            lines.extend_from_slice(line);
            lines.push(b'\n');
            i = line_end + 1;
        }
        self.pos = after;
        let body_text = text(&lines).into_owned();
        let quoted = self.heredocs[h.index].quoted;
        let body = if quoted {
            vec![WordPart::Lit {
                text: body_text.clone(),
                quoted: true,
            }]
        } else {
            self.parse_heredoc_parts(&lines).unwrap_or_else(|_| {
                vec![WordPart::Lit {
                    text: body_text.clone(),
                    quoted: true,
                }]
            })
        };
        let doc = &mut self.heredocs[h.index];
        doc.text = body_text;
        doc.body = body;
    }

    /// Parses an unquoted here-document body: expansions apply, quotes do not.
    fn parse_heredoc_parts(&mut self, body: &[u8]) -> PResult<Vec<WordPart>> {
        let body = String::from_utf8_lossy(body);
        let mut sub = Parser::new(&body, self.depth + 1)?;
        sub.heredocs = std::mem::take(&mut self.heredocs);
        let r = sub.parse_quoted_parts(None);
        self.heredocs = std::mem::take(&mut sub.heredocs);
        r
    }

    /// Pending here-documents at the end of input end there (bash warns).
    fn finish_heredocs(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        for h in pending {
            self.read_heredoc_body(h);
        }
    }

    /// The reserved word at the cursor, if a whole unquoted word is one.
    fn peek_reserved(&self) -> Option<&'static str> {
        let rest = &self.s[self.pos..];
        let n = rest
            .iter()
            .position(|&b| is_meta(b) || matches!(b, b'\'' | b'"' | b'\\' | b'$' | b'`'))
            .unwrap_or(rest.len());
        if n == 0 {
            return None;
        }
        let word = &rest[..n];
        RESERVED_WORDS
            .iter()
            .find(|w| w.as_bytes() == word)
            .copied()
    }

    fn eat_reserved(&mut self, word: &str) -> bool {
        if self.peek_reserved() == Some(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    fn expect_reserved(&mut self, word: &str) -> PResult<()> {
        self.skip_linebreaks();
        if self.eat_reserved(word) {
            Ok(())
        } else if self.pos >= self.s.len() {
            Err(self.err(format!("unexpected end of input: expected `{word}`")))
        } else {
            let mut e = self.unexpected();
            e.message = format!("{} (expected `{word}`)", e.message);
            Err(e)
        }
    }

    /// Whether the cursor is at something that ends a list.
    fn at_list_end(&self) -> bool {
        match self.peek() {
            None | Some(b')') => true,
            Some(b';') => matches!(self.peek_at(1), Some(b';') | Some(b'&')),
            _ => matches!(self.peek_reserved(), Some(w) if CLOSING_WORDS.contains(&w)),
        }
    }

    fn parse_list(&mut self) -> PResult<List> {
        let mut items = Vec::new();
        loop {
            self.skip_linebreaks();
            if self.at_list_end() {
                break;
            }
            let and_or = self.parse_and_or()?;
            self.skip_blanks();
            let terminator = match self.peek() {
                Some(b';') if !matches!(self.peek_at(1), Some(b';') | Some(b'&')) => {
                    self.pos += 1;
                    Terminator::Semicolon
                }
                Some(b'&') if self.peek_at(1) != Some(b'&') => {
                    self.pos += 1;
                    Terminator::Background
                }
                Some(b'\n') => {
                    self.consume_newline();
                    Terminator::Newline
                }
                _ => Terminator::End,
            };
            items.push(ListItem { and_or, terminator });
            if terminator == Terminator::End {
                break;
            }
        }
        Ok(List { items })
    }

    fn parse_and_or(&mut self) -> PResult<AndOr> {
        let first = self.parse_pipeline()?;
        let mut rest = Vec::new();
        loop {
            self.skip_blanks();
            let op = if self.starts_with(b"&&") {
                AndOrOp::And
            } else if self.starts_with(b"||") {
                AndOrOp::Or
            } else {
                break;
            };
            self.pos += 2;
            self.skip_linebreaks();
            rest.push((op, self.parse_pipeline()?));
        }
        Ok(AndOr { first, rest })
    }

    fn parse_pipeline(&mut self) -> PResult<Pipeline> {
        let mut negated = false;
        let mut timed = false;
        loop {
            self.skip_blanks();
            if self.eat_reserved("!") {
                negated = !negated;
            } else if self.eat_reserved("time") {
                timed = true;
                self.skip_blanks();
                if self.starts_with(b"-p") && self.peek_at(2).is_none_or(is_meta) {
                    self.pos += 2;
                }
            } else {
                break;
            }
        }
        let mut commands = vec![self.parse_command()?];
        let mut pipes_stderr = false;
        loop {
            self.skip_blanks();
            if self.peek() == Some(b'|') && self.peek_at(1) != Some(b'|') {
                self.pos += 1;
                if self.peek() == Some(b'&') {
                    self.pos += 1;
                    pipes_stderr = true;
                }
                self.skip_linebreaks();
                commands.push(self.parse_command()?);
            } else {
                break;
            }
        }
        Ok(Pipeline {
            negated,
            timed,
            commands,
            pipes_stderr,
        })
    }

    fn parse_command(&mut self) -> PResult<Command> {
        self.skip_blanks();
        if self.starts_with(b"((") {
            return self.with_redirects(|p| {
                p.pos += 2;
                Ok(CompoundCommand::Arithmetic(p.parse_arith_body()?))
            });
        }
        if self.peek() == Some(b'(') {
            return self.with_redirects(|p| {
                p.pos += 1;
                let list = p.parse_list()?;
                p.expect_byte(b')')?;
                Ok(CompoundCommand::Subshell(list))
            });
        }
        match self.peek_reserved() {
            Some("{") => self.with_redirects(|p| {
                p.pos += 1;
                let list = p.parse_list()?;
                p.expect_reserved("}")?;
                Ok(CompoundCommand::Group(list))
            }),
            Some("if") => self.with_redirects(Self::parse_if),
            Some(w @ ("while" | "until")) => self.with_redirects(|p| {
                p.pos += w.len();
                let cond = p.parse_list()?;
                let body = p.parse_do_group()?;
                Ok(CompoundCommand::Loop(cond, body))
            }),
            Some(w @ ("for" | "select")) => self.with_redirects(|p| {
                p.pos += w.len();
                p.parse_for()
            }),
            Some("case") => self.with_redirects(Self::parse_case),
            Some("[[") => self.with_redirects(Self::parse_conditional),
            Some("function") => {
                self.pos += "function".len();
                self.skip_blanks();
                let name = self
                    .parse_word()?
                    .ok_or_else(|| self.err("expected a function name"))?;
                self.skip_blanks();
                if self.starts_with(b"(") {
                    self.pos += 1;
                    self.skip_blanks();
                    self.expect_byte(b')')?;
                }
                self.parse_function_body(word_text(&name))
            }
            Some(w) if CLOSING_WORDS.contains(&w) => Err(self.unexpected()),
            _ => self.parse_simple_command(),
        }
    }

    fn expect_byte(&mut self, b: u8) -> PResult<()> {
        self.skip_linebreaks();
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else if self.pos >= self.s.len() {
            Err(self.err(format!("unexpected end of input: expected `{}`", b as char)))
        } else {
            Err(self.unexpected())
        }
    }

    /// Parses a compound command with `f`, then its redirections.
    fn with_redirects(
        &mut self,
        f: impl FnOnce(&mut Self) -> PResult<CompoundCommand>,
    ) -> PResult<Command> {
        self.enter()?;
        let compound = f(self)?;
        self.leave();
        let mut redirects = Vec::new();
        loop {
            self.skip_blanks();
            match self.try_parse_redirect()? {
                Some(r) => redirects.push(r),
                None => break,
            }
        }
        Ok(Command::Compound(Box::new(compound), redirects))
    }

    fn parse_function_body(&mut self, name: String) -> PResult<Command> {
        self.skip_linebreaks();
        let body = self.parse_command()?;
        if !matches!(body, Command::Compound(..)) {
            return Err(self.err("a function body must be a compound command"));
        }
        Ok(Command::Function(FunctionDef {
            name,
            body: Box::new(body),
        }))
    }

    fn parse_if(&mut self) -> PResult<CompoundCommand> {
        self.pos += 2;
        let mut parts = vec![self.parse_list()?];
        self.expect_reserved("then")?;
        parts.push(self.parse_list()?);
        loop {
            self.skip_linebreaks();
            if self.eat_reserved("elif") {
                parts.push(self.parse_list()?);
                self.expect_reserved("then")?;
                parts.push(self.parse_list()?);
            } else if self.eat_reserved("else") {
                parts.push(self.parse_list()?);
                self.expect_reserved("fi")?;
                break;
            } else {
                self.expect_reserved("fi")?;
                break;
            }
        }
        Ok(CompoundCommand::If(parts))
    }

    fn parse_do_group(&mut self) -> PResult<List> {
        self.expect_reserved("do")?;
        let body = self.parse_list()?;
        self.expect_reserved("done")?;
        Ok(body)
    }

    fn parse_for(&mut self) -> PResult<CompoundCommand> {
        self.skip_blanks();
        let mut words = Vec::new();
        if self.starts_with(b"((") {
            self.pos += 2;
            let parts = self.parse_arith_body()?;
            words.push(Word { parts });
        } else {
            let name = self
                .parse_word()?
                .ok_or_else(|| self.err("expected a variable name after `for`"))?;
            let _ = name;
            self.skip_linebreaks();
            if self.eat_reserved("in") {
                loop {
                    self.skip_blanks();
                    match self.parse_word()? {
                        Some(w) => words.push(w),
                        None => break,
                    }
                }
            }
        }
        self.skip_blanks();
        if self.peek() == Some(b';') {
            self.pos += 1;
        }
        self.skip_linebreaks();
        let body = if self.peek_reserved() == Some("{") {
            self.pos += 1;
            let list = self.parse_list()?;
            self.expect_reserved("}")?;
            list
        } else {
            self.parse_do_group()?
        };
        Ok(CompoundCommand::For(words, body))
    }

    fn parse_case(&mut self) -> PResult<CompoundCommand> {
        self.pos += 4;
        self.skip_blanks();
        let subject = self
            .parse_word()?
            .ok_or_else(|| self.err("expected a word after `case`"))?;
        self.expect_reserved("in")?;
        let mut patterns = Vec::new();
        let mut bodies = Vec::new();
        loop {
            self.skip_linebreaks();
            if self.eat_reserved("esac") {
                break;
            }
            if self.peek() == Some(b'(') {
                self.pos += 1;
            }
            loop {
                self.skip_blanks();
                let w = self.parse_word()?.ok_or_else(|| self.unexpected())?;
                patterns.push(w);
                self.skip_blanks();
                match self.peek() {
                    Some(b'|') => self.pos += 1,
                    Some(b')') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.unexpected()),
                }
            }
            bodies.push(self.parse_list()?);
            self.skip_linebreaks();
            if self.starts_with(b";;&") {
                self.pos += 3;
            } else if self.starts_with(b";;") || self.starts_with(b";&") {
                self.pos += 2;
            } else {
                self.expect_reserved("esac")?;
                break;
            }
        }
        Ok(CompoundCommand::Case(subject, patterns, bodies))
    }

    fn parse_conditional(&mut self) -> PResult<CompoundCommand> {
        self.pos += 2;
        let mut words = Vec::new();
        loop {
            self.skip_linebreaks();
            if self.eat_reserved("]]") {
                return Ok(CompoundCommand::Conditional(words));
            }
            match self.parse_word()? {
                Some(w) => words.push(w),
                None => match self.peek() {
                    None => return Err(self.err("unexpected end of input: expected `]]`")),
                    Some(b) => {
                        // Operators inside [[ ]] (&&, ||, <, >, parentheses) are
                        // part of the expression.
                        let n = if matches!(b, b'&' | b'|') && self.peek_at(1) == Some(b) {
                            2
                        } else if matches!(b, b'<' | b'>' | b'(' | b')' | b'!') {
                            1
                        } else {
                            return Err(self.unexpected());
                        };
                        let op = self.slice(self.pos, self.pos + n).into_owned();
                        self.pos += n;
                        words.push(Word {
                            parts: vec![WordPart::Lit {
                                text: op,
                                quoted: false,
                            }],
                        });
                    }
                },
            }
        }
    }

    fn parse_simple_command(&mut self) -> PResult<Command> {
        let mut cmd = SimpleCommand {
            words: Vec::with_capacity(8),
            ..SimpleCommand::default()
        };
        loop {
            self.skip_blanks();
            if let Some(r) = self.try_parse_redirect()? {
                cmd.redirects.push(r);
                continue;
            }
            let Some(word) = self.parse_word()? else {
                break;
            };
            if cmd.words.is_empty() && is_assignment(&word) {
                let mut word = word;
                if self.peek() == Some(b'(') && word_text(&word).ends_with('=') {
                    self.parse_array_into(&mut word)?;
                }
                cmd.assignments.push(word);
                continue;
            }
            cmd.words.push(word);
            if cmd.words.len() == 1 && cmd.assignments.is_empty() && cmd.redirects.is_empty() {
                let save = self.pos;
                self.skip_blanks();
                if self.peek() == Some(b'(') && self.peek_at(1) != Some(b'(') {
                    self.pos += 1;
                    self.skip_blanks();
                    self.expect_byte(b')')?;
                    let name = word_text(&cmd.words[0]);
                    return self.parse_function_body(name);
                }
                self.pos = save;
            }
        }
        if cmd.words.is_empty() && cmd.assignments.is_empty() && cmd.redirects.is_empty() {
            return Err(self.unexpected());
        }
        Ok(Command::Simple(cmd))
    }

    /// bash's `name=(a b c)`: the elements are appended to the assignment word.
    fn parse_array_into(&mut self, word: &mut Word) -> PResult<()> {
        self.enter()?;
        self.pos += 1;
        push_lit(&mut word.parts, "(", false);
        loop {
            self.skip_linebreaks();
            if self.peek() == Some(b')') {
                self.pos += 1;
                break;
            }
            let w = self.parse_word()?.ok_or_else(|| self.unexpected())?;
            word.parts.extend(w.parts);
            push_lit(&mut word.parts, " ", false);
        }
        push_lit(&mut word.parts, ")", false);
        self.leave();
        Ok(())
    }

    fn try_parse_redirect(&mut self) -> PResult<Option<Redirect>> {
        let start = self.pos;
        let mut i = self.pos;
        while i < self.s.len() && self.s[i].is_ascii_digit() {
            i += 1;
        }
        let fd = if i > start && matches!(self.s.get(i), Some(b'<') | Some(b'>')) {
            std::str::from_utf8(&self.s[start..i])
                .ok()
                .and_then(|d| d.parse().ok())
                .or(Some(u32::MAX))
        } else {
            i = start;
            None
        };
        let rest = &self.s[i..];
        let (op, len) = if rest.starts_with(b"<(") || rest.starts_with(b">(") {
            return Ok(None);
        } else if rest.starts_with(b"&>>") {
            (RedirectOp::OutputBoth, 3)
        } else if rest.starts_with(b"&>") {
            (RedirectOp::OutputBoth, 2)
        } else if rest.starts_with(b"<<<") {
            (RedirectOp::HereString, 3)
        } else if rest.starts_with(b"<<-") {
            (RedirectOp::HereDoc, 3)
        } else if rest.starts_with(b"<<") {
            (RedirectOp::HereDoc, 2)
        } else if rest.starts_with(b"<&") {
            (RedirectOp::DupInput, 2)
        } else if rest.starts_with(b"<>") {
            (RedirectOp::ReadWrite, 2)
        } else if rest.starts_with(b"<") {
            (RedirectOp::Input, 1)
        } else if rest.starts_with(b">>") {
            (RedirectOp::Append, 2)
        } else if rest.starts_with(b">&") {
            (RedirectOp::DupOutput, 2)
        } else if rest.starts_with(b">|") {
            (RedirectOp::Clobber, 2)
        } else if rest.starts_with(b">") {
            (RedirectOp::Output, 1)
        } else {
            return Ok(None);
        };
        let strip_tabs = op == RedirectOp::HereDoc && len == 3;
        self.pos = i + len;
        self.skip_blanks();
        let target = self
            .parse_word()?
            .ok_or_else(|| self.err("expected a word after a redirection operator"))?;
        let mut heredoc = None;
        if op == RedirectOp::HereDoc {
            let quoted = target
                .parts
                .iter()
                .any(|p| !matches!(p, WordPart::Lit { quoted: false, .. }));
            let index = self.heredocs.len();
            self.heredocs.push(HereDoc {
                quoted,
                body: Vec::new(),
                text: String::new(),
            });
            self.pending.push(PendingHereDoc {
                index,
                delimiter: word_text(&target).into_bytes(),
                strip_tabs,
            });
            heredoc = Some(index);
        }
        Ok(Some(Redirect {
            fd,
            op,
            target,
            heredoc,
        }))
    }
}
