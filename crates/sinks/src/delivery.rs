//! The one path of a frame from an appsink to its consumer.
//!
//! Everything that reads an appsink goes through here: the claim that makes a consumer the
//! appsink's only one, the appsink's callbacks (or its signals, when the description asked
//! for them), the catch-up of samples queued before the consumer attached, the caps cache,
//! and the end (EOS, stop, the pipeline's error) learnt from core's watch.
//!
//! Two shapes of consumer exist:
//! - **pull** ([`FrameSink::pull`] and its iterators): the callbacks only wake the waiting
//!   reader, which takes samples from the appsink's own queue on its own thread;
//! - **push** ([`Consumer`]: the channel, the async stream, the frame callback, the batcher's
//!   slots): the callbacks map each sample to a [`Frame`] on the streaming thread and hand it
//!   to the consumer, which queues it ([`crate::BoundedQueue`]) or runs the user's function.

use crate::error::SinkError;
use crate::sink::{FrameSink, release};
use gst::glib;
use gst::prelude::*;
use gstpipe_core::sync::Unpoisoned;
use gstpipe_core::{Event, Outcome, Subscription};
use gstpipe_frame::{Frame, FrameError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The settings a release changes (`max-buffers`, `drop`, `wait-on-eos`, `sync`), as they were
/// before it: a later consumer of the same appsink gets them back.
type Settings = (u32, bool, bool, bool);

/// What the registry knows of an appsink.
enum Entry {
    /// Read by a consumer, described by the label.
    Claimed(Arc<Mutex<&'static str>>),
    /// Let go by its last consumer, with the settings it had before.
    Released(Settings),
}

/// Every appsink gstpipe has read, by object address: whether a consumer holds it, or the
/// settings to restore for the next one. A weak reference tells a live appsink from a dead
/// one whose address was reused.
type Registry = HashMap<usize, (glib::WeakRef<gst_app::AppSink>, Entry)>;

fn claims() -> &'static Mutex<Registry> {
    static CLAIMS: OnceLock<Mutex<Registry>> = OnceLock::new();
    CLAIMS.get_or_init(Default::default)
}

fn settings(appsink: &gst_app::AppSink) -> Settings {
    (
        appsink.max_buffers(),
        appsink.is_drop(),
        appsink.is_wait_on_eos(),
        appsink.is_sync(),
    )
}

/// An appsink's one consumer: held by the [`FrameSink`] and the adapter that takes it over,
/// released when they are dropped. A second claim on the same appsink is
/// [`SinkError::Busy`], naming the appsink and its consumer. When the last consumer lets the
/// appsink go (it then drops frames and passes EOS unread), the next claim first puts back
/// the settings it had.
#[derive(Debug)]
pub(crate) struct Claim {
    key: usize,
    label: Arc<Mutex<&'static str>>,
    /// The settings to restore for the next consumer (as the first claim found them).
    settings: Settings,
}

impl Claim {
    /// Claims `appsink` for a consumer described by `label` (e.g. `"frames()"`).
    pub(crate) fn take(
        appsink: &gst_app::AppSink,
        label: &'static str,
    ) -> Result<Claim, SinkError> {
        let key = appsink.as_ptr() as usize;
        let mut claims = claims().lock_unpoisoned();
        // Forget appsinks that are gone.
        claims.retain(|_, (weak, _)| weak.upgrade().is_some());
        let same =
            |weak: &glib::WeakRef<gst_app::AppSink>| weak.upgrade().as_ref() == Some(appsink);
        let settings = match claims.get(&key) {
            Some((weak, Entry::Claimed(holder))) if same(weak) => {
                return Err(SinkError::Busy {
                    element: appsink.name().to_string(),
                    consumer: *holder.lock_unpoisoned(),
                });
            }
            Some((weak, Entry::Released(before))) if same(weak) => {
                let (max_buffers, drop, wait_on_eos, sync) = *before;
                appsink.set_max_buffers(max_buffers);
                appsink.set_drop(drop);
                appsink.set_wait_on_eos(wait_on_eos);
                appsink.set_sync(sync);
                *before
            }
            _ => settings(appsink),
        };
        let label = Arc::new(Mutex::new(label));
        claims.insert(
            key,
            (appsink.downgrade(), Entry::Claimed(Arc::clone(&label))),
        );
        Ok(Claim {
            key,
            label,
            settings,
        })
    }

    /// Says what the consumer now is (a sink turned into a channel, a callback, ...).
    pub(crate) fn relabel(&self, label: &'static str) {
        *self.label.lock_unpoisoned() = label;
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some((_, entry)) = claims().lock_unpoisoned().get_mut(&self.key) {
            *entry = Entry::Released(self.settings);
        }
    }
}

/// The `VideoInfo` of the last caps seen: parsed again only when the caps change.
#[derive(Debug, Default)]
pub(crate) struct InfoCache {
    caps: Option<gst::Caps>,
    info: Option<gst_video::VideoInfo>,
}

impl InfoCache {
    /// The frame in `sample`, its caps parsed only when they differ from the last ones.
    pub(crate) fn frame(&mut self, sample: &gst::Sample) -> Result<Frame, FrameError> {
        let caps = sample.caps().ok_or(FrameError::NoCaps)?;
        let same = self
            .caps
            .as_ref()
            .is_some_and(|c| c.as_ptr() == caps.as_ptr() || c.as_ref() == caps);
        let info = match (&self.info, same) {
            (Some(info), true) => info,
            _ => {
                // Unfixed caps would make GStreamer print a critical: refuse them first.
                if !caps.is_fixed() {
                    return Err(FrameError::NotVideoCaps {
                        caps: caps.to_owned(),
                    });
                }
                let info = gst_video::VideoInfo::from_caps(caps).map_err(|_| {
                    FrameError::NotVideoCaps {
                        caps: caps.to_owned(),
                    }
                })?;
                self.caps = Some(caps.to_owned());
                self.info.insert(info)
            }
        };
        let buffer = sample.buffer_owned().ok_or(FrameError::NoBuffer)?;
        Frame::from_buffer(buffer, info)
    }
}

/// Makes the appsink's `new-sample` and `eos` call `wake` (pull consumers): through
/// callbacks, or through the signals when the description asked for them
/// (`emit-signals=true`), which callbacks would silence. [`FrameSink`] pulls wake this way;
/// so does a reader that pulls an appsink of its own making (gstpipe-media's decoder, which
/// seeks and so sees several ends of stream).
pub fn wake_on_samples(appsink: &gst_app::AppSink, wake: impl Fn() + Send + Sync + 'static) {
    let wake = Arc::new(wake);
    if appsink.property::<bool>("emit-signals") {
        let on_sample = Arc::clone(&wake);
        appsink.connect("new-sample", false, move |_| {
            on_sample();
            Some(gst::FlowReturn::Ok.to_value())
        });
        appsink.connect("eos", false, move |_| {
            wake();
            None
        });
    } else {
        let on_sample = Arc::clone(&wake);
        appsink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |_| {
                    on_sample();
                    Ok(gst::FlowSuccess::Ok)
                })
                .eos(move |_| wake())
                .build(),
        );
    }
}

