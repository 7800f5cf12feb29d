//! What the templates see: names, labels, environment and sizing, computed once from the cluster.
//!
//! Decisions live here, in typed code; the templates only lay the results out as Kubernetes
//! objects. The master and the workers share one shape ([`Workload`]) so one template renders
//! both and a rule for pods is written once.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, ConfigMapEnvSource, EnvFromSource, EnvVar, EnvVarSource, ObjectFieldSelector,
    PodAffinityTerm, PodAntiAffinity, SecretEnvSource, Toleration, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;

use super::labels::{LABEL_COMPONENT, LABEL_INSTANCE, LABEL_NAME};
use crate::spark::conf as spark_conf;
use crate::values::Cluster;
use crate::values::spec::{
    AccessMode, AntiAffinity, ClusterSpec, Ports, PullPolicy, Resources, SecuritySpec, ServiceType,
    WorkloadKind,
};

/// Where the ConfigMap is mounted: `conf/spark-defaults.conf` and the launcher `bin/sparkup.sh`.
pub(crate) const SPARKUP_DIR: &str = "/etc/sparkup";
/// `SPARK_CONF_DIR`: the folder with `spark-defaults.conf`.
pub(crate) const CONF_DIR: &str = "/etc/sparkup/conf";
/// The role launcher every container runs with bash, whatever the image's entrypoint.
pub(crate) const LAUNCHER: &str = include_str!("../../templates/launcher.sh");
/// Scratch space for executors and shuffle files (an emptyDir, the root file system is read-only).
pub(crate) const LOCAL_DIR: &str = "/tmp";
/// A worker's application folders (jars, logs of executors).
pub(crate) const WORK_DIR: &str = "/opt/spark/work";

/// Pods restart when the Spark configuration they read changes.
pub(crate) const CONFIG_HASH_ANNOTATION: &str = "sparkup.io/config-hash";

#[derive(Debug, Serialize)]
pub(crate) struct Context<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub image: Image<'a>,
    pub config: Config,
    pub service: Service<'a>,
    pub claims: Vec<Claim<'a>>,
    pub workloads: Vec<Workload<'a>>,
    pub security: &'a SecuritySpec,
    pub service_account_name: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Image<'a> {
    /// `repository:tag`, or `repository@sha256:…` for a digest.
    pub reference: String,
    pub pull_policy: PullPolicy,
    pub pull_secrets: &'a [String],
}

