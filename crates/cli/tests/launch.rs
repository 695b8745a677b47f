//! `gstpipe launch`: the default pipeline, options that shape the output and the run.

use crate::util::gstpipe;

#[test]
fn default_pipeline_prints_100_rgb_frames_and_a_summary() {
    let run = gstpipe(&["launch"]).success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        101,
        "100 frame lines and a summary: {}",
        run.stdout
    );
    for (i, line) in lines[..100].iter().enumerate() {
        assert!(line.starts_with(&format!("frame {i}  pts ")), "{line}");
        assert!(line.ends_with("  RGB  [480, 640, 3]  u8"), "{line}");
    }
    assert!(lines[0].contains("pts 0:00:00.000000000"), "{}", lines[0]);
    assert!(lines[100].starts_with("100 frames in "), "{}", lines[100]);
    assert!(lines[100].contains(" fps, ") && lines[100].ends_with(" MB/s"));
}

#[test]
fn default_pipeline_as_json() {
    let run = gstpipe(&["launch", "--json"]).success();
    let values = run.json_lines();
    assert_eq!(values.len(), 101);
    for (i, v) in values[..100].iter().enumerate() {
        assert_eq!(v["index"], i);
        assert_eq!(v["format"], "RGB");
        assert_eq!(v["shape"], serde_json::json!([480, 640, 3]));
        assert_eq!(v["dtype"], "u8");
    }
    let summary = &values[100];
    assert_eq!(summary["frames"], 100);
    assert_eq!(summary["bytes"], 100 * 640 * 480 * 3);
}

#[test]
fn quiet_prints_only_the_summary() {
    let run = gstpipe(&[
        "launch",
        "--quiet",
        "-p",
        "videotestsrc num-buffers=7 ! video/x-raw,format=GRAY8,width=32,height=24 ! appsink sync=false",
    ])
    .success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert!(lines[0].starts_with("7 frames in "), "{}", lines[0]);
}

#[test]
fn max_frames_stops_an_endless_source_gracefully() {
    let run = gstpipe(&[
        "launch",
        "--json",
        "--max-frames",
        "5",
        "-p",
        "videotestsrc ! video/x-raw,format=RGB,width=64,height=48 ! appsink sync=false",
    ])
    .success();
    let values = run.json_lines();
    assert_eq!(values.len(), 6, "{}", run.stdout);
    assert_eq!(values[4]["index"], 4);
    assert_eq!(values[5]["frames"], 5);
}

#[test]
fn pipeline_without_appsink_runs_to_eos() {
    let run = gstpipe(&["launch", "-p", "videotestsrc num-buffers=5 ! fakesink"]).success();
    assert!(run.stdout.starts_with("0 frames in "), "{}", run.stdout);
}

#[test]
fn sink_picks_one_of_several_appsinks() {
    let pipeline = "videotestsrc num-buffers=3 ! video/x-raw,format=RGB,width=32,height=24 ! appsink name=a sync=false \
                    videotestsrc num-buffers=3 ! video/x-raw,format=GRAY8,width=16,height=8 ! appsink name=b sync=false";
    let run = gstpipe(&["launch", "--json", "--sink", "b", "-p", pipeline]).success();
    let values = run.json_lines();
    assert_eq!(values.len(), 4, "{}", run.stdout);
    assert_eq!(values[0]["format"], "GRAY8");
    assert_eq!(values[0]["shape"], serde_json::json!([8, 16, 1]));
    // Without --sink the choice is ambiguous: a usage error that names the candidates.
    let run = gstpipe(&["launch", "-p", pipeline]).code(2).no_panic();
    assert!(
        run.stderr.contains('a') && run.stderr.contains('b'),
        "{}",
        run.stderr
    );
}

#[test]
fn copy_reports_the_same_shapes_as_views() {
    let pipeline = "videotestsrc num-buffers=2 ! video/x-raw,format=I420,width=33,height=17 ! appsink sync=false";
    let view = gstpipe(&["launch", "--json", "-p", pipeline]).success();
    let copy = gstpipe(&["launch", "--json", "--copy", "-p", pipeline]).success();
    let (view, copy) = (view.json_lines(), copy.json_lines());
    assert_eq!(view.len(), 3);
    assert_eq!(view[..2], copy[..2]);
    assert_eq!(
        view[0]["planes"],
        serde_json::json!([[17, 33, 1], [9, 17, 1], [9, 17, 1]])
    );
}
