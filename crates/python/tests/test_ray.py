"""gstpipe.ray on a real local Ray cluster: a head (no CPUs) and two worker nodes, each
started here with ``ray start --block`` on 127.0.0.1 in its own process group (so teardown
ends exactly the processes this module started), each worker with one CPU and its own
resource. References: a local ``VideoReader`` and a local ``Batcher`` of the same inputs.

Ray's servers listen on every interface whatever ``--node-ip-address`` says (its GCS and
raylets bind ``*``, and ``ray.init`` swaps 127.0.0.1 for the machine's address). So that
nothing listens beyond loopback, the module runs itself, when it can (as root, with
``unshare`` and ``ip``), in a new network namespace whose only interface is loopback:
``test_ray_in_a_loopback_only_network_namespace`` runs it there, and the tests skip outside.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

import gstpipe

ray = pytest.importorskip("ray", reason='Ray is an optional extra: pip install "gstpipe[ray]"')
import gstpipe.ray as gray  # noqa: E402
from ray.util.queue import Queue  # noqa: E402

W, H, N = 48, 32, 30


def _loopback_only() -> bool:
    """Whether this process's network namespace has no interface but loopback."""
    # The namespace's own interfaces (sysfs may show the namespace that mounted it).
    return [name for _, name in socket.if_nameindex()] == ["lo"]


# Run the cluster tests in a loopback-only namespace (see the module's documentation).
ISOLATE = (
    not _loopback_only()
    and os.geteuid() == 0
    and shutil.which("unshare") is not None
    and shutil.which("ip") is not None
)


