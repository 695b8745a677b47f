//! Detections on frames: through `queue`, `tee` and `videoconvert`, read and written by plain
//! gstreamer-rs `VideoRegionOfInterestMeta` code in both directions, and no leak over many
//! buffers.

use crate::util::bounded;
use gst::prelude::*;
use gst_video::{VideoFormat, VideoInfo, VideoRegionOfInterestMeta};
use gstpipe_core::{Pipeline, gst};
use gstpipe_sinks::{Detection, FrameSink, FrameSource};
use ndarray::Array3;
use std::sync::{Arc, Mutex};

fn info(format: VideoFormat, w: u32, h: u32) -> VideoInfo {
    VideoInfo::builder(format, w, h)
        .fps(gst::Fraction::new(30, 1))
        .build()
        .unwrap()
}

/// Frame `i`'s detections: `i % 5` of them (frame 0 has none), with non-ASCII class names,
/// with and without track ids and confidences.
fn detections_for(i: u64) -> Vec<Detection> {
    let all = [
        Detection::new("piéton", (1, 2, 10, 20), 0.875).with_track_id(i),
        Detection::new("行人", (30, 5, 12, 40), 0.5),
        Detection::new("🚗 voiture", (0, 0, 64, 48), 0.25).with_track_id(u64::MAX - i),
        Detection {
            x: 63,
            y: 47,
            w: 1,
            h: 1,
            confidence: None,
            class_name: "Ωmega \"quoted\" ; a=b, c".into(),
            track_id: Some(0),
        },
    ];
    all.into_iter().take((i % 5) as usize).collect()
}

/// Every frame's (format, detections) from one appsink, on its own thread.
fn read_all(sink: FrameSink) -> std::thread::JoinHandle<Vec<(VideoFormat, Vec<Detection>)>> {
    std::thread::spawn(move || {
        sink.iter()
            .map(|f| {
                let f = f.unwrap();
                (f.format(), f.detections())
            })
            .collect()
    })
}

#[test]
fn detections_survive_queue_tee_and_videoconvert() {
    bounded(60, || {
        let pipeline = Pipeline::launch(
            "appsrc ! queue ! tee name=t \
               ! queue ! videoconvert ! video/x-raw,format=BGRx,width=64,height=48 ! appsink name=a \
             t. ! queue ! appsink name=b",
        )
        .unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::Rgb, 64, 48)).unwrap();
        let sink_a = FrameSink::builder(&pipeline).name("a").build().unwrap();
        // What plain gstreamer-rs code sees after videoconvert.
        let plain_a = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&plain_a);
        let pad = sink_a.appsink().static_pad("sink").unwrap();
        pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(buffer) = info.buffer() {
                seen.lock().unwrap().push(plain_read(buffer));
            }
            gst::PadProbeReturn::Ok
        });
        let a = read_all(sink_a);
        let b = read_all(FrameSink::builder(&pipeline).name("b").build().unwrap());
        pipeline.play().unwrap();
        const N: u64 = 20;
        for i in 0..N {
            let pixels = Array3::<u8>::from_elem((48, 64, 3), i as u8);
            let detections = detections_for(i);
            if i % 2 == 0 {
                source.frame(pixels.view()).detections(&detections).push()
            } else {
                source.frame(pixels).detections(&detections).push()
            }
            .unwrap();
        }
        source.finish().unwrap();
        let (a, b) = (a.join().unwrap(), b.join().unwrap());
        assert_eq!(a.len(), N as usize);
        assert_eq!(b.len(), N as usize);
        for (i, ((fa, da), (fb, db))) in a.into_iter().zip(b).enumerate() {
            assert_eq!(fa, VideoFormat::Bgrx, "frame {i}: videoconvert ran");
            assert_eq!(fb, VideoFormat::Rgb, "frame {i}");
            let expected = detections_for(i as u64);
            assert_eq!(
                da, expected,
                "frame {i} after queue, tee, queue, videoconvert"
            );
            assert_eq!(db, expected, "frame {i} after queue, tee, queue");
        }
        // The standard regions themselves (type, box, id) went through videoconvert; GStreamer
        // 1.22 drops their parameter structures there, which gstpipe recovered above.
        let plain_a = plain_a.lock().unwrap();
        assert_eq!(plain_a.len(), N as usize);
        for (i, regions) in plain_a.iter().enumerate() {
            let seen: Vec<_> = regions
                .iter()
                .map(|r| (r.roi_type.as_str(), r.rect, r.id))
                .collect();
            let expected = detections_for(i as u64);
            let expected: Vec<_> = expected
                .iter()
                .enumerate()
                .map(|(id, d)| (d.class_name.as_str(), (d.x, d.y, d.w, d.h), id as i32))
                .collect();
            assert_eq!(seen, expected, "frame {i}: regions after videoconvert");
        }
    });
}

