"""asyncio: ``async for`` over ``Pipeline.aframes()``, ``Live`` and ``Batcher``.

``Pipeline.aframes()`` waits without any thread: when no frame is queued it yields to the
loop once, then parks; GStreamer's streaming thread (or, for the stall timeout, a GStreamer
clock timer) writes a byte into a socket the event loop watches (``loop.add_reader``), which
wakes the parked task. ``Live`` and ``Batcher`` are read by
one helper thread per iterator (not per item) that runs their blocking ``__next__`` without
the GIL and hands each item to the loop with ``call_soon_threadsafe``.

In both, cancelling the task (``task.cancel()``, ``asyncio.wait_for``) ends the wait at once
and loses nothing: the next ``__anext__`` gets the item the cancelled one would have had.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Optional

from . import _gstpipe

__all__ = ["AsyncFrames", "AsyncItems"]


class AsyncFrames:
    """The async iterator ``Pipeline.aframes()`` returns: ``Frame`` objects until end of
    stream; raises the pipeline's error, or ``TimeoutError`` inside the task when no frame
    comes for ``timeout`` seconds. Bound to the event loop that first awaits it. ``aclose()``
    (or leaving ``async with``) releases the appsink."""

    def __init__(self, poller: Any) -> None:
        self._poller = poller
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._waiter: Optional[asyncio.Future] = None

    def __aiter__(self) -> "AsyncFrames":
        return self

    async def __anext__(self) -> Any:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
            loop.add_reader(self._poller.fileno(), self._readable)
        try:
            while True:
                frame = self._poller.poll()
                if frame is not None:
                    return frame
                if asyncio.get_running_loop() is not loop:
                    raise RuntimeError("aframes() is bound to the loop that first awaited it")
                # Yield to the loop once before parking: other tasks run, and a frame the
                # streaming thread is making right now has usually come meanwhile. Parking
                # costs a wake-up through the socket (about 20 us of CPU here), one yield
                # about 3 us; it took 64x48 frames from 0.7x to 1.5x frames().
                await asyncio.sleep(0)
                frame = self._poller.poll()
                if frame is not None:
                    return frame
                self._waiter = loop.create_future()
                try:
                    await self._waiter
                finally:
                    self._waiter = None
        except (StopAsyncIteration, Exception):
            # The end, or the pipeline's error: nothing more will come.
            self._unwatch()
            raise

    def _readable(self) -> None:
        self._poller.clear()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _unwatch(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None and not loop.is_closed():
            loop.remove_reader(self._poller.fileno())

    @property
    def dropped(self) -> int:
        """How many frames ``latest=True`` dropped because a newer one came."""
        return self._poller.dropped

    async def aclose(self) -> None:
        """Stops reading: the appsink is released (its later frames are discarded)."""
        self._unwatch()
        self._poller.close()

    async def __aenter__(self) -> "AsyncFrames":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    def __del__(self) -> None:
        try:
            self._unwatch()
        except Exception:  # pragma: no cover - the loop is already gone
            pass


def aframes(
    self: _gstpipe.Pipeline,
    sink: Optional[str] = None,
    latest: bool = False,
    timeout: Optional[float] = 10.0,
    every: int = 1,
    max_fps: Optional[float] = None,
) -> AsyncFrames:
    """Frames from the pipeline's appsink for ``async for`` (the arguments of ``frames()``).

    Starts the pipeline if it is not running. Waiting never blocks the event loop and takes
    no thread; ``task.cancel()`` ends a wait at once; a stalled source raises
    ``TimeoutError`` inside the task after ``timeout`` seconds (``None``: no limit)."""
    return AsyncFrames(
        _gstpipe.frame_poller(self, sink, latest, timeout, every, max_fps)
    )


_END = object()


class AsyncItems:
    """``async for`` over a blocking iterator (``Live``, ``Batcher``): one helper thread
    runs its ``__next__`` (which waits without the GIL) and hands each item to the loop.
    The items, their order, timeouts and errors are those of the synchronous iteration."""

    def __init__(self, iterator: Any) -> None:
        self._iterator = iterator
        self._requests: list = []
        self._wanted = threading.Condition()
        self._thread: Optional[threading.Thread] = None
        # The request in flight; shielded, so a cancelled task leaves it to the next call.
        self._pending: Optional[asyncio.Future] = None
        self._ended = False

    def __aiter__(self) -> "AsyncItems":
        return self

    def _run(self) -> None:
        while True:
            with self._wanted:
                while not self._requests:
                    self._wanted.wait()
                request = self._requests.pop(0)
            if request is None:  # aclose()
                return
            loop, future = request
            try:
                outcome = (True, next(self._iterator, _END))
            except BaseException as e:  # handed to the task, re-raised there
                outcome = (False, e)
            try:
                loop.call_soon_threadsafe(_deliver, future, outcome)
            except RuntimeError:  # the loop was closed meanwhile
                return
            if outcome[0] is False or outcome[1] is _END:
                return

    async def __anext__(self) -> Any:
        if self._ended:
            raise StopAsyncIteration
        if self._pending is None:
            loop = asyncio.get_running_loop()
            self._pending = loop.create_future()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="gstpipe-aio", daemon=True)
                self._thread.start()
            with self._wanted:
                self._requests.append((loop, self._pending))
                self._wanted.notify()
        # A cancelled task leaves the request running: the next call gets its item.
        ok, value = await asyncio.shield(self._pending)
        self._pending = None
        if not ok:
            self._ended = True
            raise value
        if value is _END:
            self._ended = True
            raise StopAsyncIteration
        return value


    async def aclose(self) -> None:
        """Ends the helper thread once its current wait (if any) returns; the iterator then
        ends. The source itself is not stopped (``stop()`` it, or leave its ``with``)."""
        self._ended = True
        with self._wanted:
            self._requests.append(None)
            self._wanted.notify()


def _deliver(future: asyncio.Future, outcome: tuple) -> None:
    if not future.done():
        future.set_result(outcome)


def _items(self: Any) -> AsyncItems:
    """``async for`` over the items of the synchronous iteration (see ``AsyncItems``)."""
    return AsyncItems(self)


def install() -> None:
    """Adds ``Pipeline.aframes`` and ``__aiter__`` to ``Live`` and ``Batcher``."""
    _gstpipe.Pipeline.aframes = aframes
    _gstpipe.Live.__aiter__ = _items
    _gstpipe.Batcher.__aiter__ = _items
