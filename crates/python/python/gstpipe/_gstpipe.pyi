"""Type stubs of the native module ``gstpipe._gstpipe`` (re-exported by ``gstpipe``)."""

from __future__ import annotations

import os
from fractions import Fraction
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Literal,
    Optional,
    Sequence,
    Tuple,
    TypedDict,
    Union,
    overload,
)

import numpy as np
import numpy.typing as npt

class Detection(TypedDict, total=False):
    """An object detection (a region-of-interest meta on the frame's buffer)."""

    x: int
    y: int
    w: int
    h: int
    confidence: Optional[float]
    class_name: str
    track_id: Optional[int]

class FormatRow(TypedDict):
    """One row of ``formats()``."""

    name: str
    layout: str
    dtype: Optional[np.dtype[Any]]
    channels: Optional[int]
    planes: int
    components: int
    depth: int
    byte_order: str
    shapes_4x2: List[Tuple[int, int, int]]

Shape = Tuple[int, int, int]

class Frame:
    """One mapped video frame; ``array`` is a read-only zero-copy view that keeps it alive."""

    @property
    def array(self) -> npt.NDArray[Any]:
        """Read-only ``(height, width, channels)`` view of a packed frame (no copy)."""
    @property
    def planes(self) -> List[npt.NDArray[Any]]:
        """Read-only views of every plane, in memory order."""
    def copy(self) -> npt.NDArray[Any]:
        """Owned, contiguous copy in native byte order (packed formats)."""
    @property
    def pts(self) -> Optional[float]:
        """Presentation timestamp in seconds."""
    @property
    def pts_ns(self) -> Optional[int]:
        """Presentation timestamp in nanoseconds."""
    @property
    def duration(self) -> Optional[float]:
        """Duration in seconds."""
    @property
    def duration_ns(self) -> Optional[int]:
        """Duration in nanoseconds."""
    @property
    def format(self) -> str:
        """GStreamer format name (``RGB``, ``I420``, ...)."""
    @property
    def width(self) -> int:
        """Width in pixels."""
    @property
    def height(self) -> int:
        """Height in pixels."""
    @property
    def shapes(self) -> List[Shape]:
        """Array shape of every plane (empty for bit-packed formats)."""
    @property
    def nbytes(self) -> int:
        """Size of the frame in bytes, row padding included."""
    @property
    def plane_nbytes(self) -> List[int]:
        """Bytes of each plane, for every format."""
    @property
    def detections(self) -> List[Detection]:
        """Object detections carried by the frame."""
    def __array__(
        self, dtype: Optional[npt.DTypeLike] = None, copy: Optional[bool] = None
    ) -> npt.NDArray[Any]: ...
    def __dlpack__(self, **kwargs: Any) -> Any:
        """DLPack capsule of the read-only view (read-only flag with DLPack >= 1.0)."""
    def __dlpack_device__(self) -> Tuple[int, int]:
        """``(1, 0)``: CPU memory."""
    @property
    def index(self) -> Optional[int]:
        """Live frames: number across reconnections, from 0 (``None`` on other frames)."""
    @property
    def generation(self) -> Optional[int]:
        """Live frames: the pipeline generation (connection number), from 1."""
    @property
    def after_gap(self) -> Optional[bool]:
        """Live frames: the first frame after a reconnection."""
    @property
    def wall_ns(self) -> Optional[int]:
        """Live frames: capture time, nanoseconds since the UNIX epoch."""
    @property
    def wall_time(self) -> Optional[float]:
        """Live frames: capture time, UNIX seconds."""
    @property
    def time_source(self) -> Optional[Literal["sender_ntp", "pipeline_clock", "arrival"]]:
        """Live frames: where the capture time comes from."""

class AsyncFrames(AsyncIterator[Frame]):
    """The async iterator of ``Pipeline.aframes()`` (``gstpipe._aio.AsyncFrames``)."""

    def __aiter__(self) -> AsyncFrames: ...
    async def __anext__(self) -> Frame: ...
    @property
    def dropped(self) -> int:
        """Frames ``latest=True`` dropped for newer ones."""
    async def aclose(self) -> None:
        """Releases the appsink."""
    async def __aenter__(self) -> AsyncFrames: ...
    async def __aexit__(self, *exc: Any) -> None: ...

