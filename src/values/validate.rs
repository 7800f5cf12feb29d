//! The rules a typed spec must meet before anything is rendered from it.
//!
//! Types catch what serde can see (unknown keys, wrong types, bad quantities); this module catches
//! the rest: names the API server would reject, resources that cannot hold a worker, ports that
//! collide, and text that a target format (labels, `spark-defaults.conf`) cannot hold. It reports
//! every problem it finds, not just the first.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use k8s_openapi::api::core::v1::Toleration;
use serde_json::Value;

use super::spec::{ClusterSpec, EnvFromSpec, JobSpec, Ports, Resources, StorageSpec};
use crate::error::{ValueError, path_key, quote};
use crate::json::{first_defaulted_key, first_lost_key};
use crate::spark::conf as spark_conf;

/// Longest instance name: pod names add `-worker-<hash>-<suffix>` and must stay within 63.
pub(crate) const MAX_NAME: usize = 40;
pub(crate) const MAX_REPLICAS: u32 = 1000;

/// Labels sparkup sets itself; a user value would break selectors or the inventory.
const RESERVED_LABELS: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/part-of",
    "applyset.kubernetes.io/part-of",
    "applyset.kubernetes.io/id",
];

/// Environment variables the manifests set for the entrypoint; a user value would be ignored or
/// break the daemon.
pub(crate) const RESERVED_ENV: &[&str] = &[
    "POD_IP",
    "SPARK_PUBLIC_DNS",
    "SPARK_LOCAL_IP",
    "SPARK_CONF_DIR",
    "SPARK_DAEMON_MEMORY",
    "SPARK_MASTER_PORT",
    "SPARK_MASTER_WEBUI_PORT",
    "SPARK_WORKER_CORES",
    "SPARK_WORKER_MEMORY",
    "SPARK_WORKER_PORT",
    "SPARK_WORKER_WEBUI_PORT",
    "SPARK_WORKER_DIR",
    "SPARK_LOCAL_DIRS",
    "SPARK_WORKER_DECOMMISSION",
    "SPARK_DRIVER_MEMORY",
    "SPARK_DRIVER_PORT",
    "SPARK_BLOCKMANAGER_PORT",
    "SPARKUP_JOB_NAME",
    "SPARKUP_SCHEDULED_TIME",
    "SPARKUP_EVENT_LOG_DIR",
];

/// Longest CronJob name: the controller appends `-<11 digits>` for each Job's name.
const MAX_CRONJOB_NAME: usize = 52;

/// Paths the pods use for configuration and scratch space.
const RESERVED_MOUNTS: &[&str] = &["/opt/spark", "/etc/sparkup", "/tmp"];

/// Collects problems under their field path.
#[derive(Default)]
struct Report(Vec<ValueError>);

impl Report {
    fn invalid(&mut self, path: impl Into<String>, value: &str, expected: impl std::fmt::Display) {
        self.0
            .push(ValueError::invalid(path, &quote(value), expected));
    }

    /// Like `invalid`, for a number, which is shown unquoted.
    fn number(
        &mut self,
        path: impl Into<String>,
        value: impl std::fmt::Display,
        expected: impl std::fmt::Display,
    ) {
        self.0
            .push(ValueError::invalid(path, &value.to_string(), expected));
    }
}

/// Checks every rule; an empty list means the spec can be rendered.
pub(crate) fn check(spec: &ClusterSpec, tree: &Value) -> Vec<ValueError> {
    let mut r = Report::default();
    check_names(spec, &mut r);
    check_image(spec, &mut r);
    check_metadata(&mut r, "labels", &spec.labels, true);
    check_metadata(&mut r, "annotations", &spec.annotations, false);
    check_env(&mut r, "", &spec.env, &spec.env_from);
    check_conf(&mut r, "sparkConf", &spec.spark_conf);
    check_security(spec, &mut r);
    check_roles(spec, tree, &mut r);
    check_storage(&spec.storage, &mut r);
    check_history(spec, &mut r);
    check_spark_security(spec, &mut r);
    check_ingress(spec, &mut r);
    check_kubernetes_fields(
        &mut r,
        tree,
        "networkPolicy.uiFrom",
        &spec.network_policy.ui_from,
    );
    if spec.master.recovery == super::spec::Recovery::Filesystem {
        check_on_writable_claim(
            &mut r,
            spec,
            "master.recoveryDirectory",
            &spec.master.recovery_directory,
            "which the master mounts",
            false,
        );
    }
    check_connect(spec, &mut r);
    for (name, job) in &spec.jobs {
        check_job(spec, &mut r, name, job);
    }
    if spec
        .compose
        .publish_address
        .parse::<std::net::IpAddr>()
        .is_err()
    {
        r.invalid(
            "compose.publishAddress",
            &spec.compose.publish_address,
            "an IP address such as 127.0.0.1 (or 0.0.0.0 for every interface)",
        );
    }
    r.0
}

