//! The object store: what is applied is stored with the fields a real API server adds, under
//! server-side apply's field ownership; lists by label selector, merge patches and deletes; the
//! Spark master's view through the service proxy.

use std::sync::Mutex;

use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::kubelet::{driver_status, job_pod};
use super::{Seen, State, param, percent_decode, status};

/// A JSON merge patch (RFC 7386) of a stored object.
pub(super) fn merge_patch(shared: &Mutex<State>, seen: &Seen) -> (StatusCode, Value) {
    let (path, _) = seen.uri.split_once('?').unwrap_or((&seen.uri, ""));
    let mut state = shared.lock().unwrap();
    let Some(stored) = state.objects.get_mut(path) else {
        return status(404, "not found");
    };
    fn merge(target: &mut Value, patch: &Value) {
        match (target.as_object_mut(), patch.as_object()) {
            (Some(target), Some(patch)) => {
                for (key, value) in patch {
                    match value {
                        Value::Null => {
                            target.remove(key);
                        }
                        _ => merge(target.entry(key.clone()).or_insert(Value::Null), value),
                    }
                }
            }
            _ => *target = patch.clone(),
        }
    }
    let mut object = stored.clone();
    merge(&mut object, seen.body.as_ref().unwrap_or(&Value::Null));
    if let Err(message) = valid_object(&object) {
        return status(422, &message);
    }
    *stored = object.clone();
    (StatusCode::OK, object)
}

