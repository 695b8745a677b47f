//! The native part of the `gstpipe` Python package: GStreamer pipelines as zero-copy numpy
//! arrays, over gstpipe-core, gstpipe-frame and gstpipe-sinks.
//!
//! The Python package (`python/gstpipe`) re-exports what this module defines and adds the
//! exception classes, the `python -m gstpipe` launcher and the type stubs. Everything that
//! decides behaviour lives in the Rust crates; this crate only converts: arguments in,
//! numpy arrays and exceptions out, the GIL released around every wait and copy.
//!
//! ```python
//! import gstpipe
//!
//! with gstpipe.Pipeline("videotestsrc num-buffers=10 ! video/x-raw,format=RGB ! appsink") as p:
//!     for frame in p.frames():
//!         print(frame.pts, frame.array.shape)  # zero copy, read-only, (240, 320, 3)
//! ```
//!
//! Over the other crates: `Live` (gstpipe-live's reconnecting supervisor), `Batcher`
//! (gstpipe-batch's cross-stream batches) and `VideoReader` (gstpipe-media's exact frame
//! access).

mod aio;
mod arrays;
mod batch;
mod clips;
mod errors;
mod formats;
mod frame;
mod gil;
mod launcher;
mod live;
mod pipeline;
mod reader;
mod sampling;
mod source;

use pyo3::prelude::*;

/// The `gstpipe._gstpipe` extension module.
#[pymodule]
fn _gstpipe(m: &Bound<'_, PyModule>) -> PyResult<()> {
    gstpipe_core::init().map_err(|e| errors::core_error(&e))?;
    m.add_class::<pipeline::Pipeline>()?;
    m.add_class::<pipeline::Frames>()?;
    m.add_class::<pipeline::Batches>()?;
    m.add_class::<pipeline::Callback>()?;
    m.add_class::<frame::Frame>()?;
    m.add_class::<source::Source>()?;
    m.add_class::<live::Live>()?;
    m.add_class::<live::HealthEvent>()?;
    m.add_class::<batch::Batcher>()?;
    m.add_class::<batch::Batch>()?;
    m.add_class::<reader::VideoReader>()?;
    aio::register(m)?;
    clips::register(m)?;
    m.add_function(wrap_pyfunction!(formats::channels, m)?)?;
    m.add_function(wrap_pyfunction!(formats::dtype, m)?)?;
    m.add_function(wrap_pyfunction!(formats::formats, m)?)?;
    m.add_function(wrap_pyfunction!(formats::gstreamer_version, m)?)?;
    m.add_function(wrap_pyfunction!(launcher::launch, m)?)?;

    m.add_function(wrap_pyfunction!(errors::_panic_for_tests, m)?)?;
    gil::register_at_exit(m)?;
    Ok(())
}
