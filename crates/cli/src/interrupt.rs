//! Ctrl-C: the first one ends the stream gracefully (end of stream, so muxers finalise their
//! files, like `gst-launch-1.0 -e`); the second exits at once with status 130.

use gstpipe_core::Watch;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);
/// The pipeline the first Ctrl-C ends.
static RUNNING: Mutex<Option<Watch>> = Mutex::new(None);

/// Installs the Ctrl-C handler (the `ctrlc` crate runs it on its own thread, so it may do
/// ordinary work): the first Ctrl-C asks the running pipeline for end of stream
/// ([`Watch::request_eos`]), the second exits with status 130.
pub fn install() {
    let installed = ctrlc::set_handler(|| {
        if INTERRUPTS.fetch_add(1, Ordering::SeqCst) >= 1 {
            std::process::exit(130);
        }
        if let Some(watch) = RUNNING.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            tracing::info!("interrupted: sending end of stream (Ctrl-C again to quit)");
            watch.request_eos();
        }
    });
    if let Err(e) = installed {
        tracing::warn!("cannot install the Ctrl-C handler: {e}");
    }
}

/// Whether Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTS.load(Ordering::SeqCst) > 0
}

/// While alive, the first Ctrl-C ends this pipeline's stream gracefully.
pub struct EosOnInterrupt;

impl EosOnInterrupt {
    /// Ends `watch`'s pipeline on Ctrl-C (at once if Ctrl-C was already pressed).
    pub fn new(watch: Watch) -> Self {
        if interrupted() {
            watch.request_eos();
        }
        *RUNNING.lock().unwrap_or_else(|p| p.into_inner()) = Some(watch);
        EosOnInterrupt
    }
}

impl Drop for EosOnInterrupt {
    fn drop(&mut self) {
        *RUNNING.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}
