"""Threads on `workloads.gil_release` against raw threads hashing a prebuilt buffer (issue 16).

`gil_release(size)` used to build `b"\\x5a" * size` in every call, with the GIL held: as long as the
hashing itself, so 2 threads topped out near 1.3x. It now hashes one block made once per process. This
checks that threads on it scale as well as the plainest raw code: a `ThreadPoolExecutor` of 2 running
`hashlib.sha256(buffer)` over a buffer made before the timing.

Each repeat times, in ABBA order: ours sequential, ours on 2 threads, raw sequential, raw on 2 threads
(8 tasks of ~0.1 s each); speedup = sequential / threads, per side, per repeat.

Target (median): our speedup / raw speedup >= 0.97.

Run:  .venv/bin/python benchmarks/gil_release.py [--repeats N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from _stats import cell, summary

TASKS = 8


def ours(size: int) -> None:
    from concurrency_lab.workloads import gil_release

    gil_release(size)


def raw_factory(size: int):
    buffer = b"\x5a" * size  # made once, before any timing, as the raw code a learner would write

    def raw(_: int) -> None:
        hashlib.sha256(buffer).digest()

    return raw


def speedup(fn, size: int) -> float:
    t0 = time.perf_counter()
    for _ in range(TASKS):
        fn(size)
    seq = time.perf_counter() - t0
    with ThreadPoolExecutor(2) as pool:
        t0 = time.perf_counter()
        list(pool.map(fn, [size] * TASKS))
        par = time.perf_counter() - t0
    return seq / par


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    from concurrency_lab.calibration import calibrate

    size = calibrate("gil_release", 0.1)
    raw = raw_factory(size)
    ours(size), raw(size)  # warm: the block, the buffer, hashlib
    mine, theirs, ratios = [], [], []
    for r in range(args.repeats):
        sides = [("ours", ours), ("raw", raw), ("raw", raw), ("ours", ours)]
        if r % 2:
            sides.reverse()
        got: dict[str, list[float]] = {"ours": [], "raw": []}
        for name, fn in sides:
            got[name].append(speedup(fn, size))
        a, b = statistics.mean(got["ours"]), statistics.mean(got["raw"])
        mine.append(a)
        theirs.append(b)
        ratios.append(a / b)
    median = statistics.median(ratios)
    verdict = "met" if median >= 0.97 else "MISSED"
    print(f"gil_release benchmark: Python {platform.python_version()}, {TASKS} tasks of {size:,} bytes "
          f"(~0.1 s) on 2 threads, {args.repeats} ABBA repeats")
    print(f"   ours (gil_release) speedup {cell(mine)}   raw (sha256 of a prebuilt buffer) {cell(theirs)}")
    print(f"   ours / raw {cell(ratios, 1, 3)}   target >= 0.97: {verdict}")
    print(json.dumps({"benchmark": "gil_release", "ours": summary(mine), "raw": summary(theirs),
                      "ratio": summary(ratios), "all_pass": median >= 0.97}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
