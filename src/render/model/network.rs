//! Who reaches the instance: its network policies, and the Ingress of its UIs.

use std::collections::BTreeMap;

use serde::Serialize;

use super::component::{Component, DRIVER_UI_PORT};
use super::jobs::EXTRA_WORKER_HTTP;
use crate::render::labels;
use crate::values::spec::{ClusterSpec, IngressSpec};

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
    /// With demand scaling: KEDA's namespace, whose operator reads the master's UI port.
    pub keda: Option<KedaPeer>,
}

/// The master's pods, their UI port, and the namespace KEDA's operator runs in.
#[derive(Debug, Serialize)]
pub(crate) struct KedaPeer {
    pub master: BTreeMap<String, String>,
    pub port: u16,
    pub namespace: String,
}

pub(crate) fn network_policy(spec: &ClusterSpec) -> NetworkPolicy<'_> {
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
        instance: labels::instance_selector(&spec.name),
        ui_ports,
        ui_from: &spec.network_policy.ui_from,
        keda: spec.workers.scaled_on_demand().then(|| KedaPeer {
            master: Component::Master.selector(&spec.name),
            port: spec.master.ports.http,
            namespace: spec.workers.autoscaling.demand.keda_namespace.clone(),
        }),
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Ingress<'a> {
    pub name: String,
    pub spec: &'a IngressSpec,
    /// The master's UI, and the history and Connect servers' when they have a host.
    pub rules: Vec<IngressRule>,
    pub hosts: Vec<String>,
    /// The user's annotations over sparkup's: with HTTPS UIs, ingress-nginx's backend protocol.
    pub annotations: BTreeMap<String, String>,
}

/// How ingress-nginx learns that a backend speaks HTTPS (other controllers: `ui.ingress.annotations`).
const HTTPS_BACKEND: [(&str, &str); 1] =
    [("nginx.ingress.kubernetes.io/backend-protocol", "HTTPS")];

/// One UI at a host and path, served by a Service's `http` port.
#[derive(Debug, Serialize)]
pub(crate) struct IngressRule {
    pub host: String,
    pub path: String,
    pub service: String,
}

pub(crate) fn ingress(spec: &ClusterSpec) -> Ingress<'_> {
    let i = &spec.ui.ingress;
    let rule = |host: &str, path: &str, component: Component| IngressRule {
        host: host.to_string(),
        path: path.to_string(),
        service: component.object_name(&spec.name),
    };
    let mut rules = vec![rule(&i.host, &i.path, Component::Master)];
    if let Some(host) = &i.history_host {
        rules.push(rule(host, "/", Component::History));
    }
    if let Some(host) = &i.connect_host {
        rules.push(rule(host, "/", Component::Connect));
    }
    let mut annotations = BTreeMap::new();
    if spec.security.tls.ui_on() {
        annotations.extend(HTTPS_BACKEND.map(|(k, v)| (k.to_string(), v.to_string())));
    }
    annotations.extend(i.annotations.clone());
    Ingress {
        name: Component::Master.object_name(&spec.name),
        spec: i,
        annotations,
        hosts: rules.iter().map(|r| r.host.clone()).collect(),
        rules,
    }
}
