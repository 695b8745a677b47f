//! A hostile user's probes of the `gstpipe` binary: full disks, signals, secrets in
//! descriptions, odd paths and numbers. Each one used to fail silently or confusingly.

use crate::util::{
    FullFs, LIMIT, Run, finish, gstpipe, gstpipe_to_dev_full, lines, scratch, signal, spawn,
};
use std::ffi::OsStr;
use std::time::{Duration, Instant};

/// Frames that do not fit on the disk: exit 1, naming the file, and no partial file left.
#[track_caller]
fn assert_write_failed(run: &Run, dir: &std::path::Path) {
    assert_eq!(run.code, Some(1), "a full disk must fail: {run:#?}");
    assert!(
        run.stderr
            .contains(&format!("cannot write {}/frame-0000", dir.display()))
            && run.stderr.contains(".png")
            && run.stderr.contains("No space left on device"),
        "the error names the file and the cause: {}",
        run.stderr
    );
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        assert!(
            !path.to_string_lossy().ends_with(".png"),
            "a partial PNG was left: {}",
            path.display()
        );
    }
}

#[test]
fn launch_save_on_a_full_disk_exits_1_naming_the_file() {
    let Some(fs) = FullFs::mount("full-launch") else {
        return;
    };
    let pipeline = "videotestsrc num-buffers=3 ! video/x-raw,format=RGB,width=64,height=48 ! \
                    appsink sync=false";
    let run = gstpipe(&[
        "launch",
        "--quiet",
        "--save",
        fs.dir.to_str().unwrap(),
        "-p",
        pipeline,
    ])
    .no_panic();
    assert_write_failed(&run, &fs.dir);
}

#[test]
fn frames_save_on_a_full_disk_exits_1_naming_the_file() {
    let clip = crate::media::h264_clip(&scratch("full-frames-clip"), 5);
    let Some(fs) = FullFs::mount("full-frames") else {
        return;
    };
    let run = gstpipe(&[
        "frames",
        &clip,
        "--index",
        "0,3",
        "--save",
        fs.dir.to_str().unwrap(),
    ])
    .no_panic();
    assert_write_failed(&run, &fs.dir);
}

