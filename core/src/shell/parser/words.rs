//! Words: the lexing half of the parser. Unquoted words, quotes (`'...'`,
//! `"..."`, `$'...'`, `$"..."`), parameter expansions, command, arithmetic
//! and process substitutions, and backquotes, as parts of a [`Word`]; and
//! a word's text with quotes removed.

use super::*;

impl<'a> Parser<'a> {
    /// Parses one unquoted word; `None` when the cursor is not at a word.
    pub(super) fn parse_word(&mut self) -> PResult<Option<Word>> {
        let mut parts: Vec<WordPart> = Vec::new();
        loop {
            self.skip_continuations();
            let Some(b) = self.peek() else { break };
            match b {
                b'<' | b'>' if parts.is_empty() && self.peek_at(1) == Some(b'(') => {
                    let dir = if b == b'<' {
                        ProcDirection::Input
                    } else {
                        ProcDirection::Output
                    };
                    self.pos += 2;
                    let list = self.parse_subst_list()?;
                    parts.push(WordPart::ProcessSubst(dir, Box::new(list)));
                }
                _ if is_meta(b) => break,
                b'\'' | b'"' => self.parse_quoted(&mut parts)?,
                b'\\' => {
                    self.pos += 1;
                    match self.peek() {
                        None => push_lit(&mut parts, "\\", true),
                        Some(c) => {
                            let n = utf8_len(c).min(self.s.len() - self.pos);
                            push_lit(&mut parts, &self.slice(self.pos, self.pos + n), true);
                            self.pos += n;
                        }
                    }
                }
                b'$' => self.parse_dollar(&mut parts, false)?,
                b'`' => {
                    let list = self.parse_backtick(false)?;
                    parts.push(WordPart::CommandSubst(Box::new(list)));
                }
                _ => {
                    let start = self.pos;
                    while let Some(c) = self.peek() {
                        if is_meta(c) || matches!(c, b'\'' | b'"' | b'\\' | b'$' | b'`') {
                            break;
                        }
                        self.pos += 1;
                    }
                    push_lit(&mut parts, &self.slice(start, self.pos), false);
                }
            }
        }
        Ok(if parts.is_empty() {
            None
        } else {
            Some(Word { parts })
        })
    }

    /// Parses a `'...'` or `"..."` string at the cursor into `parts`.
    fn parse_quoted(&mut self, parts: &mut Vec<WordPart>) -> PResult<()> {
        let quote = self.s[self.pos];
        self.pos += 1;
        if quote == b'"' {
            let inner = self.parse_quoted_parts(Some(b'"'))?;
            parts.push(WordPart::DoubleQuoted(inner));
            return Ok(());
        }
        let start = self.pos;
        let n = self.s[start..]
            .iter()
            .position(|&c| c == b'\'')
            .ok_or_else(|| self.err("unterminated single quote"))?;
        self.pos = start + n + 1;
        push_lit(parts, &self.slice(start, start + n), true);
        Ok(())
    }

