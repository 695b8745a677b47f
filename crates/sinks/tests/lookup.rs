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

/// An appsink feeds one reader: a second consumer is refused when it attaches, naming the
/// appsink and the consumer it has; once the first is gone, a new one attaches.
#[test]
fn a_second_consumer_of_an_appsink_is_refused_at_attach() {
    crate::util::bounded(30, || {
        let pipeline =
            gstpipe_core::Pipeline::launch("videotestsrc num-buffers=5 ! appsink name=out")
                .unwrap();
        let busy = |err: gstpipe_sinks::SinkError| match err {
            gstpipe_sinks::SinkError::Busy { element, consumer } => (element, consumer),
            other => panic!("expected Busy, got {other:?}"),
        };
        let first = gstpipe_sinks::FrameSink::new(&pipeline).unwrap();
        let err = gstpipe_sinks::FrameSink::new(&pipeline).unwrap_err();
        assert!(err.to_string().contains("out"), "{err}");
        assert_eq!(busy(err), ("out".to_string(), "frames"));

        // Turned into a callback, the sink still holds the appsink, now as `on_frame`.
        let handle = first
            .on_frame(|_| Ok::<(), std::convert::Infallible>(()))
            .unwrap();
        let err = gstpipe_sinks::FrameSink::new(&pipeline).unwrap_err();
        assert_eq!(busy(err), ("out".to_string(), "on_frame"));
        // The refused attempt changed nothing: the callback gets every frame.
        pipeline.play().unwrap();
        assert_eq!(handle.wait().unwrap(), 5);
        pipeline.stop().unwrap();

        // A channel dropped lets the next reader in.
        let pipeline =
            gstpipe_core::Pipeline::launch("videotestsrc num-buffers=5 ! appsink name=out")
                .unwrap();
        let rx = gstpipe_sinks::FrameSink::new(&pipeline)
            .unwrap()
            .channel(2, gstpipe_sinks::Policy::Block);
        let err = gstpipe_sinks::FrameSink::new(&pipeline).unwrap_err();
        assert_eq!(busy(err), ("out".to_string(), "channel"));
        drop(rx);
        let sink = gstpipe_sinks::FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        assert_eq!(sink.iter().count(), 5);
    });
}
