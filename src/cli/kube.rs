//! What every command that talks to a cluster shares: the flags that say which cluster, the
//! durations they take, and connecting before an operation runs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use super::apply::{ApplyArgs, apply_command};
use super::args::ValuesArgs;
use super::delete::delete_command;
use super::diff::{DiffArgs, diff_command};
use super::render::build_objects;
use super::status::status_command;
use crate::kube::{self, ConnectOptions};
/// `apply`: everything was applied, but the cluster was not up within `--timeout`.
pub(super) const EXIT_TIMED_OUT: u8 = 3;

/// Values, templates and the cluster to talk to.
#[derive(Debug, Args)]
pub(crate) struct KubeArgs {
    #[command(flatten)]
    pub(crate) values: ValuesArgs,
    /// Namespace of every object (overrides the `namespace` value)
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    pub(crate) namespace: Option<String>,
    /// Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the pod's service account)
    #[arg(long, value_name = "FILE")]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use instead of the current one
    #[arg(long, value_name = "NAME")]
    pub(crate) context: Option<String>,
    /// Use the templates in this folder instead of the built-in ones of the same name
    #[arg(long, value_name = "DIR")]
    pub(crate) templates: Option<PathBuf>,
    /// How long one request to the API server may take, e.g. 5s, 1m
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_request_timeout)]
    pub(crate) request_timeout: Duration,
}

impl KubeArgs {
    /// The values with `-n` applied last, as a `--set` would be.
    pub(super) fn values(&self) -> ValuesArgs {
        let mut values = self.values.clone();
        if let Some(ns) = &self.namespace {
            values.sets.push(format!("namespace={ns}"));
        }
        values
    }

    pub(super) fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            request_timeout: self.request_timeout,
        }
    }
}

/// `90`, `90s`, `10m`, `1h`: how long `apply` waits.
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    /// A week: longer is a mistake, not a wait.
    const MAX: Duration = Duration::from_secs(7 * 24 * 3600);
    parse_bounded(
        text,
        Duration::ZERO,
        MAX,
        "e.g. 90s, 10m or 1h, at most 168h",
    )
}

/// `500ms`, `5s`, `1m`: how long one request may take; zero would fail every request.
fn parse_request_timeout(text: &str) -> Result<Duration, String> {
    const MAX: Duration = Duration::from_secs(3600);
    let min = Duration::from_millis(1);
    parse_bounded(
        text,
        min,
        MAX,
        "e.g. 500ms, 5s or 1m, more than 0 and at most 1h",
    )
}

fn parse_bounded(text: &str, min: Duration, max: Duration, hint: &str) -> Result<Duration, String> {
    let expected = || format!("invalid duration {text:?}: expected {hint}");
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number.parse().map_err(|_| expected())?;
    let millis = match unit {
        "ms" => 1,
        "" | "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(expected()),
    };
    match n.checked_mul(millis).map(Duration::from_millis) {
        Some(d) if d >= min && d <= max => Ok(d),
        _ => Err(expected()),
    }
}

/// What a cluster command does once it is connected.
pub(super) enum Operation<'a> {
    Apply(&'a ApplyArgs),
    Diff(&'a DiffArgs),
    Status,
    Delete { purge: bool },
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
            Operation::Apply(a) => apply_command(&api, &cluster, &objects, a).await,
            Operation::Diff(d) => diff_command(&api, &cluster, &objects, d).await,
            Operation::Status => status_command(&api, &cluster, &objects).await,
            Operation::Delete { purge } => delete_command(&api, &cluster, &objects, purge).await,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `apply --timeout 18446744073709551615` used to panic after the objects were applied.
    #[test]
    fn durations_are_bounded_and_never_overflow() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(
            parse_duration("168h"),
            Ok(Duration::from_secs(7 * 24 * 3600))
        );
        for bad in [
            "18446744073709551615",
            "18446744073709551615h",
            "169h",
            "1d",
            "",
            "m",
            "-1",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_request_timeout_is_more_than_zero_and_at_most_an_hour() {
        assert_eq!(
            parse_request_timeout("250ms"),
            Ok(Duration::from_millis(250))
        );
        assert_eq!(parse_request_timeout("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_request_timeout("1h"), Ok(Duration::from_secs(3600)));
        for bad in ["0", "0ms", "61m", "2h", "1.5s", "18446744073709551615ms"] {
            let err = parse_request_timeout(bad).unwrap_err();
            assert!(err.contains("more than 0 and at most 1h"), "{bad:?}: {err}");
        }
    }
}
