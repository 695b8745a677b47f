"""gstpipe.VideoReader against an independent decoder, on files made by ffmpeg.

The corpus is encoded at test time by the ``ffmpeg`` command-line tool (Debian package
``ffmpeg``) with the encoder and muxer settings users' files come with (B-frames in MP4 and
AVI, fragmented MP4, MPEG-2 in transport and program streams, VP8, VP9, AV1, MJPEG, HEVC, odd
sizes), and decoded by PyAV (ffmpeg's own libraries, ``av`` from PyPI) as the reference:
counts equal, every frame's planes equal bit for bit for the bit-exact codecs and within 2
levels for the IDCT codecs (MPEG-2, MPEG-4 Part 2, MJPEG), read both sequentially and in a
shuffled random order.
"""

from __future__ import annotations

import pathlib
import random
import shutil
import subprocess
import sys

import numpy as np
import pytest

import gstpipe

av = pytest.importorskip("av", reason="PyAV (pip install av) is the reference decoder")

if shutil.which("ffmpeg") is None:
    pytest.skip("the ffmpeg command-line tool makes the corpus (apt install ffmpeg)",
                allow_module_level=True)

# name: (ffmpeg output options, frames, (width, height), tolerance in levels, encoder needed)
X264 = "-c:v libx264 -preset ultrafast -bf 2 -g 12 -sc_threshold 0"
CORPUS = {
    "h264_bframes.mp4": (X264, 30, (96, 64), 0, "libx264"),
    "h264_open_gop.mkv": ("-c:v libx264 -bf 3 -g 10 -x264-params open-gop=1", 30, (96, 64), 0,
                          "libx264"),
    "h264_fragmented.mp4": (f"{X264} -movflags frag_keyframe+empty_moov", 40, (96, 64), 0,
                            "libx264"),
    "h264.ts": (X264, 30, (96, 64), 0, "libx264"),
    "hevc.mp4": ("-c:v libx265 -preset ultrafast -x265-params log-level=error:bframes=2:keyint=12",
                 30, (96, 64), 0, "libx265"),
    "mpeg4_bframes.avi": ("-c:v mpeg4 -bf 2 -g 12", 30, (96, 64), 2, "mpeg4"),
    # Xvid writes packed B-frames (a P and a B in one AVI chunk, then a placeholder N-VOP) and
    # drops its first B-frames' slots: ffmpeg decodes 28 frames of the 30.
    "mpeg4_xvid_packed.avi": ("-c:v libxvid -bf 2 -g 12", 30, (96, 64), 2, "libxvid"),
    "mpeg4_bframes.m4v": ("-c:v mpeg4 -bf 2 -g 12", 30, (96, 64), 2, "mpeg4"),
    "mpeg2.m2v": ("-c:v mpeg2video -bf 2 -g 12", 30, (96, 64), 2, "mpeg2video"),
    "h264_raw.h264": (X264, 30, (96, 64), 0, "libx264"),
    "mpeg2.ts": ("-c:v mpeg2video -bf 2 -g 12", 30, (96, 64), 2, "mpeg2video"),
    "mpeg2.mpg": ("-c:v mpeg2video -bf 2 -g 12 -f vob", 30, (96, 64), 2, "mpeg2video"),
    "vp8.webm": ("-c:v libvpx -g 10 -auto-alt-ref 1 -lag-in-frames 8 -b:v 200k", 30, (96, 64), 0,
                 "libvpx"),
    "vp9.webm": ("-c:v libvpx-vp9 -g 10 -deadline realtime -cpu-used 8 -b:v 200k", 30, (96, 64),
                 0, "libvpx-vp9"),
    "vp9_odd.mkv": ("-c:v libvpx-vp9 -g 10 -deadline realtime -cpu-used 8", 20, (97, 61), 0,
                    "libvpx-vp9"),
    "av1.mkv": ("-c:v libaom-av1 -cpu-used 8 -g 10 -b:v 100k", 20, (64, 48), 0, "libaom-av1"),
    "mjpeg.avi": ("-c:v mjpeg -q:v 4", 20, (80, 48), 2, "mjpeg"),
    "h264_10bit.mkv": ("-c:v libx264 -preset ultrafast -bf 2 -g 12 -pix_fmt yuv420p10le", 20,
                       (96, 64), 0, "libx264"),
    "mpeg2_interlaced.ts": ("-c:v mpeg2video -flags +ildct+ilme -top 1 -bf 2 -g 12", 20,
                            (160, 96), 2, "mpeg2video"),
    "h264_interlaced.ts": ("-c:v libx264 -preset ultrafast -flags +ildct+ilme "
                           "-x264-params interlaced=1", 20, (160, 96), 0, "libx264"),
}


