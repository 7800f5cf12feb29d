//! How the workers are drained and scaled: their PodDisruptionBudget and autoscaler.

use std::collections::BTreeMap;

use serde::Serialize;

use super::component::Component;
use crate::values::spec::{ClusterSpec, WorkloadKind};

#[derive(Debug, Serialize)]
pub(crate) struct Scaling {
    pub workload: String,
    pub selector: BTreeMap<String, String>,
    /// Two workers or more (or an autoscaler's minimum of two): one may go at a time.
    pub disruption_budget: bool,
    pub autoscaler: Option<Autoscaler>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Autoscaler {
    pub kind: WorkloadKind,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub target_cpu_utilization: u32,
}

pub(crate) fn scaling(spec: &ClusterSpec) -> Scaling {
    let w = &spec.workers;
    let auto = &w.autoscaling;
    let fewest = match auto.enabled {
        true => auto.min_replicas,
        false => w.replicas,
    };
    Scaling {
        workload: Component::Worker.object_name(&spec.name),
        selector: Component::Worker.selector(&spec.name),
        disruption_budget: w.disruption_budget && fewest >= 2,
        autoscaler: auto.enabled.then_some(Autoscaler {
            kind: w.kind,
            min_replicas: auto.min_replicas,
            max_replicas: auto.max_replicas,
            target_cpu_utilization: auto.target_cpu_utilization,
        }),
    }
}