#[test]
fn videoscale_scales_the_boxes_and_keeps_the_rest() {
    bounded(30, || {
        let pipeline =
            Pipeline::launch("appsrc ! videoscale ! video/x-raw,width=32,height=24 ! appsink")
                .unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::Rgb, 64, 48)).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let detections = detections_for(4);
        source
            .frame(Array3::<u8>::zeros((48, 64, 3)).view())
            .detections(&detections)
            .push()
            .unwrap();
        let frame = sink.pull().unwrap().unwrap();
        assert_eq!((frame.width(), frame.height()), (32, 24));
        // GStreamer scales the boxes (integer division); class, confidence and track id stay.
        let halved: Vec<Detection> = detections
            .into_iter()
            .map(|d| Detection {
                x: d.x / 2,
                y: d.y / 2,
                w: d.w / 2,
                h: d.h / 2,
                ..d
            })
            .collect();
        assert_eq!(frame.detections(), halved);
        pipeline.stop().unwrap();
    });
}

/// What plain gstreamer-rs code sees of one region.
#[derive(Debug, PartialEq)]
struct PlainRoi {
    roi_type: String,
    rect: (u32, u32, u32, u32),
    id: i32,
    params: Vec<String>,
    class_name: Option<String>,
    confidence: Option<f64>,
    track_id: Option<u64>,
}

fn plain_read(buffer: &gst::BufferRef) -> Vec<PlainRoi> {
    buffer
        .iter_meta::<VideoRegionOfInterestMeta>()
        .map(|meta| {
            let params = meta.param("detection");
            PlainRoi {
                roi_type: meta.roi_type().to_string(),
                rect: meta.rect(),
                id: meta.id(),
                params: meta.params().map(|s| s.name().to_string()).collect(),
                class_name: params.and_then(|p| p.get::<String>("class-name").ok()),
                confidence: params.and_then(|p| p.get::<f64>("confidence").ok()),
                track_id: params.and_then(|p| p.get::<u64>("track-id").ok()),
            }
        })
        .collect()
}

#[test]
fn plain_gstreamer_rs_reads_what_gstpipe_writes() {
    bounded(30, || {
        let pipeline = Pipeline::launch("appsrc ! queue ! appsink").unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::Gray8, 64, 48)).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        // A probe where the appsink receives buffers: plain gstreamer-rs, no gstpipe code.
        let seen = Arc::new(Mutex::new(Vec::new()));
        let pad = sink.appsink().static_pad("sink").unwrap();
        let probe_seen = Arc::clone(&seen);
        pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(buffer) = info.buffer() {
                probe_seen.lock().unwrap().push(plain_read(buffer));
            }
            gst::PadProbeReturn::Ok
        });
        let reader = read_all(sink);
        pipeline.play().unwrap();
        for i in 0..5 {
            let pixels = Array3::<u8>::zeros((48, 64, 1));
            let found = detections_for(i);
            source.frame(pixels).detections(&found).push().unwrap();
        }
        source.finish().unwrap();
        assert_eq!(reader.join().unwrap().len(), 5);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 5);
        for (i, regions) in seen.iter().enumerate() {
            let expected: Vec<PlainRoi> = detections_for(i as u64)
                .into_iter()
                .enumerate()
                .map(|(id, d)| PlainRoi {
                    // The ROI type is the class name, for elements that read only the type.
                    roi_type: d.class_name.clone(),
                    rect: (d.x, d.y, d.w, d.h),
                    id: id as i32,
                    params: vec!["detection".into()],
                    class_name: Some(d.class_name),
                    confidence: d.confidence,
                    track_id: d.track_id,
                })
                .collect();
            assert_eq!(regions, &expected, "frame {i}");
        }
    });
}

