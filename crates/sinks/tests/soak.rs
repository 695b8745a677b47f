//! Soak: many pipeline lifecycles, and long streams through every adapter with a slow
//! consumer, measuring the process's threads (`/proc/self/task`), open file descriptors
//! (`/proc/self/fd`) and resident memory (`/proc/self/statm`).
//!
//! Short by default (part of `cargo test`); `cargo xtask soak` runs the full version:
//! `GSTPIPE_SOAK_CYCLES=1000 GSTPIPE_SOAK_FRAMES=100000`, release, `--nocapture`.
//!
//! The figures are process-wide, so each test re-runs this test binary on itself alone in a
//! child process (`GSTPIPE_SOAK_CHILD` set) and measures there, away from the tests running in
//! parallel in this one.

use crate::util::{Tally, gst_pts};
use gstpipe_core::Pipeline;
use gstpipe_sinks::{FrameSink, Policy};
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

const CHILD: &str = "GSTPIPE_SOAK_CHILD";
/// Slack on the thread count (GLib's thread pools keep a few idle threads for a while).
const THREAD_MARGIN: usize = 4;
/// Slack on open file descriptors.
const FD_MARGIN: usize = 4;
/// Slack on resident memory after the cycles, against the figure after the warm-up cycles.
const CYCLES_RSS_MARGIN_KIB: u64 = 8 * 1024;
/// Slack on resident memory during and after one adapter's run.
const ADAPTER_RSS_MARGIN_KIB: u64 = 16 * 1024;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

/// The number of launch/play/pull/stop/drop cycles (`GSTPIPE_SOAK_CYCLES`, default 100).
fn cycles() -> u64 {
    env_u64("GSTPIPE_SOAK_CYCLES", 100)
}

/// The number of frames per adapter (`GSTPIPE_SOAK_FRAMES`, default 5,000).
fn frames() -> u64 {
    env_u64("GSTPIPE_SOAK_FRAMES", 5_000)
}

