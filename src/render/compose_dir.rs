//! The compose file as a folder: `compose.yaml` and the files it mounts, which every
//! docker-compose that reads the Compose specification runs as written, Debian's 1.29 included.
//!
//! The single-file form carries the launcher and `spark-defaults.conf` as inline configs
//! (`configs.<name>.content`), which only docker compose 2.23 or newer reads: 1.29 drops a
//! service's `configs` without a word, and refuses the top-level `name`. So here each inline
//! config becomes a file under `config/`, bind-mounted read-only at the config's target by a path
//! relative to `compose.yaml` (the folder can move), and the project takes the folder's name
//! (or `-p`). The files hold no secret (compose still reads the shared secret and `secretConf`
//! values from its own environment), so each is readable by all (0644): the container's user is
//! not the one who wrote them. Writing overwrites the files sparkup writes and nothing else; a
//! file no longer mounted stays, unused, since the folder may hold the user's own (an `.env`).

use std::io::Write as _;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Error, quote};

/// The compose file's name in the folder: the first name `docker compose` and docker-compose
/// 1.28 and later look for.
pub const COMPOSE_FILE: &str = "compose.yaml";
/// The folder, beside `compose.yaml`, of the files the services mount.
const CONFIG_DIR: &str = "config";
/// First line of `compose.yaml`: says where it came from, and that it is rewritten.
const HEADER: &str =
    "# Written by sparkup compose --output-dir; rewritten, with config/, on every run.\n";
/// Readable by the container's user, whoever wrote the file; none of them holds a secret.
const FILE_MODE: u32 = 0o644;

/// A compose project as a folder: `compose.yaml`, the files it mounts, and what compose could
/// not express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeDir {
    /// `compose.yaml`, YAML.
    pub compose: String,
    /// The files `compose.yaml` mounts, by their paths relative to it.
    pub files: Vec<DirFile>,
    /// Values left out or changed, each naming the value and why.
    pub warnings: Vec<String>,
}

/// One file of the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirFile {
    /// Relative to the folder, `config/sparkup.sh`.
    pub path: String,
    pub content: String,
}

impl ComposeDir {
    /// The folder of a compose file's `text`, the `files` it mounts and what was left out.
    pub(crate) fn new(text: &str, files: Vec<DirFile>, warnings: Vec<String>) -> ComposeDir {
        ComposeDir {
            compose: format!("{HEADER}{text}"),
            files,
            warnings,
        }
    }
}

/// Turns every inline config (`content`) into a file under `config/` and each service's use of
/// it into a read-only bind mount at the same target; drops the top-level `name`, which
/// docker-compose 1.29 refuses. Configs of another kind (`file`, `external`) are left as they are.
pub(crate) fn mount_configs(
    doc: &mut Value,
    warnings: &mut Vec<String>,
) -> Result<Vec<DirFile>, Error> {
    let Some(top) = doc.as_object_mut() else {
        return Ok(Vec::new());
    };
    top.remove("name");
    let mut files = Vec::new();
    if let Some(Value::Object(configs)) = top.get_mut("configs") {
        let inline: Vec<String> = configs
            .iter()
            .filter(|(_, c)| c.get("content").is_some_and(Value::is_string))
            .map(|(name, _)| name.clone())
            .collect();
        for name in inline {
            check_file_name(&name)?;
            let content = configs
                .remove(&name)
                .and_then(|c| c.get("content").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_default();
            files.push(DirFile {
                path: format!("{CONFIG_DIR}/{name}"),
                content,
            });
        }
        if configs.is_empty() {
            top.remove("configs");
        }
    }
    let names: Vec<&str> = files
        .iter()
        .filter_map(|f| f.path.strip_prefix(&format!("{CONFIG_DIR}/")))
        .collect();
    if let Some(Value::Object(services)) = top.get_mut("services") {
        for (service, spec) in services.iter_mut() {
            if let Some(spec) = spec.as_object_mut() {
                bind_configs(service, spec, &names, warnings);
            }
        }
    }
    Ok(files)
}

/// A config's name becomes a file name: one path component, not hidden (no `.` or `..`).
fn check_file_name(name: &str) -> Result<(), Error> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    match plain {
        true => Ok(()),
        false => Err(Error::manifest(
            "compose file",
            format!(
                "config {}: its name becomes a file name under {CONFIG_DIR}/: expected letters, \
                 digits, '.', '_' and '-', not starting with '.'",
                quote(name)
            ),
        )),
    }
}

