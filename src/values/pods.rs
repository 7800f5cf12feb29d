//! What a platform team adds to sparkup's pods: volumes, init containers and sidecars, where and
//! how a pod is scheduled, DNS, extra ports and variables, probe timings and lifecycle hooks.
//!
//! The same keys are set once under `pod` for every pod of the instance, and per role under
//! `<role>.pod` (`master`, `workers`, `history`, `connect`, `drivers` for every driver, and
//! `jobs.<name>` for one job's). The more specific layer wins, by the rule the values layers
//! follow: `env` merges key by key, every other key (a list or a single value) set in a role
//! replaces the shared one. The older top-level `env` and `serviceAccountName` are the bottom
//! layer, and a job's own `env` its top one. Keeping the layers apart (rather than merging them
//! in the values tree) lets an error name the layer a value came from.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, HostAlias, Lifecycle, PodDNSConfig, TopologySpreadConstraint, Volume,
    VolumeMount,
};
use serde::{Deserialize, Serialize};

use super::spec::{ClusterSpec, JobSpec};

/// One layer of pod settings: `pod`, or a role's `pod`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PodValues {
    /// Volumes added to the pod, mounted with `extraVolumeMounts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_volumes: Option<Vec<Volume>>,
    /// Mounts of `extraVolumes` into sparkup's containers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_volume_mounts: Option<Vec<VolumeMount>>,
    /// Containers that run to completion before sparkup's start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_containers: Option<Vec<Container>>,
    /// Containers that run beside sparkup's for the pod's life: native sidecars (init containers
    /// with `restartPolicy: Always`, Kubernetes 1.29 or later), started first and stopped last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sidecars: Option<Vec<Container>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    /// How the pods spread over nodes or zones; workers get one by default (see `workers`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler_name: Option<String>,
    /// Lines added to the pod's `/etc/hosts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_aliases: Option<Vec<HostAlias>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_class_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_config: Option<PodDNSConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Ports of sparkup's container besides its own (an agent's, a JMX exporter's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_ports: Option<Vec<ContainerPort>>,
    /// Timings of sparkup's probes; each field left out keeps sparkup's.
    #[serde(skip_serializing_if = "ProbeOverrides::is_empty")]
    pub probes: ProbeOverrides,
    /// Variables of sparkup's containers.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Hooks of sparkup's container; a worker's shutdown is decommission's, so not its preStop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
}

/// The timings of each of sparkup's probes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ProbeOverrides {
    #[serde(skip_serializing_if = "ProbeTiming::is_empty")]
    pub startup: ProbeTiming,
    #[serde(skip_serializing_if = "ProbeTiming::is_empty")]
    pub readiness: ProbeTiming,
    #[serde(skip_serializing_if = "ProbeTiming::is_empty")]
    pub liveness: ProbeTiming,
}

/// A probe's timing fields, as the Kubernetes API names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ProbeTiming {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_delay_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_threshold: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<u32>,
}

impl ProbeTiming {
    pub fn is_empty(&self) -> bool {
        *self == ProbeTiming::default()
    }

    /// Each field of `self` that is set, else `base`'s.
    fn over(&self, base: &ProbeTiming) -> ProbeTiming {
        ProbeTiming {
            initial_delay_seconds: self.initial_delay_seconds.or(base.initial_delay_seconds),
            period_seconds: self.period_seconds.or(base.period_seconds),
            timeout_seconds: self.timeout_seconds.or(base.timeout_seconds),
            success_threshold: self.success_threshold.or(base.success_threshold),
            failure_threshold: self.failure_threshold.or(base.failure_threshold),
        }
    }

    /// The fields with their API names, for checks and messages.
    pub(crate) fn fields(&self) -> [(&'static str, Option<u32>); 5] {
        [
            ("initialDelaySeconds", self.initial_delay_seconds),
            ("periodSeconds", self.period_seconds),
            ("timeoutSeconds", self.timeout_seconds),
            ("successThreshold", self.success_threshold),
            ("failureThreshold", self.failure_threshold),
        ]
    }
}

impl ProbeOverrides {
    pub fn is_empty(&self) -> bool {
        *self == ProbeOverrides::default()
    }

