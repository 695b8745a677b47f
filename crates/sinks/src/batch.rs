//! [`FrameSink::batches`]: N frames as one contiguous `(N, H, W, C)` array.

use crate::error::SinkError;
use crate::sink::FrameSink;
use gstpipe_frame::SampleValue;
use ndarray::{Array4, ArrayViewMut4, Axis};
use std::marker::PhantomData;

/// Frames stacked into one contiguous array, as models take them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FrameBatch<T> {
    /// `(frames, height, width, channels)`, standard (C) layout.
    pub array: Array4<T>,
    /// Each frame's presentation timestamp, in order.
    pub pts: Vec<Option<gst::ClockTime>>,
}

impl<T> FrameBatch<T> {
    /// The number of frames in the batch (the last one may be short).
    pub fn len(&self) -> usize {
        self.pts.len()
    }

    /// Whether the batch holds no frame (never true for batches the iterator yields).
    pub fn is_empty(&self) -> bool {
        self.pts.is_empty()
    }
}

impl<T: SampleValue> FrameBatch<T> {
    /// Stacks frames you already hold into one batch, copying each frame once (row by row,
    /// skipping row padding). Every frame must be one packed array of the same shape:
    /// otherwise [`SinkError::CapsChanged`] (or the frame's own error) names what differs.
    /// An empty slice gives an empty batch of shape `(0, 0, 0, 0)`.
    pub fn from_frames(frames: &[gstpipe_frame::Frame]) -> Result<Self, SinkError> {
        let mut stack = Stack::new("FrameBatch::from_frames", frames.len());
        for frame in frames {
            stack.push(frame)?;
        }
        Ok(stack.finish())
    }

    /// Copies `frames` into `out`, an array you keep between batches, of shape
    /// `(frames.len(), height, width, channels)`: no allocation, so filling a reused array
    /// runs at copy speed where [`FrameBatch::from_frames`] also pays for fresh memory. Returns the
    /// frames' timestamps. A frame of another shape, or an array of the wrong shape, is an
    /// error ([`SinkError::BatchShape`]); `out` may then be partly written.
    pub fn stack_into(
        frames: &[gstpipe_frame::Frame],
        mut out: ArrayViewMut4<'_, T>,
    ) -> Result<Vec<Option<gst::ClockTime>>, SinkError> {
        let found = {
            let (n, h, w, c) = out.dim();
            [n, h, w, c]
        };
        let mut pts = Vec::with_capacity(frames.len());
        for (i, frame) in frames.iter().enumerate() {
            let [h, w, c] = frame.view::<T>()?.dim().into();
            let expected = [frames.len(), h, w, c];
            if expected != found {
                return Err(SinkError::BatchShape { expected, found });
            }
            // The one strided copy (gstpipe-frame), straight into the batch's slot.
            frame.copy_into(out.index_axis_mut(Axis(0), i))?;
            pts.push(frame.pts());
        }
        if frames.is_empty() && found[0] != 0 {
            return Err(SinkError::BatchShape {
                expected: [0, found[1], found[2], found[3]],
                found,
            });
        }
        Ok(pts)
    }
}

impl FrameSink {
    /// Batches of `n` frames as [`FrameBatch`]es of `T` samples (`u8` or `u16`, as the format
    /// holds): each frame is copied once into the batch's array. The last batch is partial
    /// when the stream ends; the pipeline's error, a timeout, a frame of a format that is
    /// not one packed array (add `videoconvert` and caps such as `format=RGB`) or a change of
    /// frame size in the middle of a batch ([`SinkError::CapsChanged`]) is yielded as an
    /// error, and the iterator ends.
    ///
    /// ```
    /// use gstpipe_core::Pipeline;
    /// use gstpipe_sinks::FrameSink;
    ///
    /// let pipeline = Pipeline::launch(
    ///     "videotestsrc num-buffers=10 ! video/x-raw,format=RGB,width=32,height=24 ! appsink",
    /// )?;
    /// let sink = FrameSink::new(&pipeline)?;
    /// pipeline.play()?;
    /// let sizes: Vec<usize> = sink.batches::<u8>(4).map(|b| b.map(|b| b.len())).collect::<Result<_, _>>()?;
    /// assert_eq!(sizes, [4, 4, 2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn batches<T: SampleValue>(&self, n: usize) -> Batches<'_, T> {
        assert!(n > 0, "a batch holds at least one frame");
        Batches {
            sink: self,
            n,
            done: false,
            _samples: PhantomData,
        }
    }
}

/// The iterator of [`FrameSink::batches`].
#[derive(Debug)]
#[must_use = "iterators do nothing unless consumed"]
pub struct Batches<'a, T> {
    sink: &'a FrameSink,
    n: usize,
    done: bool,
    _samples: PhantomData<fn() -> T>,
}

impl<T: SampleValue> Batches<'_, T> {
    fn fail(&mut self, error: SinkError) -> Option<Result<FrameBatch<T>, SinkError>> {
        self.done = true;
        Some(Err(error))
    }
}

