//! What the templates see: names, labels, environment and sizing, computed once from the cluster.
//!
//! Decisions live here, in typed code; the templates only lay the results out as Kubernetes
//! objects. The master and the workers share one shape ([`Workload`]) so one template renders
//! both and a rule for pods is written once.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, ConfigMapEnvSource, EnvFromSource, EnvVar, EnvVarSource, HTTPGetAction,
    ObjectFieldSelector, PodAffinityTerm, PodAntiAffinity, Probe, SecretEnvSource,
    SecretKeySelector, TCPSocketAction, Toleration, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use super::labels::{LABEL_COMPONENT, LABEL_INSTANCE, LABEL_NAME};
use crate::spark::conf as spark_conf;
use crate::spark::sizing::master_heap_mib;
use crate::values::Cluster;
use crate::values::quantity::MIB;
use crate::values::spec::{
    AccessMode, AntiAffinity, ClusterSpec, ConcurrencyPolicy, EnvFromSpec, JobSpec, Ports,
    PullPolicy, Recovery, Resources, SecuritySpec, ServiceType, WorkloadKind,
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

/// Spark's PrometheusServlet on every instance (master, worker, driver, applications), on the
/// UI port of the process, at Spark's own default paths.
const METRICS_PROPERTIES: &str = "\
*.sink.prometheusServlet.class=org.apache.spark.metrics.sink.PrometheusServlet
*.sink.prometheusServlet.path=/metrics/prometheus
master.sink.prometheusServlet.path=/metrics/master/prometheus
applications.sink.prometheusServlet.path=/metrics/applications/prometheus
";

/// Where each role's Prometheus text is, on its `http` port: the first path is the one the
/// `prometheus.io/path` annotation names. A driver's covers its executors too. With the trailing
/// `/`: Spark's UI answers the path without it with a redirect.
const METRICS_PATHS: &[(&str, &[&str])] = &[
    (
        "master",
        &[
            "/metrics/master/prometheus/",
            "/metrics/applications/prometheus/",
        ],
    ),
    ("worker", &["/metrics/prometheus/"]),
    (
        "connect",
        &["/metrics/prometheus/", "/metrics/executors/prometheus/"],
    ),
    (
        "job",
        &["/metrics/prometheus/", "/metrics/executors/prometheus/"],
    ),
];

fn metrics_paths(component: &str) -> &'static [&'static str] {
    METRICS_PATHS
        .iter()
        .find(|(c, _)| *c == component)
        .map_or(&[], |(_, paths)| *paths)
}

/// `prometheus.io/*` annotations for a pod whose `http` port serves `component`'s metrics.
fn scrape_annotations(spec: &ClusterSpec, pod: &mut Pod, component: &str) {
    let Some(path) = metrics_paths(component)
        .first()
        .filter(|_| spec.metrics.enabled)
    else {
        return;
    };
    let Some(port) = pod.containers.first().and_then(|c| c.port("http")) else {
        return;
    };
    pod.annotations
        .insert("prometheus.io/scrape".into(), "true".into());
    pod.annotations
        .insert("prometheus.io/port".into(), port.to_string());
    pod.annotations
        .insert("prometheus.io/path".into(), (*path).to_string());
}

#[derive(Debug, Serialize)]
pub(crate) struct Ingress<'a> {
    pub name: String,
    pub spec: &'a crate::values::spec::IngressSpec,
    /// (host, path, Service) for each UI: the master's, and the history and Connect servers'
    /// when they have a host.
    pub rules: Vec<(String, String, String)>,
    pub hosts: Vec<String>,
}

fn ingress(spec: &ClusterSpec) -> Ingress<'_> {
    let i = &spec.ui.ingress;
    let mut rules = vec![(
        i.host.clone(),
        i.path.clone(),
        format!("{}-master", spec.name),
    )];
    if let Some(host) = &i.history_host {
        rules.push((host.clone(), "/".into(), format!("{}-history", spec.name)));
    }
    if let Some(host) = &i.connect_host {
        rules.push((host.clone(), "/".into(), format!("{}-connect", spec.name)));
    }
    Ingress {
        name: format!("{}-master", spec.name),
        spec: i,
        hosts: rules.iter().map(|(h, _, _)| h.clone()).collect(),
        rules,
    }
}

