//! The objects sparkup builds itself: the Namespace, the ApplySet parent, the shared
//! authentication Secret, a shipped application's ConfigMap and the Secret of each revision.
//!
//! The rule: **what a user must never override is built here, in Rust, from k8s-openapi types,
//! never from a template.** `--templates DIR` can change how the instance's workloads look, but
//! not which objects make up the inventory that prune trusts, not where the secret lives or how
//! it is labelled (prune must never remove it), and not how a run's application reaches its
//! driver. Each is labelled as the instance's, without ApplySet membership (the parent is the
//! set itself), so that prune and delete never remove one by accident.

#![cfg_attr(not(feature = "kube"), allow(dead_code))]

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::labels::instance_labels;
use super::manifests::Object;
use super::model::Component;
use super::model::pod::AUTH_SECRET_KEY;
use crate::applyset::{
    ANNOTATION_GROUP_KINDS, ANNOTATION_TOOLING, LABEL_APPLYSET_ID, applyset_id, parent_name,
};
use crate::values::ClusterSpec;

/// The `component` label of the inventory and of the authentication Secret.
const INVENTORY: &str = "inventory";
const AUTH: &str = "auth";
/// The `component` label of the instance's revisions.
pub(crate) const REVISION: &str = "revision";
/// The key of a revision Secret's record: gzip-compressed JSON.
pub(crate) const REVISION_KEY: &str = "revision.json.gz";
/// Labels of a revision Secret: its number and how its apply ended.
const LABEL_REVISION: &str = "sparkup.io/revision";
const LABEL_RESULT: &str = "sparkup.io/result";

/// The namespace, for an apply into one that does not exist yet.
pub(crate) fn namespace(name: &str) -> Value {
    to_value(Namespace {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        ..Default::default()
    })
}

/// The ApplySet parent ConfigMap `<instance>-applyset`, naming the group-kinds its members may
/// have.
pub(crate) fn applyset_parent(instance: &str, namespace: &str, kinds: &BTreeSet<String>) -> Value {
    let mut labels = instance_labels(instance, INVENTORY);
    labels.insert(LABEL_APPLYSET_ID.into(), applyset_id(instance, namespace));
    let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
    let annotations = BTreeMap::from([
        (
            ANNOTATION_TOOLING.to_string(),
            format!("sparkup/{}", env!("CARGO_PKG_VERSION")),
        ),
        (ANNOTATION_GROUP_KINDS.to_string(), kinds.join(",")),
    ]);
    to_value(ConfigMap {
        metadata: ObjectMeta {
            name: Some(parent_name(instance)),
            namespace: Some(namespace.into()),
            labels: Some(labels),
            annotations: Some(annotations),
            ..Default::default()
        },
        ..Default::default()
    })
}

/// The Secret `name` holding Spark's shared authentication secret.
pub(crate) fn auth_secret(spec: &ClusterSpec, name: &str, secret: &str) -> Value {
    to_value(Secret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(spec.namespace.clone()),
            labels: Some(instance_labels(&spec.name, AUTH)),
            ..Default::default()
        },
        type_: Some("Opaque".into()),
        data: Some(BTreeMap::from([(
            AUTH_SECRET_KEY.to_string(),
            ByteString(secret.as_bytes().to_vec()),
        )])),
        ..Default::default()
    })
}

/// The name of the instance's revision `number`.
pub(crate) fn revision_name(instance: &str, number: u32) -> String {
    format!("{instance}-revision-{number}")
}

/// The Secret of the instance's revision `number`, holding its record.
pub(crate) fn revision_secret(
    spec: &ClusterSpec,
    number: u32,
    result: &str,
    record: Vec<u8>,
) -> Value {
    let mut labels = instance_labels(&spec.name, REVISION);
    labels.insert(LABEL_REVISION.into(), number.to_string());
    labels.insert(LABEL_RESULT.into(), result.into());
    to_value(Secret {
        metadata: ObjectMeta {
            name: Some(revision_name(&spec.name, number)),
            namespace: Some(spec.namespace.clone()),
            labels: Some(labels),
            ..Default::default()
        },
        type_: Some("sparkup.io/revision.v1".into()),
        data: Some(BTreeMap::from([(
            REVISION_KEY.to_string(),
            ByteString(record),
        )])),
        ..Default::default()
    })
}

/// The ConfigMap `name` holding a shipped application, its one key `file`.
pub(crate) fn shipped_app(spec: &ClusterSpec, name: &str, file: &str, bytes: Vec<u8>) -> Object {
    let value = to_value(ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(spec.namespace.clone()),
            labels: Some(instance_labels(&spec.name, Component::Job.as_str())),
            ..Default::default()
        },
        binary_data: Some(BTreeMap::from([(file.to_string(), ByteString(bytes))])),
        ..Default::default()
    });
    Object {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: name.into(),
        value,
    }
}

fn to_value(object: impl serde::Serialize) -> Value {
    serde_json::to_value(object).expect("a k8s-openapi object serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_objects_carry_the_instance_labels_and_no_applyset_membership() {
        let spec = crate::values::ClusterSpec::default();
        let secret = auth_secret(&spec, "spark-auth", "s3cr3t");
        assert_eq!(secret["kind"], "Secret");
        assert_eq!(secret["data"]["secret"], "czNjcjN0");
        assert_eq!(
            secret["metadata"]["labels"]["app.kubernetes.io/component"],
            "auth"
        );
        let kinds = BTreeSet::from(["ConfigMap".to_string(), "Deployment.apps".to_string()]);
        let parent = applyset_parent("spark", "default", &kinds);
        assert_eq!(parent["kind"], "ConfigMap");
        assert_eq!(
            parent["metadata"]["annotations"][ANNOTATION_GROUP_KINDS],
            "ConfigMap,Deployment.apps"
        );
        for object in [&secret, &parent] {
            assert!(
                object["metadata"]["labels"]
                    .get(crate::applyset::LABEL_PART_OF)
                    .is_none()
            );
        }
        assert_eq!(namespace("spark")["metadata"]["name"], "spark");
    }
}
