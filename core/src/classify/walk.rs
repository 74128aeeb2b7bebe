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
use std::rc::Rc;

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

/// The words of a command: a range of a shared list, so that the layers of
/// a wrapper chain (`sudo env nice cmd ...`) and nested `find -exec`
/// commands share the words instead of copying what follows them (which
/// made long chains quadratic in time and memory).
#[derive(Debug, Clone)]
pub struct Args {
    /// A `Vec` behind the `Rc` (not an `Rc<[_]>`): the words the fast path
    /// splits are shared without being copied, and given back whole.
    all: Rc<Vec<WordInfo>>,
    start: usize,
    end: usize,
}

impl Args {
    /// The words' shapes, moved out when no other `Args` shares them.
    pub fn into_shapes(self) -> Vec<String> {
        let (start, end) = (self.start, self.end);
        // Into a new vector (not collected in place, which would shrink
        // the words' buffer with `realloc`: see `classify::conclude`).
        let mut shapes = Vec::with_capacity(end - start);
        match Rc::try_unwrap(self.all) {
            Ok(mut all) => shapes.extend(all.drain(start..end).map(|w| w.shape)),
            Err(shared) => shapes.extend(shared[start..end].iter().map(|w| w.shape.clone())),
        }
        shapes
    }

    /// The words `range` of these (relative to the first).
    fn sub(&self, range: std::ops::Range<usize>) -> Args {
        Args {
            all: Rc::clone(&self.all),
            start: self.start + range.start,
            end: self.start + range.end,
        }
    }
}

impl From<Vec<WordInfo>> for Args {
    fn from(v: Vec<WordInfo>) -> Self {
        let end = v.len();
        Args {
            all: Rc::new(v),
            start: 0,
            end,
        }
    }
}

impl Default for Args {
    /// No words, without an allocation (one shared empty list per thread).
    fn default() -> Self {
        thread_local! {
            static EMPTY: Rc<Vec<WordInfo>> = Rc::new(Vec::new());
        }
        Args {
            all: EMPTY.with(Rc::clone),
            start: 0,
            end: 0,
        }
    }
}

impl std::ops::Deref for Args {
    type Target = [WordInfo];
    fn deref(&self) -> &[WordInfo] {
        &self.all[self.start..self.end]
    }
}

/// One program run.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The program name, `None` for a command word known only at run time.
    pub name: Option<String>,
    /// The words, the command word first.
    pub args: Args,
    /// `args` are not all its words: for a program run by another one,
    /// only its own (a wrapper's words before the command it runs; `find`'s
    /// words with only the first word of each `-exec` command), since the
    /// commands' words are theirs, and repeating them at every layer made
    /// time and output quadratic in the line's length.
    pub partial: bool,
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
    /// It may not run even when the line succeeds: after `||`, in a branch
    /// of `if` or `case`, in a loop body, in a function body.
    pub conditional: bool,
}

/// A write or read redirection target.
#[derive(Debug, Clone)]
pub struct RedirectTarget {
    /// The operator.
    pub op: RedirectOp,
    /// The target word.
    pub target: WordInfo,
    /// How many programs were recorded before it: the redirection belongs
    /// to the command recorded next (a `cd` before it applies to it).
    pub before: usize,
    /// See [`Invocation::conditional`].
    pub conditional: bool,
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

/// How many distinct items (constructs, effects) are found by scanning
/// before a hash index is built.
pub(crate) const SCAN_UP_TO: usize = 16;

impl Facts {
    fn construct(&mut self, kind: ConstructKind, detail: Option<String>) {
        let c = Construct { kind, detail };
        // A scan of the few a line usually has; a hash set once there are
        // many (a long line stays linear).
        if self.constructs.len() < SCAN_UP_TO {
            if !self.constructs.contains(&c) {
                self.constructs.push(c);
            }
            return;
        }
        if self.seen.is_empty() {
            self.seen.extend(self.constructs.iter().cloned());
        }
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
pub fn collect(script: &Script, len: usize) -> Facts {
    let mut w = Walker::new(len);
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
    let len = words.iter().map(|w| w.shape.len() + 1).sum();
    let mut w = Walker::new(len);
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
    /// Bytes of nested script text (`bash -c`, `eval`, `env -S`, ...) that
    /// may still be parsed: each nesting parses its text again, so a chain
    /// (`eval eval eval ...`) would cost the square of its length.
    nested_budget: usize,
    /// Depth of the conditional places being walked
    /// ([`Invocation::conditional`]).
    conditional: usize,
}

impl Walker {
    /// A walker for a line of `len` bytes: its nested scripts may add up to
    /// [`NESTED_BUDGET_FACTOR`] times that (and a few kilobytes).
    fn new(len: usize) -> Walker {
        Walker {
            nested_budget: len.saturating_mul(NESTED_BUDGET_FACTOR) + 4096,
            ..Walker::default()
        }
    }
}

/// How many times its own length a line's nested scripts may add up to
/// before the line is not judged (as when nested too deeply).
const NESTED_BUDGET_FACTOR: usize = 4;

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
        // Past the depth followed, or past the parser's nesting limit, the
        // script is not judged: fail closed.
        if depth > MAX_DEPTH || text.len() > self.nested_budget {
            self.facts.too_deep = true;
            return;
        }
        self.nested_budget -= text.len();
        match parse_nested(text, depth) {
            Ok(script) => {
                self.via.push(via.to_string());
                self.script(&script, depth);
                self.via.pop();
            }
            Err(e) if e.is_too_deep() => self.facts.too_deep = true,
            Err(e) => self.facts.nested_errors.push(format!("{via}: {e}")),
        }
    }

