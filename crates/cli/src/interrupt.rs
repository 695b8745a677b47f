//! Ctrl-C (SIGINT), SIGTERM and SIGHUP: the first one ends the stream gracefully (end of
//! stream, so muxers finalise their files, like `gst-launch-1.0 -e`; the summary is printed and
//! the exit status is that of a normal end); the second exits at once with status 130.

use gstpipe_core::Watch;
use gstpipe_core::sync::Unpoisoned as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

type Action = Box<dyn Fn() + Send + Sync>;

static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);
/// What the first Ctrl-C does: end the running pipeline's stream, or stop a live source.
static RUNNING: Mutex<Option<Action>> = Mutex::new(None);

/// Installs the handler of SIGINT, SIGTERM and SIGHUP (the `ctrlc` crate, with its
/// `termination` feature, runs it on its own thread, so it may do ordinary work): the first
/// signal asks the running pipeline for end of stream ([`Watch::request_eos`]), the second
/// exits with status 130.
pub fn install() {
    let installed = ctrlc::set_handler(|| {
        if INTERRUPTS.fetch_add(1, Ordering::SeqCst) >= 1 {
            std::process::exit(130);
        }
        if let Some(action) = RUNNING.lock_unpoisoned().as_ref() {
            tracing::info!("interrupted: ending the stream (interrupt again to quit)");
            action();
        }
    });
    if let Err(e) = installed {
        tracing::warn!("cannot install the Ctrl-C handler: {e}");
    }
}

/// Whether Ctrl-C was pressed (or SIGTERM or SIGHUP received).
pub fn interrupted() -> bool {
    INTERRUPTS.load(Ordering::SeqCst) > 0
}

/// While alive, the first Ctrl-C ends this pipeline's stream gracefully.
pub struct EosOnInterrupt;

impl EosOnInterrupt {
    /// Ends `watch`'s pipeline on Ctrl-C (at once if Ctrl-C was already pressed).
    pub fn new(watch: Watch) -> Self {
        Self::with(move || watch.request_eos())
    }

    /// Runs `action` on the first Ctrl-C (at once if Ctrl-C was already pressed).
    pub fn with(action: impl Fn() + Send + Sync + 'static) -> Self {
        if interrupted() {
            action();
        }
        *RUNNING.lock_unpoisoned() = Some(Box::new(action));
        EosOnInterrupt
    }
}

impl Drop for EosOnInterrupt {
    fn drop(&mut self) {
        *RUNNING.lock_unpoisoned() = None;
    }
}
