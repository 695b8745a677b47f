//! The supervisor on local pipelines: rebuilds on end of stream, the watchdog, the queue
//! policies, stopping, bad settings, capture times from the pipeline clock.

use crate::util::{Reader, assert_event_grammar};
use gstpipe_live::{Backoff, HealthEvent, LiveError, LiveItem, LiveSource, Policy, TimeSource};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

const WAIT: Duration = Duration::from_secs(30);

fn quick() -> Backoff {
    Backoff::new(Duration::from_millis(20)).jitter(0.0)
}

/// A file-like source ends (EOS) after 4 frames: each generation is a fresh pipeline whose
/// frames are the pattern's first 4 again (rebuilt, not resumed), and indices keep counting.
#[test]
fn end_of_stream_rebuilds_from_the_description() {
    let source = LiveSource::builder(
        "videotestsrc num-buffers=4 pattern=gradient ! video/x-raw,format=GRAY8,width=16,height=8 \
         ! appsink",
    )
    .backoff(quick())
    .build()
    .unwrap();
    let reference = gstpipe_core::Pipeline::launch(
        "videotestsrc num-buffers=1 pattern=gradient ! video/x-raw,format=GRAY8,width=16,height=8 \
         ! appsink name=s",
    )
    .unwrap();
    let sink = gstpipe_sinks::FrameSink::new(&reference).unwrap();
    reference.play().unwrap();
    let expected = sink.pull().unwrap().unwrap().to_array::<u8>().unwrap();

    let mut frames = Vec::new();
    let mut names = Vec::new();
    while frames.len() < 12 {
        match source.next_timeout(WAIT).unwrap().unwrap() {
            LiveItem::Frame(f) => {
                if f.index() % 4 == 0 {
                    assert_eq!(f.to_array::<u8>().unwrap(), expected, "frame {}", f.index());
                }
                frames.push((f.index(), f.generation(), f.after_gap(), f.pts()));
            }
            LiveItem::Event(e) => {
                if let HealthEvent::Disconnected { error, .. } = &e {
                    assert!(matches!(error, LiveError::Eos), "{error}");
                }
                names.push(e.name());
            }
            _ => unreachable!(),
        }
    }
    source.stop();
    for (i, (index, generation, after_gap, pts)) in frames.iter().enumerate() {
        assert_eq!(*index, i as u64);
        assert_eq!(*generation, i as u64 / 4 + 1);
        assert_eq!(*after_gap, i % 4 == 0 && i > 0);
        // Rebuilt pipelines start from the beginning: pts restart at 0.
        assert_eq!(pts.unwrap().nseconds() == 0, i % 4 == 0, "frame {i}");
    }
    assert_event_grammar(&names);
    assert_eq!(names.iter().filter(|n| **n == "reconnected").count(), 2);
    let stats = source.stats();
    assert_eq!((stats.frames, stats.reconnects, stats.dropped), (12, 2, 0));
}

/// A source that never delivers (a valve dropping everything) is ended by the watchdog, again
/// and again, and the subscription sees the same events as the stream.
#[test]
fn watchdog_ends_a_silent_pipeline() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let stall = Duration::from_millis(200);
    let source = LiveSource::builder(
        "videotestsrc is-live=true ! video/x-raw,width=16,height=8 ! valve drop=true ! appsink",
    )
    .backoff(quick().max_attempts(Some(2)))
    .stall_timeout(stall)
    .on_event({
        let seen = Arc::clone(&seen);
        move |e| seen.lock().unwrap().push(e.name())
    })
    .build()
    .unwrap();
    let mut reader = Reader::new(&source);
    let HealthEvent::GaveUp {
        attempts,
        last_error,
    } = reader.event("gave_up", WAIT)
    else {
        unreachable!()
    };
    assert_eq!(attempts, 2);
    let LiveError::Stalled { after } = last_error else {
        panic!("expected a stall, got {last_error}")
    };
    assert!(after >= stall);
    let names = reader.event_names();
    assert_eq!(
        names,
        [
            "disconnected",
            "reconnecting",
            "disconnected",
            "reconnecting",
            "disconnected",
            "gave_up"
        ]
    );
    assert_eq!(
        *seen.lock().unwrap(),
        names,
        "the subscription saw the same events"
    );
    assert!(matches!(source.next_timeout(WAIT), Ok(None)));
}

