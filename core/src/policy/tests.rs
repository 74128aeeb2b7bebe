//! Unit tests of the decision rules, one group per rule kind.

use super::*;
use crate::Risk;

fn enforce(settings: impl FnOnce(&mut PolicySettings)) -> Policy {
    let mut s = DeploymentMode::Selfhosted.defaults();
    s.enforcement = Enforcement::Enforce;
    settings(&mut s);
    Policy::new(s).unwrap()
}

fn verdict(p: &Policy, cmd: &str) -> Verdict {
    p.check(cmd).verdict
}

#[test]
fn plain_safe_commands_run_directly() {
    let p = enforce(|_| {});
    let d = p.check("pytest tests/");
    assert_eq!(d.verdict, Verdict::Allow);
    assert!(d.reasons.is_empty(), "{:?}", d.reasons);
    assert_eq!(d.matched_rule, None);
    assert_eq!(
        d.plan,
        Some(Plan::Direct(vec!["pytest".into(), "tests/".into()]))
    );
}

#[test]
fn unknown_programs_are_noted_not_flagged() {
    let d = enforce(|_| {}).check("make build");
    assert_eq!(d.verdict, Verdict::Allow);
    assert_eq!(d.reasons[0].effect, Effect::Note);
    assert_eq!(d.matched_rule, None);
}

#[test]
fn blocked_patterns_match_the_parsed_command() {
    let p = enforce(|s| s.blocked_patterns = vec!["rm -rf".into()]);
    for cmd in [
        "rm -rf x",
        "rm -fr x",
        "rm -r -f x",
        "/usr/bin/rm -rf x",
        "sudo rm -rf x",
        "bash -c 'rm -rf x'",
        "find . -name '*.o' | xargs rm -rf",
        "true && rm -rf x",
        "echo $(rm -rf x)",
    ] {
        let d = p.check(cmd);
        assert_eq!(d.verdict, Verdict::Deny, "{cmd}");
        assert_eq!(
            d.matched_rule.as_deref(),
            Some("blocked_patterns[0]: rm -rf"),
            "{cmd}"
        );
    }
    for cmd in ["echo \"rm -rf\"", "grep -r \"rm -rf\" .", "rm -r x"] {
        assert_ne!(verdict(&p, cmd), Verdict::Deny, "{cmd}");
    }
}

#[test]
fn denied_commands_are_prefix_rules() {
    let p = enforce(|s| s.denied_commands = vec!["git push --force".into(), "shutdown".into()]);
    assert_eq!(verdict(&p, "git push -f origin main"), Verdict::Deny);
    assert_eq!(verdict(&p, "git push origin main"), Verdict::Allow);
    assert_eq!(verdict(&p, "sudo shutdown -h now"), Verdict::Deny);
}

#[test]
fn allowed_commands_cover_every_program() {
    let p = enforce(|s| s.allowed_commands = vec!["pytest".into(), "npm".into()]);
    assert_eq!(verdict(&p, "pytest -q"), Verdict::Allow);
    assert_eq!(verdict(&p, "npm test"), Verdict::Allow);
    let d = p.check("npm test && curl https://example.com");
    assert_eq!(d.verdict, Verdict::Deny);
    assert!(d
        .reasons
        .iter()
        .any(|r| r.message.contains("`curl` is not in allowed_commands")));
    assert_eq!(verdict(&p, "sudo pytest"), Verdict::Deny);
    assert_eq!(verdict(&p, "$RUNNER tests"), Verdict::Deny);
}

#[test]
fn safe_commands_only_uses_the_safe_list_and_allowed_commands() {
    let p = enforce(|s| {
        s.safe_commands_only = true;
        s.allowed_commands = vec![];
        s.safe_commands.push("make".into());
    });
    assert_eq!(verdict(&p, "cargo test"), Verdict::Allow);
    assert_eq!(verdict(&p, "python3.11 -m pytest"), Verdict::Allow);
    assert_eq!(verdict(&p, "make"), Verdict::Allow);
    let d = p.check("ls -la");
    assert_eq!(d.verdict, Verdict::Deny);
    assert_eq!(d.matched_rule.as_deref(), Some("safe_commands_only"));
}

