//! `gstpipe.Source`: numpy arrays into a pipeline's appsrc.

use crate::errors::{Result, frame_mismatch, guard, value_error};
use crate::gil::DropDetached;
use crate::pipeline::Shared;
use gst::prelude::*;
use gst_video::VideoInfo;
use gstpipe_frame::{Detection, SampleType, SampleValue};
use gstpipe_sinks::{FrameSource, Input, SinkError};
use ndarray::{ArrayView3, Ix3};
use numpy::{Element, PyReadonlyArrayDyn, PyUntypedArray, PyUntypedArrayMethods as _};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use std::sync::Arc;

/// Frames per second when ``Pipeline.source`` is given a format but no ``fps``.
const DEFAULT_FPS: i32 = 30;

/// An appsrc that takes numpy arrays, checked against its caps and timestamped from its
/// framerate (``Pipeline.source()``).
#[pyclass(frozen, module = "gstpipe", name = "Source")]
pub(crate) struct Source {
    source: DropDetached<FrameSource>,
    _pipeline: Shared,
    sample: SampleType,
}

/// What one push carries, before it reaches the Rust API.
struct Push<'a, T> {
    planes: Vec<ArrayView3<'a, T>>,
    pts: Option<gst::ClockTime>,
    detections: Vec<Detection>,
}

/// Pushes through the FrameSource API: the one place that calls it.
fn push_into<T: SampleValue>(source: &FrameSource, push: Push<'_, T>) -> Result<(), SinkError> {
    let Push {
        mut planes,
        pts,
        detections,
    } = push;
    let input = if source.shapes().len() == 1 && planes.len() == 1 {
        Input::view(planes.remove(0))
    } else {
        Input::planes(planes)
    };
    let mut frame = source.frame(input).detections(&detections);
    if let Some(pts) = pts {
        frame = frame.pts(pts);
    }
    frame.push()
}

/// A shape as Python prints it: `(4, 8, 3)`.
fn py_shape(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn framerate(fps: Option<Bound<'_, PyAny>>) -> Result<gst::Fraction> {
    let Some(fps) = fps else {
        return Ok(gst::Fraction::new(DEFAULT_FPS, 1));
    };
    if let Ok((num, den)) = fps.extract::<(i32, i32)>() {
        if num >= 0 && den > 0 {
            return Ok(gst::Fraction::new(num, den));
        }
    } else if let (Ok(num), Ok(den)) = (fps.getattr("numerator"), fps.getattr("denominator")) {
        // int and fractions.Fraction
        if let (Ok(num), Ok(den)) = (num.extract::<i32>(), den.extract::<i32>())
            && num >= 0
            && den > 0
        {
            return Ok(gst::Fraction::new(num, den));
        }
    } else if let Ok(f) = fps.extract::<f64>() {
        if f >= 0.0
            && let Some(fraction) = gst::Fraction::approximate_f64(f)
        {
            return Ok(fraction);
        }
        if f > i32::MAX as f64 {
            return Err(value_error(format!(
                "fps {f} is too large: GStreamer's framerate is a fraction of 32-bit integers \
                 (at most {} frames per second)",
                i32::MAX
            )));
        }
    }
    Err(value_error(format!(
        "fps must be a finite number >= 0 or a (numerator, denominator) pair of 32-bit \
         integers, got {fps}"
    )))
}

/// A pts in seconds as a clock time: finite, >= 0 and within GStreamer's clock range.
fn pts_arg(seconds: f64) -> Result<gst::ClockTime> {
    let max = gst::ClockTime::MAX;
    match std::time::Duration::try_from_secs_f64(seconds) {
        Ok(pts) if pts.as_nanos() <= u128::from(max.nseconds()) => {
            Ok(gst::ClockTime::from_nseconds(pts.as_nanos() as u64))
        }
        _ => Err(value_error(format!(
            "pts must be a number of seconds from 0 to {:.0} (GStreamer's clock range), got \
             {seconds}",
            max.seconds_f64().floor()
        ))),
    }
}

fn detection(item: &Bound<'_, PyAny>) -> Result<Detection> {
    let d = item.cast::<PyDict>().map_err(|_| {
        crate::errors::type_error(format!(
            "a detection is a dict with x, y, w, h, class_name (confidence, track_id \
             optional), got {item}"
        ))
    })?;
    let get = |key: &str| -> Result<Bound<'_, PyAny>> {
        d.get_item(key)?
            .ok_or_else(|| value_error(format!("detection {d} has no {key:?}")))
    };
    let confidence: Option<f64> = match d.get_item("confidence")? {
        Some(c) => c.extract()?,
        None => None,
    };
    let track_id: Option<u64> = match d.get_item("track_id")? {
        Some(t) => t.extract()?,
        None => None,
    };
    Ok(Detection {
        x: get("x")?.extract()?,
        y: get("y")?.extract()?,
        w: get("w")?.extract()?,
        h: get("h")?.extract()?,
        confidence,
        class_name: get("class_name")?.extract()?,
        track_id,
    })
}

