//! The typed description of one standalone Spark cluster.
//!
//! Defaults live here, in `Default` impls, and nowhere else: the values stage serializes them into
//! the bottom layer of the merge, so `sparkup values` shows every effective setting and a profile
//! or file only states what differs. Every struct denies unknown fields so a typo is an error
//! rather than a silently ignored key.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Affinity, Toleration};
use k8s_openapi::api::networking::v1::NetworkPolicyPeer;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::pods::PodValues;
use super::quantity::Quantity;
pub use super::secret_ref::SecretKeyRef;
use super::tls::TlsSpec;

/// The default image: the official Apache Spark image of the newest Spark release it is
/// published for (apache/spark-docker's versions.json; 4.2.0 is only a preview there). Any image
/// with bash, Java and Spark under `$SPARK_HOME` works: the launcher travels in the ConfigMap.
pub const DEFAULT_IMAGE: (&str, &str) = ("apache/spark", "4.1.2");

/// NVIDIA's device plugin's resource, the GPUs most clusters have.
pub const DEFAULT_GPU_RESOURCE: &str = "nvidia.com/gpu";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSpec {
    /// Instance name: prefix of every object name and the inventory key.
    pub name: String,
    /// Namespace of every object.
    pub namespace: String,
    /// The image every Spark container runs.
    pub image: ImageSpec,
    /// Labels added to every object (and its pods).
    pub labels: BTreeMap<String, String>,
    /// Annotations added to every object.
    pub annotations: BTreeMap<String, String>,
    /// Spark properties written to `spark-defaults.conf`, read by every daemon and driver.
    pub spark_conf: BTreeMap<String, String>,
    /// Spark properties whose values are keys of Kubernetes Secrets (credentials): added to a
    /// private copy of `spark-defaults.conf` when each container starts, never to the ConfigMap.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secret_conf: BTreeMap<String, SecretKeyRef>,
    /// Extra environment variables for every Spark container.
    pub env: BTreeMap<String, String>,
    /// Secrets and ConfigMaps whose keys become environment variables.
    pub env_from: Vec<EnvFromSpec>,
    /// The pods' ServiceAccount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// The user and group Spark runs as; never root.
    pub security_context: SecuritySpec,
    /// Spark's own security: authentication between daemons and drivers, encryption.
    pub security: SparkSecuritySpec,
    /// The standalone master: one pod, and a Service workers and drivers reach it through.
    pub master: MasterSpec,
    /// The workers: their number, size and placement.
    pub workers: WorkerSpec,
    /// PersistentVolumeClaims mounted into the master, every worker and every driver.
    pub storage: Vec<StorageSpec>,
    /// The history server, and event logs for every driver sparkup starts.
    pub history: HistorySpec,
    /// A Spark Connect server: a long-running driver that clients reach on one port.
    pub connect: ConnectSpec,
    /// Kubernetes permissions sparkup can create.
    pub rbac: RbacSpec,
    /// NetworkPolicies: who may reach the instance's pods.
    pub network_policy: NetworkPolicySpec,
    /// Spark's Prometheus endpoints.
    pub metrics: MetricsSpec,
    /// How users reach the web UIs from outside the cluster.
    pub ui: UiSpec,
    /// Named applications: run with `sparkup submit --job NAME`, or on a `schedule` (a CronJob).
    pub jobs: BTreeMap<String, JobSpec>,
    /// What only `sparkup compose` uses.
    pub compose: ComposeSpec,
    /// What every pod of the instance gets: volumes, init containers and sidecars, scheduling,
    /// DNS, ports, variables, probe timings, hooks; each role's `pod` overrides it.
    #[serde(default, skip_serializing_if = "PodValues::is_empty")]
    pub pod: PodValues,
    /// Every driver sparkup starts: a job's, a run of `sparkup submit`.
    #[serde(default, skip_serializing_if = "DriversSpec::is_empty")]
    pub drivers: DriversSpec,
    /// Java dependencies of the whole cluster: resolved once onto a claim, then on the
    /// classpath of the workers, the history server, and every driver and executor.
    #[serde(default, skip_serializing_if = "DependenciesSpec::is_empty")]
    pub dependencies: DependenciesSpec,
}

