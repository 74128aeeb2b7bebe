//! Predicted effects: the paths a command line would write, create, delete
//! or change the mode of, read from what the walk collected (redirection
//! targets, and the words of each program run, through wrappers, nested
//! scripts, `xargs` and `find -exec`). Each program's options are read as
//! that program parses them (GNU `getopt_long`, its abbreviations
//! included). Unknown programs get no effects. See "Effects" in
//! `docs/classifier.md`.

use super::types::{PathEffect, PathEffectKind};
use super::walk::{Facts, Invocation, RedirectTarget, ScriptSource, SCAN_UP_TO};
use super::words::WordInfo;
use crate::shell::ast::RedirectOp;
use std::collections::HashMap;

use PathEffectKind::{Create, Delete, Mode, Write};

/// The effects of the line whose facts these are.
pub fn predict(facts: &Facts) -> Vec<PathEffect> {
    if facts.redirects.is_empty() && facts.invocations.is_empty() {
        return Vec::new();
    }
    let mut p = Predictor::default();
    let mut redirects = facts.redirects.iter().peekable();
    for (i, inv) in facts.invocations.iter().enumerate() {
        while let Some(r) = redirects.next_if(|r| r.before <= i) {
            p.redirect(r);
        }
        p.invocation(inv, facts);
    }
    for r in redirects {
        p.redirect(r);
    }
    p.out.effects
}

/// A path operand: its text and whether that text is exact.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Op {
    text: String,
    known: bool,
}

impl Op {
    fn of(w: &WordInfo) -> Op {
        if let Some(rest) = &w.home_rest {
            let text = format!("~{rest}");
            let known = !has_expansion(rest);
            return Op { text, known };
        }
        Op {
            text: w.shape.clone(),
            known: w.is_static,
        }
    }

    fn unknown(text: &str) -> Op {
        Op {
            text: text.to_string(),
            known: false,
        }
    }

    /// The value when it is known exactly.
    fn value(&self) -> Option<&str> {
        self.known.then_some(self.text.as_str())
    }
}

fn has_expansion(s: &str) -> bool {
    s.contains(['$', '`', '*', '?', '[', '{', '<', '>'])
}

/// The last component of a path (`a/b/` → `b`).
fn basename(p: &str) -> &str {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return p;
    }
    t.rsplit('/').next().unwrap_or(t)
}

/// `dir/name`.
fn join(dir: &str, name: &str) -> String {
    if name.starts_with('/') || name.starts_with('~') || dir.is_empty() || dir == "." {
        return name.to_string();
    }
    if name == "." {
        return dir.to_string();
    }
    format!(
        "{}/{}",
        dir.trim_end_matches('/'),
        name.trim_start_matches("./")
    )
}

/// The parents of a relative or absolute path (`a/b/c` → `a`, `a/b`).
fn parents(p: &str) -> Vec<&str> {
    let t = p.trim_end_matches('/');
    t.match_indices('/')
        .map(|(i, _)| &t[..i])
        .filter(|s| !s.is_empty() && *s != "." && *s != ".." && *s != "~")
        .collect()
}

/// Paths whose writing is no effect on the filesystem.
fn harmless(p: &str) -> bool {
    matches!(
        p,
        "/dev/null"
            | "/dev/stdout"
            | "/dev/stderr"
            | "/dev/stdin"
            | "/dev/tty"
            | "/dev/zero"
            | "/dev/full"
    ) || p.starts_with("/dev/fd/")
        || p.starts_with("/proc/self/fd/")
        || p.starts_with("/dev/tcp/")
        || p.starts_with("/dev/udp/")
        || p.starts_with("<(")
        || p.starts_with(">(")
}

#[derive(Default)]
struct Out {
    effects: Vec<PathEffect>,
    index: HashMap<(String, PathEffectKind), usize>,
}

impl Out {
    fn add(&mut self, path: String, effect: PathEffectKind, certain: bool) {
        if path.is_empty() || harmless(&path) {
            return;
        }
        // A scan of the few a line usually has; a hash index once there are
        // many (a long line stays linear).
        if self.effects.len() < SCAN_UP_TO {
            match self
                .effects
                .iter_mut()
                .find(|e| e.effect == effect && e.path == path)
            {
                Some(e) => e.certain |= certain,
                None => self.effects.push(PathEffect {
                    path,
                    effect,
                    certain,
                }),
            }
            return;
        }
        if self.index.is_empty() {
            for (i, e) in self.effects.iter().enumerate() {
                self.index.insert((e.path.clone(), e.effect), i);
            }
        }
        let key = (path, effect);
        if let Some(&i) = self.index.get(&key) {
            self.effects[i].certain |= certain;
            return;
        }
        self.index.insert(key.clone(), self.effects.len());
        self.effects.push(PathEffect {
            path: key.0,
            effect,
            certain,
        });
    }
}

#[derive(Default)]
struct Predictor {
    out: Out,
    /// Where a `cd` earlier in the line went (relative paths after it are
    /// joined to it, and not certain: the `cd` may have been in a
    /// subshell, or failed).
    cd: Option<Op>,
    /// `env -C DIR` wrappers: (the depth of `via` below which they apply,
    /// the directory).
    chdirs: Vec<(usize, Op)>,
    /// The starting points of the last `find`, for the `{}` of its
    /// `-exec` commands.
    find_roots: Vec<Op>,
}

/// Where and how sure: the context of one program's effects.
struct Ctx {
    /// The directory relative paths are relative to (`None`: the working
    /// directory).
    base: Option<Op>,
    /// Nothing it does is certain (it may not run).
    unsure: bool,
}

impl Predictor {
    fn ctx(&mut self, via_len: usize, conditional: bool) -> Ctx {
        while self.chdirs.last().is_some_and(|(d, _)| via_len <= *d) {
            self.chdirs.pop();
        }
        let mut base = self.cd.clone();
        for (_, dir) in &self.chdirs {
            base = Some(match base {
                None => dir.clone(),
                Some(b) => Op {
                    text: join(&b.text, &dir.text),
                    known: b.known && dir.known,
                },
            });
        }
        Ctx {
            unsure: conditional || self.cd.is_some(),
            base,
        }
    }

    fn add(&mut self, ctx: &Ctx, op: &Op, effect: PathEffectKind, certain: bool) {
        let (text, known) = match &ctx.base {
            Some(b) if !op.text.starts_with(['/', '~']) => (join(&b.text, &op.text), b.known),
            _ => (op.text.clone(), true),
        };
        let certain = certain && known && op.known && !ctx.unsure;
        self.out.add(text, effect, certain);
    }

    fn redirect(&mut self, r: &RedirectTarget) {
        let writes = match r.op {
            op if op.writes_file() => true,
            // `>&file` (not a descriptor number or `-`) writes stdout and
            // stderr to the file.
            RedirectOp::DupOutput => r.target.value().is_some_and(|t| {
                t != "-" && !t.is_empty() && !t.bytes().all(|b| b.is_ascii_digit())
            }),
            _ => false,
        };
        if writes {
            // The shell opens it, where the line is (after a `cd`).
            let ctx = Ctx {
                base: self.cd.clone(),
                unsure: r.conditional || self.cd.is_some(),
            };
            self.add(&ctx, &Op::of(&r.target), Write, true);
        }
    }

