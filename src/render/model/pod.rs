//! Pods and containers: what `_pod.yaml` lays out, and the rules every pod of the instance
//! follows (the pod IP first in the environment, the configuration mounted, scratch space, the
//! shared authentication secret from its Secret).

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, ConfigMapEnvSource, Container as KubeContainer, ContainerPort, EnvFromSource, EnvVar,
    EnvVarSource, HostAlias, Lifecycle, ObjectFieldSelector, PodAffinityTerm, PodAntiAffinity,
    PodDNSConfig, Probe, SecretEnvSource, SecretKeySelector, Toleration, TopologySpreadConstraint,
    Volume, VolumeMount, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;

use super::component::{Component, Port};
use super::config::{CONF_DIR, CONFIG_HASH_ANNOTATION, Config, SPARKUP_DIR, reads};
use super::gpus::ContainerResources;
use crate::spark::sizing::master_heap_mib;
use crate::values::quantity::MIB;
use crate::values::spec::{AntiAffinity, ClusterSpec, EnvFromSpec, Resources, SecretKeyRef};

/// Scratch space for executors and shuffle files (an emptyDir, the root file system is read-only).
pub(crate) const LOCAL_DIR: &str = "/tmp";
/// A worker's application folders (jars, logs of executors).
pub(crate) const WORK_DIR: &str = "/opt/spark/work";
/// `secretConf`: the names of the Spark properties, space-separated; the value of the `i`-th is
/// in `SPARKUP_SECRET_CONF_<i>`, from its Secret. The launcher adds them to its private copy of
/// `spark-defaults.conf`.
pub(crate) const SECRET_CONF_ENV: &str = "SPARKUP_SECRET_CONF";
/// The variable Spark reads its shared secret from, and the Secret's key that holds it.
pub(crate) const AUTH_SECRET_ENV: &str = "_SPARK_AUTH_SECRET";
pub(crate) const AUTH_SECRET_KEY: &str = "secret";

/// A pod's or a container's restart policy, where sparkup sets one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum RestartPolicy {
    /// On an init container: a native sidecar, started before and stopped after the others.
    Always,
    /// A driver's pod: its Job says whether it ran, it is never run twice.
    Never,
}

/// A pod template: what `_pod.yaml` lays out.
#[derive(Debug, Serialize)]
pub(crate) struct Pod<'a> {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub containers: Vec<Container<'a>>,
    /// Native sidecars (`restartPolicy: Always`): a job's extra workers.
    pub init_containers: Vec<Container<'a>>,
    /// `Never` for a driver; the API's default (`Always`) for daemons.
    pub restart_policy: Option<RestartPolicy>,
    pub node_selector: &'a BTreeMap<String, String>,
    pub tolerations: Cow<'a, [Toleration]>,
    pub affinity: Option<Affinity>,
    pub termination_grace_period_seconds: Option<u32>,
    /// emptyDir volumes, by name.
    pub scratch: Vec<String>,
    /// ConfigMap volumes besides the configuration: a shipped application.
    pub config_maps: Vec<ConfigMapMount>,
    /// Whether a container is a worker with GPUs, which mounts sparkup's discovery script.
    pub gpu_workers: bool,
    /// What the role's `pod` values add.
    pub extras: PodExtras,
}

/// The pod-level part of a role's `pod` values.
#[derive(Debug, Default, Serialize)]
pub(crate) struct PodExtras {
    pub volumes: Vec<Volume>,
    /// The user's init containers, then the user's sidecars: before sparkup's own init
    /// containers (a job's extra workers), so that a sidecar a daemon needs is up first.
    pub init_containers: Vec<KubeContainer>,
    pub priority_class_name: Option<String>,
    pub scheduler_name: Option<String>,
    pub runtime_class_name: Option<String>,
    pub service_account_name: Option<String>,
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    pub host_aliases: Vec<HostAlias>,
    pub dns_config: Option<PodDNSConfig>,
}

