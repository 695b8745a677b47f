"""gstpipe.VideoReader: exact frames of files, against a plain sequential decode.

Clips are encoded in the test with GStreamer's own encoders (H.264 with B-frames in MP4, VP8
in WebM, at an odd size), and the reference is every frame of a sequential decode of the same
file through ``gstpipe.Pipeline("filesrc ... ! decodebin ! videoconvert ! ... ! appsink")``.

RGB from 8-bit 4:2:0 video is made by the reader's own converter (each chroma sample for its
2x2 pixels, as swscale does), the reference's by ``videoconvert chroma-mode=none``, whose
8-bit matrix is a few levels off: RGB frames are compared within ``RGB_LEVELS``. A wrong
frame is far off (the ball moves by several pixels a frame; the fixture checks it), and the
planes of the native format are compared bit for bit.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

import gstpipe
from conftest import frames_of

W, H = 66, 38  # odd sizes: padded rows in RGB, odd chroma sizes
RGB_LEVELS = 6


def assert_same_frames(got, want, what=""):
    """The same frame(s) in RGB: same shape, every value within ``RGB_LEVELS``."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, what
    worst = int(np.abs(got.astype(np.int16) - want.astype(np.int16)).max(initial=0))
    assert worst <= RGB_LEVELS, f"{what}: {worst} levels apart"
CLIPS = {
    "h264.mp4": (
        30,
        "x264enc bframes=2 b-adapt=false key-int-max=12 speed-preset=ultrafast ! h264parse "
        "! mp4mux",
    ),
    "vp8.webm": (24, "vp8enc deadline=1 keyframe-max-dist=10 ! webmmux"),
}


@pytest.fixture(scope="module", params=sorted(CLIPS))
def clip(request, tmp_path_factory):
    """(path, reference frames as arrays, reference pts_ns) for one encoded clip."""
    name = request.param
    frames, encoder = CLIPS[name]
    path = tmp_path_factory.mktemp("clips") / name
    with gstpipe.Pipeline(
        f"videotestsrc num-buffers={frames} pattern=ball ! "
        f"video/x-raw,format=I420,width={W},height={H},framerate=25/1 ! {encoder} ! "
        f"filesink location={path}"
    ) as p:
        p.play()
        p.wait(timeout=60)
    decoded = frames_of(
        f"filesrc name=clip location={path} ! decodebin ! videoconvert chroma-mode=none "
        "dither=none ! video/x-raw,format=RGB ! appsink sync=false"
    )
    assert len(decoded) == frames
    # The comparison can fail: consecutive frames are far more than RGB_LEVELS apart.
    for a, b in zip(decoded, decoded[1:]):
        assert np.abs(a.array.astype(np.int16) - b.array.astype(np.int16)).max() > 4 * RGB_LEVELS
    return str(path), [f.copy() for f in decoded], [f.pts_ns for f in decoded]


def test_every_index_equals_the_sequential_decode(clip):
    path, ref, pts = clip
    reader = gstpipe.VideoReader(path, format="RGB")
    assert len(reader) == len(ref)
    assert reader.pts_ns == pts
    assert reader.pts == pytest.approx([p / 1e9 for p in pts])
    assert reader.fps == pytest.approx(25.0)
    assert reader.duration == pytest.approx(len(ref) / 25.0, abs=0.05)
    assert (reader.width, reader.height, reader.format) == (W, H, "RGB")
    assert not reader.variable_rate
    # Backwards, so every read is a seek, not the decoder's next frame.
    for i in reversed(range(len(ref))):
        frame = reader[i]
        assert_same_frames(frame.array, ref[i], f"frame {i}")
        assert frame.pts_ns == pts[i]
    assert_same_frames(reader[-1].array, ref[-1])
    assert_same_frames(reader[-len(ref)].array, ref[0])


