//! `gstpipe batch`: run several pipelines and report the batches formed across them, one slot
//! per pipeline.

use crate::interrupt::EosOnInterrupt;
use crate::output::print_line;
use anyhow::{Context as _, Result};
use gstpipe_batch::{Batch, BatchError, Batcher, Formed, Normalize, QueuePolicy, StreamEnd};
use gstpipe_core::{Pipeline, redact};
use gstpipe_sinks::FrameSink;
use serde_json::{Value, json};
use std::io::Write as _;
use std::time::{Duration, Instant};

/// Options of `gstpipe batch`.
#[derive(Debug, clap::Args)]
pub struct BatchArgs {
    /// A pipeline ending in an appsink, in gst-launch-1.0 syntax; one slot per `-p`, in order.
    /// Give every pipeline the same frame size and format (e.g. `videoscale ! videoconvert !
    /// video/x-raw,format=RGB,width=W,height=H ! appsink`) when converting batches.
    #[arg(short, long = "pipeline", value_name = "PIPELINE", required = true)]
    pub pipelines: Vec<String>,
    /// How long a batch waits, from its first frame, for the streams that have none yet
    /// before it leaves with their slots empty, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 40)]
    pub timeout: u64,
    /// Stop (gracefully) after N batches.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_batches: Option<u64>,
    /// Keep up to K frames of a stream that is ahead for the next batches (default: keep only
    /// its newest frame and count the others as dropped).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    pub queue: Option<u64>,
    /// Make a stream that is K frames ahead wait for the others (backpressure, nothing
    /// dropped; for files).
    #[arg(long, value_name = "K", conflicts_with = "queue",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub block: Option<u64>,
    /// Fail when no stream delivers a frame for SECS seconds.
    #[arg(long, value_name = "SECS", default_value = "10",
          value_parser = crate::launch::parse_seconds)]
    pub stall: Duration,
    /// Also write each batch as model input: `nhwc` (u8) or `nchw` (f32, scaled to 0..1).
    #[arg(long, value_name = "LAYOUT", value_parser = ["nhwc", "nchw"])]
    pub convert: Option<String>,
    /// Print NDJSON: one object per batch, then a summary object.
    #[arg(long)]
    pub json: bool,
}

/// Runs `gstpipe batch`.
pub fn run(args: BatchArgs) -> Result<()> {
    let stall = args.stall;
    let frames = |k: u64| usize::try_from(k).unwrap_or(usize::MAX);
    let ahead = match (args.queue, args.block) {
        (Some(k), _) => QueuePolicy::drop_oldest(frames(k)),
        (None, Some(k)) => QueuePolicy::block(frames(k)),
        (None, None) => QueuePolicy::keep_newest(),
    };
    let mut batcher = Batcher::builder()
        .timeout(Duration::from_millis(args.timeout))
        .stall(stall)
        .ahead(ahead)
        .build();
    let mut pipelines = Vec::with_capacity(args.pipelines.len());
    for (i, description) in args.pipelines.iter().enumerate() {
        let pipeline = Pipeline::launch(description)
            .with_context(|| format!("stream {i}: cannot build the pipeline"))?;
        let sink =
            FrameSink::new(&pipeline).with_context(|| format!("stream {i}: no usable appsink"))?;
        batcher.add(sink)?;
        pipelines.push(pipeline);
    }
    // The first Ctrl-C ends every stream gracefully.
    let watches: Vec<_> = pipelines.iter().map(Pipeline::watch).collect();
    let _interrupt = EosOnInterrupt::with(move || {
        for watch in &watches {
            watch.request_eos();
        }
    });
    let start = Instant::now();
    for (i, pipeline) in pipelines.iter().enumerate() {
        // A stream that cannot start fails alone: its slot stays empty, the first batch
        // reports it (the delivery core hears the error from the pipeline's watch), and the
        // other streams are batched.
        if let Err(e) = crate::start::play(pipeline) {
            tracing::warn!(stream = i, "stream failed to start: {e:#}");
        }
    }

    let mut out = crate::output::stdout();
    let mut nhwc = ndarray::Array4::<u8>::zeros((0, 0, 0, 0));
    let mut nchw = ndarray::Array4::<f32>::zeros((0, 0, 0, 0));
    let normalize = Normalize::unit();
    let mut stopped_early = false;
    loop {
        if args.max_batches == Some(batcher.batches()) {
            stopped_early = true;
            break;
        }
        let batch = match batcher.next_batch() {
            Ok(Some(batch)) => batch,
            Ok(None) => break,
            Err(e @ BatchError::Stalled { .. }) => {
                return Err(anyhow::Error::from(e).context("timed out (--stall)"));
            }
            Err(e) => return Err(e.into()),
        };
        let array = match args.convert.as_deref() {
            Some("nhwc") => {
                batch.nhwc_into(&mut nhwc)?;
                Some(nhwc.shape().to_vec())
            }
            Some(_) => {
                batch.nchw_into(&mut nchw, &normalize)?;
                Some(nchw.shape().to_vec())
            }
            None => None,
        };
        if args.json {
            print_line(&mut out, batch_json(&batch, array.as_deref()))?;
        } else {
            print_line(&mut out, batch_line(&batch, array.as_deref()))?;
        }
    }
    let elapsed = start.elapsed();
    // Release the appsinks, then stop the pipelines still running (end of stream first,
    // bounded). A stream that failed was reported as such: its error is not repeated.
    let streams = batcher.streams();
    let batches = batcher.batches();
    drop(batcher);
    let mut stop_error = None;
    if stopped_early {
        for (i, pipeline) in pipelines.iter().enumerate() {
            let failed = streams[i].end.as_ref().is_some_and(StreamEnd::is_failure);
            if let Err(e) = pipeline.stop()
                && !failed
                && stop_error.is_none()
            {
                stop_error = Some(
                    anyhow::Error::from(e).context(format!("stream {i}: cannot stop the pipeline")),
                );
            }
        }
    }
    let summary = summary_json(&args.pipelines, &streams, batches, elapsed);
    if args.json {
        print_line(&mut out, &summary)?;
    } else {
        for s in &streams {
            let end = s.end.as_ref().map_or("running".to_string(), |e| {
                redact(&e.to_string()).into_owned()
            });
            print_line(
                &mut out,
                format!(
                    "stream {}: {} frames, {} batched, {} dropped, {end}",
                    s.stream, s.received, s.batched, s.dropped
                ),
            )?;
        }
        print_line(
            &mut out,
            format!(
                "{batches} batches in {:.3} s: {:.1} batches/s",
                elapsed.as_secs_f64(),
                summary["batches_per_s"].as_f64().unwrap_or(0.0)
            ),
        )?;
    }
    out.flush().context("cannot write to stdout")?;
    if let Some(e) = stop_error {
        return Err(e);
    }
    if let Some(failed) = streams
        .iter()
        .find(|s| s.end.as_ref().is_some_and(StreamEnd::is_failure))
    {
        let end = failed
            .end
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        anyhow::bail!(
            "stream {} ({}) {end}",
            failed.stream,
            gstpipe_core::echo(&args.pipelines[failed.stream])
        );
    }
    Ok(())
}

