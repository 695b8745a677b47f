//! Ctrl-C ends the stream gracefully: the summary is printed and files are finalised.

use crate::util::{LIMIT, count_buffers, finish, interrupt, scratch, spawn};
use std::io::{BufRead, BufReader};
use std::time::Duration;

#[cfg(unix)]
#[test]
fn ctrl_c_stops_launch_at_end_of_stream_with_a_summary() {
    let args = [
        "launch",
        "--json",
        "-p",
        "videotestsrc is-live=true ! video/x-raw,format=GRAY8,width=16,height=8,framerate=100/1 ! appsink",
    ];
    let mut child = spawn(&args);
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut seen = String::new();
    for _ in 0..3 {
        out.read_line(&mut seen).expect("a frame line");
    }
    interrupt(&child);
    let run = finish(child, out, seen, &args, LIMIT).success();
    let values = run.json_lines();
    let summary = values.last().expect("a summary");
    assert!(summary["frames"].as_u64().unwrap() >= 3, "{summary}");
    assert_eq!(
        summary["frames"].as_u64().unwrap() as usize,
        values.len() - 1
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_finishes_the_pushed_file() {
    let file = scratch("push-interrupt").join("out.mkv");
    let pipeline = format!(
        "appsrc ! videoconvert ! video/x-raw,format=I420 ! matroskamux ! filesink location={}",
        file.display()
    );
    let args = [
        "push", "-p", &pipeline, "--frames", "0", "--width", "32", "--height", "24",
    ];
    let mut child = spawn(&args);
    let out = child.stdout.take().expect("piped stdout");
    std::thread::sleep(Duration::from_millis(500));
    interrupt(&child);
    let run = finish(child, out, String::new(), &args, LIMIT).success();
    let pushed: u64 = run
        .stdout
        .strip_prefix("pushed ")
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {:?}", run.stdout));
    assert!(pushed > 0);
    let read_back = count_buffers(
        &format!(
            "filesrc location={} ! matroskademux ! fakesink name=count",
            file.display()
        ),
        "count",
    );
    assert_eq!(read_back, pushed);
}