pub(super) fn answer(shared: &Mutex<State>, seen: &Seen) -> (StatusCode, Value) {
    let (path, query) = seen.uri.split_once('?').unwrap_or((&seen.uri, ""));
    let mut state = shared.lock().unwrap();
    if let Some((code, message)) = state.failures.get(&(seen.method.clone(), path.to_string())) {
        return status(*code, message);
    }
    // Nothing is written into a namespace that does not exist, not even in a dry run.
    if matches!(seen.method, Method::PATCH | Method::POST)
        && let Some(namespace) = namespace_of(path)
        && !state
            .objects
            .contains_key(&format!("/api/v1/namespaces/{namespace}"))
    {
        return status(404, &format!("namespaces \"{namespace}\" not found"));
    }
    match seen.method {
        Method::GET if path.contains("/proxy/") => {
            // The proxy speaks HTTPS to the pod when asked (`https:NAME:PORT`), and a UI with
            // HTTPS on answers nothing else, as Jetty's TLS port does not.
            let asked = path.contains("/services/https:");
            match &state.spark {
                None => status(503, "no endpoints available for service"),
                Some(_) if asked != serves_https(&state) && asked => status(
                    503,
                    "error trying to reach service: tls: first record does not look like a \
                     TLS handshake",
                ),
                Some(_) if asked != serves_https(&state) => status(400, "Bad Message 400"),
                Some(json) => (StatusCode::OK, json.clone()),
            }
        }
        Method::GET if path.ends_with("/pods") => {
            let selector = percent_decode(param(query, "labelSelector").unwrap_or(""));
            if selector.starts_with("batch.kubernetes.io/job-name=") {
                let status = driver_status(&mut state.driver);
                for pod in state.pods.iter_mut().filter(|p| matches(p, &selector)) {
                    pod["status"] = status.clone();
                }
            }
            let items: Vec<&Value> = state
                .pods
                .iter()
                .filter(|p| matches(p, &selector))
                .collect();
            (StatusCode::OK, json!({"items": items}))
        }
        // A pod deleted: a ReplicationController that selects it starts one of its template.
        Method::DELETE if path.contains("/pods/") => {
            let name = path.rsplit('/').next().unwrap_or("");
            let Some(at) = state
                .pods
                .iter()
                .position(|p| p["metadata"]["name"] == name)
            else {
                return status(404, "not found");
            };
            let pod = state.pods.remove(at);
            let controller = state.objects.values().find(|o| {
                o["kind"] == "ReplicationController"
                    && o["spec"]["selector"].as_object().is_some_and(|sel| {
                        sel.iter().all(|(k, v)| pod["metadata"]["labels"][k] == *v)
                    })
            });
            if let Some(rc) = controller.cloned() {
                state.started += 1;
                let template = &rc["spec"]["template"];
                let mut metadata = template["metadata"].clone();
                metadata["name"] = json!(format!(
                    "{}-{}",
                    rc["metadata"]["name"].as_str().unwrap_or("rc"),
                    state.started
                ));
                state
                    .pods
                    .push(json!({"metadata": metadata, "spec": template["spec"],
                        "status": {"conditions": [{"type": "Ready", "status": "True"}]}}));
            }
            (
                StatusCode::OK,
                json!({"kind": "Status", "status": "Success"}),
            )
        }
        Method::GET if path.ends_with("/events") => {
            (StatusCode::OK, json!({"items": state.events}))
        }
        Method::GET if path.ends_with("/endpointslices") => (
            StatusCode::OK,
            json!({"items": [{"endpoints": [{"conditions": {"ready": true}}]}]}),
        ),
        Method::GET if param(query, "labelSelector").is_some() => {
            let selector = percent_decode(param(query, "labelSelector").unwrap_or(""));
            let items: Vec<Value> = state
                .objects
                .iter()
                .filter(|(p, o)| parent_of(p) == path && matches(o, &selector))
                .map(|(_, o)| o.clone())
                .collect();
            (StatusCode::OK, json!({"items": items}))
        }
        Method::GET => match state.objects.get(path) {
            Some(object) => {
                let mut object = with_status(object, state.ready);
                if object["kind"] == "Job"
                    && object["metadata"]["labels"]["app.kubernetes.io/component"] == "dependencies"
                {
                    object["status"] = resolver_status(state.resolution_fails);
                }
                if let Some(old) = state.rollouts.get_mut(path).filter(|old| **old > 0) {
                    let replicas = object["status"]["replicas"].as_i64().unwrap_or(0);
                    object["status"]["replicas"] = json!(replicas + *old);
                    *old -= 1;
                }
                (StatusCode::OK, object)
            }
            None => status(404, "not found"),
        },
        Method::POST => {
            let mut body = seen.body.clone().unwrap_or(Value::Null);
            let name = body
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let at = format!("{path}/{name}");
            if state.objects.contains_key(&at) {
                return status(409, &format!("\"{name}\" already exists"));
            }
            if let Err(message) = valid_object(&body) {
                return status(422, &message);
            }
            state.created += 1;
            body["metadata"]["uid"] = json!(format!("uid-{}", state.created));
            if body["kind"] == "Job" {
                let pod = job_pod(&body, state.created);
                state.pods.push(pod);
            }
            state.objects.insert(at, body.clone());
            (StatusCode::CREATED, body)
        }
        Method::PATCH => {
            let body = seen.body.clone().unwrap_or(Value::Null);
            let manager = param(query, "fieldManager").unwrap_or("").to_string();
            // Server-side apply: a field another manager set to another value conflicts,
            // unless the apply forces; the applier then owns every field it sent.
            let previous = state.objects.get(path).cloned().unwrap_or(Value::Null);
            let owners = state.owners.entry(path.to_string()).or_default();
            let mut conflicts: Vec<(String, String)> = Vec::new();
            for (field, value) in leaves(&body, String::new()) {
                match owners.get(&field) {
                    Some(owner)
                        if *owner != manager && field_at(&previous, &field) != Some(&value) =>
                    {
                        conflicts.push((owner.clone(), field));
                    }
                    _ => {}
                }
            }
            if !conflicts.is_empty() && !query.contains("force=true") {
                return status(409, &conflict_message(&body, &conflicts));
            }
            let stored = server_fields(body.clone(), state.objects.get(path));
            if !query.contains("dryRun=All") {
                // A new pod template starts a new revision; the old one's pods stay a while.
                if stored["kind"] == "Deployment"
                    && !previous.is_null()
                    && previous["spec"]["template"] != stored["spec"]["template"]
                {
                    let old = previous["spec"]["replicas"].as_i64().unwrap_or(1);
                    state.rollouts.insert(path.to_string(), old);
                }
                let owners = state.owners.entry(path.to_string()).or_default();
                for (field, _) in leaves(&body, String::new()) {
                    owners.insert(field, manager.clone());
                }
                state.objects.insert(path.to_string(), stored.clone());
            }
            (StatusCode::OK, stored)
        }
        Method::DELETE => match state.objects.remove(path) {
            // The Job's pods go with it; a driver that ran on is stopped.
            Some(job) if job["kind"] == "Job" => {
                let name = job["metadata"]["name"].clone();
                state
                    .pods
                    .retain(|p| p["metadata"]["labels"]["batch.kubernetes.io/job-name"] != name);
                (
                    StatusCode::OK,
                    json!({"kind": "Status", "status": "Success"}),
                )
            }
            Some(_) => (
                StatusCode::OK,
                json!({"kind": "Status", "status": "Success"}),
            ),
            None => status(404, "not found"),
        },
        _ => status(405, "method not allowed"),
    }
}

