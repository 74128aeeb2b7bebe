//! The Kubernetes backend's options as the bindings, the CLI (and any
//! JSON or YAML configuration) give them: one strict, serde-deserializable
//! form, so that every front end accepts exactly the same names and
//! values and reports the same errors.

use super::{job::valid_label_value, job::valid_proxy_url, KubernetesConfig};
use crate::exec::options::{parse_each, OptionError};
use crate::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Options of the Kubernetes backend; every name also has a camelCase
/// alias (`runtimeClass`) for JavaScript. Unknown names are an error;
/// absent (or null) options keep [`KubernetesConfig::new`]'s value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesOptions {
    /// The container image (required; no whitespace).
    pub image: Option<String>,
    /// Namespace of the Jobs (default `sandboxcore`): an RFC 1123 label.
    pub namespace: Option<String>,
    /// A RuntimeClass such as `gvisor`: an RFC 1123 subdomain.
    #[serde(alias = "runtimeClass")]
    pub runtime_class: Option<String>,
    /// Uid of the command (default 1000): 1 to 2147483647 (the pod runs
    /// as non-root).
    #[serde(alias = "runAsUser")]
    pub run_as_user: Option<i64>,
    /// Gid of the command (default 1000): 0 to 2147483647.
    #[serde(alias = "runAsGroup")]
    pub run_as_group: Option<i64>,
    /// Group of mounted volumes (default 1000): 0 to 2147483647.
    #[serde(alias = "fsGroup")]
    pub fs_group: Option<i64>,
    /// CPU limit, a quantity (`"1"`, `"500m"`, or a number; default 1).
    #[serde(alias = "cpuLimit")]
    pub cpu_limit: Option<QuantityValue>,
    /// CPU request (default `100m`); at most the CPU limit.
    #[serde(alias = "cpuRequest")]
    pub cpu_request: Option<QuantityValue>,
    /// Memory request (default `64Mi`; the limit is the run's memory
    /// limit).
    #[serde(alias = "memoryRequest")]
    pub memory_request: Option<QuantityValue>,
    /// Ephemeral-storage limit (default `1Gi`).
    #[serde(alias = "ephemeralStorageLimit")]
    pub ephemeral_storage_limit: Option<QuantityValue>,
    /// Size limit of the `/tmp` emptyDir (default `256Mi`).
    #[serde(alias = "tmpSizeLimit")]
    pub tmp_size_limit: Option<QuantityValue>,
    /// Seconds a finished Job is kept (default 300): 0 to 2147483647.
    #[serde(alias = "ttlSecondsAfterFinished")]
    pub ttl_seconds_after_finished: Option<i64>,
    /// The service account of sandbox pods (its token is never mounted):
    /// an RFC 1123 subdomain.
    #[serde(alias = "serviceAccount")]
    pub service_account: Option<String>,
    /// Extra labels of Jobs and pods: Kubernetes label keys and values,
    /// none under `sandboxcore.dev/` (sandboxcore's own).
    pub labels: Option<BTreeMap<String, String>>,
    /// The egress proxy's URL, `http://CLUSTER-IP:3128` (see
    /// [`KubernetesConfig::egress_proxy`]).
    #[serde(alias = "egressProxy")]
    pub egress_proxy: Option<String>,
}

/// A resource quantity: Kubernetes' text form (`"500m"`, `"1Gi"`), or a
/// plain number (`2`, `0.5`) as YAML allows.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    untagged,
    expecting = "expected a quantity such as \"500m\" or \"1Gi\", or a number"
)]
pub enum QuantityValue {
    /// The text form.
    Text(String),
    /// A number.
    Number(serde_json::Number),
}

impl QuantityValue {
    fn text(&self) -> String {
        match self {
            QuantityValue::Text(s) => s.clone(),
            QuantityValue::Number(n) => n.to_string(),
        }
    }
}

fn bad(option: &'static str, message: impl Into<String>) -> OptionError {
    OptionError {
        option,
        message: message.into(),
    }
}

