//! The master's and the workers' pods: resources, ports, scheduling, the autoscaler.

use super::*;

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

/// The autoscaler's bounds and target, and the CPU request it measures against.
fn check_autoscaling(spec: &ClusterSpec, r: &mut Report) {
    let workers = &spec.workers;
    let auto = &workers.autoscaling;
    if !auto.enabled {
        return;
    }
    if auto.min_replicas < 1 || auto.min_replicas > MAX_REPLICAS {
        r.number(
            "workers.autoscaling.minReplicas",
            auto.min_replicas,
            format!("an integer from 1 to {MAX_REPLICAS}"),
        );
    }
    if auto.max_replicas < auto.min_replicas || auto.max_replicas > MAX_REPLICAS {
        r.number(
            "workers.autoscaling.maxReplicas",
            auto.max_replicas,
            format!(
                "an integer from minReplicas ({}) to {MAX_REPLICAS}",
                auto.min_replicas
            ),
        );
    }
    if !(1..=100).contains(&auto.target_cpu_utilization) {
        r.number(
            "workers.autoscaling.targetCpuUtilization",
            auto.target_cpu_utilization,
            "a percentage of the workers' CPU requests from 1 to 100",
        );
    }
    if workers.resources.requests.cpu.is_none() {
        r.0.push(ValueError::new(
            "workers.resources.requests.cpu",
            "missing: the autoscaler measures CPU use against the workers' CPU request",
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
