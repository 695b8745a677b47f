//! `gstpipe push`: generated frames through an appsrc, into files GStreamer reads back.

use crate::util::{count_buffers, gstpipe, scratch};

#[test]
fn push_into_matroska_reads_back_the_pushed_frame_count() {
    for (format, frames) in [("RGB", "12"), ("I420", "7")] {
        let dir = scratch(&format!("push-mkv-{format}"));
        let file = dir.join("out.mkv");
        let pipeline = format!(
            "appsrc name=src ! videoconvert ! video/x-raw,format=I420 ! matroskamux ! filesink location={}",
            file.display()
        );
        gstpipe(&[
            "push",
            "-p",
            &pipeline,
            "--frames",
            frames,
            "--width",
            "64",
            "--height",
            "48",
            "--format",
            format,
            "--framerate",
            "25",
            "--pattern",
            "checker",
        ])
        .success();
        let read_back = count_buffers(
            &format!(
                "filesrc location={} ! matroskademux ! fakesink name=count",
                file.display()
            ),
            "count",
        );
        assert_eq!(read_back, frames.parse::<u64>().unwrap(), "{format}");
    }
}

#[test]
fn pushed_gradient_arrives_in_png_files() {
    let dir = scratch("push-png");
    let pipeline = format!(
        "appsrc ! pngenc ! multifilesink location={}/%02d.png",
        dir.display()
    );
    let run = gstpipe(&[
        "push", "-p", &pipeline, "-n", "2", "--width", "33", "--height", "17", "--format", "RGB",
    ])
    .success();
    assert!(run.stdout.starts_with("pushed 2 frames"), "{}", run.stdout);
    for i in 0..2u8 {
        let png = image::open(dir.join(format!("{i:02}.png")))
            .unwrap()
            .to_rgb8();
        assert_eq!(png.dimensions(), (33, 17));
        // The gradient at (0, 0): 4 * index, shifted by 85 per channel.
        assert_eq!(png.get_pixel(0, 0).0, [4 * i, 85 + 4 * i, 170 + 4 * i]);
    }
    assert!(!dir.join("02.png").exists());
}

#[test]
fn push_into_a_pipeline_that_refuses_the_format_exits_1() {
    let run = gstpipe(&[
        "push",
        "-p",
        "appsrc ! video/x-raw,format=GRAY8 ! fakesink",
        "-n",
        "3",
        "--format",
        "RGB",
    ])
    .code(1)
    .no_panic();
    assert!(!run.stderr.is_empty());
}
