//! What each Spark daemon may use, derived from its container's limits.
//!
//! A standalone worker offers `SPARK_WORKER_CORES` and `SPARK_WORKER_MEMORY` to applications and
//! starts executor JVMs inside its own container, so whatever it offers must fit in the pod beside
//! the worker daemon itself. Offering more gets executors OOM-killed by the kubelet, which Spark
//! reports only as lost executors.
//!
//! Memory accounting in a worker container, for a limit `L`:
//! - the worker daemon's heap `D` (`workers.daemonMemory`, `SPARK_DAEMON_MEMORY`);
//! - the daemon JVM's off-heap (metaspace, code cache, thread stacks, direct buffers);
//! - the executors' heaps, which is what the worker offers (`SPARK_WORKER_MEMORY`);
//! - the executors' off-heap.
//!
//! For both JVMs the off-heap allowance is Spark's own rule for container overhead
//! (`spark.executor.memoryOverhead`): the larger of 384 MiB and 10 % of the heap. The worker
//! therefore offers the largest `E` with `D + max(384, D/10) + E + max(384, E/10) <= L`.
//! Standalone mode does not count executor overhead against the worker memory, which is exactly
//! why it is subtracted here.

use crate::error::ValueError;
use crate::quantity::{MIB, Quantity};
use crate::spec::ClusterSpec;

/// Spark's minimum off-heap allowance for a JVM in a container, in MiB.
pub const MIN_OVERHEAD_MIB: u64 = 384;
/// Smallest executor heap worth offering: Spark refuses executors under 450 MiB
/// (1.5 x its 300 MiB reserved memory), rounded up.
pub const MIN_EXECUTOR_MIB: u64 = 512;
/// Smallest heap a master or worker daemon is given.
pub const MIN_DAEMON_MIB: u64 = 128;
/// Smallest master container: the master's heap is three quarters of it, the rest off-heap.
pub const MIN_MASTER_MIB: u64 = 512;

/// Derived settings, visible in the rendered manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizing {
    /// Master daemon heap (`SPARK_DAEMON_MEMORY` of the master).
    pub master_heap_mib: u64,
    /// Worker daemon heap (`SPARK_DAEMON_MEMORY` of a worker).
    pub worker_daemon_mib: u64,
    /// Cores a worker offers (`SPARK_WORKER_CORES`).
    pub worker_cores: u64,
    /// Executor memory a worker offers (`SPARK_WORKER_MEMORY`).
    pub worker_memory_mib: u64,
}

/// Off-heap allowance for a JVM with this heap.
pub fn overhead_mib(heap_mib: u64) -> u64 {
    MIN_OVERHEAD_MIB.max(heap_mib / 10)
}

/// Largest executor heap `e` with `e + overhead(e) <= available`.
fn executor_heap_mib(available_mib: u64) -> u64 {
    if available_mib >= 10 * MIN_OVERHEAD_MIB + MIN_OVERHEAD_MIB {
        // Past 3840 MiB of heap the 10 % term is the larger one: e * 1.1 <= available.
        available_mib * 10 / 11
    } else {
        available_mib.saturating_sub(MIN_OVERHEAD_MIB)
    }
}

fn mib(q: &Quantity) -> u64 {
    q.whole() / MIB
}

pub fn compute(spec: &ClusterSpec) -> Result<Sizing, Vec<ValueError>> {
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
    Ok(limit_mib * 3 / 4)
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
    let daemon_footprint = daemon_mib + overhead_mib(daemon_mib);
    let needed = daemon_footprint + MIN_EXECUTOR_MIB + MIN_OVERHEAD_MIB;
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
        Some(limit) => Some(executor_heap_mib(mib(limit) - daemon_footprint)),
    };
    match (cores, memory) {
        (Some(c), Some(m)) if errors.is_empty() => Ok((daemon_mib, c, m)),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let used = s.worker_daemon_mib
                + overhead_mib(s.worker_daemon_mib)
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
