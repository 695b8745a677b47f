//! Property tests over bad input.
//!
//! Buffers: every format of `formats()`, sizes from 1x1 to 4097x2161 (odd ones included, big
//! ones rare), with or without a hand-added `VideoMeta` (padded strides, shifted and reordered
//! plane offsets, sometimes a zero, negative or too short stride), exactly sized, too large,
//! too small, or split into several memories at random points. A buffer that holds what its
//! caps / meta promise must map; one that does not must be a typed error. Every call on a
//! mapped frame (`view`, `planes`, `to_array`, `planes_to_arrays`, `plane_bytes`, `to_image`,
//! `image_view`) returns exactly what a by-hand reference reads from the buffer's bytes
//! (`offset + y * stride + x * pixel_stride`, big-endian samples swapped), or the typed error
//! the format calls for. Nothing panics.
//!
//! Arrays to buffers: random shapes (right and wrong), sample types, array layouts (sliced,
//! reversed, transposed) and custom strides; wrong input is a typed error naming expected and
//! found, right input round-trips through `Frame`.
//!
//! 64 cases per property by default; `PROPTEST_CASES=N` overrides it (e.g. for a long run).

use std::sync::{Arc, OnceLock};

use gst_video::{VideoFormat, VideoFormatInfo, VideoFrameFlags, VideoInfo, VideoMeta};
use gstpipe_frame::{
    FormatInfo, Frame, FrameError, Layout, SampleType, SampleValue, array_to_buffer, format_info,
    formats, planes_to_buffer, view_to_buffer,
};
#[cfg(feature = "image")]
use image::DynamicImage;
use ndarray::{Array3, ArrayView3, Axis, s};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError};

use crate::util::init;

/// Cases per property unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 64;

/// The default case count, overridden by `PROPTEST_CASES` (the env var always wins:
/// `Config::with_cases` alone would ignore it outside the `proptest!` macro). No failure
/// persistence files: a failure prints its minimal input, and a fixed regression test is
/// added by hand.
pub fn config() -> Config {
    let mut config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = DEFAULT_CASES;
    }
    config
}

fn all_formats() -> &'static [VideoFormat] {
    static ALL: OnceLock<Vec<VideoFormat>> = OnceLock::new();
    ALL.get_or_init(|| {
        init();
        formats().iter().map(FormatInfo::format).collect()
    })
}

fn any_format() -> impl Strategy<Value = VideoFormat> {
    prop::sample::select(all_formats())
}

/// Frame sizes: mostly tiny, some medium, rarely big (up to 4097x2161 and the extremes).
fn dims() -> impl Strategy<Value = (u32, u32)> {
    prop_oneof![
        60 => (1u32..=17, 1u32..=17),
        30 => (1u32..=300, 1u32..=200),
        1 => (1u32..=4097, 1u32..=2161),
        1 => prop_oneof![
            Just((4097u32, 2161u32)),
            Just((4097u32, 1u32)),
            Just((1u32, 2161u32)),
        ],
    ]
}

/// A cheap deterministic byte pattern (no two neighbours alike, every value used).
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    (0..len as u64)
        .map(|i| {
            (i.wrapping_add(seed)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(17)
                >> 56) as u8
        })
        .collect()
}

/// Bytes shared by several `gst::Memory`s without copying.
struct Chunk {
    bytes: Arc<Vec<u8>>,
    start: usize,
    end: usize,
}

impl AsRef<[u8]> for Chunk {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }
}

/// Samples read by hand: `u16` in the byte order the format's name says (`..BE` is big-endian).
fn read_sample(bytes: &[u8], at: usize, size: usize, big_endian: bool) -> u32 {
    if size == 1 {
        u32::from(bytes[at])
    } else if big_endian {
        u32::from(u16::from_be_bytes([bytes[at], bytes[at + 1]]))
    } else {
        u32::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]))
    }
}

fn is_big_endian(format: VideoFormat) -> bool {
    format.to_str().ends_with("BE")
}

/// Rows of plane `plane` as GStreamer computes them (its first component's scaled height).
fn plane_rows(format: VideoFormat, plane: usize, height: u32) -> usize {
    let finfo = VideoFormatInfo::from_format(format);
    match u8::try_from(finfo.component(plane as u32)[0]) {
        Ok(comp) => finfo.scale_height(comp, height) as usize,
        Err(_) => 0,
    }
}

/// Formats `to_image` must handle (hand list, from its documentation).
#[cfg(feature = "image")]
const IMAGE_FORMATS: &[&str] = &[
    "RGB",
    "BGR",
    "RGBx",
    "BGRx",
    "xRGB",
    "xBGR",
    "RGBA",
    "BGRA",
    "ARGB",
    "ABGR",
    "GRAY8",
    "GRAY16_LE",
    "GRAY16_BE",
    "RGBA64_LE",
    "RGBA64_BE",
    "ARGB64_LE",
    "ARGB64_BE",
    "BGRA64_LE",
    "BGRA64_BE",
    "ABGR64_LE",
    "ABGR64_BE",
    "ARGB64",
];

/// A stride that cannot describe rows.
#[derive(Debug, Clone, Copy)]
enum BadStride {
    Zero,
    Negative,
    /// `row_bytes - 1 - n % row_bytes` (zero when that reaches 0).
    Short(usize),
}

