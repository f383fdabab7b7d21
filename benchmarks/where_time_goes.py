"""Where a warm process pool's wall time goes: ours against the raw standard library (issue 19).

For each start method, three warm pools of 2 workers: ours (`ProcessRunner`), a raw
`ProcessPoolExecutor` and an identical raw twin (the control). Each repeat runs 8 tasks of ~0.2 s of
`workloads.cpu` on each pool, in turn, alternating the order. Around every run it reads, from
`/proc/<pid>/task/*/schedstat` (Linux), the nanoseconds each process's threads spent on a CPU and waiting
for one, for the parent and for the pool's workers, and from `/proc/stat` the time the virtual
machine's host held back ("steal").

What it tells apart:
- the workers computing slower (their on-CPU time for the same tasks is larger);
- the workers waiting for a core (run-queue wait), e.g. behind a parent thread that polls;
- the parent spending CPU (it shares 2 cores with 2 workers);
- time outside all of these: wall minus half the workers' on-CPU time (the hand-over of tasks and
  results, or the host stopping the whole VM: runs with more than `CALM_MS` stolen are left out of it).

Run on a quiet machine: `.venv/bin/python benchmarks/where_time_goes.py [forkserver fork spawn]`.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import statistics
import sys
import time

from overhead import raw_process_pool

from concurrency_lab.calibration import calibrate
from concurrency_lab.runners import ProcessRunner
from concurrency_lab.workloads import cpu

WORKERS = 2
TASKS = 8
TASK_S = 0.2
REPEATS = 12
#: A run counts as calm when the host held back at most this many ms of CPU during it.
CALM_MS = 20


def schedstat(pid: int) -> tuple[int, int]:
    """(ns on a CPU, ns waiting for one), summed over the threads of `pid`."""
    run = wait = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            on_cpu, waited, _ = open(path).read().split()
        except (OSError, ValueError):
            continue
        run, wait = run + int(on_cpu), wait + int(waited)
    return run, wait


def stolen_ms() -> int:
    """The host's steal time so far, all CPUs, in ms (USER_HZ = 100)."""
    with open("/proc/stat") as fh:
        return int(fh.readline().split()[8]) * 10


def measure(method: str, repeats: int = REPEATS) -> dict[str, list[dict[str, float]]]:
    items = [calibrate("cpu", TASK_S)] * TASKS
    ctx = multiprocessing.get_context(method)
    ours = ProcessRunner(WORKERS, start_method=method)
    pools = {"raw": raw_process_pool(ctx, WORKERS), "twin": raw_process_pool(ctx, WORKERS)}
    try:
        ours.run(cpu, [1000] * 4 * WORKERS)  # every worker imports the workload before timing
        for pool in pools.values():
            list(pool.map(cpu, [1000] * 4 * WORKERS))
        workers = {"ours": ours._worker_pids(), **{k: list(p._processes) for k, p in pools.items()}}
        rows: dict[str, list[dict[str, float]]] = {side: [] for side in workers}
        me = os.getpid()
        for r in range(repeats):
            for side in (list(workers) if r % 2 == 0 else list(workers)[::-1]):
                pids = [me, *workers[side]]
                steal0, before, t0 = stolen_ms(), {p: schedstat(p) for p in pids}, time.perf_counter()
                if side == "ours":
                    assert ours.run(cpu, items).ok
                else:
                    list(pools[side].map(cpu, items))
                wall = time.perf_counter() - t0
                after = {p: schedstat(p) for p in pids}
                d = {p: ((after[p][0] - before[p][0]) / 1e6, (after[p][1] - before[p][1]) / 1e6) for p in pids}
                rows[side].append({"wall": wall * 1e3, "stolen": stolen_ms() - steal0,
                                   "parent_cpu": d[me][0], "parent_wait": d[me][1],
                                   "workers_cpu": sum(d[p][0] for p in workers[side]),
                                   "workers_wait": sum(d[p][1] for p in workers[side])})
        return rows
    finally:
        ours.shutdown()
        for pool in pools.values():
            pool.shutdown()


def report(method: str, rows: dict[str, list[dict[str, float]]]) -> None:
    print(f"\n== {method}: {TASKS} tasks x ~{TASK_S} s on {WORKERS} warm workers, {REPEATS} repeats; "
          f"medians in ms; load {os.getloadavg()[0]:.2f} ==")
    print(f"   {'pool':5} {'wall':>7} {'workers CPU':>12} {'workers wait':>13} {'parent CPU':>11} "
          f"{'parent wait':>12} {'stolen':>7} | calm runs: {'wall':>7} {'outside':>8}")
    for side, runs in rows.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        calm = [r for r in runs if r["stolen"] <= CALM_MS]
        calm_cell = (f"{len(calm):>2}/{len(runs)} {statistics.median(r['wall'] for r in calm):7.1f} "
                     f"{statistics.median(r['wall'] - r['workers_cpu'] / WORKERS for r in calm):8.1f}"
                     if calm else "none")
        print(f"   {side:5} {med['wall']:7.1f} {med['workers_cpu']:12.1f} {med['workers_wait']:13.1f} "
              f"{med['parent_cpu']:11.1f} {med['parent_wait']:12.1f} {med['stolen']:7.0f} | {calm_cell}")
    print("   outside = wall - workers' CPU / workers: time no worker computed (hand-overs, or the host)")


def main(argv: list[str]) -> int:
    if not sys.platform.startswith("linux"):
        print("where_time_goes: needs Linux (/proc/<pid>/task/*/schedstat)")
        return 0
    for method in argv or ["forkserver", "fork", "spawn"]:
        report(method, measure(method))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
