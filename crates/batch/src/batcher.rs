//! [`Batcher`]: one [`BoundedQueue`] per stream (the delivery core's queue), and the
//! batch-forming wait across them.

use crate::error::{BatchError, StreamEnd};
use crate::slots::BatchSource;
use gstpipe_core::sync::{Unpoisoned, UnpoisonedWait};
use gstpipe_frame::Frame;
use gstpipe_sinks::{BoundedQueue, Pushed, QueuePolicy};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a batch waits for the streams that have no frame yet, from the moment it opened
/// (its first frame), unless [`BatcherBuilder::timeout`] says otherwise: 40 ms, a bit more
/// than a frame at 30 fps.
pub const DEFAULT_BATCH_TIMEOUT: Duration = Duration::from_millis(40);
/// How long the batcher waits while no stream delivers anything before it reports
/// [`BatchError::Stalled`], unless [`BatcherBuilder::stall`] says otherwise.
pub const DEFAULT_STALL: Duration = Duration::from_secs(10);

/// Why a batch was formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formed {
    /// Every stream still running had a frame.
    Complete,
    /// The timeout since the batch's first frame expired; some slots are empty.
    Timeout,
}

/// A frame in its slot of a [`Batch`].
/// A frame in its slot of a [`Batch`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Slot {
    /// The stream (slot index) the frame comes from.
    pub stream: usize,
    /// The frame's position in its stream: 0 for the stream's first frame, counting the
    /// frames its queue dropped too.
    pub index: u64,
    /// The frame's presentation timestamp.
    pub pts: Option<gst::ClockTime>,
    /// When the frame reached the batcher (the appsink's `new-sample`, the feed's push): its
    /// capture time as the application sees it, the capture plus the pipeline's latency.
    pub received: Instant,
    /// The frame itself (its buffer, mapped).
    pub frame: Frame,
}

/// One batch: a slot per stream still in the batcher, in slot order; a slot is `None` when its
/// stream had no frame in time, has ended or failed.
#[derive(Debug)]
#[non_exhaustive]
pub struct Batch {
    /// The batch's number, from 0.
    pub index: u64,
    /// One entry per stream in the batcher when the batch was formed.
    pub slots: Vec<Option<Slot>>,
    /// The slot number of each entry of `slots` (slot numbers stay as streams come and go:
    /// after [`Batcher::remove`] they are no longer `0..n`).
    pub streams: Vec<usize>,
    /// Why it was formed.
    pub formed: Formed,
    /// Streams that ended or failed since the previous batch: `(slot, how)`.
    pub ended: Vec<(usize, StreamEnd)>,
    /// The frame shape `[height, width, channels]` every slot must have, set by the first
    /// frame batched, and that frame's slot.
    pub(crate) shape: Option<([usize; 3], usize)>,
    /// Every slot's name, by slot number, for errors.
    pub(crate) names: Arc<[String]>,
}

impl Batch {
    /// The number of slots (streams), filled or not.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the batch has no slot at all.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Which slots hold a frame.
    pub fn filled(&self) -> Vec<bool> {
        self.slots.iter().map(Option::is_some).collect()
    }

    /// How many slots hold a frame.
    pub fn filled_count(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// The name of slot `stream` (a slot number, as in [`Slot::stream`]).
    pub fn stream_name(&self, stream: usize) -> Option<&str> {
        self.names.get(stream).map(String::as_str)
    }

    /// The frame shape `[height, width, channels]` of every slot, set by the first frame the
    /// batcher batched (the first filled slot of its first batch).
    pub fn frame_shape(&self) -> Option<[usize; 3]> {
        self.shape.map(|(s, _)| s)
    }
}

/// Counters and state of one stream; from [`Batcher::streams`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StreamStatus {
    /// Its slot number.
    pub stream: usize,
    /// Its name (the appsink's, or the one given).
    pub name: String,
    /// Frames received from the source.
    pub received: u64,
    /// Frames that went into a batch.
    pub batched: u64,
    /// Frames its queue dropped because the stream was ahead (its [`QueuePolicy`]).
    pub dropped: u64,
    /// How it ended, once it has.
    pub end: Option<StreamEnd>,
    /// Whether it was taken out ([`Batcher::remove`]).
    pub removed: bool,
}

/// A check the batcher runs whenever it wakes up, for ends a source cannot signal itself.
type Check = Box<dyn Fn() -> Option<StreamEnd> + Send>;