/// A hand-made `VideoMeta` layout: planes in a random memory order, `start` bytes in,
/// `gaps[p]` bytes after plane `p`, strides padded by `pads[p]`, maybe one bad stride.
#[derive(Debug, Clone)]
struct MetaPlan {
    start: usize,
    pads: [usize; 4],
    gaps: [usize; 4],
    order: [u8; 4],
    bad: Option<(Index, BadStride)>,
}

#[derive(Debug, Clone, Copy)]
enum SizeChange {
    Exact,
    Extra(usize),
    /// Truncated to `n % end` bytes.
    Short(usize),
}

/// A split point between two memories.
#[derive(Debug, Clone, Copy)]
enum Split {
    /// At byte `n % total`.
    Anywhere(usize),
    /// Where a plane starts (planes in memories of their own, as hardware makes them).
    PlaneStart(Index),
}

#[derive(Debug, Clone)]
struct BufferCase {
    format: VideoFormat,
    width: u32,
    height: u32,
    meta: Option<MetaPlan>,
    size: SizeChange,
    /// Where the bytes are split into memories.
    splits: Vec<Split>,
    via_sample: bool,
    seed: u64,
}

fn meta_plan() -> impl Strategy<Value = MetaPlan> {
    let pad = prop_oneof![3 => Just(0usize), 5 => 0usize..=67, 1 => 0usize..=4096];
    let gap = prop_oneof![3 => Just(0usize), 5 => 0usize..=67];
    let bad = prop_oneof![
        3 => Just(None),
        1 => (any::<Index>(), prop_oneof![
            Just(BadStride::Zero),
            Just(BadStride::Negative),
            any::<usize>().prop_map(BadStride::Short),
        ]).prop_map(Some),
    ];
    (
        prop_oneof![Just(0usize), 0usize..=129],
        prop::array::uniform4(pad),
        prop::array::uniform4(gap),
        any::<[u8; 4]>(),
        bad,
    )
        .prop_map(|(start, pads, gaps, order, bad)| MetaPlan {
            start,
            pads,
            gaps,
            order,
            bad,
        })
}

fn buffer_case() -> impl Strategy<Value = BufferCase> {
    let size = prop_oneof![
        4 => Just(SizeChange::Exact),
        2 => (1usize..=300).prop_map(SizeChange::Extra),
        3 => any::<usize>().prop_map(SizeChange::Short),
    ];
    let splits = prop_oneof![
        3 => Just(Vec::new()),
        2 => prop::collection::vec(
            prop_oneof![
                any::<usize>().prop_map(Split::Anywhere),
                any::<Index>().prop_map(Split::PlaneStart),
            ],
            1..=4,
        ),
    ];
    (
        any_format(),
        dims(),
        prop::option::weighted(0.6, meta_plan()),
        size,
        splits,
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            |(format, (width, height), meta, size, splits, via_sample, seed)| BufferCase {
                format,
                width,
                height,
                meta,
                size,
                splits,
                via_sample,
                seed,
            },
        )
}

/// Where each plane lies in the buffer the test builds.
#[derive(Debug)]
struct Placement {
    offsets: Vec<usize>,
    strides: Vec<i32>,
    /// Bytes each plane occupies (`stride * rows`; the palette 1024; tiled: to the next plane).
    lens: Vec<usize>,
    /// One past the last byte any plane needs.
    end: usize,
    /// A plane has a stride that cannot describe rows.
    bad_stride: bool,
}

fn place(info: &VideoInfo, fi: &FormatInfo, plan: Option<&MetaPlan>) -> Placement {
    let n = fi.n_planes();
    let format = info.format();
    let tiled = fi.layout() == Layout::Tiled;
    let palette = |p: usize| fi.layout() == Layout::Paletted && p == 1;
    let default_offsets = &info.offset()[..n];
    let default_len = |p: usize, stride: i32| -> usize {
        if palette(p) {
            1024
        } else if tiled {
            let next = default_offsets
                .iter()
                .copied()
                .filter(|&o| o > default_offsets[p])
                .min()
                .unwrap_or(info.size());
            next - default_offsets[p]
        } else {
            stride.unsigned_abs() as usize * plane_rows(format, p, info.height())
        }
    };
    let Some(plan) = plan else {
        let strides = info.stride()[..n].to_vec();
        let lens = (0..n).map(|p| default_len(p, strides[p])).collect();
        return Placement {
            offsets: default_offsets.to_vec(),
            strides,
            lens,
            end: info.size(),
            bad_stride: false,
        };
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&p| (plan.order[p], p));
    let mut offsets = vec![0; n];
    let mut strides = info.stride()[..n].to_vec();
    let mut lens = vec![0; n];
    let mut cursor = plan.start;
    let mut end = cursor;
    for &p in &order {
        if !tiled && !palette(p) {
            strides[p] += plan.pads[p] as i32;
        }
        offsets[p] = cursor;
        lens[p] = default_len(p, strides[p]);
        end = cursor + lens[p];
        cursor = end + plan.gaps[p];
    }
    let mut bad_stride = false;
    if let Some((index, bad)) = plan.bad {
        let p = index.index(n);
        if !tiled && !palette(p) {
            let row_bytes = fi
                .plane_shape(p, info.width(), info.height())
                .map(|[_, w, c]| w * c * fi.sample_type().size_bytes());
            strides[p] = match (bad, row_bytes) {
                (BadStride::Zero, _) | (BadStride::Short(_), None) => 0,
                (BadStride::Negative, _) => -strides[p],
                (BadStride::Short(k), Some(row)) => (row - 1 - k % row) as i32,
            };
            bad_stride = true;
        }
    }
    Placement {
        offsets,
        strides,
        lens,
        end,
        bad_stride,
    }
}

