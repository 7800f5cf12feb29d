//! Claims and where they are mounted: no two at one path, none over a folder Spark needs.

use super::*;

/// Paths the pods use for configuration and scratch space.
pub(super) const RESERVED_MOUNTS: &[&str] = &["/opt/spark", "/etc/sparkup", "/tmp"];

/// A folder on one of the writable storage claims (or, where `url_ok`, a URL Spark writes to).
pub(super) fn check_on_writable_claim(
    r: &mut Report,
    spec: &ClusterSpec,
    path: &str,
    dir: &str,
    who: &str,
    url_ok: bool,
) {
    if url_ok && dir.contains("://") {
        return;
    }
    let mounts: Vec<&str> = spec
        .storage
        .iter()
        .filter(|s| !s.read_only)
        .map(|s| s.mount_path.as_str())
        .collect();
    let on_a_claim = dir.starts_with('/')
        && !dir.split('/').any(|p| p == "." || p == "..")
        && mounts
            .iter()
            .any(|m| dir == *m || dir.starts_with(&format!("{m}/")));
    if !on_a_claim {
        let where_ = match mounts.is_empty() {
            true => "no writable claim is mounted: add one under `storage`".to_string(),
            false => format!("writable claims are mounted at {}", mounts.join(", ")),
        };
        let or_url = match url_ok {
            true => ", or a URL such as s3a://bucket/spark-events",
            false => "",
        };
        r.invalid(
            path,
            dir,
            format!("a folder on a writable storage claim, {who} ({where_}){or_url}"),
        );
    }
}

pub(super) fn check_storage(storage: &[StorageSpec], r: &mut Report) {
    let mut names = BTreeSet::new();
    let mut mounts = BTreeSet::new();
    for (i, volume) in storage.iter().enumerate() {
        let path = format!("storage[{i}]");
        if !is_dns1123_label(&volume.name) || volume.name.len() > 20 {
            r.invalid(
                format!("{path}.name"),
                &volume.name,
                "a DNS-1123 label of at most 20 characters",
            );
        } else if !names.insert(volume.name.as_str()) {
            r.invalid(
                format!("{path}.name"),
                &volume.name,
                "a name no other storage entry has",
            );
        }
        check_mount_path(r, &path, volume, &mut mounts);
        match (&volume.existing_claim, &volume.size) {
            (Some(claim), None) => check_subdomain(r, format!("{path}.existingClaim"), claim),
            (None, Some(size)) if size.millis() == 0 => r.invalid(
                format!("{path}.size"),
                size.text(),
                "a size above 0, such as 10Gi",
            ),
            (None, Some(_)) => {}
            (None, None) => r.0.push(ValueError::new(
                format!("{path}.size"),
                "missing: a claim sparkup creates needs a size (or set existingClaim)",
            )),
            (Some(_), Some(_)) => r.0.push(ValueError::new(
                format!("{path}.size"),
                "expected no size with existingClaim: the existing claim has its own",
            )),
        }
        if volume.access_modes.is_empty() {
            r.0.push(ValueError::new(
                format!("{path}.accessModes"),
                "expected at least one access mode",
            ));
        }
        if let Some(class) = &volume.storage_class_name
            && !class.is_empty()
        {
            check_subdomain(r, format!("{path}.storageClassName"), class);
        }
    }
}

pub(super) fn check_mount_path<'a>(
    r: &mut Report,
    path: &str,
    volume: &'a StorageSpec,
    seen: &mut BTreeSet<&'a str>,
) {
    let mount = volume.mount_path.as_str();
    let normal = mount.starts_with('/')
        && mount.len() > 1
        && !mount.ends_with('/')
        && mount
            .split('/')
            .skip(1)
            .all(|p| !p.is_empty() && p != "." && p != "..")
        && !mount.chars().any(|c| c.is_control() || c == ':');
    let reserved = RESERVED_MOUNTS.iter().find(|m| {
        mount == **m || mount.starts_with(&format!("{m}/")) || m.starts_with(&format!("{mount}/"))
    });
    let field = format!("{path}.mountPath");
    if !normal {
        r.invalid(
            field,
            mount,
            "an absolute path such as /data, without '.', '..' or a trailing '/'",
        );
    } else if let Some(reserved) = reserved {
        r.invalid(
            field,
            mount,
            format!("a path outside {reserved}, which the pods use"),
        );
    } else if !seen.insert(mount) {
        r.invalid(field, mount, "a path no other storage entry mounts");
    }
}
