"""Overhead of our runners against raw `concurrent.futures` on the same work (issue 2, item 10).

Ours and raw run ALTERNATELY in one process (the side that goes first flips
every repeat), so both see the same machine state. Each cell is the median
[min-max] over the repeats; ratios are paired per repeat, then summarised.

Targets (judged on the median):

* cpu-*-warm   processes, 2 workers, 8 x ~0.2 s pure-Python tasks:
               our speedup / raw speedup >= 0.97 (speedup = sequential wall /
               parallel wall, all three measured in the same repeat; warm pools,
               each side run twice per repeat in ABBA order so steady drift cancels;
               fresh pools for every repeat, made in an order that turns each repeat,
               so no one process's speed decides it).
               Beside it, for information, a control: raw against a second,
               identical raw pool in the same ABBA order. It should be 1; how far
               it strays is this machine's noise floor for the comparison.
               Then the paths crossed: ours' workers called as raw's map calls
               them, raw's called through ours' `call_timed`, each against raw.
               Beside each pool, the parent's and the workers' CPU per warm run.
* cpu-*-cold   the same tasks on a pool made, run and shut down inside the
               timing (`with ProcessRunner(...)` against `with ProcessPoolExecutor(...)`),
               for every start method this platform has: raw wall / our wall >= 0.97
* tiny         2,000 x `tiny` on a warm thread pool of 2:
               our per-task cost - raw per-task cost <= 3 us when raw takes
               10 us; judged as (ours - raw) / raw x 10 us, so that a VM
               running 2x slower today does not double the margin it is judged on
* io10ms       40 x `io_sleep(0.01)` on a warm thread pool of 2: ours / raw <= 1.02
* startup-*    pool start-up, 2 workers, spawn and forkserver: ours / raw <= 1.2
* worker-light a freshly started worker has imported none of pandas, matplotlib,
               ipywidgets, numpy, IPython

Run:  .venv/bin/python benchmarks/overhead.py [--small] [--repeats N] [--json PATH]

The last line of stdout is one JSON object with every figure. The exit code is 0
even when a target is missed (the script reports, people decide): look for MISSED.

Only the standard library is imported at module level on purpose: spawn and
forkserver workers re-import this file as `__mp_main__`, and anything imported
here would be paid by (and hide the cost of) both sides' workers.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import multiprocessing
import os
import platform
import statistics
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack

from _cpu import cpu_now, cpu_since
from _stats import cell, summary  # benchmarks/ is on sys.path when a script here runs

WORKERS = 2
HEAVY = ("pandas", "matplotlib", "ipywidgets", "numpy", "IPython")
#: The warm runs' sides: each pool called its own way, then each side's processes called the other's way.
PATH_SIDES = ("ours", "raw", "twin", "ours_rawpath", "raw_ourspath")
now = time.perf_counter


# -- tasks run inside our workers (shipped by value: this module is __main__) -----------

def heavy_modules(_: object = None) -> list[str]:
    """Heavy packages imported in the process that runs this."""
    import sys
    import time

    time.sleep(0.05)  # long enough that every worker of the pool gets one of these tasks
    return sorted(m for m in sys.modules if m.split(".")[0] in set(HEAVY))


def module_count(_: object = None) -> int:
    import sys

    return len(sys.modules)


# -- small helpers ---------------------------------------------------------------------

def timed(fn, *args, **kwargs) -> tuple[float, object]:
    gc.collect()
    t0 = now()
    out = fn(*args, **kwargs)
    return now() - t0, out


def alternate(repeat: int, ours, raw) -> None:
    """Run ours then raw on even repeats, raw then ours on odd ones."""
    for side in ((ours, raw) if repeat % 2 == 0 else (raw, ours)):
        side()


def raw_process_pool(ctx, workers: int, task=os.getpid) -> ProcessPoolExecutor:
    """ProcessPoolExecutor started the way ProcessRunner._warm_up starts its own:
    submit one trivial task per worker and wait, until every worker process exists
    and has answered (a briefly sleeping task makes the late worker take one)."""
    pool = ProcessPoolExecutor(workers, mp_context=ctx)
    answered: set[int] = set()
    slow = task
    while True:
        for fut in [pool.submit(slow) for _ in range(workers)]:
            answered.add(fut.result(timeout=60))
        if len(pool._processes) >= workers and answered >= set(pool._processes):
            return pool
        slow = functools.partial(_answer_after, task, 0.002)


def _answer_after(task, delay: float) -> int:
    time.sleep(delay)
    return task()


def raw_thread_pool(workers: int) -> ThreadPoolExecutor:
    """ThreadPoolExecutor with every thread started (a barrier, as ThreadRunner does)."""
    pool = ThreadPoolExecutor(workers)
    barrier = threading.Barrier(workers)
    for fut in [pool.submit(barrier.wait, 60) for _ in range(workers)]:
        fut.result()
    return pool


class Targets:
    def __init__(self) -> None:
        self.items: dict[str, dict] = {}

    def add(self, name: str, value: float, op: str, limit: float, what: str, best: float | None = None) -> str:
        """Judge the median `value`; `best` (from the fastest run of each side) is reported beside it,
        because on a shared machine interference only ever slows a run down."""
        passes = (lambda v: v >= limit) if op == ">=" else (lambda v: v <= limit)
        ok = passes(value)
        self.items[name] = {"value": value, "best_of": best, "op": op, "limit": limit, "pass": ok, "what": what}
        if ok:
            return "ok"
        if best is not None and passes(best):
            return "MISSED (best-of passes: noise?)"
        return "MISSED"


# -- 1. pool start-up and the light-worker check ----------------------------------------

def bench_startup(repeats: int, targets: Targets) -> dict:
    from concurrency_lab._worker import ready
    from concurrency_lab.config import available_start_methods
    from concurrency_lab.runners import ProcessRunner

    methods = [m for m in ("spawn", "forkserver") if m in available_start_methods()]
    out: dict = {}
    print(f"\n== Pool start-up, {WORKERS} workers (until every worker process exists; shutdown not timed) ==")
    print("   ours = ProcessRunner(2, start_method=m).start(); raw = ProcessPoolExecutor(2, mp_context) "
          "+ 2 x os.getpid until len(_processes) == 2;\n"
          "   (info) raw+import = the same raw pool, but its trivial task is concurrency_lab._worker.ready, so its\n"
          "   workers import what ours import (ours - raw+import = the runner's own code, not imports)")
    print(f"   {'method':<11} {'ours ms':<22} {'raw ms':<22} {'ours/raw':<22} {'best-of':<8} target")
    for m in methods:
        out[m] = _startup_one(m, repeats, targets, ProcessRunner, ready)
    return out


def _start_ours(runner_cls, method: str):
    runner = runner_cls(WORKERS, start_method=method)
    try:
        runner.start()
    except BaseException:
        runner.shutdown(kill=True)
        raise
    return runner


def _check_worker(runner) -> dict:
    """Outside any timing: what has a freshly started worker imported?"""
    rec = runner.run(heavy_modules, [0] * 4)
    counts = runner.run(module_count, [0] * 4)
    return {"heavy": sorted({mod for res in rec.results for mod in (res or [])}),
            "ok": rec.ok and all(res == [] for res in rec.results),
            "pids_seen": len({e.pid for e in rec.events}),
            "modules": max(c or 0 for c in counts.results)}


def _startup_one(m: str, repeats: int, targets: Targets, runner_cls, ready) -> dict:
    ctx = multiprocessing.get_context(m)
    # one discarded round each: starts the forkserver / resource tracker, warms the file cache
    _start_ours(runner_cls, m).shutdown()
    raw_process_pool(ctx, WORKERS).shutdown()

    times: dict[str, list[float]] = {"ours": [], "raw": [], "raw_import": []}
    worker_check: dict = {}
    for r in range(repeats):
        sides = ["ours", "raw", "raw_import"]
        for side in sides[r % 3:] + sides[:r % 3]:  # rotate who goes first
            if side == "ours":
                t, runner = timed(_start_ours, runner_cls, m)
                try:
                    if not worker_check:
                        worker_check = _check_worker(runner)
                finally:
                    runner.shutdown()
            else:
                t, pool = timed(raw_process_pool, ctx, WORKERS, ready if side == "raw_import" else os.getpid)
                pool.shutdown()
            times[side].append(t)
    ours_s, raw_s, rawi_s = times["ours"], times["raw"], times["raw_import"]
    ratios = [o / w for o, w in zip(ours_s, raw_s, strict=True)]
    best = min(ours_s) / min(raw_s)
    verdict = targets.add(f"startup_{m}", statistics.median(ratios), "<=", 1.2,
                          f"pool start-up {m}, {WORKERS} workers: ours / raw", best)
    print(f"   {m:<11} {cell(ours_s, 1e3, 1):<22} {cell(raw_s, 1e3, 1):<22} {cell(ratios, 1, 3):<22} "
          f"{best:<8.3f} <= 1.2   {verdict}")
    print(f"   {'':<11} (info) raw+import {cell(rawi_s, 1e3, 1)} ms; ours/(raw+import) "
          f"{cell([o / w for o, w in zip(ours_s, rawi_s, strict=True)], 1, 3)}")
    light = targets.add(f"worker_light_{m}", float(len(worker_check["heavy"])), "<=", 0,
                        f"heavy modules in a fresh {m} worker")
    print(f"   {'':<11} worker imports after start: {worker_check['modules']} modules, heavy = "
          f"{worker_check['heavy']} (from {worker_check['pids_seen']} worker pid(s))   {light}")
    return {"ours_s": summary(ours_s), "raw_s": summary(raw_s), "ratio": summary(ratios), "best_of": best,
            "raw_import_s": summary(rawi_s), "worker_modules": worker_check["modules"],
            "worker_heavy": worker_check["heavy"]}


# -- 2. CPU-bound processes: speedup against sequential ------------------------------------

def bench_cpu(repeats: int, task_s: float, tasks: int, targets: Targets) -> dict:
    from concurrency_lab.calibration import calibrate
    from concurrency_lab.config import default_start_method
    from concurrency_lab.runners import ProcessRunner
    from concurrency_lab.workloads import cpu

    methods = [m for m in dict.fromkeys([default_start_method(), "fork", "spawn"])
               if m in multiprocessing.get_all_start_methods()]
    n = calibrate("cpu", task_s)
    items = [n] * tasks
    keys = ("ours_warm", "raw_warm", "ours_cold", "raw_cold", "control", "ours_rawpath", "raw_ourspath",
            *(f"{side}_{who}_cpu" for side in PATH_SIDES for who in ("parent", "workers")))
    cols = {m: {k: [] for k in keys} for m in methods}
    seq_s: list[float] = []
    outside: dict[str, list[float]] = {m: [] for m in methods}
    print(f"\n== CPU-bound, processes, {WORKERS} workers, {tasks} tasks x ~{task_s} s (cpu({n})), "
          f"{repeats} repeats ==")
    print("   speedup = sequential loop wall / parallel wall, same repeat; warm = pools started fresh for the "
          "repeat and primed outside the timing,\n   each side run twice per repeat in ABBA order and averaged; "
          "cold = pool made, run and shut down inside the timing")

    for r in range(repeats):
        t0 = now()
        for x in items:
            cpu(x)
        seq_s.append(now() - t0)
        for m in (methods if r % 2 == 0 else methods[::-1]):
            with ExitStack() as stack:
                _cpu_repeat(r, m, *_fresh_pools(stack, m, ProcessRunner, r), items, cols[m], outside[m], ProcessRunner)

    out: dict = {"n": n, "task_s": task_s, "tasks": tasks, "sequential_s": summary(seq_s)}
    spread = max(seq_s) / min(seq_s) - 1
    out["sequential_spread"] = spread
    print(f"   sequential wall: {cell(seq_s, 1, 3)} s (~{statistics.median(seq_s) / tasks:.3f} s per task); "
          f"spread {spread:.0%}"
          f"{'  <- machine speed is drifting (shared cores): trust the paired ratios and best-of' if spread > 0.1 else ''}")
    print(f"   {'method':<11} {'pool':<5} {'ours speedup':<20} {'raw speedup':<20} {'ours/raw speedup':<22} "
          f"{'best-of':<8} target")
    for m in methods:
        out[m] = {}
        for kind in ("warm", "cold"):
            ours_sp = [s / w for s, w in zip(seq_s, cols[m][f"ours_{kind}"], strict=True)]
            raw_sp = [s / w for s, w in zip(seq_s, cols[m][f"raw_{kind}"], strict=True)]
            ratios = [o / w for o, w in zip(ours_sp, raw_sp, strict=True)]
            best = min(cols[m][f"raw_{kind}"]) / min(cols[m][f"ours_{kind}"])  # same sequential cancels out
            what = ("our speedup / raw speedup" if kind == "warm"
                    else "pool made, run and shut down: raw wall / our wall")
            verdict = ">= 0.97  " + targets.add(f"cpu_{m}_{kind}", statistics.median(ratios), ">=", 0.97,
                                                f"CPU processes {m} {kind}: {what}", best)
            print(f"   {m:<11} {kind:<5} {cell(ours_sp):<20} {cell(raw_sp):<20} {cell(ratios, 1, 3):<22} "
                  f"{best:<8.3f} {verdict}")
            out[m][kind] = {"ours_speedup": summary(ours_sp), "raw_speedup": summary(raw_sp), "best_of": best,
                            "ratio": summary(ratios), "ours_wall_s": summary(cols[m][f"ours_{kind}"]),
                            "raw_wall_s": summary(cols[m][f"raw_{kind}"])}
        control = cols[m]["control"]
        out[m]["control_raw_vs_raw"] = summary(control)
        print(f"   {'':<11} (info) control, raw / an identical raw pool, same ABBA: {cell(control, 1, 3)}; "
              f"its distance from 1 is this machine's noise floor")
        crossed = {side: cols[m][side] for side in ("ours_rawpath", "raw_ourspath")}
        out[m]["crossed_paths"] = {side: summary(v) for side, v in crossed.items()}
        print(f"   {'':<11} (info) the same processes called the other way, raw wall / its wall, same ABBA: "
              f"ours' workers through raw's map {cell(crossed['ours_rawpath'], 1, 3)}, raw's workers through "
              f"ours' call_timed {cell(crossed['raw_ourspath'], 1, 3)}")
        out[m]["cpu_ms"] = _print_cpu(cols[m])
        out[m]["ours_outside_wall_ms"] = summary([x * 1e3 for x in outside[m]])
        print(f"   {'':<11} (info) warm runner.run() time outside record.wall: {cell(outside[m], 1e3, 2)} ms per run")
    return out


def _print_cpu(c: dict) -> dict:
    """The parent's and the workers' CPU per warm run, for each pool: where a gap in the ratio comes from."""
    ms = {key[:-4]: summary([x * 1e3 for x in c[key]]) for key in c if key.endswith("_cpu")}
    for who, what in (("parent", "the parent's CPU (every thread)"), ("workers", "the 2 workers' CPU")):
        cells = ", ".join(f"{side} {cell(c[f'{side}_{who}_cpu'], 1e3, 1)}" for side in PATH_SIDES)
        print(f"   {'':<11} (info) per warm run, {what}, ms: {cells}")
    return ms


def _fresh_pools(stack: ExitStack, m: str, runner_cls, r: int) -> tuple:
    """Ours, raw and an identical raw twin, started fresh for one repeat and primed (every worker imports
    `workloads` before timing); `stack` closes them.

    Fresh for every repeat, not kept for the whole benchmark: the same tasks take 2 to 6% more or less CPU
    in one pool's workers than in another's, for the life of those processes (benchmarks/where_time_goes.py,
    benchmarks/README.md), so one pool against one pool measured those processes, not the code.
    Made in turn, the first of the three changing every repeat (`r`): a worker's speed can depend on
    what its forkserver or parent had done before forking it, so no side keeps the same place.
    """
    from concurrency_lab.workloads import cpu

    ctx = multiprocessing.get_context(m)
    makers = {"ours": lambda: runner_cls(WORKERS, start_method=m),  # `with` starts it and closes it
              "raw": lambda: raw_process_pool(ctx, WORKERS),
              "twin": lambda: raw_process_pool(ctx, WORKERS)}  # the control: the same as raw in every way
    order = list(makers)[r % 3:] + list(makers)[:r % 3]
    pools = {side: stack.enter_context(makers[side]()) for side in order}
    for side in order:
        if side == "ours":
            pools[side].run(cpu, [1000] * 4 * WORKERS)
        else:
            list(pools[side].map(cpu, [1000] * 4 * WORKERS))
    return pools["ours"], pools["raw"], pools["twin"]


def _cpu_repeat(r: int, m: str, ours, raw, twin, items: list, c: dict, outside: list, runner_cls) -> None:
    """One repeat of one start method: warm ours/raw, the raw/twin control, the two crossed paths, then
    cold ours/raw, alternating who goes first."""
    from concurrency_lab._worker import call_timed
    from concurrency_lab.workloads import cpu

    def warm(side: str) -> float:
        pool = twin if side == "twin" else raw
        pids = ours.worker_pids if side.startswith("ours") else list(pool._processes)
        before = cpu_now(pids)
        if side == "ours":
            t, rec = timed(ours.run, cpu, items)
            assert rec.ok, rec.failures[:1]
            outside.append(t - rec.wall)
        elif side == "ours_rawpath":  # ours' worker processes, called the way raw's map calls them
            t = timed(lambda: list(ours._pool.map(cpu, items)))[0]
        elif side == "raw_ourspath":  # raw's worker processes, called the way ours calls them
            t = timed(lambda: [f.result() for f in [raw.submit(call_timed, cpu, x) for x in items]])[0]
        else:
            t = timed(lambda: list(pool.map(cpu, items)))[0]
        parent, workers = cpu_since(before, pids)
        c[f"{side}_parent_cpu"].append(parent)
        c[f"{side}_workers_cpu"].append(workers)
        return t

    def abba(a: str, b: str) -> tuple[float, float]:
        """Warm runs in ABBA order (BAAB on odd repeats), each side scored by its mean:
        a machine whose speed drifts steadily during the repeat then favours neither
        side, as it would in a plain AB pair."""
        times: dict[str, list[float]] = {a: [], b: []}
        for rr in (r, r + 1):
            alternate(rr, lambda: times[a].append(warm(a)), lambda: times[b].append(warm(b)))
        return statistics.fmean(times[a]), statistics.fmean(times[b])

    def cold(side: str) -> None:
        def go():
            if side == "ours":
                with runner_cls(WORKERS, start_method=m) as runner:
                    return runner.run(cpu, items)
            with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context(m)) as pool:
                return list(pool.map(cpu, items))
        c[f"{side}_cold"].append(timed(go)[0])

    ours_s, raw_s = abba("ours", "raw")
    c["ours_warm"].append(ours_s)
    c["raw_warm"].append(raw_s)
    twin_s, raw_s = abba("twin", "raw")  # the control, scored like the target: raw wall / other wall
    c["control"].append(raw_s / twin_s)
    # The paths apart from the processes: the same processes, called the other side's way (benchmarks/README)
    for cross in ("ours_rawpath", "raw_ourspath"):
        cross_s, raw_s = abba(cross, "raw")
        c[cross].append(raw_s / cross_s)
    alternate(r, lambda: cold("ours"), lambda: cold("raw"))


# -- 3. tiny tasks on a warm thread pool: per-task cost -----------------------------------

#: Raw per-task cost of `pool.map(tiny)` on 2 threads when the target was set (9.8 us, measured then on this
#: project's 2-core CI kind of machine; this script prints today's raw figure beside it).
REFERENCE_RAW_US = 10.0

def bench_tiny(repeats: int, count: int, targets: Targets) -> dict:
    from concurrency_lab.runners import SequentialRunner, ThreadRunner
    from concurrency_lab.workloads import tiny

    items = list(range(count))
    ours_s: list[float] = []
    ours_inner: list[float] = []
    build_s: list[float] = []
    map_s: list[float] = []
    submit_s: list[float] = []
    seq_ours: list[float] = []
    seq_raw: list[float] = []
    with ThreadRunner(WORKERS) as runner, raw_thread_pool(WORKERS) as pool:
        runner.run(tiny, items[:100])
        list(pool.map(tiny, items[:100]))
        seqr = SequentialRunner()
        for r in range(repeats):
            def ours():
                t, rec = timed(runner.run, tiny, items)
                assert rec.results[-1] == items[-1] ** 2
                ours_s.append(t)
                ours_inner.append(rec.wall)
                # (info) the record's TaskEvents are built on first read (records.EventLog):
                # what reading them all costs, timed on its own after the run
                build_s.append(timed(tuple, rec.events)[0])

            def raw():
                map_s.append(timed(lambda: list(pool.map(tiny, items)))[0])
                submit_s.append(timed(lambda: [f.result() for f in [pool.submit(tiny, x) for x in items]])[0])

            alternate(r, ours, raw)
            alternate(r, lambda: seq_ours.append(timed(seqr.run, tiny, items)[0]),
                      lambda: seq_raw.append(timed(lambda: [tiny(x) for x in items])[0]))

    per = lambda xs: [x / count for x in xs]  # noqa: E731
    diffs = [(o - w) / count for o, w in zip(ours_s, map_s, strict=True)]
    # The target (3 us over a raw ~10 us per task) was set on a machine where raw
    # took 10 us. A VM's speed drifts (1-2x here), and every per-task cost drifts
    # with it, so the target is judged on the paired relative cost, scaled to that
    # 10 us reference; the absolute difference is printed beside it.
    scaled = [(o - w) / w * REFERENCE_RAW_US for o, w in zip(ours_s, map_s, strict=True)]
    best = (min(ours_s) - min(map_s)) / min(map_s) * REFERENCE_RAW_US
    verdict = targets.add("tiny_threads", statistics.median(scaled), "<=", 3.0,
                          f"{count} tiny tasks, warm thread pool of {WORKERS}: (ours - raw map) / raw x 10 us, "
                          "us per task at the reference speed", best)
    print(f"\n== {count} x tiny(x) on a warm thread pool of {WORKERS}, {repeats} repeats (us per task) ==")
    print(f"   raw list(pool.map(tiny, items))         {cell(per(map_s), 1e6)}")
    print(f"   raw submit loop + result()              {cell(per(submit_s), 1e6)}")
    print(f"   ours runner.run(tiny, items), whole call {cell(per(ours_s), 1e6)}")
    print(f"   ours, inside record.wall (submit..last) {cell(per(ours_inner), 1e6)}")
    print(f"   ours - raw map, absolute                {cell(diffs, 1e6)}")
    with_events = [(o + b - w) / w * REFERENCE_RAW_US for o, b, w in zip(ours_s, build_s, map_s, strict=True)]
    print(f"   (info) then reading every TaskEvent     {cell(per(build_s), 1e6)}   (built on first read; "
          f"whole call + that, scaled as below: {cell(with_events)})")
    print(f"   ours - raw map, scaled to raw = {REFERENCE_RAW_US:g} us   {cell(scaled)}   best-of {best:.2f}   "
          f"target <= 3.0 us   {verdict}")
    print(f"   (info) SequentialRunner {cell(per(seq_ours), 1e6)} vs plain loop {cell(per(seq_raw), 1e6)}")
    parts = tiny_breakdown(count)
    if parts:
        print("   (info) single-threaded cost of ours' per-task steps (best of 5; this machine's speed drifts ~1.5x):")
        for label, value in parts.items():
            print(f"          {label:<58} {value:8.2f} us")
    return {"count": count, "ours_us": summary([x * 1e6 for x in per(ours_s)]),
            "ours_inner_us": summary([x * 1e6 for x in per(ours_inner)]),
            "events_built_on_read_us": summary([x * 1e6 for x in per(build_s)]),
            "diff_scaled_with_events_read_us": summary(with_events),
            "raw_map_us": summary([x * 1e6 for x in per(map_s)]),
            "raw_submit_us": summary([x * 1e6 for x in per(submit_s)]),
            "diff_us": summary([x * 1e6 for x in diffs]),
            "diff_scaled_us": summary(scaled), "reference_raw_us": REFERENCE_RAW_US,
            "sequential_runner_us": summary([x * 1e6 for x in per(seq_ours)]),
            "sequential_loop_us": summary([x * 1e6 for x in per(seq_raw)]), "best_of_diff_us": best,
            "breakdown_us": parts}


def tiny_breakdown(count: int) -> dict[str, float]:
    """Time, one at a time and without threads, the steps ours adds per task (in us)."""
    import timeit
    from concurrent.futures import Future

    try:
        from concurrency_lab._worker import call_timed
        from concurrency_lab.memory import PeakMemory
        from concurrency_lab.records import RunRecord, make_event
        from concurrency_lab.workloads import tiny
    except ImportError:  # the library moved things around: skip the breakdown
        return {}

    def us(stmt, number: int = 20000, **names) -> float:
        return min(timeit.repeat(stmt, globals=names, number=number, repeat=5)) / number * 1e6

    def record() -> RunRecord:
        return RunRecord(backend="threads", max_workers=WORKERS, start_method="", workload="tiny", params={},
                         wall=0.0, startup=0.0, parent_peak_rss=0, workers_peak_rss=0, events=())

    bare = us("tiny(3)", tiny=tiny)
    return {
        "worker: call_timed(tiny, x) minus tiny(x)": us("call_timed(tiny, 3)", call_timed=call_timed, tiny=tiny) - bare,
        "  of which thread_time_ns() x 2": 2 * us("f()", f=time.thread_time_ns),
        "parent: Future.add_done_callback (only when streaming events)":
            us("f.add_done_callback(cb)", f=Future(), cb=print),
        "parent: one frozen TaskEvent (records.make_event), built when the record's events are first read":
            us("E(0, 'w0', 1, 2, 0.1, 0.2, 0.3, 0.4, 0.0, True, '')", E=make_event),
        f"parent: RunRecord + PeakMemory, once per run, / {count} tasks":
            (us("r()", 200, r=record) + us("P([]).read()", 200, P=PeakMemory)) / count,
    }


# -- 4. 10 ms tasks on 2 threads ------------------------------------------------------------

def bench_10ms(repeats: int, count: int, targets: Targets, with_cpu: bool = True) -> dict:
    from concurrency_lab.calibration import calibrate
    from concurrency_lab.runners import ThreadRunner
    from concurrency_lab.workloads import cpu, io_sleep

    n10 = calibrate("cpu", 0.01)
    cases = [("io10ms", io_sleep, 0.01, "io_sleep(0.01)"), ("cpu10ms", cpu, n10, f"cpu({n10}) ~10 ms, holds the GIL")]
    cases = cases if with_cpu else cases[:1]
    out: dict = {}
    print(f"\n== {count} x 10 ms tasks on a warm thread pool of {WORKERS}, {repeats} repeats ==")
    print(f"   {'task':<34} {'ours s':<24} {'raw map s':<24} {'ours/raw':<22} target")
    with ThreadRunner(WORKERS) as runner, raw_thread_pool(WORKERS) as pool:
        for name, fn, size, label in cases:
            ours_s, raw_s = _pairs(repeats, runner, pool, fn, [size] * count)
            ratios = [o / w for o, w in zip(ours_s, raw_s, strict=True)]
            if name == "io10ms":
                verdict = "<= 1.02  " + targets.add(name, statistics.median(ratios), "<=", 1.02,
                                                    f"{count} x io_sleep(0.01) on {WORKERS} threads: ours / raw wall")
            else:
                verdict = "(info)"
            print(f"   {label:<34} {cell(ours_s, 1, 4):<24} {cell(raw_s, 1, 4):<24} {cell(ratios, 1, 3):<22} {verdict}")
            out[name] = {"task": label, "ours_s": summary(ours_s), "raw_s": summary(raw_s), "ratio": summary(ratios)}
    return out


def _pairs(repeats: int, runner, pool, fn, items: list) -> tuple[list[float], list[float]]:
    """Walls of runner.run(fn, items) and list(pool.map(fn, items)), alternating."""
    ours_s: list[float] = []
    raw_s: list[float] = []
    for r in range(repeats):
        alternate(r, lambda: ours_s.append(timed(runner.run, fn, items)[0]),
                  lambda: raw_s.append(timed(lambda: list(pool.map(fn, items)))[0]))
    return ours_s, raw_s


# -- main ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="fewer repeats and shorter tasks (CI smoke, < 30 s)")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per comparison (default 7, --small 3)")
    parser.add_argument("--json", metavar="PATH", default=None, help="also write the JSON summary to PATH")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.small else 7)
    if repeats < 1:
        parser.error("--repeats: must be >= 1")

    from concurrency_lab.config import default_start_method

    t_start = now()
    load0 = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"concurrency_lab overhead benchmark: Python {platform.python_version()}, {os.cpu_count()} logical cores, "
          f"{WORKERS} workers, default start method {default_start_method()}, repeats {repeats}"
          f"{', SMALL' if args.small else ''}; load average at start {load0}")
    targets = Targets()
    results = {
        "startup": bench_startup(repeats if args.small else 2 * repeats, targets),
        "cpu": bench_cpu(repeats, 0.03 if args.small else 0.2, 8, targets),
        "tiny": bench_tiny(3 * repeats, 2000, targets),
        "ten_ms": bench_10ms(repeats, 40, targets, with_cpu=not args.small),
    }
    leftover = multiprocessing.active_children()
    load1 = os.getloadavg() if hasattr(os, "getloadavg") else None
    elapsed = now() - t_start

    print("\n== Targets ==")
    for name, t in targets.items.items():
        mark = "ok    " if t["pass"] else "MISSED"
        print(f"   {mark} {name:<22} {t['value']:.3f} {t['op']} {t['limit']}   ({t['what']})")
    missed = [k for k, t in targets.items.items() if not t["pass"]]
    print(f"   {'ALL TARGETS MET' if not missed else 'MISSED: ' + ', '.join(missed)}; "
          f"child processes left open: {len(leftover)}; load average at end {load1}; {elapsed:.1f} s")

    doc = {"benchmark": "overhead", "python": platform.python_version(), "cores": os.cpu_count(),
           "workers": WORKERS, "repeats": repeats, "small": args.small, "elapsed_s": elapsed,
           "loadavg_start": load0, "loadavg_end": load1, "children_left": len(leftover),
           "targets": targets.items, "all_pass": not missed, "results": results}
    line = json.dumps(doc, sort_keys=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(line + "\n")
    sys.stdout.flush()
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
