//! Which Spark processes read a property: the daemons read a few families of settings when they
//! start (their own, security, their web UI's), applications everything but the daemons' own.
//!
//! Spark splits its configuration this way itself: `spark.deploy.*` and `spark.master.*` are the
//! master's, `spark.worker.*` and `spark.shuffle.service.*` the worker's, `spark.history.*` the
//! history server's (with Hadoop's `spark.hadoop.*` for the file system it reads event logs
//! from), while `spark.executor.*`, `spark.driver.*`, `spark.sql.*`, `spark.network.timeout` and
//! the rest are read by a driver and handed to its executors. A daemon that does not read a
//! property need not restart when it changes; drivers started afterwards read the new value.

/// Which processes read a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Readers {
    pub master: bool,
    pub worker: bool,
    pub history: bool,
    /// Drivers (sparkup's jobs, the Connect server) and, through them, their executors.
    pub applications: bool,
}

const fn read_by(master: bool, worker: bool, history: bool, applications: bool) -> Readers {
    Readers {
        master,
        worker,
        history,
        applications,
    }
}

const EVERY_PROCESS: Readers = read_by(true, true, true, true);
const MASTER: Readers = read_by(true, false, false, false);
const MASTER_AND_WORKER: Readers = read_by(true, true, false, false);
const WORKER: Readers = read_by(false, true, false, false);
const WORKER_AND_APPLICATIONS: Readers = read_by(false, true, false, true);
const HISTORY: Readers = read_by(false, false, true, false);
const HISTORY_AND_APPLICATIONS: Readers = read_by(false, false, true, true);
/// What no prefix names: a setting of applications.
const APPLICATIONS: Readers = read_by(false, false, false, true);

/// The table: a property whose name starts with one of these prefixes is read by those
/// processes; the first match decides, so a specific entry goes before a general one.
pub(crate) const TABLE: &[(&str, Readers)] = &[
    // Security and the web UIs every process serves.
    ("spark.authenticate", EVERY_PROCESS),
    ("spark.network.crypto.", EVERY_PROCESS),
    ("spark.ssl.", EVERY_PROCESS),
    ("spark.rpc.", EVERY_PROCESS),
    ("spark.metrics.", EVERY_PROCESS),
    ("spark.redaction.", EVERY_PROCESS),
    ("spark.acls.", EVERY_PROCESS),
    ("spark.admin.acls", EVERY_PROCESS),
    ("spark.ui.view.acls", EVERY_PROCESS),
    ("spark.modify.acls", EVERY_PROCESS),
    ("spark.ui.reverseProxy", EVERY_PROCESS),
    ("spark.ui.filters", EVERY_PROCESS),
    ("spark.ui.allowFramingFrom", EVERY_PROCESS),
    ("spark.ui.strictTransportSecurity", EVERY_PROCESS),
    ("spark.ui.xXssProtection", EVERY_PROCESS),
    ("spark.ui.xContentTypeOptions", EVERY_PROCESS),
    ("spark.ui.requestHeaderSize", EVERY_PROCESS),
    ("spark.port.maxRetries", EVERY_PROCESS),
    // The master's own.
    ("spark.deploy.", MASTER),
    ("spark.master.", MASTER),
    ("spark.worker.timeout", MASTER_AND_WORKER),
    ("spark.dead.worker.persistence", MASTER),
    // The worker's own: its daemon, the external shuffle service it runs (which applications
    // use too), decommissioning (which applications take part in).
    ("spark.worker.", WORKER),
    ("spark.shuffle.service.", WORKER_AND_APPLICATIONS),
    ("spark.decommission.", WORKER_AND_APPLICATIONS),
    ("spark.storage.cleanupFilesAfterExecutorExit", WORKER),
    // The history server's own, and the file systems it and applications read.
    ("spark.history.", HISTORY),
    ("spark.hadoop.", HISTORY_AND_APPLICATIONS),
];

/// The processes that read `key`: applications alone for what the table does not name.
pub(crate) fn readers(key: &str) -> Readers {
    TABLE
        .iter()
        .find(|(prefix, _)| key.starts_with(prefix))
        .map_or(APPLICATIONS, |(_, readers)| *readers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemons_read_their_own_settings_and_applications_the_rest() {
        assert_eq!(readers("spark.deploy.recoveryMode"), MASTER);
        assert_eq!(readers("spark.worker.timeout"), MASTER_AND_WORKER);
        assert_eq!(readers("spark.worker.cleanup.enabled"), WORKER);
        assert_eq!(readers("spark.history.fs.logDirectory"), HISTORY);
        assert_eq!(
            readers("spark.hadoop.fs.s3a.secret.key"),
            HISTORY_AND_APPLICATIONS
        );
        assert_eq!(
            readers("spark.shuffle.service.enabled"),
            WORKER_AND_APPLICATIONS
        );
        assert_eq!(readers("spark.authenticate"), EVERY_PROCESS);
        assert_eq!(readers("spark.ui.reverseProxyUrl"), EVERY_PROCESS);
        for application in [
            "spark.executor.memory",
            "spark.sql.shuffle.partitions",
            "spark.driver.maxResultSize",
            "spark.network.timeout",
            "spark.eventLog.dir",
            "spark.ui.showConsoleProgress",
            "spark.master",
        ] {
            assert_eq!(readers(application), APPLICATIONS, "{application}");
        }
    }
}
