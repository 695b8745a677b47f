//! `cargo xtask memcheck`: integration suites under `valgrind --tool=memcheck`.
//!
//! Fails on any memory error (invalid read / write / free, use of uninitialised values,
//! overlapping copies, bad syscall parameters) and on any definite leak whose stack goes
//! through gstpipe code (a `gstpipe` function, or a source file of this workspace). GLib's and
//! GStreamer's one-time allocations are suppressed by GLib's own suppression file
//! (`/usr/share/glib-2.0/valgrind/glib.supp`, when installed) and `xtask/valgrind/gstreamer.supp`;
//! definite leaks entirely inside GLib/GStreamer are listed but do not fail the run.

use crate::util::{Result, cargo, root};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One integration test binary and the tests of it to run under valgrind.
struct Suite {
    package: &'static str,
    /// Test name filters (libtest substring filters); empty runs everything not skipped.
    filters: &'static [&'static str],
    /// Tests to leave out: property tests (`cargo xtask fuzz` runs them), and soaks (they
    /// re-run the binary in a child process that valgrind would not trace).
    skip: &'static [&'static str],
    /// Tests that depend on wall-clock time, which valgrind stretches 20 to 50 times: they
    /// would fail or run into their watchdog under it, so they are skipped too (libtest
    /// `--skip` filters). A test belongs here only when its timing is its contract (a live
    /// pace, a deadline it must meet); a test that sleeps or polls to synchronise is fixed
    /// instead (wait for the event), so that it runs here like any other. Each entry says
    /// what it times.
    timed: &'static [&'static str],
}

/// The suites, chosen to stay under ~10 minutes on 2 cores: all of gstpipe-frame's
/// integration tests but the property tests, and the sinks tests of every adapter's normal
/// path, their errors, the stream, the source, the faults and lookup. Left out of sinks:
/// `soak` (child processes) and `detections` (100,000 buffers in a child process).
///
/// No test of these suites is timed any more: the stall tests assert only lower bounds (a
/// timeout waited at least its configured time), which a slower run cannot break, and every
/// wait for frames is an event (pad probe, channel, condvar) bounded by a generous limit.
/// `channel::latest_frame_of_a_live_source` and
/// `channel::dropping_the_receiver_releases_the_pipeline`, skipped before, now wait for the
/// frames they need and assert the outcome instead of a duration, and run here.
const SUITES: &[Suite] = &[
    Suite {
        package: "gstpipe-frame",
        filters: &[],
        skip: &["props"],
        timed: &[],
    },
    Suite {
        package: "gstpipe-sinks",
        filters: &[
            "iter::",
            "errors::",
            "stream::",
            "channel::",
            "callback::",
            "batches::",
            "source::",
            "faults::",
            "lookup::",
        ],
        skip: &[],
        timed: &[],
    },
];

/// Error kinds that fail the run wherever they happen.
const MEMORY_ERRORS: &[&str] = &[
    "InvalidRead",
    "InvalidWrite",
    "InvalidFree",
    "MismatchedFree",
    "InvalidJump",
    "InvalidMemPool",
    "UninitCondition",
    "UninitValue",
    "SyscallParam",
    "Overlap",
    "FishyValue",
    "ClientCheck",
];

/// How long one suite may run under valgrind.
const SUITE_LIMIT: Duration = Duration::from_secs(30 * 60);

