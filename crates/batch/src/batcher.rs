//! [`Batcher`]: the shared state the streams feed, and the batch-forming wait.

use crate::error::{BatchError, StreamEnd};
use crate::source::BatchSource;
use gstpipe_frame::Frame;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a batch waits for the streams that have no frame yet, from the first frame of the
/// batch, unless [`BatcherBuilder::timeout`] says otherwise: 40 ms, a bit more than a frame
/// at 30 fps.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(40);
/// How long [`Batcher::next_batch`] waits when no stream delivers anything before it reports
/// [`BatchError::Stalled`], unless [`BatcherBuilder::stall`] says otherwise.
pub const DEFAULT_STALL: Duration = Duration::from_secs(10);

/// What to do with a frame that arrives while its stream's slot already holds one waiting for
/// the next batch (the stream is ahead of the others).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ahead {
    /// Keep only the newest frame: the waiting one is replaced and counted as dropped
    /// ([`StreamStatus::dropped`]). Latency stays at one frame; for live cameras.
    KeepNewest,
    /// Keep up to `K` frames (at least 1) for the next batches, oldest first; beyond that the
    /// oldest is dropped and counted. Nothing is lost while a stream is at most `K` frames
    /// ahead; for files, or to smooth jitter. Queued frames hold their buffers: keep `K` small
    /// for sources with small buffer pools (cameras, decoders).
    Queue(usize),
    /// Keep up to `K` frames (at least 1), and make the stream wait for room beyond that:
    /// [`Feed::push`] blocks until a batch takes a frame (backpressure on the appsink's
    /// streaming thread or the producer thread), the stream ends, its pipeline is being
    /// stopped, or the batcher is dropped. Nothing is dropped: for files processed offline,
    /// where the fastest stream should wait for the others. Not for live sources: a camera
    /// kept waiting loses frames upstream instead.
    Block(usize),
}

/// Why a batch was formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formed {
    /// Every stream still running had a frame.
    Complete,
    /// The timeout since the batch's first frame expired; some slots are empty.
    Timeout,
}

/// A frame in its slot of a [`Batch`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Slot {
    /// The stream (slot index) the frame comes from.
    pub stream: usize,
    /// The frame's position in its stream: 0 for the stream's first frame, counting the
    /// frames dropped by [`Ahead`] too.
    pub index: u64,
    /// The frame's presentation timestamp.
    pub pts: Option<gst::ClockTime>,
    /// When the frame reached the batcher (the appsink's `new-sample`, the feed's push): its
    /// capture time as the application sees it, the capture plus the pipeline's latency.
    pub received: Instant,
    /// The frame itself (its buffer, mapped).
    pub frame: Frame,
}

/// One batch: a slot per stream, in the order the streams were added; a slot is `None` when
/// its stream had no frame in time, has ended or failed.
#[derive(Debug)]
#[non_exhaustive]
pub struct Batch {
    /// The batch's number, from 0.
    pub index: u64,
    /// One entry per stream.
    pub slots: Vec<Option<Slot>>,
    /// Why it was formed.
    pub formed: Formed,
    /// Streams that ended or failed since the previous batch: `(stream, how)`.
    pub ended: Vec<(usize, StreamEnd)>,
    /// The frame shape `[height, width, channels]` every slot must have, set by the first
    /// frame batched, and that frame's stream.
    pub(crate) shape: Option<([usize; 3], usize)>,
    /// The streams' names, for errors.
    pub(crate) names: Arc<[String]>,
}

impl Batch {
    /// The number of slots (streams), filled or not.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the batch has no slot at all (never true for batches a batcher forms).
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Which slots hold a frame.
    pub fn filled(&self) -> Vec<bool> {
        self.slots.iter().map(Option::is_some).collect()
    }

