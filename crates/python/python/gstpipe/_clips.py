"""Clip samplers of ``VideoReader``, with TorchCodec's semantics (``torchcodec.samplers``).

Each returns a ``Clips``: ``data`` ``(num_clips, frames_per_clip, height, width, channels)``,
``pts`` / ``pts_ns`` and ``indices`` ``(num_clips, frames_per_clip)``. Every frame the clips
need is decoded once, in file order (one sorted batch decode), then placed where it is used.

``sampling_range_start`` / ``sampling_range_end`` bound where a clip may *start* (the end is
exclusive; by default as late as keeps every clip inside the video); ``policy`` says what a
clip running past the end gets: ``"repeat_last"`` (its last valid frame again), ``"wrap"``
(its valid frames again from its start) or ``"error"`` (``ValueError``). A packed ``format``
(e.g. ``"RGB"``) is needed, as for ``get_batch``. Bad arguments raise ``ValueError``.
"""

from __future__ import annotations

from typing import Optional

from . import _gstpipe


def clips_at_random_indices(
    self: _gstpipe.VideoReader,
    num_clips: int = 1,
    frames_per_clip: int = 1,
    step: int = 1,
    seed: Optional[int] = None,
    *,
    sampling_range_start: int = 0,
    sampling_range_end: Optional[int] = None,
    policy: str = "repeat_last",
) -> _gstpipe.Clips:
    """``num_clips`` clips of ``frames_per_clip`` frames ``step`` indices apart, starting at
    uniformly random frames (``seed``: reproducible). Negative range bounds count from the
    end."""
    return _gstpipe.clips_at_random_indices(
        self, num_clips, frames_per_clip, step, seed, sampling_range_start, sampling_range_end,
        policy,
    )


def clips_at_regular_indices(
    self: _gstpipe.VideoReader,
    num_clips: int = 1,
    frames_per_clip: int = 1,
    step: int = 1,
    *,
    sampling_range_start: int = 0,
    sampling_range_end: Optional[int] = None,
    policy: str = "repeat_last",
) -> _gstpipe.Clips:
    """``num_clips`` clips of ``frames_per_clip`` frames ``step`` indices apart, their starts
    evenly spaced over the range (``int(linspace(start, end - 1, num_clips))``: repeated when
    there are more clips than starts)."""
    return _gstpipe.clips_at_regular_indices(
        self, num_clips, frames_per_clip, step, sampling_range_start, sampling_range_end, policy
    )


def clips_at_random_timestamps(
    self: _gstpipe.VideoReader,
    num_clips: int = 1,
    frames_per_clip: int = 1,
    seconds_between_frames: Optional[float] = None,
    seed: Optional[int] = None,
    *,
    sampling_range_start: Optional[float] = None,
    sampling_range_end: Optional[float] = None,
    policy: str = "repeat_last",
) -> _gstpipe.Clips:
    """``num_clips`` clips starting at uniformly random times, their frames sampled every
    ``seconds_between_frames`` (default: the average frame duration); each frame is the one
    shown at its time. The range is in seconds (default: the video's first pts to its end)."""
    return _gstpipe.clips_at_random_timestamps(
        self, num_clips, frames_per_clip, seconds_between_frames, seed, sampling_range_start,
        sampling_range_end, policy,
    )


def clips_at_regular_timestamps(
    self: _gstpipe.VideoReader,
    seconds_between_clip_starts: float,
    frames_per_clip: int = 1,
    seconds_between_frames: Optional[float] = None,
    *,
    sampling_range_start: Optional[float] = None,
    sampling_range_end: Optional[float] = None,
    policy: str = "repeat_last",
) -> _gstpipe.Clips:
    """Clips starting every ``seconds_between_clip_starts`` from the range's start while
    before its end, frames sampled every ``seconds_between_frames``."""
    return _gstpipe.clips_at_regular_timestamps(
        self, seconds_between_clip_starts, frames_per_clip, seconds_between_frames,
        sampling_range_start, sampling_range_end, policy,
    )


def install() -> None:
    """Makes the samplers ``VideoReader`` methods."""
    for sampler in (
        clips_at_random_indices,
        clips_at_regular_indices,
        clips_at_random_timestamps,
        clips_at_regular_timestamps,
    ):
        setattr(_gstpipe.VideoReader, sampler.__name__, sampler)
