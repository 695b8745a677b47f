"""Random sequences of API calls, as a hostile user would make them: play, stop, request_eos,
frames, on_frame, source, push, finish, wait, del and gc, on the main thread and on others.

A child Python runs the sequences (a crash must not take pytest down), each under a watchdog
(``faulthandler`` ends the child with every thread's traceback if one outlives its bound),
and reports what it measured. The test asserts: no crash, no hang, only gstpipe's own
exceptions (or ValueError / TypeError), and flat threads, file descriptors and RSS.

``GSTPIPE_FUZZ_SEQUENCES`` sets how many sequences run (default 200; ``cargo xtask fuzz``
runs 10,000), ``GSTPIPE_FUZZ_SEED`` the first seed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

# Every API call gets at most this long (timeouts passed to the API are shorter).
SEQUENCE_BOUND = 30.0

# The appsrcs are live (as gstpipe makes them when it configures one): a non-live appsrc
# nobody pushes into makes play() wait its whole 10 s for a preroll. The appsinks let end of
# stream through unread (wait-on-eos=false): stop() on an unread appsink otherwise waits its
# whole 5 s for it (issue 18). Both are bounded, only slow.
DESCRIPTIONS = [
    # finite, read or not
    "videotestsrc num-buffers=8 ! video/x-raw,format=RGB,width=32,height=24 "
    "! appsink wait-on-eos=false",
    # endless live source
    "videotestsrc is-live=true ! video/x-raw,format=GRAY8,width=16,height=16,framerate=200/1 "
    "! appsink wait-on-eos=false",
    # arrays in, frames out
    "appsrc is-live=true ! appsink wait-on-eos=false",
    # arrays in, nothing out
    "appsrc is-live=true ! fakesink",
    # caps written on the appsrc, no framerate
    "appsrc is-live=true caps=video/x-raw,format=GRAY8,width=8,height=8 "
    "! appsink wait-on-eos=false",
    # an element that fails
    "filesrc location=/nonexistent ! appsink",
]

# Exceptions a caller must be ready for; anything else is a finding.
EXPECTED = ("Error", "ValueError", "TypeError", "TimeoutError", "StopIteration")


def thread_names() -> list:
    """The names of this process's threads (what a leaked thread is)."""
    names = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/comm") as f:
                names.append(f.read().strip())
        except OSError:
            pass  # ended meanwhile
    return sorted(names)


def resources() -> dict:
    """Threads, open file descriptors and resident memory (KiB) of this process."""
    with open("/proc/self/statm") as f:
        rss_pages = int(f.read().split()[1])
    return {
        "threads": len(os.listdir("/proc/self/task")),
        "fds": len(os.listdir("/proc/self/fd")),
        "rss_kib": rss_pages * os.sysconf("SC_PAGE_SIZE") // 1024,
    }


def run_sequence(rng, gstpipe, np, threading) -> list:
    """One random sequence; returns the unexpected exceptions it met."""
    pipelines: list = []
    sources: list = []
    handles: list = []
    iterators: list = []
    unexpected: list = []

    def pick(items):
        return items[rng.randrange(len(items))] if items else None

    def op_new():
        pipelines.append(gstpipe.Pipeline(rng.choice(DESCRIPTIONS)))

    def op_play():
        p = pick(pipelines)
        if p is not None:
            p.play()

    def op_stop():
        p = pick(pipelines)
        if p is not None:
            p.stop()

    def op_eos():
        p = pick(pipelines)
        if p is not None:
            p.request_eos()

    def op_wait():
        p = pick(pipelines)
        if p is not None:
            p.wait(timeout=rng.choice([0.0, 0.05, 0.2]))

    def op_frames():
        p = pick(pipelines)
        if p is not None:
            frames = p.frames(timeout=0.2, latest=rng.random() < 0.3)
            iterators.append(frames)
            for _ in range(rng.randrange(3)):
                frame = next(frames)
                frame.array if frame.format != "I420" else frame.planes

    def op_next():
        frames = pick(iterators)
        if frames is not None:
            next(frames)

    def op_on_frame():
        p = pick(pipelines)
        if p is None:
            return
        kind = rng.randrange(4)
        if kind == 0:
            callback = lambda f: None  # noqa: E731
        elif kind == 1:
            callback = lambda f: p.stop()  # noqa: E731
        elif kind == 2:
            callback = lambda f: p.request_eos()  # noqa: E731
        else:

            def callback(f):
                raise RuntimeError("callback raised")

        handles.append(p.on_frame(callback if rng.random() < 0.95 else 42))

    def op_handle_wait():
        h = pick(handles)
        if h is not None:
            h.wait(timeout=0.2)

    def op_source():
        p = pick(pipelines)
        if p is None:
            return
        if rng.random() < 0.5:
            sources.append(p.source())
        else:
            sources.append(
                p.source(
                    format=rng.choice(["GRAY8", "RGB", "I420"]),
                    width=8,
                    height=8,
                    fps=rng.choice([None, 30, 1e12, (1, 0)]),
                )
            )

    def op_push():
        s = pick(sources)
        if s is None:
            return
        shape = s.shapes[0] if rng.random() < 0.9 else (3, 3, 3)
        array = np.zeros(shape, np.uint8)
        if len(s.shapes) > 1:
            array = [np.zeros(sh, np.uint8) for sh in s.shapes]
        pts = rng.choice([None, None, 0.5, -1.0, 1.9e10, float("nan")])
        s.push(array, pts=pts)

    def op_finish():
        s = pick(sources)
        if s is not None:
            s.finish()

    def op_del():
        if pipelines:
            del pipelines[rng.randrange(len(pipelines))]
        if rng.random() < 0.5:
            iterators.clear()
            handles.clear()
            sources.clear()

    def op_gc():
        import gc

        gc.collect()

    ops = [
        op_new,
        op_play,
        op_stop,
        op_eos,
        op_wait,
        op_frames,
        op_next,
        op_on_frame,
        op_handle_wait,
        op_source,
        op_push,
        op_finish,
        op_del,
        op_gc,
    ]

    def call(op):
        try:
            op()
        except BaseException as e:  # noqa: BLE001 - anything unexpected is the finding
            names = [c.__name__ for c in type(e).__mro__]
            raised_by_callback = isinstance(e, RuntimeError) and str(e) == "callback raised"
            if raised_by_callback:
                return
            if not any(n in EXPECTED for n in names) or type(e).__name__ == "PanicException":
                unexpected.append(f"{op.__name__}: {type(e).__name__}: {e}")

    op_new()
    for _ in range(rng.randrange(3, 10)):
        op = rng.choice(ops)
        if rng.random() < 0.25:
            # The same call from another thread, joined (bounded).
            worker = threading.Thread(target=call, args=(op,))
            worker.start()
            worker.join(timeout=SEQUENCE_BOUND)
            if worker.is_alive():
                unexpected.append(f"{op.__name__} on a thread did not return")
        else:
            call(op)
    for p in pipelines:
        call(p.stop)
    return unexpected


