//! Walks a parsed script and collects the facts the classifier reports:
//! every program run (through wrappers, nested scripts and substitutions),
//! the shell constructs used, redirection targets and function definitions.

use super::launchers::{self, Launched};
use super::types::{Construct, ConstructKind};
use super::unwrap::{self, Layer};
use super::words::WordInfo;
use crate::catalog::catalog;
use crate::shell::ast::*;
use crate::shell::{parse_nested, MAX_DEPTH};
use std::collections::HashSet;

/// How a shell or interpreter gets its program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptSource {
    /// Not a shell or interpreter.
    None,
    /// From text known statically, which was parsed and walked.
    Parsed,
    /// From text only known at run time.
    Dynamic,
    /// From standard input.
    Stdin,
    /// From a file or inline code of another language.
    Other,
}

/// One program run.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The program name, `None` for a command word known only at run time.
    pub name: Option<String>,
    /// The words, the command word first.
    pub args: Vec<WordInfo>,
    /// What runs it, outermost first.
    pub via: Vec<String>,
    /// Arguments are appended at run time (`xargs`, `find -exec`).
    pub appended: bool,
    /// For shells and interpreters: where the program text comes from.
    pub script: ScriptSource,
    /// A word of the command runs a downloader in a substitution.
    pub download_in_args: bool,
    /// The program only runs the command it wraps (`sudo`, `env`, `xargs`,
    /// `bash -c` with a known script): its effect is that command's.
    pub wraps: bool,
    /// Text given on standard input by a here-document or here-string.
    pub stdin_text: Option<String>,
    /// Why the program runs code the classifier cannot see (its options
    /// name another repository, its script comes from a file, ...).
    pub unseen: Option<String>,
    /// Its script writes a file (`sed 'w out'`, awk's `print > "f"`).
    pub writes_file: bool,
}

/// A write or read redirection target.
#[derive(Debug, Clone)]
pub struct RedirectTarget {
    /// The operator.
    pub op: RedirectOp,
    /// The target word.
    pub target: WordInfo,
}

/// Everything collected from one command line.
#[derive(Debug, Default)]
pub struct Facts {
    /// Programs, in the order they appear.
    pub invocations: Vec<Invocation>,
    /// Constructs, without duplicates, in order of appearance.
    pub constructs: Vec<Construct>,
    seen: HashSet<Construct>,
    /// Redirections that open files.
    pub redirects: Vec<RedirectTarget>,
    /// Names of functions that multiply themselves.
    pub fork_bombs: Vec<String>,
    /// Names of all functions defined.
    pub functions: HashSet<String>,
    /// Nested scripts that failed to parse.
    pub nested_errors: Vec<String>,
    /// Wrappers nested deeper than [`MAX_DEPTH`]: the innermost command
    /// was not followed.
    pub too_deep: bool,
    /// Descriptions of downloaded code being run.
    pub remote_exec: Vec<String>,
    backgrounds: usize,
    /// Literal text of words holding `[...]` with a substitution inside:
    /// code if bash evaluates it as an array subscript.
    subscripts: Vec<String>,
}

impl Facts {
    fn construct(&mut self, kind: ConstructKind, detail: Option<String>) {
        let c = Construct { kind, detail };
        if !self.seen.contains(&c) {
            self.seen.insert(c.clone());
            self.constructs.push(c);
        }
    }
}

/// The walking context: where in the nesting we are.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    heredocs: &'a [HereDoc],
    depth: usize,
}

/// Collects facts from a parsed script.
pub fn collect(script: &Script) -> Facts {
    let mut w = Walker::default();
    w.script(script, 0);
    w.evaluate_subscripts();
    w.facts
}

/// Builtins that take variable names (which may carry an array subscript)
/// or arithmetic (which evaluates subscripts and the values of the
/// variables it names): bash runs the command substitution in `test -v
/// 'a[$(id)]'`, `printf -v 'a[$(id)]' x`, `unset 'a[$(id)]'`, `let
/// 'a[$(id)]'`, `declare 'a[$(id)]'=1` (tests/bash_model.rs checks against
/// bash).
const EVALUATING_BUILTINS: &[&str] = &[
    "test",
    "[",
    "printf",
    "read",
    "unset",
    "declare",
    "typeset",
    "local",
    "export",
    "readonly",
    "let",
    "mapfile",
    "readarray",
    "wait",
    "getopts",
];

