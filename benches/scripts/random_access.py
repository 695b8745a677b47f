#!/usr/bin/env python3
"""Random access to a video file with OpenCV and decord: time and exactness.

Reads the same frame indices as the `video_reader` criterion bench
(benches/benches/video_reader.rs, RANDOM_INDICES) from the same file, with

- OpenCV: `cap.set(cv2.CAP_PROP_POS_FRAMES, i); cap.read()` per index, in the order given;
- decord: `vr[i]` per index in the order given, and `vr.get_batch(indices)`;

and checks each frame against the same library's own sequential decode of the file (frame i
= the i-th frame read from the start), so exactness is judged by each library's own standard.

Usage: random_access.py FILE [REPEATS]. Needs `opencv-python-headless` and/or `decord` (pip);
a library that is missing is reported as such. Prints one JSON object.
"""

import hashlib
import json
import statistics
import sys
import time

INDICES = [1234, 77, 1799, 903, 450, 1501, 12, 1020, 666, 1350]


def digest(array):
    return hashlib.sha1(array.tobytes()).hexdigest()


def timed(fn, repeats):
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), result


def opencv(path, repeats):
    import cv2

    def sequential_digests():
        cap = cv2.VideoCapture(path)
        wanted = set(INDICES)
        out = {}
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if i in wanted:
                out[i] = digest(frame)
            i += 1
        return out, i

    def random_reads():
        cap = cv2.VideoCapture(path)
        out = {}
        for i in INDICES:
            cap.set(cv2.CAP_PROP_POS_FRAMES, i)
            ok, frame = cap.read()
            out[i] = digest(frame) if ok else None
        return out

    reference, count = sequential_digests()
    median, best, got = timed(random_reads, repeats)
    wrong = [i for i in INDICES if got.get(i) != reference.get(i)]
    return {
        "version": cv2.__version__,
        "frames_counted_sequentially": count,
        "frame_count_property": int(cv2.VideoCapture(path).get(cv2.CAP_PROP_FRAME_COUNT)),
        "random_10_median_s": median,
        "random_10_best_s": best,
        "wrong_frames": wrong,
    }


def decord_(path, repeats):
    import decord

    vr = decord.VideoReader(path, ctx=decord.cpu(0))
    wanted = set(INDICES)
    reference = {}
    for i in range(len(vr)):
        frame = vr.next().asnumpy()
        if i in wanted:
            reference[i] = digest(frame)

    def each():
        r = decord.VideoReader(path, ctx=decord.cpu(0))
        return {i: digest(r[i].asnumpy()) for i in INDICES}

    def batch():
        r = decord.VideoReader(path, ctx=decord.cpu(0))
        frames = r.get_batch(INDICES).asnumpy()
        return {i: digest(frames[k]) for k, i in enumerate(INDICES)}

    median_each, best_each, got_each = timed(each, repeats)
    median_batch, best_batch, got_batch = timed(batch, repeats)
    return {
        "version": decord.__version__,
        "len": len(vr),
        "random_10_each_median_s": median_each,
        "random_10_each_best_s": best_each,
        "wrong_frames_each": [i for i in INDICES if got_each[i] != reference.get(i)],
        "random_10_batch_median_s": median_batch,
        "random_10_batch_best_s": best_batch,
        "wrong_frames_batch": [i for i in INDICES if got_batch[i] != reference.get(i)],
    }


def main():
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    report = {"file": path, "indices": INDICES, "repeats": repeats}
    for name, fn in (("opencv", opencv), ("decord", decord_)):
        try:
            report[name] = fn(path, repeats)
        except ImportError as e:
            report[name] = {"unavailable": str(e)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
