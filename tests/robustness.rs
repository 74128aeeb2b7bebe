//! The classifier never panics, never overflows the stack and stays linear.

use proptest::prelude::*;
use sandboxcore::classify;
use std::time::{Duration, Instant};

/// A plain line's argv, quoted back into a line, is plain with the same
/// argv (what bash would run is what the classifier said, either way), and
/// a line bash rejects is never plain.
fn round_trips(line: &str) -> Result<(), TestCaseError> {
    let c = classify(line);
    if let Some(argv) = c.argv() {
        let quoted = shell_words::join(argv);
        let again = classify(&quoted);
        prop_assert_eq!(again.argv(), Some(argv), "{:?} -> {:?}", line, quoted);
    }
    if c.parse_error.is_some() {
        prop_assert!(c.needs_shell && c.argv().is_none());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_string_classifies(s in "\\PC{0,200}") {
        round_trips(&s)?;
    }

    #[test]
    fn shell_soup_classifies(s in "[a-z$`'\"\\\\(){}<>|&;#~*?!\\[\\] \n\t=-]{0,120}") {
        let c = classify(&s);
        round_trips(&s)?;
        if c.parse_error.is_some() {
            prop_assert!(c.needs_shell);
            prop_assert!(c.programs.is_empty());
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for (open, close) in [
        ("$(", ")"),
        ("( ", " )"),
        ("{ ", "; }"),
        ("\"$(", ")\""),
        ("${x:-", "}"),
        ("$((", "))"),
        ("if true; then ", "; fi"),
        ("<(", ")"),
    ] {
        let cmd = format!("{}ls{}", open.repeat(100_000), close.repeat(100_000));
        let c = classify(&cmd);
        assert!(c.parse_error.is_some(), "{open}: no error");
        assert!(c.needs_shell);
    }
    // Nested `bash -c` quoting and backquotes are bounded too.
    let mut s = "rm -rf /".to_string();
    for _ in 0..12 {
        s = format!("bash -c {}", shell_words::quote(&s));
    }
    let c = classify(&s);
    // The innermost `rm -rf /` is found through all twelve shells.
    let rm = c
        .programs
        .iter()
        .find(|p| p.name.as_deref() == Some("rm"))
        .expect("rm is found");
    assert_eq!(rm.via.len(), 12, "{:?}", rm.via);
    assert_eq!(c.risk, sandboxcore::Risk::Critical);
    assert!(!c.read_only);
    let ticks = format!("{}ls{}", "`".repeat(64), "`".repeat(64));
    let _ = classify(&ticks);
}

#[test]
fn moderate_nesting_still_parses() {
    let cmd = format!("{}ls{}", "$(".repeat(50), ")".repeat(50));
    let c = classify(&cmd);
    assert_eq!(c.parse_error, None);
    // 50 programs whose names come from the substitutions, and `ls`.
    assert_eq!(c.programs.len(), 51);
    let named: Vec<_> = c
        .programs
        .iter()
        .filter_map(|p| p.name.as_deref())
        .collect();
    assert_eq!(named, ["ls"]);
}

fn time_of(cmd: &str) -> Duration {
    let start = Instant::now();
    let _ = classify(cmd);
    start.elapsed()
}

/// Doubling the input must not much more than double the time.
#[test]
fn time_is_linear_in_length() {
    let shapes = [
        "echo a; ",
        "a | ",
        "x=$(y) ",
        "\"$a\" ",
        "cat <<E\nl\nE\n",
        "ls > f ",
        "bash -c 'ls' ",
    ];
    for shape in shapes {
        let small = shape.repeat(5_000);
        let big = shape.repeat(20_000);
        let (ts, tb) = (time_of(&small), time_of(&big));
        let ratio = tb.as_secs_f64() / ts.as_secs_f64().max(1e-6);
        assert!(
            ratio < 12.0,
            "{shape:?}: 4x input took {ratio:.1}x the time"
        );
    }
}

/// Every shipped policy, and one with URL approvals, loaded once.
fn shipped_policies() -> &'static [sandboxcore::Policy] {
    static POLICIES: std::sync::OnceLock<Vec<sandboxcore::Policy>> = std::sync::OnceLock::new();
    POLICIES.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policies");
        let mut policies: Vec<sandboxcore::Policy> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                sandboxcore::Policy::load(Some(&p))
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            })
            .collect();
        assert!(policies.len() >= 4, "the shipped policies are missing");
        policies.push(
            sandboxcore::Policy::from_yaml_str(
                "require_approval:\n  - \"*://external-domain.com/*\"\n  - \"http*://*\"\n",
            )
            .unwrap(),
        );
        policies
    })
}