class AsyncItems(AsyncIterator[Any]):
    """``async for`` over ``Live`` and ``Batcher`` (``gstpipe._aio.AsyncItems``)."""

    def __aiter__(self) -> AsyncItems: ...
    async def __anext__(self) -> Any: ...
    async def aclose(self) -> None:
        """Ends the helper thread (the source is not stopped)."""

class FramePoller:
    """The native part of ``AsyncFrames``."""

    def poll(self) -> Optional[Frame]:
        """The next wanted frame, or ``None`` to wait for ``fileno()``."""
    def fileno(self) -> int:
        """Readable when ``poll()`` has something new."""
    def clear(self) -> None:
        """Empties the wake-up socket."""
    def close(self) -> None:
        """Releases the appsink."""
    @property
    def dropped(self) -> int:
        """Frames dropped for newer ones."""

def frame_poller(
    pipeline: Pipeline,
    sink: Optional[str] = None,
    latest: bool = False,
    timeout: Optional[float] = 10.0,
    every: int = 1,
    max_fps: Optional[float] = None,
) -> FramePoller:
    """The native part of ``Pipeline.aframes()``."""

class Frames(Iterator[Frame]):
    """Iterator of ``Pipeline.frames()``."""

    def __iter__(self) -> Frames: ...
    def __next__(self) -> Frame: ...
    @property
    def dropped(self) -> int:
        """Frames ``latest=True`` dropped for newer ones."""
    @property
    def count(self) -> int:
        """Frames returned so far."""

class Batches(Iterator[npt.NDArray[Any]]):
    """Iterator of ``Pipeline.batches()``: ``(n, height, width, channels)`` arrays."""

    def __iter__(self) -> Batches: ...
    def __next__(self) -> npt.NDArray[Any]: ...

class Callback:
    """Handle of ``Pipeline.on_frame()``."""

    @property
    def frames(self) -> int:
        """Frames given to the callback so far."""
    def wait(self, timeout: Optional[float] = None) -> int:
        """Waits for the end of the stream; returns the number of frames."""

class Source:
    """An appsrc taking numpy arrays (``Pipeline.source()``)."""

    def push(
        self,
        array: Union[npt.ArrayLike, Sequence[npt.ArrayLike]],
        pts: Optional[float] = None,
        detections: Optional[Sequence[Detection]] = None,
    ) -> None:
        """Pushes one frame (a list of arrays for planar formats)."""
    def finish(self) -> None:
        """End of stream, then waits for the pipeline to finish."""
    @property
    def pushed(self) -> int:
        """Frames pushed so far."""
    @property
    def shapes(self) -> List[Shape]:
        """Array shapes a push takes, one per plane."""
    @property
    def format(self) -> str:
        """Format name of the frames."""
    @property
    def width(self) -> int:
        """Width in pixels."""
    @property
    def height(self) -> int:
        """Height in pixels."""

