//! `sparkup logs`: the logs of a role's pods, a job's newest run or one run, each line after
//! its pod's short name; `-f` follows them, and pods that appear later too.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::args::{KubeArgs, parse_duration};
use crate::kube::{self, ApiServer, LogOptions, LogSource};
use crate::render::model::Component;
use crate::values::Cluster;

#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    #[command(flatten)]
    pub(crate) kube: KubeArgs,
    /// master, worker, history, connect, `job NAME` (its newest run), or a run's name (its
    /// Job's); default: every pod of the instance
    #[arg(value_name = "WHAT", num_args = 0..=2)]
    pub(crate) what: Vec<String>,
    /// Follow the logs, and the pods that appear later, until interrupted (a run's: until it
    /// ends)
    #[arg(long, short = 'f')]
    pub(crate) follow: bool,
    /// Only lines newer than this, e.g. 10m, 1h
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) since: Option<Duration>,
    /// Only the last N lines of each container
    #[arg(long, value_name = "N")]
    pub(crate) tail: Option<u64>,
    /// The log of each container before its last restart
    #[arg(long, conflicts_with = "follow")]
    pub(crate) previous: bool,
    /// Each line with the kubelet's timestamp
    #[arg(long)]
    pub(crate) timestamps: bool,
    /// A run's extra workers too
    #[arg(long)]
    pub(crate) workers: bool,
}

impl LogsArgs {
    /// Whose logs the words name.
    pub(crate) fn source(&self) -> anyhow::Result<LogSource> {
        let words: Vec<&str> = self.what.iter().map(String::as_str).collect();
        Ok(match words.as_slice() {
            [] => LogSource::Instance,
            ["job"] => anyhow::bail!("logs job needs the job's name: sparkup logs job NAME"),
            ["job", name] => LogSource::Job(name.to_string()),
            [role] => match Component::parse(role) {
                Some(c) if c != Component::Job => LogSource::Role(c),
                _ => LogSource::Run(role.to_string()),
            },
            _ => anyhow::bail!(
                "unexpected {:?}: expected master, worker, history, connect, job NAME or a run's \
                 name",
                words.join(" ")
            ),
        })
    }
}

pub(super) async fn logs_command(
    api: &ApiServer,
    cluster: &Cluster,
    args: &LogsArgs,
) -> anyhow::Result<ExitCode> {
    let source = args.source()?;
    let opts = LogOptions {
        follow: args.follow,
        since: args.since,
        tail: args.tail,
        previous: args.previous,
        timestamps: args.timestamps,
        workers: args.workers,
        ..Default::default()
    };
    let mut out = std::io::stdout();
    let mut note = |text: &str| eprintln!("{text}");
    kube::logs(api, &cluster.spec, &source, &opts, &mut out, &mut note).await?;
    Ok(ExitCode::SUCCESS)
}
