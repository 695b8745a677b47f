//! Object detections on buffers, stored as GStreamer's standard
//! `GstVideoRegionOfInterestMeta`, so other elements read what gstpipe writes and the other
//! way round.
//!
//! Each detection is one region-of-interest meta: its rectangle is the box, its ROI type is
//! the class name, and a parameter structure named [`PARAMS_NAME`] (`"detection"`) carries
//! `confidence` (f64), `class-name` (string) and, when tracked, `track-id` (u64).
//! Regions written by other elements without that structure read back with their ROI type as
//! class name and no confidence or track id.

use gst_video::VideoRegionOfInterestMeta;
use std::ops::ControlFlow;

/// The name of the parameter structure gstpipe attaches to each region.
pub const PARAMS_NAME: &str = "detection";

/// One detected object: a box in pixels, a class, a confidence and an optional track id.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Left edge, in pixels.
    pub x: u32,
    /// Top edge, in pixels.
    pub y: u32,
    /// Width, in pixels.
    pub w: u32,
    /// Height, in pixels.
    pub h: u32,
    /// The detector's confidence, usually in `0.0..=1.0`; `None` for regions written without
    /// one by other elements.
    pub confidence: Option<f64>,
    /// The class (label) name; any UTF-8 text.
    pub class_name: String,
    /// The tracker's id for this object, when tracked.
    pub track_id: Option<u64>,
}

impl Detection {
    /// A detection of `class_name` at `(x, y, w, h)` with a confidence and no track id.
    pub fn new(
        class_name: impl Into<String>,
        (x, y, w, h): (u32, u32, u32, u32),
        confidence: f64,
    ) -> Self {
        Detection {
            x,
            y,
            w,
            h,
            confidence: Some(confidence),
            class_name: class_name.into(),
            track_id: None,
        }
    }

    /// The same detection with a track id.
    pub fn with_track_id(mut self, track_id: u64) -> Self {
        self.track_id = Some(track_id);
        self
    }

    fn from_meta(meta: &VideoRegionOfInterestMeta) -> Self {
        let (x, y, w, h) = meta.rect();
        let params = meta.param(PARAMS_NAME);
        let class_name = params
            .and_then(|p| p.get::<String>("class-name").ok())
            .unwrap_or_else(|| meta.roi_type().to_string());
        Detection {
            x,
            y,
            w,
            h,
            confidence: params.and_then(|p| p.get::<f64>("confidence").ok()),
            class_name,
            track_id: params.and_then(|p| p.get::<u64>("track-id").ok()),
        }
    }
}

/// Adds `detection` to `buffer` as a region-of-interest meta; returns the meta's id (its
/// position among the buffer's regions).
pub fn add_detection(buffer: &mut gst::BufferRef, detection: &Detection) -> i32 {
    let id =
        i32::try_from(buffer.iter_meta::<VideoRegionOfInterestMeta>().count()).unwrap_or(i32::MAX);
    let mut meta = VideoRegionOfInterestMeta::add(
        buffer,
        &detection.class_name,
        (detection.x, detection.y, detection.w, detection.h),
    );
    meta.set_id(id);
    let mut params =
        gst::Structure::builder(PARAMS_NAME).field("class-name", detection.class_name.as_str());
    if let Some(confidence) = detection.confidence {
        params = params.field("confidence", confidence);
    }
    if let Some(track_id) = detection.track_id {
        params = params.field("track-id", track_id);
    }
    meta.add_param(params.build());
    id
}

/// Adds every detection in `detections` to `buffer`.
pub fn add_detections<'a>(
    buffer: &mut gst::BufferRef,
    detections: impl IntoIterator<Item = &'a Detection>,
) {
    for detection in detections {
        add_detection(buffer, detection);
    }
}

/// Every region-of-interest meta on `buffer`, as detections, in the buffer's meta order.
pub fn detections(buffer: &gst::BufferRef) -> Vec<Detection> {
    buffer
        .iter_meta::<VideoRegionOfInterestMeta>()
        .map(|meta| Detection::from_meta(&meta))
        .collect()
}

/// Removes the regions for which `remove` returns true; returns how many were removed.
/// Other metas are kept.
pub fn remove_detections(
    buffer: &mut gst::BufferRef,
    mut remove: impl FnMut(&Detection) -> bool,
) -> usize {
    let mut removed = 0;
    buffer.foreach_meta_mut(|mut meta| {
        let action = match meta.downcast_mut::<VideoRegionOfInterestMeta>() {
            Some(roi) if remove(&Detection::from_meta(roi)) => {
                removed += 1;
                gst::buffer::BufferMetaForeachAction::Remove
            }
            _ => gst::buffer::BufferMetaForeachAction::Keep,
        };
        ControlFlow::Continue(action)
    });
    removed
}

/// Removes every region-of-interest meta; returns how many were removed.
pub fn clear_detections(buffer: &mut gst::BufferRef) -> usize {
    remove_detections(buffer, |_| true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer() -> gst::Buffer {
        gst::init().unwrap();
        gst::Buffer::with_size(16).unwrap()
    }

    #[test]
    fn add_list_remove() {
        let mut buf = buffer();
        let car = Detection::new("car", (1, 2, 30, 40), 0.75).with_track_id(7);
        let person = Detection::new("piéton 行人", (5, 6, 7, 8), 0.5);
        {
            let b = buf.get_mut().unwrap();
            assert_eq!(add_detection(b, &car), 0);
            assert_eq!(add_detection(b, &person), 1);
        }
        assert_eq!(detections(&buf), vec![car.clone(), person.clone()]);
        // Read through the plain gstreamer-rs API: the ROI type is the class name.
        let types: Vec<String> = buf
            .iter_meta::<VideoRegionOfInterestMeta>()
            .map(|m| m.roi_type().to_string())
            .collect();
        assert_eq!(types, ["car", "piéton 行人"]);
        let removed = remove_detections(buf.get_mut().unwrap(), |d| d.class_name == "car");
        assert_eq!(removed, 1);
        assert_eq!(detections(&buf), vec![person]);
        assert_eq!(clear_detections(buf.get_mut().unwrap()), 1);
        assert!(detections(&buf).is_empty());
    }

    #[test]
    fn foreign_regions_read_with_their_type() {
        let mut buf = buffer();
        VideoRegionOfInterestMeta::add(buf.get_mut().unwrap(), "face", (10, 20, 30, 40));
        assert_eq!(
            detections(&buf),
            vec![Detection {
                x: 10,
                y: 20,
                w: 30,
                h: 40,
                confidence: None,
                class_name: "face".into(),
                track_id: None
            }]
        );
    }
}
