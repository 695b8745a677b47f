//! Against a real RTSP server in a child process: killed and restarted, frozen, never there,
//! and the capture time its RTCP sender reports carry.

use crate::server::{ServerProcess, read_stamp};
use crate::util::{
    Reader, Seen, assert_event_grammar, env_u64, figures, in_own_process, rtsp_client,
};
use gstpipe_live::{Backoff, HealthEvent, LiveError, LiveItem, LiveSource, TimeSource};
use std::time::{Duration, Instant, SystemTime};

/// Short delays: the tests wait for reconnections, not for backoff.
fn quick_backoff() -> Backoff {
    Backoff::new(Duration::from_millis(50))
        .factor(2.0)
        .max(Duration::from_millis(400))
        .jitter(0.0)
}

const WAIT: Duration = Duration::from_secs(30);

/// Kill the server while reading, restart it on the same port: frames resume in a new
/// generation, events come in order, indices continue without a hole.
#[test]
fn killed_server_comes_back_and_frames_resume() {
    let server = ServerProcess::start(0);
    let port = server.port();
    let source = LiveSource::builder(rtsp_client(&server.url()))
        .backoff(quick_backoff())
        .stall_timeout(Duration::from_secs(10))
        .capacity(512)
        .build()
        .unwrap();
    let mut reader = Reader::new(&source);
    let before = reader.frames_of(1, 10, WAIT);
    let last_stamp_before = read_stamp(&before);

    server.kill();
    let disconnected = reader.event("disconnected", WAIT);
    let HealthEvent::Disconnected {
        generation: 1,
        error,
    } = &disconnected
    else {
        panic!("expected generation 1 to end first, got {disconnected}")
    };
    // A killed server closes the connection: noticed by rtspsrc, not by the watchdog.
    assert!(
        !matches!(error, LiveError::Stalled { .. }),
        "the kill was only noticed by the watchdog: {error}"
    );
    reader.event("reconnecting", WAIT);

    let server = ServerProcess::start(port);
    // From the moment the server listens again.
    let restarted = Instant::now();
    assert_eq!(server.port(), port);
    let reconnected = reader.event("reconnected", WAIT);
    let first = reader.frames_of(2, 1, WAIT);
    let back_to_frame = restarted.elapsed();
    assert!(
        first.after_gap(),
        "the first frame after the outage says so"
    );
    assert!(first.generation() >= 2);
    let HealthEvent::Reconnected { generation, gap } = reconnected else {
        unreachable!()
    };
    assert_eq!(generation, first.generation());
    assert!(
        gap >= back_to_frame,
        "the gap {gap:?} includes the server's restart"
    );
    reader.frames_of(2, 10, WAIT);
    drop(server);

    assert_event_grammar(&reader.event_names());
    let indices = reader.indices();
    assert_eq!(source.stats().dropped, 0, "{}", reader.summary());
    assert_eq!(
        indices,
        (indices[0]..indices[0] + indices.len() as u64).collect::<Vec<_>>(),
        "indices continue across the reconnection"
    );
    let gaps = reader
        .log
        .iter()
        .filter(|s| {
            matches!(
                s,
                Seen::Frame {
                    after_gap: true,
                    ..
                }
            )
        })
        .count();
    assert_eq!(
        gaps, 1,
        "only the first frame after the outage follows a gap"
    );
    assert_eq!(source.stats().reconnects, 1);
    let lost = read_stamp(&first)
        .duration_since(last_stamp_before)
        .unwrap_or_default();
    println!(
        "server listening again -> first frame: {:.3} s; reconnected after a gap of {:.3} s; \
         server time between the last frame before and the first after: {:.3} s",
        back_to_frame.as_secs_f64(),
        gap.as_secs_f64(),
        lost.as_secs_f64()
    );
}

