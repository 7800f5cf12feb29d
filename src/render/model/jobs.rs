//! A driver's Job: the `jobTemplate` of a scheduled job's CronJob, or one run that
//! `sparkup submit` creates, with the job's extra workers as native sidecars.

use std::collections::BTreeMap;

use serde::Serialize;

use super::component::{Component, DRIVER_CONTAINER, Port};
use super::config::Config;
use super::daemons::{WorkerPorts, worker_container};
use super::driver::{DriverParts, driver_container};
use super::extend::extend;
use super::gpus::Gpus;
use super::pod::{
    ConfigMapMount, Container, EMPTY, Pod, PodExtras, RestartPolicy, field_env, pod_annotations,
    pod_labels,
};
use crate::values::Cluster;
use crate::values::pod_layers::PodRole;
use crate::values::spec::{ClusterSpec, ConcurrencyPolicy, JobSpec};

/// The label on a job's CronJob, Jobs and pods that names the job.
pub(crate) const LABEL_JOB: &str = "sparkup.io/job";
pub(crate) use crate::spark::ports::{EXTRA_WORKER_HTTP, EXTRA_WORKER_RPC};
/// Where a shipped local application lands in the driver's container.
pub(crate) const SHIPPED_DIR: &str = "/opt/sparkup/app";

/// A driver's Job: a CronJob's `jobTemplate`, or a Job `sparkup submit` creates.
#[derive(Debug, Serialize)]
pub(crate) struct JobTemplate<'a> {
    /// The CronJob's or the Job's name.
    pub name: String,
    /// The job's key under `jobs` (the application's name).
    pub job: String,
    pub schedule: Option<&'a str>,
    pub time_zone: Option<&'a str>,
    pub concurrency_policy: ConcurrencyPolicy,
    pub starting_deadline_seconds: Option<u32>,
    pub successful_jobs_history_limit: u32,
    pub failed_jobs_history_limit: u32,
    pub suspend: bool,
    pub backoff_limit: u32,
    pub active_deadline_seconds: Option<u32>,
    /// A Job `sparkup submit` creates is removed this long after it ends.
    pub ttl_seconds_after_finished: Option<u32>,
    pub labels: BTreeMap<String, String>,
    pub pod: Pod<'a>,
}

/// Which job, under which name, and what a run adds to it.
pub(crate) struct JobParts<'a> {
    /// The job's key under `jobs`, or the name of an application given on the command line.
    pub key: &'a str,
    pub job: &'a JobSpec,
    /// The CronJob's or the Job's name.
    pub name: String,
    pub ttl_seconds_after_finished: Option<u32>,
    /// The ConfigMap holding a shipped application, mounted into the driver at [`SHIPPED_DIR`].
    pub shipped: Option<String>,
}

/// A scheduled job's CronJob: `<instance>-<job>`.
pub(crate) fn cronjob_name(spec: &ClusterSpec, job: &str) -> String {
    format!("{}-{job}", spec.name)
}

/// The `spark-submit` arguments of a job, after the launcher's role.
pub(crate) fn submit_args(name: &str, job: &JobSpec) -> Vec<String> {
    let mut args = vec!["submit".to_string(), "--name".into(), name.to_string()];
    if let Some(class) = &job.main_class {
        args.extend(["--class".into(), class.clone()]);
    }
    for (key, value) in &job.conf {
        args.extend(["--conf".to_string(), format!("{key}={value}")]);
    }
    args.push(job.app.clone());
    args.extend(job.args.iter().cloned());
    args
}

