//! The test patterns `push` generates: deterministic arrays for any sample format.

use ndarray::Array3;

/// What the pushed frames show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Pattern {
    /// A diagonal gradient moving with the frame index, shifted per channel.
    Gradient,
    /// 32-pixel black and white squares swapping every frame.
    Checker,
    /// Deterministic pseudo-random samples (xorshift), different every frame.
    Noise,
}

impl Pattern {
    /// The name as given on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Pattern::Gradient => "gradient",
            Pattern::Checker => "checker",
            Pattern::Noise => "noise",
        }
    }
}

/// A sample type the patterns can fill.
pub trait Level: Copy {
    /// The sample holding `value` (already within the format's range).
    fn from_level(value: u32) -> Self;
}

impl Level for u8 {
    fn from_level(value: u32) -> Self {
        value as u8
    }
}

impl Level for u16 {
    fn from_level(value: u32) -> Self {
        value as u16
    }
}

/// The range of a format's samples: `depth` significant bits stored `shift` bits up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// Significant bits (8, 10, 12, 16).
    pub depth: u32,
    /// How far the bits are shifted up in the sample (6 for P010's 10 bits in 16).
    pub shift: u32,
}

impl Range {
    fn scale(self, level8: u32) -> u32 {
        let max = (1u32 << self.depth) - 1;
        (level8 * max / 255) << self.shift
    }
}

/// Frame `index` of `pattern` at `width` x `height`, one array per plane with the given shapes
/// (`(rows, columns, samples)`; subsampled planes are scaled back to frame coordinates).
pub fn generate<T: Level>(
    pattern: Pattern,
    index: u64,
    width: usize,
    height: usize,
    shapes: &[[usize; 3]],
    range: Range,
) -> Vec<Array3<T>> {
    let mut rng = XorShift::new(index);
    let mut first_channel = 0;
    shapes
        .iter()
        .map(|&[rows, cols, channels]| {
            let xs = width.div_ceil(cols.max(1)).max(1);
            let ys = height.div_ceil(rows.max(1)).max(1);
            let c0 = first_channel;
            first_channel += channels;
            Array3::from_shape_fn((rows, cols, channels), |(y, x, c)| {
                let (fx, fy) = (x * xs, y * ys);
                let level8 = match pattern {
                    Pattern::Gradient => {
                        let base = (fx + fy) * 256 / (width + height).max(1);
                        ((base as u64 + 4 * index + 85 * (c0 + c) as u64) % 256) as u32
                    }
                    Pattern::Checker => {
                        if ((fx / 32 + fy / 32) as u64 + index).is_multiple_of(2) {
                            255
                        } else {
                            0
                        }
                    }
                    Pattern::Noise => (rng.next() >> 56) as u32,
                };
                T::from_level(range.scale(level8))
            })
        })
        .collect()
}

/// A tiny deterministic generator (xorshift64*), seeded by the frame index.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U8: Range = Range { depth: 8, shift: 0 };

    #[test]
    fn shapes_follow_the_planes() {
        let planes = generate::<u8>(
            Pattern::Gradient,
            0,
            641,
            481,
            &[[481, 641, 1], [241, 321, 1], [241, 321, 1]],
            U8,
        );
        let shapes: Vec<&[usize]> = planes.iter().map(|p| p.shape()).collect();
        assert_eq!(shapes, [&[481, 641, 1][..], &[241, 321, 1], &[241, 321, 1]]);
    }

    #[test]
    fn checker_alternates_per_frame() {
        let a = generate::<u8>(Pattern::Checker, 0, 64, 64, &[[64, 64, 3]], U8);
        let b = generate::<u8>(Pattern::Checker, 1, 64, 64, &[[64, 64, 3]], U8);
        assert_eq!(a[0][[0, 0, 0]], 255);
        assert_eq!(a[0][[0, 32, 0]], 0);
        assert_eq!(b[0][[0, 0, 0]], 0);
    }

    #[test]
    fn noise_is_deterministic_and_changes() {
        let a = generate::<u8>(Pattern::Noise, 3, 16, 16, &[[16, 16, 1]], U8);
        let b = generate::<u8>(Pattern::Noise, 3, 16, 16, &[[16, 16, 1]], U8);
        let c = generate::<u8>(Pattern::Noise, 4, 16, 16, &[[16, 16, 1]], U8);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn sixteen_bit_levels_respect_depth_and_shift() {
        let p010 = Range {
            depth: 10,
            shift: 6,
        };
        let planes = generate::<u16>(Pattern::Checker, 0, 4, 4, &[[4, 4, 1]], p010);
        assert_eq!(planes[0][[0, 0, 0]], 1023 << 6);
        let full = Range {
            depth: 16,
            shift: 0,
        };
        let planes = generate::<u16>(Pattern::Checker, 0, 4, 4, &[[4, 4, 1]], full);
        assert_eq!(planes[0][[0, 0, 0]], u16::MAX);
    }
}