    fn over(&self, base: &ProbeOverrides) -> ProbeOverrides {
        ProbeOverrides {
            startup: self.startup.over(&base.startup),
            readiness: self.readiness.over(&base.readiness),
            liveness: self.liveness.over(&base.liveness),
        }
    }
}

impl PodValues {
    pub fn is_empty(&self) -> bool {
        *self == PodValues::default()
    }

    /// `self` over `base`: `env` and probe timings merge, every other key set here replaces
    /// `base`'s.
    fn over(&self, base: &PodValues) -> PodValues {
        macro_rules! either {
            ($($field:ident),*) => {
                PodValues {
                    $($field: self.$field.clone().or_else(|| base.$field.clone()),)*
                    probes: self.probes.over(&base.probes),
                    env: base.env.iter().chain(&self.env)
                        .map(|(k, v)| (k.clone(), v.clone())).collect(),
                }
            };
        }
        either!(
            extra_volumes,
            extra_volume_mounts,
            init_containers,
            sidecars,
            priority_class_name,
            topology_spread_constraints,
            scheduler_name,
            host_aliases,
            runtime_class_name,
            dns_config,
            service_account_name,
            extra_ports,
            lifecycle
        )
    }
}

/// A role whose pods the settings shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PodRole<'a> {
    Master,
    Workers,
    History,
    Connect,
    /// A driver: of a job (its key under `jobs`, or a run's name, and its spec), or any.
    Driver(Option<(&'a str, &'a JobSpec)>),
}

impl PodRole<'_> {
    /// The role's key in the values.
    pub fn key(self) -> String {
        match self {
            PodRole::Master => "master".into(),
            PodRole::Workers => "workers".into(),
            PodRole::History => "history".into(),
            PodRole::Connect => "connect".into(),
            PodRole::Driver(None) => "drivers".into(),
            PodRole::Driver(Some((job, _))) => crate::error::path_key("jobs", job),
        }
    }
}

/// A role's layers, lowest first, each with the path it sits at.
#[derive(Debug, Clone)]
pub struct PodLayers {
    layers: Vec<(String, PodValues)>,
}

impl PodLayers {
    /// What the role's pods get.
    pub fn effective(&self) -> PodValues {
        self.layers
            .iter()
            .fold(PodValues::default(), |base, (_, layer)| layer.over(&base))
    }

    /// The path of `field` (its camelCase key) in the most specific layer that sets it: where
    /// an error about the value it has must point.
    pub fn origin(&self, field: &str) -> String {
        let set = |layer: &PodValues| {
            serde_json::to_value(layer)
                .ok()
                .is_some_and(|v| v.get(field).is_some())
        };
        let prefix = self
            .layers
            .iter()
            .rev()
            .find(|(_, layer)| set(layer))
            .map(|(prefix, _)| prefix.as_str())
            .unwrap_or("pod");
        match prefix {
            "" => field.to_string(),
            prefix => format!("{prefix}.{field}"),
        }
    }
}

impl ClusterSpec {
    /// The layers of pod settings of one role: the top-level `env` and `serviceAccountName`,
    /// `pod`, the role's `pod` (for a job's driver `drivers.pod`, then `jobs.<name>.pod` and
    /// the job's `env`).
    pub fn pod_layers(&self, role: PodRole) -> PodLayers {
        let top = PodValues {
            service_account_name: self.service_account_name.clone(),
            env: self.env.clone(),
            ..PodValues::default()
        };
        let mut layers = vec![(String::new(), top), ("pod".into(), self.pod.clone())];
        let own = |key: String, pod: &PodValues| (format!("{key}.pod"), pod.clone());
        match role {
            PodRole::Master => layers.push(own(role.key(), &self.master.pod)),
            PodRole::Workers => layers.push(own(role.key(), &self.workers.pod)),
            PodRole::History => layers.push(own(role.key(), &self.history.pod)),
            PodRole::Connect => layers.push(own(role.key(), &self.connect.pod)),
            PodRole::Driver(job) => {
                layers.push(own(PodRole::Driver(None).key(), &self.drivers.pod));
                if let Some((_, spec)) = job {
                    let key = role.key();
                    layers.push(own(key.clone(), &spec.pod));
                    let env = PodValues {
                        env: spec.env.clone(),
                        ..PodValues::default()
                    };
                    layers.push((key, env));
                }
            }
        }
        PodLayers { layers }
    }
}

