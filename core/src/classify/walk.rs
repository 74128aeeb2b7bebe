//! Walks a parsed script and collects the facts the classifier reports:
//! every program run (through wrappers, nested scripts and substitutions),
//! the shell constructs used, redirection targets and function definitions.

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
    /// Descriptions of downloaded code being run.
    pub remote_exec: Vec<String>,
    backgrounds: usize,
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
    w.facts
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
        for item in &list.items {
            self.and_or(&item.and_or, ctx);
            match item.terminator {
                Terminator::Background => {
                    self.facts.backgrounds += 1;
                    self.facts.construct(ConstructKind::Background, None);
                }
                Terminator::Semicolon | Terminator::Newline => {
                    self.facts.construct(ConstructKind::Sequence, None);
                }
                Terminator::End => {}
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
            if args.is_empty() || guard > MAX_DEPTH {
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
            });
            effective = Some(index);
            let label = || name.clone().unwrap_or_default();
            match layer {
                Layer::Program => {
                    self.facts.invocations[index].args = args;
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
