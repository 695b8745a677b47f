//! The raw video format table: how each GStreamer format lies in memory and which array
//! shapes it maps to.

use std::fmt;
use std::fmt::Write as _;
use std::sync::OnceLock;

use gst_video::{VideoFormat, VideoFormatInfo};

use crate::error::FrameError;

/// The element type of the arrays a format maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleType {
    /// One byte per sample (8-bit formats).
    U8,
    /// Two bytes per sample (9- to 16-bit formats; the significant bits may be shifted, as in
    /// `P010_10LE`, whose samples hold 10 bits in the high bits of each `u16`).
    U16,
    /// The format is not made of whole samples (bit-packed, sub-byte or tiled formats such
    /// as `RGB16`, `v210` or `NV12_4L4`): only raw plane bytes are available.
    None,
}

impl SampleType {
    /// `"u8"`, `"u16"` or `"none"`, the dtype name as numpy would spell it.
    pub const fn name(&self) -> &'static str {
        match self {
            SampleType::U8 => "u8",
            SampleType::U16 => "u16",
            SampleType::None => "none",
        }
    }

    /// Bytes per sample: 1 for [`SampleType::U8`], 2 for [`SampleType::U16`], 0 for
    /// [`SampleType::None`].
    pub const fn size_bytes(&self) -> usize {
        match self {
            SampleType::U8 => 1,
            SampleType::U16 => 2,
            SampleType::None => 0,
        }
    }
}

impl fmt::Display for SampleType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a format arranges its samples in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Layout {
    /// One plane, every pixel stored as `channels` consecutive samples (`RGB`, `BGRx`,
    /// `GRAY8`, `AYUV64`, `v308`, ...). Shape `(height, width, channels)`; padding bytes such
    /// as the `x` of `BGRx` count as channels.
    Packed,
    /// One plane with horizontally subsampled chroma interleaved with luma (`YUY2`, `UYVY`,
    /// `YVYU`, `VYUY`, `v216`, `Y210`, ...). Shape `(height, width, 2)`: each pixel holds its
    /// luma and, alternately, the U or V of its pair (`YUY2`: `[Y0, U0], [Y1, V0]`). At odd
    /// widths the V of the last pair lies outside the view (GStreamer 1.22 does not write it).
    Packed422,
    /// One plane per component (`I420`, `YV12`, `Y444`, `Y42B`, `GBR`, `A420`, ...), each of
    /// shape `(plane_height, plane_width, 1)`, subsampled planes rounded up at odd sizes.
    Planar,
    /// Luma plane plus interleaved chroma planes (`NV12`, `NV21`, `NV16`, `NV24`, `P010_10LE`,
    /// `AV12`, ...): `NV12` gives Y `(h, w, 1)` and UV `(ceil(h/2), ceil(w/2), 2)`.
    SemiPlanar,
    /// `RGB8P`: an index plane `(h, w, 1)` of `u8` and a 256-entry palette plane `(1, 256, 4)`
    /// holding native-endian 32-bit ARGB words as bytes.
    Paletted,
    /// Components packed at bit granularity or several to a machine word (`RGB16`, `RGB15`,
    /// `v210`, `UYVP`, `IYU1`, `r210`, `Y410`, `RGB10A2_LE`, `GRAY10_LE32`, `NV12_10LE32`,
    /// ...): not representable as samples, use [`Frame::plane_bytes`](crate::Frame::plane_bytes).
    SubByte,
    /// Tiled layouts of hardware decoders (`NV12_4L4`, `NV12_64Z32`, ...): not representable
    /// as row-major samples, use [`Frame::plane_bytes`](crate::Frame::plane_bytes).
    Tiled,
}

