//! Object detections on buffers, stored as GStreamer's standard
//! `GstVideoRegionOfInterestMeta`, so other elements read what gstpipe writes and the other
//! way round.
//!
//! Each detection is one region-of-interest meta: its rectangle is the box, its ROI type is
//! the class name, and a parameter structure named [`PARAMS_NAME`] (`"detection"`) carries
//! `confidence` (f64), `class-name` (string) and, when tracked, `track-id` (u64).
//! Regions written by other elements without that structure read back with their ROI type as
//! class name and no confidence or track id.
//!
//! GStreamer 1.22's size-aware transforms (`videoconvert`, `videoscale`: the ROI meta's
//! `gst-video-scale` transform, which they apply even at the same size) keep a region's type,
//! box and id but drop its parameter structures. So gstpipe also keeps each detection's
//! parameters in one tag-less custom meta per buffer ([`PARAMS_META_NAME`],
//! `"GstPipeDetectionParams"`, a field `roi-<id>` per region), which those elements copy as
//! it is; a region that lost its own `"detection"` structure takes them from there when the
//! class names agree.
//!
//! ROI types are `GQuark`s, interned for the life of the process: class names should come from
//! a fixed set (a model's labels), not be made unique per frame.

use gst_video::VideoRegionOfInterestMeta;
use std::ops::ControlFlow;

/// The name of the parameter structure gstpipe attaches to each region.
pub const PARAMS_NAME: &str = "detection";

/// The name of the custom meta that keeps every region's parameters on a buffer, for
/// elements that drop region parameters (see the module docs).
pub(crate) const PARAMS_META_NAME: &str = "GstPipeDetectionParams";

/// Registers the custom meta once per process (GStreamer must be initialised: a buffer exists).
fn register_params_meta() {
    static REGISTER: std::sync::Once = std::sync::Once::new();
    REGISTER.call_once(|| {
        if !gst::meta::CustomMeta::is_registered(PARAMS_META_NAME) {
            // No tags: elements that transform video copy it as it is.
            gst::meta::CustomMeta::register(PARAMS_META_NAME, &[]);
        }
    });
}

/// The field of the custom meta that holds the parameters of region `id`.
fn params_key(id: i32) -> String {
    format!("roi-{id}")
}