def child(first_seed: int, count: int) -> None:
    """Runs `count` sequences from `first_seed`; prints one JSON line of figures."""
    import faulthandler
    import gc
    import random
    import threading
    import time

    import numpy as np

    import gstpipe

    def settle(limit: float, baseline: dict | None) -> dict:
        # Threads of stopped pipelines end asynchronously: wait (bounded) for them.
        gc.collect()
        deadline = time.monotonic() + limit
        now = resources()
        while baseline and now["threads"] > baseline["threads"] and time.monotonic() < deadline:
            time.sleep(0.05)
            gc.collect()
            now = resources()
        return now

    # Warm-up: GStreamer's registry, thread pools and the first pipelines' caches.
    for seed in range(first_seed - 20, first_seed):
        run_sequence(random.Random(seed), gstpipe, np, threading)
    before = settle(0, None)
    findings = []
    slowest = 0.0
    for seed in range(first_seed, first_seed + count):
        # Ends the child with every thread's traceback if the sequence hangs.
        faulthandler.dump_traceback_later(SEQUENCE_BOUND * 2, exit=True)
        print(f"seed {seed}", file=sys.stderr, flush=True)
        started = time.monotonic()
        problems = run_sequence(random.Random(seed), gstpipe, np, threading)
        slowest = max(slowest, time.monotonic() - started)
        faulthandler.cancel_dump_traceback_later()
        findings.extend(f"seed {seed}: {p}" for p in problems)
    after = settle(10, before)
    print(
        json.dumps(
            {
                "sequences": count,
                "findings": findings,
                "before": before,
                "after": after,
                "slowest_s": round(slowest, 2),
                "threads_after": thread_names(),
                "gstpipe_objects_after": sorted(
                    type(o).__name__ for o in gc.get_objects() if type(o).__module__ == "gstpipe"
                ),
            }
        ),
        flush=True,
    )


def test_random_api_sequences_neither_crash_nor_hang_nor_leak():
    count = int(os.environ.get("GSTPIPE_FUZZ_SEQUENCES", "200"))
    seed = int(os.environ.get("GSTPIPE_FUZZ_SEED", "1000"))
    bound = 60 + count * SEQUENCE_BOUND / 10
    proc = subprocess.run(
        [sys.executable, __file__, str(seed), str(count)],
        capture_output=True,
        text=True,
        timeout=bound,
    )
    last_seed = [l for l in proc.stderr.splitlines() if l.startswith("seed ")][-1:]
    assert proc.returncode == 0, (
        f"the child died ({proc.returncode}) at {last_seed}: {proc.stderr[-3000:]}"
    )
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(figures))  # shown with pytest -s, and by cargo xtask fuzz
    assert figures["findings"] == []
    before, after = figures["before"], figures["after"]
    assert after["threads"] <= before["threads"] + 2, figures
    assert after["fds"] <= before["fds"] + 2, figures
    # A few MB of allocator and GStreamer caches may settle; a leak per sequence does not.
    assert after["rss_kib"] - before["rss_kib"] < 16 * 1024 + count * 8, figures


if __name__ == "__main__":
    child(int(sys.argv[1]), int(sys.argv[2]))
