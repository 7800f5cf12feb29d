//! How the workers are drained and scaled: their PodDisruptionBudget and autoscaler, a
//! HorizontalPodAutoscaler on their CPU or a KEDA ScaledObject on the applications' demand.
//!
//! Demand: KEDA reads the master's `/json/` through its Service and counts the applications it
//! holds, waiting or running (`activeapps.#`, a GJSON path). Each asks for `spark.cores.max`
//! cores, so the cores wanted are `apps * cores`: that is the formula, and a worker's cores the
//! average value each replica should carry. The HPA behind the ScaledObject then computes
//! `ceil(apps * cores / worker cores)` workers (its rule for an `AverageValue` target), the
//! fewest that hold every application's cores, within the bounds; with no application the value
//! is 0 and KEDA takes the workers to `minReplicas`, zero included, after the cooldown.

use std::collections::BTreeMap;

use serde::Serialize;

use super::component::Component;
use crate::values::Cluster;
use crate::values::spec::{ClusterSpec, WorkloadKind};

/// The GJSON path KEDA reads in the master's `/json/`: how many applications it holds, waiting
/// for cores or running.
pub(crate) const DEMAND_VALUE_LOCATION: &str = "activeapps.#";
/// The name of the one trigger, as the formula uses it.
pub(crate) const DEMAND_TRIGGER: &str = "apps";

#[derive(Debug, Serialize)]
pub(crate) struct Scaling {
    pub workload: String,
    pub selector: BTreeMap<String, String>,
    /// Two workers or more (or an autoscaler's maximum of two): one may go at a time.
    pub disruption_budget: bool,
    pub autoscaler: Option<Autoscaler>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Autoscaler {
    pub kind: WorkloadKind,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub target_cpu_utilization: u32,
    /// KEDA's ScaledObject instead of a HorizontalPodAutoscaler.
    pub demand: Option<Demand>,
}

/// What the ScaledObject says.
#[derive(Debug, Serialize)]
pub(crate) struct Demand {
    /// The master's `/json/` through its Service, from KEDA's namespace.
    pub url: String,
    pub value_location: &'static str,
    pub trigger: &'static str,
    /// `apps * <cores per application>`: the cores the applications ask for.
    pub formula: String,
    /// The cores one worker offers: the value each worker carries (a quantity, as KEDA takes
    /// it).
    pub target: String,
    pub polling_interval: u32,
    pub cooldown_period: u32,
    pub scale_down_stabilization: u32,
    /// One worker goes per this many seconds: the time one takes to decommission.
    pub scale_down_period: u32,
    /// With HTTPS UIs, KEDA skips verifying the master's certificate.
    pub unsafe_ssl: bool,
}

pub(crate) fn scaling(cluster: &Cluster) -> Scaling {
    let spec = &cluster.spec;
    let w = &spec.workers;
    let auto = &w.autoscaling;
    Scaling {
        workload: Component::Worker.object_name(&spec.name),
        selector: Component::Worker.selector(&spec.name),
        disruption_budget: w.disruption_budget && w.most() >= 2,
        autoscaler: auto.enabled.then(|| Autoscaler {
            kind: w.kind,
            min_replicas: auto.min_replicas,
            max_replicas: auto.max_replicas,
            target_cpu_utilization: auto.target_cpu_utilization,
            demand: w
                .scaled_on_demand()
                .then(|| demand(spec, cluster.sizing.worker_cores)),
        }),
    }
}

fn demand(spec: &ClusterSpec, worker_cores: u64) -> Demand {
    let d = &spec.workers.autoscaling.demand;
    let tls = spec.security.tls.ui_on();
    let url = format!(
        "{}://{}.{}.svc:{}/json/",
        if tls { "https" } else { "http" },
        Component::Master.object_name(&spec.name),
        spec.namespace,
        spec.master.ports.http
    );
    // Validated: demand scaling has the cores of an application.
    let cores = spec.cores_per_application().unwrap_or(1);
    Demand {
        url,
        value_location: DEMAND_VALUE_LOCATION,
        trigger: DEMAND_TRIGGER,
        formula: format!("{DEMAND_TRIGGER} * {cores}"),
        target: worker_cores.max(1).to_string(),
        polling_interval: d.polling_interval_seconds,
        cooldown_period: d.cooldown_period_seconds,
        scale_down_stabilization: d.scale_down_stabilization_seconds,
        scale_down_period: spec
            .workers
            .termination_grace_period_seconds
            .clamp(15, 1800),
        unsafe_ssl: tls && d.insecure_skip_verify,
    }
}
