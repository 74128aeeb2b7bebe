//! Policy layers: the strictest layer wins in every direction.

use super::*;
use crate::net::{normalize_host, HostVerdict};

fn layer(yaml: &str) -> SettingsLayer {
    file::from_yaml_str(yaml, "<test>").unwrap().1
}

fn stacked(layers: &[(&str, &str)]) -> Policy {
    let read: Vec<(&str, SettingsLayer)> = layers.iter().map(|(n, y)| (*n, layer(y))).collect();
    let refs: Vec<(&str, &SettingsLayer)> = read.iter().map(|(n, l)| (*n, l)).collect();
    Policy::from_named_settings(&refs, &[]).unwrap()
}

const USER: &str = "enforcement: enforce
blocked_patterns: [\"rm -rf\"]
allowed_commands: [pytest, npm, git, ls, echo, rm]
allowed_shell_operators: [\"&&\"]
max_command_length: 100
network: {mode: allowlist, allow: [pypi.org, \"*.pythonhosted.org\", github.com], deny: [evil.pythonhosted.org]}
";

#[test]
fn a_workspace_cannot_widen_the_user_layer() {
    // Everything a hostile workspace file could say to open things up.
    let workspace = "mode: development
enforcement: disabled
allowed_commands: [rm, curl, bash]
safe_commands_only: false
allow_shell_operators: true
risk_threshold: critical
max_command_length: 0
network: {mode: full, allow: [\"*\", 0.0.0.0/0]}
filesystem: {writable: [/, \"~\", ../.., build]}
";
    let p = stacked(&[("user", USER), ("workspace", workspace)]);
    let d = p.check("rm -rf build");
    assert_eq!(d.verdict, Verdict::Deny);
    assert_eq!(
        d.matched_rule.as_deref(),
        Some("user: blocked_patterns[0]: rm -rf")
    );
    assert_eq!(p.check("curl https://x.org").verdict, Verdict::Deny);
    assert_eq!(
        p.check("curl https://x.org").matched_rule.as_deref(),
        Some("user: allowed_commands")
    );
    assert_eq!(p.check("ls | wc -l").verdict, Verdict::Deny);
    assert_eq!(
        p.check(&format!("echo {}", "a".repeat(200))).verdict,
        Verdict::Deny
    );
    assert_eq!(p.check("pytest -q && npm test").verdict, Verdict::Allow);

    // Network: the user's allowlist still decides.
    assert_eq!(p.network_mode(), NetworkMode::Allowlist);
    let rules = p.egress_rules();
    let check = |h: &str| rules.check_host(&normalize_host(h).unwrap(), 443, None);
    assert_eq!(check("example.com"), HostVerdict::NotAllowed);
    assert_eq!(
        check("pypi.org"),
        HostVerdict::Allow {
            rule: "user: network.allow[0]: pypi.org".into()
        }
    );
    assert_eq!(
        rules.check_address("10.1.2.3".parse().unwrap(), 443),
        crate::net::AddressVerdict::Unlisted
    );

    // Filesystem: only the workspace-relative path is added.
    assert_eq!(p.settings().filesystem.writable, ["build"]);
    let ignored = &p.layers()[1].ignored_writable;
    assert_eq!(ignored, &["/", "~", "../.."]);
    assert_eq!(p.warnings().len(), 3);
    assert!(
        p.warnings()[0].starts_with("policy layer `workspace`: filesystem.writable[0] `/` ignored"),
        "{:?}",
        p.warnings()
    );

    // The summary settings are the strictest.
    let s = p.settings();
    assert_eq!(s.enforcement, Enforcement::Enforce);
    assert_eq!(s.max_command_length, 100);
    assert!(!s.allow_shell_operators);
    assert_eq!(s.risk_threshold, crate::Risk::High);
    assert_eq!(s.mode, DeploymentMode::Selfhosted);
}

#[test]
fn a_workspace_can_tighten_and_its_reasons_name_it() {
    let workspace = "enforcement: enforce
blocked_patterns: [\"git push\"]
require_approval: [\"*://github.com/*\"]
network: {allow: [pypi.org], deny: [files.pythonhosted.org]}
";
    let p = stacked(&[("user", USER), ("workspace", workspace)]);
    let d = p.check("git push origin main");
    assert_eq!(d.verdict, Verdict::Deny);
    assert_eq!(
        d.matched_rule.as_deref(),
        Some("workspace: blocked_patterns[0]: git push")
    );
    assert_eq!(d.plan, None);
    assert!(d
        .reasons
        .iter()
        .all(|r| r.rule.starts_with("user: ") || r.rule.starts_with("workspace: ")));
    let d = p.check("git clone https://github.com/a/b");
    assert_eq!(d.verdict, Verdict::Ask);
    assert_eq!(
        d.matched_rule.as_deref(),
        Some("workspace: require_approval[0]: *://github.com/*")
    );
    assert!(d.plan.is_some());

    // Hosts: both allowlists must allow; both deny lists deny.
    let rules = p.egress_rules();
    let check = |h: &str| rules.check_host(&normalize_host(h).unwrap(), 443, None);
    assert!(matches!(check("pypi.org"), HostVerdict::Allow { .. }));
    assert_eq!(check("x.pythonhosted.org"), HostVerdict::NotAllowed);
    assert_eq!(
        check("files.pythonhosted.org"),
        HostVerdict::Deny {
            rule: "workspace: network.deny[0]: files.pythonhosted.org".into()
        }
    );
    assert_eq!(
        check("evil.pythonhosted.org"),
        HostVerdict::Deny {
            rule: "user: network.deny[0]: evil.pythonhosted.org".into()
        }
    );
    assert_eq!(
        check("github.com"),
        HostVerdict::Ask {
            rule: "workspace: require_approval[0]: *://github.com/*".into()
        }
    );
    // A run's own hosts are added to every layer's allowlist.
    let mut with_run = p.egress_rules();
    with_run.merge(EgressRules::new(&["example.com".into()], &[], &[]).unwrap());
    assert!(matches!(
        with_run.check_host(&normalize_host("example.com").unwrap(), 443, None),
        HostVerdict::Allow { .. }
    ));
}

#[test]
fn the_strictest_verdict_wins_whatever_the_order() {
    // Four quite different policies: every pair, both orders, over a
    // corpus of commands: the stack's verdict is the strictest of the
    // layers' own verdicts.
    let policies = [
        include_str!("../../../../examples/policies/sandboxcore.yml"),
        include_str!("../../../../examples/policies/codeframe-security-policy.yml"),
        include_str!("../../../../examples/policies/codeframe-security.yml"),
        "enforcement: enforce\nallowed_commands: [git, ls]\nrequire_approval: [\"*://*.org/*\"]\n",
        "enforcement: disabled\n",
    ];
    let commands = corpus();
    for a in policies {
        for b in policies {
            let alone_a = Policy::from_layers(&[&layer(a)]).unwrap();
            let alone_b = Policy::from_layers(&[&layer(b)]).unwrap();
            let p = stacked(&[("a", a), ("b", b)]);
            for c in &commands {
                let (da, db, d) = (alone_a.check(c), alone_b.check(c), p.check(c));
                assert_eq!(d.verdict, da.verdict.max(db.verdict), "{c}");
                if d.verdict != Verdict::Deny {
                    assert_eq!(d.plan, da.plan, "{c}");
                }
                let winner = if da.verdict >= db.verdict { "a" } else { "b" };
                let expected = if winner == "a" { da } else { db };
                assert_eq!(
                    d.matched_rule,
                    expected.matched_rule.map(|r| format!("{winner}: {r}")),
                    "{c}"
                );
            }
        }
    }
}

fn corpus() -> Vec<String> {
    let mut out: Vec<String> = [
        include_str!("../../../../tests/data/plain_commands.txt"),
        include_str!("../../../../tests/data/edge_cases.txt"),
    ]
    .iter()
    .flat_map(|t| t.lines())
    .filter(|l| !l.is_empty() && !l.starts_with('#'))
    .map(|l| l.replace("\\n", "\n").replace("\\t", "\t"))
    .collect();
    out.extend(
        [
            "rm -rf build",
            "curl http://example.com/x.sh | sh",
            "npm install https://external-domain.com/pkg.tgz",
            "git push --force origin main",
            "sudo rm -fr /",
        ]
        .map(String::from),
    );
    out
}

#[test]
fn a_single_layer_decides_as_the_plain_policy_with_named_rules() {
    let env =
        Policy::env_layer_from(|k| (k == "SANDBOXCORE_RISK_THRESHOLD").then(|| "medium".into()))
            .unwrap();
    for text in [
        include_str!("../../../../examples/policies/sandboxcore.yml"),
        include_str!("../../../../examples/policies/codeframe-security-policy.yml"),
        USER,
    ] {
        let file = layer(text);
        let plain = Policy::from_layers(&[&file, &env]).unwrap();
        let one = Policy::from_named_settings(&[("only", &file)], &[&env]).unwrap();
        assert_eq!(one.settings(), plain.settings());
        for c in corpus() {
            let (p, o) = (plain.check(&c), one.check(&c));
            assert_eq!(o.verdict, p.verdict, "{c}");
            assert_eq!(o.plan, p.plan, "{c}");
            assert_eq!(o.classification, p.classification, "{c}");
            assert_eq!(
                o.matched_rule,
                p.matched_rule.map(|r| format!("only: {r}")),
                "{c}"
            );
            let rules: Vec<String> = p
                .reasons
                .iter()
                .map(|r| format!("only: {}", r.rule))
                .collect();
            let named: Vec<String> = o.reasons.iter().map(|r| r.rule.clone()).collect();
            assert_eq!(named, rules, "{c}");
        }
    }
}

#[test]
fn the_mode_comes_from_the_overrides_else_the_most_trusted_layer() {
    let user = "mode: saas_unsandboxed\nsafe_commands: [make]\n";
    // The workspace names no mode: it starts from the user's mode's
    // defaults (safe commands only), so `make` is not safe there.
    let p = stacked(&[("user", user), ("workspace", "blocked_patterns: [wget]\n")]);
    assert_eq!(p.settings().mode, DeploymentMode::SaasUnsandboxed);
    let d = p.check("make test");
    assert_eq!(d.verdict, Verdict::Deny);
    assert_eq!(
        d.matched_rule.as_deref(),
        Some("workspace: safe_commands_only")
    );
    // A workspace's own `mode: development` changes only its own layer.
    let p = stacked(&[("user", user), ("workspace", "mode: development\n")]);
    assert_eq!(p.check("ls | sh").verdict, Verdict::Deny);
    assert_eq!(p.settings().mode, DeploymentMode::SaasUnsandboxed);
    let p = stacked(&[
        ("user", "blocked_patterns: [wget]\n"),
        ("workspace", "mode: development\n"),
    ]);
    assert_eq!(p.settings().mode, DeploymentMode::Selfhosted);
    assert_eq!(p.check("wget x").verdict, Verdict::Warn);
    // Overrides (environment, --mode) apply to every layer.
    let flag = SettingsLayer {
        mode: Some(DeploymentMode::Development),
        ..SettingsLayer::default()
    };
    let (u, w) = (layer(USER), layer("enforcement: enforce\n"));
    let p = Policy::from_named_settings(&[("user", &u), ("workspace", &w)], &[&flag]).unwrap();
    assert_eq!(p.settings().mode, DeploymentMode::Development);
    let env = Policy::env_layer_from(|k| (k == "SANDBOXCORE_ENFORCEMENT").then(|| "warn".into()))
        .unwrap();
    let p = Policy::from_named_settings(&[("user", &u), ("workspace", &w)], &[&env]).unwrap();
    assert_eq!(p.check("rm -rf x").verdict, Verdict::Warn);
}

#[test]
fn network_modes_combine_at_their_strictest() {
    let mode = |a: &str, b: &str| stacked(&[("a", a), ("b", b)]).network_mode();
    assert_eq!(mode("network: {mode: full}", ""), NetworkMode::Full);
    assert_eq!(
        mode("network: {mode: full}", "network: {mode: none}"),
        NetworkMode::None
    );
    assert_eq!(
        mode("network: {mode: full}", "network: {allow: [a.com]}"),
        NetworkMode::Allowlist
    );
    assert_eq!(
        mode("network: {mode: none}", "network: {mode: full}"),
        NetworkMode::None
    );
    let p = stacked(&[("a", ""), ("b", "")]);
    assert_eq!(p.settings().network.mode, None);
    // An allowlist with no entries allows nothing, even below a full layer.
    let p = stacked(&[
        ("a", "network: {mode: full, allow: [a.com]}"),
        ("b", "network: {mode: allowlist}"),
    ]);
    assert_eq!(
        p.egress_rules()
            .check_host(&normalize_host("a.com").unwrap(), 443, None),
        HostVerdict::NotAllowed
    );
    // A layer without a network section still adds its deny entries.
    let p = stacked(&[
        ("a", "network: {allow: [a.com, b.com]}"),
        ("b", "network: {deny: [b.com]}"),
    ]);
    assert_eq!(p.network_mode(), NetworkMode::Allowlist);
    assert_eq!(p.settings().network.deny, ["b.com"]);
    assert!(matches!(
        p.egress_rules()
            .check_host(&normalize_host("b.com").unwrap(), 443, None),
        HostVerdict::Deny { .. }
    ));
}

#[test]
fn filesystem_lists_combine() {
    let p = stacked(&[
        (
            "system",
            "filesystem: {writable: [/srv/cache], deny_read: [/srv/secrets]}",
        ),
        (
            "user",
            "filesystem: {writable: [\"~/.cache/pip\", out/./x], deny_read: [\"~/.aws\"]}",
        ),
    ]);
    let fs = &p.settings().filesystem;
    assert_eq!(fs.writable, ["/srv/cache", "out/./x"]);
    assert_eq!(fs.deny_read, ["/srv/secrets", "~/.aws"]);
    assert_eq!(p.layers()[1].ignored_writable, ["~/.cache/pip"]);
    assert!(inside_workspace("build/out"));
    assert!(inside_workspace("."));
    for outside in ["/tmp", "~/x", "~", "a/../../b", ".."] {
        assert!(!inside_workspace(outside), "{outside}");
    }
}

#[test]
fn run_environment_reasons_count_under_the_strictest_layer() {
    let env: std::collections::BTreeMap<String, String> =
        [("LD_PRELOAD".to_string(), "/x.so".to_string())].into();
    let p = stacked(&[
        ("user", "enforcement: warn\n"),
        ("workspace", "enforcement: enforce\n"),
    ]);
    let d = p.with_run_env(p.check("pytest"), &env);
    assert_eq!(d.verdict, Verdict::Ask);
    assert_eq!(d.matched_rule.as_deref(), Some("run_env"));
    let p = stacked(&[
        ("user", "enforcement: disabled\n"),
        ("workspace", "mode: development\n"),
    ]);
    assert_eq!(
        p.with_run_env(p.check("pytest"), &env).verdict,
        Verdict::Allow
    );
    // A stronger verdict is kept with its rule.
    let p = stacked(&[("user", USER)]);
    let d = p.with_run_env(p.check("rm -rf x"), &env);
    assert_eq!(d.verdict, Verdict::Deny);
    assert_eq!(
        d.matched_rule.as_deref(),
        Some("user: blocked_patterns[0]: rm -rf")
    );
    assert!(d.reasons.iter().any(|r| r.rule == "run_env"));
}

#[test]
fn errors_name_the_layer_and_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yml");
    let bad = dir.path().join("bad.yml");
    std::fs::write(&good, "enforcement: enforce\n").unwrap();
    std::fs::write(&bad, "blocked_patterns: [\"a | b\"]\n").unwrap();
    let e = Policy::from_named_layers_with(
        &[
            PolicyLayerSource::new("user", &good),
            PolicyLayerSource::new("workspace", &bad),
        ],
        &[],
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "policy layer `workspace` ({}): blocked_patterns[0]: ",
            bad.display()
        )),
        "{text}"
    );
    std::fs::write(&bad, "enforcment: warn\n").unwrap();
    let e = Policy::from_named_layers_with(&[PolicyLayerSource::new("user", &bad)], &[])
        .unwrap_err()
        .to_string();
    // The file is named once, with its place.
    assert!(
        e.starts_with(&format!("policy layer `user`: {}:1:1: ", bad.display())),
        "{e}"
    );
    let missing = dir.path().join("missing.yml");
    let e = Policy::from_named_layers_with(&[PolicyLayerSource::new("system", &missing)], &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("policy layer `system`: cannot read policy file"),
        "{e}"
    );
    // Each file's examples are checked against that file alone.
    std::fs::write(&bad, "examples: {deny: [\"rm -rf x\"]}\n").unwrap();
    let e = Policy::from_named_layers_with(
        &[
            PolicyLayerSource::new("user", &good),
            PolicyLayerSource::new("workspace", &bad),
        ],
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("\"rm -rf x\" should be deny but is allow"),
        "{e}"
    );
}

#[test]
fn standard_locations_follow_xdg() {
    let ws = Path::new("/w");
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    let paths = |s: Vec<PolicyLayerSource>| {
        s.into_iter()
            .map(|s| format!("{}={}", s.name, s.path.display()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        paths(standard_layer_sources(ws, env(&[("HOME", "/home/a")]))),
        [
            "system=/etc/sandboxcore/policy.yml",
            "user=/home/a/.config/sandboxcore/policy.yml",
            "workspace=/w/.sandboxcore/policy.yml"
        ]
    );
    assert_eq!(
        paths(standard_layer_sources(
            ws,
            env(&[("HOME", "/home/a"), ("XDG_CONFIG_HOME", "/cfg")])
        ))[1],
        "user=/cfg/sandboxcore/policy.yml"
    );
    // A relative XDG_CONFIG_HOME is ignored, as the specification says.
    assert_eq!(
        paths(standard_layer_sources(
            ws,
            env(&[("HOME", "/home/a"), ("XDG_CONFIG_HOME", "cfg")])
        ))[1],
        "user=/home/a/.config/sandboxcore/policy.yml"
    );
    assert_eq!(standard_layer_sources(ws, env(&[])).len(), 2);
}

#[test]
fn no_layer_is_the_plain_policy() {
    let p = Policy::from_named_settings(&[], &[]).unwrap();
    assert!(p.layers().is_empty());
    assert_eq!(p.settings(), Policy::default().settings());
}

#[test]
fn addresses_must_be_allowed_by_every_allowlist() {
    use crate::net::AddressVerdict;
    let p = stacked(&[
        ("user", "network: {allow: [10.0.0.0/8, pypi.org]}"),
        (
            "workspace",
            "network: {allow: [10.1.0.0/16, pypi.org], deny: [10.1.2.0/24]}",
        ),
    ]);
    let rules = p.egress_rules();
    let at = |ip: &str| rules.check_address(ip.parse().unwrap(), 443);
    assert_eq!(
        at("10.1.0.1"),
        AddressVerdict::Allowed {
            rule: "user: network.allow[0]: 10.0.0.0/8".into()
        }
    );
    assert_eq!(at("10.2.0.1"), AddressVerdict::Unlisted);
    assert_eq!(
        at("10.1.2.3"),
        AddressVerdict::Deny {
            rule: "workspace: network.deny[0]: 10.1.2.0/24".into()
        }
    );
    assert_eq!(p.settings().network.allow, ["10.0.0.0/8", "pypi.org"]);
}

#[test]
fn an_approval_reaches_every_layer_and_deny_rules_still_win() {
    let user = "enforcement: enforce\nallowed_commands: [ls]\n";
    let workspace =
        "enforcement: enforce\nallowed_commands: [ls]\nblocked_patterns: [\"cargo publish\"]\n";
    let p = stacked(&[("user", user), ("workspace", workspace)]);
    let asked = p.check("cargo build --release");
    assert_eq!(asked.verdict, Verdict::Deny, "{asked:?}");
    let rule = asked.proposed_rule.expect("a rule is proposed");
    let approved = p.with_approved(&rule).unwrap();
    assert_eq!(approved.layers().len(), 2);
    assert_eq!(
        approved.check("cargo build --release").verdict,
        Verdict::Allow
    );
    // The approval is for `cargo build`, not for what a layer blocks.
    assert_eq!(approved.check("cargo publish").verdict, Verdict::Deny);
    // The summary lists the approved entries once more.
    assert_eq!(
        approved.settings().approved_commands.len(),
        p.settings().approved_commands.len() + rule.rules.len()
    );
}

#[test]
fn a_workspace_layer_is_never_the_most_trusted() {
    // Only the workspace file exists (no system or user file): the
    // command it guards may have written it, so it cannot widen the
    // mode's defaults, which stand above it as the layer `defaults`.
    let p = stacked(&[(
        "workspace",
        "mode: development\nenforcement: disabled\n\
         filesystem: {writable: [/etc, build]}\nnetwork: {mode: full}",
    )]);
    let names: Vec<&str> = p.layers().iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, [DEFAULTS_LAYER, WORKSPACE_LAYER]);
    assert_eq!(p.settings().filesystem.writable, ["build"]);
    assert_eq!(p.layers()[1].ignored_writable, ["/etc"]);
    assert!(
        p.warnings()[0].contains("`/etc` ignored"),
        "{:?}",
        p.warnings()
    );
    assert_eq!(p.settings().network.mode, None);
    // Its `enforcement: disabled` and `mode: development` decide its own
    // verdict only: the defaults still decide as without the file.
    let d = p.check("rm -rf /");
    let plain = Policy::for_mode(DeploymentMode::default()).check("rm -rf /");
    assert_ne!(plain.verdict, Verdict::Allow);
    assert_eq!(d.verdict, plain.verdict, "{d:?}");
    assert_eq!(p.settings().mode, DeploymentMode::default());
    assert!(
        d.matched_rule
            .as_deref()
            .unwrap_or("")
            .starts_with("defaults: "),
        "{d:?}"
    );
    // Below another layer it stays where it is.
    let p = stacked(&[("user", ""), ("workspace", "")]);
    let names: Vec<&str> = p.layers().iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["user", WORKSPACE_LAYER]);
}

#[test]
fn a_workspace_layer_never_grants_network() {
    let mode = |a: &str, b: &str| {
        stacked(&[("user", a), ("workspace", b)])
            .settings()
            .network
            .mode
    };
    // No trusted layer sets a mode (each run gets what it asks for): a
    // workspace's `full` or allow list would give network to runs that
    // asked for none, so it counts only to take network away.
    assert_eq!(mode("", "network: {mode: full}"), None);
    assert_eq!(mode("", "network: {allow: [pypi.org]}"), None);
    assert_eq!(mode("", "network: {mode: none}"), Some(NetworkMode::None));
    // Below a trusted mode it narrows, never widens.
    assert_eq!(
        mode("network: {allow: [pypi.org]}", "network: {mode: full}"),
        Some(NetworkMode::Allowlist)
    );
    assert_eq!(
        mode("network: {mode: full}", "network: {mode: none}"),
        Some(NetworkMode::None)
    );
    // A host the trusted layer does not allow stays unreachable.
    let p = stacked(&[
        ("user", "network: {allow: [pypi.org]}"),
        ("workspace", "network: {mode: full, allow: [\"*\"]}"),
    ]);
    let check = |h: &str| {
        p.egress_rules()
            .check_host(&normalize_host(h).unwrap(), 443, None)
    };
    assert!(matches!(check("pypi.org"), HostVerdict::Allow { .. }));
    assert_eq!(check("evil.example"), HostVerdict::NotAllowed);
    // Trusted layers combine as before: the administrator's file says
    // nothing of the network, the user's grants it.
    let p = stacked(&[
        ("system", "blocked_patterns: [x]"),
        ("user", "network: {mode: full}"),
    ]);
    assert_eq!(p.settings().network.mode, Some(NetworkMode::Full));
}
