//! Differential test of the soundness promise: for every command classified
//! `needs_shell == false`, real bash and real dash must run exactly one
//! program with exactly the reported argv.
//!
//! Commands run with `PATH` set to a directory holding only a probe script,
//! linked under the command's name, that records the argv it receives. They
//! run in several environments (different `HOME`, `IFS`, variables) in a
//! directory whose files match common globs. Only commands whose name has no
//! `/` are run, so nothing but the probe can ever execute. Builtins that the
//! classifier allows (`echo`, `printf`, `true`, `false`) are compared by
//! output and exit status with the external program instead.

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sandboxcore::classify;
use std::fs;
use std::os::unix::fs::symlink;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PROBE: &str = r#"#!/bin/sh
{ printf '%s\0' "${0##*/}" "$#"; for a in "$@"; do printf '%s\0' "$a"; done; } >> "$PROBE_OUT"
"#;

/// A probe that also records what else a plain argv could not express: the
/// working directory, what descriptors 0-2 are, and the environment it got
/// (lines: cwd, fd0, fd1, fd2, then `NAME=VALUE`s). It exits with
/// `$PROBE_STATUS`.
const CONTEXT_PROBE: &str = r#"#!/bin/sh
ctx="$(/usr/bin/readlink /proc/$$/cwd /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2; /usr/bin/env)"
case "$0" in "$PROBE_BIN"/*) name="${0##*/}" ;; *) name="$0" ;; esac
{ printf '%s\0' "$name" "$#"; for a in "$@"; do printf '%s\0' "$a"; done; printf '%s\0' "$ctx"; } >> "$PROBE_OUT"
exit "${PROBE_STATUS:-0}"
"#;

/// One program run that a probe recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    argv: Vec<String>,
    /// The context line of [`CONTEXT_PROBE`]; `None` with [`PROBE`].
    context: Option<String>,
}

/// What one shell run of a command did.
struct ShellRun {
    records: Vec<Record>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    status: i32,
}

struct Lab {
    _dir: tempfile::TempDir,
    bin: PathBuf,
    probe: PathBuf,
    /// The working directory of environment 0 (files matching common globs).
    work: PathBuf,
    /// The working directory of environment 1 in [`Lab::census`]: other
    /// files, so a glob's expansion differs.
    other_work: PathBuf,
    out: PathBuf,
    homes: Vec<PathBuf>,
    context: bool,
}

impl Lab {
    fn new() -> Lab {
        Lab::with_probe(PROBE, false)
    }

    fn with_probe(probe_text: &str, context: bool) -> Lab {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = dir.path().join("bin");
        let work = dir.path().join("work dir");
        let other_work = dir.path().join("work2");
        fs::create_dir_all(&bin).unwrap();
        fs::create_dir_all(&work).unwrap();
        fs::create_dir_all(&other_work).unwrap();
        for f in ["z.py", "y.txt", "n"] {
            fs::write(other_work.join(f), "").unwrap();
        }
        let probe = dir.path().join("probe");
        fs::write(&probe, probe_text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&probe, fs::Permissions::from_mode(0o755)).unwrap();
        for f in ["a.py", "b.py", "x", "-rf", "{a,b}", "~", "a b", "c.txt"] {
            fs::write(work.join(f), "").unwrap();
        }
        let homes = vec![dir.path().join("home"), dir.path().join("h o m e")];
        for h in &homes {
            fs::create_dir_all(h).unwrap();
        }
        Lab {
            out: dir.path().join("out"),
            _dir: dir,
            bin,
            probe,
            work,
            other_work,
            homes,
            context,
        }
    }

    /// Runs `cmd` under `shell` in environment `env_no` in directory `dir`:
    /// what the probe recorded, and the shell's output and status.
    fn run_in(&self, shell: &'static str, cmd: &str, env_no: usize, dir: &Path) -> ShellRun {
        self.run_variant(&Variant::plain(shell, env_no, dir), cmd)
    }