/// stdout on a full disk (`> /dev/full`): exit 1 with "cannot write to stdout", never a panic
/// or a silent exit 0.
#[test]
fn stdout_on_a_full_disk_exits_1() {
    let runs = [
        vec![
            "launch",
            "--json",
            "-p",
            "videotestsrc num-buffers=3 ! video/x-raw,width=8,height=8 ! appsink sync=false",
        ],
        vec![
            "push",
            "--frames",
            "2",
            "--width",
            "8",
            "--height",
            "8",
            "-p",
            "appsrc ! fakesink",
        ],
        vec!["formats"],
        vec![
            "batch",
            "-p",
            "videotestsrc num-buffers=2 ! video/x-raw,width=8,height=8 ! appsink",
        ],
    ];
    for args in runs {
        let run = gstpipe_to_dev_full(&args).no_panic();
        assert_eq!(run.code, Some(1), "{args:?}: {run:#?}");
        assert!(
            run.stderr.contains("cannot write to stdout"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

/// A live 30 fps source, read through a pipe: the first line comes at once, not after the
/// 8 KiB of a block buffer (about 55 NDJSON lines, 1.8 s); then SIGINT ends it.
#[cfg(unix)]
#[test]
fn piped_output_is_flushed_line_by_line() {
    let pipeline = "videotestsrc is-live=true ! \
                    video/x-raw,format=GRAY8,width=16,height=8,framerate=30/1 ! appsink";
    for json in [true, false] {
        let mut args = vec!["launch", "-p", pipeline];
        if json {
            args.push("--json");
        }
        let started = Instant::now();
        let mut child = spawn(&args);
        let rx = lines(child.stdout.take().expect("piped stdout"));
        let first = rx.recv_timeout(Duration::from_secs(30));
        let waited = started.elapsed();
        signal(&child, "INT");
        let run = finish(child, std::io::empty(), String::new(), &args, LIMIT).success();
        let first = first.unwrap_or_else(|_| panic!("no line within 30 s: {run:#?}"));
        assert!(
            first.contains("\"index\":0") || first.starts_with("frame 0 "),
            "{first}"
        );
        // Well under the 1.8 s a block buffer holds the first line back; the bound leaves
        // room for a loaded machine's start-up.
        assert!(
            waited < Duration::from_millis(900),
            "json={json}: the first line came after {waited:?}"
        );
        let rest: Vec<String> = rx.iter().collect();
        let summary = rest.last().expect("a summary after the interrupt");
        assert!(summary.contains("frames"), "{summary}");
    }
}

/// Frames a tee also sends into `x264enc ! mp4mux ! filesink`, as ffprobe counts them.
fn mp4_frames(file: &std::path::Path) -> Result<u64, String> {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(file)
        .output()
        .map_err(|e| format!("cannot run ffprobe (`cargo xtask setup` installs ffmpeg): {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "ffprobe rejects {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    text.trim()
        .parse()
        .map_err(|e| format!("ffprobe said {text:?}: {e}"))
}

/// SIGTERM and SIGHUP end `launch` as SIGINT does: end of stream, so the MP4 a tee branch
/// writes is finished (ffprobe reads every frame of it), the summary printed, exit 0.
#[cfg(unix)]
#[test]
fn sigterm_and_sighup_end_the_stream_like_ctrl_c() {
    for name in ["TERM", "HUP", "INT"] {
        let dir = scratch(&format!("signal-{name}"));
        let file = dir.join("out.mp4");
        let pipeline = format!(
            "videotestsrc is-live=true ! video/x-raw,format=I420,width=64,height=48,framerate=30/1 ! \
             tee name=t ! queue ! appsink t. ! queue ! x264enc tune=zerolatency ! h264parse ! \
             mp4mux ! filesink location={}",
            file.display()
        );
        let args = ["launch", "--json", "-p", &pipeline];
        let mut child = spawn(&args);
        let rx = lines(child.stdout.take().expect("piped stdout"));
        let mut seen = 0;
        while seen < 5 {
            rx.recv_timeout(LIMIT).expect("a frame line");
            seen += 1;
        }
        signal(&child, name);
        let run = finish(child, std::io::empty(), String::new(), &args, LIMIT);
        assert_eq!(run.code, Some(0), "SIG{name}: {run:#?}");
        let rest: Vec<serde_json::Value> = rx
            .iter()
            .map(|l| serde_json::from_str(&l).expect("NDJSON"))
            .collect();
        let summary = rest.last().expect("a summary");
        let frames = summary["frames"].as_u64().expect("a summary with frames");
        assert!(frames >= 5, "SIG{name}: {summary}");
        let in_file = mp4_frames(&file).unwrap_or_else(|e| panic!("SIG{name}: {e}"));
        assert!(in_file >= 5, "SIG{name}: {in_file} frames in the MP4");
    }
}

/// Credentials in a description (a camera's URL, rtspsrc's `user-pw`) appear in no output and
/// no error or log line, for any command that echoes a description, with logs at `debug`.
#[test]
fn passwords_are_never_echoed() {
    const URL_SECRET: &str = "S3cretPass";
    const PW_SECRET: &str = "OtherSecret";
    // Nothing listens on port 9 of 127.0.0.1 (discard): the connection is refused at once.
    let camera = format!(
        "rtspsrc location=rtsp://admin:{URL_SECRET}@127.0.0.1:9/stream user-id=admin \
         user-pw={PW_SECRET} ! decodebin ! appsink"
    );
    let good = "videotestsrc num-buffers=3 ! video/x-raw,width=8,height=8 ! appsink";
    let parse_error = format!("{camera} ! ! appsink");
    let missing = format!("{camera} ! nosuchelement42 ! appsink");
    let uri = format!("rtsp://admin:{URL_SECRET}@127.0.0.1:9/stream");
    let reconnect = |more: &[&'static str]| {
        let mut args = vec!["launch", "--reconnect", "--reconnect-delay", "0.01"];
        args.extend(["--max-reconnects", "1", "-p", camera.as_str()]);
        args.extend(more);
        args
    };
    let runs: Vec<(Vec<&str>, i32)> = vec![
        (vec!["batch", "--json", "-p", &camera, "-p", good], 1),
        (vec!["batch", "-p", &camera, "-p", good], 1),
        (vec!["launch", "-p", &camera], 1),
        (vec!["launch", "--json", "-p", &parse_error], 2),
        (vec!["launch", "-p", &missing], 2),
        (reconnect(&["--json"]), 1),
        (reconnect(&[]), 1),
        (vec!["info", &uri], 2),
        (vec!["frames", &uri, "--index", "0"], 2),
    ];
    for (args, code) in runs {
        let run = crate::util::gstpipe_logging(&args, "debug").no_panic();
        assert_eq!(run.code, Some(code), "{args:?}: {run:#?}");
        for secret in [URL_SECRET, PW_SECRET] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "{args:?} echoed {secret}: {run:#?}"
            );
        }
        // What was echoed is still recognisable: the user and the host are kept.
        let all = format!("{}{}", run.stdout, run.stderr);
        if all.contains("rtsp://") {
            assert!(
                all.contains("rtsp://admin:***@127.0.0.1:9"),
                "{args:?}: {all}"
            );
        }
    }
}

/// Runs `gstpipe` with arguments that need not be UTF-8.
fn gstpipe_os(args: &[&OsStr]) -> Run {
    let mut child = crate::util::command(args, None)
        .spawn()
        .expect("cannot run gstpipe");
    let out = child.stdout.take().expect("piped stdout");
    let shown: Vec<String> = args.iter().map(|a| a.to_string_lossy().into()).collect();
    let shown: Vec<&str> = shown.iter().map(String::as_str).collect();
    finish(child, out, String::new(), &shown, LIMIT)
}

/// File and directory names that are not UTF-8 (Linux allows any bytes but `/` and NUL).
#[cfg(unix)]
#[test]
fn non_utf8_paths_are_read_and_written() {
    use std::os::unix::ffi::OsStrExt as _;
    let dir = scratch("non-utf8");
    let made = crate::media::h264_clip(&dir, 5);
    let clip = dir.join(OsStr::from_bytes(b"clip-\xff\xfe.mp4"));
    std::fs::rename(&made, &clip).unwrap();
    let out = dir.join(OsStr::from_bytes(b"frames-\xe9t\xe9"));

    let run = gstpipe_os(&[OsStr::new("info"), OsStr::new("--json"), clip.as_os_str()]);
    let run = run.success();
    let info: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(info["frames"], 5, "{info}");

    let args = [
        OsStr::new("frames"),
        clip.as_os_str(),
        OsStr::new("--index"),
        OsStr::new("-1,0"),
        OsStr::new("--save"),
        out.as_os_str(),
    ];
    let run = gstpipe_os(&args).success();
    assert!(run.stdout.starts_with("frame      4 "), "{}", run.stdout);
    assert!(out.join("frame-000004.png").is_file());
    assert!(out.join("frame-000000.png").is_file());
}

/// `--index -1` is the last frame; what is out of range or not an index says so.
#[test]
fn frame_indices_from_the_end_and_clear_refusals() {
    let clip = crate::media::h264_clip(&scratch("negative-index"), 5);
    let last = gstpipe(&["frames", &clip, "--index", "4", "--json"]).success();
    let from_end = gstpipe(&["frames", &clip, "--index", "-1", "--json"]).success();
    assert_eq!(from_end.stdout, last.stdout);
    assert!(last.stdout.contains("\"index\":4"), "{}", last.stdout);

    let run = gstpipe(&["frames", &clip, "--index", "-6"])
        .code(2)
        .no_panic();
    assert!(
        run.stderr.contains("frame index -6 is out of range") && run.stderr.contains("-5 to -1"),
        "{}",
        run.stderr
    );
    let run = gstpipe(&["frames", &clip, "--index", "one"]).code(2);
    assert!(
        run.stderr.contains("is not a frame index"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("invalid digit"), "{}", run.stderr);
}

/// Numbers out of range say what is wrong with them.
#[test]
fn odd_numbers_are_refused_saying_why() {
    let pipeline = "videotestsrc num-buffers=1 ! appsink";
    for (args, says) in [
        (vec!["launch", "--timeout", "inf", "-p", pipeline], "finite"),
        (vec!["launch", "--timeout", "0", "-p", pipeline], "above 0"),
        (
            vec!["launch", "--timeout", "NaN", "-p", pipeline],
            "above 0",
        ),
        (vec!["batch", "--stall", "1e300", "-p", pipeline], "finite"),
        (
            vec!["push", "--framerate", "1e12", "-p", "appsrc ! fakesink"],
            "whole numbers",
        ),
        (
            vec![
                "push",
                "--framerate",
                "1000000000000",
                "-p",
                "appsrc ! fakesink",
            ],
            "at most 2147483647",
        ),
    ] {
        let run = gstpipe(&args).code(2).no_panic();
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    }
}

/// An error on a 40 KB description shows its start and its size, not all of it.
#[test]
fn long_descriptions_are_cut_in_errors() {
    // A long value rather than thousands of elements, which GStreamer takes seconds to make.
    let long = format!("filesrc location=/{} ! ", "x".repeat(40_000));
    for (description, code) in [
        (format!("{long}! appsink"), 2),                 // syntax error
        (format!("{long}nosuchelement42 ! appsink"), 2), // unknown element
    ] {
        let run = gstpipe(&["launch", "-p", &description])
            .code(code)
            .no_panic();
        assert!(
            run.stderr.len() < 1_000,
            "{} bytes of stderr: {}",
            run.stderr.len(),
            &run.stderr[..300.min(run.stderr.len())]
        );
        assert!(
            run.stderr
                .contains(&format!("… ({} bytes)", description.len())),
            "{}",
            run.stderr
        );
    }
}

/// `--sink b` with an appsink `a` nobody reads: `a` drops its frames without syncing to the
/// clock, so a 30 fps file-like source comes as fast as it is made (it took 1.0 s, real
/// time, when `a` kept `sync=true`). A `sync` the description wrote on `a` is kept.
#[test]
fn an_unread_appsink_does_not_pace_the_pipeline() {
    let two = |a: &str| {
        format!(
            "videotestsrc num-buffers=30 ! video/x-raw,format=GRAY8,width=16,height=8,\
             framerate=30/1 ! tee name=t ! queue ! appsink name=a {a} t. ! queue ! appsink name=b"
        )
    };
    let seconds = |a: &str| {
        let run = gstpipe(&["launch", "--json", "-q", "--sink", "b", "-p", &two(a)]).success();
        let summary = &run.json_lines()[0];
        assert_eq!(summary["frames"], 30, "{summary}");
        summary["seconds"].as_f64().unwrap()
    };
    let fast = seconds("");
    assert!(fast < 0.5, "30 frames took {fast} s");
    // Written by the user: theirs, and it paces (30 frames at 30 fps: about 1 s).
    let paced = seconds("sync=true");
    assert!(paced > 0.9, "sync=true on `a` was overridden: {paced} s");
}