impl Source {
    pub(crate) fn build(
        py: Python<'_>,
        pipeline: &Shared,
        name: Option<&str>,
        format: Option<&str>,
        width: Option<u32>,
        height: Option<u32>,
        fps: Option<Bound<'_, PyAny>>,
    ) -> Result<Source> {
        let mut builder = FrameSource::builder(pipeline);
        if let Some(name) = name {
            builder = builder.name(name);
        }
        match (format, width, height) {
            (Some(format), Some(width), Some(height)) => {
                let video_format = crate::formats::parse(py, format)?;
                let info = VideoInfo::builder(video_format, width, height)
                    .fps(framerate(fps)?)
                    .build()
                    .map_err(|e| {
                        value_error(format!("no video info for {format} {width}x{height}: {e}"))
                    })?;
                builder = builder.info(info);
            }
            (None, None, None) => {
                // The description's caps; a framerate they lack is `fps` (default 30) for
                // the timestamps.
                let given = fps.is_some();
                let fps = framerate(fps)?;
                let source = builder.default_fps(fps).build()?;
                if given && source.fps() != fps {
                    return Err(value_error(format!(
                        "fps {fps} disagrees with the framerate {} of the caps written on {}",
                        source.fps(),
                        source.appsrc().name()
                    )));
                }
                return Ok(Source::new(source, pipeline));
            }
            _ => {
                return Err(value_error(
                    "give format, width and height together (and optionally fps), or none of \
                     them to use the appsrc's caps from the description",
                ));
            }
        }
        Ok(Source::new(builder.build()?, pipeline))
    }

    fn new(source: FrameSource, pipeline: &Shared) -> Source {
        let sample = gstpipe_frame::format_info(source.info().format())
            .map(|i| i.sample_type())
            .unwrap_or(SampleType::None);
        Source {
            source: DropDetached::new(source),
            _pipeline: Arc::clone(pipeline),
            sample,
        }
    }

    /// Starts the pipeline if nobody played it yet: pushing (or finishing) into a pipeline
    /// in Null would otherwise be refused or wait for nothing. A live appsrc (the default) is
    /// played as ``Pipeline.play()`` does; a non-live one is only asked for Playing, since it
    /// prerolls on the frame being pushed.
    fn start(&self, py: Python<'_>) -> Result<()> {
        let live = self.source.appsrc().is_live();
        Ok(crate::pipeline::start(py, &self._pipeline, live)?)
    }

    fn describe(&self) -> String {
        let info = self.source.info();
        format!(
            "{} ({} {}x{})",
            self.source.appsrc().name(),
            info.format().to_str(),
            info.width(),
            info.height()
        )
    }