    fn invocation(&mut self, inv: &Invocation, facts: &Facts) {
        let ctx = self.ctx(inv.via.len(), inv.conditional);
        let from_find = inv.via.iter().any(|v| v == "find -exec");
        let from_xargs = inv.via.iter().any(|v| v == "xargs");
        // A program only known at run time, run on paths chosen at run
        // time: anything may happen under them.
        if inv.appended
            && (inv.name.is_none() || matches!(inv.script, ScriptSource::Dynamic))
            && (from_find || from_xargs)
        {
            let roots = if from_find {
                self.find_roots.clone()
            } else {
                vec![Op::unknown("{input}")]
            };
            for r in &roots {
                self.add(&ctx, r, Write, false);
            }
            return;
        }
        if inv.wraps {
            if inv.name.as_deref() == Some("env") {
                if let Some(dir) = env_chdir(&inv.args) {
                    self.chdirs.push((inv.via.len(), dir));
                }
            }
            return;
        }
        let Some(name) = inv.name.as_deref() else {
            return;
        };
        if facts.functions.contains(name) {
            return;
        }
        let name = crate::catalog::base_name(name);
        if !HANDLED.contains(&name) {
            return;
        }
        // A `cd` in a substitution stays there.
        if matches!(name, "cd" | "pushd")
            && inv
                .via
                .iter()
                .any(|v| v == "$(...)" || v.ends_with("(...)"))
        {
            return;
        }
        // The words after the command word, with what `find -exec` and
        // `xargs` put in at run time.
        let mut args: Vec<Op> = Vec::with_capacity(inv.args.len());
        for w in inv.args.iter().skip(1) {
            if inv.appended && w.shape.contains("{}") {
                if from_find {
                    args.extend(self.find_roots.iter().cloned());
                } else {
                    args.push(Op::unknown("{input}"));
                }
            } else {
                args.push(Op::of(w));
            }
        }
        if inv.appended && from_xargs && !from_find {
            args.push(Op::unknown("{input}"));
        }
        let mut ctx = ctx;
        if inv.appended {
            ctx.unsure = true;
        }
        match name {
            "cd" | "pushd" => self.cd(&args),
            "rm" | "unlink" => self.simple(&ctx, &args, &RM, Delete),
            "rmdir" => self.rmdir(&ctx, &args),
            "shred" => self.shred(&ctx, &args),
            "mv" => self.copy(&ctx, &args, &MV, true),
            "cp" => self.copy(&ctx, &args, &CP, false),
            "install" => self.install(&ctx, &args),
            "ln" => self.copy(&ctx, &args, &LN, false),
            "rsync" => self.rsync(&ctx, &args),
            // GNU tee writes a file named `-` too (POSIX).
            "tee" => self.simple(&ctx, &args, &TEE, Write),
            "touch" => self.touch(&ctx, &args),
            "mkdir" => self.mkdir(&ctx, &args),
            "chmod" => self.chmod(&ctx, &args, true),
            "chown" | "chgrp" => self.chmod(&ctx, &args, false),
            "truncate" => self.truncate(&ctx, &args),
            "dd" => self.dd(&ctx, &args),
            "sed" => self.sed(&ctx, &args),
            "perl" => self.perl(&ctx, &args),
            "find" => self.find(&ctx, &args),
            "git" => self.git(&ctx, &args),
            "tar" => self.tar(&ctx, &args),
            "unzip" => self.unzip(&ctx, &args),
            _ => {}
        }
    }

    fn cd(&mut self, args: &[Op]) {
        let operand = args
            .iter()
            .position(|a| a.value().is_none_or(|v| !v.starts_with('-') || v == "-"))
            .map(|i| {
                if args[i].value() == Some("--") {
                    args.get(i + 1)
                } else {
                    Some(&args[i])
                }
            });
        let dir = match operand {
            None | Some(None) => Op {
                text: "~".into(),
                known: true,
            },
            Some(Some(op)) if op.value() == Some("-") => Op::unknown("$OLDPWD"),
            Some(Some(op)) => op.clone(),
        };
        self.cd = Some(match self.cd.take() {
            Some(b) if !dir.text.starts_with(['/', '~']) => Op {
                text: join(&b.text, &dir.text),
                known: b.known && dir.known,
            },
            _ => dir,
        });
    }

    /// Every operand gets `effect` (`rm`, `unlink`, `tee`).
    fn simple(&mut self, ctx: &Ctx, args: &[Op], spec: &Spec, effect: PathEffectKind) {
        let Some(p) = parse(spec, args) else { return };
        for o in &p.operands {
            self.add(ctx, o, effect, !p.bad);
        }
    }

    fn rmdir(&mut self, ctx: &Ctx, args: &[Op]) {
        let Some(p) = parse(&RMDIR, args) else { return };
        for o in &p.operands {
            self.add(ctx, o, Delete, !p.bad);
            if p.has("parents") {
                for parent in parents(&o.text) {
                    self.add(ctx, &Op::unknown(parent), Delete, false);
                }
            }
        }
    }

    fn shred(&mut self, ctx: &Ctx, args: &[Op]) {
        let Some(p) = parse(&SHRED, args) else { return };
        let effect = if p.has("remove") { Delete } else { Write };
        for o in &p.operands {
            self.add(ctx, o, effect, !p.bad);
        }
    }

    /// `mv`, `cp`, `ln`: sources (deleted by `mv`) and the target, a file
    /// or a directory.
    fn copy(&mut self, ctx: &Ctx, args: &[Op], spec: &Spec, moves: bool) {
        let Some(p) = parse(spec, args) else { return };
        let link = std::ptr::eq(spec, &LN);
        let effect = if link { Create } else { Write };
        let certain = !p.bad;
        let mut ops: &[Op] = &p.operands;
        let target_dir = p.value("target-directory").cloned();
        let (sources, dir, file) = match target_dir {
            Some(d) => (ops, Some(d), None),
            None if p.has("no-target-directory") && ops.len() == 2 => {
                (&ops[..1], None, Some(ops[1].clone()))
            }
            // `ln -s TARGET`: a link named after it, here.
            None if link && ops.len() == 1 => (
                ops,
                Some(Op {
                    text: ".".into(),
                    known: true,
                }),
                None,
            ),
            None if ops.len() < 2 => return,
            None => {
                let last = ops[ops.len() - 1].clone();
                ops = &ops[..ops.len() - 1];
                if ops.len() > 1 || last.text.ends_with('/') || p.has("parents") {
                    (ops, Some(last), None)
                } else {
                    (ops, None, Some(last))
                }
            }
        };
        if moves {
            for s in sources {
                self.add(ctx, s, Delete, certain);
            }
        }
        // GNU: a suffix alone asks for backups too.
        let backup = (p.has("backup") || p.has("suffix")).then(|| {
            p.value("suffix")
                .and_then(|s| s.value().map(str::to_string))
                .unwrap_or_else(|| "~".into())
        });
        let dir_for_parents = dir.clone();
        let mut targets = Vec::new();
        if let Some(f) = file {
            targets.push(f);
        }
        if let Some(d) = dir {
            for s in sources {
                let name = if p.has("parents") {
                    s.text.trim_start_matches('/').to_string()
                } else {
                    basename(&s.text).to_string()
                };
                targets.push(Op {
                    text: join(&d.text, &name),
                    known: d.known && s.known,
                });
            }
        }
        if let (Some(d), true) = (&dir_for_parents, p.has("parents")) {
            // `cp --parents a/b/f DIR` makes DIR/a and DIR/a/b.
            for s in sources {
                for parent in parents(s.text.trim_start_matches('/')) {
                    let op = Op {
                        text: join(&d.text, parent),
                        known: false,
                    };
                    self.add(ctx, &op, Create, false);
                }
            }
        }
        for t in &targets {
            self.add(ctx, t, effect, certain);
            if let Some(suffix) = &backup {
                let b = Op::unknown(&format!("{}{suffix}", t.text.trim_end_matches('/')));
                self.add(ctx, &b, Create, false);
            }
        }
    }

