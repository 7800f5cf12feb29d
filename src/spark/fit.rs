//! Whether an application can ever get an executor on a cluster.
//!
//! A standalone master starts an executor only on a worker with enough free cores and memory for
//! it. An application that asks for more than any one worker offers is accepted and then waits
//! in WAITING forever, with nothing in its log but "Initial job has not accepted any resources".
//! sparkup refuses such an application before anything is created, naming the figures; GPUs
//! are checked alike (see `gpus`).

use std::collections::BTreeMap;

/// What the cluster offers applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Capacity {
    /// Cores one worker offers (`SPARK_WORKER_CORES`).
    pub worker_cores: u64,
    /// Executor memory one worker offers (`SPARK_WORKER_MEMORY`), MiB.
    pub worker_memory_mib: u64,
    /// Workers the application can use.
    pub workers: u64,
    /// GPUs one worker offers: the most any worker the application can use has.
    pub worker_gpus: u64,
}

pub(crate) use super::misfit::Misfit;

/// Spark's default `spark.executor.memory`.
const DEFAULT_EXECUTOR_MIB: u64 = 1024;

/// Every property of `conf` that keeps the application from ever running on `capacity`.
pub(crate) fn check(conf: &BTreeMap<String, String>, capacity: &Capacity) -> Vec<Misfit> {
    let mut misfits = Vec::new();
    check_memory(conf, capacity, &mut misfits);
    let executor_cores = check_cores(conf, capacity, &mut misfits);
    check_cores_max(conf, capacity, executor_cores, &mut misfits);
    super::gpus::check(conf, capacity.worker_gpus, &mut misfits);
    misfits
}

fn misfit(misfits: &mut Vec<Misfit>, key: &'static str, value: &str, expected: String) {
    misfits.push(Misfit {
        key,
        value: value.to_string(),
        expected,
    })
}

/// An executor's memory, given or Spark's default, within what one worker offers.
fn check_memory(conf: &BTreeMap<String, String>, capacity: &Capacity, misfits: &mut Vec<Misfit>) {
    const KEY: &str = "spark.executor.memory";
    let offered = capacity.worker_memory_mib;
    match conf.get(KEY) {
        Some(memory) => match size_mib(memory) {
            None => misfit(misfits, KEY, memory, "a size such as 512m or 2g".into()),
            Some(mib) if mib > offered => misfit(
                misfits,
                KEY,
                memory,
                format!(
                    "at most {offered}m, the executor memory one worker offers: a larger \
                     executor never starts and the application waits forever"
                ),
            ),
            Some(_) => {}
        },
        None if DEFAULT_EXECUTOR_MIB > offered => misfit(
            misfits,
            KEY,
            "1g (Spark's default)",
            format!(
                "at most {offered}m, the executor memory one worker offers: set \
                 spark.executor.memory, or give the workers more memory"
            ),
        ),
        None => {}
    }
}

/// An executor's cores within what one worker offers; the cores when they fit.
fn check_cores(
    conf: &BTreeMap<String, String>,
    capacity: &Capacity,
    misfits: &mut Vec<Misfit>,
) -> Option<u64> {
    const KEY: &str = "spark.executor.cores";
    let cores = conf.get(KEY)?;
    match cores.trim().parse::<u64>() {
        Ok(n) if n >= 1 && n <= capacity.worker_cores => return Some(n),
        Ok(n) if n >= 1 => misfit(
            misfits,
            KEY,
            cores,
            format!(
                "at most {}, the cores one worker offers: a larger executor never starts",
                capacity.worker_cores
            ),
        ),
        _ => misfit(
            misfits,
            KEY,
            cores,
            "a whole number of cores, at least 1".into(),
        ),
    }
    None
}