    /// `obj` as a numpy array of `T`, or an error naming the dtype expected and found.
    fn samples<'py, T: Element>(
        &self,
        obj: &Bound<'py, PyAny>,
    ) -> Result<PyReadonlyArrayDyn<'py, T>> {
        let py = obj.py();
        let asarray = py.import("numpy")?.getattr("asarray")?;
        let any = if obj.cast::<PyUntypedArray>().is_ok() {
            obj.clone()
        } else {
            asarray.call1((obj,))?
        };
        let untyped = any.cast::<PyUntypedArray>()?;
        let expected = numpy::dtype::<T>(py);
        let found = untyped.dtype();
        any.extract::<PyReadonlyArrayDyn<'py, T>>().map_err(|_| {
            frame_mismatch(format!(
                "{} takes {} arrays (native byte order), got {} (shape {})",
                self.describe(),
                expected,
                found,
                py_shape(untyped.shape())
            ))
        })
    }

    fn push_typed<T: SampleValue + Element>(
        &self,
        py: Python<'_>,
        array: &Bound<'_, PyAny>,
        pts: Option<gst::ClockTime>,
        detections: Vec<Detection>,
    ) -> Result<()> {
        let objects: Vec<Bound<'_, PyAny>> =
            if array.cast::<PyList>().is_ok() || array.cast::<PyTuple>().is_ok() {
                array.try_iter()?.collect::<PyResult<_>>()?
            } else {
                vec![array.clone()]
            };
        let arrays = objects
            .iter()
            .map(|o| self.samples::<T>(o))
            .collect::<Result<Vec<_>>>()?;
        let mut planes = Vec::with_capacity(arrays.len());
        for a in &arrays {
            let view = a.as_array();
            let view = match view.ndim() {
                // (h, w) for one-channel planes.
                2 => view.insert_axis(ndarray::Axis(2)),
                _ => view,
            };
            let shape = py_shape(view.shape());
            let view = view.into_dimensionality::<Ix3>().map_err(|_| {
                frame_mismatch(format!(
                    "{} takes (height, width, channels) or (height, width) arrays, got \
                         shape {shape}",
                    self.describe()
                ))
            })?;
            planes.push(view);
        }
        let source = &*self.source;
        let push = Push {
            planes,
            pts,
            detections,
        };
        Ok(py.detach(move || push_into(source, push))?)
    }
}

#[pymethods]
impl Source {
    /// Pushes one frame: a numpy array ``(height, width, channels)`` (or ``(height, width)``
    /// for one channel) for packed formats, a list of per-plane arrays for planar ones,
    /// checked against the caps (wrong shape or dtype raises ``FrameError``, a
    /// ``ValueError``, naming both; nothing is pushed) and copied once into a buffer, without
    /// the GIL. ``pts`` in seconds (default: from the framerate, frame index / fps);
    /// ``detections``: dicts as ``Frame.detections`` gives them. Waits (bounded) while the
    /// appsrc is full. Starts the pipeline if nobody played it yet.
    #[pyo3(signature = (array, pts=None, detections=None))]
    fn push(
        &self,
        py: Python<'_>,
        array: Bound<'_, PyAny>,
        pts: Option<f64>,
        detections: Option<Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        guard(|| {
            let pts = pts.map(pts_arg).transpose()?;
            self.start(py)?;
            let detections = match detections {
                None => Vec::new(),
                Some(list) => list
                    .try_iter()?
                    .map(|item| detection(&item?))
                    .collect::<Result<Vec<_>>>()?,
            };
            match self.sample {
                SampleType::U8 => self.push_typed::<u8>(py, &array, pts, detections),
                SampleType::U16 => self.push_typed::<u16>(py, &array, pts, detections),
                _ => Err(frame_mismatch(format!(
                    "{} is not a format of whole samples: nothing can be pushed as arrays",
                    self.describe()
                ))),
            }
        })
    }

    /// Ends the stream: end of stream, then waits (bounded) for the pipeline to finish, so
    /// encoders and muxers finalise their files. Every appsink downstream must be read (by
    /// another thread) for the pipeline to finish.
    fn finish(&self, py: Python<'_>) -> PyResult<()> {
        guard(|| {
            self.start(py)?;
            let source = &*self.source;
            Ok(py.detach(|| source.finish())?)
        })
    }

    /// How many frames have been pushed.
    #[getter]
    fn pushed(&self) -> PyResult<u64> {
        guard(|| Ok(self.source.pushed()))
    }

    /// The array shapes ``(height, width, channels)`` a push takes, one per plane.
    #[getter]
    fn shapes(&self) -> PyResult<Vec<(usize, usize, usize)>> {
        guard(|| {
            Ok({
                self.source
                    .shapes()
                    .into_iter()
                    .map(|[h, w, c]| (h, w, c))
                    .collect()
            })
        })
    }

    /// The format name of the frames (``"RGB"``, ``"I420"``, ...).
    #[getter]
    fn format(&self) -> PyResult<&'static str> {
        guard(|| Ok(self.source.info().format().to_str().as_str()))
    }

    /// Width in pixels.
    #[getter]
    fn width(&self) -> PyResult<u32> {
        guard(|| Ok(self.source.info().width()))
    }

    /// Height in pixels.
    #[getter]
    fn height(&self) -> PyResult<u32> {
        guard(|| Ok(self.source.info().height()))
    }

    fn __repr__(&self) -> PyResult<String> {
        guard(|| Ok(format!("<gstpipe.Source {}>", self.describe())))
    }
}
