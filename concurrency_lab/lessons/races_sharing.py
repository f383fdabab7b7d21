"""Lesson 06, section 4 (processes share nothing unless asked): a module global in worker processes, one
number shared through a `multiprocessing.Value` or a `Manager`, each measured, and a `shared_memory`
block filled by workers. The worker functions are module-level here, so spawn and forkserver can import
them; every process uses an explicit start method, and every wait has a timeout.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import config
from .races import WAIT_TIMEOUT_S

__all__ = ['GlobalInProcesses', 'global_in_processes', 'SharedTotal', 'value_total', 'manager_total',
           'sharing_costs', 'sharing_verdict', 'SharedBlock', 'shared_memory_squares']

# -- processes: nothing is shared unless asked ------------------------------------------------------

#: A module global that worker processes add to: each process adds to its own copy.
TOTAL = 0


def _add_to_global(n: int) -> int:
    """In a worker process: add 1 to this process's `TOTAL`, n times; return what this process sees."""
    global TOTAL
    for _ in range(n):
        TOTAL += 1
    return TOTAL


@dataclass(frozen=True)
class GlobalInProcesses:
    """What the parent sees of a global after worker processes added to it."""

    tasks: int
    n: int
    workers_saw: int
    parent_sees: int
    start_method: str

    def __repr__(self) -> str:
        return (f"{self.tasks} tasks in worker processes ({self.start_method}) each added {self.n:,} to TOTAL; "
                f"the workers' own copies reached {self.workers_saw:,} between them.\n"
                f"The parent's TOTAL is {self.parent_sees:,}: "
                f"{'nothing was shared' if self.parent_sees == 0 else 'shared?!'}")


def global_in_processes(tasks: int = 4, n: int = 1000, *, max_workers: int = 2,
                        start_method: str | None = None) -> GlobalInProcesses:
    """Reset `TOTAL`, add to it from worker processes, and report what the parent sees."""
    from ..api import run

    global TOTAL
    TOTAL = 0
    method = start_method or config.default_start_method()
    rec = run(_add_to_global, backend="processes", max_workers=max_workers, start_method=method,
              items=[n] * tasks, timeout=WAIT_TIMEOUT_S)
    rec.raise_for_errors()
    per_worker: dict[int, int] = {}
    for ev, seen in zip(rec.events, rec.results, strict=True):
        per_worker[ev.pid] = max(per_worker.get(ev.pid, 0), seen)
    return GlobalInProcesses(tasks, n, sum(per_worker.values()), TOTAL, method)


def _value_worker(value: Any, n: int, locked: bool, barrier: Any, times: Any, slot: int) -> None:
    """In a worker process: add 1 to a shared `multiprocessing.Value`, n times, and note how long it took."""
    barrier.wait(WAIT_TIMEOUT_S)
    t0 = time.perf_counter()
    if locked:
        for _ in range(n):
            with value.get_lock():
                value.value += 1
    else:
        for _ in range(n):
            value.value += 1  # a read and a write, each locked, but not together: racy across processes
    times[slot] = time.perf_counter() - t0


def _manager_worker(shared: Any, lock: Any, n: int, barrier: Any, times: Any, slot: int) -> None:
    """In a worker process: add 1 to `shared["total"]` of a Manager dict, n times, under the manager's lock."""
    barrier.wait(WAIT_TIMEOUT_S)
    t0 = time.perf_counter()
    for _ in range(n):
        with lock:
            shared["total"] += 1  # two messages to the manager process (get, set), plus two for the lock
    times[slot] = time.perf_counter() - t0


def _run_processes(ctx: Any, target: Callable, args: list[tuple], timeout: float = WAIT_TIMEOUT_S) -> None:
    """Start one process per args tuple, wait for all (bounded), and never leave one behind."""
    procs = [ctx.Process(target=target, args=a, daemon=True) for a in args]
    try:
        for p in procs:
            p.start()
        deadline = time.monotonic() + timeout
        for p in procs:
            p.join(max(deadline - time.monotonic(), 0.0))
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join(config.SHUTDOWN_GRACE_S)
    bad = [p.exitcode for p in procs if p.exitcode != 0]
    if bad:
        raise RuntimeError(f"a worker process failed (exit codes {bad}); its error is printed above")


@dataclass(frozen=True)
class SharedTotal:
    """N processes added 1, n times each, to one shared number: did every update arrive, and at what cost?"""

    how: str
    processes: int
    n: int
    got: int
    seconds_per_update: float
    start_method: str
    load: Any = field(default=None, compare=False)
    """`load.Load` while it ran (None: not measured)."""

    @property
    def expected(self) -> int:
        return self.processes * self.n

    @property
    def exact(self) -> bool:
        return self.got == self.expected

    def __repr__(self) -> str:
        verdict = "exact" if self.exact else f"lost {self.expected - self.got:,}"
        return (f"{self.how}: {self.processes} processes x {self.n:,} updates: expected {self.expected:,}, "
                f"got {self.got:,} ({verdict})")


def _updates_timing(times: Any, n: int) -> float:
    """Seconds per update, seen by the slowest worker (all ran at once, so that is the run's pace)."""
    return max(times) / n