/// A frame waiting in its stream's queue.
struct Pending {
    frame: Frame,
    index: u64,
    received: Instant,
}

/// The push side's part of a stream: its queue and its frame count.
struct Lane {
    queue: BoundedQueue<Pending>,
    received: AtomicU64,
}

/// One stream as the batcher sees it.
struct Stream {
    name: String,
    lane: Arc<Lane>,
    batched: u64,
    end: Option<StreamEnd>,
    end_reported: bool,
    check: Option<Check>,
    /// Taken out by [`Batcher::remove`]: no slot any more.
    removed: bool,
    /// What keeps the source running (its delivery, its pipeline); dropped on removal.
    attachment: Option<Attachment>,
}

impl Stream {
    fn is_live(&self) -> bool {
        self.end.is_none() && !self.removed
    }
}

struct State {
    /// By slot number; removed streams stay (numbers are never reused).
    streams: Vec<Stream>,
    /// Set when the batcher is gone: feeds refuse frames from then on.
    closed: bool,
    /// When the batch being formed opened: its first frame's arrival, or the previous
    /// batch's formation when frames were already waiting then. Replacements (keep-newest)
    /// leave it alone: the timer belongs to the batch, not to the frame now waiting.
    opened: Option<Instant>,
    /// The last frame's arrival or batch's formation: the stall clock's reference.
    progress: Instant,
    /// Every slot's name, rebuilt when a stream is added.
    names: Arc<[String]>,
    /// Counts the changes the batcher waits for (a frame, an end, a stream added or
    /// removed): its wait lasts while this stays the same.
    changes: u64,
}

/// What the streams and the batcher share: the streams' queues behind one state lock, and a
/// condvar every queue signals on a frame or an end.
pub(crate) struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    policy: QueuePolicy,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock_unpoisoned()
    }

    /// A frame reached a queue (or a queue ended): the batch opens if it was not open, and
    /// the batcher wakes.
    fn changed(&self) {
        let mut state = self.lock();
        let now = Instant::now();
        state.progress = now;
        state.changes += 1;
        if state.opened.is_none() && state.streams.iter().any(|s| !s.lane.queue.is_empty()) {
            state.opened = Some(now);
        }
        drop(state);
        self.wake.notify_all();
    }

    fn finish(&self, stream: usize, end: StreamEnd) {
        let mut state = self.lock();
        let Some(s) = state.streams.get_mut(stream) else {
            return;
        };
        if s.end.is_none() {
            tracing::debug!(stream, name = %s.name, %end, "stream ended");
            s.end = Some(end);
            s.check = None;
            let lane = Arc::clone(&s.lane);
            state.changes += 1;
            drop(state);
            // Outside the state lock: the queue's notification takes it.
            lane.queue.finish();
            self.wake.notify_all();
        }
    }

    fn add(self: &Arc<Self>, name: &str) -> Feed {
        let weak = Arc::downgrade(self);
        let lane = Arc::new(Lane {
            queue: BoundedQueue::with_notify(self.policy, move || {
                if let Some(shared) = weak.upgrade() {
                    shared.changed();
                }
            }),
            received: AtomicU64::new(0),
        });
        let mut state = self.lock();
        if state.closed {
            lane.queue.close();
        }
        state.streams.push(Stream {
            name: name.to_string(),
            lane: Arc::clone(&lane),
            batched: 0,
            end: None,
            end_reported: false,
            check: None,
            removed: false,
            attachment: None,
        });
        state.names = state.streams.iter().map(|s| s.name.clone()).collect();
        state.changes += 1;
        let stream = state.streams.len() - 1;
        drop(state);
        self.wake.notify_all();
        Feed {
            inner: Arc::new(FeedInner {
                shared: Arc::clone(self),
                lane,
                stream,
            }),
        }
    }
}

/// The push side of one stream: give it frames with [`push`](Feed::push), and say how the
/// stream ended with [`end`](Feed::end) or [`fail`](Feed::fail). Any thread, any callback
/// (`new-sample`, a supervisor's reconnect loop) may hold a clone.
///
/// When the last clone is dropped without `end` or `fail`, the stream ends as
/// [`StreamEnd::Detached`]: a source that goes away never leaves its slot waited for.
#[derive(Clone)]
pub struct Feed {
    inner: Arc<FeedInner>,
}