class Pipeline:
    """A GStreamer pipeline from a ``gst-launch-1.0`` description; a context manager."""

    def __init__(self, description: str) -> None: ...
    @property
    def description(self) -> str:
        """The description it was built from."""
    @property
    def name(self) -> str:
        """The pipeline's name."""
    @property
    def appsinks(self) -> List[str]:
        """Names of the pipeline's appsinks."""
    @property
    def done(self) -> bool:
        """Whether the pipeline has ended."""
    def play(self) -> None:
        """Starts the pipeline."""
    def stop(self) -> None:
        """Stops gracefully (end of stream, bounded wait, Null); from an ``on_frame`` callback
        it sends end of stream and returns at once."""
    def request_eos(self) -> None:
        """Sends end of stream and returns at once (from any thread, a frame callback
        included); a run sends it once, so calling it again is harmless."""
    def wait(self, timeout: Optional[float] = None) -> None:
        """Waits for the end; raises the pipeline's error or ``TimeoutError``."""
    def frames(
        self,
        sink: Optional[str] = None,
        latest: bool = False,
        timeout: Optional[float] = 10.0,
        every: int = 1,
        max_fps: Optional[float] = None,
    ) -> Frames:
        """Frames from the appsink; starts the pipeline if needed. ``every=k`` keeps one
        frame in ``k``, ``max_fps`` at most that many per second of stream time."""
    def aframes(
        self,
        sink: Optional[str] = None,
        latest: bool = False,
        timeout: Optional[float] = 10.0,
        every: int = 1,
        max_fps: Optional[float] = None,
    ) -> AsyncFrames:
        """``frames()`` for ``async for``: waits without blocking the loop or a thread."""
    def batches(
        self, n: int, sink: Optional[str] = None, timeout: Optional[float] = 10.0
    ) -> Batches:
        """Batches of ``n`` frames as ``(n, h, w, c)`` arrays."""
    def on_frame(self, callback: Callable[[Frame], Any], sink: Optional[str] = None) -> Callback:
        """Calls ``callback(frame)`` on the streaming thread for every frame."""
    def source(
        self,
        name: Optional[str] = None,
        format: Optional[str] = None,
        width: Optional[int] = None,
        height: Optional[int] = None,
        fps: Union[None, int, float, Fraction, Tuple[int, int]] = None,
    ) -> Source:
        """An appsrc to push arrays into (its caps from the arguments, else as written; a
        framerate the caps lack is ``fps``, default 30). Pushing starts the pipeline."""
    def __enter__(self) -> Pipeline: ...
    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool: ...

EventKind = Literal["connected", "disconnected", "reconnecting", "reconnected", "gave_up"]

class HealthEvent:
    """A change in a live source's health (``Live(events=True)``, ``Live.on_event``)."""

    @property
    def kind(self) -> EventKind:
        """What happened."""
    @property
    def generation(self) -> Optional[int]:
        """connected, disconnected, reconnected: the generation, from 1."""
    @property
    def attempt(self) -> Optional[int]:
        """reconnecting: the attempt number, from 1; gave_up: attempts made."""
    @property
    def delay(self) -> Optional[float]:
        """reconnecting: seconds before the rebuild."""
    @property
    def gap(self) -> Optional[float]:
        """reconnected: seconds without frames."""
    @property
    def error(self) -> Optional[BaseException]:
        """disconnected, gave_up: why the pipeline ended, as an exception instance."""
    @property
    def reason(self) -> Optional[Literal["error", "eos", "stalled"]]:
        """disconnected, gave_up: why, in one word."""

class LiveStats(TypedDict):
    """``Live.stats``."""

    frames: int
    dropped: int
    reconnects: int
    attempts: int
    generation: int
    last_frame_age: Optional[float]
    connected: bool

class Live(Iterator[Union[Frame, HealthEvent]]):
    """A live pipeline rebuilt with backoff whenever it fails, ends or stalls; a context
    manager and an iterator of ``Frame`` (and ``HealthEvent`` with ``events=True``)."""

    def __init__(
        self,
        description: str,
        *,
        sink: Optional[str] = None,
        reconnect_delay: float = 0.5,
        max_reconnects: Optional[int] = None,
        max_delay: float = 30.0,
        factor: float = 2.0,
        jitter: float = 0.1,
        stall: float = 5.0,
        latest: bool = True,
        capacity: int = 4,
        timeout: Optional[float] = None,
        events: bool = False,
        on_event: Optional[Callable[[HealthEvent], Any]] = None,
    ) -> None: ...
    @property
    def description(self) -> str:
        """The description every generation is built from."""
    @property
    def stats(self) -> LiveStats:
        """The counters."""
    @property
    def finished(self) -> bool:
        """Whether the supervisor has ended (stopped or gave up)."""
    def on_event(self, callback: Callable[[HealthEvent], Any]) -> None:
        """Calls ``callback(event)`` for every later health event."""
    def request_stop(self) -> None:
        """Asks the supervisor to stop; returns at once."""
    def stop(self) -> None:
        """Stops the supervisor and tears the pipeline down."""
    def __iter__(self) -> Live: ...
    def __next__(self) -> Union[Frame, HealthEvent]: ...
    def __aiter__(self) -> AsyncItems:
        """``async for``: the items of the synchronous iteration, read by one helper thread."""
    def __enter__(self) -> Live: ...
    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool: ...

