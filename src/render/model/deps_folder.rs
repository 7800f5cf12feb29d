//! Where the cluster's Java dependencies are resolved and how processes find them: a folder on
//! a claim named by a fingerprint of what was asked, its jars on the class paths.

use sha2::{Digest, Sha256};

use super::component::Component;
use crate::values::spec::ClusterSpec;

/// Where the folders are, under the claim's mount path.
const ROOT: &str = ".sparkup/dependencies";
/// Where the dependencies of `spec` are resolved, when there are any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// A fingerprint of the packages, repositories and jars.
    pub key: String,
    /// The folder on the claim; the jars are in `jars/` under it.
    pub dir: String,
}

impl Resolved {
    /// Every jar of the folder, as a Java class path entry.
    pub(crate) fn classpath(&self) -> String {
        format!("{}/jars/*", self.dir)
    }

    /// The resolver Job's name: a new one for new dependencies (a Job's pod template is fixed).
    pub(crate) fn job_name(&self, spec: &ClusterSpec) -> String {
        format!("{}-dependencies-{}", spec.name, self.key)
    }
}

/// The folder of `spec`'s dependencies (validated: a writable claim is there).
pub(crate) fn resolved(spec: &ClusterSpec) -> Option<Resolved> {
    let deps = &spec.dependencies;
    if !deps.any() {
        return None;
    }
    let storage = spec
        .storage
        .iter()
        .filter(|s| !s.read_only)
        .find(|s| deps.storage.as_ref().is_none_or(|name| *name == s.name))?;
    let asked = serde_json::json!([deps.packages, deps.repositories, deps.jars]);
    let digest = Sha256::digest(asked.to_string().as_bytes());
    let key: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    let dir = format!("{}/{ROOT}/{key}", storage.mount_path.trim_end_matches('/'));
    Some(Resolved { key, dir })
}

/// The roles whose processes load the dependencies.
pub(crate) fn loads(component: Component) -> bool {
    component != Component::Master
}

/// The Spark properties that put the jars on every driver's and executor's class path, before
/// the user's own entries.
pub(crate) fn conf(spec: &ClusterSpec) -> Vec<(String, String)> {
    let Some(resolved) = resolved(spec) else {
        return Vec::new();
    };
    [
        "spark.driver.extraClassPath",
        "spark.executor.extraClassPath",
    ]
    .into_iter()
    .map(|key| {
        let value = match spec.spark_conf.get(key) {
            Some(own) => format!("{}:{own}", resolved.classpath()),
            None => resolved.classpath(),
        };
        (key.to_string(), value)
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(sets: &[&str]) -> ClusterSpec {
        let mut all = vec![
            "storage[0].name=data",
            "storage[0].mountPath=/data",
            "storage[0].size=1Gi",
        ];
        all.extend_from_slice(sets);
        crate::values::load(&crate::values::ValuesOptions {
            sets: all.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
        .unwrap()
        .spec
    }

    #[test]
    fn the_folder_is_named_by_what_was_asked() {
        assert_eq!(resolved(&spec(&[])), None);
        let a = resolved(&spec(&["dependencies.packages[0]=org.example:a:1"])).unwrap();
        let b = resolved(&spec(&["dependencies.packages[0]=org.example:a:2"])).unwrap();
        assert!(a.dir.starts_with("/data/.sparkup/dependencies/"), "{a:?}");
        assert_eq!(a.key.len(), 10);
        assert_ne!(a.key, b.key);
        assert_eq!(a.classpath(), format!("{}/jars/*", a.dir));
    }

    #[test]
    fn a_users_class_path_comes_after_the_dependencies() {
        let s = spec(&[
            "dependencies.packages[0]=org.example:a:1",
            "sparkConf.spark.driver.extraClassPath=/opt/mine.jar",
        ]);
        let conf = conf(&s);
        let dir = resolved(&s).unwrap().classpath();
        assert_eq!(
            conf[0],
            (
                "spark.driver.extraClassPath".into(),
                format!("{dir}:/opt/mine.jar")
            )
        );
        assert_eq!(conf[1], ("spark.executor.extraClassPath".into(), dir));
    }
}
