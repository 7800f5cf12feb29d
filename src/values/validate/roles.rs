//! The master's and the workers' pods: resources, ports, scheduling, the autoscaler.

use super::*;
use crate::values::spec::AutoscalingMode;

pub(super) fn check_roles(spec: &ClusterSpec, tree: &Value, r: &mut Report) {
    let master = &spec.master;
    let workers = &spec.workers;
    check_resources(r, "master.resources", &master.resources);
    check_resources(r, "workers.resources", &workers.resources);
    check_ports(r, "master.ports", &master.ports);
    check_ports(r, "workers.ports", &workers.ports);
    check_metadata(
        r,
        "master.service.annotations",
        &master.service.annotations,
        false,
    );
    if workers.termination_grace_period_seconds > 3600 {
        r.number(
            "workers.terminationGracePeriodSeconds",
            workers.termination_grace_period_seconds,
            "at most 3600 seconds",
        );
    }
    check_autoscaling(spec, r);
    if workers.replicas > MAX_REPLICAS {
        r.number(
            "workers.replicas",
            workers.replicas,
            format!("an integer from 0 to {MAX_REPLICAS}"),
        );
    }
    for (role, node_selector, pod_labels, pod_annotations, tolerations, affinity) in [
        (
            "master",
            &master.node_selector,
            &master.pod_labels,
            &master.pod_annotations,
            &master.tolerations,
            &master.affinity,
        ),
        (
            "workers",
            &workers.node_selector,
            &workers.pod_labels,
            &workers.pod_annotations,
            &workers.tolerations,
            &workers.affinity,
        ),
    ] {
        check_metadata(r, &format!("{role}.nodeSelector"), node_selector, true);
        check_metadata(r, &format!("{role}.podLabels"), pod_labels, true);
        check_metadata(r, &format!("{role}.podAnnotations"), pod_annotations, false);
        check_kubernetes_fields(r, tree, &format!("{role}.tolerations"), tolerations);
        check_tolerations(r, &format!("{role}.tolerations"), tolerations);
        check_kubernetes_fields(r, tree, &format!("{role}.affinity"), affinity);
    }
}

/// The autoscaler's bounds, and what its mode measures: the CPU request, or the cores an
/// application asks for.
fn check_autoscaling(spec: &ClusterSpec, r: &mut Report) {
    let workers = &spec.workers;
    let auto = &workers.autoscaling;
    if !auto.enabled {
        return;
    }
    let demand = auto.mode == AutoscalingMode::Demand;
    // Only KEDA takes a workload to zero and back: an HPA's minimum is 1.
    let fewest = u32::from(!demand);
    if auto.min_replicas < fewest || auto.min_replicas > MAX_REPLICAS {
        r.number(
            "workers.autoscaling.minReplicas",
            auto.min_replicas,
            format!("an integer from {fewest} to {MAX_REPLICAS}"),
        );
    }
    let least_max = auto.min_replicas.max(1);
    if auto.max_replicas < least_max || auto.max_replicas > MAX_REPLICAS {
        r.number(
            "workers.autoscaling.maxReplicas",
            auto.max_replicas,
            format!("an integer from {least_max} (minReplicas, at least 1) to {MAX_REPLICAS}"),
        );
    }
    match demand {
        true => check_demand(spec, r),
        false => check_cpu_autoscaling(spec, r),
    }
}

fn check_cpu_autoscaling(spec: &ClusterSpec, r: &mut Report) {
    let auto = &spec.workers.autoscaling;
    if !(1..=100).contains(&auto.target_cpu_utilization) {
        r.number(
            "workers.autoscaling.targetCpuUtilization",
            auto.target_cpu_utilization,
            "a percentage of the workers' CPU requests from 1 to 100",
        );
    }
    if spec.workers.resources.requests.cpu.is_none() {
        r.0.push(ValueError::new(
            "workers.resources.requests.cpu",
            "missing: the autoscaler measures CPU use against the workers' CPU request",
        ));
    }
}

