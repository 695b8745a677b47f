"""Video file decoding side by side: gstpipe.VideoReader against PyAV, decord and a plain
GStreamer pipeline, on the same H.264 clips, in one run.

The clips are made by the ``ffmpeg`` command-line tool (``testsrc2``, libx264 ``-preset
veryfast``, B-frames, 30 fps, 150 frames) at 960x540 and 1920x1080. Each measurement runs
``--repeat`` times, interleaved, and the median counts (the machine is shared). Run it in the
test venv (``av``, ``decord`` and the package installed):

    target/venv/bin/pip install av decord ./crates/python
    target/venv/bin/python benches/python/files.py [--repeat 3] [--markdown]

Measurements (frames per second, open included, so a reader's index cost is counted):

- sequential: the first 100 frames to RGB;
  - ``gstpipe VideoReader``: ``VideoReader(path, format="RGB", index_cache=None)``, ``read()``
    100 times (``.array``, a view);
  - ``gstpipe VideoReader, saved index``: the same with the index an earlier process saved;
  - ``PyAV``: ``container.decode`` with ``thread_type="AUTO"``, ``to_ndarray(format="rgb24")``;
  - ``plain pipeline``: ``filesrc ! qtdemux ! h264parse ! avdec_h264 ! videoconvert !
    video/x-raw,format=RGB ! appsink`` through ``gstpipe.Pipeline``, 100 frames;
  - ``decord``: ``VideoReader(path).get_batch(range(100))``;
- random: 12 frames at fixed random indices, in one call (``get_batch``) of a reader opened for
  it; gstpipe's frames are checked equal to PyAV's sequential decode (decord's are reported);
- TorchCodec's multi-video scenario: 50 videos (the 960x540 clip copied to 50 paths), 10
  frames each at evenly spaced indices, resized to 256x256 RGB, by a pool of 10 threads
  (gstpipe ``size=(256, 256)``; PyAV decoding up to the last wanted frame and
  ``reformat(256, 256, "rgb24")``; decord ``VideoReader(width=256, height=256)``).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import tempfile
import time
from typing import Callable, Dict, List, Tuple

import numpy as np

import gstpipe

FRAMES = 150
SIZES = [("960x540", 960, 540), ("1080p", 1920, 1080)]


def make(path: str, w: int, h: int) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=size={w}x{h}:rate=30", "-frames:v", str(FRAMES), "-pix_fmt", "yuv420p",
         "-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-g", "60", path],
        check=True, timeout=600,
    )


def gstpipe_seq(path: str, n: int, cache: bool = False) -> int:
    kwargs = {} if cache else {"index_cache": None}
    reader = gstpipe.VideoReader(path, format="RGB", **kwargs)
    for _ in range(n):
        a = reader.read().array
        a[0, 0, 0]
    return n


def pyav_seq(path: str, n: int) -> int:
    import av

    k = 0
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            a = frame.to_ndarray(format="rgb24")
            a[0, 0, 0]
            k += 1
            if k == n:
                break
    return k


def pipeline_seq(path: str, n: int) -> int:
    k = 0
    with gstpipe.Pipeline(
        f"filesrc location={path} ! qtdemux ! h264parse ! avdec_h264 ! videoconvert ! "
        "video/x-raw,format=RGB ! appsink sync=false"
    ) as p:
        for frame in p.frames():
            a = frame.array
            a[0, 0, 0]
            k += 1
            if k == n:
                break
    return k


def decord_seq(path: str, n: int) -> int:
    import decord

    vr = decord.VideoReader(path, ctx=decord.cpu(0))
    a = vr.get_batch(list(range(n))).asnumpy()
    return a.shape[0]


def gstpipe_random(path: str, indices: List[int]) -> np.ndarray:
    reader = gstpipe.VideoReader(path, format="RGB", index_cache=None)
    return reader.get_batch(indices)


def decord_random(path: str, indices: List[int]) -> np.ndarray:
    import decord

    vr = decord.VideoReader(path, ctx=decord.cpu(0))
    return vr.get_batch(indices).asnumpy()


def pyav_frames(path: str) -> List[np.ndarray]:
    import av

    with av.open(path) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def gstpipe_resized(path: str, indices: List[int]) -> int:
    reader = gstpipe.VideoReader(path, format="RGB", size=(256, 256), index_cache=None)
    return reader.get_batch(indices).shape[0]


def pyav_resized(path: str, indices: List[int]) -> int:
    import av

    wanted, got = set(indices), 0
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for k, frame in enumerate(container.decode(stream)):
            if k in wanted:
                frame.reformat(width=256, height=256, format="rgb24").to_ndarray()
                got += 1
            if k >= max(indices):
                break
    return got


def decord_resized(path: str, indices: List[int]) -> int:
    import decord

    vr = decord.VideoReader(path, ctx=decord.cpu(0), width=256, height=256)
    return vr.get_batch(indices).asnumpy().shape[0]


def many_videos(fn: Callable[[str, List[int]], int], paths: List[str]) -> int:
    from concurrent.futures import ThreadPoolExecutor

    indices = list(range(0, FRAMES, FRAMES // 10))[:10]
    with ThreadPoolExecutor(10) as pool:
        return sum(pool.map(lambda p: fn(p, indices), paths))


def pyav_luma(path: str) -> List[np.ndarray]:
    import av

    with av.open(path) as container:
        out = []
        for f in container.decode(video=0):
            p = f.planes[0]
            out.append(np.frombuffer(bytes(p), np.uint8).reshape(p.height, p.line_size)[:, : p.width])
        return out


def fps(fn: Callable[[], int]) -> Tuple[float, float]:
    """Frames per wall-clock second and per CPU second of this process (all its threads):
    the second is what the work costs, whatever else runs on the machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    n = fn()
    return n / (time.perf_counter() - wall), n / (time.process_time() - cpu)


