//! `gstpipe.VideoReader`: exact random access to the frames of a video file (gstpipe-media).

use crate::errors::guard_py;
use crate::errors::{frame_error, media_error};
use crate::formats::parse;
use crate::frame::Frame;
use crate::pipeline::timeout_arg;
use gstpipe_frame::SampleType;
use gstpipe_media::{IndexOrigin, MediaError, SeekMode, VideoReader as RustReader};
use numpy::PyArray;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyList, PySlice};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// A video file as exactly indexed frames: ``reader[i]`` is the ``i``-th frame of a plain
/// sequential decode, bit for bit, found by seeking (or reading forward when cheaper), for
/// any codec GStreamer decodes, constant or variable frame rate.
///
/// ``len(reader)`` is the exact frame count; ``reader[i]`` a ``Frame`` (negative indices
/// count from the end); ``reader[a:b:s]`` and ``reader.get_batch([...])`` numpy arrays
/// ``(N, height, width, channels)`` (each frame decoded once, in any order, repeats
/// allowed; a packed ``format`` such as ``"RGB"`` is needed for them). An index past the end
/// raises ``IndexError`` naming the frame count. Decoding releases the GIL.
#[pyclass(frozen, module = "gstpipe", name = "VideoReader")]
pub(crate) struct VideoReader {
    reader: Mutex<RustReader>,
    len: usize,
    /// What does not change after opening, read without waiting for a decode in progress.
    info: gstpipe_media::StreamInfo,
    pts: Vec<u64>,
    keyframes: Vec<usize>,
    uri: String,
    index_origin: IndexOrigin,
    streams: Vec<gstpipe_media::StreamEntry>,
    video_stream: usize,
}

/// An index as Python means it (negative from the end), or the `IndexError` naming the count.
fn wrap(index: isize, len: usize) -> PyResult<usize> {
    guard_py(|| {
        let resolved = if index < 0 {
            len.checked_sub(index.unsigned_abs())
        } else {
            Some(index.unsigned_abs())
        };
        match resolved {
            Some(i) if i < len => Ok(i),
            _ => Err(pyo3::exceptions::PyIndexError::new_err(format!(
                "frame index {index} is out of range: the video has {len} frames"
            ))),
        }
    })
}

/// ``index_cache=``: omitted (the default directory), ``None`` (no saved indexes) or a
/// directory.
#[derive(Debug)]
enum IndexCacheArg {
    Default,
    Off,
    Dir(PathBuf),
}

impl<'a, 'py> FromPyObject<'a, 'py> for IndexCacheArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        guard_py(|| {
            if obj.is_none() {
                Ok(IndexCacheArg::Off)
            } else {
                Ok(IndexCacheArg::Dir(obj.extract()?))
            }
        })
    }
}

/// An index argument: an integer (negative from the end), `IndexError` when past either end
/// (however large), `TypeError` for anything else.
fn index_arg(key: &Bound<'_, PyAny>, len: usize) -> PyResult<usize> {
    guard_py(|| match key.extract::<isize>() {
        Ok(index) => wrap(index, len),
        Err(_) if key.cast::<PyInt>().is_ok() => Err(pyo3::exceptions::PyIndexError::new_err(
            format!("frame index {key} is out of range: the video has {len} frames"),
        )),
        Err(_) => Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "VideoReader indices are integers or slices, not {}",
            key.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))),
    })
}

impl VideoReader {
    pub(crate) fn lock(&self) -> MutexGuard<'_, RustReader> {
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The frames at `indices` stacked as numpy `(N, H, W, C)`, decoded without the GIL.
    fn batch<'py>(&self, py: Python<'py>, indices: &[usize]) -> PyResult<Bound<'py, PyAny>> {
        guard_py(|| {
            let sample = gstpipe_frame::format_info(self.info.format)
                .map_err(|e| frame_error(py, &e))?
                .sample_type();
            let fail = |e: MediaError| media_error(py, &e);
            match sample {
                SampleType::U16 => {
                    let array = py
                        .detach(|| self.lock().get_batch_array::<u16>(indices))
                        .map_err(fail)?;
                    Ok(PyArray::from_owned_array(py, array).into_any())
                }
                _ => {
                    let array = py
                        .detach(|| self.lock().get_batch_array::<u8>(indices))
                        .map_err(fail)?;
                    Ok(PyArray::from_owned_array(py, array).into_any())
                }
            }
        })
    }
}

