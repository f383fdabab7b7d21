"""Lesson 06 (shared state and races): lost updates made visible, the lock that fixes them, and the ways
processes share (nothing, a Value, a Manager, shared memory), each measured; plus the exercise's check.

Why the demonstrations look the way they do:

- A race needs a thread switch *between* a read and its write. `racy_add` puts a `time.sleep(0)` there (it
  stands for any wait: I/O, a log line, a database read), which hands the GIL over, so the race shows on
  every run, on any CPython from 3.11 to 3.14, with or without the GIL.
- `racy_add_busy` has only computation there; the interpreter then switches only when it is asked to (every
  `sys.getswitchinterval()` seconds), so lost updates are rare at the default 5 ms and certain at 1 us.
  That is why races survive testing, and why `switch_interval` shrinks the interval (restored afterwards).
- Every thread or process wait has a timeout; threads are daemons, so a deadlocked exercise answer cannot
  keep the kernel from exiting. Process workers are module-level functions here, so spawn and forkserver
  can import them; every process uses an explicit start method.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import config
from ..timing import switch_interval
from ._feedback import Feedback

__all__ = ['Tally', 'racy_add', 'racy_add_busy', 'locked_add', 'plain_add', 'switch_interval', 'RaceRuns', 'race',
           'IntervalSweep', 'interval_sweep',
           'GlobalInProcesses', 'global_in_processes', 'SharedTotal', 'value_total', 'manager_total',
           'sharing_costs', 'sharing_verdict', 'SharedBlock', 'shared_memory_squares', 'Account', 'racy_deposit',
           'check_deposit']

#: How long any wait for threads or processes may take before we call it a hang (far above the ~0.1-1 s
#: these demonstrations take on a busy 2-core machine).
WAIT_TIMEOUT_S = 60.0
#: A switch interval so short that the interpreter hands the GIL over at nearly every chance it gets.
TINY_SWITCH_INTERVAL_S = 1e-6


# -- threads: the race and the lock ---------------------------------------------------------------


@dataclass
class Tally:
    """A number many threads add to, and the lock that can protect it."""

    value: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


def racy_add(tally: Tally, n: int) -> None:
    """`tally.value += 1`, n times, as three steps with a wait in the middle: read, wait, write."""
    for _ in range(n):
        value = tally.value        # 1. read
        time.sleep(0)              # 2. wait (I/O, a log line...): another thread runs now
        tally.value = value + 1    # 3. write what we read plus one: anything others added meanwhile is lost


def racy_add_busy(tally: Tally, n: int) -> None:
    """Read, compute a moment, write: no wait, so only a forced thread switch can cut in."""
    for _ in range(n):
        value = tally.value
        for _ in range(2):         # compute a moment: each turn of a loop is a point where a switch may land
            pass
        tally.value = value + 1


def locked_add(tally: Tally, n: int) -> None:
    """`racy_add` with the read, the wait and the write under one lock: no other thread can cut in."""
    for _ in range(n):
        with tally.lock:
            value = tally.value
            time.sleep(0)
            tally.value = value + 1


def plain_add(tally: Tally, n: int) -> None:
    """The bare `+= 1`: still a read and a write, but with no point in between where CPython (3.10+,
    with the GIL) switches threads. Safe by luck of an implementation detail, not by promise."""
    for _ in range(n):
        tally.value += 1


def _run_threads(target: Callable[[], Any], threads: int, timeout: float = WAIT_TIMEOUT_S) -> list[BaseException]:
    """Run `target` in `threads` daemon threads that start together; return what they raised.

    Daemon threads and a bounded join: a thread stuck forever (a deadlock) is reported, never waited on.
    """
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def body() -> None:
        try:
            barrier.wait(timeout)
            target()
        except BaseException as exc:  # reported to the caller, not lost in a thread
            errors.append(exc)

    workers = [threading.Thread(target=body, daemon=True, name=f"lesson06-{k}") for k in range(threads)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + timeout
    for w in workers:
        w.join(max(deadline - time.monotonic(), 0.0))
    if any(w.is_alive() for w in workers):
        raise TimeoutError(f"threads still running after {timeout:g} s: a deadlock?")
    return errors


@dataclass(frozen=True)
class RaceRuns:
    """Several runs of `threads` threads each adding 1, `n` times, to one shared tally."""

    function: str
    threads: int
    n: int
    switch_interval: float
    totals: tuple[int, ...]

    @property
    def expected(self) -> int:
        return self.threads * self.n

    @property
    def lost(self) -> tuple[int, ...]:
        return tuple(self.expected - t for t in self.totals)

    @property
    def runs_with_losses(self) -> int:
        return sum(1 for x in self.lost if x > 0)

    def verdict(self) -> str:
        """The robust part, in words: did any run lose updates, and how many runs?"""
        runs = len(self.totals)
        if self.runs_with_losses == 0:
            return f"{self.function}: exact in {runs} of {runs} runs"
        return f"{self.function}: lost updates in {self.runs_with_losses} of {runs} runs"

    def __repr__(self) -> str:
        got = ", ".join(f"{t:,}" for t in self.totals)
        lost = ", ".join(f"{x:,}" for x in self.lost)
        return (f"{self.function}: {self.threads} threads x {self.n:,} increments, switch interval "
                f"{self.switch_interval * 1e6:g} us\n  expected {self.expected:,} per run\n  got      {got}\n"
                f"  lost     {lost}")


def race(fn: Callable[[Tally, int], Any], *, threads: int = 4, n: int = 500, runs: int = 5,
         interval: float | None = None) -> RaceRuns:
    """Run `fn(tally, n)` in `threads` threads at once, `runs` times, with the switch interval set to
    `interval` seconds meanwhile (None: as it is); the totals show how many updates survived.

    For `racy_add_busy` give n in the tens of thousands: each thread must then compute for tens of ms,
    longer than a busy OS may take to wake the others, or the threads might just run one after another.
    """
    totals = []
    with switch_interval(interval):
        used = sys.getswitchinterval()
        for _ in range(runs):
            tally = Tally()
            errors = _run_threads(lambda t=tally: fn(t, n), threads)
            if errors:
                raise errors[0]
            totals.append(tally.value)
    return RaceRuns(getattr(fn, "__name__", "fn"), threads, n, used, tuple(totals))


@dataclass(frozen=True)
class IntervalSweep:
    """The same race at several switch intervals and run lengths: how often does it bite?"""

    sweeps: tuple[RaceRuns, ...]

    def table(self) -> Any:
        """One row per (interval, increments per thread): runs that lost updates, and the median loss."""
        import statistics

        import pandas as pd

        return pd.DataFrame([{"switch_interval_us": r.switch_interval * 1e6, "increments_per_thread": r.n,
                              "runs": len(r.totals), "runs_that_lost": r.runs_with_losses,
                              "median_lost": statistics.median(r.lost)} for r in self.sweeps])

    def verdict(self) -> str:
        """The robust row: the tiniest interval with the longest runs."""
        r = min(self.sweeps, key=lambda r: (r.switch_interval, -r.n))
        return (f"switch interval {r.switch_interval * 1e6:g} us, {r.n:,} increments per thread: "
                f"lost updates in {r.runs_with_losses} of {len(r.totals)} runs")

    def __repr__(self) -> str:
        return self.table().to_string(index=False)


def interval_sweep(fn: Callable[[Tally, int], Any] = racy_add_busy, *, sizes: tuple[int, ...] = (1000, 50_000),
                   intervals: tuple[float | None, ...] = (None, TINY_SWITCH_INTERVAL_S), runs: int = 5,
                   threads: int = 4) -> IntervalSweep:
    """`race(fn)` for every (switch interval, increments per thread); None is the interval as it is."""
    return IntervalSweep(tuple(race(fn, threads=threads, n=n, runs=runs, interval=iv)
                               for iv in intervals for n in sizes))


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
    method = start_method or config.default_start_method()
    ctx = multiprocessing.get_context(method)
    value = ctx.Value("q", 0)
    barrier = ctx.Barrier(processes)
    times = ctx.RawArray("d", processes)
    _run_processes(ctx, _value_worker, [(value, n, locked, barrier, times, k) for k in range(processes)])
    how = "Value, with get_lock()" if locked else "Value, value += 1 without the lock"
    return SharedTotal(how, processes, n, value.value, _updates_timing(times, n), method)


def manager_total(processes: int = 2, n: int = 300, *, start_method: str | None = None) -> SharedTotal:
    """Processes add to `total` in a `Manager().dict()`: a server process holds the dict; every access is
    a message to it."""
    method = start_method or config.default_start_method()
    ctx = multiprocessing.get_context(method)
    with ctx.Manager() as manager:
        shared = manager.dict(total=0)
        lock = manager.Lock()
        barrier = ctx.Barrier(processes)
        times = ctx.RawArray("d", processes)
        _run_processes(ctx, _manager_worker, [(shared, lock, n, barrier, times, k) for k in range(processes)])
        got = shared["total"]
    return SharedTotal("Manager().dict(), with a manager Lock", processes, n, got, _updates_timing(times, n),
                       method)


def sharing_costs(*totals: SharedTotal) -> Any:
    """A table: one row per way of sharing, with its cost per update (a DataFrame)."""
    import pandas as pd

    return pd.DataFrame([{"how": t.how, "updates": t.expected, "exact": t.exact,
                          "us_per_update": round(t.seconds_per_update * 1e6, 1)} for t in totals])


def sharing_verdict(value: SharedTotal, manager: SharedTotal, at_least: float = 10.0) -> str:
    """A checked line: is a Manager update at least `at_least` times slower than a locked Value update?"""
    slower = manager.seconds_per_update >= at_least * value.seconds_per_update
    return (f"both exact: {value.exact and manager.exact}; a Manager dict update is at least {at_least:g}x "
            f"slower than a Value update: {slower}")


# -- shared memory --------------------------------------------------------------------------------


def _fill_squares(job: tuple[str, int, int]) -> int:
    """In a worker process: attach to the shared block by name and write i*i for i in [lo, hi) into it."""
    from array import array
    from multiprocessing import shared_memory

    name, lo, hi = job
    block = shared_memory.SharedMemory(name=name)  # attach: no copy of the data travels
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
    if method != "fork":
        resource_tracker.ensure_running()  # before any worker starts, so they share it (FACTS.md's trap)
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


# -- the exercise ---------------------------------------------------------------------------------


class Account:
    """A bank account whose balance lives somewhere slow: reading it lets other threads run,
    as a database or network read would."""

    def __init__(self, balance: int = 0) -> None:
        self._balance = balance

    @property
    def balance(self) -> int:
        value = self._balance
        time.sleep(0)  # the read takes a moment; the GIL is free meanwhile
        return value

    @balance.setter
    def balance(self, value: int) -> None:
        self._balance = value

    def __repr__(self) -> str:
        return f"Account(balance={self._balance})"


def racy_deposit(account: Account, amount: int) -> None:
    """The exercise's starting point: read the balance, then write it back plus `amount`."""
    balance = account.balance
    account.balance = balance + amount


