//! The kinds sparkup renders or accepts from a user's templates, all of them namespaced: their
//! REST names, apply stage and the k8s-openapi type every object of the kind is checked against.

// The REST names and the lookups by group-kind serve only the cluster commands.
#![cfg_attr(not(feature = "kube"), allow(dead_code))]

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::json::first_lost_key;

/// Kinds that belong to no namespace: a template may not render them, so that prune and delete,
/// which remove what the instance's ApplySet lists, can never remove a Namespace (with every claim
/// and foreign object in it) or anything else outside the instance.
pub(crate) const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
];

/// `Kind/name`, the one way sparkup names an object, as kubectl does.
pub(crate) fn object_id(kind: &str, name: &str) -> String {
    format!("{kind}/{name}")
}

/// A kind sparkup renders or accepts from a user's templates, with its REST path.
pub(crate) struct KindInfo {
    pub(crate) api_version: &'static str,
    pub(crate) kind: &'static str,
    /// API group, empty for the core group.
    pub(crate) group: &'static str,
    /// Plural name in REST paths (`deployments`).
    pub(crate) plural: &'static str,
    /// Apply order: configuration, storage, services, workloads, the rest.
    pub(crate) stage: u8,
    /// Served by a CustomResourceDefinition that a cluster may not have.
    pub(crate) custom: bool,
    check: fn(&Value) -> Result<Value, String>,
}

impl std::fmt::Debug for KindInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{} {}", self.api_version, self.kind)
    }
}

impl KindInfo {
    /// `Kind` for the core group, `Kind.group` otherwise, as ApplySet names group-kinds.
    pub(crate) fn group_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// The object typed as this kind and serialized back, in the type's field order; fails on
    /// a field of the wrong type or one the type does not know.
    pub(crate) fn check(&self, value: &Value) -> Result<Value, String> {
        (self.check)(value)
    }
}

/// Every kind in the table.
pub(crate) fn all() -> impl Iterator<Item = &'static KindInfo> {
    KINDS.iter().chain(CUSTOM_KINDS)
}

/// The kind table entry for an object's apiVersion and kind.
pub(crate) fn kind_info(api_version: &str, kind: &str) -> Option<&'static KindInfo> {
    all().find(|k| k.api_version == api_version && k.kind == kind)
}

/// Pods: read while waiting, never rendered, so not in the kind table.
static POD: KindInfo = KindInfo {
    api_version: "v1",
    kind: "Pod",
    group: "",
    plural: "pods",
    stage: u8::MAX,
    custom: false,
    check: typed_roundtrip::<k8s_openapi::api::core::v1::Pod>,
};

pub(crate) fn pod_kind() -> &'static KindInfo {
    &POD
}

/// Secrets: the authentication Secret, the revisions.
pub(crate) fn secret_kind() -> &'static KindInfo {
    kind_info("v1", "Secret").expect("Secret is in the table")
}

/// The kind table entry for an ApplySet group-kind (`Deployment.apps`).
pub(crate) fn kind_by_group_kind(group_kind: &str) -> Option<&'static KindInfo> {
    all().find(|k| k.group_kind() == group_kind)
}

macro_rules! kinds {
    ($( $api:literal, $kind:literal, $ty:ty, $stage:literal; )*) => {
        const KINDS: &[KindInfo] = &[
            $( KindInfo {
                api_version: $api,
                kind: $kind,
                group: <$ty as k8s_openapi::Resource>::GROUP,
                plural: <$ty as k8s_openapi::Resource>::URL_PATH_SEGMENT,
                stage: $stage,
                custom: false,
                check: typed_roundtrip::<$ty>,
            }, )*
        ];
    };
}

