//! Every profile, and variants that reach every template branch, validated against the official
//! Kubernetes JSON schemas with `kubernetes-validate --strict` (unknown fields fail), and every
//! KEDA ScaledObject against KEDA's CRD schema (`fixtures/crds/`, from KEDA's release), strict
//! too, with `check-jsonschema`.
//!
//! Needs `kubernetes-validate` from PyPI on PATH; `.ci/run` installs it. Ignored by a plain
//! `cargo test`, run by the README's test command.

use std::process::Command;

/// Values files that reach template branches no profile does.
const VALID_FIXTURES: &[&str] = &[
    "secrets",
    "jobs",
    "exposure",
    "pods",
    "tls",
    "demand",
    "dependencies",
    "gpus",
    "gpus-amd",
];

/// The API version the manifests target, as k8s-openapi's `v1_33` feature does.
const KUBERNETES_VERSION: &str = "1.33.0";

fn validate(name: &str, args: &[&str]) {
    let dir = std::env::temp_dir().join(format!("sparkup-schema-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut full = vec!["render", "--output-dir", dir.to_str().unwrap()];
    full.extend_from_slice(args);
    let run = crate::common::sparkup(&full);
    assert_eq!(run.code, Some(0), "{name}: {}", run.stderr);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .filter(|p| !p.ends_with("kustomization.yaml"))
        // KEDA's kinds are no Kubernetes kinds: their CRD's schema checks them (below).
        .filter(|p| {
            !std::fs::read_to_string(p)
                .unwrap()
                .contains("apiVersion: keda.sh/")
        })
        .collect();
    files.sort();
    let out = Command::new("kubernetes-validate")
        .args(["--strict", "--quiet", "-k", KUBERNETES_VERSION])
        .args(&files)
        .output()
        .expect("kubernetes-validate on PATH (pip install kubernetes-validate)");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{name}: schema validation failed:\n{report}"
    );
    assert!(!report.contains("ERROR"), "{name}:\n{report}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
#[ignore = "needs kubernetes-validate; run by the README's test command"]
fn every_profile_passes_strict_schema_validation() {
    for profile in sparkup::values::profiles::names() {
        validate(profile, &["--profile", profile]);
    }
}

#[test]
#[ignore = "needs kubernetes-validate; run by the README's test command"]
fn every_template_branch_passes_strict_schema_validation() {
    for fixture in VALID_FIXTURES {
        validate(
            fixture,
            &["-f", &format!("tests/suite/fixtures/valid/{fixture}.yaml")],
        );
    }
    validate(
        "replication-controllers",
        &[
            "--set",
            "master.kind=ReplicationController",
            "--set",
            "workers.kind=ReplicationController",
            "--set",
            "workers.antiAffinity=hard",
            "--set",
            "workers.autoscaling.enabled=true",
        ],
    );
    validate(
        "everything",
        &[
            "--profile",
            "prod",
            "--set",
            "workers.autoscaling.enabled=true",
            "--set",
            "workers.autoscaling.maxReplicas=20",
            "--set",
            "metrics.enabled=true",
            "--set",
            "ui.ingress.enabled=true",
            "--set",
            "ui.ingress.host=spark.example.com",
            "--set",
            "ui.ingress.className=nginx",
            "--set",
            "ui.ingress.tlsSecret=spark-tls",
            "--set",
            "ui.ingress.annotations.nginx\\.ingress\\.kubernetes\\.io/proxy-body-size=8m",
            "--set",
            "networkPolicy.uiFrom[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=ingress-nginx",
            "--set",
            "networkPolicy.uiFrom[1].ipBlock.cidr=10.0.0.0/24",
            "--set",
            "master.service.type=LoadBalancer",
            "--set",
            "master.service.annotations.example.com/lb=internal",
            "--set",
            "image.pullSecrets[0]=regcred",
            "--set",
            "image.tag=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "--set",
            "serviceAccountName=spark",
            "--set",
            "envFrom[0].secret=s3-credentials",
            "--set",
            "envFrom[1].configMap=settings",
            "--set",
            "envFrom[1].prefix=APP_",
            "--set",
            "env.AWS_REGION=eu-west-1",
            "--set",
            "workers.nodeSelector.disktype=ssd",
            "--set",
            "workers.tolerations[0].key=dedicated",
            "--set",
            "workers.tolerations[0].operator=Equal",
            "--set",
            "workers.tolerations[0].value=spark",
            "--set",
            "workers.tolerations[0].effect=NoSchedule",
            "--set",
            "master.podLabels.team=data",
            "--set",
            "workers.podAnnotations.prometheus.io/scrape=true",
            "--set",
            "storage[1].existingClaim=shared-code",
            "--set",
            "storage[1].size=null",
            "--set",
            "storage[1].readOnly=true",
            "--set",
            "storage[0].storageClassName=fast",
            "--set",
            "labels.team=data",
            "--set",
            "annotations.owner=data-platform@example.com",
        ],
    );
}

/// Every ScaledObject sparkup renders, checked against KEDA's CRD schema made strict: an object
/// schema that lists its properties takes no other key, as the API server's strict field
/// validation refuses unknown fields. A broken copy must fail, so the check is not vacuous.
#[test]
#[ignore = "needs check-jsonschema; run by the README's test command"]
fn every_scaled_object_passes_kedas_crd_schema() {
    let dir = crate::common::scratch("keda-schema");
    let crd_text = std::fs::read_to_string("tests/suite/fixtures/crds/keda.sh_scaledobjects.yaml")
        .expect("KEDA's ScaledObject CRD");
    let crd: serde_json::Value = serde_saphyr::from_str(&crd_text).unwrap();
    let mut schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone();
    strict(&mut schema);
    let schema_file = dir.join("scaledobject.schema.json");
    std::fs::write(&schema_file, schema.to_string()).unwrap();

    let demand = "tests/suite/fixtures/valid/demand.yaml";
    let cases: [(&str, Vec<&str>); 3] = [
        ("demand", vec!["-f", demand]),
        (
            "replication-controller",
            vec!["-f", demand, "--set", "workers.kind=ReplicationController"],
        ),
        (
            "tls",
            vec![
                "-f",
                demand,
                "-f",
                "tests/suite/fixtures/valid/tls.yaml",
                "--set",
                "workers.autoscaling.demand.insecureSkipVerify=true",
            ],
        ),
    ];
    let mut files = Vec::new();
    for (name, values) in cases {
        let mut args = vec!["render", "-o", "json"];
        args.extend(values);
        let run = crate::common::sparkup(&args);
        assert_eq!(run.code, Some(0), "{name}: {}", run.stderr);
        let list: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let scaled: Vec<&serde_json::Value> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["kind"] == "ScaledObject")
            .collect();
        assert_eq!(scaled.len(), 1, "{name}");
        let file = dir.join(format!("{name}.json"));
        std::fs::write(&file, scaled[0].to_string()).unwrap();
        files.push(file);
    }
    let check = |files: &[std::path::PathBuf]| {
        Command::new("check-jsonschema")
            .arg("--schemafile")
            .arg(&schema_file)
            .args(files)
            .output()
            .expect("check-jsonschema on PATH (pip install check-jsonschema)")
    };
    let out = check(&files);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut broken: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    broken["spec"]["advanced"]["scalingModifier"] = serde_json::json!({"formula": "apps"});
    let broken_file = dir.join("broken.json");
    std::fs::write(&broken_file, broken.to_string()).unwrap();
    assert!(
        !check(&[broken_file]).status.success(),
        "a misspelt key must fail"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Closes every object schema that lists its properties and does not keep unknown fields.
fn strict(schema: &mut serde_json::Value) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    let open = map.contains_key("additionalProperties")
        || map.get("x-kubernetes-preserve-unknown-fields") == Some(&serde_json::json!(true));
    if map.contains_key("properties") && !open {
        map.insert("additionalProperties".into(), serde_json::json!(false));
    }
    if let Some(properties) = map.get_mut("properties").and_then(|p| p.as_object_mut()) {
        properties.values_mut().for_each(strict);
    }
    for key in ["items", "additionalProperties"] {
        if let Some(child) = map.get_mut(key) {
            strict(child);
        }
    }
}

/// Every profile's compose file, checked against the Compose specification.
#[test]
#[ignore = "needs check-jsonschema; run by the README's test command"]
fn every_compose_file_passes_the_compose_specification() {
    let dir = crate::common::scratch("compose-schema");
    let mut files = Vec::new();
    let fixtures = VALID_FIXTURES
        .iter()
        .map(|f| (*f, format!("tests/suite/fixtures/valid/{f}.yaml")));
    let cases = sparkup::values::profiles::names()
        .map(|p| (p, String::new()))
        .chain(fixtures);
    for (name, values) in cases {
        let file = dir.join(format!("{name}.yaml"));
        let mut args = vec!["compose", "-o", file.to_str().unwrap()];
        match values.is_empty() {
            true => args.extend(["--profile", name]),
            false => args.extend(["-f", values.as_str()]),
        }
        let run = crate::common::sparkup(&args);
        assert_eq!(run.code, Some(0), "{name}: {}", run.stderr);
        files.push(file.display().to_string());
    }
    let out = Command::new("check-jsonschema")
        .args(["--builtin-schema", "vendor.compose-spec"])
        .args(&files)
        .output()
        .expect("check-jsonschema on PATH (pip install check-jsonschema)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}
