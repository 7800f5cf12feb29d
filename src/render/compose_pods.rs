//! What a role's `pod` values become in the compose file: host aliases, DNS settings, extra
//! ports and the volumes compose can mount (a host path, scratch space) are carried; the rest
//! (init containers, sidecars, scheduling, service accounts, hooks, probe timings, volumes of
//! Kubernetes objects) has no compose equivalent and is a warning naming the value.

use serde::Serialize;

use super::model::component::Component;
use crate::error::quote;
use crate::values::pod_layers::{PodLayers, PodRole};
use crate::values::spec::{ClusterSpec, JobSpec};

/// The compose keys of one service that come from its role's `pod` values.
#[derive(Debug, Default, Serialize)]
pub(crate) struct ComposeExtras {
    /// `host:ip`, from `hostAliases`.
    pub extra_hosts: Vec<String>,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_opt: Vec<String>,
    /// `extraPorts`, reachable on the compose network (never published).
    pub expose: Vec<String>,
    /// `extraVolumeMounts` of host paths (`path:target[:ro]`) and of scratch space (`target`).
    pub volumes: Vec<String>,
}

/// The layers of the role a service runs.
pub(crate) fn layers(
    spec: &ClusterSpec,
    component: Component,
    job: Option<(&str, &JobSpec)>,
) -> PodLayers {
    let role = match component {
        Component::Master => PodRole::Master,
        Component::Worker => PodRole::Workers,
        Component::History => PodRole::History,
        Component::Connect => PodRole::Connect,
        Component::Job => PodRole::Driver(job),
    };
    spec.pod_layers(role)
}

/// The compose keys of a service, and a warning (once) for each value compose cannot carry.
pub(crate) fn extras(layers: &PodLayers, warnings: &mut Vec<String>) -> ComposeExtras {
    let v = layers.effective();
    let mut warn = |field: &str, why: &str| {
        warn_once(
            warnings,
            format!("{}: {why}: left out", layers.origin(field)),
        );
    };
    let unsupported = [
        (
            "initContainers",
            v.init_containers.is_some(),
            "docker-compose has no init containers",
        ),
        (
            "sidecars",
            v.sidecars.as_ref().is_some_and(|s| !s.is_empty()),
            "docker-compose has no sidecar containers",
        ),
        (
            "priorityClassName",
            v.priority_class_name.is_some(),
            "docker-compose has no priority classes",
        ),
        (
            "schedulerName",
            v.scheduler_name.is_some(),
            "docker-compose has no scheduler",
        ),
        (
            "runtimeClassName",
            v.runtime_class_name.is_some(),
            "a RuntimeClass names a Kubernetes handler, not a docker runtime",
        ),
        (
            "serviceAccountName",
            v.service_account_name.is_some(),
            "docker-compose has no service accounts",
        ),
        (
            "topologySpreadConstraints",
            v.topology_spread_constraints.is_some(),
            "docker-compose runs every container on one machine",
        ),
        (
            "lifecycle",
            v.lifecycle.is_some(),
            "docker-compose has no lifecycle hooks",
        ),
        (
            "probes",
            !v.probes.is_empty(),
            "the compose health checks keep their own timing",
        ),
    ];
    for (field, set, why) in unsupported {
        if set {
            warn(field, why);
        }
    }
    let mut extras = ComposeExtras::default();
    for alias in v.host_aliases.iter().flatten() {
        let ip = alias.ip.as_str();
        extras.extra_hosts.extend(
            alias
                .hostnames
                .iter()
                .flatten()
                .map(|h| format!("{h}:{ip}")),
        );
    }
    if let Some(dns) = &v.dns_config {
        extras.dns = dns.nameservers.clone().unwrap_or_default();
        extras.dns_search = dns.searches.clone().unwrap_or_default();
        extras.dns_opt = dns
            .options
            .iter()
            .flatten()
            .filter_map(|o| {
                let name = o.name.as_deref()?;
                Some(match &o.value {
                    Some(value) => format!("{name}:{value}"),
                    None => name.to_string(),
                })
            })
            .collect();
    }
    for port in v.extra_ports.iter().flatten() {
        let protocol = port
            .protocol
            .as_deref()
            .unwrap_or("TCP")
            .to_ascii_lowercase();
        extras
            .expose
            .push(format!("{}/{protocol}", port.container_port));
    }
    let volumes_at = layers.origin("extraVolumes");
    let volumes = v.extra_volumes.clone().unwrap_or_default();
    for mount in v.extra_volume_mounts.iter().flatten() {
        let Some((i, volume)) = volumes
            .iter()
            .enumerate()
            .find(|(_, vol)| vol.name == mount.name)
        else {
            continue;
        };
        let ro = if mount.read_only == Some(true) {
            ":ro"
        } else {
            ""
        };
        if let Some(host) = &volume.host_path {
            extras
                .volumes
                .push(format!("{}:{}{ro}", host.path, mount.mount_path));
        } else if volume.empty_dir.is_some() {
            extras.volumes.push(mount.mount_path.clone());
        } else {
            let text = format!(
                "{volumes_at}[{i}]: the volume {} is a Kubernetes object docker-compose cannot \
                 mount (only hostPath and emptyDir volumes are carried): left out, and its mount \
                 at {}",
                quote(&volume.name),
                mount.mount_path
            );
            warn_once(warnings, text);
        }
    }
    extras
}

/// A value shared by several roles is one warning, not one per service.
fn warn_once(warnings: &mut Vec<String>, text: String) {
    if !warnings.contains(&text) {
        warnings.push(text);
    }
}
