"""VideoReader clip samplers against PyAV, an independent decoder.

The clip is encoded by the ``ffmpeg`` CLI (H.264 with B-frames, so frames are reordered and
seeks land between keyframes); the reference is PyAV's sequential decode of it. Frames are
compared on the luma plane (``GRAY8`` here, the ``Y`` plane in PyAV), which both decoders give
bit for bit without a colour conversion of their own. Expected indices follow TorchCodec's
documented rules, computed here with numpy.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

import gstpipe

av = pytest.importorskip("av", reason="PyAV is the reference decoder (pip install av)")

W, H, N, FPS = 64, 48, 60, 25


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """(path, luma planes (N, H, W), pts in seconds from PyAV)."""
    assert shutil.which("ffmpeg"), "the ffmpeg CLI is needed (cargo xtask setup)"
    path = tmp_path_factory.mktemp("clips") / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=size={W}x{H}:rate={FPS}", "-frames:v", str(N), "-c:v", "libx264",
         "-bf", "2", "-g", "12", "-pix_fmt", "yuv420p", str(path)],
        check=True, timeout=60,
    )
    with av.open(str(path)) as container:
        frames = [(f.to_ndarray()[:H], float(f.pts * f.time_base))
                  for f in container.decode(video=0)]
    assert len(frames) == N
    return str(path), np.stack([f for f, _ in frames]), np.array([t for _, t in frames])


def check_frames(clips, luma, reader):
    """Shapes, and every frame equal to PyAV's frame at its index."""
    num_clips, per_clip = clips.indices.shape
    assert clips.data.shape == (num_clips, per_clip, H, W, 1)
    assert clips.data.dtype == np.uint8
    assert clips.pts.shape == clips.pts_ns.shape == (num_clips, per_clip)
    assert len(clips) == num_clips
    for c in range(num_clips):
        for k in range(per_clip):
            i = clips.indices[c, k]
            np.testing.assert_array_equal(clips.data[c, k, :, :, 0], luma[i], err_msg=f"{c}/{k}")


def test_random_indices_are_seeded_clips_of_step_spaced_frames(clip):
    path, luma, av_pts = clip
    reader = gstpipe.VideoReader(path, format="GRAY8")
    clips = reader.clips_at_random_indices(num_clips=6, frames_per_clip=4, step=3, seed=11)
    span = 3 * (4 - 1) + 1
    starts = clips.indices[:, 0]
    assert ((0 <= starts) & (starts < N - span + 1)).all()
    np.testing.assert_array_equal(clips.indices, starts[:, None] + 3 * np.arange(4)[None, :])
    check_frames(clips, luma, reader)
    offset = reader.pts[0] - av_pts[0]
    np.testing.assert_allclose(clips.pts, av_pts[clips.indices] + offset, atol=1e-6)
    assert (clips.pts_ns == np.array(reader.pts_ns)[clips.indices]).all()
    again = reader.clips_at_random_indices(num_clips=6, frames_per_clip=4, step=3, seed=11)
    np.testing.assert_array_equal(again.indices, clips.indices)
    other = reader.clips_at_random_indices(num_clips=6, frames_per_clip=4, step=3, seed=12)
    assert not np.array_equal(other.indices, clips.indices)


