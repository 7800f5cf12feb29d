//! Secret values in every output: the values a test puts into Secrets (a user template's Secret,
//! the cluster's live one, with a client-side `kubectl apply` annotation holding its data) are
//! found only in Secret objects: exactly in `render`, whose output is meant to be applied, and
//! nowhere in `-o json` but the Secret, in `--output-dir` but the Secret's file, `compose`,
//! `values`, `diff` (text and JSON), `status` or an error.

use serde_json::json;

use super::fake::Fake;
use super::{secret_templates, sparkup_on};
use crate::common::sparkup;

/// `token` in the user template's Secret, base64 of `rendered-secret`.
const RENDERED: &str = "cmVuZGVyZWQtc2VjcmV0";
/// What the cluster's Secret holds instead, base64 of `live-secret-value`.
const LIVE: &str = "bGl2ZS1zZWNyZXQtdmFsdWU=";
const SECRETS: [&str; 4] = [RENDERED, LIVE, "rendered-secret", "live-secret-value"];

fn assert_clean(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows {secret}:\n{text}");
    }
}

#[test]
fn secret_values_appear_only_in_secret_objects() {
    let templates = secret_templates(RENDERED);
    let tpl = templates.to_str().unwrap();
    let fake = Fake::new().with_namespace("default");
    fake.state().spark = Some(json!({"status": "ALIVE", "aliveworkers": 3, "workers": []}));
    let on = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend([
            "-p",
            "dev",
            "--set",
            "workers.replicas=3",
            "--templates",
            tpl,
        ]);
        sparkup_on(&fake, &all)
    };

    // render: exact, and only in the Secret's document.
    let render = sparkup(&["render", "-p", "dev", "--templates", tpl]);
    assert_eq!(render.code, Some(0), "{}", render.stderr);
    for doc in render.stdout.split("\n---\n") {
        if !doc.contains("kind: Secret") {
            assert_clean("a rendered non-Secret", doc);
        }
    }
    assert!(render.stdout.contains(RENDERED));
    let json = sparkup(&["render", "-p", "dev", "-o", "json", "--templates", tpl]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    for item in json["items"].as_array().unwrap() {
        if item["kind"] != "Secret" {
            assert_clean("a rendered JSON object", &item.to_string());
        }
    }
    let out = crate::common::scratch("secret-out");
    let dir = out.join("k8s");
    let run = sparkup(&[
        "render",
        "-p",
        "dev",
        "--templates",
        tpl,
        "--output-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if !path.to_string_lossy().contains("-secret-") {
            assert_clean(&path.display().to_string(), &text);
        }
    }
    for command in [
        &["compose", "-p", "dev", "--templates", tpl][..],
        &["values", "-p", "dev"],
    ] {
        let run = sparkup(command);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert_clean(command[0], &run.stdout);
        assert_clean(command[0], &run.stderr);
    }

    // The cluster: applied, then its Secret changed by hand, with kubectl's annotation.
    let apply = on(&["apply", "--timeout", "20s"]);
    assert_eq!(apply.code, Some(0), "{}{}", apply.stdout, apply.stderr);
    let path = "/api/v1/namespaces/default/secrets/spark-auth";
    {
        let mut state = fake.state();
        let secret = state
            .objects
            .get_mut(path)
            .expect("the template's Secret applied");
        secret["data"]["token"] = json!(LIVE);
        let last = json!({"data": {"token": LIVE}}).to_string();
        secret["metadata"]["annotations"] =
            json!({"kubectl.kubernetes.io/last-applied-configuration": last});
    }
    for args in [
        &["diff"][..],
        &["diff", "-o", "json"],
        &["status"],
        &["apply", "--dry-run"],
    ] {
        let run = on(args);
        assert!(run.code.is_some(), "{args:?}");
        assert_clean(&format!("{args:?}"), &run.stdout);
        assert_clean(&format!("{args:?}"), &run.stderr);
    }
    // An error on the way: the Secret's apply refused.
    fake.fail(
        http::Method::PATCH,
        path,
        422,
        "Secret \"spark-auth\" is invalid: data[token]: Invalid value: \"[redacted]\"",
    );
    let failed = on(&["apply", "--timeout", "5s"]);
    assert_eq!(failed.code, Some(2), "{}", failed.stderr);
    assert_clean("a failed apply", &failed.stdout);
    assert_clean("a failed apply", &failed.stderr);
    std::fs::remove_dir_all(&templates).ok();
    std::fs::remove_dir_all(&out).ok();
}
