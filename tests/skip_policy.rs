//! The tests' skip policy (tests/common/skip.rs): which variables make a
//! skip a failure, and what a skip reports, checked on a real test run (this
//! binary runs one of its own tests as a child).

mod common;

use common::skip::{is_on, skips_fail_with, NO_SKIP, NO_SKIP_ALIASES};
use std::process::{Command, Output};

/// An environment of `pairs` only.
fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    move |name| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }
}

#[test]
fn no_skip_decides_and_the_older_names_are_aliases() {
    assert!(!skips_fail_with(env(&[])));
    assert!(skips_fail_with(env(&[(NO_SKIP, "1")])));
    assert!(!skips_fail_with(env(&[(NO_SKIP, "")])));
    // Set, SANDBOXCORE_NO_SKIP wins over the older names.
    assert!(!skips_fail_with(env(&[(NO_SKIP, "0"), ("CI", "true")])));
    assert!(skips_fail_with(env(&[(NO_SKIP, "1"), ("CI", "false")])));
    for alias in NO_SKIP_ALIASES {
        assert!(skips_fail_with(env(&[(alias, "1")])), "{alias}");
        assert!(!skips_fail_with(env(&[(alias, "0")])), "{alias}");
    }
    assert!(skips_fail_with(env(&[("CI", "true")])));
    assert!(!skips_fail_with(env(&[("CI", "false")])));
    assert!(is_on("yes") && !is_on(" ") && !is_on("false"));
}

/// Run only as the child of the test below (`--ignored`): it needs what no
/// machine has.
#[test]
#[ignore = "the child of a_skip_is_reported_or_fails_under_no_skip"]
fn child_that_skips() {
    if !common::skip_unless("a unicorn", false) {
        return;
    }
    unreachable!("skip_unless returned true for something missing");
}

/// This binary running only `child_that_skips`, with `SANDBOXCORE_NO_SKIP`
/// set to `no_skip` and none of the older names.
fn run_child(no_skip: &str) -> Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--ignored", "--exact", "child_that_skips"]);
    for alias in NO_SKIP_ALIASES {
        cmd.env_remove(alias);
    }
    cmd.env(NO_SKIP, no_skip).output().unwrap()
}

#[test]
fn a_skip_is_reported_or_fails_under_no_skip() {
    let line = "SKIPPED: child_that_skips: needs a unicorn\n";
    let out = run_child("0");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    // On the real standard error: shown although the test passed.
    assert!(stderr.contains(line), "{stderr}");
    let listed = common::skip::skip_file().expect("cargo's tmp directory");
    let listed = std::fs::read_to_string(&listed).unwrap();
    assert!(listed.contains(line), "{listed}");

    let out = run_child("1");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("child_that_skips: needs a unicorn (SANDBOXCORE_NO_SKIP=1"),
        "{stdout}"
    );
    assert!(stdout.contains("1 failed"), "{stdout}");
}