/// Runs every suite under memcheck and checks the reports; `--suite NAME` (repeatable) picks
/// suites by package name.
pub fn run(args: &[String]) -> Result {
    let mut only = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--suite" => only.push(args.next().ok_or("--suite needs a package name")?.clone()),
            other => return Err(format!("memcheck: unknown argument `{other}`").into()),
        }
    }
    crate::setup::run()?;
    let version = Command::new("valgrind")
        .arg("--version")
        .output()
        .map_err(|e| format!("valgrind not found ({e}): apt-get install valgrind"))?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
    let out_dir = root().join("target").join("memcheck");
    std::fs::create_dir_all(&out_dir)?;

    let mut suppressions = vec![root().join("xtask").join("valgrind").join("gstreamer.supp")];
    let glib = PathBuf::from("/usr/share/glib-2.0/valgrind/glib.supp");
    if glib.exists() {
        suppressions.push(glib);
    } else {
        eprintln!(
            "xtask: memcheck: {} not found; GLib's type system will be noisy",
            glib.display()
        );
    }

    let mut summaries = Vec::new();
    let mut failed = false;
    for suite in SUITES {
        if !only.is_empty() && !only.iter().any(|o| o == suite.package) {
            continue;
        }
        let exe = build(suite.package)?;
        let xml = out_dir.join(format!("{}.xml", suite.package));
        let log = out_dir.join(format!("{}.log", suite.package));
        let started = Instant::now();
        let tests_ok = run_suite(suite, &exe, &xml, &log, &suppressions)?;
        let elapsed = started.elapsed();
        let text = std::fs::read_to_string(&xml)
            .map_err(|e| format!("{}: {e} (did valgrind start?)", xml.display()))?;
        let report = Report::parse(&text, &root());
        failed |= !tests_ok || report.fails();
        summaries.push((suite.package, tests_ok, elapsed, report, xml));
    }

    eprintln!("\nxtask: memcheck: {version}");
    for (package, tests_ok, elapsed, report, xml) in &summaries {
        eprintln!(
            "xtask: memcheck: {package}: tests {}, {:.0} s; memory errors: {}; definite leaks \
             through gstpipe: {}; definite leaks inside GLib/GStreamer only: {}; suppressed: {} ({})",
            if *tests_ok { "passed" } else { "FAILED" },
            elapsed.as_secs_f64(),
            report.memory_errors.len(),
            report.gstpipe_leaks.len(),
            report.other_leaks.len(),
            report.suppressed,
            xml.display(),
        );
        for e in report
            .memory_errors
            .iter()
            .chain(&report.gstpipe_leaks)
            .chain(&report.other_leaks)
        {
            eprintln!("  {e}");
        }
    }
    if failed {
        Err("memcheck found problems (see above and target/memcheck/*.xml)".into())
    } else {
        eprintln!("xtask: memcheck: clean");
        Ok(())
    }
}

/// Builds the package's integration test binary (debug: full stacks) and returns its path.
fn build(package: &str) -> Result<PathBuf> {
    eprintln!("xtask: memcheck: building {package} tests");
    let output = cargo()
        .args([
            "test",
            "--package",
            package,
            "--test",
            "tests",
            "--no-run",
            "--message-format=json",
        ])
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(format!("building {package} tests failed").into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let key = "\"executable\":\"";
    stdout
        .lines()
        .filter(|l| l.contains("\"name\":\"tests\""))
        .find_map(|l| {
            let start = l.find(key)? + key.len();
            let end = l[start..].find('"')?;
            Some(PathBuf::from(&l[start..start + end]))
        })
        .ok_or_else(|| format!("no test executable for {package} in cargo's output").into())
}

/// Runs the suite's tests under valgrind; true when the tests themselves passed.
fn run_suite(
    suite: &Suite,
    exe: &Path,
    xml: &Path,
    log: &Path,
    suppressions: &[PathBuf],
) -> Result<bool> {
    let crate_dir = root()
        .join("crates")
        .join(suite.package.trim_start_matches("gstpipe-"));
    let mut cmd = Command::new("valgrind");
    cmd.args([
        "--tool=memcheck",
        "--leak-check=full",
        "--show-leak-kinds=definite",
        "--errors-for-leak-kinds=definite",
        "--num-callers=50",
        "--gen-suppressions=all",
        "--xml=yes",
    ])
    .arg(format!("--xml-file={}", xml.display()))
    .arg(format!("--log-file={}", log.display()));
    for s in suppressions {
        cmd.arg(format!("--suppressions={}", s.display()));
    }
    cmd.arg(exe).arg("--test-threads=2");
    cmd.args(suite.filters);
    for s in suite.skip.iter().chain(suite.timed) {
        cmd.args(["--skip", s]);
    }
    // GLib's slice allocator hides frees from valgrind; GStreamer's registry scan would fork
    // a helper valgrind does not follow; ORC's JIT code reads uninitialised padding on purpose.
    // A panic's backtrace takes seconds to symbolise under valgrind: long enough to trip the
    // stall clock (10 s without a frame) of the tests that panic in a callback on purpose.
    cmd.env("RUST_BACKTRACE", "0")
        .env("G_SLICE", "always-malloc")
        .env("G_DEBUG", "gc-friendly")
        .env("GST_REGISTRY_FORK", "no")
        .env("ORC_CODE", "backup")
        .env("CARGO_MANIFEST_DIR", &crate_dir)
        .current_dir(&crate_dir);
    eprintln!(
        "xtask: memcheck: {} under valgrind (slow: minutes)",
        suite.package
    );
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start valgrind: {e}"))?;
    // Waited for on a thread of its own, so the wait is bounded without polling.
    let pid = child.id();
    let (done, exited) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let _ = done.send(child.wait());
    });
    match exited.recv_timeout(SUITE_LIMIT) {
        Ok(status) => Ok(status?.success()),
        Err(_) => {
            // Not exited, so not reaped: the pid is still valgrind's.
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            let _ = waiter.join();
            Err(format!(
                "{} still running after {SUITE_LIMIT:?}; killed",
                suite.package
            )
            .into())
        }
    }
}

