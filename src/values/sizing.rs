//! The worker and master limits checked against what Spark needs, and turned into the figures
//! the manifests carry (see `spark::sizing` for the rules).

use super::quantity::{MIB, Quantity};
use super::spec::{ClusterSpec, JobSpec, Resources};
use std::collections::BTreeMap;

use crate::error::{ValueError, path_key};
use crate::spark::fit::{self, Capacity};
use crate::spark::sizing::{
    MIN_DAEMON_MIB, MIN_DRIVER_HEAP_MIB, MIN_DRIVER_MIB, MIN_EXECUTOR_MIB, MIN_MASTER_MIB,
    MIN_OVERHEAD_MIB, Sizing, executors_per_worker, master_heap_mib, min_worker_limit_mib,
    overhead_mib, worker_memory_mib,
};

fn mib(q: &Quantity) -> u64 {
    q.whole() / MIB
}

/// Every driver (each job's, the Connect server) and the history server has at least the
/// memory its JVM needs: a driver with a heap under Spark's floor dies at start with
/// `INVALID_DRIVER_MEMORY`. A container without a memory limit gets Spark's defaults.
pub(super) fn check_jvm_floors(spec: &ClusterSpec) -> Vec<ValueError> {
    let mut errors = Vec::new();
    let mut check = |path: String, resources: &Resources, floor: u64, why: &str| {
        let Some(limit) = &resources.limits.memory else {
            return;
        };
        if mib(limit) < floor {
            errors.push(ValueError::invalid(
                format!("{path}.resources.limits.memory"),
                &format!("{:?}", limit.text()),
                format!("at least {floor}Mi: {why}"),
            ));
        }
    };
    let driver = format!(
        "the driver's heap would be under {MIN_DRIVER_HEAP_MIB}m, and Spark refuses a driver \
         whose JVM has less than 450 MiB (INVALID_DRIVER_MEMORY)"
    );
    for (name, job) in &spec.jobs {
        check(
            path_key("jobs", name),
            &job.resources,
            MIN_DRIVER_MIB,
            &driver,
        );
    }
    if spec.connect.enabled {
        check(
            "connect".into(),
            &spec.connect.resources,
            MIN_DRIVER_MIB,
            &driver,
        );
    }
    if spec.history.enabled {
        let daemon = "the history server's heap and its off-heap";
        check(
            "history".into(),
            &spec.history.resources,
            MIN_MASTER_MIB,
            daemon,
        );
    }
    errors
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
    let mut errors = Vec::new();
    let daemon_mib = mib(&spec.workers.daemon_memory);
    if daemon_mib < MIN_DAEMON_MIB {
        errors.push(ValueError::invalid(
            "workers.daemonMemory",
            &format!("{:?}", spec.workers.daemon_memory.text()),
            format!("at least {MIN_DAEMON_MIB}Mi"),
        ));
    }
    let cores = worker_cores(spec).map_err(|e| errors.push(e)).ok();
    let executor_cores = executor_cores(spec).map_err(|e| errors.push(e)).ok();
    let executors = executors_per_worker(cores.unwrap_or(1), executor_cores.flatten());
    let memory = worker_memory(spec, daemon_mib, executors)
        .map_err(|e| errors.push(e))
        .ok();
    match (cores, memory) {
        (Some(c), Some(m)) if errors.is_empty() => Ok((daemon_mib, c, m)),
        _ => Err(errors),
    }
}

fn worker_cores(spec: &ClusterSpec) -> Result<u64, ValueError> {
    const PATH: &str = "workers.resources.limits.cpu";
    match &spec.workers.resources.limits.cpu {
        None => Err(ValueError::new(
            PATH,
            "missing: SPARK_WORKER_CORES is computed from the worker's CPU limit",
        )),
        Some(cpu) if cpu.whole() < 1 => Err(ValueError::invalid(
            PATH,
            &format!("{:?}", cpu.text()),
            "at least 1, since a worker offers whole cores",
        )),
        Some(cpu) => Ok(cpu.whole()),
    }
}

/// `spark.executor.cores` from `sparkConf`, if set: how many executors one worker can host.
fn executor_cores(spec: &ClusterSpec) -> Result<Option<u64>, ValueError> {
    const KEY: &str = "spark.executor.cores";
    let Some(text) = spec.spark_conf.get(KEY) else {
        return Ok(None);
    };
    match text.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(Some(n)),
        _ => Err(ValueError::invalid(
            format!("sparkConf.{KEY}"),
            &crate::error::quote(text),
            "a whole number of cores, at least 1",
        )),
    }
}

fn worker_memory(spec: &ClusterSpec, daemon_mib: u64, executors: u64) -> Result<u64, ValueError> {
    const PATH: &str = "workers.resources.limits.memory";
    let Some(limit) = &spec.workers.resources.limits.memory else {
        return Err(ValueError::new(
            PATH,
            "missing: SPARK_WORKER_MEMORY is computed from the worker's memory limit",
        ));
    };
    let needed = min_worker_limit_mib(daemon_mib, executors);
    if mib(limit) < needed {
        let off_heap = match executors {
            1 => format!("{MIN_OVERHEAD_MIB}Mi its off-heap"),
            k => format!(
                "{}Mi the off-heap of the {k} executors it can host",
                k * MIN_OVERHEAD_MIB
            ),
        };
        return Err(ValueError::invalid(
            PATH,
            &format!("{:?}", limit.text()),
            format!(
                "at least {needed}Mi ({daemon_mib}Mi worker daemon heap + {}Mi its off-heap \
                 + {MIN_EXECUTOR_MIB}Mi smallest executor heap + {off_heap})",
                overhead_mib(daemon_mib)
            ),
        ));
    }
    Ok(worker_memory_mib(mib(limit), daemon_mib, executors))
}

