//! The `pod` values of every layer: what the API server would refuse, checked where it was
//! written, and, for each role, the names and paths that would collide with sparkup's own,
//! checked on what the role's pods get and reported at the layer that set them.

use serde_json::Value;

use super::*;
use crate::spark::ports::{
    BLOCK_MANAGER_PORT, DRIVER_PORT, DRIVER_UI_PORT, EXTRA_WORKER_HTTP, EXTRA_WORKER_RPC,
};
use crate::values::pod_layers::{PodLayers, PodRole};
use crate::values::pods::{
    OWN_CONTAINERS, OWN_PORTS, OWN_VOLUMES, PodValues, ProbeTiming, numbered,
};

/// Where Spark and sparkup's own files are: a mount there or above would hide them.
const OWN_PATHS: &[&str] = &[
    "/opt/spark",
    "/etc/sparkup",
    "/etc/sparkup-tls",
    "/tmp",
    "/opt/spark/work",
    "/opt/sparkup/app",
];

pub(super) fn check_pods(spec: &ClusterSpec, tree: &Value, r: &mut Report) {
    let mut layers = vec![("pod".to_string(), &spec.pod)];
    layers.push(("master.pod".into(), &spec.master.pod));
    layers.push(("workers.pod".into(), &spec.workers.pod));
    layers.push(("history.pod".into(), &spec.history.pod));
    layers.push(("connect.pod".into(), &spec.connect.pod));
    layers.push(("drivers.pod".into(), &spec.drivers.pod));
    for (name, job) in &spec.jobs {
        layers.push((format!("{}.pod", path_key("jobs", name)), &job.pod));
    }
    for (path, values) in layers {
        check_layer(spec, tree, r, &path, values);
    }
    let mut roles = vec![PodRole::Master, PodRole::Workers, PodRole::Driver(None)];
    if spec.history.enabled {
        roles.push(PodRole::History);
    }
    if spec.connect.enabled {
        roles.push(PodRole::Connect);
    }
    roles.extend(spec.jobs.iter().map(|(k, j)| PodRole::Driver(Some((k, j)))));
    let mut seen = BTreeSet::new();
    for role in roles {
        let mut found = Report::default();
        check_role(spec, role, &spec.pod_layers(role), &mut found);
        // A shared value that collides in several roles is one problem.
        for e in found.0 {
            if seen.insert(e.to_string()) {
                r.0.push(e);
            }
        }
    }
}

/// What the API server checks of one layer, at the path it was written.
fn check_layer(spec: &ClusterSpec, tree: &Value, r: &mut Report, path: &str, v: &PodValues) {
    let at = |field: &str| format!("{path}.{field}");
    check_kubernetes_fields(r, tree, &at("extraVolumes"), &v.extra_volumes);
    check_kubernetes_fields(r, tree, &at("extraVolumeMounts"), &v.extra_volume_mounts);
    check_kubernetes_fields(r, tree, &at("initContainers"), &v.init_containers);
    check_kubernetes_fields(r, tree, &at("sidecars"), &v.sidecars);
    check_kubernetes_fields(
        r,
        tree,
        &at("topologySpreadConstraints"),
        &v.topology_spread_constraints,
    );
    check_kubernetes_fields(r, tree, &at("hostAliases"), &v.host_aliases);
    check_kubernetes_fields(r, tree, &at("dnsConfig"), &v.dns_config);
    check_kubernetes_fields(r, tree, &at("extraPorts"), &v.extra_ports);
    check_kubernetes_fields(r, tree, &at("lifecycle"), &v.lifecycle);
    for (field, name) in [
        ("priorityClassName", &v.priority_class_name),
        ("schedulerName", &v.scheduler_name),
        ("runtimeClassName", &v.runtime_class_name),
        ("serviceAccountName", &v.service_account_name),
    ] {
        if let Some(name) = name {
            check_subdomain(r, at(field), name);
        }
    }
    check_env(r, spec, &format!("{path}."), &v.env, &[]);
    check_volumes(r, &at("extraVolumes"), v);
    check_mount_paths(r, &at("extraVolumeMounts"), v);
    check_containers(r, path, v);
    check_ports_list(r, &at("extraPorts"), v.extra_ports.iter().flatten());
    check_spread(r, &at("topologySpreadConstraints"), v);
    for (probe, timing) in [
        ("startup", &v.probes.startup),
        ("readiness", &v.probes.readiness),
        ("liveness", &v.probes.liveness),
    ] {
        check_timing(r, &format!("{path}.probes.{probe}"), probe, timing);
    }
}