struct FeedInner {
    shared: Arc<Shared>,
    lane: Arc<Lane>,
    stream: usize,
}

impl Drop for FeedInner {
    fn drop(&mut self) {
        self.shared.finish(self.stream, StreamEnd::Detached);
    }
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("stream", &self.inner.stream)
            .finish_non_exhaustive()
    }
}

impl Feed {
    /// The stream's slot number.
    pub fn stream(&self) -> usize {
        self.inner.stream
    }

    /// Delivers the stream's next frame. Returns `false` when it was not taken: the batcher
    /// is gone, the stream was removed or has already ended; a source should stop producing
    /// then. Under a blocking [`QueuePolicy`] it first waits for room in the stream's queue.
    pub fn push(&self, frame: Frame) -> bool {
        self.wait_for_room();
        self.push_now(frame)
    }

    /// Like [`push`](Feed::push), but never waits for room: under a blocking policy the
    /// stream's queue may then hold more than its depth.
    pub fn push_now(&self, frame: Frame) -> bool {
        let lane = &self.inner.lane;
        let pending = Pending {
            frame,
            index: lane.received.fetch_add(1, Ordering::Relaxed),
            received: Instant::now(),
        };
        match lane.queue.push(pending, false) {
            Pushed::Queued { evicted } => {
                // Dropped outside every lock (a frame may hold a buffer pool's buffer).
                drop(evicted);
                true
            }
            Pushed::Refused(_) => {
                // Not received: the count stays the frames the stream took.
                lane.received.fetch_sub(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Waits until the stream's queue has room (blocking policy only; at once otherwise).
    pub fn wait_for_room(&self) {
        self.inner.lane.queue.wait_for_room();
    }

    /// From now on, pushes of this stream never wait for room: beyond the depth the oldest
    /// frame is dropped and counted. Call it when the source is being stopped and its
    /// producer must not be held.
    pub fn release(&self) {
        self.inner.lane.queue.release();
    }

    /// Ends the stream (end of stream): its slot stays empty from now on. Later calls to
    /// `end`, `fail` and `push` are ignored.
    pub fn end(&self) {
        self.inner.shared.finish(self.inner.stream, StreamEnd::Eos);
    }

    /// Ends the stream with an error, which the batcher reports ([`Batch::ended`],
    /// [`Batcher::streams`]).
    pub fn fail(&self, error: impl Into<Box<dyn std::error::Error + Send + Sync>>) {
        let error: Box<dyn std::error::Error + Send + Sync> = error.into();
        self.inner
            .shared
            .finish(self.inner.stream, StreamEnd::Failed(Arc::from(error)));
    }

    /// Whether the batcher is gone or the stream was removed (frames pushed now are
    /// discarded).
    pub fn is_closed(&self) -> bool {
        let state = self.inner.shared.lock();
        state.closed || state.streams[self.inner.stream].removed
    }

    /// Registers a check the batcher runs (under its lock, so keep it cheap) each time it
    /// wakes up while the stream is running: return `Some(end)` when the stream has ended in a
    /// way the source could not signal (e.g. its pipeline failed without an end of stream
    /// reaching the appsink). Replaces an earlier check.
    pub fn set_check<F>(&self, check: F)
    where
        F: Fn() -> Option<StreamEnd> + Send + 'static,
    {
        let mut state = self.inner.shared.lock();
        let s = &mut state.streams[self.inner.stream];
        if s.end.is_none() {
            s.check = Some(Box::new(check));
        }
    }
}

/// Configures a [`Batcher`]; from [`Batcher::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until build() is called"]
pub struct BatcherBuilder {
    timeout: Duration,
    stall: Duration,
    ahead: QueuePolicy,
}

impl BatcherBuilder {
    /// How long a batch waits, from the moment it opened (its first frame), for the streams
    /// that have none yet before it is formed with their slots empty. Default
    /// [`DEFAULT_BATCH_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long the batcher waits while no stream delivers a frame before reporting
    /// [`BatchError::Stalled`]. Default [`DEFAULT_STALL`].
    pub fn stall(mut self, stall: Duration) -> Self {
        self.stall = stall;
        self
    }

    /// Each stream's queue for frames of a stream that is ahead of the others: the delivery
    /// core's one [`QueuePolicy`]. [`QueuePolicy::keep_newest`] (the default) keeps only the
    /// newest frame, the waiting one replaced and counted as dropped: latency stays at one
    /// frame, for live cameras. [`QueuePolicy::drop_oldest`]`(k)` keeps `k` frames, nothing
    /// lost while a stream is at most `k` frames ahead (files, jitter).
    /// [`QueuePolicy::block`]`(k)` makes the stream wait for room beyond `k` (backpressure on
    /// its streaming thread): nothing is dropped, for files processed offline; not for live
    /// sources, which lose frames upstream instead. Queued frames hold their buffers: keep `k`
    /// small for sources with small buffer pools (cameras, decoders).
    pub fn ahead(mut self, ahead: QueuePolicy) -> Self {
        self.ahead = ahead;
        self
    }

    /// The batcher, without streams yet.
    pub fn build(self) -> Batcher {
        Batcher {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    streams: Vec::new(),
                    closed: false,
                    opened: None,
                    progress: Instant::now(),
                    names: Arc::from(Vec::new()),
                    changes: 0,
                }),
                wake: Condvar::new(),
                policy: self.ahead,
            }),
            timeout: self.timeout,
            stall: self.stall,
            batches: 0,
            shape: None,
            waiting_since: None,
        }
    }
}

