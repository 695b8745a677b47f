"""What a hostile user does to the API: exit without stopping, stop from a callback, odd
numbers, odd orders. Each reproduces a failure of an earlier version (issue 20)."""

from __future__ import annotations

import subprocess
import weakref
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


@pytest.mark.parametrize("pts", [1.9e10, 1e300, float("inf"), float("nan"), -1.0])
def test_pts_out_of_the_clock_range_is_a_value_error_naming_it(pts):
    with gstpipe.Pipeline("appsrc ! fakesink") as p:
        src = p.source(format="GRAY8", width=4, height=4)
        with pytest.raises(ValueError, match="pts") as info:
            src.push(np.zeros((4, 4), np.uint8), pts=pts)
        assert not isinstance(info.value, gstpipe.FrameError)
        assert "clock range" in str(info.value) and "got" in str(info.value)
        assert src.pushed == 0


def test_a_panic_in_the_bindings_is_a_gstpipe_error():
    with pytest.raises(gstpipe.Error, match="internal error.*boom"):
        gstpipe._gstpipe._panic_for_tests("boom")
    try:
        gstpipe._gstpipe._panic_for_tests("caught by except Exception")
    except Exception as e:  # PanicException is a BaseException: it would not be caught
        assert isinstance(e, gstpipe.Error)


def test_exceptions_are_the_package_classes_with_their_attributes():
    with pytest.raises(gstpipe.ParseError):
        gstpipe.Pipeline("nosuchelement ! fakesink")
    p = gstpipe.Pipeline("filesrc location=/nonexistent ! fakesink")
    with pytest.raises(gstpipe.PipelineError) as info:
        p.play()
    assert info.value.element.startswith("filesrc")
    assert info.value.domain == "gst-resource-error-quark"
    assert isinstance(info.value.code, int)
    assert "/nonexistent" in (info.value.debug or "") + str(info.value)
    p.stop()
    with pytest.raises(TimeoutError):  # the builtin too
        with gstpipe.Pipeline("appsrc ! fakesink") as q:
            q.wait(timeout=0.05)


def test_wrong_arguments_are_value_or_type_errors_at_the_call():
    p = gstpipe.Pipeline(RGB)
    with pytest.raises(TypeError, match="callable"):
        p.on_frame(42)
    for call in (
        lambda: p.wait(timeout=-1),
        lambda: p.frames(timeout=-1),
        lambda: p.batches(0),
        lambda: gstpipe.Pipeline("appsrc ! fakesink").source(format="RGB"),
    ):
        with pytest.raises(ValueError) as info:
            call()
        assert not isinstance(info.value, gstpipe.FrameError), info.value
    p.stop()


def test_fps_too_large_names_the_real_reason():
    with pytest.raises(ValueError, match="too large") as info:
        gstpipe.Pipeline("appsrc ! fakesink").source(format="RGB", width=4, height=4, fps=1e12)
    assert ">= 0" not in str(info.value)


def test_infinite_timeout_means_no_limit():
    with gstpipe.Pipeline(
        "videotestsrc num-buffers=3 ! video/x-raw,format=GRAY8,width=8,height=8 ! appsink"
    ) as p:
        assert len(list(p.frames(timeout=float("inf")))) == 3
        p.wait(timeout=float("inf"))


@pytest.mark.parametrize("kwargs", [{"scale": float("nan")}, {"mean": [float("inf")]}])
def test_batcher_refuses_non_finite_normalisation(kwargs):
    with pytest.raises(ValueError, match="finite"):
        gstpipe.Batcher(
            ["videotestsrc num-buffers=1 ! video/x-raw,format=RGB,width=8,height=8 ! appsink"],
            layout="nchw",
            **kwargs,
        )