/// The ConfigMap every pod mounts at `mount_path` (compose: inline configs).
#[derive(Debug, Serialize)]
pub(crate) struct Config {
    pub name: String,
    pub mount_path: &'static str,
    pub files: Vec<ConfigFile>,
    /// A fingerprint of every file, so pods restart when what they read changes.
    pub hash: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct ConfigFile {
    /// The ConfigMap key (compose: the config's name).
    pub key: &'static str,
    /// Where it lands under the mount, e.g. `conf/spark-defaults.conf`.
    pub path: &'static str,
    /// The whole path in the container.
    pub target: String,
    pub content: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Service<'a> {
    pub name: String,
    pub service_type: ServiceType,
    pub annotations: &'a BTreeMap<String, String>,
    pub selector: BTreeMap<String, String>,
    pub ports: Vec<Port>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Port {
    pub name: &'static str,
    pub port: u16,
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

/// One Spark daemon's workload: the master or the workers.
#[derive(Debug, Serialize)]
pub(crate) struct Workload<'a> {
    pub name: String,
    pub component: &'static str,
    pub kind: WorkloadKind,
    pub replicas: u32,
    /// `Recreate` for the master: two masters at once would each accept workers.
    pub strategy: &'static str,
    pub selector: BTreeMap<String, String>,
    pub pod_labels: BTreeMap<String, String>,
    pub pod_annotations: BTreeMap<String, String>,
    /// The launcher, run with bash: `command` in a pod, `entrypoint` in compose.
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub env: Vec<EnvVar>,
    pub env_from: Vec<EnvFromSource>,
    pub ports: Vec<Port>,
    pub resources: &'a Resources,
    pub node_selector: &'a BTreeMap<String, String>,
    pub tolerations: &'a [Toleration],
    pub affinity: Option<Affinity>,
    pub termination_grace_period_seconds: Option<u32>,
    /// emptyDir volumes as (name, mount path).
    pub scratch: Vec<(&'static str, &'static str)>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(cluster: &'a Cluster) -> Context<'a> {
        let spec = &cluster.spec;
        let config = config(spec);
        Context {
            name: &spec.name,
            namespace: &spec.namespace,
            image: image(spec),
            service: service(spec),
            claims: claims(spec),
            workloads: vec![master(cluster, &config), workers(cluster, &config)],
            config,
            security: &spec.security_context,
            service_account_name: spec.service_account_name.as_deref(),
        }
    }
}

fn config(spec: &ClusterSpec) -> Config {
    let file = |key, path: &'static str, content| ConfigFile {
        key,
        path,
        target: format!("{SPARKUP_DIR}/{path}"),
        content,
    };
    let files = vec![
        file(
            "spark-defaults.conf",
            "conf/spark-defaults.conf",
            spark_conf::render(&spark_conf(spec)),
        ),
        file("sparkup.sh", "bin/sparkup.sh", LAUNCHER.to_string()),
    ];
    let hash = files
        .iter()
        .fold(FNV_OFFSET, |hash, f| fnv1a(hash, f.content.as_bytes()));
    Config {
        name: format!("{}-config", spec.name),
        mount_path: SPARKUP_DIR,
        files,
        hash: format!("{hash:016x}"),
    }
}

/// `bash <launcher>`: bash runs it from the read-only ConfigMap mount, whatever the image.
fn launcher_command() -> Vec<String> {
    vec!["bash".into(), format!("{SPARKUP_DIR}/bin/sparkup.sh")]
}

/// The URL workers and drivers use: the master Service's DNS name, which is stable across
/// master restarts, unlike the master pod's IP.
pub(crate) fn master_url(spec: &ClusterSpec) -> String {
    format!("spark://{}-master:{}", spec.name, spec.master.ports.rpc)
}

/// sparkup's own properties first, so a user's `sparkConf` can override them.
fn spark_conf(spec: &ClusterSpec) -> BTreeMap<String, String> {
    let mut conf = BTreeMap::from([
        ("spark.master".to_string(), master_url(spec)),
        // A worker that loses its master redials the address the master advertised, the old pod
        // IP, unless told to dial the Service name it was given: a replaced master pod would
        // otherwise never see its workers again.
        (
            "spark.worker.preferConfiguredMasterAddress".to_string(),
            "true".to_string(),
        ),
    ]);
    if spec.workers.decommission {
        // Applications move their cached and shuffle blocks off a decommissioning worker's
        // executors to the others, instead of recomputing them after it has gone.
        for key in [
            "spark.decommission.enabled",
            "spark.storage.decommission.enabled",
            "spark.storage.decommission.rddBlocks.enabled",
            "spark.storage.decommission.shuffleBlocks.enabled",
        ] {
            conf.insert(key.to_string(), "true".to_string());
        }
    }
    conf.extend(spec.spark_conf.clone());
    conf
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

fn selector(spec: &ClusterSpec, component: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_NAME.to_string(), "spark".to_string()),
        (LABEL_INSTANCE.to_string(), spec.name.clone()),
        (LABEL_COMPONENT.to_string(), component.to_string()),
    ])
}

fn service(spec: &ClusterSpec) -> Service<'_> {
    Service {
        name: format!("{}-master", spec.name),
        service_type: spec.master.service.service_type,
        annotations: &spec.master.service.annotations,
        selector: selector(spec, "master"),
        ports: named_ports(&spec.master.ports),
    }
}

/// A daemon's ports under the names probes and Services refer to; `rpc` first, then `http`.
fn named_ports(ports: &Ports) -> Vec<Port> {
    vec![
        Port {
            name: "rpc",
            port: ports.rpc,
        },
        Port {
            name: "http",
            port: ports.http,
        },
    ]
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

fn master<'a>(cluster: &'a Cluster, config: &Config) -> Workload<'a> {
    let spec = &cluster.spec;
    let m = &spec.master;
    let env = [
        ("SPARK_MASTER_PORT", m.ports.rpc.to_string()),
        ("SPARK_MASTER_WEBUI_PORT", m.ports.http.to_string()),
        (
            "SPARK_DAEMON_MEMORY",
            format!("{}m", cluster.sizing.master_heap_mib),
        ),
    ];
    let env = container_env(spec, &env);
    Workload {
        name: format!("{}-master", spec.name),
        component: "master",
        kind: m.kind,
        replicas: 1,
        strategy: "Recreate",
        selector: selector(spec, "master"),
        pod_labels: pod_labels(spec, "master", &m.pod_labels),
        pod_annotations: pod_annotations(&m.pod_annotations, config),
        command: launcher_command(),
        args: vec!["master".into()],
        env,
        env_from: env_from(spec),
        ports: named_ports(&m.ports),
        resources: &m.resources,
        node_selector: &m.node_selector,
        tolerations: &m.tolerations,
        affinity: m.affinity.clone(),
        termination_grace_period_seconds: None,
        scratch: vec![("tmp", LOCAL_DIR)],
    }
}