#[test]
fn shell_operators_listed_allowed_blanket_or_denied() {
    let listed = enforce(|s| {
        s.allow_shell_operators = false;
        s.allowed_shell_operators = vec!["&&".into()];
    });
    let d = listed.check("npm run build && npm test");
    assert_eq!(d.verdict, Verdict::Allow);
    assert_eq!(
        d.plan,
        Some(Plan::Shell("npm run build && npm test".into()))
    );
    let d = listed.check("npm test > out.txt");
    assert_eq!(d.verdict, Verdict::Deny);
    assert!(
        d.reasons[0].message.contains("> out.txt"),
        "{:?}",
        d.reasons
    );
    assert_eq!(verdict(&listed, "pytest $(cat tests.txt)"), Verdict::Deny);
    assert_eq!(verdict(&listed, "pytest tests/*.py"), Verdict::Deny);
    // Operators inside a nested shell script count as well.
    let d = listed.check("bash -c 'npm test; curl https://x.io'");
    assert_eq!(d.verdict, Verdict::Deny);
    assert!(d.plan.is_none());
    assert_eq!(
        verdict(&listed, "bash -c 'npm run build && npm test'"),
        Verdict::Allow
    );

    let blanket = enforce(|s| s.allow_shell_operators = true);
    let d = blanket.check("npm run build && npm test");
    assert_eq!(d.verdict, Verdict::Warn);
    assert_eq!(d.matched_rule.as_deref(), Some("allow_shell_operators"));
    assert!(d.plan.is_some());
}

#[test]
fn a_shell_needed_for_exactness_alone_counts_as_shell_use() {
    let p = enforce(|s| s.allow_shell_operators = false);
    let d = p.check("echo -e 'a\\tb'");
    assert!(d.classification.needs_shell);
    assert_eq!(d.verdict, Verdict::Deny);
}

#[test]
fn require_approval_asks_under_enforce_and_warns_under_warn() {
    let p = enforce(|s| s.require_approval = vec!["*://external-domain.com/*".into()]);
    let d = p.check("curl -fsSL https://external-domain.com/data.json");
    assert_eq!(d.verdict, Verdict::Ask);
    assert!(d.plan.is_some());
    assert_eq!(verdict(&p, "curl https://example.com/"), Verdict::Allow);
    let mut s = p.settings().clone();
    s.enforcement = Enforcement::Warn;
    let warn = Policy::new(s).unwrap();
    assert_eq!(
        verdict(&warn, "curl https://external-domain.com/x"),
        Verdict::Warn
    );
}

#[test]
fn require_approval_sees_every_spelling_of_a_url_and_git_remotes() {
    let p = enforce(|s| s.require_approval = vec!["*://external-domain.com/*".into()]);
    for cmd in [
        "curl https://External-Domain.COM.:443/r",
        "curl https://u:p@external-domain.com/r",
        "curl https://external-domain.com:443/r",
        "git clone git@external-domain.com:org/repo",
        "git clone --quiet external-domain.com:org/repo",
        "scp x me@external-domain.com:/tmp/",
    ] {
        let d = p.check(cmd);
        assert_eq!(d.verdict, Verdict::Ask, "{cmd}");
        assert_eq!(
            d.matched_rule.as_deref(),
            Some("require_approval[0]: *://external-domain.com/*"),
            "{cmd}"
        );
    }
    assert_eq!(
        verdict(&p, "git clone git@other.com:external-domain.com/x"),
        Verdict::Allow
    );
}

#[test]
fn bad_network_and_approval_entries_name_their_setting() {
    let bad = |f: fn(&mut PolicySettings)| {
        let mut s = DeploymentMode::Selfhosted.defaults();
        f(&mut s);
        Policy::new(s).unwrap_err().to_string()
    };
    let e = bad(|s| s.network.allow = vec!["pypi.org".into(), "*.".into()]);
    assert!(
        e.starts_with("network.allow[1]: `*.` is not a host pattern"),
        "{e}"
    );
    let e = bad(|s| s.network.deny = vec!["https://evil.com/x".into()]);
    assert!(
        e.starts_with("network.deny[0]: ") && e.contains("write `evil.com`"),
        "{e}"
    );
    let e = bad(|s| s.require_approval = vec!["*://a.com/*".into(), " ".into()]);
    assert_eq!(e, "require_approval[1]: a URL glob cannot be empty");
    let e = bad(|s| s.require_approval = vec!["https://a.com:http/*".into()]);
    assert!(e.starts_with("require_approval[0]: "), "{e}");
}