/// The frame of `case`'s bytes, as a reference: arrays read by hand.
struct Reference {
    bytes: Arc<Vec<u8>>,
    placement: Placement,
    format: VideoFormat,
    fi: FormatInfo,
    width: u32,
    height: u32,
}

impl Reference {
    fn plane_array(&self, plane: usize) -> Array3<u32> {
        let [h, w, c] = self
            .fi
            .plane_shape(plane, self.width, self.height)
            .expect("representable");
        let size = self.fi.sample_type().size_bytes();
        let be = is_big_endian(self.format);
        let off = self.placement.offsets[plane];
        let stride = self.placement.strides[plane] as usize;
        let bytes = &self.bytes;
        Array3::from_shape_fn((h, w, c), |(y, x, k)| {
            read_sample(bytes, off + y * stride + (x * c + k) * size, size, be)
        })
    }

    fn plane_bytes(&self, plane: usize) -> &[u8] {
        let p = &self.placement;
        let start = p.offsets[plane];
        let end = if self.fi.layout() == Layout::Tiled {
            p.offsets
                .iter()
                .copied()
                .filter(|&o| o > start)
                .min()
                .unwrap_or(self.bytes.len())
        } else {
            start + p.lens[plane]
        };
        &self.bytes[start..end]
    }
}

fn equal<T: Copy + Into<u32>>(got: &ArrayView3<'_, T>, want: &Array3<u32>) -> bool {
    got.shape() == want.shape() && got.iter().zip(want.iter()).all(|(a, b)| (*a).into() == *b)
}

/// Builds the buffer `case` describes; `None` when GStreamer has no `VideoInfo` for it.
fn build(case: &BufferCase) -> Option<(gst::Buffer, VideoInfo, Reference, Vec<usize>)> {
    init();
    let info = VideoInfo::builder(case.format, case.width, case.height)
        .build()
        .ok()?;
    let fi = format_info(case.format).expect("every listed format is described");
    let placement = place(&info, &fi, case.meta.as_ref());
    let total = match case.size {
        SizeChange::Exact => placement.end,
        SizeChange::Extra(n) => placement.end + n,
        SizeChange::Short(n) => n % placement.end.max(1),
    };
    let bytes = Arc::new(pattern(total, case.seed));
    let mut bounds: Vec<usize> = case
        .splits
        .iter()
        .filter(|_| total > 1)
        .map(|split| match *split {
            Split::Anywhere(n) => 1 + n % (total - 1),
            Split::PlaneStart(p) => placement.offsets[p.index(placement.offsets.len())],
        })
        .filter(|&b| b < total)
        .collect();
    bounds.push(0);
    bounds.push(total);
    bounds.sort_unstable();
    bounds.dedup();
    let mut buffer = gst::Buffer::new();
    {
        let b = buffer.get_mut().expect("new buffer is writable");
        for w in bounds.windows(2) {
            b.append_memory(gst::Memory::from_slice(Chunk {
                bytes: Arc::clone(&bytes),
                start: w[0],
                end: w[1],
            }));
        }
        if case.meta.is_some() {
            VideoMeta::add_full(
                b,
                VideoFrameFlags::empty(),
                case.format,
                case.width,
                case.height,
                &placement.offsets,
                &placement.strides,
            )
            .expect("add VideoMeta");
        }
    }
    let reference = Reference {
        bytes,
        placement,
        format: case.format,
        fi,
        width: case.width,
        height: case.height,
    };
    Some((buffer, info, reference, bounds))
}

/// Whether the buffer holds everything its caps / meta promise, where GStreamer will map it:
/// without a meta the whole (merged) buffer; with one, each plane inside the memory holding
/// its first byte (tiled formats: the whole buffer).
fn holds_everything(case: &BufferCase, info: &VideoInfo, r: &Reference, bounds: &[usize]) -> bool {
    let p = &r.placement;
    let total = r.bytes.len();
    if case.meta.is_none() {
        return total >= info.size();
    }
    if p.bad_stride {
        return false;
    }
    (0..r.fi.n_planes()).all(|plane| {
        let (lo, hi) = (p.offsets[plane], p.offsets[plane] + p.lens[plane]);
        if hi > total {
            return false;
        }
        if r.fi.layout() == Layout::Tiled {
            return true;
        }
        // The memory holding byte `lo`: [bounds[i], bounds[i + 1]).
        let i = bounds.partition_point(|&b| b <= lo) - 1;
        hi <= bounds[i + 1]
    })
}

/// A test-side view of `u8` / `u16` with conversions to and from `u32`.
trait TestSample: SampleValue + Into<u32> {
    fn from_u32(v: u32) -> Self;
}

impl TestSample for u8 {
    fn from_u32(v: u32) -> Self {
        v as u8
    }
}

