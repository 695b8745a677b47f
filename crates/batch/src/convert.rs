//! Batches into model inputs: `(N, H, W, C)` u8 copies and the fused u8 -> normalised f32
//! `(N, C, H, W)` conversion, written into arrays the caller keeps.

use crate::batcher::Batch;
use crate::error::BatchError;
use ndarray::{Array4, ArrayView3, ArrayViewMut3, ArrayViewMut4};

/// `y = (x * scale - mean[c]) / std[c]` per channel `c`, applied while converting `u8` samples
/// to `f32`. `mean` and `std` hold one value per channel, or one value for all.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalize {
    /// Multiplies every sample first (`1.0 / 255.0` maps `0..=255` to `0..=1`).
    pub scale: f32,
    /// Subtracted per channel after scaling.
    pub mean: Vec<f32>,
    /// Divides per channel last.
    pub std: Vec<f32>,
}

impl Default for Normalize {
    /// [`Normalize::unit`].
    fn default() -> Self {
        Normalize::unit()
    }
}

impl Normalize {
    /// Any scale, mean and standard deviation.
    pub fn new(scale: f32, mean: impl Into<Vec<f32>>, std: impl Into<Vec<f32>>) -> Self {
        Normalize {
            scale,
            mean: mean.into(),
            std: std.into(),
        }
    }

    /// `x / 255`: samples in `0..=1`.
    pub fn unit() -> Self {
        Normalize::new(1.0 / 255.0, [0.0], [1.0])
    }

    /// `x` as it is, as `f32`.
    pub fn identity() -> Self {
        Normalize::new(1.0, [0.0], [1.0])
    }

    /// The ImageNet statistics most vision models are trained with, for RGB frames:
    /// scale `1/255`, mean `[0.485, 0.456, 0.406]`, std `[0.229, 0.224, 0.225]`.
    pub fn imagenet() -> Self {
        Normalize::new(1.0 / 255.0, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    }

    /// The value every `u8` sample of every channel becomes: `channels` tables of 256 values,
    /// computed exactly as `(x as f32 * scale - mean[c]) / std[c]`.
    ///
    /// # Errors
    /// [`BatchError::Normalize`] when `mean` or `std` has neither 1 nor `channels` values, or a
    /// standard deviation is zero or not finite.
    pub fn tables(&self, channels: usize) -> Result<Vec<[f32; 256]>, BatchError> {
        let per_channel = |what: &str, values: &[f32]| -> Result<Vec<f32>, BatchError> {
            match values.len() {
                1 => Ok(vec![values[0]; channels]),
                n if n == channels => Ok(values.to_vec()),
                n => Err(BatchError::Normalize(format!(
                    "{what} has {n} values for frames of {channels} channels: give 1 or {channels}"
                ))),
            }
        };
        let mean = per_channel("mean", &self.mean)?;
        let std = per_channel("std", &self.std)?;
        if let Some(bad) = std.iter().find(|s| **s == 0.0 || !s.is_finite()) {
            return Err(BatchError::Normalize(format!(
                "std {bad} cannot divide: every std must be finite and non-zero"
            )));
        }
        Ok(mean
            .iter()
            .zip(&std)
            .map(|(&m, &s)| std::array::from_fn(|x| (x as f32 * self.scale - m) / s))
            .collect())
    }
}

impl Batch {
    /// The batch's `(N, H, W, C)` shape, `N` being the number of slots.
    pub fn shape_nhwc(&self) -> Option<[usize; 4]> {
        self.frame_shape().map(|[h, w, c]| [self.len(), h, w, c])
    }

    /// The batch's `(N, C, H, W)` shape.
    pub fn shape_nchw(&self) -> Option<[usize; 4]> {
        self.frame_shape().map(|[h, w, c]| [self.len(), c, h, w])
    }

