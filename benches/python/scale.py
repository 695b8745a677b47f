"""Scaling benchmarks of the Python package (docs/scaling.md): asyncio against the
synchronous iterator, clip sampling against one ``get_batch`` per clip, and ``gstpipe.ray``
reading files on one and two Ray worker nodes against a local ``VideoReader`` loop.

Run from a venv with gstpipe (release build), numpy, ``ray[data]`` and the ``ffmpeg`` CLI:

    python benches/python/scale.py aframes clips ray

Ray's servers listen on every interface; to keep the cluster on loopback, as the tests do, run
the ``ray`` part in a network namespace of its own (as root):

    unshare --net -- sh -c 'ip link set lo up && exec python benches/python/scale.py ray'

Every figure is the best of ``--repeat`` runs (the machine is shared); runs of the things
compared alternate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

import gstpipe


def best(runs, repeat):
    """Runs each of ``runs`` (name -> function returning a count) ``repeat`` times,
    alternating, and returns name -> best count per second."""
    out = {name: 0.0 for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            start = time.perf_counter()
            n = run()
            out[name] = max(out[name], n / (time.perf_counter() - start))
    return out


def bench_aframes(repeat):
    for size, frames in (("64x48", 20000), ("640x480", 3000)):
        w, h = size.split("x")
        description = (
            f"videotestsrc num-buffers={frames} ! video/x-raw,format=RGB,width={w},height={h} "
            "! appsink sync=false"
        )

        def sync():
            n = 0
            with gstpipe.Pipeline(description) as p:
                for f in p.frames():
                    f.array[0, 0, 0]
                    n += 1
            return n

        def aio():
            async def main():
                n = 0
                with gstpipe.Pipeline(description) as p:
                    async for f in p.aframes():
                        f.array[0, 0, 0]
                        n += 1
                return n

            return asyncio.run(main())

        fps = best({"frames()": sync, "aframes()": aio}, repeat)
        print(f"aframes {size}: frames() {fps['frames()']:.0f} fps, aframes() "
              f"{fps['aframes()']:.0f} fps, ratio {fps['aframes()'] / fps['frames()']:.3f}")


def encode(path, pattern, size, frames, gop, fps=30):
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"{pattern}=size={size}:rate={fps}", "-frames:v", str(frames), "-c:v", "libx264",
         "-bf", "2", "-g", str(gop), "-pix_fmt", "yuv420p", str(path)],
        check=True, timeout=300,
    )


def bench_clips(repeat, tmp):
    path = tmp / "clips.mp4"
    encode(path, "testsrc2", "640x360", 600, 60)
    reader = gstpipe.VideoReader(str(path), format="RGB")
    for clips, per_clip, step in ((8, 16, 1), (16, 8, 4)):
        plan = reader.clips_at_random_indices(clips, per_clip, step, seed=1).indices

        def sampled():
            c = reader.clips_at_random_indices(clips, per_clip, step, seed=1)
            return c.indices.size

        def one_by_one():
            for row in plan:
                reader.get_batch(row.tolist())
            return plan.size

        fps = best({"clips": sampled, "get_batch": one_by_one}, repeat)
        print(f"clips {clips}x{per_clip} step {step} (600 frames 640x360, GOP 60): sampler "
              f"{fps['clips']:.0f} frames/s, get_batch per clip {fps['get_batch']:.0f} frames/s, "
              f"speed-up {fps['clips'] / fps['get_batch']:.2f}x")


def bench_ray(repeat, tmp, files=20, size="320x240", frames=120, reservation=True):
    import ray

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "crates/python/tests"))
    from test_ray import Cluster, wait_until

    import gstpipe.ray as gray

    paths = []
    for k in range(files):
        path = tmp / f"v{k}.mp4"
        encode(path, "testsrc2" if k % 2 else "testsrc", size, frames, 30)
        paths.append(str(path))
    total = files * frames

    def local():
        n = 0
        for p in paths:
            r = gstpipe.VideoReader(p, format="RGB")
            per_block = gray.rows_per_block(r.width, r.height, "RGB")
            for a in range(0, len(r), per_block):
                n += len(r.get_batch(list(range(a, min(a + per_block, len(r))))))
        return n

    # The local loop, held to one core like a node.
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {0})
    local_fps = best({"local": local}, repeat)["local"]
    os.sched_setaffinity(0, allowed)

    c = Cluster()
    results = {}
    try:
        c.start("head", "--head", f"--port={c.port}", "--num-cpus=0", f"--temp-dir={c.tmp}",
                "--include-dashboard=false", store=2_500_000_000)
        wait_until(lambda: _up(c.port), "the Ray head")
        ray.init(address=f"127.0.0.1:{c.port}", log_to_driver=False)
        # Ray Data reserves half the cluster's resources for each operator's share; on a
        # cluster of two 1-CPU nodes that leaves the read one task at a time.
        ray.data.DataContext.get_current().op_resource_reservation_enabled = reservation
        for name, cpu in (("a", 0), ("b", 1)):
            c.start(name, f"--address=127.0.0.1:{c.port}", "--num-cpus=1",
                    f'--resources={{"node_{name}": 1}}', cpus={cpu}, store=2_500_000_000)
            wait_until(lambda: f"node_{name}" in c.alive_workers(), f"node {name}")

            def read():
                # Every row to the driver (on the head node): decoding plus Ray's transfers.
                n = 0
                for batch in gray.read_videos(paths).iter_batches(batch_size=None):
                    n += len(batch["index"])
                assert n == total, n
                return n

            def on_nodes():
                # Rows left in the nodes' object stores (materialize keeps references only):
                # what the nodes deliver to a consumer running on them.
                n = gray.read_videos(paths).materialize().count()
                assert n == total, n
                return n

            on_nodes()  # warm-up: workers started, gstpipe imported
            runs = {"driver": read, "nodes": on_nodes}
            results[len(c.nodes) - 1] = best(runs, repeat)
    finally:
        ray.shutdown()
        for name in list(c.nodes):
            c.kill(name)
        import shutil

        shutil.rmtree(c.tmp, ignore_errors=True)
    for where in results[1]:
        one, two = results[1][where], results[2][where]
        print(f"ray (op resource reservation {'on' if reservation else 'off'}) "
              f"read_videos {files} files x {frames} frames {size} H.264, rows consumed on the "
              f"{where}: local VideoReader loop (1 core) {local_fps:.0f} frames/s; 1 worker node "
              f"{one:.0f} frames/s ({one / local_fps:.2f}x local, "
              f"{1e6 / one - 1e6 / local_fps:+.0f} us/row, "
              f"{(1 / one - 1 / local_fps) * frames * 1e3:+.1f} ms per file); "
              f"2 worker nodes {two:.0f} frames/s ({two / one:.2f}x one)")


def _up(port):
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="+", choices=["aframes", "clips", "ray"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ray-size", default="320x240", help="frame size of the Ray files")
    parser.add_argument("--ray-frames", type=int, default=120, help="frames per Ray file")
    parser.add_argument("--ray-no-reservation", action="store_true",
                        help="turn Ray Data's per-operator resource reservation off")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        for what in args.what:
            if what == "aframes":
                bench_aframes(args.repeat)
            elif what == "clips":
                bench_clips(args.repeat, tmp)
            else:
                bench_ray(args.repeat, tmp, size=args.ray_size, frames=args.ray_frames,
                          reservation=not args.ray_no_reservation)


if __name__ == "__main__":
    main()