    fn install(&mut self, ctx: &Ctx, args: &[Op]) {
        let Some(p) = parse(&INSTALL, args) else {
            return;
        };
        if p.has("directory") {
            for o in &p.operands {
                self.add(ctx, o, Create, !p.bad);
                for parent in parents(&o.text) {
                    self.add(ctx, &Op::unknown(parent), Create, false);
                }
            }
            return;
        }
        let before = self.out.effects.len();
        self.copy(ctx, args, &INSTALL, false);
        if p.has("D") {
            let made: Vec<String> = self.out.effects[before..]
                .iter()
                .map(|e| e.path.clone())
                .collect();
            for m in made {
                if let Some(d) = p.value("target-directory") {
                    self.add(ctx, &Op::unknown(&d.text), Create, false);
                }
                for parent in parents(&m) {
                    self.out.add(parent.to_string(), Create, false);
                }
            }
        }
    }

    fn rsync(&mut self, ctx: &Ctx, args: &[Op]) {
        let Some(p) = parse(&RSYNC, args) else { return };
        if p.has("dry-run") || p.has("list-only") || p.operands.len() < 2 {
            return;
        }
        let certain = !p.bad;
        let (dest, sources) = p.operands.split_last().expect("two operands");
        // `host:path` and `rsync://` are remote.
        let remote = |o: &Op| {
            let t = o.text.as_str();
            t.contains("::")
                || t.starts_with("rsync://")
                || t.split_once(':')
                    .is_some_and(|(host, _)| !host.contains('/') && !host.is_empty())
        };
        if !remote(dest) {
            self.add(ctx, dest, Write, certain);
            if p.keys.iter().any(|(k, _)| k.starts_with("delete")) {
                self.add(ctx, dest, Delete, false);
            }
        }
        if p.has("remove-source-files") {
            for s in sources.iter().filter(|s| !remote(s)) {
                self.add(ctx, s, Delete, false);
            }
        }
        for key in ["log-file", "write-batch", "only-write-batch"] {
            if let Some(f) = p.value(key) {
                self.add(ctx, f, Write, certain);
            }
        }
        if let Some(d) = p.value("backup-dir") {
            self.add(ctx, d, Create, false);
        }
    }

    fn touch(&mut self, ctx: &Ctx, args: &[Op]) {
        let Some(p) = parse(&TOUCH, args) else { return };
        let (effect, certain) = if p.has("no-create") {
            (Write, false)
        } else {
            (Create, !p.bad)
        };
        for o in &p.operands {
            self.add(ctx, o, effect, certain);
        }
    }

    fn mkdir(&mut self, ctx: &Ctx, args: &[Op]) {
        let Some(p) = parse(&MKDIR, args) else { return };
        for o in &p.operands {
            if p.has("parents") {
                for parent in parents(&o.text) {
                    let known = o.known;
                    self.add(
                        ctx,
                        &Op {
                            text: parent.into(),
                            known,
                        },
                        Create,
                        false,
                    );
                }
            }
            self.add(ctx, o, Create, !p.bad);
        }
    }

    /// `chmod MODE FILE...`, `chown OWNER FILE...` (`--reference=RFILE`:
    /// no mode or owner operand).
    fn chmod(&mut self, ctx: &Ctx, args: &[Op], is_chmod: bool) {
        // chmod reads `-w`, `-rwx`, `-x,g+w` as its mode operand.
        let is_mode = |o: &Op| {
            is_chmod
                && o.value().is_some_and(|v| {
                    v.len() > 1
                        && v.starts_with('-')
                        && v[1..].chars().all(|c| "rwxXstugoa,+-=01234567".contains(c))
                })
        };
        let mut rest: Vec<Op> = Vec::with_capacity(args.len());
        let mut mode_seen = false;
        for (i, a) in args.iter().enumerate() {
            if a.value() == Some("--") {
                rest.extend_from_slice(&args[i..]);
                break;
            }
            if !mode_seen && is_mode(a) {
                mode_seen = true;
                continue;
            }
            rest.push(a.clone());
        }
        let spec = if is_chmod { &CHMOD } else { &CHOWN };
        let Some(p) = parse(spec, &rest) else { return };
        let skip = usize::from(!mode_seen && !p.has("reference"));
        for o in p.operands.iter().skip(skip) {
            self.add(ctx, o, Mode, !p.bad);
        }
    }

    fn truncate(&mut self, ctx: &Ctx, args: &[Op]) {
        let Some(p) = parse(&TRUNCATE, args) else {
            return;
        };
        for o in &p.operands {
            self.add(ctx, o, Write, !p.bad && !p.has("no-create"));
        }
    }

    fn dd(&mut self, ctx: &Ctx, args: &[Op]) {
        if args
            .iter()
            .any(|a| matches!(a.value(), Some("--help" | "--version")))
        {
            return;
        }
        for a in args {
            if let Some(f) = a.text.strip_prefix("of=") {
                let op = Op {
                    text: f.to_string(),
                    known: a.known,
                };
                self.add(ctx, &op, Write, true);
            }
        }
    }

    fn sed(&mut self, ctx: &Ctx, args: &[Op]) {
        let Some(p) = parse(&SED, args) else { return };
        if !p.has("in-place") {
            return;
        }
        let script_given = p.has("expression") || p.has("file");
        let files = &p.operands[usize::from(!script_given).min(p.operands.len())..];
        let suffix = p.value("in-place").filter(|s| !s.text.is_empty()).cloned();
        self.in_place(ctx, files, suffix.as_ref(), !p.bad);
    }

    /// Files edited in place, and their backups.
    fn in_place(&mut self, ctx: &Ctx, files: &[Op], suffix: Option<&Op>, certain: bool) {
        for f in files {
            self.add(ctx, f, Write, certain);
            if let Some(s) = suffix {
                let name = if s.text.contains('*') {
                    let base = basename(&f.text);
                    let made = s.text.replace('*', base);
                    if made.contains('/') {
                        made
                    } else {
                        join(&f.text[..f.text.len() - base.len()], &made)
                    }
                } else {
                    format!("{}{}", f.text, s.text)
                };
                let op = Op {
                    text: name,
                    known: f.known && s.known,
                };
                self.add(ctx, &op, Write, certain);
            }
        }
    }

