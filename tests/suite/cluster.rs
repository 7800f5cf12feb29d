//! The cluster commands against a fake API server: the exact requests, their order, and every
//! error path. Each scenario runs under a timeout, so a missing answer fails instead of hanging.
//!
//! | module | what it checks |
//! | --- | --- |
//! | `apply` | the requests of an apply and their order, field ownership, `--force-conflicts`, `--dry-run` |
//! | `errors` | conflicts, API errors, an unreachable or silent server, a kind the server does not serve |
//! | `diff` | the plan behind diff, its dry runs, its text, JSON and exit code |
//! | `wait` | the wait after an apply: rollouts, workers, pods that cannot start, timeouts |
//! | `roll` | ReplicationControllers, whose pods sparkup replaces itself |
//! | `status` | objects, Spark's view, jobs and their runs, the UI's URL |
//! | `delete` | delete and prune: only members, claims kept, the inventory's parent kept |
//! | `submit` | a driver's run, stopping and detaching it, the binary's exit code, the submitter Role |
//! | `ui` | a UI forwarded to a local port, and when there is nothing to forward to |
//! | `binary` | the built binary across commands through a kubeconfig, and the authentication Secret |
//!
//! `fake` is the API server they run against; the helpers below are what they share.

mod apply;
mod binary;
mod delete;
mod dependencies;
mod diff;
mod errors;
pub(crate) mod fake;
mod history;
mod logs;
mod roll;
mod secrets;
mod status;
mod submit;
mod ui;
mod wait;

use std::future::Future;
use std::time::Duration;

use fake::Fake;
use sparkup::Cluster;
use sparkup::kube::{self as k8s, ApiServer, ApplyOptions, WaitOptions};
use sparkup::render::{Object, RenderOptions};

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";
const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";

async fn bounded<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), future)
        .await
        .expect("the scenario finished in time (a request went unanswered?)")
}

fn objects(profile: &str, sets: &[&str]) -> (Cluster, Vec<Object>) {
    let cluster = crate::common::load(profile, sets);
    let objects = sparkup::render::render(&cluster, &RenderOptions::default()).unwrap();
    (cluster, objects)
}

/// A fake cluster to which the profile's objects were applied.
async fn applied(profile: &str, sets: &[&str]) -> (Fake, ApiServer, Cluster, Vec<Object>) {
    let fake = Fake::new();
    let api = fake.api().await;
    let (cluster, objects) = objects(profile, sets);
    bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap();
    (fake, api, cluster, objects)
}

/// The query parameters of a request line, sorted.
fn query_params(line: &str) -> Vec<&str> {
    let query = line.split_once('?').map_or("", |(_, q)| q);
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    params.sort();
    params
}

/// One object at a time, so the request order is exact.
fn serial() -> ApplyOptions {
    ApplyOptions {
        concurrency: 1,
        ..Default::default()
    }
}

/// A folder of user templates: a Secret holding `token`. The caller removes it.
fn secret_templates(token: &str) -> std::path::PathBuf {
    let dir = crate::common::scratch("secret-template");
    let template = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: spark-auth\ndata:\n  token: {token}\n  same: c2FtZQ==\n"
    );
    std::fs::write(dir.join("auth.yaml"), template).unwrap();
    dir
}

/// The dev cluster with three workers and a Secret holding `token` from a user template.
fn objects_with_secret(token: &str) -> (Cluster, Vec<Object>) {
    let dir = secret_templates(token);
    let cluster = crate::common::load("dev", &["workers.replicas=3"]);
    let opts = RenderOptions {
        templates: Some(dir.clone()),
    };
    let built = (
        cluster.clone(),
        sparkup::render::render(&cluster, &opts).unwrap(),
    );
    std::fs::remove_dir_all(dir).ok();
    built
}

/// The binary with `args`, against the fake through its kubeconfig.
fn sparkup_on(fake: &Fake, args: &[&str]) -> crate::common::Run {
    let kubeconfig = fake.kubeconfig();
    let mut all = args.to_vec();
    all.extend(["--kubeconfig", kubeconfig.to_str().unwrap()]);
    crate::common::sparkup(&all)
}

/// For a wait that is expected to time out or fail.
fn fast() -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_millis(1500),
        interval: Duration::from_millis(20),
        spent: Duration::ZERO,
    }
}

/// For a wait that is expected to succeed: polls as often, gives up only far later, so a
/// loaded machine cannot turn success into a timeout.
fn patient() -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_secs(15),
        ..fast()
    }
}
