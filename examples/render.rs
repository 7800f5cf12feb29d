//! Render a cluster in-process: values, templates and manifests, as `sparkup render` does.
//!
//!     cargo run --example render -- workers.replicas=3 sparkConf.spark.executor.memory=2g

use sparkup::cli::{ValuesArgs, build_objects};

fn main() -> anyhow::Result<()> {
    let values = ValuesArgs {
        profile: "dev".into(),
        files: Vec::new(),
        sets: std::env::args().skip(1).collect(),
    };
    let (cluster, objects) = build_objects(&values, None)?;
    println!(
        "{} worker(s) offering {} core(s) and {}m each",
        cluster.spec.workers.replicas,
        cluster.sizing.worker_cores,
        cluster.sizing.worker_memory_mib
    );
    for object in &objects {
        println!("{}", object.id());
    }
    Ok(())
}