def test_regular_indices_follow_linspace_and_the_policies(clip):
    path, luma, _ = clip
    reader = gstpipe.VideoReader(path, format="GRAY8")
    clips = reader.clips_at_regular_indices(num_clips=7, frames_per_clip=5, step=2)
    end = N - (2 * 4 + 1) + 1
    expected_starts = np.linspace(0, end - 1, 7).astype(int)
    np.testing.assert_array_equal(clips.indices[:, 0], expected_starts)
    np.testing.assert_array_equal(clips.indices, expected_starts[:, None] + 2 * np.arange(5))
    check_frames(clips, luma, reader)
    # More clips than starts: repeats, as torch.linspace(0, 10, 20, dtype=int).
    many = reader.clips_at_regular_indices(num_clips=20, sampling_range_end=11)
    assert many.indices[:, 0].tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 10]
    # Clips past the end (TorchCodec's example, shifted to this video's last index 59).
    kwargs = dict(num_clips=1, frames_per_clip=5, step=2, sampling_range_start=55,
                  sampling_range_end=56)
    assert reader.clips_at_regular_indices(**kwargs).indices.tolist() == [[55, 57, 59, 59, 59]]
    wrapped = reader.clips_at_regular_indices(**kwargs, policy="wrap")
    assert wrapped.indices.tolist() == [[55, 57, 59, 55, 57]]
    check_frames(wrapped, luma, reader)
    with pytest.raises(ValueError, match="past the end"):
        reader.clips_at_regular_indices(**kwargs, policy="error")
    # Negative bounds count from the end.
    tail = reader.clips_at_regular_indices(num_clips=2, sampling_range_start=-4)
    assert tail.indices[:, 0].tolist() == [56, 59]


def test_timestamps_sample_the_frame_shown_at_each_time(clip):
    path, luma, av_pts = clip
    reader = gstpipe.VideoReader(path, format="GRAY8")
    offset = reader.pts[0] - av_pts[0]
    shown = av_pts + offset  # the reader's timeline

    def frame_at(t):
        return int(np.searchsorted(shown, t + 1e-9, side="right") - 1)

    begin, end = shown[0], shown[-1] + 1 / FPS
    clips = reader.clips_at_regular_timestamps(
        seconds_between_clip_starts=0.5, frames_per_clip=3, seconds_between_frames=0.2
    )
    last_start = end - 2 * 0.2
    starts = [begin + 0.5 * k for k in range(10) if begin + 0.5 * k < last_start]
    expected = [[frame_at(s + 0.2 * j) for j in range(3)] for s in starts]
    assert clips.indices.tolist() == expected
    check_frames(clips, luma, reader)

    random = reader.clips_at_random_timestamps(num_clips=8, frames_per_clip=4, seed=5)
    # Frames one average frame duration apart: consecutive frames.
    steps = np.diff(random.indices, axis=1)
    assert (steps == 1).all(), random.indices
    assert (random.indices[:, -1] < N).all()
    check_frames(random, luma, reader)
    again = reader.clips_at_random_timestamps(num_clips=8, frames_per_clip=4, seed=5)
    np.testing.assert_array_equal(again.indices, random.indices)


def test_every_frame_is_decoded_once_in_file_order(clip):
    path, luma, _ = clip
    reader = gstpipe.VideoReader(path, format="GRAY8")
    # Overlapping clips: many repeats, each decoded once; the result equals get_batch.
    clips = reader.clips_at_regular_indices(num_clips=30, frames_per_clip=8)
    flat = clips.indices.reshape(-1).tolist()
    batch = reader.get_batch(flat)
    np.testing.assert_array_equal(clips.data.reshape(batch.shape), batch)


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.clips_at_random_indices(num_clips=0),
        lambda r: r.clips_at_random_indices(frames_per_clip=0),
        lambda r: r.clips_at_random_indices(step=0),
        lambda r: r.clips_at_regular_indices(frames_per_clip=N + 1, policy="error"),
        lambda r: r.clips_at_regular_indices(sampling_range_start=N),
        lambda r: r.clips_at_random_indices(policy="sometimes"),
        lambda r: r.clips_at_regular_timestamps(seconds_between_clip_starts=0),
        lambda r: r.clips_at_random_timestamps(seconds_between_frames=-1.0),
        lambda r: r.clips_at_random_timestamps(sampling_range_start=1e6),
    ],
)
def test_bad_arguments_are_value_errors(clip, call):
    reader = gstpipe.VideoReader(clip[0], format="GRAY8")
    with pytest.raises(ValueError):
        call(reader)