    fn list(&mut self, list: &List, ctx: Ctx<'_>) {
        let last = list.items.len().saturating_sub(1);
        for (i, item) in list.items.iter().enumerate() {
            let (start, redirects) = (self.facts.invocations.len(), self.facts.redirects.len());
            self.and_or(&item.and_or, ctx);
            match item.terminator {
                Terminator::Background => {
                    // It may not have finished (or started) when the line
                    // ends.
                    for inv in &mut self.facts.invocations[start..] {
                        inv.conditional = true;
                    }
                    for r in &mut self.facts.redirects[redirects..] {
                        r.conditional = true;
                    }
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
            let maybe = *op == AndOrOp::Or;
            self.conditional += usize::from(maybe);
            self.pipeline(p, ctx);
            self.conditional -= usize::from(maybe);
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
                self.conditional += 1;
                self.command(&f.body, ctx);
                self.conditional -= 1;
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
                for (i, l) in lists.iter().enumerate() {
                    // The first condition always runs; the rest may not.
                    self.conditional += usize::from(i > 0);
                    self.list(l, ctx);
                    self.conditional -= usize::from(i > 0);
                }
            }
            CompoundCommand::Loop(a, b) => {
                self.facts.construct(ConstructKind::Loop, None);
                self.list(a, ctx);
                self.conditional += 1;
                self.list(b, ctx);
                self.conditional -= 1;
            }
            CompoundCommand::For(words, body) => {
                self.facts.construct(ConstructKind::Loop, None);
                for w in words {
                    self.word(w, ctx);
                }
                self.conditional += 1;
                self.list(body, ctx);
                self.conditional -= 1;
            }
            CompoundCommand::Case(subject, patterns, bodies) => {
                self.facts.construct(ConstructKind::Case, None);
                self.word(subject, ctx);
                for w in patterns {
                    self.word(w, ctx);
                }
                self.conditional += 1;
                bodies.iter().for_each(|l| self.list(l, ctx));
                self.conditional -= 1;
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
                    before: self.facts.invocations.len(),
                    conditional: self.conditional > 0,
                });
            }
        }
        target
    }

