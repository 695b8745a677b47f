//! A hostile user's probes of the `gstpipe` binary: full disks, signals, secrets in
//! descriptions, odd paths and numbers. Each one used to fail silently or confusingly.

use crate::util::{FullFs, gstpipe, gstpipe_to_dev_full, scratch};

/// Frames that do not fit on the disk: exit 1, naming the file, and no partial file left.
#[track_caller]
fn assert_write_failed(run: &crate::util::Run, dir: &std::path::Path) {
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