def medians(runs: List[Tuple[float, float]]) -> Tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--frames", type=int, default=100)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="gstpipe-files-bench-")
    cache = os.path.join(tmp, "cache")
    os.environ["GSTPIPE_INDEX_CACHE"] = cache
    rows: Dict[str, Dict[str, float]] = {}
    notes = []
    for label, w, h in SIZES:
        path = os.path.join(tmp, f"{label}.mp4")
        make(path, w, h)
        gstpipe_seq(path, 1, cache=True)  # saves the index for the "saved index" row
        n = args.frames
        seq = {
            "gstpipe VideoReader": lambda: gstpipe_seq(path, n),
            "gstpipe VideoReader, saved index": lambda: gstpipe_seq(path, n, cache=True),
            "PyAV (threads on)": lambda: pyav_seq(path, n),
            "plain pipeline (qtdemux ! avdec_h264)": lambda: pipeline_seq(path, n),
            "decord": lambda: decord_seq(path, n),
        }
        results: Dict[str, List[Tuple[float, float]]] = {k: [] for k in seq}
        for _ in range(args.repeat):  # interleaved: a busy moment hits every loader
            for name, fn in seq.items():
                results[name].append(fps(fn))
        for name, r in results.items():
            rows.setdefault(f"first {n} frames to RGB: {name}", {})[label] = medians(r)
        indices = random.Random(12).sample(range(FRAMES), 12)
        # Exactness in the decoder's own samples (luma): RGB conversions differ by library.
        luma = pyav_luma(path)
        native = gstpipe.VideoReader(path, index_cache=None)  # I420: the decoder's planes
        exact = sum(np.array_equal(native[i].planes[0][:, :, 0], luma[i]) for i in indices)
        ref = pyav_frames(path)
        dec = decord_random(path, indices)
        dec_exact = sum(np.array_equal(dec[k], ref[i]) for k, i in enumerate(indices))
        notes.append(f"{label}: random frames equal to PyAV's sequential decode: gstpipe "
                     f"{exact}/12 (luma), decord {dec_exact}/12 (RGB, same swscale as PyAV)")
        rnd = {"gstpipe VideoReader": lambda: gstpipe_random(path, indices).shape[0],
               "decord": lambda: decord_random(path, indices).shape[0]}
        rres: Dict[str, List[Tuple[float, float]]] = {k: [] for k in rnd}
        for _ in range(args.repeat):
            for name, fn in rnd.items():
                rres[name].append(fps(fn))
        for name, r in rres.items():
            rows.setdefault(f"random get_batch of 12: {name}", {})[label] = medians(r)
    # TorchCodec's multi-video scenario, on copies of the 960x540 clip.
    import shutil

    source = os.path.join(tmp, f"{SIZES[0][0]}.mp4")
    paths = []
    for k in range(50):
        paths.append(os.path.join(tmp, f"copy{k:02}.mp4"))
        shutil.copyfile(source, paths[-1])
    multi = {"gstpipe VideoReader": gstpipe_resized, "PyAV (threads on)": pyav_resized,
             "decord": decord_resized}
    mres: Dict[str, List[Tuple[float, float]]] = {k: [] for k in multi}
    for _ in range(args.repeat):
        for name, fn in multi.items():
            mres[name].append(fps(lambda fn=fn: many_videos(fn, paths)))
    for name, r in mres.items():
        rows.setdefault(f"50 videos x 10 frames, 256x256, 10 threads: {name}", {})[
            SIZES[0][0]] = medians(r)
    labels = [s[0] for s in SIZES]
    print(f"| frames/s (median of {args.repeat}): wall / per CPU second | "
          + " | ".join(labels) + " |")
    print("|---|" + "---:|" * len(labels))
    for name, by in rows.items():
        print(f"| {name} | " + " | ".join(
            f"{by[l][0]:.0f} / {by[l][1]:.0f}" if l in by else "" for l in labels) + " |")
    for note in notes:
        print(f"\n{note}")


if __name__ == "__main__":
    main()
