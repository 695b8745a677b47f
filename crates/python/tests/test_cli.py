"""`python -m gstpipe` prints what `gstpipe launch` prints: it runs the same code."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

CASES = [
    "videotestsrc num-buffers=3 ! video/x-raw,format=RGB,width=641,height=7 ! appsink",
    "videotestsrc num-buffers=2 ! video/x-raw,format=I420,width=5,height=3 ! appsink",
    "videotestsrc num-buffers=2 ! video/x-raw,format=GRAY16_BE,width=5,height=3 ! appsink",
    "videotestsrc num-buffers=2 ! video/x-raw,format=RGB16,width=5,height=3 ! appsink",
]


def run(args, timeout=60):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("description", CASES)
@pytest.mark.parametrize("json_output", [False, True])
def test_same_frame_lines_as_the_cli(cli, description, json_output):
    flags = ["--json"] if json_output else []
    ours = run([sys.executable, "-m", "gstpipe", "-p", description, *flags])
    theirs = run([cli, "launch", "-p", description, *flags])
    assert ours.returncode == theirs.returncode == 0, ours.stderr + theirs.stderr
    ours_lines, theirs_lines = ours.stdout.splitlines(), theirs.stdout.splitlines()
    # Every frame line is identical; the summaries differ only in the timing.
    assert ours_lines[:-1] == theirs_lines[:-1]
    if json_output:
        a, b = json.loads(ours_lines[-1]), json.loads(theirs_lines[-1])
        assert (a["frames"], a["bytes"]) == (b["frames"], b["bytes"])
        assert list(a) == list(b)
    else:
        assert ours_lines[-1].split(" in ")[0] == theirs_lines[-1].split(" in ")[0]


def test_exit_status_and_errors(cli):
    for description, status in [
        ("videotestsrc ! ! fakesink", 2),
        ("nosuchelement ! fakesink", 2),
        ("filesrc location=/nonexistent ! appsink", 1),
    ]:
        ours = run([sys.executable, "-m", "gstpipe", "-p", description])
        theirs = run([cli, "launch", "-p", description])
        assert ours.returncode == theirs.returncode == status, (description, ours.stderr)
        assert ours.stderr.startswith("gstpipe: error: ")
    ours = run([sys.executable, "-m", "gstpipe", "-p", "videotestsrc num-buffers=3 ! fakesink", "-q"])
    assert ours.returncode == 0 and ours.stdout.startswith("0 frames in ")


def test_default_pipeline_and_max_frames():
    ours = run([sys.executable, "-m", "gstpipe", "--max-frames", "5"])
    lines = ours.stdout.splitlines()
    assert ours.returncode == 0, ours.stderr
    assert lines[0] == "frame 0  pts 0:00:00.000000000  RGB  [480, 640, 3]  u8"
    assert len(lines) == 6 and lines[-1].startswith("5 frames in ")


ENDING = (
    "videotestsrc num-buffers=3 pattern=ball ! "
    "video/x-raw,format=GRAY8,width=16,height=8,framerate=30/1 ! appsink sync=false"
)
# What depends on the clock; and the reconnections counted by the time the source is stopped
# (the supervisor may rebuild once more meanwhile).
TIMING = ("wall_ns", "delay_s", "gap_s", "seconds", "fps", "mb_per_s", "reconnects")


def _untimed(line: str, json_output: bool):
    """A line without what depends on the clock (capture times, delays, rates)."""
    import re

    if json_output:
        value = json.loads(line)
        return {k: v for k, v in value.items() if k not in TIMING}
    return re.sub(r"\d+ reconnects", "# reconnects", re.sub(r"\d+\.\d+", "#", line))


@pytest.mark.parametrize("json_output", [False, True])
def test_reconnect_prints_what_the_cli_prints(cli, json_output):
    flags = ["--reconnect", "--reconnect-delay", "0.01", "--max-frames", "7"]
    flags += ["--json"] if json_output else []
    ours = run([sys.executable, "-m", "gstpipe", "-p", ENDING, *flags])
    theirs = run([cli, "launch", "-p", ENDING, *flags])
    assert ours.returncode == theirs.returncode == 0, ours.stderr + theirs.stderr
    a = [_untimed(line, json_output) for line in ours.stdout.splitlines()]
    b = [_untimed(line, json_output) for line in theirs.stdout.splitlines()]
    assert a == b
    assert len(a) == 1 + 7 + 2 * 3 + 1  # connected, frames, two outages, summary


def test_reconnect_gives_up_as_the_cli_does(cli):
    missing = "filesrc name=missing location=/nonexistent/gstpipe-test ! appsink"
    flags = ["--reconnect", "--reconnect-delay", "0.01", "--max-reconnects", "1", "--json"]
    ours = run([sys.executable, "-m", "gstpipe", "-p", missing, *flags])
    theirs = run([cli, "launch", "-p", missing, *flags])
    assert ours.returncode == theirs.returncode == 1
    assert ours.stderr == theirs.stderr
    assert "gave up after 1 reconnection attempt" in ours.stderr
    a = [_untimed(line, True) for line in ours.stdout.splitlines()]
    b = [_untimed(line, True) for line in theirs.stdout.splitlines()]
    assert a == b
    assert [x.get("event") for x in a] == [
        "disconnected", "reconnecting", "disconnected", "gave_up", None
    ]
    for description in ("videotestsrc ! fakesink", "nosuchelement ! appsink"):
        ours = run([sys.executable, "-m", "gstpipe", "-p", description, "--reconnect"])
        assert ours.returncode == 2, ours.stderr
    ours = run([sys.executable, "-m", "gstpipe", "-p", ENDING, "--stall", "1"])
    theirs = run([cli, "launch", "-p", ENDING, "--stall", "1"])
    assert ours.returncode == theirs.returncode == 2
    assert "--reconnect" in ours.stderr
    assert ours.stderr == theirs.stderr.replace("gstpipe launch", "python -m gstpipe")


TWO_SINKS = (
    "videotestsrc num-buffers=30 ! video/x-raw,format=GRAY8,width=16,height=8,framerate=30/1 ! "
    "tee name=t ! queue ! appsink name=a t. ! queue ! appsink name=b"
)


@pytest.mark.parametrize(
    "flags",
    [
        [],  # several appsinks, none chosen: a usage error
        ["--timeout", "0"],  # a timeout of 0 s would fail at once
        ["--timeout", "inf"],
        ["--max-frames", "0"],
        ["--sink", "nosuchsink"],
    ],
)
def test_same_refusals_as_the_cli(cli, flags):
    ours = run([sys.executable, "-m", "gstpipe", "-p", TWO_SINKS, *flags])
    theirs = run([cli, "launch", "-p", TWO_SINKS, *flags])
    assert ours.returncode == theirs.returncode == 2, ours.stderr
    assert ours.stderr == theirs.stderr.replace("gstpipe launch", "python -m gstpipe")


def test_an_unread_appsink_neither_paces_nor_blocks(cli):
    """`--sink b` with `a` unread: frames come as fast as they are made (30 frames of a
    30 fps stream in well under their 1 s of stream time) and `a` drops its own."""
    for command in ([sys.executable, "-m", "gstpipe"], [cli, "launch"]):
        started = time.perf_counter()
        done = run([*command, "-p", TWO_SINKS, "--sink", "b", "--json", "-q"])
        took = time.perf_counter() - started
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["frames"] == 30
        assert took < 0.8, (command, took)


LIVE = (
    "videotestsrc is-live=true ! video/x-raw,format=GRAY8,width=16,height=8,framerate=30/1 ! "
    "appsink"
)


def _lines(stream) -> "queue.Queue[str]":
    """The lines of ``stream`` as they arrive (a thread reads them; None at the end)."""
    lines: "queue.Queue[str]" = queue.Queue()

    def read():
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signals_end_the_stream_with_a_summary(signum):
    """Each line comes through the pipe as it is printed, and SIGTERM and SIGHUP end the
    stream as Ctrl-C does: the summary, exit 0."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gstpipe", "-p", LIVE, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = _lines(proc.stdout)
        first = lines.get(timeout=30)
        waited = time.perf_counter() - started
        assert json.loads(first)["index"] == 0
        # A block buffer would hold it back for about 55 lines (1.8 s at 30 fps).
        assert waited < 1.5, waited
        for _ in range(3):
            lines.get(timeout=30)
        proc.send_signal(signum)
        proc.wait(timeout=30)
        rest = []
        while (line := lines.get(timeout=30)) is not None:
            rest.append(json.loads(line))
    finally:
        proc.kill()
    assert proc.returncode == 0, proc.stderr.read()
    summary = rest[-1]
    assert summary["frames"] >= 4 and "fps" in summary