#[test]
fn gstpipe_reads_what_plain_gstreamer_rs_writes() {
    bounded(30, || {
        let pipeline = Pipeline::launch("appsrc name=src ! queue ! appsink").unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::Rgba, 32, 32)).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        // Another element's writes, as plain gstreamer-rs code on the appsrc's src pad.
        let pad = source.appsrc().static_pad("src").unwrap();
        pad.add_probe(gst::PadProbeType::BUFFER, |_, info| {
            if let Some(buffer) = info.buffer_mut() {
                let i = buffer.offset();
                let buffer = buffer.make_mut();
                // A detector that writes gstpipe's parameter structure.
                let mut roi = VideoRegionOfInterestMeta::add(buffer, "行人", (1, 2, 3, 4));
                roi.add_param(
                    gst::Structure::builder("detection")
                        .field("class-name", "行人 😀")
                        .field("confidence", 0.625f64)
                        .field("track-id", i + 100)
                        .build(),
                );
                // A face detector's region, with no parameters at all.
                VideoRegionOfInterestMeta::add(buffer, "visage-é", (5, 6, 7, 8));
                // An encoder hint: a structure of another name only.
                let mut roi = VideoRegionOfInterestMeta::add(buffer, "roi/encoder", (0, 0, 9, 9));
                roi.add_param(
                    gst::Structure::builder("roi/x264enc")
                        .field("delta-qp", -10i32)
                        .build(),
                );
            }
            gst::PadProbeReturn::Ok
        });
        pipeline.play().unwrap();
        for i in 0..3u64 {
            source.push(Array3::<u8>::zeros((32, 32, 4))).unwrap();
            let frame = sink.pull().unwrap().unwrap();
            let foreign = |class_name: &str, (x, y, w, h)| Detection {
                x,
                y,
                w,
                h,
                confidence: None,
                class_name: class_name.into(),
                track_id: None,
            };
            assert_eq!(
                frame.detections(),
                [
                    Detection::new("行人 😀", (1, 2, 3, 4), 0.625).with_track_id(i + 100),
                    foreign("visage-é", (5, 6, 7, 8)),
                    foreign("roi/encoder", (0, 0, 9, 9)),
                ],
                "frame {i}"
            );
        }
        pipeline.stop().unwrap();
    });
}

#[test]
fn detections_can_be_edited_on_a_received_frame() {
    bounded(30, || {
        let pipeline = Pipeline::launch("appsrc ! appsink").unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::Gray8, 64, 48)).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let found = detections_for(4);
        source
            .frame(Array3::<u8>::zeros((48, 64, 1)))
            .detections(&found)
            .push()
            .unwrap();
        let frame = sink.pull().unwrap().unwrap();
        // A frame's buffer is shared with the pipeline: take it (make_mut copies the buffer's
        // metadata and references its memory, no pixel copy) to edit its detections.
        let mut buffer = frame.into_buffer();
        let removed = gstpipe_frame::remove_detections(buffer.make_mut(), |d| {
            d.confidence.is_none_or(|c| c < 0.5)
        });
        assert_eq!(removed, 2);
        let kept: Vec<String> = gstpipe_frame::detections(&buffer)
            .into_iter()
            .map(|d| d.class_name)
            .collect();
        assert_eq!(kept, ["piéton", "行人"]);
        pipeline.stop().unwrap();
    });
}

/// Resident memory of this process in bytes (`VmRSS` in `/proc/self/status`).
#[cfg(target_os = "linux")]
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kb * 1024
}

/// How much resident memory may grow between the first 10,000 buffers and the end.
const LEAK_MARGIN: u64 = 8 << 20;

