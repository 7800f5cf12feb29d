//! What the fit checks report: a property of an application that cannot work on the cluster.

/// One property that cannot work, and what would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Misfit {
    pub key: &'static str,
    pub value: String,
    pub expected: String,
}
