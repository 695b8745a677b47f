"""gstpipe: any GStreamer pipeline into zero-copy numpy arrays, and numpy arrays back in.

>>> import gstpipe
>>> with gstpipe.Pipeline(
...     "videotestsrc num-buffers=3 ! video/x-raw,format=RGB,width=64,height=48 ! appsink"
... ) as p:
...     shapes = [frame.array.shape for frame in p.frames()]
>>> shapes
[(48, 64, 3), (48, 64, 3), (48, 64, 3)]

``Frame.array`` is a read-only view of the frame's memory (no copy) that stays valid as long
as you hold it; ``Frame.copy()`` is an owned copy. Every wait and copy releases the GIL.
``Live`` reads a live source that survives (rebuilt with backoff on error, end or stall),
``Batcher`` forms one batch across several streams, ``VideoReader`` gives exact frame ``i``
of a file. See docs/python.md for the guide.
"""

from __future__ import annotations

from ._errors import (
    Error,
    FrameError,
    GaveUpError,
    OpenError,
    ParseError,
    PipelineError,
    TimeoutError,
)
from . import _aio, _clips
from ._gstpipe import (
    Batch,
    Batcher,
    Batches,
    Callback,
    Clips,
    Frame,
    Frames,
    HealthEvent,
    Live,
    Pipeline,
    Source,
    VideoReader,
    channels,
    dtype,
    formats,
    gstreamer_version,
)

_aio.install()
_clips.install()

__all__ = [
    "Pipeline",
    "Frame",
    "Frames",
    "Batches",
    "Callback",
    "Source",
    "Live",
    "HealthEvent",
    "Batcher",
    "Batch",
    "VideoReader",
    "Clips",
    "channels",
    "dtype",
    "formats",
    "gstreamer_version",
    "Error",
    "ParseError",
    "PipelineError",
    "GaveUpError",
    "TimeoutError",
    "FrameError",
    "OpenError",
]