fn check_volumes(r: &mut Report, path: &str, v: &PodValues) {
    let mut names = BTreeSet::new();
    for (i, volume) in v.extra_volumes.iter().flatten().enumerate() {
        let field = format!("{path}[{i}].name");
        if !is_dns1123_label(&volume.name) {
            r.invalid(field, &volume.name, DNS1123_LABEL);
        } else if !names.insert(volume.name.as_str()) {
            r.invalid(field, &volume.name, "a name no other extra volume has");
        }
        let sources = serde_json::to_value(volume)
            .ok()
            .and_then(|v| v.as_object().map(|o| o.len().saturating_sub(1)))
            .unwrap_or(0);
        if sources != 1 {
            r.0.push(ValueError::new(
                format!("{path}[{i}]"),
                format!("{sources} volume sources: expected exactly one (emptyDir, secret, …)"),
            ));
        }
    }
}

fn check_mount_paths(r: &mut Report, path: &str, v: &PodValues) {
    let mut paths = BTreeSet::new();
    for (i, mount) in v.extra_volume_mounts.iter().flatten().enumerate() {
        let field = format!("{path}[{i}].mountPath");
        let p = mount.mount_path.as_str();
        let normal = p.starts_with('/')
            && !p.split('/').any(|part| part == "..")
            && !p.chars().any(|c| c.is_control() || c == ':');
        if !normal {
            r.invalid(field, p, "an absolute path without '..' or ':'");
        } else if !paths.insert(p.trim_end_matches('/')) {
            r.invalid(field, p, "a path no other extra mount has");
        }
    }
}

fn check_containers(r: &mut Report, path: &str, v: &PodValues) {
    let mut names = BTreeSet::new();
    let lists = [
        ("initContainers", &v.init_containers, false),
        ("sidecars", &v.sidecars, true),
    ];
    for (field, list, sidecar) in lists {
        for (i, c) in list.iter().flatten().enumerate() {
            let at = |key: &str| format!("{path}.{field}[{i}].{key}");
            if !is_dns1123_label(&c.name) {
                r.invalid(at("name"), &c.name, DNS1123_LABEL);
            } else if !names.insert(c.name.as_str()) {
                r.invalid(
                    at("name"),
                    &c.name,
                    "a name no other init container or sidecar has",
                );
            }
            if c.image.as_deref().is_none_or(str::is_empty) {
                r.0.push(ValueError::new(at("image"), "missing: a required field"));
            }
            match (c.restart_policy.as_deref(), sidecar) {
                (None, _) | (Some("Always"), true) => {}
                (Some(policy), true) => r.invalid(
                    at("restartPolicy"),
                    policy,
                    "Always or nothing: a sidecar runs for the pod's life",
                ),
                (Some(policy), false) => r.invalid(
                    at("restartPolicy"),
                    policy,
                    "nothing: a container that runs beside sparkup's belongs under sidecars",
                ),
            }
            check_ports_list(
                r,
                &format!("{path}.{field}[{i}].ports"),
                c.ports.iter().flatten(),
            );
        }
    }
}

/// Port numbers, names (IANA service names) and protocols, none twice.
fn check_ports_list<'a>(
    r: &mut Report,
    path: &str,
    ports: impl Iterator<Item = &'a k8s_openapi::api::core::v1::ContainerPort>,
) {
    let mut names = BTreeSet::new();
    let mut numbers = BTreeSet::new();
    for (i, port) in ports.enumerate() {
        let at = |key: &str| format!("{path}[{i}].{key}");
        let protocol = port.protocol.as_deref().unwrap_or("TCP");
        if !(1..=65535).contains(&port.container_port) {
            r.number(
                at("containerPort"),
                port.container_port,
                "a port from 1 to 65535",
            );
        } else if !numbers.insert((port.container_port, protocol)) {
            r.number(
                at("containerPort"),
                port.container_port,
                "a port no other entry has",
            );
        }
        if !["TCP", "UDP", "SCTP"].contains(&protocol) {
            r.invalid(at("protocol"), protocol, "one of TCP, UDP, SCTP");
        }
        if let Some(name) = &port.name {
            if !is_port_name(name) {
                r.invalid(
                    at("name"),
                    name,
                    "a port name: at most 15 lowercase letters, digits and '-', with a letter",
                );
            } else if !names.insert(name.as_str()) {
                r.invalid(at("name"), name, "a name no other port has");
            }
        }
    }
}

