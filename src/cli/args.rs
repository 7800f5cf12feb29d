//! The flags every command shares, turned into the library's option structs.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

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
    /// Print Secret data instead of masking it
    #[arg(long)]
    pub show_secrets: bool,
}

/// Values, templates and the cluster to talk to.
#[derive(Debug, Args)]
pub struct KubeArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Namespace of every object (overrides the `namespace` value)
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the pod's service account)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use instead of the current one
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Use the templates in this folder instead of the built-in ones of the same name
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
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
        }
    }
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub kube: KubeArgs,
    /// Take over fields that another field manager owns
    #[arg(long)]
    pub force_conflicts: bool,
    /// Also prune PersistentVolumeClaims that are no longer rendered (deletes their data)
    #[arg(long)]
    pub prune_pvcs: bool,
    /// Show what would change and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not wait for the rollouts and the Spark master
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait, e.g. 90s, 10m
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub kube: KubeArgs,
    /// Print Secret data instead of masking it
    #[arg(long)]
    pub show_secrets: bool,
    /// Output: a unified diff, or JSON for CI
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    pub output: DiffFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub kube: KubeArgs,
    /// Also delete the PersistentVolumeClaims (and so their data)
    #[arg(long)]
    pub purge: bool,
}

/// `90`, `90s`, `10m`, `1h`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: expected e.g. 90s, 10m or 1h"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => {
            return Err(format!(
                "invalid duration {text:?}: expected e.g. 90s, 10m or 1h"
            ));
        }
    };
    Ok(Duration::from_secs(seconds))
}

#[derive(Debug, Args)]
pub struct ComposeArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Write the compose file here instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
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