    /// Runs `cmd` as `variant` says, with stdout and stderr in files (so a
    /// probe can tell them from any other descriptor).
    fn run_variant(&self, variant: &Variant, cmd: &str) -> ShellRun {
        let _ = fs::remove_file(&self.out);
        let stdout = fs::File::create(self.stdout_path()).expect("stdout file");
        let stderr = fs::File::create(self.stderr_path()).expect("stderr file");
        let mut c = Command::new(external_path(variant.shell));
        c.args(variant.options)
            .arg("-c")
            .arg(cmd)
            .env_clear()
            .env("PATH", &self.bin)
            .env("PROBE_OUT", &self.out)
            .env("PROBE_BIN", &self.bin)
            .env("HOME", &self.homes[variant.env_no % self.homes.len()])
            .current_dir(variant.dir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0);
        if variant.env_no == 1 {
            c.env("IFS", ":/-")
                .env("X", "a b")
                .env("HOMEDIR", "/")
                .env("POSIXLY_CORRECT", "1");
        }
        if variant.changed {
            let mut path = self.bin.clone().into_os_string();
            path.push(":/nonexistent/sandboxcore-census");
            c.env("PATH", path).env("PROBE_STATUS", "3");
            for name in referenced_variables(cmd) {
                if !HARNESS_VARIABLES.contains(&name.as_str()) {
                    c.env(&name, format!("changed {name}"));
                }
            }
        }
        let mut child = c.spawn().expect("run shell");
        let status = child.wait().expect("wait for the shell");
        // Process substitutions may outlive the shell: wait for its whole
        // group, or a late probe would write into the next line's record.
        let group = child.id() as libc::pid_t;
        let gone = (0..400).any(|_| {
            // SAFETY: kill with signal 0 only checks whether the group exists.
            let gone = unsafe { libc::kill(-group, 0) } != 0;
            if !gone {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            gone
        });
        if !gone {
            // SAFETY: the group still exists, so it is the one this run
            // created (`process_group(0)`), not a recycled id.
            unsafe { libc::kill(-group, libc::SIGKILL) };
        }
        let raw = fs::read(&self.out).unwrap_or_default();
        let mut fields = raw
            .split(|&b| b == 0)
            .map(|f| String::from_utf8_lossy(f).into_owned());
        let mut records = Vec::new();
        while let Some(name) = fields.next() {
            if name.is_empty() {
                break;
            }
            let n: usize = fields.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            let mut argv = vec![name];
            argv.extend(fields.by_ref().take(n));
            let context = if self.context { fields.next() } else { None };
            records.push(Record { argv, context });
        }
        ShellRun {
            records,
            stdout: fs::read(self.stdout_path()).unwrap_or_default(),
            stderr: fs::read(self.stderr_path()).unwrap_or_default(),
            status: status.code().unwrap_or(-1),
        }
    }

    fn stdout_path(&self) -> PathBuf {
        self._dir.path().join("stdout")
    }

    fn stderr_path(&self) -> PathBuf {
        self._dir.path().join("stderr")
    }

    /// [`Lab::run_in`] in the lab's working directory: the argv lists the
    /// probe recorded, or the shell's stdout and status.
    fn run(
        &self,
        shell: &'static str,
        cmd: &str,
        env_no: usize,
    ) -> (Vec<Vec<String>>, Vec<u8>, i32) {
        let run = self.run_in(shell, cmd, env_no, &self.work);
        let argvs = run.records.into_iter().map(|r| r.argv).collect();
        (argvs, run.stdout, run.status)
    }

    /// Checks one command; returns an error description when an answer of
    /// the classifier is unsound. Returns Ok(true) only when the command was
    /// run in both shells and compared; Ok(false) when it was not (it needs
    /// a shell, or its program is a path this test will not execute).
    fn check(&self, cmd: &str) -> Result<bool, String> {
        let c = classify(cmd);
        let Some(argv) = c.argv().map(<[String]>::to_vec) else {
            return Ok(false);
        };
        let name = &argv[0];
        if name.contains('/') || name == "." || name == ".." {
            return Ok(false); // not executed: it could name a real program
        }
        let builtin = matches!(name.as_str(), "echo" | "printf" | "true" | "false");
        if !builtin {
            let link = self.bin.join(name);
            if !link.exists() {
                symlink(&self.probe, &link).map_err(|e| format!("{name}: {e}"))?;
            }
        }
        for shell in ["bash", "dash"] {
            for env_no in 0..2 {
                let (records, stdout, status) = self.run(shell, cmd, env_no);
                if builtin {
                    let external = external_path(name);
                    let want = Command::new(&external)
                        .args(&argv[1..])
                        .env_clear()
                        .env("POSIXLY_CORRECT", "1")
                        .stdin(Stdio::null())
                        .output()
                        .map_err(|e| format!("{external:?}: {e}"))?;
                    if want.stdout != stdout || want.status.code().unwrap_or(-1) != status {
                        return Err(format!(
                            "{shell} env{env_no}: {cmd:?}: builtin output {:?}/{status} but {} gives {:?}/{:?}",
                            String::from_utf8_lossy(&stdout),
                            external.display(),
                            String::from_utf8_lossy(&want.stdout),
                            want.status.code()
                        ));
                    }
                } else if records != [argv.clone()] {
                    return Err(format!(
                        "{shell} env{env_no}: {cmd:?}: classifier said {argv:?}, the shell ran {records:?}"
                    ));
                }
            }
        }
        Ok(true)
    }
}

/// Variables the harness sets, and those the shells and the probe set
/// themselves: any other name in a probe's environment came from the command.
const HARNESS_VARIABLES: &[&str] = &[
    "PATH",
    "PROBE_OUT",
    "PROBE_BIN",
    "PROBE_STATUS",
    "HOME",
    "IFS",
    "X",
    "HOMEDIR",
    "POSIXLY_CORRECT",
    "PWD",
    "OLDPWD",
    "SHLVL",
    "_",
];

/// One way the census runs a line.
struct Variant<'a> {
    shell: &'static str,
    /// Shell options before `-c`.
    options: &'static [&'static str],
    env_no: usize,
    dir: &'a Path,
    /// Another `PATH` entry, every variable the line names set, probes
    /// exiting with status 3.
    changed: bool,
}