/// Whether `s` is an RFC 1123 label: 1 to 63 of `[a-z0-9-]`, alphanumeric
/// at both ends (namespace names).
pub(crate) fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// What is wrong with `ns` as a namespace name, if anything.
fn namespace_problem(ns: &str) -> Option<String> {
    (!is_dns_label(ns)).then(|| {
        format!(
            "must be an RFC 1123 label (1 to 63 of a-z, 0-9 and '-', \
             a letter or digit at both ends), not {ns:?}"
        )
    })
}

/// Checks a namespace name given on its own (`sandboxcore k8s manifests
/// --namespace`, `gc --namespace`), with the message the options give.
///
/// ```
/// use sandboxcore::exec::kubernetes::check_namespace;
/// assert!(check_namespace("sandboxcore").is_ok());
/// assert!(check_namespace("Bad_Name").is_err());
/// ```
pub fn check_namespace(ns: &str) -> Result<()> {
    match namespace_problem(ns) {
        None => Ok(()),
        Some(m) => Err(Error::InvalidInput(format!("namespace: {m}"))),
    }
}

/// Whether `s` is an RFC 1123 subdomain: at most 253 characters, labels
/// joined by dots (RuntimeClass and service account names).
fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// Whether `k` is a label key: `[prefix/]name`, the prefix a subdomain,
/// the name 1 to 63 of `[A-Za-z0-9._-]`, alphanumeric at both ends.
fn is_label_key(k: &str) -> bool {
    let (prefix, name) = match k.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    prefix.is_none_or(is_dns_subdomain) && !name.is_empty() && valid_label_value(name)
}

/// The value of a Kubernetes quantity (`500m` = 0.5, `1Gi` = 2^30,
/// `1e3` = 1000), or None when `s` is not one. The sign is not accepted:
/// no quantity here can be negative.
fn quantity(s: &str) -> Option<f64> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(end);
    if number.matches('.').count() > 1 || !number.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: f64 = number.parse().ok()?;
    let scale = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => {
            let exp = &e[1..];
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            10f64.powi(exp.parse::<i32>().ok()?)
        }
        _ => return None,
    };
    Some(n * scale)
}

/// A quantity option: well-formed, and more than zero unless
/// `zero_allowed`.
fn check_quantity(
    option: &'static str,
    v: &QuantityValue,
    zero_allowed: bool,
) -> std::result::Result<(), OptionError> {
    let text = v.text();
    match quantity(&text) {
        None => Err(bad(
            option,
            format!("must be a quantity such as \"500m\", \"2\" or \"1Gi\", not {text:?}"),
        )),
        Some(0.0) if !zero_allowed => Err(bad(option, "must be more than zero")),
        Some(_) => Ok(()),
    }
}

/// An id option within `min..=2147483647`.
fn check_id(option: &'static str, v: i64, min: i64) -> std::result::Result<(), OptionError> {
    if (min..=i64::from(i32::MAX)).contains(&v) {
        Ok(())
    } else {
        Err(bad(
            option,
            format!("must be from {min} to 2147483647, not {v}"),
        ))
    }
}

impl KubernetesOptions {
    /// Parses options from JSON (what the bindings pass): an object, or
    /// null for none. Unknown names, wrong types and bad values are
    /// [`Error::InvalidInput`] naming the option as it was spelled
    /// (`kubernetes backend option `runtimeClass`: ...`); a missing image
    /// is reported by [`KubernetesOptions::into_config`].
    pub fn from_json(value: serde_json::Value) -> Result<KubernetesOptions> {
        parse_each("kubernetes", &value, KubernetesOptions::check)
    }