impl TestSample for u16 {
    fn from_u32(v: u32) -> Self {
        v as u16
    }
}

/// Every accessor of `frame` against the reference, for sample type `T` (the format's).
fn check_frame<T: TestSample>(frame: &Frame, r: &Reference) -> Result<(), TestCaseError> {
    let fi = r.fi;
    let n = fi.n_planes();
    let u16_type = T::TYPE == SampleType::U16;
    let foreign = !fi.byte_order().is_native();
    if fi.is_representable() {
        prop_assert_eq!(
            foreign,
            fi.sample_type() == SampleType::U16 && is_big_endian(r.format),
            "byte order"
        );
    }
    prop_assert_eq!((frame.width(), frame.height()), (r.width, r.height));

    // plane_bytes / stride: every format, every plane.
    for p in 0..n {
        let got = frame.plane_bytes(p);
        prop_assert!(got.is_ok(), "plane_bytes({}): {:?}", p, got.err());
        prop_assert!(
            got.unwrap() == r.plane_bytes(p),
            "plane_bytes({}) differs",
            p
        );
        if fi.layout() != Layout::Tiled {
            prop_assert_eq!(frame.stride(p).ok(), Some(r.placement.strides[p] as usize));
        }
    }
    prop_assert!(
        matches!(
            frame.plane_bytes(n),
            Err(FrameError::PlaneOutOfRange { plane, n_planes, .. }) if plane == n && n_planes == n
        ),
        "plane_bytes past the last plane"
    );

    if !fi.is_representable() {
        for result in [
            frame.view::<T>().err(),
            frame.planes::<T>().err(),
            frame.to_array::<T>().err(),
            frame.planes_to_arrays::<T>().err(),
        ] {
            prop_assert!(
                matches!(result, Some(FrameError::NotRepresentable { .. })),
                "{:?}",
                result
            );
        }
        #[cfg(feature = "image")]
        prop_assert!(
            matches!(frame.to_image(), Err(FrameError::ImageUnsupported { .. })),
            "to_image of a non-representable format"
        );
        return Ok(());
    }

    let want: Vec<Array3<u32>> = (0..n).map(|p| r.plane_array(p)).collect();
    for (p, w) in want.iter().enumerate() {
        if !(fi.layout() == Layout::Paletted && p == 1) {
            prop_assert_eq!(
                w.shape()[0],
                plane_rows(r.format, p, r.height),
                "rows of plane {}",
                p
            );
        }
    }

    // Zero-copy views: equal, or refused for a reason the format gives.
    match frame.view::<T>() {
        Ok(v) => {
            prop_assert!(fi.is_packed() && !foreign);
            prop_assert!(equal(&v, &want[0]), "view differs");
        }
        Err(FrameError::NotPacked { .. }) => prop_assert!(!fi.is_packed()),
        Err(FrameError::ForeignByteOrder { .. }) => prop_assert!(fi.is_packed() && foreign),
        Err(FrameError::Misaligned { .. }) => prop_assert!(fi.is_packed() && u16_type),
        Err(e) => prop_assert!(false, "view: {:?}", e),
    }
    match frame.planes::<T>() {
        Ok(views) => {
            prop_assert!(!foreign);
            prop_assert_eq!(views.len(), n);
            for (p, v) in views.iter().enumerate() {
                prop_assert!(equal(v, &want[p]), "plane {} differs", p);
            }
        }
        Err(FrameError::ForeignByteOrder { .. }) => prop_assert!(foreign),
        Err(FrameError::Misaligned { .. }) => prop_assert!(u16_type),
        Err(e) => prop_assert!(false, "planes: {:?}", e),
    }

    // Copies: always work for representable formats, in native order.
    match frame.to_array::<T>() {
        Ok(a) => {
            prop_assert!(fi.is_packed());
            prop_assert!(a.is_standard_layout());
            prop_assert!(equal(&a.view(), &want[0]), "to_array differs");
        }
        Err(FrameError::NotPacked { .. }) => prop_assert!(!fi.is_packed()),
        Err(e) => prop_assert!(false, "to_array: {:?}", e),
    }
    match frame.planes_to_arrays::<T>() {
        Ok(arrays) => {
            prop_assert_eq!(arrays.len(), n);
            for (p, a) in arrays.iter().enumerate() {
                prop_assert!(a.is_standard_layout());
                prop_assert!(equal(&a.view(), &want[p]), "planes_to_arrays {} differs", p);
            }
        }
        Err(e) => prop_assert!(false, "planes_to_arrays: {:?}", e),
    }

    #[cfg(feature = "image")]
    check_image(frame, r, &want[0])?;
    Ok(())
}