kinds! {
    "v1", "ServiceAccount", k8s_openapi::api::core::v1::ServiceAccount, 1;
    "v1", "Secret", k8s_openapi::api::core::v1::Secret, 1;
    "v1", "ConfigMap", k8s_openapi::api::core::v1::ConfigMap, 1;
    "rbac.authorization.k8s.io/v1", "Role", k8s_openapi::api::rbac::v1::Role, 1;
    "rbac.authorization.k8s.io/v1", "RoleBinding", k8s_openapi::api::rbac::v1::RoleBinding, 1;
    "v1", "PersistentVolumeClaim", k8s_openapi::api::core::v1::PersistentVolumeClaim, 2;
    "v1", "Service", k8s_openapi::api::core::v1::Service, 3;
    "apps/v1", "Deployment", k8s_openapi::api::apps::v1::Deployment, 4;
    "apps/v1", "StatefulSet", k8s_openapi::api::apps::v1::StatefulSet, 4;
    "v1", "ReplicationController", k8s_openapi::api::core::v1::ReplicationController, 4;
    "batch/v1", "Job", k8s_openapi::api::batch::v1::Job, 5;
    "batch/v1", "CronJob", k8s_openapi::api::batch::v1::CronJob, 5;
    "networking.k8s.io/v1", "NetworkPolicy", k8s_openapi::api::networking::v1::NetworkPolicy, 5;
    "networking.k8s.io/v1", "Ingress", k8s_openapi::api::networking::v1::Ingress, 5;
    "policy/v1", "PodDisruptionBudget", k8s_openapi::api::policy::v1::PodDisruptionBudget, 5;
    "autoscaling/v2", "HorizontalPodAutoscaler", k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler, 5;
}

/// Kinds of CustomResourceDefinitions sparkup renders: no k8s-openapi type, so their names are
/// written here, and their objects are checked for the shape every object has.
static CUSTOM_KINDS: &[KindInfo] = &[
    KindInfo {
        api_version: "monitoring.coreos.com/v1",
        kind: "PodMonitor",
        group: "monitoring.coreos.com",
        plural: "podmonitors",
        stage: 5,
        custom: true,
        check: custom_object,
    },
    KindInfo {
        api_version: "keda.sh/v1alpha1",
        kind: "ScaledObject",
        group: "keda.sh",
        plural: "scaledobjects",
        stage: 5,
        custom: true,
        check: custom_object,
    },
];

/// Who installs a custom kind's CustomResourceDefinition, and which value renders its objects:
/// what to tell a user whose cluster does not serve it.
pub(crate) fn provider(kind: &KindInfo) -> (&'static str, &'static str) {
    match kind.kind {
        "ScaledObject" => ("KEDA's", "workers.autoscaling.mode demand"),
        _ => ("the Prometheus Operator's", "metrics.podMonitor"),
    }
}

/// A custom object: a mapping with metadata and a `spec` mapping; its schema is the CRD's.
fn custom_object(value: &Value) -> Result<Value, String> {
    let object = value.as_object().ok_or("expected a mapping")?;
    for key in object.keys() {
        if !["apiVersion", "kind", "metadata", "spec"].contains(&key.as_str()) {
            return Err(format!("{key}: unknown field"));
        }
    }
    if !value["metadata"].is_object() {
        return Err("metadata: expected a mapping".into());
    }
    if !value["spec"].is_object() {
        return Err("spec: expected a mapping".into());
    }
    Ok(value.clone())
}

/// Parses the value as `T` and serializes it back; fails if a key was lost on the way.
/// The object is typed without tracking the path first: only a failure needs it, and the same
/// input fails the same way again when tracked.
fn typed_roundtrip<T: DeserializeOwned + Serialize>(value: &Value) -> Result<Value, String> {
    let typed = T::deserialize(value).or_else(|_| {
        serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
            let path = e.path().to_string();
            format!("{path}: {}", e.into_inner())
        })
    })?;
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    if let Some(lost) = first_lost_key(value, &back, String::new()) {
        return Err(format!("{}: unknown field", lost.trim_start_matches('.')));
    }
    Ok(back)
}
