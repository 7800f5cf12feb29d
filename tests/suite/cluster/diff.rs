//! diff and the plan behind it: how the live objects are read, the dry runs, the text and JSON
//! it prints, its exit code.

use serde_json::{Value, json};
use sparkup::kube::{self as k8s, Action, DiffOptions};

use super::fake::Fake;
use super::{applied, bounded, objects, objects_with_secret, query_params, serial, sparkup_on};

/// A plan reads the live objects through the inventory's LISTs, one per kind, instead of one GET
/// per object: the namespace, the inventory, 4 LISTs and 6 dry runs for prod.
#[tokio::test]
async fn a_plan_reads_live_objects_through_the_inventory_lists() {
    let (fake, api, cluster, objects) = applied("prod", &[]).await;
    fake.clear_seen();
    let changes = bounded(k8s::plan(&api, &cluster.spec, &objects, Default::default()))
        .await
        .unwrap();
    assert!(changes.iter().all(|c| c.action == Action::Unchanged));
    let lines = fake.lines();
    assert_eq!(lines.len(), 19, "{lines:#?}");
    let gets: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("GET") && !l.contains("labelSelector"))
        .collect();
    assert_eq!(
        gets,
        [
            "GET /api/v1/namespaces/default",
            "GET /api/v1/namespaces/default/configmaps/spark-applyset"
        ]
    );
}

/// `diff --force-conflicts` and `apply --dry-run --force-conflicts` dry-run what the apply
/// will do: with force, so they do not fail on conflicts the apply takes over.
#[tokio::test]
async fn a_forced_plan_dry_runs_with_force() {
    let fake = Fake::new().with_namespace("default");
    let api = fake.api().await;
    let (cluster, objects) = objects("dev", &[]);
    let opts = k8s::PlanOptions {
        force_conflicts: true,
    };
    bounded(k8s::plan(&api, &cluster.spec, &objects, opts))
        .await
        .unwrap();
    let patches: Vec<String> = fake
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("PATCH"))
        .collect();
    assert_eq!(patches.len(), objects.len());
    for line in patches {
        assert_eq!(
            query_params(&line),
            [
                "dryRun=All",
                "fieldManager=sparkup",
                "fieldValidation=Strict",
                "force=true"
            ],
            "{line}"
        );
    }
}

#[tokio::test]
async fn diff_of_a_missing_namespace_is_all_creates_and_writes_nothing() {
    let fake = Fake::new();
    let api = fake.api().await;
    let (cluster, objects) = objects("dev", &[]);
    let changes = bounded(k8s::plan(&api, &cluster.spec, &objects, Default::default()))
        .await
        .unwrap();
    assert!(changes.iter().all(|c| c.action == Action::Create));
    let lines = fake.lines();
    assert!(lines.contains(&"GET /api/v1/namespaces/default".to_string()));
    // One round: the reads, and dry runs the server refuses (no namespace yet).
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("GET ") || l.contains("dryRun=All")),
        "{lines:#?}"
    );
    assert!(fake.state().objects.is_empty());
}

#[tokio::test]
async fn diff_shows_updates_with_context_and_masks_secrets() {
    let (fake, api, _, _) = applied("dev", &[]).await;
    // A Secret applied earlier by a user's template, and a change of worker count.
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "spark-auth", "namespace": "default"},
                         "data": {"token": "b2xk", "same": "c2FtZQ=="}});
    fake.state().objects.insert(
        "/api/v1/namespaces/default/secrets/spark-auth".into(),
        secret,
    );
    let (cluster, mut objects) = objects_with_secret("bmV3");
    objects.retain(|o| o.kind != "ConfigMap");
    let changes = bounded(k8s::plan(&api, &cluster.spec, &objects, Default::default()))
        .await
        .unwrap();
    let text = k8s::diff_text(&changes, DiffOptions::default()).unwrap();
    assert!(!text.contains("b2xk") && !text.contains("bmV3"), "{text}");
    insta::assert_snapshot!(text);
    let shown = k8s::diff_text(
        &changes,
        DiffOptions {
            show_secrets: true,
            color: false,
        },
    )
    .unwrap();
    assert!(shown.contains("b2xk") && shown.contains("bmV3"));
    let json: Value =
        serde_json::from_str(&k8s::diff_json(&changes, DiffOptions::default()).unwrap()).unwrap();
    assert_eq!(json["summary"]["update"], 2, "{json}");
}

#[tokio::test]
async fn diff_exits_1_before_an_apply_and_0_after_it() {
    let fake = Fake::new().with_namespace("default");
    let api = fake.api().await;
    let (cluster, objects) = objects("prod", &[]);
    let diff = || sparkup_on(&fake, &["diff", "-p", "prod", "-o", "json"]);
    let before = diff();
    assert_eq!(before.code, Some(1), "{}", before.stderr);
    bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap();
    let after = diff();
    assert_eq!(after.code, Some(0), "{}", after.stderr);
}

/// diff names what each change restarts and what that costs: an application setting restarts
/// no daemon; a master setting replaces the master's pod, whose running applications are lost
/// without recovery; a worker setting rolls the workers, whose executors stop.
#[tokio::test]
async fn diff_says_what_restarts_and_what_it_costs() {
    let (fake, api, _, _) = applied("dev", &["workers.replicas=2"]).await;
    fake.state().spark = Some(json!({"status": "ALIVE", "aliveworkers": 2,
        "activeapps": [{"id": "app-1", "name": "etl"}],
        "workers": [{"coresused": 1}, {"coresused": 0}]}));
    let restarts = |sets: &[&str]| {
        let mut all = vec!["workers.replicas=2"];
        all.extend_from_slice(sets);
        let (cluster, objects) = objects("dev", &all);
        let api = &api;
        async move {
            let changes = bounded(k8s::plan(api, &cluster.spec, &objects, Default::default()))
                .await
                .unwrap();
            let text = k8s::diff_text(&changes, DiffOptions::default()).unwrap();
            let json = k8s::diff_json(&changes, DiffOptions::default()).unwrap();
            let lines: Vec<String> = text
                .lines()
                .filter(|l| l.starts_with("restarts "))
                .map(str::to_string)
                .collect();
            (lines, json)
        }
    };
    let (lines, _) = restarts(&["sparkConf.spark.executor.memory=512m"]).await;
    assert!(lines.is_empty(), "{lines:?}");
    let (lines, json) = restarts(&["sparkConf.spark.deploy.spreadOut=false"]).await;
    assert_eq!(
        lines,
        [
            "restarts Deployment/spark-master (master): its pod; 1 running application(s) are lost \
          (no master.recovery): apply refuses without --lose-running-applications"
        ]
    );
    let json: Value = serde_json::from_str(&json).unwrap();
    let master = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "spark-master" && c["kind"] == "Deployment")
        .unwrap();
    assert_eq!(master["restart"]["role"], "master", "{master}");
    let (lines, _) = restarts(&["sparkConf.spark.worker.cleanup.enabled=true"]).await;
    assert_eq!(
        lines,
        [
            "restarts Deployment/spark-worker (worker): 2 pod(s), one at a time; executors on 1 \
          core(s) in use stop; their tasks run again elsewhere (workers.decommission moves \
          blocks first)"
        ]
    );
}
