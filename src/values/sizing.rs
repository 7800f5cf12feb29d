//! The worker and master limits checked against what Spark needs, and turned into the figures
//! the manifests carry (see `spark::sizing` for the rules).

use super::quantity::{MIB, Quantity};
use super::spec::ClusterSpec;
use crate::error::ValueError;
use crate::spark::sizing::{
    MIN_DAEMON_MIB, MIN_EXECUTOR_MIB, MIN_MASTER_MIB, MIN_OVERHEAD_MIB, Sizing, master_heap_mib,
    min_worker_limit_mib, overhead_mib, worker_memory_mib,
};

fn mib(q: &Quantity) -> u64 {
    q.whole() / MIB
}

pub(super) fn compute(spec: &ClusterSpec) -> Result<Sizing, Vec<ValueError>> {
    let mut errors = Vec::new();
    let master = master_heap(spec).map_err(|e| errors.push(e)).ok();
    let worker = worker_offer(spec).map_err(|e| errors.extend(e)).ok();
    match (master, worker) {
        (Some(master_heap_mib), Some((worker_daemon_mib, worker_cores, worker_memory_mib))) => {
            Ok(Sizing {
                master_heap_mib,
                worker_daemon_mib,
                worker_cores,
                worker_memory_mib,
            })
        }
        _ => Err(errors),
    }
}

fn master_heap(spec: &ClusterSpec) -> Result<u64, ValueError> {
    const PATH: &str = "master.resources.limits.memory";
    let limit = spec
        .master
        .resources
        .limits
        .memory
        .as_ref()
        .ok_or_else(|| {
            ValueError::new(
                PATH,
                "missing: the master's heap is sized from its memory limit",
            )
        })?;
    let limit_mib = mib(limit);
    if limit_mib < MIN_MASTER_MIB {
        return Err(ValueError::invalid(
            PATH,
            &format!("{:?}", limit.text()),
            format!("at least {MIN_MASTER_MIB}Mi for the master daemon"),
        ));
    }
    Ok(master_heap_mib(limit_mib))
}

fn worker_offer(spec: &ClusterSpec) -> Result<(u64, u64, u64), Vec<ValueError>> {
    let limits = &spec.workers.resources.limits;
    let mut errors = Vec::new();
    let daemon_mib = mib(&spec.workers.daemon_memory);
    if daemon_mib < MIN_DAEMON_MIB {
        errors.push(ValueError::invalid(
            "workers.daemonMemory",
            &format!("{:?}", spec.workers.daemon_memory.text()),
            format!("at least {MIN_DAEMON_MIB}Mi"),
        ));
    }
    let cores = match &limits.cpu {
        None => {
            errors.push(ValueError::new(
                "workers.resources.limits.cpu",
                "missing: SPARK_WORKER_CORES is computed from the worker's CPU limit",
            ));
            None
        }
        Some(cpu) if cpu.whole() < 1 => {
            errors.push(ValueError::invalid(
                "workers.resources.limits.cpu",
                &format!("{:?}", cpu.text()),
                "at least 1, since a worker offers whole cores",
            ));
            None
        }
        Some(cpu) => Some(cpu.whole()),
    };
    let needed = min_worker_limit_mib(daemon_mib);
    let memory = match &limits.memory {
        None => {
            errors.push(ValueError::new(
                "workers.resources.limits.memory",
                "missing: SPARK_WORKER_MEMORY is computed from the worker's memory limit",
            ));
            None
        }
        Some(limit) if mib(limit) < needed => {
            errors.push(ValueError::invalid(
                "workers.resources.limits.memory",
                &format!("{:?}", limit.text()),
                format!(
                    "at least {needed}Mi ({daemon_mib}Mi worker daemon heap + {}Mi its off-heap \
                     + {MIN_EXECUTOR_MIB}Mi smallest executor heap + {MIN_OVERHEAD_MIB}Mi its off-heap)",
                    overhead_mib(daemon_mib)
                ),
            ));
            None
        }
        Some(limit) => Some(worker_memory_mib(mib(limit), daemon_mib)),
    };
    match (cores, memory) {
        (Some(c), Some(m)) if errors.is_empty() => Ok((daemon_mib, c, m)),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spark::sizing::daemon_footprint_mib;

    fn with_worker_limits(cpu: &str, memory: &str) -> ClusterSpec {
        let mut spec = ClusterSpec::default();
        spec.workers.resources.limits.cpu = Some(Quantity::parse(cpu).unwrap());
        spec.workers.resources.limits.memory = Some(Quantity::parse(memory).unwrap());
        spec
    }

    #[test]
    fn a_worker_never_offers_more_than_its_pod_has() {
        for gib in [2u64, 3, 4, 6, 8, 16, 64, 256] {
            let spec = with_worker_limits("4", &format!("{gib}Gi"));
            let s = compute(&spec).unwrap();
            let used = daemon_footprint_mib(s.worker_daemon_mib)
                + s.worker_memory_mib
                + overhead_mib(s.worker_memory_mib);
            assert!(used <= gib * 1024, "{gib}Gi: {used}Mi used");
            // and it does not waste more than a rounding step
            assert!(gib * 1024 - used <= 12, "{gib}Gi: {used}Mi used");
        }
    }

    #[test]
    fn figures_for_the_profiles() {
        let s = compute(&with_worker_limits("1", "2Gi")).unwrap();
        assert_eq!((s.worker_cores, s.worker_memory_mib), (1, 1024));
        let s = compute(&with_worker_limits("2500m", "16Gi")).unwrap();
        assert_eq!((s.worker_cores, s.worker_memory_mib), (2, 14312));
        assert_eq!(s.master_heap_mib, 768);
    }

    #[test]
    fn too_small_limits_are_explained() {
        let errors = compute(&with_worker_limits("500m", "1Gi")).unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(text[0].starts_with("workers.resources.limits.cpu: invalid value \"500m\""));
        assert!(text[1].contains("at least 1536Mi"), "{}", text[1]);
    }
}