def test_ray_in_a_loopback_only_network_namespace():
    if not ISOLATE:
        pytest.skip("already in a loopback-only namespace, or cannot make one (needs root, "
                    "unshare and ip): the tests below run here")
    script = (f"ip link set lo up && exec {sys.executable} -m pytest -q -p no:cacheprovider "
              f"-W ignore::DeprecationWarning {__file__}")
    done = subprocess.run(["unshare", "--net", "--", "sh", "-c", script], capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    # The child ran every test of this module but this one (skipped there).
    assert " passed" in done.stdout and "failed" not in done.stdout, done.stdout[-2000:]
PATTERNS = ["testsrc", "testsrc2", "smptebars", "rgbtestsrc", "mandelbrot", "yuvtestsrc"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, what: str, limit: float = 60.0) -> None:
    """Checks ``condition`` until it holds (bounded): readiness of processes this module
    started, which announce it nowhere else."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {limit} s")
        time.sleep(0.1)


class Cluster:
    def __init__(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="gpr", dir="/tmp")
        self.port = free_port()
        self.markers = pathlib.Path(self.tmp) / "markers"
        self.markers.mkdir()
        self.nodes = {}
        self.ray = str(pathlib.Path(sys.executable).with_name("ray"))

    def start(self, name: str, *args: str, cpus=None, store: int = 150_000_000) -> None:
        """Starts node ``name`` (``ray start --block *args``); ``cpus``: the CPU numbers its
        processes may run on (benches/python/scale.py holds each node to one core)."""
        env = dict(os.environ, GSTPIPE_TEST_NODE=name, RAY_USAGE_STATS_ENABLED="0")
        log = open(pathlib.Path(self.tmp) / f"{name}.log", "w")
        # Nodes share one IP here: each gets its own agent and metrics ports.
        ports = [
            f"--dashboard-agent-listen-port={free_port()}",
            f"--dashboard-agent-grpc-port={free_port()}",
            f"--metrics-export-port={free_port()}",
            f"--runtime-env-agent-port={free_port()}",
        ]
        self.nodes[name] = subprocess.Popen(
            [self.ray, "start", "--block", "--node-ip-address=127.0.0.1",
             f"--object-store-memory={store}", "--disable-usage-stats", *ports, *args],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=None if cpus is None else (lambda: os.sched_setaffinity(0, cpus)),
        )

    def kill(self, name: str, sig=signal.SIGKILL) -> None:
        """Ends node ``name``: ``sig`` to its process group, then SIGKILL to whatever of the
        group outlived it (the head's GCS does not always follow SIGTERM)."""
        proc = self.nodes.pop(name)
        for s in (sig, signal.SIGKILL):
            try:
                os.killpg(proc.pid, s)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass

    def alive_workers(self) -> set:
        return {
            key
            for n in ray.nodes()
            if n["Alive"]
            for key in n["Resources"]
            if key.startswith("node_")
        }


@pytest.fixture(scope="module")
def cluster():
    if ISOLATE:
        pytest.skip("runs in a loopback-only network namespace, in "
                    "test_ray_in_a_loopback_only_network_namespace")
    c = Cluster()
    try:
        c.start("head", "--head", f"--port={c.port}", "--num-cpus=0", f"--temp-dir={c.tmp}",
                "--include-dashboard=false")

        def gcs_up():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", c.port)) == 0

        wait_until(gcs_up, "the Ray head")
        ray.init(address=f"127.0.0.1:{c.port}", log_to_driver=False)
        for name in ("a", "b"):
            c.start(name, f"--address=127.0.0.1:{c.port}", "--num-cpus=1",
                    f'--resources={{"node_{name}": 1}}')
            wait_until(lambda: f"node_{name}" in c.alive_workers(), f"Ray worker node {name}")
        yield c
    finally:
        ray.shutdown()
        for name in list(c.nodes):
            c.kill(name, signal.SIGTERM)
        shutil.rmtree(c.tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    assert shutil.which("ffmpeg"), "the ffmpeg CLI is needed (cargo xtask setup)"
    out = tmp_path_factory.mktemp("videos")
    paths = []
    for k, pattern in enumerate(PATTERNS):
        path = out / f"v{k}.mp4"
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
             f"{pattern}=size={W}x{H}:rate=25", "-frames:v", str(N), "-c:v", "libx264",
             "-bf", "2", "-g", "10", "-pix_fmt", "yuv420p", str(path)],
            check=True, timeout=60,
        )
        paths.append(str(path))
    return paths


def local_frames(path: str, indices=None):
    reader = gstpipe.VideoReader(path, format="RGB")
    wanted = list(range(len(reader))) if indices is None else list(indices)
    return wanted, reader.get_batch(wanted), np.asarray(reader.pts)[wanted]


def by_file(rows):
    out = {}
    for row in rows:
        out.setdefault(row["path"], []).append(row)
    return out


def marking_sampler(markers: pathlib.Path, block_on: str = ""):
    """A sampler that records which node read which file and picks every frame; on node
    ``block_on`` (first attempt only) it then hangs, to be killed mid-read."""

    def sampler(reader):
        node = os.environ.get("GSTPIPE_TEST_NODE", "?")
        name = pathlib.Path(reader.uri).name
        (markers / f"{node}-{name}-{os.getpid()}").touch()
        if node == block_on:
            time.sleep(120)  # killed with its node long before
        return range(len(reader))

    return sampler


def test_read_videos_gives_the_local_frames_read_on_both_nodes(cluster, videos):
    sampler = marking_sampler(cluster.markers)
    rows = gray.read_videos(videos, sampler=sampler).take_all()
    assert {k for k in rows[0]} == {"path", "index", "pts", "frame"}
    files = by_file(rows)
    assert sorted(files) == sorted(videos)
    for path in videos:
        wanted, frames, pts = local_frames(path)
        got = files[path]
        assert [r["index"] for r in got] == wanted  # each once, in order
        np.testing.assert_array_equal(np.stack([r["frame"] for r in got]), frames)
        np.testing.assert_allclose([r["pts"] for r in got], pts)
    nodes = {m.name.split("-")[0] for m in cluster.markers.iterdir()}
    assert nodes == {"a", "b"}, nodes


def test_indices_and_clip_samplers(cluster, videos):
    picked = [0, 7, 3, 29, 3]
    rows = gray.read_videos(videos[:2], indices=picked, format="GRAY8").take_all()
    files = by_file(rows)
    for path in videos[:2]:
        reader = gstpipe.VideoReader(path, format="GRAY8")
        got = files[path]
        assert [r["index"] for r in got] == picked
        np.testing.assert_array_equal(np.stack([r["frame"] for r in got]), reader.get_batch(picked))

    clips = gray.read_videos(
        videos[:2], sampler=lambda r: r.clips_at_regular_indices(num_clips=3, frames_per_clip=4)
    ).take_all()
    files = by_file(clips)
    for path in videos[:2]:
        local = gstpipe.VideoReader(path, format="RGB").clips_at_regular_indices(3, 4)
        got = files[path]
        assert [r["clip"] for r in got] == [c for c in range(3) for _ in range(4)]
        assert [r["index"] for r in got] == local.indices.reshape(-1).tolist()
        np.testing.assert_array_equal(
            np.stack([r["frame"] for r in got]), local.data.reshape((12, H, W, 3))
        )
    with pytest.raises(ValueError):
        gray.read_videos(videos, sampler=sampler_none, indices=[0])


def sampler_none(reader):
    return []


def test_scaled_frames_equal_a_local_scaled_reader(cluster, videos):
    picked = [5, 0, 17]
    rows = gray.read_videos(videos[:2], indices=picked, size=(24, 16)).take_all()
    files = by_file(rows)
    for path in videos[:2]:
        want = gstpipe.VideoReader(path, format="RGB", size=(24, 16)).get_batch(picked)
        got = np.stack([r["frame"] for r in files[path]])
        assert got.shape == (3, 16, 24, 3)
        np.testing.assert_array_equal(got, want)


def test_a_camera_group_actor_hands_its_batches_to_a_consumer(cluster):
    caps = f"video/x-raw,format=RGB,width={W},height={H},framerate=30/1"
    cams = [
        f"videotestsrc num-buffers=8 pattern=ball ! {caps} ! appsink sync=false",
        f"videotestsrc num-buffers=8 pattern=smpte horizontal-speed=3 ! {caps} ! appsink sync=false",
    ]
    expected = [
        [f.copy() for f in gstpipe.Pipeline(c).frames()] for c in cams
    ]
    queue = Queue(maxsize=4)
    group = gray.CameraGroup.options(resources={"node_b": 0.01}).remote(
        cams, queue, ahead="block", depth=2, timeout=2.0
    )
    done = group.run.remote()
    seen = [[], []]
    while True:
        finished, _ = ray.wait([done], timeout=0)
        if finished and queue.empty():
            break
        try:
            batch = queue.get(timeout=5)
        except Exception:
            continue
        for slot in range(2):
            if batch["filled"][slot]:
                i = batch["indices"][slot]
                np.testing.assert_array_equal(batch["array"][slot], expected[slot][i])
                seen[slot].append(i)
    assert ray.get(done, timeout=60) >= 8
    assert seen == [list(range(8)), list(range(8))]


def test_a_node_killed_mid_read_loses_and_duplicates_nothing(cluster, videos):
    markers = pathlib.Path(cluster.tmp) / "kill-markers"
    markers.mkdir()
    dataset = gray.read_videos(videos, sampler=marking_sampler(markers, block_on="b"))
    iterator = iter(dataset.iter_rows())
    rows = []
    # Reading starts with the first row; node b is then reading a file (and hangs in it).
    rows.append(next(iterator))
    wait_until(lambda: any(m.name.startswith("b-") for m in markers.iterdir()), "a read on b")
    cluster.kill("b")
    rows.extend(iterator)
    files = by_file(rows)
    assert sorted(files) == sorted(videos)
    for path in videos:
        wanted, frames, _ = local_frames(path)
        got = files[path]
        assert sorted(r["index"] for r in got) == wanted, path  # none lost, none twice
        order = np.argsort([r["index"] for r in got])
        np.testing.assert_array_equal(np.stack([got[i]["frame"] for i in order]), frames)
    killed = {m.name.split("-")[1] for m in markers.iterdir() if m.name.startswith("b-")}
    redone = {m.name.split("-")[1] for m in markers.iterdir() if m.name.startswith("a-")}
    assert killed and killed <= redone  # what b was reading was read again on a