    /// `perl -i[EXT] -pe CODE FILE...`: perl's own switches (clustered,
    /// not permuted: options end at the first operand).
    fn perl(&mut self, ctx: &Ctx, args: &[Op]) {
        let mut in_place: Option<Op> = None;
        let mut code_given = false;
        let mut i = 0;
        while i < args.len() {
            let Some(w) = args[i].value() else { break };
            if w == "--" {
                i += 1;
                break;
            }
            if !w.starts_with('-') || w == "-" {
                break;
            }
            let chars: Vec<char> = w[1..].chars().collect();
            let mut j = 0;
            while j < chars.len() {
                let rest: String = chars[j + 1..].iter().collect();
                match chars[j] {
                    'i' => {
                        in_place = Some(Op {
                            text: rest,
                            known: true,
                        });
                        break;
                    }
                    'e' | 'E' => {
                        code_given = true;
                        if rest.is_empty() {
                            i += 1;
                        }
                        break;
                    }
                    'I' | 'M' | 'm' | 'x' | 'd' | 'D' | 'C' | 'l' | '0' | 'F' => {
                        // Their value is the rest of the word (`-I` and
                        // `-M` also take the next word when it is empty).
                        if rest.is_empty() && matches!(chars[j], 'I' | 'M' | 'm') {
                            i += 1;
                        }
                        break;
                    }
                    _ => j += 1,
                }
            }
            i += 1;
        }
        let Some(suffix) = in_place else { return };
        let operands = args.get(i..).unwrap_or(&[]);
        let files = &operands[usize::from(!code_given).min(operands.len())..];
        let suffix = (!suffix.text.is_empty()).then_some(suffix);
        self.in_place(ctx, files, suffix.as_ref(), true);
    }

    /// `find ROOT... EXPR`: `-delete` deletes under the roots; the `{}` of
    /// its `-exec` commands are paths under them; `-fprint FILE` writes.
    fn find(&mut self, ctx: &Ctx, args: &[Op]) {
        let mut i = 0;
        // -H, -L, -P, -D debugopts, -Olevel.
        while let Some(w) = args.get(i).and_then(Op::value) {
            match w {
                "-H" | "-L" | "-P" => i += 1,
                "-D" => i += 2,
                _ if w.starts_with("-O") => i += 1,
                "--" => {
                    i += 1;
                    break;
                }
                _ => break,
            }
        }
        let start = i;
        while let Some(a) = args.get(i) {
            match a.value() {
                Some(w) if w.starts_with('-') || w == "(" || w == "!" => break,
                _ => i += 1,
            }
        }
        let mut roots: Vec<Op> = args[start..i].to_vec();
        if roots.is_empty() {
            roots.push(Op {
                text: ".".into(),
                known: true,
            });
        }
        let expr = &args[i..];
        let mut k = 0;
        while k < expr.len() {
            match expr[k].value() {
                Some("-delete") => {
                    for r in &roots {
                        self.add(ctx, r, Delete, false);
                    }
                }
                Some("-fprint" | "-fprint0" | "-fls" | "-fprintf") => {
                    if let Some(f) = expr.get(k + 1) {
                        self.add(ctx, f, Write, true);
                    }
                    k += 1;
                }
                _ => {}
            }
            k += 1;
        }
        // The `{}` of `-exec` commands, which follow.
        self.find_roots = roots
            .into_iter()
            .map(|r| {
                let text = match &ctx.base {
                    Some(b) if !r.text.starts_with(['/', '~']) => join(&b.text, &r.text),
                    _ => r.text,
                };
                Op { text, known: false }
            })
            .collect();
    }

    fn git(&mut self, ctx: &Ctx, args: &[Op]) {
        // Global options: `-C DIR` moves where paths are relative to.
        let mut base: Option<Op> = None;
        let mut i = 0;
        let mut other_tree = false;
        while let Some(a) = args.get(i) {
            let Some(w) = a.value() else { return };
            match w {
                "-C" => {
                    let Some(d) = args.get(i + 1) else { return };
                    base = Some(match base {
                        Some(b) if !d.text.starts_with(['/', '~']) => Op {
                            text: join(&b.text, &d.text),
                            known: b.known && d.known,
                        },
                        _ => d.clone(),
                    });
                    i += 2;
                }
                "-c" | "--git-dir" | "--work-tree" | "--namespace" | "--config-env"
                | "--super-prefix" | "--list-cmds" | "--attr-source" => {
                    other_tree |= w == "--work-tree";
                    i += 2;
                }
                _ if w.starts_with("--work-tree=") => {
                    other_tree = true;
                    i += 1;
                }
                _ if w.starts_with('-') => i += 1,
                _ => break,
            }
        }
        let Some(sub) = args.get(i).and_then(Op::value) else {
            return;
        };
        let rest = &args[i + 1..];
        let inner = Ctx {
            base: match (&ctx.base, base) {
                (Some(b), Some(d)) if !d.text.starts_with(['/', '~']) => Some(Op {
                    text: join(&b.text, &d.text),
                    known: b.known && d.known,
                }),
                (_, Some(d)) => Some(d),
                (b, None) => b.clone(),
            },
            unsure: ctx.unsure || other_tree,
        };
        let ctx = &inner;
        let here = Op {
            text: ".".into(),
            known: true,
        };
        let flag = |names: &[&str]| {
            rest.iter()
                .any(|a| a.value().is_some_and(|v| names.contains(&v)))
        };
        // Pathspecs: the operands after `--`, else those not options.
        let pathspecs = |from: usize| -> Vec<Op> {
            let r = &rest[from.min(rest.len())..];
            match r.iter().position(|a| a.value() == Some("--")) {
                Some(d) => r[d + 1..].to_vec(),
                None => r
                    .iter()
                    .filter(|a| a.value().is_none_or(|v| !v.starts_with('-')))
                    .cloned()
                    .collect(),
            }
        };
        match sub {
            "clean" => {
                if flag(&["-n", "--dry-run"])
                    || rest.iter().any(|a| {
                        a.value().is_some_and(|v| {
                            v.starts_with('-') && !v.starts_with("--") && v.contains('n')
                        })
                    })
                {
                    return;
                }
                let specs = pathspecs(0);
                let specs: Vec<Op> = specs
                    .into_iter()
                    .filter(|o| {
                        // `-e PATTERN` values are not paths.
                        o.value().is_none_or(|v| !v.starts_with('-'))
                    })
                    .collect();
                if specs.is_empty() {
                    self.add(ctx, &here, Delete, false);
                }
                for s in &specs {
                    self.add(ctx, s, Delete, false);
                }
            }
            "checkout" => match rest.iter().position(|a| a.value() == Some("--")) {
                Some(d) => {
                    for s in &rest[d + 1..] {
                        self.add(ctx, s, Write, true);
                    }
                }
                // A branch or a path: the working tree may change anywhere.
                None => self.add(ctx, &here, Write, false),
            },
            "restore" => {
                let staged_only = flag(&["--staged", "-S"]) && !flag(&["--worktree", "-W"]);
                if staged_only || flag(&["-h", "--help"]) {
                    return;
                }
                let mut skip_value = false;
                let mut specs = Vec::new();
                let mut after_dd = false;
                for a in rest {
                    match a.value() {
                        _ if skip_value => skip_value = false,
                        Some("--") if !after_dd => after_dd = true,
                        Some("-s" | "--source" | "--pathspec-from-file") if !after_dd => {
                            skip_value = true
                        }
                        Some(v) if v.starts_with('-') && !after_dd => {}
                        _ => specs.push(a.clone()),
                    }
                }
                for s in &specs {
                    self.add(ctx, s, Write, true);
                }
            }
            "rm" => {
                if flag(&["--cached", "-n", "--dry-run"]) {
                    return;
                }
                for s in &pathspecs(0) {
                    self.add(ctx, s, Delete, true);
                }
            }
            "mv" => {
                if flag(&["-n", "--dry-run"]) {
                    return;
                }
                let ops = pathspecs(0);
                if let Some((target, sources)) = ops.split_last() {
                    for s in sources {
                        self.add(ctx, s, Delete, true);
                    }
                    self.add(ctx, target, Write, true);
                }
            }
            "reset" if flag(&["--hard", "--merge", "--keep"]) => self.add(ctx, &here, Write, false),
            "stash" if !matches!(rest.first().and_then(Op::value), Some("list" | "show")) => {
                self.add(ctx, &here, Write, false)
            }
            "switch" | "merge" | "pull" | "rebase" | "cherry-pick" | "revert" | "am" => {
                self.add(ctx, &here, Write, false)
            }
            "apply" if !flag(&["--check", "--stat", "--numstat", "--summary", "--cached"]) => {
                self.add(ctx, &here, Write, false)
            }
            _ => {}
        }
    }