fn check_names(spec: &ClusterSpec, r: &mut Report) {
    if !is_dns1035_label(&spec.name) || spec.name.len() > MAX_NAME {
        r.invalid(
            "name",
            &spec.name,
            format!(
                "a name of lowercase letters, digits and '-', starting with a letter and ending \
                 with a letter or digit, at most {MAX_NAME} characters"
            ),
        );
    }
    if !is_dns1123_label(&spec.namespace) {
        r.invalid("namespace", &spec.namespace, DNS1123_LABEL);
    }
    if let Some(sa) = &spec.service_account_name {
        check_subdomain(r, "serviceAccountName", sa);
    }
}

fn check_image(spec: &ClusterSpec, r: &mut Report) {
    let repo = &spec.image.repository;
    let repo_ok = !repo.is_empty()
        && repo.len() <= 255
        && repo.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-:@".contains(c))
        });
    // A ':' may only stand in the registry host's port, never in the last path component.
    let tagged = repo.contains('@')
        || repo
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'));
    if !repo_ok {
        r.invalid(
            "image.repository",
            repo,
            "an image name such as apache/spark (lowercase, no tag)",
        );
    } else if tagged {
        r.invalid(
            "image.repository",
            repo,
            "an image name without a tag or digest (such as apache/spark): set those in image.tag",
        );
    }
    let tag = &spec.image.tag;
    let digest = tag.strip_prefix("sha256:");
    let tag_ok = match digest {
        Some(hex) => hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()),
        None => {
            !tag.is_empty()
                && tag.len() <= 128
                && !tag.starts_with(['.', '-'])
                && tag
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        }
    };
    if !tag_ok {
        r.invalid(
            "image.tag",
            tag,
            "an image tag (letters, digits, '_', '.', '-', at most 128) or sha256:<64 hex digits>",
        );
    }
    for (i, secret) in spec.image.pull_secrets.iter().enumerate() {
        check_subdomain(r, format!("image.pullSecrets[{i}]"), secret);
    }
}

/// `env` and `envFrom` under `prefix` (empty for the cluster's own, `jobs.NAME.` for a job's).
fn check_env(
    r: &mut Report,
    prefix: &str,
    env: &BTreeMap<String, String>,
    env_from: &[EnvFromSpec],
) {
    for name in env.keys() {
        let path = path_key(&format!("{prefix}env"), name);
        if !is_env_name(name) {
            r.invalid(
                path,
                name,
                "an environment variable name ([A-Za-z_][A-Za-z0-9_]*)",
            );
        } else if RESERVED_ENV.contains(&name.as_str()) {
            r.invalid(path, name, "a variable sparkup does not set itself");
        }
    }
    for (i, source) in env_from.iter().enumerate() {
        check_env_from(r, &format!("{prefix}envFrom[{i}]"), source);
    }
}

fn check_env_from(r: &mut Report, path: &str, source: &EnvFromSpec) {
    let path = path.to_string();
    match (&source.secret, &source.config_map) {
        (Some(name), None) => check_subdomain(r, format!("{path}.secret"), name),
        (None, Some(name)) => check_subdomain(r, format!("{path}.configMap"), name),
        _ => r.0.push(ValueError::new(
            path.clone(),
            "expected exactly one of `secret` or `configMap`",
        )),
    }
    if let Some(prefix) = &source.prefix
        && !prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        r.invalid(format!("{path}.prefix"), prefix, "letters, digits and '_'");
    }
}

/// Spark properties as `spark-defaults.conf` or `--conf` can carry them.
fn check_conf(r: &mut Report, path: &str, conf: &BTreeMap<String, String>) {
    for (key, value) in conf {
        if let Err(e) = spark_conf::check_entry(key, value) {
            r.0.push(ValueError::new(path_key(path, key), e));
        }
    }
}

