//! The same cluster as a docker-compose file, for trying it on one machine.
//!
//! The compose template sees the same context as the Kubernetes templates, so the daemons get the
//! same launcher, arguments, environment and `spark-defaults.conf`, plus what only compose needs:
//! one service per daemon, published ports that never collide, bound to `compose.publishAddress`
//! (loopback unless asked), and the environment without the downward API (the launcher falls back
//! to the container's own address). What compose cannot express is a warning, never a silent
//! drop. Compose interpolates `$VAR` in every value, so every `$` is written as `$$`. The
//! configuration files travel as inline configs; `compose_dir` turns them into files beside the
//! compose file for the compose versions that cannot read inline configs.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::RenderOptions;
use super::compose_dir::{self, ComposeDir};
use super::compose_pods::{self, ComposeExtras};
use super::model::Context;
use super::model::component::{Component, DRIVER_INTERNAL_PORTS};
use super::model::dependencies;
use super::model::jobs::{JobParts, job_template};
use super::model::pod::{AUTH_SECRET_ENV, Container, KUBELET_REFERENCES, SECRET_CONF_ENV};
use super::templates;
use crate::error::{Error, quote};
use crate::values::Cluster;
use crate::values::quantity::MIB;
use crate::values::spec::{ClusterSpec, DEFAULT_GPU_RESOURCE, Resources};

/// Where `docker compose` takes the shared authentication secret from.
const AUTH_SECRET_HOST_ENV: &str = "SPARK_AUTH_SECRET";

/// A rendered compose file and what it could not express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compose {
    /// The compose file, YAML.
    pub text: String,
    /// Values left out or changed, each naming the value and why.
    pub warnings: Vec<String>,
}

/// What the compose template sees: the cluster's context and the compose services.
#[derive(Serialize)]
struct ComposeContext<'a> {
    #[serde(flatten)]
    cluster: &'a Context<'a>,
    compose: Project,
}

#[derive(Serialize)]
struct Project {
    services: Vec<Service>,
}

/// One container: the master, one worker replica, a server, or a job's driver.
#[derive(Serialize)]
struct Service {
    /// The service name, also its host name on the compose network.
    name: String,
    entrypoint: Vec<String>,
    command: Vec<String>,
    environment: BTreeMap<String, String>,
    /// `address:host-port:container-port`.
    ports: Vec<String>,
    /// Scratch space: writable by the Spark user and executable, since Spark loads native
    /// libraries (zstd, snappy) from its temporary folder; docker mounts tmpfs `noexec` otherwise.
    tmpfs: Vec<String>,
    cpus: Option<String>,
    memory: Option<String>,
    /// NVIDIA GPUs reserved for the container (`deploy.resources.reservations.devices`).
    gpus: Option<u32>,
    /// The health check's launcher arguments (`health 8080`), none for a job.
    health: Option<Vec<String>>,
    /// The services this one waits for: until the master is healthy, until the dependencies
    /// are resolved.
    depends_on: BTreeMap<String, &'static str>,
    /// Runs once (the dependency resolver): never restarted.
    run_once: bool,
    /// Compose profiles: jobs run only when asked for (`--profile jobs` or `run`).
    profiles: Vec<&'static str>,
    /// What the role's `pod` values carry into compose.
    extras: ComposeExtras,
    /// Variables from Secrets (the shared secret, `secretConf`), which compose takes from its
    /// own environment.
    #[serde(skip)]
    secrets: Vec<FromHost>,
}

/// A variable whose value compose reads from the environment it runs in (or an `.env` file):
/// a key of a Kubernetes Secret, which compose cannot read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct FromHost {
    /// The container's variable.
    env: String,
    /// Compose's own variable it comes from.
    host: String,
    /// What the value is, for compose's message when it is not set.
    what: String,
    /// `secretConf`'s Secret and key; none for the shared secret.
    from: Option<(String, String)>,
}