impl Layout {
    /// A short lower-case name (`"packed"`, `"packed-422"`, `"planar"`, `"semi-planar"`,
    /// `"paletted"`, `"sub-byte"`, `"tiled"`).
    pub const fn name(&self) -> &'static str {
        match self {
            Layout::Packed => "packed",
            Layout::Packed422 => "packed-422",
            Layout::Planar => "planar",
            Layout::SemiPlanar => "semi-planar",
            Layout::Paletted => "paletted",
            Layout::SubByte => "sub-byte",
            Layout::Tiled => "tiled",
        }
    }

    /// Whether the whole frame is one array (`view()`, `to_array()` work):
    /// [`Layout::Packed`] or [`Layout::Packed422`].
    pub const fn is_packed(&self) -> bool {
        matches!(self, Layout::Packed | Layout::Packed422)
    }

    /// Whether the planes are arrays of whole samples (everything but [`Layout::SubByte`] and
    /// [`Layout::Tiled`]).
    pub const fn is_representable(&self) -> bool {
        !matches!(self, Layout::SubByte | Layout::Tiled)
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Byte order of a format's multi-byte samples in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Little-endian (`GRAY16_LE`, `P010_10LE`, `v216`, ...).
    Little,
    /// Big-endian (`GRAY16_BE`, `RGBA64_BE`, `r210`, ...).
    Big,
    /// Single-byte samples: byte order does not matter.
    NotApplicable,
}

impl ByteOrder {
    /// The byte order of the machine this code runs on.
    #[cfg(target_endian = "little")]
    pub const NATIVE: ByteOrder = ByteOrder::Little;
    /// The byte order of the machine this code runs on.
    #[cfg(target_endian = "big")]
    pub const NATIVE: ByteOrder = ByteOrder::Big;

    /// Whether samples in this order can be read as native integers without swapping
    /// (true for [`ByteOrder::NotApplicable`]).
    pub const fn is_native(&self) -> bool {
        match self {
            ByteOrder::NotApplicable => true,
            ByteOrder::Little => cfg!(target_endian = "little"),
            ByteOrder::Big => cfg!(target_endian = "big"),
        }
    }

    /// `"little"`, `"big"` or `"n/a"`.
    pub const fn name(&self) -> &'static str {
        match self {
            ByteOrder::Little => "little",
            ByteOrder::Big => "big",
            ByteOrder::NotApplicable => "n/a",
        }
    }
}

impl fmt::Display for ByteOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Per-plane geometry, in units of samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
struct PlaneLayout {
    /// Samples per array element (pixel stride / sample size).
    channels: u8,
    /// log2 horizontal subsampling of the plane's array elements.
    w_sub: u8,
    /// log2 vertical subsampling.
    h_sub: u8,
}

/// Everything gstpipe knows about one raw video format: how it maps to arrays.
///
/// Derived from GStreamer's own `GstVideoFormatInfo` (components, depths, pixel strides, planes,
/// flags), with one hand-checked correction: `v216`, `Y210`, `Y410` and `v210` are
/// little-endian although GStreamer 1.22 does not flag them `LE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FormatInfo {
    format: VideoFormat,
    name: &'static str,
    layout: Layout,
    sample_type: SampleType,
    byte_order: ByteOrder,
    n_planes: usize,
    n_components: usize,
    depth: u32,
    planes: [PlaneLayout; 4],
}

/// Formats whose samples are little-endian although GStreamer does not set the `LE` flag
/// (checked against the pack/unpack functions of video-format.c, which use `*_LE` accessors).
const LITTLE_ENDIAN_UNFLAGGED: &[VideoFormat] = &[
    VideoFormat::V216,
    VideoFormat::Y210,
    VideoFormat::Y410,
    VideoFormat::V210,
];

impl FormatInfo {
    /// The GStreamer format.
    pub fn format(&self) -> VideoFormat {
        self.format
    }

    /// GStreamer's name for the format (`"RGB"`, `"I420"`, `"GRAY16_BE"`), as in caps.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// How samples are arranged in memory.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Element type of the arrays ([`SampleType::None`] when not representable).
    pub fn sample_type(&self) -> SampleType {
        self.sample_type
    }

    /// Byte order of the samples in memory.
    pub fn byte_order(&self) -> ByteOrder {
        self.byte_order
    }

    /// Number of memory planes.
    pub fn n_planes(&self) -> usize {
        self.n_planes
    }

    /// Number of colour components GStreamer describes (`BGRx`: 3, `RGBA`: 4, `I420`: 3).
    pub fn n_components(&self) -> usize {
        self.n_components
    }

