"""`python -m gstpipe` prints what `gstpipe launch` prints."""

from __future__ import annotations

import json
import subprocess
import sys

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
    assert ours.returncode == 2 and "needs --reconnect" in ours.stderr