/// A ConfigMap mounted read-only: a volume of the pod, and a mount of the containers that list it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ConfigMapMount {
    pub volume: &'static str,
    pub config_map: String,
    pub mount_path: &'static str,
}

/// One container running the launcher in one role.
#[derive(Debug, Serialize)]
pub(crate) struct Container<'a> {
    pub name: String,
    /// The launcher, run with bash: `command` in a pod, `entrypoint` in compose.
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub env: Vec<EnvVar>,
    pub env_from: Vec<EnvFromSource>,
    pub ports: Vec<Port>,
    pub resources: ContainerResources<'a>,
    pub readiness: Option<Probe>,
    pub liveness: Option<Probe>,
    /// Holds back the pod's later containers until this one is up (a job's extra workers).
    pub startup: Option<Probe>,
    /// emptyDir mounts as (volume name, mount path).
    pub scratch: Vec<(String, &'static str)>,
    /// `Always` makes an init container a native sidecar.
    pub restart_policy: Option<RestartPolicy>,
    /// The pod's ConfigMap volumes this container mounts.
    pub config_maps: Vec<ConfigMapMount>,
    /// `extraVolumeMounts`, `extraPorts` and `lifecycle` of the role's `pod` values.
    pub extra_mounts: Vec<VolumeMount>,
    pub extra_ports: Vec<ContainerPort>,
    pub lifecycle: Option<Lifecycle>,
}

/// sparkup's own variables whose value refers to an earlier one (`$(POD_IP)`), which the
/// kubelet must expand; every other value is data.
pub(crate) const KUBELET_REFERENCES: &[&str] = &["SPARK_PUBLIC_DNS"];

impl Container<'_> {
    /// Writes every argument and variable value so that the kubelet passes it on as it is: it
    /// expands `$(VAR)` and turns `$$` into `$`, so each `$` is doubled. Without this a value
    /// such as `$(_SPARK_AUTH_SECRET)` in a job's arguments would put the secret on the
    /// driver's command line.
    fn escape_for_kubelet(&mut self) {
        for arg in &mut self.args {
            *arg = arg.replace('$', "$$");
        }
        for var in &mut self.env {
            if KUBELET_REFERENCES.contains(&var.name.as_str()) {
                continue;
            }
            if let Some(value) = &mut var.value {
                *value = value.replace('$', "$$");
            }
        }
    }

    /// The port named `name`.
    pub(crate) fn port(&self, name: &str) -> Option<u16> {
        self.ports.iter().find(|p| p.name == name).map(|p| p.port)
    }
}

/// Where a pod may run.
pub(crate) struct Scheduling<'a> {
    pub node_selector: &'a BTreeMap<String, String>,
    pub tolerations: &'a [Toleration],
    pub affinity: Option<Affinity>,
}

pub(crate) static EMPTY: BTreeMap<String, String> = BTreeMap::new();

impl Scheduling<'_> {
    pub(crate) fn anywhere() -> Scheduling<'static> {
        Scheduling {
            node_selector: &EMPTY,
            tolerations: &[],
            affinity: None,
        }
    }
}

/// What a pod adds to its containers: its role's labels, the user's pod labels and annotations,
/// and where it may run.
pub(crate) struct PodParts<'a> {
    pub component: Component,
    pub labels: &'a BTreeMap<String, String>,
    pub annotations: &'a BTreeMap<String, String>,
    pub scheduling: Scheduling<'a>,
}