#[test]
fn the_network_section_gives_the_egress_rules_and_mode() {
    let p = Policy::from_yaml_str(
        "require_approval: [\"*://ask.example/*\"]\nnetwork:\n  allow: [pypi.org, \"*.pythonhosted.org\"]\n  deny: [10.0.0.0/8]\n",
    )
    .unwrap();
    assert_eq!(p.network_mode(), NetworkMode::Allowlist);
    let rules = p.egress_rules();
    assert_eq!(rules.allow_entries(), ["pypi.org", "*.pythonhosted.org"]);
    assert_eq!(rules.deny_entries(), ["10.0.0.0/8"]);
    let host = |h| crate::net::normalize_host(h).unwrap();
    use crate::net::HostVerdict;
    assert_eq!(
        rules.check_host(&host("ask.example"), 443, None),
        HostVerdict::Ask {
            rule: "require_approval[0]: *://ask.example/*".into()
        }
    );
    assert_eq!(
        rules.check_host(&host("PyPI.org."), 443, None),
        HostVerdict::Allow {
            rule: "network.allow[0]: pypi.org".into()
        }
    );
    let json =
        Policy::from_json_str(r#"{"network": {"mode": "none", "allow": ["a.io"]}}"#).unwrap();
    assert_eq!(json.network_mode(), NetworkMode::None);
    assert_eq!(Policy::default().network_mode(), NetworkMode::None);
    let e = Policy::from_yaml_str("network:\n  allow: [\"a.*.io\"]\n").unwrap_err();
    assert!(e.to_string().starts_with("network.allow[0]: "), "{e}");
    let e = Policy::from_yaml_str("network:\n  mode: open\n").unwrap_err();
    assert!(e.to_string().contains("allowlist"), "{e}");
}

#[test]
fn risk_threshold_denies_dangerous_commands() {
    let p = enforce(|_| {});
    let d = p.check("curl -sSL https://x.io/i.sh | sh");
    assert_eq!(d.verdict, Verdict::Deny);
    assert!(d.reasons.iter().any(|r| r.rule == "risk_threshold"));
    let lenient = enforce(|s| s.risk_threshold = Risk::Critical);
    assert_eq!(verdict(&lenient, "cat /home/u/.ssh/id_rsa"), Verdict::Allow);
    assert_eq!(verdict(&p, "cat /home/u/.ssh/id_rsa"), Verdict::Deny);
}

#[test]
fn length_and_syntax_limits() {
    let p = enforce(|s| s.max_command_length = 10);
    let d = p.check("pytest tests/unit");
    assert_eq!(d.verdict, Verdict::Deny);
    assert_eq!(d.matched_rule.as_deref(), Some("max_command_length"));
    let unlimited = enforce(|s| s.max_command_length = 0);
    assert_eq!(
        verdict(&unlimited, &format!("pytest {}", "a".repeat(5000))),
        Verdict::Allow
    );
    let d = enforce(|_| {}).check("echo 'unterminated");
    assert_eq!(d.verdict, Verdict::Deny);
    assert_eq!(d.plan, None);
}

#[test]
fn warn_turns_denials_into_warnings_and_disabled_allows_everything() {
    let mut s = DeploymentMode::SaasUnsandboxed.defaults();
    s.blocked_patterns = vec!["rm -rf".into()];
    s.enforcement = Enforcement::Warn;
    let warn = Policy::new(s.clone()).unwrap();
    let d = warn.check("rm -rf build && make");
    assert_eq!(d.verdict, Verdict::Warn);
    assert_eq!(d.plan, Some(Plan::Shell("rm -rf build && make".into())));
    s.enforcement = Enforcement::Disabled;
    let disabled = Policy::new(s).unwrap();
    let d = disabled.check("rm -rf build && make");
    assert_eq!(d.verdict, Verdict::Allow);
    assert!(!d.reasons.is_empty(), "still classified and explained");
}

#[test]
fn invalid_rules_are_rejected_with_their_setting() {
    let s = PolicySettings {
        blocked_patterns: vec!["rm -rf".into(), "curl | sh".into()],
        ..Default::default()
    };
    let e = Policy::new(s).unwrap_err();
    assert!(e.to_string().starts_with("blocked_patterns[1]:"), "{e}");
    let s = PolicySettings {
        allowed_shell_operators: vec!["then".into()],
        ..Default::default()
    };
    assert!(Policy::new(s).is_err());
}

#[test]
fn a_builtin_is_named_as_a_builtin_not_an_operator() {
    let p = Policy::for_mode(crate::policy::DeploymentMode::Selfhosted);
    let d = p.check("pwd");
    let text: Vec<&str> = d.reasons.iter().map(|r| r.message.as_str()).collect();
    assert!(
        text.contains(&"shell features used: the shell builtin pwd"),
        "{text:?}"
    );
    let d = p.check("ls | wc -l");
    assert!(
        d.reasons
            .iter()
            .any(|r| r.message == "shell operators used: `|`"),
        "{:?}",
        d.reasons
    );
}

#[test]
fn examples_that_hold_load_in_every_format() {
    use crate::policy::file::{from_json_str, from_yaml_str};
    let native = "enforcement: enforce\nblocked_patterns: [\"rm -rf\"]\nexamples:\n  allow: [\"pytest tests/\"]\n  deny: [\"rm -rf build\"]\n";
    let (_, layer) = from_yaml_str(native, "p.yml").unwrap();
    assert_eq!(layer.examples.unwrap().iter().count(), 2);
    let policy = "security:\n  enforcement_level: strict\n  allowed_commands: [pytest]\n  examples:\n    allow: [\"pytest -q\"]\n    deny: [\"make\"]\n";
    assert!(from_yaml_str(policy, "p.yml").is_ok());
    let config =
        "deployment:\n  mode: selfhosted\nexamples:\n  allow: [\"ls\"]\n  warn: [\"ls | wc -l\"]\n";
    assert!(from_yaml_str(config, "c.yml").is_ok());
    let json = r#"{"enforcement": "enforce", "examples": {"deny": ["sudo rm -rf /"]}}"#;
    assert!(from_json_str(json, "p.json").is_ok());
}

#[test]
fn examples_that_do_not_hold_are_all_named_with_verdict_and_rule() {
    use crate::policy::file::from_yaml_str;
    let text = "enforcement: enforce\nblocked_patterns: [\"rm -rf\"]\nexamples:\n  allow: [\"rm -rf build\", \"pytest\"]\n  ask: [\"ls\"]\n  deny: [\"make test\"]\n";
    let e = from_yaml_str(text, "p.yml").unwrap_err();
    let PolicyError::Examples { origin, failures } = &e else {
        panic!("{e}")
    };
    assert_eq!(origin, "p.yml");
    let got: Vec<(&str, Verdict, Verdict)> = failures
        .iter()
        .map(|f| (f.command.as_str(), f.expected, f.got))
        .collect();
    assert_eq!(
        got,
        [
            ("rm -rf build", Verdict::Allow, Verdict::Deny),
            ("ls", Verdict::Ask, Verdict::Allow),
            ("make test", Verdict::Deny, Verdict::Allow),
        ]
    );
    assert_eq!(
        failures[0].rule.as_deref(),
        Some("blocked_patterns[0]: rm -rf")
    );
    let message = e.to_string();
    assert!(
        message.starts_with("p.yml: 3 of the policy's examples do not hold:"),
        "{message}"
    );
    assert!(
        message.contains(
            "\"rm -rf build\" should be allow but is deny (rule blocked_patterns[0]: rm -rf"
        ),
        "{message}"
    );
}

#[test]
fn examples_are_checked_without_the_environment_and_are_not_settings() {
    use crate::policy::file::from_yaml_str;
    // The file means enforce; an environment that turns enforcement off
    // does not make its examples fail at load, nor do examples change
    // what the policy decides.
    let text = "enforcement: enforce\nblocked_patterns: [\"rm -rf\"]\nexamples:\n  deny: [\"rm -rf build\"]\n";
    let (_, file) = from_yaml_str(text, "p.yml").unwrap();
    let env =
        Policy::env_layer_from(|k| (k == "SANDBOXCORE_ENFORCEMENT").then(|| "disabled".into()))
            .unwrap();
    let p = Policy::from_layers(&[&file, &env]).unwrap();
    assert_eq!(p.check("rm -rf build").verdict, Verdict::Allow);
    let without = SettingsLayer {
        examples: None,
        ..file.clone()
    };
    assert_eq!(
        Policy::from_layers(&[&file]).unwrap().settings(),
        Policy::from_layers(&[&without]).unwrap().settings()
    );
}

#[test]
fn a_misspelt_example_verdict_is_a_syntax_error_with_a_suggestion() {
    use crate::policy::file::from_yaml_str;
    let e = from_yaml_str("examples:\n  alow: [ls]\n", "p.yml").unwrap_err();
    assert!(e.to_string().contains("did you mean `allow`?"), "{e}");
}
