//! Building pipelines: parse errors, missing elements, single elements.

use crate::util::bounded;
use gstpipe_core::{Error, Pipeline};

#[test]
fn syntax_error_is_a_parse_error_with_the_description() {
    let err = Pipeline::launch("videotestsrc ! ! fakesink").unwrap_err();
    match &err {
        Error::Parse {
            description,
            message,
        } => {
            assert_eq!(description, "videotestsrc ! ! fakesink");
            assert!(!message.is_empty());
        }
        other => panic!("expected Error::Parse, got {other:?}"),
    }
    assert!(
        err.to_string().contains("videotestsrc ! ! fakesink"),
        "{err}"
    );
}

#[test]
fn unknown_element_is_named() {
    let err = Pipeline::launch("nosuchelement ! fakesink").unwrap_err();
    match &err {
        Error::MissingElement { factory, .. } => assert_eq!(factory, "nosuchelement"),
        other => panic!("expected Error::MissingElement, got {other:?}"),
    }
    assert!(err.to_string().contains("\"nosuchelement\""), "{err}");
}

#[test]
fn unknown_element_in_the_middle_is_named() {
    let err = Pipeline::launch("videotestsrc ! frobnicate ! fakesink").unwrap_err();
    assert!(
        matches!(&err, Error::MissingElement { factory, .. } if factory == "frobnicate"),
        "{err:?}"
    );
}

#[test]
fn single_element_is_wrapped_in_a_pipeline() {
    // parse::launch("fakesrc num-buffers=3") returns the element itself, not a pipeline.
    bounded(20, || {
        let pipeline = Pipeline::launch("fakesrc name=lone num-buffers=3").expect("launch");
        assert!(pipeline.by_name("lone").is_some());
        pipeline.play().expect("play");
        // A lone source with no sink never posts EOS from a sink; stop it cleanly instead.
        let _ = pipeline.wait_timeout(std::time::Duration::from_millis(500));
        drop(pipeline);
    });
}

#[test]
fn wrapping_an_existing_pipeline_and_element_works() {
    gstpipe_core::init().unwrap();
    let gst_pipeline = gstpipe_core::gst::Pipeline::with_name("mine");
    let pipeline = Pipeline::from_pipeline(gst_pipeline);
    assert_eq!(pipeline.name(), "mine");
    let element = gstpipe_core::gst::ElementFactory::make("fakesink")
        .name("lonely")
        .build()
        .unwrap();
    let wrapped = Pipeline::from_element(element).unwrap();
    assert!(wrapped.by_name("lonely").is_some());
}