/// The event log folder: a URL, or a path on a claim every driver and the history server mount.
fn check_history(spec: &ClusterSpec, r: &mut Report) {
    let history = &spec.history;
    check_resources(r, "history.resources", &history.resources);
    if history.port == 0 {
        r.number("history.port", 0, "a port from 1 to 65535");
    }
    for (field, value) in [
        ("interval", &history.cleaner.interval),
        ("maxAge", &history.cleaner.max_age),
    ] {
        if spark_duration(value).is_none() {
            r.invalid(
                format!("history.cleaner.{field}"),
                value,
                "a duration as Spark writes it, such as 12h or 7d",
            );
        }
    }
    if !history.enabled {
        return;
    }
    check_on_writable_claim(
        r,
        spec,
        "history.logDirectory",
        &history.log_directory,
        "which every driver and the history server mount",
        true,
    );
}

/// A folder on one of the writable storage claims (or, where `url_ok`, a URL Spark writes to).
fn check_on_writable_claim(
    r: &mut Report,
    spec: &ClusterSpec,
    path: &str,
    dir: &str,
    who: &str,
    url_ok: bool,
) {
    if url_ok && dir.contains("://") {
        return;
    }
    let mounts: Vec<&str> = spec
        .storage
        .iter()
        .filter(|s| !s.read_only)
        .map(|s| s.mount_path.as_str())
        .collect();
    let on_a_claim = dir.starts_with('/')
        && !dir.split('/').any(|p| p == "." || p == "..")
        && mounts
            .iter()
            .any(|m| dir == *m || dir.starts_with(&format!("{m}/")));
    if !on_a_claim {
        let where_ = match mounts.is_empty() {
            true => "no writable claim is mounted: add one under `storage`".to_string(),
            false => format!("writable claims are mounted at {}", mounts.join(", ")),
        };
        let or_url = match url_ok {
            true => ", or a URL such as s3a://bucket/spark-events",
            false => "",
        };
        r.invalid(
            path,
            dir,
            format!("a folder on a writable storage claim, {who} ({where_}){or_url}"),
        );
    }
}

fn check_ingress(spec: &ClusterSpec, r: &mut Report) {
    let ingress = &spec.ui.ingress;
    check_metadata(r, "ui.ingress.annotations", &ingress.annotations, false);
    if !ingress.enabled {
        return;
    }
    if !is_dns1123_subdomain(&ingress.host) || !ingress.host.contains('.') {
        r.invalid(
            "ui.ingress.host",
            &ingress.host,
            "a fully qualified host name such as spark.example.com",
        );
    }
    let path = &ingress.path;
    let valid = path.starts_with('/')
        && !path.contains("//")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-._~".contains(c));
    if !valid {
        r.invalid("ui.ingress.path", path, "a path such as / or /spark");
    }
    if let Some(class) = &ingress.class_name {
        check_subdomain(r, "ui.ingress.className", class);
    }
    for (field, host, enabled, what) in [
        (
            "historyHost",
            &ingress.history_host,
            spec.history.enabled,
            "history",
        ),
        (
            "connectHost",
            &ingress.connect_host,
            spec.connect.enabled,
            "connect",
        ),
    ] {
        let Some(host) = host else { continue };
        if !is_dns1123_subdomain(host) || !host.contains('.') {
            r.invalid(
                format!("ui.ingress.{field}"),
                host,
                "a fully qualified host name such as history.spark.example.com",
            );
        } else if !enabled {
            r.invalid(
                format!("ui.ingress.{field}"),
                host,
                format!("no host while {what}.enabled is false: there is no {what} server"),
            );
        }
    }
    if let Some(secret) = &ingress.tls_secret {
        check_subdomain(r, "ui.ingress.tlsSecret", secret);
    }
}

