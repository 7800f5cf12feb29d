//! A client-mode driver's container: a job's driver, a run of `sparkup submit`, or the Connect
//! server. It advertises its pod IP on fixed ports and sizes its heap from its memory limit.

use std::collections::BTreeMap;

use super::component::{BLOCK_MANAGER_PORT, Component, DRIVER_PORT};
use super::pod::{Container, LOCAL_DIR, container_env, env_from, heap_mib, launcher_command};
use crate::values::spec::{ClusterSpec, EnvFromSpec, Resources};

/// What one driver adds to the cluster's settings.
pub(crate) struct DriverParts<'a> {
    /// The container's name in its pod.
    pub name: &'a str,
    pub resources: &'a Resources,
    /// The launcher's arguments: its role, then `spark-submit`'s.
    pub args: Vec<String>,
    /// The driver's variables: its pod values' `env`, every layer merged.
    pub env: BTreeMap<String, String>,
    /// The driver's own sources, after the cluster's `envFrom`.
    pub env_from: &'a [EnvFromSpec],
    /// Variables of the role, before the user's.
    pub role_env: Vec<(&'static str, String)>,
}

pub(crate) fn driver_container<'a>(spec: &ClusterSpec, parts: DriverParts<'a>) -> Container<'a> {
    let mut env = vec![
        ("SPARK_DRIVER_PORT", DRIVER_PORT.to_string()),
        ("SPARK_BLOCKMANAGER_PORT", BLOCK_MANAGER_PORT.to_string()),
    ];
    if let Some(heap) = heap_mib(parts.resources) {
        env.push(("SPARK_DRIVER_MEMORY", format!("{heap}m")));
    }
    if spec.history.enabled {
        // The launcher creates a folder on a claim before the driver writes its event log there.
        env.push(("SPARKUP_EVENT_LOG_DIR", spec.history.log_directory.clone()));
    }
    env.extend(parts.role_env);
    let mut sources = spec.env_from.clone();
    sources.extend(
        parts
            .env_from
            .iter()
            .filter(|s| !spec.env_from.contains(s))
            .cloned(),
    );
    Container {
        name: parts.name.into(),
        command: launcher_command(),
        args: parts.args,
        env: container_env(&env, &parts.env),
        env_from: env_from(&sources),
        ports: Component::Job.ports(spec),
        resources: parts.resources.into(),
        readiness: None,
        liveness: None,
        startup: None,
        scratch: vec![("tmp".into(), LOCAL_DIR)],
        restart_policy: None,
        config_maps: Vec::new(),
        extra_mounts: Vec::new(),
        extra_ports: Vec::new(),
        lifecycle: None,
    }
}
