//! Any bytes as a command, decided by every policy the project ships
//! (`examples/policies/`): deciding never panics, gives the same decision
//! twice, and never hands a command that needs a shell a plan to run it as
//! an argv.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The shipped policies, loaded once (the files are compiled in, so the
/// target needs nothing at run time).
fn shipped() -> &'static [sandboxcore::Policy] {
    static POLICIES: OnceLock<Vec<sandboxcore::Policy>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        let yaml = [
            include_str!("../../examples/policies/sandboxcore.yml"),
            include_str!("../../examples/policies/codeframe-security.yml"),
            include_str!("../../examples/policies/codeframe-security-policy.yml"),
        ];
        let mut policies: Vec<_> = yaml
            .iter()
            .map(|text| sandboxcore::Policy::from_yaml_str(text).expect("a shipped policy loads"))
            .collect();
        policies.push(
            sandboxcore::Policy::from_json_str(include_str!("../../examples/policies/sandboxcore.json"))
                .expect("the shipped JSON policy loads"),
        );
        policies
    })
}

fuzz_target!(|data: &[u8]| {
    let command = String::from_utf8_lossy(data);
    for policy in shipped() {
        let decision = policy.check(&command);
        assert_eq!(decision, policy.check(&command));
        if decision.classification.needs_shell {
            assert!(!matches!(decision.plan, Some(sandboxcore::Plan::Direct(_))));
        }
    }
});