/// How a push consumer's stream ended: told once, by [`Consumer::end`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum End {
    /// The appsink's (or the pipeline's) end of stream; every frame was delivered before.
    Eos,
    /// The pipeline was stopped (or set to Null) before its end.
    Stopped,
    /// The pipeline failed (an element's error), or a sample could not be mapped to a frame.
    Failed(SinkError),
}

/// A consumer of an appsink's frames, attached with [`FrameSink::deliver`]: the channel, the
/// async stream, the frame callback and the batcher's slots are consumers.
///
/// Its methods are called on GStreamer's threads (the streaming thread for frames, the bus
/// thread for the end and the release) and may run concurrently: [`Consumer::end`] and
/// [`Consumer::release`] must not wait for [`Consumer::frame`] to return.
pub trait Consumer: Send + Sync + 'static {
    /// What the consumer is, for the error a second consumer of the same appsink gets.
    fn label(&self) -> &'static str;

    /// Called on the streaming thread before it takes the next frame from the appsink,
    /// outside every lock of the delivery: a consumer with backpressure waits here for room
    /// (until its reader takes a frame, or [`Consumer::release`] or [`Consumer::end`] lets it
    /// go). Not called for the backlog (see [`Consumer::frame`]).
    fn wait_for_room(&self) {}

    /// A frame, in the stream's order, taken under the delivery's lock: it must not wait for
    /// the reader (that is [`Consumer::wait_for_room`]'s job). `sample` is the appsink's
    /// sample it was mapped from (its segment, caps and buffer metas). `backlog` is true for
    /// frames the appsink held before the consumer attached and for those drained at the end.
    /// See [`Refusal`] for what an `Err` does.
    fn frame(&self, frame: Frame, sample: &gst::Sample, backlog: bool) -> Result<(), Refusal>;

    /// The pipeline is stopping: a frame waiting for room must stop waiting.
    fn release(&self) {}

    /// The stream's end, exactly once.
    fn end(&self, end: End);
}