    /// Checks each option given, alone.
    fn check(&self) -> std::result::Result<(), OptionError> {
        if let Some(image) = &self.image {
            if image.is_empty() {
                return Err(bad("image", "must not be empty"));
            }
            if image.contains(char::is_whitespace) {
                return Err(bad(
                    "image",
                    format!("must not contain whitespace, not {image:?}"),
                ));
            }
        }
        if let Some(ns) = &self.namespace {
            namespace_problem(ns).map_or(Ok(()), |m| Err(bad("namespace", m)))?;
        }
        for (option, value) in [
            ("runtime_class", &self.runtime_class),
            ("service_account", &self.service_account),
        ] {
            if let Some(v) = value {
                if !is_dns_subdomain(v) {
                    return Err(bad(
                        option,
                        format!(
                            "must be an RFC 1123 subdomain (dot-separated labels of a-z, \
                             0-9 and '-'), not {v:?}"
                        ),
                    ));
                }
            }
        }
        if let Some(v) = self.run_as_user {
            check_id("run_as_user", v, 1)?;
        }
        if let Some(v) = self.run_as_group {
            check_id("run_as_group", v, 0)?;
        }
        if let Some(v) = self.fs_group {
            check_id("fs_group", v, 0)?;
        }
        if let Some(v) = self.ttl_seconds_after_finished {
            check_id("ttl_seconds_after_finished", v, 0)?;
        }
        for (option, value, zero_allowed) in [
            ("cpu_limit", &self.cpu_limit, false),
            ("cpu_request", &self.cpu_request, true),
            ("memory_request", &self.memory_request, true),
            (
                "ephemeral_storage_limit",
                &self.ephemeral_storage_limit,
                false,
            ),
            ("tmp_size_limit", &self.tmp_size_limit, false),
        ] {
            if let Some(v) = value {
                check_quantity(option, v, zero_allowed)?;
            }
        }
        for (k, v) in self.labels.iter().flatten() {
            if !is_label_key(k) {
                return Err(bad("labels", format!("{k:?} is not a label key")));
            }
            if k.starts_with("sandboxcore.dev/") {
                return Err(bad(
                    "labels",
                    format!("{k:?}: the sandboxcore.dev/ labels are sandboxcore's own"),
                ));
            }
            if !valid_label_value(v) {
                return Err(bad(
                    "labels",
                    format!(
                        "{v:?} (of {k:?}) is not a label value (at most 63 of A-Z, a-z, \
                         0-9, '.', '_' and '-', a letter or digit at both ends)"
                    ),
                ));
            }
        }
        if let Some(url) = &self.egress_proxy {
            if !valid_proxy_url(url) {
                return Err(bad(
                    "egress_proxy",
                    format!("must be an http:// URL (http://CLUSTER-IP:3128), not {url:?}"),
                ));
            }
        }
        Ok(())
    }

