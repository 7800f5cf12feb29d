//! Read an instance's status from the cluster of the current kubeconfig context, as
//! `sparkup status --profile dev` does.
//!
//!     cargo run --example status -- spark-dev

use sparkup::cli::{ValuesArgs, build_objects};
use sparkup::connect::{ConnectOptions, connect};
use sparkup::status;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let namespace = std::env::args().nth(1).unwrap_or_else(|| "default".into());
    let values = ValuesArgs {
        profile: "dev".into(),
        files: Vec::new(),
        sets: vec![format!("namespace={namespace}")],
    };
    let (cluster, objects) = build_objects(&values, None)?;
    let api = connect(&ConnectOptions::default()).await?;
    let report = status::status(&api, &cluster, &objects).await?;
    print!("{}", status::render(&report));
    Ok(())
}