/// Latest frame: when the consumer does not keep up, only the newest `capacity` frames wait;
/// the drops are counted and show as a jump in the indices. (The consumer here reads only once
/// the 50-frame source has ended and the supervisor waits in a one-hour backoff.)
#[test]
fn slow_consumer_gets_the_latest_frames() {
    let (tx, rx) = std::sync::mpsc::channel();
    let source = LiveSource::builder(
        "videotestsrc num-buffers=50 ! video/x-raw,format=GRAY8,width=16,height=8 ! appsink sync=false",
    )
    .capacity(2)
    .backoff(Backoff::new(Duration::from_secs(3600)).jitter(0.0))
    .on_event(move |e| {
        let _ = tx.send(e.name());
    })
    .build()
    .unwrap();
    // Subscribers see an event before it is queued: once "disconnected" is seen here, all 50
    // frames have been queued (or dropped).
    let deadline = Instant::now() + WAIT;
    while rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) != Ok("disconnected")
    {
        assert!(
            Instant::now() < deadline,
            "no disconnected event within {WAIT:?}"
        );
    }
    let mut frames = Vec::new();
    let mut names = Vec::new();
    while names.last() != Some(&"reconnecting") {
        match source.next_timeout(WAIT).unwrap().unwrap() {
            LiveItem::Frame(f) => frames.push(f.index()),
            LiveItem::Event(e) => names.push(e.name()),
            _ => unreachable!(),
        }
    }
    let stats = source.stats();
    source.stop();
    assert_eq!(frames, [48, 49], "the two newest frames");
    assert_eq!(
        names,
        ["connected", "disconnected", "reconnecting"],
        "events are never dropped"
    );
    assert_eq!((stats.frames, stats.dropped), (50, 48));
}

/// Block: nothing is dropped, and a consumer slower than the watchdog's time is not taken for
/// a stalled source.
#[test]
fn blocking_policy_loses_nothing_and_is_not_a_stall() {
    let stall = Duration::from_secs(1);
    let source = LiveSource::builder(
        "videotestsrc num-buffers=6 ! video/x-raw,format=GRAY8,width=16,height=8 ! appsink sync=false",
    )
    .policy(Policy::Block)
    .capacity(1)
    .stall_timeout(stall)
    .backoff(quick().max_attempts(Some(1)))
    .build()
    .unwrap();
    let mut frames = Vec::new();
    let mut events = Vec::new();
    loop {
        match source.next_timeout(WAIT).unwrap() {
            Some(LiveItem::Frame(f)) => {
                frames.push(f.index());
                if frames.len() == 1 {
                    // A consumer slower than the watchdog (not synchronisation).
                    std::thread::sleep(stall * 3 / 2);
                }
            }
            Some(LiveItem::Event(e)) => {
                if let HealthEvent::Disconnected { error, .. } = &e {
                    assert!(matches!(error, LiveError::Eos), "not a stall: {error}");
                    break;
                }
                events.push(e);
            }
            Some(_) => unreachable!(),
            None => break,
        }
    }
    source.stop();
    assert_eq!(frames, (0..6).collect::<Vec<_>>());
    assert_eq!(source.stats().dropped, 0);
}

/// `stop` interrupts a backoff wait (here one hour long) and ends the stream.
#[test]
fn stop_interrupts_the_backoff() {
    let source = LiveSource::builder("videotestsrc num-buffers=1 ! appsink")
        .backoff(Backoff::new(Duration::from_secs(3600)).jitter(0.0))
        .build()
        .unwrap();
    let mut reader = Reader::new(&source);
    let HealthEvent::Reconnecting { attempt: 1, delay } = reader.event("reconnecting", WAIT) else {
        unreachable!()
    };
    assert_eq!(delay, Duration::from_secs(3600));
    // request_stop returns at once; the stream then ends (well before the hour is over).
    source.request_stop();
    let ended = Instant::now();
    loop {
        match source.next_timeout(WAIT) {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => panic!("the stream did not end after request_stop: {e}"),
        }
    }
    assert!(
        ended.elapsed() < Duration::from_secs(600),
        "the stop waited for the backoff"
    );
    assert!(source.is_finished());
    source.stop();
}