    /// Each filled slot's `u8` view, checked against the batch's frame shape.
    fn views(&self) -> Result<Vec<Option<ArrayView3<'_, u8>>>, BatchError> {
        let Some(([h, w, c], reference)) = self.shape else {
            // No frame could set the shape: report the first frame's own error.
            let slot = self.slots.iter().flatten().next();
            let error = slot.and_then(|s| s.frame.view::<u8>().err().map(|e| (s.stream, e)));
            return Err(match error {
                Some((stream, source)) => BatchError::Frame {
                    stream,
                    name: self.name(stream),
                    source,
                },
                None => BatchError::Output {
                    expected: [self.len(), 0, 0, 0],
                    found: [self.len(), 0, 0, 0],
                    standard: true,
                },
            });
        };
        self.slots
            .iter()
            .map(|slot| {
                let Some(slot) = slot else { return Ok(None) };
                let view = slot
                    .frame
                    .view::<u8>()
                    .map_err(|source| BatchError::Frame {
                        stream: slot.stream,
                        name: self.name(slot.stream),
                        source,
                    })?;
                let (fh, fw, fc) = view.dim();
                if [fh, fw, fc] != [h, w, c] {
                    return Err(BatchError::Shape {
                        stream: slot.stream,
                        name: self.name(slot.stream),
                        found: [fh, fw, fc],
                        expected: [h, w, c],
                        reference,
                        reference_name: self.name(reference),
                    });
                }
                Ok(Some(view))
            })
            .collect()
    }

    fn name(&self, stream: usize) -> String {
        self.stream_name(stream).unwrap_or("?").to_string()
    }

    /// Copies the batch into `out`, `(N, H, W, C)` `u8`, contiguous and of exactly that shape
    /// (e.g. a view of memory you own); empty slots are zeros.
    ///
    /// # Errors
    /// [`BatchError::Shape`] for a frame of another size than the batch's (naming the stream
    /// and both shapes), [`BatchError::Frame`] for a frame that is not packed `u8`,
    /// [`BatchError::Output`] for an array of another shape. `out` may be partly written.
    pub fn write_nhwc(&self, out: ArrayViewMut4<'_, u8>) -> Result<(), BatchError> {
        self.views()?;
        let [n, h, w, c] = self.shape_nhwc().unwrap_or_default();
        let dst = contiguous(out, [n, h, w, c])?;
        let frame_len = h * w * c;
        for (slot, dst) in self
            .slots
            .iter()
            .zip(dst.chunks_exact_mut(frame_len.max(1)))
        {
            let Some(slot) = slot else {
                dst.fill(0);
                continue;
            };
            let dst = ArrayViewMut3::from_shape((h, w, c), dst)
                .expect("a chunk of one frame's length has the frame's shape");
            slot.frame
                .copy_into(dst)
                .map_err(|source| BatchError::Frame {
                    stream: slot.stream,
                    name: self.name(slot.stream),
                    source,
                })?;
        }
        Ok(())
    }

    /// Copies the batch into `out`, reshaping it to `(N, H, W, C)` only when its shape differs
    /// (keep one array across batches: after the first, nothing is allocated).
    ///
    /// # Errors
    /// As [`write_nhwc`](Batch::write_nhwc), without `Output`.
    pub fn nhwc_into(&self, out: &mut Array4<u8>) -> Result<(), BatchError> {
        self.views()?;
        reshape(out, self.shape_nhwc().unwrap_or_default());
        self.write_nhwc(out.view_mut())
    }

    /// The batch as a new `(N, H, W, C)` `u8` array.
    ///
    /// # Errors
    /// As [`nhwc_into`](Batch::nhwc_into).
    pub fn to_nhwc(&self) -> Result<Array4<u8>, BatchError> {
        let mut out = Array4::zeros((0, 0, 0, 0));
        self.nhwc_into(&mut out)?;
        Ok(out)
    }

