"""Python frame loops side by side: gstpipe against gst-python, OpenCV and the Rust CLI.

Every loop reads the same description (``videotestsrc num-buffers=N pattern=P ! RGB WxH !
appsink sync=false max-buffers=8 drop=false``) to the end and reports frames per second; each is
run ``--repeat`` times and the best run counts (the machine is shared). Run it from a venv
made with ``--system-site-packages`` (for Debian's gst-python: python3-gi, python3-gst-1.0,
gir1.2-gstreamer-1.0, gir1.2-gst-plugins-base-1.0) with numpy and gstpipe installed:

    python3 -m venv --system-site-packages target/python-bench-venv
    target/python-bench-venv/bin/pip install numpy opencv-python-headless ./crates/python
    cargo build --release -p gstpipe-cli
    target/python-bench-venv/bin/python benches/python/bench.py --cli target/release/gstpipe

Loops:

- ``gstpipe .array``: zero-copy read-only view per frame (touches one pixel);
- ``gstpipe .copy()``: an owned contiguous numpy copy per frame;
- ``gst-python map+frombuffer``: ``buffer.map(READ)``, ``np.frombuffer`` reshaped (strides
  ignored, as the tutorials do), one pixel read, ``unmap``;
- ``gst-python extract_dup``: the seed's path, ``buffer.extract_dup`` into a new array;
- ``OpenCV CAP_GSTREAMER``: ``VideoCapture(description, CAP_GSTREAMER).read()`` (BGR), only
  when the installed cv2 was built with GStreamer;
- ``Rust view loop``: ``gstpipe launch --quiet`` (the CLI's own fps, process start included).
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

import gstpipe

SIZES = [("640x480", 640, 480, 600), ("1080p", 1920, 1080, 200), ("4K", 3840, 2160, 60)]


def description(width: int, height: int, frames: int, pattern: str) -> str:
    return (
        f"videotestsrc num-buffers={frames} pattern={pattern} ! video/x-raw,format=RGB,width={width},"
        f"height={height} ! appsink sync=false max-buffers=8 drop=false"
    )


Measure = Tuple[float, float]  # (frames per wall second, frames per CPU second)


def timed(loop: Callable[[], int]) -> Measure:
    """Runs an in-process loop: frames per wall-clock second and per second of this process's
    CPU time (all threads: the streaming thread that produces the frames included)."""
    wall, cpu = time.perf_counter(), time.process_time()
    n = loop()
    return n / (time.perf_counter() - wall), n / (time.process_time() - cpu)


def gstpipe_view(desc: str) -> int:
    n = 0
    with gstpipe.Pipeline(desc) as p:
        for frame in p.frames():
            a = frame.array
            a[0, 0, 0]
            n += 1
    return n


def gstpipe_copy(desc: str) -> int:
    n = 0
    with gstpipe.Pipeline(desc) as p:
        for frame in p.frames():
            a = frame.copy()
            a[0, 0, 0]
            n += 1
    return n


def _gst():
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstApp", "1.0")
    from gi.repository import Gst, GstApp  # noqa: F401

    Gst.init(None)
    return Gst


def gst_python(desc: str, mode: str) -> int:
    Gst = _gst()
    pipeline = Gst.parse_launch(desc)
    appsink = None
    it = pipeline.iterate_sinks()
    while True:
        ok, element = it.next()
        if ok != Gst.IteratorResult.OK:
            break
        if element.get_factory().get_name() == "appsink":
            appsink = element
    pipeline.set_state(Gst.State.PLAYING)
    n = 0
    while True:
        sample = appsink.pull_sample()
        if sample is None:
            break
        buf = sample.get_buffer()
        s = sample.get_caps().get_structure(0)
        h, w = s.get_value("height"), s.get_value("width")
        if mode == "map":
            ok, info = buf.map(Gst.MapFlags.READ)
            a = np.frombuffer(info.data, np.uint8)
            # The tutorials' reshape: rows assumed tight (right for these widths).
            a = a[: h * w * 3].reshape(h, w, 3)
            a[0, 0, 0]
            del a
            buf.unmap(info)
        else:
            data = buf.extract_dup(0, buf.get_size())
            a = np.ndarray((h, w, 3), buffer=data, dtype=np.uint8)
            a[0, 0, 0]
        n += 1
    pipeline.set_state(Gst.State.NULL)
    return n


def opencv_available() -> Optional[str]:
    try:
        import cv2
    except Exception as e:  # noqa: BLE001 - any import failure means "not available"
        return f"cv2 not importable ({e})"
    info = [line for line in cv2.getBuildInformation().splitlines() if "GStreamer" in line]
    if not info or "NO" in info[0]:
        return f"cv2 {cv2.__version__} has no GStreamer ({info[0].strip() if info else 'not listed'})"
    return None


def opencv(desc: str) -> int:
    import cv2

    cap = cv2.VideoCapture(desc.replace("format=RGB", "format=BGR"), cv2.CAP_GSTREAMER)
    n = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        n += 1
    cap.release()
    return n


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rust_cli(cli: str, desc: str) -> Measure:
    """The CLI's own fps, and frames per CPU second of the whole process (its start-up and
    GStreamer's initialisation included, which favours the Python loops slightly)."""
    cpu = _children_cpu()
    out = subprocess.run(
        [cli, "launch", "--quiet", "-p", desc], capture_output=True, text=True, timeout=600
    )
    cpu = _children_cpu() - cpu
    match = re.search(r"^([0-9]+) frames in .*: ([0-9.]+) fps", out.stdout, re.M)
    if out.returncode != 0 or not match:
        raise RuntimeError(f"gstpipe launch failed: {out.stderr}")
    return float(match.group(2)), int(match.group(1)) / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", help="the gstpipe binary (release build) for the Rust loop")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="scale the frame counts")
    parser.add_argument(
        "--pattern",
        default="black",
        help="videotestsrc pattern: black (cheap to produce, so the loops' own cost shows; "
        "default) or smpte (drawing dominates)",
    )
    args = parser.parse_args()

    no_cv = opencv_available()
    if no_cv:
        print(f"OpenCV: skipped: {no_cv}", file=sys.stderr)
    results: Dict[str, Dict[str, List[float]]] = {}
    for label, w, h, frames in SIZES:
        frames = max(10, int(frames * args.scale))
        desc = description(w, h, frames, args.pattern)
        loops: Dict[str, Callable[[], Measure]] = {
            "gstpipe .array": lambda: timed(lambda: gstpipe_view(desc)),
            "gst-python map+frombuffer": lambda: timed(lambda: gst_python(desc, "map")),
            "gstpipe .copy()": lambda: timed(lambda: gstpipe_copy(desc)),
            "gst-python extract_dup": lambda: timed(lambda: gst_python(desc, "dup")),
        }
        if not no_cv:
            loops["OpenCV CAP_GSTREAMER read()"] = lambda: timed(lambda: opencv(desc))
        if args.cli:
            loops["Rust view loop (gstpipe launch)"] = lambda: rust_cli(args.cli, desc)
        best: Dict[str, List[float]] = {name: [0.0, 0.0] for name in loops}
        # Interleaved repetitions: load changes hit every loop alike; the best run counts.
        for _ in range(args.repeat):
            for name, loop in loops.items():
                wall, cpu = loop()
                best[name] = [max(best[name][0], wall), max(best[name][1], cpu)]
        results[label] = best
        print(
            f"{label}: " + ", ".join(f"{k} {v[0]:.0f} fps ({v[1]:.0f}/CPU s)" for k, v in best.items()),
            file=sys.stderr,
        )

    names: List[str] = list(next(iter(results.values())).keys())
    for title, index in [("frames per second (wall clock)", 0), ("frames per CPU second", 1)]:
        print(f"\n{title}\n")
        print("| loop | " + " | ".join(results) + " |")
        print("|---|" + "---:|" * len(results))
        for name in names:
            print(f"| {name} | " + " | ".join(f"{results[s][name][index]:.0f}" for s in results) + " |")
        ratios = [
            ("`.copy()` / `extract_dup`", "gstpipe .copy()", "gst-python extract_dup"),
            ("`.array` / `map`+`frombuffer`", "gstpipe .array", "gst-python map+frombuffer"),
            ("`.array` / Rust view loop", "gstpipe .array", "Rust view loop (gstpipe launch)"),
            ("`.copy()` / OpenCV `read()`", "gstpipe .copy()", "OpenCV CAP_GSTREAMER read()"),
        ]
        for label, a, b in ratios:
            if a in names and b in names:
                print(
                    f"| {label} | "
                    + " | ".join(f"{results[s][a][index] / results[s][b][index]:.2f}x" for s in results)
                    + " |"
                )


if __name__ == "__main__":
    main()
