//! What a role's `pod` values add to the pods sparkup builds: the user's volumes, init
//! containers and sidecars, scheduling and DNS settings, and, on sparkup's own containers, the
//! mounts, ports, hooks and probe timings.
//!
//! The values stage checked every name against sparkup's own, so this only lays the additions
//! beside sparkup's parts; sparkup's containers keep their security context whatever is added,
//! and the user's containers are the user's, as written (sidecars get `restartPolicy: Always`,
//! which is what makes them sidecars).

use k8s_openapi::api::core::v1::{Container as KubeContainer, Probe};

use super::pod::{Container, Pod, PodExtras};
use crate::values::pods::{PodValues, ProbeTiming};

/// Adds `values` to `pod`: the pod's own settings, and the mounts and probe timings on every
/// sparkup container; the ports and hooks go to the pod's main containers only (a job's extra
/// workers are workers, whose ports and shutdown are sparkup's).
pub(crate) fn extend(pod: &mut Pod, values: &PodValues) {
    let sidecars = values.sidecars.iter().flatten().map(|c| KubeContainer {
        restart_policy: Some("Always".into()),
        ..c.clone()
    });
    pod.extras = PodExtras {
        volumes: values.extra_volumes.clone().unwrap_or_default(),
        init_containers: values
            .init_containers
            .iter()
            .flatten()
            .cloned()
            .chain(sidecars)
            .collect(),
        priority_class_name: values.priority_class_name.clone(),
        scheduler_name: values.scheduler_name.clone(),
        runtime_class_name: values.runtime_class_name.clone(),
        service_account_name: values.service_account_name.clone(),
        topology_spread_constraints: values
            .topology_spread_constraints
            .clone()
            .unwrap_or_default(),
        host_aliases: values.host_aliases.clone().unwrap_or_default(),
        dns_config: values.dns_config.clone(),
    };
    for container in &mut pod.containers {
        container.extra_ports = values.extra_ports.clone().unwrap_or_default();
        container.lifecycle = values.lifecycle.clone();
    }
    for container in pod.containers.iter_mut().chain(&mut pod.init_containers) {
        container.extra_mounts = values.extra_volume_mounts.clone().unwrap_or_default();
        with_timings(container, values);
    }
}

/// The user's timings over sparkup's, field by field.
fn with_timings(container: &mut Container, values: &PodValues) {
    let overrides = &values.probes;
    for (probe, timing) in [
        (&mut container.startup, &overrides.startup),
        (&mut container.readiness, &overrides.readiness),
        (&mut container.liveness, &overrides.liveness),
    ] {
        if let Some(probe) = probe {
            set_timing(probe, timing);
        }
    }
}

fn set_timing(probe: &mut Probe, timing: &ProbeTiming) {
    let int = |v: Option<u32>| v.map(|v| i32::try_from(v).unwrap_or(i32::MAX));
    let pairs = [
        (
            &mut probe.initial_delay_seconds,
            timing.initial_delay_seconds,
        ),
        (&mut probe.period_seconds, timing.period_seconds),
        (&mut probe.timeout_seconds, timing.timeout_seconds),
        (&mut probe.success_threshold, timing.success_threshold),
        (&mut probe.failure_threshold, timing.failure_threshold),
    ];
    for (field, value) in pairs {
        if let Some(value) = int(value) {
            *field = Some(value);
        }
    }
}
