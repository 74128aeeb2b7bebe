//! Any bytes as a command line: the parser and classifier must never panic,
//! and a `needs_shell == false` answer must come with an argv.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let c = sandboxcore::classify(&text);
    assert_eq!(c.needs_shell, c.argv().is_none());
    if c.parse_error.is_some() {
        assert!(c.needs_shell);
    }
});
