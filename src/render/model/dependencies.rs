//! Cluster-wide Java dependencies: one Job resolves them onto a claim, into a folder named by a
//! fingerprint of what was asked, and every process that needs them finds them there.
//!
//! - The Job runs the launcher's `resolve` role: Spark's own resolver (`spark-submit
//!   --packages`, Ivy) fetches the packages and what they depend on, the jars are downloaded or
//!   copied, and the folder is renamed into place with a `complete` marker, so a half-done
//!   resolution is never used and a second run finds the folder and does nothing.
//! - The workers, the history server, the Connect server and every driver wait for the folder in
//!   an init container (`dependencies`): a pod waits while the Job runs, and shows why, rather
//!   than crash-looping; `apply` reports a failed resolution with the resolver's own words.
//! - Then the daemons load the jars through `SPARK_DAEMON_CLASSPATH` (the history server's
//!   `s3a://` file system, a worker's shuffle plugin), drivers and executors through
//!   `spark.driver.extraClassPath` and `spark.executor.extraClassPath`. Nothing resolves again
//!   when a driver starts. A change of the dependencies is a new folder, so the roles that load
//!   them restart, and a folder in use is never rewritten.

use std::sync::LazyLock;

use k8s_openapi::api::core::v1::EnvVar;
use sha2::{Digest, Sha256};

use super::component::Component;
use super::config::Config;
use super::jobs::JobTemplate;
use super::pod::{
    Container, EMPTY, LOCAL_DIR, Pod, PodParts, RestartPolicy, Scheduling, container_env,
    launcher_command,
};
use crate::values::Cluster;
use crate::values::spec::{ClusterSpec, ConcurrencyPolicy, Resources, amounts};

/// Where the folders are, under the claim's mount path.
const ROOT: &str = ".sparkup/dependencies";
/// The variables the launcher's `resolve` role reads: comma-separated lists.
const PACKAGES_ENV: &str = "SPARKUP_PACKAGES";
const REPOSITORIES_ENV: &str = "SPARKUP_REPOSITORIES";
const JARS_ENV: &str = "SPARKUP_JARS";
/// The init container that waits for the folder.
pub(crate) const AWAIT_CONTAINER: &str = "dependencies";

/// The resolver's JVM: Ivy and a few downloads.
static RESOLVER_RESOURCES: LazyLock<Resources> = LazyLock::new(|| Resources {
    requests: amounts("100m", "512Mi"),
    limits: amounts("1", "1Gi"),
});

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

impl Pod<'_> {
    /// A pod of a role that loads the dependencies waits for them first, and its daemon has them
    /// on its class path.
    pub(crate) fn with_dependencies(&mut self, spec: &ClusterSpec, component: Component) {
        let Some(resolved) = resolved(spec).filter(|_| loads(component)) else {
            return;
        };
        for container in &mut self.containers {
            container.env.push(EnvVar {
                name: "SPARK_DAEMON_CLASSPATH".into(),
                value: Some(resolved.classpath()),
                value_from: None,
            });
        }
        let resources = self.containers[0].resources;
        let wait = Container {
            name: AWAIT_CONTAINER.into(),
            args: vec!["await-dependencies".into(), resolved.dir.clone()],
            ..launcher_container(resources, Vec::new())
        };
        // Before the extra workers: they load the jars too.
        self.init_containers.insert(0, wait);
    }
}

/// A container that runs the launcher with nothing of a daemon: no port, no probe.
fn launcher_container<'a>(resources: &'a Resources, env: Vec<(&str, String)>) -> Container<'a> {
    Container {
        name: String::new(),
        command: launcher_command(),
        args: Vec::new(),
        env: container_env(&env, &EMPTY),
        env_from: Vec::new(),
        ports: Vec::new(),
        resources,
        readiness: None,
        liveness: None,
        startup: None,
        scratch: vec![("tmp".into(), LOCAL_DIR)],
        restart_policy: None,
        config_maps: Vec::new(),
        extra_mounts: Vec::new(),
        extra_ports: Vec::new(),
        lifecycle: None,
    }
}

/// The Job that resolves the dependencies onto the claim.
pub(crate) fn resolver<'a>(cluster: &'a Cluster, config: &Config) -> Option<JobTemplate<'a>> {
    let spec = &cluster.spec;
    let resolved = resolved(spec)?;
    let deps = &spec.dependencies;
    let env = vec![
        (PACKAGES_ENV, deps.packages.join(",")),
        (REPOSITORIES_ENV, deps.repositories.join(",")),
        (JARS_ENV, deps.jars.join(",")),
    ];
    let container = Container {
        name: "resolve".into(),
        args: vec!["resolve".into(), resolved.dir.clone()],
        ..launcher_container(&RESOLVER_RESOURCES, env)
    };
    let parts = PodParts {
        component: Component::Job,
        labels: &EMPTY,
        annotations: &EMPTY,
        scheduling: Scheduling::anywhere(),
    };
    let mut pod = Pod::single(spec, config, container, parts);
    pod.restart_policy = Some(RestartPolicy::Never);
    pod.labels.insert(
        crate::render::labels::LABEL_COMPONENT.into(),
        AWAIT_CONTAINER.into(),
    );
    Some(JobTemplate {
        name: resolved.job_name(spec),
        job: AWAIT_CONTAINER.into(),
        schedule: None,
        time_zone: None,
        concurrency_policy: ConcurrencyPolicy::Forbid,
        starting_deadline_seconds: None,
        successful_jobs_history_limit: 1,
        failed_jobs_history_limit: 1,
        suspend: false,
        backoff_limit: 2,
        active_deadline_seconds: Some(1800),
        ttl_seconds_after_finished: None,
        labels: Default::default(),
        pod,
    })
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