impl FromHost {
    /// The variables of `container` that come from Secrets: the shared secret and `secretConf`
    /// properties.
    fn of(container: &Container) -> Vec<FromHost> {
        let prefix = format!("{SECRET_CONF_ENV}_");
        container
            .env
            .iter()
            .filter_map(|var| {
                let r = var.value_from.as_ref()?.secret_key_ref.as_ref()?;
                if var.name == AUTH_SECRET_ENV {
                    return Some(FromHost {
                        env: var.name.clone(),
                        host: AUTH_SECRET_HOST_ENV.into(),
                        what: "the cluster's shared secret".into(),
                        from: None,
                    });
                }
                if !var.name.starts_with(&prefix) {
                    return None;
                }
                let host: String = format!("SPARK_SECRET_{}_{}", r.name, r.key)
                    .chars()
                    .map(|c| match c.is_ascii_alphanumeric() {
                        true => c.to_ascii_uppercase(),
                        false => '_',
                    })
                    .collect();
                Some(FromHost {
                    env: var.name.clone(),
                    host,
                    what: format!("key {} of the Secret {}", r.key, r.name),
                    from: Some((r.name.clone(), r.key.clone())),
                })
            })
            .collect()
    }

    /// `${HOST:?...}`: compose refuses to start without it.
    fn placeholder(&self) -> String {
        format!("${{{}:?set {} to {}}}", self.host, self.host, self.what)
    }
}

/// Renders the compose file, checks that it is a YAML mapping with services, escapes `$`, and
/// re-serializes it so its layout does not depend on the template's.
pub(crate) fn build(cluster: &Cluster, opts: &RenderOptions) -> Result<Compose, Error> {
    document(cluster, opts)?.finish()
}

/// The folder form: `compose.yaml` with the inline configs as files beside it, which any
/// docker-compose reads (see `compose_dir`).
pub(crate) fn build_dir(cluster: &Cluster, opts: &RenderOptions) -> Result<ComposeDir, Error> {
    let mut document = document(cluster, opts)?;
    // Before the `$` escaping: the files are read by bash and Spark, not interpolated by compose.
    let files = compose_dir::mount_configs(&mut document.doc, &mut document.warnings)?;
    let compose = document.finish()?;
    Ok(ComposeDir::new(&compose.text, files, compose.warnings))
}

/// The rendered and checked compose document, before compose's `$` escaping.
struct Document {
    doc: Value,
    /// Each service's variables from Secrets.
    from_host: Vec<(String, Vec<FromHost>)>,
    warnings: Vec<String>,
}

impl Document {
    /// Escapes every `$`, takes the Secrets' variables from compose's environment, and writes
    /// the YAML.
    fn finish(mut self) -> Result<Compose, Error> {
        escape_dollars(&mut self.doc);
        secrets_from_host(&mut self.doc, &self.from_host, &mut self.warnings);
        Ok(Compose {
            text: super::output::to_yaml(&self.doc)?,
            warnings: self.warnings,
        })
    }
}

/// Renders the template and checks that it is one YAML mapping with services.
fn document(cluster: &Cluster, opts: &RenderOptions) -> Result<Document, Error> {
    let mut warnings = Vec::new();
    let local = local(cluster, &mut warnings);
    let cluster = local.as_ref();
    let context = Context::new(cluster);
    let project = project(cluster, &context, &mut warnings);
    let from_host: Vec<(String, Vec<FromHost>)> = project
        .services
        .iter()
        .map(|s| (s.name.clone(), s.secrets.clone()))
        .collect();
    let compose_context = ComposeContext {
        cluster: &context,
        compose: project,
    };
    let text = templates::render_compose(&compose_context, opts)?;
    let origin = "compose file";
    let mut docs: Vec<Value> = crate::values::parse_yaml(&text)
        .map_err(|e| Error::manifest(origin, format!("not valid YAML: {e}")))?;
    match (docs.pop(), docs.is_empty()) {
        (Some(doc), true) if doc.get("services").is_some_and(|s| s.is_object()) => Ok(Document {
            doc,
            from_host,
            warnings,
        }),
        _ => Err(Error::manifest(
            origin,
            "expected one mapping with `services`",
        )),
    }
}