/// What the API server's validation refuses of the objects the fake stores as they come
/// (created ones, merge-patched ones): a label value past 63 characters, a Secret whose data is
/// not base64 or holds more than 1 MiB.
pub(super) fn valid_object(object: &Value) -> Result<(), String> {
    use base64::Engine as _;
    let kind = object["kind"].as_str().unwrap_or("object");
    let name = object["metadata"]["name"].as_str().unwrap_or("");
    let invalid = |detail: String| format!("{kind} \"{name}\" is invalid: {detail}");
    let labels = object["metadata"]["labels"].as_object();
    for (key, value) in labels.into_iter().flatten() {
        if value.as_str().is_none_or(|v| v.len() > 63) {
            return Err(invalid(format!(
                "metadata.labels: Invalid value: {value}: must be no more than 63 characters ({key})"
            )));
        }
    }
    if kind != "Secret" {
        return Ok(());
    }
    let mut size = 0;
    for (key, value) in object["data"].as_object().into_iter().flatten() {
        let decoded = value
            .as_str()
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
            .ok_or_else(|| invalid(format!("data[{key}]: Invalid value: not base64")))?;
        size += decoded.len();
    }
    if size > 1024 * 1024 {
        return Err(invalid(
            "data: Too long: must have at most 1048576 bytes".into(),
        ));
    }
    Ok(())
}

/// The Job controller's status of a dependency resolver Job: complete, or failed after its
/// retries.
fn resolver_status(fails: bool) -> Value {
    match fails {
        true => json!({"failed": 3, "conditions": [{"type": "Failed", "status": "True",
            "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}),
        false => json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}),
    }
}

/// Every leaf of an object as (`.a.b`, value); lists are leaves, as atomic lists are in SSA.
fn leaves(value: &Value, path: String) -> Vec<(String, Value)> {
    match value {
        Value::Object(map) if path.is_empty() || !map.is_empty() => map
            .iter()
            .flat_map(|(k, v)| leaves(v, format!("{path}.{k}")))
            .collect(),
        other => vec![(path, other.clone())],
    }
}

fn field_at<'a>(object: &'a Value, field: &str) -> Option<&'a Value> {
    object.pointer(&field.replace('.', "/"))
}

