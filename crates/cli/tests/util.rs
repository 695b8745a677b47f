//! Running the built `gstpipe` with a time limit, scratch directories, reference pipelines.

use gst::prelude::*;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long one run of the binary may take before the test fails as hung.
pub const LIMIT: Duration = Duration::from_secs(60);

/// What a run of the binary left behind.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit status 0 and returns self.
    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(self.code, Some(0), "expected success, got {self:#?}");
        self
    }

    /// Asserts the exit status and returns self.
    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        assert_eq!(self.code, Some(code), "expected exit {code}, got {self:#?}");
        self
    }

    /// Asserts that stderr shows no panic and no backtrace.
    #[track_caller]
    pub fn no_panic(self) -> Self {
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("backtrace"),
            "stderr shows a panic: {}",
            self.stderr
        );
        self
    }

    /// The stdout lines parsed as JSON (NDJSON).
    #[track_caller]
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l:?}: {e}")))
            .collect()
    }
}

/// Runs `gstpipe ARGS` with the default time limit.
pub fn gstpipe(args: &[&str]) -> Run {
    gstpipe_within(args, LIMIT)
}

/// Runs `gstpipe ARGS`; kills it and fails the test when it runs past `limit`.
pub fn gstpipe_within(args: &[&str], limit: Duration) -> Run {
    let mut child = spawn(args);
    let out = child.stdout.take().expect("piped stdout");
    finish(child, out, String::new(), args, limit)
}

/// Starts `gstpipe ARGS` with piped stdout and stderr.
pub fn spawn(args: &[&str]) -> Child {
    spawn_with_log(args, None)
}

/// Runs `gstpipe ARGS` with `RUST_LOG` set to `log`.
pub fn gstpipe_logging(args: &[&str], log: &str) -> Run {
    let mut child = spawn_with_log(args, Some(log));
    let out = child.stdout.take().expect("piped stdout");
    finish(child, out, String::new(), args, LIMIT)
}

/// Starts `gstpipe ARGS` with piped stdout and stderr, and `RUST_LOG` when given.
fn spawn_with_log(args: &[&str], log: Option<&str>) -> Child {
    command(args, log).spawn().expect("cannot run gstpipe")
}

/// `gstpipe ARGS` (any bytes) with piped stdout and stderr, no stdin, and `RUST_LOG` only
/// when given.
pub fn command<S: AsRef<std::ffi::OsStr>>(args: &[S], log: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gstpipe"));
    command.env_remove("RUST_LOG");
    if let Some(log) = log {
        command.env("RUST_LOG", log);
    }
    command
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Reads the rest of `out` (after `read_so_far`) and stderr, waits at most `limit` for the
/// child (killing it and failing the test past that) and returns what it left.
pub fn finish(
    mut child: Child,
    mut out: impl Read + Send + 'static,
    read_so_far: String,
    args: &[&str],
    limit: Duration,
) -> Run {
    let mut err = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut s = read_so_far;
        let _ = out.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    // Waited for on a thread of its own, so the wait can be bounded without polling.
    let pid = child.id();
    let (done, exited) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let _ = done.send(child.wait());
    });
    let status = match exited.recv_timeout(limit) {
        Ok(status) => Some(status.expect("cannot wait for gstpipe")),
        Err(_) => {
            // Not exited, so not reaped: the pid is still the child's.
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            let _ = waiter.join();
            None
        }
    };
    let run = Run {
        code: status.and_then(|s| s.code()),
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    };
    assert!(
        status.is_some(),
        "gstpipe {args:?} ran past {limit:?} and was killed: {run:#?}"
    );
    run
}

/// Sends SIGINT (Ctrl-C) to the child.
pub fn interrupt(child: &Child) {
    signal(child, "INT");
}

/// Sends the signal `name` (`INT`, `TERM`, `HUP`) to the child.
pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("cannot run kill");
    assert!(status.success(), "kill -{name} failed");
}

/// Reads `out` line by line on a thread of its own; the lines come through the channel as
/// they arrive (so a test can wait for one with a bound), and the thread ends with the stream.
pub fn lines(out: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(out)) {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A fresh, empty directory for one test under Cargo's scratch directory.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("gstpipe-cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("cannot create a scratch directory");
    dir
}

/// Runs a reference pipeline in process (with GStreamer's own elements) to end of stream.
#[track_caller]
pub fn run_reference(description: &str) {
    let pipeline = gstpipe_core::Pipeline::launch(description).expect("reference pipeline");
    pipeline.play().expect("reference pipeline plays");
    pipeline
        .wait_timeout(LIMIT)
        .unwrap_or_else(|e| panic!("reference pipeline {description:?} failed: {e}"));
}

/// Counts the buffers reaching the element called `sink` while the pipeline runs to EOS.
#[track_caller]
pub fn count_buffers(description: &str, sink: &str) -> u64 {
    let pipeline = gstpipe_core::Pipeline::launch(description).expect("counting pipeline");
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let pad = pipeline
        .by_name(sink)
        .expect("the counting sink")
        .static_pad("sink")
        .expect("a sink pad");
    let c = std::sync::Arc::clone(&count);
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        gst::PadProbeReturn::Ok
    });
    pipeline.play().expect("counting pipeline plays");
    pipeline
        .wait_timeout(LIMIT)
        .unwrap_or_else(|e| panic!("counting pipeline {description:?} failed: {e}"));
    count.load(std::sync::atomic::Ordering::Relaxed)
}

/// A small tmpfs mounted for one test (root only), filled to the last byte, unmounted on drop.
pub struct FullFs {
    /// Where it is mounted.
    pub dir: PathBuf,
}

impl FullFs {
    /// Mounts a 64 KiB tmpfs on a scratch directory and fills it; `None` (with the reason on
    /// stderr) when this process may not mount file systems.
    pub fn mount(name: &str) -> Option<FullFs> {
        let dir = scratch(name);
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
            .arg(&dir)
            .stderr(Stdio::piped())
            .output();
        match mounted {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                eprintln!(
                    "skipped: cannot mount a tmpfs (needs root): {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                return None;
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount: {e}");
                return None;
            }
        }
        let fs = FullFs { dir };
        // Fill it: write until the file system says it is full.
        let mut filler = std::fs::File::create(fs.dir.join("filler")).expect("a filler file");
        let chunk = vec![0u8; 4096];
        loop {
            match std::io::Write::write_all(&mut filler, &chunk) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                Err(e) => panic!("cannot fill the tmpfs: {e}"),
            }
        }
        Some(fs)
    }
}

impl Drop for FullFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

/// Runs `gstpipe ARGS` with stdout going to `/dev/full` (every write fails with ENOSPC).
pub fn gstpipe_to_dev_full(args: &[&str]) -> Run {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let mut child = command(args, None)
        .stdout(full)
        .spawn()
        .expect("cannot run gstpipe");
    let _ = child.stdout.take();
    finish(child, std::io::empty(), String::new(), args, LIMIT)
}