    /// Writes the batch into `out`, `(N, C, H, W)` `f32`, contiguous and of exactly that
    /// shape, normalising in the same pass: every sample is read once and written once, as
    /// `(x * scale - mean[c]) / std[c]` (see [`Normalize::tables`]). Rows are read with their
    /// strides; each channel becomes a contiguous plane. Empty slots are zeros.
    ///
    /// # Errors
    /// As [`write_nhwc`](Batch::write_nhwc), and [`BatchError::Normalize`].
    pub fn write_nchw(
        &self,
        out: ArrayViewMut4<'_, f32>,
        normalize: &Normalize,
    ) -> Result<(), BatchError> {
        let views = self.views()?;
        let [n, c, h, w] = self.shape_nchw().unwrap_or_default();
        let tables = normalize.tables(c)?;
        let dst = contiguous(out, [n, c, h, w])?;
        let frame_len = c * h * w;
        for (view, dst) in views.iter().zip(dst.chunks_exact_mut(frame_len.max(1))) {
            match view {
                None => dst.fill(0.0),
                Some(view) => normalize_frame(view, dst, &tables),
            }
        }
        Ok(())
    }

    /// Writes the batch into `out` as [`write_nchw`](Batch::write_nchw) does, reshaping it
    /// to `(N, C, H, W)` only when its shape differs (keep one array across batches).
    ///
    /// # Errors
    /// As [`write_nchw`](Batch::write_nchw), without `Output`.
    pub fn nchw_into(
        &self,
        out: &mut Array4<f32>,
        normalize: &Normalize,
    ) -> Result<(), BatchError> {
        self.views()?;
        if let Some([_, c, _, _]) = self.shape_nchw() {
            normalize.tables(c)?;
        }
        reshape(out, self.shape_nchw().unwrap_or_default());
        self.write_nchw(out.view_mut(), normalize)
    }

    /// The batch as a new normalised `(N, C, H, W)` `f32` array.
    ///
    /// # Errors
    /// As [`nchw_into`](Batch::nchw_into).
    pub fn to_nchw(&self, normalize: &Normalize) -> Result<Array4<f32>, BatchError> {
        let mut out = Array4::zeros((0, 0, 0, 0));
        self.nchw_into(&mut out, normalize)?;
        Ok(out)
    }
}

/// Replaces `out` with a zeroed array of `shape` unless it already is one, contiguous.
fn reshape<T: Clone + num_zero::Zero>(out: &mut Array4<T>, [n, a, b, c]: [usize; 4]) {
    if out.dim() != (n, a, b, c) || !out.is_standard_layout() {
        *out = Array4::from_elem((n, a, b, c), T::ZERO);
    }
}

mod num_zero {
    /// The zero of the sample types batches are written as.
    pub trait Zero {
        const ZERO: Self;
    }
    impl Zero for u8 {
        const ZERO: u8 = 0;
    }
    impl Zero for f32 {
        const ZERO: f32 = 0.0;
    }
}

/// `out` as one slice, when it has `shape` and standard layout.
fn contiguous<T>(out: ArrayViewMut4<'_, T>, shape: [usize; 4]) -> Result<&mut [T], BatchError> {
    let (n, a, b, c) = out.dim();
    let found = [n, a, b, c];
    let standard = out.is_standard_layout();
    if found != shape || !standard {
        return Err(BatchError::Output {
            expected: shape,
            found,
            standard,
        });
    }
    Ok(out
        .into_slice()
        .expect("a standard-layout array is one slice"))
}