    /// How many slots hold a frame (at least 1 for batches a batcher forms).
    pub fn filled_count(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// The name of stream `stream`.
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
    /// Its slot index.
    pub stream: usize,
    /// Its name (the appsink's, or the one given).
    pub name: String,
    /// Frames received from the source.
    pub received: u64,
    /// Frames that went into a batch.
    pub batched: u64,
    /// Frames dropped because the stream was ahead ([`Ahead`]).
    pub dropped: u64,
    /// How it ended, once it has.
    pub end: Option<StreamEnd>,
}

/// A check the batcher runs whenever it wakes up, for ends a source cannot signal itself.
type Check = Box<dyn Fn() -> Option<StreamEnd> + Send>;

struct Pending {
    frame: Frame,
    index: u64,
    received: Instant,
}

struct StreamState {
    name: String,
    queue: VecDeque<Pending>,
    received: u64,
    batched: u64,
    dropped: u64,
    end: Option<StreamEnd>,
    end_reported: bool,
    check: Option<Check>,
    /// Set when the stream must not wait for room any more (its pipeline is stopping).
    released: bool,
}

impl StreamState {
    fn is_live(&self) -> bool {
        self.end.is_none()
    }
}

struct State {
    streams: Vec<StreamState>,
    /// Set when the batcher is gone: feeds refuse frames from then on.
    closed: bool,
}

/// What the streams and the batcher share: the queued frames under one lock, and a condvar
/// the streams signal on every frame and end.
pub(crate) struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    /// Signalled when a batch takes frames, a stream ends or is released, or the batcher
    /// closes: what an [`Ahead::Block`] push waits for.
    room: Condvar,
    ahead: Ahead,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update leaves the state consistent: a panic elsewhere cannot tear it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a frame under the policy. With [`Ahead::Block`] and `wait`, waits for room
    /// first; without `wait` (frames an appsink held before the batcher took it over) the
    /// queue may go past `K`.
    pub(crate) fn push(&self, stream: usize, frame: Frame, wait: bool) -> bool {
        let mut state = self.lock();
        if let (Ahead::Block(k), true) = (self.ahead, wait) {
            loop {
                let s = &state.streams[stream];
                if state.closed || !s.is_live() || s.released || s.queue.len() < k.max(1) {
                    break;
                }
                state = self.room.wait(state).unwrap_or_else(|p| p.into_inner());
            }
        }
        let received = Instant::now();
        if state.closed {
            return false;
        }
        let s = &mut state.streams[stream];
        if !s.is_live() {
            return false;
        }
        let index = s.received;
        s.received += 1;
        let keep = match self.ahead {
            Ahead::KeepNewest => Some(1),
            Ahead::Queue(k) => Some(k.max(1)),
            Ahead::Block(k) if s.released => Some(k.max(1)),
            Ahead::Block(_) => None,
        };
        let mut evicted = Vec::new();
        while let Some(keep) = keep
            && s.queue.len() >= keep
            && let Some(oldest) = s.queue.pop_front()
        {
            evicted.push(oldest);
            s.dropped += 1;
        }
        s.queue.push_back(Pending {
            frame,
            index,
            received,
        });
        drop(state);
        self.wake.notify_all();
        // Unmapped and released to their pool outside the lock.
        drop(evicted);
        true
    }

    /// From now on the stream's pushes never wait for room (its pipeline is stopping).
    pub(crate) fn release(&self, stream: usize) {
        self.lock().streams[stream].released = true;
        self.room.notify_all();
    }

    pub(crate) fn finish(&self, stream: usize, end: StreamEnd) {
        let mut state = self.lock();
        let s = &mut state.streams[stream];
        if s.end.is_none() {
            tracing::debug!(stream, name = %s.name, %end, "stream ended");
            s.end = Some(end);
            s.check = None;
            drop(state);
            self.wake.notify_all();
            self.room.notify_all();
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    pub(crate) fn set_check(&self, stream: usize, check: Check) {
        let mut state = self.lock();
        let s = &mut state.streams[stream];
        if s.end.is_none() {
            s.check = Some(check);
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
    /// The stream's slot index.
    pub fn stream(&self) -> usize {
        self.inner.stream
    }

    /// Delivers the stream's next frame. Returns `false` when it was not taken: the batcher
    /// is gone or the stream has already ended; a source should stop producing then. Under
    /// [`Ahead::Block`] it first waits for room in the stream's queue.
    pub fn push(&self, frame: Frame) -> bool {
        self.inner.shared.push(self.inner.stream, frame, true)
    }

    /// Like [`push`](Feed::push), but never waits for room: under [`Ahead::Block`] the
    /// stream's queue may then hold more than `K` frames.
    pub fn push_now(&self, frame: Frame) -> bool {
        self.inner.shared.push(self.inner.stream, frame, false)
    }

    /// From now on, pushes of this stream never wait for room under [`Ahead::Block`]: beyond
    /// `K` the oldest frame is dropped and counted. Call it when the source is being stopped
    /// and its producer must not be held.
    pub fn release(&self) {
        self.inner.shared.release(self.inner.stream);
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

    /// Whether the batcher is gone (frames pushed now are discarded).
    pub fn is_closed(&self) -> bool {
        self.inner.shared.is_closed()
    }

    /// Registers a check the batcher runs (under its lock, so keep it cheap) each time it
    /// wakes up while the stream is running: return `Some(end)` when the stream has ended in a
    /// way the source could not signal (e.g. its pipeline failed without an end of stream
    /// reaching the appsink). Replaces an earlier check.
    pub fn set_check<F>(&self, check: F)
    where
        F: Fn() -> Option<StreamEnd> + Send + 'static,
    {
        self.inner
            .shared
            .set_check(self.inner.stream, Box::new(check));
    }
}

/// Configures a [`Batcher`]; from [`Batcher::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until build() is called"]
pub struct BatcherBuilder {
    timeout: Duration,
    stall: Duration,
    ahead: Ahead,
}

impl BatcherBuilder {
    /// How long a batch waits, from its first frame, for the streams that have none yet
    /// before it is formed with their slots empty. Default [`DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long [`Batcher::next_batch`] waits when no stream delivers a frame before
    /// reporting [`BatchError::Stalled`]. Default [`DEFAULT_STALL`].
    pub fn stall(mut self, stall: Duration) -> Self {
        self.stall = stall;
        self
    }

    /// What to do with frames of a stream that is ahead. Default [`Ahead::KeepNewest`].
    pub fn ahead(mut self, ahead: Ahead) -> Self {
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
                }),
                wake: Condvar::new(),
                room: Condvar::new(),
                ahead: self.ahead,
            }),
            attachments: Vec::new(),
            timeout: self.timeout,
            stall: self.stall,
            last_formed: None,
            batches: 0,
            shape: None,
            names: Arc::from(Vec::new()),
        }
    }
}