/// Anything a source hands back from [`BatchSource::attach`] to be kept alive as long as its
/// stream (e.g. the delivery of the `FrameSink` whose appsink feeds the stream, and the
/// pipeline the batcher owns). Dropped when the stream is removed or the batcher is dropped.
pub type Attachment = Box<dyn Send>;

/// What a bounded wait for a batch gave: [`Batcher::next_batch_timeout`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Waited {
    /// A batch.
    Batch(Batch),
    /// Every stream has ended and every frame was batched.
    Ended,
    /// Nothing yet within the limit: call again (the stall clock keeps running across calls).
    NotYet,
}

/// Forms batches across streams: one slot per stream, a batch as soon as every running stream
/// has a frame, or when [the timeout](BatcherBuilder::timeout) since the batch opened (its
/// first frame) expires, with the missing slots empty.
///
/// Streams are added with [`add`](Batcher::add) (a `FrameSink`, taken over; a
/// [`FrameIter`](crate::FrameIter); anything implementing [`BatchSource`]),
/// [`add_pipeline`](Batcher::add_pipeline) (a pipeline the batcher owns and plays) or
/// [`add_feed`](Batcher::add_feed) (push frames yourself), before or while batches are
/// formed, and taken out with [`remove`](Batcher::remove); slot numbers never change. Frames
/// arrive on the streams' own threads (appsink callbacks, producer threads) into one
/// [`BoundedQueue`] per stream; the batcher waits on a condvar, bounded by the batch's
/// deadline, and never polls.
///
/// A stream that is ahead is handled by its queue's [`QueuePolicy`]. A stream that ends or
/// fails (at start or later) keeps an empty slot and never holds the others back; the batch
/// after its end lists it in [`Batch::ended`], and [`streams`](Batcher::streams) keeps the
/// record. Batches end ([`next_batch`](Batcher::next_batch) returns `Ok(None)`) once every
/// stream has ended and every frame has been batched; the batcher fails
/// ([`BatchError::AllFailed`]) only when every stream has failed.
///
/// See the crate documentation for an example.
pub struct Batcher {
    shared: Arc<Shared>,
    timeout: Duration,
    stall: Duration,
    batches: u64,
    shape: Option<([usize; 3], usize)>,
    /// Since when the caller has been waiting without a batch (across bounded waits).
    waiting_since: Option<Instant>,
}

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("streams", &self.shared.lock().names)
            .field("timeout", &self.timeout)
            .field("stall", &self.stall)
            .field("ahead", &self.shared.policy)
            .field("batches", &self.batches)
            .finish_non_exhaustive()
    }
}

impl Default for Batcher {
    fn default() -> Self {
        Batcher::new()
    }
}

impl Batcher {
    /// A batcher with the default configuration ([`DEFAULT_BATCH_TIMEOUT`],
    /// [`DEFAULT_STALL`], [`QueuePolicy::keep_newest`]).
    pub fn new() -> Batcher {
        Batcher::builder().build()
    }

    /// A builder to set the timeout, the stall time and the queue policy.
    pub fn builder() -> BatcherBuilder {
        BatcherBuilder {
            timeout: DEFAULT_BATCH_TIMEOUT,
            stall: DEFAULT_STALL,
            ahead: QueuePolicy::keep_newest(),
        }
    }

