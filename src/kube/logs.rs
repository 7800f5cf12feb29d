//! The logs of an instance's pods through the API server, as `kubectl logs` and stern show them:
//! every pod of a role, each line after a short name of its pod. Followed, a pod that appears
//! later (a new worker, a job's next run) is picked up, and a stream that ends early (the API
//! server's read timeout, a dropped connection) resumes where it stopped without printing a line
//! twice, by the kubelet's timestamps.

use std::io::Write;
use std::time::Duration;

use futures::stream::{LocalBoxStream, SelectAll};
use futures::{AsyncBufReadExt, StreamExt};
use serde_json::Value;

use super::client::{ApiServer, KubeError};
pub(crate) use super::log_query::{LogQuery, Resume};
use crate::json::{label, str_at};
use crate::render::kinds;
use crate::render::labels::{LABEL_COMPONENT, instance_selector, selector_query};
use crate::render::model::Component;
use crate::render::model::component::DRIVER_CONTAINER;
use crate::render::model::jobs::LABEL_JOB;
use crate::values::ClusterSpec;

/// The label the Job controller puts on a run's pods.
const LABEL_JOB_NAME: &str = "batch.kubernetes.io/job-name";
/// The container of a Spark daemon.
const DAEMON_CONTAINER: &str = "spark";

/// Whose logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSource {
    /// Every pod of the instance.
    Instance,
    /// Every pod of one role.
    Role(Component),
    /// A job's newest run (followed: and its runs after it).
    Job(String),
    /// One run: the Job `sparkup submit` or a CronJob created.
    Run(String),
}

#[derive(Debug, Clone)]
pub struct LogOptions {
    pub follow: bool,
    /// Only lines newer than this.
    pub since: Option<Duration>,
    /// Only the last lines of each container.
    pub tail: Option<u64>,
    /// The log of the container's previous instance (before its last restart).
    pub previous: bool,
    /// Each line with the kubelet's timestamp.
    pub timestamps: bool,
    /// A run's extra workers too.
    pub workers: bool,
    /// How often pods are listed while following.
    pub interval: Duration,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            follow: false,
            since: None,
            tail: None,
            previous: false,
            timestamps: false,
            workers: false,
            interval: Duration::from_secs(2),
        }
    }
}

/// Prints the logs of `source`'s containers to `out`, each line after its pod's short name;
/// what is not there yet goes to `note`. Followed, it returns when a run's containers have
/// ended, and otherwise runs until it is stopped.
pub async fn logs(
    api: &ApiServer,
    spec: &ClusterSpec,
    source: &LogSource,
    opts: &LogOptions,
    out: &mut (dyn Write + Send),
    note: &mut (dyn FnMut(&str) + Send),
) -> Result<(), KubeError> {
    let pods = list(api, spec, source).await?;
    if pods.is_empty() && !opts.follow {
        return Err(KubeError::NotFound(format!(
            "no pods of {} in namespace {} (sparkup status lists what runs)",
            describe(source),
            spec.namespace
        )));
    }
    match opts.follow {
        false => print_all(api, spec, &pods, opts, out, note).await,
        true => follow(api, spec, source, opts, out, note).await,
    }
}

/// The pods of `source`, oldest first; of a job only its newest run.
async fn list(
    api: &ApiServer,
    spec: &ClusterSpec,
    source: &LogSource,
) -> Result<Vec<Value>, KubeError> {
    let mut labels = instance_selector(&spec.name);
    match source {
        LogSource::Instance => {}
        LogSource::Role(c) => {
            labels.insert(LABEL_COMPONENT.into(), c.as_str().into());
        }
        LogSource::Job(job) => {
            labels.insert(LABEL_JOB.into(), job.clone());
        }
        LogSource::Run(run) => {
            labels.insert(LABEL_JOB_NAME.into(), run.clone());
        }
    }
    let mut pods = api
        .list(kinds::pod_kind(), &spec.namespace, &selector_query(&labels))
        .await?;
    pods.sort_by(|a, b| created(a).cmp(&created(b)));
    if matches!(source, LogSource::Job(_)) {
        pods = pods.split_off(pods.len().saturating_sub(1));
    }
    Ok(pods)
}

fn created(pod: &Value) -> (&str, &str) {
    (
        str_at(pod, "/metadata/creationTimestamp").unwrap_or(""),
        str_at(pod, "/metadata/name").unwrap_or(""),
    )
}

fn describe(source: &LogSource) -> String {
    match source {
        LogSource::Instance => "the instance".into(),
        LogSource::Role(c) => format!("the {}", c.as_str()),
        LogSource::Job(job) => format!("job {job}"),
        LogSource::Run(run) => format!("run {run}"),
    }
}

/// One container whose log is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    pod: String,
    container: String,
    /// What each of its lines starts with.
    prefix: String,
}