class StreamInfo(TypedDict):
    """One entry of ``Batcher.streams``."""

    stream: int
    name: str
    received: int
    batched: int
    dropped: int
    end: Optional[Literal["eos", "failed", "detached"]]
    error: Optional[BaseException]

class Batch:
    """One batch of a ``Batcher``: the array and per-slot information."""

    @property
    def array(self) -> npt.NDArray[Any]:
        """``(N, H, W, C)`` ``uint8`` or ``(N, C, H, W)`` ``float32``; empty slots are zeros."""
    @property
    def index(self) -> int:
        """The batch's number, from 0."""
    @property
    def filled(self) -> List[bool]:
        """Which slots hold a frame."""
    @property
    def pts(self) -> List[Optional[float]]:
        """Each slot's pts in seconds."""
    @property
    def pts_ns(self) -> List[Optional[int]]:
        """Each slot's pts in nanoseconds."""
    @property
    def indices(self) -> List[Optional[int]]:
        """Each slot's frame number in its stream."""
    @property
    def streams(self) -> List[str]:
        """The streams' names, one per slot."""
    @property
    def slots(self) -> List[int]:
        """Each entry's slot number (stable across ``Batcher.add``/``remove``)."""
    @property
    def formed(self) -> Literal["complete", "timeout"]:
        """Why the batch was formed."""
    @property
    def ended(self) -> List[Tuple[int, Optional[BaseException]]]:
        """Streams that ended since the previous batch, with their error if they failed."""
    def __len__(self) -> int: ...
    def __array__(
        self, dtype: Optional[npt.DTypeLike] = None, copy: Optional[bool] = None
    ) -> npt.NDArray[Any]: ...

class Batcher(Iterator[Batch]):
    """One batch across several pipelines, one slot per stream; a context manager."""

    def __init__(
        self,
        sources: Iterable[Union[str, Pipeline, Live]],
        *,
        timeout: float = 0.04,
        ahead: Literal["newest", "queue", "block"] = "newest",
        depth: int = 4,
        stall: float = 10.0,
        layout: Literal["nhwc", "nchw"] = "nhwc",
        scale: float = 1.0 / 255.0,
        mean: Union[None, float, Sequence[float]] = None,
        std: Union[None, float, Sequence[float]] = None,
        out: Optional[npt.NDArray[Any]] = None,
    ) -> None: ...
    def next_batch(self, out: Optional[npt.NDArray[Any]] = None) -> Optional[Batch]:
        """The next batch (written into ``out`` when given); ``None`` at the end."""
    @property
    def streams(self) -> List[StreamInfo]:
        """Each stream's counters and state."""
    @property
    def batches(self) -> int:
        """Batches formed so far."""
    def add(self, source: Union[str, Pipeline, Live]) -> int:
        """Adds a stream while batches are formed; returns its slot number."""
    def remove(self, slot: int) -> None:
        """Takes stream ``slot`` out; other slots keep their numbers."""
    def stop(self) -> None:
        """Releases the appsinks and stops the pipelines built from descriptions."""
    def __len__(self) -> int: ...
    def __iter__(self) -> Batcher: ...
    def __next__(self) -> Batch: ...
    def __aiter__(self) -> AsyncItems:
        """``async for``: the batches of the synchronous iteration, read by one helper thread."""
    def __enter__(self) -> Batcher: ...
    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool: ...