/// What the cluster offers `job`, with the extra workers it brings (none for the Connect
/// server): the standing workers' sizes, and the most GPUs any of its workers has.
pub(crate) fn capacity(spec: &ClusterSpec, sizing: &Sizing, job: Option<&JobSpec>) -> Capacity {
    let extra_workers = job.map_or(0, |j| j.workers);
    let extra_gpus = match job {
        Some(job) if job.workers > 0 => spec.workers.extra_worker_gpus(job),
        _ => 0,
    };
    Capacity {
        worker_cores: sizing.worker_cores,
        worker_memory_mib: sizing.worker_memory_mib,
        workers: u64::from(spec.workers.most()) + u64::from(extra_workers),
        worker_gpus: u64::from(spec.workers.gpus.max(extra_gpus)),
    }
}

/// Every defined application (`jobs`, the Connect server) checked against what the workers offer:
/// one that can never get an executor is refused here, before anything is applied.
pub(super) fn check_applications(spec: &ClusterSpec, sizing: &Sizing) -> Vec<ValueError> {
    let mut errors = Vec::new();
    let mut check = |owner: String, own: &BTreeMap<String, String>, job: Option<&JobSpec>| {
        let mut conf = spec.spark_conf.clone();
        conf.extend(own.clone());
        let capacity = capacity(spec, sizing, job);
        for misfit in fit::check(&conf, &capacity) {
            let field = match own.contains_key(misfit.key) {
                true => path_key(&format!("{owner}.conf"), misfit.key),
                false => format!("{} (for {owner})", path_key("sparkConf", misfit.key)),
            };
            errors.push(ValueError::invalid(
                field,
                &crate::error::quote(&misfit.value),
                misfit.expected,
            ));
        }
    };
    for (name, job) in &spec.jobs {
        check(path_key("jobs", name), &job.conf, Some(job));
    }
    if spec.connect.enabled {
        check("connect".into(), &spec.connect.conf, None);
    }
    errors
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

    /// What the daemon and `executors` executors sharing the offered memory equally take.
    fn used_mib(s: &Sizing, executors: u64) -> u64 {
        let each = s.worker_memory_mib / executors;
        daemon_footprint_mib(s.worker_daemon_mib) + executors * (each + overhead_mib(each))
    }

    #[test]
    fn a_worker_never_offers_more_than_its_pod_has() {
        for gib in [3u64, 4, 6, 8, 16, 64, 256] {
            for cores in 1..=4u64 {
                for executor_cores in [None, Some(1), Some(2)] {
                    let mut spec = with_worker_limits(&cores.to_string(), &format!("{gib}Gi"));
                    if let Some(n) = executor_cores {
                        spec.spark_conf
                            .insert("spark.executor.cores".into(), n.to_string());
                    }
                    let s = compute(&spec).unwrap();
                    let k = executors_per_worker(cores, executor_cores);
                    let used = used_mib(&s, k);
                    let case = format!("{gib}Gi, {cores} cores, {executor_cores:?}: {used}Mi used");
                    assert!(used <= gib * 1024, "{case}");
                    // and it does not waste more than a rounding step per executor
                    assert!(gib * 1024 - used <= 12 * k, "{case}");
                }
            }
        }
    }

    /// A 4Gi worker of 2 cores used to offer 3072m: two applications' 1536m executors then
    /// needed 4480Mi with their off-heap and the daemon's, and the pod was OOM-killed.
    #[test]
    fn every_executor_a_worker_can_host_gets_its_off_heap() {
        let s = compute(&with_worker_limits("2", "4Gi")).unwrap();
        assert_eq!(s.worker_memory_mib, 2688);
        assert!(used_mib(&s, 2) <= 4096, "{}", used_mib(&s, 2));
        let mut spec = with_worker_limits("2", "4Gi");
        spec.spark_conf
            .insert("spark.executor.cores".into(), "2".into());
        assert_eq!(compute(&spec).unwrap().worker_memory_mib, 3072);
        spec.spark_conf
            .insert("spark.executor.cores".into(), "two".into());
        let errors = compute(&spec).unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "sparkConf.spark.executor.cores: invalid value \"two\": expected a whole number of \
             cores, at least 1"
        );
    }

    #[test]
    fn figures_for_the_profiles() {
        let s = compute(&with_worker_limits("1", "2Gi")).unwrap();
        assert_eq!((s.worker_cores, s.worker_memory_mib), (1, 1024));
        let s = compute(&with_worker_limits("2500m", "16Gi")).unwrap();
        assert_eq!((s.worker_cores, s.worker_memory_mib), (2, 14312));
        // The master follows the same rule: 1Gi holds a 640m heap and its 384Mi off-heap.
        assert_eq!(s.master_heap_mib, 640);
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
