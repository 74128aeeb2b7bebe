//! The one skip policy of the Rust tests (the Python and Node suites
//! follow the same rule; see "Skipped tests" in docs/design.md).
//!
//! A test that needs something a machine may lack (root, cgroups, a Docker
//! daemon, curl, a cluster) calls [`skip_unless`] or [`skip`]. Without it:
//!
//! - normally the test is skipped, and says so: a line
//!   `SKIPPED: <test>: <reason>` on the real standard error (not the test
//!   harness's captured one, so that it shows in a passing run) and in
//!   `$CARGO_TARGET_TMPDIR/skipped.txt` (`target/tmp/skipped.txt`);
//! - with `SANDBOXCORE_NO_SKIP=1` (set by `.ci/run` and `make test`) the
//!   test fails, naming what was missing.
//!
//! The older names `SANDBOXCORE_REQUIRE_DOCKER=1` and `CI` are accepted
//! when `SANDBOXCORE_NO_SKIP` is not set.
//!
//! One file for every test crate: `tests/common/mod.rs` includes it, the
//! CLI's tests and the core's unit tests include it by path.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

/// The variable that turns every skip into a failure.
pub const NO_SKIP: &str = "SANDBOXCORE_NO_SKIP";

/// The variables accepted for [`NO_SKIP`] when it is not set.
pub const NO_SKIP_ALIASES: [&str; 2] = ["SANDBOXCORE_REQUIRE_DOCKER", "CI"];

/// Whether `value` (of one of the variables) means "on": anything but
/// empty, `0` or `false`.
pub fn is_on(value: &str) -> bool {
    !matches!(value.trim(), "" | "0" | "false")
}

/// Whether a skip fails the test, from `lookup` (the environment, in
/// [`skips_fail`]): [`NO_SKIP`] when set, else any of [`NO_SKIP_ALIASES`].
pub fn skips_fail_with(lookup: impl Fn(&str) -> Option<String>) -> bool {
    match lookup(NO_SKIP) {
        Some(v) => is_on(&v),
        None => NO_SKIP_ALIASES
            .iter()
            .any(|name| lookup(name).is_some_and(|v| is_on(&v))),
    }
}

/// Whether a skip fails the test in this environment.
pub fn skips_fail() -> bool {
    skips_fail_with(|name| std::env::var(name).ok())
}

/// `available`, after skipping the test when it is not (which fails the
/// test under [`NO_SKIP`]): `if !skip_unless("curl", have("curl")) {
/// return; }`.
#[track_caller]
pub fn skip_unless(what: &str, available: bool) -> bool {
    if !available {
        skip(&format!("needs {what}"));
    }
    available
}

/// Skips (the rest of) the current test for `reason`: reports it, or
/// panics under [`NO_SKIP`]. Returns, so that the caller returns or goes on
/// without the part skipped.
#[track_caller]
pub fn skip(reason: &str) {
    let test = current_test();
    if skips_fail() {
        panic!("{test}: {reason} ({NO_SKIP}=1: a test may not skip)");
    }
    let line = format!("SKIPPED: {test}: {reason}\n");
    // The process's standard error itself: the harness captures only what
    // `eprintln!` prints.
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Some(path) = skip_file() {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// The name of the running test (the harness names each test's thread
/// after it).
pub fn current_test() -> String {
    std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .unwrap_or("a test")
        .to_string()
}

/// Where skips are listed: `$CARGO_TARGET_TMPDIR/skipped.txt` for the
/// integration tests; for unit tests (cargo sets no such directory) the
/// same file, found from the test binary (`<target>/<profile>/deps/`).
pub fn skip_file() -> Option<PathBuf> {
    let dir = match option_env!("CARGO_TARGET_TMPDIR") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::current_exe()
            .ok()?
            .ancestors()
            .nth(3)?
            .join("tmp"),
    };
    dir.is_dir().then(|| dir.join("skipped.txt"))
}
