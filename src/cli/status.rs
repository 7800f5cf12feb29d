//! `sparkup status`: the instance's objects, Spark's own view and how to reach the UIs, as a
//! table; exit 1 when something is not healthy.

use std::fmt;
use std::process::ExitCode;

use clap::Args;

use super::args::KubeArgs;
use super::print::print;
use crate::kube::{self, Access, ApiServer, StatusReport, UiAddress};
use crate::render::Object;
use crate::render::model::Component;
use crate::values::Cluster;

/// The cluster is not healthy.
const EXIT_UNHEALTHY: u8 = 1;

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub(crate) kube: KubeArgs,
}

pub(super) async fn status_command(
    api: &ApiServer,
    cluster: &Cluster,
    objects: &[Object],
) -> anyhow::Result<ExitCode> {
    let report = kube::status(api, cluster, objects).await?;
    print(&report.to_string())?;
    Ok(if report.healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNHEALTHY)
    })
}

/// The report as the table `status` prints.
impl fmt::Display for StatusReport {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .rows
            .iter()
            .chain(&self.runs)
            .map(|r| r.object.len())
            .max()
            .unwrap_or(6)
            .max(6);
        writeln!(out, "{:width$}  STATE", "OBJECT")?;
        for row in &self.rows {
            let mark = if row.healthy { "" } else { "  (not healthy)" };
            writeln!(out, "{:width$}  {}{mark}", row.object, row.state)?;
        }
        writeln!(out, "\nSPARK")?;
        match &self.spark {
            Ok(rows) => {
                for (key, value) in rows {
                    writeln!(out, "{key:width$}  {value}")?;
                }
            }
            Err(e) => writeln!(out, "{:width$}  {e}", Component::Master.as_str())?,
        }
        if !self.runs.is_empty() {
            writeln!(out, "\nRUNS")?;
            for row in &self.runs {
                writeln!(out, "{:width$}  {}", row.object, row.state)?;
            }
        }
        writeln!(out, "\nUI: {}", self.ui)?;
        for access in &self.access {
            writeln!(out, "{access}")?;
        }
        let health = if self.healthy {
            "healthy"
        } else {
            "not healthy"
        };
        writeln!(out, "{health}")
    }
}

impl fmt::Display for UiAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UiAddress::Ingress { url, name } => write!(f, "{url}/ (Ingress {name})"),
            UiAddress::LoadBalancer {
                scheme,
                address,
                port,
            } => {
                write!(f, "{scheme}://{address}:{port}/ (LoadBalancer)")
            }
            UiAddress::NodePort { scheme, port } => {
                write!(f, "{scheme}://<any node's address>:{port}/ (NodePort)")
            }
            UiAddress::PortForward {
                scheme,
                namespace,
                service,
                port,
            } => write!(
                f,
                "kubectl port-forward -n {namespace} svc/{service} {port}:{port}, then open \
                 {scheme}://localhost:{port}/"
            ),
        }
    }
}

/// `history: kubectl port-forward ...`, with what to open or run once it listens.
impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Access {
            component,
            scheme,
            namespace,
            service,
            port,
        } = self;
        write!(
            f,
            "{component}: kubectl port-forward -n {namespace} svc/{service} {port}:{port}, then "
        )?;
        match component {
            Component::Connect => write!(f, "pyspark --remote sc://localhost:{port}"),
            _ => write!(f, "open {scheme}://localhost:{port}/"),
        }
    }
}