/// The texts between `[` and its `]` (or the end) that hold a substitution.
fn code_in_subscripts(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(open) = b[i..].iter().position(|&c| c == b'[').map(|n| i + n) {
        let mut depth = 0usize;
        let mut close = b.len();
        for (j, &c) in b.iter().enumerate().skip(open) {
            match c {
                b'[' => depth += 1,
                b']' => {
                    depth -= 1;
                    if depth == 0 {
                        close = j;
                        break;
                    }
                }
                _ => {}
            }
        }
        let inner = &text[open + 1..close];
        if inner.contains("$(") || inner.contains('`') || inner.contains("$[") {
            found.push(inner);
        }
        i = close.min(b.len() - 1) + 1;
        if i >= b.len() {
            break;
        }
    }
    found
}

/// The literal text of a word, with `_` for each expansion in it.
fn literal_text(parts: &[WordPart], out: &mut String) {
    for p in parts {
        match p {
            WordPart::Lit { text, .. } => out.push_str(text),
            WordPart::AnsiC(text) => out.push_str(text),
            WordPart::DoubleQuoted(inner) | WordPart::Locale(inner) => literal_text(inner, out),
            _ => out.push('_'),
        }
    }
}

/// Whether a word's literal parts may hold a subscript with code.
fn may_hold_subscript(parts: &[WordPart]) -> bool {
    let (mut bracket, mut dollar) = (false, false);
    fn scan(parts: &[WordPart], bracket: &mut bool, dollar: &mut bool) {
        for p in parts {
            match p {
                WordPart::Lit { text, .. } | WordPart::AnsiC(text) => {
                    *bracket |= text.contains('[');
                    *dollar |= text.contains(['$', '`']);
                }
                WordPart::DoubleQuoted(inner) | WordPart::Locale(inner) => {
                    scan(inner, bracket, dollar)
                }
                _ => {}
            }
        }
    }
    scan(parts, &mut bracket, &mut dollar);
    bracket && dollar
}

/// Collects facts from a line that is one simple command of static words
/// (no assignments, redirections or expansions): what [`collect`] finds
/// for such a line, without the syntax tree.
pub fn collect_words(words: Vec<WordInfo>) -> Facts {
    let mut w = Walker::default();
    let ctx = Ctx {
        heredocs: &[],
        depth: 0,
    };
    w.command_words(words, false, None, ctx);
    w.facts
}

#[derive(Default)]
struct Walker {
    facts: Facts,
    via: Vec<String>,
}

impl Walker {
    /// Walks, as scripts, the substitutions in literal array subscripts
    /// when the line has a place where bash evaluates them (arithmetic,
    /// `[[ ]]`, builtins that take variable names): bash runs the `$(id)`
    /// of `test -v 'a[$(id)]'` and of `x='a[$(id)]'; (( x ))`.
    fn evaluate_subscripts(&mut self) {
        let mut rounds = 0;
        while !self.facts.subscripts.is_empty() && rounds < MAX_DEPTH {
            rounds += 1;
            // Arithmetic contexts; `[[ ]]`; `${a[x]}` and `${y:x}`; an
            // assignment whose value a later arithmetic use evaluates.
            let evaluates = self.facts.constructs.iter().any(|c| {
                matches!(
                    c.kind,
                    ConstructKind::Arithmetic
                        | ConstructKind::Conditional
                        | ConstructKind::ParameterExpansion
                        | ConstructKind::Assignment
                )
            }) || self.facts.invocations.iter().any(|i| {
                i.name
                    .as_deref()
                    .is_some_and(|n| EVALUATING_BUILTINS.contains(&n))
            });
            if !evaluates {
                return;
            }
            let texts = std::mem::take(&mut self.facts.subscripts);
            let ctx = Ctx {
                heredocs: &[],
                depth: 0,
            };
            for text in &texts {
                for inner in code_in_subscripts(text) {
                    // Walked as the arguments of `:`, which itself runs
                    // nothing and is left out.
                    let start = self.facts.invocations.len();
                    self.nested(&format!(": {inner}"), "array subscript", ctx);
                    if self
                        .facts
                        .invocations
                        .get(start)
                        .is_some_and(|i| i.name.as_deref() == Some(":"))
                    {
                        self.facts.invocations.remove(start);
                    }
                }
            }
        }
    }