/// One PodMonitor per role that serves metrics.
#[derive(Debug, Serialize)]
pub(crate) struct Monitor {
    pub name: String,
    pub selector: BTreeMap<String, String>,
    pub paths: Vec<&'static str>,
}

fn monitors(spec: &ClusterSpec) -> Vec<Monitor> {
    if !(spec.metrics.enabled && spec.metrics.pod_monitor) {
        return Vec::new();
    }
    let mut components = vec!["master", "worker"];
    if spec.connect.enabled {
        components.push("connect");
    }
    if !spec.jobs.is_empty() {
        components.push("job");
    }
    components
        .into_iter()
        .map(|component| Monitor {
            name: format!("{}-{component}", spec.name),
            selector: selector(spec, component),
            paths: metrics_paths(component).to_vec(),
        })
        .collect()
}

/// Pods restart when the Spark configuration they read changes.
pub(crate) const CONFIG_HASH_ANNOTATION: &str = "sparkup.io/config-hash";

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
    pub component: &'static str,
    pub service_type: ServiceType,
    pub annotations: &'a BTreeMap<String, String>,
    pub selector: BTreeMap<String, String>,
    pub ports: Vec<Port>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Port {
    pub name: String,
    pub port: u16,
}

impl Port {
    fn new(name: &str, port: u16) -> Port {
        Port {
            name: name.to_string(),
            port,
        }
    }
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

/// One workload: the master, the workers, the history server or the Connect server.
#[derive(Debug, Serialize)]
pub(crate) struct Workload<'a> {
    pub name: String,
    pub component: &'static str,
    pub kind: WorkloadKind,
    /// None when an autoscaler sets it.
    pub replicas: Option<u32>,
    /// `Recreate` for the master: two masters at once would each accept workers.
    pub strategy: &'static str,
    pub selector: BTreeMap<String, String>,
    pub pod: Pod<'a>,
}

/// A pod template: what `_pod.yaml` lays out.
#[derive(Debug, Serialize)]
pub(crate) struct Pod<'a> {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub containers: Vec<Container<'a>>,
    /// Native sidecars (`restartPolicy: Always`): a job's extra workers.
    pub init_containers: Vec<Container<'a>>,
    /// `Never` for a driver; the API's default (`Always`) for daemons.
    pub restart_policy: Option<&'static str>,
    pub node_selector: &'a BTreeMap<String, String>,
    pub tolerations: &'a [Toleration],
    pub affinity: Option<Affinity>,
    pub termination_grace_period_seconds: Option<u32>,
    /// emptyDir volumes, by name.
    pub scratch: Vec<String>,
}

/// One container running the launcher in one role.
#[derive(Debug, Serialize)]
pub(crate) struct Container<'a> {
    pub name: String,
    /// The launcher, run with bash: `command` in a pod, `entrypoint` in compose.
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub env: Vec<EnvVar>,
    pub env_from: Vec<EnvFromSource>,
    pub ports: Vec<Port>,
    pub resources: &'a Resources,
    pub readiness: Option<Probe>,
    pub liveness: Option<Probe>,
    /// Holds back the pod's later containers until this one is up (a job's extra workers).
    pub startup: Option<Probe>,
    /// emptyDir mounts as (volume name, mount path).
    pub scratch: Vec<(String, &'static str)>,
    /// `Always` makes an init container a native sidecar.
    pub restart_policy: Option<&'static str>,
}

impl Container<'_> {
    /// The port named `name`.
    pub(crate) fn port(&self, name: &str) -> Option<u16> {
        self.ports.iter().find(|p| p.name == name).map(|p| p.port)
    }
}

/// The instance's pods accept each other; their UI and client ports also the namespace and
/// `ui_from`.
#[derive(Debug, Serialize)]
pub(crate) struct NetworkPolicy<'a> {
    pub name: String,
    /// Every pod of the instance: daemons, drivers, servers.
    pub instance: BTreeMap<String, String>,
    /// UI and client ports by number, across every role.
    pub ui_ports: Vec<u16>,
    pub ui_from: &'a [k8s_openapi::api::networking::v1::NetworkPolicyPeer],
}

