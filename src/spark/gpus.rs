//! GPUs in Spark's standalone mode, and whether an application's request for them can work.
//!
//! A standalone worker finds its GPUs itself: it runs a discovery script that prints their
//! addresses (`spark.worker.resource.gpu.discoveryScript`) and offers up to
//! `spark.worker.resource.gpu.amount` of them. The master then starts an executor only on a
//! worker with that many free GPUs as well as free cores and memory, and hands the executor the
//! addresses; executors run no script of their own. So, as with memory, an application asking
//! for more GPUs per executor than any worker offers waits in WAITING forever, and Spark refuses
//! at start a task asking for GPUs its executors do not ask for.

use std::collections::BTreeMap;

use super::misfit::Misfit;

/// The launcher sets what a worker offers and how it finds the addresses
/// (`spark.worker.resource.gpu.{amount,discoveryScript}`) from the worker container's variables.
/// What an application asks for, per executor, per task and for its driver.
pub(crate) const EXECUTOR_AMOUNT: &str = "spark.executor.resource.gpu.amount";
pub(crate) const TASK_AMOUNT: &str = "spark.task.resource.gpu.amount";
pub(crate) const DRIVER_AMOUNT: &str = "spark.driver.resource.gpu.amount";

/// Whether `workers.gpus` settles `key`: the worker's GPU offer, or the file a worker reads its
/// whole offer from instead of discovering it.
pub(crate) fn settled_by_workers(key: &str) -> bool {
    key.starts_with("spark.worker.resource.gpu.") || key == "spark.worker.resourcesFile"
}

/// Every GPU property of `conf` that keeps the application from ever running on workers that
/// offer `worker_gpus` GPUs each.
pub(crate) fn check(conf: &BTreeMap<String, String>, worker_gpus: u64, misfits: &mut Vec<Misfit>) {
    let executor = check_executor(conf, worker_gpus, misfits);
    check_task(conf, executor, misfits);
    if let Some(text) = conf.get(DRIVER_AMOUNT)
        && text.trim().parse::<f64>() != Ok(0.0)
    {
        misfits.push(Misfit {
            key: DRIVER_AMOUNT,
            value: text.clone(),
            expected: "0 or unset: the drivers sparkup starts have no GPU; executors on GPU \
                       workers do (spark.executor.resource.gpu.amount)"
                .into(),
        });
    }
}

/// The GPUs one executor asks for, within what one worker offers; the amount when it fits.
fn check_executor(
    conf: &BTreeMap<String, String>,
    worker_gpus: u64,
    misfits: &mut Vec<Misfit>,
) -> Option<u64> {
    let text = conf.get(EXECUTOR_AMOUNT)?;
    let expected = match text.trim().parse::<u64>() {
        Ok(n) if n <= worker_gpus => return Some(n),
        Ok(_) if worker_gpus == 0 => "0 or unset: no worker offers a GPU (workers.gpus is 0), \
                                      so an executor asking for one never starts"
            .to_string(),
        Ok(_) => format!(
            "at most {worker_gpus}, the GPUs one worker offers (workers.gpus): a larger \
             executor never starts and the application waits forever"
        ),
        Err(_) => "a whole number of GPUs".into(),
    };
    misfits.push(Misfit {
        key: EXECUTOR_AMOUNT,
        value: text.clone(),
        expected,
    });
    None
}

