//! [`FrameSink::on_frame`]: a callback on the streaming thread, the `new-sample` model.

use crate::error::SinkError;
use crate::sink::{FrameSink, POLL};
use gst::prelude::*;
use gstpipe_core::Outcome;
use gstpipe_frame::Frame;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Shared {
    frames: AtomicU64,
    eos: AtomicBool,
    /// Nanoseconds since `epoch` of the last frame.
    last_frame: AtomicU64,
    epoch: Instant,
    error: Mutex<Option<String>>,
}

impl Shared {
    fn since_epoch(&self) -> u64 {
        self.epoch
            .elapsed()
            .as_nanos()
            .try_into()
            .unwrap_or(u64::MAX)
    }
}

impl FrameSink {
    /// Runs `callback` on the streaming thread for every frame, as the appsink's `new-sample`
    /// callback: no queue, no extra thread; the pipeline waits while it runs.
    ///
    /// An `Err` returned by the callback (or a frame that cannot be mapped) posts an element
    /// error from the appsink, so the pipeline stops with it: [`CallbackHandle::wait`] then
    /// returns [`SinkError::Callback`] and the pipeline's own `wait` the element error. A panic
    /// in the callback is caught by gstreamer-rs and also fails the pipeline. Once the pipeline
    /// has failed, later frames are refused and the callback is not called again.
    ///
    /// The callback keeps running until the pipeline ends, whether or not the handle is kept;
    /// the handle only observes. Do not stop the pipeline from inside the callback.
    ///
    /// Installed after [`Pipeline::play`](gstpipe_core::Pipeline::play), frames the appsink
    /// had already queued are handed to the callback first, in order, on the calling thread
    /// before `on_frame` returns (the appsink only signals frames queued after the callback
    /// exists, and a full queue would otherwise hold the pipeline forever).
    ///
    /// ```
    /// use gstpipe_core::Pipeline;
    /// use gstpipe_sinks::FrameSink;
    ///
    /// let pipeline = Pipeline::launch("videotestsrc num-buffers=3 ! appsink")?;
    /// let handle = FrameSink::new(&pipeline)?.on_frame(|frame| {
    ///     println!("{}x{} at {:?}", frame.width(), frame.height(), frame.pts());
    ///     Ok::<(), std::convert::Infallible>(())
    /// })?;
    /// pipeline.play()?;
    /// assert_eq!(handle.wait()?, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// None today; the `Result` leaves room for refusing a sink that cannot take callbacks.
    pub fn on_frame<F, E>(self, callback: F) -> Result<CallbackHandle, SinkError>
    where
        F: FnMut(Frame) -> Result<(), E> + Send + 'static,
        E: std::fmt::Display,
    {
        let shared = Arc::new(Shared {
            frames: AtomicU64::new(0),
            eos: AtomicBool::new(false),
            last_frame: AtomicU64::new(0),
            epoch: Instant::now(),
            error: Mutex::new(None),
        });
        // Taking the oldest queued sample and running the callback on it is one step under
        // this lock, so frames stay in order when the catch-up below and the streaming thread
        // both deliver.
        let callback = Arc::new(Mutex::new(callback));
        let on_sample = Arc::clone(&shared);
        let on_eos = Arc::clone(&shared);
        let streaming = Arc::clone(&callback);
        let watch = self.watch.clone();
        let callbacks = gst_app::AppSinkCallbacks::builder()
            .new_sample(move |appsink| {
                let mut callback = streaming.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(Outcome::Error(_)) = watch.outcome() {
                    return Err(gst::FlowError::Error);
                }
                // Not a blocking pull: the catch-up may have taken this sample already.
                match appsink.try_pull_sample(gst::ClockTime::ZERO) {
                    Some(sample) => deliver(&mut *callback, appsink, &sample, &on_sample),
                    None => Ok(gst::FlowSuccess::Ok),
                }
            })
            .eos(move |_| on_eos.eos.store(true, Ordering::Release))
            .build();
        self.appsink.set_callbacks(callbacks);
        // Installed after play, the appsink may already hold frames: `new-sample` is only
        // called for frames queued from now on, and with a full queue upstream would wait
        // forever. Hand those to the callback here, oldest first.
        loop {
            let mut guard = callback.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(Outcome::Error(_)) = self.watch.outcome() {
                break;
            }
            let Some(sample) = self.appsink.try_pull_sample(gst::ClockTime::ZERO) else {
                break;
            };
            let appsink = &self.appsink;
            let delivered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                deliver(&mut *guard, appsink, &sample, &shared)
            }));
            match delivered {
                Ok(Ok(_)) => {}
                Ok(Err(_)) => break,
                Err(panic) => {
                    // As gstreamer-rs does for a panic on the streaming thread.
                    let cause = panic
                        .downcast_ref::<&str>()
                        .copied()
                        .or_else(|| panic.downcast_ref::<String>().map(String::as_str));
                    let message = match cause {
                        Some(cause) => format!("Panicked: {cause}"),
                        None => "Panicked".to_string(),
                    };
                    appsink.post_error_message(gst::error_msg!(
                        gst::LibraryError::Failed,
                        ("{}", message)
                    ));
                    break;
                }
            }
        }
        Ok(CallbackHandle { sink: self, shared })
    }
}