def value_total(processes: int = 2, n: int = 10_000, *, locked: bool = True,
                start_method: str | None = None) -> SharedTotal:
    """Processes add to one `multiprocessing.Value('q')` (shared memory with a lock beside it)."""
    from ..load import LoadMeter

    method = start_method or config.default_start_method()
    ctx = multiprocessing.get_context(method)
    meter = LoadMeter()
    value = ctx.Value("q", 0)
    barrier = ctx.Barrier(processes)
    times = ctx.RawArray("d", processes)
    _run_processes(ctx, _value_worker, [(value, n, locked, barrier, times, k) for k in range(processes)])
    how = "Value, with get_lock()" if locked else "Value, value += 1 without the lock"
    return SharedTotal(how, processes, n, value.value, _updates_timing(times, n), method, meter.read())


def manager_total(processes: int = 2, n: int = 300, *, start_method: str | None = None) -> SharedTotal:
    """Processes add to `total` in a `Manager().dict()`: a server process holds the dict; every access is
    a message to it."""
    from ..load import LoadMeter

    method = start_method or config.default_start_method()
    ctx = multiprocessing.get_context(method)
    meter = LoadMeter()
    with ctx.Manager() as manager:
        shared = manager.dict(total=0)
        lock = manager.Lock()
        barrier = ctx.Barrier(processes)
        times = ctx.RawArray("d", processes)
        _run_processes(ctx, _manager_worker, [(shared, lock, n, barrier, times, k) for k in range(processes)])
        got = shared["total"]
    return SharedTotal("Manager().dict(), with a manager Lock", processes, n, got, _updates_timing(times, n),
                       method, meter.read())


def sharing_costs(*totals: SharedTotal) -> Any:
    """A table: one row per way of sharing, with its cost per update (a DataFrame)."""
    import pandas as pd

    return pd.DataFrame([{"how": t.how, "updates": t.expected, "exact": t.exact,
                          "us_per_update": round(t.seconds_per_update * 1e6, 1)} for t in totals])


def sharing_verdict(value: SharedTotal, manager: SharedTotal, at_least: float = 10.0) -> str:
    """A checked line: is a Manager update at least `at_least` times slower than a locked Value update?"""
    slower = manager.seconds_per_update >= at_least * value.seconds_per_update
    notes = [f"while the {t.how.split(',')[0]} ran, {t.load.note()}" for t in (value, manager) if t.load is not None]
    return "\n".join([f"both exact: {value.exact and manager.exact}; a Manager dict update is at least "
                       f"{at_least:g}x slower than a Value update: {slower}", *notes])


# -- shared memory --------------------------------------------------------------------------------


def _fill_squares(job: tuple[str, int, int]) -> int:
    """In a worker process: attach to the shared block by name and write i*i for i in [lo, hi) into it."""
    from array import array
    from multiprocessing import shared_memory

    name, lo, hi = job
    # Attach: no copy of the data travels. The parent created the block and unlinks it, so from 3.13 this
    # worker registers it with no resource tracker at all (`track` is new in 3.13; 3.11 and 3.12 lack it).
    mine = {"track": False} if sys.version_info >= (3, 13) else {}
    block = shared_memory.SharedMemory(name=name, **mine)
    try:
        block.buf[lo * 8:hi * 8] = array("q", (i * i for i in range(lo, hi))).tobytes()
    finally:
        block.close()  # this process is done with it; only the creator unlinks
    return hi - lo


@dataclass(frozen=True)
class SharedBlock:
    """Worker processes filled one shared memory block; the parent read it in place."""

    numbers: int
    tasks: int
    correct: bool
    unlinked: bool
    start_method: str

    def __repr__(self) -> str:
        return (f"{self.tasks} tasks in worker processes ({self.start_method}) wrote {self.numbers:,} squares "
                f"straight into one shared block ({self.numbers * 8:,} bytes, none of it pickled).\n"
                f"The parent read them all in place: correct: {self.correct}\n"
                f"Block unlinked afterwards (gone from the system): {self.unlinked}")


def shared_memory_squares(numbers: int = 200_000, tasks: int = 4, *, max_workers: int = 2,
                          start_method: str | None = None) -> SharedBlock:
    """Create a block, let workers fill slices of it, check it, then close and unlink it (always)."""
    from multiprocessing import resource_tracker, shared_memory

    from ..api import run

    method = start_method or config.default_start_method()
    # Before any worker starts, so every worker shares it. Spawn and forkserver workers always get the parent's
    # tracker; a fork worker made before it ran would start its own on attaching, which unlinks the block
    # when that worker exits (tests/test_truth_l05.py shows it).
    resource_tracker.ensure_running()
    block = shared_memory.SharedMemory(create=True, size=numbers * 8)
    try:
        step = -(-numbers // tasks)
        jobs = [(block.name, lo, min(lo + step, numbers)) for lo in range(0, numbers, step)]
        rec = run(_fill_squares, backend="processes", max_workers=max_workers, start_method=method, items=jobs,
                  timeout=WAIT_TIMEOUT_S)
        rec.raise_for_errors()
        view = block.buf.cast("q")
        try:
            correct = view.tolist() == [i * i for i in range(numbers)]
        finally:
            view.release()  # a live view would make close() fail
    finally:
        block.close()
        block.unlink()
    return SharedBlock(numbers, len(jobs), correct, _is_gone(block.name), method)


def _is_gone(name: str) -> bool:
    from multiprocessing import shared_memory

    try:
        again = shared_memory.SharedMemory(name=name)
    except FileNotFoundError:
        return True
    again.close()
    return False
