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

impl RunOptions {
    /// Run options from a JSON object (`null`: the defaults), with
    /// camelCase or snake_case names: `timeoutMs` (milliseconds; a number,
    /// or `"Infinity"` for none), `cwd`, `env` and `labels` (string to
    /// string), `stdin` (text), `memory` (bytes), `processes` (0: no
    /// limit), `outputLimit` (bytes per stream), `network` (bool),
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
                "network" => {
                    o.network = match v.as_bool() {
                        Some(true) => Network::Allowed,
                        Some(false) => Network::None,
                        None => {
                            return Err(invalid(key, format!("must be true or false, not {v}")))
                        }
                    }
                }
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
