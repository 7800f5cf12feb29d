//! The labels every object and pod of an instance carries, by which `apply`, `status`, `delete`
//! and `kubectl get -l` find them. Every selector sparkup renders or sends is built here.

use std::collections::BTreeMap;

pub(crate) const LABEL_NAME: &str = "app.kubernetes.io/name";
pub(crate) const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
pub(crate) const LABEL_COMPONENT: &str = "app.kubernetes.io/component";
pub(crate) const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub(crate) const LABEL_PART_OF: &str = "app.kubernetes.io/part-of";
/// The `app.kubernetes.io/name` of everything sparkup renders.
pub(crate) const APP_NAME: &str = "spark";
/// The field manager and `managed-by` value of everything sparkup applies.
pub(crate) const MANAGER: &str = "sparkup";
/// On every pod template: a fingerprint of the whole template, to tell pods of an older one.
pub(crate) const TEMPLATE_HASH_ANNOTATION: &str = "sparkup.io/template-hash";

/// The labels of every pod of the instance: daemons, drivers, servers.
pub(crate) fn instance_selector(instance: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_NAME.to_string(), APP_NAME.to_string()),
        (LABEL_INSTANCE.to_string(), instance.to_string()),
    ])
}

/// The labels of the instance's pods of one component.
pub(crate) fn selector(instance: &str, component: &str) -> BTreeMap<String, String> {
    let mut labels = instance_selector(instance);
    labels.insert(LABEL_COMPONENT.to_string(), component.to_string());
    labels
}

/// A selector as the API's `labelSelector` query takes it: `key=value,...`.
#[cfg(feature = "kube")]
pub(crate) fn selector_query(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The labels of an object sparkup creates outside the templates (a shipped application's
/// ConfigMap, the authentication Secret, the inventory): the instance's, without ApplySet
/// membership, so that prune never removes it.
pub(crate) fn instance_labels(instance: &str, component: &str) -> BTreeMap<String, String> {
    let mut labels = selector(instance, component);
    labels.insert(LABEL_MANAGED_BY.to_string(), MANAGER.to_string());
    labels
}