def test_slices_and_shuffled_batches(clip):
    path, ref, _ = clip
    reader = gstpipe.VideoReader(path, format="RGB")
    n = len(ref)
    stack = np.stack(ref)
    for key in (slice(2, 11, 3), slice(None, None, -4), slice(n - 5, None), slice(5, 5)):
        got = reader[key]
        indices = list(range(n))[key]
        if indices:
            assert got.shape == (len(indices), H, W, 3) and got.dtype == np.uint8
            assert_same_frames(got, stack[indices], str(key))
        else:
            assert len(got) == 0
    rng = random.Random(7)
    indices = rng.sample(range(n), 10) + [3, 3, -1]
    got = reader.get_batch(indices)
    assert_same_frames(got, stack[indices])


def test_index_errors_name_the_frame_count(clip):
    path, ref, _ = clip
    n = len(ref)
    reader = gstpipe.VideoReader(path, format="RGB")
    for bad in (n, n + 100, -n - 1):
        with pytest.raises(IndexError, match=f"{n} frames"):
            reader[bad]
    with pytest.raises(IndexError, match=f"{n} frames"):
        reader.get_batch([0, n])
    with pytest.raises(TypeError):
        reader["3"]
    with pytest.raises(IndexError):
        reader.seek(n / 25.0 + 10)
    # Still usable after the errors, and seek + read go on sequentially.
    i = reader.seek(reader.pts[5])
    assert i == 5
    assert_same_frames(reader.read().array, ref[5])
    assert_same_frames(reader.read().array, ref[6])
    assert reader.position == 7


def test_native_format_planes_and_bad_files(tmp_path, clip):
    path, ref, _ = clip
    native = gstpipe.VideoReader(path)
    assert native.format == "I420" and len(native) == len(ref)
    frame = native[3]
    half = ((H + 1) // 2, (W + 1) // 2, 1)
    assert [p.shape for p in frame.planes] == [(H, W, 1), half, half]
    sequential = frames_of(
        f"filesrc name=clip location={path} ! decodebin ! videoconvert ! video/x-raw,format=I420 ! "
        "appsink sync=false"
    )[3]
    for got, want in zip(frame.planes, sequential.planes):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(gstpipe.FrameError):
        native.get_batch([0, 1])  # planar frames have no single array
    with pytest.raises(gstpipe.OpenError):
        gstpipe.VideoReader(str(tmp_path / "missing.mp4"))
    with pytest.raises(OSError):
        gstpipe.VideoReader(str(tmp_path / "missing.mp4"))
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(gstpipe.Error):
        gstpipe.VideoReader(str(garbage))
    with pytest.raises(gstpipe.FrameError, match="NOPE"):
        gstpipe.VideoReader(path, format="NOPE")


def test_a_fifo_is_refused_at_once(tmp_path):
    """A FIFO nobody writes to would block a reader forever: it is refused at open, naming the
    path (in a child process, bounded, so a regression fails instead of hanging)."""
    import os
    import subprocess
    import sys

    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    script = (
        "import sys, gstpipe\n"
        "try:\n"
        "    gstpipe.VideoReader(sys.argv[1])\n"
        "except gstpipe.OpenError as e:\n"
        "    print('refused:', e)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(fifo)], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "pipe.mp4" in done.stdout and "FIFO" in done.stdout, \
        done.stdout


def test_path_objects_huge_indices_and_empty_batches(clip):
    import pathlib

    path, ref, _ = clip
    reader = gstpipe.VideoReader(pathlib.Path(path), format="RGB")
    assert len(reader) == len(ref)
    for huge in (10**20, -(10**20)):
        with pytest.raises(IndexError, match=f"{len(ref)} frames"):
            reader[huge]
        with pytest.raises(IndexError):
            reader.get_batch([0, huge])
    with pytest.raises(TypeError):
        reader[1.5]
    assert reader[5:5].shape == (0, H, W, 3)
    assert reader.get_batch([]).shape == (0, H, W, 3)
    assert_same_frames(reader[np.int64(3)].array, ref[3])
