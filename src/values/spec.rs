//! The typed description of one standalone Spark cluster.
//!
//! Defaults live here, in `Default` impls, and nowhere else: the values stage serializes them into
//! the bottom layer of the merge, so `sparkup values` shows every effective setting and a profile
//! or file only states what differs. Every struct denies unknown fields so a typo is an error
//! rather than a silently ignored key.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Affinity, Toleration};
use serde::{Deserialize, Serialize};

use super::quantity::Quantity;

/// The default image: the official Apache Spark image of the newest Spark release it is
/// published for (apache/spark-docker's versions.json; 4.2.0 is only a preview there). Any image
/// with bash, Java and Spark under `$SPARK_HOME` works: the launcher travels in the ConfigMap.
pub const DEFAULT_IMAGE: (&str, &str) = ("apache/spark", "4.1.2");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSpec {
    /// Instance name: prefix of every object name and the inventory key.
    pub name: String,
    pub namespace: String,
    pub image: ImageSpec,
    /// Labels added to every object (and its pods).
    pub labels: BTreeMap<String, String>,
    /// Annotations added to every object.
    pub annotations: BTreeMap<String, String>,
    /// Spark properties written to `spark-defaults.conf`, read by every daemon and driver.
    pub spark_conf: BTreeMap<String, String>,
    /// Extra environment variables for every Spark container.
    pub env: BTreeMap<String, String>,
    /// Secrets and ConfigMaps whose keys become environment variables.
    pub env_from: Vec<EnvFromSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    pub security_context: SecuritySpec,
    pub master: MasterSpec,
    pub workers: WorkerSpec,
    /// PersistentVolumeClaims mounted into the master and every worker.
    pub storage: Vec<StorageSpec>,
    /// What only `sparkup compose` uses.
    pub compose: ComposeSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComposeSpec {
    /// The host address published ports bind to: loopback by default, since the master's RPC
    /// port lets whoever reaches it run code; `0.0.0.0` publishes on every interface.
    pub publish_address: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageSpec {
    pub repository: String,
    pub tag: String,
    pub pull_policy: PullPolicy,
    pub pull_secrets: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkloadKind {
    Deployment,
    ReplicationController,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceType {
    ClusterIP,
    NodePort,
    LoadBalancer,
}

/// Exactly one of `secret` or `configMap`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvFromSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
    /// Prefix added to every variable name taken from the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// The user and group Spark runs as; never root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecuritySpec {
    pub run_as_user: i64,
    pub run_as_group: i64,
    pub fs_group: i64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resources {
    pub requests: ResourceAmounts,
    pub limits: ResourceAmounts,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceAmounts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Quantity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ports {
    pub rpc: u16,
    pub http: u16,
}

/// How worker pods are spread across nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AntiAffinity {
    /// No rule: the scheduler may pack workers onto one node.
    None,
    /// Prefer different nodes, but still schedule when there are fewer nodes than workers.
    Soft,
    /// Never two workers of this instance on one node.
    Hard,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MasterSpec {
    pub kind: WorkloadKind,
    pub resources: Resources,
    pub ports: Ports,
    pub service: ServiceSpec,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    pub pod_labels: BTreeMap<String, String>,
    pub pod_annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceSpec {
    #[serde(rename = "type")]
    pub service_type: ServiceType,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkerSpec {
    pub kind: WorkloadKind,
    pub replicas: u32,
    pub resources: Resources,
    /// Heap of the worker daemon itself; executors get what the limits leave after it.
    pub daemon_memory: Quantity,
    pub ports: Ports,
    /// On SIGTERM (a pod being stopped), move cached and shuffle blocks to other workers first.
    pub decommission: bool,
    /// How long Kubernetes waits after SIGTERM before it kills a worker: time to decommission.
    pub termination_grace_period_seconds: u32,
    pub anti_affinity: AntiAffinity,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    pub pod_labels: BTreeMap<String, String>,
    pub pod_annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StorageSpec {
    /// Short name: the claim is `<instance>-<name>`.
    pub name: String,
    pub mount_path: String,
    /// Size of a claim sparkup creates; not used with `existingClaim`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Quantity>,
    #[serde(default = "default_access_modes")]
    pub access_modes: Vec<AccessMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
    /// Mount a claim that already exists instead of creating one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_claim: Option<String>,
    #[serde(default)]
    pub read_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessMode {
    ReadWriteOnce,
    ReadOnlyMany,
    ReadWriteMany,
    ReadWriteOncePod,
}

/// Shared code and data must be visible to the master and every worker at once.
fn default_access_modes() -> Vec<AccessMode> {
    vec![AccessMode::ReadWriteMany]
}

fn amounts(cpu: &str, memory: &str) -> ResourceAmounts {
    ResourceAmounts {
        cpu: Some(Quantity::parse(cpu).expect("built-in quantity")),
        memory: Some(Quantity::parse(memory).expect("built-in quantity")),
    }
}

impl Default for ClusterSpec {
    fn default() -> Self {
        ClusterSpec {
            name: "spark".into(),
            namespace: "default".into(),
            image: ImageSpec {
                repository: DEFAULT_IMAGE.0.into(),
                tag: DEFAULT_IMAGE.1.into(),
                pull_policy: PullPolicy::IfNotPresent,
                pull_secrets: Vec::new(),
            },
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            spark_conf: BTreeMap::new(),
            env: BTreeMap::new(),
            env_from: Vec::new(),
            service_account_name: None,
            // 185 is the uid the Apache Spark images use for `spark`.
            security_context: SecuritySpec {
                run_as_user: 185,
                run_as_group: 185,
                fs_group: 185,
            },
            master: MasterSpec {
                kind: WorkloadKind::Deployment,
                resources: Resources {
                    requests: amounts("500m", "1Gi"),
                    limits: amounts("1", "1Gi"),
                },
                ports: Ports {
                    rpc: 7077,
                    http: 8080,
                },
                service: ServiceSpec {
                    service_type: ServiceType::ClusterIP,
                    annotations: BTreeMap::new(),
                },
                node_selector: BTreeMap::new(),
                tolerations: Vec::new(),
                affinity: None,
                pod_labels: BTreeMap::new(),
                pod_annotations: BTreeMap::new(),
            },
            workers: WorkerSpec {
                kind: WorkloadKind::Deployment,
                replicas: 2,
                resources: Resources {
                    requests: amounts("2", "4Gi"),
                    limits: amounts("2", "4Gi"),
                },
                daemon_memory: Quantity::parse("256Mi").expect("built-in quantity"),
                ports: Ports {
                    rpc: 7078,
                    http: 8081,
                },
                decommission: false,
                termination_grace_period_seconds: 60,
                anti_affinity: AntiAffinity::None,
                node_selector: BTreeMap::new(),
                tolerations: Vec::new(),
                affinity: None,
                pod_labels: BTreeMap::new(),
                pod_annotations: BTreeMap::new(),
            },
            storage: Vec::new(),
            compose: ComposeSpec {
                publish_address: "127.0.0.1".into(),
            },
        }
    }
}