/// `to_image` / `image_view`: pixels are the format's components read from the reference.
#[cfg(feature = "image")]
fn check_image(frame: &Frame, r: &Reference, plane0: &Array3<u32>) -> Result<(), TestCaseError> {
    let must = IMAGE_FORMATS.contains(&r.format.to_str().as_str());
    let finfo = VideoFormatInfo::from_format(r.format);
    let size = r.fi.sample_type().size_bytes() as u32;
    let offsets: Vec<usize> = (0..finfo.n_components() as usize)
        .map(|c| (finfo.poffset()[c] / size) as usize)
        .collect();
    match frame.to_image() {
        Ok(image) => {
            prop_assert_eq!((image.width(), image.height()), (r.width, r.height));
            let raw: Vec<u32> = match image {
                DynamicImage::ImageLuma8(b) => b.into_raw().into_iter().map(u32::from).collect(),
                DynamicImage::ImageRgb8(b) => b.into_raw().into_iter().map(u32::from).collect(),
                DynamicImage::ImageRgba8(b) => b.into_raw().into_iter().map(u32::from).collect(),
                DynamicImage::ImageLuma16(b) => b.into_raw().into_iter().map(u32::from).collect(),
                DynamicImage::ImageRgb16(b) => b.into_raw().into_iter().map(u32::from).collect(),
                DynamicImage::ImageRgba16(b) => b.into_raw().into_iter().map(u32::from).collect(),
                other => return Err(TestCaseError::fail(format!("{:?}", other.color()))),
            };
            let k = offsets.len();
            prop_assert_eq!(raw.len(), r.width as usize * r.height as usize * k);
            let c = plane0.shape()[2];
            let want = plane0.as_slice().expect("standard layout");
            let pixels = raw.chunks_exact(k).zip(want.chunks_exact(c));
            for (i, (got, px)) in pixels.enumerate() {
                let expected = offsets.iter().map(|&o| px[o]);
                prop_assert!(
                    got.iter().copied().eq(expected),
                    "to_image pixel {} differs",
                    i
                );
            }
        }
        Err(FrameError::ImageUnsupported { .. }) => prop_assert!(!must, "to_image refused"),
        Err(e) => prop_assert!(false, "to_image: {:?}", e),
    }
    match frame.image_view() {
        Ok(flat) => {
            let channels = flat.layout.channels;
            prop_assert_eq!((flat.layout.width, flat.layout.height), (r.width, r.height));
            let first = offsets[0];
            // Every pixel of small images; first, middle and last rows of big ones.
            let rows: Vec<u32> = if r.width * r.height <= 65_536 {
                (0..r.height).collect()
            } else {
                vec![0, r.height / 2, r.height - 1]
            };
            for y in rows {
                for x in 0..r.width {
                    for c in 0..channels {
                        let got = flat.get_sample(c, x, y).copied().map(u32::from);
                        let want = plane0[[y as usize, x as usize, first + c as usize]];
                        prop_assert_eq!(got, Some(want), "image_view at {},{},{}", x, y, c);
                    }
                }
            }
        }
        Err(FrameError::ImageViewUnsupported { .. }) => {}
        Err(e) => prop_assert!(false, "image_view: {:?}", e),
    }
    Ok(())
}

fn run_buffer_case(case: &BufferCase) -> Result<(), TestCaseError> {
    let Some((buffer, info, reference, bounds)) = build(case) else {
        return Ok(());
    };
    let holds = holds_everything(case, &info, &reference, &bounds);
    let result = if case.via_sample {
        let sample = gst::Sample::builder()
            .caps(&info.to_caps().expect("caps"))
            .buffer(&buffer)
            .build();
        drop(buffer);
        Frame::from_sample(&sample)
    } else {
        Frame::from_buffer(buffer, &info)
    };
    let frame = match result {
        Ok(frame) => frame,
        Err(e) => {
            prop_assert!(
                !holds,
                "a buffer holding everything was refused: {:?} ({:?})",
                e,
                reference.placement
            );
            let allowed = match &e {
                FrameError::BufferTooSmall {
                    expected, found, ..
                } => found < expected,
                FrameError::InvalidStride { .. } => reference.placement.bad_stride,
                FrameError::Map { .. } => true,
                _ => false,
            };
            prop_assert!(allowed, "unexpected error {:?}", e);
            prop_assert!(!e.to_string().is_empty());
            return Ok(());
        }
    };
    prop_assert!(
        holds,
        "a buffer missing bytes was accepted ({} bytes, {:?})",
        reference.bytes.len(),
        reference.placement
    );
    match reference.fi.sample_type() {
        SampleType::U16 => {
            prop_assert!(
                matches!(
                    frame.view::<u8>(),
                    Err(FrameError::WrongSampleType { .. } | FrameError::NotPacked { .. })
                ),
                "u8 view of a u16 format"
            );
            check_frame::<u16>(&frame, &reference)
        }
        SampleType::U8 => {
            prop_assert!(
                matches!(
                    frame.planes::<u16>(),
                    Err(FrameError::WrongSampleType { .. })
                ),
                "u16 planes of a u8 format"
            );
            check_frame::<u8>(&frame, &reference)
        }
        SampleType::None => check_frame::<u8>(&frame, &reference),
    }
}

proptest! {
    #![proptest_config(config())]

    /// Random buffers, layouts and sizes: reference values or typed errors.
    #[test]
    fn buffers_read_like_the_reference_or_fail_typed(case in buffer_case()) {
        run_buffer_case(&case)?;
    }

    /// The same with every buffer short by a random amount: always an error.
    #[test]
    fn short_buffers_are_errors(
        mut case in buffer_case(),
        cut in any::<usize>(),
    ) {
        case.size = SizeChange::Short(cut);
        run_buffer_case(&case)?;
    }
}

// ---------------------------------------------------------------------------------------
// Arrays to buffers.

