"""gstpipe.Live: pipelines rebuilt after an end, an error or a stall; frames, events, giving up.

The references are independent: the pixels of each generation are compared with a plain
``gstpipe.Pipeline(...).frames()`` read of the same (deterministic) description, and event
orders with what a supervisor must do (connect, then disconnect/reconnecting/reconnected per
outage).
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import gstpipe
from conftest import frames_of, interrupted

# Ends after 5 frames: every end is an outage, and the pipeline is rebuilt.
ENDING = (
    "videotestsrc num-buffers=5 pattern=ball ! "
    "video/x-raw,format=GRAY8,width=16,height=8,framerate=30/1 ! appsink"
)
MISSING = (
    "filesrc name=missing location=/nonexistent/gstpipe-test/missing.raw ! "
    "video/x-raw,format=GRAY8,width=4,height=4,framerate=10/1 ! appsink"
)
SILENT = "appsrc is-live=true caps=video/x-raw,format=GRAY8,width=4,height=4,framerate=10/1 ! appsink"


def test_an_ending_pipeline_is_rebuilt_and_indices_keep_counting():
    reference = [f.copy() for f in frames_of(ENDING)]
    assert len(reference) == 5
    frames = []
    events = []
    before = time.time()
    live = gstpipe.Live(
        ENDING, reconnect_delay=0.01, jitter=0.0, latest=False, events=True, timeout=30
    )
    with live:
        for item in live:
            if isinstance(item, gstpipe.HealthEvent):
                events.append((len(frames), item))
                continue
            frames.append((item.index, item.generation, item.after_gap, item.wall_time,
                           item.time_source, item.copy()))
            if len(frames) == 15:
                break
        stats = live.stats
    after = time.time()
    assert live.finished

    assert [f[0] for f in frames] == list(range(15))
    assert [f[1] for f in frames] == [1] * 5 + [2] * 5 + [3] * 5
    assert [i for i, f in enumerate(frames) if f[2]] == [5, 10]
    # Each generation is a new pipeline: its frames are the description's first five again.
    for i, f in enumerate(frames):
        np.testing.assert_array_equal(f[5], reference[i % 5], err_msg=f"frame {i}")
    for _, _, _, wall, source, _ in frames:
        assert source in ("pipeline_clock", "arrival", "sender_ntp")
        assert before - 5 <= wall <= after + 5

    # Events, placed by how many frames came before them.
    kinds = [(at, e.kind) for at, e in events]
    assert kinds[:7] == [
        (0, "connected"),
        (5, "disconnected"), (5, "reconnecting"), (5, "reconnected"),
        (10, "disconnected"), (10, "reconnecting"), (10, "reconnected"),
    ]
    connected, gone, retry, back = (e for _, e in events[:4])
    assert connected.generation == 1
    assert gone.generation == 1 and gone.reason == "eos"
    assert isinstance(gone.error, gstpipe.Error)
    assert retry.attempt == 1 and retry.delay == pytest.approx(0.01)
    assert back.generation == 2 and back.gap >= 0.0
    assert events[6][1].generation == 3
    assert "reconnected" in str(back) and repr(back).startswith("<gstpipe.HealthEvent")

    assert stats["frames"] >= 15
    assert stats["reconnects"] >= 2 and stats["generation"] >= 3
    assert stats["dropped"] == 0  # latest=False: the pipeline waited instead
    assert stats["last_frame_age"] is not None and stats["last_frame_age"] >= 0


def test_a_missing_file_gives_up_after_max_reconnects():
    seen = []
    live = gstpipe.Live(
        MISSING, reconnect_delay=0.01, jitter=0.0, max_reconnects=2, events=True,
        on_event=lambda e: seen.append(e.kind), timeout=30,
    )
    events = []
    with pytest.raises(gstpipe.GaveUpError) as raised:
        for item in live:
            assert isinstance(item, gstpipe.HealthEvent), "a missing file gave a frame"
            events.append(item)
    kinds = [e.kind for e in events]
    assert kinds == [
        "disconnected", "reconnecting",
        "disconnected", "reconnecting",
        "disconnected", "gave_up",
    ]
    assert seen == kinds  # the callback saw the same events, in the same order
    assert [e.generation for e in events if e.kind == "disconnected"] == [1, 2, 3]
    assert [e.attempt for e in events if e.kind == "reconnecting"] == [1, 2]
    for e in events:
        if e.kind == "disconnected":
            assert e.reason == "error"
            assert isinstance(e.error, gstpipe.PipelineError)
            assert e.error.element == "missing"
    assert events[-1].attempt == 2

    error = raised.value
    assert isinstance(error, gstpipe.PipelineError)
    assert error.attempts == 2
    assert error.element == "missing"
    assert error.domain == "gst-resource-error-quark"
    assert isinstance(error.last_error, gstpipe.PipelineError)
    assert error.__cause__ is error.last_error
    assert "missing.raw" in str(error) or "resource" in str(error).lower()
    # Raised once: the iteration has ended.
    assert list(live) == []
    assert live.finished


def test_without_events_giving_up_is_raised_by_the_frame_loop():
    live = gstpipe.Live(MISSING, reconnect_delay=0.01, jitter=0.0, max_reconnects=1, timeout=30)
    with pytest.raises(gstpipe.GaveUpError) as raised:
        next(live)
    assert raised.value.attempts == 1


def test_the_watchdog_rebuilds_a_stalled_source():
    events = []
    live = gstpipe.Live(
        SILENT, stall=0.3, reconnect_delay=0.01, jitter=0.0, max_reconnects=1, events=True,
        timeout=30,
    )
    with pytest.raises(gstpipe.GaveUpError) as raised:
        for item in live:
            events.append(item)
    assert [e.kind for e in events] == ["disconnected", "reconnecting", "disconnected", "gave_up"]
    gone = [e for e in events if e.kind == "disconnected"]
    assert all(e.reason == "stalled" for e in gone)
    assert all(isinstance(e.error, gstpipe.TimeoutError) for e in gone)
    assert isinstance(raised.value.last_error, gstpipe.TimeoutError)
    assert "stall" in str(raised.value)
    assert raised.value.element is None  # no element failed: the source went silent


def test_timeout_raises_and_other_threads_run_meanwhile():
    count = 0
    stop = threading.Event()

    def spin():
        nonlocal count
        while not stop.is_set():
            count += 1

    spinner = threading.Thread(target=spin)
    with gstpipe.Live(SILENT, stall=60, timeout=0.5) as live:
        spinner.start()
        try:
            with pytest.raises(gstpipe.TimeoutError):
                next(live)
        finally:
            stop.set()
            spinner.join(timeout=10)
    assert count > 10_000, count  # the GIL was released while waiting


def test_bad_descriptions_and_settings_are_refused():
    with pytest.raises(gstpipe.ParseError):
        gstpipe.Live("nosuchelement ! appsink")
    with pytest.raises(gstpipe.Error):
        gstpipe.Live("videotestsrc ! fakesink")  # no appsink to read
    with pytest.raises(ValueError, match="capacity"):
        gstpipe.Live(ENDING, capacity=0)
    with pytest.raises(ValueError, match="stall"):
        gstpipe.Live(ENDING, stall=-1.0)
    with pytest.raises(ValueError, match="reconnect_delay"):
        gstpipe.Live(ENDING, reconnect_delay=float("nan"))


def test_stop_ends_the_iteration_and_plain_frames_have_no_live_attributes():
    live = gstpipe.Live(
        "videotestsrc is-live=true ! video/x-raw,format=GRAY8,width=8,height=8,framerate=30/1 "
        "! appsink",
        timeout=30,
    )
    first = next(live)
    assert first.index == 0 and first.generation == 1 and first.after_gap is False
    assert "index 0" in repr(first)
    live.stop()
    rest = list(live)  # what was queued, then the end
    assert all(f.generation == 1 for f in rest)
    assert live.finished

    plain = frames_of("videotestsrc num-buffers=1 ! video/x-raw,format=GRAY8 ! appsink")[0]
    assert plain.index is None and plain.generation is None and plain.wall_time is None
    assert plain.time_source is None and plain.after_gap is None and plain.wall_ns is None


def test_ctrl_c_interrupts_a_live_source_waiting_for_its_camera():
    """KeyboardInterrupt reaches the unbounded wait for the next item; leaving the with block
    then stops the supervisor."""
    script = (
        "import gstpipe\n"
        f"with gstpipe.Live({SILENT!r}, stall=60) as live:\n"
        "    try:\n"
        "        print('ready', flush=True)\n"
        "        next(live)\n"
        "    except KeyboardInterrupt:\n"
        "        print('interrupted', flush=True)\n"
        "print('stopped', live.finished, flush=True)\n"
    )
    assert interrupted(script) == ["interrupted", "stopped", "True"]