/// Replaces the service's uses of the configs `names` with read-only bind mounts of their files.
fn bind_configs(
    service: &str,
    spec: &mut Map<String, Value>,
    names: &[&str],
    warnings: &mut Vec<String>,
) {
    let Some(Value::Array(uses)) = spec.remove("configs") else {
        return;
    };
    let mut kept = Vec::new();
    let mut mounts = Vec::new();
    for config in uses {
        let (source, target) = match &config {
            Value::String(source) => (source.clone(), None),
            Value::Object(long) => {
                let source = long.get("source").and_then(Value::as_str).unwrap_or("");
                let target = long.get("target").and_then(Value::as_str);
                for key in long
                    .keys()
                    .filter(|k| !["source", "target"].contains(&k.as_str()))
                {
                    warnings.push(format!(
                        "{service}: configs {}: {key} has no equivalent for a bind-mounted file \
                         (its mode is 0644, its owner whoever wrote it): left out",
                        quote(source)
                    ));
                }
                (source.to_string(), target.map(str::to_string))
            }
            _ => (String::new(), None),
        };
        if !names.contains(&source.as_str()) {
            kept.push(config);
            continue;
        }
        // Compose's rule for configs: no target is /<name>, a relative one is under /.
        let target = match target {
            Some(t) if t.starts_with('/') => t,
            Some(t) => format!("/{t}"),
            None => format!("/{source}"),
        };
        mounts.push(serde_json::json!({
            "type": "bind",
            "source": format!("./{CONFIG_DIR}/{source}"),
            "target": target,
            "read_only": true,
        }));
    }
    if !kept.is_empty() {
        spec.insert("configs".into(), Value::Array(kept));
    }
    if mounts.is_empty() {
        return;
    }
    match spec.get_mut("volumes") {
        Some(Value::Array(volumes)) => volumes.extend(mounts),
        _ => {
            spec.insert("volumes".into(), Value::Array(mounts));
        }
    }
}

/// Writes the files `compose.yaml` mounts, then `compose.yaml`, into `dir` (created if needed),
/// each replaced whole (a new file renamed over the old), so a failure leaves no half-written
/// file and no `compose.yaml` newer than its mounts. Returns the paths written, relative to
/// `dir`, `compose.yaml` first.
pub fn write_compose_dir(dir: &Path, project: &ComposeDir) -> Result<Vec<String>, Error> {
    let origin = || format!("output folder {}", dir.display());
    std::fs::create_dir_all(dir.join(CONFIG_DIR))
        .map_err(|e| Error::source(origin(), format!("creating {CONFIG_DIR}/: {e}")))?;
    let files = project.files.iter().map(|f| (f.path.as_str(), &f.content));
    for (path, content) in files.chain([(COMPOSE_FILE, &project.compose)]) {
        replace_file(&dir.join(path), content)
            .map_err(|e| Error::source(origin(), format!("writing {path}: {e}")))?;
    }
    let mut written = vec![COMPOSE_FILE.to_string()];
    written.extend(project.files.iter().map(|f| f.path.clone()));
    Ok(written)
}

/// Writes `content` to a hidden file beside `path`, readable by all, and renames it over `path`.
fn replace_file(path: &Path, content: &str) -> std::io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let partial = path.with_file_name(format!(".{name}.sparkup-partial"));
    let result = (|| {
        let mut file = std::fs::File::create(&partial)?;
        file.write_all(content.as_bytes())?;
        set_mode(&file)?;
        file.sync_all()?;
        std::fs::rename(&partial, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// The mode is set after creation: the umask (often 077 for root) would narrow it.
#[cfg(unix)]
fn set_mode(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))
}

#[cfg(not(unix))]
fn set_mode(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inline_configs_become_read_only_bind_mounts_of_files() {
        let mut doc = json!({
            "name": "spark",
            "services": {
                "a": {"configs": [
                    {"source": "run.sh", "target": "/etc/x/run.sh"},
                    "short",
                    {"source": "theirs", "target": "/t"},
                ], "volumes": ["data:/data"]},
                "b": {"configs": [{"source": "run.sh", "target": "rel", "mode": 292}]},
            },
            "configs": {
                "run.sh": {"content": "echo $HOME\n"},
                "short": {"content": "x"},
                "theirs": {"file": "./theirs.txt"},
            },
        });
        let mut warnings = Vec::new();
        let files = mount_configs(&mut doc, &mut warnings).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["config/run.sh", "config/short"]);
        assert_eq!(files[0].content, "echo $HOME\n");
        let bind = |source: &str, target: &str| json!({"type": "bind", "source": source, "target": target, "read_only": true});
        assert_eq!(
            doc,
            json!({
                "services": {
                    "a": {
                        "configs": [{"source": "theirs", "target": "/t"}],
                        "volumes": [
                            "data:/data",
                            bind("./config/run.sh", "/etc/x/run.sh"),
                            bind("./config/short", "/short"),
                        ],
                    },
                    "b": {"volumes": [bind("./config/run.sh", "/rel")]},
                },
                "configs": {"theirs": {"file": "./theirs.txt"}},
            })
        );
        assert_eq!(
            warnings,
            [
                "b: configs \"run.sh\": mode has no equivalent for a bind-mounted file (its mode is \
              0644, its owner whoever wrote it): left out"
            ]
        );
    }

    #[test]
    fn a_config_name_that_is_no_plain_file_name_is_an_error() {
        for name in ["..", ".env", "a/b", "", "x\ny"] {
            let mut doc = json!({"services": {}, "configs": {name: {"content": "x"}}});
            let err = mount_configs(&mut doc, &mut Vec::new()).unwrap_err();
            assert!(err.to_string().contains("becomes a file name"), "{err}");
        }
    }
}
