//! `pipeline_throughput`: frames per second through `videotestsrc ! appsink` with the gstpipe
//! iterator (view mode and copy mode), against a hand-written `pull_sample` + `map_readable`
//! loop doing the same work, and the same pipeline into `fakesink` (the ceiling).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gst::prelude::*;
use gstpipe_benches::{RESOLUTIONS, Resolution, touch_rows_raw, touch_rows_view};
use gstpipe_core::Pipeline;
use gstpipe_sinks::FrameSink;
use std::hint::black_box;
use std::time::Duration;

/// Frames per pipeline run: enough to amortise start-up, few enough for 2 cores.
fn frames(res: Resolution) -> u64 {
    match res.width {
        w if w <= 640 => 300,
        w if w <= 1920 => 60,
        _ => 20,
    }
}

fn description(res: Resolution, n: u64, sink: &str) -> String {
    format!(
        "videotestsrc pattern=black num-buffers={n} ! video/x-raw,format=RGB,width={},height={},framerate=1000/1 ! {sink}",
        res.width, res.height
    )
}

const LIMIT: Duration = Duration::from_secs(60);

fn run_fakesink(res: Resolution, n: u64) {
    let pipeline = Pipeline::launch(&description(res, n, "fakesink sync=false")).unwrap();
    pipeline.play().unwrap();
    pipeline.wait_timeout(LIMIT).unwrap();
}

/// The hand-written gstreamer-rs loop: pull, map, read (or copy), until EOS.
fn run_raw(res: Resolution, n: u64, copy: bool) -> u64 {
    // The same appsink settings FrameSink applies by default (its queue of
    // `DEFAULT_MAX_BUFFERS`), so the two variants differ only in the code that pulls and maps.
    let appsink = format!(
        "appsink name=sink sync=false enable-last-sample=false max-buffers={} drop=false",
        gstpipe_sinks::DEFAULT_MAX_BUFFERS
    );
    let pipeline = gst::parse::launch(&description(res, n, &appsink))
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let sink = pipeline
        .by_name("sink")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut count = 0;
    let mut acc = 0u64;
    while let Ok(sample) = sink.pull_sample() {
        let info = gst_video::VideoInfo::from_caps(sample.caps().unwrap()).unwrap();
        let buffer = sample.buffer().unwrap();
        let map = buffer.map_readable().unwrap();
        if copy {
            let owned = map.to_vec();
            acc = acc.wrapping_add(u64::from(owned[owned.len() / 2]));
        } else {
            acc = acc.wrapping_add(touch_rows_raw(
                &map,
                info.stride()[0] as usize,
                res.height as usize,
            ));
        }
        count += 1;
    }
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(count, n);
    acc
}

fn run_gstpipe(res: Resolution, n: u64, copy: bool) -> u64 {
    let pipeline = Pipeline::launch(&description(res, n, "appsink name=sink")).unwrap();
    let sink = FrameSink::new(&pipeline).unwrap();
    pipeline.play().unwrap();
    let mut count = 0;
    let mut acc = 0u64;
    for frame in sink.iter() {
        let frame = frame.unwrap();
        if copy {
            let owned = frame.to_array::<u8>().unwrap();
            acc = acc.wrapping_add(u64::from(owned[[owned.dim().0 / 2, 0, 0]]));
        } else {
            acc = acc.wrapping_add(touch_rows_view(&frame.view::<u8>().unwrap()));
        }
        count += 1;
    }
    assert_eq!(count, n);
    acc
}

fn throughput(c: &mut Criterion) {
    gstpipe_benches::init();
    for res in RESOLUTIONS {
        let n = frames(res);
        let mut group = c.benchmark_group(format!("pipeline_throughput/RGB/{}", res.label));
        group.sample_size(10);
        group.throughput(Throughput::Elements(n));
        group.bench_function(BenchmarkId::new("fakesink", res.label), |b| {
            b.iter(|| run_fakesink(res, n))
        });
        group.bench_function(BenchmarkId::new("raw_view", res.label), |b| {
            b.iter(|| black_box(run_raw(res, n, false)))
        });
        group.bench_function(BenchmarkId::new("gstpipe_view", res.label), |b| {
            b.iter(|| black_box(run_gstpipe(res, n, false)))
        });
        group.bench_function(BenchmarkId::new("raw_copy", res.label), |b| {
            b.iter(|| black_box(run_raw(res, n, true)))
        });
        group.bench_function(BenchmarkId::new("gstpipe_copy", res.label), |b| {
            b.iter(|| black_box(run_gstpipe(res, n, true)))
        });
        group.finish();
    }
}

criterion_group!(benches, throughput);
criterion_main!(benches);
