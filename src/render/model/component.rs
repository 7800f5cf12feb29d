//! The roles of an instance, and what each one knows about itself.
//!
//! A role's name appears in object names (`<instance>-master`), in the `component` label every
//! command selects pods by, in the Prometheus paths it serves and in its health check. Writing
//! these once, here, keeps `render`, `compose`, `apply`, `status`, `ui` and `submit` agreeing on
//! them; everywhere else a role is this type, never a string.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::render::labels;
use crate::values::ClusterSpec;
use crate::values::spec::Ports;

/// One role of the instance: the label value `app.kubernetes.io/component` of its objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    Master,
    Worker,
    History,
    Connect,
    /// A driver's Job: a scheduled job's CronJob, or a run of `sparkup submit`.
    Job,
}

/// What a role's health check asks: the same check is its Kubernetes readiness probe and its
/// docker-compose health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Health {
    /// GET `path` on the port named `port` answers.
    Http {
        port: &'static str,
        path: &'static str,
    },
    /// The port named `port` accepts connections.
    Tcp { port: &'static str },
    /// The daemon's `/json/` on the port named `port` shows the state the launcher's `health`
    /// check `check` asks for: `alive` (a master that is ALIVE, neither recovering nor standing
    /// by) or `registered` (a worker a master accepted).
    State {
        port: &'static str,
        check: &'static str,
    },
}

impl Health {
    /// The port the check asks, by the role's name for it.
    pub(crate) fn port(self) -> &'static str {
        match self {
            Health::Http { port, .. } | Health::Tcp { port } | Health::State { port, .. } => port,
        }
    }

    /// The launcher's `health` arguments for this check on port `number`: the docker-compose
    /// health check, and the probe where the kubelet cannot read a body.
    pub(crate) fn launcher_args(self, number: u16) -> Vec<String> {
        let mut args = vec!["health".to_string(), number.to_string()];
        match self {
            Health::Http { path, .. } if path == DAEMON_HEALTH_PATH => {}
            Health::Http { path, .. } => args.push(path.into()),
            Health::Tcp { .. } => args.push("tcp".into()),
            Health::State { check, .. } => args.push(check.into()),
        }
        args
    }
}

/// The path a daemon's UI answers with its state as JSON; the launcher's `health` role asks it
/// when given no path.
pub(crate) const DAEMON_HEALTH_PATH: &str = "/json/";

pub(crate) use crate::spark::ports::{BLOCK_MANAGER_PORT, DRIVER_PORT, DRIVER_UI_PORT};
/// The driver's container in a job's pod, whose log and exit code are the run's.
pub const DRIVER_CONTAINER: &str = "driver";
/// The names of the driver ports only its executors dial: never published.
pub(crate) const DRIVER_INTERNAL_PORTS: [&str; 2] = ["driver", "blockmanager"];

impl Component {
    /// Every role, in apply order: the master before the workers that dial it.
    pub const ALL: [Component; 5] = [
        Component::Master,
        Component::Worker,
        Component::History,
        Component::Connect,
        Component::Job,
    ];

