//! `gstpipe launch --reconnect`: read a live pipeline through gstpipe-live's supervisor, which
//! rebuilds it on error, end of stream or stall; frames and health events are printed in the
//! order they happen.

use crate::error::usage;
use crate::launch::{LaunchArgs, inspect};
use crate::output::Stats;
use crate::save::Saver;
use anyhow::{Context as _, Result};
use gstpipe_core::Error as CoreError;
use gstpipe_live::{
    Backoff, DEFAULT_STALL_TIMEOUT, HealthEvent, LiveError, LiveFrame, LiveItem, LiveSource,
};
use serde_json::{Value, json};
use std::io::Write;
use std::time::{Duration, Instant};

/// How many frames wait for printing before the oldest is dropped (latest frame wins).
const CAPACITY: usize = 64;

/// Runs `gstpipe launch --reconnect`.
pub fn run(args: &LaunchArgs) -> Result<()> {
    if args.sync {
        return Err(usage(
            "--sync is not available with --reconnect: write `appsink sync=true` in the pipeline",
        ));
    }
    let mut backoff = Backoff::default().max_attempts(args.max_reconnects);
    if let Some(delay) = args.reconnect_delay {
        backoff = Backoff::new(delay).max_attempts(args.max_reconnects);
    }
    let mut builder = LiveSource::builder(args.pipeline.clone())
        .backoff(backoff)
        .stall_timeout(args.stall.or(args.timeout).unwrap_or(DEFAULT_STALL_TIMEOUT))
        .capacity(CAPACITY);
    if let Some(name) = &args.sink {
        builder = builder.appsink(name);
    }
    let source = std::sync::Arc::new(builder.build().map_err(build_error)?);
    // The first Ctrl-C stops the source: its stream then ends and the loop below with it.
    let _interrupt = {
        let source = std::sync::Arc::clone(&source);
        crate::interrupt::EosOnInterrupt::with(move || source.request_stop())
    };
    let saver = args
        .save
        .clone()
        .map(|dir| Saver::new(dir, args.every))
        .transpose()?;

    let mut out = Printer::stdout(args.json, args.quiet);
    let start = Instant::now();
    let mut stats = Stats::default();
    let mut gave_up = None;
    while let Some(item) = source.next() {
        match item {
            LiveItem::Frame(frame) => {
                let report = inspect(&frame, frame.index(), args.copy)?;
                if let Some(saver) = &saver {
                    saver.save(&frame, frame.index())?;
                }
                out.frame(&frame, report)?;
                stats.frames += 1;
                stats.bytes += frame.info().size() as u64;
                if args.max_frames == Some(stats.frames) {
                    source.stop();
                    break;
                }
            }
            LiveItem::Event(event) => {
                out.event(&event)?;
                if let HealthEvent::GaveUp {
                    attempts,
                    last_error,
                } = event
                {
                    gave_up = Some((attempts, last_error));
                }
            }
            _ => {}
        }
    }
    let live = source.stats();
    out.summary(stats, start.elapsed(), live.dropped, live.reconnects)?;
    match gave_up {
        Some((attempts, error)) => Err(anyhow::Error::new(error).context(format!(
            "gave up after {attempts} reconnection attempt{}",
            if attempts == 1 { "" } else { "s" }
        ))),
        None => Ok(()),
    }
}

/// A description that cannot work at all is a usage error (exit 2), as without `--reconnect`.
fn build_error(e: LiveError) -> anyhow::Error {
    match e.pipeline_error() {
        Some(
            CoreError::Parse { .. }
            | CoreError::MissingElement { .. }
            | CoreError::NoSuchElement { .. }
            | CoreError::WrongElementType { .. },
        ) => usage(e.to_string()),
        Some(CoreError::NoElementOfType { .. }) => usage(format!(
            "{e}: --reconnect reads frames from an appsink (e.g. `... ! appsink`)"
        )),
        Some(CoreError::Ambiguous { .. }) => {
            usage(format!("{e}: choose the appsink to read with --sink NAME"))
        }
        _ => match e {
            LiveError::Config(_) => usage(e.to_string()),
            e => e.into(),
        },
    }
}

/// Frames, events and the summary on stdout, as text or NDJSON.
struct Printer {
    json: bool,
    quiet: bool,
    out: Box<dyn Write>,
}

