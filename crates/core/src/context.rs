//! GStreamer initialisation and an optional GLib main loop.

use crate::error::{Error, Result};
use gst::glib;
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::Duration;

/// Initialises GStreamer once per process; later calls return the first call's result.
///
/// Every constructor in gstpipe calls this, so calling it yourself is only needed before
/// using `gst` directly.
pub fn init() -> Result<()> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| gst::init().map_err(|e| e.to_string()))
        .clone()
        .map_err(Error::Init)
}

/// A GLib main loop running on the default main context in its own thread, stopped and
/// joined on drop: the equivalent of the Python original's `GstContext`.
///
/// gstpipe itself never needs it (bus watching, appsink pulls and callbacks work without a
/// main loop); some elements and `Bus::add_watch` do.
///
/// ```
/// let ctx = gstpipe_core::Context::new()?;
/// assert!(ctx.is_running());
/// drop(ctx); // quits the loop and joins its thread
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Context {
    main_loop: glib::MainLoop,
    thread: Option<JoinHandle<()>>,
}

impl Context {
    /// Initialises GStreamer and starts the main loop; returns once the loop is running.
    pub fn new() -> Result<Self> {
        init()?;
        let main_loop = glib::MainLoop::new(None, false);
        // An idle source on the loop's context runs once the loop iterates: that is the
        // signal it is running (no polling).
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        glib::idle_add_once(move || {
            let _ = tx.send(());
        });
        let ml = main_loop.clone();
        let thread = std::thread::Builder::new()
            .name("gstpipe-main-loop".into())
            .spawn(move || ml.run())
            .map_err(|e| Error::Init(format!("cannot start the main loop thread: {e}")))?;
        let limit = Duration::from_secs(5);
        if rx.recv_timeout(limit).is_err() {
            return Err(Error::Timeout {
                operation: "the GLib main loop to start".into(),
                after: limit,
            });
        }
        Ok(Context {
            main_loop,
            thread: Some(thread),
        })
    }

    /// Whether the loop is running.
    pub fn is_running(&self) -> bool {
        self.main_loop.is_running()
    }

    /// The main loop, to attach sources or watches to its (default) context.
    pub fn main_loop(&self) -> &glib::MainLoop {
        &self.main_loop
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        self.main_loop.quit();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
