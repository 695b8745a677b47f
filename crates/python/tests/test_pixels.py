"""`.array` reads the pixels GStreamer's own pngenc writes, at odd widths and every dtype."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import gstpipe
from conftest import frames_of

SRC = "videotestsrc num-buffers=2 pattern={pattern}"


def png_frames(tmp_path, caps: str, pattern: str) -> list:
    """The same frames encoded by pngenc and decoded by Pillow: the independent reference."""
    location = tmp_path / "frame-%05d.png"
    with gstpipe.Pipeline(
        f"{SRC.format(pattern=pattern)} ! {caps} ! pngenc ! multifilesink location={location}"
    ) as p:
        p.play()
        p.wait(timeout=30)
    paths = sorted(tmp_path.glob("frame-*.png"))
    assert len(paths) == 2
    return [np.array(Image.open(path)) for path in paths]


@pytest.mark.parametrize("width", [641, 5, 7, 33])
@pytest.mark.parametrize("pattern", ["smpte", "snow"])
def test_rgb_at_odd_widths_equals_png(tmp_path, width, pattern):
    caps = f"video/x-raw,format=RGB,width={width},height=11"
    frames = frames_of(f"{SRC.format(pattern=pattern)} ! {caps} ! appsink")
    pngs = png_frames(tmp_path, caps, pattern)
    for frame, png in zip(frames, pngs):
        array = frame.array
        assert array.shape == (11, width, 3) == png.shape
        assert array.strides[0] % 4 == 0 and array.strides[0] >= width * 3  # GStreamer's rows
        assert not array.flags.writeable
        np.testing.assert_array_equal(array, png)
        np.testing.assert_array_equal(frame.copy(), png)
        assert frame.copy().flags.c_contiguous


@pytest.mark.parametrize(
    "fmt, reorder",
    [("RGBA", [0, 1, 2, 3]), ("BGRx", [2, 1, 0]), ("BGR", [2, 1, 0]), ("xRGB", [1, 2, 3])],
)
def test_four_and_swapped_channel_formats_equal_png(tmp_path, fmt, reorder):
    caps = f"video/x-raw,format={fmt},width=13,height=5"
    frames = frames_of(f"{SRC.format(pattern='smpte')} ! {caps} ! appsink")
    png_caps = "video/x-raw,format=RGBA,width=13,height=5"
    pngs = png_frames(tmp_path, png_caps, "smpte")
    channels = gstpipe.channels(fmt)
    for frame, png in zip(frames, pngs):
        assert frame.array.shape == (5, 13, channels)
        expected = png[..., : len(reorder)] if fmt == "RGBA" else png[..., :3]
        np.testing.assert_array_equal(frame.array[..., reorder], expected)


def test_gray8_equals_png(tmp_path):
    caps = "video/x-raw,format=GRAY8,width=9,height=7"
    frames = frames_of(f"{SRC.format(pattern='smpte')} ! {caps} ! appsink")
    pngs = png_frames(tmp_path, caps, "smpte")
    for frame, png in zip(frames, pngs):
        assert frame.array.shape == (7, 9, 1)
        assert frame.array.dtype == np.uint8
        np.testing.assert_array_equal(frame.array[..., 0], png)


def test_gray16_be_is_a_big_endian_view_equal_to_png(tmp_path):
    caps = "video/x-raw,format=GRAY16_BE,width=9,height=7"
    frames = frames_of(f"{SRC.format(pattern='smpte')} ! {caps} ! appsink")
    pngs = png_frames(tmp_path, caps, "smpte")
    for frame, png in zip(frames, pngs):
        array = frame.array
        assert array.dtype == gstpipe.dtype("GRAY16_BE") == np.dtype(">u2")
        # Pillow decodes 16-bit gray PNGs as 32-bit ints (mode "I") or "I;16".
        np.testing.assert_array_equal(array[..., 0].astype(np.int64), png.astype(np.int64))
        copy = frame.copy()
        assert copy.dtype == np.dtype("uint16") and copy.dtype.isnative
        np.testing.assert_array_equal(copy, array)
