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
//! - the executors' off-heap, for every executor the worker can host: one per
//!   `spark.executor.cores` of its cores (one per core when that is unset), since each
//!   application gets its own executors.
//!
//! For every JVM the off-heap allowance is Spark's own rule for container overhead
//! (`spark.executor.memoryOverhead`): the larger of 384 MiB and 10 % of the heap. The worker
//! therefore offers the largest `E` that `k` executors can share, each with its own off-heap:
//! `D + max(384, D/10) + E + k * max(384, E/k/10) <= L`.
//! Standalone mode does not count executor overhead against the worker memory, which is exactly
//! why it is subtracted here.

/// Spark's minimum off-heap allowance for a JVM in a container, in MiB.
pub(crate) const MIN_OVERHEAD_MIB: u64 = 384;
/// Smallest executor heap worth offering: Spark refuses executors under 450 MiB
/// (1.5 x its 300 MiB reserved memory), rounded up.
pub(crate) const MIN_EXECUTOR_MIB: u64 = 512;
/// Smallest driver heap: Spark refuses a driver whose JVM has under 450 MiB (1.5 x its 300 MiB
/// reserved memory), and a JVM's `Runtime.maxMemory` is a few percent under its `-Xmx`.
pub(crate) const MIN_DRIVER_HEAP_MIB: u64 = 512;
/// Smallest driver container: that heap and its 384 MiB off-heap.
pub(crate) const MIN_DRIVER_MIB: u64 = MIN_DRIVER_HEAP_MIB + MIN_OVERHEAD_MIB;
/// Smallest heap a master or worker daemon is given.
pub(crate) const MIN_DAEMON_MIB: u64 = 128;
/// Smallest master container: a heap of 128 MiB and its 384 MiB off-heap.
pub(crate) const MIN_MASTER_MIB: u64 = MIN_DAEMON_MIB + MIN_OVERHEAD_MIB;

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

/// The master's heap in a container of `limit_mib`: the largest `h` with `h + overhead(h)`
/// inside it, the same rule as for every other JVM.
pub(crate) fn master_heap_mib(limit_mib: u64) -> u64 {
    heaps_mib(limit_mib, 1)
}

/// The largest total heap `m` that `jvms` JVMs sharing it equally can have with their off-heap
/// inside `available_mib`: `m + jvms * max(384, m / jvms / 10) <= available`, that is
/// `m + max(384 * jvms, m / 10) <= available`.
fn heaps_mib(available_mib: u64, jvms: u64) -> u64 {
    let floor = MIN_OVERHEAD_MIB * jvms.max(1);
    if available_mib >= 11 * floor {
        // Past 10 x the floor of heap the 10 % term is the larger one: m * 1.1 <= available.
        available_mib * 10 / 11
    } else {
        available_mib.saturating_sub(floor)
    }
}

/// What a worker daemon with this heap takes of its container, off-heap included.
pub(crate) fn daemon_footprint_mib(daemon_mib: u64) -> u64 {
    daemon_mib + overhead_mib(daemon_mib)
}

/// How many executors a worker of `cores` can host at once: one per `executor_cores` (several
/// applications each get their own), or one per core when applications choose their own.
pub(crate) fn executors_per_worker(cores: u64, executor_cores: Option<u64>) -> u64 {
    (cores / executor_cores.unwrap_or(1).max(1)).max(1)
}

/// The smallest worker container that still offers the smallest executor beside the off-heap
/// of every executor it can host.
pub(crate) fn min_worker_limit_mib(daemon_mib: u64, executors: u64) -> u64 {
    daemon_footprint_mib(daemon_mib) + MIN_EXECUTOR_MIB + MIN_OVERHEAD_MIB * executors.max(1)
}

/// The executor memory a worker offers in a container of `limit_mib` (at least
/// [`min_worker_limit_mib`]): the most that `executors` executor JVMs can share with their
/// off-heap beside the daemon.
pub(crate) fn worker_memory_mib(limit_mib: u64, daemon_mib: u64, executors: u64) -> u64 {
    heaps_mib(
        limit_mib.saturating_sub(daemon_footprint_mib(daemon_mib)),
        executors,
    )
}