/// How the workers' Deployment is drained and scaled.
#[derive(Debug, Serialize)]
pub(crate) struct Scaling {
    pub workload: String,
    pub selector: BTreeMap<String, String>,
    /// Two workers or more (or an autoscaler's minimum of two): one may go at a time.
    pub disruption_budget: bool,
    pub autoscaler: Option<Autoscaler>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Autoscaler {
    pub kind: WorkloadKind,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub target_cpu_utilization: u32,
}

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

/// What `job.yaml` sees: the cluster's context and the one job.
#[derive(Serialize)]
pub(crate) struct JobContext<'a> {
    #[serde(flatten)]
    pub cluster: &'a Context<'a>,
    pub job: &'a JobTemplate<'a>,
}

/// The label on a job's CronJob, Jobs and pods that names the job.
pub(crate) const LABEL_JOB: &str = "sparkup.io/job";
/// Fixed driver ports, so executors and network policies can name them.
pub(crate) const DRIVER_PORT: u16 = 7079;
pub(crate) const BLOCK_MANAGER_PORT: u16 = 7080;
pub(crate) const DRIVER_UI_PORT: u16 = 4040;
/// A job's extra worker `i` (from 1) listens on these plus `i`.
const EXTRA_WORKER_RPC: u16 = 7200;
const EXTRA_WORKER_HTTP: u16 = 8200;