    /// The configuration: [`KubernetesConfig::new`]'s defaults with these
    /// options applied. The image is required; the CPU request may not
    /// exceed the CPU limit. Errors are [`Error::InvalidInput`] naming
    /// the option (snake_case).
    pub fn into_config(self) -> Result<KubernetesConfig> {
        self.check().map_err(|e| e.into_error("kubernetes"))?;
        let image = self.image.ok_or_else(|| {
            Error::InvalidInput("the kubernetes backend needs an image (option `image`)".into())
        })?;
        let mut c = KubernetesConfig::new(image);
        if let Some(v) = self.namespace {
            c.namespace = v;
        }
        c.runtime_class = self.runtime_class;
        // The checks above keep these within i32 (and i64).
        if let Some(v) = self.run_as_user {
            c.run_as_user = v;
        }
        if let Some(v) = self.run_as_group {
            c.run_as_group = v;
        }
        if let Some(v) = self.fs_group {
            c.fs_group = v;
        }
        if let Some(v) = self.ttl_seconds_after_finished {
            c.ttl_seconds_after_finished = i32::try_from(v).unwrap_or(i32::MAX);
        }
        for (target, value) in [
            (&mut c.cpu_limit, self.cpu_limit),
            (&mut c.cpu_request, self.cpu_request),
            (&mut c.memory_request, self.memory_request),
            (&mut c.ephemeral_storage_limit, self.ephemeral_storage_limit),
            (&mut c.tmp_size_limit, self.tmp_size_limit),
        ] {
            if let Some(v) = value {
                *target = v.text();
            }
        }
        if let (Some(request), Some(limit)) = (quantity(&c.cpu_request), quantity(&c.cpu_limit)) {
            if request > limit {
                return Err(bad(
                    "cpu_request",
                    format!(
                        "{} is more than the CPU limit {} (cpu_limit)",
                        c.cpu_request, c.cpu_limit
                    ),
                )
                .into_error("kubernetes"));
            }
        }
        c.service_account = self.service_account;
        if let Some(labels) = self.labels {
            c.labels = labels;
        }
        c.egress_proxy = self.egress_proxy;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(v: serde_json::Value) -> Result<KubernetesConfig> {
        KubernetesOptions::from_json(v).and_then(KubernetesOptions::into_config)
    }

    fn err(v: serde_json::Value) -> String {
        let e = config(v).unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
        assert_eq!(e.code(), crate::ErrorCode::InvalidArgument);
        e.to_string()
    }

    #[test]
    fn the_image_alone_gives_the_defaults() {
        assert_eq!(
            config(json!({"image": "python:3.12"})).unwrap(),
            KubernetesConfig::new("python:3.12")
        );
        // null is "not given".
        assert_eq!(
            config(json!({"image": "i", "namespace": null, "runtimeClass": null})).unwrap(),
            KubernetesConfig::new("i")
        );
    }

    #[test]
    fn snake_and_camel_case_give_the_same_config() {
        let snake = config(json!({
            "image": "img", "namespace": "agents", "runtime_class": "gvisor",
            "run_as_user": 2000, "run_as_group": 2001, "fs_group": 2002,
            "cpu_limit": "2", "cpu_request": "250m", "memory_request": "128Mi",
            "ephemeral_storage_limit": "2Gi", "tmp_size_limit": "64Mi",
            "ttl_seconds_after_finished": 60, "service_account": "sandbox-runner",
            "labels": {"team": "ml", "example.com/tier": "batch"},
            "egress_proxy": "http://10.96.0.12:3128"
        }))
        .unwrap();
        let camel = config(json!({
            "image": "img", "namespace": "agents", "runtimeClass": "gvisor",
            "runAsUser": 2000, "runAsGroup": 2001, "fsGroup": 2002,
            "cpuLimit": 2, "cpuRequest": "250m", "memoryRequest": "128Mi",
            "ephemeralStorageLimit": "2Gi", "tmpSizeLimit": "64Mi",
            "ttlSecondsAfterFinished": 60, "serviceAccount": "sandbox-runner",
            "labels": {"team": "ml", "example.com/tier": "batch"},
            "egressProxy": "http://10.96.0.12:3128"
        }))
        .unwrap();
        assert_eq!(snake, camel);
        assert_eq!(snake.namespace, "agents");
        assert_eq!(snake.runtime_class.as_deref(), Some("gvisor"));
        assert_eq!(
            (snake.run_as_user, snake.run_as_group, snake.fs_group),
            (2000, 2001, 2002)
        );
        assert_eq!(snake.cpu_limit, "2");
        assert_eq!(snake.cpu_request, "250m");
        assert_eq!(snake.memory_request, "128Mi");
        assert_eq!(snake.ephemeral_storage_limit, "2Gi");
        assert_eq!(snake.tmp_size_limit, "64Mi");
        assert_eq!(snake.ttl_seconds_after_finished, 60);
        assert_eq!(snake.service_account.as_deref(), Some("sandbox-runner"));
        assert_eq!(snake.labels["example.com/tier"], "batch");
        assert_eq!(
            snake.egress_proxy.as_deref(),
            Some("http://10.96.0.12:3128")
        );
    }

    #[test]
    fn unknown_options_and_wrong_types_are_named() {
        let e = err(json!({"image": "i", "runtime": "runsc"}));
        assert!(e.contains("unknown field `runtime`"), "{e}");
        assert!(
            e.contains("`runtime_class`"),
            "the known names are listed: {e}"
        );
        let e = err(json!({"image": "i", "namespace": 3}));
        assert!(
            e.contains("option `namespace`: invalid type: integer `3`, expected a string"),
            "{e}"
        );
        let e = err(json!({"image": "i", "runAsUser": "1000"}));
        assert!(
            e.contains("option `runAsUser`: invalid type: string"),
            "{e}"
        );
        let e = err(json!({"image": "i", "labels": ["a"]}));
        assert!(e.contains("option `labels`: invalid type: sequence"), "{e}");
        let e = err(json!({"image": "i", "cpuLimit": true}));
        assert!(
            e.contains("option `cpuLimit`: expected a quantity such as"),
            "{e}"
        );
        let e = err(json!({"image": "i", "namespace": "a", "namespace_": "b"}));
        assert!(e.contains("unknown field `namespace_`"), "{e}");
        let e = err(json!({"image": "i", "runtime_class": "a", "runtimeClass": "b"}));
        assert!(e.contains("duplicate field `runtime_class`"), "{e}");
        let e = err(json!("python"));
        assert!(e.contains("must be an object"), "{e}");
    }

    #[test]
    fn the_image_is_required_and_checked() {
        let e = err(json!({}));
        assert!(e.contains("needs an image (option `image`)"), "{e}");
        let e = err(json!(null));
        assert!(e.contains("needs an image"), "{e}");
        let e = err(json!({"image": ""}));
        assert!(e.contains("option `image`: must not be empty"), "{e}");
        let e = err(json!({"image": "a b"}));
        assert!(
            e.contains("option `image`: must not contain whitespace"),
            "{e}"
        );
    }

    #[test]
    fn names_are_rfc_1123() {
        for ns in ["a", "agents", "team-1", &"n".repeat(63)] {
            assert!(
                config(json!({"image": "i", "namespace": ns})).is_ok(),
                "{ns}"
            );
        }
        for ns in ["", "Agents", "team_1", "-a", "a-", "a.b", &"n".repeat(64)] {
            let e = err(json!({"image": "i", "namespace": ns}));
            assert!(
                e.contains("option `namespace`: must be an RFC 1123 label"),
                "{ns}: {e}"
            );
        }
        assert!(config(json!({"image": "i", "runtimeClass": "kata.fc"})).is_ok());
        let e = err(json!({"image": "i", "runtimeClass": "gVisor"}));
        assert!(
            e.contains("option `runtimeClass`: must be an RFC 1123 subdomain"),
            "{e}"
        );
        let e = err(json!({"image": "i", "service_account": "a..b"}));
        assert!(
            e.contains("option `service_account`: must be an RFC 1123 subdomain"),
            "{e}"
        );
    }

    #[test]
    fn ids_and_ttl_are_in_range() {
        let e = err(json!({"image": "i", "run_as_user": 0}));
        assert!(
            e.contains("option `run_as_user`: must be from 1 to 2147483647, not 0"),
            "{e}"
        );
        assert!(config(json!({"image": "i", "run_as_group": 0, "fs_group": 0})).is_ok());
        let e = err(json!({"image": "i", "fsGroup": -1}));
        assert!(e.contains("option `fsGroup`: must be from 0"), "{e}");
        let e = err(json!({"image": "i", "runAsGroup": 2147483648i64}));
        assert!(e.contains("option `runAsGroup`: must be from 0"), "{e}");
        let e = err(json!({"image": "i", "ttl_seconds_after_finished": -5}));
        assert!(
            e.contains("option `ttl_seconds_after_finished`: must be from 0"),
            "{e}"
        );
        let e = err(json!({"image": "i", "ttl_seconds_after_finished": 1.5}));
        assert!(
            e.contains("option `ttl_seconds_after_finished`: invalid type: floating point"),
            "{e}"
        );
    }

    #[test]
    fn quantities_are_checked() {
        for (q, v) in [
            ("1", 1.0),
            ("500m", 0.5),
            ("1.5", 1.5),
            (".5", 0.5),
            ("2k", 2000.0),
            ("1Ki", 1024.0),
            ("64Mi", 64.0 * 1024.0 * 1024.0),
            ("1e3", 1000.0),
            ("1E-3", 0.001),
            ("0", 0.0),
        ] {
            assert_eq!(quantity(q), Some(v), "{q}");
        }
        for q in [
            "", "m", "1.2.3", "-1", "+1", "1 Gi", "1K", "1gi", "1e", "1e+", "ten",
        ] {
            assert_eq!(quantity(q), None, "{q}");
        }
        let e = err(json!({"image": "i", "memory_request": "64MB"}));
        assert!(
            e.contains("option `memory_request`: must be a quantity such as \"500m\", \"2\" or \"1Gi\", not \"64MB\""),
            "{e}"
        );
        let e = err(json!({"image": "i", "cpuLimit": 0}));
        assert!(
            e.contains("option `cpuLimit`: must be more than zero"),
            "{e}"
        );
        let e = err(json!({"image": "i", "tmp_size_limit": "0Mi"}));
        assert!(
            e.contains("option `tmp_size_limit`: must be more than zero"),
            "{e}"
        );
        assert_eq!(
            config(json!({"image": "i", "cpu_request": 0}))
                .unwrap()
                .cpu_request,
            "0"
        );
        assert_eq!(
            config(json!({"image": "i", "cpu_limit": 0.5, "cpu_request": "500m"}))
                .unwrap()
                .cpu_limit,
            "0.5"
        );
        // The request is compared with the limit in force (default 1).
        let e = err(json!({"image": "i", "cpu_request": "2"}));
        assert!(
            e.contains("option `cpu_request`: 2 is more than the CPU limit 1 (cpu_limit)"),
            "{e}"
        );
        assert!(config(json!({"image": "i", "cpu_request": "2", "cpu_limit": "4"})).is_ok());
    }

    #[test]
    fn labels_and_the_egress_proxy_are_checked() {
        let e = err(json!({"image": "i", "labels": {"a b": "x"}}));
        assert!(
            e.contains("option `labels`: \"a b\" is not a label key"),
            "{e}"
        );
        let e = err(json!({"image": "i", "labels": {"Bad_Prefix/x": "y"}}));
        assert!(e.contains("is not a label key"), "{e}");
        let e = err(json!({"image": "i", "labels": {"team": "-ml"}}));
        assert!(
            e.contains("option `labels`: \"-ml\" (of \"team\") is not a label value"),
            "{e}"
        );
        let e = err(json!({"image": "i", "labels": {"sandboxcore.dev/managed": "false"}}));
        assert!(e.contains("sandboxcore's own"), "{e}");
        assert!(config(json!({"image": "i", "labels": {"team": ""}})).is_ok());
        for bad in [
            "10.96.0.12:3128",
            "https://proxy:3128",
            "http://",
            "http://a b",
        ] {
            let e = err(json!({"image": "i", "egressProxy": bad}));
            assert!(
                e.contains("option `egressProxy`: must be an http:// URL"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn into_config_names_the_option_for_other_formats() {
        let o: KubernetesOptions = serde_yaml_ng::from_str("image: i\nnamespace: Team\n").unwrap();
        let e = o.into_config().unwrap_err().to_string();
        assert!(
            e.contains("kubernetes backend option `namespace`: must be an RFC 1123 label"),
            "{e}"
        );
        let o: KubernetesOptions = serde_yaml_ng::from_str("image: i\ncpuLimit: 2\n").unwrap();
        assert_eq!(o.into_config().unwrap().cpu_limit, "2");
    }
}
