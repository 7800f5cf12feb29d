//! The rules a typed spec must meet before anything is rendered from it.
//!
//! Types catch what serde can see (unknown keys, wrong types, bad quantities); this module catches
//! the rest: names the API server would reject, resources that cannot hold a worker, ports that
//! collide, and text that a target format (labels, `spark-defaults.conf`) cannot hold. It reports
//! every problem it finds, not just the first.

mod apps;
mod deps;
mod gpus;
mod names;
mod pods;
mod roles;
mod storage;
mod tls;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use k8s_openapi::api::core::v1::Toleration;

use serde_json::Value;

use super::spec::{ClusterSpec, EnvFromSpec, JobSpec, Ports, Resources, SecretKeyRef, StorageSpec};

use crate::error::{ValueError, path_key, quote};

use crate::json::{first_defaulted_key, first_lost_key};

use crate::spark::conf as spark_conf;
use crate::spark::secrets as spark_secrets;
use apps::*;
use deps::*;
use gpus::*;
use names::*;
use pods::*;
use roles::*;
use storage::*;
use tls::*;

/// Longest instance name: pod names add `-worker-<hash>-<suffix>` and must stay within 63.
pub(crate) const MAX_NAME: usize = 40;

pub(crate) const MAX_REPLICAS: u32 = 1000;

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
    "SPARKUP_WORKER_GPUS",
    "SPARKUP_GPU_DISCOVERY_SCRIPT",
    "SPARK_DRIVER_MEMORY",
    "SPARK_DRIVER_PORT",
    "SPARK_BLOCKMANAGER_PORT",
    "SPARKUP_JOB_NAME",
    "SPARKUP_SCHEDULED_TIME",
    "SPARKUP_EVENT_LOG_DIR",
    "SPARK_CONNECT_PORT",
    "_SPARK_AUTH_SECRET",
];

/// Variables sparkup names for each Spark property from a Secret (`secretConf`).
pub(crate) const RESERVED_ENV_PREFIX: &str = "SPARKUP_SECRET_CONF";

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
    check_annotation_sizes(spec, &mut r);
    check_env(&mut r, spec, "", &spec.env, &spec.env_from);
    check_conf(&mut r, spec, "sparkConf", &spec.spark_conf);
    check_secret_conf(&mut r, "secretConf", &spec.secret_conf, &[&spec.spark_conf]);
    check_security(spec, &mut r);
    check_roles(spec, tree, &mut r);
    check_gpus(spec, &mut r);
    check_pods(spec, tree, &mut r);
    check_storage(&spec.storage, &mut r);
    check_dependencies(spec, &mut r);
    check_history(spec, &mut r);
    check_spark_security(spec, &mut r);
    check_tls(spec, &mut r);
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
    spec: &ClusterSpec,
    prefix: &str,
    env: &BTreeMap<String, String>,
    env_from: &[EnvFromSpec],
) {
    for (name, value) in env {
        let path = path_key(&format!("{prefix}env"), name);
        if !is_env_name(name) {
            r.invalid(
                path,
                name,
                "an environment variable name ([A-Za-z_][A-Za-z0-9_]*)",
            );
        } else if RESERVED_ENV.contains(&name.as_str()) || name.starts_with(RESERVED_ENV_PREFIX) {
            r.invalid(path, name, "a variable sparkup does not set itself");
        } else if value.contains('\0') {
            // Not shown: it may be a credential. No process can receive a NUL in a variable.
            r.0.push(ValueError::new(
                path,
                "invalid value: expected text without a NUL character, which no process can \
                 receive in its environment",
            ));
        } else if spark_secrets::is_jvm_options(name) {
            for (key, property) in spark_secrets::jvm_properties(value) {
                if let Err(e) = spark_secrets::check_property(key, property, spec.settled()) {
                    r.0.push(ValueError::new(path.clone(), format!("-D{key}: {e}")));
                }
            }
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
/// Spark properties from Secrets: a property name Spark takes, given in no other place, that
/// `security` does not settle, and a Secret's key.
fn check_secret_conf(
    r: &mut Report,
    path: &str,
    secret_conf: &BTreeMap<String, SecretKeyRef>,
    plain: &[&BTreeMap<String, String>],
) {
    for (key, reference) in secret_conf {
        let at = path_key(path, key);
        if let Err(e) = spark_conf::check_entry(key, "") {
            r.0.push(ValueError::new(at, e));
            continue;
        }
        if key == "spark.authenticate" || key.starts_with("spark.authenticate.") {
            r.0.push(ValueError::new(
                at,
                "not allowed here: set security.authenticate, which creates and mounts the \
                 shared secret itself",
            ));
            continue;
        }
        if crate::spark::tls::settled(key) {
            r.0.push(ValueError::new(
                at,
                "not allowed here: set security.tls, which settles whether TLS is on and on \
                 which ports",
            ));
            continue;
        }
        if plain.iter().any(|conf| conf.contains_key(key)) {
            r.0.push(ValueError::new(
                at.clone(),
                "given twice: also as plain text in sparkConf or conf; keep one",
            ));
        }
        check_secret_ref(r, &at, reference);
    }
}

/// Every Spark property given at `path`: one line of `spark-defaults.conf` each, no credential
/// as plain text, nothing that `security` settles.
fn check_conf(r: &mut Report, spec: &ClusterSpec, path: &str, conf: &BTreeMap<String, String>) {
    for (key, value) in conf {
        let checked = spark_conf::check_entry(key, value)
            .and_then(|()| spark_secrets::check_property(key, value, spec.settled()));
        if let Err(e) = checked {
            r.0.push(ValueError::new(path_key(path, key), e));
        }
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
