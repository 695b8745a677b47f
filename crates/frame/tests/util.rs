//! Shared helpers: bounded pipelines, buffers built by hand.

use gst::prelude::*;
use gst_app::{AppSink, AppSrc};

/// Upper bound for any single wait on a pipeline.
pub const TIMEOUT: gst::ClockTime = gst::ClockTime::from_seconds(20);

pub fn init() {
    gst::init().expect("gst::init");
}

/// A launched pipeline that is set to `Null` when dropped.
pub struct TestPipeline {
    pub pipeline: gst::Pipeline,
    description: String,
}

impl TestPipeline {
    /// Parses `description` and sets it to `Playing`.
    pub fn launch(description: &str) -> TestPipeline {
        init();
        let pipeline = gst::parse::launch(description)
            .unwrap_or_else(|e| panic!("cannot parse {description:?}: {e}"))
            .downcast::<gst::Pipeline>()
            .expect("a pipeline");
        let this = TestPipeline {
            pipeline,
            description: description.to_owned(),
        };
        this.pipeline
            .set_state(gst::State::Playing)
            .unwrap_or_else(|e| panic!("cannot play {description:?}: {e} {}", this.bus_error()));
        this
    }

    pub fn appsink(&self, name: &str) -> AppSink {
        self.pipeline
            .by_name(name)
            .unwrap_or_else(|| panic!("no element {name}"))
            .downcast::<AppSink>()
            .expect("an appsink")
    }

    pub fn appsrc(&self, name: &str) -> AppSrc {
        self.pipeline
            .by_name(name)
            .unwrap_or_else(|| panic!("no element {name}"))
            .downcast::<AppSrc>()
            .expect("an appsrc")
    }

    /// Pulls one sample from appsink `name`, failing after `TIMEOUT`.
    pub fn pull(&self, name: &str) -> gst::Sample {
        match self.appsink(name).try_pull_sample(TIMEOUT) {
            Some(sample) => sample,
            None => panic!(
                "no sample from {name} within {TIMEOUT} in {:?}: {}",
                self.description,
                self.bus_error()
            ),
        }
    }

    /// Waits (bounded) for EOS; panics on an error message or a timeout.
    pub fn wait_eos(&self) {
        let bus = self.pipeline.bus().expect("bus");
        match bus.timed_pop_filtered(TIMEOUT, &[gst::MessageType::Eos, gst::MessageType::Error]) {
            Some(msg) => match msg.view() {
                gst::MessageView::Eos(_) => {}
                gst::MessageView::Error(err) => {
                    panic!(
                        "{:?}: {} ({:?})",
                        self.description,
                        err.error(),
                        err.debug()
                    )
                }
                _ => unreachable!(),
            },
            None => panic!("no EOS within {TIMEOUT} in {:?}", self.description),
        }
    }

    fn bus_error(&self) -> String {
        let Some(bus) = self.pipeline.bus() else {
            return "no bus".to_owned();
        };
        match bus.pop_filtered(&[gst::MessageType::Error]) {
            Some(msg) => match msg.view() {
                gst::MessageView::Error(err) => format!("{} ({:?})", err.error(), err.debug()),
                _ => String::new(),
            },
            None => "no error on the bus".to_owned(),
        }
    }
}

impl Drop for TestPipeline {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// Runs `videotestsrc num-buffers=1 pattern=<pattern>` into `caps` and returns the sample.
pub fn test_sample(pattern: &str, caps: &str) -> gst::Sample {
    let p = TestPipeline::launch(&format!(
        "videotestsrc num-buffers=1 pattern={pattern} ! {caps} ! appsink name=sink sync=false"
    ));
    p.pull("sink")
}

/// Pushes `buffers` with `caps` through `middle` (e.g. `videoconvert ! ... ! videoconvert`)
/// and returns what reaches the appsink, in order.
pub fn push_through(
    caps: &gst::Caps,
    middle: &str,
    out_caps: &str,
    buffers: Vec<gst::Buffer>,
) -> Vec<gst::Sample> {
    let p = TestPipeline::launch(&format!(
        "appsrc name=src format=time ! {middle} ! {out_caps} ! appsink name=sink sync=false"
    ));
    let src = p.appsrc("src");
    src.set_caps(Some(caps));
    let n = buffers.len();
    for (i, mut buffer) in buffers.into_iter().enumerate() {
        {
            let b = buffer.make_mut();
            b.set_pts(gst::ClockTime::from_mseconds(40 * i as u64));
            b.set_duration(gst::ClockTime::from_mseconds(40));
        }
        src.push_buffer(buffer).expect("push_buffer");
    }
    src.end_of_stream().expect("end_of_stream");
    let samples: Vec<_> = (0..n).map(|_| p.pull("sink")).collect();
    p.wait_eos();
    samples
}

/// Bytes of a frame laid out by hand: `planes[p]` rows written at `offsets[p] + r * strides[p]`,
/// every other byte `fill`.
pub fn layout_bytes(size: usize, fill: u8, planes: &[(usize, usize, Vec<Vec<u8>>)]) -> Vec<u8> {
    let mut data = vec![fill; size];
    for (offset, stride, rows) in planes {
        for (r, row) in rows.iter().enumerate() {
            let start = offset + r * stride;
            data[start..start + row.len()].copy_from_slice(row);
        }
    }
    data
}
