//! Render a cluster in-process: values, templates and manifests, as `sparkup render` does.
//!
//!     cargo run --example render -- workers.replicas=3 sparkConf.spark.executor.memory=2g

fn main() -> anyhow::Result<()> {
    let cluster = sparkup::load(&sparkup::ValuesOptions {
        profile: "dev".into(),
        sets: std::env::args().skip(1).collect(),
        ..Default::default()
    })?;
    let objects = sparkup::render::render(&cluster, &Default::default())?;
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
