//! Which layers of pod settings a role's pods read, lowest first, and where each value came
//! from: the top-level `env` and `serviceAccountName`, `pod`, the role's own `pod` (a job's
//! driver: `drivers.pod`, then `jobs.<name>.pod` and the job's `env`). See `pods` for the rule
//! that merges them.

use super::pods::PodValues;
use super::spec::{ClusterSpec, JobSpec};

/// A role whose pods the settings shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PodRole<'a> {
    Master,
    Workers,
    History,
    Connect,
    /// A driver: of a job (its key under `jobs`, or a run's name, and its spec), or any.
    Driver(Option<(&'a str, &'a JobSpec)>),
}

impl PodRole<'_> {
    /// The role's key in the values.
    pub fn key(self) -> String {
        match self {
            PodRole::Master => "master".into(),
            PodRole::Workers => "workers".into(),
            PodRole::History => "history".into(),
            PodRole::Connect => "connect".into(),
            PodRole::Driver(None) => "drivers".into(),
            PodRole::Driver(Some((job, _))) => crate::error::path_key("jobs", job),
        }
    }
}

/// A role's layers, lowest first, each with the path it sits at.
#[derive(Debug, Clone)]
pub struct PodLayers {
    layers: Vec<(String, PodValues)>,
}

impl PodLayers {
    /// What the role's pods get.
    pub fn effective(&self) -> PodValues {
        self.layers
            .iter()
            .fold(PodValues::default(), |base, (_, layer)| layer.over(&base))
    }

    /// The path of `field` (its camelCase key) in the most specific layer that sets it: where
    /// an error about the value it has must point.
    pub fn origin(&self, field: &str) -> String {
        let set = |layer: &PodValues| {
            serde_json::to_value(layer)
                .ok()
                .is_some_and(|v| v.get(field).is_some())
        };
        let prefix = self
            .layers
            .iter()
            .rev()
            .find(|(_, layer)| set(layer))
            .map(|(prefix, _)| prefix.as_str())
            .unwrap_or("pod");
        match prefix {
            "" => field.to_string(),
            prefix => format!("{prefix}.{field}"),
        }
    }
}

impl ClusterSpec {
    /// The layers of pod settings of one role: the top-level `env` and `serviceAccountName`,
    /// `pod`, the role's `pod` (for a job's driver `drivers.pod`, then `jobs.<name>.pod` and
    /// the job's `env`).
    pub fn pod_layers(&self, role: PodRole) -> PodLayers {
        let top = PodValues {
            service_account_name: self.service_account_name.clone(),
            env: self.env.clone(),
            ..PodValues::default()
        };
        let mut layers = vec![(String::new(), top), ("pod".into(), self.pod.clone())];
        let own = |key: String, pod: &PodValues| (format!("{key}.pod"), pod.clone());
        match role {
            PodRole::Master => layers.push(own(role.key(), &self.master.pod)),
            PodRole::Workers => layers.push(own(role.key(), &self.workers.pod)),
            PodRole::History => layers.push(own(role.key(), &self.history.pod)),
            PodRole::Connect => layers.push(own(role.key(), &self.connect.pod)),
            PodRole::Driver(job) => {
                layers.push(own(PodRole::Driver(None).key(), &self.drivers.pod));
                if let Some((_, spec)) = job {
                    let key = role.key();
                    layers.push(own(key.clone(), &spec.pod));
                    let env = PodValues {
                        env: spec.env.clone(),
                        ..PodValues::default()
                    };
                    layers.push((key, env));
                }
            }
        }
        PodLayers { layers }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::pods::numbered;

    fn spec(yaml: &str) -> ClusterSpec {
        let opts = crate::values::ValuesOptions::default();
        let path = std::env::temp_dir().join(format!("pods-{}.yaml", std::process::id()));
        std::fs::write(&path, yaml).unwrap();
        let cluster = crate::values::load(&crate::values::ValuesOptions {
            files: vec![path.clone()],
            ..opts
        });
        std::fs::remove_file(&path).unwrap();
        cluster.unwrap().spec
    }

    #[test]
    fn a_role_replaces_lists_and_values_and_merges_env() {
        let spec = spec(
            "env: {A: top}\n\
             pod:\n  priorityClassName: shared\n  env: {B: pod}\n  hostAliases: [{ip: 10.0.0.1, hostnames: [a]}]\n  \
             probes: {readiness: {periodSeconds: 5, failureThreshold: 2}}\n\
             workers:\n  pod:\n    env: {B: workers, C: workers}\n    hostAliases: []\n    \
             probes: {readiness: {periodSeconds: 20}}\n",
        );
        let workers = spec.pod_layers(PodRole::Workers);
        let w = workers.effective();
        assert_eq!(w.priority_class_name.as_deref(), Some("shared"));
        assert_eq!(w.host_aliases, Some(vec![]));
        assert_eq!(
            w.env,
            std::collections::BTreeMap::from([
                ("A".into(), "top".into()),
                ("B".into(), "workers".into()),
                ("C".into(), "workers".into())
            ])
        );
        assert_eq!(w.probes.readiness.period_seconds, Some(20));
        assert_eq!(w.probes.readiness.failure_threshold, Some(2));
        assert_eq!(workers.origin("hostAliases"), "workers.pod.hostAliases");
        assert_eq!(workers.origin("priorityClassName"), "pod.priorityClassName");
        let master = spec.pod_layers(PodRole::Master).effective();
        assert_eq!(master.host_aliases.map(|h| h.len()), Some(1));
        assert_eq!(master.env["B"], "pod");
    }

    #[test]
    fn a_jobs_driver_reads_drivers_then_its_own_and_its_env_last() {
        let spec = spec(
            "serviceAccountName: top\n\
             drivers: {pod: {serviceAccountName: drivers, env: {X: drivers}}}\n\
             jobs:\n  etl:\n    app: /code/etl.py\n    env: {X: job}\n    \
             pod: {schedulerName: batch}\n",
        );
        let etl = spec.pod_layers(PodRole::Driver(Some(("etl", &spec.jobs["etl"]))));
        let e = etl.effective();
        assert_eq!(e.service_account_name.as_deref(), Some("drivers"));
        assert_eq!(e.scheduler_name.as_deref(), Some("batch"));
        assert_eq!(e.env["X"], "job");
        assert_eq!(etl.origin("schedulerName"), "jobs.etl.pod.schedulerName");
        let adhoc = spec.pod_layers(PodRole::Driver(None));
        assert_eq!(
            adhoc.origin("serviceAccountName"),
            "drivers.pod.serviceAccountName"
        );
        let master = spec.pod_layers(PodRole::Master);
        assert_eq!(master.origin("serviceAccountName"), "serviceAccountName");
        assert!(numbered("worker-12", "worker-", ""));
        assert!(numbered("w3-rpc", "w", "-rpc"));
        assert!(!numbered("worker-", "worker-", ""));
    }
}