/// Each service's variables from Secrets, taken from compose's own environment (the one value
/// compose interpolates, after every other `$` was escaped: compose refuses to start without
/// it), and one warning per variable compose needs: the values stay out of the file.
fn secrets_from_host(
    doc: &mut Value,
    from_host: &[(String, Vec<FromHost>)],
    warnings: &mut Vec<String>,
) {
    let mut needed = BTreeSet::new();
    for (service, vars) in from_host {
        let Some(env) = doc["services"][service]["environment"].as_object_mut() else {
            continue;
        };
        for var in vars {
            env.insert(var.env.clone(), Value::String(var.placeholder()));
            needed.insert((var.from.is_some(), var.host.clone(), var.from.clone()));
        }
    }
    // The shared secret (no Secret key of the user's) sorts first.
    for (_, host, from) in needed {
        warnings.push(match from {
            None => format!(
                "security.authenticate: docker compose reads the shared secret from {host} in \
                 its own environment, e.g. export {host}=$(openssl rand -hex 32)"
            ),
            Some((secret, key)) => format!(
                "secretConf: docker compose reads key {key} of the Secret {secret} from {host} \
                 in its own environment (or an .env file beside the compose file)"
            ),
        });
    }
}

/// The cluster as compose can run it, each difference a warning: compose has no Secret to
/// mount TLS keystores from, so it runs without TLS; it reserves NVIDIA's GPUs alone (its
/// `nvidia` device driver), so other GPUs are left out.
fn local<'a>(cluster: &'a Cluster, warnings: &mut Vec<String>) -> Cow<'a, Cluster> {
    let mut local = Cow::Borrowed(cluster);
    if cluster.spec.security.tls.enabled {
        warnings.push(
            "security.tls: docker-compose has no Secret to mount the keystores from: the UIs \
             and RPC run without TLS"
                .to_string(),
        );
        local.to_mut().spec.security.tls.enabled = false;
    }
    let workers = &cluster.spec.workers;
    if workers.gpus > 0 && workers.gpu_resource != DEFAULT_GPU_RESOURCE {
        warnings.push(format!(
            "workers.gpuResource: docker-compose reserves NVIDIA GPUs alone (device driver \
             nvidia), not {}: the workers offer no GPU",
            quote(&workers.gpu_resource)
        ));
        local.to_mut().spec.workers.gpus = 0;
    }
    local
}

fn project(cluster: &Cluster, context: &Context, warnings: &mut Vec<String>) -> Project {
    unsupported(&cluster.spec, warnings);
    let mut services: Vec<Service> = resolver(cluster, context).into_iter().collect();
    services.extend(daemons(cluster, context, warnings));
    services.extend(jobs(cluster, context, warnings));
    Project { services }
}

/// What the cluster uses that compose has no equivalent for, each a warning.
fn unsupported(spec: &ClusterSpec, warnings: &mut Vec<String>) {
    for source in &spec.env_from {
        let (kind, name) = match (&source.secret, &source.config_map) {
            (Some(secret), _) => ("Secret", secret),
            (_, Some(config_map)) => ("ConfigMap", config_map),
            _ => continue,
        };
        warnings.push(format!(
            "envFrom: the {kind} {} is a Kubernetes object that docker-compose cannot read: it is \
             left out; set its variables under `env`",
            quote(name)
        ));
    }
    if spec.network_policy.enabled {
        warnings.push(
            "networkPolicy: docker-compose has no network policies: every container on the \
             compose network reaches every port; only publishAddress keeps other hosts out"
                .to_string(),
        );
    }
    if spec.workers.autoscaling.enabled {
        warnings.push(format!(
            "workers.autoscaling: docker-compose cannot autoscale: the compose file runs \
             workers.replicas ({}) workers",
            spec.workers.replicas
        ));
    }
}