def test_planar_error_names_the_python_api():
    (frame,) = [
        f
        for f in gstpipe.Pipeline(
            "videotestsrc num-buffers=1 ! video/x-raw,format=I420,width=8,height=8 ! appsink"
        ).frames()
    ]
    with pytest.raises(gstpipe.FrameError) as info:
        frame.array
    message = str(info.value)
    assert "Frame.planes" in message
    assert "planes_to_arrays" not in message and "planes()" not in message


def test_an_error_raised_by_frames_is_not_raised_again_by_stop():
    p = gstpipe.Pipeline("filesrc location=/nonexistent ! appsink")
    with pytest.raises(gstpipe.PipelineError):
        list(p.frames(timeout=5))
    p.stop()  # raised once already
    q = gstpipe.Pipeline("filesrc location=/nonexistent ! fakesink")
    with pytest.raises(gstpipe.PipelineError):
        q.play()
    with pytest.raises(gstpipe.PipelineError):
        q.wait(timeout=5)
    q.stop()


def test_pushing_into_a_pipeline_nobody_played_starts_it():
    p = gstpipe.Pipeline("appsrc ! fakesink")
    src = p.source(format="GRAY8", width=4, height=4, fps=30)
    for i in range(3):
        src.push(np.full((4, 4), i, np.uint8))
    src.finish()  # used to wait 10 s and raise TimeoutError
    assert src.pushed == 3
    p.stop()


def test_pushed_frames_arrive_without_an_explicit_play():
    p = gstpipe.Pipeline("appsrc ! appsink")
    src = p.source(format="GRAY8", width=4, height=4, fps=10)
    src.push(np.full((4, 4), 7, np.uint8))
    frame = next(p.frames(timeout=5))
    assert frame.array[0, 0, 0] == 7 and frame.pts == 0.0
    p.stop()


def test_a_second_source_with_other_caps_is_refused():
    p = gstpipe.Pipeline("appsrc ! fakesink")
    first = p.source(format="GRAY8", width=4, height=4)
    with pytest.raises(gstpipe.Error, match="already has a frame source"):
        p.source(format="RGB", width=8, height=8)
    same = p.source(format="GRAY8", width=4, height=4)  # the same caps: harmless
    assert same.shapes == first.shapes
    first.push(np.zeros((4, 4), np.uint8))
    first.finish()
    p.stop()


CAPS_NO_RATE = "appsrc caps=video/x-raw,format=GRAY8,width=8,height=6 ! appsink"


@pytest.mark.parametrize("fps, step", [(None, 1 / 30), (25, 1 / 25)])
def test_caps_without_a_framerate_are_stamped_with_fps(fps, step):
    with gstpipe.Pipeline(CAPS_NO_RATE) as p:
        src = p.source() if fps is None else p.source(fps=fps)
        for i in range(2):
            src.push(np.full((6, 8), i, np.uint8))
        frames = p.frames(timeout=5)
        got = [next(frames) for _ in range(2)]
    assert [f.pts for f in got] == pytest.approx([0.0, step])
    assert [f.duration for f in got] == pytest.approx([step, step])


def test_fps_disagreeing_with_written_caps_is_refused():
    p = gstpipe.Pipeline(
        "appsrc caps=video/x-raw,format=GRAY8,width=8,height=6,framerate=10/1 ! appsink"
    )
    with pytest.raises(ValueError, match="framerate"):
        p.source(fps=25)
    assert p.source(fps=10).shapes == [(6, 8, 1)]


UNFIXED = f"""
import gstpipe
for description in [
    "appsrc caps=video/x-raw,format={{GRAY8,RGB}},width=4,height=4 ! appsink",
    "appsrc caps=video/x-raw,format=GRAY8,width=[1,4],height=4 ! appsink",
]:
    p = gstpipe.Pipeline(description)
    try:
        p.source()
    except gstpipe.FrameError as e:
        assert "fixed" in str(e), e
    else:
        raise AssertionError("accepted caps that are not fixed")
    p.stop()
for description in [
    "videotestsrc num-buffers=2 ! videoconvert ! appsink caps=video/x-raw,format={{RGB,BGR}}",
    "videotestsrc num-buffers=2 ! videoconvert ! appsink caps=video/x-raw,width=[16,64]",
]:
    with gstpipe.Pipeline(description) as p:
        assert len(list(p.frames(timeout=5))) == 2
    with gstpipe.Pipeline(description) as p:
        assert sum(len(b) for b in p.batches(2, timeout=5)) == 2
print("done")
"""