/// `spark.cores.max`: room for one executor, and no more than the cluster has.
fn check_cores_max(
    conf: &BTreeMap<String, String>,
    capacity: &Capacity,
    executor_cores: Option<u64>,
    misfits: &mut Vec<Misfit>,
) {
    const KEY: &str = "spark.cores.max";
    let Some(text) = conf.get(KEY) else {
        return;
    };
    let total = capacity.worker_cores * capacity.workers;
    let per_executor = executor_cores.unwrap_or(1);
    match text.trim().parse::<u64>() {
        Ok(n) if n < per_executor => misfit(
            misfits,
            KEY,
            text,
            format!(
                "at least spark.executor.cores ({per_executor}): no executor fits under the \
                 maximum"
            ),
        ),
        Ok(n) if capacity.workers > 0 && n > total => misfit(
            misfits,
            KEY,
            text,
            format!(
                "at most {total}, the cores of all {} workers ({} each)",
                capacity.workers, capacity.worker_cores
            ),
        ),
        Ok(_) => {}
        Err(_) => misfit(
            misfits,
            KEY,
            text,
            "a whole number of cores, at least 1".into(),
        ),
    }
}

/// A Spark size (`512m`, `2g`, `1536`, `1t`) in MiB, as Spark reads `spark.executor.memory`: a
/// number without a unit is MiB.
pub(crate) fn size_mib(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let kib = match unit {
        "k" | "kb" => Some(1),
        "" | "m" | "mb" => Some(1024),
        "g" | "gb" => Some(1024 * 1024),
        "t" | "tb" => Some(1024 * 1024 * 1024),
        _ => None,
    }?;
    n.checked_mul(kib).map(|k| k / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const CAPACITY: Capacity = Capacity {
        worker_cores: 2,
        worker_memory_mib: 2688,
        workers: 2,
        worker_gpus: 0,
    };

    #[test]
    fn sizes_read_as_spark_reads_them() {
        assert_eq!(size_mib("512m"), Some(512));
        assert_eq!(size_mib("2g"), Some(2048));
        assert_eq!(size_mib("1536"), Some(1536));
        assert_eq!(size_mib("2G"), Some(2048));
        assert_eq!(size_mib("1t"), Some(1024 * 1024));
        assert_eq!(size_mib("2gi"), None);
        assert_eq!(size_mib("lots"), None);
        assert_eq!(size_mib("99999999999999999999g"), None);
    }

    #[test]
    fn what_fits_passes() {
        let ok = conf(&[
            ("spark.executor.memory", "2688m"),
            ("spark.executor.cores", "2"),
            ("spark.cores.max", "4"),
        ]);
        assert_eq!(check(&ok, &CAPACITY), []);
        assert_eq!(check(&BTreeMap::new(), &CAPACITY), []);
    }

    #[test]
    fn what_never_fits_is_named_with_the_figures() {
        let bad = conf(&[
            ("spark.executor.memory", "3g"),
            ("spark.executor.cores", "3"),
            ("spark.cores.max", "5"),
        ]);
        let misfits = check(&bad, &CAPACITY);
        let text: Vec<String> = misfits
            .iter()
            .map(|m| format!("{} {}: {}", m.key, m.value, m.expected))
            .collect();
        assert_eq!(text.len(), 3, "{text:?}");
        assert!(text[0].starts_with("spark.executor.memory 3g: at most 2688m"));
        assert!(text[1].starts_with("spark.executor.cores 3: at most 2"));
        assert!(text[2].starts_with("spark.cores.max 5: at most 4, the cores of all 2 workers"));
    }

    #[test]
    fn the_default_executor_must_fit_a_small_worker() {
        let small = Capacity {
            worker_memory_mib: 896,
            ..CAPACITY
        };
        let misfits = check(&BTreeMap::new(), &small);
        assert_eq!(misfits.len(), 1);
        assert_eq!(misfits[0].value, "1g (Spark's default)");
        let max_below_cores = conf(&[("spark.executor.cores", "2"), ("spark.cores.max", "1")]);
        assert!(
            check(&max_below_cores, &CAPACITY)[0]
                .expected
                .starts_with("at least spark.executor.cores (2)")
        );
    }
}
