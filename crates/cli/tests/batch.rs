//! `batch`: one slot per `-p`, one JSON object per batch, a summary, ends and errors.

use crate::util::gstpipe;
use serde_json::Value;

const SMALL: &str = "video/x-raw,format=RGB,width=32,height=24,framerate=30/1";

/// The batch objects and the summary of a `--json` run.
fn split(values: &[Value]) -> (&[Value], &Value) {
    let (summary, batches) = values.split_last().expect("at least a summary");
    assert!(summary.get("slots").is_none(), "{summary}");
    assert!(batches.iter().all(|b| b.get("slots").is_some()));
    (batches, summary)
}

/// Each stream's frame indices and pts, in batch order.
fn frames_per_stream(batches: &[Value], streams: usize) -> Vec<Vec<(u64, u64)>> {
    let mut frames = vec![Vec::new(); streams];
    for (i, batch) in batches.iter().enumerate() {
        assert_eq!(batch["batch"], i, "{batch}");
        let slots = batch["slots"].as_array().unwrap();
        assert_eq!(slots.len(), streams, "{batch}");
        let mut filled = 0;
        for (n, slot) in slots.iter().enumerate() {
            assert_eq!(slot["stream"], n, "{batch}");
            if slot["filled"] == true {
                frames[n].push((
                    slot["frame"].as_u64().unwrap(),
                    slot["pts_ns"].as_u64().unwrap(),
                ));
                filled += 1;
            } else {
                assert!(slot.get("frame").is_none(), "{batch}");
            }
        }
        assert_eq!(batch["filled"], filled, "{batch}");
    }
    frames
}

#[test]
fn every_frame_of_every_stream_in_order_with_nchw_arrays() {
    let a = format!("videotestsrc num-buffers=6 ! {SMALL} ! appsink");
    let b = format!("videotestsrc num-buffers=2 pattern=ball ! {SMALL} ! appsink");
    let run = gstpipe(&[
        "batch",
        "-p",
        &a,
        "-p",
        &b,
        "--queue",
        "16",
        "--convert",
        "nchw",
        "--json",
    ])
    .success()
    .no_panic();
    let values = run.json_lines();
    let (batches, summary) = split(&values);
    let frames = frames_per_stream(batches, 2);
    for (n, count) in [(0, 6u64), (1, 2)] {
        // Queued: every frame once, in order, with GStreamer's 30 fps timestamps.
        let expected: Vec<(u64, u64)> = (0..count).map(|i| (i, i * 1_000_000_000 / 30)).collect();
        assert_eq!(frames[n], expected, "stream {n}");
    }
    for batch in batches {
        assert_eq!(batch["array"], serde_json::json!([2, 3, 24, 32]), "{batch}");
        for slot in batch["slots"].as_array().unwrap() {
            if slot["filled"] == true {
                assert_eq!(slot["shape"], serde_json::json!([24, 32, 3]), "{slot}");
            }
        }
    }
    // Stream 1's end is reported once.
    let ends: Vec<&Value> = batches
        .iter()
        .flat_map(|b| b["ended"].as_array().unwrap())
        .filter(|e| e["stream"] == 1)
        .collect();
    assert_eq!(ends.len(), 1, "{ends:?}");
    assert_eq!(ends[0]["end"], "eos");
    assert_eq!(summary["batches"], batches.len());
    let streams = summary["streams"].as_array().unwrap();
    for (s, count) in streams.iter().zip([6, 2]) {
        assert_eq!(s["received"], count, "{s}");
        assert_eq!(s["batched"], count, "{s}");
        assert_eq!(s["dropped"], 0, "{s}");
        assert_eq!(s["end"], "eos", "{s}");
    }
    assert_eq!(streams[0]["pipeline"], a.as_str());
}

#[test]
fn a_failing_stream_leaves_its_slot_empty_and_the_run_fails() {
    let a = format!("videotestsrc is-live=true num-buffers=12 ! {SMALL} ! appsink");
    let b = format!(
        "videotestsrc is-live=true num-buffers=12 ! {SMALL} ! identity name=boom error-after=3 ! appsink"
    );
    let run = gstpipe(&["batch", "-p", &a, "-p", &b, "--queue", "32", "--json"])
        .code(1)
        .no_panic();
    assert!(
        run.stderr.contains("stream 1") && run.stderr.contains("boom"),
        "{}",
        run.stderr
    );
    let values = run.json_lines();
    let (batches, summary) = split(&values);
    let frames = frames_per_stream(batches, 2);
    assert_eq!(frames[0].len(), 12, "the healthy stream went on to its end");
    assert_eq!(frames[1].len(), 2, "identity error-after=3 passes 2 frames");
    let streams = summary["streams"].as_array().unwrap();
    assert_eq!(streams[1]["end"], "error");
    assert!(streams[1]["error"].as_str().unwrap().contains("boom"));
    assert_eq!(streams[0]["end"], "eos");
}

