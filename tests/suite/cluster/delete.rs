//! delete and prune: they reach only the instance's members, in reverse order; claims stay
//! unless purged, and the inventory's parent always stays.

use http::Method;
use serde_json::json;
use sparkup::kube::{self as k8s, Action, ApplyOptions};

use super::fake::Fake;
use super::{CONFIGMAPS, DEPLOYMENTS, applied, bounded, objects, serial};

const PVCS: &str = "/api/v1/namespaces/default/persistentvolumeclaims";
const GROUP_KINDS: &str = "applyset.kubernetes.io/contains-group-kinds";

/// Puts an old member of the instance in the fake cluster, as an earlier apply would have.
fn old_member(fake: &Fake, path: &str, kind: &str, api_version: &str, name: &str) {
    let (_, objects) = objects("dev", &[]);
    let labels = objects[0].value["metadata"]["labels"].clone();
    fake.state().objects.insert(
        format!("{path}/{name}"),
        json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": "default", "labels": labels}}),
    );
}

#[tokio::test]
async fn prune_deletes_only_members_no_longer_rendered_and_keeps_claims() {
    let fake = Fake::new().with_namespace("default");
    old_member(&fake, DEPLOYMENTS, "Deployment", "apps/v1", "spark-history");
    old_member(&fake, PVCS, "PersistentVolumeClaim", "v1", "spark-scratch");
    // Not a member: same kind and namespace, no ApplySet label.
    fake.state().objects.insert(
        format!("{DEPLOYMENTS}/someone-else"),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "someone-else", "labels": {"app": "x"}}}),
    );
    // The inventory an earlier apply left: kubectl's ApplySet parent naming the member kinds.
    let parent = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "spark-applyset", "namespace": "default",
        "annotations": {GROUP_KINDS: "Deployment.apps,PersistentVolumeClaim"}
    }});
    fake.state()
        .objects
        .insert(format!("{CONFIGMAPS}/spark-applyset"), parent);
    let api = fake.api().await;
    let (cluster, objects) = objects("dev", &[]);

    let changes = bounded(k8s::plan(&api, &cluster.spec, &objects, Default::default()))
        .await
        .unwrap();
    let prunes: Vec<String> = changes
        .iter()
        .filter(|c| c.action == Action::Prune)
        .map(|c| c.id())
        .collect();
    assert_eq!(
        prunes,
        [
            "Deployment/spark-history",
            "PersistentVolumeClaim/spark-scratch"
        ]
    );

    let report = bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap();
    assert_eq!(report.pruned, ["Deployment/spark-history"]);
    assert_eq!(report.kept, ["PersistentVolumeClaim/spark-scratch"]);
    assert!(
        fake.state()
            .objects
            .contains_key(&format!("{DEPLOYMENTS}/someone-else"))
    );
    let kinds =
        fake.state().objects[&format!("{CONFIGMAPS}/spark-applyset")]["metadata"]["annotations"]
            [GROUP_KINDS]
            .clone();
    assert_eq!(
        kinds, "ConfigMap,Deployment.apps,PersistentVolumeClaim,Service",
        "the kept claim stays in the inventory"
    );

    let opts = ApplyOptions {
        prune_pvcs: true,
        ..serial()
    };
    let report = bounded(k8s::apply(&api, &cluster.spec, &objects, opts))
        .await
        .unwrap();
    assert_eq!(report.pruned, ["PersistentVolumeClaim/spark-scratch"]);
}

/// Delete and prune reach only the instance's namespaced members: the namespace, and a foreign
/// object that is even labelled like a member of another instance, stay.
#[tokio::test]
async fn delete_and_prune_leave_the_namespace_and_foreign_objects_alone() {
    let (fake, api, cluster, objects) = applied("dev", &[]).await;
    fake.state().objects.insert(
        format!("{DEPLOYMENTS}/other-master"),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "other-master",
            "labels": {"applyset.kubernetes.io/part-of": "applyset-someone-else-v1"}}}),
    );
    bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap();
    bounded(k8s::delete(&api, &cluster.spec, &objects, true))
        .await
        .unwrap();
    let state = fake.state();
    assert!(state.objects.contains_key("/api/v1/namespaces/default"));
    assert!(
        state
            .objects
            .contains_key(&format!("{DEPLOYMENTS}/other-master"))
    );
    let deletes: Vec<&str> = state
        .seen
        .iter()
        .filter(|s| s.method == Method::DELETE)
        .map(|s| s.uri.as_str())
        .collect();
    assert!(
        deletes
            .iter()
            .all(|uri| uri.starts_with("/api/v1/namespaces/default/")
                || uri.starts_with("/apis/apps/v1/namespaces/default/")),
        "{deletes:?}"
    );
    assert!(
        !deletes.iter().any(|uri| uri.contains("other-master")),
        "{deletes:?}"
    );
}

#[tokio::test]
async fn delete_removes_members_in_reverse_order_and_keeps_claims_unless_purged() {
    let (fake, api, cluster, objects) = applied("prod", &[]).await;
    fake.clear_seen();
    let report = bounded(k8s::delete(&api, &cluster.spec, &objects, false))
        .await
        .unwrap();
    assert_eq!(
        report.deleted,
        [
            "NetworkPolicy/spark-internal",
            "NetworkPolicy/spark-ui",
            "PodDisruptionBudget/spark-worker",
            "Deployment/spark-history",
            "Deployment/spark-master",
            "Deployment/spark-worker",
            "Service/spark-history",
            "Service/spark-master",
            "ConfigMap/spark-config"
        ]
    );
    assert_eq!(
        report.kept,
        [
            "PersistentVolumeClaim/spark-code",
            "PersistentVolumeClaim/spark-data",
            "Secret/spark-auth"
        ]
    );
    let report = bounded(k8s::delete(&api, &cluster.spec, &objects, true))
        .await
        .unwrap();
    assert_eq!(
        report.deleted,
        [
            "PersistentVolumeClaim/spark-code",
            "PersistentVolumeClaim/spark-data",
            "Secret/spark-auth"
        ]
    );
    let left: Vec<String> = fake.state().objects.keys().cloned().collect();
    assert_eq!(
        left,
        ["/api/v1/namespaces/default"],
        "only the namespace is left"
    );
}

#[tokio::test]
async fn the_inventory_parent_is_never_pruned_even_if_a_list_returns_it() {
    let fake = Fake::new().with_namespace("default");
    let api = fake.api().await;
    let (cluster, objects) = objects("dev", &[]);
    bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap();
    // A server (or proxy) that ignores the label selector would list the parent too.
    let parent_path = format!("{CONFIGMAPS}/spark-applyset");
    let labels = objects[0].value["metadata"]["labels"].clone();
    fake.state().objects.get_mut(&parent_path).unwrap()["metadata"]["labels"] = labels;
    let report = bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap();
    assert!(report.pruned.is_empty(), "{:?}", report.pruned);
    assert!(fake.state().objects.contains_key(&parent_path));
}
