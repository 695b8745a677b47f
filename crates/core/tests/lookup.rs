//! Finding elements by name and by type.

use gst::prelude::*;
use gstpipe_core::{Error, Pipeline, gst};

#[test]
fn lookup_by_name_and_type() {
    let pipeline = Pipeline::launch(
        "videotestsrc name=src ! tee name=t ! queue ! fakesink name=a  t. ! queue ! fakesink name=b",
    )
    .unwrap();
    assert!(pipeline.by_name("src").is_some());
    assert!(pipeline.by_name("nope").is_none());

    // Typed lookup: the element's GType decides, not its name.
    let tee: gst::Element = pipeline.element("t").unwrap();
    assert_eq!(tee.factory().unwrap().name(), "tee");
    let bins = pipeline.elements::<gst::Bin>();
    assert_eq!(bins.len(), 0, "no nested bins in this pipeline");
    let all = pipeline.elements::<gst::Element>();
    assert_eq!(all.len(), 6);

    match pipeline.element::<gst::Bin>("a") {
        Err(Error::WrongElementType {
            name,
            expected,
            found,
        }) => {
            assert_eq!(name, "a");
            assert_eq!(expected, "GstBin");
            assert_eq!(found, "GstFakeSink");
        }
        other => panic!("expected WrongElementType, got {other:?}"),
    }
    assert!(matches!(
        pipeline.element::<gst::Element>("zzz"),
        Err(Error::NoSuchElement { .. })
    ));
}

#[test]
fn find_the_only_element_of_a_type() {
    use gst_app::AppSink;
    let one = Pipeline::launch("videotestsrc ! appsink name=only").unwrap();
    let sink: AppSink = one.find(None).unwrap();
    assert_eq!(sink.name(), "only");
    assert_eq!(one.elements::<AppSink>().len(), 1);

    let none = Pipeline::launch("videotestsrc ! fakesink").unwrap();
    assert!(matches!(
        none.find::<AppSink>(None),
        Err(Error::NoElementOfType { .. })
    ));
    assert!(none.first::<AppSink>().is_none());

    let two = Pipeline::launch(
        "videotestsrc ! tee name=t ! queue ! appsink name=x  t. ! queue ! appsink name=y",
    )
    .unwrap();
    match two.find::<AppSink>(None) {
        Err(Error::Ambiguous { names, .. }) => {
            assert_eq!(names, vec!["x".to_string(), "y".to_string()])
        }
        other => panic!("expected Ambiguous, got {other:?}"),
    }
    let y: AppSink = two.find(Some("y")).unwrap();
    assert_eq!(y.name(), "y");
}

#[test]
fn nested_bins_are_searched() {
    let pipeline =
        Pipeline::launch("videotestsrc ! bin. ( queue name=inner ! fakesink name=deep )").unwrap();
    assert!(pipeline.by_name("deep").is_some());
    assert_eq!(pipeline.elements::<gst::Bin>().len(), 1);
}