/// Anything a source hands back from [`BatchSource::attach`] to be kept alive as long as the
/// batcher (e.g. the `FrameSink` whose appsink feeds the stream). Dropped with the batcher.
pub type Attachment = Box<dyn Send>;

/// Forms batches across streams: one slot per stream, a batch as soon as every running stream
/// has a frame, or when [the timeout](BatcherBuilder::timeout) since the batch's first frame
/// expires, with the missing slots empty.
///
/// Streams are added with [`add`](Batcher::add) (a `FrameSink`, taken over; a
/// [`FrameIter`](crate::FrameIter); anything implementing [`BatchSource`]) or
/// [`add_feed`](Batcher::add_feed) (push frames yourself). Frames arrive on the streams' own
/// threads (appsink callbacks, producer threads) into a shared state; the batcher waits on a
/// condvar, bounded by the batch's deadline, and never polls.
///
/// A stream that is ahead is handled by the [`Ahead`] policy. A stream that ends or fails
/// keeps an empty slot and never holds the others back; the batch after its end lists it in
/// [`Batch::ended`], and [`streams`](Batcher::streams) keeps the record. Batches end
/// ([`next_batch`](Batcher::next_batch) returns `Ok(None)`) once every stream has ended and
/// every frame has been batched.
///
/// See the crate documentation for an example.
pub struct Batcher {
    shared: Arc<Shared>,
    attachments: Vec<Attachment>,
    timeout: Duration,
    stall: Duration,
    last_formed: Option<Instant>,
    batches: u64,
    shape: Option<([usize; 3], usize)>,
    names: Arc<[String]>,
}

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("streams", &self.names)
            .field("timeout", &self.timeout)
            .field("stall", &self.stall)
            .field("ahead", &self.shared.ahead)
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
    /// A batcher with the default configuration ([`DEFAULT_TIMEOUT`], [`DEFAULT_STALL`],
    /// [`Ahead::KeepNewest`]).
    pub fn new() -> Batcher {
        Batcher::builder().build()
    }

    /// A builder to set the timeout, the stall time and the [`Ahead`] policy.
    pub fn builder() -> BatcherBuilder {
        BatcherBuilder {
            timeout: DEFAULT_TIMEOUT,
            stall: DEFAULT_STALL,
            ahead: Ahead::KeepNewest,
        }
    }

    /// Adds a stream fed by `source` and returns its slot index. A `FrameSink` is taken over
    /// (its appsink's callbacks deliver the frames): add it before playing its pipeline, or
    /// its frames queued so far are delivered at once.
    ///
    /// # Errors
    /// [`BatchError::Attach`] when the source cannot start.
    pub fn add<S: BatchSource>(&mut self, source: S) -> Result<usize, BatchError> {
        let name = source.name();
        let feed = self.add_feed(&name);
        let stream = feed.stream();
        let attachment = source.attach(feed)?;
        self.attachments.push(attachment);
        Ok(stream)
    }

    /// Adds a stream you feed yourself and returns its [`Feed`]; its slot index is
    /// [`Feed::stream`].
    pub fn add_feed(&mut self, name: &str) -> Feed {
        let stream = {
            let mut state = self.shared.lock();
            state.streams.push(StreamState {
                name: name.to_string(),
                queue: VecDeque::new(),
                received: 0,
                batched: 0,
                dropped: 0,
                end: None,
                end_reported: false,
                check: None,
                released: false,
            });
            self.names = state.streams.iter().map(|s| s.name.clone()).collect();
            state.streams.len() - 1
        };
        Feed {
            inner: Arc::new(FeedInner {
                shared: Arc::clone(&self.shared),
                stream,
            }),
        }
    }

    /// The number of streams (slots per batch).
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no stream was added.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// How many batches were formed so far.
    pub fn batches(&self) -> u64 {
        self.batches
    }

    /// Every stream's counters and state, in slot order.
    pub fn streams(&self) -> Vec<StreamStatus> {
        let state = self.shared.lock();
        state
            .streams
            .iter()
            .enumerate()
            .map(|(i, s)| StreamStatus {
                stream: i,
                name: s.name.clone(),
                received: s.received,
                batched: s.batched,
                dropped: s.dropped,
                end: s.end.clone(),
            })
            .collect()
    }

    /// The next batch: formed as soon as every running stream has a frame, or when the
    /// timeout since the batch's first frame expires (its other slots empty). `Ok(None)` once
    /// every stream has ended and all their frames were batched.
    ///
    /// The batch's first frame is the oldest one waiting, but its timeout never starts before
    /// the previous batch was formed: frames queued while the caller was busy do not make the
    /// next batch leave at once without the slower streams.
    ///
    /// # Errors
    /// [`BatchError::Stalled`] when no stream delivered anything for the stall time while
    /// some are still running (calling again waits again); [`BatchError::NoStreams`].
    pub fn next_batch(&mut self) -> Result<Option<Batch>, BatchError> {
        let started = Instant::now();
        let shared = Arc::clone(&self.shared);
        let mut state = shared.lock();
        if state.streams.is_empty() {
            return Err(BatchError::NoStreams);
        }
        loop {
            for s in state.streams.iter_mut().filter(|s| s.is_live()) {
                if let Some(end) = s.check.as_ref().and_then(|check| check()) {
                    tracing::debug!(name = %s.name, %end, "stream ended (checked)");
                    s.end = Some(end);
                    s.check = None;
                }
            }
            let now = Instant::now();
            let first = state
                .streams
                .iter()
                .filter_map(|s| s.queue.front().map(|p| p.received))
                .min();
            match first {
                Some(first) => {
                    let complete = state
                        .streams
                        .iter()
                        .all(|s| !s.queue.is_empty() || !s.is_live());
                    let opened = self.last_formed.map_or(first, |last| first.max(last));
                    let deadline = opened + self.timeout;
                    if complete || now >= deadline {
                        let formed = if complete {
                            Formed::Complete
                        } else {
                            Formed::Timeout
                        };
                        return Ok(Some(self.form(&mut state, formed)));
                    }
                    state = wait(&shared, state, deadline - now);
                }
                None if state.streams.iter().all(|s| !s.is_live()) => return Ok(None),
                None => {
                    let waited = now - started;
                    if waited >= self.stall {
                        let waiting = state
                            .streams
                            .iter()
                            .enumerate()
                            .filter(|(_, s)| s.is_live())
                            .map(|(i, s)| format!("{i} ({})", s.name))
                            .collect();
                        return Err(BatchError::Stalled { waited, waiting });
                    }
                    state = wait(&shared, state, self.stall - waited);
                }
            }
        }
    }

    fn form(&mut self, state: &mut State, formed: Formed) -> Batch {
        let mut ended = Vec::new();
        let slots = state
            .streams
            .iter_mut()
            .enumerate()
            .map(|(i, s)| {
                if s.end.is_some() && !s.end_reported && s.queue.len() <= 1 {
                    // Reported with the batch that takes its last frame, or the first one after.
                    s.end_reported = true;
                    ended.extend(s.end.clone().map(|e| (i, e)));
                }
                let p = s.queue.pop_front()?;
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
        let batch = Batch {
            index: self.batches,
            slots,
            formed,
            ended,
            shape: self.shape,
            names: Arc::clone(&self.names),
        };
        self.batches += 1;
        self.last_formed = Some(Instant::now());
        self.shared.room.notify_all();
        batch
    }
}

/// Waits (bounded) for a stream to push a frame or end.
fn wait<'a>(
    shared: &Shared,
    state: MutexGuard<'a, State>,
    limit: Duration,
) -> MutexGuard<'a, State> {
    shared
        .wake
        .wait_timeout(state, limit)
        .unwrap_or_else(|p| p.into_inner())
        .0
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
        let mut state = self.shared.lock();
        state.closed = true;
        for s in &mut state.streams {
            s.queue.clear();
            s.check = None;
        }
        drop(state);
        self.shared.room.notify_all();
        // Sources (and the sinks they hold) go after the state is closed: their callbacks
        // see a closed batcher and discard frames.
        self.attachments.clear();
    }
}
