//! [`FrameSink::on_frame`]: a callback on the streaming thread, the `new-sample` model, as a
//! consumer of the delivery core.

use crate::delivery::{Consumer, Delivery, End, Refusal};
use crate::error::{CallbackError, SinkError};
use crate::sink::FrameSink;
use gstpipe_core::sync::{Unpoisoned, UnpoisonedWait};
use gstpipe_frame::Frame;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

type Callback = Box<dyn FnMut(Frame) -> Result<(), CallbackError> + Send>;

/// What the handle waits for.
#[derive(Default)]
struct State {
    end: Option<End>,
    error: Option<CallbackError>,
}

/// The frame callback as a [`Consumer`]: the user's function, and what the handle observes.
struct CallbackConsumer {
    callback: Mutex<Callback>,
    appsink: String,
    frames: AtomicU64,
    /// Nanoseconds from `epoch` to the last frame handled.
    last_frame: AtomicU64,
    epoch: Instant,
    state: Mutex<State>,
    changed: Condvar,
}

impl CallbackConsumer {
    fn since_epoch(&self) -> u64 {
        self.epoch
            .elapsed()
            .as_nanos()
            .try_into()
            .unwrap_or(u64::MAX)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock_unpoisoned()
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.changed.notify_all();
    }
}

impl Consumer for CallbackConsumer {
    fn label(&self) -> &'static str {
        "on_frame"
    }

    fn frame(&self, frame: Frame, _sample: &gst::Sample, _backlog: bool) -> Result<(), Refusal> {
        if self.lock().end.is_some() {
            return Err(Refusal::Stop);
        }
        let result = (*self.callback.lock_unpoisoned())(frame);
        match result {
            Ok(()) => {
                self.frames.fetch_add(1, Ordering::Relaxed);
                self.last_frame.store(self.since_epoch(), Ordering::Relaxed);
                Ok(())
            }
            Err(error) => {
                tracing::error!(appsink = %self.appsink, "frame callback failed: {error}");
                let message = format!("frame callback failed: {error}");
                self.update(|s| s.error = Some(error));
                Err(Refusal::Fail(message))
            }
        }
    }

    fn end(&self, end: End) {
        self.update(|s| s.end = Some(end));
    }
}

impl FrameSink {
    /// Runs `callback` on the streaming thread for every frame, as the appsink's `new-sample`
    /// callback: no queue, no extra thread; the pipeline waits while it runs.
    ///
    /// An `Err` returned by the callback (or a frame that cannot be mapped) posts an element
    /// error from the appsink, so the pipeline stops with it: [`CallbackHandle::wait`] then
    /// returns [`SinkError::Callback`] carrying the callback's own error (downcast it with
    /// [`SinkError::callback_error`]) and the pipeline's own `wait` the element error. A panic
    /// in the callback is caught by gstreamer-rs and also fails the pipeline. Once the pipeline
    /// has failed, later frames are refused and the callback is not called again.
    ///
    /// The callback keeps running until the pipeline ends, whether or not the handle is kept;
    /// the handle only observes. [`Pipeline::stop`](gstpipe_core::Pipeline::stop) may be
    /// called from inside the callback on the streaming thread: it sends EOS, returns at
    /// once and finishes the stop on a thread of its own. For frames the appsink held before
    /// `on_frame` (handed over on the calling thread), use
    /// [`Pipeline::stop_in_background`](gstpipe_core::Pipeline::stop_in_background) there.
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
    pub fn on_frame<F, E>(self, mut callback: F) -> Result<CallbackHandle, SinkError>
    where
        F: FnMut(Frame) -> Result<(), E> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let appsink = self.name.clone();
        let delivery = self.deliver(CallbackConsumer {
            callback: Mutex::new(Box::new(move |frame| {
                callback(frame).map_err(|e| CallbackError::from(e.into()))
            })),
            appsink,
            frames: AtomicU64::new(0),
            last_frame: AtomicU64::new(0),
            epoch: Instant::now(),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        // The callback runs until the end whether or not the handle is kept.
        let mut delivery = delivery;
        delivery.run_to_end();
        Ok(CallbackHandle { delivery })
    }
}

/// Observes a callback installed by [`FrameSink::on_frame`]: frames handled, and the end.
pub struct CallbackHandle {
    delivery: Delivery<CallbackConsumer>,
}

impl std::fmt::Debug for CallbackHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackHandle")
            .field("appsink", &self.delivery.sink().name())
            .field("frames", &self.frames())
            .field("done", &self.is_done())
            .finish()
    }
}

impl CallbackHandle {
    fn consumer(&self) -> &CallbackConsumer {
        self.delivery.consumer()
    }

    /// How many frames the callback has handled successfully.
    pub fn frames(&self) -> u64 {
        self.consumer().frames.load(Ordering::Relaxed)
    }

    /// The appsink the callback runs on.
    pub fn appsink(&self) -> &gst_app::AppSink {
        self.delivery.sink().appsink()
    }

    /// Whether the stream has ended: EOS reached this appsink, or the pipeline ended.
    pub fn is_done(&self) -> bool {
        self.consumer().lock().end.is_some()
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
        let consumer = self.consumer();
        let stall = self.delivery.sink().timeout();
        let mut state = consumer.lock();
        loop {
            if let Some(error) = &state.error {
                return Err(SinkError::Callback {
                    element: self.delivery.sink().name().to_string(),
                    error: error.clone(),
                });
            }
            match &state.end {
                Some(End::Failed(e)) => return Err(e.clone()),
                Some(_) => return Ok(self.frames()),
                None => {}
            }
            let now = Instant::now();
            // The stall clock runs from the later of the wait's start and the last frame.
            let last = consumer.last_frame.load(Ordering::Relaxed);
            let last = (consumer.epoch + Duration::from_nanos(last)).max(started);
            let quiet = now - last;
            if quiet >= stall {
                return Err(self.timeout(quiet));
            }
            let mut wake_at = last + stall;
            if let Some(deadline) = deadline {
                if now >= deadline {
                    return Err(self.timeout(now - started));
                }
                wake_at = wake_at.min(deadline);
            }
            // Woken by the end, an error or the callback failing; otherwise at the time the
            // stall (or the deadline) would be reached, to look at the last frame's time.
            state = consumer
                .changed
                .wait_while_for(state, wake_at - now, |s| {
                    s.error.is_none() && s.end.is_none()
                })
                .0;
        }
    }

    fn timeout(&self, waited: Duration) -> SinkError {
        SinkError::Timeout {
            element: self.delivery.sink().name().to_string(),
            operation: "the end of the stream",
            waited,
        }
    }
}
