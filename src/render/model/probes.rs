//! Kubernetes probes from a role's [`Health`]: ready while the check passes, alive while its
//! port accepts connections.

use k8s_openapi::api::core::v1::{HTTPGetAction, Probe, TCPSocketAction};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::component::{Component, Health};

/// The readiness and liveness probes of a role, with the role's port names.
pub(crate) fn of(component: Component) -> (Option<Probe>, Option<Probe>) {
    (
        component.health().map(readiness),
        component.liveness_port().map(tcp_liveness),
    )
}

/// Ready while the check passes; checked every 10 s, unready after three failures. The UI can
/// be slow under load, so readiness asks it; liveness asks only the port workers and drivers
/// need.
pub(crate) fn readiness(health: Health) -> Probe {
    let check = match health {
        Health::Http { port, path } => Probe {
            http_get: Some(HTTPGetAction {
                path: Some(path.into()),
                port: IntOrString::String(port.into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        Health::Tcp { port } => Probe {
            tcp_socket: Some(tcp(port)),
            ..Default::default()
        },
    };
    Probe {
        period_seconds: Some(10),
        timeout_seconds: Some(5),
        failure_threshold: Some(3),
        ..check
    }
}

fn tcp_liveness(port: &str) -> Probe {
    Probe {
        tcp_socket: Some(tcp(port)),
        initial_delay_seconds: Some(30),
        period_seconds: Some(20),
        timeout_seconds: Some(5),
        failure_threshold: Some(6),
        ..Default::default()
    }
}

fn tcp(port: &str) -> TCPSocketAction {
    TCPSocketAction {
        port: IntOrString::String(port.into()),
        host: None,
    }
}

/// The probe with its port named `from` renamed to `to`: a job's extra workers have ports of
/// their own names in the driver's pod.
pub(crate) fn renamed(probe: Option<Probe>, from: &str, to: &str) -> Option<Probe> {
    probe.map(|mut p| {
        for port in [
            p.http_get.as_mut().map(|h| &mut h.port),
            p.tcp_socket.as_mut().map(|t| &mut t.port),
        ]
        .into_iter()
        .flatten()
        {
            if *port == IntOrString::String(from.into()) {
                *port = IntOrString::String(to.into());
            }
        }
        p
    })
}
