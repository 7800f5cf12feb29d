//! One application run on the cluster: a Job whose pod runs a client-mode driver, its log
//! followed to the terminal, and the driver's exit code as the result.
//!
//! The log is followed with the kubelet's timestamps, so a stream that ends early (the API
//! server's or a proxy's read timeout, a dropped connection) resumes where it stopped without
//! printing a line twice; a driver that has not started yet (no node, the image being pulled) is
//! waited for, and one that cannot start (an image that does not exist, a crash) fails at once.
//! Stopping the run (Ctrl-C, `--timeout`) deletes the Job, which stops the driver and with it the
//! application's executors.

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt};
use serde_json::{Value, json};

use super::client::{ApiServer, KubeError};
use super::log_query::{LogQuery, Resume};
use super::pods::{Problem, pod_problem, terminating};
use super::progress::deadline;
use crate::json::str_at;
use crate::render::Submission;
use crate::render::kinds::{self, kind_info};
use crate::render::model::Component;
use crate::render::model::component::DRIVER_CONTAINER as DRIVER;
use crate::values::Cluster;

#[derive(Debug, Clone)]
pub struct SubmitOptions {
    /// Create the Job and return without following it.
    pub detach: bool,
    /// Stop the run (delete the Job) after this long.
    pub timeout: Option<Duration>,
    /// How often the driver's pod is looked at while it is not running.
    pub interval: Duration,
}

