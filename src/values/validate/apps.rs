//! Applications on the cluster: the history server, the Connect server and each job.

use super::*;
use crate::spark::ports::{BLOCK_MANAGER_PORT, DRIVER_PORT, DRIVER_UI_PORT};

/// Longest CronJob name: the controller appends `-<11 digits>` for each Job's name.
pub(super) const MAX_CRONJOB_NAME: usize = 52;

/// The event log folder: a URL, or a path on a claim every driver and the history server mount.
pub(super) fn check_history(spec: &ClusterSpec, r: &mut Report) {
    let history = &spec.history;
    check_resources(r, "history.resources", &history.resources);
    if history.port == 0 {
        r.number("history.port", 0, "a port from 1 to 65535");
    }
    for (field, value) in [
        ("interval", &history.cleaner.interval),
        ("maxAge", &history.cleaner.max_age),
    ] {
        if spark_duration(value).is_none() {
            r.invalid(
                format!("history.cleaner.{field}"),
                value,
                "a duration as Spark writes it, such as 12h or 7d",
            );
        }
    }
    if !history.enabled {
        return;
    }
    check_on_writable_claim(
        r,
        spec,
        "history.logDirectory",
        &history.log_directory,
        "which every driver and the history server mount",
        true,
    );
}

pub(super) fn check_connect(spec: &ClusterSpec, r: &mut Report) {
    check_resources(r, "connect.resources", &spec.connect.resources);
    let port = spec.connect.port;
    if port == 0 {
        r.number("connect.port", 0, "a port from 1 to 65535");
    } else if [DRIVER_PORT, BLOCK_MANAGER_PORT, DRIVER_UI_PORT].contains(&port) {
        r.number(
            "connect.port",
            port,
            format!(
                "a port other than the Connect server's own: {DRIVER_UI_PORT} (its UI), \
                 {DRIVER_PORT} and {BLOCK_MANAGER_PORT} (its driver's): one container cannot \
                 listen twice on a port"
            ),
        );
    }
    check_conf(r, spec, "connect.conf", &spec.connect.conf);
}

pub(super) fn check_job(spec: &ClusterSpec, r: &mut Report, name: &str, job: &JobSpec) {
    let path = path_key("jobs", name);
    let object_name = format!("{}-{name}", spec.name);
    if !is_dns1123_label(name) {
        r.invalid(&path, name, DNS1123_LABEL);
    } else if object_name.len() > MAX_CRONJOB_NAME {
        r.invalid(
            &path,
            name,
            format!(
                "a shorter name: {object_name:?} (instance name, '-', job name) may have at most \
                 {MAX_CRONJOB_NAME} characters"
            ),
        );
    }
    if job.app.trim().is_empty() {
        r.0.push(ValueError::new(
            format!("{path}.app"),
            "missing: the application to run, e.g. /code/etl.py or /code/etl.jar with `class`",
        ));
    } else if job.app.chars().any(char::is_control) {
        r.invalid(format!("{path}.app"), &job.app, "a path or URL on one line");
    }
    if let Some(class) = &job.main_class
        && (class.is_empty()
            || !class
                .chars()
                .all(|c| c.is_alphanumeric() || "._$".contains(c)))
    {
        r.invalid(
            format!("{path}.class"),
            class,
            "a Java class name such as com.example.Etl",
        );
    }
    check_conf(r, spec, &format!("{path}.conf"), &job.conf);
    check_secret_conf(
        r,
        &format!("{path}.secretConf"),
        &job.secret_conf,
        &[&spec.spark_conf, &job.conf],
    );
    check_env(r, spec, &format!("{path}."), &job.env, &job.env_from);
    check_resources(r, &format!("{path}.resources"), &job.resources);
    if let Some(schedule) = &job.schedule
        && !is_cron_schedule(schedule)
    {
        r.invalid(
            format!("{path}.schedule"),
            schedule,
            "a cron schedule of five fields such as \"0 2 * * *\", or @hourly, @daily, @weekly, \
             @monthly, @yearly (put a time zone in `timeZone`)",
        );
    }
    if let Some(zone) = &job.time_zone {
        let valid = !zone.is_empty()
            && zone
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+-/".contains(c));
        if !valid {
            r.invalid(
                format!("{path}.timeZone"),
                zone,
                "a time zone name such as Europe/Berlin or Etc/UTC",
            );
        }
    }
    check_int32(r, &path, job);
    if job.workers > MAX_JOB_WORKERS {
        r.number(
            format!("{path}.workers"),
            job.workers,
            format!("at most {MAX_JOB_WORKERS} extra workers in one driver pod"),
        );
    }
}

/// Extra workers are containers of the driver's pod; each needs its own ports.
pub(crate) const MAX_JOB_WORKERS: u32 = 8;

/// What the CronJob controller accepts: five fields, or one of its descriptors.
/// The fields the API server takes as 32-bit integers, refused here at their values path rather
/// than in the rendered CronJob or Job.
fn check_int32(r: &mut Report, path: &str, job: &JobSpec) {
    const MAX: u32 = i32::MAX as u32;
    for (field, value) in [
        (
            "successfulJobsHistoryLimit",
            job.successful_jobs_history_limit,
        ),
        ("failedJobsHistoryLimit", job.failed_jobs_history_limit),
        ("backoffLimit", job.backoff_limit),
    ] {
        if value > MAX {
            r.number(format!("{path}.{field}"), value, format!("at most {MAX}"));
        }
    }
}

pub(super) fn is_cron_schedule(schedule: &str) -> bool {
    const DESCRIPTORS: &[&str] = &[
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    if fields.len() == 1 {
        return DESCRIPTORS.contains(&fields[0]);
    }
    fields.len() == 5
        && fields.iter().all(|f| {
            f.chars()
                .all(|c| c.is_ascii_alphanumeric() || "*,-/?".contains(c))
        })
}
