//! Any bytes as the start of a CONNECT tunnel: reading the ClientHello's
//! server name never panics, an Incomplete answer asks for more than it
//! was given, a name is a lower-case host name, and a settled answer does
//! not change when more bytes arrive.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sandboxcore::net::sni::{client_hello_server_name, SniParse, MAX_HELLO_BYTES};

fuzz_target!(|data: &[u8]| {
    let answer = client_hello_server_name(data);
    match &answer {
        SniParse::Incomplete { needed } => {
            assert!(*needed > data.len() && *needed <= MAX_HELLO_BYTES);
        }
        SniParse::ServerName(name) => {
            assert!(!name.is_empty() && !name.ends_with('.'));
            assert!(name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)));
        }
        _ => {}
    }
    let head = client_hello_server_name(&data[..data.len() / 2]);
    if !matches!(head, SniParse::Incomplete { .. }) {
        assert_eq!(head, answer);
    }
});
