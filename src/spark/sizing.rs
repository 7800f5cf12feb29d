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

/// Spark's minimum off-heap allowance for a JVM in a container, in MiB.
pub(crate) const MIN_OVERHEAD_MIB: u64 = 384;
/// Smallest executor heap worth offering: Spark refuses executors under 450 MiB
/// (1.5 x its 300 MiB reserved memory), rounded up.
pub(crate) const MIN_EXECUTOR_MIB: u64 = 512;
/// Smallest heap a master or worker daemon is given.
pub(crate) const MIN_DAEMON_MIB: u64 = 128;
/// Smallest master container: the master's heap is three quarters of it, the rest off-heap.
pub(crate) const MIN_MASTER_MIB: u64 = 512;

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
pub(crate) fn overhead_mib(heap_mib: u64) -> u64 {
    MIN_OVERHEAD_MIB.max(heap_mib / 10)
}

/// The master's heap in a container of `limit_mib`: three quarters, the rest is off-heap.
pub(crate) fn master_heap_mib(limit_mib: u64) -> u64 {
    limit_mib * 3 / 4
}

/// What a worker daemon with this heap takes of its container, off-heap included.
pub(crate) fn daemon_footprint_mib(daemon_mib: u64) -> u64 {
    daemon_mib + overhead_mib(daemon_mib)
}

/// The smallest worker container that still offers the smallest executor.
pub(crate) fn min_worker_limit_mib(daemon_mib: u64) -> u64 {
    daemon_footprint_mib(daemon_mib) + MIN_EXECUTOR_MIB + MIN_OVERHEAD_MIB
}

/// The executor memory a worker offers in a container of `limit_mib` (at least
/// [`min_worker_limit_mib`]): the largest `e` with `e + overhead(e)` beside the daemon.
pub(crate) fn worker_memory_mib(limit_mib: u64, daemon_mib: u64) -> u64 {
    let available_mib = limit_mib.saturating_sub(daemon_footprint_mib(daemon_mib));
    if available_mib >= 10 * MIN_OVERHEAD_MIB + MIN_OVERHEAD_MIB {
        // Past 3840 MiB of heap the 10 % term is the larger one: e * 1.1 <= available.
        available_mib * 10 / 11
    } else {
        available_mib.saturating_sub(MIN_OVERHEAD_MIB)
    }
}