/// The containers of `pod` whose logs are shown: the Spark daemon's or the driver's, and with
/// `workers` a run's extra workers.
fn targets(pod: &Value, instance: &str, workers: bool) -> Vec<Target> {
    let name = str_at(pod, "/metadata/name").unwrap_or("?");
    let short = match label(pod, LABEL_JOB_NAME) {
        Some(run) => run
            .strip_prefix(&format!("{instance}-"))
            .unwrap_or(run)
            .to_string(),
        None => {
            let role = label(pod, LABEL_COMPONENT);
            let id = name.rsplit('-').next().unwrap_or(name);
            format!("{}-{id}", role.unwrap_or("pod"))
        }
    };
    let names = |field: &str| -> Vec<String> {
        pod.pointer(&format!("/spec/{field}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str().map(String::from))
            .collect()
    };
    let containers = names("containers");
    let own = containers
        .iter()
        .find(|c| *c == DAEMON_CONTAINER || *c == DRIVER_CONTAINER)
        .or(containers.first());
    let mut chosen: Vec<String> = own.cloned().into_iter().collect();
    if workers {
        chosen.extend(
            names("initContainers")
                .into_iter()
                .filter(|c| is_extra_worker(c)),
        );
    }
    chosen
        .into_iter()
        .map(|container| Target {
            pod: name.to_string(),
            prefix: match container == DAEMON_CONTAINER || container == DRIVER_CONTAINER {
                true => short.clone(),
                false => format!("{short}/{container}"),
            },
            container,
        })
        .collect()
}

/// A run's extra worker: the sidecar `worker-<n>`.
fn is_extra_worker(container: &str) -> bool {
    container
        .strip_prefix("worker-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Each container's log so far, one after the other.
async fn print_all(
    api: &ApiServer,
    spec: &ClusterSpec,
    pods: &[Value],
    opts: &LogOptions,
    out: &mut (dyn Write + Send),
    note: &mut (dyn FnMut(&str) + Send),
) -> Result<(), KubeError> {
    for target in pods
        .iter()
        .flat_map(|p| targets(p, &spec.name, opts.workers))
    {
        let query = first_query(&target.container, opts, false);
        match api.pod_log(&spec.namespace, &target.pod, &query).await {
            Ok(stream) => {
                let mut lines = stream.lines();
                while let Some(Ok(line)) = lines.next().await {
                    let _ = writeln!(out, "[{}] {line}", target.prefix);
                }
                let _ = out.flush();
            }
            // Not started yet, or gone since the list.
            Err(e) if matches!(e.code(), Some(400 | 404)) => {
                note(&format!("[{}] no log: {}", target.prefix, e.detail()));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// What one followed container's stream says.
enum Event {
    Line(usize, String),
    End(usize),
}

/// A container being followed.
struct Followed {
    target: Target,
    resume: Resume,
    open: bool,
    opened_before: bool,
    ended: bool,
}

/// Follows every container of `source`, those that appear later too.
async fn follow(
    api: &ApiServer,
    spec: &ClusterSpec,
    source: &LogSource,
    opts: &LogOptions,
    out: &mut (dyn Write + Send),
    note: &mut (dyn FnMut(&str) + Send),
) -> Result<(), KubeError> {
    let mut known: Vec<Followed> = Vec::new();
    let mut streams: SelectAll<LocalBoxStream<'static, Event>> = SelectAll::new();
    let mut tick = tokio::time::interval(opts.interval);
    let mut said_waiting = false;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let pods = list(api, spec, source).await?;
                if pods.is_empty() && !said_waiting {
                    note(&format!("waiting for pods of {}", describe(source)));
                    said_waiting = true;
                }
                open_streams(api, spec, &pods, opts, &mut known, &mut streams, note).await?;
                let run_over = matches!(source, LogSource::Run(_))
                    && !known.is_empty()
                    && known.iter().all(|f| f.ended && !f.open);
                if run_over {
                    return Ok(());
                }
            }
            Some(event) = streams.next(), if !streams.is_empty() => match event {
                Event::Line(i, line) => {
                    let followed = &mut known[i];
                    if let Some((stamp, text)) = followed.resume.fresh(&line) {
                        let _ = match (opts.timestamps, stamp) {
                            (true, Some(stamp)) => writeln!(out, "[{}] {stamp} {text}", followed.target.prefix),
                            _ => writeln!(out, "[{}] {text}", followed.target.prefix),
                        };
                        let _ = out.flush();
                    }
                }
                Event::End(i) => known[i].open = false,
            },
        }
    }
}

/// Opens a stream for every container that runs and is not followed yet (again, after a stream
/// that ended while it ran on).
async fn open_streams(
    api: &ApiServer,
    spec: &ClusterSpec,
    pods: &[Value],
    opts: &LogOptions,
    known: &mut Vec<Followed>,
    streams: &mut SelectAll<LocalBoxStream<'static, Event>>,
    note: &mut (dyn FnMut(&str) + Send),
) -> Result<(), KubeError> {
    for pod in pods {
        for target in targets(pod, &spec.name, opts.workers) {
            let state = container_state(pod, &target.container);
            let i = match known.iter().position(|f| f.target == target) {
                Some(i) => i,
                None => {
                    known.push(Followed {
                        target,
                        resume: Resume::default(),
                        open: false,
                        opened_before: false,
                        ended: false,
                    });
                    known.len() - 1
                }
            };
            let followed = &mut known[i];
            followed.ended = state == State::Ended;
            let unseen_end = state == State::Ended && !followed.opened_before;
            if followed.open || !(state == State::Running || unseen_end) {
                continue;
            }
            let query = match followed.opened_before {
                false => first_query(&followed.target.container, opts, true),
                true => LogQuery::resumed(&followed.target.container, &followed.resume),
            };
            match api
                .pod_log(&spec.namespace, &followed.target.pod, &query)
                .await
            {
                Ok(stream) => {
                    followed.open = true;
                    followed.opened_before = true;
                    let lines = stream
                        .lines()
                        .take_while(|l| std::future::ready(l.is_ok()))
                        .map(move |l| Event::Line(i, l.unwrap_or_default()))
                        .chain(futures::stream::once(async move { Event::End(i) }));
                    streams.push(lines.boxed_local());
                }
                Err(e) if matches!(e.code(), Some(400 | 404)) => {
                    note(&format!(
                        "[{}] no log yet: {}",
                        followed.target.prefix,
                        e.detail()
                    ));
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Running,
    Ended,
}

/// The state of a container (or a sidecar) as the kubelet reports it.
fn container_state(pod: &Value, container: &str) -> State {
    let statuses = ["containerStatuses", "initContainerStatuses"]
        .iter()
        .filter_map(|f| {
            pod.pointer(&format!("/status/{f}"))
                .and_then(Value::as_array)
        })
        .flatten();
    for status in statuses.filter(|s| s["name"] == container) {
        if status["state"].get("running").is_some() {
            return State::Running;
        }
        if status["state"].get("terminated").is_some() {
            return State::Ended;
        }
    }
    State::Waiting
}

/// A container's first request, as the options ask; followed, with timestamps (to resume).
fn first_query(container: &str, opts: &LogOptions, follow: bool) -> LogQuery {
    LogQuery {
        container: container.into(),
        follow,
        timestamps: follow || opts.timestamps,
        since_seconds: opts.since.map(|d| d.as_secs().max(1)),
        tail_lines: opts.tail,
        previous: opts.previous,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn daemons_and_runs_get_short_prefixes_and_extra_workers_on_request() {
        let worker = json!({"metadata": {"name": "spark-worker-5d8f7c9b6-x2kfq",
            "labels": {"app.kubernetes.io/component": "worker"}},
            "spec": {"initContainers": [{"name": "init"}], "containers": [{"name": "spark"}, {"name": "log-shipper"}]}});
        let prefixes = |pod: &Value, workers| -> Vec<String> {
            targets(pod, "spark", workers)
                .into_iter()
                .map(|t| format!("{}:{}", t.prefix, t.container))
                .collect()
        };
        assert_eq!(prefixes(&worker, true), ["worker-x2kfq:spark"]);
        let run = json!({"metadata": {"name": "spark-nightly-2901-abcde",
            "labels": {"app.kubernetes.io/component": "job", "batch.kubernetes.io/job-name": "spark-nightly-2901"}},
            "spec": {"initContainers": [{"name": "worker-1"}, {"name": "worker-2"}, {"name": "setup"}],
                "containers": [{"name": "driver"}]}});
        assert_eq!(prefixes(&run, false), ["nightly-2901:driver"]);
        assert_eq!(
            prefixes(&run, true),
            [
                "nightly-2901:driver",
                "nightly-2901/worker-1:worker-1",
                "nightly-2901/worker-2:worker-2"
            ]
        );
    }

    #[test]
    fn a_query_asks_for_what_the_options_say() {
        let opts = LogOptions {
            since: Some(Duration::from_secs(600)),
            tail: Some(20),
            previous: true,
            ..Default::default()
        };
        assert_eq!(
            first_query("spark", &opts, false).query_string(),
            "container=spark&previous=true&sinceSeconds=600&tailLines=20"
        );
        let mut resume = Resume::default();
        resume.fresh("2026-11-22T03:30:05.5Z x");
        assert_eq!(
            LogQuery::resumed("driver", &resume).query_string(),
            "container=driver&follow=true&timestamps=true&sinceTime=2026-11-22T03:30:05Z"
        );
    }
}