/// A task's GPUs: a positive number (fractions share a GPU between tasks), no more than its
/// executor has.
fn check_task(conf: &BTreeMap<String, String>, executor: Option<u64>, misfits: &mut Vec<Misfit>) {
    let Some(text) = conf.get(TASK_AMOUNT) else {
        return;
    };
    let executor_text = conf.get(EXECUTOR_AMOUNT);
    let expected = match text.trim().parse::<f64>() {
        Ok(n) if !n.is_finite() || n < 0.0 => "a number of GPUs, such as 1 or 0.25".into(),
        Ok(0.0) => return,
        // The executor's amount was itself refused: one message is enough.
        Ok(_) if executor.is_none() && executor_text.is_some() => return,
        Ok(_) if executor.unwrap_or(0) == 0 => format!(
            "0 or unset, or {EXECUTOR_AMOUNT} set too: Spark refuses an application whose \
             tasks ask for GPUs its executors do not"
        ),
        Ok(n) if n > executor.unwrap_or(0) as f64 => format!(
            "at most {EXECUTOR_AMOUNT} ({}): a task never gets more GPUs than its executor has",
            executor.unwrap_or(0)
        ),
        Ok(_) => return,
        Err(_) => "a number of GPUs, such as 1 or 0.25".into(),
    };
    misfits.push(Misfit {
        key: TASK_AMOUNT,
        value: text.clone(),
        expected,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn misfits(pairs: &[(&str, &str)], worker_gpus: u64) -> Vec<String> {
        let conf = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut out = Vec::new();
        check(&conf, worker_gpus, &mut out);
        out.iter()
            .map(|m| format!("{} {}: {}", m.key, m.value, m.expected))
            .collect()
    }

    #[test]
    fn what_a_worker_offers_fits() {
        let one = [(EXECUTOR_AMOUNT, "1"), (TASK_AMOUNT, "1")];
        assert!(misfits(&one, 1).is_empty());
        assert!(misfits(&[(EXECUTOR_AMOUNT, "2"), (TASK_AMOUNT, "0.5")], 4).is_empty());
        assert!(misfits(&[], 0).is_empty());
        assert!(misfits(&[(EXECUTOR_AMOUNT, "0"), (DRIVER_AMOUNT, "0")], 0).is_empty());
    }

    #[test]
    fn more_than_a_worker_offers_is_named_with_the_figures() {
        let text = misfits(&[(EXECUTOR_AMOUNT, "2"), (TASK_AMOUNT, "1")], 1);
        assert_eq!(text.len(), 1, "{text:?}");
        assert!(text[0].starts_with("spark.executor.resource.gpu.amount 2: at most 1, the GPUs"));
        let none = misfits(&[(EXECUTOR_AMOUNT, "1")], 0);
        assert!(none[0].contains("no worker offers a GPU"), "{none:?}");
    }

    #[test]
    fn tasks_ask_for_no_more_than_their_executors() {
        let text = misfits(&[(TASK_AMOUNT, "1")], 2);
        assert!(text[0].contains("its executors do not"), "{text:?}");
        let text = misfits(&[(EXECUTOR_AMOUNT, "1"), (TASK_AMOUNT, "2")], 2);
        assert!(text[0].contains("at most spark.executor.resource.gpu.amount (1)"));
        for bad in ["one", "-1", "NaN", "inf"] {
            let text = misfits(&[(EXECUTOR_AMOUNT, "1"), (TASK_AMOUNT, bad)], 2);
            assert!(text[0].ends_with("such as 1 or 0.25"), "{bad}: {text:?}");
        }
        let text = misfits(&[(EXECUTOR_AMOUNT, "x")], 2);
        assert_eq!(text.len(), 1);
        assert!(text[0].ends_with("a whole number of GPUs"));
    }

    #[test]
    fn drivers_have_no_gpu() {
        let text = misfits(&[(DRIVER_AMOUNT, "1")], 1);
        assert!(text[0].contains("the drivers sparkup starts have no GPU"));
    }

    #[test]
    fn the_workers_offer_is_theirs() {
        assert!(settled_by_workers("spark.worker.resource.gpu.amount"));
        assert!(settled_by_workers(
            "spark.worker.resource.gpu.discoveryScript"
        ));
        assert!(settled_by_workers("spark.worker.resourcesFile"));
        assert!(!settled_by_workers("spark.worker.resource.fpga.amount"));
        assert!(!settled_by_workers(EXECUTOR_AMOUNT));
    }
}
