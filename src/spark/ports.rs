//! The ports sparkup gives every client-mode driver: fixed, so that executors can dial them and
//! network policies can name them.

pub(crate) const DRIVER_PORT: u16 = 7079;
pub(crate) const BLOCK_MANAGER_PORT: u16 = 7080;
/// The driver's UI (and the Connect server's application UI).
pub(crate) const DRIVER_UI_PORT: u16 = 4040;
/// A job's extra worker `i` (from 1) listens on these plus `i`, beside its driver.
pub(crate) const EXTRA_WORKER_RPC: u16 = 7200;
pub(crate) const EXTRA_WORKER_HTTP: u16 = 8200;
