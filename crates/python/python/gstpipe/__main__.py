"""``python -m gstpipe``: run a pipeline and print every frame its appsink receives.

The same output as the ``gstpipe launch`` command: one line per frame (index, pts, format,
array shape, sample type) and a summary, or NDJSON with ``--json``; with ``--reconnect`` a
``gstpipe.Live`` source, its health events between the frames. Exit status: 0 at end of
stream, 1 when the pipeline fails, 2 for usage errors, bad descriptions and unknown elements.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import List, Optional

from . import Error, Frame, GaveUpError, HealthEvent, Live, ParseError, Pipeline, PipelineError

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
    parser.add_argument("--timeout", type=float, default=None, metavar="SECS",
                        help="fail when no frame arrives for SECS seconds (default 10)")
    parser.add_argument("--reconnect", action="store_true",
                        help="keep a live source going: rebuild the pipeline after an error, "
                        "end of stream or stall (with backoff) and print health events "
                        "between the frames")
    parser.add_argument("--reconnect-delay", type=float, metavar="SECS",
                        help="with --reconnect, the first delay before rebuilding (doubling "
                        "up to 30 s; default 0.5)")
    parser.add_argument("--max-reconnects", type=int, metavar="N",
                        help="with --reconnect, give up (exit 1) after N attempts in a row "
                        "without a frame")
    parser.add_argument("--stall", type=float, metavar="SECS",
                        help="with --reconnect, rebuild when no frame arrives for SECS "
                        "seconds (default 5)")
    return parser


# How many frames wait for printing before the oldest is dropped, as in the CLI.
_LIVE_CAPACITY = 64


def _event_json(event: HealthEvent) -> dict:
    """A health event as the CLI prints it: ``event`` and its fields."""
    value: dict = {"event": event.kind}
    if event.kind == "connected":
        value["generation"] = event.generation
    elif event.kind == "disconnected":
        value["generation"] = event.generation
        value["error"] = str(event.error)
        element = getattr(event.error, "element", None)
        if element is not None:
            value["element"] = element
    elif event.kind == "reconnecting":
        value["attempt"] = event.attempt
        value["delay_s"] = event.delay
    elif event.kind == "reconnected":
        value["generation"] = event.generation
        value["gap_s"] = event.gap
    elif event.kind == "gave_up":
        value["attempts"] = event.attempt
        value["error"] = str(event.error)
    return value


def run_live(args: argparse.Namespace) -> int:
    """``--reconnect``: frames and health events of a ``Live`` source, as the CLI prints
    them."""
    out = sys.stdout
    frames = 0
    nbytes = 0
    stall = args.stall if args.stall is not None else args.timeout
    try:
        live = Live(
            args.pipeline,
            sink=args.sink,
            reconnect_delay=args.reconnect_delay if args.reconnect_delay is not None else 0.5,
            max_reconnects=args.max_reconnects,
            stall=stall if stall is not None else 5.0,
            capacity=_LIVE_CAPACITY,
            events=True,
        )
    except (Error, ValueError) as e:
        # A description that cannot work at all (syntax, unknown element, no appsink) or a
        # setting out of range: a usage error, as in the CLI.
        print(f"gstpipe: error: {e}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    gave_up = None
    with live:
        try:
            for item in live:
                if isinstance(item, HealthEvent):
                    line = _dumps(_event_json(item)) if args.json else f"-- {item}"
                    out.write(line + "\n")
                    out.flush()
                    continue
                report = _report(item, item.index, args.copy)
                if not args.quiet:
                    if args.json:
                        report["wall_ns"] = item.wall_ns
                        report["time_source"] = item.time_source
                        report["generation"] = item.generation
                        report["after_gap"] = item.after_gap
                        line = _dumps(report)
                    else:
                        line = f"{_line(report)}  gen {item.generation}  wall {item.wall_time:.6f}"
                    out.write(line + "\n")
                frames += 1
                nbytes += report["bytes"]
                if args.max_frames is not None and frames >= args.max_frames:
                    break
        except GaveUpError as e:
            gave_up = e
        except KeyboardInterrupt:
            pass  # Ctrl-C stops the source: the summary follows
        stats = live.stats
    seconds = time.perf_counter() - start
    if args.json:
        summary = json.loads(_summary(frames, nbytes, seconds, True))
        summary["dropped"] = stats["dropped"]
        summary["reconnects"] = stats["reconnects"]
        out.write(_dumps(summary) + "\n")
    else:
        out.write(
            f"{_summary(frames, nbytes, seconds, False)}; {stats['dropped']} dropped, "
            f"{stats['reconnects']} reconnects\n"
        )
    out.flush()
    if gave_up is not None:
        attempts = gave_up.attempts
        plural = "" if attempts == 1 else "s"
        print(
            f"gstpipe: error: gave up after {attempts} reconnection attempt{plural}: "
            f"{gave_up.last_error}",
            file=sys.stderr,
        )
        return 1
    return 0


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
            timeout = args.timeout if args.timeout is not None else 10.0
            for index, frame in enumerate(pipeline.frames(sink=args.sink, timeout=timeout)):
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
    live_only = [
        flag for flag, value in (("--reconnect-delay", args.reconnect_delay),
                                 ("--max-reconnects", args.max_reconnects),
                                 ("--stall", args.stall))
        if value is not None
    ]
    if args.max_reconnects is not None and args.max_reconnects < 1:
        print("gstpipe: error: --max-reconnects must be at least 1", file=sys.stderr)
        return 2
    if live_only and not args.reconnect:
        print(f"gstpipe: error: {live_only[0]} needs --reconnect", file=sys.stderr)
        return 2
    try:
        if args.reconnect:
            return run_live(args)
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
