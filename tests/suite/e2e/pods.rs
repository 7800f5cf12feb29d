//! Turning a rendered pod template into a process: its args, its environment with the downward
//! API filled in, and its volumes as folders.
//!
//! The processes run in network namespaces but share the machine's file system, so each volume
//! mount becomes a folder and every mount path in an environment value or in a mounted
//! `spark-defaults.conf` is rewritten to that folder. Claims are shared between pods, as a
//! ReadWriteMany volume is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::strings;

/// The Spark distribution inside the `pyspark` package, found through the machine's python3.
pub fn spark_home() -> String {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import os, pyspark; print(os.path.dirname(pyspark.__file__))",
        ])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "pyspark is not installed (pip install pyspark)"
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn java_home() -> String {
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            "dirname \"$(dirname \"$(readlink -f \"$(command -v java)\")\")\"",
        ])
        .output()
        .expect("java on PATH");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A workload's pod template from the rendered List.
pub struct Pod {
    /// The pod template's annotations.
    pub annotations: Value,
    pub container: Value,
    pub volumes: Vec<Value>,
    pub config_maps: BTreeMap<String, Value>,
    /// Secrets the pod's `secretKeyRef`s read: (`NAME/KEY`, value). A reference to one not
    /// given fails the test, so a daemon never runs with an empty secret by accident.
    pub secrets: Vec<(String, String)>,
    /// Folders standing in for Secret volumes: (Secret name, folder with one file per key). A
    /// Secret volume not given fails the test.
    pub secret_volumes: Vec<(String, PathBuf)>,
}

impl Pod {
    /// The pod template of the workload whose component label is `component`.
    pub fn from_list(list: &Value, component: &str) -> Pod {
        let items = list["items"].as_array().expect("a List");
        let config_maps = items
            .iter()
            .filter(|i| i["kind"] == "ConfigMap")
            .map(|i| {
                (
                    i["metadata"]["name"].as_str().unwrap().to_string(),
                    i["data"].clone(),
                )
            })
            .collect();
        let workload = items
            .iter()
            .find(|i| {
                matches!(
                    i["kind"].as_str(),
                    Some("Deployment" | "ReplicationController")
                ) && i["metadata"]["labels"]["app.kubernetes.io/component"] == component
            })
            .unwrap_or_else(|| panic!("no {component} workload rendered"));
        let spec = &workload["spec"]["template"]["spec"];
        Pod {
            annotations: workload["spec"]["template"]["metadata"]["annotations"].clone(),
            container: spec["containers"][0].clone(),
            volumes: spec["volumes"].as_array().cloned().unwrap_or_default(),
            config_maps,
            secrets: Vec::new(),
            secret_volumes: Vec::new(),
        }
    }

