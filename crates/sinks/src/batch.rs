//! [`FrameSink::batches`]: N frames as one contiguous `(N, H, W, C)` array.

use crate::error::SinkError;
use crate::sink::FrameSink;
use gstpipe_frame::Sample;
use ndarray::{Array4, ArrayView3};
use std::marker::PhantomData;

/// Frames stacked into one contiguous array, as models take them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Batch<T> {
    /// `(frames, height, width, channels)`, standard (C) layout.
    pub array: Array4<T>,
    /// Each frame's presentation timestamp, in order.
    pub pts: Vec<Option<gst::ClockTime>>,
}

impl<T> Batch<T> {
    /// The number of frames in the batch (the last one may be short).
    pub fn len(&self) -> usize {
        self.pts.len()
    }

    /// Whether the batch holds no frame (never true for batches the iterator yields).
    pub fn is_empty(&self) -> bool {
        self.pts.is_empty()
    }
}

impl FrameSink {
    /// Batches of `n` frames as [`Batch`]es of `T` samples (`u8` or `u16`, as the format
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
    pub fn batches<T: Sample>(&self, n: usize) -> Batches<'_, T> {
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

impl<T: Sample> Batches<'_, T> {
    fn fail(&mut self, error: SinkError) -> Option<Result<Batch<T>, SinkError>> {
        self.done = true;
        Some(Err(error))
    }
}

impl<T: Sample> Iterator for Batches<'_, T> {
    type Item = Result<Batch<T>, SinkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut data: Vec<T> = Vec::new();
        let mut pts = Vec::with_capacity(self.n);
        let mut shape: Option<[usize; 3]> = None;
        while pts.len() < self.n {
            let frame = match self.sink.pull() {
                None => {
                    self.done = true;
                    break;
                }
                Some(Err(e)) => return self.fail(e),
                Some(Ok(frame)) => frame,
            };
            let view = match frame.view::<T>() {
                Ok(view) => view,
                Err(e) => return self.fail(e.into()),
            };
            let (h, w, c) = view.dim();
            let found = [h, w, c];
            match shape {
                None => {
                    shape = Some(found);
                    data.reserve_exact(self.n * h * w * c);
                }
                Some(expected) if expected != found => {
                    return self.fail(SinkError::CapsChanged {
                        element: self.sink.name.clone(),
                        expected,
                        found,
                    });
                }
                Some(_) => {}
            }
            append(&mut data, view);
            pts.push(frame.pts());
        }
        let [h, w, c] = shape?;
        let array = Array4::from_shape_vec((pts.len(), h, w, c), data)
            .expect("one (h, w, c) frame appended per timestamp");
        Some(Ok(Batch { array, pts }))
    }
}

impl<T: Sample> std::iter::FusedIterator for Batches<'_, T> {}

/// Appends a frame's samples in logical (row-major) order, row by row where rows are
/// contiguous (the usual case: only row padding between them).
fn append<T: Sample>(data: &mut Vec<T>, view: ArrayView3<'_, T>) {
    for row in view.outer_iter() {
        match row.as_slice() {
            Some(samples) => data.extend_from_slice(samples),
            None => data.extend(row.iter().copied()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::append;
    use ndarray::{Array3, s};

    #[test]
    fn append_skips_row_padding_and_follows_logical_order() {
        // A padded layout: 3 rows of 2 pixels x 2 channels inside rows of 3 pixels.
        let padded = Array3::<u8>::from_shape_fn((3, 3, 2), |(y, x, c)| (y * 10 + x * 2 + c) as u8);
        let view = padded.slice(s![.., ..2, ..]);
        let mut out = Vec::new();
        append(&mut out, view);
        let expected: Vec<u8> = view.iter().copied().collect();
        assert_eq!(out, expected);
        assert_eq!(out, [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
        // A view with reversed columns (no contiguous rows) goes element by element.
        let mut out = Vec::new();
        append(&mut out, padded.slice(s![..1, ..;-1, ..]));
        assert_eq!(out, [4, 5, 2, 3, 0, 1]);
    }
}