    fn script(&mut self, script: &Script, depth: usize) {
        let ctx = Ctx {
            heredocs: &script.heredocs,
            depth,
        };
        self.list(&script.body, ctx);
    }

    /// Parses and walks a nested script (`bash -c`, `eval`, `echo ... | sh`).
    fn nested(&mut self, text: &str, via: &str, ctx: Ctx<'_>) {
        let depth = ctx.depth + 1;
        match parse_nested(text, depth) {
            Ok(script) => {
                self.via.push(via.to_string());
                self.script(&script, depth);
                self.via.pop();
            }
            Err(e) => self.facts.nested_errors.push(format!("{via}: {e}")),
        }
    }

    fn list(&mut self, list: &List, ctx: Ctx<'_>) {
        let last = list.items.len().saturating_sub(1);
        for (i, item) in list.items.iter().enumerate() {
            self.and_or(&item.and_or, ctx);
            match item.terminator {
                Terminator::Background => {
                    self.facts.backgrounds += 1;
                    self.facts.construct(ConstructKind::Background, None);
                }
                // A `;` or newline after the last command separates nothing
                // (`mv a b;`, a line ending in a newline).
                Terminator::Semicolon | Terminator::Newline if i < last => {
                    self.facts.construct(ConstructKind::Sequence, None);
                }
                Terminator::Semicolon | Terminator::Newline | Terminator::End => {}
            }
        }
    }

    fn and_or(&mut self, ao: &AndOr, ctx: Ctx<'_>) {
        self.pipeline(&ao.first, ctx);
        for (op, p) in &ao.rest {
            let kind = match op {
                AndOrOp::And => ConstructKind::And,
                AndOrOp::Or => ConstructKind::Or,
            };
            self.facts.construct(kind, None);
            self.pipeline(p, ctx);
        }
    }

    fn pipeline(&mut self, p: &Pipeline, ctx: Ctx<'_>) {
        if p.negated {
            self.facts.construct(ConstructKind::Negation, None);
        }
        if p.timed {
            self.facts.construct(ConstructKind::Time, None);
        }
        if p.commands.len() > 1 {
            self.facts.construct(ConstructKind::Pipe, None);
        }
        if p.pipes_stderr {
            self.facts.construct(ConstructKind::PipeStderr, None);
        }
        let mut downloaded_before = false;
        let mut prev_effective: Option<usize> = None;
        for (i, cmd) in p.commands.iter().enumerate() {
            let start = self.facts.invocations.len();
            let effective = self.command(cmd, ctx);
            if i > 0 {
                if let Some(e) = effective {
                    self.stdin_script(e, downloaded_before, prev_effective, ctx);
                }
            }
            downloaded_before |= self.facts.invocations[start..]
                .iter()
                .any(|inv| is_downloader(inv.name.as_deref()));
            prev_effective = effective;
        }
    }

    /// A pipeline stage that runs its standard input as a program.
    fn stdin_script(
        &mut self,
        e: usize,
        downloaded_before: bool,
        prev: Option<usize>,
        ctx: Ctx<'_>,
    ) {
        if self.facts.invocations[e].script != ScriptSource::Stdin {
            return;
        }
        let name = self.facts.invocations[e].name.clone().unwrap_or_default();
        if downloaded_before {
            self.facts
                .remote_exec
                .push(format!("a download is piped into `{name}`"));
        }
        // `echo 'rm -rf /' | sh`: the text is known, so walk it.
        let Some(prev) = prev else { return };
        let p = &self.facts.invocations[prev];
        if !is_shell(Some(&name)) {
            return;
        }
        // `echo 'rm -rf /' | sh`, `cat <<EOF | sh`: the text is known, so walk it.
        let (printer, text) = match p.name.as_deref() {
            Some(n @ ("echo" | "printf")) => {
                let words: Option<Vec<&str>> = p.args[1..].iter().map(|a| a.value()).collect();
                (n.to_string(), words.map(|w| w.join(" ")))
            }
            Some("cat") if p.args.len() == 1 => ("cat".to_string(), p.stdin_text.clone()),
            _ => return,
        };
        if let Some(text) = text {
            self.facts.invocations[e].script = ScriptSource::Parsed;
            self.facts.invocations[e].wraps = true;
            let via = format!("{printer} | {name}");
            self.nested(&text, &via, ctx);
        }
    }

