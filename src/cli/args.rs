//! The flags every command shares, turned into the library's option structs.

use std::path::PathBuf;
#[cfg(feature = "kube")]
use std::time::Duration;

use clap::Args;

#[cfg(feature = "kube")]
use crate::kube::ConnectOptions;
use crate::render::Format;
use crate::values::ValuesOptions;

/// Where the values come from; shared by every command that builds a cluster.
#[derive(Debug, Args, Clone)]
pub struct ValuesArgs {
    /// Built-in profile to start from (see `sparkup profiles`)
    #[arg(long, short = 'p', default_value = "default", value_name = "NAME")]
    pub profile: String,
    /// Values file merged over the profile; repeatable, later files win; `-` reads stdin
    #[arg(long = "values", short = 'f', value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Override one value, e.g. workers.replicas=3 or sparkConf.spark.executor.memory=2g;
    /// repeatable, applied last; `null` restores the default
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
}

impl ValuesArgs {
    pub fn options(&self) -> ValuesOptions {
        ValuesOptions {
            profile: self.profile.clone(),
            files: self.files.clone(),
            sets: self.sets.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Output format: multi-document YAML or a JSON List
    #[arg(long, short = 'o', value_enum, default_value = "yaml")]
    pub output: Format,
    /// Write one file per object and a kustomization.yaml into this folder instead of stdout
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Use the templates in this folder instead of the built-in ones of the same name
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ComposeArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Write the compose file here instead of stdout (inline configs: docker compose 2.23+)
    #[arg(long, short = 'o', value_name = "FILE", conflicts_with = "output_dir")]
    pub output: Option<PathBuf>,
    /// Write DIR/compose.yaml and the files it mounts (DIR/config/), for any docker-compose
    /// (1.29 too); overwrites those files, removes nothing
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Use DIR/compose.yml instead of the built-in compose template
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValuesCommandArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Output format
    #[arg(long, short = 'o', value_enum, default_value = "yaml")]
    pub output: Format,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Output format
    #[arg(long, short = 'o', value_enum, default_value = "json")]
    pub output: Format,
}

/// `apply`, `submit`: everything was done, but not in time (`--timeout`).
#[cfg(feature = "kube")]
pub(crate) const EXIT_TIMED_OUT: u8 = 3;

/// Values, templates and the cluster to talk to.
#[cfg(feature = "kube")]
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

#[cfg(feature = "kube")]
impl KubeArgs {
    /// The values with `-n` applied last, as a `--set` would be.
    pub(crate) fn values(&self) -> ValuesArgs {
        let mut values = self.values.clone();
        if let Some(ns) = &self.namespace {
            values.sets.push(format!("namespace={ns}"));
        }
        values
    }

    pub(crate) fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            request_timeout: self.request_timeout,
        }
    }
}

/// `90`, `90s`, `10m`, `1h`: how long `apply` waits.
#[cfg(feature = "kube")]
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
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
#[cfg(feature = "kube")]
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

#[cfg(feature = "kube")]
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

#[cfg(all(test, feature = "kube"))]
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
