//! Run options as the bindings pass them: one strict parser, so that the
//! Node binding (whose options cross as JSON) and any other front end that
//! takes JSON check names, types and values the same way, with errors that
//! name the option.

use crate::exec::{Limits, Network};
use crate::{Error, Result, RunOptions};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The option names, as `(camelCase, snake_case)`.
const NAMES: &[(&str, &str)] = &[
    ("timeoutMs", "timeout_ms"),
    ("cwd", "cwd"),
    ("env", "env"),
    ("stdin", "stdin"),
    ("memory", "memory"),
    ("processes", "processes"),
    ("outputLimit", "output_limit"),
    ("network", "network"),
    ("labels", "labels"),
    ("writable", "writable"),
    ("denyRead", "deny_read"),
];

fn invalid(option: &str, why: impl std::fmt::Display) -> Error {
    Error::InvalidInput(format!("run option `{option}`: {why}"))
}

impl Limits {
    /// The process limit as front ends take it: `0` means no limit (as in
    /// the CLI's `--processes 0`).
    pub fn processes_from(n: u64) -> Option<u64> {
        (n > 0).then_some(n)
    }
}

impl Network {
    /// The `network` run option: `true` or `"full"` ([`Network::Allowed`]),
    /// `false` or `"none"` ([`Network::None`]), a list of host entries
    /// (`["pypi.org", "*.pythonhosted.org"]`, see
    /// [`crate::net::HostRule`]) or an object `{"allow": [...], "deny":
    /// [...]}` (both lists optional; no other key): an allowlist
    /// ([`Network::allowlist`]). A bad value is [`Error::InvalidInput`]
    /// naming the option, and a bad entry names it by list and index
    /// (``run option `network.allow[1]`: ...``; `network[1]` in the list
    /// form).
    pub fn from_json(value: &Value) -> Result<Network> {
        const KEY: &str = "network";
        let hosts = |list: &str, v: &Value| -> Result<Vec<String>> {
            let entries = v
                .as_array()
                .ok_or_else(|| invalid(list, format!("must be a list of host entries, not {v}")))?;
            entries
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    e.as_str().map(str::to_string).ok_or_else(|| {
                        invalid(&format!("{list}[{i}]"), format!("must be a host, not {e}"))
                    })
                })
                .collect()
        };
        let (allow, deny, list_form) = match value {
            Value::Bool(true) => return Ok(Network::Allowed),
            Value::Bool(false) | Value::Null => return Ok(Network::None),
            Value::String(s) if s == "full" => return Ok(Network::Allowed),
            Value::String(s) if s == "none" => return Ok(Network::None),
            Value::Array(_) => (hosts(KEY, value)?, Vec::new(), true),
            Value::Object(map) => {
                if let Some(k) = map
                    .keys()
                    .find(|k| !["allow", "deny"].contains(&k.as_str()))
                {
                    return Err(invalid(
                        KEY,
                        format!("unknown key `{k}` (expected allow, deny)"),
                    ));
                }
                let list = |name: &str| match map.get(name) {
                    None | Some(Value::Null) => Ok(Vec::new()),
                    Some(v) => hosts(&format!("{KEY}.{name}"), v),
                };
                (list("allow")?, list("deny")?, false)
            }
            v => {
                return Err(invalid(
                    KEY,
                    format!(
                        "must be true or false, \"full\" or \"none\", a list of hosts \
                         or {{\"allow\": [...], \"deny\": [...]}}, not {v}"
                    ),
                ))
            }
        };
        let rules = crate::net::EgressRules::build(&allow, &deny, &[]).map_err(|e| {
            let entry = if list_form {
                format!("{KEY}[{}]", e.index)
            } else {
                format!("{KEY}.{}[{}]", e.list, e.index)
            };
            invalid(&entry, e.message)
        })?;
        Ok(Network::allowlist(rules))
    }
}