    /// Largest number of significant bits of a component (`P010_10LE`: 10, `RGB`: 8).
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// Memory channels of a packed format: the last axis of [`Frame::view`](crate::Frame::view)
    /// (`BGRx` 4, `RGB` 3, `GRAY8` 1, `YUY2` 2); `None` for other layouts.
    pub fn channels(&self) -> Option<usize> {
        self.layout
            .is_packed()
            .then_some(self.planes[0].channels as usize)
    }

    /// Whether [`view`](crate::Frame::view) and [`to_array`](crate::Frame::to_array) work:
    /// a packed format of whole samples.
    pub fn is_packed(&self) -> bool {
        self.layout.is_packed()
    }

    /// Whether planes are arrays of whole samples ([`planes`](crate::Frame::planes) works).
    pub fn is_representable(&self) -> bool {
        self.layout.is_representable()
    }

    /// Array shape `(rows, columns, channels)` of plane `plane` for a `width` x `height`
    /// frame, or `None` when the format is not representable or `plane` is out of range.
    /// Subsampled sizes round up (`I420` at 5x3: U is `(2, 3, 1)`).
    pub fn plane_shape(&self, plane: usize, width: u32, height: u32) -> Option<[usize; 3]> {
        if !self.is_representable() || plane >= self.n_planes {
            return None;
        }
        if self.layout == Layout::Paletted && plane == 1 {
            return Some([1, 256, 4]);
        }
        let p = self.planes[plane];
        Some([
            scale_up(height, p.h_sub),
            scale_up(width, p.w_sub),
            p.channels as usize,
        ])
    }

    /// Array shapes `(rows, columns, channels)` of every plane for a `width` x `height`
    /// frame, in memory plane order (`YV12`: Y, V, U). Empty when the format is not
    /// representable as samples.
    pub fn plane_shapes(&self, width: u32, height: u32) -> Vec<[usize; 3]> {
        (0..self.n_planes)
            .map_while(|p| self.plane_shape(p, width, height))
            .collect()
    }
}

fn scale_up(size: u32, sub: u8) -> usize {
    let size = size as usize;
    (size + (1 << sub) - 1) >> sub
}

fn ensure_init() -> Result<(), FrameError> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| gst::init().map_err(|e| e.to_string()))
        .clone()
        .map_err(|reason| FrameError::Init { reason })
}

fn is_real_format(format: VideoFormat) -> bool {
    !matches!(
        format,
        VideoFormat::Unknown | VideoFormat::Encoded | VideoFormat::__Unknown(_)
    )
}

/// The raw video format called `name`, as caps spell it (`"RGB"`, `"GRAY16_BE"`, `"NV12"`;
/// case-sensitive). Initialises GStreamer if needed.
///
/// # Errors
/// [`FrameError::UnknownFormatName`] for names GStreamer does not know and for `ENCODED`
/// (naming the format of that name in other letter case when there is one, e.g. `rgb`);
/// [`FrameError::Init`] when GStreamer cannot be initialised.
pub fn parse_format(name: &str) -> Result<VideoFormat, FrameError> {
    ensure_init()?;
    let format = VideoFormat::from_string(name);
    if is_real_format(format) {
        return Ok(format);
    }
    let suggestion = table()
        .iter()
        .map(|i| i.name)
        .find(|known| known.eq_ignore_ascii_case(name) && *known != name)
        .map(str::to_string);
    Err(FrameError::UnknownFormatName {
        name: name.to_string(),
        suggestion,
    })
}

/// Describes `format` (a table lookup after the first call). Initialises GStreamer if
/// needed.
///
/// # Errors
/// [`FrameError::UnknownFormat`] for `Unknown`, `Encoded` and values this GStreamer does not
/// know; [`FrameError::Init`] when GStreamer cannot be initialised.
pub fn format_info(format: VideoFormat) -> Result<FormatInfo, FrameError> {
    ensure_init()?;
    if !is_real_format(format) {
        return Err(FrameError::UnknownFormat { format });
    }
    if let Some(info) = table().iter().find(|i| i.format == format) {
        return Ok(*info);
    }
    let info = VideoFormatInfo::from_format(format);
    if info.format() != format {
        return Err(FrameError::UnknownFormat { format });
    }
    Ok(derive(&info))
}

