//! Finding the appsink: by name, the only one, clear errors; several appsinks in one pipeline.

use crate::util::bounded;
use gstpipe_core::{Error, Pipeline};
use gstpipe_sinks::{FrameSink, FrameSource, SinkError};
use std::time::Duration;

#[test]
fn missing_ambiguous_and_wrong_appsinks_are_typed_errors() {
    let none = Pipeline::launch("videotestsrc ! fakesink name=f").unwrap();
    let err = FrameSink::new(&none).unwrap_err();
    assert!(
        matches!(&err, SinkError::Pipeline(Error::NoElementOfType { kind, .. }) if kind == "GstAppSink"),
        "{err:?}"
    );
    let err = FrameSink::builder(&none).name("f").build().unwrap_err();
    assert!(
        matches!(&err, SinkError::Pipeline(Error::WrongElementType { found, .. }) if found == "GstFakeSink"),
        "{err:?}"
    );
    let err = FrameSink::builder(&none).name("nope").build().unwrap_err();
    assert!(
        matches!(&err, SinkError::Pipeline(Error::NoSuchElement { .. })),
        "{err:?}"
    );

    let two = Pipeline::launch(
        "videotestsrc ! tee name=t t. ! queue ! appsink name=a t. ! queue ! appsink name=b",
    )
    .unwrap();
    let err = FrameSink::new(&two).unwrap_err();
    let SinkError::Pipeline(Error::Ambiguous { names, .. }) = &err else {
        panic!("expected Ambiguous, got {err:?}")
    };
    assert_eq!(names, &["a", "b"]);
    assert!(err.to_string().contains("a, b"), "{err}");

    let info = gst_video::VideoInfo::builder(gst_video::VideoFormat::Rgb, 4, 4)
        .build()
        .unwrap();
    let err = FrameSource::new(&none, info).unwrap_err();
    assert!(
        matches!(&err, SinkError::Pipeline(Error::NoElementOfType { kind, .. }) if kind == "GstAppSrc"),
        "{err:?}"
    );
}

#[test]
fn each_appsink_of_a_tee_gets_its_own_sink_and_all_see_eos() {
    bounded(30, || {
        let pipeline = Pipeline::launch(
            "videotestsrc num-buffers=20 ! video/x-raw,width=32,height=24 ! tee name=t \
             t. ! queue ! videoconvert ! video/x-raw,format=GRAY8 ! appsink name=gray \
             t. ! queue ! videoconvert ! video/x-raw,format=RGB ! appsink name=rgb",
        )
        .unwrap();
        let gray = FrameSink::builder(&pipeline).name("gray").build().unwrap();
        let rgb = FrameSink::builder(&pipeline).name("rgb").build().unwrap();
        pipeline.play().unwrap();
        let read = |sink: FrameSink| {
            std::thread::spawn(move || {
                sink.into_iter()
                    .map(|f| {
                        let f = f.unwrap();
                        (f.pts().unwrap(), f.view::<u8>().unwrap().dim().2)
                    })
                    .collect::<Vec<_>>()
            })
        };
        let (gray, rgb) = (read(gray), read(rgb));
        let (gray, rgb) = (gray.join().unwrap(), rgb.join().unwrap());
        assert_eq!(gray.len(), 20);
        assert_eq!(rgb.len(), 20);
        assert!(gray.iter().all(|&(_, c)| c == 1));
        assert!(rgb.iter().all(|&(_, c)| c == 3));
        let pts =
            |v: &[(gstpipe_core::gst::ClockTime, usize)]| v.iter().map(|p| p.0).collect::<Vec<_>>();
        assert_eq!(pts(&gray), pts(&rgb));
        pipeline.wait_timeout(Duration::from_secs(5)).unwrap();
    });
}