/// How an array is laid out in memory before it is turned into a buffer.
#[derive(Debug, Clone, Copy)]
enum ArrayKind {
    Standard,
    /// An owned array sliced out of a bigger one (contiguous, not at its allocation's start).
    Sliced,
    /// Rows reversed (negative stride).
    Reversed,
    /// Built transposed, then permuted back (not standard layout).
    Transposed,
}

/// A wrong shape (or none).
#[derive(Debug, Clone, Copy)]
enum ShapeFault {
    None,
    Axis {
        plane: Index,
        axis: usize,
        delta: i8,
    },
    Swap {
        plane: Index,
    },
    MissingPlane,
    ExtraPlane,
}

/// `VideoInfo` strides / offsets the caller chose (the buffer then carries a `VideoMeta`).
#[derive(Debug, Clone)]
struct CustomLayout {
    plan: MetaPlan,
    size: SizeChange,
}

#[derive(Debug, Clone)]
struct ArrayCase {
    format: VideoFormat,
    width: u32,
    height: u32,
    wrong_type: bool,
    kind: ArrayKind,
    fault: ShapeFault,
    custom: Option<CustomLayout>,
    seed: u32,
}

fn array_case() -> impl Strategy<Value = ArrayCase> {
    let kind = prop_oneof![
        4 => Just(ArrayKind::Standard),
        1 => Just(ArrayKind::Sliced),
        1 => Just(ArrayKind::Reversed),
        1 => Just(ArrayKind::Transposed),
    ];
    let fault = prop_oneof![
        6 => Just(ShapeFault::None),
        3 => (any::<Index>(), 0usize..3, prop_oneof![Just(-2i8), Just(-1), Just(1), Just(2)])
            .prop_map(|(plane, axis, delta)| ShapeFault::Axis { plane, axis, delta }),
        1 => any::<Index>().prop_map(|plane| ShapeFault::Swap { plane }),
        1 => Just(ShapeFault::MissingPlane),
        1 => Just(ShapeFault::ExtraPlane),
    ];
    let size = prop_oneof![
        3 => Just(SizeChange::Exact),
        1 => (1usize..=64).prop_map(SizeChange::Extra),
        1 => any::<usize>().prop_map(SizeChange::Short),
    ];
    let custom = prop::option::weighted(
        0.3,
        (meta_plan(), size).prop_map(|(plan, size)| CustomLayout { plan, size }),
    );
    (
        any_format(),
        dims(),
        prop::bool::weighted(0.15),
        kind,
        fault,
        custom,
        any::<u32>(),
    )
        .prop_map(
            |(format, (width, height), wrong_type, kind, fault, custom, seed)| ArrayCase {
                format,
                width,
                height,
                wrong_type,
                kind,
                fault,
                custom,
                seed,
            },
        )
}

fn make_array<T: TestSample>(shape: [usize; 3], kind: ArrayKind, seed: u32) -> Array3<T> {
    let value = |y: usize, x: usize, c: usize| {
        T::from_u32(
            (y as u32)
                .wrapping_mul(40_503)
                .wrapping_add((x as u32).wrapping_mul(2_654_435_761))
                .wrapping_add(c as u32 * 97)
                .wrapping_add(seed)
                .rotate_left(7),
        )
    };
    let [h, w, c] = shape;
    match kind {
        ArrayKind::Standard => Array3::from_shape_fn((h, w, c), |(y, x, k)| value(y, x, k)),
        ArrayKind::Sliced => {
            let mut a =
                Array3::from_shape_fn((h + 2, w, c), |(y, x, k)| value(y.wrapping_sub(1), x, k));
            a.slice_collapse(s![1..h + 1, .., ..]);
            a
        }
        ArrayKind::Reversed => {
            let mut a = Array3::from_shape_fn((h, w, c), |(y, x, k)| value(h - 1 - y, x, k));
            a.invert_axis(Axis(0));
            a
        }
        ArrayKind::Transposed => {
            Array3::from_shape_fn((w, h, c), |(x, y, k)| value(y, x, k)).permuted_axes([1, 0, 2])
        }
    }
}

/// The `VideoInfo` of `case`, with the custom layout when there is one, and whether its
/// strides or size can hold the planes (`None`: they can; `Some(plane)`: the first plane
/// that cannot, and whether because of its stride).
fn target_info(case: &ArrayCase) -> Option<(VideoInfo, Placement)> {
    init();
    let info = VideoInfo::builder(case.format, case.width, case.height)
        .build()
        .ok()?;
    let Some(custom) = &case.custom else {
        let fi = format_info(case.format).ok()?;
        let placement = place(&info, &fi, None);
        return Some((info, placement));
    };
    let fi = format_info(case.format).ok()?;
    let placement = place(&info, &fi, Some(&custom.plan));
    let size = match custom.size {
        SizeChange::Exact => placement.end,
        SizeChange::Extra(n) => placement.end + n,
        SizeChange::Short(n) => n % placement.end.max(1),
    };
    let info = VideoInfo::builder(case.format, case.width, case.height)
        .offset(&placement.offsets)
        .stride(&placement.strides)
        .size(size)
        .build()
        .ok()?;
    Some((info, placement))
}