/// A job's driver pod and the Job around it.
pub(crate) fn job_template<'a>(
    cluster: &'a Cluster,
    config: &Config,
    parts: JobParts<'a>,
) -> JobTemplate<'a> {
    let spec = &cluster.spec;
    let job = parts.job;
    let values = spec
        .pod_layers(PodRole::Driver(Some((parts.key, job))))
        .effective();
    let mut driver = driver_container(
        spec,
        DriverParts {
            name: DRIVER_CONTAINER,
            resources: &job.resources,
            args: submit_args(parts.key, job),
            env: values.env.clone(),
            env_from: &job.env_from,
            role_env: Vec::new(),
        },
    );
    // The Job controller labels each pod with its Job's name; a CronJob's Jobs are named
    // `<cronjob>-<scheduled time in minutes since the epoch>`, from which the launcher tells
    // the application when this run was scheduled.
    driver.env.push(field_env(
        "SPARKUP_JOB_NAME",
        "metadata.labels['batch.kubernetes.io/job-name']",
    ));
    let config_maps: Vec<ConfigMapMount> = parts
        .shipped
        .map(|config_map| ConfigMapMount {
            volume: "app",
            config_map,
            mount_path: SHIPPED_DIR,
        })
        .into_iter()
        .collect();
    driver.config_maps = config_maps.clone();
    let mut scratch = vec!["tmp".to_string()];
    scratch.extend((1..=job.workers).map(|i| format!("work-{i}")));
    let job_label = BTreeMap::from([(LABEL_JOB.to_string(), parts.key.to_string())]);
    // The extra workers' GPUs; the driver has none.
    let gpus = match job.workers {
        0 => 0,
        _ => spec.workers.extra_worker_gpus(job),
    };
    let mut pod = Pod {
        labels: pod_labels(spec, Component::Job, &job_label),
        annotations: pod_annotations(&EMPTY, config, Component::Job),
        containers: vec![driver],
        init_containers: (1..=job.workers)
            .map(|i| extra_worker(cluster, i, gpus, &values.env))
            .collect(),
        restart_policy: Some(RestartPolicy::Never),
        node_selector: &EMPTY,
        tolerations: super::gpus::tolerations(&[], Gpus::of(spec, gpus)),
        affinity: None,
        termination_grace_period_seconds: None,
        scratch,
        config_maps,
        gpu_workers: gpus > 0,
        extras: PodExtras::default(),
    };
    extend(&mut pod, &values);
    pod.with_auth_secret(spec);
    let mut secret_conf = super::tls::secret_conf(spec);
    secret_conf.extend(job.secret_conf.clone());
    pod.with_secret_conf(&secret_conf, Component::Job);
    pod.with_https_probes(spec);
    pod.with_dependencies(spec, Component::Job);
    super::metrics::scrape_annotations(spec, &mut pod, Component::Job);
    JobTemplate {
        name: parts.name,
        job: parts.key.to_string(),
        schedule: job.schedule.as_deref(),
        time_zone: job.time_zone.as_deref(),
        concurrency_policy: job.concurrency_policy,
        starting_deadline_seconds: job.starting_deadline_seconds,
        successful_jobs_history_limit: job.successful_jobs_history_limit,
        failed_jobs_history_limit: job.failed_jobs_history_limit,
        suspend: job.suspend,
        backoff_limit: job.backoff_limit,
        active_deadline_seconds: job.active_deadline_seconds,
        ttl_seconds_after_finished: parts.ttl_seconds_after_finished,
        labels: job_label,
        pod,
    }
}

/// A job's extra worker `i` (from 1): a native sidecar, started before the driver, stopped
/// after it. The driver starts once the worker's startup probe passes, that is once the worker
/// is registered, so the application finds its workers there.
fn extra_worker<'a>(
    cluster: &'a Cluster,
    i: u32,
    gpus: u32,
    env: &BTreeMap<String, String>,
) -> Container<'a> {
    let n = u16::try_from(i).unwrap_or(u16::MAX);
    let ports = WorkerPorts {
        rpc: Port::new(&format!("w{i}-rpc"), EXTRA_WORKER_RPC + n),
        http: Port::new(&format!("w{i}-http"), EXTRA_WORKER_HTTP + n),
        work_volume: format!("work-{i}"),
    };
    let mut worker = worker_container(cluster, format!("worker-{i}"), ports, gpus, env);
    worker.restart_policy = Some(RestartPolicy::Always);
    worker.liveness = None;
    worker
}
