//! GPU workers: the GPUs in a worker container's resources, the variables from which the
//! launcher tells the worker daemon to offer them, the toleration of GPU nodes' taint, and
//! sparkup's own discovery script.
//!
//! A standing worker has `workers.gpus`; a job's extra workers have the job's `workerGpus`, or
//! the workers' when it has none, since they are otherwise sized like the workers.

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Toleration;
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::values::spec::{ClusterSpec, ResourceAmounts, Resources};

/// sparkup's discovery script, in the ConfigMap beside the launcher: the GPUs `nvidia-smi`
/// lists, as Spark's resource JSON. The launcher runs it from an executable copy in the
/// container's scratch space, since a ConfigMap's files are mounted without the execute bit.
pub(crate) const DISCOVERY_SCRIPT: &str = include_str!("../../../templates/discover-gpus.sh");
/// The ConfigMap's key, and the file beside the launcher (`bin/`).
pub(crate) const DISCOVERY_SCRIPT_KEY: &str = "discover-gpus.sh";

/// The worker container's variables: how many GPUs it offers, and a discovery script of the
/// image when one is set (the launcher uses sparkup's own otherwise). None without GPUs.
pub(crate) const GPUS_ENV: &str = "SPARKUP_WORKER_GPUS";
pub(crate) const DISCOVERY_SCRIPT_ENV: &str = "SPARKUP_GPU_DISCOVERY_SCRIPT";

/// GPUs of one container: so many of an extended resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gpus<'a> {
    pub resource: &'a str,
    pub count: u32,
}

impl<'a> Gpus<'a> {
    /// `count` GPUs of the cluster's resource; none for 0.
    pub(crate) fn of(spec: &'a ClusterSpec, count: u32) -> Option<Gpus<'a>> {
        (count > 0).then_some(Gpus {
            resource: &spec.workers.gpu_resource,
            count,
        })
    }
}

/// A container's resources: its role's CPU and memory, and a worker's GPUs, which the API
/// server takes as requests equal to limits (an extended resource cannot be overcommitted).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContainerResources<'a> {
    pub base: &'a Resources,
    pub gpus: Option<Gpus<'a>>,
}

impl<'a> From<&'a Resources> for ContainerResources<'a> {
    fn from(base: &'a Resources) -> Self {
        ContainerResources { base, gpus: None }
    }
}

impl Serialize for ContainerResources<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Amounts<'a> {
            #[serde(flatten)]
            base: &'a ResourceAmounts,
            #[serde(flatten)]
            gpus: BTreeMap<&'a str, String>,
        }
        let gpus: BTreeMap<&str, String> = self
            .gpus
            .iter()
            .map(|g| (g.resource, g.count.to_string()))
            .collect();
        let mut out = s.serialize_struct("Resources", 2)?;
        let requests = Amounts {
            base: &self.base.requests,
            gpus: gpus.clone(),
        };
        out.serialize_field("requests", &requests)?;
        let limits = Amounts {
            base: &self.base.limits,
            gpus,
        };
        out.serialize_field("limits", &limits)?;
        out.end()
    }
}

/// The variables that make a worker container's daemon offer its GPUs.
pub(crate) fn worker_env(spec: &ClusterSpec, gpus: u32) -> Vec<(&'static str, String)> {
    if gpus == 0 {
        return Vec::new();
    }
    let mut env = vec![(GPUS_ENV, gpus.to_string())];
    if let Some(script) = &spec.workers.gpu_discovery_script {
        env.push((DISCOVERY_SCRIPT_ENV, script.clone()));
    }
    env
}

/// Whether a worker uses sparkup's own discovery script: one with GPUs, when no script of the
/// image is set. Then the ConfigMap carries it.
pub(crate) fn builtin_discovery(spec: &ClusterSpec) -> bool {
    let w = &spec.workers;
    let extra = spec
        .jobs
        .values()
        .any(|job| job.workers > 0 && w.extra_worker_gpus(job) > 0);
    w.gpu_discovery_script.is_none() && (w.gpus > 0 || extra)
}