/// The fused conversion of one frame: `(h, w, c)` `u8` rows (any strides) into `c` planes of
/// `h * w` `f32`, through the per-channel tables. One pass over the source rows; each output
/// plane is written sequentially.
fn normalize_frame(view: &ArrayView3<'_, u8>, dst: &mut [f32], tables: &[[f32; 256]]) {
    let (h, w, c) = view.dim();
    let plane = h * w;
    if plane == 0 {
        return;
    }
    match c {
        1 => {
            let t = &tables[0];
            for (y, row) in view.outer_iter().enumerate() {
                let out = &mut dst[y * w..][..w];
                match row.as_slice() {
                    Some(src) => {
                        for (o, &x) in out.iter_mut().zip(src) {
                            *o = t[x as usize];
                        }
                    }
                    None => {
                        for (o, &x) in out.iter_mut().zip(row.iter()) {
                            *o = t[x as usize];
                        }
                    }
                }
            }
        }
        3 => {
            let (p0, rest) = dst.split_at_mut(plane);
            let (p1, p2) = rest.split_at_mut(plane);
            let (t0, t1, t2) = (&tables[0], &tables[1], &tables[2]);
            for (y, row) in view.outer_iter().enumerate() {
                let (o0, o1, o2) = (
                    &mut p0[y * w..][..w],
                    &mut p1[y * w..][..w],
                    &mut p2[y * w..][..w],
                );
                match row.as_slice() {
                    Some(src) => {
                        for (((px, a), b), d) in src
                            .chunks_exact(3)
                            .zip(o0)
                            .zip(o1.iter_mut())
                            .zip(o2.iter_mut())
                        {
                            *a = t0[px[0] as usize];
                            *b = t1[px[1] as usize];
                            *d = t2[px[2] as usize];
                        }
                    }
                    None => generic_row(&row, [o0, o1, o2], tables),
                }
            }
        }
        4 => {
            let (p0, rest) = dst.split_at_mut(plane);
            let (p1, rest) = rest.split_at_mut(plane);
            let (p2, p3) = rest.split_at_mut(plane);
            let (t0, t1, t2, t3) = (&tables[0], &tables[1], &tables[2], &tables[3]);
            for (y, row) in view.outer_iter().enumerate() {
                let (o0, o1, o2, o3) = (
                    &mut p0[y * w..][..w],
                    &mut p1[y * w..][..w],
                    &mut p2[y * w..][..w],
                    &mut p3[y * w..][..w],
                );
                match row.as_slice() {
                    Some(src) => {
                        for ((((px, a), b), d), e) in src
                            .chunks_exact(4)
                            .zip(o0)
                            .zip(o1.iter_mut())
                            .zip(o2.iter_mut())
                            .zip(o3.iter_mut())
                        {
                            *a = t0[px[0] as usize];
                            *b = t1[px[1] as usize];
                            *d = t2[px[2] as usize];
                            *e = t3[px[3] as usize];
                        }
                    }
                    None => generic_row(&row, [o0, o1, o2, o3], tables),
                }
            }
        }
        _ => {
            for (y, row) in view.outer_iter().enumerate() {
                for (ch, t) in tables.iter().enumerate() {
                    let out = &mut dst[ch * plane + y * w..][..w];
                    for (o, &x) in out.iter_mut().zip(row.column(ch)) {
                        *o = t[x as usize];
                    }
                }
            }
        }
    }
}

/// One row whose pixels are not tightly packed, channel by channel.
fn generic_row<const C: usize>(
    row: &ndarray::ArrayView2<'_, u8>,
    out: [&mut [f32]; C],
    tables: &[[f32; 256]],
) {
    for (ch, (o, t)) in out.into_iter().zip(tables).enumerate() {
        for (o, &x) in o.iter_mut().zip(row.column(ch)) {
            *o = t[x as usize];
        }
    }
}

impl crate::Batcher {
    /// The next batch ([`next_batch`](crate::Batcher::next_batch)), written into `out` as
    /// normalised `(N, C, H, W)` `f32` ([`Batch::nchw_into`]): keep one `out` across batches
    /// and nothing is allocated after the first. The batch is returned too, for its slots'
    /// metadata. `Ok(None)` once every stream has ended.
    ///
    /// # Errors
    /// As [`next_batch`](crate::Batcher::next_batch) and [`Batch::nchw_into`].
    pub fn next_into(
        &mut self,
        out: &mut Array4<f32>,
        normalize: &Normalize,
    ) -> Result<Option<Batch>, BatchError> {
        let Some(batch) = self.next_batch()? else {
            return Ok(None);
        };
        batch.nchw_into(out, normalize)?;
        Ok(Some(batch))
    }

    /// The next batch written into `out` as `(N, H, W, C)` `u8` ([`Batch::nhwc_into`]).
    ///
    /// # Errors
    /// As [`next_batch`](crate::Batcher::next_batch) and [`Batch::nhwc_into`].
    pub fn next_into_u8(&mut self, out: &mut Array4<u8>) -> Result<Option<Batch>, BatchError> {
        let Some(batch) = self.next_batch()? else {
            return Ok(None);
        };
        batch.nhwc_into(out)?;
        Ok(Some(batch))
    }
}