/// The master, one service per worker replica, and the servers.
fn daemons(cluster: &Cluster, context: &Context, warnings: &mut Vec<String>) -> Vec<Service> {
    let spec = &cluster.spec;
    let mut ports = Ports::new(&spec.compose.publish_address);
    let mut services = Vec::new();
    for workload in &context.workloads {
        let layers = compose_pods::layers(spec, workload.component, None);
        let container = &workload.pod.containers[0];
        let http = container.port("http").unwrap_or(0);
        let replicas = match workload.component {
            Component::Worker => spec.workers.replicas,
            _ => 1,
        };
        for i in 1..=replicas {
            let name = match workload.component {
                Component::Worker => format!("{}-{i}", workload.name),
                _ => workload.name.clone(),
            };
            // The master publishes every port; workers their UIs (moved up one per replica);
            // servers their client ports.
            let published: Vec<String> = match workload.component {
                Component::Worker => {
                    let wanted = http.saturating_add(u16::try_from(i - 1).unwrap_or(u16::MAX));
                    vec![ports.publish(&name, wanted, http, warnings)]
                }
                _ => container
                    .ports
                    .iter()
                    .filter(|p| !DRIVER_INTERNAL_PORTS.contains(&p.name.as_str()))
                    .map(|p| ports.publish(&name, p.port, p.port, warnings))
                    .collect(),
            };
            services.push(Service {
                entrypoint: container.command.clone(),
                command: container.args.clone(),
                environment: environment(container),
                ports: published,
                tmpfs: tmpfs(container),
                cpus: cpus(container.resources.base),
                memory: memory(container.resources.base),
                gpus: container.resources.gpus.map(|g| g.count),
                health: health(workload.component, container),
                depends_on: waits_for(cluster, workload.component),
                run_once: false,
                profiles: Vec::new(),
                secrets: FromHost::of(container),
                extras: compose_pods::extras(&layers, warnings),
                name,
            });
        }
    }
    services
}

/// What a role's service waits for: every role but the master for the master to be healthy,
/// the roles that load the cluster's dependencies for their resolver to have finished.
fn waits_for(cluster: &Cluster, component: Component) -> BTreeMap<String, &'static str> {
    let spec = &cluster.spec;
    let mut waits = BTreeMap::new();
    if component != Component::Master {
        waits.insert(Component::Master.object_name(&spec.name), "service_healthy");
    }
    if dependencies::resolved(spec).is_some() && dependencies::loads(component) {
        waits.insert(resolver_name(spec), "service_completed_successfully");
    }
    waits
}

fn resolver_name(spec: &ClusterSpec) -> String {
    format!("{}-dependencies", spec.name)
}

/// The dependency resolver, run once when the project comes up (the Job's container).
fn resolver(cluster: &Cluster, context: &Context) -> Option<Service> {
    let job = context.dependencies.as_ref()?;
    let container = &job.pod.containers[0];
    Some(Service {
        name: resolver_name(&cluster.spec),
        entrypoint: container.command.clone(),
        command: container.args.clone(),
        environment: environment(container),
        ports: Vec::new(),
        tmpfs: tmpfs(container),
        cpus: cpus(container.resources.base),
        memory: memory(container.resources.base),
        gpus: None,
        health: None,
        depends_on: BTreeMap::new(),
        run_once: true,
        profiles: Vec::new(),
        secrets: FromHost::of(container),
        extras: ComposeExtras::default(),
    })
}

/// Each job, a run-once service in the `jobs` profile.
fn jobs(cluster: &Cluster, context: &Context, warnings: &mut Vec<String>) -> Vec<Service> {
    let spec = &cluster.spec;
    let mut services = Vec::new();
    for (key, job) in &spec.jobs {
        let parts = JobParts {
            key,
            job,
            name: String::new(),
            ttl_seconds_after_finished: None,
            shipped: None,
        };
        let template = job_template(cluster, &context.config, parts);
        if job.workers > 0 {
            warnings.push(format!(
                "jobs.{key}.workers: extra workers are sidecar containers of the driver's pod, \
                 which docker-compose cannot express: the job uses the compose file's workers"
            ));
        }
        let driver = &template.pod.containers[0];
        let layers = compose_pods::layers(spec, Component::Job, Some((key, job)));
        services.push(Service {
            name: format!("{}-job-{key}", spec.name),
            entrypoint: driver.command.clone(),
            command: driver.args.clone(),
            environment: environment(driver),
            ports: Vec::new(),
            tmpfs: tmpfs(driver),
            cpus: cpus(driver.resources.base),
            memory: memory(driver.resources.base),
            gpus: None,
            health: None,
            depends_on: waits_for(cluster, Component::Job),
            run_once: false,
            profiles: vec!["jobs"],
            secrets: FromHost::of(driver),
            extras: compose_pods::extras(&layers, warnings),
        });
    }
    services
}

