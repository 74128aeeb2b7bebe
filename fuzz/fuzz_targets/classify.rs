//! Any bytes as a command line: the parser and classifier must never panic,
//! a line that does not parse needs a shell and is never read-only, and the
//! same line gets the same answer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let c = sandboxcore::classify(&text);
    if c.parse_error.is_some() {
        assert!(c.needs_shell);
        assert!(!c.read_only);
    }
    assert_eq!(c, sandboxcore::classify(&text));
});