    /// `tar -x` (old style `tar xf`, `--extract`): files created under
    /// `-C DIR` or here; `tar -c -f FILE`: the archive written.
    fn tar(&mut self, ctx: &Ctx, args: &[Op]) {
        let mut mode = None::<char>;
        let mut file: Option<Op> = None;
        let mut dirs: Vec<Op> = Vec::new();
        let mut to_stdout = false;
        let mut i = 0;
        // Old style: the first word is a cluster of letters without `-`,
        // whose value-taking letters take the next words in order.
        let mut pending: Vec<char> = Vec::new();
        if let Some(w) = args.first().and_then(Op::value) {
            if !w.starts_with('-') && !w.is_empty() && w.chars().all(|c| c.is_ascii_alphabetic()) {
                for c in w.chars() {
                    match c {
                        'x' | 'c' | 'r' | 'u' | 't' | 'd' | 'A' => mode = Some(c),
                        'O' => to_stdout = true,
                        'f' | 'C' | 'b' | 'T' | 'X' | 'g' | 'K' | 'N' | 'V' | 'L' | 'F' | 'H'
                        | 'I' => pending.push(c),
                        _ => {}
                    }
                }
                i = 1;
                for c in pending {
                    let v = args.get(i).cloned();
                    i += 1;
                    match (c, v) {
                        ('f', Some(v)) => file = Some(v),
                        ('C', Some(v)) => dirs.push(v),
                        _ => {}
                    }
                }
            }
        }
        while i < args.len() {
            let a = &args[i];
            let Some(w) = a.value() else {
                i += 1;
                continue;
            };
            if w == "--" {
                break;
            }
            if let Some(long) = w.strip_prefix("--") {
                let (k, v) = match long.split_once('=') {
                    Some((k, v)) => (k, Some(v)),
                    None => (long, None),
                };
                let value = |i: &mut usize| -> Option<Op> {
                    match v {
                        Some(v) => Some(Op {
                            text: v.into(),
                            known: true,
                        }),
                        None => {
                            *i += 1;
                            args.get(*i).cloned()
                        }
                    }
                };
                match k {
                    "extract" | "get" => mode = Some('x'),
                    "create" => mode = Some('c'),
                    "append" => mode = Some('r'),
                    "update" => mode = Some('u'),
                    "list" => mode = Some('t'),
                    "diff" | "compare" => mode = Some('d'),
                    "to-stdout" => to_stdout = true,
                    "file" => file = value(&mut i),
                    "directory" => dirs.extend(value(&mut i)),
                    "exclude"
                    | "files-from"
                    | "exclude-from"
                    | "use-compress-program"
                    | "to-command"
                    | "transform"
                    | "xform"
                    | "strip-components"
                    | "owner"
                    | "group"
                    | "mode"
                    | "mtime"
                    | "format"
                    | "label"
                    | "newer"
                    | "after-date"
                    | "newer-mtime"
                    | "blocking-factor"
                    | "record-size"
                    | "tape-length"
                    | "info-script"
                    | "new-volume-script"
                    | "volno-file"
                    | "index-file"
                    | "checkpoint-action"
                    | "listed-incremental"
                    | "suffix"
                    | "warning"
                    | "quoting-style"
                        if v.is_none() =>
                    {
                        i += 1
                    }
                    _ => {}
                }
                i += 1;
                continue;
            }
            if w.starts_with('-') && w.len() > 1 {
                let chars: Vec<char> = w[1..].chars().collect();
                for (j, c) in chars.iter().enumerate() {
                    match c {
                        'x' | 'c' | 'r' | 'u' | 't' | 'd' | 'A' => mode = Some(*c),
                        'O' => to_stdout = true,
                        'f' | 'C' | 'b' | 'T' | 'X' | 'g' | 'K' | 'N' | 'V' | 'L' | 'F' | 'H'
                        | 'I' => {
                            let rest: String = chars[j + 1..].iter().collect();
                            let v = if rest.is_empty() {
                                i += 1;
                                args.get(i).cloned()
                            } else {
                                Some(Op {
                                    text: rest,
                                    known: a.known,
                                })
                            };
                            match (c, v) {
                                ('f', Some(v)) => file = Some(v),
                                ('C', Some(v)) => dirs.push(v),
                                _ => {}
                            }
                            break;
                        }
                        _ => {}
                    }
                }
            }
            i += 1;
        }
        match mode {
            Some('x') if !to_stdout => {
                if dirs.is_empty() {
                    dirs.push(Op {
                        text: ".".into(),
                        known: true,
                    });
                }
                for d in &dirs {
                    self.add(ctx, d, Create, false);
                }
            }
            Some('c' | 'r' | 'u' | 'A') => {
                if let Some(f) = file.filter(|f| f.text != "-" && !f.text.contains(':')) {
                    self.add(ctx, &f, Write, true);
                }
            }
            _ => {}
        }
    }

    /// `unzip ZIP [FILES] [-x XLIST] [-d EXDIR]`: options anywhere.
    fn unzip(&mut self, ctx: &Ctx, args: &[Op]) {
        let mut dir: Option<Op> = None;
        let mut i = 0;
        while i < args.len() {
            if let Some(w) = args[i].value() {
                if w.starts_with('-') && w.len() > 1 && !w.starts_with("--") {
                    let flags = &w[1..];
                    if let Some(pos) = flags.find('d') {
                        let rest = &flags[pos + 1..];
                        dir = if rest.is_empty() {
                            i += 1;
                            args.get(i).cloned()
                        } else {
                            Some(Op {
                                text: rest.into(),
                                known: true,
                            })
                        };
                    } else if flags.contains(['l', 't', 'v', 'p', 'c', 'Z', 'z']) {
                        return;
                    }
                } else if w == "--help" || w == "-h" {
                    return;
                }
            }
            i += 1;
        }
        let d = dir.unwrap_or(Op {
            text: ".".into(),
            known: true,
        });
        self.add(ctx, &d, Create, false);
    }
}

