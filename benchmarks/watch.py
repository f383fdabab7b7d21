"""What watching costs (issue 15): the same programs timed watched and unwatched, side by side in one run.

Programs (each about half a second to a second):

* threads      2 CPU-bound threads (ThreadPoolExecutor, 4 x pure-Python work)
* processes    2 worker processes (ProcessPoolExecutor, forkserver where there is one, 4 x the same work)
* sleepers     200 threads that each sleep 0.5 s
* gather       an asyncio gather of 1,000 sleeps of 0.5 s

Each repeat runs every program unwatched and watched in ABBA order (A B B A, the first side flipping every
repeat), so a machine that slows down hurts both alike. The program's own wall time is what is compared,
timed inside the `with cl.watch()` block: the sampler's start and end are the watch's cost, not the
program's, and are printed apart.

Beside each ratio, a control: the same program unwatched against itself, timed in the same ABBA pattern
right after. It costs nothing to watch, so how far its median strays from 1 is what this machine's noise
alone does to a median of that many repeats; a ratio closer to 1.03 than that is not resolved by the run.

Targets (judged on the median):

* watched / unwatched wall <= 1.03 for each program
* the sampler's own CPU while sampling <= 3% of one core, at >= 200 samples a second (the default rate)

Run:  .venv/bin/python benchmarks/watch.py [--repeats N] [--json PATH]
The last line of stdout is one JSON object with every figure; MISSED marks a target not met.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import platform
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial

from _stats import cell, summary

#: Pure-Python steps per task: about 0.25 s here, so a program runs about a second and the watch's
#: own start-up costs (its first look at the threads and processes) weigh as they would in a lesson.
STEPS = 2_500_000
#: How long each sleeping thread and each awaited sleep lasts.
SLEEP_S = 0.5


def spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def threads() -> None:
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(spin, [STEPS] * 4))


def processes() -> None:
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(method)) as pool:
        list(pool.map(spin, [STEPS] * 4))


def sleepers() -> None:
    ts = [threading.Thread(target=time.sleep, args=(SLEEP_S,)) for _ in range(200)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)


def gather() -> None:
    async def main() -> None:
        await asyncio.gather(*(asyncio.sleep(SLEEP_S) for _ in range(1000)))

    asyncio.run(main())


PROGRAMS = {"threads": threads, "processes": processes, "sleepers": sleepers, "gather": gather}


def timed(program, watched: bool, extras: dict[str, list[float]], name: str = "") -> float:
    import concurrency_lab as cl

    if not watched:
        t0 = time.perf_counter()
        program()
        return time.perf_counter() - t0
    w0 = time.perf_counter()
    with cl.watch() as w:
        t0 = time.perf_counter()
        program()
        wall = time.perf_counter() - t0
    extras["watch_total_s"].append(time.perf_counter() - w0 - wall)
    extras["sampler_share"].append(w.record.sampler_cpu_s / w.record.wall)
    extras.setdefault(f"share_{name}", []).append(w.record.sampler_cpu_s / w.record.wall)
    extras["rate"].append(w.record.rate)
    return wall


#: A Python that does nothing but wake 200 times a second for 2 s, in a process of its own as the sampler is:
#: what waking alone costs on this machine (a VM's timers cost more than bare metal's), under any sampler.
FLOOR = ("import time\nc, t = time.process_time(), time.perf_counter()\nn = t\n"
         "while n < t + 2:\n    n += 0.005\n    time.sleep(max(n - time.perf_counter(), 0))\n"
         "print((time.process_time() - c) / (time.perf_counter() - t))")


def wake_floor() -> float:
    """The share of a core that `FLOOR` used."""
    done = subprocess.run([sys.executable, "-c", FLOOR], capture_output=True, text=True, timeout=30, check=True)
    return float(done.stdout)


def abba(r: int, first, second) -> tuple[float, float]:
    """The mean walls of `first` and `second`, run A B B A, the side that starts flipping every repeat."""
    walls: dict[bool, list[float]] = {False: [], True: []}
    for side in ((False, True, True, False) if r % 2 == 0 else (True, False, False, True)):
        walls[side].append((second if side else first)())
    return statistics.mean(walls[False]), statistics.mean(walls[True])


def bench(repeats: int) -> dict:
    out: dict = {}
    extras: dict[str, list[float]] = {"watch_total_s": [], "sampler_share": [], "rate": []}
    print(f"   {'program':<11} {'unwatched s':<20} {'watched s':<20} {'watched/unwatched':<22} target")
    for name, program in PROGRAMS.items():
        program()  # warm: imports, first pool
        plain, seen, ratios, control = [], [], [], []
        plain_run = partial(timed, program, False, extras)
        for r in range(repeats):
            a, b = abba(r, plain_run, partial(timed, program, True, extras, name))
            plain.append(a)
            seen.append(b)
            ratios.append(b / a)
            a, b = abba(r, plain_run, plain_run)
            control.append(b / a)
        median, noise = statistics.median(ratios), abs(statistics.median(control) - 1)
        verdict = "met" if median <= 1.03 else "MISSED"
        if abs(median - 1.03) <= noise:
            verdict += " (within the control's noise)"
        print(f"   {name:<11} {cell(plain, 1, 3):<20} {cell(seen, 1, 3):<20} {cell(ratios, 1, 3):<22} "
              f"<= 1.03  {verdict}")
        print(f"   {'':<11} control, unwatched / unwatched: {cell(control, 1, 3)}; "
              f"sampler: {cell(extras[f'share_{name}'], 100, 1)} % of a core")
        out[name] = {"unwatched": summary(plain), "watched": summary(seen), "ratio": summary(ratios),
                     "control": summary(control), "met": median <= 1.03}
    share, rate = statistics.median(extras["sampler_share"]), statistics.median(extras["rate"])
    ok = share <= 0.03 and rate >= 200
    print(f"   sampler CPU while sampling: {cell(extras['sampler_share'], 100, 2)} % of one core at "
          f"{cell(extras['rate'], 1, 0)} samples/s; target <= 3% at >= 200/s: {'met' if ok else 'MISSED'}")
    floor = [wake_floor() for _ in range(3)]
    print(f"   (info) the floor: a Python that only sleeps and wakes at that rate uses {cell(floor, 100, 2)} % of a core")
    print(f"   the watch's own start and end (not in the walls above): {cell(extras['watch_total_s'], 1e3, 0)} ms")
    out["sampler"] = {"cpu_share": summary(extras["sampler_share"]), "rate": summary(extras["rate"]), "met": ok,
                      "start_and_end_s": summary(extras["watch_total_s"]), "wake_floor": summary(floor)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    print(f"concurrency_lab watch benchmark: Python {platform.python_version()}, {sys.platform}, "
          f"{multiprocessing.cpu_count()} logical cores, {args.repeats} ABBA repeats")
    results = bench(args.repeats)
    missed = [k for k, v in results.items() if not v["met"]]
    print(f"   {'ALL TARGETS MET' if not missed else 'MISSED: ' + ', '.join(missed)}")
    doc = {"benchmark": "watch", "python": platform.python_version(), "results": results, "all_pass": not missed}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2)
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