/// What one valgrind XML report holds, sorted by what to do about it.
#[derive(Debug, Default)]
struct Report {
    /// Errors of a [`MEMORY_ERRORS`] kind: always fatal.
    memory_errors: Vec<String>,
    /// Definite leaks whose stack goes through gstpipe code: fatal.
    gstpipe_leaks: Vec<String>,
    /// Definite leaks entirely inside GLib/GStreamer/std: listed only.
    other_leaks: Vec<String>,
    /// How many errors the suppression files hid.
    suppressed: u64,
}

impl Report {
    fn parse(xml: &str, workspace: &Path) -> Report {
        let workspace = workspace.to_string_lossy();
        let mut report = Report::default();
        let mut rest = xml;
        while let Some(start) = rest.find("<error>") {
            let Some(len) = rest[start..].find("</error>") else {
                break;
            };
            let block = &rest[start..start + len];
            rest = &rest[start + len..];
            let kind = tag(block, "kind").unwrap_or("?");
            let what = tag(block, "what")
                .or_else(|| tag(block, "text"))
                .unwrap_or("?");
            // The first stack is where it happened (or, for a leak, where it was allocated).
            let stack = block.split("</stack>").next().unwrap_or_default();
            let frames: Vec<Frame<'_>> = stack
                .split("<frame>")
                .skip(1)
                .map(|f| Frame {
                    function: tag(f, "fn"),
                    dir: tag(f, "dir"),
                    file: tag(f, "file"),
                    line: tag(f, "line"),
                })
                .collect();
            let ours = frames.iter().find(|f| f.is_gstpipe(&workspace));
            let summary = |f: Option<&Frame<'_>>| {
                let at = f
                    .or_else(|| frames.iter().find(|f| !f.is_allocator()))
                    .map_or_else(|| "?".to_string(), Frame::describe);
                format!("{kind}: {} at {at}", unescape(what))
            };
            if MEMORY_ERRORS.contains(&kind) {
                report.memory_errors.push(summary(ours));
            } else if kind == "Leak_DefinitelyLost" {
                match ours {
                    Some(_) => report.gstpipe_leaks.push(summary(ours)),
                    None => report.other_leaks.push(summary(None)),
                }
            }
        }
        if let Some(counts) = xml.split("<suppcounts>").nth(1) {
            report.suppressed = counts
                .split("<count>")
                .skip(1)
                .filter_map(|c| c.split('<').next()?.trim().parse::<u64>().ok())
                .sum();
        }
        report
    }

    fn fails(&self) -> bool {
        !self.memory_errors.is_empty() || !self.gstpipe_leaks.is_empty()
    }
}

/// One stack frame of a valgrind XML report.
struct Frame<'a> {
    function: Option<&'a str>,
    dir: Option<&'a str>,
    file: Option<&'a str>,
    line: Option<&'a str>,
}

impl Frame<'_> {
    /// A gstpipe function (any crate of the workspace, `gstpipe_*::`) or a file of the
    /// workspace (its tests included).
    fn is_gstpipe(&self, workspace: &str) -> bool {
        self.function.is_some_and(|f| f.contains("gstpipe"))
            || self
                .dir
                .is_some_and(|d| d.starts_with(workspace) && !d.contains("/target/"))
    }

    /// `malloc` and friends: the frame under them says where the allocation came from.
    fn is_allocator(&self) -> bool {
        self.function.is_none_or(|f| {
            [
                "malloc",
                "calloc",
                "realloc",
                "g_malloc",
                "g_malloc0",
                "g_realloc",
                "g_try_malloc",
            ]
            .contains(&f)
        })
    }

    fn describe(&self) -> String {
        let function = unescape(self.function.unwrap_or("?"));
        match (self.file, self.line) {
            (Some(file), Some(line)) => format!("{function} ({file}:{line})"),
            _ => function,
        }
    }
}