impl<'a> Pod<'a> {
    /// A pod of one container with the instance's configuration, scheduling and scratch space.
    pub(crate) fn single(
        spec: &ClusterSpec,
        config: &Config,
        container: Container<'a>,
        parts: PodParts<'a>,
    ) -> Pod<'a> {
        let mut scratch: Vec<String> = container.scratch.iter().map(|(n, _)| n.clone()).collect();
        scratch.dedup();
        Pod {
            labels: pod_labels(spec, parts.component, parts.labels),
            annotations: pod_annotations(parts.annotations, config, parts.component),
            containers: vec![container],
            init_containers: Vec::new(),
            restart_policy: None,
            node_selector: parts.scheduling.node_selector,
            tolerations: Cow::Borrowed(parts.scheduling.tolerations),
            affinity: parts.scheduling.affinity,
            termination_grace_period_seconds: None,
            scratch,
            config_maps: Vec::new(),
            gpu_workers: false,
            extras: PodExtras::default(),
        }
    }

    /// Every container's arguments and variables as the kubelet must receive them to pass them
    /// on unchanged.
    pub(crate) fn escape_for_kubelet(&mut self) {
        self.containers
            .iter_mut()
            .chain(self.init_containers.iter_mut())
            .for_each(Container::escape_for_kubelet);
    }

    /// Every container gets the Spark properties of `secret_conf` that its role reads from their
    /// Secrets, as variables the launcher writes into its private copy of the configuration: the
    /// values are in no ConfigMap, argument or rendered text, and a daemon holds only the
    /// credentials it uses.
    pub(crate) fn with_secret_conf(
        &mut self,
        secret_conf: &BTreeMap<String, SecretKeyRef>,
        component: Component,
    ) {
        let secret_conf: BTreeMap<&String, &SecretKeyRef> = secret_conf
            .iter()
            .filter(|(key, _)| reads(component, key))
            .collect();
        if secret_conf.is_empty() {
            return;
        }
        let names: Vec<&str> = secret_conf.keys().map(|k| k.as_str()).collect();
        let mut vars = vec![EnvVar {
            name: SECRET_CONF_ENV.into(),
            value: Some(names.join(" ")),
            value_from: None,
        }];
        vars.extend(
            secret_conf
                .values()
                .enumerate()
                .map(|(i, r)| secret_env(&format!("{SECRET_CONF_ENV}_{i}"), &r.secret, &r.key)),
        );
        for container in self
            .containers
            .iter_mut()
            .chain(self.init_containers.iter_mut())
        {
            container.env.extend(vars.iter().cloned());
        }
    }

    /// With HTTPS on, the kubelet's HTTP probes ask over HTTPS (the kubelet verifies no
    /// certificate); the launcher's own checks find the scheme in the configuration.
    pub(crate) fn with_https_probes(&mut self, spec: &ClusterSpec) {
        if !spec.security.tls.ui_on() {
            return;
        }
        for container in self.containers.iter_mut().chain(&mut self.init_containers) {
            for probe in [
                &mut container.startup,
                &mut container.readiness,
                &mut container.liveness,
            ]
            .into_iter()
            .flatten()
            {
                if let Some(get) = &mut probe.http_get {
                    get.scheme = Some("HTTPS".into());
                }
            }
        }
    }

    /// Every container reads Spark's shared secret from the Secret, into the variable Spark's
    /// SecurityManager reads (`_SPARK_AUTH_SECRET`), so the secret is in no ConfigMap, argument
    /// or rendered text; a worker hands it on to its executors the same way.
    pub(crate) fn with_auth_secret(&mut self, spec: &ClusterSpec) {
        let Some(secret) = spec.auth_secret() else {
            return;
        };
        let var = secret_env(AUTH_SECRET_ENV, &secret, AUTH_SECRET_KEY);
        for container in self
            .containers
            .iter_mut()
            .chain(self.init_containers.iter_mut())
        {
            container.env.push(var.clone());
        }
    }
}

/// The role's selector over the user's own pod labels.
pub(crate) fn pod_labels(
    spec: &ClusterSpec,
    component: Component,
    extra: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut labels = extra.clone();
    labels.extend(component.selector(&spec.name));
    labels
}

pub(crate) fn pod_annotations(
    extra: &BTreeMap<String, String>,
    config: &Config,
    component: Component,
) -> BTreeMap<String, String> {
    let mut annotations = extra.clone();
    annotations.insert(CONFIG_HASH_ANNOTATION.into(), config.fingerprint(component));
    annotations
}

/// `bash <launcher>`: bash runs it from the read-only ConfigMap mount, whatever the image.
pub(crate) fn launcher_command() -> Vec<String> {
    vec!["bash".into(), format!("{SPARKUP_DIR}/bin/sparkup.sh")]
}