    /// Walks one pipeline stage; returns the index of the program that
    /// finally runs in it (after wrappers), if any.
    fn command(&mut self, cmd: &Command, ctx: Ctx<'_>) -> Option<usize> {
        match cmd {
            Command::Simple(sc) => self.simple(sc, ctx),
            Command::Compound(cc, redirects) => {
                self.compound(cc, ctx);
                for r in redirects {
                    self.redirect(r, ctx);
                }
                None
            }
            Command::Function(f) => {
                self.facts
                    .construct(ConstructKind::FunctionDefinition, Some(f.name.clone()));
                self.facts.functions.insert(f.name.clone());
                let start = self.facts.invocations.len();
                let bg = self.facts.backgrounds;
                self.command(&f.body, ctx);
                let self_calls = self.facts.invocations[start..]
                    .iter()
                    .filter(|i| i.name.as_deref() == Some(f.name.as_str()))
                    .count();
                let backgrounded = self.facts.backgrounds > bg;
                if self_calls >= 2 || (self_calls >= 1 && backgrounded) {
                    self.facts.fork_bombs.push(f.name.clone());
                }
                None
            }
        }
    }

    fn compound(&mut self, cc: &CompoundCommand, ctx: Ctx<'_>) {
        match cc {
            CompoundCommand::Subshell(l) => {
                self.facts.construct(ConstructKind::Subshell, None);
                self.list(l, ctx);
            }
            CompoundCommand::Group(l) => {
                self.facts.construct(ConstructKind::Group, None);
                self.list(l, ctx);
            }
            CompoundCommand::If(lists) => {
                self.facts.construct(ConstructKind::If, None);
                lists.iter().for_each(|l| self.list(l, ctx));
            }
            CompoundCommand::Loop(a, b) => {
                self.facts.construct(ConstructKind::Loop, None);
                self.list(a, ctx);
                self.list(b, ctx);
            }
            CompoundCommand::For(words, body) => {
                self.facts.construct(ConstructKind::Loop, None);
                for w in words {
                    self.word(w, ctx);
                }
                self.list(body, ctx);
            }
            CompoundCommand::Case(subject, patterns, bodies) => {
                self.facts.construct(ConstructKind::Case, None);
                self.word(subject, ctx);
                for w in patterns {
                    self.word(w, ctx);
                }
                bodies.iter().for_each(|l| self.list(l, ctx));
            }
            CompoundCommand::Arithmetic(parts) => {
                self.facts.construct(ConstructKind::Arithmetic, None);
                self.parts(parts, ctx);
            }
            CompoundCommand::Conditional(words) => {
                self.facts.construct(ConstructKind::Conditional, None);
                for w in words {
                    self.word(w, ctx);
                }
            }
        }
    }

    fn redirect(&mut self, r: &Redirect, ctx: Ctx<'_>) -> WordInfo {
        let target = self.word(&r.target, ctx).0;
        match r.op {
            RedirectOp::HereDoc => {
                self.facts.construct(ConstructKind::HereDoc, None);
                if let Some(doc) = r.heredoc.and_then(|i| ctx.heredocs.get(i)) {
                    self.parts(&doc.body, ctx);
                }
            }
            RedirectOp::HereString => {
                self.facts.construct(ConstructKind::HereString, None);
            }
            op => {
                let fd = r.fd.map(|f| f.to_string()).unwrap_or_default();
                self.facts.construct(
                    ConstructKind::Redirection,
                    Some(format!("{fd}{} {}", op.as_str(), target.shape)),
                );
                self.facts.redirects.push(RedirectTarget {
                    op,
                    target: target.clone(),
                });
            }
        }
        target
    }

    fn simple(&mut self, sc: &SimpleCommand, ctx: Ctx<'_>) -> Option<usize> {
        for a in &sc.assignments {
            let info = self.word(a, ctx).0;
            let name = info.shape.split(['=', '+', '[']).next().unwrap_or("");
            self.facts
                .construct(ConstructKind::Assignment, Some(name.to_string()));
        }
        let mut download = false;
        let mut args = Vec::with_capacity(sc.words.len());
        for w in &sc.words {
            let (info, dl) = self.word(w, ctx);
            download |= dl;
            args.push(info);
        }
        let mut stdin_text: Option<String> = None;
        for r in &sc.redirects {
            let t = self.redirect(r, ctx);
            if matches!(r.fd, None | Some(0)) {
                match r.op {
                    RedirectOp::HereDoc => {
                        stdin_text = r
                            .heredoc
                            .and_then(|i| ctx.heredocs.get(i))
                            .map(|d| d.text.clone());
                    }
                    RedirectOp::HereString => stdin_text = t.value().map(str::to_string),
                    _ => {}
                }
            }
        }
        self.command_words(args, download, stdin_text, ctx)
    }