/// Authentication and what would undo it.
fn check_spark_security(spec: &ClusterSpec, r: &mut Report) {
    let security = &spec.security;
    if let Some(name) = &security.secret_name {
        check_subdomain(r, "security.secretName", name);
    }
    if security.encryption && !security.authenticate {
        r.0.push(ValueError::new(
            "security.encryption",
            "invalid value true: expected security.authenticate too: Spark derives the \
             encryption keys from the authentication secret",
        ));
    }
    for key in ["spark.authenticate.secret", "spark.authenticate"] {
        // The value is not shown: it may be the secret itself.
        if spec.spark_conf.contains_key(key) {
            r.0.push(ValueError::new(
                path_key("sparkConf", key),
                "not allowed here: set security.authenticate, which keeps the secret in a \
                 Kubernetes Secret instead of the ConfigMap every pod can read",
            ));
        }
    }
    let exposed = matches!(
        spec.master.service.service_type,
        super::spec::ServiceType::NodePort | super::spec::ServiceType::LoadBalancer
    );
    if exposed && !security.authenticate && !spec.master.service.allow_unauthenticated {
        r.invalid(
            "master.service.type",
            &format!("{:?}", spec.master.service.service_type),
            "ClusterIP, or security.authenticate=true: the master's RPC port runs code for \
             whoever reaches it (set master.service.allowUnauthenticated=true to expose it anyway)",
        );
    }
    let rest = spec.spark_conf.get("spark.master.rest.enabled");
    if security.authenticate
        && rest.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        && !spec.spark_conf.contains_key("spark.master.rest.filters")
    {
        r.invalid(
            "sparkConf.spark.master.rest.enabled",
            "true",
            "false with security.authenticate: the REST submission server (port 6066) takes \
             applications without Spark's authentication; protect it with \
             spark.master.rest.filters or leave it off",
        );
    }
}

/// `7d`, `12h`, `30min`, `90s`, `500ms`: Spark's time strings.
fn spark_duration(text: &str) -> Option<u64> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    ["ms", "s", "m", "min", "h", "d", "us"]
        .contains(&unit)
        .then_some(n)
}

fn check_connect(spec: &ClusterSpec, r: &mut Report) {
    check_resources(r, "connect.resources", &spec.connect.resources);
    if spec.connect.port == 0 {
        r.number("connect.port", 0, "a port from 1 to 65535");
    }
    check_conf(r, "connect.conf", &spec.connect.conf);
}

fn check_job(spec: &ClusterSpec, r: &mut Report, name: &str, job: &JobSpec) {
    let path = path_key("jobs", name);
    let object_name = format!("{}-{name}", spec.name);
    if !is_dns1123_label(name) {
        r.invalid(&path, name, DNS1123_LABEL);
    } else if object_name.len() > MAX_CRONJOB_NAME {
        r.invalid(
            &path,
            name,
            format!(
                "a shorter name: {object_name:?} (instance name, '-', job name) may have at most \
                 {MAX_CRONJOB_NAME} characters"
            ),
        );
    }
    if job.app.trim().is_empty() {
        r.0.push(ValueError::new(
            format!("{path}.app"),
            "missing: the application to run, e.g. /code/etl.py or /code/etl.jar with `class`",
        ));
    } else if job.app.chars().any(char::is_control) {
        r.invalid(format!("{path}.app"), &job.app, "a path or URL on one line");
    }
    if let Some(class) = &job.main_class
        && (class.is_empty()
            || !class
                .chars()
                .all(|c| c.is_alphanumeric() || "._$".contains(c)))
    {
        r.invalid(
            format!("{path}.class"),
            class,
            "a Java class name such as com.example.Etl",
        );
    }
    check_conf(r, &format!("{path}.conf"), &job.conf);
    check_env(r, &format!("{path}."), &job.env, &job.env_from);
    check_resources(r, &format!("{path}.resources"), &job.resources);
    if let Some(schedule) = &job.schedule
        && !is_cron_schedule(schedule)
    {
        r.invalid(
            format!("{path}.schedule"),
            schedule,
            "a cron schedule of five fields such as \"0 2 * * *\", or @hourly, @daily, @weekly, \
             @monthly, @yearly (put a time zone in `timeZone`)",
        );
    }
    if let Some(zone) = &job.time_zone {
        let valid = !zone.is_empty()
            && zone
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+-/".contains(c));
        if !valid {
            r.invalid(
                format!("{path}.timeZone"),
                zone,
                "a time zone name such as Europe/Berlin or Etc/UTC",
            );
        }
    }
    if job.workers > MAX_JOB_WORKERS {
        r.number(
            format!("{path}.workers"),
            job.workers,
            format!("at most {MAX_JOB_WORKERS} extra workers in one driver pod"),
        );
    }
}