/// An IANA service name, as the API server checks a container port's name.
fn is_port_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && s.chars().any(|c| c.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

fn check_spread(r: &mut Report, path: &str, v: &PodValues) {
    for (i, c) in v.topology_spread_constraints.iter().flatten().enumerate() {
        let at = |key: &str| format!("{path}[{i}].{key}");
        if c.max_skew < 1 {
            r.number(at("maxSkew"), c.max_skew, "at least 1");
        }
        if !["DoNotSchedule", "ScheduleAnyway"].contains(&c.when_unsatisfiable.as_str()) {
            r.invalid(
                at("whenUnsatisfiable"),
                &c.when_unsatisfiable,
                "one of DoNotSchedule, ScheduleAnyway",
            );
        }
        if c.topology_key.is_empty() {
            r.0.push(ValueError::new(
                at("topologyKey"),
                "missing: a required field",
            ));
        }
    }
}

fn check_timing(r: &mut Report, path: &str, probe: &str, timing: &ProbeTiming) {
    for (field, value) in timing.fields() {
        let Some(value) = value else { continue };
        let least = u32::from(field != "initialDelaySeconds");
        if value < least || value > i32::MAX as u32 {
            r.number(
                format!("{path}.{field}"),
                value,
                format!("an integer from {least} to {}", i32::MAX),
            );
        } else if field == "successThreshold" && probe != "readiness" && value != 1 {
            r.number(
                format!("{path}.{field}"),
                value,
                format!("1: the API server takes no other for a {probe} probe"),
            );
        }
    }
}

/// sparkup's own names and paths in the role's pods, against what its layers add.
fn check_role(spec: &ClusterSpec, role: PodRole, layers: &PodLayers, r: &mut Report) {
    let v = layers.effective();
    let volumes_at = layers.origin("extraVolumes");
    let mut volumes = BTreeSet::new();
    for (i, volume) in v.extra_volumes.iter().flatten().enumerate() {
        let name = volume.name.as_str();
        let own = OWN_VOLUMES.contains(&name)
            || numbered(name, "work-", "")
            || spec
                .storage
                .iter()
                .any(|s| name == format!("storage-{}", s.name));
        if own {
            r.invalid(format!("{volumes_at}[{i}].name"), name, own_names("volume"));
        }
        volumes.insert(name);
    }
    check_role_mounts(spec, layers, &v, &volumes, r);
    for (field, list) in [
        ("initContainers", &v.init_containers),
        ("sidecars", &v.sidecars),
    ] {
        for (i, c) in list.iter().flatten().enumerate() {
            if OWN_CONTAINERS.contains(&c.name.as_str()) || numbered(&c.name, "worker-", "") {
                let at = format!("{}[{i}].name", layers.origin(field));
                r.invalid(at, &c.name, own_names("container"));
            }
        }
    }
    if let PodRole::Workers = role
        && v.lifecycle.as_ref().is_some_and(|l| l.pre_stop.is_some())
    {
        r.0.push(ValueError::new(
            format!("{}.preStop", layers.origin("lifecycle")),
            "not for workers: a worker's shutdown is decommission's (workers.decommission); set \
             the hook under the other roles' pod instead",
        ));
    }
    check_role_ports(spec, role, layers, &v, r);
}

fn check_role_mounts(
    spec: &ClusterSpec,
    layers: &PodLayers,
    v: &PodValues,
    volumes: &BTreeSet<&str>,
    r: &mut Report,
) {
    let at = layers.origin("extraVolumeMounts");
    let claims = spec.storage.iter().map(|s| s.mount_path.as_str());
    let own: Vec<&str> = OWN_PATHS.iter().copied().chain(claims).collect();
    for (i, mount) in v.extra_volume_mounts.iter().flatten().enumerate() {
        if !volumes.contains(mount.name.as_str()) {
            let known: Vec<&str> = volumes.iter().copied().collect();
            let expected = match known.is_empty() {
                true => "a volume of extraVolumes (there is none)".to_string(),
                false => format!("one of the extraVolumes: {}", known.join(", ")),
            };
            r.invalid(format!("{at}[{i}].name"), &mount.name, expected);
        }
        let path = mount.mount_path.trim_end_matches('/');
        let hides = own
            .iter()
            .find(|o| **o == path || o.starts_with(&format!("{path}/")) || path.is_empty());
        let inside_conf = path.starts_with("/etc/sparkup/");
        if let Some(hidden) = hides.or(inside_conf.then_some(&"/etc/sparkup")) {
            r.invalid(
                format!("{at}[{i}].mountPath"),
                &mount.mount_path,
                format!("a path that hides nothing of sparkup's or Spark's ({hidden})"),
            );
        }
    }
}

/// The role's own port numbers: what its containers listen on in the pod.
fn own_port_numbers(spec: &ClusterSpec, role: PodRole) -> Vec<u16> {
    let driver = [DRIVER_PORT, BLOCK_MANAGER_PORT, DRIVER_UI_PORT];
    match role {
        PodRole::Master => vec![spec.master.ports.rpc, spec.master.ports.http],
        PodRole::Workers => vec![spec.workers.ports.rpc, spec.workers.ports.http],
        PodRole::History => vec![spec.history.port],
        PodRole::Connect => [spec.connect.port].into_iter().chain(driver).collect(),
        PodRole::Driver(job) => {
            let extra = job.map_or(0, |(_, j)| j.workers);
            let workers = (1..=extra).flat_map(|i| {
                let n = u16::try_from(i).unwrap_or(u16::MAX);
                [
                    EXTRA_WORKER_RPC.saturating_add(n),
                    EXTRA_WORKER_HTTP.saturating_add(n),
                ]
            });
            driver.into_iter().chain(workers).collect()
        }
    }
}

fn check_role_ports(
    spec: &ClusterSpec,
    role: PodRole,
    layers: &PodLayers,
    v: &PodValues,
    r: &mut Report,
) {
    let numbers = own_port_numbers(spec, role);
    let taken = |port: i32| u16::try_from(port).is_ok_and(|p| numbers.contains(&p));
    let at = layers.origin("extraPorts");
    for (i, port) in v.extra_ports.iter().flatten().enumerate() {
        if let Some(name) = &port.name
            && (OWN_PORTS.contains(&name.as_str())
                || numbered(name, "w", "-rpc")
                || numbered(name, "w", "-http"))
        {
            r.invalid(format!("{at}[{i}].name"), name, own_names("port"));
        }
        if taken(port.container_port) {
            r.number(
                format!("{at}[{i}].containerPort"),
                port.container_port,
                format!(
                    "a port sparkup's container does not listen on ({})",
                    list(&numbers)
                ),
            );
        }
    }
    let at = layers.origin("sidecars");
    for (i, c) in v.sidecars.iter().flatten().enumerate() {
        for (j, port) in c.ports.iter().flatten().enumerate() {
            if taken(port.container_port) {
                r.number(
                    format!("{at}[{i}].ports[{j}].containerPort"),
                    port.container_port,
                    format!(
                        "a port sparkup's container does not listen on ({})",
                        list(&numbers)
                    ),
                );
            }
        }
    }
}

fn list(numbers: &[u16]) -> String {
    let text: Vec<String> = numbers.iter().map(u16::to_string).collect();
    text.join(", ")
}

fn own_names(what: &str) -> String {
    let names = match what {
        "volume" => "conf, tmp, work, app, tls, work-<n>, storage-<claim>",
        "container" => "spark, driver, worker-<n>",
        _ => "rpc, http, grpc, driver, blockmanager, w<n>-rpc, w<n>-http",
    };
    format!("a {what} name other than sparkup's own ({names})")
}
