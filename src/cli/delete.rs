//! `sparkup delete`: the instance's objects go; claims and the authentication secret stay
//! unless `--purge`.

use std::process::ExitCode;

use clap::Args;

use super::args::KubeArgs;
use super::print::print;
use crate::kube::{self, ApiServer};
use crate::render::Object;
use crate::values::Cluster;

#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    #[command(flatten)]
    pub(crate) kube: KubeArgs,
    /// Also delete the PersistentVolumeClaims (and so their data)
    #[arg(long)]
    pub(crate) purge: bool,
}

pub(super) async fn delete_command(
    api: &ApiServer,
    cluster: &Cluster,
    objects: &[Object],
    purge: bool,
) -> anyhow::Result<ExitCode> {
    let report = kube::delete(api, &cluster.spec, objects, purge).await?;
    let mut text = String::new();
    for id in &report.deleted {
        text.push_str(&format!("deleted {id}\n"));
    }
    for id in &report.kept {
        let what = match id.starts_with("Secret/") {
            true => "the authentication secret",
            false => "holds data",
        };
        text.push_str(&format!("kept    {id} ({what}; --purge deletes it)\n"));
    }
    if report.revisions_kept > 0 {
        text.push_str(&format!(
            "kept    {} revision(s) (sparkup history; --purge deletes them)\n",
            report.revisions_kept
        ));
    }
    if report.deleted.is_empty() && report.kept.is_empty() && report.revisions_kept == 0 {
        text.push_str(&format!(
            "nothing to delete for {} in namespace {}\n",
            cluster.spec.name, cluster.spec.namespace
        ));
    }
    print(&text)
}