    fn simple(&mut self, sc: &SimpleCommand, ctx: Ctx<'_>) -> Option<usize> {
        let mut env = Vec::new();
        for a in &sc.assignments {
            let info = self.word(a, ctx).0;
            let name = info.shape.split(['=', '+', '[']).next().unwrap_or("");
            self.facts
                .construct(ConstructKind::Assignment, Some(name.to_string()));
            env.push(info);
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
        let effective = self.command_words(args, download, stdin_text, ctx);
        if let Some(e) = effective {
            self.environment(&env, e, ctx);
        }
        effective
    }

    /// Variables given to the program at `target` (`NAME=V cmd`, `env
    /// NAME=V cmd`) that make it run something: a variable whose value is a
    /// command line (`GIT_SSH_COMMAND`, `PAGER`, ...) has the value walked
    /// as a script; one that loads code or start-up files (`BASH_ENV`,
    /// `LD_PRELOAD`, ...) leaves the program running code not seen.
    fn environment(&mut self, words: &[WordInfo], target: usize, ctx: Ctx<'_>) {
        for w in words {
            let Some((name, value)) = w.shape.split_once('=') else {
                continue;
            };
            let name = name.trim_end_matches('+');
            let Some(why) = crate::policy::run_env::why(name) else {
                continue;
            };
            let value = w.is_static.then_some(value);
            match value {
                Some(v) if crate::policy::run_env::names_command(name) => {
                    // less runs `|cmd` and `||cmd` as a pipe.
                    let script = v.trim_start_matches('|');
                    self.via.push(format!("{name}="));
                    self.nested(script, "sh -c", ctx);
                    self.via.pop();
                }
                _ => {
                    let inv = &mut self.facts.invocations[target];
                    inv.unseen
                        .get_or_insert_with(|| format!("the variable {name} {why}"));
                }
            }
        }
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
        let effective = self.run_chain(args.into(), download, false, ctx);
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
        mut args: Args,
        download: bool,
        mut appended: bool,
        ctx: Ctx<'_>,
    ) -> Option<usize> {
        if ctx.depth > MAX_DEPTH {
            // `find -exec find -exec ...` nested past the depth followed.
            self.facts.too_deep = true;
            return None;
        }
        let pushed_via = self.via.len();
        let mut effective = None;
        let mut guard = 0;
        let mut env_words: Vec<WordInfo> = Vec::new();
        loop {
            guard += 1;
            if args.is_empty() {
                break;
            }
            if guard > MAX_DEPTH || self.via.len() > MAX_DEPTH {
                // Fail closed: what is left is not judged.
                self.facts.too_deep = true;
                break;
            }
            let name = args[0]
                .value()
                .map(|v| match v.bytes().rposition(|b| b == b'/') {
                    Some(i) => v[i + 1..].to_string(),
                    None => v.to_string(),
                });
            let layer = unwrap::layer(name.as_deref(), &args);
            let index = self.facts.invocations.len();
            self.facts.invocations.push(Invocation {
                // A program (the common last layer) gets its name moved in
                // below, not copied.
                name: match layer {
                    Layer::Program => None,
                    _ => name.clone(),
                },
                args: Args::default(),
                partial: false,
                via: self.via.clone(),
                appended,
                script: ScriptSource::None,
                download_in_args: download,
                wraps: false,
                stdin_text: None,
                unseen: None,
                writes_file: false,
                conditional: self.conditional > 0,
            });
            effective = Some(index);
            let label = || name.clone().unwrap_or_default();
            match layer {
                Layer::Program => {
                    let base = name.as_deref().map(crate::catalog::base_name);
                    if appended && base.is_some_and(takes_command) {
                        // `xargs env`, `xargs nice`: the program run is the
                        // first word of the input.
                        let label = label();
                        self.facts.invocations[index].name = name;
                        self.program_from_input(&args, index, label);
                        break;
                    }
                    let launched = base.map_or_else(Vec::new, |b| launchers::launched(b, &args));
                    self.facts.invocations[index].args = args;
                    if launched.is_empty() {
                        self.facts.invocations[index].name = name;
                        break;
                    }
                    self.facts.invocations[index].name = name.clone();
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
                    if name.as_deref() == Some("env") {
                        env_words.extend(
                            args[1..command_at]
                                .iter()
                                .filter(|a| !a.shape.starts_with('-') && a.shape.contains('='))
                                .cloned(),
                        );
                    }
                    let inner = args.sub(command_at..args.len());
                    self.own_words(index, &args, command_at);
                    self.facts.invocations[index].wraps = true;
                    self.via.push(label());
                    args = inner;
                }
                Layer::Appending {
                    command_at,
                    default_command,
                } => {
                    let inner = if command_at < args.len() {
                        args.sub(command_at..args.len())
                    } else {
                        vec![WordInfo::literal(default_command)].into()
                    };
                    self.own_words(index, &args, command_at);
                    self.facts.invocations[index].wraps = true;
                    self.via.push(label());
                    appended = true;
                    args = inner;
                }
                Layer::FindExec(ranges) => {
                    if self.facts.invocations[index].via.is_empty() {
                        self.facts.invocations[index].args = args.clone();
                    } else {
                        // Its words without those of the commands it runs
                        // (but their names, which the risk rules read).
                        let mut own = Vec::with_capacity(args.len());
                        let mut next = 0;
                        for &(start, end) in &ranges {
                            own.extend_from_slice(&args[next..=start]);
                            next = end;
                        }
                        own.extend_from_slice(&args[next..]);
                        let inv = &mut self.facts.invocations[index];
                        inv.args = own.into();
                        inv.partial = true;
                    }
                    for (start, end) in &ranges {
                        let inner = args.sub(*start..*end);
                        self.via.push("find -exec".to_string());
                        let inner_ctx = Ctx {
                            depth: ctx.depth + 1,
                            ..ctx
                        };
                        self.run_chain(inner, false, true, inner_ctx);
                        self.via.pop();
                    }
                    break;
                }
                Layer::Script(source) => {
                    let label = label();
                    let inv = &mut self.facts.invocations[index];
                    inv.args = args;
                    inv.script = match source {
                        unwrap::Script::Text(_) => ScriptSource::Parsed,
                        unwrap::Script::Dynamic => ScriptSource::Dynamic,
                        // `xargs sh -c`, `xargs python3`: the script (or
                        // the file holding it) comes from the input.
                        unwrap::Script::Stdin | unwrap::Script::Other if appended => {
                            ScriptSource::Dynamic
                        }
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
        if let Some(e) = effective.filter(|_| !env_words.is_empty()) {
            self.environment(&env_words, e, ctx);
        }
        effective
    }

    /// Records a wrapper's words: all of them for a command of the line
    /// itself (its argv), only those before the command it runs for one run
    /// by another program ([`Invocation::partial`]).
    fn own_words(&mut self, index: usize, args: &Args, command_at: usize) {
        let inv = &mut self.facts.invocations[index];
        if inv.via.is_empty() {
            inv.args = args.clone();
        } else {
            inv.args = args.sub(0..command_at.min(args.len()));
            inv.partial = true;
        }
    }

    /// Records the program a wrapper run by `xargs` or `find -exec` takes
    /// from the appended arguments: known only at run time.
    fn program_from_input(&mut self, args: &Args, index: usize, label: String) {
        self.facts.invocations[index].args = args.clone();
        self.facts.invocations[index].wraps = true;
        let mut via = self.via.clone();
        via.push(label);
        self.facts.invocations.push(Invocation {
            name: None,
            partial: false,
            args: vec![WordInfo {
                is_static: false,
                ..WordInfo::literal("{input}")
            }]
            .into(),
            via,
            appended: true,
            script: ScriptSource::None,
            download_in_args: false,
            wraps: false,
            stdin_text: None,
            unseen: None,
            writes_file: false,
            conditional: self.conditional > 0,
        });
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
                WordPart::Arith(inner) | WordPart::LegacyArith(inner) => {
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

/// Programs that run the command their arguments name (wrappers, `xargs`):
/// given only their options, with arguments appended at run time, they
/// run a program named by the input.
fn takes_command(base: &str) -> bool {
    base == "xargs" || base == "env" || catalog().wrappers.contains_key(base)
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

#[cfg(test)]
mod tests {
    use crate::classify::{classify, ConstructKind};

    #[test]
    fn many_constructs_are_each_listed_once_in_order_past_the_scanned_few() {
        // Past 16 distinct constructs they are found through a hash set:
        // the same answer as the scan gives.
        let names: Vec<String> = (0..40).map(|i| format!("V{i}")).collect();
        let assignments: Vec<String> = names.iter().map(|n| format!("{n}=1")).collect();
        let line = format!("{} V3=2 V39=2 make | wc", assignments.join(" "));
        let found: Vec<(ConstructKind, Option<String>)> = classify(&line)
            .constructs
            .into_iter()
            .map(|c| (c.kind, c.detail))
            .collect();
        let mut expected: Vec<(ConstructKind, Option<String>)> = vec![];
        for n in &names {
            expected.push((ConstructKind::Assignment, Some(n.clone())));
        }
        expected.push((ConstructKind::Pipe, None));
        let mut sorted = found.clone();
        sorted.dedup();
        assert_eq!(sorted.len(), found.len(), "no construct twice: {found:?}");
        for c in &expected {
            assert!(found.contains(c), "{c:?} missing from {found:?}");
        }
        assert_eq!(found.len(), expected.len(), "{found:?}");
    }
}