impl<'a> Variant<'a> {
    fn plain(shell: &'static str, env_no: usize, dir: &'a Path) -> Variant<'a> {
        Variant {
            shell,
            options: &[],
            env_no,
            dir,
            changed: false,
        }
    }

    /// The status a static line exits with under this variant.
    fn status(&self) -> i32 {
        if self.changed {
            3
        } else {
            0
        }
    }
}

/// The names of the variables `cmd` mentions (`$NAME`, `${NAME...}`).
fn referenced_variables(cmd: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (i, _) in cmd.match_indices('$') {
        let rest = cmd[i + 1..].strip_prefix('{').unwrap_or(&cmd[i + 1..]);
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit()) {
            names.push(name);
        }
    }
    names
}

impl Lab {
    /// The census variants: bash and dash in two environments and two
    /// directories with different files (the second with every variable
    /// the line names set, another `PATH` entry and probes that fail),
    /// then bash with `nullglob` and with globbing off (a glob that
    /// matches nothing, or something, shows in one of them) and bash with
    /// `-x` (its trace shows every simple command, builtins included).
    fn variants(&self) -> Vec<Variant<'_>> {
        let mut v = Vec::new();
        for shell in ["bash", "dash"] {
            v.push(Variant::plain(shell, 0, &self.work));
            v.push(Variant {
                changed: true,
                ..Variant::plain(shell, 1, &self.other_work)
            });
        }
        for options in [&["-O", "nullglob"][..], &["-f"], &["-x"]] {
            v.push(Variant {
                options,
                ..Variant::plain("bash", 0, &self.work)
            });
        }
        v
    }

    /// Links the probe under every word of `cmd` that could name a program
    /// found through `PATH`, and under every `./name` in both working
    /// directories, so whatever the line runs is the probe.
    fn link_names(&self, cmd: &str) {
        let is_name = |t: &str| {
            !t.is_empty()
                && !t.starts_with(['-', '.'])
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.+-".contains(c))
        };
        for token in cmd.split(|c: char| c.is_whitespace() || ";|&()<>'\"`$={}".contains(c)) {
            if is_name(token) {
                let link = self.bin.join(token);
                if fs::symlink_metadata(&link).is_err() {
                    symlink(&self.probe, &link).expect("link the probe");
                }
            } else if let Some(rest) = token.strip_prefix("./") {
                if rest.split('/').all(is_name) {
                    for dir in [&self.work, &self.other_work] {
                        let path = dir.join(rest);
                        if fs::symlink_metadata(&path).is_err() {
                            fs::create_dir_all(path.parent().unwrap()).unwrap();
                            symlink(&self.probe, &path).expect("link the probe");
                        }
                    }
                }
            }
        }
    }

    /// Whether a run of `variant` did only what one plain argv does: its
    /// probe (if `record`) ran in the variant's directory with `/dev/null`
    /// as input, the shell's own stdout and stderr and no variable the
    /// command set; the shell printed nothing of its own (under `-x`:
    /// exactly one trace line, of one simple command) and exited with the
    /// program's status.
    fn run_untouched(&self, variant: &Variant, run: &ShellRun, record: Option<&Record>) -> bool {
        if run.status != variant.status() && record.is_some() {
            return false;
        }
        let stderr_ok = if variant.options == ["-x"] {
            let trace = String::from_utf8_lossy(&run.stderr);
            let traced: Vec<&str> = trace.lines().filter(|l| l.starts_with('+')).collect();
            traced.len() == 1 && traced[0].starts_with("+ ")
        } else {
            run.stderr.is_empty()
        };
        if !stderr_ok {
            return false;
        }
        let Some(record) = record else {
            return true;
        };
        let Some(context) = record.context.as_deref() else {
            return false;
        };
        let mut lines = context.lines();
        let (Some(cwd), Some(fd0), Some(fd1), Some(fd2)) =
            (lines.next(), lines.next(), lines.next(), lines.next())
        else {
            return false;
        };
        let mut names = lines.filter_map(|l| l.split_once('=').map(|(name, _)| name));
        let same = |link: &str, path: PathBuf| Path::new(link) == path.canonicalize().unwrap();
        let own = HARNESS_VARIABLES.iter().map(|v| v.to_string());
        let mut allowed: Vec<String> = own.collect();
        if variant.changed {
            allowed.extend(record.argv.iter().flat_map(|a| referenced_variables(a)));
        }
        run.stdout.is_empty()
            && same(cwd, variant.dir.to_path_buf())
            && fd0 == "/dev/null"
            && same(fd1, self.stdout_path())
            && same(fd2, self.stderr_path())
            && names.all(|n| allowed.iter().any(|a| a == n))
    }

    /// The argv `cmd` runs when it is static in every environment: under
    /// every census variant it runs exactly one program, always with the
    /// same argv, and nothing else shows ([`Lab::run_untouched`]). `None`
    /// otherwise.
    fn static_argv(&self, cmd: &str) -> Option<Vec<String>> {
        self.link_names(cmd);
        let mut seen: Option<Vec<String>> = None;
        for variant in self.variants() {
            let run = self.run_variant(&variant, cmd);
            let [record] = run.records.as_slice() else {
                return None;
            };
            if !self.run_untouched(&variant, &run, Some(record)) {
                return None;
            }
            if seen.as_ref().is_some_and(|argv| *argv != record.argv) {
                return None;
            }
            seen = Some(record.argv.clone());
        }
        seen
    }

    /// The argv of a line that runs one of the builtins a plain argv may
    /// name (`echo`, `printf`, `true`, `false`) when it is static: under
    /// every census variant it runs no program, prints the same as the
    /// external program given `candidate`, with the same status, and
    /// nothing else shows.
    fn static_builtin(&self, cmd: &str, candidate: &[String]) -> Option<Vec<String>> {
        let name = candidate.first()?;
        if !matches!(name.as_str(), "echo" | "printf" | "true" | "false") {
            return None;
        }
        let want = Command::new(external_path(name))
            .args(&candidate[1..])
            .env_clear()
            .env("POSIXLY_CORRECT", "1")
            .stdin(Stdio::null())
            .output()
            .ok()?;
        for variant in self.variants() {
            let run = self.run_variant(&variant, cmd);
            if !run.records.is_empty()
                || !self.run_untouched(&variant, &run, None)
                || run.stdout != want.stdout
                || Some(run.status) != want.status.code()
            {
                return None;
            }
        }
        Some(candidate.to_vec())
    }
}

