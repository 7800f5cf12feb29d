//! `dependencies`: Maven coordinates, repositories and jars as Spark and the resolver take them
//! (comma-separated lists, so no commas or spaces inside one), and the claim they land on.

use super::*;

pub(super) fn check_dependencies(spec: &ClusterSpec, r: &mut Report) {
    let deps = &spec.dependencies;
    for (i, coordinate) in deps.packages.iter().enumerate() {
        let parts: Vec<&str> = coordinate.split(':').collect();
        let valid = parts.len() == 3
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            });
        if !valid {
            r.invalid(
                format!("dependencies.packages[{i}]"),
                coordinate,
                "Maven coordinates group:artifact:version, such as \
                 org.apache.hadoop:hadoop-aws:3.4.1",
            );
        }
    }
    for (i, url) in deps.repositories.iter().enumerate() {
        let scheme = ["https://", "http://", "file:/"]
            .iter()
            .any(|s| url.starts_with(s));
        if !scheme || !plain(url) {
            r.invalid(
                format!("dependencies.repositories[{i}]"),
                url,
                "a repository URL such as https://repo.example.com/maven2 or file:///data/m2",
            );
        }
    }
    let mounts: Vec<&str> = spec.storage.iter().map(|s| s.mount_path.as_str()).collect();
    for (i, jar) in deps.jars.iter().enumerate() {
        let url = jar.starts_with("https://") || jar.starts_with("http://");
        let on_claim = jar.starts_with('/')
            && !jar.split('/').any(|p| p == "." || p == "..")
            && mounts.iter().any(|m| jar.starts_with(&format!("{m}/")));
        if !plain(jar) || !jar.ends_with(".jar") || !(url || on_claim) {
            r.invalid(
                format!("dependencies.jars[{i}]"),
                jar,
                format!(
                    "a jar's https:// URL, or its path on a claim ({})",
                    match mounts.is_empty() {
                        true => "none is mounted: add one under storage".to_string(),
                        false => format!("mounted at {}", mounts.join(", ")),
                    }
                ),
            );
        }
    }
    check_dependencies_storage(spec, r);
}

/// The claim the jars are resolved onto: named, or the first writable one.
fn check_dependencies_storage(spec: &ClusterSpec, r: &mut Report) {
    let deps = &spec.dependencies;
    if !deps.any() {
        return;
    }
    let writable: Vec<&str> = spec
        .storage
        .iter()
        .filter(|s| !s.read_only)
        .map(|s| s.name.as_str())
        .collect();
    match &deps.storage {
        Some(name) if !writable.contains(&name.as_str()) => r.invalid(
            "dependencies.storage",
            name,
            match writable.is_empty() {
                true => "a writable entry of storage, and there is none".to_string(),
                false => format!("a writable entry of storage: {}", writable.join(", ")),
            },
        ),
        None if writable.is_empty() => r.0.push(ValueError::new(
            "dependencies.storage",
            "missing: the dependencies are resolved once onto a claim every pod mounts; add a \
             writable entry under storage (ReadWriteMany)",
        )),
        _ => {}
    }
}

/// No comma (Spark's list separator) and no white space.
fn plain(text: &str) -> bool {
    !text.is_empty() && !text.contains(',') && !text.chars().any(char::is_whitespace)
}
