//! Places where bash runs code that the words of a line do not show as a
//! command: array subscripts it evaluates (in `test -v`, `printf -v`,
//! `[[ -eq ]]`, arithmetic, `let`, `declare`, ...), legacy `$[...]` arithmetic and
//! job specs as command words. For each, bash itself shows that the code
//! runs (a marker file appears), and the classifier must list the program,
//! call the line not read-only and never a plain argv.

use sandboxcore::classify;
use std::path::Path;
use std::process::Command;

/// Lines in which bash runs `touch MARK` although no word is a command
/// substitution bash expands as a word.
const HIDDEN: &[&str] = &[
    "test -v 'a[$(touch MARK)]'",
    "[ -v 'a[$(touch MARK)]' ]",
    "printf -v 'a[$(touch MARK)]' x",
    "[[ 'a[$(touch MARK)]' -eq 1 ]]",
    "[[ 1 -lt 'a[$(touch MARK)]' ]]",
    "x='a[$(touch MARK)]'; (( x ))",
    "x='a[$(touch MARK)]'; echo $(( x ))",
    "x='a[$(touch MARK)]'; y=abc; echo ${y:x}",
    "x='a[$(touch MARK)]'; echo ${b[x]}",
    "declare -i x; x='a[$(touch MARK)]'",
    "read 'a[$(touch MARK)]' < /dev/null",
    "unset 'a[$(touch MARK)]'",
    "let 'a[$(touch MARK)]'",
    "declare 'a[$(touch MARK)]'=1",
    "test -v 'a[`touch MARK`]'",
    "echo $[ $(touch MARK) ]",
    "echo \"$[ $(touch MARK) ]\"",
];

fn bash_runs_it(line: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    Command::new("bash")
        .arg("-c")
        .arg(format!("declare -a a; {line}"))
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("bash runs");
    Path::new(&dir.path().join("MARK")).exists()
}

#[test]
fn code_in_subscripts_is_seen() {
    let mut wrong = Vec::new();
    for line in HIDDEN {
        assert!(bash_runs_it(line), "bash does not run the code of {line:?}");
        let c = classify(line);
        let names: Vec<_> = c.programs.iter().filter_map(|p| p.name.clone()).collect();
        if !c.needs_shell || c.read_only || !names.iter().any(|n| n == "touch") {
            wrong.push(format!(
                "{line:?}: needs_shell={} read_only={} programs={names:?}",
                c.needs_shell, c.read_only
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn subscripts_bash_does_not_evaluate_add_nothing() {
    // An argument of an external program is only text.
    for line in [
        "grep 'x[$(touch MARK)]' f",
        "grep 'x[$(touch MARK)]' f | head -1",
    ] {
        assert!(!bash_runs_it(line), "{line}");
        let c = classify(line);
        assert!(
            c.programs
                .iter()
                .all(|p| p.name.as_deref() != Some("touch")),
            "{line}: {:?}",
            c.programs
        );
    }
}

#[test]
fn a_job_spec_is_not_a_program() {
    for line in ["%vim", "%1", "%+"] {
        let c = classify(line);
        assert!(c.needs_shell, "{line}: bash runs `fg {line}`");
        assert!(c.argv().is_none(), "{line}");
        assert!(!c.read_only, "{line}");
    }
}

#[test]
fn a_trailing_terminator_changes_nothing() {
    // bash and dash run exactly the command before it (the differential test
    // runs the same lines from tests/data/plain_commands.txt in both shells).
    for (line, argv) in [
        ("ls /;", vec!["ls", "/"]),
        ("mv a b;", vec!["mv", "a", "b"]),
        ("cat x\n", vec!["cat", "x"]),
        ("git status ;\n", vec!["git", "status"]),
        (
            "find . -name x -exec rm {} ;",
            vec!["find", ".", "-name", "x", "-exec", "rm", "{}"],
        ),
    ] {
        let c = classify(line);
        assert_eq!(
            c.argv(),
            Some(&argv.iter().map(|s| s.to_string()).collect::<Vec<_>>()[..]),
            "{line:?}"
        );
        assert!(
            c.constructs
                .iter()
                .all(|k| k.kind != sandboxcore::ConstructKind::Sequence),
            "{line:?}: {:?}",
            c.constructs
        );
    }
    // Between two commands it is a sequence, as before.
    assert!(classify("ls; pwd").needs_shell);
    assert!(classify("ls\npwd\n").needs_shell);
}

#[test]
fn an_option_with_an_argument_does_not_hide_the_git_subcommand() {
    for line in [
        "git -C /tmp/repo push --force",
        "git -c user.name=x push --force",
        "git --git-dir .git push -f",
    ] {
        let c = classify(line);
        assert!(
            c.reasons
                .iter()
                .any(|r| r.code == sandboxcore::ReasonCode::DestructiveGit),
            "{line}: {:?}",
            c.reasons
        );
    }
}
