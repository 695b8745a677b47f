//! Waiting and dropping without holding the GIL, and the interpreter's end.
//!
//! Python code runs on GStreamer's threads only through [`attach`], which refuses once the
//! interpreter is ending: an `atexit` hook ([`at_exit`], registered when the module is
//! imported) marks the end, stops every pipeline and live source still running (so no
//! streaming thread is left to call Python), and from then on callbacks are skipped. A
//! thread that took the GIL while the interpreter finalises would be ended by CPython in the
//! middle of Rust frames, which aborts the process.

use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// Set by [`at_exit`]: the interpreter is ending, nothing may call Python from other threads.
static ENDING: AtomicBool = AtomicBool::new(false);

/// What runs GStreamer threads that may call Python: stopped by [`at_exit`].
pub(crate) trait StopAtExit: Send + Sync {
    /// Stops the streaming threads (bounded); errors are not reported at exit.
    fn stop_at_exit(&self);
}

/// Every [`StopAtExit`] object created, weakly (the dead ones are pruned as new ones come).
static RUNNING: Mutex<Vec<Weak<dyn StopAtExit>>> = Mutex::new(Vec::new());

/// Registers `object` to be stopped when the interpreter exits.
pub(crate) fn stop_at_exit<T: StopAtExit + 'static>(object: &Arc<T>) {
    let weak: Weak<dyn StopAtExit> = Arc::downgrade(object) as Weak<dyn StopAtExit>;
    let mut running = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
    running.retain(|w| w.strong_count() > 0);
    running.push(weak);
}

impl StopAtExit for gstpipe_core::Pipeline {
    fn stop_at_exit(&self) {
        let _ = self.stop();
    }
}

impl<T: StopAtExit + Send> StopAtExit for DropDetached<T> {
    fn stop_at_exit(&self) {
        (**self).stop_at_exit();
    }
}

/// The package's `atexit` hook: from now on no other thread calls Python, and every
/// pipeline and live source still running is stopped (without the GIL, so a streaming
/// thread waiting for it lets go).
#[pyfunction]
pub(crate) fn at_exit(py: Python<'_>) -> PyResult<()> {
    crate::errors::guard(|| {
        ENDING.store(true, Ordering::SeqCst);
        let running: Vec<Arc<dyn StopAtExit>> = RUNNING
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .filter_map(|w| w.upgrade())
            .collect();
        py.detach(move || {
            for object in running {
                object.stop_at_exit();
            }
        });
        Ok(())
    })
}

/// Registers [`at_exit`] with Python's `atexit`.
pub(crate) fn register_at_exit(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let hook = wrap_pyfunction!(at_exit, module)?;
    module
        .py()
        .import("atexit")?
        .call_method1("register", (hook,))?;
    Ok(())
}

/// Whether CPython has begun finalising: `Py_IsFinalizing` (3.13) or `_Py_IsFinalizing`
/// (before), looked up at run time because neither is in the limited API of the versions
/// this module supports.
fn interpreter_finalizing() -> bool {
    type IsFinalizing = unsafe extern "C" fn() -> std::ffi::c_int;
    static FUNCTION: std::sync::OnceLock<Option<IsFinalizing>> = std::sync::OnceLock::new();
    let function = FUNCTION.get_or_init(|| {
        [c"Py_IsFinalizing", c"_Py_IsFinalizing"]
            .into_iter()
            .find_map(|name| {
                // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only looks the
                // symbol up in the process's loaded objects.
                let symbol = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
                // SAFETY: both symbols are CPython functions `int f(void)`, as the type says.
                (!symbol.is_null()).then(|| unsafe {
                    std::mem::transmute::<*mut libc::c_void, IsFinalizing>(symbol)
                })
            })
    });
    // SAFETY: the function takes no argument, reads a runtime flag and may be called without
    // the GIL from any thread.
    function.is_some_and(|f| unsafe { f() } != 0)
}

/// Whether Python may no longer be called from other threads: the `atexit` hook has run or
/// the interpreter is finalising.
pub(crate) fn interpreter_ending() -> bool {
    ENDING.load(Ordering::SeqCst) || interpreter_finalizing()
}

/// Runs `f` with the GIL on any thread, or returns `None` without touching Python when the
/// interpreter is ending (or not initialised). The only way gstpipe's threads call Python.
pub(crate) fn attach<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    if interpreter_ending() {
        return None;
    }
    Python::try_attach(f)
}

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
            // Without an interpreter to attach to (shutdown), the value is simply dropped
            // here (the closure is not called, so it drops its capture).
            attach(|py| py.detach(move || drop(value)));
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

/// A Python callable registered with a pipeline or a live source, released (set to `None`)
/// when they stop, so no reference cycle keeps them alive.
pub(crate) type Releasable = std::sync::Arc<std::sync::Mutex<Option<Py<PyAny>>>>;

/// Releases every callable of `callbacks` (after the pipeline or source has stopped).
pub(crate) fn release_callables(callbacks: &std::sync::Mutex<Vec<Releasable>>) {
    use gstpipe_core::sync::Unpoisoned as _;
    for callback in callbacks.lock_unpoisoned().drain(..) {
        callback.lock_unpoisoned().take();
    }
}
