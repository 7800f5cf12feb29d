//! Read an instance's status from the cluster of the current kubeconfig context, as
//! `sparkup status --profile dev` does.
//!
//!     cargo run --example status -- spark-dev

use sparkup::kube;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let namespace = std::env::args().nth(1).unwrap_or_else(|| "default".into());
    let cluster = sparkup::load(&sparkup::ValuesOptions {
        profile: "dev".into(),
        sets: vec![format!("namespace={namespace}")],
        ..Default::default()
    })?;
    let objects = sparkup::render::render(&cluster, &Default::default())?;
    let api = kube::connect(&kube::ConnectOptions::default()).await?;
    let report = kube::status(&api, &cluster, &objects).await?;
    print!("{report}");
    Ok(())
}
