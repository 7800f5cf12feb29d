//! `sparkup ui`: a UI of the instance on localhost, through the API server, until Ctrl-C.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

use super::args::KubeArgs;
use crate::kube::{self, Ui};
use crate::values;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UiName {
    /// The master's UI (workers and applications link from it)
    Master,
    /// The history server (`history.enabled`)
    History,
    /// The Spark Connect server's application UI (`connect.enabled`)
    Connect,
}

#[derive(Debug, Args)]
pub struct UiArgs {
    #[command(flatten)]
    pub kube: KubeArgs,
    /// Which UI
    #[arg(value_enum, default_value_t = UiName::Master)]
    pub which: UiName,
    /// Local port on 127.0.0.1 (default: the UI's own port; 0 picks a free one)
    #[arg(long, value_name = "PORT")]
    pub local_port: Option<u16>,
}

pub(super) fn ui_command(args: &UiArgs) -> anyhow::Result<ExitCode> {
    let cluster = values::load(&args.kube.values().options())?;
    let ui = match args.which {
        UiName::Master => Ui::Master,
        UiName::History => Ui::History,
        UiName::Connect => Ui::Connect,
    };
    let local_port = match args.local_port {
        Some(port) => port,
        None => ui.port(&cluster)?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let api = kube::connect(&args.kube.connect_options()).await?;
        let stop = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        // The Connect server's UI is its driver's, which HTTPS covers as well.
        let scheme = cluster.spec.security.tls.ui_scheme();
        let listening = |f: &kube::Forwarding| {
            let mut out = std::io::stdout();
            let _ = writeln!(
                out,
                "{scheme}://{}/ forwards to pod {} port {} (Ctrl-C stops)",
                f.local, f.pod, f.port
            );
            let _ = out.flush();
        };
        kube::forward(&api, &cluster, ui, local_port, listening, stop).await
    })?;
    Ok(ExitCode::SUCCESS)
}