/// What an array -> buffer call must say about `case`, checked in the order the functions
/// document: layout, sample type, plane count, then each plane's shape, stride and room.
enum Expect {
    Ok,
    NotRepresentable,
    NotPacked,
    WrongSampleType,
    PlaneCount {
        expected: usize,
        found: usize,
    },
    Shape {
        plane: usize,
        expected: [usize; 3],
        found: [usize; 3],
    },
    Stride {
        plane: usize,
    },
    TooSmall,
}

fn expectation(
    fi: &FormatInfo,
    info: &VideoInfo,
    placement: &Placement,
    requested: SampleType,
    packed_call: bool,
    shapes: &[[usize; 3]],
) -> Expect {
    if !fi.is_representable() {
        return Expect::NotRepresentable;
    }
    if packed_call && !fi.is_packed() {
        return Expect::NotPacked;
    }
    if fi.sample_type() != requested {
        return Expect::WrongSampleType;
    }
    let n = fi.n_planes();
    if !packed_call && shapes.len() != n {
        return Expect::PlaneCount {
            expected: n,
            found: shapes.len(),
        };
    }
    for (p, &found) in shapes.iter().enumerate() {
        let expected = fi
            .plane_shape(p, info.width(), info.height())
            .expect("representable");
        if found != expected {
            return Expect::Shape {
                plane: p,
                expected,
                found,
            };
        }
    }
    // Every shape is checked before any plane's stride and placement.
    for p in 0..shapes.len() {
        let expected = fi
            .plane_shape(p, info.width(), info.height())
            .expect("representable");
        let palette = fi.layout() == Layout::Paletted && p == 1;
        let row_bytes = expected[1] * expected[2] * fi.sample_type().size_bytes();
        let stride = placement.strides[p];
        if !palette && (stride <= 0 || (stride as usize) < row_bytes) {
            return Expect::Stride { plane: p };
        }
        if placement.offsets[p] + placement.lens[p] > info.size() {
            return Expect::TooSmall;
        }
    }
    Expect::Ok
}

