//! The process backend's options as the bindings (and any JSON or YAML
//! configuration) give them: one strict, serde-deserializable form, so
//! that Python and Node accept exactly the same names, values and errors.

use super::{CgroupMode, Isolation, NetworkIsolation, ProcessConfig, RunAs};
use crate::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Options of the process backend; every name also has a camelCase alias
/// (`killGrace`) for JavaScript. Unknown names are an error. Absent (or
/// null) options keep [`ProcessConfig::default`]'s value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessOptions {
    /// `"required"` (the default), `"best-effort"` (or `"best_effort"`) or
    /// `"off"`; see [`Isolation`].
    pub isolation: Option<String>,
    /// More directories the command may write, for every run (absolute, or
    /// relative to this process's working directory now).
    pub writable: Option<Vec<PathBuf>>,
    /// More paths hidden from the command, added to the defaults (absolute,
    /// or relative to this process's working directory now).
    #[serde(alias = "denyRead")]
    pub deny_read: Option<Vec<PathBuf>>,
    /// More paths kept read-only inside writable roots, added to the
    /// defaults (relative ones are looked up in each writable root).
    pub protected: Option<Vec<PathBuf>>,
    /// Size in bytes of the private `/tmp` (and `/dev/shm`).
    #[serde(alias = "tmpSize")]
    pub tmp_size: Option<ByteCount>,
    /// Whether the run's working directory is writable (default true).
    #[serde(alias = "cwdWritable")]
    pub cwd_writable: Option<bool>,
    /// `"auto"`, `"current"` or `[uid, gid]`.
    #[serde(alias = "runAs")]
    pub run_as: Option<RunAsOption>,
    /// `"auto"`, `"required"` or `"off"`.
    pub cgroups: Option<String>,
    /// `"auto"`, `"required"` or `"off"`.
    #[serde(alias = "networkIsolation")]
    pub network_isolation: Option<String>,
    /// Seconds between SIGTERM and SIGKILL when a run times out.
    #[serde(alias = "killGrace")]
    pub kill_grace: Option<f64>,
    /// The same in milliseconds (JavaScript's unit); not with `kill_grace`.
    #[serde(alias = "killGraceMs")]
    pub kill_grace_ms: Option<f64>,
    /// Host variables inherited (names or globs; secrets never are).
    #[serde(alias = "inheritEnv")]
    pub inherit_env: Option<Vec<String>>,
    /// Secret-looking names that may still be inherited.
    #[serde(alias = "allowSecrets")]
    pub allow_secrets: Option<Vec<String>>,
    /// The shell for command lines that need one (default `/bin/sh`).
    pub shell: Option<PathBuf>,
}

/// `run_as`: a name (`"auto"`, `"current"`) or `[uid, gid]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged, expecting = "expected \"auto\", \"current\" or [uid, gid]")]
pub enum RunAsOption {
    /// `"auto"` or `"current"`.
    Name(String),
    /// This uid and gid.
    Ids(u32, u32),
}

/// A number of bytes: an integer, or a float with no fraction (JavaScript
/// numbers above 2^32 arrive as floats).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged, expecting = "expected a whole number of bytes")]
pub enum ByteCount {
    /// An integer.
    Int(u64),
    /// A float, checked when the options are applied.
    Float(f64),
}

/// An error of one option: its (snake_case) name and what is wrong.
struct OptionError {
    option: &'static str,
    message: String,
}

fn bad(option: &'static str, message: impl Into<String>) -> OptionError {
    OptionError {
        option,
        message: message.into(),
    }
}

/// One of `"auto"`, `"required"`, `"off"`.
fn tristate(option: &'static str, value: &str) -> std::result::Result<u8, OptionError> {
    match value {
        "auto" => Ok(0),
        "required" => Ok(1),
        "off" => Ok(2),
        other => Err(bad(
            option,
            format!("must be \"auto\", \"required\" or \"off\", not {other:?}"),
        )),
    }
}

/// `paths`, each made absolute against this process's working directory.
fn absolute(
    option: &'static str,
    paths: Vec<PathBuf>,
) -> std::result::Result<Vec<PathBuf>, OptionError> {
    paths
        .into_iter()
        .map(|p| {
            if p.as_os_str().is_empty() {
                return Err(bad(option, "an empty path"));
            }
            std::path::absolute(&p)
                .map_err(|e| bad(option, format!("cannot resolve {}: {e}", p.display())))
        })
        .collect()
}

