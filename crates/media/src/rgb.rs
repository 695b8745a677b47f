//! RGB frames from a decoder of 8-bit 4:2:0 video, converted in Rust rather than by
//! `videoconvert` (gstpipe-frame's [`YuvToRgb`]: a tenth of the CPU).
//!
//! The reader's pipeline stays `... ! videoconvert ! appsink caps=RGB`; a probe on the
//! converter's input sees the decoder's caps before the converter negotiates, and when
//! [`YuvToRgb`] converts them, lets them through (`appsink caps=I420`: `videoconvert` passes
//! the frames on untouched). Every other stream (10-bit, 4:4:4, interlaced, an unknown
//! matrix) keeps `videoconvert`. [`RgbStage::output`] converts the frames the reader hands
//! out, and only those: frames it passes over on its way to a wanted one are never converted.

use gst::prelude::*;
use gst_video::VideoFormat;
use gstpipe_frame::{Frame, YuvToRgb};

use crate::MediaError;

/// The conversion of one reader's frames into its RGB format.
#[derive(Debug)]
pub(crate) struct RgbStage {
    target: VideoFormat,
    /// The last caps seen, and their conversion with its output caps (`None`: the frames
    /// are in the target format).
    last: Option<(gst::Caps, Option<(YuvToRgb, gst::Caps)>)>,
}

impl RgbStage {
    /// A stage for a reader asked for `format` at the decoder's size (`resized`: a
    /// `videoscale` follows the converter, and scaling RGB is not scaling I420), when `format`
    /// is one [`YuvToRgb`] makes.
    pub(crate) fn new(format: Option<VideoFormat>, resized: bool) -> Option<RgbStage> {
        let target = format?;
        (YuvToRgb::makes(target) && !resized).then_some(RgbStage { target, last: None })
    }

    /// Lets the decoder's frames through `convert` untouched into `appsink` when this stage
    /// converts them (see the module's documentation).
    pub(crate) fn install(&self, convert: &gst::Element, appsink: &gst_app::AppSink) {
        let Some(pad) = convert.static_pad("sink") else {
            return;
        };
        let target = self.target;
        let appsink = appsink.downgrade();
        pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
            if let Some(gst::PadProbeData::Event(event)) = &info.data
                && let gst::EventView::Caps(caps) = event.view()
                && let Some(appsink) = appsink.upgrade()
            {
                let input = gst_video::VideoInfo::from_caps(caps.caps()).ok();
                let format = match input {
                    Some(input) if YuvToRgb::new(&input, target).is_some() => input.format(),
                    _ => target,
                };
                // Read by the converter's caps query, which follows this event.
                appsink.set_caps(Some(
                    &gst_video::VideoCapsBuilder::new().format(format).build(),
                ));
            }
            gst::PadProbeReturn::Ok
        });
    }

    /// `sample` as the reader hands it out: converted (into a buffer of its own: `true`)
    /// when it came through untouched, as is otherwise (already in the target format).
    pub(crate) fn output(
        &mut self,
        sample: gst::Sample,
    ) -> Result<(gst::Sample, bool), MediaError> {
        let Some(caps) = sample.caps_owned() else {
            return Ok((sample, false));
        };
        let Some((conversion, output_caps)) = self.conversion(&caps)? else {
            return Ok((sample, false));
        };
        let converted = conversion.convert(&Frame::from_sample(&sample)?)?;
        let buffer = converted.into_buffer();
        let builder = gst::Sample::builder().buffer(&buffer).caps(output_caps);
        let converted = match sample.segment() {
            Some(segment) => builder.segment(segment).build(),
            None => builder.build(),
        };
        Ok((converted, true))
    }

    /// The caps the reader's frames have when the appsink negotiated `caps`.
    pub(crate) fn output_caps(&mut self, caps: &gst::Caps) -> Result<gst::Caps, MediaError> {
        Ok(match self.conversion(caps)? {
            Some((_, output)) => output.clone(),
            None => caps.clone(),
        })
    }

    /// The conversion of frames with these caps and its output caps, `None` for frames in
    /// the target format.
    fn conversion(
        &mut self,
        caps: &gst::Caps,
    ) -> Result<Option<&(YuvToRgb, gst::Caps)>, MediaError> {
        if !self.last.as_ref().is_some_and(|(seen, _)| seen == caps) {
            let not_video = || {
                MediaError::Frame(gstpipe_frame::FrameError::NotVideoCaps { caps: caps.clone() })
            };
            let info = gst_video::VideoInfo::from_caps(caps).map_err(|_| not_video())?;
            let conversion = if info.format() == self.target {
                None
            } else {
                // Only caps the probe let through come here.
                let conversion = YuvToRgb::new(&info, self.target).ok_or_else(|| {
                    MediaError::Frame(gstpipe_frame::FrameError::Convert {
                        from: info.format(),
                        to: self.target,
                        reason: "no conversion for these caps".into(),
                    })
                })?;
                let output = conversion
                    .output_info()
                    .to_caps()
                    .map_err(|_| not_video())?;
                Some((conversion, output))
            };
            self.last = Some((caps.clone(), conversion));
        }
        Ok(self
            .last
            .as_ref()
            .and_then(|(_, conversion)| conversion.as_ref()))
    }
}