impl<'a> Context<'a> {
    pub(crate) fn new(cluster: &'a Cluster) -> Context<'a> {
        let spec = &cluster.spec;
        let config = config(spec);
        let mut services = vec![service(spec)];
        let mut workloads = vec![master(cluster, &config), workers(cluster, &config)];
        if spec.history.enabled {
            let ports = vec![Port::new("http", spec.history.port)];
            services.push(server_service(spec, "history", ports));
            workloads.push(history(cluster, &config));
        }
        if spec.connect.enabled {
            let ports = vec![
                Port::new("grpc", spec.connect.port),
                Port::new("http", DRIVER_UI_PORT),
            ];
            services.push(server_service(spec, "connect", ports));
            workloads.push(connect(cluster, &config));
        }
        let jobs = spec
            .jobs
            .iter()
            .filter(|(_, job)| job.schedule.is_some())
            .map(|(name, job)| job_template(cluster, &config, name, job, cronjob_name(spec, name)))
            .collect();
        for workload in &mut workloads {
            with_auth_secret(spec, &mut workload.pod);
            scrape_annotations(spec, &mut workload.pod, workload.component);
        }
        Context {
            name: &spec.name,
            namespace: &spec.namespace,
            image: image(spec),
            services,
            claims: claims(spec),
            workloads,
            jobs,
            submitter: spec.rbac.submitter.then(|| submitter_name(spec)),
            scaling: scaling(spec),
            network_policy: spec.network_policy.enabled.then(|| network_policy(spec)),
            monitors: monitors(spec),
            ingress: spec.ui.ingress.enabled.then(|| ingress(spec)),
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
    let mut files = vec![
        file(
            "spark-defaults.conf",
            "conf/spark-defaults.conf",
            spark_conf::render(&spark_conf(spec)),
        ),
        file("sparkup.sh", "bin/sparkup.sh", LAUNCHER.to_string()),
    ];
    if spec.metrics.enabled {
        files.push(file(
            "metrics.properties",
            "conf/metrics.properties",
            METRICS_PROPERTIES.to_string(),
        ));
    }
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
    if let Some(url) = spec.ingress_url() {
        // Worker and application UIs open through the master's, under the Ingress's URL.
        conf.insert("spark.ui.reverseProxy".into(), "true".into());
        conf.insert("spark.ui.reverseProxyUrl".into(), url);
    }
    if spec.metrics.enabled {
        conf.insert(
            "spark.metrics.conf".into(),
            format!("{CONF_DIR}/metrics.properties"),
        );
        // Executors' metrics on the driver's UI, at /metrics/executors/prometheus.
        conf.insert("spark.ui.prometheus.enabled".into(), "true".into());
    }
    if spec.security.authenticate {
        // The secret itself comes from the environment (`_SPARK_AUTH_SECRET`), never from here.
        conf.insert("spark.authenticate".into(), "true".into());
        if spec.security.encryption {
            conf.insert("spark.network.crypto.enabled".into(), "true".into());
        }
    }
    if spec.master.recovery == Recovery::Filesystem {
        // A restarted master (the Deployment recreates it) reads its workers and applications
        // back from the claim instead of starting empty.
        conf.insert("spark.deploy.recoveryMode".into(), "FILESYSTEM".into());
        conf.insert(
            "spark.deploy.recoveryDirectory".into(),
            spec.master.recovery_directory.clone(),
        );
    }
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
    if spec.history.enabled {
        // Every driver writes its event log where the history server reads; the daemons ignore
        // these properties.
        let dir = event_log_url(&spec.history.log_directory);
        let h = &spec.history;
        for (key, value) in [
            ("spark.eventLog.enabled", "true".to_string()),
            ("spark.eventLog.dir", dir.clone()),
            ("spark.history.fs.logDirectory", dir),
            ("spark.history.ui.port", h.port.to_string()),
            (
                "spark.history.fs.cleaner.enabled",
                h.cleaner.enabled.to_string(),
            ),
            (
                "spark.history.fs.cleaner.interval",
                h.cleaner.interval.clone(),
            ),
            ("spark.history.fs.cleaner.maxAge", h.cleaner.max_age.clone()),
        ] {
            conf.insert(key.to_string(), value);
        }
    }
    conf.extend(spec.spark_conf.clone());
    conf
}

/// A folder on a claim as the URL Spark's event log settings take; a URL as it is.
fn event_log_url(dir: &str) -> String {
    match dir.contains("://") {
        true => dir.to_string(),
        false => format!("file:{dir}"),
    }
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
        component: "master",
        service_type: spec.master.service.service_type,
        annotations: &spec.master.service.annotations,
        selector: selector(spec, "master"),
        ports: named_ports(&spec.master.ports),
    }
}

/// A daemon's ports under the names probes and Services refer to; `rpc` first, then `http`.
fn named_ports(ports: &Ports) -> Vec<Port> {
    vec![Port::new("rpc", ports.rpc), Port::new("http", ports.http)]
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

/// A daemon is ready when its UI answers `/json/` and alive while its RPC port accepts: the UI can
/// be slow under load, the RPC port is what workers and drivers need.
fn daemon_probes() -> (Option<Probe>, Option<Probe>) {
    (
        Some(http_readiness("/json/", "http")),
        Some(tcp_liveness("rpc")),
    )
}

/// Ready while GET `path` on the named port answers; checked every 10 s, unready after three
/// failures.
fn http_readiness(path: &str, port: &str) -> Probe {
    readiness(Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String(port.into()),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// Ready while the named port accepts connections, on the same rhythm.
fn tcp_readiness(port: &str) -> Probe {
    readiness(Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::String(port.into()),
            host: None,
        }),
        ..Default::default()
    })
}

fn readiness(check: Probe) -> Probe {
    Probe {
        period_seconds: Some(10),
        timeout_seconds: Some(5),
        failure_threshold: Some(3),
        ..check
    }
}

fn tcp_liveness(port: &str) -> Probe {
    Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::String(port.into()),
            host: None,
        }),
        initial_delay_seconds: Some(30),
        period_seconds: Some(20),
        timeout_seconds: Some(5),
        failure_threshold: Some(6),
        ..Default::default()
    }
}

/// A pod of one container with the instance's image settings, scheduling and scratch space.
#[allow(clippy::too_many_arguments)]
fn one_container_pod<'a>(
    spec: &'a ClusterSpec,
    component: &str,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
    config: &Config,
    container: Container<'a>,
    scheduling: Scheduling<'a>,
) -> Pod<'a> {
    let mut scratch: Vec<String> = container.scratch.iter().map(|(n, _)| n.clone()).collect();
    scratch.dedup();
    Pod {
        labels: pod_labels(spec, component, labels),
        annotations: pod_annotations(annotations, config),
        containers: vec![container],
        init_containers: Vec::new(),
        restart_policy: None,
        node_selector: scheduling.node_selector,
        tolerations: scheduling.tolerations,
        affinity: scheduling.affinity,
        termination_grace_period_seconds: None,
        scratch,
    }
}

