//! Clip samplers on [`VideoReader`]: the clips a training loop asks a video for, by index or
//! by time, with TorchCodec's semantics (`torchcodec.samplers`). Every frame the clips need
//! is decoded once, in file order (indices deduplicated and sorted, one batch decode), then
//! scattered into the `(clips, frames, height, width, channels)` array.
//!
//! ```no_run
//! use gstpipe_media::{ClipRange, VideoReader};
//!
//! let mut reader = VideoReader::builder()
//!     .format(gst_video::VideoFormat::Rgb)
//!     .open("clip.mp4")?;
//! let plan = reader.clips_at_random_indices(4, 8, 2, &ClipRange::default(), Some(7))?;
//! let clips = reader.decode_clips::<u8>(&plan)?;
//! assert_eq!(clips.data.shape()[..2], [4, 8]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::{MediaError, VideoReader};
use ndarray::{Array2, Array5};

/// What a clip that runs past the end of the video (or of the range) is filled with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClipPolicy {
    /// Repeat the clip's last valid frame: `[95, 97, 99, 99, 99]`.
    #[default]
    RepeatLast,
    /// Start the clip's valid frames again: `[95, 97, 99, 95, 97]`.
    Wrap,
    /// Fail with [`MediaError::Sampling`].
    Error,
}

impl ClipPolicy {
    /// The policy named `"repeat_last"`, `"wrap"` or `"error"`.
    pub fn from_name(name: &str) -> Result<Self, MediaError> {
        match name {
            "repeat_last" => Ok(ClipPolicy::RepeatLast),
            "wrap" => Ok(ClipPolicy::Wrap),
            "error" => Ok(ClipPolicy::Error),
            other => Err(sampling(format!(
                "policy must be \"repeat_last\", \"wrap\" or \"error\", got {other:?}"
            ))),
        }
    }

    /// Completes `values` (not empty) to `len` items.
    fn fill<T: Copy>(self, mut values: Vec<T>, len: usize) -> Result<Vec<T>, MediaError> {
        if values.len() >= len {
            return Ok(values);
        }
        match self {
            ClipPolicy::RepeatLast => {
                let last = *values.last().expect("a clip has its first frame");
                values.resize(len, last);
                Ok(values)
            }
            ClipPolicy::Wrap => Ok(values.iter().copied().cycle().take(len).collect()),
            ClipPolicy::Error => Err(sampling(
                "a clip runs past the end of the video and the policy is \"error\" \
                 (leave sampling_range_end unset to keep clips inside the video)"
                    .into(),
            )),
        }
    }
}

/// Where clips may start, as TorchCodec's `sampling_range_start` / `sampling_range_end`
/// (the end is exclusive and bounds the clip's *start*), and the [`ClipPolicy`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClipRange<T> {
    /// First allowed start (index: negative counts from the end; time: `None` = first pts).
    pub start: Option<T>,
    /// Exclusive bound of the starts; `None`: as late as keeps every clip inside the video.
    pub end: Option<T>,
    /// What clips running past the end get.
    pub policy: ClipPolicy,
}

/// Which frames each clip holds: `indices[(clip, k)]` is the `k`-th frame of `clip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipPlan {
    /// `(num_clips, frames_per_clip)` frame indices.
    pub indices: Array2<usize>,
}

/// Decoded clips: `data[(clip, k)]` is frame `indices[(clip, k)]`, shown at `pts[(clip, k)]`.
#[derive(Debug, Clone)]
pub struct Clips<T> {
    /// `(num_clips, frames_per_clip, height, width, channels)`.
    pub data: Array5<T>,
    /// `(num_clips, frames_per_clip)` presentation timestamps.
    pub pts: Array2<gst::ClockTime>,
    /// `(num_clips, frames_per_clip)` frame indices.
    pub indices: Array2<usize>,
}

fn sampling(reason: String) -> MediaError {
    MediaError::Sampling { reason }
}

/// SplitMix64: a small, well-mixed generator, so a `seed` gives the same clips everywhere.
struct SplitMix(u64);