/// One batch as JSON: `batch`, `formed`, `filled`, `slots` (per slot `stream`, `filled`, and
/// when filled `frame`, `pts_ns`, `shape`), `ended`, and `array` when converted.
fn batch_json(batch: &Batch, array: Option<&[usize]>) -> Value {
    let slots: Vec<Value> = batch
        .slots
        .iter()
        .enumerate()
        .map(|(i, slot)| match slot {
            None => json!({"stream": batch.streams[i], "filled": false}),
            Some(s) => {
                let mut v = json!({
                    "stream": s.stream,
                    "filled": true,
                    "frame": s.index,
                    "pts_ns": s.pts.map(gst::ClockTime::nseconds),
                });
                let shapes = s.frame.plane_shapes();
                if let [shape] = shapes[..] {
                    v["shape"] = json!(shape);
                } else {
                    v["planes"] = json!(shapes);
                }
                v
            }
        })
        .collect();
    let ended: Vec<Value> = batch
        .ended
        .iter()
        .map(|(stream, end)| end_json(*stream, end))
        .collect();
    let mut v = json!({
        "batch": batch.index,
        "formed": formed(batch.formed),
        "filled": batch.filled_count(),
        "slots": slots,
        "ended": ended,
    });
    if let Some(array) = array {
        v["array"] = json!(array);
    }
    v
}

fn formed(formed: Formed) -> &'static str {
    match formed {
        Formed::Complete => "complete",
        Formed::Timeout => "timeout",
    }
}

/// How a stream ended: `{"stream", "end": "eos" | "error" | "detached", "error"?}`.
fn end_json(stream: usize, end: &StreamEnd) -> Value {
    match end {
        StreamEnd::Failed(e) => {
            json!({"stream": stream, "end": "error", "error": redact(&e.to_string())})
        }
        StreamEnd::Detached => json!({"stream": stream, "end": "detached"}),
        _ => json!({"stream": stream, "end": "eos"}),
    }
}

/// `batch 3  complete  0: frame 3 0:00:00.100000000 | 1: -`.
fn batch_line(batch: &Batch, array: Option<&[usize]>) -> String {
    let slots: Vec<String> = batch
        .slots
        .iter()
        .enumerate()
        .map(|(i, slot)| match slot {
            None => format!("{i}: -"),
            Some(s) => {
                let pts = s.pts.map_or("none".to_string(), |p| p.to_string());
                format!("{i}: frame {} {pts}", s.index)
            }
        })
        .collect();
    let mut line = format!(
        "batch {}  {}  {}",
        batch.index,
        formed(batch.formed),
        slots.join(" | ")
    );
    if let Some(array) = array {
        line.push_str(&format!("  array {array:?}"));
    }
    for (stream, end) in &batch.ended {
        line.push_str(&redact(&format!("  (stream {stream}: {end})")));
    }
    line
}

/// The summary object: `batches`, `seconds`, `batches_per_s`, `streams` (per stream `stream`,
/// `pipeline`, `received`, `batched`, `dropped`, `end` and `error`).
fn summary_json(
    descriptions: &[String],
    streams: &[gstpipe_batch::StreamStatus],
    batches: u64,
    elapsed: Duration,
) -> Value {
    let seconds = elapsed.as_secs_f64();
    let streams: Vec<Value> = streams
        .iter()
        .map(|s| {
            let mut v = json!({
                "stream": s.stream,
                "pipeline": redact(&descriptions[s.stream]),
                "received": s.received,
                "batched": s.batched,
                "dropped": s.dropped,
                "end": Value::Null,
            });
            if let Some(end) = &s.end {
                let e = end_json(s.stream, end);
                v["end"] = e["end"].clone();
                if let Some(error) = e.get("error") {
                    v["error"] = error.clone();
                }
            }
            v
        })
        .collect();
    json!({
        "batches": batches,
        "seconds": seconds,
        "batches_per_s": if seconds > 0.0 { batches as f64 / seconds } else { 0.0 },
        "streams": streams,
    })
}
