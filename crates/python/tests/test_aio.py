"""asyncio: ``Pipeline.aframes()``, ``async for`` over ``Live`` and ``Batcher``, and the
``every=`` / ``max_fps=`` sampling of ``frames()``.

References are the synchronous iterators' frames of the same deterministic descriptions;
responsiveness is what a concurrent task observes; latencies are measured around the event.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

import gstpipe
from conftest import frames_of

CAPS = "video/x-raw,format=RGB,width=32,height=24,framerate=30/1"
BALL = f"videotestsrc num-buffers=40 pattern=ball ! {CAPS} ! appsink sync=false"
# Live, and never sends a frame: a stalled source.
SILENT = "appsrc is-live=true caps=video/x-raw,format=GRAY8,width=4,height=4,framerate=10/1 ! appsink"


def run(coro, limit=30):
    return asyncio.run(asyncio.wait_for(coro, limit))


def reference(description=BALL, **kwargs):
    return [(f.pts_ns, f.copy()) for f in frames_of(description, **kwargs)]


def test_aframes_gives_the_frames_of_the_synchronous_iterator():
    expected = reference()
    assert len(expected) == 40

    async def read():
        with gstpipe.Pipeline(BALL) as p:
            return [(f.pts_ns, f.copy()) async for f in p.aframes()]

    got = run(read())
    assert [pts for pts, _ in got] == [pts for pts, _ in expected]
    for i, ((_, a), (_, b)) in enumerate(zip(got, expected)):
        np.testing.assert_array_equal(a, b, err_msg=f"frame {i}")


async def _waiting(iterator, task):
    """Yields to the loop until ``task`` is parked on ``iterator``'s wake-up (no sleep)."""
    for _ in range(10000):
        if iterator._waiter is not None or task.done():
            return
        await asyncio.sleep(0)
    raise AssertionError("the task never started waiting")


def test_cancel_ends_a_wait_at_once():
    async def main():
        with gstpipe.Pipeline(SILENT) as p:
            frames = p.aframes(timeout=None)
            task = asyncio.ensure_future(frames.__anext__())
            await _waiting(frames, task)
            assert not task.done()
            start = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return time.monotonic() - start

    assert run(main()) < 0.05


def test_a_stalled_source_raises_timeout_error_inside_the_task_and_the_loop_keeps_running():
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def main():
        tick = asyncio.ensure_future(ticker())
        try:
            with gstpipe.Pipeline(SILENT) as p:
                start = time.monotonic()
                with pytest.raises(gstpipe.TimeoutError) as raised:
                    async for _ in p.aframes(timeout=0.5):
                        pass
                return time.monotonic() - start, raised.value
        finally:
            tick.cancel()

    waited, error = run(main())
    assert isinstance(error, TimeoutError)  # the builtin one too
    assert 0.45 <= waited < 3.0
    # The loop ran the ticker the whole time (a blocked loop would give ~0 ticks).
    assert ticks >= 0.5 * waited / 0.01 * 0.5


def test_every_and_max_fps_keep_the_frames_asked_for():
    expected = reference()
    every3 = frames_of(BALL, every=3)
    assert [f.pts_ns for f in every3] == [pts for pts, _ in expected[::3]]
    for f, (_, ref) in zip(every3, expected[::3]):
        np.testing.assert_array_equal(f.array, ref)
    # 30 fps down to 10: one frame in three, by pts.
    tenth = frames_of(BALL, max_fps=10)
    assert [f.pts_ns for f in tenth] == [pts for pts, _ in expected[::3]]
    # Both: every second frame (15 fps), then at most 5 per second: 0, 0.2, 0.4, ... s.
    both = frames_of(BALL, every=2, max_fps=5)
    assert [f.pts_ns for f in both] == [pts for pts, _ in expected[::6]]

    async def read():
        with gstpipe.Pipeline(BALL) as p:
            return [f.pts_ns async for f in p.aframes(every=4)]

    assert run(read()) == [pts for pts, _ in expected[::4]]


@pytest.mark.parametrize("bad", [{"every": 0}, {"max_fps": 0.0}, {"max_fps": float("nan")}])
def test_bad_sampling_is_a_value_error(bad):
    with gstpipe.Pipeline(BALL) as p:
        with pytest.raises(ValueError):
            p.frames(**bad)
        with pytest.raises(ValueError):
            p.aframes(**bad)


def test_a_pipeline_error_is_raised_inside_the_task():
    bad = (
        "filesrc location=/nonexistent/gstpipe-aio.raw ! "
        "video/x-raw,format=GRAY8,width=4,height=4,framerate=10/1 ! appsink"
    )

    async def main():
        with pytest.raises(gstpipe.PipelineError) as raised:
            with gstpipe.Pipeline(bad) as p:
                async for _ in p.aframes(timeout=5):
                    pass
        return raised.value

    assert run(main()).element.startswith("filesrc")


ENDING = (
    "videotestsrc num-buffers=5 pattern=ball ! "
    "video/x-raw,format=GRAY8,width=16,height=8,framerate=30/1 ! appsink"
)


def test_async_for_over_live_matches_its_frames_and_a_cancelled_wait_loses_nothing():
    expected = [f.copy() for f in frames_of(ENDING)]

    async def main():
        live = gstpipe.Live(ENDING, reconnect_delay=0.01, jitter=0.0, latest=False, timeout=30)
        got = []
        with live:
            items = live.__aiter__()
            # A wait cancelled at once: its frame goes to the next __anext__.
            task = asyncio.ensure_future(items.__anext__())
            await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            async for frame in items:
                got.append((frame.index, frame.copy()))
                if len(got) == 10:
                    break
        return got

    got = run(main())
    assert [i for i, _ in got] == list(range(10))
    for i, array in got:
        np.testing.assert_array_equal(array, expected[i % 5])


def test_async_for_over_a_batcher_gives_its_batches():
    small = f"videotestsrc num-buffers=6 pattern=ball ! {CAPS} ! appsink sync=false"
    frames = [f.copy() for f in frames_of(small)]

    async def main():
        seen = []
        with gstpipe.Batcher([small, small], ahead="block", depth=2, timeout=0.5) as batcher:
            async for batch in batcher:
                for slot in range(2):
                    if batch.filled[slot]:
                        i = batch.indices[slot]
                        np.testing.assert_array_equal(batch.array[slot], frames[i])
                        seen.append((slot, i))
        return seen

    seen = run(main())
    assert sorted(seen) == [(s, i) for s in range(2) for i in range(6)]