/// Extra workers are containers of the driver's pod; each needs its own ports.
pub(crate) const MAX_JOB_WORKERS: u32 = 8;

/// What the CronJob controller accepts: five fields, or one of its descriptors.
fn is_cron_schedule(schedule: &str) -> bool {
    const DESCRIPTORS: &[&str] = &[
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    if fields.len() == 1 {
        return DESCRIPTORS.contains(&fields[0]);
    }
    fields.len() == 5
        && fields.iter().all(|f| {
            f.chars()
                .all(|c| c.is_ascii_alphanumeric() || "*,-/?".contains(c))
        })
}

fn check_security(spec: &ClusterSpec, r: &mut Report) {
    // The API server takes user and group ids up to 2^31 - 1.
    const MAX_ID: i64 = i32::MAX as i64;
    let sc = &spec.security_context;
    if sc.run_as_user <= 0 || sc.run_as_user > MAX_ID {
        r.number(
            "securityContext.runAsUser",
            sc.run_as_user,
            format!("a user id from 1 to {MAX_ID}: Spark never runs as root"),
        );
    }
    for (field, id) in [("runAsGroup", sc.run_as_group), ("fsGroup", sc.fs_group)] {
        if !(0..=MAX_ID).contains(&id) {
            r.number(
                format!("securityContext.{field}"),
                id,
                format!("a group id from 0 to {MAX_ID}"),
            );
        }
    }
}

fn check_roles(spec: &ClusterSpec, tree: &Value, r: &mut Report) {
    let master = &spec.master;
    let workers = &spec.workers;
    check_resources(r, "master.resources", &master.resources);
    check_resources(r, "workers.resources", &workers.resources);
    check_ports(r, "master.ports", &master.ports);
    check_ports(r, "workers.ports", &workers.ports);
    check_metadata(
        r,
        "master.service.annotations",
        &master.service.annotations,
        false,
    );
    if workers.termination_grace_period_seconds > 3600 {
        r.number(
            "workers.terminationGracePeriodSeconds",
            workers.termination_grace_period_seconds,
            "at most 3600 seconds",
        );
    }
    let auto = &workers.autoscaling;
    if auto.enabled {
        if auto.min_replicas < 1 || auto.min_replicas > MAX_REPLICAS {
            r.number(
                "workers.autoscaling.minReplicas",
                auto.min_replicas,
                format!("an integer from 1 to {MAX_REPLICAS}"),
            );
        }
        if auto.max_replicas < auto.min_replicas || auto.max_replicas > MAX_REPLICAS {
            r.number(
                "workers.autoscaling.maxReplicas",
                auto.max_replicas,
                format!(
                    "an integer from minReplicas ({}) to {MAX_REPLICAS}",
                    auto.min_replicas
                ),
            );
        }
        if !(1..=100).contains(&auto.target_cpu_utilization) {
            r.number(
                "workers.autoscaling.targetCpuUtilization",
                auto.target_cpu_utilization,
                "a percentage of the workers' CPU requests from 1 to 100",
            );
        }
        if workers.resources.requests.cpu.is_none() {
            r.0.push(ValueError::new(
                "workers.resources.requests.cpu",
                "missing: the autoscaler measures CPU use against the workers' CPU request",
            ));
        }
    }
    if workers.replicas > MAX_REPLICAS {
        r.number(
            "workers.replicas",
            workers.replicas,
            format!("an integer from 0 to {MAX_REPLICAS}"),
        );
    }
    for (role, node_selector, pod_labels, pod_annotations, tolerations, affinity) in [
        (
            "master",
            &master.node_selector,
            &master.pod_labels,
            &master.pod_annotations,
            &master.tolerations,
            &master.affinity,
        ),
        (
            "workers",
            &workers.node_selector,
            &workers.pod_labels,
            &workers.pod_annotations,
            &workers.tolerations,
            &workers.affinity,
        ),
    ] {
        check_metadata(r, &format!("{role}.nodeSelector"), node_selector, true);
        check_metadata(r, &format!("{role}.podLabels"), pod_labels, true);
        check_metadata(r, &format!("{role}.podAnnotations"), pod_annotations, false);
        check_kubernetes_fields(r, tree, &format!("{role}.tolerations"), tolerations);
        check_tolerations(r, &format!("{role}.tolerations"), tolerations);
        check_kubernetes_fields(r, tree, &format!("{role}.affinity"), affinity);
    }
}

/// `tolerations` and `affinity` are typed by k8s-openapi, which skips unknown keys; a typo there
/// (`nodeSelectorTerm`) would silently drop a scheduling rule. Compare what was written with what
/// the type kept and name the first key that was lost.
fn check_kubernetes_fields(r: &mut Report, tree: &Value, path: &str, typed: &impl Serialize) {
    let pointer = format!("/{}", path.replace('.', "/"));
    let (Some(written), Ok(kept)) = (tree.pointer(&pointer), serde_json::to_value(typed)) else {
        return;
    };
    if let Some(lost) = first_lost_key(written, &kept, path.to_string()) {
        r.0.push(ValueError::new(lost, "unknown field"));
    } else if let Some(missing) = first_defaulted_key(written, &kept, path.to_string()) {
        r.0.push(ValueError::new(missing, "missing: a required field"));
    }
}

/// What the API server checks of a toleration, checked before anything is applied.
fn check_tolerations(r: &mut Report, path: &str, tolerations: &[Toleration]) {
    for (i, t) in tolerations.iter().enumerate() {
        let at = |field: &str| format!("{path}[{i}].{field}");
        let operator = t.operator.as_deref().unwrap_or("Equal");
        if !["Equal", "Exists"].contains(&operator) {
            r.invalid(at("operator"), operator, "one of Equal, Exists");
        }
        let effect = t.effect.as_deref().unwrap_or("");
        if !["", "NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect) {
            r.invalid(
                at("effect"),
                effect,
                "one of NoSchedule, PreferNoSchedule, NoExecute (or none for all)",
            );
        }
        if operator == "Exists" && t.value.as_deref().is_some_and(|v| !v.is_empty()) {
            r.invalid(
                at("value"),
                t.value.as_deref().unwrap_or(""),
                "no value with operator Exists",
            );
        }
        if t.key.as_deref().unwrap_or("").is_empty() && operator != "Exists" {
            r.invalid(at("operator"), operator, "Exists when there is no key");
        }
        if let Some(seconds) = t.toleration_seconds
            && effect != "NoExecute"
        {
            r.number(
                at("tolerationSeconds"),
                seconds,
                "no tolerationSeconds unless effect is NoExecute",
            );
        }
    }
}

fn check_resources(r: &mut Report, path: &str, resources: &Resources) {
    let pairs = [
        ("cpu", &resources.requests.cpu, &resources.limits.cpu),
        (
            "memory",
            &resources.requests.memory,
            &resources.limits.memory,
        ),
    ];
    for (name, request, limit) in pairs {
        if let (Some(request), Some(limit)) = (request, limit)
            && request.millis() > limit.millis()
        {
            r.invalid(
                format!("{path}.requests.{name}"),
                request.text(),
                format!("at most the limit {}", limit.text()),
            );
        }
    }
}

fn check_ports(r: &mut Report, path: &str, ports: &Ports) {
    for (name, port) in [("rpc", ports.rpc), ("http", ports.http)] {
        if port == 0 {
            r.number(format!("{path}.{name}"), 0, "a port from 1 to 65535");
        }
    }
    if ports.rpc == ports.http {
        r.number(
            format!("{path}.http"),
            ports.http,
            format!("a port other than {path}.rpc ({})", ports.rpc),
        );
    }
}

fn check_storage(storage: &[StorageSpec], r: &mut Report) {
    let mut names = BTreeSet::new();
    let mut mounts = BTreeSet::new();
    for (i, volume) in storage.iter().enumerate() {
        let path = format!("storage[{i}]");
        if !is_dns1123_label(&volume.name) || volume.name.len() > 20 {
            r.invalid(
                format!("{path}.name"),
                &volume.name,
                "a DNS-1123 label of at most 20 characters",
            );
        } else if !names.insert(volume.name.as_str()) {
            r.invalid(
                format!("{path}.name"),
                &volume.name,
                "a name no other storage entry has",
            );
        }
        check_mount_path(r, &path, volume, &mut mounts);
        match (&volume.existing_claim, &volume.size) {
            (Some(claim), None) => check_subdomain(r, format!("{path}.existingClaim"), claim),
            (None, Some(size)) if size.millis() == 0 => r.invalid(
                format!("{path}.size"),
                size.text(),
                "a size above 0, such as 10Gi",
            ),
            (None, Some(_)) => {}
            (None, None) => r.0.push(ValueError::new(
                format!("{path}.size"),
                "missing: a claim sparkup creates needs a size (or set existingClaim)",
            )),
            (Some(_), Some(_)) => r.0.push(ValueError::new(
                format!("{path}.size"),
                "expected no size with existingClaim: the existing claim has its own",
            )),
        }
        if volume.access_modes.is_empty() {
            r.0.push(ValueError::new(
                format!("{path}.accessModes"),
                "expected at least one access mode",
            ));
        }
        if let Some(class) = &volume.storage_class_name
            && !class.is_empty()
        {
            check_subdomain(r, format!("{path}.storageClassName"), class);
        }
    }
}

fn check_mount_path<'a>(
    r: &mut Report,
    path: &str,
    volume: &'a StorageSpec,
    seen: &mut BTreeSet<&'a str>,
) {
    let mount = volume.mount_path.as_str();
    let normal = mount.starts_with('/')
        && mount.len() > 1
        && !mount.ends_with('/')
        && mount
            .split('/')
            .skip(1)
            .all(|p| !p.is_empty() && p != "." && p != "..")
        && !mount.chars().any(|c| c.is_control() || c == ':');
    let reserved = RESERVED_MOUNTS.iter().find(|m| {
        mount == **m || mount.starts_with(&format!("{m}/")) || m.starts_with(&format!("{mount}/"))
    });
    let field = format!("{path}.mountPath");
    if !normal {
        r.invalid(
            field,
            mount,
            "an absolute path such as /data, without '.', '..' or a trailing '/'",
        );
    } else if let Some(reserved) = reserved {
        r.invalid(
            field,
            mount,
            format!("a path outside {reserved}, which the pods use"),
        );
    } else if !seen.insert(mount) {
        r.invalid(field, mount, "a path no other storage entry mounts");
    }
}