/// The programs whose effects are predicted (the others have none).
const HANDLED: &[&str] = &[
    "cd", "pushd", "rm", "unlink", "rmdir", "shred", "mv", "cp", "install", "ln", "rsync", "tee",
    "touch", "mkdir", "chmod", "chown", "chgrp", "truncate", "dd", "sed", "perl", "find", "git",
    "tar", "unzip",
];

/// `env -C DIR` / `--chdir=DIR`.
fn env_chdir(args: &[WordInfo]) -> Option<Op> {
    let mut i = 1;
    while let Some(a) = args.get(i) {
        let w = a.value()?;
        if w == "-C" || w == "--chdir" {
            return args.get(i + 1).map(Op::of);
        }
        if let Some(d) = w.strip_prefix("--chdir=") {
            return Some(Op {
                text: d.into(),
                known: true,
            });
        }
        if let Some(d) = w.strip_prefix("-C") {
            return Some(Op {
                text: d.into(),
                known: true,
            });
        }
        if !w.starts_with('-') || w == "--" {
            return None;
        }
        i += 1;
    }
    None
}

// ---------------------------------------------------------------------
// Option parsing

/// Whether an option takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    /// No value.
    No,
    /// A value (attached or the next word).
    Req,
    /// A value only when attached (`-iSUF`, `--in-place=SUF`).
    Opt,
}

/// A program's options: `(short, value, key)` and `(long, value, key)`,
/// the key naming the option whichever way it is written.
struct Spec {
    short: &'static [(char, Arg, &'static str)],
    long: &'static [(&'static str, Arg, &'static str)],
}

/// The options and operands of a command.
#[derive(Debug)]
struct Parsed {
    keys: Vec<(&'static str, Option<Op>)>,
    operands: Vec<Op>,
    /// An option the program does not know, or an ambiguous abbreviation:
    /// it will likely refuse to run, so nothing it does is certain.
    bad: bool,
}

impl Parsed {
    fn has(&self, key: &str) -> bool {
        self.keys.iter().any(|(k, _)| *k == key)
    }

    fn value(&self, key: &str) -> Option<&Op> {
        self.keys
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.as_ref())
    }
}

/// Parses `args` as GNU `getopt_long` does (options and operands mixed
/// until `--`; long options abbreviated to any unambiguous prefix). `None`
/// for `--help` and `--version`, which do nothing else.
fn parse(spec: &Spec, args: &[Op]) -> Option<Parsed> {
    let mut p = Parsed {
        keys: Vec::new(),
        operands: Vec::new(),
        bad: false,
    };
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        let Some(w) = a.value() else {
            p.operands.push(a.clone());
            continue;
        };
        if w == "--" {
            p.operands.extend_from_slice(&args[i..]);
            break;
        }
        if let Some(long) = w.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let Some((arg, key)) = resolve_long(spec, name) else {
                p.bad = true;
                continue;
            };
            if key == "help" || key == "version" {
                return None;
            }
            let value = match (arg, attached) {
                // getopt_long refuses a value for an option without one.
                (Arg::No, Some(_)) => {
                    p.bad = true;
                    None
                }
                (_, Some(v)) => Some(Op {
                    text: v.into(),
                    known: true,
                }),
                (Arg::Req, None) => {
                    i += 1;
                    args.get(i - 1).cloned()
                }
                _ => None,
            };
            p.keys.push((key, value));
            continue;
        }
        if w.len() > 1 && w.starts_with('-') {
            let body = &w[1..];
            for (j, c) in body.char_indices() {
                let Some(&(_, arg, key)) = spec.short.iter().find(|(s, _, _)| *s == c) else {
                    p.bad = true;
                    continue;
                };
                let rest = &body[j + c.len_utf8()..];
                match arg {
                    Arg::No => p.keys.push((key, None)),
                    Arg::Opt => {
                        let v = (!rest.is_empty()).then(|| Op {
                            text: rest.into(),
                            known: true,
                        });
                        p.keys.push((key, v));
                        break;
                    }
                    Arg::Req => {
                        let v = if rest.is_empty() {
                            i += 1;
                            args.get(i - 1).cloned()
                        } else {
                            Some(Op {
                                text: rest.into(),
                                known: true,
                            })
                        };
                        p.keys.push((key, v));
                        break;
                    }
                }
            }
            continue;
        }
        p.operands.push(a.clone());
    }
    Some(p)
}