/// A stream that cannot even start (a missing file) gets an empty slot and an `ended` entry;
/// the good stream is batched to its end; the run then fails naming the bad stream.
#[test]
fn a_stream_failing_at_start_leaves_its_slot_empty_and_the_others_run() {
    let bad = "filesrc location=/nonexistent/cam.mp4 ! decodebin ! videoconvert ! appsink";
    let good = format!("videotestsrc num-buffers=8 ! {SMALL} ! appsink");
    let run = gstpipe(&["batch", "-p", bad, "-p", &good, "--queue", "16", "--json"])
        .code(1)
        .no_panic();
    assert!(run.stderr.contains("stream 0"), "{}", run.stderr);
    let values = run.json_lines();
    let (batches, summary) = split(&values);
    let frames = frames_per_stream(batches, 2);
    assert_eq!(frames[1].len(), 8, "the good stream is batched to its end");
    assert!(frames[0].is_empty());
    let reported = batches
        .iter()
        .flat_map(|b| b["ended"].as_array().unwrap().iter())
        .filter(|e| e["stream"] == 0)
        .count();
    assert_eq!(reported, 1, "one batch reports the failure");
    let streams = summary["streams"].as_array().unwrap();
    assert_eq!(streams[0]["end"], "error");
    assert!(
        streams[0]["error"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/cam.mp4")
    );
}

#[test]
fn max_batches_with_a_silent_stream() {
    let live = format!("videotestsrc is-live=true ! {SMALL} ! appsink");
    let silent = "udpsrc address=127.0.0.1 port=0 ! appsink";
    let run = gstpipe(&[
        "batch",
        "-p",
        &live,
        "-p",
        silent,
        "--timeout",
        "30",
        "--max-batches",
        "4",
        "--json",
    ])
    .success()
    .no_panic();
    let values = run.json_lines();
    let (batches, summary) = split(&values);
    assert_eq!(batches.len(), 4);
    let frames = frames_per_stream(batches, 2);
    assert_eq!(frames[0].len(), 4);
    assert!(frames[1].is_empty());
    for batch in batches {
        assert_eq!(batch["formed"], "timeout", "{batch}");
    }
    assert_eq!(summary["batches"], 4);
    assert_eq!(summary["streams"][1]["received"], 0);
}

#[test]
fn different_sizes_are_refused_when_converting() {
    let a = format!("videotestsrc num-buffers=2 ! {SMALL} ! appsink");
    let b = "videotestsrc num-buffers=2 ! video/x-raw,format=RGB,width=16,height=12 ! appsink";
    let run = gstpipe(&[
        "batch",
        "-p",
        &a,
        "-p",
        b,
        "--queue",
        "4",
        "--convert",
        "nhwc",
    ])
    .code(1)
    .no_panic();
    assert!(
        run.stderr.contains("[12, 16, 3]")
            && run.stderr.contains("[24, 32, 3]")
            && run.stderr.contains("videoscale"),
        "{}",
        run.stderr
    );
}

#[test]
fn usage_errors_exit_2() {
    gstpipe(&["batch"]).code(2).no_panic();
    let run = gstpipe(&["batch", "-p", "videotestsrc num-buffers=1 ! fakesink"])
        .code(2)
        .no_panic();
    assert!(run.stderr.contains("stream 0"), "{}", run.stderr);
    gstpipe(&["batch", "-p", "nosuchelement ! appsink"])
        .code(2)
        .no_panic();
}

/// Ctrl-C ends every stream gracefully: the batches end and the summary says `eos` for each.
#[cfg(unix)]
#[test]
fn ctrl_c_ends_every_stream_with_a_summary() {
    use crate::util::{LIMIT, finish, interrupt, spawn};
    use std::io::{BufRead, BufReader};

    let a = "videotestsrc is-live=true ! video/x-raw,format=GRAY8,width=16,height=8,framerate=50/1 ! appsink";
    let b = "videotestsrc is-live=true ! video/x-raw,format=GRAY8,width=16,height=8,framerate=20/1 ! appsink";
    let args = ["batch", "--json", "-p", a, "-p", b];
    let mut child = spawn(&args);
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut seen = String::new();
    for _ in 0..3 {
        out.read_line(&mut seen).expect("a batch line");
    }
    interrupt(&child);
    let run = finish(child, out, seen, &args, LIMIT).success().no_panic();
    let values = run.json_lines();
    let (batches, summary) = split(&values);
    assert!(batches.len() >= 3);
    for s in summary["streams"].as_array().unwrap() {
        assert_eq!(s["end"], "eos", "{s}");
        assert_eq!(
            s["received"],
            s["batched"].as_u64().unwrap() + s["dropped"].as_u64().unwrap()
        );
    }
}

#[test]
fn block_waits_for_the_slow_stream_and_drops_nothing() {
    let a = format!("videotestsrc num-buffers=8 ! {SMALL} ! appsink");
    let b = format!("videotestsrc num-buffers=5 pattern=ball ! {SMALL} ! appsink");
    let run = gstpipe(&["batch", "-p", &a, "-p", &b, "--block", "1", "--json"])
        .success()
        .no_panic();
    let values = run.json_lines();
    let (batches, summary) = split(&values);
    let frames = frames_per_stream(batches, 2);
    assert_eq!(
        frames[0].iter().map(|f| f.0).collect::<Vec<_>>(),
        (0..8).collect::<Vec<_>>()
    );
    assert_eq!(
        frames[1].iter().map(|f| f.0).collect::<Vec<_>>(),
        (0..5).collect::<Vec<_>>()
    );
    for s in summary["streams"].as_array().unwrap() {
        assert_eq!(s["dropped"], 0, "{s}");
    }
    gstpipe(&["batch", "-p", &a, "--queue", "2", "--block", "2"]).code(2);
}
