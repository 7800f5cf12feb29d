//! A UI on localhost: connections to a local port go through the API server to a port of one of
//! the instance's ready pods, as `kubectl port-forward` does, without kubectl.

use std::future::Future;
use std::net::SocketAddr;

use serde_json::Value;
use tokio::net::TcpListener;

use super::client::{ApiServer, KubeError};
use super::pods::{pod_ready, terminating};
use crate::json::str_at;
use crate::render::kinds;
use crate::render::model::Component;
use crate::values::Cluster;

/// Which UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ui {
    Master,
    History,
    Connect,
}

impl Ui {
    fn component(self) -> Component {
        match self {
            Ui::Master => Component::Master,
            Ui::History => Component::History,
            Ui::Connect => Component::Connect,
        }
    }

    /// The UI's port in its pod, or why this instance has none.
    pub fn port(self, cluster: &Cluster) -> Result<u16, KubeError> {
        let spec = &cluster.spec;
        let enabled = match self {
            Ui::Master => true,
            Ui::History => spec.history.enabled,
            Ui::Connect => spec.connect.enabled,
        };
        let component = self.component();
        match enabled {
            true => Ok(component.ui_port(spec)),
            false => Err(KubeError::NotReady(format!(
                "the instance has no {component} server: set {component}.enabled=true"
            ))),
        }
    }
}

/// A forward that is listening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarding {
    pub pod: String,
    pub port: u16,
    pub local: SocketAddr,
}

/// Finds a ready pod of the UI's component, listens on `127.0.0.1:local_port` (0: any free
/// port), calls `listening`, and forwards every connection until `stop` resolves.
pub async fn forward(
    api: &ApiServer,
    cluster: &Cluster,
    ui: Ui,
    local_port: u16,
    listening: impl FnOnce(&Forwarding),
    stop: impl Future<Output = ()>,
) -> Result<(), KubeError> {
    let spec = &cluster.spec;
    let port = ui.port(cluster)?;
    let selector = ui.component().selector_query(&spec.name);
    let pods = api
        .list(kinds::pod_kind(), &spec.namespace, &selector)
        .await?;
    let pod = ready_pod(&pods).ok_or_else(|| {
        KubeError::NotReady(format!(
            "no ready {} pod of {} in namespace {} ({} pod(s) found): see `sparkup status`",
            ui.component(),
            spec.name,
            spec.namespace,
            pods.len()
        ))
    })?;
    let listener = TcpListener::bind(("127.0.0.1", local_port))
        .await
        .map_err(|e| {
            KubeError::NotReady(format!("cannot listen on 127.0.0.1:{local_port}: {e}"))
        })?;
    let local = listener
        .local_addr()
        .map_err(|e| KubeError::NotReady(e.to_string()))?;
    let forwarding = Forwarding {
        pod: pod.clone(),
        port,
        local,
    };
    listening(&forwarding);
    let serve = async {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                continue;
            };
            let mut remote = api.port_forward(&spec.namespace, &pod, port).await?;
            tokio::spawn(async move {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut remote).await;
            });
        }
    };
    tokio::select! {
        result = serve => result,
        _ = stop => Ok(()),
    }
}

/// A ready pod that is not going away, by name.
fn ready_pod(pods: &[Value]) -> Option<String> {
    let mut ready: Vec<&str> = pods
        .iter()
        .filter(|p| pod_ready(p) && !terminating(p))
        .filter_map(|p| str_at(p, "/metadata/name"))
        .collect();
    ready.sort_unstable();
    ready.first().map(|n| n.to_string())
}