    /// The part of a simple command that follows its words' expansion: the
    /// program it runs, through wrappers, and what its standard input runs.
    fn command_words(
        &mut self,
        args: Vec<WordInfo>,
        download: bool,
        stdin_text: Option<String>,
        ctx: Ctx<'_>,
    ) -> Option<usize> {
        if args.is_empty() {
            return None;
        }
        if let Some(name) = args[0].value() {
            let c = catalog();
            if c.builtins.shell_only.contains(name) && !c.wrappers.contains_key(name) {
                self.facts
                    .construct(ConstructKind::Builtin, Some(name.to_string()));
            } else if name.starts_with('%') {
                // A job spec as the command word: bash runs `fg` on it.
                self.facts
                    .construct(ConstructKind::Builtin, Some(format!("fg {name}")));
            }
        }
        let effective = self.run_chain(args, download, false, ctx);
        if let (Some(e), Some(text)) = (effective, stdin_text) {
            let inv = &self.facts.invocations[e];
            if inv.script == ScriptSource::Stdin && is_shell(inv.name.as_deref()) {
                let via = format!("{} <<EOF", inv.name.as_deref().unwrap_or("sh"));
                self.facts.invocations[e].script = ScriptSource::Parsed;
                self.facts.invocations[e].wraps = true;
                self.nested(&text, &via, ctx);
            } else {
                self.facts.invocations[e].stdin_text = Some(text);
            }
        }
        effective
    }

    /// Records a command and everything it runs through wrappers; returns
    /// the index of the innermost program.
    fn run_chain(
        &mut self,
        mut args: Vec<WordInfo>,
        download: bool,
        mut appended: bool,
        ctx: Ctx<'_>,
    ) -> Option<usize> {
        let pushed_via = self.via.len();
        let mut effective = None;
        let mut guard = 0;
        loop {
            guard += 1;
            if args.is_empty() {
                break;
            }
            if guard > MAX_DEPTH {
                // Fail closed: what is left is not judged.
                self.facts.too_deep = true;
                break;
            }
            let name = args[0]
                .value()
                .map(|v| v.rsplit('/').next().unwrap_or(v).to_string());
            let layer = unwrap::layer(name.as_deref(), &args);
            let index = self.facts.invocations.len();
            self.facts.invocations.push(Invocation {
                name: name.clone(),
                args: Vec::new(),
                via: self.via.clone(),
                appended,
                script: ScriptSource::None,
                download_in_args: download,
                wraps: false,
                stdin_text: None,
                unseen: None,
                writes_file: false,
            });
            effective = Some(index);
            let label = || name.clone().unwrap_or_default();
            match layer {
                Layer::Program => {
                    let base = name.as_deref().map(crate::catalog::base_name);
                    let launched = base.map_or_else(Vec::new, |b| launchers::launched(b, &args));
                    self.facts.invocations[index].args = args;
                    for l in launched {
                        match l {
                            Launched::Script { text, via } => {
                                self.via.push(label());
                                self.nested(&text, &via, ctx);
                                self.via.pop();
                            }
                            Launched::Unseen(why) => {
                                let inv = &mut self.facts.invocations[index];
                                inv.unseen.get_or_insert(why);
                            }
                            Launched::Writes => self.facts.invocations[index].writes_file = true,
                        }
                    }
                    break;
                }
                Layer::Wrapper { command_at } => {
                    let inner = args[command_at..].to_vec();
                    self.facts.invocations[index].args = args;
                    self.facts.invocations[index].wraps = true;
                    self.via.push(label());
                    args = inner;
                }
                Layer::Appending {
                    command_at,
                    default_command,
                } => {
                    let mut inner = args[command_at..].to_vec();
                    if inner.is_empty() {
                        inner.push(WordInfo::literal(default_command));
                    }
                    self.facts.invocations[index].args = args;
                    self.facts.invocations[index].wraps = true;
                    self.via.push(label());
                    appended = true;
                    args = inner;
                }
                Layer::FindExec(ranges) => {
                    for (start, end) in &ranges {
                        let inner = args[*start..*end].to_vec();
                        self.via.push("find -exec".to_string());
                        self.run_chain(inner, false, true, ctx);
                        self.via.pop();
                    }
                    self.facts.invocations[index].args = args;
                    break;
                }
                Layer::Script(source) => {
                    let label = label();
                    let inv = &mut self.facts.invocations[index];
                    inv.args = args;
                    inv.script = match source {
                        unwrap::Script::Text(_) => ScriptSource::Parsed,
                        unwrap::Script::Dynamic => ScriptSource::Dynamic,
                        unwrap::Script::Stdin => ScriptSource::Stdin,
                        unwrap::Script::Other => ScriptSource::Other,
                    };
                    if inv.download_in_args
                        && matches!(source, unwrap::Script::Dynamic | unwrap::Script::Other)
                    {
                        let msg = format!("`{label}` runs code produced by a download");
                        self.facts.remote_exec.push(msg);
                    }
                    if let unwrap::Script::Text(text) = source {
                        self.facts.invocations[index].wraps = true;
                        let via = if label == "eval" || label == "watch" {
                            label.clone()
                        } else {
                            format!("{label} -c")
                        };
                        self.nested(&text, &via, ctx);
                    }
                    break;
                }
            }
        }
        self.via.truncate(pushed_via);
        effective
    }

