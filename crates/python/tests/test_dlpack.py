"""DLPack and numpy's array protocol."""

from __future__ import annotations

import numpy as np
import pytest

import gstpipe

DESC = "videotestsrc num-buffers=1 pattern=snow ! video/x-raw,format={fmt},width=7,height=5 ! appsink"


@pytest.mark.parametrize("fmt, dtype", [("RGB", np.uint8), ("GRAY16_LE", np.uint16)])
def test_from_dlpack_shares_the_frame_memory(fmt, dtype):
    with gstpipe.Pipeline(DESC.format(fmt=fmt)) as p:
        frame = next(p.frames())
    assert frame.__dlpack_device__() == (1, 0)
    tensor = np.from_dlpack(frame)
    assert tensor.dtype == dtype
    assert tensor.shape == frame.array.shape
    assert np.shares_memory(tensor, frame.array)
    assert not tensor.flags.writeable
    np.testing.assert_array_equal(tensor, frame.copy())
    del frame
    np.testing.assert_array_equal(tensor, tensor.copy())


def test_array_protocol():
    with gstpipe.Pipeline(DESC.format(fmt="RGB")) as p:
        frame = next(p.frames())
    view = np.asarray(frame)
    assert np.shares_memory(view, frame.array) and not view.flags.writeable
    copy = np.array(frame, copy=True)
    assert not np.shares_memory(copy, frame.array) and copy.flags.writeable
    as_float = np.asarray(frame, dtype=np.float32)
    np.testing.assert_array_equal(as_float, frame.array.astype(np.float32))
