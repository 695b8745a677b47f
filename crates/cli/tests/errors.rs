//! Exit statuses and messages: 1 for pipeline failures, 2 for usage and syntax errors.

use crate::util::gstpipe;

#[test]
fn missing_file_exits_1_naming_the_element_and_path() {
    let path = "/nonexistent/gstpipe-missing.mkv";
    let pipeline = format!("filesrc location={path} ! matroskademux ! appsink");
    let run = gstpipe(&["launch", "-p", &pipeline]).code(1).no_panic();
    assert!(run.stderr.contains("filesrc0"), "{}", run.stderr);
    assert!(run.stderr.contains(path), "{}", run.stderr);
}

#[test]
fn syntax_error_exits_2() {
    let run = gstpipe(&["launch", "-p", "videotestsrc ! !"])
        .code(2)
        .no_panic();
    assert!(run.stderr.contains("videotestsrc ! !"), "{}", run.stderr);
}

#[test]
fn unknown_element_exits_2_naming_it() {
    let run = gstpipe(&["launch", "-p", "videotestsrc ! nosuchelement42 ! appsink"])
        .code(2)
        .no_panic();
    assert!(run.stderr.contains("nosuchelement42"), "{}", run.stderr);
}

#[test]
fn bad_flags_exit_2() {
    gstpipe(&["launch", "--no-such-flag"]).code(2);
    gstpipe(&["launch", "--save", "x", "--every", "0"]).code(2);
    gstpipe(&["launch", "--every", "2"]).code(2); // --every needs --save
    gstpipe(&["push", "-p", "appsrc ! fakesink", "--format", "NOPE"]).code(2);
    gstpipe(&["formats", "--json", "--markdown"]).code(2);
}

#[test]
fn no_frame_within_the_timeout_exits_1() {
    let pipeline =
        "appsrc is-live=true caps=video/x-raw,format=RGB,width=8,height=8,framerate=30/1 ! appsink";
    let run = gstpipe(&["launch", "--timeout", "0.5", "-p", pipeline])
        .code(1)
        .no_panic();
    assert!(
        run.stderr.contains("timed out") && run.stderr.contains("appsink0"),
        "the error says it timed out: {}",
        run.stderr
    );
}

#[test]
fn corrupt_file_exits_1_naming_the_demuxer() {
    let file = crate::util::scratch("corrupt").join("not-matroska.mkv");
    std::fs::write(&file, "this is not a matroska file\n".repeat(100)).unwrap();
    let pipeline = format!(
        "filesrc location={} ! matroskademux ! appsink",
        file.display()
    );
    let run = gstpipe(&["launch", "-p", &pipeline]).code(1).no_panic();
    assert!(run.stderr.contains("matroskademux0"), "{}", run.stderr);
}
