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

use super::component::Component;
use super::config::Config;
pub(crate) use super::deps_folder::{loads, resolved};
use super::jobs::JobTemplate;
use super::pod::{
    Container, EMPTY, LOCAL_DIR, Pod, PodParts, RestartPolicy, Scheduling, container_env,
    launcher_command,
};
use crate::values::Cluster;
use crate::values::spec::{ClusterSpec, ConcurrencyPolicy, Resources, amounts};

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
        let resources = self.containers[0].resources.base;
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
        resources: resources.into(),
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