def _encoders() -> str:
    out = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True,
                         text=True, timeout=30)
    return out.stdout


def _make(path: pathlib.Path, options: str, frames: int, size: tuple[int, int]) -> None:
    w, h = size
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
           f"testsrc2=size={w}x{h}:rate=25,format=rgb24", "-frames:v", str(frames), "-pix_fmt", "yuv420p",
           *options.split(), str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(cmd)}: {done.stderr}"


def reference(path: str, stream: int = 0) -> list[list[np.ndarray]]:
    """Every frame of a PyAV decode of ``path`` (its ``stream``-th video stream), as its
    planes (row padding cut off)."""
    out = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=stream):
            planes = []
            for p in frame.planes:
                dtype = np.uint16 if p.line_size >= 2 * p.width and "10" in frame.format.name \
                    else np.uint8
                row = p.line_size // np.dtype(dtype).itemsize
                a = np.frombuffer(bytes(p), dtype).reshape(p.height, row)[:, : p.width]
                planes.append(a)
            out.append(planes)
    return out


def planes_of(frame) -> list[np.ndarray]:
    return [p[:, :, 0] if p.ndim == 3 and p.shape[2] == 1 else p for p in frame.planes]


def assert_planes_equal(got: list[np.ndarray], want: list[np.ndarray], tolerance: int, what: str):
    assert len(got) == len(want), f"{what}: {len(got)} planes, the reference has {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape, f"{what}: plane {k} is {g.shape}, the reference {w.shape}"
        diff = np.abs(g.astype(np.int32) - w.astype(np.int32)).max()
        assert diff <= tolerance, (
            f"{what}: plane {k} differs from the reference by up to {diff} levels "
            f"(allowed {tolerance})"
        )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Makes each clip once per module, on first use: name -> (path, reference planes)."""
    encoders = _encoders()
    root = tmp_path_factory.mktemp("corpus")
    made: dict[str, tuple[str, list]] = {}

    def get(name: str):
        options, frames, size, _, encoder = CORPUS[name]
        if f" {encoder} " not in encoders:
            pytest.skip(f"this ffmpeg has no {encoder} encoder")
        if name not in made:
            path = root / name
            _make(path, options, frames, size)
            made[name] = (str(path), reference(str(path)))
        return made[name]

    return get


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_counts_and_frames_equal_pyav(corpus, name):
    path, ref = corpus(name)
    _, frames, size, tolerance, _ = CORPUS[name]
    assert frames - 2 <= len(ref) <= frames, f"PyAV decodes {len(ref)} frames of {name}"
    reader = gstpipe.VideoReader(path)
    assert len(reader) == len(ref)
    assert (reader.width, reader.height) == size
    # Sequential: every frame in order.
    for i in range(len(ref)):
        frame = reader.read()
        assert frame is not None, f"frame {i}: the reader ended early"
        assert_planes_equal(planes_of(frame), ref[i], tolerance, f"{name} frame {i} (read)")
    assert reader.read() is None
    # Random access: every frame once, in a shuffled order (most are seeks).
    order = list(range(len(ref)))
    random.Random(name).shuffle(order)
    for i in order:
        assert_planes_equal(planes_of(reader[i]), ref[i], tolerance, f"{name} frame {i} (random)")


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_shuffled_batches_equal_pyav(corpus, name):
    """``get_batch`` of a random subset in shuffled order (the luma plane, as GRAY8, which
    ``videoconvert`` copies without change from these standard-definition clips; HD
    colorimetry would rescale it)."""
    path, ref = corpus(name)
    _, _, (w, h), tolerance, _ = CORPUS[name]
    if ref[0][0].dtype != np.uint8:
        pytest.skip("GRAY8 is not the luma of 10-bit video (the sequential test covers it)")
    reader = gstpipe.VideoReader(path, format="GRAY8")
    rng = random.Random(f"batch {name}")
    indices = rng.sample(range(len(ref)), 8)
    got = reader.get_batch(indices)
    assert got.shape == (len(indices), h, w, 1)
    for k, i in enumerate(indices):
        assert_planes_equal([got[k, :, :, 0]], ref[i][:1], tolerance, f"{name} frame {i} (batch)")


def test_damaged_file_reports_the_lost_frames(tmp_path, cli):
    """An ffmpeg clip overwritten with zeros in its middle: the frames a plain sequential
    GStreamer decode loses are the ones the reader and ``gstpipe info --check`` report (count
    and indices); every other frame is still exact, and no frame is skipped silently."""
    import json

    from conftest import frames_of

    path = tmp_path / "damaged.mp4"
    _make(path, "-c:v libx264 -preset ultrafast -bf 2 -g 10", 40, (160, 96))
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 20000] = bytes(20000)
    path.write_bytes(bytes(data))

    plain = frames_of(f"filesrc location={path} ! decodebin ! videoconvert ! "
                      "video/x-raw,format=I420 ! appsink sync=false")
    reader = gstpipe.VideoReader(str(path))
    assert len(reader) == 40
    decoded = {f.pts_ns: f for f in plain}
    want_lost = [i for i, p in enumerate(reader.pts_ns) if p not in decoded]
    assert 0 < len(want_lost) < 40, "the damage should cost some frames, not all"
    assert reader.verify() == want_lost
    assert reader.lost_frames == want_lost
    # Sequentially: each frame or a "did not decode" error, in order.
    assert reader.position == 0
    for i in range(40):
        if i in want_lost:
            with pytest.raises(gstpipe.Error, match=f"frame {i} .*did not decode"):
                reader.read()
        else:
            frame = reader.read()
            want = decoded[reader.pts_ns[i]]
            assert_planes_equal(planes_of(frame), planes_of(want), 0, f"damaged frame {i}")
    for i in (want_lost[0], want_lost[-1]):
        with pytest.raises(gstpipe.Error, match="did not decode"):
            reader[i]
    # In a fresh reader, a lost frame asked for first is found lost too.
    with pytest.raises(gstpipe.Error, match=f"frame {want_lost[-1]} .*did not decode"):
        gstpipe.VideoReader(str(path))[want_lost[-1]]
    done = subprocess.run([cli, "info", "--check", "--json", str(path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["lost"] == len(want_lost) and info["lost_frames"] == want_lost
    text = subprocess.run([cli, "info", "--check", str(path)], capture_output=True, text=True,
                          timeout=60).stdout
    assert f"lost:      {len(want_lost)} (frames " in text


_CHILD = """
import json, sys
import numpy as np
import gstpipe
reader = gstpipe.VideoReader(sys.argv[1], format="GRAY8")
luma = reader.get_batch(list(range(len(reader)))[::-1])[::-1, :, :, 0]
np.save(sys.argv[2], luma)
print(json.dumps({"origin": reader.index_origin, "pts": reader.pts_ns}))
"""


def test_saved_index_is_reused_across_processes_until_the_file_changes(tmp_path, cli):
    """A first process scans the file and saves its index; a second loads it (and its frames
    are still exact against PyAV); ``gstpipe info`` says so; a rewritten file is scanned
    again. MPEG-4 Part 2 in AVI, whose index also carries the decode-order restamping."""
    import json
    import os

    path = tmp_path / "clip.avi"
    _make(path, "-c:v mpeg4 -bf 2 -g 12", 30, (96, 64))
    env = {**os.environ, "GSTPIPE_INDEX_CACHE": str(tmp_path / "cache")}

    def child(n: int) -> dict:
        out = tmp_path / f"luma{n}.npy"
        done = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(out)], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        ref = reference(str(path))
        assert len(result["pts"]) == len(ref)
        for i, luma in enumerate(np.load(out)):
            assert_planes_equal([luma], ref[i][:1], 2, f"process {n} frame {i}")
        return result

    first = child(1)
    assert first["origin"] == "scanned"
    assert len(os.listdir(tmp_path / "cache")) == 1
    second = child(2)
    assert second["origin"] == "saved" and second["pts"] == first["pts"]
    info = subprocess.run([cli, "info", "--json", str(path)], env=env, capture_output=True,
                          text=True, timeout=60)
    assert json.loads(info.stdout)["index_origin"] == "saved", info.stderr
    # Not shared without the cache, nor when asked for none.
    assert gstpipe.VideoReader(str(path), index_cache=None).index_origin in ("scanned", "process")
    # The file changes (another clip, other length): scanned again, the new count.
    _make(path, "-c:v mpeg4 -bf 2 -g 12", 24, (96, 64))
    third = child(3)
    assert third["origin"] == "scanned" and len(third["pts"]) == 24


def test_several_streams_audio_first(tmp_path):
    """An MP4 and an MKV with an audio stream first and two video streams of different sizes:
    ``streams`` lists all three, ``stream=`` picks the video stream, and each one's frames are
    PyAV's decode of that stream."""
    for ext in ("mp4", "mkv"):
        path = tmp_path / f"multi.{ext}"
        cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
               "-f", "lavfi", "-i", "sine=frequency=440:duration=1.2",
               "-f", "lavfi", "-i", "testsrc2=size=96x64:rate=25:duration=1.2,format=rgb24",
               "-f", "lavfi", "-i", "testsrc=size=64x48:rate=25:duration=0.8",
               "-map", "0:a", "-map", "1:v", "-map", "2:v", "-pix_fmt", "yuv420p",
               "-c:v", "libx264", "-preset", "ultrafast", "-bf", "2", "-c:a", "aac", str(path)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        for stream, (size, frames) in enumerate([((96, 64), 30), ((64, 48), 20)]):
            reader = gstpipe.VideoReader(path, stream=stream, index_cache=None)
            assert reader.stream == stream
            kinds = sorted(s["kind"] for s in reader.streams)
            assert kinds == ["audio", "video", "video"], reader.streams
            assert {s["codec"] for s in reader.streams} == {"h264", "aac"}
            assert (reader.width, reader.height) == size and len(reader) == frames
            ref = reference(path, stream)
            assert len(ref) == frames
            for i in random.Random(stream).sample(range(frames), 6):
                assert_planes_equal(planes_of(reader[i]), ref[i], 0, f"{ext} stream {stream} {i}")
        with pytest.raises(gstpipe.Error, match="no video stream 2: it has 2"):
            gstpipe.VideoReader(path, stream=2, index_cache=None)



