"""The format table, dtypes and the per-plane shapes of planar formats."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import gstpipe
from conftest import frames_of

# Hand-checked plane shapes at 5x3 (odd sizes: subsampled planes round up).
PLANAR = {
    "I420": [(3, 5, 1), (2, 3, 1), (2, 3, 1)],
    "YV12": [(3, 5, 1), (2, 3, 1), (2, 3, 1)],
    "Y42B": [(3, 5, 1), (3, 3, 1), (3, 3, 1)],
    "Y444": [(3, 5, 1), (3, 5, 1), (3, 5, 1)],
    "Y41B": [(3, 5, 1), (3, 2, 1), (3, 2, 1)],
    "YUV9": [(3, 5, 1), (1, 2, 1), (1, 2, 1)],
    "A420": [(3, 5, 1), (2, 3, 1), (2, 3, 1), (3, 5, 1)],
    "GBR": [(3, 5, 1), (3, 5, 1), (3, 5, 1)],
    "GBRA": [(3, 5, 1), (3, 5, 1), (3, 5, 1), (3, 5, 1)],
    "NV12": [(3, 5, 1), (2, 3, 2)],
    "NV21": [(3, 5, 1), (2, 3, 2)],
    "NV16": [(3, 5, 1), (3, 3, 2)],
    "NV24": [(3, 5, 1), (3, 5, 2)],
    "I420_10LE": [(3, 5, 1), (2, 3, 1), (2, 3, 1)],
    "P010_10LE": [(3, 5, 1), (2, 3, 2)],
    "Y444_16LE": [(3, 5, 1), (3, 5, 1), (3, 5, 1)],
}
SIXTEEN_BIT = {"I420_10LE", "P010_10LE", "Y444_16LE"}


def test_dtypes():
    native = "<" if sys.byteorder == "little" else ">"
    assert gstpipe.dtype("RGB") == np.uint8
    assert gstpipe.dtype("I420") == np.uint8
    assert gstpipe.dtype("GRAY16_LE") == np.dtype("<u2")
    assert gstpipe.dtype("GRAY16_BE") == np.dtype(">u2")
    assert gstpipe.dtype("RGBA64_BE") == np.dtype(">u2")
    assert gstpipe.dtype("P010_10LE") == np.dtype("<u2")
    assert gstpipe.dtype("GRAY16_LE").byteorder in ("=", native)
    for not_samples in ("RGB16", "v210", "UYVP"):
        with pytest.raises(gstpipe.FrameError, match=not_samples):
            gstpipe.dtype(not_samples)
    with pytest.raises(ValueError, match="NOPE"):
        gstpipe.dtype("NOPE")


def test_channels():
    assert gstpipe.channels("RGB") == 3
    assert gstpipe.channels("BGRx") == 4
    assert gstpipe.channels("GRAY8") == 1
    assert gstpipe.channels("YUY2") == 2
    assert gstpipe.channels("RGBA64_LE") == 4
    assert gstpipe.channels("I420") is None
    assert gstpipe.channels("NV12") is None
    with pytest.raises(gstpipe.FrameError):
        gstpipe.channels("nope")


def test_formats_table_lists_every_format():
    table = {row["name"]: row for row in gstpipe.formats()}
    assert len(table) > 90
    assert table["RGB"]["layout"] == "packed" and table["RGB"]["channels"] == 3
    assert table["I420"]["planes"] == 3 and table["I420"]["layout"] == "planar"
    assert table["NV12"]["layout"] == "semi-planar"
    assert table["v210"]["dtype"] is None
    assert table["GRAY16_BE"]["dtype"] == np.dtype(">u2")


@pytest.mark.parametrize("fmt", sorted(PLANAR))
def test_planar_plane_shapes_and_round_trip(fmt):
    """Each plane's view has the hand-checked shape, and pushing the planes back yields the
    same RGB as GStreamer's videoconvert of the original frame (an independent reference)."""
    src = f"videotestsrc num-buffers=1 pattern=smpte ! video/x-raw,format={fmt},width=5,height=3"
    (frame,) = frames_of(f"{src} ! appsink")
    planes = frame.planes
    assert [p.shape for p in planes] == PLANAR[fmt]
    dtype = np.uint16 if fmt in SIXTEEN_BIT else np.uint8
    assert all(p.dtype == dtype and not p.flags.writeable for p in planes)
    assert all(p.base is frame for p in planes)
    with pytest.raises(gstpipe.FrameError, match="planar|planes"):
        frame.array

    (reference,) = frames_of(f"{src} ! videoconvert ! video/x-raw,format=RGB ! appsink")
    with gstpipe.Pipeline("appsrc ! videoconvert ! video/x-raw,format=RGB ! appsink") as p:
        source = p.source(format=fmt, width=5, height=3, fps=30)
        frames = p.frames(timeout=20)
        source.push([plane.copy() for plane in planes])
        got = next(frames)
        source.finish()
        assert list(frames) == []
    np.testing.assert_array_equal(got.array, reference.array)


def test_every_representable_format_has_plane_views():
    """Every raw format videotestsrc can produce gives plane views whose shapes cover the
    frame; sub-byte formats have none and say so."""
    checked = 0
    for row in gstpipe.formats():
        name = row["name"]
        if row["layout"] in ("tiled",):
            continue
        try:
            pipeline = gstpipe.Pipeline(
                f"videotestsrc num-buffers=1 ! video/x-raw,format={name},width=6,height=4 ! appsink"
            )
        except gstpipe.Error:
            continue
        with pipeline as p:
            try:
                frames = list(p.frames(timeout=5))
            except gstpipe.PipelineError:
                continue  # videotestsrc cannot produce this format
        (frame,) = frames
        if row["dtype"] is None:
            assert frame.shapes == []
            with pytest.raises(gstpipe.FrameError):
                frame.planes
            assert sum(frame.plane_nbytes) > 0
            continue
        planes = frame.planes
        assert [p.shape for p in planes] == frame.shapes == [tuple(s) for s in frame.shapes]
        assert planes[0].shape[:2] == (4, 6) or name == "RGB8P"
        assert all(p.dtype == row["dtype"] for p in planes if name != "RGB8P")
        checked += 1
    assert checked > 40
