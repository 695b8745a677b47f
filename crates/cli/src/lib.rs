//! `gstpipe`: run GStreamer pipelines and look at their frames as arrays.
//!
//! This library is the `gstpipe` command; its entry points are [`run`] (the command) and
//! [`launch`] (`gstpipe launch` under another name: `python -m gstpipe` runs it, so both print
//! through the same code).
//!
//! ```
//! use std::ffi::OsString;
//!
//! // `gstpipe launch -q -p ...`: prints the summary, returns the exit status.
//! let args = ["gstpipe", "launch", "-q", "-p", "videotestsrc num-buffers=3 ! appsink"];
//! assert_eq!(gstpipe_cli::run(args.map(OsString::from)), 0);
//! // The same command under another name, as `python -m gstpipe` runs it.
//! let args = ["python -m gstpipe", "-q", "-p", "videotestsrc num-buffers=3 ! appsink"];
//! assert_eq!(gstpipe_cli::launch("python -m gstpipe", args.map(OsString::from)), 0);
//! // Usage errors are statuses too, not exits.
//! assert_eq!(gstpipe_cli::run(["gstpipe", "launch", "--timeout", "0"].map(OsString::from)), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ```text
//! gstpipe launch                                  # the default test pipeline, one line per frame
//! gstpipe launch -p "videotestsrc num-buffers=10 ! video/x-raw,format=I420 ! appsink" --json
//! gstpipe launch --save frames/ --every 10 --quiet
//! gstpipe push -p "appsrc ! videoconvert ! jpegenc ! matroskamux ! filesink location=out.mkv" --frames 30
//! gstpipe formats --markdown
//! ```
//!
//! - `launch` runs a pipeline (by default `videotestsrc num-buffers=100 ! capsfilter
//!   caps=video/x-raw,format=RGB,width=640,height=480 ! appsink emit-signals=True`), pulls every
//!   frame from its appsink and prints, per frame, the index, pts, format, array shape (per plane
//!   for planar formats) and sample type, then a summary (frames, seconds, fps, MB/s). `--json`
//!   prints the same as NDJSON; `--save DIR` writes PNGs. A pipeline without appsink runs to end
//!   of stream like `gst-launch-1.0`.
//! - `push` generates frames in the application and pushes them into the pipeline's appsrc.
//! - `formats` prints the table of raw video formats and how gstpipe represents them.
//!
//! Ctrl-C, SIGTERM and SIGHUP end the stream gracefully (end of stream, so files are finalised,
//! like `gst-launch-1.0 -e`; the summary is printed); a second one quits at once (status 130).
//! Output lines are flushed one by one, into a pipe or a file too.
//!
//! Exit status: 0 at end of stream, 1 when the pipeline fails (the element's name and
//! GStreamer's message are printed on stderr), 2 for usage errors, pipeline syntax errors and
//! unknown elements. Logs go to stderr through `tracing`; set `RUST_LOG` (e.g. `RUST_LOG=debug`)
//! to see more.

mod batch;
mod error;
mod formats;
mod frames;
mod info;
mod interrupt;
mod launch;
mod live;
mod output;
mod pattern;
mod progress;
mod push;
mod save;
mod start;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use std::ffi::OsString;

/// What `--help` says after the options.
const AFTER_HELP: &str = "Exit status: 0 at end of stream; 1 when the pipeline fails (the element \
    and GStreamer's message are printed); 2 for usage errors, pipeline syntax errors and \
    unknown elements.\nRUST_LOG (e.g. RUST_LOG=debug) sets what is logged to stderr. Ctrl-C, \
    SIGTERM and SIGHUP end the stream gracefully; a second one quits.";

