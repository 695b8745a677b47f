//! Conversions between frames and the `image` crate.

use gst_video::VideoFormatInfo;
use image::flat::{FlatSamples, SampleLayout};
use image::{ColorType, DynamicImage, ImageBuffer};

use crate::error::FrameError;
use crate::format::{Layout, SampleType};
use crate::frame::Frame;

/// What `to_image` / `image_view` need to know about a format.
struct ImageLayout {
    /// Offsets (in samples) of R, G, B (and A) inside a pixel, or of the gray sample.
    offsets: Vec<usize>,
    sample_type: SampleType,
}

fn image_layout(frame: &Frame) -> Option<ImageLayout> {
    let info = frame.format_info();
    if info.layout() != Layout::Packed {
        return None;
    }
    let sample_type = info.sample_type();
    let bits = 8 * sample_type.size_bytes() as u32;
    let finfo = VideoFormatInfo::from_format(frame.format());
    let n = finfo.n_components() as usize;
    // Only formats whose components fill their samples exactly (not 10/12-bit in u16).
    if (0..n).any(|c| finfo.depth()[c] != bits || finfo.shift()[c] != 0) {
        return None;
    }
    let size = sample_type.size_bytes();
    let offsets: Vec<usize> = (0..n).map(|c| finfo.poffset()[c] as usize / size).collect();
    let ok = if finfo.is_gray() {
        n == 1
    } else {
        finfo.is_rgb() && (n == 3 || n == 4)
    };
    ok.then_some(ImageLayout {
        offsets,
        sample_type,
    })
}

impl Frame {
    /// Copies the frame into an [`image::DynamicImage`]: `RGB`, `BGR`, `RGBx`, `BGRx`, `xRGB`,
    /// `xBGR` give `Rgb8`; `RGBA`, `BGRA`, `ARGB`, `ABGR` give `Rgba8` (BGR orders swapped
    /// and padding dropped while copying); `GRAY8` gives `Luma8`; `GRAY16_LE`/`GRAY16_BE`
    /// give `Luma16` in native order; the 16-bit RGBA formats (`RGBA64_LE`, `ARGB64_BE`, ...)
    /// give `Rgba16`. Row padding is never copied.
    ///
    /// # Errors
    /// [`FrameError::ImageUnsupported`] for other formats (YUV, planar, 10/12-bit, sub-byte).
    pub fn to_image(&self) -> Result<DynamicImage, FrameError> {
        let unsupported = || FrameError::ImageUnsupported {
            format: self.format(),
        };
        let layout = image_layout(self).ok_or_else(unsupported)?;
        // Rows of this buffer: one field for `interlace-mode=alternate`.
        let (w, h) = (self.width(), self.layout().rows());
        let channels = self.format_info().channels().ok_or_else(unsupported)?;
        let identity = layout.offsets.iter().enumerate().all(|(i, &o)| i == o)
            && layout.offsets.len() == channels;
        let image = match (layout.sample_type, layout.offsets.len()) {
            (SampleType::U8, n) => {
                let data: Vec<u8> = if identity {
                    self.to_array::<u8>()?.into_raw_vec_and_offset().0
                } else {
                    self.gather_packed::<u8>(&layout.offsets)?
                };
                match n {
                    1 => ImageBuffer::from_raw(w, h, data).map(DynamicImage::ImageLuma8),
                    3 => ImageBuffer::from_raw(w, h, data).map(DynamicImage::ImageRgb8),
                    4 => ImageBuffer::from_raw(w, h, data).map(DynamicImage::ImageRgba8),
                    _ => None,
                }
            }
            (SampleType::U16, n) => {
                let data: Vec<u16> = if identity {
                    self.to_array::<u16>()?.into_raw_vec_and_offset().0
                } else {
                    self.gather_packed::<u16>(&layout.offsets)?
                };
                match n {
                    1 => ImageBuffer::from_raw(w, h, data).map(DynamicImage::ImageLuma16),
                    3 => ImageBuffer::from_raw(w, h, data).map(DynamicImage::ImageRgb16),
                    4 => ImageBuffer::from_raw(w, h, data).map(DynamicImage::ImageRgba16),
                    _ => None,
                }
            }
            (SampleType::None, _) => None,
        };
        image.ok_or_else(unsupported)
    }

    /// Zero-copy view of the frame for the `image` crate, honouring row padding: works for
    /// `RGB`, `RGBx`, `xRGB` (as RGB, skipping the pad byte), `RGBA` and `GRAY8`, whose bytes
    /// are already in `image`'s channel order. Read pixels with
    /// `view.as_view::<image::Rgb<u8>>()` (or `Rgba`, `Luma` as the `color_hint` says), or
    /// copy with `view.to_vec()`.
    ///
    /// # Errors
    /// [`FrameError::ImageViewUnsupported`] for other formats (use [`Frame::to_image`]).
    pub fn image_view(&self) -> Result<FlatSamples<&[u8]>, FrameError> {
        let unsupported = || FrameError::ImageViewUnsupported {
            format: self.format(),
        };
        let layout = image_layout(self)
            .filter(|l| l.sample_type == SampleType::U8)
            .ok_or_else(unsupported)?;
        let first = layout.offsets[0];
        let consecutive = layout
            .offsets
            .iter()
            .enumerate()
            .all(|(i, &o)| o == first + i);
        let color = match layout.offsets.len() {
            1 => ColorType::L8,
            3 => ColorType::Rgb8,
            4 => ColorType::Rgba8,
            _ => return Err(unsupported()),
        };
        if !consecutive {
            return Err(unsupported());
        }
        let (bytes, [h, w, c], row_stride) = self.packed_bytes()?;
        let samples = bytes.get(first..).ok_or_else(unsupported)?;
        let layout = SampleLayout {
            channels: layout.offsets.len() as u8,
            channel_stride: 1,
            width: w as u32,
            width_stride: c,
            height: h as u32,
            height_stride: row_stride,
        };
        if !layout.fits(samples.len()) {
            return Err(FrameError::BufferTooSmall {
                format: self.format(),
                expected: layout.min_length().unwrap_or(usize::MAX),
                found: samples.len(),
            });
        }
        Ok(FlatSamples {
            samples,
            layout,
            color_hint: Some(color),
        })
    }
}