/// Where a pod may run.
struct Scheduling<'a> {
    node_selector: &'a BTreeMap<String, String>,
    tolerations: &'a [Toleration],
    affinity: Option<Affinity>,
}

static NO_NODE_SELECTOR: BTreeMap<String, String> = BTreeMap::new();

impl Scheduling<'_> {
    fn anywhere() -> Scheduling<'static> {
        Scheduling {
            node_selector: &NO_NODE_SELECTOR,
            tolerations: &[],
            affinity: None,
        }
    }
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
    let (readiness, liveness) = daemon_probes();
    let container = Container {
        name: "spark".into(),
        command: launcher_command(),
        args: vec!["master".into()],
        env: container_env(&env, &spec.env),
        env_from: env_from(&spec.env_from),
        ports: named_ports(&m.ports),
        resources: &m.resources,
        readiness,
        liveness,
        startup: None,
        scratch: vec![("tmp".into(), LOCAL_DIR)],
        restart_policy: None,
    };
    let scheduling = Scheduling {
        node_selector: &m.node_selector,
        tolerations: &m.tolerations,
        affinity: m.affinity.clone(),
    };
    Workload {
        name: format!("{}-master", spec.name),
        component: "master",
        kind: m.kind,
        replicas: Some(1),
        strategy: "Recreate",
        selector: selector(spec, "master"),
        pod: one_container_pod(
            spec,
            "master",
            &m.pod_labels,
            &m.pod_annotations,
            config,
            container,
            scheduling,
        ),
    }
}

/// A worker container: the worker role with the cores and memory its limits allow.
fn worker_container<'a>(
    cluster: &'a Cluster,
    name: String,
    ports: Vec<Port>,
    work: String,
) -> Container<'a> {
    let spec = &cluster.spec;
    let w = &spec.workers;
    let sizing = &cluster.sizing;
    let (rpc, http) = (ports[0].port, ports[1].port);
    let env = [
        ("SPARK_WORKER_CORES", sizing.worker_cores.to_string()),
        (
            "SPARK_WORKER_MEMORY",
            format!("{}m", sizing.worker_memory_mib),
        ),
        ("SPARK_WORKER_PORT", rpc.to_string()),
        ("SPARK_WORKER_WEBUI_PORT", http.to_string()),
        (
            "SPARK_DAEMON_MEMORY",
            format!("{}m", sizing.worker_daemon_mib),
        ),
        ("SPARK_WORKER_DIR", WORK_DIR.to_string()),
        ("SPARK_LOCAL_DIRS", LOCAL_DIR.to_string()),
        ("SPARK_WORKER_DECOMMISSION", w.decommission.to_string()),
    ];
    let (readiness, liveness) = daemon_probes();
    let port_names = |probe: Option<Probe>, from: &str, to: &str| {
        probe.map(|mut p| {
            for port in [
                p.http_get.as_mut().map(|h| &mut h.port),
                p.tcp_socket.as_mut().map(|t| &mut t.port),
            ]
            .into_iter()
            .flatten()
            {
                if *port == IntOrString::String(from.into()) {
                    *port = IntOrString::String(to.into());
                }
            }
            p
        })
    };
    Container {
        readiness: port_names(readiness, "http", &ports[1].name),
        liveness: port_names(liveness, "rpc", &ports[0].name),
        name,
        command: launcher_command(),
        args: vec!["worker".into(), master_url(spec)],
        env: container_env(&env, &spec.env),
        env_from: env_from(&spec.env_from),
        ports,
        resources: &w.resources,
        startup: None,
        scratch: vec![("tmp".into(), LOCAL_DIR), (work, WORK_DIR)],
        restart_policy: None,
    }
}

