"""Typed exceptions: bad descriptions, failing elements, stalls and bad pushes."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

import gstpipe


def test_bad_description_raises_parse_error():
    with pytest.raises(gstpipe.ParseError, match="syntax error"):
        gstpipe.Pipeline("videotestsrc ! ! fakesink")
    with pytest.raises(gstpipe.ParseError, match="nosuchelement"):
        gstpipe.Pipeline("videotestsrc ! nosuchelement ! fakesink")
    assert issubclass(gstpipe.ParseError, gstpipe.Error)


def test_failing_element_raises_pipeline_error_naming_it():
    with pytest.raises(gstpipe.PipelineError) as info:
        with gstpipe.Pipeline("filesrc name=src location=/nonexistent/file ! appsink") as p:
            list(p.frames())
    e = info.value
    assert e.element == "src"
    assert "/nonexistent/file" in str(e)
    assert "gstfilesrc.c" in e.debug
    # GStreamer's GST_RESOURCE_ERROR_NOT_FOUND (gst/gsterror.h): domain and code as C has them.
    assert e.domain == "gst-resource-error-quark"
    assert e.code == 3


def test_error_during_streaming_is_raised_by_the_iterator(tmp_path):
    # A decoder fed garbage fails once data flows.
    garbage = tmp_path / "garbage.mkv"
    garbage.write_bytes(bytes(range(256)) * 64)
    with gstpipe.Pipeline(f"filesrc location={garbage} ! matroskademux name=demux ! appsink") as p:
        with pytest.raises(gstpipe.PipelineError) as info:
            list(p.frames())
    # Raised once: leaving the block does not raise it again.
    assert info.value.element == "demux"


def test_wait_raises_the_pipeline_error():
    p = gstpipe.Pipeline("filesrc location=/nonexistent ! fakesink")
    with pytest.raises(gstpipe.PipelineError):
        p.play()
    with pytest.raises(gstpipe.PipelineError):
        p.wait(timeout=10)


def test_stall_raises_timeout_error():
    with gstpipe.Pipeline("appsrc caps=video/x-raw,format=GRAY8,width=4,height=4,framerate=10/1 ! appsink") as p:
        p.source()  # nothing pushed: the pipeline stalls
        frames = p.frames(timeout=0.3)
        with pytest.raises(gstpipe.TimeoutError) as info:
            next(frames)
    assert isinstance(info.value, builtins.TimeoutError)
    assert isinstance(info.value, gstpipe.Error)


def test_no_appsink_and_wrong_sink_name():
    with gstpipe.Pipeline("videotestsrc num-buffers=1 ! fakesink") as p:
        with pytest.raises(gstpipe.Error, match="(?i)appsink"):
            p.frames()
    with gstpipe.Pipeline("videotestsrc num-buffers=1 ! appsink name=a") as p:
        with pytest.raises(gstpipe.Error, match="nope"):
            p.frames(sink="nope")


def test_bad_pushes_name_expected_and_found():
    with gstpipe.Pipeline("appsrc ! fakesink") as p:
        source = p.source(format="RGB", width=8, height=4, fps=10)
        p.play()
        with pytest.raises(ValueError, match="expected 8.*found 7|8.*7") as info:
            source.push(np.zeros((4, 7, 3), np.uint8))
        assert isinstance(info.value, gstpipe.FrameError)
        with pytest.raises(ValueError, match=r"uint8.*float64"):
            source.push(np.zeros((4, 8, 3), np.float64))
        with pytest.raises(ValueError, match=r"uint8.*uint16"):
            source.push(np.zeros((4, 8, 3), np.uint16))
        with pytest.raises(ValueError, match="channels"):
            source.push(np.zeros((4, 8, 4), np.uint8))
        with pytest.raises(ValueError, match=r"\(1, 4, 8, 3\)"):
            source.push(np.zeros((1, 4, 8, 3), np.uint8))
        with pytest.raises(ValueError, match="pts"):
            source.push(np.zeros((4, 8, 3), np.uint8), pts=-1.0)
        with pytest.raises(TypeError, match="detection"):  # a tuple, not a dict
            source.push(np.zeros((4, 8, 3), np.uint8), detections=[(1, 2, 3, 4)])
        assert source.pushed == 0
        source.push(np.zeros((4, 8, 3), np.uint8))
        assert source.pushed == 1
        source.finish()
        with pytest.raises(gstpipe.Error, match="(?i)eos"):
            source.push(np.zeros((4, 8, 3), np.uint8))


def test_bad_source_arguments():
    with gstpipe.Pipeline("appsrc ! fakesink") as p:
        with pytest.raises(ValueError, match="together"):
            p.source(format="RGB")
        with pytest.raises(ValueError, match="NOPE"):
            p.source(format="NOPE", width=4, height=4)
        with pytest.raises(gstpipe.FrameError, match="caps"):
            p.source()  # no caps in the description
        with pytest.raises(ValueError, match="fps"):
            p.source(format="RGB", width=4, height=4, fps="fast")


def test_planar_push_needs_every_plane():
    with gstpipe.Pipeline("appsrc ! fakesink") as p:
        source = p.source(format="I420", width=6, height=4)
        p.play()
        with pytest.raises(ValueError, match="planes"):
            source.push([np.zeros((4, 6), np.uint8)])
        with pytest.raises(ValueError):
            source.push([np.zeros((4, 6), np.uint8), np.zeros((2, 3), np.uint8), np.zeros((2, 4), np.uint8)])
        source.push([np.zeros((4, 6), np.uint8), np.zeros((2, 3), np.uint8), np.zeros((2, 3), np.uint8)])
        source.finish()