fn workers<'a>(cluster: &'a Cluster, config: &Config) -> Workload<'a> {
    let spec = &cluster.spec;
    let w = &spec.workers;
    let sizing = &cluster.sizing;
    let env = [
        ("SPARK_WORKER_CORES", sizing.worker_cores.to_string()),
        (
            "SPARK_WORKER_MEMORY",
            format!("{}m", sizing.worker_memory_mib),
        ),
        ("SPARK_WORKER_PORT", w.ports.rpc.to_string()),
        ("SPARK_WORKER_WEBUI_PORT", w.ports.http.to_string()),
        (
            "SPARK_DAEMON_MEMORY",
            format!("{}m", sizing.worker_daemon_mib),
        ),
        ("SPARK_WORKER_DIR", WORK_DIR.to_string()),
        ("SPARK_LOCAL_DIRS", LOCAL_DIR.to_string()),
        ("SPARK_WORKER_DECOMMISSION", w.decommission.to_string()),
    ];
    let selector = selector(spec, "worker");
    let env = container_env(spec, &env);
    Workload {
        name: format!("{}-worker", spec.name),
        component: "worker",
        kind: w.kind,
        replicas: w.replicas,
        strategy: "RollingUpdate",
        pod_labels: pod_labels(spec, "worker", &w.pod_labels),
        pod_annotations: pod_annotations(&w.pod_annotations, config),
        command: launcher_command(),
        args: vec!["worker".into(), master_url(spec)],
        env,
        env_from: env_from(spec),
        ports: named_ports(&w.ports),
        resources: &w.resources,
        node_selector: &w.node_selector,
        tolerations: &w.tolerations,
        affinity: spread(w.affinity.clone(), w.anti_affinity, &selector),
        termination_grace_period_seconds: Some(w.termination_grace_period_seconds),
        selector,
        scratch: vec![("tmp", LOCAL_DIR), ("work", WORK_DIR)],
    }
}

fn pod_labels(
    spec: &ClusterSpec,
    component: &str,
    extra: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut labels = extra.clone();
    labels.extend(selector(spec, component));
    labels
}

fn pod_annotations(extra: &BTreeMap<String, String>, config: &Config) -> BTreeMap<String, String> {
    let mut annotations = extra.clone();
    annotations.insert(CONFIG_HASH_ANNOTATION.into(), config.hash.clone());
    annotations
}

/// The pod IP from the downward API first: every later variable may refer to it as `$(POD_IP)`,
/// and Spark daemons must advertise an address other pods can reach, not a pod host name that
/// no DNS server knows.
fn container_env(spec: &ClusterSpec, role_env: &[(&str, String)]) -> Vec<EnvVar> {
    let pod_ip = EnvVar {
        name: "POD_IP".into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: "status.podIP".into(),
                api_version: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let fixed = [
        ("SPARK_PUBLIC_DNS", "$(POD_IP)".to_string()),
        ("SPARK_CONF_DIR", CONF_DIR.to_string()),
    ];
    let user = spec.env.iter().map(|(k, v)| (k.as_str(), v.clone()));
    std::iter::once(pod_ip)
        .chain(
            fixed
                .into_iter()
                .chain(role_env.iter().cloned())
                .chain(user)
                .map(|(name, value)| EnvVar {
                    name: name.into(),
                    value: Some(value),
                    value_from: None,
                }),
        )
        .collect()
}

fn env_from(spec: &ClusterSpec) -> Vec<EnvFromSource> {
    spec.env_from
        .iter()
        .map(|source| EnvFromSource {
            prefix: source.prefix.clone(),
            secret_ref: source.secret.as_ref().map(|name| SecretEnvSource {
                name: name.clone(),
                optional: None,
            }),
            config_map_ref: source.config_map.as_ref().map(|name| ConfigMapEnvSource {
                name: name.clone(),
                optional: None,
            }),
        })
        .collect()
}

/// Adds the anti-affinity term that spreads workers across nodes to the user's own affinity.
fn spread(
    affinity: Option<Affinity>,
    mode: AntiAffinity,
    selector: &BTreeMap<String, String>,
) -> Option<Affinity> {
    if mode == AntiAffinity::None {
        return affinity;
    }
    let term = PodAffinityTerm {
        label_selector: Some(LabelSelector {
            match_labels: Some(selector.clone()),
            match_expressions: None,
        }),
        topology_key: "kubernetes.io/hostname".into(),
        ..Default::default()
    };
    let mut affinity = affinity.unwrap_or_default();
    let anti = affinity
        .pod_anti_affinity
        .get_or_insert_with(PodAntiAffinity::default);
    if mode == AntiAffinity::Hard {
        anti.required_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(term);
    } else {
        anti.preferred_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(WeightedPodAffinityTerm {
                pod_affinity_term: term,
                weight: 100,
            });
    }
    Some(affinity)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a, 64 bit, continued from `hash`: a stable fingerprint of the configuration for the pod
/// annotation.
fn fnv1a(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