fn cycles_body() {
    let cycles = env_u64("GSTPIPE_LIVE_CYCLES", 4).max(2);
    let mut server = ServerProcess::start(0);
    let port = server.port();
    let source = LiveSource::builder(rtsp_client(&server.url()))
        .backoff(quick_backoff())
        .stall_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut reader = Reader::new(&source);
    reader.frames_of(1, 3, WAIT);
    let mut baseline = None;
    let mut max_threads = 0;
    let started = Instant::now();
    for cycle in 1..=cycles {
        server.kill();
        reader.event("reconnecting", WAIT);
        server = ServerProcess::start(port);
        reader.event("reconnected", WAIT);
        let generation = source.stats().generation;
        reader.frames_of(generation, 3, WAIT);
        // Keep the log short: only what the last cycle saw matters from here.
        reader.log.clear();
        let now = figures();
        max_threads = max_threads.max(now.threads);
        if cycle == 1 {
            baseline = Some(now);
        }
    }
    let baseline = baseline.unwrap();
    let last = figures();
    let stats = source.stats();
    println!(
        "{cycles} kill/restart cycles in {:.1} s: threads {} after the first, {} after the last \
         (max {max_threads}); RSS {:.1} MiB after the first, {:.1} MiB after the last; {stats:?}",
        started.elapsed().as_secs_f64(),
        baseline.threads,
        last.threads,
        baseline.rss_kib as f64 / 1024.0,
        last.rss_kib as f64 / 1024.0
    );
    assert_eq!(stats.reconnects, cycles);
    assert!(
        last.threads <= baseline.threads + 2,
        "threads grew from {} to {}",
        baseline.threads,
        last.threads
    );
    assert!(
        last.rss_kib <= baseline.rss_kib + 16 * 1024,
        "resident memory grew from {} to {} KiB",
        baseline.rss_kib,
        last.rss_kib
    );
}

/// Kill/restart cycles keep threads and memory flat (4 cycles here; `cargo xtask soak` runs
/// 100 with `GSTPIPE_LIVE_CYCLES`).
#[test]
fn reconnect_cycles_keep_threads_and_memory_flat() {
    let cycles = env_u64("GSTPIPE_LIVE_CYCLES", 4) as u32;
    in_own_process(
        "rtsp::reconnect_cycles_keep_threads_and_memory_flat",
        Duration::from_secs(60) + Duration::from_secs(5) * cycles,
        cycles_body,
    );
}

/// A frozen server (SIGSTOP) posts no error: the watchdog notices, and once the server runs
/// again (SIGCONT) frames resume.
#[test]
fn frozen_server_is_caught_by_the_watchdog() {
    let server = ServerProcess::start(0);
    let stall = Duration::from_millis(1500);
    let source = LiveSource::builder(rtsp_client(&server.url()))
        .backoff(quick_backoff())
        .stall_timeout(stall)
        .teardown_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let mut reader = Reader::new(&source);
    reader.frames_of(1, 5, WAIT);
    server.signal("STOP");
    let event = reader.event("disconnected", WAIT);
    let HealthEvent::Disconnected {
        generation: 1,
        error: LiveError::Stalled { after },
    } = event
    else {
        server.signal("CONT");
        panic!("expected the watchdog to end generation 1, got {event}");
    };
    assert!(
        after >= stall,
        "stalled after {after:?}, less than the {stall:?} watchdog"
    );
    reader.event("reconnecting", WAIT);
    server.signal("CONT");
    reader.event("reconnected", WAIT);
    let frame = reader.frames_of(2, 3, WAIT);
    assert!(frame.generation() >= 2);
    assert_event_grammar(&reader.event_names());
    drop(source);
}

/// Nothing listens on the port: after the configured attempts the source gives up, with the
/// connection error, and the stream ends.
#[test]
fn absent_server_gives_up_after_the_attempts() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let source = LiveSource::builder(rtsp_client(&format!("rtsp://127.0.0.1:{port}/test")))
        .backoff(quick_backoff().max_attempts(Some(3)))
        .stall_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut reader = Reader::new(&source);
    let gave_up = reader.event("gave_up", WAIT);
    let HealthEvent::GaveUp {
        attempts,
        last_error,
    } = gave_up
    else {
        unreachable!()
    };
    assert_eq!(attempts, 3);
    let element = last_error.element_error().expect("rtspsrc's error");
    assert!(element.element.starts_with("rtspsrc"), "{last_error}");
    assert_eq!(
        reader.event_names(),
        [
            "disconnected",
            "reconnecting",
            "disconnected",
            "reconnecting",
            "disconnected",
            "reconnecting",
            "disconnected",
            "gave_up"
        ]
    );
    assert!(
        matches!(source.next_timeout(WAIT), Ok(None)),
        "the stream ends after giving up"
    );
    assert!(source.is_finished());
    assert_eq!(source.stats().frames, 0);
}