/// The launcher's `health` arguments for the role's check, with the container's port numbers:
/// the same check as the role's readiness probe.
fn health(component: Component, container: &Container) -> Option<Vec<String>> {
    let check = component.health()?;
    Some(check.launcher_args(container.port(check.port()).unwrap_or(0)))
}

/// The container's environment: the pod's, less what needs the downward API or a Secret.
/// sparkup's own `$(POD_IP)` references are left to the launcher's fallback; every other value
/// is data, passed on as it is (as the kubelet does with its escaped form).
fn environment(container: &Container) -> BTreeMap<String, String> {
    container
        .env
        .iter()
        .filter(|var| !KUBELET_REFERENCES.contains(&var.name.as_str()))
        .filter_map(|var| Some((var.name.clone(), var.value.clone()?)))
        .collect()
}

/// Published host ports, handed out so that no two services ask for the same one.
struct Ports<'a> {
    address: &'a str,
    taken: BTreeMap<u16, String>,
}

impl<'a> Ports<'a> {
    fn new(address: &'a str) -> Ports<'a> {
        Ports {
            address,
            taken: BTreeMap::new(),
        }
    }

    /// `address:host:container`, with `wanted` as the host port, or the next free one above it
    /// (with a warning naming both services) when another service has it.
    fn publish(
        &mut self,
        service: &str,
        wanted: u16,
        container: u16,
        warnings: &mut Vec<String>,
    ) -> String {
        let mut host = wanted;
        while self.taken.contains_key(&host) && host < u16::MAX {
            host += 1;
        }
        if host != wanted {
            warnings.push(format!(
                "{service}: host port {wanted} is already published for {}: published on {host} \
                 instead",
                self.taken[&wanted]
            ));
        }
        self.taken.insert(host, service.to_string());
        let address = match self.address.contains(':') {
            true => format!("[{}]", self.address),
            false => self.address.to_string(),
        };
        format!("{address}:{host}:{container}")
    }
}

fn tmpfs(container: &Container) -> Vec<String> {
    let unique: BTreeSet<&str> = container.scratch.iter().map(|(_, path)| *path).collect();
    unique
        .into_iter()
        .map(|path| format!("{path}:exec,mode=1777"))
        .collect()
}

fn cpus(resources: &Resources) -> Option<String> {
    let cpu = resources.limits.cpu.as_ref()?;
    Some(format!("{}", cpu.millis() as f64 / 1000.0))
}

fn memory(resources: &Resources) -> Option<String> {
    let memory = resources.limits.memory.as_ref()?;
    Some(format!("{}m", memory.whole() / MIB))
}

/// Compose replaces `$VAR` and `${VAR}` in every value; `$$` is a literal `$`.
fn escape_dollars(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('$') => *s = s.replace('$', "$$"),
        Value::Array(items) => items.iter_mut().for_each(escape_dollars),
        Value::Object(map) => map.values_mut().for_each(escape_dollars),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dollar_is_doubled() {
        let mut doc = serde_json::json!({"a": ["x$y", "${Z}"], "b": {"c": "$$"}, "d": 3});
        escape_dollars(&mut doc);
        assert_eq!(
            doc,
            serde_json::json!({"a": ["x$$y", "$${Z}"], "b": {"c": "$$$$"}, "d": 3})
        );
    }

    #[test]
    fn colliding_ports_move_up_and_say_so() {
        let mut ports = Ports::new("127.0.0.1");
        let mut warnings = Vec::new();
        assert_eq!(
            ports.publish("m", 8080, 8080, &mut warnings),
            "127.0.0.1:8080:8080"
        );
        assert_eq!(
            ports.publish("w-1", 8080, 8080, &mut warnings),
            "127.0.0.1:8081:8080"
        );
        assert_eq!(
            ports.publish("w-2", 8081, 8080, &mut warnings),
            "127.0.0.1:8082:8080"
        );
        assert_eq!(
            warnings,
            [
                "w-1: host port 8080 is already published for m: published on 8081 instead",
                "w-2: host port 8081 is already published for w-1: published on 8082 instead"
            ]
        );
        let mut v6 = Ports::new("::1");
        assert_eq!(v6.publish("m", 1, 2, &mut warnings), "[::1]:1:2");
    }
}
