//! Validated values + templates -> rendered YAML text, with no I/O beyond reading templates.
//!
//! Templates produce YAML, and a text template is one stray newline away from YAML injection.
//! So every `{{ ... }}` is written as JSON (a JSON scalar, list or map is valid YAML flow
//! syntax), with the characters YAML treats differently from JSON escaped as well; undefined
//! variables are errors; and values are data, never templates. A value therefore cannot add a
//! key, an object or a line: `tests/suite/injection.rs` proves it for every string field.

use std::path::Path;

use super::RenderOptions;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Value;
use minijinja::{Environment, Error as JinjaError, ErrorKind, Output, State, UndefinedBehavior};

use super::model::Context;
use crate::error::{Error, error_chain};
use crate::values::Cluster;

/// Templates shipped in the binary. Names starting with `_` are included by others, not rendered.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("config.yaml", include_str!("../../templates/config.yaml")),
    ("storage.yaml", include_str!("../../templates/storage.yaml")),
    (
        "services.yaml",
        include_str!("../../templates/services.yaml"),
    ),
    (
        "workloads.yaml",
        include_str!("../../templates/workloads.yaml"),
    ),
    ("jobs.yaml", include_str!("../../templates/jobs.yaml")),
    ("rbac.yaml", include_str!("../../templates/rbac.yaml")),
    ("metrics.yaml", include_str!("../../templates/metrics.yaml")),
    ("ingress.yaml", include_str!("../../templates/ingress.yaml")),
    (
        "network-policy.yaml",
        include_str!("../../templates/network-policy.yaml"),
    ),
    ("scaling.yaml", include_str!("../../templates/scaling.yaml")),
    (
        "dependencies.yaml",
        include_str!("../../templates/dependencies.yaml"),
    ),
    ("_pod.yaml", include_str!("../../templates/_pod.yaml")),
    ("_job.yaml", include_str!("../../templates/_job.yaml")),
];

/// One run of a job, rendered for `sparkup submit`, not with the cluster.
pub(crate) const JOB_TEMPLATE: (&str, &str) =
    ("job.yaml", include_str!("../../templates/job.yaml"));

/// The docker-compose template; `--templates DIR` replaces it with `DIR/compose.yml`.
pub(crate) const COMPOSE_TEMPLATE: (&str, &str) =
    ("compose.yml", include_str!("../../templates/compose.yml"));

/// Bounds the work one render may do, so a looping user template fails instead of hanging.
const FUEL: u64 = 5_000_000;

/// The text one template rendered, possibly several YAML documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RenderedTemplate {
    pub(crate) name: String,
    pub(crate) text: String,
}

pub(crate) fn render(
    cluster: &Cluster,
    opts: &RenderOptions,
) -> Result<Vec<RenderedTemplate>, Error> {
    let sources = template_sources(opts.templates.as_deref())?;
    let env = environment(&sources)?;
    let mut context = Context::new(cluster);
    context.escape_for_kubelet();
    let context = Value::from(minijinja::value::Serde(context));
    let mut out = Vec::new();
    let cluster_templates = sources
        .iter()
        .filter(|(name, _)| !name.starts_with('_') && *name != JOB_TEMPLATE.0);
    for (name, _) in cluster_templates {
        let text = env
            .get_template(name)
            .and_then(|t| t.render(&context))
            .map_err(|e| template_error(name, &e))?;
        out.push(RenderedTemplate {
            name: name.clone(),
            text,
        });
    }
    Ok(out)
}

/// Renders one run of a job (`job.yaml`) with the cluster's context and `job`.
pub(crate) fn render_job(
    context: &impl serde::Serialize,
    opts: &RenderOptions,
) -> Result<RenderedTemplate, Error> {
    let mut sources = template_sources(opts.templates.as_deref())?;
    if !sources.iter().any(|(n, _)| n == JOB_TEMPLATE.0) {
        sources.push((JOB_TEMPLATE.0.to_string(), JOB_TEMPLATE.1.to_string()));
    }
    let env = environment(&sources)?;
    let context = Value::from(minijinja::value::Serde(context));
    let name = JOB_TEMPLATE.0;
    let text = env
        .get_template(name)
        .and_then(|t| t.render(&context))
        .map_err(|e| template_error(name, &e))?;
    Ok(RenderedTemplate {
        name: name.to_string(),
        text,
    })
}