def test_caps_that_are_not_fixed_give_no_glib_critical():
    result = run_child(UNFIXED)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "done" in result.stdout
    assert "CRITICAL" not in result.stderr, result.stderr[-2000:]


def _raising_pipeline():
    """A pipeline whose callback raised: the exception's traceback (the callback's frame)
    refers to the pipeline, which keeps the exception for wait()."""
    p = gstpipe.Pipeline(RGB)

    def callback(frame):
        raise RuntimeError(f"raised with {p!r} in reach")

    h = p.on_frame(callback)
    p.play()
    with pytest.raises(RuntimeError):
        h.wait(timeout=10)
    with pytest.raises(RuntimeError):
        p.wait(timeout=10)
    p.stop()
    return weakref.ref(p), weakref.ref(h) if hasattr(h, "__weakref__") else None


def test_a_pipeline_whose_callback_raised_is_garbage_collected():
    import gc

    pipelines = [_raising_pipeline()[0] for _ in range(3)]
    gc.collect()
    assert [w() for w in pipelines] == [None, None, None]


STOP_IN_CATCH_UP = """
import gstpipe
p = gstpipe.Pipeline(
    "videotestsrc num-buffers=50 ! video/x-raw,format=GRAY8,width=8,height=8 ! appsink"
)
p.play()  # prerolled: the appsink holds a frame before the callback exists
h = p.on_frame(lambda f: p.stop())  # that frame is handed over on this very thread
h.wait(timeout=10)
p.wait(timeout=10)
p.stop()
print("done", flush=True)
"""


def test_stop_from_a_callback_run_by_on_frame_itself_returns():
    # Found by test_fuzz_api (seed 1481). In a child: the old code deadlocked this thread.
    result = run_child(STOP_IN_CATCH_UP, timeout=30)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "done" in result.stdout


EOS_THEN_PLAY = """
import threading, gstpipe
LIVE = ("videotestsrc is-live=true ! video/x-raw,format=GRAY8,width=16,height=16,"
        "framerate=200/1 ! appsink wait-on-eos=false")
def on_thread(f):
    t = threading.Thread(target=f)
    t.start()
    t.join(10)
for i in range(40):
    p = gstpipe.Pipeline(LIVE)
    on_thread(lambda: p.frames(timeout=0.2))  # starts it (Playing completes in the background)
    on_thread(p.request_eos)
    try:
        p.play()
    except gstpipe.Error:
        pass
    p.stop()
print("done", flush=True)
"""


def test_play_right_after_request_eos_on_a_live_pipeline_returns():
    # Found by test_fuzz_api (seed 1311): EOS sent while a live pipeline was still on its way
    # to Playing held a state lock that play() then waited for forever. In a child.
    result = run_child(EOS_THEN_PLAY, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "done" in result.stdout


EOS_THEN_DEL = """
import gc, threading, gstpipe
for i in range(40):
    p = gstpipe.Pipeline(
        "videotestsrc num-buffers=8 ! video/x-raw,format=RGB,width=32,height=24 ! appsink"
    )
    t = threading.Thread(target=p.play)
    t.start()
    t.join(10)
    p.request_eos()
    del p  # going to Null while the EOS is being sent
    gc.collect()
print("done", flush=True)
"""


def test_dropping_a_pipeline_right_after_request_eos_returns():
    # Found by test_fuzz_api (seed 2540). In a child.
    result = run_child(EOS_THEN_DEL, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "done" in result.stdout