/// The text of the first `<name>...</name>` in `block`.
fn tag<'a>(block: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = block.find(&open)? + open.len();
    let len = block[start..].find(&format!("</{name}>"))?;
    Some(&block[start..start + len])
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::Report;
    use std::path::Path;

    /// From a real valgrind 3.19 run of a small C program: an invalid read, an uninitialised
    /// condition, a leak in a function named like gstpipe code and one elsewhere.
    const XML: &str = "<valgrindoutput>
<error><unique>0x0</unique><tid>1</tid><kind>InvalidRead</kind>
  <what>Invalid read of size 4</what>
  <stack><frame><ip>0x109165</ip><obj>/tmp/vgc/bad</obj><fn>use</fn><dir>/tmp/vgc</dir>
  <file>bad.c</file><line>3</line></frame></stack>
  <auxwhat>Address 0x4a41050 is 0 bytes after a block of size 16 alloc'd</auxwhat>
  <stack><frame><ip>0x48417B4</ip><fn>malloc</fn></frame></stack>
</error>
<error><unique>0x1</unique><tid>1</tid><kind>UninitCondition</kind>
  <what>Conditional jump or move depends on uninitialised value(s)</what>
  <stack><frame><ip>0x109201</ip><obj>/tmp/vgc/bad</obj><fn>main</fn><dir>/tmp/vgc</dir>
  <file>bad.c</file><line>9</line></frame></stack>
</error>
<error><unique>0x2</unique><tid>1</tid><kind>Leak_DefinitelyLost</kind>
  <xwhat><text>16 bytes in 1 blocks are definitely lost in loss record 1 of 2</text>
  <leakedbytes>16</leakedbytes><leakedblocks>1</leakedblocks></xwhat>
  <stack><frame><ip>0x48417B4</ip><fn>malloc</fn></frame>
  <frame><ip>0x1091B2</ip><fn>other_leak</fn><dir>/tmp/vgc</dir><file>bad.c</file>
  <line>5</line></frame></stack>
</error>
<error><unique>0x3</unique><tid>1</tid><kind>Leak_DefinitelyLost</kind>
  <xwhat><text>32 bytes in 1 blocks are definitely lost in loss record 2 of 2</text></xwhat>
  <stack><frame><ip>0x48417B4</ip><fn>malloc</fn></frame>
  <frame><ip>0x10917B</ip><fn>gstpipe_core::pipeline::Pipeline::launch::h1&lt;T&gt;</fn>
  <dir>/elsewhere</dir><file>pipeline.rs</file><line>4</line></frame></stack>
</error>
<error><unique>0x4</unique><tid>1</tid><kind>Leak_DefinitelyLost</kind>
  <xwhat><text>8 bytes in 1 blocks are definitely lost in loss record 3 of 3</text></xwhat>
  <stack><frame><ip>0x1</ip><fn>malloc</fn></frame>
  <frame><ip>0x2</ip><fn>tests::faults::a_test</fn><dir>/ws/crates/sinks/tests</dir>
  <file>faults.rs</file><line>7</line></frame></stack>
</error>
<suppcounts><pair><count>19</count><name>a</name></pair>
<pair><count>3</count><name>b</name></pair></suppcounts>
</valgrindoutput>";

    #[test]
    fn reports_are_sorted_into_errors_our_leaks_and_theirs() {
        let report = Report::parse(XML, Path::new("/ws"));
        assert_eq!(
            report.memory_errors,
            [
                "InvalidRead: Invalid read of size 4 at use (bad.c:3)",
                "UninitCondition: Conditional jump or move depends on uninitialised value(s) \
                 at main (bad.c:9)"
            ]
        );
        assert_eq!(
            report.gstpipe_leaks,
            [
                "Leak_DefinitelyLost: 32 bytes in 1 blocks are definitely lost in loss record 2 \
                 of 2 at gstpipe_core::pipeline::Pipeline::launch::h1<T> (pipeline.rs:4)",
                "Leak_DefinitelyLost: 8 bytes in 1 blocks are definitely lost in loss record 3 \
                 of 3 at tests::faults::a_test (faults.rs:7)"
            ]
        );
        assert_eq!(report.other_leaks.len(), 1);
        assert!(
            report.other_leaks[0].ends_with("at other_leak (bad.c:5)"),
            "{:?}",
            report.other_leaks
        );
        assert_eq!(report.suppressed, 22);
        assert!(report.fails());
        assert!(!Report::parse("<valgrindoutput></valgrindoutput>", Path::new("/ws")).fails());
    }
}
