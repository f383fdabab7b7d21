"""Dask (LocalCluster) against local processes (forkserver) on the same work (issue 7, item 1).

Both backends run through our runners, so they are measured the same way, and
ALTERNATELY in one process (the side that goes first flips every repeat), so
both see the same machine state. Each cell is the median [min-max] over the
repeats; ratios are paired per repeat, then summarised.

Each repeat runs the sequential loop with no pool alive, then, for each
backend in turn, starts a pool, measures it warm, and shuts it down: only
one pool exists at a time (an idle LocalCluster slows a process pool beside
it: its scheduler runs in this process).

* startup   `runner.start()` with 2 workers: every worker up and answering
            (dask: a LocalCluster, its scheduler and 2 worker processes, and
            the client); shutdown is timed apart, as information.
* tiny      N x `tiny` on the warm pool: record.wall / N, the cost of one task
            when the work itself is nothing (submit, schedule, run, return).
* cpu       8 x ~0.2 s of pure-Python `cpu` on the warm pool of 2:
            speedup = sequential loop wall / parallel wall, same repeat.
            "with start-up" adds that repeat's measured start-up of the same
            backend: what one cold run would show.

Run:  .venv/bin/python benchmarks/dask_overhead.py [--small] [--repeats N] [--json PATH]

The last line of stdout is one JSON object with every figure. There are no
targets: the figures are for the lesson, which shows what Dask's scheduling
costs next to a local pool and what it buys.

Only the standard library is imported at module level on purpose: dask's
spawned workers and the forkserver re-import this file as `__mp_main__`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

from _stats import cell, summary

WORKERS = 2
BACKENDS = ("dask", "processes")  # processes = ProcessRunner with forkserver
now = time.perf_counter


def make(backend: str):
    """A runner of `backend` with WORKERS workers (not started)."""
    from concurrency_lab.runners import make_runner

    if backend == "processes":
        return make_runner("processes", WORKERS, start_method="forkserver")
    return make_runner("dask", WORKERS)


def in_turn(repeat: int, step: Callable[[str], None]) -> None:
    """Run `step` for each backend, flipping which goes first every repeat."""
    for backend in (BACKENDS if repeat % 2 == 0 else BACKENDS[::-1]):
        gc.collect()
        time.sleep(SETTLE_S)
        step(backend)


#: Pause before each side: the other side's pool has just shut down (its
#: processes are gone, but the OS and the allocator may still be busy).
SETTLE_S = 0.2


class Figures:
    """Every measurement, one list per (figure, backend), filled repeat by repeat."""

    def __init__(self) -> None:
        self.sequential: list[float] = []
        self.data: dict[str, dict[str, list[float]]] = {}

    def add(self, name: str, backend: str, value: float) -> None:
        self.data.setdefault(name, {b: [] for b in BACKENDS})[backend].append(value)

    def __getitem__(self, name: str) -> dict[str, list[float]]:
        return self.data[name]


def one_side(backend: str, tiny_items: list, cpu_items: list, figures: Figures) -> None:
    """Start a pool, measure it warm on tiny and on CPU work, shut it down.

    Only one pool exists at a time: an idle LocalCluster next to a process
    pool slowed the pool's tiny tasks by up to 2x here (its scheduler runs in
    this process and its workers heartbeat), which is no fair comparison.
    """
    from concurrency_lab.workloads import cpu, tiny

    runner = make(backend)
    try:
        figures.add("startup", backend, runner.start())
        runner.run(tiny, tiny_items[:4 * WORKERS])  # each worker imports the workloads module: not timed
        rec = runner.run(tiny, tiny_items)
        assert rec.ok and rec.results[-1] == tiny_items[-1] ** 2, rec.failures[:1]
        figures.add("tiny_per_task", backend, rec.wall / len(tiny_items))
        figures.add("tiny_submit_to_start", backend, statistics.median(e.start - e.submit for e in rec.events))
        figures.add("tiny_raw_per_task", backend, raw_tiny(runner, tiny_items) / len(tiny_items))
        rec = runner.run(cpu, cpu_items)
        assert rec.ok, rec.failures[:1]
        figures.add("cpu_wall", backend, rec.wall)
        parts = rec.overhead()
        figures.add("cpu_hops", backend, (parts["dispatch"] + parts["collection"]) / len(cpu_items))
        figures.add("cpu_share", backend, sum(e.cpu for e in rec.events) / sum(e.end - e.start for e in rec.events))
    finally:
        t0 = now()
        runner.shutdown()
        figures.add("shutdown", backend, now() - t0)


def raw_tiny(runner, items: list) -> float:
    """Seconds for the same tiny tasks through the runner's own executor, bypassing the runner:
    a submit loop, then every result in order. Shows what is dask's (or the pool's) and what is ours."""
    from concurrency_lab._worker import call_timed
    from concurrency_lab.workloads import tiny

    executor = runner._pool.executor if runner.backend == "dask" else runner._pool
    t0 = now()
    futures = [executor.submit(call_timed, tiny, x) for x in items]
    for fut in futures:
        fut.result(timeout=300)
    return now() - t0


def measure(repeats: int, tiny_items: list, cpu_items: list) -> Figures:
    """Every repeat: the sequential loop (no pool alive), then each backend in turn."""
    from concurrency_lab.workloads import cpu

    for backend in BACKENDS:  # one discarded round each: imports, the forkserver, the file cache
        one_side(backend, tiny_items[:20], cpu_items[:1], Figures())
    figures = Figures()
    for r in range(repeats):
        t0 = now()
        for x in cpu_items:
            cpu(x)
        figures.sequential.append(now() - t0)
        in_turn(r, lambda b: one_side(b, tiny_items, cpu_items, figures))
        print(f"   repeat {r + 1}/{repeats} done", file=sys.stderr, flush=True)
    return figures


def ratio(pair: dict[str, list[float]]) -> list[float]:
    return [d / p for d, p in zip(pair["dask"], pair["processes"], strict=True)]


def report_startup(f: Figures) -> dict:
    print(f"\n== Start-up, {WORKERS} workers (s): from nothing to every worker answering ==")
    print(f"   {'backend':<22} {'start-up s':<24} {'shutdown s (info)':<24}")
    for b in BACKENDS:
        print(f"   {label(b):<22} {cell(f['startup'][b], 1, 3):<24} {cell(f['shutdown'][b], 1, 3):<24}")
    print(f"   dask / processes start-up: {cell(ratio(f['startup']), 1, 1)} x")
    return {"start_s": {b: summary(f["startup"][b]) for b in BACKENDS},
            "shutdown_s": {b: summary(f["shutdown"][b]) for b in BACKENDS},
            "dask_over_processes": summary(ratio(f["startup"]))}


def report_tiny(f: Figures, count: int) -> dict:
    per, wait, raw = f["tiny_per_task"], f["tiny_submit_to_start"], f["tiny_raw_per_task"]
    print(f"\n== {count} x tiny(x) on a warm pool of {WORKERS} ==")
    print("   per task = record.wall / tasks (first submit .. last collection): the cost of a task that does nothing")
    print("   submit->start = median over tasks of submit .. the worker starting it (info: includes queueing)")
    print("   raw executor = the same tasks through the pool's own Executor.submit, no runner (info)")
    print(f"   {'backend':<22} {'per task us':<26} {'raw executor us (info)':<26} {'submit->start ms (info)':<26}")
    for b in BACKENDS:
        print(f"   {label(b):<22} {cell(per[b], 1e6, 1):<26} {cell(raw[b], 1e6, 1):<26} {cell(wait[b], 1e3, 2):<26}")
    print(f"   dask / processes per-task cost: {cell(ratio(per), 1, 1)} x")
    return {"count": count, "per_task_us": {b: summary([x * 1e6 for x in per[b]]) for b in BACKENDS},
            "submit_to_start_ms": {b: summary([x * 1e3 for x in wait[b]]) for b in BACKENDS},
            "raw_executor_per_task_us": {b: summary([x * 1e6 for x in raw[b]]) for b in BACKENDS},
            "dask_over_processes": summary(ratio(per))}


def report_cpu(f: Figures, n: int, task_s: float, tasks: int) -> dict:
    seq, wall, start = f.sequential, f["cpu_wall"], f["startup"]
    speedup = {b: [s / w for s, w in zip(seq, wall[b], strict=True)] for b in BACKENDS}
    cold = {b: [s / (w + st) for s, w, st in zip(seq, wall[b], start[b], strict=True)] for b in BACKENDS}
    print(f"\n== CPU-bound, {tasks} tasks x ~{task_s} s (cpu({n})), warm pool of {WORKERS} ==")
    print(f"   sequential loop wall: {cell(seq, 1, 3)} s; speedup = that / the pool's record.wall, same repeat;")
    print("   with start-up (info) = that / (record.wall + the same repeat's start-up): one cold run")
    print("   hops (info) = record.overhead() dispatch + collection per task: getting it there and back")
    print("   cpu share (info) = task CPU time / task wall time: below 1, something else took the core")
    hops, share = f["cpu_hops"], f["cpu_share"]
    print(f"   {'backend':<22} {'wall s':<22} {'speedup':<18} {'with start-up':<18} {'hops ms':<20} cpu share")
    for b in BACKENDS:
        print(f"   {label(b):<22} {cell(wall[b], 1, 3):<22} {cell(speedup[b]):<18} {cell(cold[b]):<18} "
              f"{cell(hops[b], 1e3, 1):<20} {cell(share[b])}")
    paired = ratio(speedup)
    print(f"   dask speedup / processes speedup: {cell(paired, 1, 3)}")
    return {"n": n, "task_s": task_s, "tasks": tasks, "sequential_s": summary(seq),
            "wall_s": {b: summary(wall[b]) for b in BACKENDS}, "speedup": {b: summary(speedup[b]) for b in BACKENDS},
            "speedup_with_startup": {b: summary(cold[b]) for b in BACKENDS}, "dask_over_processes": summary(paired),
            "hops_ms_per_task": {b: summary([x * 1e3 for x in hops[b]]) for b in BACKENDS},
            "cpu_share": {b: summary(share[b]) for b in BACKENDS}}


def label(backend: str) -> str:
    return "dask (LocalCluster)" if backend == "dask" else "processes:forkserver"


def machine() -> dict:
    import distributed

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "usable": len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity") else os.cpu_count(), "platform": platform.platform(),
            "distributed": distributed.__version__, "load_avg_1m": os.getloadavg()[0] if hasattr(os, "getloadavg")
            else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="fewer repeats and tasks (CI, a quick look)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--tiny", type=int, default=None, help="tiny tasks per run (default 400; small 100)")
    parser.add_argument("--task-s", type=float, default=0.2, help="seconds per cpu task (default 0.2)")
    parser.add_argument("--tasks", type=int, default=8, help="cpu tasks per run (default 8)")
    parser.add_argument("--json", help="also write the JSON to this file")
    args = parser.parse_args(argv)
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("distributed is not installed: pip install -e '.[dask]'", file=sys.stderr)
        return 2
    repeats = args.repeats or (3 if args.small else 5)
    count = args.tiny or (100 if args.small else 400)
    from concurrency_lab.calibration import calibrate

    n = calibrate("cpu", args.task_s)
    info = machine()
    print(f"Dask vs processes, {WORKERS} workers, {repeats} repeats, one pool alive at a time; {info}")
    figures = measure(repeats, list(range(count)), [n] * args.tasks)
    out: dict = {"machine": info, "workers": WORKERS, "repeats": repeats, "startup": report_startup(figures),
                 "tiny": report_tiny(figures, count), "cpu": report_cpu(figures, n, args.task_s, args.tasks)}
    line = json.dumps(out, sort_keys=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(line + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