/// Why a [`Consumer`] did not take a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// It takes no more frames (it has ended): the streaming thread is told `Flushing`.
    Stop,
    /// The frame failed it (e.g. the user's callback returned an error): the message is
    /// posted as an element error from the appsink, so the pipeline fails with it.
    Fail(String),
}

/// The shared part of an attached consumer: what the callbacks and the watch both use.
struct Tap<C> {
    consumer: C,
    cache: Mutex<InfoCache>,
    ended: AtomicBool,
    /// The sink and the watch subscription of a delivery kept running after its owner was
    /// dropped ([`Delivery::run_to_end`]), released at the end.
    kept: Mutex<Option<Arc<Parts>>>,
}

/// What a delivery holds on to: the sink (and its claim) and the watch subscription.
struct Parts {
    sink: FrameSink,
    _subscription: Subscription,
}

impl<C: Consumer> Tap<C> {
    /// Hands the appsink's queued samples to the consumer, in order: all of them, or one
    /// (`new-sample` announces each).
    fn drain(
        &self,
        appsink: &gst_app::AppSink,
        backlog: bool,
        one: bool,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        loop {
            if !backlog {
                self.consumer.wait_for_room();
            }
            // Held while delivering: the order of frames is the order of samples.
            let mut cache = self.cache.lock_unpoisoned();
            if self.ended.load(Ordering::Acquire) {
                // Nobody will take more: keep the pipeline flowing (like a fakesink) so it
                // can still end or be stopped.
                while appsink.try_pull_sample(gst::ClockTime::ZERO).is_some() {}
                return Ok(gst::FlowSuccess::Ok);
            }
            let Some(sample) = appsink.try_pull_sample(gst::ClockTime::ZERO) else {
                return Ok(gst::FlowSuccess::Ok);
            };
            match cache.frame(&sample) {
                Ok(frame) => {
                    let delivered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        self.consumer.frame(frame, &sample, backlog)
                    }));
                    match delivered {
                        Ok(Ok(())) => {}
                        Ok(Err(Refusal::Stop)) => return Err(gst::FlowError::Flushing),
                        Ok(Err(Refusal::Fail(message))) => {
                            appsink.post_error_message(gst::error_msg!(
                                gst::CoreError::Failed,
                                ("{}", message)
                            ));
                            return Err(gst::FlowError::Error);
                        }
                        Err(panic) => {
                            let message = panic_message(&*panic);
                            appsink.post_error_message(gst::error_msg!(
                                gst::LibraryError::Failed,
                                ("{}", message)
                            ));
                            return Err(gst::FlowError::Error);
                        }
                    }
                }
                Err(e) => {
                    drop(cache);
                    self.end(End::Failed(e.into()));
                    return Err(gst::FlowError::Error);
                }
            }
            if one {
                return Ok(gst::FlowSuccess::Ok);
            }
        }
    }

    fn end(&self, end: End) {
        if !self.ended.swap(true, Ordering::AcqRel) {
            self.consumer.end(end);
            let kept = self.kept.lock_unpoisoned().take();
            drop(kept);
        }
    }
}

