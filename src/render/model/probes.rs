//! Kubernetes probes from a role's [`Health`]: started and ready while the check passes, alive
//! while its port accepts connections.
//!
//! The startup probe asks the readiness check every second, so a daemon is ready (and the
//! master's Service routes to it) about a second after it is; the kubelet runs the readiness
//! probe at once when the startup probe passes, then every 10 s. Liveness waits for the startup
//! probe, so a slow start is never killed and needs no initial delay.

use k8s_openapi::api::core::v1::{ExecAction, HTTPGetAction, Probe, TCPSocketAction};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::component::{Component, Health, Port};
use super::pod::launcher_command;

/// A container's probes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Probes {
    pub startup: Option<Probe>,
    pub readiness: Option<Probe>,
    pub liveness: Option<Probe>,
}

/// How long a role may take to pass its check the first time: a worker waits for its master
/// first (the launcher holds it until the master accepts), so it gets longer.
fn startup_seconds(component: Component) -> i32 {
    match component {
        Component::Worker => 600,
        _ => 300,
    }
}

/// The probes of a role's container; `port` gives the container's port for the role's name of
/// it (a job's extra workers have ports of their own names in the driver's pod).
pub(crate) fn of(component: Component, port: impl Fn(&str) -> Option<Port>) -> Probes {
    let check = component.health().and_then(|health| {
        let port = port(health.port())?;
        Some(check(health, &port))
    });
    Probes {
        startup: check.clone().map(|check| Probe {
            period_seconds: Some(1),
            timeout_seconds: Some(5),
            failure_threshold: Some(startup_seconds(component)),
            ..check
        }),
        readiness: check.map(|check| Probe {
            period_seconds: Some(10),
            timeout_seconds: Some(5),
            failure_threshold: Some(3),
            ..check
        }),
        liveness: component
            .liveness_port()
            .and_then(&port)
            .map(|port| tcp_liveness(&port)),
    }
}

/// The probe's action for a check. The UI can be slow under load, so readiness asks it; the
/// kubelet reads no body, so a check of the daemon's state runs the launcher's `health`.
fn check(health: Health, port: &Port) -> Probe {
    match health {
        Health::Http { path, .. } => Probe {
            http_get: Some(HTTPGetAction {
                path: Some(path.into()),
                port: IntOrString::String(port.name.clone()),
                ..Default::default()
            }),
            ..Default::default()
        },
        Health::Tcp { .. } => Probe {
            tcp_socket: Some(tcp(port)),
            ..Default::default()
        },
        Health::State { .. } => Probe {
            exec: Some(ExecAction {
                command: Some(
                    launcher_command()
                        .into_iter()
                        .chain(health.launcher_args(port.port))
                        .collect(),
                ),
            }),
            ..Default::default()
        },
    }
}

/// Alive while the port workers and drivers need accepts connections.
fn tcp_liveness(port: &Port) -> Probe {
    Probe {
        tcp_socket: Some(tcp(port)),
        period_seconds: Some(20),
        timeout_seconds: Some(5),
        failure_threshold: Some(6),
        ..Default::default()
    }
}

fn tcp(port: &Port) -> TCPSocketAction {
    TCPSocketAction {
        port: IntOrString::String(port.name.clone()),
        host: None,
    }
}

/// The port of `ports` named `name`, for [`of`].
pub(crate) fn named(ports: &[Port]) -> impl Fn(&str) -> Option<Port> + '_ {
    |name| ports.iter().find(|p| p.name == name).cloned()
}
