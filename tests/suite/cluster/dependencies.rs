//! The cluster's Java dependencies through the binary: `apply` waits for the resolver Job, and
//! reports a failed resolution with the resolver's own lines, naming the coordinates.

use serde_json::{Value, json};

use super::fake::Fake;
use crate::common::sparkup;

const VALUES: &[&str] = &[
    "storage[0].name=data",
    "storage[0].mountPath=/data",
    "storage[0].size=1Gi",
    "dependencies.packages[0]=com.example:nope:1.0",
    "dependencies.repositories[0]=https://repo.example.com/maven2",
];

fn args<'a>(fake_config: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["-p", "dev", "--kubeconfig", fake_config];
    for set in VALUES {
        args.extend(["--set", set]);
    }
    args.extend_from_slice(extra);
    args
}

/// The resolver Job's name, from the rendered objects.
fn resolver_job() -> String {
    let mut render = vec!["render", "-o", "json", "-p", "dev"];
    for set in VALUES {
        render.extend(["--set", set]);
    }
    let list: Value = serde_json::from_str(&sparkup(&render).stdout).unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "Job")
        .and_then(|o| o["metadata"]["name"].as_str())
        .expect("a resolver Job")
        .to_string()
}

#[test]
fn apply_waits_for_the_resolver_and_reports_what_it_could_not_find() {
    let job = resolver_job();
    assert!(job.starts_with("spark-dependencies-"), "{job}");
    let fake = Fake::new().with_namespace("default");
    fake.state().spark = Some(json!({"status": "ALIVE", "aliveworkers": 1, "workers": []}));
    let kubeconfig = fake.kubeconfig().to_str().unwrap().to_string();

    let mut apply = vec!["apply", "--timeout", "20s"];
    apply.extend(args(&kubeconfig, &[]));
    let done = sparkup(&apply);
    assert_eq!(done.code, Some(0), "{}{}", done.stdout, done.stderr);
    assert!(
        done.stdout.contains(&format!("applied Job/{job}")),
        "{}",
        done.stdout
    );
    let jobs = "/apis/batch/v1/namespaces/default/jobs";
    assert!(
        fake.lines().contains(&format!("GET {jobs}/{job}")),
        "{:?}",
        fake.lines()
    );

    // The resolver failed: apply says so with its last lines, at once.
    {
        let mut state = fake.state();
        state.resolution_fails = true;
        let pod = format!("{job}-x7k2p");
        state.pods.push(
            json!({"metadata": {"name": pod, "creationTimestamp": "2026-11-22T03:00:00Z",
            "labels": {"batch.kubernetes.io/job-name": job}}}),
        );
        state.logs.insert(
            format!("{pod}/resolve"),
            [
                ":: problems summary ::",
                "\tmodule not found: com.example#nope;1.0",
                "sparkup: could not resolve com.example:nope:1.0 (repositories: https://repo.example.com/maven2); Ivy's report is above",
            ]
            .iter()
            .map(|l| ("2026-11-22T03:00:05Z".to_string(), l.to_string()))
            .collect(),
        );
    }
    let mut again = vec!["apply", "--timeout", "20s", "--set", "workers.replicas=2"];
    again.extend(args(&kubeconfig, &[]));
    let failed = sparkup(&again);
    assert_eq!(failed.code, Some(2), "{}{}", failed.stdout, failed.stderr);
    assert!(
        failed.stderr.contains(&format!(
            "the cluster's dependencies could not be resolved (Job {job}: BackoffLimitExceeded"
        )),
        "{}",
        failed.stderr
    );
    assert!(
        failed
            .stderr
            .contains("module not found: com.example#nope;1.0"),
        "{}",
        failed.stderr
    );
}
