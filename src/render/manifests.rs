//! Rendered text -> checked, labelled, ordered Kubernetes objects.
//!
//! Every document is parsed and typed through k8s-openapi, so a template mistake (a misspelt
//! field, a string where a number belongs) fails here, naming the object, instead of at the API
//! server halfway through an apply. Objects come out in their canonical field order, with the
//! common labels that `apply`, `status` and `delete` find them by, in apply order.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::kinds::{self, KindInfo, object_id};
use super::labels::{
    LABEL_COMPONENT, LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_NAME, LABEL_PART_OF, MANAGER,
    TEMPLATE_HASH_ANNOTATION,
};
use super::model::Component;
use super::read_back;
use super::templates::RenderedTemplate;
use crate::applyset;
use crate::error::Error;
use crate::json::str_at;
use crate::values::ClusterSpec;

/// One object ready to print or apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// The whole object, fields in k8s-openapi's order.
    pub value: Value,
}

impl Object {
    /// `Kind/name`, as kubectl names objects.
    pub fn id(&self) -> String {
        object_id(&self.kind, &self.name)
    }

    /// The kind table entry; every object `build` returns is of a known kind.
    pub(crate) fn kind_info(&self) -> &'static KindInfo {
        kinds::kind_info(&self.api_version, &self.kind).expect("manifests only holds known kinds")
    }

    pub fn namespace(&self) -> Option<&str> {
        str_at(&self.value, "/metadata/namespace")
    }

    /// The role the object belongs to, if it belongs to one.
    pub fn role(&self) -> Option<Component> {
        Component::parse(self.component())
    }

    /// The `app.kubernetes.io/component` label: `master`, `worker`, `config`, …
    pub fn component(&self) -> &str {
        self.value
            .pointer("/metadata/labels")
            .and_then(|l| l.get(LABEL_COMPONENT))
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// Parses, checks, labels and orders every rendered document.
pub(crate) fn build(
    rendered: &[RenderedTemplate],
    spec: &ClusterSpec,
) -> Result<Vec<Object>, Error> {
    let mut objects = Vec::new();
    for template in rendered {
        let docs = read_back::documents(&template.text).map_err(|e| {
            Error::manifest(
                format!("from template {}", template.name),
                format!("not valid YAML: {e}"),
            )
        })?;
        for (i, doc) in docs.into_iter().enumerate() {
            if doc.is_null() {
                continue;
            }
            let origin = format!("#{} from template {}", i + 1, template.name);
            objects.push(check_object(doc, spec, &origin)?);
        }
    }
    let mut seen = BTreeMap::new();
    for object in &objects {
        if let Some(first) = seen.insert(object.id(), object) {
            return Err(Error::manifest(
                object.id(),
                format!("rendered twice ({})", first.id()),
            ));
        }
    }
    objects.sort_by(apply_order);
    Ok(objects)
}

/// The one Job a `job.yaml` rendered, checked and labelled, without the ApplySet label.
pub(crate) fn build_run(rendered: &RenderedTemplate, spec: &ClusterSpec) -> Result<Object, Error> {
    let origin = format!("from template {}", rendered.name);
    let mut docs = read_back::documents(&rendered.text)
        .map_err(|e| Error::manifest(&origin, format!("not valid YAML: {e}")))?;
    docs.retain(|d| !d.is_null());
    let doc = match (docs.pop(), docs.is_empty()) {
        (Some(doc), true) if doc.get("kind").and_then(Value::as_str) == Some("Job") => doc,
        _ => return Err(Error::manifest(origin, "expected exactly one Job")),
    };
    let mut object = check_object(doc, spec, &origin)?;
    if let Some(labels) = object
        .value
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(applyset::LABEL_PART_OF);
    }
    Ok(object)
}