class VideoReader:
    """A video file as exactly indexed frames: ``reader[i]`` equals frame ``i`` of a
    sequential decode."""

    def __init__(
        self,
        path: Union[str, os.PathLike[str]],
        format: Optional[str] = None,
        *,
        timeout: Optional[float] = 10.0,
        index_cache: Union[str, os.PathLike[str], None] = ...,
        stream: int = 0,
        upright: bool = True,
        deinterlace: bool = False,
        size: Optional[Tuple[int, int]] = None,
    ) -> None:
        """Opens a regular file (a FIFO, socket or device raises ``OpenError`` at once).
        ``index_cache``: where frame indexes are saved for later processes (default
        ``$GSTPIPE_INDEX_CACHE``, else ``$XDG_CACHE_HOME/gstpipe/index``; ``None``: nowhere).
        ``stream``: which video stream to read (0: the first). ``upright``: turn frames upright
        when the file has a display rotation (default); ``False``: as stored, like PyAV.
        ``deinterlace``: deinterlace interlaced video (default: frames as decoded).
        ``size``: ``(width, height)`` to scale frames to (bilinear)."""
    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, key: int) -> Frame: ...
    @overload
    def __getitem__(self, key: slice) -> npt.NDArray[Any]: ...
    def get_batch(self, indices: Sequence[int]) -> npt.NDArray[Any]:
        """Frames at ``indices`` (any order, repeats) as ``(N, h, w, c)``; ``(0, h, w, c)``
        for no index."""
    def seek(self, time: float, exact: bool = True) -> int:
        """Moves to ``time`` seconds; returns the frame index ``read()`` returns next."""
    def read(self) -> Optional[Frame]:
        """The frame at ``position``, then the next; ``None`` after the last."""
    @property
    def position(self) -> int:
        """Index of the frame ``read()`` returns next."""
    @property
    def fps(self) -> float:
        """Frames per second (nominal, or the average for variable-rate video)."""
    @property
    def variable_rate(self) -> bool:
        """Whether the frames are unevenly spaced."""
    @property
    def duration(self) -> float:
        """Duration in seconds."""
    @property
    def pts(self) -> List[float]:
        """Every frame's pts in seconds."""
    @property
    def pts_ns(self) -> List[int]:
        """Every frame's pts in nanoseconds."""
    @property
    def keyframes(self) -> List[int]:
        """Indices of the keyframes."""
    @property
    def width(self) -> int:
        """Frame width in pixels."""
    @property
    def height(self) -> int:
        """Frame height in pixels."""
    @property
    def format(self) -> str:
        """Raw format of the frames."""
    @property
    def codec(self) -> str:
        """Short codec name (``h264``, ``vp8``, ...)."""
    @property
    def warnings(self) -> int:
        """Warnings GStreamer posted while indexing and decoding."""
    @property
    def uri(self) -> str:
        """The URI being read."""
    def clips_at_random_indices(
        self,
        num_clips: int = 1,
        frames_per_clip: int = 1,
        step: int = 1,
        seed: Optional[int] = None,
        *,
        sampling_range_start: int = 0,
        sampling_range_end: Optional[int] = None,
        policy: Literal["repeat_last", "wrap", "error"] = "repeat_last",
    ) -> Clips:
        """Clips starting at random frames (TorchCodec's ``clips_at_random_indices``)."""
    def clips_at_regular_indices(
        self,
        num_clips: int = 1,
        frames_per_clip: int = 1,
        step: int = 1,
        *,
        sampling_range_start: int = 0,
        sampling_range_end: Optional[int] = None,
        policy: Literal["repeat_last", "wrap", "error"] = "repeat_last",
    ) -> Clips:
        """Clips starting at evenly spaced frames."""
    def clips_at_random_timestamps(
        self,
        num_clips: int = 1,
        frames_per_clip: int = 1,
        seconds_between_frames: Optional[float] = None,
        seed: Optional[int] = None,
        *,
        sampling_range_start: Optional[float] = None,
        sampling_range_end: Optional[float] = None,
        policy: Literal["repeat_last", "wrap", "error"] = "repeat_last",
    ) -> Clips:
        """Clips starting at random times."""
    def clips_at_regular_timestamps(
        self,
        seconds_between_clip_starts: float,
        frames_per_clip: int = 1,
        seconds_between_frames: Optional[float] = None,
        *,
        sampling_range_start: Optional[float] = None,
        sampling_range_end: Optional[float] = None,
        policy: Literal["repeat_last", "wrap", "error"] = "repeat_last",
    ) -> Clips:
        """Clips starting every ``seconds_between_clip_starts``."""