/// KEDA's timings, its namespace, and the cores one application asks for, without which demand
/// has no bound.
fn check_demand(spec: &ClusterSpec, r: &mut Report) {
    let demand = &spec.workers.autoscaling.demand;
    let at = |field: &str| format!("workers.autoscaling.demand.{field}");
    for (field, value, max) in [
        (
            "pollingIntervalSeconds",
            demand.polling_interval_seconds,
            3600,
        ),
        (
            "cooldownPeriodSeconds",
            demand.cooldown_period_seconds,
            86400,
        ),
        (
            "scaleDownStabilizationSeconds",
            demand.scale_down_stabilization_seconds,
            3600,
        ),
    ] {
        let least = u32::from(field == "pollingIntervalSeconds");
        if !(least..=max).contains(&value) {
            r.number(at(field), value, format!("seconds from {least} to {max}"));
        }
    }
    if !is_dns1123_label(&demand.keda_namespace) {
        r.invalid(
            at("kedaNamespace"),
            &demand.keda_namespace,
            "the namespace KEDA's operator runs in, such as keda",
        );
    }
    if demand.cores_per_application == Some(0) {
        r.number(at("coresPerApplication"), 0, "an integer of 1 or more");
    } else if spec.cores_per_application().is_none() {
        r.0.push(ValueError::new(
            at("coresPerApplication"),
            "missing: demand scaling counts the cores each application asks for, and an \
             application without spark.cores.max takes every core of every worker; set \
             sparkConf.spark.cores.max (which every application then gets) or this",
        ));
    }
}

/// `tolerations` and `affinity` are typed by k8s-openapi, which skips unknown keys; a typo there
/// (`nodeSelectorTerm`) would silently drop a scheduling rule. Compare what was written with what
/// the type kept and name the first key that was lost.
pub(super) fn check_kubernetes_fields(
    r: &mut Report,
    tree: &Value,
    path: &str,
    typed: &impl Serialize,
) {
    let pointer = format!("/{}", path.replace('.', "/"));
    let (Some(written), Ok(kept)) = (tree.pointer(&pointer), serde_json::to_value(typed)) else {
        return;
    };
    if let Some(lost) = first_lost_key(written, &kept, path.to_string()) {
        r.0.push(ValueError::new(lost, "unknown field"));
    } else if let Some(missing) = first_defaulted_key(written, &kept, path.to_string()) {
        r.0.push(ValueError::new(missing, "missing: a required field"));
    }
}

/// What the API server checks of a toleration, checked before anything is applied.
pub(super) fn check_tolerations(r: &mut Report, path: &str, tolerations: &[Toleration]) {
    for (i, t) in tolerations.iter().enumerate() {
        let at = |field: &str| format!("{path}[{i}].{field}");
        let operator = t.operator.as_deref().unwrap_or("Equal");
        if !["Equal", "Exists"].contains(&operator) {
            r.invalid(at("operator"), operator, "one of Equal, Exists");
        }
        let effect = t.effect.as_deref().unwrap_or("");
        if !["", "NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect) {
            r.invalid(
                at("effect"),
                effect,
                "one of NoSchedule, PreferNoSchedule, NoExecute (or none for all)",
            );
        }
        if operator == "Exists" && t.value.as_deref().is_some_and(|v| !v.is_empty()) {
            r.invalid(
                at("value"),
                t.value.as_deref().unwrap_or(""),
                "no value with operator Exists",
            );
        }
        if t.key.as_deref().unwrap_or("").is_empty() && operator != "Exists" {
            r.invalid(at("operator"), operator, "Exists when there is no key");
        }
        if let Some(seconds) = t.toleration_seconds
            && effect != "NoExecute"
        {
            r.number(
                at("tolerationSeconds"),
                seconds,
                "no tolerationSeconds unless effect is NoExecute",
            );
        }
    }
}

pub(super) fn check_resources(r: &mut Report, path: &str, resources: &Resources) {
    let pairs = [
        ("cpu", &resources.requests.cpu, &resources.limits.cpu),
        (
            "memory",
            &resources.requests.memory,
            &resources.limits.memory,
        ),
    ];
    for (name, request, limit) in pairs {
        if let (Some(request), Some(limit)) = (request, limit)
            && request.millis() > limit.millis()
        {
            r.invalid(
                format!("{path}.requests.{name}"),
                request.text(),
                format!("at most the limit {}", limit.text()),
            );
        }
    }
}

pub(super) fn check_ports(r: &mut Report, path: &str, ports: &Ports) {
    for (name, port) in [("rpc", ports.rpc), ("http", ports.http)] {
        if port == 0 {
            r.number(format!("{path}.{name}"), 0, "a port from 1 to 65535");
        }
    }
    if ports.rpc == ports.http {
        r.number(
            format!("{path}.http"),
            ports.http,
            format!("a port other than {path}.rpc ({})", ports.rpc),
        );
    }
}
