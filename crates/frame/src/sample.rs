//! The sample types arrays can hold: `u8` and `u16`.

use crate::format::SampleType;

/// An array element type gstpipe maps video samples to: `u8` or `u16`. Sealed: the
/// conversions rely on the exact sizes.
pub trait SampleValue:
    sealed::Sealed + Copy + Default + PartialEq + std::fmt::Debug + Send + Sync + 'static
{
    /// The [`SampleType`] this Rust type stands for.
    const TYPE: SampleType;
}

impl SampleValue for u8 {
    const TYPE: SampleType = SampleType::U8;
}

impl SampleValue for u16 {
    const TYPE: SampleType = SampleType::U16;
}

pub(crate) mod sealed {
    use ndarray::{Array3, ArrayView3};

    use crate::to_buffer::{Input, Pixels};

    /// Byte-level helpers; `swap` means "the bytes are in foreign byte order".
    pub trait Sealed: bytemuck::Pod {
        /// The [`Input`] of a view of this type.
        fn view_input(view: ArrayView3<'_, Self>) -> Input<'_>;
        /// The [`Input`] of an owned array of this type.
        fn array_input<'a>(array: Array3<Self>) -> Input<'a>;
        /// The [`Input`] of plane views of this type.
        fn planes_input(planes: Vec<ArrayView3<'_, Self>>) -> Input<'_>;
        /// Appends the samples stored in `src` (whole samples, any alignment).
        fn extend_from_bytes(dst: &mut Vec<Self>, src: &[u8], swap: bool);
        /// Writes the samples stored in `src` (whole samples, any alignment) into `dst`, which
        /// holds exactly that many.
        fn copy_from_bytes(dst: &mut [Self], src: &[u8], swap: bool);
        /// Writes `src` into `dst` (exactly `src.len()` samples long).
        fn write_bytes(src: &[Self], dst: &mut [u8], swap: bool);
        /// Reads one sample from the first bytes of `src`.
        fn read_one(src: &[u8], swap: bool) -> Self;
        /// The value with its bytes reversed (identity for `u8`).
        fn swapped(self) -> Self;
    }

    impl Sealed for u8 {
        fn view_input(view: ArrayView3<'_, Self>) -> Input<'_> {
            Input::new(Pixels::ViewU8(view))
        }

        fn array_input<'a>(array: Array3<Self>) -> Input<'a> {
            Input::new(Pixels::ArrayU8(array))
        }

        fn planes_input(planes: Vec<ArrayView3<'_, Self>>) -> Input<'_> {
            Input::new(Pixels::PlanesU8(planes))
        }

        #[inline]
        fn extend_from_bytes(dst: &mut Vec<Self>, src: &[u8], _swap: bool) {
            dst.extend_from_slice(src);
        }

        #[inline]
        fn copy_from_bytes(dst: &mut [Self], src: &[u8], _swap: bool) {
            dst.copy_from_slice(src);
        }

        #[inline]
        fn write_bytes(src: &[Self], dst: &mut [u8], _swap: bool) {
            dst.copy_from_slice(src);
        }

        #[inline]
        fn read_one(src: &[u8], _swap: bool) -> Self {
            src[0]
        }

        #[inline]
        fn swapped(self) -> Self {
            self
        }
    }

    impl Sealed for u16 {
        fn view_input(view: ArrayView3<'_, Self>) -> Input<'_> {
            Input::new(Pixels::ViewU16(view))
        }

        fn array_input<'a>(array: Array3<Self>) -> Input<'a> {
            Input::new(Pixels::ArrayU16(array))
        }

        fn planes_input(planes: Vec<ArrayView3<'_, Self>>) -> Input<'_> {
            Input::new(Pixels::PlanesU16(planes))
        }

        #[inline]
        fn extend_from_bytes(dst: &mut Vec<Self>, src: &[u8], swap: bool) {
            if !swap && let Ok(samples) = bytemuck::try_cast_slice::<u8, u16>(src) {
                dst.extend_from_slice(samples);
                return;
            }
            let pairs = src.chunks_exact(2);
            if swap {
                dst.extend(pairs.map(|b| u16::from_ne_bytes([b[1], b[0]])));
            } else {
                dst.extend(pairs.map(|b| u16::from_ne_bytes([b[0], b[1]])));
            }
        }

        #[inline]
        fn copy_from_bytes(dst: &mut [Self], src: &[u8], swap: bool) {
            if !swap && let Ok(samples) = bytemuck::try_cast_slice::<u8, u16>(src) {
                dst.copy_from_slice(samples);
                return;
            }
            let pairs = dst.iter_mut().zip(src.chunks_exact(2));
            if swap {
                pairs.for_each(|(d, b)| *d = u16::from_ne_bytes([b[1], b[0]]));
            } else {
                pairs.for_each(|(d, b)| *d = u16::from_ne_bytes([b[0], b[1]]));
            }
        }

        #[inline]
        fn write_bytes(src: &[Self], dst: &mut [u8], swap: bool) {
            if swap {
                for (d, s) in dst.chunks_exact_mut(2).zip(src) {
                    d.copy_from_slice(&s.swap_bytes().to_ne_bytes());
                }
            } else {
                dst.copy_from_slice(bytemuck::cast_slice(src));
            }
        }

        #[inline]
        fn read_one(src: &[u8], swap: bool) -> Self {
            let v = u16::from_ne_bytes([src[0], src[1]]);
            if swap { v.swap_bytes() } else { v }
        }

        #[inline]
        fn swapped(self) -> Self {
            self.swap_bytes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sealed::Sealed;

    #[test]
    fn u16_reads_native_and_swapped() {
        let bytes = [0x12u8, 0x34, 0x56, 0x78, 0x9a];
        let mut native = Vec::new();
        u16::extend_from_bytes(&mut native, &bytes[..4], false);
        assert_eq!(
            native,
            [
                u16::from_ne_bytes([0x12, 0x34]),
                u16::from_ne_bytes([0x56, 0x78])
            ]
        );
        // Unaligned source (odd offset) still copies correctly.
        let mut unaligned = Vec::new();
        u16::extend_from_bytes(&mut unaligned, &bytes[1..5], false);
        assert_eq!(
            unaligned,
            [
                u16::from_ne_bytes([0x34, 0x56]),
                u16::from_ne_bytes([0x78, 0x9a])
            ]
        );
        let mut big = Vec::new();
        u16::extend_from_bytes(&mut big, &bytes[..4], true);
        assert_eq!(
            big,
            [
                u16::from_ne_bytes([0x34, 0x12]),
                u16::from_ne_bytes([0x78, 0x56])
            ]
        );
        assert_eq!(
            u16::read_one(&bytes, true),
            u16::from_ne_bytes([0x34, 0x12])
        );
    }

    #[test]
    fn u16_writes_native_and_swapped() {
        let src = [0x1234u16, 0xabcd];
        let mut out = [0u8; 4];
        u16::write_bytes(&src, &mut out, true);
        let mut expected = Vec::new();
        expected.extend_from_slice(&0x1234u16.swap_bytes().to_ne_bytes());
        expected.extend_from_slice(&0xabcdu16.swap_bytes().to_ne_bytes());
        assert_eq!(out.as_slice(), expected.as_slice());
        u16::write_bytes(&src, &mut out, false);
        assert_eq!(&out[..2], &0x1234u16.to_ne_bytes());
    }
}
