"""Frames do not leak: RSS stays bounded over many frames, views and copies."""

from __future__ import annotations

import gc

import gstpipe


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def run(n: int) -> None:
    with gstpipe.Pipeline(
        f"videotestsrc num-buffers={n} pattern=black ! video/x-raw,format=RGB,width=32,height=24 "
        "! appsink"
    ) as p:
        for i, frame in enumerate(p.frames()):
            view = frame.array
            if i % 4 == 0:
                frame.copy()
            frame.planes
            assert view.shape == (24, 32, 3)


def test_rss_is_bounded_over_many_frames():
    run(2_000)  # warm up allocators and GStreamer's pools
    gc.collect()
    before = rss_bytes()
    run(100_000)  # 100,000 frames of 2.3 KB: 230 MB if each one leaked
    gc.collect()
    grown = rss_bytes() - before
    assert grown < 16 * 1024 * 1024, f"RSS grew by {grown / 1e6:.1f} MB"
