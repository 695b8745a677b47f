//! Waiting and dropping without holding the GIL.

use pyo3::prelude::*;
use std::time::{Duration, Instant};

/// A value whose drop can block on GStreamer's streaming threads (a pipeline going to Null
/// joins them, and one of them may be waiting for the GIL to run a Python callback): it is
/// dropped with the GIL released.
pub(crate) struct DropDetached<T: Send>(Option<T>);

impl<T: Send> DropDetached<T> {
    pub(crate) fn new(value: T) -> Self {
        DropDetached(Some(value))
    }
}

impl<T: Send> std::ops::Deref for DropDetached<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0.as_ref().expect("only taken in drop")
    }
}

impl<T: Send> Drop for DropDetached<T> {
    fn drop(&mut self) {
        if let Some(value) = self.0.take() {
            // Without an interpreter to attach to (shutdown), the closure and the value are
            // simply dropped here.
            Python::try_attach(|py| py.detach(move || drop(value)));
        }
    }
}

/// Longest stretch a wait spends without the GIL before it looks at pending signals, so that
/// Ctrl-C interrupts a long wait. The wait itself is a condition-variable wait in the Rust
/// crates; this only splits a long one.
pub(crate) const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// Outcome of one slice of [`wait_interruptibly`].
pub(crate) enum Step<T> {
    /// Finished with this value.
    Done(T),
    /// The slice ran out without result.
    Again,
}

/// Runs `slice(limit)` without the GIL until it returns [`Step::Done`], giving each call at
/// most [`SIGNAL_CHECK`] and checking for signals (`KeyboardInterrupt`) between calls. `None`
/// when `total` ran out first.
pub(crate) fn wait_interruptibly<T: Send>(
    py: Python<'_>,
    total: Option<Duration>,
    mut slice: impl FnMut(Duration) -> Step<T> + Send,
) -> PyResult<Option<T>> {
    let start = Instant::now();
    loop {
        let remaining = match total {
            Some(total) => match total.checked_sub(start.elapsed()) {
                Some(left) => left,
                None => return Ok(None),
            },
            None => SIGNAL_CHECK,
        };
        let limit = remaining.min(SIGNAL_CHECK);
        if let Step::Done(value) = py.detach(|| slice(limit)) {
            return Ok(Some(value));
        }
        py.check_signals()?;
        if total.is_some_and(|total| start.elapsed() >= total) {
            return Ok(None);
        }
    }
}