#: The exercise's load: threads x deposits of 1, repeated in rounds, under the tiny switch interval.
CHECK_THREADS, CHECK_DEPOSITS, CHECK_ROUNDS = 4, 250, 5
#: A correct answer takes well under a second here; past this, the check calls it a deadlock.
CHECK_TIMEOUT_S = 20.0


def check_deposit(deposit: Any) -> Feedback:
    """Exercise 06: is `deposit(account, amount)` safe when many threads deposit into one account at once?"""
    if not callable(deposit):
        return Feedback(False, "pass your function itself: `lessons.check_deposit(deposit)`")
    expected = CHECK_THREADS * CHECK_DEPOSITS
    totals = []
    with switch_interval(TINY_SWITCH_INTERVAL_S):
        for _ in range(CHECK_ROUNDS):
            account = Account()

            def work(account: Account = account) -> None:
                for _ in range(CHECK_DEPOSITS):
                    deposit(account, 1)

            try:
                errors = _run_threads(work, CHECK_THREADS, CHECK_TIMEOUT_S)
            except TimeoutError:
                return Feedback(False, f"the deposits did not finish within {CHECK_TIMEOUT_S:g} s: a deadlock? "
                                       "A threading.Lock cannot be taken twice, even by the same thread.")
            if errors:
                return Feedback(False, f"your function raised {type(errors[0]).__name__}: {errors[0]}")
            totals.append(account._balance)
    return _deposit_feedback(totals, expected)


def _deposit_feedback(totals: list[int], expected: int) -> Feedback:
    bad = [t for t in totals if t != expected]
    if not bad:
        return Feedback(True, f"{len(totals)} rounds of {CHECK_THREADS} threads x {CHECK_DEPOSITS} deposits: every "
                              "deposit counted. The lock makes read-then-write one step no other thread can cut into.")
    if any(t > expected for t in bad):
        return Feedback(False, f"the balance went above the {expected:,} deposited: deposit exactly `amount`, "
                               "once per call.")
    return Feedback(False, f"deposits were lost: the balance came up short of the {expected:,} deposited. Put the "
                           "read AND the write inside one `with lock:`, and make the lock once, outside the "
                           "function, so every thread uses the same one.")