/// A wrong path: the server answers 404, which rtspsrc reports as an error naming it.
#[test]
fn wrong_path_is_an_error_naming_the_resource() {
    let server = ServerProcess::start(0);
    let source = LiveSource::builder(rtsp_client(&format!(
        "rtsp://127.0.0.1:{}/nosuchpath",
        server.port()
    )))
    .backoff(quick_backoff().max_attempts(Some(1)))
    .build()
    .unwrap();
    let mut reader = Reader::new(&source);
    let HealthEvent::GaveUp { last_error, .. } = reader.event("gave_up", WAIT) else {
        unreachable!()
    };
    let element = last_error.element_error().expect("rtspsrc's error");
    assert!(element.element.starts_with("rtspsrc"), "{last_error}");
    let text = format!("{last_error:#}").to_lowercase();
    assert!(text.contains("not found"), "{last_error:#}");
}

/// A server that answers garbage: the source fails (no hang, no frames) and gives up.
#[test]
fn garbage_server_fails_cleanly() {
    use std::io::Write as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let serving = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut served = 0;
            for stream in listener.incoming().take(16) {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let _ = stream.write_all(
                    b"HTTP/1.0 418 I'm a teapot\r\n\r\n\x00\xff garbage \x01\x02\r\n\r\n",
                );
                served += 1;
            }
            served
        })
    };
    let source = LiveSource::builder(rtsp_client(&format!("rtsp://127.0.0.1:{port}/test")))
        .backoff(quick_backoff().max_attempts(Some(1)))
        .stall_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut reader = Reader::new(&source);
    let HealthEvent::GaveUp { last_error, .. } = reader.event("gave_up", WAIT) else {
        unreachable!()
    };
    println!("garbage server: {last_error:#}");
    assert!(!matches!(last_error, LiveError::Eos), "{last_error}");
    assert_eq!(source.stats().frames, 0);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    // Wake the accept loop so it sees the flag.
    let _ = std::net::TcpStream::connect(("127.0.0.1", port));
    assert!(serving.join().unwrap() >= 1, "rtspsrc never connected");
}

/// With RTCP sender reports, frames carry the sender's NTP time: within 100 ms of the
/// server's own clock at capture (written into the frame). A description that sets
/// `add-reference-timestamp-meta=false` keeps it off.
#[test]
fn wall_time_follows_the_senders_ntp_time() {
    let server = ServerProcess::start(0);
    // UDP transport (rtspsrc's default) with its RTCP.
    let description = |extra: &str| {
        format!(
            "rtspsrc location={} latency=0 {extra} ! rtpjpegdepay ! jpegdec \
             ! video/x-raw,format=I420 ! appsink",
            server.url()
        )
    };
    let source = LiveSource::builder(description(""))
        .capacity(256)
        .stall_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let without = LiveSource::builder(description("add-reference-timestamp-meta=false"))
        .capacity(1)
        .stall_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let deadline = Instant::now() + WAIT;
    let mut ntp_frames = 0;
    let mut clock_frames = 0;
    let mut worst = Duration::ZERO;
    while ntp_frames < 10 {
        let left = deadline.saturating_duration_since(Instant::now());
        let item = source
            .next_timeout(left)
            .unwrap_or_else(|_| panic!("only {ntp_frames} frames with NTP time within {WAIT:?}"))
            .expect("the source runs");
        let LiveItem::Frame(frame) = item else {
            continue;
        };
        let stamp = read_stamp(&frame);
        let wall = frame.wall_time();
        let diff = wall.duration_since(stamp).unwrap_or_else(|e| e.duration());
        match frame.time_source() {
            TimeSource::SenderNtp => {
                assert!(
                    diff < Duration::from_millis(100),
                    "frame {}: sender NTP time {wall:?} is {diff:?} from the server's capture \
                     time {stamp:?}",
                    frame.index()
                );
                worst = worst.max(diff);
                ntp_frames += 1;
            }
            TimeSource::PipelineClock => {
                // The receiver's own capture time: after the server's, before now.
                assert!(
                    wall >= stamp - Duration::from_millis(5),
                    "{wall:?} < {stamp:?}"
                );
                assert!(wall <= SystemTime::now());
                clock_frames += 1;
            }
            other => panic!(
                "frame {} has no timestamp to go by ({other:?})",
                frame.index()
            ),
        }
    }
    println!(
        "{clock_frames} frames before the first sender report (pipeline clock), then \
         {ntp_frames} with the sender's NTP time, at most {:.2} ms from the server's capture time",
        worst.as_secs_f64() * 1000.0
    );
    let mut seen = 0;
    while let Ok(Some(item)) = without.next_timeout(Duration::ZERO) {
        if let LiveItem::Frame(frame) = item {
            assert_ne!(
                frame.time_source(),
                TimeSource::SenderNtp,
                "the description said no"
            );
            seen += 1;
        }
    }
    assert!(
        without.stats().frames > 0,
        "the second client got frames ({seen} queued)"
    );
}