fn non_empty(option: &'static str, paths: &[PathBuf]) -> std::result::Result<(), OptionError> {
    if paths.iter().any(|p| p.as_os_str().is_empty()) {
        return Err(bad(option, "an empty path"));
    }
    Ok(())
}

/// Seconds as a duration: finite and not negative.
fn seconds(
    option: &'static str,
    secs: f64,
    unit: &str,
) -> std::result::Result<Duration, OptionError> {
    if secs < 0.0 {
        // try_from_secs_f64 takes -0.0 as zero but any other negative as
        // an error; say so in the option's own unit.
        return Err(bad(
            option,
            format!("must be a finite number of {unit} >= 0, not {secs}"),
        ));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| {
        bad(
            option,
            format!("must be a finite number of {unit} >= 0, not {secs}"),
        )
    })
}

impl ProcessOptions {
    /// The configuration for these options as the bindings pass them (an
    /// object, or null for the defaults): [`ProcessConfig::default`] with
    /// the options applied. Errors are [`Error::InvalidInput`] naming the
    /// option as it was spelled.
    pub fn from_json(value: &serde_json::Value) -> Result<ProcessConfig> {
        let map = match value {
            serde_json::Value::Null => return Ok(ProcessConfig::default()),
            serde_json::Value::Object(map) => map,
            other => {
                return Err(Error::InvalidInput(format!(
                    "process backend options must be an object, not {other}"
                )))
            }
        };
        // Each option alone first, so that a wrong value is reported with
        // the name it was given under (serde's own messages do not say
        // which field they are about).
        for (key, v) in map {
            let single =
                serde_json::Value::Object([(key.clone(), v.clone())].into_iter().collect());
            let one: ProcessOptions = serde_json::from_value(single).map_err(|e| {
                let e = e.to_string();
                if e.starts_with("unknown field") {
                    Error::InvalidInput(format!("process backend options: {e}"))
                } else {
                    Error::InvalidInput(format!("process backend option `{key}`: {e}"))
                }
            })?;
            one.build().map_err(|e| {
                Error::InvalidInput(format!("process backend option `{key}`: {}", e.message))
            })?;
        }
        // Then together: duplicates (`kill_grace` and `killGrace`) and
        // options that exclude each other.
        let all: ProcessOptions = serde_json::from_value(value.clone())
            .map_err(|e| Error::InvalidInput(format!("process backend options: {e}")))?;
        all.into_config()
    }

    /// The configuration: [`ProcessConfig::default`] with these options
    /// applied (`deny_read` and `protected` are added to the defaults).
    pub fn into_config(self) -> Result<ProcessConfig> {
        self.build().map_err(|e| {
            Error::InvalidInput(format!(
                "process backend option `{}`: {}",
                e.option, e.message
            ))
        })
    }