/// Renders the docker-compose file from its context (YAML text, not yet checked).
pub(crate) fn render_compose(
    context: &impl serde::Serialize,
    opts: &RenderOptions,
) -> Result<String, Error> {
    let (name, builtin) = COMPOSE_TEMPLATE;
    let text = match &opts.templates {
        Some(dir) if dir.join(name).is_file() => std::fs::read_to_string(dir.join(name))
            .map_err(|e| Error::source(format!("template {}", dir.join(name).display()), e))?,
        _ => builtin.to_string(),
    };
    let env = environment(&[(name.to_string(), text)])?;
    let context = Value::from(minijinja::value::Serde(context));
    env.get_template(name)
        .and_then(|t| t.render(&context))
        .map_err(|e| template_error(name, &e))
}

/// The built-in templates, with a user's folder overriding and extending them, sorted by name.
fn template_sources(dir: Option<&Path>) -> Result<Vec<(String, String)>, Error> {
    let mut sources: Vec<(String, String)> = TEMPLATES
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    if let Some(dir) = dir {
        let origin = || format!("templates folder {}", dir.display());
        let entries = std::fs::read_dir(dir).map_err(|e| Error::source(origin(), e))?;
        for entry in entries {
            let path = entry.map_err(|e| Error::source(origin(), e))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !name.ends_with(".yaml") || !path.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Error::source(format!("template {}", path.display()), e))?;
            match sources.iter_mut().find(|(n, _)| n == name) {
                Some(slot) => slot.1 = text,
                None => sources.push((name.to_string(), text)),
            }
        }
    }
    sources.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(sources)
}

fn environment(sources: &[(String, String)]) -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_formatter(yaml_safe_formatter);
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
        .expect("static syntax config");
    env.set_syntax(syntax);
    for (name, text) in sources {
        env.add_template_owned(name.clone(), text.clone())
            .map_err(|e| template_error(name, &e))?;
    }
    Ok(env)
}

/// Writes every interpolated value as JSON. Markup from macros and includes passes through.
fn yaml_safe_formatter(
    out: &mut Output,
    _state: &mut State,
    value: &Value,
) -> Result<(), JinjaError> {
    if value.is_undefined() {
        return Err(JinjaError::new(
            ErrorKind::UndefinedError,
            "an undefined value cannot be written",
        ));
    }
    if value.is_safe() {
        return out
            .write_str(value.as_str().unwrap_or_default())
            .map_err(JinjaError::from);
    }
    let json = serde_json::to_string(value).map_err(|e| {
        JinjaError::new(
            ErrorKind::BadSerialization,
            "value cannot be written as JSON",
        )
        .with_source(e)
    })?;
    out.write_str(&escape_for_yaml(&json))
        .map_err(JinjaError::from)
}

/// JSON leaves some characters raw that YAML parsers treat as line breaks (NEL, LS, PS) or reject
/// (DEL, C1 controls, BOM). They can only occur inside JSON strings, so escaping them there is
/// always correct.
pub(crate) fn escape_for_yaml(json: &str) -> String {
    let needs = |c: char| {
        matches!(
            c,
            '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}'
        )
    };
    if !json.contains(needs) {
        return json.to_owned();
    }
    let mut out = String::with_capacity(json.len() + 12);
    for c in json.chars() {
        if needs(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn template_error(name: &str, e: &JinjaError) -> Error {
    Error::Template {
        name: name.to_owned(),
        detail: error_chain(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_line_breaks_and_controls_are_escaped() {
        assert_eq!(escape_for_yaml("\"a\u{2028}b\""), "\"a\\u2028b\"");
        assert_eq!(escape_for_yaml("\"\u{7f}\u{85}\""), "\"\\u007f\\u0085\"");
        assert_eq!(escape_for_yaml("\"plain\""), "\"plain\"");
    }

    #[test]
    fn values_are_written_as_json_and_undefined_is_an_error() {
        let sources = vec![
            (
                "t.yaml".to_string(),
                "a: {{ x }}\nb: {{ missing }}".to_string(),
            ),
            (
                "ok.yaml".to_string(),
                "a: {{ x }} {{ n }} {{ none }} {{ t }}".to_string(),
            ),
        ];
        let env = environment(&sources).unwrap();
        let ctx = minijinja::context! { x => "1\nkind: Secret", n => 3, none => (), t => true };
        let err = env
            .get_template("t.yaml")
            .unwrap()
            .render(&ctx)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UndefinedError);
        let text = env.get_template("ok.yaml").unwrap().render(&ctx).unwrap();
        assert_eq!(text, r#"a: "1\nkind: Secret" 3 null true"#);
    }

    #[test]
    fn a_looping_template_runs_out_of_fuel() {
        let sources = vec![(
            "loop.yaml".to_string(),
            "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"
                .to_string(),
        )];
        let env = environment(&sources).unwrap();
        let err = env
            .get_template("loop.yaml")
            .unwrap()
            .render(())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutOfFuel);
    }
}