    /// Walks a word's parts; returns what is known of it and whether a
    /// substitution in it runs a downloader.
    fn word(&mut self, w: &Word, ctx: Ctx<'_>) -> (WordInfo, bool) {
        let info = WordInfo::of(w);
        if may_hold_subscript(&w.parts) {
            let mut text = String::new();
            literal_text(&w.parts, &mut text);
            if !code_in_subscripts(&text).is_empty() {
                self.facts.subscripts.push(text);
            }
        }
        if info.glob {
            self.facts
                .construct(ConstructKind::Glob, Some(info.shape.clone()));
        }
        if info.tilde {
            self.facts.construct(ConstructKind::Tilde, None);
        }
        if info.brace {
            self.facts
                .construct(ConstructKind::BraceExpansion, Some(info.shape.clone()));
        }
        let start = self.facts.invocations.len();
        self.parts(&w.parts, ctx);
        let download = self.facts.invocations[start..]
            .iter()
            .any(|i| is_downloader(i.name.as_deref()));
        (info, download)
    }

    fn parts(&mut self, parts: &[WordPart], ctx: Ctx<'_>) {
        for p in parts {
            match p {
                WordPart::Lit { .. } => {}
                WordPart::DoubleQuoted(inner) => self.parts(inner, ctx),
                WordPart::AnsiC(_) => self.facts.construct(ConstructKind::BashQuoting, None),
                WordPart::Locale(inner) => {
                    self.facts.construct(ConstructKind::BashQuoting, None);
                    self.parts(inner, ctx);
                }
                WordPart::Param(param) => {
                    self.facts
                        .construct(ConstructKind::ParameterExpansion, Some(param.name.clone()));
                    self.parts(&param.modifier, ctx);
                }
                WordPart::CommandSubst(list) => {
                    self.facts
                        .construct(ConstructKind::CommandSubstitution, None);
                    self.via.push("$(...)".to_string());
                    self.list(list, ctx);
                    self.via.pop();
                }
                WordPart::Arith(inner) => {
                    self.facts.construct(ConstructKind::Arithmetic, None);
                    self.parts(inner, ctx);
                }
                WordPart::ProcessSubst(dir, list) => {
                    self.facts
                        .construct(ConstructKind::ProcessSubstitution, None);
                    self.via.push(
                        match dir {
                            ProcDirection::Input => "<(...)",
                            ProcDirection::Output => ">(...)",
                        }
                        .to_string(),
                    );
                    self.list(list, ctx);
                    self.via.pop();
                }
            }
        }
    }
}

/// Whether a program downloads from the network.
pub fn is_downloader(name: Option<&str>) -> bool {
    name.is_some_and(|n| catalog().has_tag(n, "downloader"))
}

/// Whether a program is a POSIX-like shell.
pub fn is_shell(name: Option<&str>) -> bool {
    matches!(
        name,
        Some("sh" | "bash" | "zsh" | "dash" | "ksh" | "mksh" | "ash" | "yash" | "posh")
    )
}
