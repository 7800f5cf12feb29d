//! How long a wait may take, and what it shows while it waits: a spinner line per thing waited
//! on, on a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct WaitOptions {
    /// The whole wait, as the user gave it (messages name it).
    pub timeout: Duration,
    pub interval: Duration,
    /// How much of `timeout` an earlier step (the roll before the wait) already took.
    pub spent: Duration,
}

impl WaitOptions {
    /// How often the state is read again: the last step (a probe, a registration) is over a
    /// second or less after the one before, so a longer period would be most of the wait.
    pub const INTERVAL: Duration = Duration::from_millis(500);

    /// When the time left runs out.
    pub(crate) fn deadline(&self) -> Instant {
        deadline(self.timeout.saturating_sub(self.spent))
    }
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(600),
            interval: WaitOptions::INTERVAL,
            spent: Duration::ZERO,
        }
    }
}

/// One spinner line per thing waited on, on a terminal; nothing otherwise.
pub struct Progress {
    multi: MultiProgress,
}

impl Progress {
    pub fn new() -> Progress {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Progress {
            multi: MultiProgress::with_draw_target(target),
        }
    }

    pub fn hidden() -> Progress {
        Progress {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::hidden()),
        }
    }

    pub(crate) fn line(&self, prefix: String) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix:.bold} {wide_msg}")
                .expect("static template"),
        );
        bar.set_prefix(prefix);
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

/// `timeout` from now; one past what the clock can hold is no deadline.
pub(crate) fn deadline(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}
