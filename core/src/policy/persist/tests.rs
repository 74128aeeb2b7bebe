use super::*;
use crate::policy::{Policy, Verdict};

/// Writes `text` as `name` in a scratch directory, asks `policy(text)`
/// about `command`, persists the proposal and checks: the new file is the
/// old one with one block inserted (every other byte kept), it re-loads to
/// the old layer plus the rule, and the command is now allowed.
fn round_trip(name: &str, text: &str, command: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    let (format, old) = Policy::read_layer(&path).unwrap();
    let policy = Policy::from_layers(&[&old]).unwrap();
    let d = policy.check(command);
    assert!(
        matches!(d.verdict, Verdict::Ask | Verdict::Deny),
        "{command}: {:?}",
        d.verdict
    );
    let rule = d.proposed_rule.expect("a proposal");
    persist_approval(&path, &rule).unwrap();
    let new = std::fs::read_to_string(&path).unwrap();
    let prefix = text
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = text[prefix..]
        .bytes()
        .rev()
        .zip(new[prefix..].bytes().rev())
        .take_while(|(a, b)| a == b)
        .count();
    assert_eq!(prefix + suffix, text.len(), "not one insertion:\n{new}");
    let (new_format, layer) = Policy::read_layer(&path).unwrap();
    assert_eq!(new_format, format);
    let mut expected = old;
    expected
        .approved_commands
        .get_or_insert_with(Vec::new)
        .extend(rule.rules.iter().cloned());
    assert_eq!(layer, expected);
    let after = Policy::from_layers(&[&layer]).unwrap().check(command);
    assert!(after.is_allowed(), "{command}: {after:?}\n{new}");
    assert!(after.proposed_rule.is_none());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    new
}

const NATIVE: &str = "# Our policy.
enforcement: enforce   # deny what is not listed
allowed_commands:
  - pytest   # the tests
  - git status
require_approval:
  - \"*://external-domain.com/*\"
# trailing comment
";

#[test]
fn native_yaml_keeps_its_comments_and_gains_a_commented_block() {
    let new = round_trip("p.yml", NATIVE, "npm run build");
    assert!(new.starts_with(NATIVE));
    assert!(new.contains("approved_commands:\n  # approved "), "{new}");
    assert!(
        new.contains("for: npm run build\n  - rule: \"npm run build\"\n"),
        "{new}"
    );
    // The same approval again changes nothing.
    let dir = tempfile::tempdir().unwrap();
    let again = dir.path().join("p.yml");
    std::fs::write(&again, &new).unwrap();
    let rule = Policy::from_yaml_str(NATIVE)
        .unwrap()
        .check("npm run build")
        .proposed_rule
        .unwrap();
    persist_approval(&again, &rule).unwrap();
    assert_eq!(std::fs::read_to_string(&again).unwrap(), new);
    // A second approval goes into the same list.
    let new2 = round_trip("p.yml", &new, "git push origin main");
    assert_eq!(new2.matches("approved_commands:").count(), 1, "{new2}");
    let p = Policy::from_yaml_str(&new2).unwrap();
    assert!(p.check("git push origin feature").is_allowed());
    assert!(!p.check("git push origin feature --force").is_allowed());
    assert!(!p.check("git push origin +feature").is_allowed());
}

#[test]
fn an_empty_flow_list_becomes_a_block_and_a_full_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yml");
    let text =
        "enforcement: enforce\nallowed_commands: [pytest]\napproved_commands: []  # none yet\n";
    std::fs::write(&path, text).unwrap();
    let rule = Policy::from_yaml_str(text)
        .unwrap()
        .check("npm test")
        .proposed_rule
        .unwrap();
    persist_approval(&path, &rule).unwrap();
    let p = Policy::load(Some(&path)).unwrap();
    assert!(p.check("npm test").is_allowed());

    let flow = "enforcement: enforce\nallowed_commands: [pytest]\napproved_commands: [{rule: x}]\n";
    std::fs::write(&path, flow).unwrap();
    let e = persist_approval(&path, &rule).unwrap_err();
    assert!(e.to_string().contains("flow list"), "{e}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), flow);
}

const CODEFRAME_POLICY: &str = r#"# .codeframe/security-policy.yml
security:
  enforcement_level: strict  # warn, strict, disabled

  allowed_commands:
    - pytest
    - npm

  allowed_shell_operators:
    - "&&"  # Allow build && test workflows

  require_approval:
    - "*://external-domain.com/*"

# Reviewed by the security team.
"#;

#[test]
fn codeframe_policy_yaml_gets_the_list_inside_its_security_section() {
    let new = round_trip(
        "security-policy.yml",
        CODEFRAME_POLICY,
        "curl -s https://external-domain.com/api",
    );
    assert!(
        new.ends_with("\n\n# Reviewed by the security team.\n"),
        "{new}"
    );
    assert!(
        new.contains("\n  approved_commands:\n    # approved "),
        "{new}"
    );
    // A second one is added to that list.
    let new2 = round_trip("security-policy.yml", &new, "git log");
    assert_eq!(new2.matches("approved_commands:").count(), 1, "{new2}");
}

const CODEFRAME_CONFIG: &str = "# config/security.yml
deployment:
  mode: saas_unsandboxed
  security_policy:
    command_validation: enforce  # warn, enforce, disabled
    allow_shell_operators: false
    safe_commands_only: true
";

#[test]
fn codeframe_config_yaml_gets_a_top_level_list() {
    let new = round_trip("security.yml", CODEFRAME_CONFIG, "git status");
    assert!(new.starts_with(CODEFRAME_CONFIG));
    assert!(new.contains("\napproved_commands:\n  # approved"), "{new}");
}

#[test]
fn json_files_keep_their_key_order_and_layout() {
    let native = "{\n  \"enforcement\": \"enforce\",\n  \"allowed_commands\": [\"pytest\"],\n  \"max_command_length\": 500\n}\n";
    let new = round_trip("p.json", native, "npm run build");
    let keys: Vec<String> = serde_json::from_str::<serde_json::Value>(&new)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys.len(), 4);
    assert!(new.find("max_command_length").unwrap() < new.find(KEY).unwrap());
    // Into the existing array.
    let new2 = round_trip("p.json", &new, "git push origin main");
    assert_eq!(new2.matches(KEY).count(), 1);

    let codeframe = r#"{"security": {"enforcement_level": "strict", "allowed_commands": ["pytest"]}, "x_note": 1}"#;
    // Unknown top-level keys are errors; without the note:
    let codeframe = codeframe.replace(", \"x_note\": 1", "");
    let new = round_trip("security-policy.json", &codeframe, "make build");
    let v: serde_json::Value = serde_json::from_str(&new).unwrap();
    assert!(v["security"][KEY].is_array(), "{new}");
    let empty = round_trip(
        "p.json",
        "{\"enforcement\": \"enforce\", \"allowed_commands\": [\"x\"], \"approved_commands\": []}",
        "ls -l",
    );
    assert!(empty.contains("\"approved_commands\": [\n"), "{empty}");
}

#[test]
fn a_failing_edit_leaves_the_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yml");
    // The examples say `npm test` is denied: approving it would break them.
    let text = "enforcement: enforce\nallowed_commands: [pytest]\nexamples:\n  deny: [npm test]\n";
    std::fs::write(&path, text).unwrap();
    let rule = Policy::from_yaml_str(text)
        .unwrap()
        .check("npm test")
        .proposed_rule
        .unwrap();
    let e = persist_approval(&path, &rule).unwrap_err();
    assert!(e.to_string().contains("does not load"), "{e}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}
