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
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One layer of pod settings: `pod`, or a role's `pod`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
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
    /// The pods' PriorityClass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    /// How the pods spread over nodes or zones; workers get one by default (see `workers`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
    /// The scheduler that places the pods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler_name: Option<String>,
    /// Lines added to the pod's `/etc/hosts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_aliases: Option<Vec<HostAlias>>,
    /// The pods' RuntimeClass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_class_name: Option<String>,
    /// Name servers, search domains and resolver options added to the cluster's DNS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_config: Option<PodDNSConfig>,
    /// The pods' ServiceAccount, over the top-level `serviceAccountName`.
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
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ProbeTiming {
    /// Seconds after the container starts before the first probe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_delay_seconds: Option<u32>,
    /// Seconds between probes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<u32>,
    /// Seconds a probe may take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    /// Successes in a row that count as passing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_threshold: Option<u32>,
    /// Failures in a row that count as failing.
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
    pub(crate) fn over(&self, base: &PodValues) -> PodValues {
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