/// Maven packages and jars that every driver, executor, worker and the history server load:
/// a Job resolves them once onto a claim, keyed by what was asked.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DependenciesSpec {
    /// Maven coordinates, `group:artifact:version`, resolved with what they depend on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<String>,
    /// Maven repositories searched besides Maven Central: `https://` or `file://` URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<String>,
    /// Jars added as they are: `https://` URLs downloaded once, or paths on a claim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jars: Vec<String>,
    /// The `storage` entry whose claim holds the resolved jars; by default the first writable
    /// one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
}

impl DependenciesSpec {
    pub fn is_empty(&self) -> bool {
        *self == DependenciesSpec::default()
    }

    /// Something to resolve: packages or jars.
    pub fn any(&self) -> bool {
        !(self.packages.is_empty() && self.jars.is_empty())
    }
}

/// Settings of every driver; a job's own `pod` overrides them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DriversSpec {
    #[serde(default, skip_serializing_if = "PodValues::is_empty")]
    pub pod: PodValues,
}

impl DriversSpec {
    pub fn is_empty(&self) -> bool {
        self.pod.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HistorySpec {
    /// Run the history server.
    pub enabled: bool,
    /// Where drivers write event logs and the history server reads them: a path on one of the
    /// `storage` claims (`/events` under a claim mounted at `/events` or above), or a URL Spark
    /// can write to (`s3a://bucket/events`, `hdfs://…`).
    pub log_directory: String,
    /// The history server's UI port.
    pub port: u16,
    /// The history server's container; its heap comes from the memory limit.
    pub resources: Resources,
    pub cleaner: CleanerSpec,
    /// What this role adds to its pods, over the top-level `pod`; the same keys.
    #[serde(default, skip_serializing_if = "PodValues::is_empty")]
    pub pod: PodValues,
}

/// The history server's removal of old event logs (`spark.history.fs.cleaner.*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CleanerSpec {
    /// Remove old event logs.
    pub enabled: bool,
    /// How often it runs, as Spark writes durations: `1d`, `12h`.
    pub interval: String,
    /// Logs older than this go.
    pub max_age: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectSpec {
    /// Run the Spark Connect server.
    pub enabled: bool,
    /// The gRPC port clients use (`sc://host:port`).
    pub port: u16,
    /// The server is a driver: its heap comes from this memory limit.
    pub resources: Resources,
    /// Spark properties for the server only (on top of `sparkConf`).
    pub conf: BTreeMap<String, String>,
    /// What this role adds to its pods, over the top-level `pod`; the same keys.
    #[serde(default, skip_serializing_if = "PodValues::is_empty")]
    pub pod: PodValues,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UiSpec {
    /// An Ingress for the master's UI.
    pub ingress: IngressSpec,
}

/// An Ingress for the master's UI, with Spark's reverse proxy so that worker and application
/// UIs open through the master instead of linking to pod IPs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressSpec {
    /// Create the Ingress.
    pub enabled: bool,
    /// The IngressClass; the cluster's default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    /// The host name users open, e.g. spark.example.com.
    pub host: String,
    /// The path prefix, `/` or e.g. `/spark`.
    pub path: String,
    /// A TLS Secret for the hosts; the reverse proxy's links are then https.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_secret: Option<String>,
    /// A host for the history server's UI (with `history.enabled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_host: Option<String>,
    /// A host for the Spark Connect server's application UI (with `connect.enabled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_host: Option<String>,
    /// Annotations of the Ingress (an ingress controller's settings).
    pub annotations: BTreeMap<String, String>,
}

/// Spark's Prometheus endpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricsSpec {
    /// Spark's PrometheusServlet on every daemon's and driver's UI port, executors' metrics on
    /// the driver's (`spark.ui.prometheus.enabled`), and `prometheus.io/*` pod annotations.
    pub enabled: bool,
    /// A PodMonitor (monitoring.coreos.com/v1, the Prometheus Operator's) for every endpoint.
    pub pod_monitor: bool,
}

/// Who may reach the instance's pods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkPolicySpec {
    /// Pods of the instance accept connections only from each other, and on their UI and client
    /// ports (the UIs, Spark Connect) from the namespace and `uiFrom`.
    pub enabled: bool,
    /// Who else may reach the UI and client ports: the ingress controller, the API server's
    /// addresses (its service proxy reads the master's UI for `apply` and `status`).
    pub ui_from: Vec<NetworkPolicyPeer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RbacSpec {
    /// A ServiceAccount `<name>-submitter` with a Role that allows exactly what
    /// `sparkup submit` does, for pipelines that submit from inside the cluster.
    pub submitter: bool,
}

/// One application. Every field but `app` has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct JobSpec {
    /// The application: a path in the pod (`/code/etl.py`, `/code/etl.jar` on a claim), or a URL
    /// Spark can fetch (`https://…`, `s3a://…`, `local:///…` in the image).
    pub app: String,
    /// Main class of a jar application.
    #[serde(rename = "class", skip_serializing_if = "Option::is_none")]
    pub main_class: Option<String>,
    /// Arguments of the application.
    pub args: Vec<String>,
    /// Spark properties for this application (on top of `sparkConf`).
    pub conf: BTreeMap<String, String>,
    /// Spark properties from Secrets for this application's driver (on top of `secretConf`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub secret_conf: BTreeMap<String, SecretKeyRef>,
    /// Environment variables of the driver, over the top-level `env`.
    pub env: BTreeMap<String, String>,
    /// Secrets and ConfigMaps whose keys become the driver's environment variables.
    pub env_from: Vec<EnvFromSpec>,
    /// The driver's container; its heap (`spark.driver.memory`) comes from the memory limit.
    pub resources: Resources,
    /// Cron schedule (`0 2 * * *`): the job becomes a CronJob.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Time zone of the `schedule`, such as Europe/Berlin; the controller's when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// What a scheduled run does while the previous one still runs.
    pub concurrency_policy: ConcurrencyPolicy,
    /// How late a scheduled run may start before it is skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starting_deadline_seconds: Option<u32>,
    /// Successful runs of the CronJob kept.
    pub successful_jobs_history_limit: u32,
    /// Failed runs of the CronJob kept.
    pub failed_jobs_history_limit: u32,
    /// Pause the schedule.
    pub suspend: bool,
    /// Retries of a failed driver; 0 by default, since a half-finished run that starts again
    /// may write its output twice.
    pub backoff_limit: u32,
    /// How long a run may take before it is stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<u32>,
    /// Extra workers that start with the driver, register with the master, and leave when it
    /// ends (native sidecar containers, Kubernetes 1.29 or later); sized like `workers`.
    pub workers: u32,
    /// GPUs of each extra worker, over `workers.gpus` (which they have when this is unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker_gpus: Option<u32>,
    /// What this role adds to its pods, over the top-level `pod`; the same keys.
    #[serde(default, skip_serializing_if = "PodValues::is_empty")]
    pub pod: PodValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ConcurrencyPolicy {
    Allow,
    Forbid,
    Replace,
}

impl Default for JobSpec {
    fn default() -> Self {
        JobSpec {
            app: String::new(),
            main_class: None,
            args: Vec::new(),
            conf: BTreeMap::new(),
            secret_conf: BTreeMap::new(),
            env: BTreeMap::new(),
            env_from: Vec::new(),
            resources: Resources {
                requests: amounts("500m", "1Gi"),
                limits: amounts("1", "1Gi"),
            },
            schedule: None,
            time_zone: None,
            concurrency_policy: ConcurrencyPolicy::Forbid,
            starting_deadline_seconds: None,
            successful_jobs_history_limit: 3,
            failed_jobs_history_limit: 1,
            suspend: false,
            backoff_limit: 0,
            active_deadline_seconds: None,
            workers: 0,
            worker_gpus: None,
            pod: PodValues::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComposeSpec {
    /// The host address published ports bind to: loopback by default, since the master's RPC
    /// port lets whoever reaches it run code; `0.0.0.0` publishes on every interface.
    pub publish_address: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageSpec {
    /// Any image with bash, Java and Spark under `$SPARK_HOME`, without a tag.
    pub repository: String,
    /// The image's tag, or `sha256:…` to pin a digest.
    pub tag: String,
    /// When the kubelet pulls the image.
    pub pull_policy: PullPolicy,
    /// Secrets to pull the image with.
    pub pull_secrets: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum WorkloadKind {
    Deployment,
    ReplicationController,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ServiceType {
    ClusterIP,
    NodePort,
    LoadBalancer,
}

/// Exactly one of `secret` or `configMap`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvFromSpec {
    /// A Secret whose keys become variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// A ConfigMap whose keys become variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
    /// Prefix added to every variable name taken from the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SparkSecuritySpec {
    /// Spark's shared-secret RPC authentication (`spark.authenticate`) between every daemon and
    /// every driver sparkup starts; the secret comes from a Kubernetes Secret.
    pub authenticate: bool,
    /// The Secret holding the shared secret under the key `secret`; `apply` creates it with a
    /// random value when it does not exist and never changes it. Default `<name>-auth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// AES-based encryption of RPC traffic (`spark.network.crypto.enabled`); needs `authenticate`.
    pub encryption: bool,
    /// TLS for the web UIs and RPC, keys from a Secret.
    #[serde(default, skip_serializing_if = "TlsSpec::is_default")]
    pub tls: TlsSpec,
}

/// The user and group Spark runs as; never root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecuritySpec {
    /// The user id of every container.
    pub run_as_user: i64,
    /// The group id of every container.
    pub run_as_group: i64,
    /// The group that owns the pods' volumes.
    pub fs_group: i64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resources {
    /// What the scheduler reserves for the container.
    pub requests: ResourceAmounts,
    /// The most the container may use.
    pub limits: ResourceAmounts,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceAmounts {
    /// CPU, in cores: `2`, `500m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Quantity>,
    /// Memory, in bytes: `4Gi`, `512Mi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Quantity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ports {
    /// Spark's RPC port.
    pub rpc: u16,
    /// The web UI's port.
    pub http: u16,
}

/// How worker pods are spread across nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AntiAffinity {
    /// No rule: the scheduler may pack workers onto one node.
    None,
    /// Prefer different nodes, but still schedule when there are fewer nodes than workers.
    Soft,
    /// Never two workers of this instance on one node.
    Hard,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MasterSpec {
    /// The workload that runs the master.
    pub kind: WorkloadKind,
    /// How a restarted master gets its workers and applications back: `filesystem` keeps its
    /// state in `recoveryDirectory`, a folder on a writable storage claim.
    pub recovery: Recovery,
    /// Where the master keeps its state with `recovery: filesystem`.
    pub recovery_directory: String,
    /// The master's container; its heap comes from the memory limit.
    pub resources: Resources,
    /// The master's ports.
    pub ports: Ports,
    /// The master's Service.
    pub service: ServiceSpec,
    /// Node labels the pod must match.
    pub node_selector: BTreeMap<String, String>,
    /// Taints the pod tolerates.
    pub tolerations: Vec<Toleration>,
    /// Kubernetes affinity rules of the pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// Labels added to the pod.
    pub pod_labels: BTreeMap<String, String>,
    /// Annotations added to the pod.
    pub pod_annotations: BTreeMap<String, String>,
    /// What this role adds to its pods, over the top-level `pod`; the same keys.
    #[serde(default, skip_serializing_if = "PodValues::is_empty")]
    pub pod: PodValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Recovery {
    /// A restarted master starts empty: workers register again, running applications are lost.
    None,
    /// The master's state on a claim (`spark.deploy.recoveryMode=FILESYSTEM`).
    Filesystem,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceSpec {
    /// How the Service is exposed.
    #[serde(rename = "type")]
    pub service_type: ServiceType,
    /// Expose the master's RPC port through a NodePort or LoadBalancer without
    /// `security.authenticate`: whoever reaches it can run code on the workers.
    pub allow_unauthenticated: bool,
    /// Annotations of the Service.
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkerSpec {
    /// The workload that runs the workers.
    pub kind: WorkloadKind,
    /// How many workers run (0 to 1000).
    pub replicas: u32,
    /// A worker's container: its cores and the memory it offers come from the limits.
    pub resources: Resources,
    /// GPUs of each worker's container (limits and requests of `gpuResource`), which the worker
    /// offers Spark's executors (`spark.worker.resource.gpu.*`); 0 for none.
    pub gpus: u32,
    /// The Kubernetes extended resource the GPUs are: `nvidia.com/gpu`, `amd.com/gpu`,
    /// `gpu.intel.com/i915`.
    pub gpu_resource: String,
    /// An executable in the image that prints the container's GPUs as Spark's resource JSON;
    /// by default sparkup's own, from the ConfigMap, which asks `nvidia-smi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_discovery_script: Option<String>,
    /// Heap of the worker daemon itself; executors get what the limits leave after it.
    pub daemon_memory: Quantity,
    /// A worker's ports.
    pub ports: Ports,
    /// On SIGTERM (a pod being stopped), move cached and shuffle blocks to other workers first.
    pub decommission: bool,
    /// How long Kubernetes waits after SIGTERM before it kills a worker: time to decommission.
    pub termination_grace_period_seconds: u32,
    pub anti_affinity: AntiAffinity,
    /// A PodDisruptionBudget that lets a node drain take at most one worker at a time (rendered
    /// with two workers or more).
    pub disruption_budget: bool,
    /// An autoscaler on the workers: a HorizontalPodAutoscaler on their CPU, or KEDA on the
    /// applications the master holds (`mode: demand`); sparkup then leaves `replicas` to it.
    pub autoscaling: AutoscalingSpec,
    /// Node labels the pods must match.
    pub node_selector: BTreeMap<String, String>,
    /// Taints the pods tolerate.
    pub tolerations: Vec<Toleration>,
    /// Kubernetes affinity rules of the pods, beside `antiAffinity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// Labels added to the pods.
    pub pod_labels: BTreeMap<String, String>,
    /// Annotations added to the pods.
    pub pod_annotations: BTreeMap<String, String>,
    /// What this role adds to its pods, over the top-level `pod`; the same keys.
    #[serde(default, skip_serializing_if = "PodValues::is_empty")]
    pub pod: PodValues,
}

impl ClusterSpec {
    /// The URL of the master's UI through the Ingress, when there is one.
    pub fn ingress_url(&self) -> Option<String> {
        let ingress = &self.ui.ingress;
        ingress.enabled.then(|| {
            let scheme = match ingress.tls_secret {
                Some(_) => "https",
                None => "http",
            };
            format!(
                "{scheme}://{}{}",
                ingress.host,
                ingress.path.trim_end_matches('/')
            )
        })
    }

    /// What `security` settles, which no other value may undo.
    pub(crate) fn settled(&self) -> crate::spark::secrets::Settled {
        crate::spark::secrets::Settled {
            authenticate: self.security.authenticate,
            encryption: self.security.encryption,
            rest_filters: self.spark_conf.contains_key("spark.master.rest.filters"),
        }
    }

    /// The Secret with Spark's shared authentication secret, when authentication is on.
    pub fn auth_secret(&self) -> Option<String> {
        self.security.authenticate.then(|| {
            self.security
                .secret_name
                .clone()
                .unwrap_or_else(|| format!("{}-auth", self.name))
        })
    }
}

impl WorkerSpec {
    /// How many workers the cluster has at least: `replicas`, or the autoscaler's minimum.
    pub fn expected(&self) -> u32 {
        match self.autoscaling.enabled {
            true => self.autoscaling.min_replicas,
            false => self.replicas,
        }
    }

    /// How many workers the cluster may have: `replicas`, or the autoscaler's maximum.
    pub fn most(&self) -> u32 {
        match self.autoscaling.enabled {
            true => self.autoscaling.max_replicas,
            false => self.replicas,
        }
    }

    /// The GPUs a job's extra workers have: the job's own `workerGpus`, or the workers'.
    pub fn extra_worker_gpus(&self, job: &JobSpec) -> u32 {
        job.worker_gpus.unwrap_or(self.gpus)
    }

    /// KEDA scales the workers on the applications the master holds.
    pub fn scaled_on_demand(&self) -> bool {
        self.autoscaling.enabled && self.autoscaling.mode == AutoscalingMode::Demand
    }
}

/// Spark's cap on the cores of one application.
pub(crate) const CORES_MAX: &str = "spark.cores.max";

impl ClusterSpec {
    /// The cores one application asks for, as demand scaling counts them:
    /// `workers.autoscaling.demand.coresPerApplication`, or `sparkConf.spark.cores.max`.
    pub(crate) fn cores_per_application(&self) -> Option<u32> {
        let demand = &self.workers.autoscaling.demand;
        demand.cores_per_application.or_else(|| {
            let max = self.spark_conf.get(CORES_MAX)?;
            max.trim().parse().ok().filter(|n| *n > 0)
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AutoscalingSpec {
    /// Create the autoscaler.
    pub enabled: bool,
    /// `cpu`: a HorizontalPodAutoscaler on the workers' CPU use; `demand`: a KEDA ScaledObject
    /// on the cores the master's applications ask for.
    pub mode: AutoscalingMode,
    /// The fewest workers it keeps; with `demand`, 0 lets the workers go when no application
    /// runs.
    pub min_replicas: u32,
    /// The most workers it starts.
    pub max_replicas: u32,
    /// `cpu`: average CPU use, percent of the workers' CPU requests, the autoscaler aims for.
    pub target_cpu_utilization: u32,
    /// `demand`: how KEDA reads the master and how fast workers come and go.
    pub demand: DemandSpec,
}

/// What the autoscaler follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AutoscalingMode {
    /// A HorizontalPodAutoscaler on the workers' CPU use.
    Cpu,
    /// A KEDA ScaledObject on the cores the master's applications ask for.
    Demand,
}

/// How KEDA reads the master and how fast workers come and go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DemandSpec {
    /// Cores one application asks for; by default `sparkConf.spark.cores.max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores_per_application: Option<u32>,
    /// How often KEDA reads the master's `/json/`, in seconds.
    pub polling_interval_seconds: u32,
    /// How long after the last application KEDA waits before the last workers go, in seconds.
    pub cooldown_period_seconds: u32,
    /// How long the wanted number of workers must stay lower before a worker goes, in seconds.
    pub scale_down_stabilization_seconds: u32,
    /// The namespace KEDA's operator runs in: the master's NetworkPolicy lets it read the UI.
    pub keda_namespace: String,
    /// With HTTPS UIs: KEDA does not verify the master's certificate (one that does not name
    /// the master's Service).
    pub insecure_skip_verify: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StorageSpec {
    /// Short name: the claim is `<instance>-<name>`.
    pub name: String,
    /// Where the claim is mounted in every pod.
    pub mount_path: String,
    /// Size of a claim sparkup creates; not used with `existingClaim`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Quantity>,
    /// The claim's access modes: `ReadWriteMany` unless set, since the master and every worker
    /// mount it at once.
    #[serde(default = "default_access_modes")]
    pub access_modes: Vec<AccessMode>,
    /// The claim's StorageClass; the cluster's default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
    /// Mount a claim that already exists instead of creating one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_claim: Option<String>,
    /// Mount the claim read-only.
    #[serde(default)]
    pub read_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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

/// Built-in requests or limits.
pub(crate) fn amounts(cpu: &str, memory: &str) -> ResourceAmounts {
    ResourceAmounts {
        cpu: Some(Quantity::parse(cpu).expect("built-in quantity")),
        memory: Some(Quantity::parse(memory).expect("built-in quantity")),
    }
}