/// A pod's tolerations: the given ones and, for a pod with GPUs, the taint GPU nodes carry by
/// convention (key: the resource's name, effect `NoSchedule`; GKE taints its GPU nodes so, and
/// Kubernetes' ExtendedResourceToleration admission plugin adds this toleration to every pod
/// that asks for an extended resource). A pod that asks for GPUs can run only on nodes that
/// have them anyway, so tolerating their taint keeps nothing else of the pod's choosing.
pub(crate) fn tolerations<'a>(
    given: &'a [Toleration],
    gpus: Option<Gpus<'_>>,
) -> Cow<'a, [Toleration]> {
    let Some(gpus) = gpus else {
        return Cow::Borrowed(given);
    };
    if given
        .iter()
        .any(|t| t.key.as_deref() == Some(gpus.resource))
    {
        return Cow::Borrowed(given);
    }
    let mut all = given.to_vec();
    all.push(Toleration {
        key: Some(gpus.resource.to_string()),
        operator: Some("Exists".into()),
        effect: Some("NoSchedule".into()),
        ..Default::default()
    });
    Cow::Owned(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::spec::amounts;

    #[test]
    fn gpus_are_requested_as_they_are_limited() {
        let base = Resources {
            requests: amounts("1", "2Gi"),
            limits: amounts("2", "2Gi"),
        };
        let plain = serde_json::to_value(ContainerResources::from(&base)).unwrap();
        assert_eq!(plain, serde_json::to_value(&base).unwrap());
        let with = ContainerResources {
            base: &base,
            gpus: Some(Gpus {
                resource: "nvidia.com/gpu",
                count: 2,
            }),
        };
        assert_eq!(
            serde_json::to_value(with).unwrap(),
            serde_json::json!({
                "requests": {"cpu": "1", "memory": "2Gi", "nvidia.com/gpu": "2"},
                "limits": {"cpu": "2", "memory": "2Gi", "nvidia.com/gpu": "2"},
            })
        );
    }

    #[test]
    fn a_gpu_pod_tolerates_its_resources_taint_once() {
        let gpus = Some(Gpus {
            resource: "amd.com/gpu",
            count: 1,
        });
        assert!(tolerations(&[], None).is_empty());
        let added = tolerations(&[], gpus);
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].key.as_deref(), Some("amd.com/gpu"));
        assert_eq!(added[0].operator.as_deref(), Some("Exists"));
        assert_eq!(added[0].effect.as_deref(), Some("NoSchedule"));
        let own = vec![Toleration {
            key: Some("amd.com/gpu".into()),
            operator: Some("Equal".into()),
            value: Some("present".into()),
            ..Default::default()
        }];
        assert_eq!(tolerations(&own, gpus).as_ref(), own.as_slice());
    }

    /// The launcher turns the variables into the worker's own GPU properties, which values
    /// refuse elsewhere (`spark::gpus::settled_by_workers`).
    #[test]
    fn the_launcher_sets_what_workers_gpus_settles() {
        let launcher = super::super::config::LAUNCHER;
        for key in [
            "spark.worker.resource.gpu.amount",
            "spark.worker.resource.gpu.discoveryScript",
        ] {
            assert!(crate::spark::gpus::settled_by_workers(key));
            assert!(launcher.contains(&format!("-D{key}=")), "{key}");
        }
        assert!(launcher.contains(GPUS_ENV) && launcher.contains(DISCOVERY_SCRIPT_ENV));
        assert!(launcher.contains(DISCOVERY_SCRIPT_KEY));
    }

    #[test]
    fn the_builtin_script_goes_where_a_worker_has_gpus_and_no_script() {
        let mut spec = ClusterSpec::default();
        assert!(!builtin_discovery(&spec));
        assert!(worker_env(&spec, 0).is_empty());
        spec.workers.gpus = 1;
        assert!(builtin_discovery(&spec));
        assert_eq!(worker_env(&spec, 1), [(GPUS_ENV, "1".to_string())]);
        spec.workers.gpu_discovery_script = Some("/opt/gpus.sh".into());
        assert!(!builtin_discovery(&spec));
        assert_eq!(worker_env(&spec, 2)[1].1, "/opt/gpus.sh");
    }
}
