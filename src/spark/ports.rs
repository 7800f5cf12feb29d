//! The ports sparkup gives every client-mode driver: fixed, so that executors can dial them and
//! network policies can name them.

pub(crate) const DRIVER_PORT: u16 = 7079;
pub(crate) const BLOCK_MANAGER_PORT: u16 = 7080;
/// The driver's UI (and the Connect server's application UI).
pub(crate) const DRIVER_UI_PORT: u16 = 4040;
