//! The built binary through its kubeconfig, across commands: the whole client stack from a
//! first apply to a delete, and the authentication Secret it creates and never shows.

use serde_json::json;

use super::DEPLOYMENTS;
use super::fake::Fake;

/// The binary itself, through its kubeconfig: the whole client stack (kubeconfig loading, the
/// bearer token, kube's HTTP client) against the fake, from a first apply to a delete.
#[test]
fn the_binary_applies_diffs_shows_and_deletes_through_a_kubeconfig() {
    use crate::common::sparkup;
    let fake = Fake::new().with_namespace("default");
    fake.state().spark = Some(json!({"status": "ALIVE", "aliveworkers": 1, "workers": []}));
    let kubeconfig = fake.kubeconfig();
    let kubeconfig = kubeconfig.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["-p", "dev", "--kubeconfig", kubeconfig]);
        sparkup(&all)
    };

    let apply = run(&["apply", "--timeout", "20s"]);
    assert_eq!(apply.code, Some(0), "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.stdout.contains("ALIVE with 1 worker"),
        "{}",
        apply.stdout
    );
    assert!(
        fake.state()
            .objects
            .contains_key(&format!("{DEPLOYMENTS}/spark-worker"))
    );

    let same = run(&["diff"]);
    assert_eq!(same.code, Some(0), "{}{}", same.stdout, same.stderr);
    let scaled = run(&["diff", "--set", "workers.replicas=3"]);
    assert_eq!(scaled.code, Some(1), "{}{}", scaled.stdout, scaled.stderr);
    assert!(
        scaled.stdout.contains("+  replicas: 3"),
        "{}",
        scaled.stdout
    );

    let status = run(&["status"]);
    assert_eq!(status.code, Some(0), "{}{}", status.stdout, status.stderr);
    assert!(status.stdout.contains("ALIVE"), "{}", status.stdout);

    let delete = run(&["delete"]);
    assert_eq!(delete.code, Some(0), "{}{}", delete.stdout, delete.stderr);
    let state = fake.state();
    assert!(!state.objects.keys().any(|p| p.starts_with(DEPLOYMENTS)));
    // What stays is the revision apply recorded, for a later apply or rollback.
    let left: Vec<&String> = state
        .objects
        .keys()
        .filter(|p| p.contains("/namespaces/default/"))
        .collect();
    assert_eq!(
        left,
        ["/api/v1/namespaces/default/secrets/spark-revision-1"],
        "{}",
        delete.stdout
    );
    // Every request carried the kubeconfig's token (the fake answers 401 otherwise).
    assert!(state.seen.len() > 20, "{}", state.seen.len());
}

/// `apply` creates the authentication Secret once with a random value, never changes it, and
/// the value appears in no text sparkup writes: render, the applied objects, apply's, diff's
/// and status's output.
#[test]
fn the_authentication_secret_is_created_once_and_shown_nowhere() {
    use crate::common::sparkup;
    let fake = Fake::new();
    fake.state().spark = Some(json!({"status": "ALIVE", "aliveworkers": 4, "workers": []}));
    let kubeconfig = fake.kubeconfig();
    let kubeconfig = kubeconfig.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["-p", "prod", "--kubeconfig", kubeconfig]);
        sparkup(&all)
    };
    let apply = run(&["apply", "--no-wait"]);
    assert_eq!(apply.code, Some(0), "{}", apply.stderr);
    assert!(
        apply
            .stdout
            .contains("created Secret/spark-auth (a random authentication secret"),
        "{}",
        apply.stdout
    );
    let path = "/api/v1/namespaces/default/secrets/spark-auth";
    let stored = fake.state().objects[path].clone();
    let encoded = stored["data"]["secret"].as_str().unwrap().to_string();
    let secret = {
        use base64::Engine as _;
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(&encoded)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(secret.len(), 64, "32 random bytes, hex");
    assert!(secret.chars().all(|c| c.is_ascii_hexdigit()));

    let again = run(&["apply", "--no-wait"]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(!again.stdout.contains("created Secret"), "{}", again.stdout);
    assert_eq!(
        fake.state().objects[path]["data"]["secret"],
        encoded.as_str(),
        "never changed"
    );

    let mut texts = vec![apply.stdout, apply.stderr, again.stdout];
    for args in [&["diff"][..], &["status"][..], &["apply", "--dry-run"][..]] {
        let out = run(args);
        texts.extend([out.stdout, out.stderr]);
    }
    let render = sparkup(&["render", "-p", "prod"]);
    texts.push(render.stdout);
    let applied: Vec<String> = fake
        .state()
        .objects
        .iter()
        .filter(|(p, _)| p.as_str() != path)
        .map(|(_, o)| o.to_string())
        .collect();
    texts.extend(applied);
    for text in &texts {
        assert!(
            !text.contains(&secret) && !text.contains(&encoded),
            "{text}"
        );
    }
    // Every pod reads it from the Secret.
    assert!(texts.iter().any(|t| t.contains("_SPARK_AUTH_SECRET")));
}

/// A wait that runs out names the `--timeout` the user gave, not what was left of it after the
/// roll before the wait.
#[test]
fn a_timed_out_apply_names_the_timeout_given() {
    let fake = Fake::new().with_namespace("default");
    let kubeconfig = fake.kubeconfig();
    let apply = crate::common::sparkup(&[
        "apply",
        "-p",
        "dev",
        "--timeout",
        "2s",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ]);
    assert_ne!(apply.code, Some(0), "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply
            .stderr
            .contains("timed out after 2s waiting for the Spark master"),
        "{}",
        apply.stderr
    );
}

/// With demand scaling from zero workers, `apply` waits for the master alone and says that KEDA
/// brings the workers; the ScaledObject is applied like any object.
#[test]
fn apply_with_demand_scaling_from_zero_waits_for_the_master_alone() {
    use crate::common::sparkup;
    let fake = Fake::new().with_namespace("default");
    fake.state().spark = Some(json!({"status": "ALIVE", "aliveworkers": 0, "workers": []}));
    let kubeconfig = fake.kubeconfig();
    let apply = sparkup(&[
        "apply",
        "-p",
        "dev",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--timeout",
        "20s",
        "--set",
        "workers.autoscaling.enabled=true",
        "--set",
        "workers.autoscaling.mode=demand",
        "--set",
        "workers.autoscaling.minReplicas=0",
        "--set",
        "sparkConf.spark.cores.max=2",
    ]);
    assert_eq!(apply.code, Some(0), "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.stdout.contains("applied ScaledObject/spark-worker"),
        "{}",
        apply.stdout
    );
    assert!(
        apply.stdout.contains(
            "Spark master ALIVE with 0 worker(s) in namespace default (KEDA adds workers as \
             applications ask for cores, up to 10)"
        ),
        "{}",
        apply.stdout
    );
    // sparkup leaves the workers' replicas to KEDA.
    let workers = &fake.state().objects[&format!("{DEPLOYMENTS}/spark-worker")];
    assert!(workers["spec"].get("replicas").is_none(), "{workers}");
}
