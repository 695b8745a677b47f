"""gstpipe on Ray (``pip install "gstpipe[ray]"``): video files read in parallel across a
cluster as a ``ray.data.Dataset``, and camera groups batched by actors.

>>> import gstpipe.ray  # doctest: +SKIP
>>> ds = gstpipe.ray.read_videos(["a.mp4", "b.mp4"], indices=range(0, 100, 10))  # doctest: +SKIP
>>> ds.take(1)[0].keys()  # doctest: +SKIP
dict_keys(['path', 'index', 'pts', 'frame'])

``read_videos`` gives one Ray task per file (a file is read by one ``VideoReader``, so its
index is built once and its frames decoded in file order); the tasks run wherever the
cluster has a CPU free. A task that dies with its node is run again elsewhere: its rows are
produced once. ``CameraGroup`` is an actor that runs a ``gstpipe.Batcher`` over its cameras
and puts each batch into a ``ray.util.queue.Queue`` a consumer reads.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, Optional, Sequence, Tuple, Union

import numpy as np

import gstpipe

try:
    import ray
    import ray.data
except ImportError as e:  # pragma: no cover - exercised without the extra
    raise ImportError('gstpipe.ray needs Ray: pip install "gstpipe[ray]"') from e

__all__ = ["read_videos", "CameraGroup", "BLOCK_BYTES", "rows_per_block"]

#: Bytes of frames per block a read task yields: large enough that Ray's per-block cost is
#: small against the decoding (a 320x240 RGB file of 120 frames is one block), small enough
#: to bound a task's memory (five 1080p RGB frames).
BLOCK_BYTES = 32 * 1024 * 1024


def rows_per_block(width: int, height: int, format: str) -> int:
    """How many frames of that size and format make a block of about ``BLOCK_BYTES``."""
    frame = width * height * (gstpipe.channels(format) or 1) * gstpipe.dtype(format).itemsize
    return max(1, BLOCK_BYTES // max(1, frame))

Sampler = Callable[["gstpipe.VideoReader"], Union["gstpipe.Clips", Sequence[int]]]
Indices = Union[Sequence[int], Dict[str, Sequence[int]]]


def _frames_of(
    path: str,
    format: str,
    size: Optional[Tuple[int, int]],
    sampler: Optional[Sampler],
    indices: Optional[Indices],
) -> Iterator[Dict[str, np.ndarray]]:
    """The rows of one file, in blocks of about ``BLOCK_BYTES``."""
    reader = gstpipe.VideoReader(path, format=format, size=size)
    per_block = rows_per_block(reader.width, reader.height, format)
    if sampler is not None:
        sampled = sampler(reader)
        if isinstance(sampled, gstpipe.Clips):
            # The clips are decoded already (each frame once): rows in clip order.
            count, per_clip = sampled.indices.shape
            flat_data = sampled.data.reshape((count * per_clip,) + sampled.data.shape[2:])
            flat_index = sampled.indices.reshape(-1)
            flat_pts = sampled.pts.reshape(-1)
            clips = np.repeat(np.arange(count), per_clip)
            for a in range(0, len(flat_index), per_block):
                b = a + per_block
                rows = _rows(path, flat_index[a:b], flat_pts[a:b], flat_data[a:b])
                rows["clip"] = clips[a:b]
                yield rows
            return
        wanted = np.asarray(list(sampled), dtype=np.int64)
    elif indices is not None:
        chosen = indices.get(path, ()) if isinstance(indices, dict) else indices
        wanted = np.asarray(list(chosen), dtype=np.int64)
    else:
        wanted = np.arange(len(reader), dtype=np.int64)
    all_pts = np.asarray(reader.pts)
    for a in range(0, len(wanted), per_block):
        chunk = wanted[a : a + per_block]
        yield _rows(path, chunk, all_pts[chunk], reader.get_batch(chunk.tolist()))


def _quote(path: str) -> str:
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rows(path: str, index: Any, pts: Any, frames: np.ndarray) -> Dict[str, np.ndarray]:
    n = len(frames)
    return {
        "path": np.array([path] * n, dtype=object),
        "index": np.asarray(index, dtype=np.int64),
        "pts": np.asarray(pts, dtype=np.float64),
        "frame": frames,
    }


def read_videos(
    paths: Sequence[str],
    *,
    sampler: Optional[Sampler] = None,
    indices: Optional[Indices] = None,
    format: str = "RGB",
    size: Optional[Tuple[int, int]] = None,
    ray_remote_args: Optional[Dict[str, Any]] = None,
) -> "ray.data.Dataset":
    """A ``ray.data.Dataset`` of the frames of ``paths``: columns ``path``, ``index`` (the
    frame's index in its file), ``pts`` (seconds) and ``frame`` (``(h, w, c)`` ``uint8``;
    ``uint16`` for deep formats), one row per frame, each file read by one task.

    - ``sampler``: ``sampler(reader)`` picks the frames of each file from its
      ``VideoReader``: a list of indices, or ``Clips`` (e.g. ``lambda r:
      r.clips_at_random_indices(4, 8)``: rows in clip order, with a ``clip`` column).
    - ``indices``: the same frame indices of every file, or a dict ``{path: indices}``.
    - ``format``: a packed raw format (``"RGB"``, ``"GRAY8"``, ...).
    - ``size``: ``(width, height)``: frames scaled (bilinear, as ``VideoReader(size=)``).
    - ``ray_remote_args``: for each read task (``num_cpus`` is 1 unless given).

    Without ``sampler`` and ``indices`` every frame is read. Rows come file by file, each
    file's in the order asked for; a task lost with its node is run again, so every row is
    produced once.
    """
    if sampler is not None and indices is not None:
        raise ValueError("give sampler or indices, not both")
    paths = [str(p) for p in paths]
    if not paths:
        raise ValueError("read_videos needs at least one path")
    remote = {"num_cpus": 1}
    remote.update(ray_remote_args or {})

    def read(batch: Dict[str, np.ndarray]) -> Iterator[Dict[str, np.ndarray]]:
        for path in batch["path"]:
            yield from _frames_of(str(path), format, size, sampler, indices)

    files = ray.data.from_items([{"path": p} for p in paths], override_num_blocks=len(paths))
    return files.map_batches(read, batch_size=1, batch_format="numpy", **remote)


@ray.remote(max_concurrency=2)
class CameraGroup:
    """An actor that batches a group of cameras with ``gstpipe.Batcher`` and puts every
    batch, as a dict (``index``, ``array``, ``filled``, ``pts``, ``indices``, ``streams``),
    into ``queue`` (a ``ray.util.queue.Queue``; a full queue makes the batcher wait, so a slow
    consumer slows the group rather than piling batches up).

    ``CameraGroup.remote(descriptions, queue, **batcher_kwargs)`` then ``run.remote()``:
    returns the number of batches once every camera has ended or ``stop.remote()`` was
    called (a concurrent call: the actor runs ``run`` and ``stop`` on two threads)."""

    def __init__(self, descriptions: Sequence[str], queue: Any, **batcher_kwargs: Any) -> None:
        self._batcher = gstpipe.Batcher(list(descriptions), **batcher_kwargs)
        self._queue = queue

    def run(self, put_timeout: Optional[float] = 60.0) -> int:
        count = 0
        with self._batcher as batcher:
            for batch in batcher:
                self._queue.put(
                    {
                        "index": batch.index,
                        "array": batch.array,
                        "filled": list(batch.filled),
                        "pts": list(batch.pts),
                        "indices": list(batch.indices),
                        "streams": list(batch.streams),
                    },
                    timeout=put_timeout,
                )
                count += 1
        return count

    def stop(self) -> None:
        self._batcher.stop()