/// The heap of a JVM alone in a container with these limits, by the rule every daemon follows.
pub(crate) fn heap_mib(resources: &Resources) -> Option<u64> {
    let limit = resources.limits.memory.as_ref()?;
    Some(master_heap_mib(limit.whole() / MIB))
}

/// The pod IP from the downward API first: every later variable may refer to it as `$(POD_IP)`,
/// and Spark daemons must advertise an address other pods can reach, not a pod host name that
/// no DNS server knows.
pub(crate) fn container_env(
    role_env: &[(&str, String)],
    user_env: &BTreeMap<String, String>,
) -> Vec<EnvVar> {
    let pod_ip = field_env("POD_IP", "status.podIP");
    let fixed = [
        ("SPARK_PUBLIC_DNS", "$(POD_IP)".to_string()),
        ("SPARK_CONF_DIR", CONF_DIR.to_string()),
    ];
    let user = user_env.iter().map(|(k, v)| (k.as_str(), v.clone()));
    std::iter::once(pod_ip)
        .chain(
            fixed
                .into_iter()
                .chain(role_env.iter().cloned())
                .chain(user)
                .map(|(name, value)| EnvVar {
                    name: name.into(),
                    value: Some(value),
                    value_from: None,
                }),
        )
        .collect()
}

/// A variable holding a key of a Secret.
fn secret_env(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                optional: None,
            }),
            ..Default::default()
        }),
        value: None,
    }
}

/// A variable from the downward API: a field of the pod.
pub(crate) fn field_env(name: &str, field_path: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: field_path.into(),
                api_version: None,
            }),
            ..Default::default()
        }),
        value: None,
    }
}

pub(crate) fn env_from(sources: &[EnvFromSpec]) -> Vec<EnvFromSource> {
    sources
        .iter()
        .map(|source| EnvFromSource {
            prefix: source.prefix.clone(),
            secret_ref: source.secret.as_ref().map(|name| SecretEnvSource {
                name: name.clone(),
                optional: None,
            }),
            config_map_ref: source.config_map.as_ref().map(|name| ConfigMapEnvSource {
                name: name.clone(),
                optional: None,
            }),
        })
        .collect()
}

/// Adds the anti-affinity term that spreads workers across nodes to the user's own affinity.
pub(crate) fn spread(
    affinity: Option<Affinity>,
    mode: AntiAffinity,
    selector: &BTreeMap<String, String>,
) -> Option<Affinity> {
    if mode == AntiAffinity::None {
        return affinity;
    }
    let term = PodAffinityTerm {
        label_selector: Some(LabelSelector {
            match_labels: Some(selector.clone()),
            match_expressions: None,
        }),
        topology_key: "kubernetes.io/hostname".into(),
        ..Default::default()
    };
    let mut affinity = affinity.unwrap_or_default();
    let anti = affinity
        .pod_anti_affinity
        .get_or_insert_with(PodAntiAffinity::default);
    if mode == AntiAffinity::Hard {
        anti.required_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(term);
    } else {
        anti.preferred_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(WeightedPodAffinityTerm {
                pod_affinity_term: term,
                weight: 100,
            });
    }
    Some(affinity)
}

/// Workers' default when `antiAffinity` is `none`: spread evenly over nodes where the
/// scheduler can, never refusing to schedule (a cluster with fewer nodes than workers still
/// runs them all). `pod-template-hash` keeps a rolling update's old pods out of the count.
pub(crate) fn spread_over_nodes(selector: &BTreeMap<String, String>) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        max_skew: 1,
        topology_key: "kubernetes.io/hostname".into(),
        when_unsatisfiable: "ScheduleAnyway".into(),
        label_selector: Some(LabelSelector {
            match_labels: Some(selector.clone()),
            match_expressions: None,
        }),
        match_label_keys: Some(vec!["pod-template-hash".into()]),
        ..Default::default()
    }
}
