//! The files every pod mounts from the instance's ConfigMap: `spark-defaults.conf`, the
//! launcher, with metrics on `metrics.properties`, and with GPU workers sparkup's discovery
//! script; and the fingerprint that restarts pods when what they read changes.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::component::Component;
use super::gpus;
use crate::spark::conf as spark_conf;
use crate::spark::readers::readers;
use crate::spark::tls as spark_tls;
use crate::values::spec::{ClusterSpec, Recovery};

/// Where the ConfigMap is mounted: `conf/spark-defaults.conf` and the launcher `bin/sparkup.sh`.
pub(crate) const SPARKUP_DIR: &str = "/etc/sparkup";
/// `SPARK_CONF_DIR`: the folder with `spark-defaults.conf`.
pub(crate) const CONF_DIR: &str = "/etc/sparkup/conf";
/// The role launcher every container runs with bash, whatever the image's entrypoint.
pub(crate) const LAUNCHER: &str = include_str!("../../../templates/launcher.sh");
/// On each pod template: a fingerprint of the configuration that role reads, so a change restarts
/// only the roles that read it.
pub(crate) const CONFIG_HASH_ANNOTATION: &str = "sparkup.io/config-hash";

/// Spark's PrometheusServlet on every instance (master, worker, driver, applications), on the
/// UI port of the process, at Spark's own default paths.
const METRICS_PROPERTIES: &str = "\
*.sink.prometheusServlet.class=org.apache.spark.metrics.sink.PrometheusServlet
*.sink.prometheusServlet.path=/metrics/prometheus
master.sink.prometheusServlet.path=/metrics/master/prometheus
applications.sink.prometheusServlet.path=/metrics/applications/prometheus
";

/// The ConfigMap every pod mounts at `mount_path` (compose: inline configs).
#[derive(Debug, Serialize)]
pub(crate) struct Config {
    pub name: String,
    pub mount_path: &'static str,
    pub files: Vec<ConfigFile>,
    /// The properties of `spark-defaults.conf`, for the fingerprint of each role.
    #[serde(skip)]
    properties: BTreeMap<String, String>,
    /// The fingerprint's hash over the files every role reads alike, taken once: the launcher
    /// is most of the bytes, and every role's fingerprint starts with it.
    #[serde(skip)]
    files_hash: Sha256,
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
    /// Mounted only into pods with GPU workers (sparkup's discovery script), so that turning
    /// GPUs on changes no other role's pod template.
    pub gpu_workers_only: bool,
}

