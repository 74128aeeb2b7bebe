//! The Job that runs one command, meeting the `restricted` Pod Security
//! Standard.

use super::{KubernetesConfig, MANAGED_LABEL, NETWORK_LABEL, RUN_ID_LABEL};
use crate::exec::Plan;
use crate::exec::{ExecRequest, Network};
use crate::{Error, Result};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, EnvVar, PodSecurityContext, PodSpec,
    PodTemplateSpec, ResourceRequirements, SeccompProfile, SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

/// The Job's name for a run id (`sandboxcore-<id>`, lower-cased, at most
/// 63 characters, only `[a-z0-9-]`).
pub fn job_name(run_id: &str) -> String {
    let id: String = run_id
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let mut name = format!("sandboxcore-{}", id.trim_matches('-'));
    name.truncate(63);
    name.trim_end_matches('-').to_string()
}

/// Whether a label value is valid (≤ 63 of `[A-Za-z0-9._-]`, alphanumeric
/// at both ends, or empty).
pub(super) fn valid_label_value(v: &str) -> bool {
    v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && v.chars().next().is_none_or(|c| c.is_ascii_alphanumeric())
        && v.chars().last().is_none_or(|c| c.is_ascii_alphanumeric())
}

/// Whether `url` can be the egress proxy's: `http://` and a host, with
/// no whitespace.
pub(super) fn valid_proxy_url(url: &str) -> bool {
    url.strip_prefix("http://")
        .is_some_and(|rest| !rest.is_empty() && !rest.contains(|c: char| c.is_whitespace()))
}

/// The environment pointing a run at the egress proxy: for a run with
/// network when `egress_proxy` is configured. An allowlist run without
/// one is refused (nothing here could filter it).
fn proxy_environment(
    network: &Network,
    egress_proxy: Option<&str>,
) -> Result<Vec<(String, String)>> {
    let url = match (network, egress_proxy) {
        (Network::None, _) | (Network::Allowed, None) => return Ok(Vec::new()),
        (Network::Allowlist(_), None) => {
            return Err(Error::InvalidInput(
                "the kubernetes backend filters a run's network only through the egress \
                 proxy: deploy it (`sandboxcore k8s manifests --egress-proxy`) and configure \
                 its URL (`egress_proxy`, `--egress-proxy URL`); the run then gets the proxy's \
                 policy, not its own hosts"
                    .into(),
            ))
        }
        (_, Some(url)) => url,
    };
    if !valid_proxy_url(url) {
        return Err(Error::InvalidInput(format!(
            "the egress proxy `{url}` is not an http:// URL (http://CLUSTER-IP:3128)"
        )));
    }
    Ok(crate::net::proxy_environment_url(url))
}