impl<T: SampleValue> Iterator for Batches<'_, T> {
    type Item = Result<FrameBatch<T>, SinkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut stack = Stack::new(&self.sink.name, self.n);
        while stack.len() < self.n {
            let frame = match self.sink.pull() {
                None => {
                    self.done = true;
                    break;
                }
                Some(Err(e)) => return self.fail(e),
                Some(Ok(frame)) => frame,
            };
            if let Err(e) = stack.push(&frame) {
                return self.fail(e);
            }
        }
        (!stack.is_empty()).then(|| Ok(stack.finish()))
    }
}

impl<T: SampleValue> std::iter::FusedIterator for Batches<'_, T> {}

/// Frames being stacked into one batch: checks that shapes agree and copies each once.
struct Stack<'a, T> {
    element: &'a str,
    capacity: usize,
    data: Vec<T>,
    pts: Vec<Option<gst::ClockTime>>,
    shape: Option<[usize; 3]>,
}

impl<'a, T: SampleValue> Stack<'a, T> {
    fn new(element: &'a str, capacity: usize) -> Self {
        Stack {
            element,
            capacity,
            data: Vec::new(),
            pts: Vec::with_capacity(capacity),
            shape: None,
        }
    }

    fn len(&self) -> usize {
        self.pts.len()
    }

    fn is_empty(&self) -> bool {
        self.pts.is_empty()
    }

    fn push(&mut self, frame: &gstpipe_frame::Frame) -> Result<(), SinkError> {
        let [h, w, c] = frame.plane_shapes().first().copied().unwrap_or_default();
        match self.shape {
            None => {
                self.shape = Some([h, w, c]);
                self.data.reserve_exact(self.capacity * h * w * c);
            }
            Some(expected) if expected != [h, w, c] => {
                return Err(SinkError::CapsChanged {
                    element: self.element.to_string(),
                    expected,
                    found: [h, w, c],
                });
            }
            Some(_) => {}
        }
        frame.append_to(&mut self.data)?;
        self.pts.push(frame.pts());
        Ok(())
    }

    fn finish(self) -> FrameBatch<T> {
        let [h, w, c] = self.shape.unwrap_or([0; 3]);
        let array = Array4::from_shape_vec((self.pts.len(), h, w, c), self.data)
            .expect("one (h, w, c) frame appended per timestamp");
        FrameBatch {
            array,
            pts: self.pts,
        }
    }
}
#[cfg(test)]
mod tests {
    use super::FrameBatch as Batch;
    use gst_video::{VideoFormat, VideoInfo};
    use gstpipe_frame::Frame;
    use ndarray::{Array4, Axis};

    /// Frames of `info`'s default layout whose byte `i` is `(i + seed) % 251`.
    fn frames(info: &VideoInfo, n: usize) -> Vec<Frame> {
        (0..n)
            .map(|seed| {
                let data: Vec<u8> = (0..info.size()).map(|i| ((i + seed) % 251) as u8).collect();
                Frame::from_buffer(gst::Buffer::from_mut_slice(data), info).unwrap()
            })
            .collect()
    }

    #[test]
    fn batches_skip_padding_and_convert_big_endian() {
        gst::init().unwrap();
        // Odd width: rows of 15 bytes in GStreamer's default 16-byte stride; GRAY16_BE rows
        // of 6 bytes in 8: each batch slot must equal the frame's own copy.
        for info in [
            VideoInfo::builder(VideoFormat::Rgb, 5, 3).build().unwrap(),
            VideoInfo::builder(VideoFormat::Gray16Be, 3, 2)
                .build()
                .unwrap(),
        ] {
            let frames = frames(&info, 3);
            let sample = gstpipe_frame::sample_type(info.format());
            if sample == gstpipe_frame::SampleType::U8 {
                let batch = Batch::<u8>::from_frames(&frames).unwrap();
                let mut reused = Array4::<u8>::zeros(batch.array.dim());
                Batch::stack_into(&frames, reused.view_mut()).unwrap();
                assert_eq!(reused, batch.array);
                for (i, frame) in frames.iter().enumerate() {
                    let mut expected = Vec::new();
                    for row in 0..3 {
                        let bytes = frame.plane_bytes(0).unwrap();
                        expected.extend_from_slice(&bytes[row * 16..row * 16 + 15]);
                    }
                    let slot: Vec<u8> =
                        batch.array.index_axis(Axis(0), i).iter().copied().collect();
                    assert_eq!(slot, expected);
                }
            } else {
                let batch = Batch::<u16>::from_frames(&frames).unwrap();
                for (i, frame) in frames.iter().enumerate() {
                    let bytes = frame.plane_bytes(0).unwrap();
                    let expected: Vec<u16> = (0..2)
                        .flat_map(|row| {
                            bytes[row * 8..row * 8 + 6]
                                .chunks_exact(2)
                                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                        })
                        .collect();
                    let slot: Vec<u16> =
                        batch.array.index_axis(Axis(0), i).iter().copied().collect();
                    assert_eq!(slot, expected);
                }
            }
        }
    }
}