    /// A handle that adds and removes streams from any thread while this batcher forms
    /// batches on another.
    pub fn handle(&self) -> BatcherHandle {
        BatcherHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Adds a stream fed by `source` and returns its slot number; see [`BatcherHandle::add`].
    ///
    /// # Errors
    /// As [`BatcherHandle::add`].
    pub fn add<S: BatchSource>(&self, source: S) -> Result<usize, BatchError> {
        self.handle().add(source)
    }

    /// Adds a stream read from `pipeline`'s appsink (`appsink`: its name, or `None` for the
    /// only one), which the batcher owns and plays; see [`BatcherHandle::add_pipeline`].
    pub fn add_pipeline(&self, pipeline: gstpipe_core::Pipeline, appsink: Option<&str>) -> usize {
        self.handle().add_pipeline(pipeline, appsink)
    }

    /// Adds a stream you feed yourself and returns its [`Feed`]; its slot number is
    /// [`Feed::stream`].
    pub fn add_feed(&self, name: &str) -> Feed {
        self.shared.add(name)
    }

    /// Takes a stream out; see [`BatcherHandle::remove`].
    ///
    /// # Errors
    /// As [`BatcherHandle::remove`].
    pub fn remove(&self, slot: usize) -> Result<(), BatchError> {
        self.handle().remove(slot)
    }

    /// The number of streams (slots per batch) in the batcher now.
    pub fn len(&self) -> usize {
        self.shared
            .lock()
            .streams
            .iter()
            .filter(|s| !s.removed)
            .count()
    }

    /// Whether no stream is in the batcher.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many batches were formed so far.
    pub fn batches(&self) -> u64 {
        self.batches
    }

    /// Every stream's counters and state, by slot number (removed streams included, ended
    /// as [`StreamEnd::Detached`] when nothing else ended them).
    pub fn streams(&self) -> Vec<StreamStatus> {
        self.handle().streams()
    }

    /// The next batch: formed as soon as every running stream has a frame, or when the
    /// timeout since the batch opened expires (its other slots empty). `Ok(None)` once every
    /// stream has ended and all their frames were batched.
    ///
    /// A batch opens when its first frame arrives, and a keep-newest replacement of that
    /// frame does not reopen it; frames already waiting when the previous batch was formed
    /// open the next one at that moment, so frames queued while the caller was busy do not
    /// make it leave at once without the slower streams.
    ///
    /// # Errors
    /// [`BatchError::Stalled`] when no stream delivered anything for the stall time while
    /// some are still running (calling again waits again); [`BatchError::AllFailed`] when
    /// every stream has failed; [`BatchError::NoStreams`].
    pub fn next_batch(&mut self) -> Result<Option<Batch>, BatchError> {
        loop {
            match self.next_batch_timeout(self.stall)? {
                Waited::Batch(batch) => return Ok(Some(batch)),
                Waited::Ended => return Ok(None),
                Waited::NotYet => {}
            }
        }
    }

    /// Like [`next_batch`](Batcher::next_batch), but returns [`Waited::NotYet`] after at most
    /// `limit` (for a caller that must look at something else now and then, e.g. Python's
    /// signals). The stall clock runs across such calls.
    ///
    /// # Errors
    /// As [`next_batch`](Batcher::next_batch).
    pub fn next_batch_timeout(&mut self, limit: Duration) -> Result<Waited, BatchError> {
        let called = Instant::now();
        let until = called.checked_add(limit);
        let waiting_since = *self.waiting_since.get_or_insert(called);
        let shared = Arc::clone(&self.shared);
        let mut state = shared.lock();
        if state.streams.iter().all(|s| s.removed) {
            return Err(BatchError::NoStreams);
        }
        loop {
            let mut checked = Vec::new();
            for s in state.streams.iter_mut().filter(|s| s.is_live()) {
                if let Some(end) = s.check.as_ref().and_then(|check| check()) {
                    tracing::debug!(name = %s.name, %end, "stream ended (checked)");
                    s.end = Some(end);
                    s.check = None;
                    checked.push(Arc::clone(&s.lane));
                }
            }
            if !checked.is_empty() {
                // Outside the state lock: the queue's notification takes it.
                drop(state);
                for lane in checked {
                    lane.queue.finish();
                }
                state = shared.lock();
                continue;
            }
            let now = Instant::now();
            let present = || state.streams.iter().filter(|s| !s.removed);
            let any = present().any(|s| !s.lane.queue.is_empty());
            let wake_at = if any {
                let complete = present().all(|s| !s.lane.queue.is_empty() || s.end.is_some());
                let opened = *state.opened.get_or_insert(now);
                let deadline = opened + self.timeout;
                if complete || now >= deadline {
                    let formed = if complete {
                        Formed::Complete
                    } else {
                        Formed::Timeout
                    };
                    self.waiting_since = None;
                    return Ok(Waited::Batch(self.form(&mut state, formed)));
                }
                deadline
            } else if present().all(|s| s.end.is_some()) {
                let failures: Vec<String> = present()
                    .enumerate()
                    .filter_map(|(i, s)| match &s.end {
                        Some(StreamEnd::Failed(e)) => Some(format!("{i} ({}): {e}", s.name)),
                        _ => None,
                    })
                    .collect();
                self.waiting_since = None;
                if failures.len() == present().count() {
                    return Err(BatchError::AllFailed { failures });
                }
                return Ok(Waited::Ended);
            } else {
                let since = state.progress.max(waiting_since);
                let waited = now.saturating_duration_since(since);
                if waited >= self.stall {
                    let waiting = state
                        .streams
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.is_live())
                        .map(|(i, s)| format!("{i} ({})", s.name))
                        .collect();
                    // A new wait starts after the report.
                    self.waiting_since = None;
                    return Err(BatchError::Stalled { waited, waiting });
                }
                since + self.stall
            };
            let wake_at = until.map_or(wake_at, |until| until.min(wake_at));
            if now >= wake_at {
                return Ok(Waited::NotYet);
            }
            let seen = state.changes;
            state = shared
                .wake
                .wait_while_for(state, wake_at - now, |s| s.changes == seen)
                .0;
        }
    }

