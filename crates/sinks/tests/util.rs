//! Test helpers: bounded execution, temp dirs, injected failures, counts to wait on.

use gst::prelude::*;
use gstpipe_core::{Pipeline, gst};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::Duration;

/// Runs `f` on its own thread; panics if it does not finish within `secs` seconds.
pub fn bounded<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => {
            let _ = handle.join();
            v
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the closure returned without sending"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test did not finish within {secs} s"),
    }
}

/// A fresh temporary directory, removed by the caller at will.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gstpipe-sinks-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// The nanoseconds of frame `i` at `num/den` fps, by GStreamer's own scaling function
/// (`gst_util_uint64_scale`), an independent reference for timestamps.
pub fn gst_pts(i: u64, num: u64, den: u64) -> gst::ClockTime {
    gst::ClockTime::SECOND
        .mul_div_floor(i * den, num)
        .expect("no overflow")
}

/// `videotestsrc num-buffers=50 ! identity name=boom ! <tail>` where `boom` posts an element
/// error when its 6th buffer passes (and drops it), like a demuxer failing mid-stream.
pub fn failing_pipeline(tail: &str) -> Pipeline {
    let pipeline = Pipeline::launch(&format!(
        "videotestsrc num-buffers=50 ! video/x-raw,format=RGB,width=32,height=24 ! \
         identity name=boom ! {tail}"
    ))
    .unwrap();
    let identity = pipeline.by_name("boom").unwrap();
    let pad = identity.static_pad("src").unwrap();
    let seen = AtomicU32::new(0);
    // The probe finds its element through the pad: capturing `identity` would make the
    // pad's probe own its own element, a reference cycle that leaks the pipeline.
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, _| {
        if seen.fetch_add(1, Ordering::SeqCst) == 5 {
            if let Some(identity) = pad.parent_element() {
                identity.post_error_message(gst::error_msg!(
                    gst::StreamError::Failed,
                    ["injected failure at buffer 5"]
                ));
            }
            return gst::PadProbeReturn::Drop;
        }
        gst::PadProbeReturn::Ok
    });
    pipeline
}

/// Asserts `err` is the error `failing_pipeline` injects.
#[track_caller]
pub fn assert_injected(err: &gstpipe_sinks::SinkError) {
    let e = err
        .element_error()
        .unwrap_or_else(|| panic!("expected the pipeline's element error, got {err:?}"));
    assert_eq!(e.element, "boom", "{e:?}");
    assert!(
        err.to_string().contains("injected failure at buffer 5"),
        "{err}"
    );
}

/// A live source whose every buffer is dropped: a pipeline that neither ends nor fails.
pub const STALLED: &str = "videotestsrc is-live=true ! valve drop=true ! appsink";

/// A count that test code bumps and waits on (a mutex and a condvar): what a test waits for
/// instead of sleeping. `probe` makes one count the buffers passing a pad and note its EOS.
#[derive(Clone, Default)]
pub struct Tally(Arc<(Mutex<Seen>, Condvar)>);

#[derive(Default)]
struct Seen {
    count: u64,
    ended: bool,
}

impl Tally {
    /// A count at zero, not ended.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts the buffers reaching `pad` and notes the EOS event passing it. A probe on an
    /// element's sink pad runs before the element handles the buffer: when it has counted
    /// `k + 1` buffers, the element has finished with buffer `k - 1` (one streaming thread).
    pub fn probe(pad: &gst::Pad) -> Self {
        let tally = Tally::new();
        let seen = tally.clone();
        pad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_DOWNSTREAM,
            move |_, info| {
                match &info.data {
                    Some(gst::PadProbeData::Buffer(_)) => seen.add(1),
                    Some(gst::PadProbeData::Event(e)) if e.type_() == gst::EventType::Eos => {
                        seen.end()
                    }
                    _ => {}
                }
                gst::PadProbeReturn::Ok
            },
        );
        tally
    }

    /// `probe` on the sink pad of `element`.
    pub fn probe_sink(element: &impl IsA<gst::Element>) -> Self {
        Self::probe(&element.static_pad("sink").expect("a sink pad"))
    }

    /// Adds `n` and wakes the waiters.
    pub fn add(&self, n: u64) {
        let (lock, cond) = &*self.0;
        lock.lock().unwrap().count += n;
        cond.notify_all();
    }

    /// Marks the end and wakes the waiters.
    pub fn end(&self) {
        let (lock, cond) = &*self.0;
        lock.lock().unwrap().ended = true;
        cond.notify_all();
    }

    /// The count now.
    pub fn count(&self) -> u64 {
        self.0.0.lock().unwrap().count
    }

    /// Waits at most `limit` for the count to reach `n` (panics otherwise); returns the count.
    #[track_caller]
    pub fn wait_for(&self, n: u64, limit: Duration) -> u64 {
        let (lock, cond) = &*self.0;
        let seen = cond
            .wait_timeout_while(lock.lock().unwrap(), limit, |s| s.count < n)
            .unwrap()
            .0;
        assert!(
            seen.count >= n,
            "counted {} of {n} within {limit:?}",
            seen.count
        );
        seen.count
    }

    /// Waits at most `limit` for the end (EOS past the probed pad); panics otherwise.
    #[track_caller]
    pub fn wait_end(&self, limit: Duration) {
        let (lock, cond) = &*self.0;
        let seen = cond
            .wait_timeout_while(lock.lock().unwrap(), limit, |s| !s.ended)
            .unwrap()
            .0;
        assert!(
            seen.ended,
            "no end within {limit:?} ({} counted)",
            seen.count
        );
    }
}
