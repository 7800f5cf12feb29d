//! The long-running roles: the master and the workers, and the history and Connect servers,
//! each a workload with its Service where clients need one.

use std::collections::BTreeMap;

use serde::Serialize;

use super::component::{Component, Port};
use super::config::{Config, master_url};
use super::driver::{DriverParts, driver_container};
use super::extend::extend;
use super::gpus::{self, ContainerResources, Gpus};
use super::pod::{
    Container, EMPTY, LOCAL_DIR, Pod, PodParts, Scheduling, WORK_DIR, container_env, env_from,
    heap_mib, launcher_command, spread, spread_over_nodes,
};
use super::probes;
use crate::values::Cluster;
use crate::values::pod_layers::PodRole;
use crate::values::pods::PodValues;
use crate::values::spec::{AntiAffinity, ClusterSpec, Resources, ServiceType, WorkloadKind};

/// One workload: the master, the workers, the history server or the Connect server.
#[derive(Debug, Serialize)]
pub(crate) struct Workload<'a> {
    pub name: String,
    pub component: Component,
    pub kind: WorkloadKind,
    /// None when an autoscaler sets it.
    pub replicas: Option<u32>,
    pub strategy: Strategy,
    pub selector: BTreeMap<String, String>,
    pub pod: Pod<'a>,
}

/// How a Deployment replaces its pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum Strategy {
    /// All old pods go before new ones start: two masters at once would each accept workers, two
    /// servers would write the same state.
    Recreate,
    RollingUpdate,
}

#[derive(Debug, Serialize)]
pub(crate) struct Service<'a> {
    pub name: String,
    pub component: Component,
    pub service_type: ServiceType,
    pub annotations: &'a BTreeMap<String, String>,
    pub selector: BTreeMap<String, String>,
    pub ports: Vec<Port>,
}

/// The master's Service: workers and drivers reach it by this name, whatever its pod's IP.
pub(crate) fn master_service(spec: &ClusterSpec) -> Service<'_> {
    Service {
        name: Component::Master.object_name(&spec.name),
        component: Component::Master,
        service_type: spec.master.service.service_type,
        annotations: &spec.master.service.annotations,
        selector: Component::Master.selector(&spec.name),
        ports: Component::Master.service_ports(spec),
    }
}

/// A server's ClusterIP Service, its ports named as in its pod.
pub(crate) fn server_service(spec: &ClusterSpec, component: Component) -> Service<'_> {
    Service {
        name: component.object_name(&spec.name),
        component,
        service_type: ServiceType::ClusterIP,
        annotations: &EMPTY,
        selector: component.selector(&spec.name),
        ports: component.service_ports(spec),
    }
}

pub(crate) fn master<'a>(cluster: &'a Cluster, config: &Config) -> Workload<'a> {
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
    let values = spec.pod_layers(PodRole::Master).effective();
    let container = daemon_container(spec, Component::Master, &env, &m.resources, &values.env);
    let parts = PodParts {
        component: Component::Master,
        labels: &m.pod_labels,
        annotations: &m.pod_annotations,
        scheduling: Scheduling {
            node_selector: &m.node_selector,
            tolerations: &m.tolerations,
            affinity: m.affinity.clone(),
        },
    };
    let mut pod = Pod::single(spec, config, container, parts);
    extend(&mut pod, &values);
    Workload {
        name: Component::Master.object_name(&spec.name),
        component: Component::Master,
        kind: m.kind,
        replicas: Some(1),
        strategy: Strategy::Recreate,
        selector: Component::Master.selector(&spec.name),
        pod,
    }
}

/// The one container of a daemon that needs nothing but its role's name (the master, the
/// history server): the launcher in that role, its ports, probes and scratch space.
fn daemon_container<'a>(
    spec: &ClusterSpec,
    component: Component,
    env: &[(&str, String)],
    resources: &'a Resources,
    user_env: &BTreeMap<String, String>,
) -> Container<'a> {
    let ports = component.ports(spec);
    let probes = probes::of(component, probes::named(&ports));
    Container {
        name: "spark".into(),
        command: launcher_command(),
        args: vec![component.as_str().into()],
        env: container_env(env, user_env),
        env_from: env_from(&spec.env_from),
        ports,
        resources: resources.into(),
        readiness: probes.readiness,
        liveness: probes.liveness,
        startup: probes.startup,
        scratch: vec![("tmp".into(), LOCAL_DIR)],
        restart_policy: None,
        config_maps: Vec::new(),
        extra_mounts: Vec::new(),
        extra_ports: Vec::new(),
        lifecycle: None,
    }
}

/// Where a worker container listens and keeps its work: the workers' own ports, or a job's
/// extra worker's in the driver's pod.
pub(crate) struct WorkerPorts {
    pub rpc: Port,
    pub http: Port,
    /// The emptyDir volume of its work folder.
    pub work_volume: String,
}