impl Default for SubmitOptions {
    fn default() -> Self {
        SubmitOptions {
            detach: false,
            timeout: None,
            interval: Duration::from_secs(2),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The Job was created and not followed.
    Detached,
    /// The driver exited with this code.
    Finished(i32),
    /// Stopped by the caller (Ctrl-C): the Job was deleted.
    Interrupted,
    /// `timeout` ran out: the Job was deleted.
    TimedOut,
}

/// Creates the run's objects and, unless detached, follows the driver until it ends, `stop`
/// resolves or the timeout runs out. Log lines go to `out`, states of the pod to `note`.
pub async fn submit(
    api: &ApiServer,
    cluster: &Cluster,
    submission: &Submission,
    opts: &SubmitOptions,
    stop: impl Future<Output = ()>,
    out: &mut (dyn Write + Send),
    note: &mut (dyn FnMut(&str) + Send),
) -> Result<Outcome, KubeError> {
    let spec = &cluster.spec;
    let namespace = spec.namespace.as_str();
    let master = Component::Master.object_name(&spec.name);
    let service = kind_info("v1", "Service").expect("Service is in the kind table");
    if api
        .get(
            service,
            Some(namespace),
            &master,
            "find the Spark master's Service",
        )
        .await?
        .is_none()
    {
        return Err(KubeError::NotReady(format!(
            "no Spark cluster {} in namespace {namespace} (no Service {master}): start it with \
             `sparkup apply` first",
            spec.name
        )));
    }
    let job_kind = submission.job.kind_info();
    if let Some(shipped) = &submission.shipped {
        api.create(shipped.kind_info(), &shipped.value).await?;
    }
    let created = api.create(job_kind, &submission.job.value).await?;
    let job_name = submission.job.name.as_str();
    if let Some(shipped) = &submission.shipped {
        // The ConfigMap goes when the Job goes, whoever deletes it.
        let owner = json!({"metadata": {"ownerReferences": [{
            "apiVersion": "batch/v1", "kind": "Job", "name": job_name,
            "uid": created["metadata"]["uid"], "blockOwnerDeletion": false,
        }]}});
        api.merge_patch(shipped.kind_info(), namespace, &shipped.name, &owner)
            .await?;
    }
    if opts.detach {
        return Ok(Outcome::Detached);
    }
    let deadline = opts.timeout.map(deadline);
    let run_out = async {
        match deadline {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    let outcome = tokio::select! {
        result = follow(api, namespace, job_name, opts.interval, out, note) => {
            return result.map(Outcome::Finished);
        }
        _ = stop => Outcome::Interrupted,
        _ = run_out => Outcome::TimedOut,
    };
    api.delete(job_kind, namespace, job_name).await?;
    Ok(outcome)
}

/// Follows the driver of the Job's pod until it has exited; its exit code.
async fn follow(
    api: &ApiServer,
    namespace: &str,
    job: &str,
    interval: Duration,
    out: &mut (dyn Write + Send),
    note: &mut (dyn FnMut(&str) + Send),
) -> Result<i32, KubeError> {
    let selector = format!("batch.kubernetes.io/job-name={job}");
    let mut resume = Resume::default();
    let mut said = String::new();
    let mut say = |text: String, note: &mut (dyn FnMut(&str) + Send)| {
        if text != said {
            note(&text);
            said = text;
        }
    };
    loop {
        let pods = api.list(kinds::pod_kind(), namespace, &selector).await?;
        let Some(pod) = newest(&pods) else {
            say(format!("waiting for the pod of Job {job}"), note);
            tokio::time::sleep(interval).await;
            continue;
        };
        let name = str_at(pod, "/metadata/name").unwrap_or("?").to_string();
        let state = driver_state(pod);
        match &state {
            DriverState::Waiting => {
                match pod_problem(pod) {
                    Some(Problem::Fatal(problem)) => {
                        return Err(KubeError::NotReady(format!(
                            "the driver cannot start: pod {name}: {problem}"
                        )));
                    }
                    Some(Problem::Waiting(why)) => say(format!("pod {name} {why}"), note),
                    None => say(format!("pod {name} is starting"), note),
                }
                if str_at(pod, "/status/phase") == Some("Failed") {
                    let reason = str_at(pod, "/status/reason").unwrap_or("Failed");
                    let message = str_at(pod, "/status/message").unwrap_or("");
                    return Err(KubeError::NotReady(format!(
                        "pod {name} of Job {job} failed before the driver ran: {reason} {message}"
                    )));
                }
                tokio::time::sleep(interval).await;
                continue;
            }
            DriverState::Running | DriverState::Exited(_) => {}
        }
        let query = LogQuery::resumed(DRIVER, &resume);
        match api.pod_log(namespace, &name, &query).await {
            Ok(stream) => {
                let mut lines = stream.lines();
                while let Some(line) = lines.next().await {
                    // A broken connection ends this stream; the next one resumes.
                    let Ok(line) = line else { break };
                    print_line(&line, &mut resume, out);
                }
            }
            // The container is not there yet or any more: look at the pod again.
            Err(e) if matches!(e.code(), Some(400 | 404)) => {}
            Err(e) => return Err(e),
        }
        if let DriverState::Exited(code) = state {
            return Ok(code);
        }
        tokio::time::sleep(interval).await;
    }
}

/// Prints a log line without its timestamp, unless an earlier stream printed it already.
fn print_line(line: &str, resume: &mut Resume, out: &mut (dyn Write + Send)) {
    if let Some((_, text)) = resume.fresh(line) {
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DriverState {
    Waiting,
    Running,
    Exited(i32),
}

fn driver_state(pod: &Value) -> DriverState {
    let statuses = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array);
    let Some(driver) = statuses.into_iter().flatten().find(|s| s["name"] == DRIVER) else {
        return DriverState::Waiting;
    };
    let state = &driver["state"];
    if let Some(code) = state["terminated"]["exitCode"].as_i64() {
        return DriverState::Exited(i32::try_from(code).unwrap_or(1));
    }
    if state.get("running").is_some() {
        return DriverState::Running;
    }
    DriverState::Waiting
}

/// The Job's newest pod that is not being deleted (a retry replaces a failed one).
fn newest(pods: &[Value]) -> Option<&Value> {
    pods.iter()
        .filter(|p| !terminating(p))
        .max_by_key(|p| str_at(p, "/metadata/creationTimestamp").unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_driver_state_comes_from_its_own_container() {
        let pod = serde_json::json!({"status": {"containerStatuses": [
            {"name": "worker-1", "state": {"terminated": {"exitCode": 143}}},
            {"name": "driver", "state": {"terminated": {"exitCode": 3}}}
        ]}});
        assert_eq!(driver_state(&pod), DriverState::Exited(3));
        let pod = serde_json::json!({"status": {"containerStatuses": [
            {"name": "driver", "state": {"running": {"startedAt": "2026-11-22T03:30:05Z"}}}
        ]}});
        assert_eq!(driver_state(&pod), DriverState::Running);
        assert_eq!(driver_state(&serde_json::json!({})), DriverState::Waiting);
    }
}
