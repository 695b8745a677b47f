//! Shared helpers: reading a live source until something happens (bounded), process figures,
//! running a test alone in a child process.

use gstpipe_live::{HealthEvent, LiveFrame, LiveItem, LiveSource};
use std::io::Read as _;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The client side of the RTSP tests: TCP interleaved (a killed server is noticed at once),
/// no jitterbuffer latency, decoded to I420.
pub fn rtsp_client(url: &str) -> String {
    format!(
        "rtspsrc location={url} protocols=tcp latency=0 ! rtpjpegdepay ! jpegdec \
         ! video/x-raw,format=I420 ! appsink"
    )
}

/// What a reader saw, in order.
#[derive(Debug, Clone)]
pub enum Seen {
    Frame {
        index: u64,
        generation: u64,
        after_gap: bool,
    },
    Event(HealthEvent),
}

/// Reads a live source and keeps a log of everything.
pub struct Reader<'a> {
    pub source: &'a LiveSource,
    pub log: Vec<Seen>,
}

impl<'a> Reader<'a> {
    pub fn new(source: &'a LiveSource) -> Self {
        Reader {
            source,
            log: Vec::new(),
        }
    }

    /// Reads until `done` says so for an item, at most `limit`; panics with the log
    /// otherwise. Frames seen are passed to `on_frame` first.
    pub fn until(
        &mut self,
        limit: Duration,
        what: &str,
        mut done: impl FnMut(&LiveItem, &[Seen]) -> bool,
    ) -> LiveItem {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let item = match self.source.next_timeout(left) {
                Ok(Some(item)) => item,
                Ok(None) => panic!(
                    "the source ended while waiting for {what}: {}",
                    self.summary()
                ),
                Err(_) => panic!("no {what} within {limit:?}: {}", self.summary()),
            };
            self.log.push(match &item {
                LiveItem::Frame(f) => Seen::Frame {
                    index: f.index(),
                    generation: f.generation(),
                    after_gap: f.after_gap(),
                },
                LiveItem::Event(e) => Seen::Event(e.clone()),
                _ => unreachable!("no other items"),
            });
            if done(&item, &self.log) {
                return item;
            }
        }
    }

    /// Reads until `n` frames of a generation at least `generation` were seen.
    pub fn frames_of(&mut self, generation: u64, n: usize, limit: Duration) -> LiveFrame {
        let item = self.until(
            limit,
            &format!("{n} frames of generation {generation}"),
            |_, log| {
                log.iter()
                    .filter(|s| matches!(s, Seen::Frame { generation: g, .. } if *g >= generation))
                    .count()
                    >= n
            },
        );
        match item {
            LiveItem::Frame(f) => f,
            _ => unreachable!("the last item counted was a frame"),
        }
    }

    /// Reads until an event named `name`.
    pub fn event(&mut self, name: &str, limit: Duration) -> HealthEvent {
        let item = self.until(limit, &format!("a {name} event"), |item, _| {
            item.event().is_some_and(|e| e.name() == name)
        });
        match item {
            LiveItem::Event(e) => e,
            _ => unreachable!(),
        }
    }

    /// The event names in order.
    pub fn event_names(&self) -> Vec<&'static str> {
        self.log
            .iter()
            .filter_map(|s| match s {
                Seen::Event(e) => Some(e.name()),
                _ => None,
            })
            .collect()
    }

    /// The frames' indices in order.
    pub fn indices(&self) -> Vec<u64> {
        self.log
            .iter()
            .filter_map(|s| match s {
                Seen::Frame { index, .. } => Some(*index),
                _ => None,
            })
            .collect()
    }

    /// A short description of the log: events, and frames per generation.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut run: Option<(u64, usize)> = None;
        for s in &self.log {
            match s {
                Seen::Frame { generation, .. } => match &mut run {
                    Some((g, n)) if g == generation => *n += 1,
                    _ => {
                        if let Some((g, n)) = run.take() {
                            parts.push(format!("{n} frames of gen {g}"));
                        }
                        run = Some((*generation, 1));
                    }
                },
                Seen::Event(e) => {
                    if let Some((g, n)) = run.take() {
                        parts.push(format!("{n} frames of gen {g}"));
                    }
                    parts.push(format!("[{e}]"));
                }
            }
        }
        if let Some((g, n)) = run {
            parts.push(format!("{n} frames of gen {g}"));
        }
        format!("{} (stats {:?})", parts.join(", "), self.source.stats())
    }
}

/// Checks that `names` is `connected` then rounds of `disconnected, reconnecting` each ended
/// by `reconnected` (or the end of the list).
pub fn assert_event_grammar(names: &[&str]) {
    assert_eq!(names.first(), Some(&"connected"), "{names:?}");
    for pair in names.windows(2) {
        let ok = match pair[1] {
            "disconnected" => matches!(pair[0], "connected" | "reconnected" | "reconnecting"),
            "reconnecting" => pair[0] == "disconnected",
            "reconnected" => pair[0] == "reconnecting",
            _ => false,
        };
        assert!(ok, "{} cannot follow {} in {names:?}", pair[1], pair[0]);
    }
}

/// What the process holds at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Figures {
    pub rss_kib: u64,
    pub threads: usize,
}

/// Resident memory (from `/proc/self/status`, VmRSS) and the thread count.
pub fn figures() -> Figures {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/self/status"))
    };
    Figures {
        rss_kib: field("VmRSS:"),
        threads: field("Threads:") as usize,
    }
}

/// Environment variable naming the test a child process runs alone.
const CHILD: &str = "GSTPIPE_LIVE_TEST_ALONE";

/// Runs `body` in a child process running only the test `path` (e.g. `rtsp::cycles`) of this
/// binary, so that process-wide figures (threads, memory) are its own. Prints the child's
/// output and fails when it fails or runs longer than `limit`.
pub fn in_own_process(path: &str, limit: Duration, body: fn()) {
    if std::env::var(CHILD).as_deref() == Ok(path) {
        body();
        return;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([path, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the child test process starts");
    let pipe = |mut p: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = p.read_to_string(&mut text);
            text
        })
    };
    let stdout = pipe(Box::new(child.stdout.take().unwrap()));
    let stderr = pipe(Box::new(child.stderr.take().unwrap()));
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        let _ = tx.send(());
        status
    });
    if rx.recv_timeout(limit).is_err() {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        let _ = waiter.join();
        panic!("{path} still running after {limit:?}; killed");
    }
    let status = waiter.join().unwrap().unwrap();
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(
        status.success(),
        "{path} failed in its own process ({status})"
    );
    assert!(
        stdout.contains("1 passed"),
        "the child ran no test named {path}"
    );
}

/// A number from the environment, or `default`.
pub fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}