def test_rotated_mp4_is_upright_by_default(tmp_path):
    """A phone-style MP4 with a 90-degree display matrix: ``rotation`` reports it, frames come
    upright by default equal to ffmpeg's auto-rotated decode (the upright reference), and
    ``upright=False`` gives the stored frames, equal to PyAV's."""
    stored = tmp_path / "stored.mp4"
    _make(stored, X264, 20, (96, 64))
    path = tmp_path / "rotated.mp4"
    done = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(stored),
                           "-c", "copy", "-metadata:s:v:0", "rotate=90", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    raw = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(path), "-f",
                          "rawvideo", "-pix_fmt", "yuv420p", "-"], capture_output=True, timeout=60)
    assert raw.returncode == 0, raw.stderr
    with av.open(str(path)) as container:
        first = next(container.decode(video=0))
        w, h = first.width, first.height
    # Turned: w rows of h; the luma plane of each yuv420p frame.
    upright_ref = np.frombuffer(raw.stdout, np.uint8).reshape(-1, w * h * 3 // 2)[:, : w * h]
    upright_ref = upright_ref.reshape(-1, w, h)
    assert upright_ref.shape[0] == 20

    reader = gstpipe.VideoReader(path, format="GRAY8", index_cache=None)
    assert reader.rotation in (90, 270) and reader.upright
    assert (reader.width, reader.height) == (h, w)
    got = reader.get_batch(list(range(20))[::-1])[::-1, :, :, 0]
    np.testing.assert_array_equal(got, upright_ref)

    as_stored = gstpipe.VideoReader(path, format="GRAY8", upright=False, index_cache=None)
    assert not as_stored.upright and as_stored.rotation == reader.rotation
    assert (as_stored.width, as_stored.height) == (w, h)
    ref = reference(str(path))
    for i in (0, 7, 19):
        np.testing.assert_array_equal(as_stored[i].array[:, :, 0], ref[i][0])


@pytest.mark.parametrize("name", ["mpeg2_interlaced.ts", "h264_interlaced.ts"])
def test_interlaced_field_order_and_deinterlacing(corpus, name):
    """Interlaced MPEG-2 (mixed) and H.264 (interleaved) in MPEG-TS: the field order is
    reported (checked against the decoder's own caps and flags through a plain pipeline);
    frames are as decoded by default (the corpus test checks them against PyAV); with
    ``deinterlace=True`` every frame equals a sequential decode of the same deinterlacing
    pipeline, in a shuffled order."""
    from conftest import frames_of

    path, ref = corpus(name)
    reader = gstpipe.VideoReader(path, format="GRAY8", index_cache=None)
    assert reader.interlace_mode in ("interleaved", "mixed")
    plain = frames_of(f"filesrc location={path} ! decodebin ! appsink sync=false")
    first = plain[0]
    assert reader.field_order in ("top-field-first", "bottom-field-first")
    done = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                           "stream=field_order", "-of", "csv=p=0", path], capture_output=True,
                          text=True, timeout=30)
    expected = {"tt": "top-field-first", "bb": "bottom-field-first",
                "tb": "top-field-first", "bt": "bottom-field-first"}.get(done.stdout.strip())
    if expected is not None and name.startswith("mpeg2"):
        assert reader.field_order == expected, (done.stdout, first)
    woven = reader.get_batch([3])[0, :, :, 0]
    np.testing.assert_array_equal(woven, ref[3][0])

    deint = gstpipe.VideoReader(path, format="GRAY8", deinterlace=True, index_cache=None)
    sequential = frames_of(f"filesrc location={path} ! decodebin ! deinterlace method=linear "
                           "fields=top ! videoconvert ! video/x-raw,format=GRAY8 ! "
                           "appsink sync=false")
    assert len(deint) == len(sequential) == len(ref)
    order = list(range(len(ref)))
    random.Random(name).shuffle(order)
    got = deint.get_batch(order)
    for k, i in enumerate(order):
        np.testing.assert_array_equal(got[k], sequential[i].array, err_msg=f"{name} frame {i}")
    assert not np.array_equal(got[order.index(3), :, :, 0], woven), "deinterlacing changed nothing"

    # RGB of interlaced frames, not deinterlaced: 4:2:0 chroma belongs to each field, which
    # videoconvert knows and the reader's own RGB conversion does not take on: frame for
    # frame what a sequential decode through videoconvert gives.
    rgb = gstpipe.VideoReader(path, format="RGB", index_cache=None)
    sequential_rgb = frames_of(f"filesrc location={path} ! decodebin ! videoconvert ! "
                               "video/x-raw,format=RGB ! appsink sync=false")
    for i in (3, 0, len(ref) - 1):
        np.testing.assert_array_equal(rgb[i].array, sequential_rgb[i].array, err_msg=f"{name} {i}")


