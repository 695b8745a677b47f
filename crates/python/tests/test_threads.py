"""The GIL is released while gstpipe waits; callbacks, latest-frame and graceful stops."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import gstpipe
from conftest import interrupted

STALLED = "appsrc caps=video/x-raw,format=GRAY8,width=4,height=4,framerate=10/1 ! appsink"


def test_other_threads_run_while_one_waits_on_a_stalled_pipeline():
    count = 0
    stop = threading.Event()

    def spin():
        nonlocal count
        while not stop.is_set():
            count += 1

    spinner = threading.Thread(target=spin)
    with gstpipe.Pipeline(STALLED) as p:
        p.source()
        frames = p.frames(timeout=1.0)
        spinner.start()
        try:
            with pytest.raises(gstpipe.TimeoutError):
                next(frames)
        finally:
            stop.set()
            spinner.join(timeout=10)
    # Holding the GIL for the whole second would leave the spinner a few switch intervals
    # (5 ms each); released, it runs the whole time (millions of iterations).
    assert count > 50_000, count


def test_a_stalled_pipeline_does_not_hold_up_another():
    results = {}
    returned = threading.Event()
    stalled = gstpipe.Pipeline(STALLED)
    source = stalled.source()
    frames = stalled.frames(timeout=60)

    def read_stalled():
        results["frame"] = next(frames)
        returned.set()

    thread = threading.Thread(target=read_stalled)
    thread.start()
    with gstpipe.Pipeline(
        "videotestsrc num-buffers=30 ! video/x-raw,format=RGB,width=32,height=24 ! appsink"
    ) as p:
        n = sum(1 for _ in p.frames())
    assert n == 30
    assert not returned.is_set()  # still waiting: nothing was pushed
    source.push(np.full((4, 4), 9, np.uint8))  # now release it
    thread.join(timeout=30)
    assert returned.is_set()
    assert results["frame"].array[0, 0, 0] == 9
    stalled.stop()


def test_on_frame_callback_runs_for_every_frame():
    seen = []
    with gstpipe.Pipeline(
        "videotestsrc num-buffers=12 ! video/x-raw,format=GRAY8,width=8,height=4 ! appsink"
    ) as p:
        handle = p.on_frame(lambda frame: seen.append((frame.pts_ns, frame.copy())))
        p.play()
        assert handle.wait(timeout=20) == 12
        p.wait(timeout=10)
    assert [pts for pts, _ in seen] == sorted(pts for pts, _ in seen)
    assert len(seen) == 12 and handle.frames == 12


def test_exception_in_callback_is_raised_by_wait():
    def boom(frame):
        if frame.pts_ns > 0:
            raise ZeroDivisionError("boom at the second frame")

    with gstpipe.Pipeline("videotestsrc num-buffers=10 ! appsink") as p:
        handle = p.on_frame(boom)
        p.play()
        with pytest.raises(ZeroDivisionError, match="second frame"):
            handle.wait(timeout=20)
        with pytest.raises(ZeroDivisionError, match="second frame"):
            p.wait(timeout=20)
        assert handle.frames == 1


def test_latest_frame_on_a_live_source_skips_to_the_newest():
    interval_ns = 10_000_000  # 100 fps
    with gstpipe.Pipeline(
        "videotestsrc is-live=true ! video/x-raw,format=GRAY8,width=16,height=16,framerate=100/1 "
        "! appsink"
    ) as p:
        frames = p.frames(latest=True, timeout=10)
        first = next(frames)
        # A slow consumer: busy for 0.3 s (a bounded wait nothing will cut short).
        threading.Event().wait(0.3)
        second = next(frames)
        assert frames.dropped >= 1
        gap = second.pts_ns - first.pts_ns
        assert gap > interval_ns, gap
        p.request_eos()
        rest = list(frames)  # ends at end of stream
    assert all(f.pts_ns > second.pts_ns for f in rest)


def test_request_eos_from_another_thread_ends_a_live_stream():
    with gstpipe.Pipeline("videotestsrc is-live=true ! video/x-raw,width=16,height=16 ! appsink") as p:
        frames = p.frames(timeout=10)
        next(frames)
        threading.Thread(target=p.request_eos).start()
        list(frames)  # returns at end of stream instead of waiting for the timeout
        p.wait(timeout=10)
    assert p.done


def test_several_threads_read_several_pipelines():
    totals = {}

    def read(i):
        with gstpipe.Pipeline(
            f"videotestsrc num-buffers={20 + i} ! video/x-raw,format=RGB,width=64,height=48 ! appsink"
        ) as p:
            totals[i] = sum(int(f.array[0, 0, 0] >= 0) for f in p.frames())

    threads = [threading.Thread(target=read, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert totals == {i: 20 + i for i in range(4)}


def test_batches_equal_the_frames_read_one_by_one():
    desc = "videotestsrc num-buffers=10 pattern=snow ! video/x-raw,format=RGB,width=9,height=5 ! appsink"
    with gstpipe.Pipeline(desc) as p:
        batches = list(p.batches(4))
    with gstpipe.Pipeline(desc) as p:
        frames = [f.copy() for f in p.frames()]
    assert [b.shape for b in batches] == [(4, 5, 9, 3), (4, 5, 9, 3), (2, 5, 9, 3)]
    np.testing.assert_array_equal(np.concatenate(batches), np.stack(frames))
    with gstpipe.Pipeline(desc.replace("RGB", "GRAY16_LE")) as p:
        batches = list(p.batches(8))
    assert [b.dtype for b in batches] == [np.uint16, np.uint16]
    assert [len(b) for b in batches] == [8, 2]
    with pytest.raises(ValueError):
        gstpipe.Pipeline(desc).batches(0)


def test_stop_after_reading_part_of_the_stream_with_the_iterator_alive():
    """A break with the iterator still referenced: stop() ends the pipeline cleanly."""
    with gstpipe.Pipeline(
        "videotestsrc num-buffers=1000 ! video/x-raw,format=RGB,width=64,height=48 ! appsink"
    ) as p:
        frames = p.frames()
        first = next(frames)
        p.stop()  # raises TimeoutError if end of stream could not get through
        assert p.done
    assert first.array.shape == (48, 64, 3)


def test_a_callback_referring_to_its_pipeline_does_not_keep_it_alive():
    import gc
    import weakref

    with gstpipe.Pipeline("videotestsrc num-buffers=3 ! appsink") as p:
        names = []
        p.on_frame(lambda frame: names.append(p.name))  # a cycle through GStreamer
        p.play()
        p.wait(timeout=20)
    assert len(names) == 3
    ref = weakref.ref(p)
    del p
    gc.collect()
    assert ref() is None


def test_two_appsinks_of_a_tee_read_from_two_threads():
    desc = (
        "videotestsrc num-buffers=6 pattern=snow ! video/x-raw,format=RGB,width=16,height=8 ! tee name=t "
        "t. ! queue ! appsink name=full "
        "t. ! queue ! videoconvert ! video/x-raw,format=GRAY8 ! appsink name=gray"
    )
    got = {}
    with gstpipe.Pipeline(desc) as p:
        assert sorted(p.appsinks) == ["full", "gray"]
        readers = {name: p.frames(sink=name) for name in ("full", "gray")}

        def read(name):
            got[name] = [(f.pts_ns, f.format, f.array.shape) for f in readers[name]]

        threads = [threading.Thread(target=read, args=(name,)) for name in readers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert [pts for pts, _, _ in got["full"]] == [pts for pts, _, _ in got["gray"]]
    assert len(got["full"]) == 6
    assert {(f, s) for _, f, s in got["full"]} == {("RGB", (8, 16, 3))}
    assert {(f, s) for _, f, s in got["gray"]} == {("GRAY8", (8, 16, 1))}


def test_ctrl_c_interrupts_an_unbounded_wait():
    """KeyboardInterrupt reaches a wait without timeout on a live pipeline, and leaving the
    with block then stops the pipeline."""
    script = (
        "import gstpipe, sys\n"
        "with gstpipe.Pipeline('videotestsrc is-live=true ! fakesink') as p:\n"
        "    p.play()\n"
        "    try:\n"
        "        print('ready', flush=True)\n"
        "        p.wait()\n"
        "    except KeyboardInterrupt:\n"
        "        print('interrupted', flush=True)\n"
        "print('stopped', p.done, flush=True)\n"
    )
    assert interrupted(script) == ["interrupted", "stopped", "True"]


def test_batches_of_a_live_sixteen_bit_source_are_uint16():
    """The batch dtype follows the caps, also when a live source negotiates them after the
    batches are asked for."""
    with gstpipe.Pipeline(
        "videotestsrc is-live=true num-buffers=5 pattern=snow "
        "! video/x-raw,format=GRAY16_LE,width=8,height=4,framerate=50/1 ! appsink"
    ) as p:
        batches = list(p.batches(2))
    assert [b.shape for b in batches] == [(2, 4, 8, 1), (2, 4, 8, 1), (1, 4, 8, 1)]
    assert all(b.dtype == np.uint16 for b in batches)
    assert batches[0].max() > 255  # 16-bit samples, not bytes