#[pymethods]
impl VideoReader {
    /// Opens ``path`` (a path or a URI such as ``file:///...``) and indexes its frames (a
    /// scan without decoding, cached per file for the process). ``format``: the raw format
    /// frames are converted to (``"RGB"``, ``"GRAY8"``, ...); ``None`` keeps the decoder's
    /// own (often ``I420``, planar: frames then have ``planes`` but no batches). ``timeout``:
    /// seconds without progress before ``TimeoutError``. ``index_cache``: the directory frame
    /// indexes are saved in, so later processes load them instead of scanning again (default
    /// ``$GSTPIPE_INDEX_CACHE``, else ``$XDG_CACHE_HOME/gstpipe/index``; ``None``: nowhere).
    /// ``stream``: which video stream to read (0: the first; audio is not counted).
    /// ``upright``: turn frames upright when the file has a display rotation (phones' MP4/MOV;
    /// the default, as players show them); ``False``: as stored, like PyAV. ``deinterlace``:
    /// deinterlace interlaced video (``linear``, one frame per frame; default: frames as
    /// decoded, fields woven). ``size=(width, height)``: frames scaled to that size
    /// (bilinear, e.g. ``(256, 256)`` for a model). ``path``
    /// is a ``str`` or ``os.PathLike``. Raises ``OpenError`` for a missing file or one that is
    /// not a regular file (a FIFO would block), ``PipelineError`` for one GStreamer cannot
    /// demux or decode.
    #[new]
    #[allow(clippy::too_many_arguments, reason = "Python keyword arguments")]
    #[pyo3(signature = (path, format=None, *, timeout=10.0, index_cache=IndexCacheArg::Default, stream=0, upright=true, deinterlace=false, size=None))]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        format: Option<&str>,
        timeout: Option<f64>,
        index_cache: IndexCacheArg,
        stream: usize,
        upright: bool,
        deinterlace: bool,
        size: Option<(u32, u32)>,
    ) -> PyResult<Self> {
        guard_py(|| {
            // `str` or `os.PathLike` (pathlib.Path); the reader takes UTF-8 paths and URIs.
            let path = path.to_str().ok_or_else(|| {
                pyo3::exceptions::PyValueError::new_err(format!(
                    "VideoReader needs a UTF-8 path, got {}",
                    path.display()
                ))
            })?;
            let mut builder = RustReader::builder()
                .stream(stream)
                .upright(upright)
                .deinterlace(deinterlace);
            if let Some(format) = format {
                builder = builder.format(parse(py, format)?);
            }
            if let Some(timeout) = timeout_arg(py, timeout)? {
                builder = builder.timeout(timeout);
            }
            if let Some((width, height)) = size {
                if width == 0 || height == 0 {
                    return Err(pyo3::exceptions::PyValueError::new_err(format!(
                        "size must be (width, height) of at least 1 pixel, got ({width}, {height})"
                    )));
                }
                builder = builder.size(width, height);
            }
            match index_cache {
                IndexCacheArg::Default => {}
                IndexCacheArg::Off => builder = builder.index_cache(None),
                IndexCacheArg::Dir(dir) => builder = builder.index_cache(Some(dir)),
            }
            let reader = py
                .detach(|| builder.open(path))
                .map_err(|e| media_error(py, &e))?;
            Ok(VideoReader {
                len: reader.len(),
                info: reader.info().clone(),
                pts: reader.pts().iter().map(|t| t.nseconds()).collect(),
                keyframes: reader.keyframes().to_vec(),
                uri: reader.uri().to_owned(),
                index_origin: reader.index_origin(),
                streams: reader.streams().to_vec(),
                video_stream: reader.video_stream(),
                reader: Mutex::new(reader),
            })
        })
    }

    /// The exact number of frames.
    fn __len__(&self) -> usize {
        self.len
    }

    /// ``reader[i]``: frame ``i`` as a ``Frame`` (negative: from the end). ``reader[a:b:s]``:
    /// those frames as one numpy array ``(N, height, width, channels)``.
    fn __getitem__<'py>(
        slf: &Bound<'py, Self>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard_py(|| {
            let py = slf.py();
            let this = slf.get();
            if let Ok(slice) = key.cast::<PySlice>() {
                let range = slice.indices(this.len as isize)?;
                let indices: Vec<usize> = (0..range.slicelength)
                    .map(|k| (range.start + k as isize * range.step) as usize)
                    .collect();
                return this.batch(py, &indices);
            }
            let i = index_arg(key, this.len)?;
            let frame = py
                .detach(|| this.lock().get(i))
                .map_err(|e| media_error(py, &e))?;
            Ok(Bound::new(py, Frame::new(frame))?.into_any())
        })
    }

    /// The frames at ``indices`` (any order, repeats allowed, negative from the end) as one
    /// numpy array ``(N, height, width, channels)``: read in ascending order, each decoded
    /// once, reading forward rather than seeking when that is cheaper.
    fn get_batch<'py>(
        &self,
        py: Python<'py>,
        indices: Vec<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard_py(|| {
            let indices = indices
                .iter()
                .map(|i| index_arg(i, self.len))
                .collect::<PyResult<Vec<_>>>()?;
            self.batch(py, &indices)
        })
    }

    /// Moves to ``time`` seconds (in the stream's pts time): on the frame showing then
    /// (``exact=True``) or on the keyframe before it. Returns that frame's index; the next
    /// ``read()`` returns it. ``IndexError`` for a time at or past the end.
    #[pyo3(signature = (time, exact=true))]
    fn seek(&self, py: Python<'_>, time: f64, exact: bool) -> PyResult<usize> {
        guard_py(|| {
            let t = Duration::try_from_secs_f64(time).map_err(|_| {
                pyo3::exceptions::PyValueError::new_err(format!(
                    "time must be a number of seconds >= 0, got {time}"
                ))
            })?;
            let mode = if exact {
                SeekMode::Exact
            } else {
                SeekMode::Keyframe
            };
            py.detach(|| self.lock().seek_time(t, mode))
                .map_err(|e| media_error(py, &e))
        })
    }

    /// The frame at ``position``, then the next on the following call (sequential decoding);
    /// ``None`` after the last frame.
    fn read(&self, py: Python<'_>) -> PyResult<Option<Frame>> {
        guard_py(|| match py.detach(|| self.lock().read()) {
            None => Ok(None),
            Some(Ok(frame)) => Ok(Some(Frame::new(frame))),
            Some(Err(e)) => Err(media_error(py, &e)),
        })
    }

    /// The index of the frame ``read()`` returns next.
    #[getter]
    fn position(&self, py: Python<'_>) -> usize {
        py.detach(|| self.lock().position())
    }

    /// Frames per second: nominal for constant-rate video, the average for variable-rate.
    #[getter]
    fn fps(&self) -> f64 {
        self.info.fps
    }

    /// Whether the frames are not evenly spaced in time.
    #[getter]
    fn variable_rate(&self) -> bool {
        self.info.variable_rate
    }

    /// The duration in seconds.
    #[getter]
    fn duration(&self) -> f64 {
        self.info.duration.as_secs_f64()
    }

    /// Every frame's presentation timestamp in seconds, frame ``i`` at ``pts[i]``, ascending
    /// (the first is not necessarily 0: B-frame reordering delays it).
    #[getter]
    fn pts(&self) -> Vec<f64> {
        self.pts.iter().map(|&t| t as f64 / 1e9).collect()
    }

    /// Every frame's presentation timestamp in nanoseconds (``Frame.pts_ns`` of frame ``i``).
    #[getter]
    fn pts_ns(&self) -> Vec<u64> {
        self.pts.clone()
    }

    /// The indices of the keyframes (empty when the index does not know them).
    #[getter]
    fn keyframes(&self) -> Vec<usize> {
        self.keyframes.clone()
    }

    /// Frame width in pixels.
    #[getter]
    fn width(&self) -> u32 {
        self.info.width
    }

    /// Frame height in pixels.
    #[getter]
    fn height(&self) -> u32 {
        self.info.height
    }

    /// The raw format frames come in (``"RGB"``, ``"I420"``, ...).
    #[getter]
    fn format(&self) -> String {
        self.info.format.to_str().to_string()
    }

    /// Short codec name: ``"h264"``, ``"vp8"``, ``"mjpeg"``, ``"raw"``, ...
    #[getter]
    fn codec(&self) -> String {
        self.info.codec.clone()
    }

    /// How many warnings GStreamer posted while indexing and decoding (damaged data the
    /// decoder recovered from).
    #[getter]
    fn warnings(&self, py: Python<'_>) -> u64 {
        py.detach(|| self.lock().warnings())
    }

    /// Every stream of the file in the demuxer's order, as ``{"kind": "video" | "audio" |
    /// "text" | "other", "codec": ...}``; the reader reads the ``stream``-th video stream.
    #[getter]
    fn streams<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        guard_py(|| {
            let items = self
                .streams
                .iter()
                .map(|s| {
                    let d = PyDict::new(py);
                    d.set_item("kind", &s.kind)?;
                    d.set_item("codec", &s.codec)?;
                    Ok(d)
                })
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)
        })
    }

    /// How the decoded frames are interlaced: ``"progressive"``, ``"interleaved"``,
    /// ``"mixed"``, ...
    #[getter]
    fn interlace_mode(&self) -> &str {
        &self.info.interlace_mode
    }

    /// ``"top-field-first"`` or ``"bottom-field-first"`` for interlaced video, else ``None``.
    #[getter]
    fn field_order(&self) -> Option<&str> {
        self.info.field_order.as_deref()
    }

    /// Degrees (0, 90, 180, 270) the stored frames are turned clockwise to show them upright
    /// (the container's display rotation).
    #[getter]
    fn rotation(&self) -> u32 {
        self.info.rotation
    }

    /// Whether frames are turned upright by the reader (``upright=True`` and a rotation to
    /// undo); ``width`` and ``height`` are then the upright frame's.
    #[getter]
    fn upright(&self) -> bool {
        self.info.upright
    }

    /// Which video stream is read (0: the first; audio and other streams are not counted).
    #[getter]
    fn stream(&self) -> usize {
        self.video_stream
    }

    /// Where the frame index came from: ``"scanned"`` (at open), ``"process"`` (an earlier
    /// reader of the file in this process) or ``"saved"`` (the index an earlier scan saved
    /// on disk, in ``index_cache``).
    #[getter]
    fn index_origin(&self) -> &'static str {
        match self.index_origin {
            IndexOrigin::Saved => "saved",
            IndexOrigin::Process => "process",
            _ => "scanned",
        }
    }

    /// The frames found not to decode so far (damaged data), ascending; reading one raises
    /// ``gstpipe.Error`` ("did not decode") at once. ``verify()`` finds them all.
    #[getter]
    fn lost_frames(&self, py: Python<'_>) -> Vec<usize> {
        py.detach(|| self.lock().lost_frames())
    }

    /// Decodes every frame once (a full decode, without the GIL) and returns the frames that
    /// did not decode (damaged data), ascending.
    fn verify(&self, py: Python<'_>) -> PyResult<Vec<usize>> {
        guard_py(|| {
            py.detach(|| self.lock().verify())
                .map_err(|e| media_error(py, &e))
        })
    }

    /// The URI being read.
    #[getter]
    fn uri(&self) -> &str {
        &self.uri
    }

    fn __repr__(&self) -> String {
        let info = &self.info;
        format!(
            "<gstpipe.VideoReader {} frames {}x{} {} {} {:.3} fps {:?}>",
            info.frames,
            info.width,
            info.height,
            info.codec,
            info.format.to_str(),
            info.fps,
            self.uri
        )
    }
}