def test_size_scales_like_a_sequential_videoscale_pipeline(corpus):
    """``size=(w, h)``: every frame equals a sequential decode through ``videoscale`` to that
    size, in a shuffled order; a zero size is refused."""
    from conftest import frames_of

    path, ref = corpus("h264_bframes.mp4")
    reader = gstpipe.VideoReader(path, format="RGB", size=(64, 40), index_cache=None)
    assert (reader.width, reader.height) == (64, 40)
    sequential = frames_of(f"filesrc location={path} ! decodebin ! videoconvert ! videoscale ! "
                           "video/x-raw,format=RGB,width=64,height=40 ! appsink sync=false")
    order = list(range(len(ref)))
    random.Random(5).shuffle(order)
    got = reader.get_batch(order)
    assert got.shape == (len(ref), 40, 64, 3)
    for k, i in enumerate(order):
        np.testing.assert_array_equal(got[k], sequential[i].array, err_msg=f"frame {i}")
    with pytest.raises(ValueError, match="size"):
        gstpipe.VideoReader(path, size=(0, 10))


@pytest.mark.parametrize("colorspace", ["bt470bg", "bt709"])
def test_rgb_agrees_with_pyav_rgb24(tmp_path, colorspace):
    """RGB from H.264 (the reader's own YUV-to-RGB conversion) against PyAV's
    ``to_ndarray("rgb24")`` (ffmpeg's swscale) of the same frames, for the matrix the file
    declares: frames in the same order, and values no further apart than two converters of
    8-bit video are (swscale gives 254, 251, 0 for the 255, 255, 0 of a yellow bar). A wrong
    frame or matrix is tens of levels off on average."""
    path = tmp_path / f"{colorspace}.mp4"
    _make(path, f"-c:v libx264 -preset ultrafast -bf 2 -g 12 -colorspace {colorspace} "
          "-color_range tv", 24, (320, 180))
    with av.open(str(path)) as container:
        want = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    reader = gstpipe.VideoReader(str(path), format="RGB", index_cache=None)
    assert len(reader) == len(want)
    order = list(range(len(want)))
    random.Random(colorspace).shuffle(order)
    got = reader.get_batch(order)
    diff = np.abs(got.astype(np.int16) - want[order].astype(np.int16))
    assert diff.mean() < 1.0, f"{colorspace}: mean difference {diff.mean():.2f} levels"
    assert np.percentile(diff, 99.9) <= 4, f"{colorspace}: {np.percentile(diff, 99.9)} levels"
    # The comparison can fail: a neighbouring frame is further off than this.
    shifted = np.abs(got[1:].astype(np.int16) - want[order][:-1].astype(np.int16))
    assert shifted.mean() > 4 * diff.mean()