fn check_metadata(r: &mut Report, path: &str, map: &BTreeMap<String, String>, labels: bool) {
    for (key, value) in map {
        let field = path_key(path, key);
        if !is_qualified_name(key) {
            r.invalid(
                field,
                key,
                "a key such as example.com/team: an optional DNS prefix and '/', then at most 63 \
                 letters, digits, '-', '_' or '.'",
            );
        } else if RESERVED_LABELS.contains(&key.as_str()) && labels {
            r.invalid(field, key, "a label sparkup does not set itself");
        } else if labels && !is_label_value(value) {
            r.invalid(
                field,
                value,
                "a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending \
                 with a letter or digit",
            );
        }
    }
}

fn check_subdomain(r: &mut Report, path: impl Into<String>, name: &str) {
    if !is_dns1123_subdomain(name) {
        r.invalid(path, name, DNS1123_SUBDOMAIN);
    }
}

const DNS1123_LABEL: &str =
    "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63";
const DNS1123_SUBDOMAIN: &str = "a Kubernetes object name: lowercase letters, digits, '-' and '.', \
                                 starting and ending with a letter or digit, at most 253";

pub(crate) fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_dns1035_label(s: &str) -> bool {
    is_dns1123_label(s) && s.starts_with(|c: char| c.is_ascii_lowercase())
}

fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

fn is_label_value(s: &str) -> bool {
    s.is_empty() || is_label_name(s)
}

fn is_label_name(s: &str) -> bool {
    s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn is_qualified_name(s: &str) -> bool {
    match s.split_once('/') {
        Some((prefix, name)) => is_dns1123_subdomain(prefix) && is_label_name(name),
        None => is_label_name(s),
    }
}

fn is_env_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_name_rules() {
        assert!(is_dns1123_label("spark-1"));
        assert!(!is_dns1123_label("Spark"));
        assert!(!is_dns1123_label("-a"));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        assert!(!is_dns1035_label("1spark"));
        assert!(is_dns1123_subdomain("my.secret-1"));
        assert!(!is_dns1123_subdomain("a..b"));
        assert!(is_qualified_name("example.com/team"));
        assert!(!is_qualified_name("example.com/"));
        assert!(!is_qualified_name("a b"));
        assert!(is_label_value(""));
        assert!(!is_label_value("a\nb"));
        assert!(is_env_name("_X1"));
        assert!(!is_env_name("1X"));
    }
}