    fn build(self) -> std::result::Result<ProcessConfig, OptionError> {
        let mut c = ProcessConfig::default();
        if let Some(v) = self.isolation {
            c.isolation = v.parse::<Isolation>().map_err(|_| {
                bad(
                    "isolation",
                    format!("must be \"required\", \"best-effort\" or \"off\", not {v:?}"),
                )
            })?;
        }
        if let Some(v) = self.writable {
            c.filesystem.writable = absolute("writable", v)?;
        }
        if let Some(v) = self.deny_read {
            let v = absolute("deny_read", v)?;
            for p in v {
                if !c.filesystem.deny_read.contains(&p) {
                    c.filesystem.deny_read.push(p);
                }
            }
        }
        if let Some(v) = self.protected {
            non_empty("protected", &v)?;
            for p in v {
                if !c.filesystem.protected.contains(&p) {
                    c.filesystem.protected.push(p);
                }
            }
        }
        if let Some(v) = self.tmp_size {
            c.filesystem.tmp_size = match v {
                ByteCount::Int(n) if n > 0 => n,
                // 2^64 is exactly representable; anything below it fits.
                ByteCount::Float(f)
                    if f > 0.0 && f.fract() == 0.0 && f < 18_446_744_073_709_551_616.0 =>
                {
                    f as u64
                }
                ByteCount::Int(n) => {
                    return Err(bad(
                        "tmp_size",
                        format!("must be a positive number of bytes, not {n}"),
                    ))
                }
                ByteCount::Float(f) => {
                    return Err(bad(
                        "tmp_size",
                        format!("must be a positive whole number of bytes, not {f}"),
                    ))
                }
            };
        }
        if let Some(v) = self.cwd_writable {
            c.filesystem.cwd_writable = v;
        }
        if let Some(v) = self.run_as {
            c.run_as = match v {
                RunAsOption::Ids(uid, gid) => RunAs::User { uid, gid },
                RunAsOption::Name(n) => match n.as_str() {
                    "auto" => RunAs::Auto,
                    "current" => RunAs::Current,
                    other => {
                        return Err(bad(
                            "run_as",
                            format!("must be \"auto\", \"current\" or [uid, gid], not {other:?}"),
                        ))
                    }
                },
            };
        }
        if let Some(v) = self.cgroups {
            c.cgroups = [CgroupMode::Auto, CgroupMode::Required, CgroupMode::Off]
                [usize::from(tristate("cgroups", &v)?)];
        }
        if let Some(v) = self.network_isolation {
            c.network = [
                NetworkIsolation::Auto,
                NetworkIsolation::Required,
                NetworkIsolation::Off,
            ][usize::from(tristate("network_isolation", &v)?)];
        }
        match (self.kill_grace, self.kill_grace_ms) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "kill_grace",
                    "give kill_grace (seconds) or kill_grace_ms (milliseconds), not both",
                ))
            }
            (Some(s), None) => c.kill_grace = seconds("kill_grace", s, "seconds")?,
            (None, Some(ms)) => {
                if ms < 0.0 || !ms.is_finite() {
                    return Err(bad(
                        "kill_grace_ms",
                        format!("must be a finite number of milliseconds >= 0, not {ms}"),
                    ));
                }
                c.kill_grace = seconds("kill_grace_ms", ms / 1000.0, "milliseconds")?;
            }
            (None, None) => {}
        }
        if let Some(v) = self.inherit_env {
            c.env.inherit = v;
        }
        if let Some(v) = self.allow_secrets {
            c.env.allow_secrets = v;
        }
        if let Some(v) = self.shell {
            if v.as_os_str().is_empty() {
                return Err(bad("shell", "an empty path"));
            }
            if !Path::new(&v).is_absolute() {
                return Err(bad(
                    "shell",
                    format!("must be an absolute path, not {}", v.display()),
                ));
            }
            c.shell = v;
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::FilesystemConfig;
    use serde_json::json;

    fn err(v: serde_json::Value) -> String {
        let e = ProcessOptions::from_json(&v).unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
        e.to_string()
    }

    #[test]
    fn no_options_are_the_defaults() {
        assert_eq!(
            ProcessOptions::from_json(&json!({})).unwrap(),
            ProcessConfig::default()
        );
        assert_eq!(
            ProcessOptions::from_json(&serde_json::Value::Null).unwrap(),
            ProcessConfig::default()
        );
        // null is "not given".
        assert_eq!(
            ProcessOptions::from_json(&json!({"kill_grace": null, "isolation": null})).unwrap(),
            ProcessConfig::default()
        );
    }

    #[test]
    fn snake_and_camel_case_give_the_same_config() {
        let snake = ProcessOptions::from_json(&json!({
            "isolation": "best-effort", "writable": ["/srv/out"], "deny_read": ["/etc/shadow"],
            "protected": [".hgrc"], "tmp_size": 1048576, "cwd_writable": false,
            "run_as": [1000, 1001], "cgroups": "off", "network_isolation": "required",
            "kill_grace": 0.5, "inherit_env": ["LANG"], "allow_secrets": ["GH_TOKEN"],
            "shell": "/bin/bash"
        }))
        .unwrap();
        let camel = ProcessOptions::from_json(&json!({
            "isolation": "best_effort", "writable": ["/srv/out"], "denyRead": ["/etc/shadow"],
            "protected": [".hgrc"], "tmpSize": 1048576.0, "cwdWritable": false,
            "runAs": [1000, 1001], "cgroups": "off", "networkIsolation": "required",
            "killGraceMs": 500, "inheritEnv": ["LANG"], "allowSecrets": ["GH_TOKEN"],
            "shell": "/bin/bash"
        }))
        .unwrap();
        assert_eq!(snake, camel);
        assert_eq!(snake.isolation, Isolation::BestEffort);
        assert_eq!(snake.filesystem.writable, [PathBuf::from("/srv/out")]);
        assert_eq!(snake.filesystem.tmp_size, 1 << 20);
        assert!(!snake.filesystem.cwd_writable);
        assert_eq!(
            snake.run_as,
            RunAs::User {
                uid: 1000,
                gid: 1001
            }
        );
        assert_eq!(snake.cgroups, CgroupMode::Off);
        assert_eq!(snake.network, NetworkIsolation::Required);
        assert_eq!(snake.kill_grace, Duration::from_millis(500));
        assert_eq!(snake.env.inherit, ["LANG"]);
        assert_eq!(snake.env.allow_secrets, ["GH_TOKEN"]);
        assert_eq!(snake.shell, PathBuf::from("/bin/bash"));
    }

    #[test]
    fn deny_read_and_protected_add_to_the_defaults() {
        let defaults = FilesystemConfig::default();
        let c = ProcessOptions::from_json(&json!({
            "deny_read": ["/etc/shadow", "/run/docker.sock"], "protected": [".hgrc", ".git/hooks"]
        }))
        .unwrap();
        assert!(c.filesystem.deny_read.starts_with(&defaults.deny_read));
        assert_eq!(
            c.filesystem.deny_read.len(),
            defaults.deny_read.len() + 1,
            "the default is not repeated"
        );
        assert_eq!(
            c.filesystem.deny_read.last().unwrap(),
            Path::new("/etc/shadow")
        );
        assert!(c.filesystem.protected.starts_with(&defaults.protected));
        assert_eq!(c.filesystem.protected.last().unwrap(), Path::new(".hgrc"));
        assert_eq!(c.filesystem.protected.len(), defaults.protected.len() + 1);
    }

    #[test]
    fn relative_paths_are_resolved_now() {
        let c = ProcessOptions::from_json(&json!({"writable": ["out"], "denyRead": ["secret"]}))
            .unwrap();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(c.filesystem.writable, [cwd.join("out")]);
        assert_eq!(c.filesystem.deny_read.last().unwrap(), &cwd.join("secret"));
    }

    #[test]
    fn every_isolation_and_run_as_spelling() {
        for (s, want) in [
            ("required", Isolation::Required),
            ("best-effort", Isolation::BestEffort),
            ("best_effort", Isolation::BestEffort),
            ("off", Isolation::Off),
        ] {
            let c = ProcessOptions::from_json(&json!({ "isolation": s })).unwrap();
            assert_eq!(c.isolation, want, "{s}");
        }
        for (v, want) in [
            (json!("auto"), RunAs::Auto),
            (json!("current"), RunAs::Current),
            (json!([0, 0]), RunAs::User { uid: 0, gid: 0 }),
        ] {
            let c = ProcessOptions::from_json(&json!({ "run_as": v })).unwrap();
            assert_eq!(c.run_as, want);
        }
    }

    #[test]
    fn unknown_options_are_named() {
        let e = err(json!({"colour": "blue"}));
        assert!(e.contains("unknown field `colour`"), "{e}");
        assert!(
            e.contains("`network_isolation`"),
            "the known names are listed: {e}"
        );
        // Node's old spelling of another backend's option is not silently
        // ignored either.
        let e = err(json!({"image": "busybox"}));
        assert!(e.contains("unknown field `image`"), "{e}");
        let e = err(json!(["isolation"]));
        assert!(e.contains("must be an object"), "{e}");
    }

    #[test]
    fn wrong_types_and_values_name_the_option_as_spelled() {
        let e = err(json!({"killGrace": "soon"}));
        assert!(
            e.contains("option `killGrace`: invalid type: string \"soon\""),
            "{e}"
        );
        let e = err(json!({"isolation": "strict"}));
        assert!(e.contains("option `isolation`: must be \"required\", \"best-effort\" or \"off\", not \"strict\""), "{e}");
        let e = err(json!({"isolation": true}));
        assert!(
            e.contains("option `isolation`: invalid type: boolean"),
            "{e}"
        );
        let e = err(json!({"cgroups": "sometimes"}));
        assert!(
            e.contains("option `cgroups`: must be \"auto\", \"required\" or \"off\""),
            "{e}"
        );
        let e = err(json!({"networkIsolation": "yes"}));
        assert!(e.contains("option `networkIsolation`: must be"), "{e}");
        let e = err(json!({"run_as": "root"}));
        assert!(
            e.contains(
                "option `run_as`: must be \"auto\", \"current\" or [uid, gid], not \"root\""
            ),
            "{e}"
        );
        let e = err(json!({"runAs": [1, -1]}));
        assert!(
            e.contains("option `runAs`: expected \"auto\", \"current\" or [uid, gid]"),
            "{e}"
        );
        let e = err(json!({"writable": "/tmp"}));
        assert!(
            e.contains("option `writable`: invalid type: string \"/tmp\", expected a sequence"),
            "{e}"
        );
        let e = err(json!({"writable": [""]}));
        assert!(e.contains("option `writable`: an empty path"), "{e}");
        let e = err(json!({"deny_read": [1]}));
        assert!(
            e.contains("option `deny_read`: invalid type: integer"),
            "{e}"
        );
        let e = err(json!({"cwd_writable": "yes"}));
        assert!(
            e.contains("option `cwd_writable`: invalid type: string"),
            "{e}"
        );
        let e = err(json!({"inherit_env": "PATH"}));
        assert!(e.contains("option `inherit_env`"), "{e}");
        let e = err(json!({"shell": "sh"}));
        assert!(
            e.contains("option `shell`: must be an absolute path"),
            "{e}"
        );
    }

    #[test]
    fn numbers_are_checked() {
        let e = err(json!({"kill_grace": -1}));
        assert!(
            e.contains("option `kill_grace`: must be a finite number of seconds >= 0, not -1"),
            "{e}"
        );
        let e = err(json!({"kill_grace": 1e300}));
        assert!(
            e.contains("option `kill_grace`: must be a finite number of seconds"),
            "{e}"
        );
        let e = err(json!({"killGraceMs": -5}));
        assert!(
            e.contains(
                "option `killGraceMs`: must be a finite number of milliseconds >= 0, not -5"
            ),
            "{e}"
        );
        let e = err(json!({"kill_grace": 1, "kill_grace_ms": 1000}));
        assert!(e.contains("not both"), "{e}");
        let e = err(json!({"kill_grace": 1, "killGrace": 1}));
        assert!(e.contains("duplicate field `kill_grace`"), "{e}");
        assert_eq!(
            ProcessOptions::from_json(&json!({"kill_grace": 0}))
                .unwrap()
                .kill_grace,
            Duration::ZERO
        );
        let e = err(json!({"tmp_size": 0}));
        assert!(
            e.contains("option `tmp_size`: must be a positive number of bytes, not 0"),
            "{e}"
        );
        let e = err(json!({"tmpSize": 1.5}));
        assert!(
            e.contains("option `tmpSize`: must be a positive whole number of bytes, not 1.5"),
            "{e}"
        );
        let e = err(json!({"tmp_size": -4096}));
        assert!(
            e.contains("option `tmp_size`: must be a positive whole number of bytes"),
            "{e}"
        );
        let e = err(json!({"tmp_size": "1M"}));
        assert!(
            e.contains("option `tmp_size`: expected a whole number of bytes"),
            "{e}"
        );
        // JavaScript gives numbers above 2^32 as floats.
        let c = ProcessOptions::from_json(&json!({"tmpSize": 8589934592.0})).unwrap();
        assert_eq!(c.filesystem.tmp_size, 8 << 30);
    }

    #[test]
    fn into_config_names_the_option_for_other_formats() {
        let o: ProcessOptions = serde_yaml_ng::from_str("killGrace: -2\n").unwrap();
        let e = o.into_config().unwrap_err().to_string();
        assert!(
            e.contains("option `kill_grace`: must be a finite number"),
            "{e}"
        );
    }
}