    /// Parses text where quotes are not special except the terminator:
    /// the inside of `"..."` (`term = Some('"')`) or a here-document body
    /// (`term = None`, up to the end of input).
    pub(super) fn parse_quoted_parts(&mut self, term: Option<u8>) -> PResult<Vec<WordPart>> {
        self.enter()?;
        let mut parts = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                if term.is_some() {
                    return Err(self.err("unterminated double quote"));
                }
                break;
            };
            if Some(b) == term {
                self.pos += 1;
                break;
            }
            match b {
                b'\\' => {
                    let next = self.peek_at(1);
                    let escapable = matches!(next, Some(b'$' | b'`' | b'\\' | b'\n'))
                        || (term.is_some() && next == term);
                    if next == Some(b'\n') {
                        self.pos += 2;
                    } else if escapable {
                        let c = next.unwrap_or(b'\\');
                        push_lit(&mut parts, &(c as char).to_string(), true);
                        self.pos += 2;
                    } else {
                        push_lit(&mut parts, "\\", true);
                        self.pos += 1;
                    }
                }
                b'$' => self.parse_dollar(&mut parts, true)?,
                b'`' => {
                    let list = self.parse_backtick(term.is_some())?;
                    parts.push(WordPart::CommandSubst(Box::new(list)));
                }
                _ => {
                    let start = self.pos;
                    while let Some(c) = self.peek() {
                        if Some(c) == term || matches!(c, b'\\' | b'$' | b'`') {
                            break;
                        }
                        self.pos += 1;
                    }
                    push_lit(&mut parts, &self.slice(start, self.pos), true);
                }
            }
        }
        self.leave();
        Ok(parts)
    }

    /// Parses what follows a `$`.
    fn parse_dollar(&mut self, parts: &mut Vec<WordPart>, in_quotes: bool) -> PResult<()> {
        self.pos += 1;
        self.skip_continuations();
        match self.peek() {
            Some(b'(') if self.peek_at(1) == Some(b'(') => {
                self.pos += 2;
                self.enter()?;
                let inner = self.parse_arith_body()?;
                self.leave();
                parts.push(WordPart::Arith(inner));
            }
            Some(b'[') => {
                // bash's legacy arithmetic, evaluated inside double quotes
                // too (`"$[1+1]"` is `2`).
                self.pos += 1;
                self.enter()?;
                let inner = self.parse_legacy_arith_body()?;
                self.leave();
                parts.push(WordPart::LegacyArith(inner));
            }
            Some(b'(') => {
                self.pos += 1;
                let list = self.parse_subst_list()?;
                parts.push(WordPart::CommandSubst(Box::new(list)));
            }
            Some(b'{') => {
                self.pos += 1;
                self.enter()?;
                let p = self.parse_braced_param()?;
                self.leave();
                parts.push(WordPart::Param(p));
            }
            Some(b'\'') if !in_quotes => {
                self.pos += 1;
                parts.push(WordPart::AnsiC(self.parse_ansi_c()?));
            }
            Some(b'"') if !in_quotes => {
                self.pos += 1;
                let inner = self.parse_quoted_parts(Some(b'"'))?;
                parts.push(WordPart::Locale(inner));
            }
            Some(c) if is_name_start(c) => {
                let start = self.pos;
                while self.peek().is_some_and(is_name_char) {
                    self.pos += 1;
                }
                parts.push(WordPart::Param(Param {
                    name: self.slice(start, self.pos).into_owned(),
                    braced: false,
                    modifier: Vec::new(),
                }));
            }
            Some(c) if c.is_ascii_digit() || b"@*#?$!-_".contains(&c) => {
                self.pos += 1;
                parts.push(WordPart::Param(Param {
                    name: (c as char).to_string(),
                    braced: false,
                    modifier: Vec::new(),
                }));
            }
            _ => push_lit(parts, "$", in_quotes),
        }
        Ok(())
    }

    /// `$( ... )` and `<( ... )`: a nested list up to the closing parenthesis.
    fn parse_subst_list(&mut self) -> PResult<List> {
        self.enter()?;
        let list = self.parse_list()?;
        self.skip_linebreaks();
        if self.peek() != Some(b')') {
            return Err(if self.pos >= self.s.len() {
                self.err("unterminated command substitution")
            } else {
                self.unexpected()
            });
        }
        self.pos += 1;
        self.leave();
        Ok(list)
    }

    /// The inside of `${...}` after the brace.
    fn parse_braced_param(&mut self) -> PResult<Param> {
        let start = self.pos;
        // Prefix operators (`${#x}`, `${!x}`) belong to the name.
        if matches!(self.peek(), Some(b'#' | b'!')) && self.peek_at(1) != Some(b'}') {
            self.pos += 1;
        }
        match self.peek() {
            Some(c) if is_name_start(c) => {
                while self.peek().is_some_and(is_name_char) {
                    self.pos += 1;
                }
            }
            Some(c) if c.is_ascii_digit() => {
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
            Some(c) if b"@*#?$!-_".contains(&c) => self.pos += 1,
            _ => return Err(self.err("bad substitution")),
        }
        let name = self.slice(start, self.pos).into_owned();
        let mut modifier = Vec::new();
        loop {
            self.skip_continuations();
            let Some(b) = self.peek() else {
                return Err(self.err("unterminated parameter expansion"));
            };
            match b {
                b'}' => {
                    self.pos += 1;
                    break;
                }
                b'\'' | b'"' => self.parse_quoted(&mut modifier)?,
                b'\\' => {
                    let n = if self.peek_at(1).is_some() { 2 } else { 1 };
                    push_lit(&mut modifier, &self.slice(self.pos, self.pos + n), true);
                    self.pos += n;
                }
                b'$' => self.parse_dollar(&mut modifier, false)?,
                b'`' => {
                    let list = self.parse_backtick(false)?;
                    modifier.push(WordPart::CommandSubst(Box::new(list)));
                }
                _ => {
                    let c = utf8_len(b).min(self.s.len() - self.pos);
                    push_lit(&mut modifier, &self.slice(self.pos, self.pos + c), false);
                    self.pos += c;
                }
            }
        }
        Ok(Param {
            name,
            braced: true,
            modifier,
        })
    }

    /// The inside of `$((...))` or `((...))` after the opening parentheses,
    /// through the closing `))`.
    pub(super) fn parse_arith_body(&mut self) -> PResult<Vec<WordPart>> {
        let mut parts = Vec::new();
        let mut depth = 0usize;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.err("unterminated arithmetic expression"));
            };
            match b {
                b'(' => {
                    depth += 1;
                    push_lit(&mut parts, "(", false);
                    self.pos += 1;
                }
                b')' if depth == 0 => {
                    if self.peek_at(1) == Some(b')') {
                        self.pos += 2;
                        return Ok(parts);
                    }
                    return Err(self.err("unbalanced parenthesis in arithmetic expression"));
                }
                b')' => {
                    depth -= 1;
                    push_lit(&mut parts, ")", false);
                    self.pos += 1;
                }
                b'$' => self.parse_dollar(&mut parts, false)?,
                b'`' => {
                    let list = self.parse_backtick(false)?;
                    parts.push(WordPart::CommandSubst(Box::new(list)));
                }
                b'"' => {
                    self.pos += 1;
                    let inner = self.parse_quoted_parts(Some(b'"'))?;
                    parts.push(WordPart::DoubleQuoted(inner));
                }
                _ => {
                    let c = utf8_len(b).min(self.s.len() - self.pos);
                    push_lit(&mut parts, &self.slice(self.pos, self.pos + c), false);
                    self.pos += c;
                }
            }
        }
    }

    /// The inside of bash's `$[...]` after the `[`, through the `]` that
    /// matches it (brackets nest: `$[a[1]+2]`). Quotes and substitutions
    /// inside are parsed as in `$((...))`.
    fn parse_legacy_arith_body(&mut self) -> PResult<Vec<WordPart>> {
        let mut parts = Vec::new();
        let mut depth = 0usize;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.err("unterminated `$[` arithmetic expression"));
            };
            match b {
                b'[' => {
                    depth += 1;
                    push_lit(&mut parts, "[", false);
                    self.pos += 1;
                }
                b']' if depth == 0 => {
                    self.pos += 1;
                    return Ok(parts);
                }
                b']' => {
                    depth -= 1;
                    push_lit(&mut parts, "]", false);
                    self.pos += 1;
                }
                b'$' => self.parse_dollar(&mut parts, false)?,
                b'`' => {
                    let list = self.parse_backtick(false)?;
                    parts.push(WordPart::CommandSubst(Box::new(list)));
                }
                b'"' => {
                    self.pos += 1;
                    let inner = self.parse_quoted_parts(Some(b'"'))?;
                    parts.push(WordPart::DoubleQuoted(inner));
                }
                // bash skips quoted text looking for the `]`.
                b'\'' => self.parse_quoted(&mut parts)?,
                b'\\' => {
                    let n = if self.peek_at(1).is_some() { 2 } else { 1 };
                    push_lit(&mut parts, &self.slice(self.pos, self.pos + n), true);
                    self.pos += n;
                }
                _ => {
                    let c = utf8_len(b).min(self.s.len() - self.pos);
                    push_lit(&mut parts, &self.slice(self.pos, self.pos + c), false);
                    self.pos += c;
                }
            }
        }
    }

    /// `` `...` ``: finds the closing backquote, removes the backslashes that
    /// quote `\`, `` ` `` and `$` (and `"` inside double quotes) and parses
    /// the result as a nested script.
    fn parse_backtick(&mut self, in_dquotes: bool) -> PResult<List> {
        self.pos += 1;
        let mut inner = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.err("unterminated backquote")),
                Some(b'`') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    let next = self.peek_at(1);
                    match next {
                        Some(c @ (b'\\' | b'`' | b'$')) => {
                            inner.push(c);
                            self.pos += 2;
                        }
                        Some(b'"') if in_dquotes => {
                            inner.push(b'"');
                            self.pos += 2;
                        }
                        Some(c) => {
                            inner.extend_from_slice(&[b'\\', c]);
                            self.pos += 2;
                        }
                        None => return Err(self.err("unterminated backquote")),
                    }
                }
                Some(c) => {
                    inner.push(c);
                    self.pos += 1;
                }
            }
        }
        let inner = String::from_utf8_lossy(&inner);
        let mut sub = Parser::new(&inner, self.depth + 1)?;
        sub.heredocs = std::mem::take(&mut self.heredocs);
        let result = sub.parse_list().and_then(|list| {
            sub.skip_linebreaks();
            if sub.pos < sub.s.len() {
                Err(sub.unexpected())
            } else {
                Ok(list)
            }
        });
        sub.finish_heredocs();
        self.heredocs = std::mem::take(&mut sub.heredocs);
        result.map_err(|mut e| {
            e.offset = self.pos;
            e.message = format!("in backquotes: {}", e.message);
            e
        })
    }

    /// bash's `$'...'`, decoded.
    fn parse_ansi_c(&mut self) -> PResult<String> {
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(self.err("unterminated $'...' string"));
            };
            self.pos += 1;
            match b {
                b'\'' => break,
                b'\\' => {
                    let Some(e) = self.peek() else { continue };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'a' => out.push(7),
                        b'b' => out.push(8),
                        b'e' | b'E' => out.push(27),
                        b'f' => out.push(12),
                        b'v' => out.push(11),
                        b'\\' | b'\'' | b'"' | b'?' => out.push(e),
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xff) as u8);
                        }
                        b'x' => {
                            let mut v = 0u32;
                            let mut n = 0;
                            while n < 2 {
                                match self.peek().and_then(|d| (d as char).to_digit(16)) {
                                    Some(d) => {
                                        v = v * 16 + d;
                                        self.pos += 1;
                                        n += 1;
                                    }
                                    None => break,
                                }
                            }
                            if n == 0 {
                                out.extend_from_slice(b"\\x");
                            } else {
                                out.push(v as u8);
                            }
                        }
                        other => out.extend_from_slice(&[b'\\', other]),
                    }
                }
                other => out.push(other),
            }
        }
        Ok(text(&out).into_owned())
    }
}

/// The text of a word with quotes removed and expansions written back as
/// `$NAME` / `${...}` / `$(...)`; used for names and here-doc delimiters.
pub fn word_text(word: &Word) -> String {
    let mut out = String::new();
    parts_text(&word.parts, &mut out);
    out
}

fn parts_text(parts: &[WordPart], out: &mut String) {
    for p in parts {
        match p {
            WordPart::Lit { text, .. } => out.push_str(text),
            WordPart::DoubleQuoted(inner) | WordPart::Locale(inner) => parts_text(inner, out),
            WordPart::AnsiC(s) => out.push_str(s),
            WordPart::Param(p) => {
                out.push_str("${");
                out.push_str(&p.name);
                parts_text(&p.modifier, out);
                out.push('}');
            }
            WordPart::CommandSubst(_) => out.push_str("$(...)"),
            WordPart::Arith(_) => out.push_str("$((...))"),
            WordPart::LegacyArith(_) => out.push_str("$[...]"),
            WordPart::ProcessSubst(ProcDirection::Input, _) => out.push_str("<(...)"),
            WordPart::ProcessSubst(ProcDirection::Output, _) => out.push_str(">(...)"),
        }
    }
}
