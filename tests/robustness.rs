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
    assert!(c.needs_shell || c.argv().is_some());
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