#[test]
fn a_multibyte_character_before_a_url_scheme_is_no_panic() {
    for p in shipped_policies() {
        for cmd in [
            "curl é://x",
            "curl aé://x.io/a",
            "wget 😀https://x",
            "git clone ü+ssh://h/r",
        ] {
            let _ = p.check(cmd);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    /// `Policy::check` with every shipped policy, on any text and on URL-ish
    /// text with non-ASCII characters around the scheme: a decision, never
    /// a panic (a panic in a binding is an exception no caller expects).
    #[test]
    fn any_text_gets_a_decision_from_every_shipped_policy(
        s in prop_oneof!["\\PC{0,120}", "(curl|wget|git clone|npm i) [a-zé€😀ß:/ .@_-]{0,60}"]
    ) {
        for p in shipped_policies() {
            let _ = p.check(&s);
        }
    }
}

/// Past the depth the classifier follows wrappers, the line is "cannot
/// judge": not plain, not read-only, high risk — never the read-only, low
/// risk line the truncated walk would otherwise give.
#[test]
fn wrappers_past_the_depth_limit_fail_closed() {
    for wrapper in ["nice", "env", "timeout 5", "sudo", "nohup"] {
        let deep = format!("{}rm -rf /", format!("{wrapper} ").repeat(150));
        let c = classify(&deep);
        assert!(c.needs_shell, "{wrapper}: plain past the limit");
        assert!(!c.read_only, "{wrapper}: read-only past the limit");
        assert!(c.risk >= sandboxcore::Risk::High, "{wrapper}: {:?}", c.risk);
        assert!(
            c.reasons
                .iter()
                .any(|r| r.code == sandboxcore::ReasonCode::TooDeep),
            "{wrapper}: {:?}",
            c.reasons
        );
        // Within the limit the inner program is still seen.
        let shallow = format!("{}rm -rf /", format!("{wrapper} ").repeat(20));
        let c = classify(&shallow);
        assert_eq!(c.risk, sandboxcore::Risk::Critical, "{wrapper}");
        assert!(!c
            .reasons
            .iter()
            .any(|r| r.code == sandboxcore::ReasonCode::TooDeep));
    }
    let argv: Vec<String> = std::iter::repeat_n("nice".to_string(), 150)
        .chain(["ls".to_string()])
        .collect();
    let c = sandboxcore::classify_argv(&argv);
    assert!(!c.read_only && c.risk >= sandboxcore::Risk::High);
}

/// The fastest of three runs.
fn best_time_of(cmd: &str) -> Duration {
    (0..3).map(|_| time_of(cmd)).min().unwrap_or_default()
}

/// A line of `unit` repeated to about `len` bytes, then `tail` (and
/// `close` as many times as `unit`).
fn shape(unit: &str, tail: &str, close: &str, len: usize) -> String {
    let n = len / (unit.len() + close.len()).max(1);
    format!("{}{tail}{}", unit.repeat(n), close.repeat(n))
}

/// The long shapes that used to cost the square of their length: nested
/// wrappers, wrappers before many arguments, `eval` and `env -S` chains,
/// `find -exec` chains. A 10 KB line classifies in under 10 ms (release
/// build; a generous bound in a debug build, where the quadratic shapes
/// took seconds).
#[test]
fn long_chains_classify_in_linear_time() {
    type Maker = Box<dyn Fn(usize) -> String>;
    let cases: Vec<(&str, Maker)> = vec![
        ("nested wrappers", Box::new(|n| shape("nice ", "ls", "", n))),
        (
            "wrappers and many arguments",
            Box::new(|n| {
                let args = n.saturating_sub(500) / 2;
                format!("{}ls {}", "nice ".repeat(95), "a ".repeat(args))
            }),
        ),
        ("eval chain", Box::new(|n| shape("eval ", "ls", "", n))),
        ("env -S chain", Box::new(|n| shape("env -S ", "ls", "", n))),
        (
            "find -exec chain",
            Box::new(|n| shape("find . -exec ", "ls", " \\;", n)),
        ),
        ("xargs chain", Box::new(|n| shape("xargs ", "ls", "", n))),
    ];
    let mut slow = Vec::new();
    for (what, make) in &cases {
        let line = make(10_000);
        assert!(
            line.len() > 9_000 && line.len() < 11_000,
            "{what}: {}",
            line.len()
        );
        let took = best_time_of(&line);
        let bound = if cfg!(debug_assertions) {
            Duration::from_millis(400)
        } else {
            Duration::from_millis(10)
        };
        if took > bound {
            slow.push(format!("{what}: 10 KB in {took:?} (bound {bound:?})"));
        }
    }
    assert!(slow.is_empty(), "{}", slow.join("\n"));
}

/// A 256 KB `find -exec` chain (which once took gigabytes) finishes quickly
/// and is not judged (too deep).
#[test]
fn a_huge_find_exec_chain_is_bounded() {
    let line = shape("find . -exec ", "rm -rf /", " \\;", 256 * 1024);
    let start = Instant::now();
    let c = classify(&line);
    let took = start.elapsed();
    let bound = Duration::from_secs(if cfg!(debug_assertions) { 5 } else { 1 });
    assert!(took < bound, "took {took:?}");
    assert!(c.needs_shell && !c.read_only);
    assert!(c.risk >= sandboxcore::Risk::High, "{:?}", c.reasons);
    // The output is small: each nested `find` reports its own words only.
    let json = serde_json::to_string(&c).unwrap();
    assert!(json.len() < 4 * line.len(), "{} bytes of JSON", json.len());
}

/// Past the depth the classifier follows, a line is never read-only, plain
/// or low risk, however the nesting is built.
#[test]
fn depth_limits_fail_closed() {
    for (what, line) in [
        ("eval", format!("{}rm -rf /", "eval ".repeat(101))),
        ("env -S", format!("{}rm -rf /", "env -S ".repeat(101))),
        (
            "find -exec",
            format!(
                "{}rm -rf /{}",
                "find . -exec ".repeat(101),
                " \\;".repeat(101)
            ),
        ),
        ("nice", format!("{}rm -rf /", "nice ".repeat(101))),
        (
            "$(...)",
            format!("{}rm -rf /{}", "echo $(".repeat(101), ")".repeat(101)),
        ),
    ] {
        let c = classify(&line);
        assert!(!c.read_only, "{what}: read-only");
        assert!(c.needs_shell, "{what}: plain");
        assert!(c.risk >= sandboxcore::Risk::High, "{what}: {:?}", c.reasons);
    }
    // A nested script that cannot be parsed is not judged either.
    let c = classify("bash -c 'ls ('");
    assert!(!c.read_only && c.needs_shell);
    assert_eq!(c.risk, sandboxcore::Risk::High);
}
