//! The Job controller and the kubelet: the pod a new Job gets, the states its driver container
//! goes through, and the driver's log as the kubelet streams it.

use std::convert::Infallible;
use std::sync::Mutex;

use futures::StreamExt as _;
use http::Response;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde_json::{Value, json};

use super::{Body, Seen, State, param, percent_decode, status};

/// The Job controller and kubelet stand-in: a Job's pod, its driver's state and log.
#[derive(Default, Clone)]
pub struct Driver {
    /// Pod lists that still show the pod starting (its container waiting).
    pub pending: usize,
    /// A waiting reason and message that never resolves, instead of starting.
    pub stuck: Option<(String, String)>,
    /// Log lines: (RFC 3339 timestamp, text).
    pub log: Vec<(String, String)>,
    /// The first log stream ends after this many lines while the driver still runs.
    pub first_stream: Option<usize>,
    /// The driver runs until its Job is deleted: the last stream stays open.
    pub runs_on: bool,
    pub exit: i32,
    /// Set once the whole log was served: the driver has exited.
    pub exited: bool,
    pub log_requests: usize,
}

/// A container's log, as the kubelet serves it through the API server: 400 while the
/// container has not started, then its lines with timestamps from `sinceTime` on; the stream
/// stays open while the driver runs on.
pub(super) fn log(shared: &Mutex<State>, seen: &Seen) -> Response<Body> {
    let (path, query) = seen.uri.split_once('?').unwrap_or((&seen.uri, ""));
    let mut state = shared.lock().unwrap();
    let pod = path
        .trim_end_matches("/log")
        .rsplit('/')
        .next()
        .unwrap_or("");
    let container = param(query, "container").unwrap_or("");
    let key = format!("{pod}/{container}");
    if state.logs.contains_key(&key) {
        return container_log(&state, &key, query);
    }
    if !state.pods.iter().any(|p| p["metadata"]["name"] == pod) {
        let (code, value) = status(404, &format!("pods \"{pod}\" not found"));
        return reply(code.as_u16(), value);
    }
    if state.driver.pending > 0 || state.driver.stuck.is_some() {
        let (code, value) = status(
            400,
            "container \"driver\" in pod is waiting to start: ContainerCreating",
        );
        return reply(code.as_u16(), value);
    }
    let since = param(query, "sinceTime").map(percent_decode);
    let driver = &mut state.driver;
    driver.log_requests += 1;
    let mut lines: Vec<&(String, String)> = driver
        .log
        .iter()
        // The kubelet compares times: a line of the same second as `sinceTime` is included.
        .filter(|(at, _)| since.as_ref().is_none_or(|s| at.get(..19) >= s.get(..19)))
        .collect();
    let first = driver.log_requests == 1;
    let mut open = driver.runs_on;
    match driver.first_stream {
        Some(n) if first => {
            lines.truncate(n);
            open = false;
        }
        _ if !driver.runs_on => driver.exited = true,
        _ => {}
    }
    let text: String = lines
        .iter()
        .map(|(at, line)| format!("{at} {line}\n"))
        .collect();
    text_body(text, open)
}

/// A log as the kubelet streams it: the text, then, while the container runs on, a stream that
/// stays open.
fn text_body(text: String, open: bool) -> Response<Body> {
    let chunk = futures::stream::iter([Ok::<_, Infallible>(hyper::body::Frame::data(
        Bytes::from(text),
    ))]);
    let body = match open {
        true => BodyExt::boxed(http_body_util::StreamBody::new(
            chunk.chain(futures::stream::pending()),
        )),
        false => BodyExt::boxed(http_body_util::StreamBody::new(chunk)),
    };
    Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(body)
        .unwrap()
}

fn reply(code: u16, value: Value) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(serde_json::to_vec(&value).unwrap())).boxed())
        .unwrap()
}

/// A container's log as the kubelet serves it: the previous instance's when asked, only lines
/// newer than `sinceSeconds` before the fake's clock (`NOW`) or than `sinceTime`, the last
/// `tailLines`, timestamps when asked; followed, open while the container runs on.
fn container_log(state: &State, key: &str, query: &str) -> Response<Body> {
    const NOW: &str = "2026-11-22T04:00:00Z";
    let previous = param(query, "previous") == Some("true");
    let Some(lines) = (match previous {
        true => state.previous_logs.get(key),
        false => state.logs.get(key),
    }) else {
        let (code, value) = status(400, "previous terminated container not found");
        return reply(code.as_u16(), value);
    };
    let second = |at: &str| -> i64 {
        let hms = at.get(11..19).unwrap_or("00:00:00");
        hms.split(':')
            .fold(0, |acc, n| acc * 60 + n.parse::<i64>().unwrap_or(0))
    };
    let since_seconds: Option<i64> = param(query, "sinceSeconds").and_then(|s| s.parse().ok());
    let since_time = param(query, "sinceTime").map(percent_decode);
    let mut kept: Vec<&(String, String)> = lines
        .iter()
        .filter(|(at, _)| since_seconds.is_none_or(|s| second(at) >= second(NOW) - s))
        .filter(|(at, _)| {
            since_time
                .as_ref()
                .is_none_or(|s| at.get(..19) >= s.get(..19))
        })
        .collect();
    if let Some(tail) = param(query, "tailLines").and_then(|n| n.parse::<usize>().ok()) {
        kept = kept.split_off(kept.len().saturating_sub(tail));
    }
    let stamps = param(query, "timestamps") == Some("true");
    let text: String = kept
        .iter()
        .map(|(at, line)| match stamps {
            true => format!("{at} {line}\n"),
            false => format!("{line}\n"),
        })
        .collect();
    let open = param(query, "follow") == Some("true") && state.running_on.contains(key);
    text_body(text, open)
}

/// The pod the Job controller starts for a new Job, its driver as `driver` says.
pub(super) fn job_pod(job: &Value, started: usize) -> Value {
    let name = job["metadata"]["name"].as_str().unwrap_or("job");
    let template = &job["spec"]["template"];
    let mut metadata = template["metadata"].clone();
    metadata["name"] = json!(format!("{name}-{started:05}"));
    metadata["creationTimestamp"] = json!(format!("2026-11-22T03:00:{:02}Z", started % 60));
    metadata["labels"]["batch.kubernetes.io/job-name"] = json!(name);
    metadata["labels"]["job-name"] = json!(name);
    json!({"metadata": metadata, "spec": template["spec"], "status": {"phase": "Pending"}})
}

/// The driver container's status as the kubelet would report it now.
pub(super) fn driver_status(driver: &mut Driver) -> Value {
    if let Some((reason, message)) = &driver.stuck {
        return json!({"phase": "Pending", "containerStatuses": [{"name": "driver",
            "state": {"waiting": {"reason": reason, "message": message}}}]});
    }
    if driver.pending > 0 {
        driver.pending -= 1;
        return json!({"phase": "Pending", "containerStatuses": [{"name": "driver",
            "state": {"waiting": {"reason": "ContainerCreating"}}}]});
    }
    if driver.exited {
        let phase = if driver.exit == 0 {
            "Succeeded"
        } else {
            "Failed"
        };
        return json!({"phase": phase, "containerStatuses": [{"name": "driver",
            "state": {"terminated": {"exitCode": driver.exit}}}]});
    }
    json!({"phase": "Running", "containerStatuses": [{"name": "driver",
        "state": {"running": {"startedAt": "2026-11-22T03:00:00Z"}}}]})
}
