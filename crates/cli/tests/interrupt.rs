//! Ctrl-C ends the stream gracefully: the summary is printed and files are finalised.

use crate::util::{LIMIT, count_buffers, finish, interrupt, scratch, spawn};
use std::io::{BufRead, BufReader, Read};
use std::process::Command;
use std::sync::mpsc;

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
    let dir = scratch("push-interrupt");
    let file = dir.join("out.mkv");
    // A second branch writes the raw frames into a FIFO this test reads: its first bytes say
    // frames are being pushed (and the Ctrl-C handler, installed before the pipeline is
    // built, is in place), so the interrupt comes mid-stream.
    let fifo = dir.join("frames.fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("cannot run mkfifo");
    assert!(made.success(), "mkfifo failed");
    let pipeline = format!(
        "appsrc ! tee name=t ! queue ! videoconvert ! video/x-raw,format=I420 ! matroskamux ! \
         filesink location={} t. ! queue ! filesink location={}",
        file.display(),
        fifo.display()
    );
    let args = [
        "push", "-p", &pipeline, "--frames", "0", "--width", "32", "--height", "24",
    ];
    let mut child = spawn(&args);
    let out = child.stdout.take().expect("piped stdout");
    // Read the FIFO to its end (a full FIFO would block gstpipe), saying when bytes came.
    let (first, flowing) = mpsc::channel();
    let drain = std::thread::spawn(move || {
        // Blocks until gstpipe's filesink opens the other end.
        let mut reader = std::fs::File::open(&fifo).expect("cannot open the FIFO");
        let mut chunk = vec![0u8; 1 << 16];
        while let Ok(n @ 1..) = reader.read(&mut chunk) {
            let _ = first.send(n);
        }
    });
    flowing
        .recv_timeout(LIMIT)
        .expect("no frame reached the FIFO");
    interrupt(&child);
    let run = finish(child, out, String::new(), &args, LIMIT).success();
    drain.join().expect("FIFO reader");
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