    /// The label value, as the templates and `kubectl get -l` see it.
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Master => "master",
            Component::Worker => "worker",
            Component::History => "history",
            Component::Connect => "connect",
            Component::Job => "job",
        }
    }

    /// The role a `component` label names, if it is one of these.
    pub fn parse(label: &str) -> Option<Component> {
        Component::ALL.into_iter().find(|c| c.as_str() == label)
    }

    /// The name of the role's workload and Service: `<instance>-<role>`.
    pub fn object_name(self, instance: &str) -> String {
        format!("{instance}-{}", self.as_str())
    }

    /// The labels that select the role's pods.
    pub(crate) fn selector(self, instance: &str) -> BTreeMap<String, String> {
        labels::selector(instance, self.as_str())
    }

    /// The same selector as a `labelSelector` query.
    #[cfg(feature = "kube")]
    pub(crate) fn selector_query(self, instance: &str) -> String {
        labels::selector_query(&self.selector(instance))
    }

    /// The role's container ports, under the names its probes and Service refer to.
    pub(crate) fn ports(self, spec: &ClusterSpec) -> Vec<Port> {
        match self {
            Component::Master => Port::daemon(&spec.master.ports),
            Component::Worker => Port::daemon(&spec.workers.ports),
            Component::History => vec![Port::new("http", spec.history.port)],
            Component::Connect => {
                let mut ports = vec![Port::new("grpc", spec.connect.port)];
                ports.extend(Component::Job.ports(spec));
                ports
            }
            Component::Job => vec![
                Port::new(DRIVER_INTERNAL_PORTS[0], DRIVER_PORT),
                Port::new(DRIVER_INTERNAL_PORTS[1], BLOCK_MANAGER_PORT),
                Port::new("http", DRIVER_UI_PORT),
            ],
        }
    }

    /// The ports its Service offers clients: the container's, less the driver's own ports that
    /// only its executors dial (pod to pod).
    pub(crate) fn service_ports(self, spec: &ClusterSpec) -> Vec<Port> {
        let mut ports = self.ports(spec);
        ports.retain(|p| !DRIVER_INTERNAL_PORTS.contains(&p.name.as_str()));
        ports
    }

    /// The port of the role's web UI in its pod.
    #[cfg(feature = "kube")]
    pub(crate) fn ui_port(self, spec: &ClusterSpec) -> u16 {
        match self {
            Component::Master => spec.master.ports.http,
            Component::Worker => spec.workers.ports.http,
            Component::History => spec.history.port,
            Component::Connect | Component::Job => DRIVER_UI_PORT,
        }
    }

    /// Where the role's Prometheus text is, on its `http` port: the first path is the one the
    /// `prometheus.io/path` annotation names. A driver's covers its executors too. With the
    /// trailing `/`: Spark's UI answers the path without it with a redirect.
    pub(crate) fn metrics_paths(self) -> &'static [&'static str] {
        match self {
            Component::Master => &[
                "/metrics/master/prometheus/",
                "/metrics/applications/prometheus/",
            ],
            Component::Worker => &["/metrics/prometheus/"],
            Component::Connect | Component::Job => {
                &["/metrics/prometheus/", "/metrics/executors/prometheus/"]
            }
            Component::History => &[],
        }
    }

    /// When the role is ready: the master is ALIVE (its Service then routes workers and drivers
    /// to it), a worker is registered with a master, the history server answers its REST API,
    /// the Connect server accepts clients. A driver has no check: its Job's state says it all.
    pub(crate) fn health(self) -> Option<Health> {
        match self {
            Component::Master => Some(Health::State {
                port: "http",
                check: "alive",
            }),
            Component::Worker => Some(Health::State {
                port: "http",
                check: "registered",
            }),
            Component::History => Some(Health::Http {
                port: "http",
                path: "/api/v1/version",
            }),
            Component::Connect => Some(Health::Tcp { port: "grpc" }),
            Component::Job => None,
        }
    }

    /// The port that must accept connections while the role is alive; a driver has none.
    pub(crate) fn liveness_port(self) -> Option<&'static str> {
        match self {
            Component::Master | Component::Worker => Some("rpc"),
            Component::History => Some("http"),
            Component::Connect => Some("grpc"),
            Component::Job => None,
        }
    }
}

/// A named container port, as probes and Services refer to it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Port {
    pub name: String,
    pub port: u16,
}

impl Port {
    pub(crate) fn new(name: &str, port: u16) -> Port {
        Port {
            name: name.to_string(),
            port,
        }
    }

    /// A daemon's ports under the names probes and Services refer to; `rpc` first, then `http`.
    pub(crate) fn daemon(ports: &Ports) -> Vec<Port> {
        vec![Port::new("rpc", ports.rpc), Port::new("http", ports.http)]
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_parses_back_from_its_label() {
        for c in Component::ALL {
            assert_eq!(Component::parse(c.as_str()), Some(c));
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::json!(c.as_str())
            );
        }
        assert_eq!(Component::parse("config"), None);
        assert_eq!(Component::Master.object_name("spark"), "spark-master");
    }
}