/// sparkup's own volume names in its pods; a claim's is `storage-<name>`, a job's extra worker
/// `i`'s work folder `work-<i>`.
pub(crate) const OWN_VOLUMES: &[&str] = &["conf", "tmp", "work", "app", "tls"];
/// sparkup's own container names: a daemon's, a driver's; a job's extra worker `i` is
/// `worker-<i>`.
pub(crate) const OWN_CONTAINERS: &[&str] = &["spark", "driver"];
/// sparkup's own port names; a job's extra worker `i` has `w<i>-rpc` and `w<i>-http`.
pub(crate) const OWN_PORTS: &[&str] = &["rpc", "http", "grpc", "driver", "blockmanager"];

/// Whether `name` is `<prefix><number>`.
pub(crate) fn numbered(name: &str, prefix: &str, suffix: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> ClusterSpec {
        let opts = crate::values::ValuesOptions::default();
        let path = std::env::temp_dir().join(format!("pods-{}.yaml", std::process::id()));
        std::fs::write(&path, yaml).unwrap();
        let cluster = crate::values::load(&crate::values::ValuesOptions {
            files: vec![path.clone()],
            ..opts
        });
        std::fs::remove_file(&path).unwrap();
        cluster.unwrap().spec
    }

    #[test]
    fn a_role_replaces_lists_and_values_and_merges_env() {
        let spec = spec(
            "env: {A: top}\n\
             pod:\n  priorityClassName: shared\n  env: {B: pod}\n  hostAliases: [{ip: 10.0.0.1, hostnames: [a]}]\n  \
             probes: {readiness: {periodSeconds: 5, failureThreshold: 2}}\n\
             workers:\n  pod:\n    env: {B: workers, C: workers}\n    hostAliases: []\n    \
             probes: {readiness: {periodSeconds: 20}}\n",
        );
        let workers = spec.pod_layers(PodRole::Workers);
        let w = workers.effective();
        assert_eq!(w.priority_class_name.as_deref(), Some("shared"));
        assert_eq!(w.host_aliases, Some(vec![]));
        assert_eq!(
            w.env,
            BTreeMap::from([
                ("A".into(), "top".into()),
                ("B".into(), "workers".into()),
                ("C".into(), "workers".into())
            ])
        );
        assert_eq!(w.probes.readiness.period_seconds, Some(20));
        assert_eq!(w.probes.readiness.failure_threshold, Some(2));
        assert_eq!(workers.origin("hostAliases"), "workers.pod.hostAliases");
        assert_eq!(workers.origin("priorityClassName"), "pod.priorityClassName");
        let master = spec.pod_layers(PodRole::Master).effective();
        assert_eq!(master.host_aliases.map(|h| h.len()), Some(1));
        assert_eq!(master.env["B"], "pod");
    }

    #[test]
    fn a_jobs_driver_reads_drivers_then_its_own_and_its_env_last() {
        let spec = spec(
            "serviceAccountName: top\n\
             drivers: {pod: {serviceAccountName: drivers, env: {X: drivers}}}\n\
             jobs:\n  etl:\n    app: /code/etl.py\n    env: {X: job}\n    \
             pod: {schedulerName: batch}\n",
        );
        let etl = spec.pod_layers(PodRole::Driver(Some(("etl", &spec.jobs["etl"]))));
        let e = etl.effective();
        assert_eq!(e.service_account_name.as_deref(), Some("drivers"));
        assert_eq!(e.scheduler_name.as_deref(), Some("batch"));
        assert_eq!(e.env["X"], "job");
        assert_eq!(etl.origin("schedulerName"), "jobs.etl.pod.schedulerName");
        let adhoc = spec.pod_layers(PodRole::Driver(None));
        assert_eq!(
            adhoc.origin("serviceAccountName"),
            "drivers.pod.serviceAccountName"
        );
        let master = spec.pod_layers(PodRole::Master);
        assert_eq!(master.origin("serviceAccountName"), "serviceAccountName");
        assert!(numbered("worker-12", "worker-", ""));
        assert!(numbered("w3-rpc", "w", "-rpc"));
        assert!(!numbered("worker-", "worker-", ""));
    }
}