/// Run GStreamer pipelines and look at their frames as correctly shaped arrays.
#[derive(Debug, Parser)]
#[command(
    name = "gstpipe",
    version,
    about,
    long_about = None,
    after_help = AFTER_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a pipeline and print every frame its appsink receives.
    Launch(launch::LaunchArgs),
    /// Generate frames in the application and push them through the pipeline's appsrc.
    Push(push::PushArgs),
    /// Print the raw video format table: channels, sample type, planes, layout.
    Formats(formats::FormatsArgs),
    /// Describe a video file: exact frame count, fps, duration, size, format, codec.
    Info(info::InfoArgs),
    /// Read frames of a video file by index, exactly; print them or save them as PNG.
    Frames(frames::FramesArgs),
    /// Run several pipelines and form batches across them, one slot per pipeline.
    Batch(batch::BatchArgs),
}

/// Runs the `gstpipe` command with `args` (the program name first, as
/// [`std::env::args_os`] gives them) and returns its exit status: 0 at end of stream, 1 when
/// the pipeline fails, 2 for usage errors (clap's own messages, `--help` and `--version`
/// included, are printed here, not exited from).
pub fn run(args: impl IntoIterator<Item = OsString>) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return clap_exit(&e),
    };
    finish(|| match cli.command {
        Command::Launch(args) => launch::run(args),
        Command::Push(args) => push::run(args),
        Command::Formats(args) => formats::run(args),
        Command::Info(args) => info::run(args),
        Command::Frames(args) => frames::run(args),
        Command::Batch(args) => batch::run(args),
    })
}

/// `gstpipe launch` as the command `prog` (e.g. `python -m gstpipe`): the same options
/// (`args`, the program name first), output, signals and exit status, with `prog` in the
/// help and usage messages.
pub fn launch(prog: &str, args: impl IntoIterator<Item = OsString>) -> u8 {
    let command = Launcher::command().bin_name(prog);
    let parsed = command
        .try_get_matches_from(args)
        .and_then(|matches| Launcher::from_arg_matches(&matches));
    match parsed {
        Ok(launcher) => finish(|| launch::run(launcher.args)),
        Err(e) => clap_exit(&e),
    }
}

/// Run a pipeline and print every frame its appsink receives (as `gstpipe launch`).
#[derive(Debug, Parser)]
#[command(name = "gstpipe", version, long_about = None, after_help = AFTER_HELP)]
struct Launcher {
    #[command(flatten)]
    args: launch::LaunchArgs,
}

/// Prints clap's message (help, version, usage error) and returns its exit status.
fn clap_exit(e: &clap::Error) -> u8 {
    let _ = e.print();
    u8::try_from(e.exit_code()).unwrap_or(2)
}

/// Sets up logging and the signal handlers once, runs `command` and reports its error.
fn finish(command: impl FnOnce() -> anyhow::Result<()>) -> u8 {
    static SET_UP: std::sync::Once = std::sync::Once::new();
    SET_UP.call_once(|| {
        init_tracing();
        interrupt::install();
    });
    match command() {
        Ok(()) => 0,
        Err(err) if error::is_broken_pipe(&err) => 0,
        Err(err) => {
            // Messages may quote a description or a URL: never with its passwords.
            let message = format!("{err:#}");
            eprintln!("gstpipe: error: {}", gstpipe_core::redact(&message));
            error::exit_code(&err)
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default: warnings), passwords masked. Without
/// `RUST_LOG`, the core's error events are left out: the CLI reports that error itself.
fn init_tracing() {
    use std::io::IsTerminal as _;
    use tracing_subscriber::filter::{EnvFilter, filter_fn};
    use tracing_subscriber::prelude::*;

    let (filter, from_env) = match EnvFilter::try_from_default_env() {
        Ok(filter) => (filter, true),
        Err(_) => (EnvFilter::new("warn"), false),
    };
    let not_reported_twice = filter_fn(move |meta| {
        from_env
            || !(*meta.level() == tracing::Level::ERROR
                && meta.target().starts_with("gstpipe_core"))
    });
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(|| RedactingStderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(filter)
        .with_filter(not_reported_twice);
    // Another subscriber may be in place (a host process): then that one logs.
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// stderr for log lines, with the passwords of URLs and secret properties masked
/// ([`gstpipe_core::redact`]): the formatter writes each event in one `write_all`, so each
/// call holds whole lines.
struct RedactingStderr;

impl std::io::Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr()
            .lock()
            .write_all(gstpipe_core::redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
