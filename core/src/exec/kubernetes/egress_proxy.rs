//! The egress proxy of a sandbox namespace (`sandboxcore k8s manifests
//! --egress-proxy`): `sandboxcore proxy` as a Deployment behind a Service,
//! its policy in a ConfigMap, and the NetworkPolicies that leave sandbox
//! pods with network no way out but the proxy.

use super::manifests::{json, meta, quantities};
use super::{MANAGED_LABEL, NETWORK_LABEL};
use crate::net::PROXY_PORT;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, PodSecurityContext,
    PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile, SecurityContext,
    Service, ServicePort, ServiceSpec, TCPSocketAction, Volume, VolumeMount,
};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;
use std::collections::BTreeMap;

/// The name of the proxy's Deployment, Service and NetworkPolicy.
pub const EGRESS_PROXY_NAME: &str = "sandboxcore-egress-proxy";
/// The ConfigMap holding the proxy's policy (key `policy.yaml`).
pub const EGRESS_POLICY_CONFIG_MAP: &str = "sandboxcore-egress-policy";
/// The NetworkPolicy that sends sandbox pods with network to the proxy.
const VIA_PROXY_POLICY: &str = "sandboxcore-egress-via-proxy";
/// Where the policy is mounted in the proxy's pods.
const POLICY_DIR: &str = "/etc/sandboxcore";
/// The uid and gid of the proxy (non-root, distroless `nonroot`).
const PROXY_UID: i64 = 65532;

/// What the egress proxy runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressProxySpec {
    /// An image with `sandboxcore` on its `PATH`.
    pub image: String,
    /// The policy file's text, put in the ConfigMap
    /// [`EGRESS_POLICY_CONFIG_MAP`]. `None`: no ConfigMap is made; the
    /// operator creates one of that name with the key `policy.yaml`.
    pub policy: Option<String>,
    /// Pods of the proxy (default 2: runs with network need one up).
    pub replicas: i32,
}

impl EgressProxySpec {
    /// Two replicas of `image`, the policy ConfigMap left to the operator.
    pub fn new(image: impl Into<String>) -> EgressProxySpec {
        EgressProxySpec {
            image: image.into(),
            policy: None,
            replicas: 2,
        }
    }
}