fn workers<'a>(cluster: &'a Cluster, config: &Config) -> Workload<'a> {
    let spec = &cluster.spec;
    let w = &spec.workers;
    let selector = selector(spec, "worker");
    let container = worker_container(
        cluster,
        "spark".into(),
        named_ports(&w.ports),
        "work".into(),
    );
    let scheduling = Scheduling {
        node_selector: &w.node_selector,
        tolerations: &w.tolerations,
        affinity: spread(w.affinity.clone(), w.anti_affinity, &selector),
    };
    let mut pod = one_container_pod(
        spec,
        "worker",
        &w.pod_labels,
        &w.pod_annotations,
        config,
        container,
        scheduling,
    );
    pod.termination_grace_period_seconds = Some(w.termination_grace_period_seconds);
    Workload {
        name: format!("{}-worker", spec.name),
        component: "worker",
        kind: w.kind,
        replicas: (!w.autoscaling.enabled).then_some(w.replicas),
        strategy: "RollingUpdate",
        selector,
        pod,
    }
}

/// The history server: reads the event logs every driver writes.
fn history<'a>(cluster: &'a Cluster, config: &Config) -> Workload<'a> {
    let spec = &cluster.spec;
    let h = &spec.history;
    let mut env = vec![("SPARKUP_EVENT_LOG_DIR", h.log_directory.clone())];
    if let Some(heap) = heap_mib(&h.resources) {
        env.push(("SPARK_DAEMON_MEMORY", format!("{heap}m")));
    }
    let container = Container {
        name: "spark".into(),
        command: launcher_command(),
        args: vec!["history".into()],
        env: container_env(&env, &spec.env),
        env_from: env_from(&spec.env_from),
        ports: vec![Port::new("http", h.port)],
        resources: &h.resources,
        readiness: Some(http_readiness("/api/v1/version", "http")),
        liveness: Some(tcp_liveness("http")),
        startup: None,
        scratch: vec![("tmp".into(), LOCAL_DIR)],
        restart_policy: None,
    };
    server(spec, "history", config, container)
}

/// A server of the instance (history, Connect): one pod of a Deployment that is recreated, not
/// rolled, so two never write the same state.
fn server<'a>(
    spec: &'a ClusterSpec,
    component: &'static str,
    config: &Config,
    container: Container<'a>,
) -> Workload<'a> {
    let no_metadata = &NO_NODE_SELECTOR;
    Workload {
        name: format!("{}-{component}", spec.name),
        component,
        kind: WorkloadKind::Deployment,
        replicas: Some(1),
        strategy: "Recreate",
        selector: selector(spec, component),
        pod: one_container_pod(
            spec,
            component,
            no_metadata,
            no_metadata,
            config,
            container,
            Scheduling::anywhere(),
        ),
    }
}

/// A server's ClusterIP Service, its ports named as in its pod.
fn server_service<'a>(
    spec: &'a ClusterSpec,
    component: &'static str,
    ports: Vec<Port>,
) -> Service<'a> {
    Service {
        name: format!("{}-{component}", spec.name),
        component,
        service_type: ServiceType::ClusterIP,
        annotations: &NO_NODE_SELECTOR,
        selector: selector(spec, component),
        ports,
    }
}

/// The Spark Connect server: a client-mode driver that stays up, with clients on one port.
fn connect<'a>(cluster: &'a Cluster, config: &Config) -> Workload<'a> {
    let spec = &cluster.spec;
    let c = &spec.connect;
    let mut args = vec!["connect".to_string()];
    for (key, value) in &c.conf {
        args.extend(["--conf".to_string(), format!("{key}={value}")]);
    }
    let mut container = driver_container(
        spec,
        "spark",
        &c.resources,
        args,
        &spec.env,
        &spec.env_from,
        &[("SPARK_CONNECT_PORT", c.port.to_string())],
    );
    container.ports.insert(0, Port::new("grpc", c.port));
    container.readiness = Some(tcp_readiness("grpc"));
    container.liveness = Some(tcp_liveness("grpc"));
    server(spec, "connect", config, container)
}

/// The heap of a JVM alone in a container with these limits, by the rule every daemon follows.
fn heap_mib(resources: &Resources) -> Option<u64> {
    let limit = resources.limits.memory.as_ref()?;
    Some(master_heap_mib(limit.whole() / MIB))
}

