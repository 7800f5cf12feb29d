//! The model: what the templates see, computed once from the cluster.
//!
//! Decisions live here, in typed code, one concern a file; the templates only lay the results
//! out as Kubernetes objects (and the compose file). A role is a [`Component`], which knows its
//! names, labels, ports, metrics paths and health check; the master and the workers share one
//! shape ([`daemons::Workload`]) so one template renders both and a rule for pods is written
//! once ([`pod`]).
//!
//! | file | what it decides |
//! | --- | --- |
//! | `component` | the roles and what each knows about itself |
//! | `config` | `spark-defaults.conf`, the launcher and `metrics.properties`, and their fingerprint |
//! | `pod` | pods and containers: environment, mounts, scheduling, the authentication secret |
//! | `probes` | readiness and liveness from a role's health check |
//! | `daemons` | the master, the workers, the history and Connect servers, and their Services |
//! | `driver` | a client-mode driver's container |
//! | `extend` | what a role's `pod` values add: volumes, init containers, sidecars, scheduling |
//! | `gpus` | a worker's GPUs: resources, the launcher's variables, the GPU nodes' toleration |
//! | `jobs` | a driver's Job, with a job's extra workers as sidecars |
//! | `network` | network policies and the UIs' Ingress |
//! | `metrics` | scrape annotations and PodMonitors |
//! | `tls` | the TLS Secret's volume, its password as private configuration, HTTPS probes |
//! | `scaling` | the workers' disruption budget and autoscaler |

pub(crate) mod component;
pub(crate) mod config;
pub(crate) mod daemons;
pub(crate) mod dependencies;
pub(crate) mod deps_folder;
pub(crate) mod driver;
pub(crate) mod extend;
pub(crate) mod gpus;
pub(crate) mod jobs;
pub(crate) mod metrics;
pub(crate) mod network;
pub(crate) mod pod;
pub(crate) mod probes;
pub(crate) mod scaling;
pub(crate) mod tls;

use serde::Serialize;

pub use component::Component;
use config::Config;
use daemons::{Service, Workload};
use jobs::{JobParts, JobTemplate};
use metrics::Monitor;
use network::{Ingress, NetworkPolicy};
use scaling::Scaling;

use crate::values::Cluster;
use crate::values::spec::{AccessMode, ClusterSpec, PullPolicy, SecuritySpec};

#[derive(Debug, Serialize)]
pub(crate) struct Context<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub image: Image<'a>,
    pub config: Config,
    /// The master's Service first, then the history and Connect servers' when enabled.
    pub services: Vec<Service<'a>>,
    pub claims: Vec<Claim<'a>>,
    /// The master and the workers first, then the history and Connect servers when enabled.
    pub workloads: Vec<Workload<'a>>,
    /// The scheduled jobs, each a CronJob.
    pub jobs: Vec<JobTemplate<'a>>,
    /// The Job that resolves the cluster's Java dependencies, when there are any.
    pub dependencies: Option<JobTemplate<'a>>,
    /// The submitter's ServiceAccount and Role, when `rbac.submitter` is on.
    pub submitter: Option<String>,
    /// The workers' PodDisruptionBudget and autoscaler.
    pub scaling: Scaling,
    /// Who may reach the instance's pods, when network policies are on.
    pub network_policy: Option<NetworkPolicy<'a>>,
    /// PodMonitors for the Prometheus Operator.
    pub monitors: Vec<Monitor>,
    /// The master UI's Ingress.
    pub ingress: Option<Ingress<'a>>,
    pub security: &'a SecuritySpec,
    /// The TLS Secret's volume, with `security.tls` on.
    pub tls: Option<tls::TlsMount>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Image<'a> {
    /// `repository:tag`, or `repository@sha256:…` for a digest.
    pub reference: String,
    pub pull_policy: PullPolicy,
    pub pull_secrets: &'a [String],
}

#[derive(Debug, Serialize)]
pub(crate) struct Claim<'a> {
    /// Volume name inside the pods.
    pub volume: String,
    pub claim_name: String,
    /// False for `existingClaim`: mounted, not rendered.
    pub create: bool,
    pub mount_path: &'a str,
    pub read_only: bool,
    pub size: Option<&'a str>,
    pub access_modes: &'a [AccessMode],
    pub storage_class_name: Option<&'a str>,
}

