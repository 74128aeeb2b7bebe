//! Any bytes as a YAML policy document and as a command: loading never
//! panics, and a loaded policy decides on any command.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (doc, command) = text.split_once('\n').unwrap_or((&text, "ls"));
    if let Ok(policy) = sandboxcore::Policy::from_yaml_str(&doc.replace('\u{1}', "\n")) {
        let _ = policy.check(command);
    }
});