/// A long option as `getopt_long` resolves it: exact, or the one option
/// (or options of one key) a prefix abbreviates.
fn resolve_long(spec: &Spec, name: &str) -> Option<(Arg, &'static str)> {
    if let Some(&(_, arg, key)) = spec.long.iter().find(|(l, _, _)| *l == name) {
        return Some((arg, key));
    }
    if name.is_empty() {
        return None;
    }
    let mut found: Option<(Arg, &'static str)> = None;
    for &(l, arg, key) in spec.long {
        if l.starts_with(name) {
            match found {
                Some((_, k)) if k != key => return None,
                _ => found = Some((arg, key)),
            }
        }
    }
    found
}

use Arg::{No, Opt, Req};

const COMMON_LONG: [(&str, Arg, &str); 2] = [("help", No, "help"), ("version", No, "version")];

macro_rules! long {
    ($($e:expr),* $(,)?) => {{
        const L: &[(&str, Arg, &str)] = &[$($e,)* COMMON_LONG[0], COMMON_LONG[1]];
        L
    }};
}

static RM: Spec = Spec {
    short: &[
        ('f', No, "force"),
        ('i', No, "i"),
        ('I', No, "I"),
        ('r', No, "recursive"),
        ('R', No, "recursive"),
        ('d', No, "dir"),
        ('v', No, "verbose"),
    ],
    long: long![
        ("force", No, "force"),
        ("interactive", Opt, "interactive"),
        ("one-file-system", No, "one-file-system"),
        ("no-preserve-root", No, "no-preserve-root"),
        ("preserve-root", Opt, "preserve-root"),
        ("recursive", No, "recursive"),
        ("dir", No, "dir"),
        ("verbose", No, "verbose"),
    ],
};

static RMDIR: Spec = Spec {
    short: &[('p', No, "parents"), ('v', No, "verbose")],
    long: long![
        ("ignore-fail-on-non-empty", No, "ignore"),
        ("parents", No, "parents"),
        ("verbose", No, "verbose"),
    ],
};

static SHRED: Spec = Spec {
    short: &[
        ('f', No, "force"),
        ('n', Req, "iterations"),
        ('s', Req, "size"),
        ('u', No, "remove"),
        ('v', No, "verbose"),
        ('x', No, "exact"),
        ('z', No, "zero"),
    ],
    long: long![
        ("force", No, "force"),
        ("iterations", Req, "iterations"),
        ("random-source", Req, "random-source"),
        ("size", Req, "size"),
        ("remove", Opt, "remove"),
        ("verbose", No, "verbose"),
        ("exact", No, "exact"),
        ("zero", No, "zero"),
    ],
};

static MV: Spec = Spec {
    short: &[
        ('b', No, "backup"),
        ('f', No, "force"),
        ('i', No, "interactive"),
        ('n', No, "no-clobber"),
        ('S', Req, "suffix"),
        ('t', Req, "target-directory"),
        ('T', No, "no-target-directory"),
        ('u', No, "update"),
        ('v', No, "verbose"),
        ('Z', No, "context"),
    ],
    long: long![
        ("backup", Opt, "backup"),
        ("debug", No, "debug"),
        ("exchange", No, "exchange"),
        ("force", No, "force"),
        ("interactive", No, "interactive"),
        ("no-clobber", No, "no-clobber"),
        ("no-copy", No, "no-copy"),
        ("strip-trailing-slashes", No, "strip-trailing-slashes"),
        ("suffix", Req, "suffix"),
        ("target-directory", Req, "target-directory"),
        ("no-target-directory", No, "no-target-directory"),
        ("update", Opt, "update"),
        ("verbose", No, "verbose"),
        ("context", No, "context"),
    ],
};

static CP: Spec = Spec {
    short: &[
        ('a', No, "archive"),
        ('b', No, "backup"),
        ('d', No, "d"),
        ('f', No, "force"),
        ('H', No, "H"),
        ('i', No, "interactive"),
        ('l', No, "link"),
        ('L', No, "dereference"),
        ('n', No, "no-clobber"),
        ('P', No, "no-dereference"),
        ('p', No, "p"),
        ('R', No, "recursive"),
        ('r', No, "recursive"),
        ('s', No, "symbolic-link"),
        ('S', Req, "suffix"),
        ('t', Req, "target-directory"),
        ('T', No, "no-target-directory"),
        ('u', No, "update"),
        ('v', No, "verbose"),
        ('x', No, "one-file-system"),
        ('Z', No, "context"),
    ],
    long: long![
        ("archive", No, "archive"),
        ("attributes-only", No, "attributes-only"),
        ("backup", Opt, "backup"),
        ("copy-contents", No, "copy-contents"),
        ("debug", No, "debug"),
        ("dereference", No, "dereference"),
        ("force", No, "force"),
        ("interactive", No, "interactive"),
        ("keep-directory-symlink", No, "keep-directory-symlink"),
        ("link", No, "link"),
        ("no-clobber", No, "no-clobber"),
        ("no-dereference", No, "no-dereference"),
        ("no-preserve", Req, "no-preserve"),
        ("one-file-system", No, "one-file-system"),
        ("parents", No, "parents"),
        ("preserve", Opt, "preserve"),
        ("recursive", No, "recursive"),
        ("reflink", Opt, "reflink"),
        ("remove-destination", No, "remove-destination"),
        ("sparse", Req, "sparse"),
        ("strip-trailing-slashes", No, "strip-trailing-slashes"),
        ("suffix", Req, "suffix"),
        ("symbolic-link", No, "symbolic-link"),
        ("target-directory", Req, "target-directory"),
        ("no-target-directory", No, "no-target-directory"),
        ("update", Opt, "update"),
        ("verbose", No, "verbose"),
        ("context", Opt, "context"),
    ],
};

static LN: Spec = Spec {
    short: &[
        ('b', No, "backup"),
        ('d', No, "directory"),
        ('F', No, "directory"),
        ('f', No, "force"),
        ('i', No, "interactive"),
        ('L', No, "logical"),
        ('n', No, "no-dereference"),
        ('P', No, "physical"),
        ('r', No, "relative"),
        ('s', No, "symbolic"),
        ('S', Req, "suffix"),
        ('t', Req, "target-directory"),
        ('T', No, "no-target-directory"),
        ('v', No, "verbose"),
    ],
    long: long![
        ("backup", Opt, "backup"),
        ("directory", No, "directory"),
        ("force", No, "force"),
        ("interactive", No, "interactive"),
        ("logical", No, "logical"),
        ("no-dereference", No, "no-dereference"),
        ("physical", No, "physical"),
        ("relative", No, "relative"),
        ("symbolic", No, "symbolic"),
        ("suffix", Req, "suffix"),
        ("target-directory", Req, "target-directory"),
        ("no-target-directory", No, "no-target-directory"),
        ("verbose", No, "verbose"),
    ],
};

static INSTALL: Spec = Spec {
    short: &[
        ('b', No, "backup"),
        ('c', No, "c"),
        ('C', No, "compare"),
        ('d', No, "directory"),
        ('D', No, "D"),
        ('g', Req, "group"),
        ('m', Req, "mode"),
        ('o', Req, "owner"),
        ('p', No, "preserve-timestamps"),
        ('s', No, "strip"),
        ('S', Req, "suffix"),
        ('t', Req, "target-directory"),
        ('T', No, "no-target-directory"),
        ('v', No, "verbose"),
        ('Z', No, "context"),
    ],
    long: long![
        ("backup", Opt, "backup"),
        ("compare", No, "compare"),
        ("debug", No, "debug"),
        ("directory", No, "directory"),
        ("group", Req, "group"),
        ("mode", Req, "mode"),
        ("owner", Req, "owner"),
        ("preserve-timestamps", No, "preserve-timestamps"),
        ("preserve-context", No, "preserve-context"),
        ("strip", No, "strip"),
        ("strip-program", Req, "strip-program"),
        ("suffix", Req, "suffix"),
        ("target-directory", Req, "target-directory"),
        ("no-target-directory", No, "no-target-directory"),
        ("verbose", No, "verbose"),
        ("context", Opt, "context"),
    ],
};

static TEE: Spec = Spec {
    short: &[
        ('a', No, "append"),
        ('i', No, "ignore-interrupts"),
        ('p', No, "p"),
    ],
    long: long![
        ("append", No, "append"),
        ("ignore-interrupts", No, "ignore-interrupts"),
        ("output-error", Opt, "output-error"),
    ],
};

static TOUCH: Spec = Spec {
    short: &[
        ('a', No, "a"),
        ('c', No, "no-create"),
        ('d', Req, "date"),
        ('f', No, "f"),
        ('h', No, "no-dereference"),
        ('m', No, "m"),
        ('r', Req, "reference"),
        ('t', Req, "t"),
    ],
    long: long![
        ("no-create", No, "no-create"),
        ("date", Req, "date"),
        ("no-dereference", No, "no-dereference"),
        ("reference", Req, "reference"),
        ("time", Req, "time"),
    ],
};

static MKDIR: Spec = Spec {
    short: &[
        ('m', Req, "mode"),
        ('p', No, "parents"),
        ('v', No, "verbose"),
        ('Z', No, "context"),
    ],
    long: long![
        ("mode", Req, "mode"),
        ("parents", No, "parents"),
        ("verbose", No, "verbose"),
        ("context", Opt, "context"),
    ],
};

static CHMOD: Spec = Spec {
    short: &[
        ('c', No, "changes"),
        ('f', No, "silent"),
        ('v', No, "verbose"),
        ('R', No, "recursive"),
        ('h', No, "no-dereference"),
        ('H', No, "H"),
        ('L', No, "L"),
        ('P', No, "P"),
    ],
    long: long![
        ("changes", No, "changes"),
        ("dereference", No, "dereference"),
        ("no-dereference", No, "no-dereference"),
        ("no-preserve-root", No, "no-preserve-root"),
        ("preserve-root", No, "preserve-root"),
        ("quiet", No, "silent"),
        ("silent", No, "silent"),
        ("reference", Req, "reference"),
        ("recursive", No, "recursive"),
        ("verbose", No, "verbose"),
    ],
};

static CHOWN: Spec = Spec {
    short: &[
        ('c', No, "changes"),
        ('f', No, "silent"),
        ('v', No, "verbose"),
        ('R', No, "recursive"),
        ('h', No, "no-dereference"),
        ('H', No, "H"),
        ('L', No, "L"),
        ('P', No, "P"),
    ],
    long: long![
        ("changes", No, "changes"),
        ("dereference", No, "dereference"),
        ("no-dereference", No, "no-dereference"),
        ("from", Req, "from"),
        ("no-preserve-root", No, "no-preserve-root"),
        ("preserve-root", No, "preserve-root"),
        ("quiet", No, "silent"),
        ("silent", No, "silent"),
        ("reference", Req, "reference"),
        ("recursive", No, "recursive"),
        ("verbose", No, "verbose"),
    ],
};

static TRUNCATE: Spec = Spec {
    short: &[
        ('c', No, "no-create"),
        ('o', No, "io-blocks"),
        ('r', Req, "reference"),
        ('s', Req, "size"),
    ],
    long: long![
        ("no-create", No, "no-create"),
        ("io-blocks", No, "io-blocks"),
        ("reference", Req, "reference"),
        ("size", Req, "size"),
    ],
};

static SED: Spec = Spec {
    short: &[
        ('n', No, "quiet"),
        ('e', Req, "expression"),
        ('f', Req, "file"),
        ('E', No, "regexp-extended"),
        ('r', No, "regexp-extended"),
        ('i', Opt, "in-place"),
        ('l', Req, "line-length"),
        ('s', No, "separate"),
        ('u', No, "unbuffered"),
        ('z', No, "null-data"),
    ],
    long: long![
        ("quiet", No, "quiet"),
        ("silent", No, "quiet"),
        ("debug", No, "debug"),
        ("expression", Req, "expression"),
        ("file", Req, "file"),
        ("follow-symlinks", No, "follow-symlinks"),
        ("in-place", Opt, "in-place"),
        ("line-length", Req, "line-length"),
        ("null-data", No, "null-data"),
        ("zero-terminated", No, "null-data"),
        ("posix", No, "posix"),
        ("regexp-extended", No, "regexp-extended"),
        ("sandbox", No, "sandbox"),
        ("separate", No, "separate"),
        ("unbuffered", No, "unbuffered"),
    ],
};

static RSYNC: Spec = Spec {
    short: &[
        ('a', No, "archive"),
        ('b', No, "backup"),
        ('B', Req, "block-size"),
        ('c', No, "checksum"),
        ('d', No, "dirs"),
        ('D', No, "D"),
        ('e', Req, "rsh"),
        ('f', Req, "filter"),
        ('F', No, "F"),
        ('g', No, "group"),
        ('h', No, "human-readable"),
        ('H', No, "hard-links"),
        ('i', No, "itemize-changes"),
        ('k', No, "copy-dirlinks"),
        ('K', No, "keep-dirlinks"),
        ('l', No, "links"),
        ('L', No, "copy-links"),
        ('m', No, "prune-empty-dirs"),
        ('M', Req, "remote-option"),
        ('n', No, "dry-run"),
        ('o', No, "owner"),
        ('O', No, "omit-dir-times"),
        ('p', No, "perms"),
        ('P', No, "P"),
        ('q', No, "quiet"),
        ('r', No, "recursive"),
        ('R', No, "relative"),
        ('S', No, "sparse"),
        ('t', No, "times"),
        ('T', Req, "temp-dir"),
        ('u', No, "update"),
        ('v', No, "verbose"),
        ('W', No, "whole-file"),
        ('x', No, "one-file-system"),
        ('X', No, "xattrs"),
        ('A', No, "acls"),
        ('y', No, "fuzzy"),
        ('z', No, "compress"),
        ('0', No, "from0"),
        ('4', No, "ipv4"),
        ('6', No, "ipv6"),
    ],
    long: long![
        ("archive", No, "archive"),
        ("backup", No, "backup"),
        ("backup-dir", Req, "backup-dir"),
        ("block-size", Req, "block-size"),
        ("checksum", No, "checksum"),
        ("chmod", Req, "chmod"),
        ("chown", Req, "chown"),
        ("compare-dest", Req, "compare-dest"),
        ("copy-dest", Req, "copy-dest"),
        ("link-dest", Req, "link-dest"),
        ("delete", No, "delete"),
        ("delete-before", No, "delete-before"),
        ("delete-during", No, "delete-during"),
        ("delete-delay", No, "delete-delay"),
        ("delete-after", No, "delete-after"),
        ("delete-excluded", No, "delete-excluded"),
        ("del", No, "delete-during"),
        ("dry-run", No, "dry-run"),
        ("exclude", Req, "exclude"),
        ("exclude-from", Req, "exclude-from"),
        ("files-from", Req, "files-from"),
        ("filter", Req, "filter"),
        ("include", Req, "include"),
        ("include-from", Req, "include-from"),
        ("list-only", No, "list-only"),
        ("log-file", Req, "log-file"),
        ("log-file-format", Req, "log-file-format"),
        ("max-delete", Req, "max-delete"),
        ("max-size", Req, "max-size"),
        ("min-size", Req, "min-size"),
        ("only-write-batch", Req, "only-write-batch"),
        ("out-format", Req, "out-format"),
        ("partial-dir", Req, "partial-dir"),
        ("password-file", Req, "password-file"),
        ("port", Req, "port"),
        ("read-batch", Req, "read-batch"),
        ("recursive", No, "recursive"),
        ("remove-source-files", No, "remove-source-files"),
        ("rsh", Req, "rsh"),
        ("rsync-path", Req, "rsync-path"),
        ("suffix", Req, "suffix"),
        ("temp-dir", Req, "temp-dir"),
        ("timeout", Req, "timeout"),
        ("usermap", Req, "usermap"),
        ("groupmap", Req, "groupmap"),
        ("write-batch", Req, "write-batch"),
        ("bwlimit", Req, "bwlimit"),
        ("info", Req, "info"),
        ("debug", Req, "debug"),
        ("iconv", Req, "iconv"),
        ("compress-level", Req, "compress-level"),
        ("verbose", No, "verbose"),
        ("quiet", No, "quiet"),
        ("progress", No, "progress"),
        ("partial", No, "partial"),
        ("times", No, "times"),
        ("perms", No, "perms"),
        ("links", No, "links"),
        ("mkpath", No, "mkpath"),
        ("update", No, "update"),
        ("existing", No, "existing"),
        ("ignore-existing", No, "ignore-existing"),
        ("inplace", No, "inplace"),
        ("append", No, "append"),
        ("compress", No, "compress"),
        ("stats", No, "stats"),
        ("human-readable", No, "human-readable"),
        ("itemize-changes", No, "itemize-changes"),
    ],
};

#[cfg(test)]
mod tests;
