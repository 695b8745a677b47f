//! The hand-written gstreamer-rs program `gstpipe launch` is measured against: parse the
//! description, play, pull every sample from its appsink and map it, until end of stream.
//!
//! `raw_pull [--copy] DESCRIPTION`
//!
//! - view (default): `pull_sample` + `map_readable`, the mapped bytes handed to
//!   `std::hint::black_box` (what `gstpipe launch` does in view mode: map and look, no copy);
//! - `--copy`: additionally `to_vec()` of the mapped bytes, a new `Vec` per frame (what
//!   `gstpipe launch --copy` does: one copy of each frame into new memory).
//!
//! The appsink is used exactly as the description wrote it: nothing is set on it. A
//! description without an appsink (e.g. `... ! fakesink sync=false`) is run to end of stream,
//! which gives the ceiling: the same source with no application reading it.
//!
//! Prints `N frames in S s` on stdout. Every wait is bounded (10 s without a frame or without
//! the end is an error).

use gst::prelude::*;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// How long the loop waits for a frame (or the run for its end) before giving up.
const STALL: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let mut copy = false;
    let mut description = None;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--copy" => copy = true,
            _ if description.is_none() && !arg.starts_with("--") => description = Some(arg),
            _ => {
                eprintln!(
                    "raw_pull: unexpected argument {arg:?}\nusage: raw_pull [--copy] DESCRIPTION"
                );
                return ExitCode::from(2);
            }
        }
    }
    let Some(description) = description else {
        eprintln!("usage: raw_pull [--copy] DESCRIPTION");
        return ExitCode::from(2);
    };
    match run(&description, copy) {
        Ok((frames, elapsed)) => {
            println!("{frames} frames in {:.3} s", elapsed.as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("raw_pull: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(description: &str, copy: bool) -> Result<(u64, Duration), Box<dyn std::error::Error>> {
    gst::init()?;
    let pipeline = gst::parse::launch(description)?
        .downcast::<gst::Pipeline>()
        .map_err(|_| "the description is not a pipeline")?;
    let appsink = pipeline
        .iterate_recurse()
        .into_iter()
        .filter_map(Result::ok)
        .find_map(|e| e.downcast::<gst_app::AppSink>().ok());
    let bus = pipeline.bus().ok_or("the pipeline has no bus")?;
    let start = Instant::now();
    pipeline.set_state(gst::State::Playing)?;
    let mut frames = 0u64;
    let result = match appsink {
        Some(appsink) => {
            let mut result = Ok(());
            loop {
                // `pull_sample()` with a bound: the same wait inside the appsink.
                let Some(sample) =
                    appsink.try_pull_sample(gst::ClockTime::from_nseconds(STALL.as_nanos() as u64))
                else {
                    if !appsink.is_eos() {
                        result =
                            Err(bus_error(&bus)
                                .unwrap_or_else(|| format!("no frame for {STALL:?}")));
                    }
                    break;
                };
                let buffer = sample.buffer().ok_or("a sample without a buffer")?;
                let map = buffer.map_readable()?;
                if copy {
                    let owned: Vec<u8> = map.to_vec();
                    std::hint::black_box(&owned);
                } else {
                    std::hint::black_box(map.as_slice());
                }
                frames += 1;
            }
            result
        }
        None => {
            let timeout = gst::ClockTime::from_nseconds(STALL.as_nanos() as u64);
            match bus.timed_pop_filtered(timeout, &[gst::MessageType::Eos, gst::MessageType::Error])
            {
                Some(msg) => match msg.view() {
                    gst::MessageView::Error(e) => Err(format!(
                        "{}: {}",
                        e.src().map(|s| s.name().to_string()).unwrap_or_default(),
                        e.error()
                    )),
                    _ => Ok(()),
                },
                None => Err(format!("no end of stream within {STALL:?}")),
            }
        }
    };
    let elapsed = start.elapsed();
    pipeline.set_state(gst::State::Null)?;
    result?;
    Ok((frames, elapsed))
}

/// The pipeline's error message, if one is on the bus.
fn bus_error(bus: &gst::Bus) -> Option<String> {
    let msg = bus.pop_filtered(&[gst::MessageType::Error])?;
    match msg.view() {
        gst::MessageView::Error(e) => Some(format!(
            "{}: {}",
            e.src().map(|s| s.name().to_string()).unwrap_or_default(),
            e.error()
        )),
        _ => None,
    }
}