/// The API server's words for a field-manager conflict.
fn conflict_message(body: &Value, conflicts: &[(String, String)]) -> String {
    let api = body["apiVersion"].as_str().unwrap_or("v1");
    match conflicts {
        [(owner, field)] => {
            format!("Apply failed with 1 conflict: conflict with \"{owner}\" using {api}: {field}")
        }
        many => {
            let owner = &many[0].0;
            let fields: Vec<String> = many.iter().map(|(_, f)| format!("- {f}")).collect();
            format!(
                "Apply failed with {} conflicts: conflicts with \"{owner}\" using {api}:\n{}",
                many.len(),
                fields.join("\n")
            )
        }
    }
}

/// What the server makes of an applied object: its defaults filled in (so what is stored is not
/// what was sent), its metadata, and a `generation` that moves only when the spec changes.
fn server_fields(mut object: Value, previous: Option<&Value>) -> Value {
    defaults(&mut object);
    let generation = match previous {
        None => 1,
        Some(previous) => {
            let before = previous["metadata"]["generation"].as_i64().unwrap_or(1);
            before + i64::from(previous["spec"] != object["spec"])
        }
    };
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.insert("uid".into(), json!("0000-1111"));
        metadata.insert("resourceVersion".into(), json!("42"));
        metadata.insert("generation".into(), json!(generation));
        metadata.insert("creationTimestamp".into(), json!("2026-11-21T00:00:00Z"));
        metadata.insert("managedFields".into(), json!([{"manager": "sparkup"}]));
    }
    object
}

/// A few of the defaults a real API server sets on what sparkup applies.
fn defaults(object: &mut Value) {
    let template = match object["kind"].as_str() {
        Some("Deployment") => {
            object["spec"]["revisionHistoryLimit"] = json!(10);
            object["spec"]["progressDeadlineSeconds"] = json!(600);
            object.pointer_mut("/spec/template/spec")
        }
        Some("ReplicationController") => object.pointer_mut("/spec/template/spec"),
        Some("Service") => {
            object["spec"]["clusterIP"] = json!("10.96.0.42");
            object["spec"]["sessionAffinity"] = json!("None");
            None
        }
        _ => None,
    };
    if let Some(pod) = template {
        pod["restartPolicy"] = json!("Always");
        pod["dnsPolicy"] = json!("ClusterFirst");
        for container in pod["containers"].as_array_mut().into_iter().flatten() {
            container["terminationMessagePath"] = json!("/dev/termination-log");
            container["terminationMessagePolicy"] = json!("File");
        }
    }
}

/// Workloads read back with a status, ready or not.
fn with_status(object: &Value, ready: bool) -> Value {
    let mut object = object.clone();
    if matches!(
        object["kind"].as_str(),
        Some("Deployment" | "ReplicationController")
    ) {
        let want = object
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let have = if ready { want } else { 0 };
        object["status"] = json!({
            "observedGeneration": object["metadata"]["generation"], "replicas": want, "readyReplicas": have,
            "updatedReplicas": have, "availableReplicas": have
        });
    }
    if object["kind"] == "PersistentVolumeClaim" {
        object["status"] = json!({"phase": "Bound"});
    }
    object
}

/// The namespace of a namespaced resource's path (`.../namespaces/NS/KIND...`).
fn namespace_of(path: &str) -> Option<&str> {
    let (_, rest) = path.split_once("/namespaces/")?;
    let (namespace, kind) = rest.split_once('/')?;
    (!kind.is_empty()).then_some(namespace)
}

fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

fn matches(object: &Value, selector: &str) -> bool {
    selector.split(',').all(|term| {
        let (key, value) = term.split_once('=').unwrap_or((term, ""));
        object
            .pointer("/metadata/labels")
            .and_then(|l| l.get(key))
            .and_then(Value::as_str)
            == Some(value)
    })
}

/// Whether the applied configuration turns HTTPS on for the UIs.
fn serves_https(state: &State) -> bool {
    state.objects.values().any(|o| {
        o["kind"] == "ConfigMap"
            && o["data"]["spark-defaults.conf"]
                .as_str()
                .is_some_and(|c| c.lines().any(|l| l.trim() == "spark.ssl.enabled true"))
    })
}