/// Runs the callback on one sample: counts it, or records the callback's error and posts it
/// from the appsink so the pipeline fails with it.
fn deliver<F, E>(
    callback: &mut F,
    appsink: &gst_app::AppSink,
    sample: &gst::Sample,
    shared: &Shared,
) -> Result<gst::FlowSuccess, gst::FlowError>
where
    F: FnMut(Frame) -> Result<(), E>,
    E: std::fmt::Display,
{
    let result = match Frame::from_sample(sample) {
        Ok(frame) => callback(frame).map_err(|e| e.to_string()),
        Err(e) => Err(format!("cannot map the frame: {e}")),
    };
    match result {
        Ok(()) => {
            shared.frames.fetch_add(1, Ordering::Relaxed);
            shared
                .last_frame
                .store(shared.since_epoch(), Ordering::Relaxed);
            Ok(gst::FlowSuccess::Ok)
        }
        Err(message) => {
            tracing::error!(appsink = %appsink.name(), "frame callback failed: {message}");
            *shared.error.lock().unwrap_or_else(|p| p.into_inner()) = Some(message.clone());
            appsink.post_error_message(gst::error_msg!(
                gst::CoreError::Failed,
                ("frame callback failed: {}", message)
            ));
            Err(gst::FlowError::Error)
        }
    }
}

/// Observes a callback installed by [`FrameSink::on_frame`]: frames handled, and the end.
pub struct CallbackHandle {
    sink: FrameSink,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CallbackHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackHandle")
            .field("appsink", &self.sink.name)
            .field("frames", &self.frames())
            .field("eos", &self.shared.eos.load(Ordering::Relaxed))
            .finish()
    }
}

impl CallbackHandle {
    /// How many frames the callback has handled successfully.
    pub fn frames(&self) -> u64 {
        self.shared.frames.load(Ordering::Relaxed)
    }

    /// The appsink the callback runs on.
    pub fn appsink(&self) -> &gst_app::AppSink {
        &self.sink.appsink
    }

    /// Whether the stream has ended: EOS reached this appsink, or the pipeline ended.
    pub fn is_done(&self) -> bool {
        self.shared.eos.load(Ordering::Acquire) || self.sink.watch.is_done()
    }

    /// Waits until the stream ends and returns the number of frames handled: `Ok` at this
    /// appsink's EOS (or the pipeline's, or when it was stopped); [`SinkError::Callback`] when
    /// the callback failed; the pipeline's error when an element failed;
    /// [`SinkError::Timeout`] when no frame came for the sink's timeout while the pipeline
    /// neither ended nor failed.
    pub fn wait(&self) -> Result<u64, SinkError> {
        self.wait_until(None)
    }

    /// Like [`wait`](CallbackHandle::wait), but gives up after `limit` in all
    /// ([`SinkError::Timeout`]).
    pub fn wait_timeout(&self, limit: Duration) -> Result<u64, SinkError> {
        self.wait_until(Some(Instant::now() + limit))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> Result<u64, SinkError> {
        let started = Instant::now();
        let stall = self.sink.timeout;
        loop {
            if let Some(message) = self
                .shared
                .error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
            {
                return Err(SinkError::Callback(message));
            }
            match self.sink.watch.outcome() {
                Some(Outcome::Error(e)) => {
                    return Err(SinkError::Pipeline(gstpipe_core::Error::Element(e)));
                }
                Some(_) => return Ok(self.frames()),
                None => {}
            }
            if self.shared.eos.load(Ordering::Acquire) {
                return Ok(self.frames());
            }
            let now = Instant::now();
            // The stall clock runs from the later of the wait's start and the last frame.
            let last = self.shared.last_frame.load(Ordering::Relaxed);
            let last = self.shared.epoch + Duration::from_nanos(last);
            let quiet = now - last.max(started);
            if quiet >= stall {
                return Err(self.timeout(quiet));
            }
            if let Some(deadline) = deadline
                && now >= deadline
            {
                return Err(self.timeout(now - started));
            }
            std::thread::sleep(POLL / 2);
        }
    }

    fn timeout(&self, waited: Duration) -> SinkError {
        SinkError::Timeout {
            element: self.sink.name.clone(),
            operation: "the end of the stream",
            waited,
        }
    }
}