    fn form(&mut self, state: &mut State, formed: Formed) -> Batch {
        let mut ended = Vec::new();
        let mut streams = Vec::new();
        let slots = state
            .streams
            .iter_mut()
            .enumerate()
            .filter(|(_, s)| !s.removed)
            .map(|(i, s)| {
                streams.push(i);
                let queued = s.lane.queue.len();
                if s.end.is_some() && !s.end_reported && queued <= 1 {
                    s.end_reported = true;
                    ended.extend(s.end.clone().map(|e| (i, e)));
                }
                let p = s.lane.queue.try_pop()?;
                s.batched += 1;
                Some(Slot {
                    stream: i,
                    index: p.index,
                    pts: p.frame.pts(),
                    received: p.received,
                    frame: p.frame,
                })
            })
            .collect::<Vec<_>>();
        if self.shape.is_none() {
            self.shape = slots.iter().flatten().find_map(|slot| {
                let shapes = slot.frame.plane_shapes();
                (shapes.len() == 1).then(|| (shapes[0], slot.stream))
            });
        }
        let now = Instant::now();
        state.progress = now;
        // Frames already waiting open the next batch now.
        state.opened = state
            .streams
            .iter()
            .any(|s| !s.removed && !s.lane.queue.is_empty())
            .then_some(now);
        let batch = Batch {
            index: self.batches,
            slots,
            streams,
            formed,
            ended,
            shape: self.shape,
            names: Arc::clone(&state.names),
        };
        self.batches += 1;
        batch
    }
}

impl Iterator for Batcher {
    type Item = Result<Batch, BatchError>;

    /// [`next_batch`](Batcher::next_batch) as an iterator: `None` once every stream has ended.
    /// After [`BatchError::Stalled`] the next call waits again.
    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}

impl Drop for Batcher {
    fn drop(&mut self) {
        let attachments: Vec<Attachment> = {
            let mut state = self.shared.lock();
            state.closed = true;
            state
                .streams
                .iter_mut()
                .filter_map(|s| {
                    drop(s.lane.queue.close());
                    s.check = None;
                    s.attachment.take()
                })
                .collect()
        };
        // Outside the lock: a source going away may wait for its streaming thread, which may
        // be waiting for the lock in a queue's notification.
        drop(attachments);
    }
}

/// Adds and removes a [`Batcher`]'s streams from any thread, while it forms batches on
/// another; from [`Batcher::handle`]. The changes show in the next batch.
#[derive(Clone)]
pub struct BatcherHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for BatcherHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatcherHandle").finish_non_exhaustive()
    }
}

