"""``python -m gstpipe``: run a pipeline and print every frame its appsink receives.

The same output as the ``gstpipe launch`` command: one line per frame (index, pts, format,
array shape, sample type) and a summary, or NDJSON with ``--json``. Exit status: 0 at end of
stream, 1 when the pipeline fails, 2 for usage errors, bad descriptions and unknown elements.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import List, Optional

from . import Error, Frame, ParseError, Pipeline, PipelineError

DEFAULT_PIPELINE = (
    "videotestsrc num-buffers=100 ! capsfilter "
    "caps=video/x-raw,format=RGB,width=640,height=480 ! appsink emit-signals=True"
)

_DTYPES = {"uint8": "u8", "uint16": "u16", ">u2": "u16", "<u2": "u16"}


def _clock(ns: Optional[int]) -> str:
    """GStreamer's clock time notation, ``0:00:00.033333333``."""
    if ns is None:
        return "none"
    seconds, frac = divmod(ns, 1_000_000_000)
    minutes, sec = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02}:{sec:02}.{frac:09}"


def _report(frame: Frame, index: int, copy: bool) -> dict:
    """What is printed about one frame, as the NDJSON object."""
    report: dict = {
        "index": index,
        "pts_ns": frame.pts_ns,
        "format": frame.format,
        "width": frame.width,
        "height": frame.height,
    }
    shapes = [list(s) for s in frame.shapes]
    if not shapes:
        report["shape"] = None
        report["plane_bytes"] = frame.plane_nbytes
        dtype = "none"
    elif len(shapes) == 1 and _packed(frame):
        array = frame.copy() if copy else frame.array
        report["shape"] = list(array.shape)
        dtype = _DTYPES.get(array.dtype.str.lstrip("|"), _DTYPES.get(str(array.dtype), "u8"))
    else:
        planes = frame.planes
        if copy:
            planes = [p.copy() for p in planes]
        report["planes"] = [list(p.shape) for p in planes]
        dtype = _DTYPES.get(str(planes[0].dtype), "u16")
    report["dtype"] = dtype
    report["bytes"] = frame.nbytes
    detections = frame.detections
    if detections:
        report["detections"] = detections
    return report


def _packed(frame: Frame) -> bool:
    try:
        frame.array
    except Error:
        return False
    return True


def _line(report: dict) -> str:
    if "planes" in report:
        shape = "[" + ", ".join(_shape(p) for p in report["planes"]) + "]"
    elif report["shape"] is None:
        shape = f"plane bytes {report['plane_bytes']}"
    else:
        shape = _shape(report["shape"])
    line = (
        f"frame {report['index']}  pts {_clock(report['pts_ns'])}  {report['format']}  "
        f"{shape}  {report['dtype']}"
    )
    n = len(report.get("detections", []))
    if n == 1:
        line += "  1 detection"
    elif n > 1:
        line += f"  {n} detections"
    return line


def _shape(shape: List[int]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _dumps(value: dict) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _summary(frames: int, nbytes: int, seconds: float, as_json: bool) -> str:
    fps = frames / seconds if seconds > 0 else 0.0
    mb = nbytes / 1e6 / seconds if seconds > 0 else 0.0
    if as_json:
        return _dumps(
            {"frames": frames, "seconds": seconds, "fps": fps, "bytes": nbytes, "mb_per_s": mb}
        )
    return f"{frames} frames in {seconds:.3f} s: {fps:.1f} fps, {mb:.1f} MB/s"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gstpipe",
        description="Run a GStreamer pipeline and print every frame its appsink receives "
        "(the same output as `gstpipe launch`).",
        epilog="Exit status: 0 at end of stream; 1 when the pipeline fails; 2 for usage "
        "errors, pipeline syntax errors and unknown elements.",
    )
    parser.add_argument("-p", "--pipeline", default=DEFAULT_PIPELINE, metavar="PIPELINE",
                        help="the pipeline, in gst-launch-1.0 syntax")
    parser.add_argument("--sink", metavar="NAME",
                        help="the appsink to read when there are several")
    parser.add_argument("-q", "--quiet", action="store_true", help="only the summary")
    parser.add_argument("--json", action="store_true", help="NDJSON instead of text")
    parser.add_argument("--copy", action="store_true",
                        help="take an owned copy of each frame instead of a zero-copy view")
    parser.add_argument("--max-frames", type=int, metavar="N",
                        help="stop gracefully after N frames")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECS",
                        help="fail when no frame arrives for SECS seconds (default 10)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Runs the launcher with parsed arguments; returns the exit status."""
    out = sys.stdout
    frames = 0
    nbytes = 0
    with Pipeline(args.pipeline) as pipeline:
        start = time.perf_counter()  # as the CLI: from the start, not the parsing
        has_appsink = args.sink is not None or bool(pipeline.appsinks)
        if not has_appsink:
            pipeline.play()
            pipeline.wait()
        else:
            for index, frame in enumerate(pipeline.frames(sink=args.sink, timeout=args.timeout)):
                report = _report(frame, index, args.copy)
                if not args.quiet:
                    out.write((_dumps(report) if args.json else _line(report)) + "\n")
                frames += 1
                nbytes += report["bytes"]
                if args.max_frames is not None and frames >= args.max_frames:
                    break
    out.write(_summary(frames, nbytes, time.perf_counter() - start, args.json) + "\n")
    out.flush()
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """The ``python -m gstpipe`` entry point."""
    args = _parser().parse_args(argv)
    if args.max_frames is not None and args.max_frames < 1:
        print("gstpipe: error: --max-frames must be at least 1", file=sys.stderr)
        return 2
    try:
        return run(args)
    except ParseError as e:
        print(f"gstpipe: error: {e}", file=sys.stderr)
        return 2
    except (PipelineError, Error) as e:
        print(f"gstpipe: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