fn check_object(doc: Value, spec: &ClusterSpec, origin: &str) -> Result<Object, Error> {
    let field = |name: &str| doc.get(name).and_then(Value::as_str).map(str::to_owned);
    let (Some(api_version), Some(kind)) = (field("apiVersion"), field("kind")) else {
        return Err(Error::manifest(
            origin,
            "expected a mapping with apiVersion and kind",
        ));
    };
    if kinds::CLUSTER_SCOPED.contains(&kind.as_str()) {
        return Err(Error::manifest(
            origin,
            format!(
                "{api_version} {kind} is cluster-scoped: expected an object of the instance's \
                 namespace (sparkup prunes and deletes what it manages, and never reaches outside \
                 the namespace; create {kind} objects with kubectl)"
            ),
        ));
    }
    let info = kinds::kind_info(&api_version, &kind).ok_or_else(|| {
        let known: Vec<String> = kinds::all()
            .map(|k| format!("{}/{}", k.api_version, k.kind))
            .collect();
        Error::manifest(
            origin,
            format!(
                "{api_version} {kind} is not a kind sparkup manages: expected one of {}",
                known.join(", ")
            ),
        )
    })?;
    let name = str_at(&doc, "/metadata/name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Error::manifest(origin, "missing metadata.name"))?
        .to_owned();
    let id = format!("{kind}/{name} ({origin})");
    let mut value = info
        .check(&doc)
        .map_err(|detail| Error::manifest(&id, detail))?;
    set_namespace(&mut value, &spec.namespace).map_err(|d| Error::manifest(&id, d))?;
    label(&mut value, spec, &kind);
    Ok(Object {
        api_version,
        kind,
        name,
        value,
    })
}

fn set_namespace(value: &mut Value, namespace: &str) -> Result<(), String> {
    let metadata = object_at(value, "metadata");
    match metadata.get("namespace").and_then(Value::as_str) {
        Some(ns) if ns != namespace => Err(format!(
            "namespace {ns:?}: expected the cluster's namespace {namespace:?}"
        )),
        _ => {
            metadata.insert("namespace".into(), Value::String(namespace.into()));
            Ok(())
        }
    }
}

/// Adds the common labels (and the user's labels and annotations) to the object and to the pod
/// template of a workload, so `kubectl get pods -l app.kubernetes.io/instance=NAME` finds pods.
fn label(value: &mut Value, spec: &ClusterSpec, kind: &str) {
    let metadata = object_at(value, "metadata");
    let component = metadata
        .get("labels")
        .and_then(|l| l.get(LABEL_COMPONENT))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| kind.to_ascii_lowercase());
    let mut common: BTreeMap<&str, &str> = spec
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    common.extend([
        (LABEL_NAME, "spark"),
        (LABEL_INSTANCE, spec.name.as_str()),
        (LABEL_COMPONENT, component.as_str()),
        (LABEL_MANAGED_BY, MANAGER),
        (LABEL_PART_OF, "spark"),
    ]);
    // The object, not its pods, is a member of the instance's ApplySet.
    let applyset = applyset::applyset_id(&spec.name, &spec.namespace);
    let mut own = common.clone();
    own.insert(applyset::LABEL_PART_OF, &applyset);
    merge_strings(metadata, "labels", &own);
    let annotations: BTreeMap<&str, &str> = spec
        .annotations
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    merge_strings(metadata, "annotations", &annotations);

    // The CronJob controller labels each Job it creates with the job template's labels only:
    // without the instance's, `status` would never find a scheduled job's runs.
    if kind == "CronJob"
        && let Some(job) = value
            .pointer_mut("/spec/jobTemplate")
            .filter(|t| t.is_object())
    {
        merge_strings(object_at(job, "metadata"), "labels", &common);
    }
    let template = match kind {
        "CronJob" => value.pointer_mut("/spec/jobTemplate/spec/template"),
        _ => value.pointer_mut("/spec/template"),
    };
    if let Some(template) = template.filter(|t| t.is_object()) {
        merge_strings(object_at(template, "metadata"), "labels", &common);
        let hash = template_hash(template);
        let pairs = BTreeMap::from([(TEMPLATE_HASH_ANNOTATION, hash.as_str())]);
        merge_strings(object_at(template, "metadata"), "annotations", &pairs);
    }
}

/// A fingerprint of a whole pod template: a pod that carries another one runs an older template
/// (which a ReplicationController never replaces by itself).
fn template_hash(template: &Value) -> String {
    use sha2::{Digest, Sha256};
    let text = serde_json::to_string(template).expect("a JSON value serializes");
    let digest = Sha256::digest(text.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The map at `key` inside `value`, created if missing.
fn object_at<'a>(value: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    let map = value.as_object_mut().expect("typed objects are maps");
    let slot = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut().expect("just made a map")
}

/// Merges string pairs into the map at `key`, keeping keys sorted; an empty result is left out.
fn merge_strings(metadata: &mut Map<String, Value>, key: &str, pairs: &BTreeMap<&str, &str>) {
    let mut merged: BTreeMap<String, Value> = metadata
        .get(key)
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    for (k, v) in pairs {
        merged.insert((*k).to_owned(), Value::String((*v).to_owned()));
    }
    if merged.is_empty() {
        return;
    }
    metadata.insert(key.into(), Value::Object(merged.into_iter().collect()));
}

/// Configuration, storage, services, the master before the workers, then the rest.
fn apply_order(a: &Object, b: &Object) -> Ordering {
    let component_rank = |o: &Object| match o.role() {
        Some(Component::Master) => 0,
        Some(Component::Worker) => 1,
        _ => 2,
    };
    let stage = |o: &Object| o.kind_info().stage;
    stage(a)
        .cmp(&stage(b))
        .then_with(|| component_rank(a).cmp(&component_rank(b)))
        .then_with(|| a.kind.cmp(&b.kind))
        .then_with(|| a.name.cmp(&b.name))
}
