//! The wait for the cluster's Java dependencies: the Job that resolves them must complete
//! before any pod that loads them starts (they wait in an init container). A resolution that
//! failed is reported at once, with the resolver's last lines (Ivy names the coordinates it
//! could not find), instead of pods waiting until the timeout.

use serde_json::Value;
use tokio::time::Instant;

use super::client::{ApiServer, KubeError, duration_text};
use super::log_query::LogQuery;
use super::progress::{Progress, WaitOptions};
use crate::json::{label, str_at};
use crate::render::Object;
use crate::render::kinds;
use crate::render::labels::LABEL_COMPONENT;

/// The resolver Job's `component` label.
const COMPONENT: &str = "dependencies";
/// The resolver's lines shown with a failure.
const TAIL: u64 = 15;

/// Waits until the resolver Job among `objects` has completed (no Job: at once).
pub(crate) async fn wait_for_dependencies(
    api: &ApiServer,
    namespace: &str,
    objects: &[Object],
    deadline: Instant,
    opts: WaitOptions,
    progress: &Progress,
) -> Result<(), KubeError> {
    let Some(job) = objects
        .iter()
        .find(|o| o.kind == "Job" && label(&o.value, LABEL_COMPONENT) == Some(COMPONENT))
    else {
        return Ok(());
    };
    let bar = progress.line(job.id());
    loop {
        let live = api.get_object(job).await?;
        let status = live.as_ref().map(|l| &l["status"]);
        if status.and_then(|s| s["succeeded"].as_i64()).unwrap_or(0) > 0 {
            bar.finish_with_message("resolved");
            return Ok(());
        }
        if let Some(failed) = status.and_then(failure) {
            let log = resolver_log(api, namespace, &job.name).await?;
            return Err(KubeError::NotReady(format!(
                "the cluster's dependencies could not be resolved (Job {}: {failed}); the \
                 resolver's last lines:\n{log}\nfix dependencies.packages, repositories or \
                 jars and apply again",
                job.name
            )));
        }
        bar.set_message("resolving the dependencies");
        if Instant::now() >= deadline {
            return Err(KubeError::TimedOut(format!(
                "timed out after {} waiting for:\n  {}: resolving the dependencies",
                duration_text(opts.timeout),
                job.id()
            )));
        }
        tokio::time::sleep(opts.interval).await;
    }
}

/// The reason a Job failed for good, from its `Failed` condition.
fn failure(status: &Value) -> Option<String> {
    let conditions = status["conditions"].as_array()?;
    let failed = conditions
        .iter()
        .find(|c| c["type"] == "Failed" && c["status"] == "True")?;
    let reason = failed["reason"].as_str().unwrap_or("Failed");
    Some(match failed["message"].as_str() {
        Some(message) => format!("{reason}: {message}"),
        None => reason.to_string(),
    })
}

/// The last lines of the newest resolver pod's log.
async fn resolver_log(api: &ApiServer, namespace: &str, job: &str) -> Result<String, KubeError> {
    let selector = format!("batch.kubernetes.io/job-name={job}");
    let mut pods = api.list(kinds::pod_kind(), namespace, &selector).await?;
    pods.sort_by(|a, b| {
        str_at(a, "/metadata/creationTimestamp").cmp(&str_at(b, "/metadata/creationTimestamp"))
    });
    let Some(pod) = pods.last().and_then(|p| str_at(p, "/metadata/name")) else {
        return Ok("  (no pod of the Job is left to read)".into());
    };
    let query = LogQuery::tail("resolve", TAIL);
    let text = match api.pod_log(namespace, pod, &query).await {
        Ok(stream) => {
            use futures::AsyncReadExt as _;
            let mut text = String::new();
            let mut stream = Box::pin(stream);
            let _ = stream.read_to_string(&mut text).await;
            text
        }
        Err(e) => format!("(its log cannot be read: {})", e.detail()),
    };
    Ok(text
        .lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n"))
}