fn labels(items: &[(&str, &str)]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The labels of the proxy's pods (never the managed label of sandbox
/// pods, so no sandbox NetworkPolicy selects them).
fn proxy_labels() -> BTreeMap<String, String> {
    labels(&[
        ("app.kubernetes.io/name", EGRESS_PROXY_NAME),
        ("app.kubernetes.io/component", "egress-proxy"),
    ])
}

fn proxy_selector() -> LabelSelector {
    LabelSelector {
        match_labels: Some(proxy_labels()),
        ..LabelSelector::default()
    }
}

fn tcp(port: i32) -> NetworkPolicyPort {
    port_of("TCP", port)
}

fn port_of(protocol: &str, port: i32) -> NetworkPolicyPort {
    NetworkPolicyPort {
        protocol: Some(protocol.into()),
        port: Some(IntOrString::Int(port)),
        ..NetworkPolicyPort::default()
    }
}

/// The objects that give a sandbox namespace network by allowlist, in
/// apply order (after [`super::manifests`]):
///
/// - the ConfigMap [`EGRESS_POLICY_CONFIG_MAP`] with the policy, when
///   `spec.policy` is given;
/// - the Deployment [`EGRESS_PROXY_NAME`] running `sandboxcore proxy
///   --policy /etc/sandboxcore/policy.yaml --listen 0.0.0.0:3128`, hardened
///   as the Jobs are (non-root, read-only root, no capabilities,
///   `RuntimeDefault` seccomp, no service account token, resources);
/// - the Service [`EGRESS_PROXY_NAME`] on TCP 3128;
/// - a NetworkPolicy for sandbox pods with network (`allowed` or
///   `allowlist`): no ingress, egress only to the proxy's pods on TCP
///   3128 — no DNS, so runs reach the proxy by the Service's cluster IP;
/// - a NetworkPolicy for the proxy's pods: ingress from sandbox pods on
///   TCP 3128 only; egress on TCP 80 and 443 to any address (the proxy
///   itself refuses special-purpose addresses unless its policy allows
///   them by address) and DNS (UDP and TCP 53) to any address.
pub fn egress_proxy_manifests(namespace: &str, spec: &EgressProxySpec) -> Vec<Value> {
    let ns = Some(namespace);
    let port = i32::from(PROXY_PORT);
    let mut objects = Vec::new();
    if let Some(policy) = &spec.policy {
        objects.push(json(ConfigMap {
            metadata: meta(EGRESS_POLICY_CONFIG_MAP, ns, &[]),
            data: Some(BTreeMap::from([("policy.yaml".into(), policy.clone())])),
            ..ConfigMap::default()
        }));
    }
    let runtime_default = || SeccompProfile {
        type_: "RuntimeDefault".into(),
        ..SeccompProfile::default()
    };
    let probe = |period: i32| Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::Int(port),
            ..TCPSocketAction::default()
        }),
        period_seconds: Some(period),
        ..Probe::default()
    };
    let container = Container {
        name: "proxy".into(),
        image: Some(spec.image.clone()),
        command: Some(
            [
                "sandboxcore",
                "proxy",
                "--policy",
                &format!("{POLICY_DIR}/policy.yaml"),
                "--listen",
                &format!("0.0.0.0:{port}"),
            ]
            .map(str::to_string)
            .to_vec(),
        ),
        ports: Some(vec![ContainerPort {
            name: Some("proxy".into()),
            container_port: port,
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        readiness_probe: Some(probe(5)),
        liveness_probe: Some(probe(20)),
        resources: Some(ResourceRequirements {
            limits: Some(quantities(&[
                ("cpu", "1"),
                ("memory", "256Mi"),
                ("ephemeral-storage", "64Mi"),
            ])),
            requests: Some(quantities(&[("cpu", "100m"), ("memory", "64Mi")])),
            ..ResourceRequirements::default()
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            privileged: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            run_as_user: Some(PROXY_UID),
            run_as_group: Some(PROXY_UID),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                ..Capabilities::default()
            }),
            seccomp_profile: Some(runtime_default()),
            ..SecurityContext::default()
        }),
        volume_mounts: Some(vec![VolumeMount {
            name: "policy".into(),
            mount_path: POLICY_DIR.into(),
            read_only: Some(true),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    };
    let pod = PodSpec {
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        security_context: Some(PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(PROXY_UID),
            run_as_group: Some(PROXY_UID),
            seccomp_profile: Some(runtime_default()),
            ..PodSecurityContext::default()
        }),
        containers: vec![container],
        volumes: Some(vec![Volume {
            name: "policy".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: EGRESS_POLICY_CONFIG_MAP.into(),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        }]),
        ..PodSpec::default()
    };
    let mut pod_labels = proxy_labels();
    pod_labels.insert("app.kubernetes.io/managed-by".into(), "sandboxcore".into());
    let proxy_meta = || {
        let mut m = meta(EGRESS_PROXY_NAME, ns, &[]);
        m.labels
            .get_or_insert_with(BTreeMap::new)
            .extend(proxy_labels());
        m
    };
    objects.push(json(Deployment {
        metadata: proxy_meta(),
        spec: Some(DeploymentSpec {
            replicas: Some(spec.replicas),
            selector: proxy_selector(),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }));
    objects.push(json(Service {
        metadata: proxy_meta(),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(proxy_labels()),
            ports: Some(vec![ServicePort {
                name: Some("proxy".into()),
                port,
                target_port: Some(IntOrString::Int(port)),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }));
    let sandbox_pods = LabelSelector {
        match_labels: Some(labels(&[(MANAGED_LABEL, "true")])),
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: NETWORK_LABEL.into(),
            operator: "In".into(),
            values: Some(vec!["allowed".into(), "allowlist".into()]),
        }]),
    };
    objects.push(json(NetworkPolicy {
        metadata: meta(VIA_PROXY_POLICY, ns, &[]),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(sandbox_pods),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: Some(vec![]),
            egress: Some(vec![NetworkPolicyEgressRule {
                to: Some(vec![NetworkPolicyPeer {
                    pod_selector: Some(proxy_selector()),
                    ..NetworkPolicyPeer::default()
                }]),
                ports: Some(vec![tcp(port)]),
            }]),
        }),
    }));
    objects.push(json(NetworkPolicy {
        metadata: proxy_meta(),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(proxy_selector()),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(vec![NetworkPolicyPeer {
                    pod_selector: Some(LabelSelector {
                        match_labels: Some(labels(&[(MANAGED_LABEL, "true")])),
                        ..LabelSelector::default()
                    }),
                    ..NetworkPolicyPeer::default()
                }]),
                ports: Some(vec![tcp(port)]),
            }]),
            egress: Some(vec![
                NetworkPolicyEgressRule {
                    to: None,
                    ports: Some(vec![tcp(80), tcp(443)]),
                },
                NetworkPolicyEgressRule {
                    to: None,
                    ports: Some(vec![port_of("UDP", 53), tcp(53)]),
                },
            ]),
        }),
    }));
    objects
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn find<'a>(objs: &'a [Value], kind: &str, name: &str) -> &'a Value {
        objs.iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("{kind} {name}"))
    }

    /// The objects go through the typed API structs and back: they are
    /// what `kubectl apply` would read.
    #[test]
    fn the_objects_parse_back_as_kubernetes_objects() {
        let mut spec = EgressProxySpec::new("registry.local/sandboxcore:1");
        spec.policy = Some("network:\n  allow: [pypi.org]\n".into());
        let m = egress_proxy_manifests("agents", &spec);
        let kinds: Vec<&str> = m.iter().map(|o| o["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "ConfigMap",
                "Deployment",
                "Service",
                "NetworkPolicy",
                "NetworkPolicy"
            ]
        );
        let _: ConfigMap = serde_json::from_value(m[0].clone()).unwrap();
        let _: Deployment = serde_json::from_value(m[1].clone()).unwrap();
        let _: Service = serde_json::from_value(m[2].clone()).unwrap();
        for np in &m[3..] {
            let _: NetworkPolicy = serde_json::from_value(np.clone()).unwrap();
        }
        for o in &m {
            assert_eq!(o["metadata"]["namespace"], "agents");
            assert_eq!(
                o["metadata"]["labels"]["app.kubernetes.io/managed-by"],
                "sandboxcore"
            );
        }
        assert_eq!(
            find(&m, "ConfigMap", EGRESS_POLICY_CONFIG_MAP)["data"]["policy.yaml"],
            "network:\n  allow: [pypi.org]\n"
        );
        // Without a policy the ConfigMap is the operator's.
        let m = egress_proxy_manifests("agents", &EgressProxySpec::new("img"));
        assert!(m.iter().all(|o| o["kind"] != "ConfigMap"));
    }

    #[test]
    fn the_proxy_deployment_is_hardened() {
        let m = egress_proxy_manifests("agents", &EgressProxySpec::new("img:1"));
        let d: Deployment =
            serde_json::from_value(find(&m, "Deployment", EGRESS_PROXY_NAME).clone()).unwrap();
        let spec = d.spec.unwrap();
        assert_eq!(spec.replicas, Some(2));
        let template_labels = spec.template.metadata.unwrap().labels.unwrap();
        for (k, v) in spec.selector.match_labels.unwrap() {
            assert_eq!(template_labels.get(&k), Some(&v), "{k}");
        }
        assert!(!template_labels.contains_key(MANAGED_LABEL));
        let pod = spec.template.spec.unwrap();
        assert_eq!(pod.automount_service_account_token, Some(false));
        assert_eq!(pod.enable_service_links, Some(false));
        let psc = pod.security_context.unwrap();
        assert_eq!(psc.run_as_non_root, Some(true));
        assert_eq!(psc.seccomp_profile.unwrap().type_, "RuntimeDefault");
        let [c] = &pod.containers[..] else {
            panic!("one container")
        };
        assert_eq!(c.image.as_deref(), Some("img:1"));
        assert_eq!(
            c.command.as_deref().unwrap(),
            [
                "sandboxcore",
                "proxy",
                "--policy",
                "/etc/sandboxcore/policy.yaml",
                "--listen",
                "0.0.0.0:3128"
            ]
        );
        let sc = c.security_context.clone().unwrap();
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(sc.privileged, Some(false));
        assert_eq!(sc.read_only_root_filesystem, Some(true));
        assert_eq!(sc.run_as_non_root, Some(true));
        assert_ne!(sc.run_as_user, Some(0));
        assert_eq!(sc.capabilities.unwrap().drop.unwrap(), ["ALL"]);
        assert_eq!(sc.seccomp_profile.unwrap().type_, "RuntimeDefault");
        let res = c.resources.clone().unwrap();
        for k in ["cpu", "memory", "ephemeral-storage"] {
            assert!(res.limits.as_ref().unwrap().contains_key(k), "{k}");
        }
        assert!(res.requests.unwrap().contains_key("memory"));
        let mount = &c.volume_mounts.as_ref().unwrap()[0];
        assert_eq!(
            (mount.mount_path.as_str(), mount.read_only),
            ("/etc/sandboxcore", Some(true))
        );
        assert_eq!(
            pod.volumes.unwrap()[0].config_map.as_ref().unwrap().name,
            EGRESS_POLICY_CONFIG_MAP
        );
        assert!(c.readiness_probe.as_ref().unwrap().tcp_socket.is_some());

        let svc: Service =
            serde_json::from_value(find(&m, "Service", EGRESS_PROXY_NAME).clone()).unwrap();
        let svc = svc.spec.unwrap();
        assert_eq!(svc.selector.unwrap(), proxy_labels());
        let p = &svc.ports.unwrap()[0];
        assert_eq!(
            (p.port, p.target_port.clone(), p.protocol.as_deref()),
            (3128, Some(IntOrString::Int(3128)), Some("TCP"))
        );
    }

    #[test]
    fn sandbox_pods_with_network_reach_only_the_proxy() {
        let m = egress_proxy_manifests("agents", &EgressProxySpec::new("img"));
        let np: NetworkPolicy =
            serde_json::from_value(find(&m, "NetworkPolicy", VIA_PROXY_POLICY).clone()).unwrap();
        let spec = np.spec.unwrap();
        let selector = spec.pod_selector.unwrap();
        assert_eq!(
            selector.match_labels.unwrap(),
            labels(&[(MANAGED_LABEL, "true")])
        );
        assert_eq!(
            serde_json::to_value(selector.match_expressions).unwrap(),
            json!([{"key": NETWORK_LABEL, "operator": "In", "values": ["allowed", "allowlist"]}])
        );
        assert_eq!(spec.policy_types.unwrap(), ["Ingress", "Egress"]);
        assert_eq!(spec.ingress.unwrap(), []);
        // One egress rule: the proxy's pods, TCP 3128; nothing else (no
        // DNS, no ipBlock).
        let egress = spec.egress.unwrap();
        assert_eq!(
            serde_json::to_value(&egress).unwrap(),
            json!([{
                "to": [{"podSelector": {"matchLabels": {
                    "app.kubernetes.io/component": "egress-proxy",
                    "app.kubernetes.io/name": "sandboxcore-egress-proxy"
                }}}],
                "ports": [{"protocol": "TCP", "port": 3128}]
            }])
        );
        // The selector picks the proxy's pods (the Deployment's labels).
        let d = find(&m, "Deployment", EGRESS_PROXY_NAME);
        for (k, v) in egress[0].to.as_ref().unwrap()[0]
            .pod_selector
            .as_ref()
            .unwrap()
            .match_labels
            .as_ref()
            .unwrap()
        {
            assert_eq!(d["spec"]["template"]["metadata"]["labels"][k], *v);
        }
    }

    #[test]
    fn the_proxy_takes_sandbox_pods_in_and_reaches_web_ports_and_dns() {
        let m = egress_proxy_manifests("agents", &EgressProxySpec::new("img"));
        let np = find(&m, "NetworkPolicy", EGRESS_PROXY_NAME);
        let _: NetworkPolicy = serde_json::from_value(np.clone()).unwrap();
        assert_eq!(
            np["spec"],
            json!({
                "podSelector": {"matchLabels": {
                    "app.kubernetes.io/component": "egress-proxy",
                    "app.kubernetes.io/name": "sandboxcore-egress-proxy"
                }},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{
                    "from": [{"podSelector": {"matchLabels": {"sandboxcore.dev/managed": "true"}}}],
                    "ports": [{"protocol": "TCP", "port": 3128}]
                }],
                "egress": [
                    {"ports": [{"protocol": "TCP", "port": 80}, {"protocol": "TCP", "port": 443}]},
                    {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
                ]
            })
        );
    }
}