impl BatcherHandle {
    /// Adds a stream fed by `source` and returns its slot number. A `FrameSink` is taken over
    /// (the delivery core gives its frames to the stream's queue): add it before playing its
    /// pipeline, or its frames queued so far are delivered at once.
    ///
    /// # Errors
    /// [`BatchError::Attach`] when the source cannot start (the slot exists, ended as failed).
    pub fn add<S: BatchSource>(&self, source: S) -> Result<usize, BatchError> {
        let name = source.name();
        let feed = self.shared.add(&name);
        let stream = feed.stream();
        match source.attach(feed.clone()) {
            Ok(attachment) => {
                self.keep(stream, attachment);
                Ok(stream)
            }
            Err(e) => {
                feed.fail(e.to_string());
                Err(e)
            }
        }
    }

    /// Adds a stream read from `pipeline`'s appsink (`appsink`: its name, or `None` for the
    /// only one), which the batcher owns: it is played now and stopped when the stream is
    /// removed or the batcher dropped. A pipeline that has no usable appsink or fails to
    /// start gets its slot anyway, ended as failed ([`Batch::ended`] reports it): one bad
    /// camera never stops the others. Returns the slot number.
    pub fn add_pipeline(&self, pipeline: gstpipe_core::Pipeline, appsink: Option<&str>) -> usize {
        let mut builder = gstpipe_sinks::FrameSink::builder(&pipeline);
        if let Some(name) = appsink {
            builder = builder.name(name);
        }
        let sink = match builder.build() {
            Ok(sink) => sink,
            Err(e) => {
                let feed = self.shared.add(appsink.unwrap_or("appsink"));
                feed.fail(e);
                return feed.stream();
            }
        };
        let name = sink.name().to_string();
        let feed = self.shared.add(&name);
        let stream = feed.stream();
        let attachment = match BatchSource::attach(sink, feed.clone()) {
            Ok(attachment) => attachment,
            Err(e) => {
                feed.fail(e.to_string());
                return stream;
            }
        };
        // Played after the slot exists: an error at start is this stream's end.
        if let Err(e) = pipeline.play() {
            tracing::warn!(stream, name = %name, "stream failed to start: {e}");
            feed.fail(e);
        }
        // The pipeline goes after the delivery: stopping it releases the delivery's appsink.
        self.keep(stream, Box::new((attachment, pipeline)));
        stream
    }

    fn keep(&self, stream: usize, attachment: Attachment) {
        let mut state = self.shared.lock();
        if state.closed {
            drop(state);
            drop(attachment);
            return;
        }
        state.streams[stream].attachment = Some(attachment);
    }

    /// Adds a stream you feed yourself; see [`Batcher::add_feed`].
    pub fn add_feed(&self, name: &str) -> Feed {
        self.shared.add(name)
    }

    /// Takes stream `slot` out: its source is let go (its pipeline stopped, if the batcher
    /// owns it), queued frames are dropped, and the next batch has one slot fewer. Other
    /// streams keep their slot numbers.
    ///
    /// # Errors
    /// [`BatchError::NoSuchStream`] for a slot that never existed or was already removed.
    pub fn remove(&self, slot: usize) -> Result<(), BatchError> {
        let attachment = {
            let mut state = self.shared.lock();
            let Some(s) = state.streams.get_mut(slot).filter(|s| !s.removed) else {
                return Err(BatchError::NoSuchStream { stream: slot });
            };
            s.removed = true;
            s.check = None;
            if s.end.is_none() {
                s.end = Some(StreamEnd::Detached);
            }
            s.end_reported = true;
            drop(s.lane.queue.close());
            let attachment = s.attachment.take();
            state.changes += 1;
            attachment
        };
        self.shared.wake.notify_all();
        // Outside the lock (see `Drop for Batcher`).
        drop(attachment);
        Ok(())
    }

    /// Every stream's counters and state, by slot number.
    pub fn streams(&self) -> Vec<StreamStatus> {
        let state = self.shared.lock();
        state
            .streams
            .iter()
            .enumerate()
            .map(|(i, s)| StreamStatus {
                stream: i,
                name: s.name.clone(),
                received: s.lane.received.load(Ordering::Relaxed),
                batched: s.batched,
                dropped: s.lane.queue.dropped(),
                end: s.end.clone(),
                removed: s.removed,
            })
            .collect()
    }
}
