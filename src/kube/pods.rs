//! What a workload's pods show: which run the rendered template (by its fingerprint), which are
//! on their way out, and why one is not ready, told apart into what waiting can fix and what it
//! cannot.

use serde_json::Value;

use super::client::{ApiServer, KubeError};
use crate::json::str_at;
use crate::render::Object;
use crate::render::kinds;
use crate::render::labels::TEMPLATE_HASH_ANNOTATION;

/// Looks at the workload's pods: fails when a pod of the current template is in a state waiting
/// will not fix, and otherwise says what its pods are waiting for (an unschedulable pod may get a
/// node when the cluster grows). Pods being deleted and pods of an older template are not its
/// problem: the controller is replacing them.
pub(crate) async fn check_pods(
    api: &ApiServer,
    object: &Object,
) -> Result<Option<String>, KubeError> {
    let namespace = object.namespace().unwrap_or("default");
    let mut notes = Vec::new();
    for pod in pods_of(api, object).await? {
        if terminating(&pod) || !runs_template(&pod, object) {
            continue;
        }
        let name = str_at(&pod, "/metadata/name").unwrap_or("?");
        match pod_problem(&pod) {
            Some(Problem::Fatal(problem)) => {
                let events = pod_events(api, namespace, name).await.unwrap_or_default();
                return Err(KubeError::NotReady(format!(
                    "{} cannot start: pod {name}: {problem}{events}",
                    object.id()
                )));
            }
            Some(Problem::Waiting(note)) => notes.push(format!("pod {name} {note}")),
            None => {}
        }
    }
    Ok((!notes.is_empty()).then(|| notes.join("; ")))
}

/// The pods a workload selects.
pub(crate) async fn pods_of(api: &ApiServer, object: &Object) -> Result<Vec<Value>, KubeError> {
    let selector = object
        .value
        .pointer("/spec/selector/matchLabels")
        .or_else(|| object.value.pointer("/spec/selector"))
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let namespace = object.namespace().unwrap_or("default");
    api.list(kinds::pod_kind(), namespace, &selector).await
}

/// A pod being deleted.
pub(crate) fn terminating(pod: &Value) -> bool {
    pod.pointer("/metadata/deletionTimestamp").is_some()
}

/// A pod whose Ready condition is True.
pub(crate) fn pod_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// Whether a pod runs the rendered template, by the template's fingerprint.
pub(crate) fn runs_template(pod: &Value, object: &Object) -> bool {
    let hash = |v: &Value, at: &str| {
        v.pointer(at)
            .and_then(|a| a.get(TEMPLATE_HASH_ANNOTATION))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    hash(pod, "/metadata/annotations") == hash(&object.value, "/spec/template/metadata/annotations")
}

/// A pod that still runs, on an older template than the rendered one: the controller's (or for a
/// ReplicationController, sparkup's) to replace.
pub(crate) fn on_older_template(pod: &Value, object: &Object) -> bool {
    !terminating(pod) && !runs_template(pod, object)
}

/// Why a pod is not ready.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// Waiting will not fix it.
    Fatal(String),
    /// It may resolve by itself (a node that frees up or is added).
    Waiting(String),
}

/// Image pull failures that retrying cannot fix, by the runtime's message.
const PERMANENT_PULL_ERRORS: &[&str] = &[
    "not found",
    "NotFound",
    "manifest unknown",
    "unauthorized",
    "Unauthorized",
    "denied",
    "repository does not exist",
];

/// The reason a pod is not ready, if it shows one.
pub(crate) fn pod_problem(pod: &Value) -> Option<Problem> {
    let statuses = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array);
    for status in statuses.into_iter().flatten() {
        let waiting = &status["state"]["waiting"];
        let Some(reason) = waiting["reason"].as_str() else {
            continue;
        };
        let message = waiting["message"].as_str().unwrap_or("");
        let fatal = match reason {
            "CrashLoopBackOff"
            | "InvalidImageName"
            | "CreateContainerConfigError"
            | "CreateContainerError" => true,
            "ErrImagePull" | "ImagePullBackOff" => {
                PERMANENT_PULL_ERRORS.iter().any(|e| message.contains(e))
            }
            _ => continue,
        };
        let container = status["name"].as_str().unwrap_or("?");
        let mut text = format!("container {container} is {reason}");
        if !message.is_empty() {
            text.push_str(&format!(": {message}"));
        }
        let last = &status["lastState"]["terminated"];
        if let Some(code) = last["exitCode"].as_i64() {
            let why = last["reason"].as_str().unwrap_or("terminated");
            text.push_str(&format!(" (last run: {why}, exit code {code})"));
        }
        return Some(match fatal {
            true => Problem::Fatal(text),
            false => Problem::Waiting(text),
        });
    }
    let conditions = pod.pointer("/status/conditions").and_then(Value::as_array);
    conditions.into_iter().flatten().find_map(|c| {
        (c["type"] == "PodScheduled" && c["status"] == "False" && c["reason"] == "Unschedulable")
            .then(|| {
                Problem::Waiting(format!(
                    "cannot be scheduled yet: {}",
                    c["message"].as_str().unwrap_or("no reason given")
                ))
            })
    })
}

async fn pod_events(api: &ApiServer, namespace: &str, pod: &str) -> Result<String, KubeError> {
    let events = api.events_of(namespace, pod).await?;
    let lines: Vec<String> = events
        .iter()
        .rev()
        .take(5)
        .map(|e| {
            format!(
                "\n  {} {}: {}",
                e["type"].as_str().unwrap_or(""),
                e["reason"].as_str().unwrap_or(""),
                e["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    Ok(if lines.is_empty() {
        String::new()
    } else {
        format!("\nevents:{}", lines.concat())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pods_that_may_still_start_are_told_apart_from_ones_that_cannot() {
        let pod = json!({"metadata": {"name": "spark-worker-1"}, "status": {"conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes are available: 3 Insufficient memory."}
        ]}});
        // Pending for lack of capacity is normal on clusters that add nodes on demand.
        assert_eq!(
            pod_problem(&pod).unwrap(),
            Problem::Waiting(
                "cannot be scheduled yet: 0/3 nodes are available: 3 Insufficient memory.".into()
            )
        );
        let pull = |message: &str| {
            json!({"status": {"containerStatuses": [{"name": "spark", "state": {"waiting":
                {"reason": "ImagePullBackOff", "message": message}}}]}})
        };
        let gone = "Back-off pulling image \"apache/spark:9.9\": not found";
        assert_eq!(
            pod_problem(&pull(gone)).unwrap(),
            Problem::Fatal(format!("container spark is ImagePullBackOff: {gone}"))
        );
        // A registry that times out may answer the next pull.
        let slow = "Back-off pulling image \"apache/spark:4.1.2\": i/o timeout";
        assert!(matches!(
            pod_problem(&pull(slow)),
            Some(Problem::Waiting(_))
        ));
        let crash = json!({"status": {"containerStatuses": [{"name": "spark", "state": {"waiting":
            {"reason": "CrashLoopBackOff"}}, "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}});
        assert_eq!(
            pod_problem(&crash).unwrap(),
            Problem::Fatal(
                "container spark is CrashLoopBackOff (last run: Error, exit code 1)".into()
            )
        );
    }
}