    /// One container of the pod template of the object `kind`/`name` (a CronJob's Jobs' pods
    /// too): `containers` first, then `initContainers` (a job's extra workers are sidecars).
    pub fn container_of(list: &Value, kind: &str, name: &str, container: &str) -> Pod {
        let items = list["items"].as_array().expect("a List");
        let pod = Pod::from_list(list, "master");
        let object = items
            .iter()
            .find(|i| i["kind"] == kind && i["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind}/{name} rendered"));
        let spec = match kind {
            "CronJob" => &object["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            _ => &object["spec"]["template"]["spec"],
        };
        let all = spec["containers"]
            .as_array()
            .into_iter()
            .chain(spec["initContainers"].as_array())
            .flatten();
        let found = all
            .clone()
            .find(|c| c["name"] == container)
            .unwrap_or_else(|| panic!("{kind}/{name} has no container {container}"));
        let template = match kind {
            "CronJob" => &object["spec"]["jobTemplate"]["spec"]["template"],
            _ => &object["spec"]["template"],
        };
        Pod {
            annotations: template["metadata"]["annotations"].clone(),
            container: found.clone(),
            volumes: spec["volumes"].as_array().cloned().unwrap_or_default(),
            config_maps: pod.config_maps,
            secrets: Vec::new(),
            secret_volumes: Vec::new(),
        }
    }

    /// One of the pod template's annotations; the test fails when it is missing.
    pub fn annotation(&self, name: &str) -> String {
        self.annotations[name]
            .as_str()
            .unwrap_or_else(|| panic!("no annotation {name}: {}", self.annotations))
            .to_string()
    }

    /// The args as the kubelet passes them: `$(VAR)` expanded from the container's variables,
    /// `$$` turned into `$`.
    pub fn args(&self) -> Vec<String> {
        let mapping = self.mapping();
        strings(&self.container["args"])
            .iter()
            .map(|arg| expand(arg, &mapping))
            .collect()
    }

    /// The container's variables that args may refer to: plain values and Secrets' keys.
    fn mapping(&self) -> Vec<(String, String)> {
        let mut mapping: Vec<(String, String)> = Vec::new();
        for var in self.container["env"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let name = var["name"].as_str().unwrap_or_default().to_string();
            if let Some(secret) = var["valueFrom"].get("secretKeyRef") {
                let key = format!(
                    "{}/{}",
                    secret["name"].as_str().unwrap(),
                    secret["key"].as_str().unwrap()
                );
                if let Some((_, value)) = self.secrets.iter().find(|(k, _)| *k == key) {
                    mapping.push((name, value.clone()));
                }
            } else if let Some(value) = var["value"].as_str() {
                let value = expand(value, &mapping);
                mapping.push((name, value));
            }
        }
        mapping
    }

    /// The args with paths on volumes rewritten to their folders (an application on a claim).
    pub fn args_in(&self, dir: &Path, claims: &Path) -> Vec<String> {
        let mounts = self.materialize_volumes(dir, claims);
        self.args()
            .iter()
            .map(|arg| rewrite_paths(arg, &mounts))
            .collect()
    }

    /// The container's command, its paths rewritten to the folders standing in for its volumes
    /// under `dir` (see [`Pod::environment`]).
    pub fn command(&self, dir: &Path, claims: &Path) -> Vec<String> {
        let mounts = self.materialize_volumes(dir, claims);
        strings(&self.container["command"])
            .iter()
            .map(|arg| rewrite_paths(arg, &mounts))
            .collect()
    }

    /// The command of the container's exec probe `probe` (`startupProbe`, `readinessProbe`), its
    /// paths rewritten as [`Pod::command`]'s; None when that probe does not exec.
    pub fn probe_command(&self, probe: &str, dir: &Path, claims: &Path) -> Option<Vec<String>> {
        let command = self.container[probe]["exec"]["command"].as_array()?;
        let mounts = self.materialize_volumes(dir, claims);
        Some(
            command
                .iter()
                .filter_map(Value::as_str)
                .map(|arg| rewrite_paths(arg, &mounts))
                .collect(),
        )
    }

    /// The environment as the kubelet would give it, for a pod at `ip` whose volumes live in
    /// `dir` (claims in `claims`), plus what the machine needs (PATH, JAVA_HOME, SPARK_HOME).
    pub fn environment(&self, ip: &str, dir: &Path, claims: &Path) -> Vec<(String, String)> {
        self.environment_with(ip, &[], dir, claims)
    }

    /// Like `environment`, for a pod with these labels (which the downward API may expose).
    pub fn environment_with(
        &self,
        ip: &str,
        labels: &[(&str, &str)],
        dir: &Path,
        claims: &Path,
    ) -> Vec<(String, String)> {
        let mounts = self.materialize_volumes(dir, claims);
        let mut env = machine_env(dir);
        for var in self.container["env"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let name = var["name"].as_str().unwrap().to_string();
            let field = var["valueFrom"]["fieldRef"]["fieldPath"].as_str();
            let label = field
                .and_then(|f| f.strip_prefix("metadata.labels['"))
                .and_then(|f| f.strip_suffix("']"));
            if let Some(secret) = var["valueFrom"].get("secretKeyRef") {
                let key = format!(
                    "{}/{}",
                    secret["name"].as_str().unwrap(),
                    secret["key"].as_str().unwrap()
                );
                let value = self
                    .secrets
                    .iter()
                    .find(|(k, _)| *k == key)
                    .unwrap_or_else(|| panic!("{name}: Secret {key} is not given to the pod"));
                env.push((name, value.1.clone()));
                continue;
            }
            let value = match field {
                Some("status.podIP") => ip.to_string(),
                Some(_) if label.is_some() => labels
                    .iter()
                    .find(|(k, _)| Some(*k) == label)
                    .map(|(_, v)| v.to_string())
                    .unwrap_or_default(),
                Some(other) => panic!("{name}: downward API field {other} is not simulated"),
                None => expand(var["value"].as_str().unwrap_or(""), &env),
            };
            env.push((name, rewrite_paths(&value, &mounts)));
        }
        env
    }

    /// Creates a folder per volume mount; returns (mount path, folder) pairs.
    fn materialize_volumes(&self, dir: &Path, claims: &Path) -> Vec<(String, PathBuf)> {
        let mut mounts = Vec::new();
        let mut conf_files = Vec::new();
        for mount in self.container["volumeMounts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let name = mount["name"].as_str().unwrap();
            let volume = self
                .volumes
                .iter()
                .find(|v| v["name"] == name)
                .unwrap_or_else(|| panic!("volume {name} is mounted but not declared"));
            let folder = if let Some(claim) = volume["persistentVolumeClaim"]["claimName"].as_str()
            {
                claims.join(claim)
            } else if let Some(secret) = volume["secret"]["secretName"].as_str() {
                self.secret_volumes
                    .iter()
                    .find(|(name, _)| name == secret)
                    .map(|(_, folder)| folder.clone())
                    .unwrap_or_else(|| panic!("Secret {secret} is not given to the pod"))
            } else {
                dir.join(name)
            };
            std::fs::create_dir_all(&folder).unwrap();
            if let Some(cm) = volume["configMap"]["name"].as_str() {
                let data = self
                    .config_maps
                    .get(cm)
                    .unwrap_or_else(|| panic!("ConfigMap {cm} not rendered"));
                // With `items`, each key lands at its path; without, at its own name.
                let items: Vec<(String, String)> = match volume["configMap"]["items"].as_array() {
                    Some(items) => items
                        .iter()
                        .map(|i| {
                            (
                                i["key"].as_str().unwrap().into(),
                                i["path"].as_str().unwrap().into(),
                            )
                        })
                        .collect(),
                    None => data
                        .as_object()
                        .unwrap()
                        .keys()
                        .map(|k| (k.clone(), k.clone()))
                        .collect(),
                };
                for (key, path) in items {
                    let text = data[&key]
                        .as_str()
                        .unwrap_or_else(|| panic!("{cm} has no key {key}"));
                    let file = folder.join(path);
                    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                    conf_files.push((file, text.to_string()));
                }
            }
            mounts.push((mount["mountPath"].as_str().unwrap().to_string(), folder));
        }
        mounts.sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
        for (file, text) in conf_files {
            let text = if file.extension().is_some_and(|e| e == "conf") {
                let rewritten: Vec<String> = text
                    .lines()
                    .map(|l| rewrite_conf_line(l, &mounts))
                    .collect();
                rewritten.join("\n") + "\n"
            } else {
                text
            };
            std::fs::write(file, text).unwrap();
        }
        mounts
    }
}

/// What every daemon needs from this machine rather than from the manifests.
pub fn machine_env(home: &Path) -> Vec<(String, String)> {
    vec![
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ("HOME".into(), home.display().to_string()),
        ("JAVA_HOME".into(), java_home()),
        ("SPARK_HOME".into(), spark_home()),
    ]
}

/// Kubernetes' `$(VAR)` expansion, from variables defined earlier in the list: `$$` is a `$`,
/// `$(NAME)` of a defined variable its value, anything else stays as written.
fn expand(value: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        if let Some(after) = tail.strip_prefix('$') {
            out.push('$');
            rest = after;
        } else if let Some(reference) = tail.strip_prefix('(')
            && let Some(end) = reference.find(')')
        {
            let name = &reference[..end];
            match env.iter().rev().find(|(n, _)| n == name) {
                Some((_, v)) => out.push_str(v),
                None => out.push_str(&format!("$({name})")),
            }
            rest = &reference[end + 1..];
        } else {
            out.push('$');
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// Rewrites a mount path (or a path under one) to the folder standing in for the volume;
/// `mounts` is sorted longest path first.
pub fn rewrite_paths(value: &str, mounts: &[(String, PathBuf)]) -> String {
    // A Spark URL of a local folder (`file:/events`) points into a volume just the same.
    if let Some(local) = value.strip_prefix("file:").filter(|p| p.starts_with('/')) {
        return format!("file:{}", rewrite_paths(local, mounts));
    }
    for (path, folder) in mounts {
        if value == path {
            return folder.display().to_string();
        }
        if let Some(rest) = value.strip_prefix(&format!("{path}/")) {
            return folder.join(rest).display().to_string();
        }
    }
    value.to_string()
}

fn rewrite_conf_line(line: &str, mounts: &[(String, PathBuf)]) -> String {
    match line.split_once(' ') {
        Some((key, value)) if !line.starts_with('#') => {
            format!("{key} {}", rewrite_paths(value, mounts))
        }
        _ => line.to_string(),
    }
}
