//! The backend options table shared with the Python and Node suites
//! (`tests/data/options_parity.json`): the core parser every front end
//! calls, `BackendConfig::from_json`, gives the outcome each case names
//! (the error's code and a substring of its message, or a configuration
//! of the case's backend). The bindings' suites run the same table
//! through their own entry points, so the three agree by construction and
//! by test. Nothing here needs a Docker daemon or a cluster.

use sandboxcore::exec::BackendConfig;

#[test]
fn the_core_parser_gives_each_cases_outcome() {
    let table: serde_json::Value =
        serde_json::from_str(include_str!("data/options_parity.json")).unwrap();
    let cases = table["cases"].as_array().unwrap();
    let mut per_backend = std::collections::BTreeMap::<&str, (usize, usize)>::new();
    for case in cases {
        let backend = case["backend"].as_str().unwrap_or("process");
        let got = BackendConfig::from_json(backend, &case["options"]);
        let counts = per_backend.entry(backend).or_default();
        match (case["code"].as_str(), case["error"].as_str()) {
            (None, None) => {
                counts.0 += 1;
                let config = got.unwrap_or_else(|e| panic!("{case}: {e}"));
                let kind = match config {
                    BackendConfig::Process(_) => "process",
                    BackendConfig::Docker(_) => "docker",
                    BackendConfig::Kubernetes(_) => "kubernetes",
                };
                assert_eq!(kind, backend, "{case}");
            }
            (Some(code), Some(expected)) => {
                counts.1 += 1;
                let e = match got {
                    Ok(c) => panic!("{case}: accepted as {c:?}"),
                    Err(e) => e,
                };
                assert_eq!(e.code().as_str(), code, "{case}: {e}");
                let message = e.to_string();
                assert!(message.contains(expected), "{case}: got {message:?}");
            }
            _ => panic!("{case}: `code` and `error` are both null or both set"),
        }
    }
    // Every backend has valid and invalid cases.
    assert_eq!(
        per_backend.keys().copied().collect::<Vec<_>>(),
        ["docker", "kubernetes", "process"]
    );
    for (backend, (valid, invalid)) in per_backend {
        assert!(
            valid >= 3 && invalid >= 8,
            "{backend}: {valid} valid, {invalid} invalid"
        );
    }
}