impl Printer {
    fn stdout(json: bool, quiet: bool) -> Self {
        Printer {
            json,
            quiet,
            out: Box::new(crate::output::stdout()),
        }
    }

    fn line(&mut self, line: &str) -> Result<()> {
        crate::output::print_line(&mut self.out, line)
    }

    /// A line that may quote the description or an error: passwords masked.
    fn redacted(&mut self, line: &str) -> Result<()> {
        self.line(&gstpipe_core::redact(line))
    }

    /// The launch line or object, plus `wall_ns`, `generation`, `after_gap` and
    /// `time_source`.
    fn frame(&mut self, frame: &LiveFrame, report: crate::output::FrameReport) -> Result<()> {
        if self.quiet {
            return Ok(());
        }
        if self.json {
            let mut v = report.to_json();
            let obj = v.as_object_mut().expect("a JSON object");
            obj.insert("wall_ns".into(), json!(frame.wall_ns()));
            obj.insert("time_source".into(), json!(frame.time_source().name()));
            obj.insert("generation".into(), json!(frame.generation()));
            obj.insert("after_gap".into(), json!(frame.after_gap()));
            self.line(&v.to_string())
        } else {
            let line = format!(
                "{}  gen {}  wall {:.6}",
                report.to_line(),
                frame.generation(),
                frame.wall_ns() as f64 / 1e9
            );
            self.line(&line)
        }
    }

    /// NDJSON `{"event": "reconnecting", ...}`, or a `-- ...` line. Events are printed even
    /// with --quiet: they are what --reconnect is about.
    fn event(&mut self, event: &HealthEvent) -> Result<()> {
        if self.json {
            let line = event_json(event).to_string();
            self.redacted(&line)
        } else {
            self.redacted(&format!("-- {event}"))
        }
    }

    /// The launch summary, plus `dropped` and `reconnects`.
    fn summary(
        &mut self,
        stats: Stats,
        elapsed: Duration,
        dropped: u64,
        reconnects: u64,
    ) -> Result<()> {
        if self.json {
            let mut v = stats.to_json(elapsed);
            let obj = v.as_object_mut().expect("a JSON object");
            obj.insert("dropped".into(), json!(dropped));
            obj.insert("reconnects".into(), json!(reconnects));
            self.line(&v.to_string())?;
        } else {
            let line = format!(
                "{}; {dropped} dropped, {reconnects} reconnects",
                stats.to_line(elapsed)
            );
            self.line(&line)?;
        }
        self.out.flush().context("cannot write to stdout")
    }
}

/// A health event as JSON: `event` and its fields (`error` as text; durations in seconds).
fn event_json(event: &HealthEvent) -> Value {
    let mut v = json!({ "event": event.name() });
    let obj = v.as_object_mut().expect("a JSON object");
    match event {
        HealthEvent::Connected { generation } => {
            obj.insert("generation".into(), json!(generation));
        }
        HealthEvent::Disconnected { generation, error } => {
            obj.insert("generation".into(), json!(generation));
            obj.insert("error".into(), json!(error.to_string()));
            if let Some(e) = error.element_error() {
                obj.insert("element".into(), json!(e.element));
            }
        }
        HealthEvent::Reconnecting { attempt, delay } => {
            obj.insert("attempt".into(), json!(attempt));
            obj.insert("delay_s".into(), json!(delay.as_secs_f64()));
        }
        HealthEvent::Reconnected { generation, gap } => {
            obj.insert("generation".into(), json!(generation));
            obj.insert("gap_s".into(), json!(gap.as_secs_f64()));
        }
        HealthEvent::GaveUp {
            attempts,
            last_error,
        } => {
            obj.insert("attempts".into(), json!(attempts));
            obj.insert("error".into(), json!(last_error.to_string()));
        }
        _ => {}
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_as_json() {
        let v = event_json(&HealthEvent::Reconnecting {
            attempt: 2,
            delay: Duration::from_millis(250),
        });
        assert_eq!(
            v,
            json!({"event": "reconnecting", "attempt": 2, "delay_s": 0.25})
        );
        let v = event_json(&HealthEvent::GaveUp {
            attempts: 3,
            last_error: LiveError::Stalled {
                after: Duration::from_secs(1),
            },
        });
        assert_eq!(v["event"], "gave_up");
        assert_eq!(v["attempts"], 3);
        assert!(v["error"].as_str().unwrap().contains("stalled"), "{v}");
    }
}