/// The text of a caught panic.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let cause = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str));
    match cause {
        Some(cause) => format!("Panicked: {cause}"),
        None => "Panicked".to_string(),
    }
}

/// A consumer attached to its appsink by [`FrameSink::deliver`]: keeps the delivery going
/// while it lives; dropping it lets the appsink go (frames dropped, EOS passed).
pub struct Delivery<C: Consumer> {
    tap: Arc<Tap<C>>,
    parts: Arc<Parts>,
    run_to_end: bool,
}

impl<C: Consumer> std::fmt::Debug for Delivery<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("appsink", &self.parts.sink.name)
            .field("consumer", &self.tap.consumer.label())
            .field("ended", &self.tap.ended.load(Ordering::Relaxed))
            .finish()
    }
}

impl<C: Consumer> Delivery<C> {
    /// The consumer.
    pub fn consumer(&self) -> &C {
        &self.tap.consumer
    }

    /// The sink it took over.
    pub fn sink(&self) -> &FrameSink {
        &self.parts.sink
    }

    /// Makes the delivery go on after this value is dropped, until the stream's end (for a
    /// callback whose handle only observes it).
    pub fn run_to_end(&mut self) {
        self.run_to_end = true;
    }

    /// Whether the consumer has been told the end.
    pub fn is_ended(&self) -> bool {
        self.tap.ended.load(Ordering::Acquire)
    }
}

impl<C: Consumer> Drop for Delivery<C> {
    fn drop(&mut self) {
        if self.run_to_end && !self.is_ended() {
            *self.tap.kept.lock_unpoisoned() = Some(Arc::clone(&self.parts));
            // The end may have come in between: then nobody else releases them.
            if self.is_ended() {
                let kept = self.tap.kept.lock_unpoisoned().take();
                drop(kept);
            }
            return;
        }
        self.tap.ended.store(true, Ordering::Release);
        release(&self.parts.sink.appsink);
    }
}

impl FrameSink {
    /// Attaches a push [`Consumer`] to the appsink in place of pulls: from now on every frame
    /// goes to it on the streaming thread, starting with the ones the appsink already held;
    /// then the end, once (EOS, stop, or the pipeline's error). The pull API of this sink is
    /// not available afterwards (the returned [`Delivery`] owns it).
    pub fn deliver<C: Consumer>(self, consumer: C) -> Delivery<C> {
        self.claim.relabel(consumer.label());
        let tap = Arc::new(Tap {
            consumer,
            cache: Mutex::new(InfoCache::default()),
            ended: AtomicBool::new(false),
            kept: Mutex::new(None),
        });
        let appsink = self.appsink.clone();
        let subscription = {
            let tap = Arc::clone(&tap);
            let appsink = appsink.clone();
            self.watch.subscribe(move |event| match event {
                Event::Stopping => {
                    release(&appsink);
                    tap.consumer.release();
                }
                Event::Ended(Outcome::Error(e)) => tap.end(End::Failed(SinkError::Pipeline(
                    gstpipe_core::Error::Element(e.clone()),
                ))),
                Event::Ended(Outcome::Eos) => {
                    // Whatever the appsink still holds comes first.
                    let _ = tap.drain(&appsink, true, false);
                    tap.end(End::Eos);
                }
                Event::Ended(_) => tap.end(End::Stopped),
                _ => {}
            })
        };
        let on_sample = Arc::clone(&tap);
        let on_eos = Arc::clone(&tap);
        self.appsink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |appsink| on_sample.drain(appsink, false, true))
                .eos(move |appsink| {
                    let _ = on_eos.drain(appsink, true, false);
                    on_eos.end(End::Eos);
                })
                .build(),
        );
        // Frames the appsink queued before the callbacks existed are not announced again:
        // take them now (a full appsink queue would otherwise hold the pipeline forever).
        let _ = tap.drain(&appsink, true, false);
        if appsink.current_state() >= gst::State::Paused && appsink.is_eos() {
            tap.end(End::Eos);
        }
        Delivery {
            tap,
            parts: Arc::new(Parts {
                sink: self,
                _subscription: subscription,
            }),
            run_to_end: false,
        }
    }
}
