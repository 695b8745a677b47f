"""gstpipe.Batcher: one batch across streams, checked against each stream's own frames.

The references are independent reads of the same deterministic descriptions through
``gstpipe.Pipeline(...).frames()``; the float batches against numpy's own arithmetic on the
``uint8`` frames.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import gstpipe
from conftest import frames_of

CAPS = "video/x-raw,format=RGB,width=32,height=24,framerate=30/1"
# Two streams of different patterns, both moving (every frame differs) and deterministic.
BALL = f"videotestsrc num-buffers=6 pattern=ball ! {CAPS} ! appsink sync=false"
SMPTE = f"videotestsrc num-buffers=9 pattern=smpte horizontal-speed=3 ! {CAPS} ! appsink sync=false"


def references(*descriptions):
    out = []
    for d in descriptions:
        frames = frames_of(d)
        out.append(([f.copy() for f in frames], [f.pts_ns for f in frames]))
    return out


def test_each_slot_holds_its_streams_frame_and_nothing_is_lost():
    refs = references(BALL, SMPTE)
    assert not np.array_equal(refs[0][0][0], refs[1][0][0])  # the streams differ
    seen = [[], []]
    with gstpipe.Batcher([BALL, SMPTE], ahead="block", depth=2, timeout=0.5) as batcher:
        assert len(batcher) == 2
        for batch in batcher:
            array = batch.array
            assert array.dtype == np.uint8 and array.shape == (2, 24, 32, 3)
            assert array.flags.c_contiguous
            assert len(batch) == 2 and batch.formed in ("complete", "timeout")
            assert all(name.startswith("appsink") for name in batch.streams)
            for slot in range(2):
                if not batch.filled[slot]:
                    assert batch.indices[slot] is None and batch.pts[slot] is None
                    assert not array[slot].any()  # an empty slot is zeros
                    continue
                i = batch.indices[slot]
                frames, pts = refs[slot]
                np.testing.assert_array_equal(array[slot], frames[i], err_msg=f"{slot}/{i}")
                assert batch.pts_ns[slot] == pts[i]
                assert batch.pts[slot] == pytest.approx(pts[i] / 1e9)
                seen[slot].append(i)
        streams = batcher.streams
    # Backpressure: every frame of both streams was batched once, in order.
    assert seen == [list(range(6)), list(range(9))]
    assert [s["batched"] for s in streams] == [6, 9]
    assert [s["dropped"] for s in streams] == [0, 0]
    assert [s["end"] for s in streams] == ["eos", "eos"]
    # The shorter stream ended: its slot stayed empty while the other went on.
    assert batcher.batches >= 9


def test_nchw_float_batches_equal_numpy_normalisation_into_a_reused_array():
    refs = references(BALL, SMPTE)
    mean = [0.485, 0.456, 0.406]
    std = [0.229, 0.224, 0.225]
    scale = 1.0 / 255.0
    out = np.empty((2, 3, 24, 32), np.float32)
    count = 0
    with gstpipe.Batcher(
        [BALL, SMPTE], ahead="block", depth=2, layout="nchw", scale=scale, mean=mean, std=std,
        out=out, timeout=0.5,
    ) as batcher:
        for batch in batcher:
            assert batch.array is out  # written in place, no new array
            u8 = np.zeros((2, 24, 32, 3), np.uint8)
            for slot in range(2):
                if batch.filled[slot]:
                    u8[slot] = refs[slot][0][batch.indices[slot]]
            expected = (
                (u8.astype(np.float32) * np.float32(scale) - np.array(mean, np.float32))
                / np.array(std, np.float32)
            ).transpose(0, 3, 1, 2)
            for slot in range(2):
                if batch.filled[slot]:
                    np.testing.assert_allclose(out[slot], expected[slot], rtol=1e-6, atol=1e-6)
                else:
                    assert not out[slot].any()
            count += 1
    assert count >= 9

    # A per-call array of the wrong type, shape or a read-only one is refused, naming what it
    # got; the batch is not lost but delivered by the next call.
    ball = references(BALL)[0][0]
    with gstpipe.Batcher([BALL], layout="nchw", ahead="block", depth=1) as batcher:
        with pytest.raises(gstpipe.FrameError, match="float32"):
            batcher.next_batch(out=np.empty((1, 3, 24, 32), np.uint8))
        with pytest.raises(gstpipe.FrameError, match="shape"):
            batcher.next_batch(out=np.empty((1, 3, 24, 31), np.float32))
        frozen = np.empty((1, 3, 24, 32), np.float32)
        frozen.flags.writeable = False
        with pytest.raises(gstpipe.FrameError, match="written"):
            batcher.next_batch(out=frozen)
        batch = batcher.next_batch(out=np.empty((1, 3, 24, 32), np.float32))
        assert batch.indices == [0]
        np.testing.assert_allclose(
            batch.array[0], (ball[0].astype(np.float32) * np.float32(scale)).transpose(2, 0, 1)
        )


def test_a_failing_stream_leaves_empty_slots_and_the_others_run_to_their_end():
    healthy = f"videotestsrc num-buffers=12 pattern=ball ! {CAPS} ! appsink sync=false"
    failing = (
        f"videotestsrc num-buffers=12 pattern=smpte horizontal-speed=3 ! {CAPS} ! "
        "identity name=boom error-after=4 ! appsink sync=false"
    )
    refs = references(healthy, failing.replace(" error-after=4", ""))
    batcher = gstpipe.Batcher([healthy, failing], ahead="block", depth=2, timeout=0.2)
    got = [[], []]
    failed = None
    # One stream failing is not the batcher failing: the iteration ends quietly.
    for batch in batcher:
        for slot in range(2):
            if batch.filled[slot]:
                i = batch.indices[slot]
                np.testing.assert_array_equal(batch.array[slot], refs[slot][0][i])
                got[slot].append(i)
        for stream, error in batch.ended:
            if stream == 1:
                failed = error
    batcher.stop()
    assert got[0] == list(range(12))  # the healthy stream went on to its end
    assert got[1] == list(range(3))  # identity fails on the 4th buffer
    assert isinstance(failed, gstpipe.PipelineError) and failed.element == "boom"
    assert failed.stream == 1 and "stream 1" in str(failed)
    status = batcher.streams
    assert status[1]["end"] == "failed" and status[1]["error"].element == "boom"
    assert status[0]["end"] == "eos" and status[0]["error"] is None


def test_a_stream_that_never_starts_costs_the_timeout_then_a_stall_names_it():
    running = (
        "videotestsrc is-live=true num-buffers=4 pattern=ball ! "
        f"{CAPS} ! appsink"
    )
    silent = "udpsrc address=127.0.0.1 port=0 ! appsink"
    refs = references(running.replace("is-live=true ", ""))
    batches = []
    count = 0
    stop = threading.Event()

    def spin():
        nonlocal count
        while not stop.is_set():
            count += 1

    spinner = threading.Thread(target=spin)
    # Queued: a slow consumer loses nothing, and each batch still waits for the silent stream.
    with gstpipe.Batcher([running, silent], timeout=0.05, stall=0.5, ahead="queue",
                         depth=8) as batcher:
        with pytest.raises(gstpipe.TimeoutError, match="1 \\(appsink"):
            for batch in batcher:
                batches.append((batch.filled, batch.formed, batch.indices[0],
                                batch.array[0].copy()))
                if batch.ended:
                    spinner.start()  # the running stream ended: the stall wait follows
        stop.set()
        spinner.join(timeout=10)
    assert count > 10_000, count  # the GIL was released during the stall wait
    assert [i for _, _, i, _ in batches] == [0, 1, 2, 3]
    for filled, formed, i, pixels in batches:
        assert filled == [True, False] and formed == "timeout"
        np.testing.assert_array_equal(pixels, refs[0][0][i])


def test_pipelines_are_accepted_and_bad_arguments_refused():
    pipelines = [gstpipe.Pipeline(BALL), gstpipe.Pipeline(SMPTE)]
    with pipelines[0], pipelines[1]:
        with gstpipe.Batcher(pipelines, ahead="queue", depth=16, timeout=0.5) as batcher:
            counts = [0, 0]
            for batch in batcher:
                for slot in range(2):
                    counts[slot] += batch.filled[slot]
        assert counts == [6, 9]
    with pytest.raises(ValueError, match="at least one"):
        gstpipe.Batcher([])
    with pytest.raises(TypeError, match="source 1.*Live"):
        gstpipe.Batcher([BALL, 42])
    with pytest.raises(ValueError, match="ahead"):
        gstpipe.Batcher([BALL], ahead="oldest")
    with pytest.raises(ValueError, match="layout"):
        gstpipe.Batcher([BALL], layout="chw")
    with pytest.raises(ValueError, match="nchw"):
        gstpipe.Batcher([BALL], mean=[0.5])
    with pytest.raises(gstpipe.ParseError):
        gstpipe.Batcher(["nosuchelement ! appsink"])


def test_frames_of_different_sizes_are_refused_naming_the_stream():
    small = "videotestsrc num-buffers=2 ! video/x-raw,format=RGB,width=16,height=12 ! appsink"
    with gstpipe.Batcher([BALL, small], ahead="block", depth=2, timeout=1.0) as batcher:
        with pytest.raises(gstpipe.FrameError, match="stream 1"):
            for _ in batcher:
                pass


def test_a_live_source_plugs_in_and_its_rebuilds_keep_the_slot_filled():
    ending = f"videotestsrc num-buffers=3 pattern=ball ! {CAPS} ! appsink sync=false"
    ref = references(ending)[0][0]
    live = gstpipe.Live(ending, reconnect_delay=0.01, jitter=0.0, latest=False, timeout=30)
    got = []
    with gstpipe.Batcher([live, BALL], ahead="block", depth=2, timeout=0.5) as batcher:
        for batch in batcher:
            if batch.filled[0]:
                # Every generation is rebuilt from the description: frames 0, 1, 2 again.
                i = batch.indices[0]
                np.testing.assert_array_equal(batch.array[0], ref[i % 3], err_msg=str(i))
                got.append(i)
            if len(got) == 7:
                break
        assert batcher.streams[0]["name"] == "live0"
    assert got == list(range(7))
    assert live.finished  # taken over: stopped with the batcher


def test_a_live_source_that_gives_up_fails_its_slot_only():
    missing = (
        "filesrc name=missing location=/nonexistent/gstpipe-test/missing.raw ! "
        f"videoparse format=rgb width=32 height=24 ! {CAPS} ! appsink"
    )
    live = gstpipe.Live(missing, reconnect_delay=0.01, jitter=0.0, max_reconnects=1, timeout=30)
    ref = references(BALL)[0][0]
    got = []
    failed = []
    with gstpipe.Batcher([BALL, live], ahead="block", depth=2, timeout=0.5) as batcher:
        for batch in batcher:
            assert not batch.filled[1]
            np.testing.assert_array_equal(batch.array[0], ref[batch.indices[0]])
            got.append(batch.indices[0])
            failed.extend(error for stream, error in batch.ended if stream == 1)
    assert got == list(range(6))
    assert len(failed) == 1
    assert failed[0].stream == 1 and failed[0].element == "missing"


def test_a_stream_that_cannot_start_keeps_an_empty_slot():
    """``Batcher([bad, good])``: the constructor does not raise; the bad stream's slot stays
    empty, one batch reports its failure, the good stream runs to its end."""
    bad = "filesrc name=gone location=/nonexistent/cam.mp4 ! decodebin ! videoconvert ! appsink"
    good = f"videotestsrc num-buffers=6 pattern=ball ! {CAPS} ! appsink"
    ref = references(good)[0][0]
    got, failures = [], []
    with gstpipe.Batcher([bad, good], ahead="block", depth=2) as batcher:
        for batch in batcher:
            assert batch.filled[0] is False
            np.testing.assert_array_equal(batch.array[1], ref[batch.indices[1]])
            got.append(batch.indices[1])
            failures.extend(error for stream, error in batch.ended if stream == 0)
        status = batcher.streams
    assert got == list(range(6))
    assert len(failures) == 1 and isinstance(failures[0], gstpipe.PipelineError)
    assert "/nonexistent/cam.mp4" in str(failures[0])
    assert status[0]["end"] == "failed"


def test_the_batcher_raises_only_when_every_stream_failed():
    bad = "filesrc name=gone{} location=/nonexistent/{}.mp4 ! decodebin ! appsink"
    with gstpipe.Batcher([bad.format(0, "a"), bad.format(1, "b")]) as batcher:
        with pytest.raises(gstpipe.PipelineError) as raised:
            next(iter(batcher))
    assert raised.value.stream == 0


def test_streams_added_and_removed_while_batches_form():
    """``add`` from another thread shows in the next batches with a new slot number;
    ``remove`` takes a slot out and the others keep their numbers."""
    import threading

    live = "videotestsrc is-live=true num-buffers=300 pattern={} ! " + CAPS + " ! appsink"
    with gstpipe.Batcher([live.format("ball")], timeout=0.06) as batcher:
        first = next(batcher)
        assert first.slots == [0] and len(batcher) == 1
        added = []
        t = threading.Thread(target=lambda: added.append(batcher.add(live.format("smpte"))))
        t.start()
        t.join(timeout=30)
        assert added == [1]
        for _ in range(300):
            batch = next(batcher)
            if batch.slots == [0, 1] and all(batch.filled):
                break
        else:
            pytest.fail("the added stream never filled its slot")
        assert batch.array.shape[0] == 2
        batcher.remove(0)
        batch = next(batcher)
        assert batch.slots == [1] and batch.array.shape[0] == 1
        with pytest.raises(IndexError):
            batcher.remove(0)
