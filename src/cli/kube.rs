//! Running a command that talks to a cluster: its objects are built first (bad values stop
//! there, before any connection), then it connects and the operation runs.

use std::process::ExitCode;

use anyhow::Context as _;

use super::apply::{ApplyArgs, apply_command};
use super::args::KubeArgs;
use super::delete::delete_command;
use super::diff::{DiffArgs, diff_command};
use super::history::{HistoryArgs, RollbackArgs, history_command, rollback_command};
use super::logs::{LogsArgs, logs_command};
use super::render::build_objects;
use super::status::status_command;
use crate::kube;

/// What a cluster command does once it is connected.
pub(super) enum Operation<'a> {
    Apply(&'a ApplyArgs),
    Diff(&'a DiffArgs),
    Status,
    Delete { purge: bool },
    History(&'a HistoryArgs),
    Rollback(&'a RollbackArgs),
    Logs(&'a LogsArgs),
}

/// Builds the objects first (bad values stop here, before any connection), then connects and
/// runs the operation on a single-threaded runtime.
pub(super) fn run(args: &KubeArgs, operation: Operation) -> anyhow::Result<ExitCode> {
    let (cluster, objects) = build_objects(&args.values(), args.templates.clone())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let api = kube::connect(&args.connect_options()).await?;
        match operation {
            Operation::Apply(a) => apply_command(&api, &cluster, &objects, a, None).await,
            Operation::Diff(d) => diff_command(&api, &cluster, &objects, d).await,
            Operation::Status => status_command(&api, &cluster, &objects).await,
            Operation::Delete { purge } => delete_command(&api, &cluster, &objects, purge).await,
            Operation::History(h) => history_command(&api, &cluster, h).await,
            Operation::Rollback(r) => rollback_command(&api, &cluster, r).await,
            Operation::Logs(l) => logs_command(&api, &cluster, l).await,
        }
    })
}
