//! Starting a pipeline, with context for the error.

use anyhow::{Context as _, Result};
use gstpipe_core::Pipeline;

/// Sets the pipeline to Playing. The core reports the element's own error (it waits briefly
/// for one that trails a failed state change), so the message names the element.
pub fn play(pipeline: &Pipeline) -> Result<()> {
    pipeline.play().context("cannot start the pipeline")
}