/// Runs [`leak_run`] in a child process of this test binary (this same test, selected with
/// `--exact` and marked by `GSTPIPE_LEAK_CHILD`), so that the other tests running in
/// parallel do not move the resident memory it measures.
#[cfg(target_os = "linux")]
#[test]
fn no_leak_over_many_buffers() {
    if std::env::var_os("GSTPIPE_LEAK_CHILD").is_some() {
        return leak_run();
    }
    let exe = std::env::current_exe().unwrap();
    let out = bounded(300, move || {
        std::process::Command::new(exe)
            .args([
                "detections::no_leak_over_many_buffers",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("GSTPIPE_LEAK_CHILD", "1")
            .output()
            .unwrap()
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "leak run failed: {}\n{stdout}\n{stderr}",
        out.status
    );
    let figures = stdout
        .lines()
        .find_map(|l| l.find("detections leak run:").map(|at| &l[at..]))
        .unwrap_or_else(|| panic!("no figures from the leak run:\n{stdout}\n{stderr}"));
    println!("{figures}");
}

/// Pushes `GSTPIPE_DETECTION_BUFFERS` (default 100,000) 16x16 GRAY8 buffers with 3 detections
/// each through `appsrc ! queue ! appsink`, reads every frame's detections and drops them, and
/// checks that resident memory at the end is within [`LEAK_MARGIN`] of what it was after the
/// first 10,000. Run by [`no_leak_over_many_buffers`] in its own process.
#[cfg(target_os = "linux")]
fn leak_run() {
    let total: u64 = std::env::var("GSTPIPE_DETECTION_BUFFERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    const WARMUP: u64 = 10_000;
    assert!(
        total > WARMUP,
        "GSTPIPE_DETECTION_BUFFERS must exceed {WARMUP}"
    );
    bounded(280, move || {
        let started = std::time::Instant::now();
        let pipeline = Pipeline::launch("appsrc ! queue ! appsink").unwrap();
        let gray = VideoInfo::builder(VideoFormat::Gray8, 16, 16)
            .fps(gst::Fraction::new(1000, 1))
            .build()
            .unwrap();
        let source = FrameSource::new(&pipeline, gray).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let reader = std::thread::spawn(move || {
            let mut frames = 0u64;
            for frame in sink.iter() {
                let frame = frame.unwrap();
                let detections = frame.detections();
                assert_eq!(detections.len(), 3);
                assert_eq!(detections[1].class_name, "行人");
                assert_eq!(detections[0].track_id, Some(frames));
                frames += 1;
            }
            frames
        });
        let mut after_warmup = 0;
        let mut peak = 0;
        for i in 0..total {
            let detections = [
                Detection::new("piéton", (1, 2, 3, 4), 0.5).with_track_id(i),
                Detection::new("行人", (5, 6, 7, 8), 0.25),
                Detection::new("🚲", (0, 0, 16, 16), 1.0).with_track_id(i * 7),
            ];
            source
                .frame(Array3::from_elem((16, 16, 1), i as u8))
                .detections(&detections)
                .push()
                .unwrap();
            if i + 1 == WARMUP {
                after_warmup = rss_bytes();
            }
            if (i + 1).is_multiple_of(10_000) {
                peak = peak.max(rss_bytes());
            }
        }
        source.finish().unwrap();
        assert_eq!(reader.join().unwrap(), total);
        let end = rss_bytes();
        let growth = end.saturating_sub(after_warmup);
        println!(
            "detections leak run: {total} buffers x 3 detections in {:.1} s; RSS after {WARMUP}: \
             {:.1} MB, at the end: {:.1} MB (growth {:.2} MB, peak {:.1} MB, margin {} MB)",
            started.elapsed().as_secs_f64(),
            after_warmup as f64 / 1e6,
            end as f64 / 1e6,
            growth as f64 / 1e6,
            peak as f64 / 1e6,
            LEAK_MARGIN >> 20,
        );
        assert!(
            growth <= LEAK_MARGIN,
            "resident memory grew by {growth} bytes over {} buffers (margin {LEAK_MARGIN})",
            total - WARMUP
        );
    });
}