/// The descriptions of every raw format, derived once.
fn table() -> &'static [FormatInfo] {
    static TABLE: OnceLock<Vec<FormatInfo>> = OnceLock::new();
    TABLE.get_or_init(|| {
        VideoFormat::iter_raw()
            .filter(|f| is_real_format(*f))
            .map(|f| derive(&VideoFormatInfo::from_format(f)))
            .collect()
    })
}

fn derive(fi: &VideoFormatInfo) -> FormatInfo {
    let format = fi.format();
    let name: &'static gst::glib::GStr = format.to_str();
    let n_components = fi.n_components() as usize;
    let n_planes = fi.n_planes() as usize;
    let depth_of = |c: usize| fi.depth()[c];
    let max_bits = (0..n_components)
        .map(|c| depth_of(c) + fi.shift()[c])
        .max()
        .unwrap_or(0);
    let depth = (0..n_components).map(depth_of).max().unwrap_or(0);
    let is_le = fi.is_le() || LITTLE_ENDIAN_UNFLAGGED.contains(&format);

    let mut planes = [PlaneLayout::default(); 4];
    let (layout, sample_type) = if fi.is_tiled() {
        (Layout::Tiled, SampleType::None)
    } else if fi.has_palette() {
        planes[0] = PlaneLayout {
            channels: 1,
            w_sub: 0,
            h_sub: 0,
        };
        planes[1] = PlaneLayout {
            channels: 4,
            w_sub: 0,
            h_sub: 0,
        };
        (Layout::Paletted, SampleType::U8)
    } else {
        match whole_sample_planes(fi, max_bits) {
            Some((sample_type, layouts)) => {
                planes = layouts;
                let plane_of = |c: usize| fi.plane()[c] as usize;
                let layout = if n_planes == 1 {
                    if (0..n_components).any(|c| fi.w_sub()[c] > 0) {
                        Layout::Packed422
                    } else {
                        Layout::Packed
                    }
                } else if (0..n_planes)
                    .any(|p| (0..n_components).filter(|&c| plane_of(c) == p).count() > 1)
                {
                    Layout::SemiPlanar
                } else {
                    Layout::Planar
                };
                (layout, sample_type)
            }
            None => (Layout::SubByte, SampleType::None),
        }
    };

    let byte_order = match sample_type {
        SampleType::U8 => ByteOrder::NotApplicable,
        SampleType::U16 if is_le => ByteOrder::Little,
        SampleType::U16 => ByteOrder::Big,
        SampleType::None if is_le => ByteOrder::Little,
        SampleType::None if max_bits > 8 => ByteOrder::Big,
        SampleType::None => ByteOrder::NotApplicable,
    };

    FormatInfo {
        format,
        name: name.as_str(),
        layout,
        sample_type,
        byte_order,
        n_planes,
        n_components,
        depth,
        planes,
    }
}

/// Checks that every component of every plane occupies whole samples of one size, no two
/// components sharing a sample, and returns that size and the per-plane geometry.
fn whole_sample_planes(
    fi: &VideoFormatInfo,
    max_bits: u32,
) -> Option<(SampleType, [PlaneLayout; 4])> {
    if fi.is_complex() {
        return None;
    }
    let (sample_type, size) = match max_bits {
        1..=8 => (SampleType::U8, 1i32),
        9..=16 => (SampleType::U16, 2i32),
        _ => return None,
    };
    let n = fi.n_components() as usize;
    let mut planes = [PlaneLayout::default(); 4];
    for (p, plane) in planes.iter_mut().enumerate().take(fi.n_planes() as usize) {
        let comps: Vec<usize> = (0..n).filter(|&c| fi.plane()[c] as usize == p).collect();
        let first = *comps.first()?;
        // The element step of the plane: the smallest pixel stride among its components
        // (YUY2: Y every 2 bytes, U and V every 4).
        let step_comp = comps
            .iter()
            .copied()
            .min_by_key(|&c| fi.pixel_stride()[c])
            .unwrap_or(first);
        let step = fi.pixel_stride()[step_comp];
        let macro_px = comps.iter().map(|&c| fi.pixel_stride()[c]).max()?;
        if step <= 0 || step % size != 0 {
            return None;
        }
        let mut slots_needed = 0;
        for &c in &comps {
            let ps = fi.pixel_stride()[c];
            // poffset is not checked: GStreamer 1.22 lists placeholder offsets for several
            // 16-bit formats (P010_10LE's V at byte 1, Y412_LE all 0).
            if ps % size != 0 || macro_px % ps != 0 {
                return None;
            }
            slots_needed += macro_px / ps;
        }
        // Components sharing a word (RGB16, r210, Y410) need more samples than there are.
        if slots_needed > macro_px / size {
            return None;
        }
        *plane = PlaneLayout {
            channels: u8::try_from(step / size).ok()?,
            w_sub: u8::try_from(fi.w_sub()[step_comp]).ok()?,
            h_sub: u8::try_from(fi.h_sub()[step_comp]).ok()?,
        };
    }
    Some((sample_type, planes))
}

