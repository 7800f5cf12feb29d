//! The flags every command shares, turned into the library's option structs.

use std::path::PathBuf;

use clap::Args;

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