impl RunOptions {
    /// Run options from a JSON object (`null`: the defaults), with
    /// camelCase or snake_case names: `timeoutMs` (milliseconds; a number,
    /// or `"Infinity"` for none), `cwd`, `env` and `labels` (string to
    /// string), `stdin` (text), `memory` (bytes), `processes` (0: no
    /// limit), `outputLimit` (bytes per stream), `network` (see
    /// [`Network::from_json`]),
    /// `writable` and `denyRead` (arrays of paths). An unknown name, a
    /// value of the wrong type or out of range is [`Error::InvalidInput`]
    /// naming the option.
    pub fn from_json(value: &Value) -> Result<RunOptions> {
        let map = match value {
            Value::Null => return Ok(RunOptions::default()),
            Value::Object(m) => m,
            _ => return Err(Error::InvalidInput("run options must be an object".into())),
        };
        let mut o = RunOptions::default();
        let mut limits = Limits::default();
        for (key, v) in map {
            if v.is_null() {
                continue;
            }
            let Some(&(name, _)) = NAMES.iter().find(|(c, s)| key == c || key == s) else {
                let expected: Vec<&str> = NAMES.iter().map(|(c, _)| *c).collect();
                return Err(Error::InvalidInput(format!(
                    "unknown run option `{key}` (expected one of {})",
                    expected.join(", ")
                )));
            };
            let count = |what: &str| -> Result<u64> {
                v.as_u64().ok_or_else(|| {
                    invalid(
                        key,
                        format!("must be a whole number of {what} >= 0, not {v}"),
                    )
                })
            };
            let text_map = || -> Result<BTreeMap<String, String>> {
                serde_json::from_value(v.clone())
                    .map_err(|_| invalid(key, format!("must map strings to strings, not {v}")))
            };
            let paths = || -> Result<Vec<PathBuf>> {
                serde_json::from_value(v.clone())
                    .map_err(|_| invalid(key, format!("must be an array of paths, not {v}")))
            };
            match name {
                "timeoutMs" => {
                    let ms = v
                        .as_f64()
                        .or_else(|| v.as_str().and_then(|s| s.parse::<f64>().ok()))
                        .ok_or_else(|| {
                            invalid(key, format!("must be a number of milliseconds, not {v}"))
                        })?;
                    limits.timeout = Limits::timeout_from(key, ms, "milliseconds", 1e-3)?;
                }
                "cwd" => {
                    o.cwd =
                        Some(PathBuf::from(v.as_str().ok_or_else(|| {
                            invalid(key, format!("must be a path, not {v}"))
                        })?))
                }
                "env" => o.env = text_map()?,
                "labels" => o.labels = text_map()?,
                "stdin" => {
                    o.stdin = Some(
                        v.as_str()
                            .ok_or_else(|| invalid(key, format!("must be text, not {v}")))?
                            .as_bytes()
                            .to_vec(),
                    )
                }
                "memory" => limits.memory = Some(count("bytes")?),
                "processes" => limits.processes = Limits::processes_from(count("processes")?),
                "outputLimit" => {
                    limits.output_bytes = usize::try_from(count("bytes")?)
                        .map_err(|_| invalid(key, "is too large"))?
                }
                "network" => o.network = Network::from_json(v)?,
                "writable" => o.filesystem.writable = paths()?,
                "denyRead" => o.filesystem.deny_read = paths()?,
                _ => unreachable!("every name in NAMES is handled"),
            }
        }
        o.limits = Some(limits);
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_are_read_with_either_spelling() {
        let o = RunOptions::from_json(&json!({
            "timeoutMs": 1500, "cwd": "/w", "env": {"A": "1"}, "stdin": "x",
            "memory": 1024, "processes": 0, "output_limit": 10, "network": true,
            "labels": {"k": "v"}, "writable": ["/a"], "deny_read": ["/b"]
        }))
        .unwrap();
        let l = o.limits.unwrap();
        assert_eq!(l.timeout, Some(std::time::Duration::from_millis(1500)));
        assert_eq!(l.processes, None, "0 means no limit");
        assert_eq!((l.memory, l.output_bytes), (Some(1024), 10));
        assert_eq!(o.network, Network::Allowed);
        assert_eq!(o.filesystem.deny_read, [PathBuf::from("/b")]);
        let none = RunOptions::from_json(&json!({"timeoutMs": "Infinity"})).unwrap();
        assert_eq!(none.limits.unwrap().timeout, None);
        assert!(RunOptions::from_json(&Value::Null)
            .unwrap()
            .limits
            .is_none());
    }

    #[test]
    fn network_takes_a_switch_a_mode_a_host_list_or_allow_and_deny() {
        let network = |v: Value| {
            RunOptions::from_json(&json!({ "network": v }))
                .unwrap()
                .network
        };
        assert_eq!(network(json!(true)), Network::Allowed);
        assert_eq!(network(json!("full")), Network::Allowed);
        assert_eq!(network(json!(false)), Network::None);
        assert_eq!(network(json!("none")), Network::None);
        assert_eq!(network(Value::Null), Network::None);
        let rules = |n: Network| match n {
            Network::Allowlist(e) => e.rules().clone(),
            other => panic!("not an allowlist: {other:?}"),
        };
        let list = rules(network(json!(["PyPI.org", "*.pythonhosted.org:443"])));
        assert_eq!(list.allow_entries(), ["PyPI.org", "*.pythonhosted.org:443"]);
        assert!(list.deny_entries().is_empty());
        let host = crate::net::normalize_host("files.pythonhosted.org").unwrap();
        assert_eq!(
            list.check_host(&host, 443, None),
            crate::net::HostVerdict::Allow {
                rule: "network.allow[1]: *.pythonhosted.org:443".into()
            }
        );
        let object = rules(network(json!({"allow": ["*"], "deny": ["evil.example"]})));
        assert_eq!(object.allow_entries(), ["*"]);
        assert_eq!(object.deny_entries(), ["evil.example"]);
        let nothing = rules(network(json!({})));
        assert!(
            nothing.is_empty(),
            "an allowlist of nothing reaches nothing"
        );
        assert!(rules(network(json!({"deny": ["a.com"], "allow": null})))
            .allow_entries()
            .is_empty());
    }

    #[test]
    fn bad_options_are_errors_naming_them() {
        for (options, expected) in [
            (
                json!({"memory": "512M"}),
                "`memory`: must be a whole number",
            ),
            (
                json!({"network_isolation": true}),
                "unknown run option `network_isolation`",
            ),
            (
                json!({"timeoutMs": 1e30}),
                "timeoutMs must be a positive number",
            ),
            (
                json!({"timeoutMs": "NaN"}),
                "timeoutMs must be a positive number",
            ),
            (
                json!({"timeoutMs": -1}),
                "timeoutMs must be a positive number",
            ),
            (
                json!({"processes": -1}),
                "`processes`: must be a whole number",
            ),
            (
                json!({"env": {"A": 1}}),
                "`env`: must map strings to strings",
            ),
            (
                json!({"network": "yes"}),
                "`network`: must be true or false",
            ),
            (
                json!({"network": "allowlist"}),
                "`network`: must be true or false, \"full\" or \"none\", a list of hosts",
            ),
            (
                json!({"network": ["pypi.org", "*."]}),
                "run option `network[1]`: `*.` is not a host pattern",
            ),
            (
                json!({"network": ["pypi.org", 443]}),
                "run option `network[1]`: must be a host, not 443",
            ),
            (
                json!({"network": {"allow": ["a.com", "https://b.com/x"]}}),
                "run option `network.allow[1]`: `https://b.com/x` is not a host pattern: \
                 a rule names a host, not a URL; write `b.com`",
            ),
            (
                json!({"network": {"deny": [""]}}),
                "run option `network.deny[0]`: an empty entry",
            ),
            (
                json!({"network": {"allow": "a.com"}}),
                "run option `network.allow`: must be a list of host entries, not \"a.com\"",
            ),
            (
                json!({"network": {"allow": [], "require_approval": ["*"]}}),
                "run option `network`: unknown key `require_approval` (expected allow, deny)",
            ),
            (
                json!({"writable": "/a"}),
                "`writable`: must be an array of paths",
            ),
            (json!([1]), "must be an object"),
        ] {
            let e = RunOptions::from_json(&options).unwrap_err().to_string();
            assert!(e.contains(expected), "{options}: {e}");
        }
    }
}
