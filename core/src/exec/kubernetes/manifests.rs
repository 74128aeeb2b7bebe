//! What an operator applies once per namespace before sandboxcore can run
//! Jobs there (`sandboxcore k8s manifests`).

use super::{MANAGED_LABEL, NETWORK_LABEL};
use k8s_openapi::api::core::v1::{
    LimitRange, LimitRangeItem, LimitRangeSpec, Namespace, ResourceQuota, ResourceQuotaSpec,
    ServiceAccount,
};
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicySpec};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde_json::Value;
use std::collections::BTreeMap;

pub(super) fn meta(name: &str, namespace: Option<&str>, labels: &[(&str, &str)]) -> ObjectMeta {
    let mut l: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    l.insert("app.kubernetes.io/managed-by".into(), "sandboxcore".into());
    ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(str::to_string),
        labels: Some(l),
        ..ObjectMeta::default()
    }
}

pub(super) fn quantities(items: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
        .collect()
}

fn rule(resources: &[&str], verbs: &[&str], group: &str) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![group.into()]),
        resources: Some(resources.iter().map(|r| r.to_string()).collect()),
        verbs: verbs.iter().map(|v| v.to_string()).collect(),
        ..PolicyRule::default()
    }
}

pub(super) fn json(v: impl serde::Serialize) -> Value {
    serde_json::to_value(v).expect("Kubernetes objects serialize")
}

/// The objects, in apply order: the Namespace (Pod Security Admission
/// `restricted` enforced, audited and warned), the ServiceAccount the
/// backend uses, a Role and RoleBinding limited to Jobs, Pods and Pod logs
/// in that namespace, a default-deny NetworkPolicy (ingress and egress)
/// for sandbox pods without network, a ResourceQuota and a LimitRange.
pub fn manifests(namespace: &str) -> Vec<Value> {
    let ns = Some(namespace);
    let namespace_obj = Namespace {
        metadata: meta(
            namespace,
            None,
            &[
                ("pod-security.kubernetes.io/enforce", "restricted"),
                ("pod-security.kubernetes.io/enforce-version", "latest"),
                ("pod-security.kubernetes.io/audit", "restricted"),
                ("pod-security.kubernetes.io/warn", "restricted"),
            ],
        ),
        ..Namespace::default()
    };
    let account = ServiceAccount {
        metadata: meta("sandboxcore", ns, &[]),
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    };
    let role = Role {
        metadata: meta("sandboxcore-runner", ns, &[]),
        rules: Some(vec![
            rule(
                &["jobs"],
                &["create", "get", "list", "watch", "delete"],
                "batch",
            ),
            rule(&["pods"], &["get", "list", "watch"], ""),
            rule(&["pods/log"], &["get"], ""),
        ]),
    };
    let binding = RoleBinding {
        metadata: meta("sandboxcore-runner", ns, &[]),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: "sandboxcore-runner".into(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: "sandboxcore".into(),
            namespace: Some(namespace.into()),
            ..Subject::default()
        }]),
    };
    let deny = NetworkPolicy {
        metadata: meta("sandboxcore-deny-all", ns, &[]),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([
                    (MANAGED_LABEL.to_string(), "true".to_string()),
                    (NETWORK_LABEL.to_string(), "none".to_string()),
                ])),
                ..LabelSelector::default()
            }),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: Some(vec![]),
            egress: Some(vec![]),
        }),
    };
    let quota = ResourceQuota {
        metadata: meta("sandboxcore-quota", ns, &[]),
        spec: Some(ResourceQuotaSpec {
            hard: Some(quantities(&[
                ("pods", "20"),
                ("count/jobs.batch", "50"),
                ("requests.cpu", "4"),
                ("requests.memory", "8Gi"),
                ("limits.cpu", "8"),
                ("limits.memory", "16Gi"),
                ("requests.ephemeral-storage", "20Gi"),
                ("limits.ephemeral-storage", "40Gi"),
            ])),
            ..ResourceQuotaSpec::default()
        }),
        ..ResourceQuota::default()
    };
    let limits = LimitRange {
        metadata: meta("sandboxcore-limits", ns, &[]),
        spec: Some(LimitRangeSpec {
            limits: vec![LimitRangeItem {
                type_: "Container".into(),
                default: Some(quantities(&[
                    ("cpu", "1"),
                    ("memory", "512Mi"),
                    ("ephemeral-storage", "1Gi"),
                ])),
                default_request: Some(quantities(&[("cpu", "100m"), ("memory", "64Mi")])),
                max: Some(quantities(&[
                    ("cpu", "2"),
                    ("memory", "4Gi"),
                    ("ephemeral-storage", "4Gi"),
                ])),
                ..LimitRangeItem::default()
            }],
        }),
    };
    vec![
        json(namespace_obj),
        json(account),
        json(role),
        json(binding),
        json(deny),
        json(quota),
        json(limits),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn find<'a>(objs: &'a [Value], kind: &str) -> &'a Value {
        objs.iter().find(|o| o["kind"] == kind).expect(kind)
    }

    #[test]
    fn manifests_field_by_field() {
        let m = manifests("agents");
        let kinds: Vec<&str> = m.iter().map(|o| o["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "Namespace",
                "ServiceAccount",
                "Role",
                "RoleBinding",
                "NetworkPolicy",
                "ResourceQuota",
                "LimitRange"
            ]
        );
        let ns = find(&m, "Namespace");
        assert_eq!(ns["apiVersion"], "v1");
        assert_eq!(ns["metadata"]["name"], "agents");
        for mode in ["enforce", "audit", "warn"] {
            assert_eq!(
                ns["metadata"]["labels"][format!("pod-security.kubernetes.io/{mode}")],
                "restricted"
            );
        }
        assert_eq!(
            find(&m, "ServiceAccount")["automountServiceAccountToken"],
            false
        );
        let role = find(&m, "Role");
        assert_eq!(role["apiVersion"], "rbac.authorization.k8s.io/v1");
        assert_eq!(role["metadata"]["namespace"], "agents");
        assert_eq!(
            role["rules"],
            json!([
                {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "get", "list", "watch", "delete"]},
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}
            ])
        );
        let binding = find(&m, "RoleBinding");
        assert_eq!(binding["roleRef"]["name"], "sandboxcore-runner");
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": "sandboxcore", "namespace": "agents"}])
        );
        let np = find(&m, "NetworkPolicy");
        assert_eq!(np["apiVersion"], "networking.k8s.io/v1");
        assert_eq!(
            np["spec"],
            json!({
                "podSelector": {"matchLabels": {"sandboxcore.dev/managed": "true", "sandboxcore.dev/network": "none"}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [],
                "egress": []
            })
        );
        assert_eq!(find(&m, "ResourceQuota")["spec"]["hard"]["pods"], "20");
        let lr = &find(&m, "LimitRange")["spec"]["limits"][0];
        assert_eq!(lr["type"], "Container");
        assert_eq!(lr["default"]["memory"], "512Mi");
        assert_eq!(lr["max"]["cpu"], "2");
        for o in &m {
            assert_eq!(
                o["metadata"]["labels"]["app.kubernetes.io/managed-by"],
                "sandboxcore"
            );
        }
    }
}
