//! The classifier never panics, never overflows the stack and stays linear.

use proptest::prelude::*;
use sandboxcore::classify;
use std::time::{Duration, Instant};

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_string_classifies(s in "\\PC{0,200}") {
        let c = classify(&s);
        prop_assert_eq!(c.needs_shell, c.argv().is_none());
    }

    #[test]
    fn shell_soup_classifies(s in "[a-z$`'\"\\\\(){}<>|&;#~*?!\\[\\] \n\t=-]{0,120}") {
        let c = classify(&s);
        prop_assert_eq!(c.needs_shell, c.argv().is_none());
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
