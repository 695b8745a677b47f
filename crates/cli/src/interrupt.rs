//! Ctrl-C: the first one ends the stream gracefully (end of stream, so muxers finalise their
//! files, like `gst-launch-1.0 -e`); the second exits at once with status 130.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);

/// Installs the Ctrl-C handler (the `ctrlc` crate runs it on its own thread, so it may do
/// ordinary work): the first Ctrl-C is recorded, the second exits with status 130.
pub fn install() {
    let installed = ctrlc::set_handler(|| {
        if INTERRUPTS.fetch_add(1, Ordering::SeqCst) >= 1 {
            std::process::exit(130);
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

/// While alive, a thread that sends end of stream to the pipeline on the first Ctrl-C.
pub struct EosOnInterrupt {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EosOnInterrupt {
    /// Watches for Ctrl-C on behalf of `pipeline`.
    pub fn new(pipeline: &gst::Pipeline) -> Self {
        use gst::prelude::*;
        let done = Arc::new(AtomicBool::new(false));
        let pipeline = pipeline.clone();
        let d = Arc::clone(&done);
        let thread = std::thread::Builder::new()
            .name("gstpipe-interrupt".into())
            .spawn(move || {
                while !d.load(Ordering::SeqCst) {
                    if interrupted() {
                        tracing::info!("interrupted: sending end of stream (Ctrl-C again to quit)");
                        pipeline.send_event(gst::event::Eos::new());
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
            .ok();
        EosOnInterrupt { done, thread }
    }
}

impl Drop for EosOnInterrupt {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