/// Whether running `cmd` with only probes on `PATH` can touch nothing
/// outside the lab: no program named by an absolute path that exists, no
/// redirection to an absolute path but `/dev/null`.
fn safe_to_run(cmd: &str) -> bool {
    let words = cmd.split(|c: char| c.is_whitespace() || ";|&()'\"`".contains(c));
    let runs_absolute = words.clone().any(|w| {
        w.starts_with('/')
            && fs::metadata(w).is_ok_and(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 != 0
            })
    });
    let redirects_outside = cmd.match_indices('>').any(|(i, _)| {
        let target = cmd[i + 1..].trim_start_matches(['>', '|', '&', ' ']);
        target.starts_with('/') && !target.starts_with("/dev/null")
    });
    !runs_absolute && !redirects_outside
}

/// Completeness: of the agent one-liners that are static in every
/// environment (found by running them, not by the classifier), at least 99%
/// must be classified as a plain argv — the same argv the shells ran. A
/// plain answer for a line that is not static is a failure too.
#[test]
fn static_agent_oneliners_are_plain() {
    assert!(shells_available(), "bash and dash are required");
    let lab = Lab::with_probe(CONTEXT_PROBE, true);
    let lines = common::lines(&common::data("agent_oneliners.txt"));
    let (mut statics, mut plain, mut not_run) = (0usize, 0usize, 0usize);
    let mut refused = Vec::new();
    let mut unsound = Vec::new();
    for cmd in &lines {
        if !safe_to_run(cmd) {
            not_run += 1;
            continue;
        }
        let c = classify(cmd);
        let candidate = c
            .argv()
            .map(<[String]>::to_vec)
            .or_else(|| shell_words::split(cmd).ok())
            .unwrap_or_default();
        let truth = lab
            .static_argv(cmd)
            .or_else(|| lab.static_builtin(cmd, &candidate));
        match (truth, c.argv()) {
            (Some(t), Some(a)) if a == t.as_slice() => {
                statics += 1;
                plain += 1;
            }
            (Some(t), Some(a)) => {
                unsound.push(format!("{cmd:?}: plain {a:?}, the shells ran {t:?}"))
            }
            (Some(_), None) => {
                statics += 1;
                refused.push(cmd.as_str());
            }
            (None, Some(a)) => unsound.push(format!(
                "{cmd:?}: plain {a:?}, but not static in every environment"
            )),
            (None, None) => {}
        }
    }
    println!(
        "{} one-liners: {not_run} not run, {statics} static in every environment, \
         {plain} of them plain ({:.1}%); refused: {refused:#?}",
        lines.len(),
        100.0 * plain as f64 / statics.max(1) as f64
    );
    assert!(unsound.is_empty(), "unsound answers: {unsound:#?}");
    assert!(
        statics >= 250,
        "only {statics} static one-liners: is the probe broken?"
    );
    assert!(
        plain * 100 >= statics * 99,
        "{plain} of {statics} static one-liners plain, under 99%; refused: {refused:#?}"
    );
}