/// Bad descriptions and settings are refused by `build`, with what was wrong.
#[test]
fn bad_descriptions_and_settings_are_refused() {
    let err = LiveSource::new("videotestsrc ! nosuchelement ! appsink").unwrap_err();
    assert!(
        matches!(err.pipeline_error(), Some(gstpipe_core::Error::MissingElement { factory, .. }) if factory == "nosuchelement"),
        "{err}"
    );
    let err = LiveSource::new("videotestsrc ! fakesink").unwrap_err();
    assert!(
        matches!(
            err.pipeline_error(),
            Some(gstpipe_core::Error::NoElementOfType { .. })
        ),
        "{err}"
    );
    let err = LiveSource::new("videotestsrc ! ! appsink").unwrap_err();
    assert!(
        matches!(
            err.pipeline_error(),
            Some(gstpipe_core::Error::Parse { .. })
        ),
        "{err}"
    );
    let err = LiveSource::builder("videotestsrc ! appsink")
        .capacity(0)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("capacity"), "{err}");
    let err = LiveSource::builder("videotestsrc ! appsink")
        .stall_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("stall"), "{err}");
    let err = LiveSource::builder("videotestsrc ! appsink")
        .backoff(Backoff::default().factor(f64::NAN))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("factor"), "{err}");
    let err = LiveSource::builder("videotestsrc ! appsink name=a")
        .appsink("b")
        .build()
        .unwrap_err();
    assert!(
        matches!(err.pipeline_error(), Some(gstpipe_core::Error::NoSuchElement { name, .. }) if name == "b"),
        "{err}"
    );
}

/// Without a sender's time, the capture time is the pipeline clock at the frame's running
/// time: consecutive frames are exactly a frame duration apart, and never in the future.
#[test]
fn wall_time_follows_the_pipeline_clock() {
    let source = LiveSource::builder(
        "videotestsrc is-live=true ! video/x-raw,format=GRAY8,width=16,height=8,framerate=50/1 \
         ! appsink",
    )
    .capacity(64)
    .build()
    .unwrap();
    let mut last: Option<(SystemTime, gst::ClockTime)> = None;
    let mut n = 0;
    while n < 6 {
        let LiveItem::Frame(f) = source.next_timeout(WAIT).unwrap().unwrap() else {
            continue;
        };
        assert_eq!(f.time_source(), TimeSource::PipelineClock);
        assert!(f.wall_time() <= SystemTime::now(), "captured in the future");
        let pts = f.pts().unwrap();
        if let Some((wall, previous)) = last {
            let wall_step = f.wall_time().duration_since(wall).unwrap();
            let pts_step = Duration::from_nanos((pts - previous).nseconds());
            let diff = wall_step.abs_diff(pts_step);
            assert!(
                diff < Duration::from_millis(5),
                "wall step {wall_step:?} vs pts step {pts_step:?}"
            );
        }
        assert_eq!(
            f.wall_ns(),
            f.wall_time()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        );
        last = Some((f.wall_time(), pts));
        n += 1;
    }
}

/// A decodebin links its dynamic pads once, so a stopped decodebin pipeline cannot be played
/// again; rebuilt from the description, every generation decodes.
#[test]
fn decodebin_descriptions_are_rebuilt_not_replayed() {
    let source = LiveSource::builder(
        "videotestsrc num-buffers=2 ! video/x-raw,format=I420,width=16,height=16 ! jpegenc \
         ! decodebin ! videoconvert ! video/x-raw,format=GRAY8 ! appsink",
    )
    .backoff(quick())
    .build()
    .unwrap();
    let mut reader = Reader::new(&source);
    let frame = reader.frames_of(3, 2, WAIT);
    source.stop();
    assert_eq!(frame.generation(), 3);
    assert_eq!(frame.view::<u8>().unwrap().shape(), &[16, 16, 1]);
    assert_eq!(reader.indices(), (0..6).collect::<Vec<_>>());
    assert_event_grammar(&reader.event_names());
}
