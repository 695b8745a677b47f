"""What a hostile user does to the API: exit without stopping, stop from a callback, odd
numbers, odd orders. Each reproduces a failure of an earlier version (issue 20)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import gstpipe

RGB = "videotestsrc ! video/x-raw,format=RGB,width=64,height=48 ! appsink sync=false"


def run_child(script: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Runs ``script`` in a child Python (bounded) and returns its result."""
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout
    )


# A callback that gives the GIL up in the middle (time.sleep): at exit, a streaming thread
# is waiting for the GIL while the interpreter finalises.
EXIT_WITHOUT_STOP = f"""
import threading, time, gstpipe
running = threading.Event()
def callback(frame):
    running.set()
    time.sleep(0.001)
    {{body}}
p = gstpipe.Pipeline({RGB!r})
h = p.on_frame(callback)
p.play()
assert running.wait(10)
print("ready", flush=True)
"""


@pytest.mark.parametrize("body", ["pass", "raise RuntimeError('boom')"])
def test_exit_without_stop_while_a_callback_runs_is_clean(body):
    for _ in range(3):
        result = run_child(EXIT_WITHOUT_STOP.replace("{body}", body))
        assert result.returncode == 0, result.stderr[-2000:]
        assert "ready" in result.stdout
        assert "panicked" not in result.stderr, result.stderr[-2000:]
        assert "not initialized" not in result.stderr, result.stderr[-2000:]


def test_stop_from_the_callback_returns_and_the_pipeline_stops():
    p = gstpipe.Pipeline(RGB)
    stopped = []

    def callback(frame):
        if not stopped:
            p.stop()
            stopped.append(True)

    h = p.on_frame(callback)
    p.play()
    h.wait(timeout=10)
    assert stopped == [True]
    p.wait(timeout=10)  # the end of stream the callback's stop sent
    assert p.done
    p.stop()  # returns (it used to wait for the streaming thread forever)


def test_request_eos_from_the_callback_ends_the_stream():
    p = gstpipe.Pipeline(RGB)
    h = p.on_frame(lambda frame: p.request_eos())
    p.play()
    assert h.wait(timeout=10) >= 1
    p.stop()
