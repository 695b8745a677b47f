"""Views stay valid after their frame, iterator and pipeline are gone, and are read-only."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import gstpipe

DESC = "videotestsrc num-buffers=5 pattern=snow ! video/x-raw,format=RGB,width=33,height=9 ! appsink"


def test_views_outlive_frame_iterator_and_pipeline():
    p = gstpipe.Pipeline(DESC)
    frames = p.frames()
    views, copies = [], []
    for frame in frames:
        views.append(frame.array)
        copies.append(frame.copy())
        views.append(frame.planes[0])
    del frame, frames
    p.stop()
    del p
    gc.collect()
    # Other pipelines reuse the memory GStreamer freed, if any was.
    for _ in range(3):
        with gstpipe.Pipeline(DESC.replace("snow", "black")) as q:
            for f in q.frames():
                f.copy()
    gc.collect()
    for i, copy in enumerate(copies):
        np.testing.assert_array_equal(views[2 * i], copy)
        np.testing.assert_array_equal(views[2 * i + 1], copy)
    # snow frames differ from each other: each view kept its own frame.
    assert not np.array_equal(copies[0], copies[1])


def test_views_are_read_only():
    with gstpipe.Pipeline(DESC) as p:
        frame = next(p.frames())
    view = frame.array
    assert view.base is frame
    with pytest.raises(ValueError):
        view[0, 0, 0] = 1
    with pytest.raises(ValueError):
        view.setflags(write=True)
    with pytest.raises(ValueError):
        np.asarray(frame)[0] = 0
    writable = np.array(frame)  # numpy's copy
    writable[0, 0, 0] ^= 0xFF
    assert writable[0, 0, 0] != frame.array[0, 0, 0]


def test_frame_metadata():
    with gstpipe.Pipeline(
        "videotestsrc num-buffers=3 ! video/x-raw,format=RGB,width=8,height=6,framerate=25/1 ! appsink"
    ) as p:
        frames = list(p.frames())
    assert [f.pts_ns for f in frames] == [0, 40_000_000, 80_000_000]
    assert [f.pts for f in frames] == pytest.approx([0.0, 0.04, 0.08])
    assert frames[0].duration == pytest.approx(0.04)
    assert (frames[0].format, frames[0].width, frames[0].height) == ("RGB", 8, 6)
    assert frames[0].detections == []
    assert frames[0].nbytes == 6 * 24
    assert "RGB 8x6" in repr(frames[0])