class Clips:
    """Clips sampled from a video: ``data[c, k]`` is frame ``indices[c, k]``."""

    @property
    def data(self) -> npt.NDArray[Any]:
        """``(num_clips, frames_per_clip, h, w, c)``."""
    @property
    def pts(self) -> npt.NDArray[np.float64]:
        """``(num_clips, frames_per_clip)`` seconds."""
    @property
    def pts_ns(self) -> npt.NDArray[np.uint64]:
        """``(num_clips, frames_per_clip)`` nanoseconds."""
    @property
    def indices(self) -> npt.NDArray[np.int64]:
        """``(num_clips, frames_per_clip)`` frame indices."""
    def __len__(self) -> int: ...

def clips_at_random_indices(
    reader: VideoReader, num_clips: int, frames_per_clip: int, step: int,
    seed: Optional[int], start: int, end: Optional[int], policy: str,
) -> Clips:
    """Native part of ``VideoReader.clips_at_random_indices``."""

def clips_at_regular_indices(
    reader: VideoReader, num_clips: int, frames_per_clip: int, step: int,
    start: int, end: Optional[int], policy: str,
) -> Clips:
    """Native part of ``VideoReader.clips_at_regular_indices``."""

def clips_at_random_timestamps(
    reader: VideoReader, num_clips: int, frames_per_clip: int,
    seconds_between_frames: Optional[float], seed: Optional[int], start: Optional[float],
    end: Optional[float], policy: str,
) -> Clips:
    """Native part of ``VideoReader.clips_at_random_timestamps``."""

def clips_at_regular_timestamps(
    reader: VideoReader, seconds_between_clip_starts: float, frames_per_clip: int,
    seconds_between_frames: Optional[float], start: Optional[float], end: Optional[float],
    policy: str,
) -> Clips:
    """Native part of ``VideoReader.clips_at_regular_timestamps``."""

    @property
    def streams(self) -> List[Dict[str, str]]:
        """Every stream of the file: ``{"kind": "video" | "audio" | ..., "codec": ...}``."""
    @property
    def interlace_mode(self) -> str:
        """``"progressive"``, ``"interleaved"``, ``"mixed"``, ..."""
    @property
    def field_order(self) -> Optional[str]:
        """``"top-field-first"`` / ``"bottom-field-first"`` for interlaced video."""
    @property
    def rotation(self) -> int:
        """Degrees the stored frames are turned clockwise to show them upright."""
    @property
    def upright(self) -> bool:
        """Whether the reader turns frames upright."""
    @property
    def stream(self) -> int:
        """Which video stream is read (0: the first)."""
    @property
    def index_origin(self) -> Literal["scanned", "process", "saved"]:
        """Where the frame index came from (``"saved"``: an earlier scan's, from disk)."""
    @property
    def lost_frames(self) -> List[int]:
        """Frames found not to decode so far (damaged data), ascending."""
    def verify(self) -> List[int]:
        """Decodes every frame once; returns the frames that did not decode."""

def channels(format: str) -> Optional[int]:
    """Memory channels of a packed format (``None`` for planar ones)."""

def dtype(format: str) -> np.dtype[Any]:
    """numpy dtype of a format's arrays (``>u2`` for big-endian formats)."""

def formats() -> List[FormatRow]:
    """The format table."""

def gstreamer_version() -> Tuple[int, int, int, int]:
    """The running GStreamer's version."""

def _launch(args: List[str], prog: str = "python -m gstpipe") -> int:
    """Runs the ``gstpipe launch`` command with ``args`` (the options after ``python -m
    gstpipe``) and returns its exit status: 0 at end of stream (also after Ctrl-C, SIGTERM or
    SIGHUP, which end the stream gracefully), 1 when the pipeline fails, 2 for usage errors.
    Prints to the process's stdout and stderr and takes over SIGINT, SIGTERM and SIGHUP: the
    ``python -m gstpipe`` entry point, not for use inside a program."""

def _panic_for_tests(message: str) -> None:
    """Panics in the bindings with ``message`` (the test suite checks it becomes ``Error``)."""
