//! Test helpers: bounded execution, temp dirs, injected failures.

use gst::prelude::*;
use gstpipe_core::{Pipeline, gst};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
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