/// Runs `body` in a child process running only the test `name` of this binary, so the
/// process-wide figures are its own; prints the child's output (shown with `--nocapture` or
/// on failure) and fails when the child does. In the child, runs `body`.
fn in_own_process(name: &str, limit: Duration, body: fn()) {
    if std::env::var(CHILD).as_deref() == Ok(name) {
        body();
        return;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let started = Instant::now();
    let mut child = Command::new(exe)
        .args([
            &format!("soak::{name}"),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, name)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child test process");
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    // Waited for on a thread of its own, so the wait can be bounded without polling.
    let pid = child.id();
    let (done, exited) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let _ = done.send(child.wait());
    });
    let status = match exited.recv_timeout(limit.saturating_sub(started.elapsed())) {
        Ok(status) => Some(status.expect("wait for the child test process")),
        Err(_) => {
            // Not exited, so not reaped: the pid is still the child's.
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            let _ = waiter.join();
            None
        }
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    print!("{stdout}");
    eprint!("{stderr}");
    let status = status.unwrap_or_else(|| panic!("soak {name} still running after {limit:?}"));
    assert!(status.success(), "soak {name} failed ({status})");
    assert!(
        stdout.contains("1 passed"),
        "the child ran no test named soak::{name}"
    );
}

/// What the process holds at one moment.
#[derive(Debug, Clone, Copy)]
struct Figures {
    rss_kib: u64,
    threads: usize,
    fds: usize,
}

fn count_dir(path: &str) -> usize {
    std::fs::read_dir(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .count()
}

/// The page size, from the auxiliary vector (`AT_PAGESZ`), so no libc is needed.
fn page_size() -> u64 {
    let auxv = std::fs::read("/proc/self/auxv").expect("/proc/self/auxv");
    auxv.chunks_exact(16)
        .map(|pair| {
            let key = u64::from_ne_bytes(pair[..8].try_into().unwrap());
            let value = u64::from_ne_bytes(pair[8..].try_into().unwrap());
            (key, value)
        })
        .find(|&(key, _)| key == 6)
        .map_or(4096, |(_, value)| value)
}

/// Resident memory in KiB: the second field of `/proc/self/statm`, in pages.
fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .expect("statm's resident field");
    pages * page_size() / 1024
}

fn figures() -> Figures {
    Figures {
        rss_kib: rss_kib(),
        threads: count_dir("/proc/self/task"),
        // Minus the descriptor read_dir itself holds while counting.
        fds: count_dir("/proc/self/fd") - 1,
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// Samples resident memory every 2 ms until `finish`; `finish` returns the highest sample.
/// The 2 ms is the sampling interval; `finish` wakes the sampler at once through the channel.
struct PeakRss {
    peak: Arc<AtomicU64>,
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl PeakRss {
    fn start() -> Self {
        let peak = Arc::new(AtomicU64::new(rss_kib()));
        let (stop, stopped) = mpsc::channel::<()>();
        let p = Arc::clone(&peak);
        let thread = std::thread::spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(Duration::from_millis(2))
            {
                p.fetch_max(rss_kib(), Ordering::Relaxed);
            }
        });
        PeakRss { peak, stop, thread }
    }

    /// Stops sampling and returns the peak.
    fn finish(self) -> u64 {
        let _ = self.stop.send(());
        let _ = self.thread.join();
        self.peak.fetch_max(rss_kib(), Ordering::Relaxed);
        self.peak.load(Ordering::Relaxed)
    }
}

// ---------------------------------------------------------------------------------------
// Lifecycles
// ---------------------------------------------------------------------------------------

/// An endless source: every cycle stops it itself.
const ENDLESS: &str = "videotestsrc ! video/x-raw,format=RGB,width=64,height=48 ! appsink";

/// One cycle: launch, play, pull 3 frames (through the adapter `i % 4` picks), stop, drop.
fn one_cycle(i: u64) {
    let pipeline = Pipeline::launch(ENDLESS).unwrap();
    let sink = FrameSink::new(&pipeline).unwrap();
    pipeline.play().unwrap();
    match i % 4 {
        0 => {
            for frame in sink.iter().take(3) {
                assert_eq!(frame.unwrap().view::<u8>().unwrap().shape(), [48, 64, 3]);
            }
            drop(sink);
        }
        1 | 2 => {
            let policy = if i % 4 == 1 {
                Policy::Block
            } else {
                Policy::DropOldest
            };
            let rx = sink.channel(2, policy);
            for _ in 0..3 {
                rx.recv().unwrap().unwrap();
            }
            drop(rx); // joins the pulling thread
        }
        _ => {
            let calls = Tally::new();
            let counter = calls.clone();
            let _handle = sink
                .on_frame(move |_| {
                    counter.add(1);
                    Ok::<(), String>(())
                })
                .unwrap();
            calls.wait_for(3, Duration::from_secs(10));
        }
    }
    pipeline
        .stop()
        .unwrap_or_else(|e| panic!("cycle {i}: stop: {e}"));
}

fn cycles_body() {
    let cycles = cycles();
    let warmup = (cycles / 10).clamp(1, 50);
    let started = Instant::now();
    let first = figures();
    let mut baseline = first;
    let mut max = first;
    for i in 0..cycles {
        one_cycle(i);
        let now = figures();
        max = Figures {
            rss_kib: max.rss_kib.max(now.rss_kib),
            threads: max.threads.max(now.threads),
            fds: max.fds.max(now.fds),
        };
        if i + 1 == warmup {
            baseline = now;
        }
    }
    let last = figures();
    let elapsed = started.elapsed();
    println!();
    println!(
        "soak cycles: {cycles} cycles of launch/play/pull 3/stop/drop in {:.1} s ({:.1} ms per cycle)",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / cycles as f64
    );
    println!("| when | RSS (MiB) | threads | fds |");
    println!("|---|---:|---:|---:|");
    for (when, f) in [
        ("before the first cycle".to_string(), first),
        (format!("after {warmup} warm-up cycles"), baseline),
        (format!("after {cycles} cycles"), last),
        ("maximum after any cycle".to_string(), max),
    ] {
        println!(
            "| {when} | {} | {} | {} |",
            mib(f.rss_kib),
            f.threads,
            f.fds
        );
    }
    assert!(
        last.threads <= baseline.threads + THREAD_MARGIN,
        "threads grew from {} to {}",
        baseline.threads,
        last.threads
    );
    assert!(
        last.fds <= baseline.fds + FD_MARGIN,
        "file descriptors grew from {} to {}",
        baseline.fds,
        last.fds
    );
    assert!(
        last.rss_kib <= baseline.rss_kib + CYCLES_RSS_MARGIN_KIB,
        "resident memory grew from {} to {} MiB",
        mib(baseline.rss_kib),
        mib(last.rss_kib)
    );
}

#[test]
fn cycles_keep_threads_fds_and_memory_flat() {
    let limit = Duration::from_secs(120) + Duration::from_millis(300) * cycles() as u32;
    in_own_process(
        "cycles_keep_threads_fds_and_memory_flat",
        limit,
        cycles_body,
    );
}

// ---------------------------------------------------------------------------------------
// Long streams through every adapter
// ---------------------------------------------------------------------------------------

/// The consumer is slower than the source: it reads every frame's first row and stops for
/// 2 ms every 64 frames, long enough for the source to fill every queue.
fn slow(i: u64, frame: &gstpipe_sinks::Frame) {
    let view = frame.view::<u8>().unwrap();
    assert_eq!(view.shape(), [48, 64, 3]);
    let _: u32 = view
        .index_axis(ndarray::Axis(0), 0)
        .iter()
        .map(|&v| u32::from(v))
        .sum();
    if i % 64 == 63 {
        // Work simulation: the slow consumer's pause.
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// What one adapter run gave.
struct Run {
    received: u64,
    dropped: u64,
    last_pts: Option<gstpipe_core::gst::ClockTime>,
}

type Adapter = fn(&Pipeline, u64) -> Run;

fn pipeline(n: u64) -> Pipeline {
    Pipeline::launch(&format!(
        "videotestsrc num-buffers={n} ! video/x-raw,format=RGB,width=64,height=48,framerate=1000/1 ! appsink"
    ))
    .unwrap()
}

fn run_iterator(p: &Pipeline, _: u64) -> Run {
    let sink = FrameSink::new(p).unwrap();
    p.play().unwrap();
    let mut run = Run {
        received: 0,
        dropped: 0,
        last_pts: None,
    };
    for frame in &sink {
        let frame = frame.unwrap();
        slow(run.received, &frame);
        run.last_pts = frame.pts();
        run.received += 1;
    }
    run
}

/// The appsink's own leaky mode: `max-buffers=2 drop=true`, read by the iterator. What the
/// appsink drops is not counted by GStreamer 1.22: `dropped` is frames minus received.
fn run_max_buffers(p: &Pipeline, n: u64) -> Run {
    let sink = FrameSink::builder(p)
        .max_buffers(2)
        .drop(true)
        .build()
        .unwrap();
    p.play().unwrap();
    let mut run = Run {
        received: 0,
        dropped: 0,
        last_pts: None,
    };
    for frame in &sink {
        let frame = frame.unwrap();
        slow(run.received, &frame);
        run.last_pts = frame.pts();
        run.received += 1;
    }
    run.dropped = n - run.received;
    run
}

fn run_callback(p: &Pipeline, _: u64) -> Run {
    let count = Arc::new(AtomicU64::new(0));
    let last = Arc::new(Mutex::new(None));
    let (c, l) = (Arc::clone(&count), Arc::clone(&last));
    let handle = FrameSink::new(p)
        .unwrap()
        .on_frame(move |frame| {
            slow(c.load(Ordering::Relaxed), &frame);
            *l.lock().unwrap() = frame.pts();
            c.fetch_add(1, Ordering::Relaxed);
            Ok::<(), String>(())
        })
        .unwrap();
    p.play().unwrap();
    let frames = handle.wait().unwrap();
    assert_eq!(frames, count.load(Ordering::Relaxed));
    Run {
        received: frames,
        dropped: 0,
        last_pts: *last.lock().unwrap(),
    }
}

fn run_channel(p: &Pipeline, policy: Policy) -> Run {
    let rx = FrameSink::new(p).unwrap().channel(4, policy);
    p.play().unwrap();
    let mut run = Run {
        received: 0,
        dropped: 0,
        last_pts: None,
    };
    while let Some(frame) = rx.recv() {
        let frame = frame.unwrap();
        assert!(rx.len() <= 4);
        slow(run.received, &frame);
        run.last_pts = frame.pts();
        run.received += 1;
    }
    assert_eq!(rx.received(), run.received);
    run.dropped = rx.dropped();
    run
}

fn run_block(p: &Pipeline, _: u64) -> Run {
    run_channel(p, Policy::Block)
}

fn run_drop_oldest(p: &Pipeline, _: u64) -> Run {
    run_channel(p, Policy::DropOldest)
}

fn run_batches(p: &Pipeline, _: u64) -> Run {
    let sink = FrameSink::new(p).unwrap();
    p.play().unwrap();
    let mut run = Run {
        received: 0,
        dropped: 0,
        last_pts: None,
    };
    for batch in sink.batches::<u8>(16) {
        let batch = batch.unwrap();
        assert_eq!(&batch.array.shape()[1..], [48, 64, 3]);
        run.received += batch.len() as u64;
        run.last_pts = *batch.pts.last().unwrap();
        if run.received.is_multiple_of(64) {
            // Work simulation: the slow consumer's pause, as in `slow`.
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    run
}

#[cfg(feature = "stream")]
fn run_stream(p: &Pipeline, _: u64) -> Run {
    use futures_core::Stream;
    use std::pin::Pin;
    let mut stream = FrameSink::new(p).unwrap().stream();
    p.play().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let mut run = Run {
            received: 0,
            dropped: 0,
            last_pts: None,
        };
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await
        {
            let frame = frame.unwrap();
            slow(run.received, &frame);
            run.last_pts = frame.pts();
            run.received += 1;
        }
        run.dropped = stream.receiver().dropped();
        run
    })
}

fn adapters_body() {
    let n = frames();
    let mut adapters: Vec<(&str, Adapter, bool)> = vec![
        // (name, run, loses nothing)
        ("iterator", run_iterator, true),
        ("iterator, max-buffers=2 drop=true", run_max_buffers, false),
        ("callback", run_callback, true),
        ("channel Block", run_block, true),
        ("channel DropOldest", run_drop_oldest, false),
        ("batches of 16", run_batches, true),
    ];
    #[cfg(feature = "stream")]
    adapters.push(("stream", run_stream, true));

    // Warm-up: GStreamer's and the allocator's one-time costs are not the adapters'.
    for (_, run, _) in &adapters {
        let p = pipeline(200);
        run(&p, 200);
        p.wait_timeout(Duration::from_secs(10)).unwrap();
    }

    println!();
    println!(
        "soak adapters: {n} frames of 64x48 RGB per adapter, slow consumer (2 ms pause every 64 frames)"
    );
    println!(
        "| adapter | frames | received | dropped | RSS before (MiB) | RSS after (MiB) | RSS peak (MiB) | threads before/after | fds before/after | seconds |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut failures = Vec::new();
    for (name, run, lossless) in adapters {
        let before = figures();
        let peak = PeakRss::start();
        let started = Instant::now();
        let p = pipeline(n);
        let result = run(&p, n);
        p.wait_timeout(Duration::from_secs(10)).unwrap();
        drop(p);
        let seconds = started.elapsed().as_secs_f64();
        let peak = peak.finish();
        let after = figures();
        println!(
            "| {name} | {n} | {} | {} | {} | {} | {} | {}/{} | {}/{} | {seconds:.1} |",
            result.received,
            result.dropped,
            mib(before.rss_kib),
            mib(after.rss_kib),
            mib(peak),
            before.threads,
            after.threads,
            before.fds,
            after.fds,
        );
        let mut check = |ok: bool, what: String| {
            if !ok {
                failures.push(format!("{name}: {what}"));
            }
        };
        if lossless {
            check(
                result.received == n && result.dropped == 0,
                format!(
                    "received {} of {n}, dropped {}",
                    result.received, result.dropped
                ),
            );
        } else {
            check(
                result.received + result.dropped == n && result.received > 0,
                format!(
                    "received {} + dropped {} != {n}",
                    result.received, result.dropped
                ),
            );
        }
        // The stream's last frame always arrives (latest wins when dropping).
        check(
            result.last_pts == Some(gst_pts(n - 1, 1000, 1)),
            format!("last frame {:?}", result.last_pts),
        );
        check(
            peak <= before.rss_kib + ADAPTER_RSS_MARGIN_KIB,
            format!(
                "peak RSS {} MiB over {} MiB before",
                mib(peak),
                mib(before.rss_kib)
            ),
        );
        check(
            after.rss_kib <= before.rss_kib + ADAPTER_RSS_MARGIN_KIB / 2,
            format!(
                "RSS {} MiB after, {} before",
                mib(after.rss_kib),
                mib(before.rss_kib)
            ),
        );
        check(
            after.threads <= before.threads + THREAD_MARGIN,
            format!("threads {} -> {}", before.threads, after.threads),
        );
        check(
            after.fds <= before.fds + FD_MARGIN,
            format!("fds {} -> {}", before.fds, after.fds),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_adapter_keeps_memory_bounded_with_a_slow_consumer() {
    let limit = Duration::from_secs(120) + Duration::from_micros(7 * 500) * frames() as u32;
    in_own_process(
        "every_adapter_keeps_memory_bounded_with_a_slow_consumer",
        limit,
        adapters_body,
    );
}