/// Every raw video format the running GStreamer knows (for 1.22: 100-odd), in GStreamer's
/// order (`gst_video_formats_raw()`), described. Initialises GStreamer if needed; returns an
/// empty list (and logs an error) when GStreamer cannot be initialised.
pub fn formats() -> Vec<FormatInfo> {
    if let Err(err) = ensure_init() {
        tracing::error!(%err, "cannot list video formats");
        return Vec::new();
    }
    table().to_vec()
}

/// Memory channels of a packed format: `BGRx` 4, `RGB` 3, `GRAY8` 1, `YUY2` 2; `None` for
/// planar, semi-planar, sub-byte and tiled formats (use
/// [`FormatInfo::plane_shapes`] there) and unknown formats.
pub fn channels(format: VideoFormat) -> Option<usize> {
    format_info(format).ok()?.channels()
}

/// Element type of the arrays of `format`: `u8` for 8-bit formats, `u16` for 9- to 16-bit ones,
/// [`SampleType::None`] for sub-byte, tiled and unknown formats.
pub fn sample_type(format: VideoFormat) -> SampleType {
    format_info(format)
        .map(|i| i.sample_type())
        .unwrap_or(SampleType::None)
}

fn shapes_cell(info: &FormatInfo, width: u32, height: u32) -> String {
    let shapes = info.plane_shapes(width, height);
    if shapes.is_empty() {
        return "bytes only".to_owned();
    }
    shapes
        .iter()
        .map(|[h, w, c]| format!("({h}, {w}, {c})"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The format reference as a Markdown document (`docs/formats.md` is generated from it and
/// `gstpipe formats` prints it): one row per format of [`formats`] with its layout, sample
/// type, channels, planes, byte order and plane shapes at 4x2 and 5x3.
pub fn formats_markdown() -> String {
    let (major, minor, _, _) = gst::version();
    let mut out = String::new();
    let _ = writeln!(out, "# Raw video formats\n");
    let _ = writeln!(
        out,
        "Generated by `gstpipe_frame::formats_markdown()` against GStreamer {major}.{minor}; \
         do not edit by hand.\n"
    );
    out.push_str(
        "How gstpipe maps each raw `video/x-raw` format to arrays. Packed formats give one \
         `(height, width, channels)` array (`Frame::view`, `Frame::to_array`); planar and \
         semi-planar formats give one array per memory plane (`Frame::planes`). *Channels* are \
         memory channels (pixel stride / sample size: padding such as the `x` of `BGRx` counts). \
         Plane shapes are `(rows, columns, channels)` for a 4x2 and a 5x3 frame; subsampled \
         planes round up. Formats marked *bytes only* are bit-packed or tiled: use \
         `Frame::plane_bytes` and `Frame::stride`. Big-endian formats are converted to native \
         order by copies; zero-copy `u16` views of them are refused.\n\n",
    );
    out.push_str(
        "| Format | Layout | Sample | Channels | Planes | Byte order | Shapes at 4x2 | Shapes at 5x3 |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for info in formats() {
        let channels = info
            .channels()
            .map_or_else(|| "-".to_owned(), |c| c.to_string());
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
            info.name(),
            info.layout(),
            info.sample_type(),
            channels,
            info.n_planes(),
            info.byte_order(),
            shapes_cell(&info, 4, 2),
            shapes_cell(&info, 5, 3),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (format, layout, sample type, channels, planes, byte order), checked by hand against
    /// GStreamer's format documentation.
    #[allow(clippy::type_complexity)]
    const HAND_CHECKED: &[(
        VideoFormat,
        Layout,
        SampleType,
        Option<usize>,
        usize,
        ByteOrder,
    )] = {
        use ByteOrder::*;
        use Layout::*;
        use SampleType as S;
        use VideoFormat as F;
        &[
            (F::Rgb, Packed, S::U8, Some(3), 1, NotApplicable),
            (F::Bgr, Packed, S::U8, Some(3), 1, NotApplicable),
            (F::Rgba, Packed, S::U8, Some(4), 1, NotApplicable),
            (F::Bgrx, Packed, S::U8, Some(4), 1, NotApplicable),
            (F::Xrgb, Packed, S::U8, Some(4), 1, NotApplicable),
            (F::Gray8, Packed, S::U8, Some(1), 1, NotApplicable),
            (F::Gray16Le, Packed, S::U16, Some(1), 1, Little),
            (F::Gray16Be, Packed, S::U16, Some(1), 1, Big),
            (F::Rgba64Be, Packed, S::U16, Some(4), 1, Big),
            (F::Ayuv64, Packed, S::U16, Some(4), 1, Little),
            (F::Y412Le, Packed, S::U16, Some(4), 1, Little),
            (F::Iyu2, Packed, S::U8, Some(3), 1, NotApplicable),
            (F::V308, Packed, S::U8, Some(3), 1, NotApplicable),
            (F::Yuy2, Packed422, S::U8, Some(2), 1, NotApplicable),
            (F::Uyvy, Packed422, S::U8, Some(2), 1, NotApplicable),
            (F::V216, Packed422, S::U16, Some(2), 1, Little),
            (F::Y210, Packed422, S::U16, Some(2), 1, Little),
            (F::I420, Planar, S::U8, None, 3, NotApplicable),
            (F::Yv12, Planar, S::U8, None, 3, NotApplicable),
            (F::Y444, Planar, S::U8, None, 3, NotApplicable),
            (F::Y42b, Planar, S::U8, None, 3, NotApplicable),
            (F::Gbr, Planar, S::U8, None, 3, NotApplicable),
            (F::A420, Planar, S::U8, None, 4, NotApplicable),
            (F::I42010le, Planar, S::U16, None, 3, Little),
            (F::I42010be, Planar, S::U16, None, 3, Big),
            (F::Nv12, SemiPlanar, S::U8, None, 2, NotApplicable),
            (F::Nv21, SemiPlanar, S::U8, None, 2, NotApplicable),
            (F::Nv24, SemiPlanar, S::U8, None, 2, NotApplicable),
            (F::Av12, SemiPlanar, S::U8, None, 3, NotApplicable),
            (F::P01010le, SemiPlanar, S::U16, None, 2, Little),
            (F::P016Be, SemiPlanar, S::U16, None, 2, Big),
            (F::Rgb8p, Paletted, S::U8, None, 2, NotApplicable),
            (F::Rgb16, SubByte, S::None, None, 1, Little),
            (F::Rgb15, SubByte, S::None, None, 1, Little),
            (F::V210, SubByte, S::None, None, 1, Little),
            (F::Uyvp, SubByte, S::None, None, 1, Big),
            (F::Iyu1, SubByte, S::None, None, 1, NotApplicable),
            (F::R210, SubByte, S::None, None, 1, Big),
            (F::Y410, SubByte, S::None, None, 1, Little),
            (F::Rgb10a2Le, SubByte, S::None, None, 1, Little),
            (F::Gray10Le32, SubByte, S::None, None, 1, Little),
            (F::Nv1210le32, SubByte, S::None, None, 2, Little),
            (F::Nv124l4, Tiled, S::None, None, 2, NotApplicable),
            (F::Nv1264z32, Tiled, S::None, None, 2, NotApplicable),
        ]
    };

    #[test]
    fn hand_checked_formats() {
        for &(format, layout, sample, channels, n_planes, order) in HAND_CHECKED {
            let info = format_info(format).unwrap();
            assert_eq!(
                (
                    info.layout(),
                    info.sample_type(),
                    info.channels(),
                    info.n_planes(),
                    info.byte_order()
                ),
                (layout, sample, channels, n_planes, order),
                "{format}"
            );
            assert_eq!(super::channels(format), channels, "{format}");
            assert_eq!(super::sample_type(format), sample, "{format}");
        }
    }

    #[test]
    fn hand_checked_shapes() {
        let cases: &[(VideoFormat, u32, u32, &[[usize; 3]])] = &[
            (VideoFormat::Rgb, 5, 3, &[[3, 5, 3]]),
            (VideoFormat::Bgrx, 5, 3, &[[3, 5, 4]]),
            (VideoFormat::Yuy2, 7, 5, &[[5, 7, 2]]),
            (VideoFormat::V216, 7, 5, &[[5, 7, 2]]),
            (VideoFormat::I420, 5, 3, &[[3, 5, 1], [2, 3, 1], [2, 3, 1]]),
            (VideoFormat::I420, 4, 2, &[[2, 4, 1], [1, 2, 1], [1, 2, 1]]),
            (VideoFormat::Y42b, 5, 3, &[[3, 5, 1], [3, 3, 1], [3, 3, 1]]),
            (VideoFormat::Y41b, 5, 3, &[[3, 5, 1], [3, 2, 1], [3, 2, 1]]),
            (VideoFormat::Yuv9, 5, 5, &[[5, 5, 1], [2, 2, 1], [2, 2, 1]]),
            (VideoFormat::Nv12, 5, 3, &[[3, 5, 1], [2, 3, 2]]),
            (VideoFormat::Nv16, 5, 3, &[[3, 5, 1], [3, 3, 2]]),
            (VideoFormat::Nv24, 5, 3, &[[3, 5, 1], [3, 5, 2]]),
            (VideoFormat::P01010le, 5, 3, &[[3, 5, 1], [2, 3, 2]]),
            (VideoFormat::Av12, 5, 3, &[[3, 5, 1], [2, 3, 2], [3, 5, 1]]),
            (VideoFormat::Rgb8p, 5, 3, &[[3, 5, 1], [1, 256, 4]]),
            (VideoFormat::Rgb16, 5, 3, &[]),
            (VideoFormat::Nv124l4, 5, 3, &[]),
        ];
        for &(format, w, h, shapes) in cases {
            assert_eq!(
                format_info(format).unwrap().plane_shapes(w, h),
                shapes,
                "{format} {w}x{h}"
            );
        }
    }

    #[test]
    fn unknown_formats_are_errors() {
        for format in [VideoFormat::Unknown, VideoFormat::Encoded] {
            assert!(matches!(
                format_info(format),
                Err(FrameError::UnknownFormat { .. })
            ));
            assert_eq!(super::channels(format), None);
            assert_eq!(super::sample_type(format), SampleType::None);
        }
    }

    #[test]
    fn formats_lists_every_raw_format_once() {
        let all = formats();
        // GStreamer 1.22 knows 100+ raw formats; a hand list would have a few dozen.
        assert!(all.len() > 100, "{}", all.len());
        let mut names: Vec<_> = all.iter().map(|i| i.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for name in [
            "RGB",
            "I420",
            "NV12",
            "v210",
            "NV12_4L4",
            "GRAY16_BE",
            "RGB8P",
        ] {
            assert!(names.contains(&name), "{name}");
        }
    }

    #[test]
    fn markdown_has_one_row_per_format() {
        let md = formats_markdown();
        let rows = md.lines().filter(|l| l.starts_with("| `")).count();
        assert_eq!(rows, formats().len());
        assert!(md.contains(
            "| `I420` | planar | u8 | - | 3 | n/a | (2, 4, 1) (1, 2, 1) (1, 2, 1) | (3, 5, 1) (2, 3, 1) (2, 3, 1) |"
        ));
        assert!(
            md.contains("| `RGB16` | sub-byte | none | - | 1 | little | bytes only | bytes only |")
        );
    }

    #[test]
    fn sample_type_names() {
        assert_eq!(SampleType::U8.name(), "u8");
        assert_eq!(SampleType::U16.name(), "u16");
        assert_eq!(SampleType::None.name(), "none");
        assert_eq!(SampleType::U16.size_bytes(), 2);
        assert_eq!(SampleType::None.size_bytes(), 0);
    }
}
