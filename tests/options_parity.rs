//! The process options table shared with the Python and Node suites
//! (`tests/data/process_options_parity.json`): the core parser gives the
//! outcome each case names. The bindings' suites run the same table
//! through `Sandbox(...)`, so the three agree by construction and by test.

use sandboxcore::exec::ProcessOptions;

#[test]
fn the_core_parser_gives_each_cases_outcome() {
    let table: serde_json::Value =
        serde_json::from_str(include_str!("data/process_options_parity.json")).unwrap();
    let cases = table["cases"].as_array().unwrap();
    assert!(cases.len() >= 15);
    for case in cases {
        let got = ProcessOptions::from_json(&case["options"]);
        match case["error"].as_str() {
            None => assert!(got.is_ok(), "{case}: {}", got.unwrap_err()),
            Some(expected) => {
                let message = got.err().map(|e| e.to_string()).unwrap_or_default();
                assert!(message.contains(expected), "{case}: got {message:?}");
            }
        }
    }
}