/// What `job.yaml` sees: the cluster's context and the one job.
#[derive(Serialize)]
pub(crate) struct JobContext<'a> {
    #[serde(flatten)]
    pub cluster: &'a Context<'a>,
    pub job: &'a JobTemplate<'a>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(cluster: &'a Cluster) -> Context<'a> {
        let spec = &cluster.spec;
        let config = Config::new(spec);
        let mut services = vec![daemons::master_service(spec)];
        let mut workloads = vec![
            daemons::master(cluster, &config),
            daemons::workers(cluster, &config),
        ];
        if spec.history.enabled {
            services.push(daemons::server_service(spec, Component::History));
            workloads.push(daemons::history(cluster, &config));
        }
        if spec.connect.enabled {
            services.push(daemons::server_service(spec, Component::Connect));
            workloads.push(daemons::connect(cluster, &config));
        }
        let jobs = spec
            .jobs
            .iter()
            .filter(|(_, job)| job.schedule.is_some())
            .map(|(key, job)| {
                let parts = JobParts {
                    key,
                    job,
                    name: jobs::cronjob_name(spec, key),
                    ttl_seconds_after_finished: None,
                    shipped: None,
                };
                jobs::job_template(cluster, &config, parts)
            })
            .collect();
        let secret_conf = tls::secret_conf(spec);
        for workload in &mut workloads {
            workload.pod.with_auth_secret(spec);
            workload
                .pod
                .with_secret_conf(&secret_conf, workload.component);
            workload.pod.with_https_probes(spec);
            workload.pod.with_dependencies(spec, workload.component);
            metrics::scrape_annotations(spec, &mut workload.pod, workload.component);
        }
        Context {
            name: &spec.name,
            namespace: &spec.namespace,
            image: image(spec),
            services,
            claims: claims(spec),
            workloads,
            jobs,
            dependencies: dependencies::resolver(cluster, &config),
            submitter: spec.rbac.submitter.then(|| submitter_name(spec)),
            scaling: scaling::scaling(cluster),
            network_policy: spec
                .network_policy
                .enabled
                .then(|| network::network_policy(spec)),
            monitors: metrics::monitors(spec),
            ingress: spec.ui.ingress.enabled.then(|| network::ingress(spec)),
            config,
            security: &spec.security_context,
            tls: tls::mount(spec),
        }
    }
}

impl Context<'_> {
    /// The context of the Kubernetes templates: every user value in a container's arguments and
    /// variables escaped for the kubelet, so that it reaches the process as written. (Compose
    /// does no such expansion and takes the values as they are.)
    pub(crate) fn escape_for_kubelet(&mut self) {
        let pods = self.workloads.iter_mut().map(|w| &mut w.pod);
        pods.chain(self.jobs.iter_mut().map(|j| &mut j.pod))
            .chain(self.dependencies.iter_mut().map(|j| &mut j.pod))
            .for_each(pod::Pod::escape_for_kubelet);
    }
}

pub(crate) fn submitter_name(spec: &ClusterSpec) -> String {
    format!("{}-submitter", spec.name)
}

fn image(spec: &ClusterSpec) -> Image<'_> {
    let separator = if spec.image.tag.starts_with("sha256:") {
        '@'
    } else {
        ':'
    };
    Image {
        reference: format!("{}{separator}{}", spec.image.repository, spec.image.tag),
        pull_policy: spec.image.pull_policy,
        pull_secrets: &spec.image.pull_secrets,
    }
}

fn claims(spec: &ClusterSpec) -> Vec<Claim<'_>> {
    spec.storage
        .iter()
        .map(|s| Claim {
            volume: format!("storage-{}", s.name),
            claim_name: s
                .existing_claim
                .clone()
                .unwrap_or_else(|| format!("{}-{}", spec.name, s.name)),
            create: s.existing_claim.is_none(),
            mount_path: &s.mount_path,
            read_only: s.read_only,
            size: s.size.as_ref().map(|q| q.text()),
            access_modes: &s.access_modes,
            storage_class_name: s.storage_class_name.as_deref(),
        })
        .collect()
}