impl SplitMix {
    fn new(seed: Option<u64>) -> Self {
        SplitMix(seed.unwrap_or_else(|| {
            use std::hash::{BuildHasher, Hasher};
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos(),
            );
            hasher.finish()
        }))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)` (`lo < hi`).
    fn below(&mut self, lo: usize, hi: usize) -> usize {
        let width = (hi - lo) as u128;
        lo + ((u128::from(self.next()) * width) >> 64) as usize
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn positive(name: &str, value: usize) -> Result<(), MediaError> {
    if value == 0 {
        return Err(sampling(format!("{name} must be > 0")));
    }
    Ok(())
}

impl VideoReader {
    /// The starts allowed by `range` for clips spanning `span` frames: `[start, end)`.
    fn index_range(
        &self,
        span: usize,
        range: &ClipRange<isize>,
    ) -> Result<(usize, usize), MediaError> {
        let n = self.len();
        if n == 0 {
            return Err(sampling("the video has no frames".into()));
        }
        let signed = n as isize;
        let start = range.start.unwrap_or(0);
        if start < -signed {
            return Err(sampling(format!(
                "sampling_range_start ({start}) must be >= {}",
                -signed
            )));
        }
        let start = if start < 0 { start + signed } else { start } as usize;
        if start >= n {
            return Err(sampling(format!(
                "sampling_range_start ({start}) must be smaller than the number of frames ({n})"
            )));
        }
        let end = match range.end {
            None => (n + 1).saturating_sub(span).max(1),
            Some(end) => {
                let end = if end < 0 { end + signed } else { end };
                end.clamp(0, signed) as usize
            }
        };
        if start >= end {
            return Err(sampling(format!(
                "the clips' starts would be in [{start}, {end}): the video ({n} frames) is too \
                 short for clips spanning {span} frames from there"
            )));
        }
        Ok((start, end))
    }

    /// The frames of clips starting at `starts`, `step` apart, completed by `policy`.
    fn index_plan(
        &self,
        starts: &[usize],
        frames_per_clip: usize,
        step: usize,
        policy: ClipPolicy,
    ) -> Result<ClipPlan, MediaError> {
        let n = self.len();
        let span = step * (frames_per_clip - 1) + 1;
        let mut all = Vec::with_capacity(starts.len() * frames_per_clip);
        for &start in starts {
            let clip: Vec<usize> = (start..(start + span).min(n)).step_by(step).collect();
            all.extend(policy.fill(clip, frames_per_clip)?);
        }
        Ok(ClipPlan {
            indices: Array2::from_shape_vec((starts.len(), frames_per_clip), all)
                .expect("num_clips * frames_per_clip indices"),
        })
    }

    /// `num_clips` clips of `frames_per_clip` frames `step` apart, starting at random frames
    /// (uniform in the range's `[start, end)`; `seed` makes them reproducible), as
    /// TorchCodec's `clips_at_random_indices` with `num_indices_between_frames = step`.
    ///
    /// # Errors
    /// [`MediaError::Sampling`] for a zero count or step, a range outside the video, or a
    /// clip past the end under [`ClipPolicy::Error`].
    pub fn clips_at_random_indices(
        &self,
        num_clips: usize,
        frames_per_clip: usize,
        step: usize,
        range: &ClipRange<isize>,
        seed: Option<u64>,
    ) -> Result<ClipPlan, MediaError> {
        positive("num_clips", num_clips)?;
        positive("frames_per_clip", frames_per_clip)?;
        positive("step", step)?;
        let (lo, hi) = self.index_range(step * (frames_per_clip - 1) + 1, range)?;
        let mut rng = SplitMix::new(seed);
        let starts: Vec<usize> = (0..num_clips).map(|_| rng.below(lo, hi)).collect();
        self.index_plan(&starts, frames_per_clip, step, range.policy)
    }

    /// `num_clips` clips whose starts are evenly spaced over the range (the integer part of
    /// `linspace(start, end - 1, num_clips)`, repeats when there are more clips than starts),
    /// as TorchCodec's `clips_at_regular_indices`.
    ///
    /// # Errors
    /// As [`clips_at_random_indices`](VideoReader::clips_at_random_indices).
    pub fn clips_at_regular_indices(
        &self,
        num_clips: usize,
        frames_per_clip: usize,
        step: usize,
        range: &ClipRange<isize>,
    ) -> Result<ClipPlan, MediaError> {
        positive("num_clips", num_clips)?;
        positive("frames_per_clip", frames_per_clip)?;
        positive("step", step)?;
        let (lo, hi) = self.index_range(step * (frames_per_clip - 1) + 1, range)?;
        let last = hi - 1 - lo;
        let starts: Vec<usize> = (0..num_clips)
            .map(|k| match num_clips {
                1 => lo,
                _ => lo + last * k / (num_clips - 1),
            })
            .collect();
        self.index_plan(&starts, frames_per_clip, step, range.policy)
    }

    /// The video's first pts and its end (the duration, or the end of the last frame when
    /// later: B-frame delays shift pts past the container's duration), in seconds.
    fn time_bounds(&self) -> Result<(f64, f64), MediaError> {
        let (Some(first), Some(last)) = (self.pts().first(), self.pts().last()) else {
            return Err(sampling("the video has no frames".into()));
        };
        let frame = if self.fps() > 0.0 {
            1.0 / self.fps()
        } else {
            0.0
        };
        let last_end = last.nseconds() as f64 / 1e9 + frame;
        Ok((
            first.nseconds() as f64 / 1e9,
            self.duration().as_secs_f64().max(last_end),
        ))
    }

    /// The frame shown at `t` seconds: the last whose pts is at or before it.
    fn frame_at(&self, t: f64) -> usize {
        let t = gst::ClockTime::from_nseconds((t.max(0.0) * 1e9).round() as u64);
        self.pts().partition_point(|&p| p <= t).saturating_sub(1)
    }

    /// Clips starting at `starts` seconds, frames `between` seconds apart; times at or past
    /// the end are completed by `policy`.
    fn time_plan(
        &self,
        starts: &[f64],
        frames_per_clip: usize,
        between: f64,
        end: f64,
        policy: ClipPolicy,
    ) -> Result<ClipPlan, MediaError> {
        let mut all = Vec::with_capacity(starts.len() * frames_per_clip);
        for &start in starts {
            let times: Vec<f64> = (0..frames_per_clip)
                .map(|k| start + k as f64 * between)
                .filter(|&t| t < end)
                .collect();
            let times = policy.fill(times, frames_per_clip)?;
            all.extend(times.into_iter().map(|t| self.frame_at(t)));
        }
        Ok(ClipPlan {
            indices: Array2::from_shape_vec((starts.len(), frames_per_clip), all)
                .expect("num_clips * frames_per_clip indices"),
        })
    }

    /// The seconds between a clip's frames (default: the average frame duration) and the
    /// range clips may start in.
    fn time_range(
        &self,
        frames_per_clip: usize,
        between: Option<f64>,
        range: &ClipRange<f64>,
    ) -> Result<(f64, f64, f64, f64), MediaError> {
        positive("frames_per_clip", frames_per_clip)?;
        let (begin, end) = self.time_bounds()?;
        let between = match between {
            None if self.fps() > 0.0 => 1.0 / self.fps(),
            None => {
                return Err(sampling(
                    "the video has no frame rate: give seconds_between_frames".into(),
                ));
            }
            Some(b) if b.is_finite() && b > 0.0 => b,
            Some(b) => {
                return Err(sampling(format!(
                    "seconds_between_frames ({b}) must be > 0"
                )));
            }
        };
        let start = match range.start {
            None => begin,
            Some(s) if !(begin..end).contains(&s) => {
                return Err(sampling(format!(
                    "sampling_range_start ({s}) must be in [{begin}, {end})"
                )));
            }
            Some(s) => s,
        };
        let last = match range.end {
            None => end - (frames_per_clip - 1) as f64 * between,
            Some(e) if e.is_nan() || e <= begin => {
                return Err(sampling(format!(
                    "sampling_range_end ({e}) must be > {begin}"
                )));
            }
            Some(e) => e,
        };
        if start >= last {
            return Err(sampling(format!(
                "sampling_range_start ({start}) must be smaller than sampling_range_end ({last}): \
                 the video ({end} s) is too short for such clips"
            )));
        }
        Ok((start, last.min(end), between, end))
    }

    /// `num_clips` clips of `frames_per_clip` frames `seconds_between_frames` apart
    /// (default: the average frame duration), starting at uniformly random times, as
    /// TorchCodec's `clips_at_random_timestamps`: each frame is the one shown at its time.
    ///
    /// # Errors
    /// [`MediaError::Sampling`] for zero counts, a bad interval or range, or a clip past the
    /// end under [`ClipPolicy::Error`].
    pub fn clips_at_random_timestamps(
        &self,
        num_clips: usize,
        frames_per_clip: usize,
        seconds_between_frames: Option<f64>,
        range: &ClipRange<f64>,
        seed: Option<u64>,
    ) -> Result<ClipPlan, MediaError> {
        positive("num_clips", num_clips)?;
        let (lo, hi, between, end) =
            self.time_range(frames_per_clip, seconds_between_frames, range)?;
        let mut rng = SplitMix::new(seed);
        let starts: Vec<f64> = (0..num_clips)
            .map(|_| lo + rng.unit() * (hi - lo))
            .collect();
        self.time_plan(&starts, frames_per_clip, between, end, range.policy)
    }

    /// Clips starting every `seconds_between_clip_starts` from the range's start (while
    /// before its end), as TorchCodec's `clips_at_regular_timestamps`.
    ///
    /// # Errors
    /// As [`clips_at_random_timestamps`](VideoReader::clips_at_random_timestamps), and for a
    /// `seconds_between_clip_starts` that is not > 0.
    pub fn clips_at_regular_timestamps(
        &self,
        seconds_between_clip_starts: f64,
        frames_per_clip: usize,
        seconds_between_frames: Option<f64>,
        range: &ClipRange<f64>,
    ) -> Result<ClipPlan, MediaError> {
        let every = seconds_between_clip_starts;
        if !(every.is_finite() && every > 0.0) {
            return Err(sampling(format!(
                "seconds_between_clip_starts ({every}) must be > 0"
            )));
        }
        let (lo, hi, between, end) =
            self.time_range(frames_per_clip, seconds_between_frames, range)?;
        let starts: Vec<f64> = (0..)
            .map(|k| lo + f64::from(k) * every)
            .take_while(|&t| t < hi)
            .collect();
        self.time_plan(&starts, frames_per_clip, between, end, range.policy)
    }

    /// Decodes the clips of `plan`: each distinct frame once, in file order (one sorted
    /// batch decode straight into the array), placed at every position that uses it.
    ///
    /// # Errors
    /// As [`get_batch_array`](VideoReader::get_batch_array).
    pub fn decode_clips<T: gstpipe_frame::SampleValue>(
        &mut self,
        plan: &ClipPlan,
    ) -> Result<Clips<T>, MediaError> {
        let (clips, per_clip) = plan.indices.dim();
        let flat: Vec<usize> = plan.indices.iter().copied().collect();
        let batch = self.get_batch_array::<T>(&flat)?;
        let (_, h, w, c) = batch.dim();
        let data = batch
            .into_shape_with_order((clips, per_clip, h, w, c))
            .expect("the batch holds num_clips * frames_per_clip frames");
        let pts = plan.indices.mapv(|i| self.pts()[i]);
        Ok(Clips {
            data,
            pts,
            indices: plan.indices.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_complete_a_clip_as_torchcodec_does() {
        let clip = vec![95, 97, 99];
        assert_eq!(
            ClipPolicy::RepeatLast.fill(clip.clone(), 5).unwrap(),
            [95, 97, 99, 99, 99]
        );
        assert_eq!(
            ClipPolicy::Wrap.fill(clip.clone(), 5).unwrap(),
            [95, 97, 99, 95, 97]
        );
        assert!(ClipPolicy::Error.fill(clip, 5).is_err());
        assert!(ClipPolicy::from_name("nope").is_err());
    }

    #[test]
    fn random_starts_are_uniform_in_the_range_and_seeded() {
        let mut a = SplitMix::new(Some(3));
        let mut b = SplitMix::new(Some(3));
        let draws: Vec<usize> = (0..1000).map(|_| a.below(5, 9)).collect();
        assert_eq!(draws, (0..1000).map(|_| b.below(5, 9)).collect::<Vec<_>>());
        for v in 5..9 {
            let count = draws.iter().filter(|&&d| d == v).count();
            assert!((200..300).contains(&count), "{v}: {count}");
        }
        assert!(draws.iter().all(|d| (5..9).contains(d)));
    }
}
