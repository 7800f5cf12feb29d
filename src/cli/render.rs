//! The commands that need no cluster: render, compose, values, schema.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use super::args::{ComposeArgs, RenderArgs, SchemaArgs, ValuesArgs, ValuesCommandArgs};
use super::print::print;
use crate::render::{self, Format, Object, RenderOptions};
use crate::values::{self, Cluster};

/// Values, render and manifests: what every command that shows or applies objects starts with.
pub(super) fn build_objects(
    values: &ValuesArgs,
    templates: Option<PathBuf>,
) -> anyhow::Result<(Cluster, Vec<Object>)> {
    let cluster = values::load(&values.options())?;
    let objects = render::render(&cluster, &RenderOptions { templates })?;
    Ok((cluster, objects))
}

pub(super) fn render_command(args: &RenderArgs) -> anyhow::Result<ExitCode> {
    let (_, objects) = build_objects(&args.values, args.templates.clone())?;
    match &args.output_dir {
        Some(dir) => {
            let files = render::write_dir(dir, &objects, args.output)?;
            eprintln!(
                "wrote {} objects and kustomization.yaml to {}",
                files.len(),
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        None => print(&render::format_all(&objects, args.output)?),
    }
}

pub(super) fn compose_command(args: &ComposeArgs) -> anyhow::Result<ExitCode> {
    let cluster = values::load(&args.values.options())?;
    let opts = RenderOptions {
        templates: args.templates.clone(),
    };
    if let Some(dir) = &args.output_dir {
        return compose_dir_command(&cluster, &opts, dir);
    }
    let compose = render::compose(&cluster, &opts)?;
    warn(&compose.warnings);
    let text = compose.text;
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        None => print(&text),
    }
}

/// `compose --output-dir`: the folder, and how to start it.
fn compose_dir_command(
    cluster: &Cluster,
    opts: &RenderOptions,
    dir: &Path,
) -> anyhow::Result<ExitCode> {
    let project = render::compose_dir(cluster, opts)?;
    warn(&project.warnings);
    let written = render::write_compose_dir(dir, &project)?;
    eprintln!(
        "wrote {} to {}; start it with: docker-compose -f {} up -d",
        written.join(", "),
        dir.display(),
        dir.join(render::COMPOSE_FILE).display()
    );
    Ok(ExitCode::SUCCESS)
}

fn warn(warnings: &[String]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}

pub(super) fn values_command(args: &ValuesCommandArgs) -> anyhow::Result<ExitCode> {
    let cluster = values::load(&args.values.options())?;
    let value = serde_json::to_value(&cluster.spec).context("serializing values")?;
    let text = match args.output {
        Format::Yaml => render::to_yaml(&value)?,
        Format::Json => serde_json::to_string_pretty(&value)? + "\n",
    };
    print(&text)
}

pub(super) fn schema_command(args: &SchemaArgs) -> anyhow::Result<ExitCode> {
    let schema = values::schema::values_schema();
    let text = match args.output {
        Format::Yaml => render::to_yaml(&schema)?,
        Format::Json => serde_json::to_string_pretty(&schema)? + "\n",
    };
    print(&text)
}