fn check_expect<T: TestSample>(
    what: &str,
    result: Result<gst::Buffer, FrameError>,
    expect: &Expect,
    info: &VideoInfo,
    arrays: &[ArrayView3<'_, T>],
) -> Result<(), TestCaseError> {
    let buffer = match (expect, result) {
        (Expect::Ok, Ok(buffer)) => buffer,
        (Expect::Ok, Err(e)) => {
            return Err(TestCaseError::fail(format!("{what} refused: {e:?}")));
        }
        (_, Ok(b)) => {
            return Err(TestCaseError::fail(format!(
                "{what} accepted wrong input: {} bytes for {:?} (strides {:?}, offsets {:?}, \
                 size {})",
                b.size(),
                info.format(),
                info.stride(),
                info.offset(),
                info.size()
            )));
        }
        (expect, Err(e)) => {
            let message = e.to_string();
            let ok = match (expect, &e) {
                (Expect::NotRepresentable, FrameError::NotRepresentable { .. }) => true,
                (Expect::NotPacked, FrameError::NotPacked { .. }) => true,
                (
                    Expect::WrongSampleType,
                    FrameError::WrongSampleType {
                        expected,
                        requested,
                        ..
                    },
                ) => *requested == T::TYPE && expected != requested,
                (
                    Expect::PlaneCount { expected, found },
                    FrameError::PlaneCountMismatch {
                        expected: e_expected,
                        found: e_found,
                        ..
                    },
                ) => {
                    expected == e_expected
                        && found == e_found
                        && message.contains(&expected.to_string())
                        && message.contains(&found.to_string())
                }
                (
                    Expect::Shape {
                        plane,
                        expected,
                        found,
                    },
                    FrameError::ShapeMismatch {
                        plane: e_plane,
                        expected: e_expected,
                        found: e_found,
                        ..
                    },
                ) => {
                    plane == e_plane
                        && expected == e_expected
                        && found == e_found
                        && message.contains(&format!("{expected:?}"))
                        && message.contains(&format!("{found:?}"))
                }
                (Expect::Stride { plane }, FrameError::InvalidStride { plane: p, .. }) => {
                    plane == p
                }
                (
                    Expect::TooSmall,
                    FrameError::BufferTooSmall {
                        expected, found, ..
                    },
                ) => found < expected,
                _ => false,
            };
            prop_assert!(ok, "{}: unexpected error {:?}", what, e);
            return Ok(());
        }
    };
    // Accepted: it must be a buffer `Frame` reads back to the same samples.
    prop_assert!(buffer.size() >= info.size());
    let frame = Frame::from_buffer(buffer, info);
    prop_assert!(
        frame.is_ok(),
        "{}: cannot read back: {:?}",
        what,
        frame.err()
    );
    let frame = frame.unwrap();
    let back = frame.planes_to_arrays::<T>();
    prop_assert!(back.is_ok(), "{:?}", back.err());
    let back = back.unwrap();
    prop_assert_eq!(back.len(), arrays.len());
    for (p, (b, a)) in back.iter().zip(arrays).enumerate() {
        prop_assert!(b == a, "plane {} differs after the round trip", p);
    }
    Ok(())
}

fn run_array_case<T: TestSample>(case: &ArrayCase) -> Result<(), TestCaseError> {
    let Some((info, placement)) = target_info(case) else {
        return Ok(());
    };
    let fi = format_info(case.format).expect("described");
    let n = fi.n_planes();
    let mut shapes: Vec<[usize; 3]> = if fi.is_representable() {
        fi.plane_shapes(case.width, case.height)
    } else {
        vec![[case.height as usize, case.width as usize, 1]; n]
    };
    match case.fault {
        ShapeFault::None => {}
        ShapeFault::Axis { plane, axis, delta } => {
            let p = plane.index(shapes.len());
            shapes[p][axis] = shapes[p][axis].saturating_add_signed(delta as isize);
        }
        ShapeFault::Swap { plane } => {
            let p = plane.index(shapes.len());
            shapes[p].swap(0, 1);
        }
        ShapeFault::MissingPlane => {
            shapes.pop();
        }
        ShapeFault::ExtraPlane => shapes.push(shapes[0]),
    }
    let arrays: Vec<Array3<T>> = shapes
        .iter()
        .enumerate()
        .map(|(p, &shape)| make_array::<T>(shape, case.kind, case.seed.wrapping_add(p as u32)))
        .collect();
    let views: Vec<ArrayView3<'_, T>> = arrays.iter().map(|a| a.view()).collect();

    // planes_to_buffer: every plane.
    let expect = expectation(&fi, &info, &placement, T::TYPE, false, &shapes);
    check_expect(
        "planes_to_buffer",
        planes_to_buffer(&views, &info),
        &expect,
        &info,
        &views,
    )?;

    // array_to_buffer / view_to_buffer: the first array alone.
    if let Some(first) = arrays.first() {
        let expect = expectation(&fi, &info, &placement, T::TYPE, true, &shapes[..1]);
        check_expect(
            "view_to_buffer",
            view_to_buffer(first.view(), &info),
            &expect,
            &info,
            &views[..1],
        )?;
        check_expect(
            "array_to_buffer",
            array_to_buffer(first.clone(), &info),
            &expect,
            &info,
            &views[..1],
        )?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Arrays of random (often wrong) shapes, types and layouts into random target layouts:
    /// a typed error naming expected and found, or a buffer that reads back the same.
    #[test]
    fn arrays_to_buffers_round_trip_or_fail_typed(case in array_case()) {
        let st = format_info(case.format).expect("described").sample_type();
        if (st == SampleType::U16) != case.wrong_type {
            run_array_case::<u16>(&case)?;
        } else {
            run_array_case::<u8>(&case)?;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Regressions the properties found, as plain tests.

/// A tiled buffer shorter than its `VideoMeta` promises was accepted: `plane_bytes` of its
/// last plane then silently returned a truncated plane.
#[test]
fn tiled_buffer_shorter_than_its_meta_is_an_error() {
    init();
    let format = VideoFormat::Nv128l128;
    let info = VideoInfo::builder(format, 1, 1).build().unwrap();
    let mut buffer = gst::Buffer::from_mut_slice(vec![0u8; info.size() - 1]);
    VideoMeta::add_full(
        buffer.get_mut().unwrap(),
        VideoFrameFlags::empty(),
        format,
        1,
        1,
        info.offset(),
        info.stride(),
    )
    .unwrap();
    let err = Frame::from_buffer(buffer, &info).unwrap_err();
    assert!(
        matches!(err, FrameError::BufferTooSmall { expected, found, .. } if found < expected),
        "{err:?}"
    );
}

/// `planes_to_buffer` into a `VideoInfo` whose size leaves out the last row's padding of a
/// plane made a buffer that `Frame::from_buffer` with the same info refuses.
#[test]
fn planes_to_buffer_needs_whole_rows() {
    init();
    let (w, h) = (5, 11);
    let info = VideoInfo::builder(VideoFormat::I420, w, h)
        .stride(&[42, 4, 53])
        .offset(&[27, 489, 567])
        .size(835)
        .build()
        .unwrap();
    let shapes = format_info(VideoFormat::I420).unwrap().plane_shapes(w, h);
    let planes: Vec<Array3<u8>> = shapes.iter().map(|&s| Array3::zeros(s)).collect();
    let views: Vec<_> = planes.iter().map(|p| p.view()).collect();
    // The V plane (6 rows of stride 53 at 567) needs 885 bytes.
    assert!(matches!(
        planes_to_buffer(&views, &info),
        Err(FrameError::BufferTooSmall {
            expected: 885,
            found: 835,
            ..
        })
    ));
}

/// Caps with a width of 4294967295 (read as -1) give a `VideoInfo` that is not valid, which
/// `gst_video::VideoFrame` asserts on: `Frame::from_sample` panicked.
#[test]
fn invalid_video_info_is_an_error_not_a_panic() {
    init();
    let caps: gst::Caps = "video/x-raw,height=-1,width=4294967295,format=ABGR64_LE"
        .parse()
        .unwrap();
    let info = VideoInfo::from_caps(&caps).unwrap();
    assert!(!info.is_valid());
    let sample = gst::Sample::builder()
        .caps(&caps)
        .buffer(&gst::Buffer::with_size(64).unwrap())
        .build();
    let err = Frame::from_sample(&sample).unwrap_err();
    assert!(matches!(err, FrameError::Map { .. }), "{err:?}");
    let err = Frame::from_buffer(gst::Buffer::with_size(64).unwrap(), &info).unwrap_err();
    assert!(matches!(err, FrameError::Map { .. }), "{err:?}");
}