/// One detected object: a box in pixels, a class, a confidence and an optional track id.
///
/// On a buffer ([`add_detection`], [`detections`], [`Frame::detections`](crate::Frame::detections)),
/// each detection is one standard `GstVideoRegionOfInterestMeta`: its rectangle is the box, its
/// ROI type the class name, and a parameter structure named `"detection"` holds
/// `class-name` (string), `confidence` (f64) and `track-id` (u64, when tracked). Elements
/// that read region-of-interest metas see gstpipe's detections, and regions written by other
/// elements read back as detections (their type as class name, no confidence or track id
/// unless they carry the `"detection"` structure).
///
/// GStreamer 1.22's `videoconvert` and `videoscale` keep a region's type, box (scaled) and id
/// but drop its parameter structures; gstpipe also keeps the parameters in a tag-less custom
/// meta, `GstPipeDetectionParams`, which those elements copy, so detections read after them
/// still have their confidence and track id.
///
/// ROI types are `GQuark`s, interned for the life of the process: take class names from a
/// fixed set (a model's labels), not a new string per frame.
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

    /// The detection a region describes; `kept` is the parameter structure the custom meta
    /// kept for the region's id, used when the region has none of its own.
    fn from_meta(meta: &VideoRegionOfInterestMeta, kept: Option<&gst::StructureRef>) -> Self {
        let (x, y, w, h) = meta.rect();
        let roi_type = meta.roi_type();
        let params = meta.param(PARAMS_NAME).or_else(|| {
            // Only when it is this region's: same class name as the region's type.
            kept.filter(|p| p.get::<&str>("class-name").ok() == Some(roi_type))
        });
        let class_name = params
            .and_then(|p| p.get::<String>("class-name").ok())
            .unwrap_or_else(|| roi_type.to_string());
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

/// The parameters the custom meta kept for region `id`, if any.
fn kept_params(buffer: &gst::BufferRef, id: i32) -> Option<gst::Structure> {
    register_params_meta();
    let meta = gst::meta::CustomMeta::from_buffer(buffer, PARAMS_META_NAME).ok()?;
    meta.structure().get::<gst::Structure>(params_key(id)).ok()
}

/// Adds `detection` to `buffer` as a region-of-interest meta; returns the meta's id: one more
/// than the largest id among the buffer's regions (0 on a buffer without regions).
pub fn add_detection(buffer: &mut gst::BufferRef, detection: &Detection) -> i32 {
    let id = buffer
        .iter_meta::<VideoRegionOfInterestMeta>()
        .map(|m| m.id())
        .max()
        .map_or(0, |max| max.saturating_add(1));
    let mut params =
        gst::Structure::builder(PARAMS_NAME).field("class-name", detection.class_name.as_str());
    if let Some(confidence) = detection.confidence {
        params = params.field("confidence", confidence);
    }
    if let Some(track_id) = detection.track_id {
        params = params.field("track-id", track_id);
    }
    let params = params.build();
    {
        let mut meta = VideoRegionOfInterestMeta::add(
            buffer,
            &detection.class_name,
            (detection.x, detection.y, detection.w, detection.h),
        );
        meta.set_id(id);
        meta.add_param(params.clone());
    }
    register_params_meta();
    if gst::meta::CustomMeta::from_buffer(buffer, PARAMS_META_NAME).is_err()
        && let Err(e) = gst::meta::CustomMeta::add(buffer, PARAMS_META_NAME)
    {
        tracing::warn!("cannot keep detection parameters in a custom meta: {e}");
        return id;
    }
    if let Ok(mut kept) = gst::meta::CustomMeta::from_mut_buffer(buffer, PARAMS_META_NAME) {
        kept.mut_structure().set(params_key(id), params);
    }
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
        .map(|meta| {
            let kept = match meta.param(PARAMS_NAME) {
                Some(_) => None,
                None => kept_params(buffer, meta.id()),
            };
            Detection::from_meta(&meta, kept.as_deref())
        })
        .collect()
}

/// Removes the regions for which `remove` returns true; returns how many were removed.
/// Other metas are kept.
pub fn remove_detections(
    buffer: &mut gst::BufferRef,
    mut remove: impl FnMut(&Detection) -> bool,
) -> usize {
    // Read first (the kept parameters included), then remove by position.
    let doomed: Vec<bool> = detections(buffer).iter().map(&mut remove).collect();
    let mut removed_ids = Vec::new();
    let mut index = 0;
    buffer.foreach_meta_mut(|mut meta| {
        let action = match meta.downcast_mut::<VideoRegionOfInterestMeta>() {
            Some(roi) => {
                let doom = doomed.get(index).copied().unwrap_or(false);
                index += 1;
                if doom {
                    removed_ids.push(roi.id());
                    gst::buffer::BufferMetaForeachAction::Remove
                } else {
                    gst::buffer::BufferMetaForeachAction::Keep
                }
            }
            None => gst::buffer::BufferMetaForeachAction::Keep,
        };
        ControlFlow::Continue(action)
    });
    if !removed_ids.is_empty() {
        forget_params(buffer, &removed_ids);
    }
    removed_ids.len()
}

/// Drops the kept parameters of regions `ids` that no region uses any more, and the custom
/// meta once it is empty.
fn forget_params(buffer: &mut gst::BufferRef, ids: &[i32]) {
    let remaining: Vec<i32> = buffer
        .iter_meta::<VideoRegionOfInterestMeta>()
        .map(|m| m.id())
        .collect();
    register_params_meta();
    let Ok(mut kept) = gst::meta::CustomMeta::from_mut_buffer(buffer, PARAMS_META_NAME) else {
        return;
    };
    for id in ids.iter().filter(|id| !remaining.contains(id)) {
        kept.mut_structure().remove_field(params_key(*id));
    }
    if kept.structure().n_fields() == 0
        && let Err(e) = kept.remove()
    {
        tracing::debug!("cannot remove the empty detection parameters meta: {e}");
    }
}

/// Removes every region-of-interest meta, and the parameters gstpipe kept for them; returns
/// how many regions were removed.
pub fn clear_detections(buffer: &mut gst::BufferRef) -> usize {
    let removed = remove_detections(buffer, |_| true);
    register_params_meta();
    if let Ok(kept) = gst::meta::CustomMeta::from_mut_buffer(buffer, PARAMS_META_NAME)
        && let Err(e) = kept.remove()
    {
        tracing::debug!("cannot remove the detection parameters meta: {e}");
    }
    removed
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

    fn kept_fields(buf: &gst::BufferRef) -> Option<usize> {
        gst::meta::CustomMeta::from_buffer(buf, PARAMS_META_NAME)
            .ok()
            .map(|m| m.structure().n_fields())
    }

    #[test]
    fn parameters_lost_by_a_transform_are_recovered() {
        let mut buf = buffer();
        let person = Detection::new("行人 🚶", (5, 6, 7, 8), 0.5).with_track_id(u64::MAX);
        add_detection(buf.get_mut().unwrap(), &person);
        // What GStreamer 1.22's scale transform leaves: the region without its parameters,
        // and the custom meta copied as it is (copy transform).
        let mut out = gst::Buffer::with_size(16).unwrap();
        {
            let out = out.get_mut().unwrap();
            buf.copy_into(out, gst::BufferCopyFlags::META, ..).unwrap();
            let stripped: Vec<_> = out
                .iter_meta::<VideoRegionOfInterestMeta>()
                .map(|m| (m.roi_type().to_string(), m.rect(), m.id()))
                .collect();
            out.foreach_meta_mut(|mut meta| {
                let action = if meta.downcast_mut::<VideoRegionOfInterestMeta>().is_some() {
                    gst::buffer::BufferMetaForeachAction::Remove
                } else {
                    gst::buffer::BufferMetaForeachAction::Keep
                };
                ControlFlow::Continue(action)
            });
            for (roi_type, rect, id) in stripped {
                VideoRegionOfInterestMeta::add(out, &roi_type, rect).set_id(id);
            }
            assert!(
                out.iter_meta::<VideoRegionOfInterestMeta>()
                    .all(|m| m.params().count() == 0)
            );
        }
        assert_eq!(detections(&out), [person]);
        // A region of another class with the same id does not take them.
        let mut other = gst::Buffer::with_size(16).unwrap();
        {
            let other = other.get_mut().unwrap();
            register_params_meta();
            gst::meta::CustomMeta::add(other, PARAMS_META_NAME)
                .unwrap()
                .mut_structure()
                .set(
                    params_key(0),
                    gst::Structure::builder(PARAMS_NAME)
                        .field("class-name", "行人 🚶")
                        .field("confidence", 0.5)
                        .build(),
                );
            VideoRegionOfInterestMeta::add(other, "face", (1, 1, 1, 1)).set_id(0);
        }
        let face = detections(&other);
        assert_eq!(face.len(), 1);
        assert_eq!(face[0].class_name, "face");
        assert_eq!(face[0].confidence, None);
    }

    #[test]
    fn ids_stay_unique_and_removal_forgets_parameters() {
        let mut buf = buffer();
        let b = buf.get_mut().unwrap();
        let d = |name: &str| Detection::new(name, (0, 0, 1, 1), 0.5);
        assert_eq!(add_detection(b, &d("a")), 0);
        assert_eq!(add_detection(b, &d("b")), 1);
        assert_eq!(add_detection(b, &d("c")), 2);
        assert_eq!(kept_fields(b), Some(3));
        assert_eq!(remove_detections(b, |d| d.class_name == "a"), 1);
        assert_eq!(kept_fields(b), Some(2));
        // Not the id of a region still there.
        assert_eq!(add_detection(b, &d("d")), 3);
        let ids: Vec<i32> = b
            .iter_meta::<VideoRegionOfInterestMeta>()
            .map(|m| m.id())
            .collect();
        assert_eq!(ids, [1, 2, 3]);
        assert_eq!(remove_detections(b, |_| true), 3);
        assert_eq!(kept_fields(b), None, "the empty custom meta is removed");
        add_detection(b, &d("e"));
        assert_eq!(clear_detections(b), 1);
        assert_eq!(kept_fields(b), None);
        assert!(detections(b).is_empty());
    }
}