/// A client-mode driver (launcher role `submit` or `connect`): its pod IP advertised on fixed
/// ports, its heap from its memory limit.
fn driver_container<'a>(
    spec: &ClusterSpec,
    name: &str,
    resources: &'a Resources,
    args: Vec<String>,
    user_env: &BTreeMap<String, String>,
    sources: &[EnvFromSpec],
    extra: &[(&str, String)],
) -> Container<'a> {
    let mut env = vec![
        ("SPARK_DRIVER_PORT", DRIVER_PORT.to_string()),
        ("SPARK_BLOCKMANAGER_PORT", BLOCK_MANAGER_PORT.to_string()),
    ];
    if let Some(heap) = heap_mib(resources) {
        env.push(("SPARK_DRIVER_MEMORY", format!("{heap}m")));
    }
    if spec.history.enabled {
        // The launcher creates a folder on a claim before the driver writes its event log there.
        env.push(("SPARKUP_EVENT_LOG_DIR", spec.history.log_directory.clone()));
    }
    env.extend(extra.iter().cloned());
    let mut user = spec.env.clone();
    user.extend(user_env.clone());
    let mut sources_all = spec.env_from.clone();
    sources_all.extend(
        sources
            .iter()
            .filter(|s| !spec.env_from.contains(s))
            .cloned(),
    );
    Container {
        name: name.into(),
        command: launcher_command(),
        args,
        env: container_env(&env, &user),
        env_from: env_from(&sources_all),
        ports: vec![
            Port::new("driver", DRIVER_PORT),
            Port::new("blockmanager", BLOCK_MANAGER_PORT),
            Port::new("http", DRIVER_UI_PORT),
        ],
        resources,
        readiness: None,
        liveness: None,
        startup: None,
        scratch: vec![("tmp".into(), LOCAL_DIR)],
        restart_policy: None,
    }
}

fn network_policy(spec: &ClusterSpec) -> NetworkPolicy<'_> {
    let mut ui_ports = vec![
        spec.master.ports.http,
        spec.workers.ports.http,
        DRIVER_UI_PORT,
    ];
    if spec.history.enabled {
        ui_ports.push(spec.history.port);
    }
    if spec.connect.enabled {
        ui_ports.push(spec.connect.port);
    }
    // A job's extra workers' UIs.
    let extra = spec.jobs.values().map(|j| j.workers).max().unwrap_or(0);
    ui_ports.extend((1..=extra).map(|i| EXTRA_WORKER_HTTP + u16::try_from(i).unwrap_or(0)));
    ui_ports.sort_unstable();
    ui_ports.dedup();
    NetworkPolicy {
        name: spec.name.clone(),
        instance: BTreeMap::from([
            (LABEL_NAME.to_string(), "spark".to_string()),
            (LABEL_INSTANCE.to_string(), spec.name.clone()),
        ]),
        ui_ports,
        ui_from: &spec.network_policy.ui_from,
    }
}

fn scaling(spec: &ClusterSpec) -> Scaling {
    let w = &spec.workers;
    let auto = &w.autoscaling;
    let fewest = match auto.enabled {
        true => auto.min_replicas,
        false => w.replicas,
    };
    Scaling {
        workload: format!("{}-worker", spec.name),
        selector: selector(spec, "worker"),
        disruption_budget: w.disruption_budget && fewest >= 2,
        autoscaler: auto.enabled.then_some(Autoscaler {
            kind: w.kind,
            min_replicas: auto.min_replicas,
            max_replicas: auto.max_replicas,
            target_cpu_utilization: auto.target_cpu_utilization,
        }),
    }
}

/// Every container reads Spark's shared secret from the Secret, into the variable Spark's
/// SecurityManager reads (`_SPARK_AUTH_SECRET`), so the secret is in no ConfigMap, argument or
/// rendered text; a worker hands it on to its executors the same way.
fn with_auth_secret(spec: &ClusterSpec, pod: &mut Pod) {
    let Some(secret) = spec.auth_secret() else {
        return;
    };
    let var = EnvVar {
        name: AUTH_SECRET_ENV.into(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret,
                key: AUTH_SECRET_KEY.into(),
                optional: None,
            }),
            ..Default::default()
        }),
        value: None,
    };
    for container in pod
        .containers
        .iter_mut()
        .chain(pod.init_containers.iter_mut())
    {
        container.env.push(var.clone());
    }
}