/// A worker container: the worker role with the cores and memory its limits allow and its
/// `gpus`, and the variables of its pod's `pod` values.
pub(crate) fn worker_container<'a>(
    cluster: &'a Cluster,
    name: String,
    ports: WorkerPorts,
    gpus: u32,
    user_env: &BTreeMap<String, String>,
) -> Container<'a> {
    let spec = &cluster.spec;
    let w = &spec.workers;
    let sizing = &cluster.sizing;
    let mut env = vec![
        ("SPARK_WORKER_CORES", sizing.worker_cores.to_string()),
        (
            "SPARK_WORKER_MEMORY",
            format!("{}m", sizing.worker_memory_mib),
        ),
        ("SPARK_WORKER_PORT", ports.rpc.port.to_string()),
        ("SPARK_WORKER_WEBUI_PORT", ports.http.port.to_string()),
        (
            "SPARK_DAEMON_MEMORY",
            format!("{}m", sizing.worker_daemon_mib),
        ),
        ("SPARK_WORKER_DIR", WORK_DIR.to_string()),
        ("SPARK_LOCAL_DIRS", LOCAL_DIR.to_string()),
        ("SPARK_WORKER_DECOMMISSION", w.decommission.to_string()),
    ];
    env.extend(gpus::worker_env(spec, gpus));
    let probes = probes::of(Component::Worker, |name| match name {
        "rpc" => Some(ports.rpc.clone()),
        "http" => Some(ports.http.clone()),
        _ => None,
    });
    Container {
        readiness: probes.readiness,
        liveness: probes.liveness,
        startup: probes.startup,
        name,
        command: launcher_command(),
        args: vec![Component::Worker.as_str().into(), master_url(spec)],
        env: container_env(&env, user_env),
        env_from: env_from(&spec.env_from),
        resources: ContainerResources {
            base: &w.resources,
            gpus: Gpus::of(spec, gpus),
        },
        scratch: vec![("tmp".into(), LOCAL_DIR), (ports.work_volume, WORK_DIR)],
        ports: vec![ports.rpc, ports.http],
        restart_policy: None,
        config_maps: Vec::new(),
        extra_mounts: Vec::new(),
        extra_ports: Vec::new(),
        lifecycle: None,
    }
}

pub(crate) fn workers<'a>(cluster: &'a Cluster, config: &Config) -> Workload<'a> {
    let spec = &cluster.spec;
    let w = &spec.workers;
    let selector = Component::Worker.selector(&spec.name);
    let [rpc, http] = <[Port; 2]>::try_from(Component::Worker.ports(spec))
        .expect("a worker has an rpc and an http port");
    let ports = WorkerPorts {
        rpc,
        http,
        work_volume: "work".into(),
    };
    let mut values = spec.pod_layers(PodRole::Workers).effective();
    if values.topology_spread_constraints.is_none() && w.anti_affinity == AntiAffinity::None {
        values.topology_spread_constraints = Some(vec![spread_over_nodes(&selector)]);
    }
    let container = worker_container(cluster, "spark".into(), ports, w.gpus, &values.env);
    let parts = PodParts {
        component: Component::Worker,
        labels: &w.pod_labels,
        annotations: &w.pod_annotations,
        scheduling: Scheduling {
            node_selector: &w.node_selector,
            tolerations: &w.tolerations,
            affinity: spread(w.affinity.clone(), w.anti_affinity, &selector),
        },
    };
    let mut pod = Pod::single(spec, config, container, parts);
    pod.tolerations = gpus::tolerations(&w.tolerations, Gpus::of(spec, w.gpus));
    pod.gpu_workers = w.gpus > 0;
    pod.termination_grace_period_seconds = Some(w.termination_grace_period_seconds);
    extend(&mut pod, &values);
    Workload {
        name: Component::Worker.object_name(&spec.name),
        component: Component::Worker,
        kind: w.kind,
        replicas: (!w.autoscaling.enabled).then_some(w.replicas),
        strategy: Strategy::RollingUpdate,
        selector,
        pod,
    }
}

/// The history server: reads the event logs every driver writes.
pub(crate) fn history<'a>(cluster: &'a Cluster, config: &Config) -> Workload<'a> {
    let spec = &cluster.spec;
    let h = &spec.history;
    let mut env = vec![("SPARKUP_EVENT_LOG_DIR", h.log_directory.clone())];
    if let Some(heap) = heap_mib(&h.resources) {
        env.push(("SPARK_DAEMON_MEMORY", format!("{heap}m")));
    }
    let values = spec.pod_layers(PodRole::History).effective();
    let container = daemon_container(spec, Component::History, &env, &h.resources, &values.env);
    server(spec, Component::History, config, container, &values)
}

/// The Spark Connect server: a client-mode driver that stays up, with clients on one port.
pub(crate) fn connect<'a>(cluster: &'a Cluster, config: &Config) -> Workload<'a> {
    let spec = &cluster.spec;
    let c = &spec.connect;
    let values = spec.pod_layers(PodRole::Connect).effective();
    let mut args = vec![Component::Connect.as_str().to_string()];
    for (key, value) in &c.conf {
        args.extend(["--conf".to_string(), format!("{key}={value}")]);
    }
    let mut container = driver_container(
        spec,
        DriverParts {
            name: "spark",
            resources: &c.resources,
            args,
            env: values.env.clone(),
            env_from: &spec.env_from,
            role_env: vec![("SPARK_CONNECT_PORT", c.port.to_string())],
        },
    );
    container.ports = Component::Connect.ports(spec);
    let probes = probes::of(Component::Connect, probes::named(&container.ports));
    container.readiness = probes.readiness;
    container.liveness = probes.liveness;
    container.startup = probes.startup;
    server(spec, Component::Connect, config, container, &values)
}

/// A server of the instance (history, Connect): one pod of a Deployment that is recreated, not
/// rolled, so two never write the same state.
fn server<'a>(
    spec: &'a ClusterSpec,
    component: Component,
    config: &Config,
    container: Container<'a>,
    values: &PodValues,
) -> Workload<'a> {
    let parts = PodParts {
        component,
        labels: &EMPTY,
        annotations: &EMPTY,
        scheduling: Scheduling::anywhere(),
    };
    let mut pod = Pod::single(spec, config, container, parts);
    extend(&mut pod, values);
    Workload {
        name: component.object_name(&spec.name),
        component,
        kind: WorkloadKind::Deployment,
        replicas: Some(1),
        strategy: Strategy::Recreate,
        selector: component.selector(&spec.name),
        pod,
    }
}
