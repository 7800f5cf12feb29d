//! Talking to the Kubernetes API server: plan (diff), apply, wait, status, delete, and runs of
//! applications (submit).
//!
//! Each operation is a plain async function over an [`ApiServer`], the cluster's values and its
//! rendered objects. Paths come from the kind table (no API discovery), the instance's objects
//! are found through its ApplySet (`inventory`), and nothing here prints: reports go back to the
//! caller.

mod apply;
mod client;
mod connect;
mod delete;
mod diff;
mod error;
mod forward;
mod guard;
mod inventory;
mod log_query;
mod logs;
mod plan;
mod pods;
mod progress;
mod resolution;
mod restarts;
mod revisions;
mod roll;
mod scaler;
mod status;
mod submit;
mod survey;
mod wait;

pub use apply::{ApplyOptions, ApplyReport, apply};
pub use client::{ApiServer, KubeError, REQUEST_TIMEOUT, Target};
pub use connect::{ConnectOptions, connect};
pub use delete::{DeleteReport, delete};
pub use diff::{DiffOptions, diff_json, diff_text};
pub use forward::{Forwarding, Ui, forward};
pub use logs::{LogOptions, LogSource, logs};
pub use plan::{Action, Change, PlanOptions, Summary, plan};
pub use restarts::Restart;
pub use revisions::{
    HISTORY_MAX, RecordOptions, Revision, RevisionResult, change_line, find, finish, masked,
    record, revisions,
};
pub use roll::{StalePods, roll, stale_pods};
pub use status::{Access, Row, StatusReport, UiAddress, status};
pub use submit::{Outcome, SubmitOptions, submit};
pub use wait::{Progress, WaitOptions, wait};
