"""The same worker processes, the same task, called different ways: what the call path alone does to a task's
CPU time (issue 19).

`overhead.py` found ours' forkserver workers using 5-13% more CPU than raw's for the same 8 tasks, and
under fork 5-6% less. This script asks whether that is ours' code or where the task happens to run. For
each pool pair (ours `ProcessRunner` and a raw `ProcessPoolExecutor`, 2 workers each, started fresh and
primed), it times 2 tasks of ~20 ms of `workloads.cpu` called in each of these ways, in turn, many times:

* raw map         `list(raw.map(cpu, items))`: the task runs under `_process_chunk`'s list comprehension
* raw submit      `raw.submit(cpu, x)`: the task is the call the worker makes
* raw call_timed  `raw.submit(call_timed, cpu, x)`: raw's processes, called the way ours calls a task
* ours run        `ours.run(cpu, items)`: ours as a lesson uses it
* ours map        `ours' pool.map(cpu, items)`: ours' processes, called the way raw's map calls a task

Each cell is the workers' on-CPU time for those 2 tasks, from `/proc/<pid>/task/*/schedstat` (ns), over
raw map's in the same cycle (the order turns every cycle, so drift cancels). Tasks of 20 ms keep a cycle
short: the host's speed changes over seconds here, not over 100 ms.

If ours' own work made tasks slower, "ours run" would be above 1 and "raw call_timed" with it, in every
pair. What the figures in benchmarks/README.md show instead is a process-and-path lottery: in one pool
pair a path costs 6-18% more than another in the same processes, in the next pair nothing, and which one
loses changes with the start method and with what the script did before.

Linux only. Run on a quiet machine:
    .venv/bin/python benchmarks/call_paths.py [--pairs N] [--cycles N] [METHOD ...]
The last line of stdout is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import glob
import json
import multiprocessing
import statistics
import sys

WORKERS = 2
TASK_S = 0.02


def on_cpu_ns(pids: list[int]) -> int:
    """Nanoseconds the threads of `pids` have run on a CPU so far."""
    total = 0
    for pid in pids:
        for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
            try:
                with open(path) as fh:
                    total += int(fh.read().split()[0])
            except (OSError, ValueError, IndexError):  # a thread that ended between glob and open
                continue
    return total


def one_pair(method: str, cycles: int, n: int) -> dict[str, float]:
    """Each way's CPU for the same tasks over raw map's, median over `cycles`, in one fresh pool pair."""
    from overhead import raw_process_pool

    from concurrency_lab._worker import call_timed
    from concurrency_lab.runners import ProcessRunner
    from concurrency_lab.workloads import cpu

    items = [n] * WORKERS
    with ProcessRunner(WORKERS, start_method=method) as ours, \
            raw_process_pool(multiprocessing.get_context(method), WORKERS) as raw:
        ours.run(cpu, [1000] * 4 * WORKERS)  # every worker imports `workloads` before timing
        list(raw.map(cpu, [1000] * 4 * WORKERS))
        ours_pids, raw_pids = ours.worker_pids, list(raw._processes)

        def submit(pool, *fn) -> list:
            return [f.result() for f in [pool.submit(*fn, x) for x in items]]

        ways = {"raw map": (raw_pids, lambda: list(raw.map(cpu, items))),
                "raw submit": (raw_pids, lambda: submit(raw, cpu)),
                "raw call_timed": (raw_pids, lambda: submit(raw, call_timed, cpu)),
                "ours run": (ours_pids, lambda: ours.run(cpu, items)),
                "ours map": (ours_pids, lambda: list(ours._pool.map(cpu, items)))}
        spent: dict[str, list[int]] = {way: [] for way in ways}
        names = list(ways)
        for c in range(cycles):
            for way in (names if c % 2 == 0 else names[::-1]):
                pids, go = ways[way]
                before = on_cpu_ns(pids)
                go()
                spent[way].append(on_cpu_ns(pids) - before)
    base = spent["raw map"]
    return {way: statistics.median([a / b for a, b in zip(v, base, strict=True)]) for way, v in spent.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("methods", nargs="*", help="start methods (default: forkserver fork)")
    parser.add_argument("--pairs", type=int, default=6, help="fresh pool pairs per start method (default 6)")
    parser.add_argument("--cycles", type=int, default=30, help="timed cycles per pool pair (default 30)")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("call_paths.py reads /proc: Linux only")
        return 0
    from concurrency_lab.calibration import calibrate

    methods = args.methods or [m for m in ("forkserver", "fork") if m in multiprocessing.get_all_start_methods()]
    n = calibrate("cpu", TASK_S)
    print(f"Each way's workers' CPU for {WORKERS} tasks of ~{TASK_S * 1e3:g} ms (cpu({n})) over raw map's, "
          f"median of {args.cycles} cycles, one row per fresh pool pair; < 1 is less CPU than raw map")
    out: dict = {"n": n, "cycles": args.cycles, "pairs": {}}
    for method in methods:
        rows = [one_pair(method, args.cycles, n) for _ in range(args.pairs)]
        out["pairs"][method] = rows
        ways = list(rows[0])
        print(f"\n{method:<11} " + "".join(f"{way:>16}" for way in ways))
        for k, row in enumerate(rows):
            print(f"  pair {k:<5} " + "".join(f"{row[way]:>16.3f}" for way in ways), flush=True)
        print(f"  {'median':<10} " + "".join(f"{statistics.median(r[w] for r in rows):>16.3f}" for w in ways))
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