/// The variable Spark reads its shared secret from, and the Secret's key that holds it.
pub(crate) const AUTH_SECRET_ENV: &str = "_SPARK_AUTH_SECRET";
pub(crate) const AUTH_SECRET_KEY: &str = "secret";

/// A scheduled job's CronJob: `<instance>-<job>`.
pub(crate) fn cronjob_name(spec: &ClusterSpec, job: &str) -> String {
    format!("{}-{job}", spec.name)
}

pub(crate) fn submitter_name(spec: &ClusterSpec) -> String {
    format!("{}-submitter", spec.name)
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

/// A job's driver pod and the Job around it; `name` is the CronJob's or the Job's name.
pub(crate) fn job_template<'a>(
    cluster: &'a Cluster,
    config: &Config,
    job_name: &str,
    job: &'a JobSpec,
    name: String,
) -> JobTemplate<'a> {
    let spec = &cluster.spec;
    let mut driver = driver_container(
        spec,
        "driver",
        &job.resources,
        submit_args(job_name, job),
        &job.env,
        &job.env_from,
        &[],
    );
    // The Job controller labels each pod with its Job's name; a CronJob's Jobs are named
    // `<cronjob>-<scheduled time in minutes since the epoch>`, from which the launcher tells
    // the application when this run was scheduled.
    driver.env.push(EnvVar {
        name: "SPARKUP_JOB_NAME".into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: "metadata.labels['batch.kubernetes.io/job-name']".into(),
                api_version: None,
            }),
            ..Default::default()
        }),
        value: None,
    });
    let sidecars: Vec<Container> = (1..=job.workers)
        .map(|i| {
            let n = u16::try_from(i).unwrap_or(u16::MAX);
            let ports = vec![
                Port::new(&format!("w{i}-rpc"), EXTRA_WORKER_RPC + n),
                Port::new(&format!("w{i}-http"), EXTRA_WORKER_HTTP + n),
            ];
            let mut worker =
                worker_container(cluster, format!("worker-{i}"), ports, format!("work-{i}"));
            // A native sidecar: started before the driver, stopped after it. The driver starts
            // once the worker's UI answers, so the application finds its workers there.
            worker.restart_policy = Some("Always");
            worker.liveness = None;
            worker.startup = worker.readiness.clone().map(|mut probe| {
                probe.period_seconds = Some(2);
                probe.failure_threshold = Some(90);
                probe
            });
            worker
        })
        .collect();
    let mut scratch = vec!["tmp".to_string()];
    scratch.extend((1..=job.workers).map(|i| format!("work-{i}")));
    let job_label = BTreeMap::from([(LABEL_JOB.to_string(), job_name.to_string())]);
    let mut pod = Pod {
        labels: pod_labels(spec, "job", &job_label),
        annotations: pod_annotations(&BTreeMap::new(), config),
        containers: vec![driver],
        init_containers: sidecars,
        restart_policy: Some("Never"),
        node_selector: &NO_NODE_SELECTOR,
        tolerations: &[],
        affinity: None,
        termination_grace_period_seconds: None,
        scratch,
    };
    with_auth_secret(spec, &mut pod);
    scrape_annotations(spec, &mut pod, "job");
    JobTemplate {
        name,
        job: job_name.to_string(),
        schedule: job.schedule.as_deref(),
        time_zone: job.time_zone.as_deref(),
        concurrency_policy: job.concurrency_policy,
        starting_deadline_seconds: job.starting_deadline_seconds,
        successful_jobs_history_limit: job.successful_jobs_history_limit,
        failed_jobs_history_limit: job.failed_jobs_history_limit,
        suspend: job.suspend,
        backoff_limit: job.backoff_limit,
        active_deadline_seconds: job.active_deadline_seconds,
        ttl_seconds_after_finished: None,
        labels: job_label,
        pod,
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
fn container_env(role_env: &[(&str, String)], user_env: &BTreeMap<String, String>) -> Vec<EnvVar> {
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
    let user = user_env.iter().map(|(k, v)| (k.as_str(), v.clone()));
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

fn env_from(sources: &[EnvFromSpec]) -> Vec<EnvFromSource> {
    sources
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