/// The Job for `request`. The command is the container's argv — the
/// `Direct` argv itself, or `["/bin/sh", "-c", script]` — never
/// interpolated into a script. Stdin cannot be given to a Job.
pub fn job(request: &ExecRequest, config: &KubernetesConfig, run_id: &str) -> Result<Job> {
    if request.stdin.is_some() {
        return Err(Error::InvalidInput(
            "the kubernetes backend cannot give a command standard input".into(),
        ));
    }
    let proxy_env = proxy_environment(&request.network, config.egress_proxy.as_deref())?;
    let command = match &request.plan {
        Plan::Direct(argv) if !argv.is_empty() => argv.clone(),
        Plan::Direct(_) => return Err(Error::InvalidInput("an empty argv cannot run".into())),
        Plan::Shell(script) => vec!["/bin/sh".into(), "-c".into(), script.clone()],
    };
    let mut labels = config.labels.clone();
    for (k, v) in &request.labels {
        if valid_label_value(v) {
            labels.insert(format!("sandboxcore.dev/{k}"), v.clone());
        }
    }
    labels.insert(MANAGED_LABEL.into(), "true".into());
    labels.insert("app.kubernetes.io/managed-by".into(), "sandboxcore".into());
    let id_label: String = job_name(run_id).trim_start_matches("sandboxcore-").into();
    labels.insert(RUN_ID_LABEL.into(), id_label);
    labels.insert(NETWORK_LABEL.into(), request.network.as_str().into());
    let limits = &request.limits;
    let q = |s: &str| Quantity(s.to_string());
    let mut resource_limits = BTreeMap::from([
        ("cpu".to_string(), q(&config.cpu_limit)),
        (
            "ephemeral-storage".to_string(),
            q(&config.ephemeral_storage_limit),
        ),
    ]);
    if let Some(m) = limits.memory {
        resource_limits.insert("memory".into(), Quantity(m.to_string()));
    }
    let runtime_default = || SeccompProfile {
        type_: "RuntimeDefault".into(),
        ..SeccompProfile::default()
    };
    let container = Container {
        name: "command".into(),
        image: Some(config.image.clone()),
        command: Some(command),
        working_dir: request.cwd.as_ref().map(|p| p.display().to_string()),
        env: (!request.env.is_empty() || !proxy_env.is_empty()).then(|| {
            let mut env = request.env.clone();
            env.extend(proxy_env);
            env.into_iter()
                .map(|(name, value)| EnvVar {
                    name,
                    value: Some(value),
                    ..EnvVar::default()
                })
                .collect()
        }),
        resources: Some(ResourceRequirements {
            limits: Some(resource_limits),
            requests: Some(BTreeMap::from([
                ("cpu".to_string(), q(&config.cpu_request)),
                ("memory".to_string(), q(&config.memory_request)),
            ])),
            ..ResourceRequirements::default()
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            privileged: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            run_as_user: Some(config.run_as_user),
            run_as_group: Some(config.run_as_group),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                ..Capabilities::default()
            }),
            seccomp_profile: Some(runtime_default()),
            ..SecurityContext::default()
        }),
        volume_mounts: Some(vec![VolumeMount {
            name: "tmp".into(),
            mount_path: "/tmp".into(),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    };
    let pod = PodSpec {
        restart_policy: Some("Never".into()),
        runtime_class_name: config.runtime_class.clone(),
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        service_account_name: config.service_account.clone(),
        security_context: Some(PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(config.run_as_user),
            run_as_group: Some(config.run_as_group),
            fs_group: Some(config.fs_group),
            seccomp_profile: Some(runtime_default()),
            ..PodSecurityContext::default()
        }),
        containers: vec![container],
        volumes: Some(vec![Volume {
            name: "tmp".into(),
            empty_dir: Some(EmptyDirVolumeSource {
                size_limit: Some(q(&config.tmp_size_limit)),
                ..EmptyDirVolumeSource::default()
            }),
            ..Volume::default()
        }]),
        ..PodSpec::default()
    };
    Ok(Job {
        metadata: ObjectMeta {
            name: Some(job_name(run_id)),
            namespace: Some(config.namespace.clone()),
            labels: Some(labels.clone()),
            ..ObjectMeta::default()
        },
        spec: Some(JobSpec {
            backoff_limit: Some(0),
            active_deadline_seconds: limits
                .timeout
                .map(|t| (t.as_secs_f64().ceil() as i64).max(1)),
            ttl_seconds_after_finished: Some(config.ttl_seconds_after_finished),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod),
            },
            ..JobSpec::default()
        }),
        ..Job::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use std::time::Duration;

    fn job_json(req: &ExecRequest, cfg: &KubernetesConfig) -> Value {
        serde_json::to_value(job(req, cfg, "Run_42").unwrap()).unwrap()
    }

    #[test]
    fn the_job_meets_the_restricted_profile() {
        let mut req = ExecRequest::new(Plan::Direct(vec!["pytest".into(), "-q".into()]));
        req.limits.timeout = Some(Duration::from_millis(30_500));
        req.limits.memory = Some(256 << 20);
        let mut cfg = KubernetesConfig::new("registry.local/agent:1");
        cfg.runtime_class = Some("gvisor".into());
        let j = job_json(&req, &cfg);
        assert_eq!(j["apiVersion"], "batch/v1");
        assert_eq!(j["kind"], "Job");
        assert_eq!(j["metadata"]["name"], "sandboxcore-run-42");
        assert_eq!(j["metadata"]["namespace"], "sandboxcore");
        let spec = &j["spec"];
        assert_eq!(spec["backoffLimit"], 0);
        assert_eq!(spec["activeDeadlineSeconds"], 31);
        assert_eq!(spec["ttlSecondsAfterFinished"], 300);
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Never");
        assert_eq!(pod["runtimeClassName"], "gvisor");
        assert_eq!(pod["automountServiceAccountToken"], false);
        assert_eq!(pod["enableServiceLinks"], false);
        assert_eq!(
            pod["securityContext"],
            json!({
                "runAsNonRoot": true, "runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000,
                "seccompProfile": {"type": "RuntimeDefault"}
            })
        );
        let c = &pod["containers"][0];
        assert_eq!(c["image"], "registry.local/agent:1");
        assert_eq!(c["command"], json!(["pytest", "-q"]));
        assert_eq!(
            c["securityContext"],
            json!({
                "allowPrivilegeEscalation": false, "privileged": false,
                "readOnlyRootFilesystem": true, "runAsNonRoot": true,
                "runAsUser": 1000, "runAsGroup": 1000,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"}
            })
        );
        assert_eq!(
            c["resources"],
            json!({
                "limits": {"cpu": "1", "ephemeral-storage": "1Gi", "memory": "268435456"},
                "requests": {"cpu": "100m", "memory": "64Mi"}
            })
        );
        assert_eq!(
            c["volumeMounts"],
            json!([{"name": "tmp", "mountPath": "/tmp"}])
        );
        assert_eq!(
            pod["volumes"],
            json!([{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}])
        );
        let labels = &spec["template"]["metadata"]["labels"];
        assert_eq!(labels["sandboxcore.dev/managed"], "true");
        assert_eq!(labels["sandboxcore.dev/run-id"], "run-42");
        assert_eq!(labels["sandboxcore.dev/network"], "none");
        assert_eq!(j["metadata"]["labels"], *labels);
    }

    #[test]
    fn shell_plans_are_one_argument_never_interpolated() {
        let script = "echo \"$(id)\"; rm -rf '/tmp/x y'";
        let req = ExecRequest::new(Plan::Shell(script.into()));
        let j = job_json(&req, &KubernetesConfig::new("img"));
        assert_eq!(
            j["spec"]["template"]["spec"]["containers"][0]["command"],
            json!(["/bin/sh", "-c", script])
        );
    }

    #[test]
    fn inputs_that_cannot_be_honoured_are_errors() {
        let mut req = ExecRequest::new(Plan::Direct(vec!["cat".into()]));
        req.stdin = Some(b"x".to_vec());
        assert!(job(&req, &KubernetesConfig::new("img"), "1").is_err());
        let empty = ExecRequest::new(Plan::Direct(vec![]));
        assert!(job(&empty, &KubernetesConfig::new("img"), "1").is_err());
    }

    #[test]
    fn names_and_labels_are_valid_kubernetes_values() {
        assert_eq!(job_name("ABC_def/1"), "sandboxcore-abc-def-1");
        assert!(job_name(&"x".repeat(100)).len() <= 63);
        assert!(valid_label_value("proj-1.a"));
        assert!(!valid_label_value("-bad"));
        let mut req = ExecRequest::new(Plan::Direct(vec!["true".into()]));
        req.labels.insert("project".into(), "demo".into());
        req.labels.insert("user".into(), "not valid!".into());
        req.network = Network::Allowed;
        let j = job_json(&req, &KubernetesConfig::new("img"));
        let labels = &j["metadata"]["labels"];
        assert_eq!(labels["sandboxcore.dev/project"], "demo");
        assert!(labels.get("sandboxcore.dev/user").is_none());
        assert_eq!(labels["sandboxcore.dev/network"], "allowed");
    }

    fn env_of(j: &Value) -> BTreeMap<String, String> {
        j["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .map(|vars| {
                vars.iter()
                    .map(|v| {
                        let s = |k: &str| v[k].as_str().unwrap().to_string();
                        (s("name"), s("value"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn runs_with_network_go_through_the_configured_egress_proxy() {
        let allowlist = Network::allowlist(
            crate::net::EgressRules::new(&["pypi.org".into()], &[], &[]).unwrap(),
        );
        let mut req = ExecRequest::new(Plan::Direct(vec!["pip".into()]));
        req.env
            .insert("HTTP_PROXY".into(), "http://elsewhere:1".into());
        req.env.insert("LANG".into(), "C".into());
        req.network = allowlist.clone();
        // No proxy configured: nothing could filter the run.
        let err = job(&req, &KubernetesConfig::new("img"), "1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("--egress-proxy"), "{err}");
        assert!(
            err.contains("the proxy's policy, not its own hosts"),
            "{err}"
        );

        let mut cfg = KubernetesConfig::new("img");
        cfg.egress_proxy = Some("http://10.96.0.12:3128".into());
        let j = job_json(&req, &cfg);
        let env = env_of(&j);
        for name in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
        ] {
            assert_eq!(env[name], "http://10.96.0.12:3128", "{name}");
        }
        assert_eq!(env["NO_PROXY"], "localhost,127.0.0.1,::1");
        assert_eq!(env["LANG"], "C");
        let labels = &j["spec"]["template"]["metadata"]["labels"];
        assert_eq!(labels["sandboxcore.dev/network"], "allowlist");

        // Network allowed: through the proxy too when there is one.
        req.network = Network::Allowed;
        let env = env_of(&job_json(&req, &cfg));
        assert_eq!(env["HTTPS_PROXY"], "http://10.96.0.12:3128");
        let env = env_of(&job_json(&req, &KubernetesConfig::new("img")));
        assert_eq!(env["HTTP_PROXY"], "http://elsewhere:1");
        assert!(!env.contains_key("HTTPS_PROXY"));
        // No network: no proxy.
        req.network = Network::None;
        assert!(!env_of(&job_json(&req, &cfg)).contains_key("HTTPS_PROXY"));

        req.network = allowlist;
        for bad in [
            "10.96.0.12:3128",
            "https://proxy:3128",
            "http://",
            "http://a b",
        ] {
            cfg.egress_proxy = Some(bad.into());
            let err = job(&req, &cfg, "1").unwrap_err().to_string();
            assert!(err.contains("is not an http:// URL"), "{bad}: {err}");
        }
    }
}