fn external_path(name: &str) -> PathBuf {
    for dir in ["/usr/bin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("no external {name}")
}

fn shells_available() -> bool {
    ["bash", "dash"].iter().all(|s| {
        Command::new(s)
            .arg("-c")
            .arg("true")
            .status()
            .is_ok_and(|st| st.success())
    })
}

#[test]
fn plain_corpus_matches_bash_and_dash() {
    assert!(shells_available(), "bash and dash are required");
    let lab = Lab::new();
    let mut checked = 0;
    for cmd in common::plain_commands() {
        if lab.check(&cmd).unwrap_or_else(|e| panic!("{e}")) {
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} commands checked");
}

/// Hand-written edge cases: quoting, escapes, continuations, comments.
#[test]
fn edge_cases_match_bash_and_dash() {
    assert!(shells_available(), "bash and dash are required");
    let lab = Lab::new();
    let cases = common::lines(&common::data("edge_cases.txt"));
    let mut statics = 0;
    for case in &cases {
        // The file writes newlines as \n and tabs as \t inside a case.
        let cmd = case.replace("\\n", "\n").replace("\\t", "\t");
        if lab.check(&cmd).unwrap_or_else(|e| panic!("{e}")) {
            statics += 1;
        }
    }
    assert!(statics >= 20, "only {statics} static edge cases");
}

/// Generated command lines full of shell metacharacters.
#[test]
fn generated_commands_match_bash_and_dash() {
    assert!(shells_available(), "bash and dash are required");
    let lab = Lab::new();
    let token = prop_oneof![
        Just("cmd".to_string()),
        Just("a".to_string()),
        Just("-rf".to_string()),
        Just("-n".to_string()),
        Just("'b c'".to_string()),
        Just("\"d e\"".to_string()),
        Just("\"$X\"".to_string()),
        Just("$X".to_string()),
        Just("*".to_string()),
        Just("*.py".to_string()),
        Just("~".to_string()),
        Just("a=~".to_string()),
        Just("x:~".to_string()),
        Just("\\;".to_string()),
        Just(";".to_string()),
        Just("&&".to_string()),
        Just("|".to_string()),
        Just("&".to_string()),
        Just("$(x)".to_string()),
        Just("`x`".to_string()),
        Just("{a,b}".to_string()),
        Just("{1..2}".to_string()),
        Just("{}".to_string()),
        Just("#c".to_string()),
        Just("\\\n".to_string()),
        Just("FOO=1".to_string()),
        Just("$'x\\ty'".to_string()),
        Just("\"a\\\"b\"".to_string()),
        Just("\"a\\b\"".to_string()),
        Just("'\\'".to_string()),
        Just("\\\\".to_string()),
        Just("a\\ b".to_string()),
        Just("$".to_string()),
        Just("\"$\"".to_string()),
        Just("a$".to_string()),
        Just("[ab]".to_string()),
        Just("?".to_string()),
        Just("!".to_string()),
        Just("%".to_string()),
        Just("^".to_string()),
        Just("=".to_string()),
        Just("''".to_string()),
        Just("\"\"".to_string()),
        Just(">".to_string()),
        Just("2>&1".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("\n".to_string()),
        Just("\t".to_string()),
        Just("é".to_string()),
        // Arithmetic: bash's legacy `$[...]` (dash leaves it as text) and
        // `$((...))` of constants, which the classifier evaluates.
        Just("$[1]".to_string()),
        Just("\"$[1]\"".to_string()),
        Just("a$[1+1]b".to_string()),
        Just("$((1))".to_string()),
        Just("$((1+2*3))".to_string()),
        Just("\"$((010 + 0x10))\"".to_string()),
        Just("x$((-7 / 2))y".to_string()),
        Just("$((7 % -3))".to_string()),
        Just("$((1/0))".to_string()),
        Just("$((08))".to_string()),
        Just("$((9223372036854775807+1))".to_string()),
        Just("$(( (1+2) * -3 ))".to_string()),
        "[a-z]{1,3}".prop_map(|s| s),
    ];
    let line = (
        prop_oneof![
            Just("cmd"),
            Just("git"),
            Just("echo"),
            Just("printf"),
            Just("x-y")
        ],
        proptest::collection::vec(token, 0..6),
        proptest::collection::vec(prop_oneof![Just(" "), Just(""), Just("  ")], 6),
    )
        .prop_map(|(head, toks, seps)| {
            let mut s = head.to_string();
            for (i, t) in toks.iter().enumerate() {
                s.push_str(if seps[i].is_empty() && i == 0 {
                    " "
                } else {
                    seps[i]
                });
                s.push_str(t);
            }
            s
        });
    let cases: u32 = std::env::var("SANDBOXCORE_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&line, |cmd| {
            lab.check(&cmd).map_err(TestCaseError::fail)?;
            Ok(())
        })
        .unwrap();
}