impl Config {
    pub(crate) fn new(spec: &ClusterSpec) -> Config {
        let file = |key, path: &'static str, content| ConfigFile {
            key,
            path,
            target: format!("{SPARKUP_DIR}/{path}"),
            content,
            gpu_workers_only: key == gpus::DISCOVERY_SCRIPT_KEY,
        };
        let properties = spark_defaults(spec);
        let mut files = vec![
            file(
                "spark-defaults.conf",
                "conf/spark-defaults.conf",
                spark_conf::render(&properties),
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
        if gpus::builtin_discovery(spec) {
            files.push(file(
                gpus::DISCOVERY_SCRIPT_KEY,
                "bin/discover-gpus.sh",
                gpus::DISCOVERY_SCRIPT.to_string(),
            ));
        }
        let mut files_hash = Sha256::new();
        // Only the workers' daemons run the discovery script. A job's run reads the ConfigMap
        // as it is when the run starts, whatever its template's fingerprint.
        let shared =
            |f: &&ConfigFile| f.key != "spark-defaults.conf" && f.key != gpus::DISCOVERY_SCRIPT_KEY;
        for file in files.iter().filter(shared) {
            files_hash.update(file.key.as_bytes());
            files_hash.update([0]);
            files_hash.update(file.content.as_bytes());
            files_hash.update([0]);
        }
        Config {
            name: config_name(spec),
            mount_path: SPARKUP_DIR,
            files,
            properties,
            files_hash,
        }
    }

    /// A fingerprint of what `component` reads from the configuration: the launcher and the
    /// metrics file, and the Spark properties its process reads, so that a setting only
    /// applications read restarts no daemon, and a daemon's own restarts no driver.
    pub(crate) fn fingerprint(&self, component: Component) -> String {
        let mut hash = self.files_hash.clone();
        if component == Component::Worker
            && let Some(script) = self
                .files
                .iter()
                .find(|f| f.key == gpus::DISCOVERY_SCRIPT_KEY)
        {
            hash.update(script.content.as_bytes());
            hash.update([0]);
        }
        for (key, value) in self.properties.iter().filter(|(k, _)| reads(component, k)) {
            hash.update(key.as_bytes());
            hash.update([0]);
            hash.update(value.as_bytes());
            hash.update([0]);
        }
        hash.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Whether `component`'s process reads the Spark property `key` (see `spark::readers`).
pub(crate) fn reads(component: Component, key: &str) -> bool {
    let readers = readers(key);
    match component {
        Component::Master => readers.master,
        Component::Worker => readers.worker,
        Component::History => readers.history,
        Component::Connect | Component::Job => readers.applications,
    }
}

/// The ConfigMap's name: `<instance>-config`.
pub(crate) fn config_name(spec: &ClusterSpec) -> String {
    format!("{}-config", spec.name)
}

/// The URL workers and drivers use: the master Service's DNS name, which is stable across
/// master restarts, unlike the master pod's IP.
pub(crate) fn master_url(spec: &ClusterSpec) -> String {
    format!(
        "spark://{}:{}",
        Component::Master.object_name(&spec.name),
        spec.master.ports.rpc
    )
}

/// `spark-defaults.conf`: sparkup's own properties first, so a user's `sparkConf` can override
/// them.
fn spark_defaults(spec: &ClusterSpec) -> BTreeMap<String, String> {
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
    let mut set = |pairs: &[(&str, String)]| {
        conf.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())));
    };
    // Spark's reverse proxy reaches worker and application UIs by pod IP, which no certificate
    // names; with HTTPS on, the Ingress serves the master's UI alone.
    if let Some(url) = spec.ingress_url().filter(|_| !spec.security.tls.ui_on()) {
        // Worker and application UIs open through the master's, under the Ingress's URL.
        set(&[
            ("spark.ui.reverseProxy", "true".into()),
            ("spark.ui.reverseProxyUrl", url),
        ]);
    }
    if spec.metrics.enabled {
        set(&[
            (
                "spark.metrics.conf",
                format!("{CONF_DIR}/metrics.properties"),
            ),
            // Executors' metrics on the driver's UI, at /metrics/executors/prometheus.
            ("spark.ui.prometheus.enabled", "true".into()),
        ]);
    }
    if spec.security.authenticate {
        // The secret itself comes from the environment (`_SPARK_AUTH_SECRET`), never from here.
        set(&[("spark.authenticate", "true".into())]);
        if spec.security.encryption {
            set(&[("spark.network.crypto.enabled", "true".into())]);
        }
    }
    if let Some(stores) = super::tls::stores(spec) {
        set(&spark_tls::properties(&stores));
    }
    if spec.master.recovery == Recovery::Filesystem {
        // A restarted master (the Deployment recreates it) reads its workers and applications
        // back from the claim instead of starting empty.
        set(&[
            ("spark.deploy.recoveryMode", "FILESYSTEM".into()),
            (
                "spark.deploy.recoveryDirectory",
                spec.master.recovery_directory.clone(),
            ),
        ]);
    }
    if spec.workers.decommission {
        // Applications move their cached and shuffle blocks off a decommissioning worker's
        // executors to the others, instead of recomputing them after it has gone.
        set(&[
            ("spark.decommission.enabled", "true".into()),
            ("spark.storage.decommission.enabled", "true".into()),
            (
                "spark.storage.decommission.rddBlocks.enabled",
                "true".into(),
            ),
            (
                "spark.storage.decommission.shuffleBlocks.enabled",
                "true".into(),
            ),
        ]);
    }
    if spec.history.enabled {
        set(&history_conf(spec));
    }
    conf.extend(spec.spark_conf.clone());
    // The cluster's dependencies before a user's own class path entries.
    conf.extend(super::deps_folder::conf(spec));
    conf
}

/// Every driver writes its event log where the history server reads; the daemons ignore these
/// properties.
fn history_conf(spec: &ClusterSpec) -> Vec<(&'static str, String)> {
    let dir = event_log_url(&spec.history.log_directory);
    let h = &spec.history;
    vec![
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
    ]
}

/// A folder on a claim as the URL Spark's event log settings take; a URL as it is.
fn event_log_url(dir: &str) -> String {
    match dir.contains("://") {
        true => dir.to_string(),
        false => format!("file:{dir}"),
    }
}
