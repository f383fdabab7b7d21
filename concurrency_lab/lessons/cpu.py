"""Lesson 02 (CPU-bound work and the GIL): the sweep and the traced runs put in words, Amdahl's fit read
truthfully, the classic Pool.map example timed, and the exercises' checks.

Each result says what its run measured (its repr, which nbval ignores) and has a `verdict()` whose lines hold
on a busy 2-core laptop and on a 16-core workstation alike, for nbval to compare. A verdict rests on what load
can only lower: how many cores threads kept busy. A speedup can be pushed either way by a busy spell (one
that slows the sequential baseline makes a backend look faster), so it only ever appears in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import config
from ._feedback import Feedback
from .choosing import CLEAR_WIN, GIL_BOUND

__all__ = ['ClassicMap', 'classic_pool_map', 'check_larger_serial_fraction', 'Backend', 'CpuScaling',
           'cpu_scaling', 'TakingTurns', 'taking_turns', 'load_meter', 'amdahl_summary', 'SERIAL_TIE',
           'worker_lanes', 'check_parallel_cpu', 'PARALLEL_SIZES']

#: Two effective serial fractions closer than this are a tie: at 2 workers, 0.05 of s is ~2.5% of speed.
SERIAL_TIE = 0.05
#: More workers count as slower only below this share of the fewer workers' speedup: noise moves it ~2%.
SLOWER = 0.95


def load_meter() -> Any:
    """Started before a measurement; `.read()` after it gives the `load.Load` (other programs' share)."""
    from ..load import LoadMeter as Meter

    return Meter()


# -- section 1: the sweep, in words -------------------------------------------------------------------------

@dataclass(frozen=True)
class Backend:
    """One backend at its largest worker count in a sweep."""

    name: str
    workers: int
    speedup: float
    """Over the sequential baseline of the same sweep (`analysis.speedup`)."""
    cpu_s: float
    """The tasks' `cpu` column, added up."""
    wall_s: float

    @property
    def cores_busy(self) -> float:
        """CPU seconds per wall second (`RunRecord.parallelism`): load can lower it, never raise it."""
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    def line(self) -> str:
        return (f"{self.name} x{self.workers}: {self.speedup:.2f}x the speed of sequential; the cpu column adds "
                f"up to {self.cpu_s:.2f} s in {self.wall_s:.2f} s of wall time: {self.cores_busy:.2f} cores busy")


@dataclass(frozen=True)
class CpuScaling:
    """Threads and processes on CPU work, from one sweep: what happened, and the checked part."""

    threads: Backend
    processes: Backend
    gil: bool
    cores: int
    load: Any

    def words(self) -> str:
        """What this run says about processes and threads (may differ from run to run: a measurement)."""
        t, p = self.threads, self.processes
        if self.cores < 2:
            return "one usable core: neither backend can run two tasks at once here"
        if not self.gil and t.speedup >= GIL_BOUND:
            return "threads scale too: this Python runs without the GIL"
        if p.speedup >= GIL_BOUND and p.speedup > CLEAR_WIN * t.speedup:
            return "processes scaled, threads did not"
        return ("no clear gain for processes in this run: other programs took the cores (the note below)"
                if self.load.busy else "no clear gain for processes in this run: run the sweep again")

    def __repr__(self) -> str:
        return "\n".join([self.threads.line(), self.processes.line(), self.words(), self.load.note()])

    def verdict(self) -> str:
        """The checked line: cores kept busy by threads, which load can only lower (see `GIL_BOUND`)."""
        bound = self.threads.cores_busy < GIL_BOUND
        line = (f"threads kept under {GIL_BOUND:g} cores busy (the GIL): {bound}" if self.gil
                else f"threads kept {GIL_BOUND:g} or more cores busy (no GIL here): {not bound}")
        return f"{line}\n{self.load.note()}"


def _backend(records: list[Any], name: str, speedups: Any) -> Backend:
    most = max(r.max_workers for r in records if r.backend == name)
    runs = [r for r in records if r.backend == name and r.max_workers == most]
    speed = speedups[(speedups.backend == name) & (speedups.max_workers == most)]["speedup"]
    busiest = max(runs, key=lambda r: r.parallelism)  # of several repeats, the one that kept most cores busy
    return Backend(name, most, float(speed.iloc[0]), busiest.cpu_time, busiest.wall)


def cpu_scaling(measured: Any) -> CpuScaling:
    """`measured`: `lessons.measure(ScalingExplorer(backends=("threads", "processes"), ...))`."""
    from .. import analysis, info

    records = list(measured.records)
    speedups = analysis.speedup(records)
    return CpuScaling(_backend(records, "threads", speedups), _backend(records, "processes", speedups),
                      info.gil_enabled(), info.usable_cores(), measured.load)


# -- section 2: the traced runs, in words --------------------------------------------------------------------

def _at_once(intervals: Any) -> float:
    """Lanes running at once, on average: every lane's run time over the span of the run."""
    if not len(intervals):
        return 0.0
    ran = intervals[intervals["state"] == "run"]
    span = float(intervals["end"].max() - intervals["begin"].min())
    return float((ran["end"] - ran["begin"]).sum()) / span if span > 0 else 0.0


@dataclass(frozen=True)
class TakingTurns:
    """From `analysis.gil_activity` of a threads run and a processes run: how many lanes ran at once."""

    threads: float
    processes: float
    gil: bool
    load: Any

    def __repr__(self) -> str:
        return (f"threads: {self.threads:.2f} lanes running at once, on average\n"
                f"processes: {self.processes:.2f} lanes running at once, on average\n{self.load.note()}")

    def verdict(self) -> str:
        """Load only lowers lanes at once; the samples' 2 ms resolution adds a little (a short wait counts
        as running), far under the margin up to GIL_BOUND."""
        at_most_one = self.threads < GIL_BOUND
        line = (f"the thread lanes took turns (under {GIL_BOUND:g} running at once): {at_most_one}" if self.gil
                else f"the thread lanes ran side by side ({GIL_BOUND:g} or more at once, no GIL): {not at_most_one}")
        return f"{line}\n{self.load.note()}"


def taking_turns(thread_lanes: Any, process_lanes: Any, load: Any) -> TakingTurns:
    from ..info import gil_enabled

    return TakingTurns(_at_once(thread_lanes), _at_once(process_lanes), gil_enabled(), load)


# -- section 3: Amdahl's fit, read truthfully ---------------------------------------------------------------

def _fit_line(row: Any, slower: int) -> str:
    if row.repeats < 2:
        spread = (f"a point, not an interval: {row.repeats} run per worker count, and an interval needs "
                  f"repeats to resample")
    elif row.s_low == row.s_high:
        spread = f"every resample of the {row.repeats} repeats gave the same value"
    else:
        spread = f"90% interval {row.s_low:.2f} to {row.s_high:.2f}, from {row.repeats} repeats"
    line = f"{row.backend}: effective serial fraction {row.s:.2f} ({spread})"
    if slower:
        line += (f"; it ran slower on {slower} workers than on 1, which Amdahl's law cannot express: in it, "
                 "more workers never slow the work down")
        if row.s >= 0.995:
            line += ", so the fit stops at its largest value, 1"
    return line


def amdahl_summary(fit: Any, records: Any) -> str:
    """The fit in words, one line per backend; says when a backend got slower with more workers."""
    from .. import analysis

    speed = analysis.speedup(list(records))
    lines = []
    for row in fit.itertuples():
        curve = speed[speed.backend == row.backend].sort_values("max_workers")
        first, last = curve.iloc[0], curve.iloc[-1]
        lines.append(_fit_line(row, int(last.max_workers) if last.speedup < SLOWER * first.speedup else 0))
    return "\n".join(lines)


# -- section 4: the classic example, timed ------------------------------------------------------------------

@dataclass(frozen=True)
class ClassicMap:
    """The textbook `with Pool(2) as p: p.map(square, range(10))`, timed against a loop."""

    loop_s: float
    pool_s: float
    start_method: str

    @property
    def loop_wins(self) -> bool:
        return self.loop_s < self.pool_s

    def __repr__(self) -> str:
        return (f"loop: {self.loop_s * 1e6:.1f} us; Pool(2).map with {self.start_method}: "
                f"{self.pool_s * 1e3:.1f} ms ({self.pool_s / self.loop_s:,.0f}x slower)")


def classic_pool_map(n: int = 10, start_method: str | None = None) -> ClassicMap:
    """Measure the classic example as tutorials write it (pool made inside the timing),
    with an explicit start method and a square function workers can import."""
    import multiprocessing
    import time

    from ..workloads import tiny

    method = start_method or config.default_start_method()
    t0 = time.perf_counter()
    expected = [tiny(x) for x in range(n)]
    loop_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with multiprocessing.get_context(method).Pool(2) as pool:
        got = pool.map(tiny, range(n))
    pool_s = time.perf_counter() - t0
    assert got == expected
    return ClassicMap(loop_s, pool_s, method)


# -- the exercise ---------------------------------------------------------------------------------------------

def check_larger_serial_fraction(answer: Any, fit: Any) -> Feedback:
    """Exercise 02: which backend's effective serial fraction is larger, or is it a tie (within SERIAL_TIE)?"""
    choices = ("threads", "processes", "tie")
    if answer not in choices:
        return Feedback(False, f"set `answer` to one of {choices}, after looking at the fitted `s` column")
    fitted = {row.backend: row.s for row in fit.itertuples()}
    missing = [b for b in choices[:2] if b not in fitted]
    if missing:
        return Feedback(False, f"the fit has no {missing[0]} row: measure both backends first")
    both = f"threads {fitted['threads']:.2f}, processes {fitted['processes']:.2f}"
    if abs(fitted["threads"] - fitted["processes"]) <= SERIAL_TIE:
        if answer != "tie":
            return Feedback(False, f"look again: in your measurement the two tie ({both}), so neither is larger.")
        return Feedback(True, f"a tie ({both}): neither backend let a second worker help more here. Run the "
                              "sweep again on a quieter machine to see them part.")
    larger = max(choices[:2], key=lambda b: fitted[b])
    if answer != larger:
        return Feedback(False, f"look again ({both}): "
                        + ("they differ by more than a tie." if answer == "tie"
                           else f"{answer} has the smaller serial fraction in your measurement."))
    return Feedback(True, f"that backend has the larger serial fraction in your measurement ({both}).")


# -- the coding exercise: CPU work on worker processes ------------------------------------------------------

#: The sizes the check hands the learner's function: 4 `cpu` tasks of different sizes, so that the order of
#: the results shows, and of 0.4-0.8 CPU s in all, so that a pool's workers live long enough (several
#: tenths of a second even on a fast machine) for the watch, which looks for new processes every 0.125 s,
#: to see them.
PARALLEL_SIZES = (2_500_000, 2_000_000, 1_500_000, 1_000_000)
#: A right answer returns in 1-3 s on a busy 2-core machine; past this the function counts as hung.
PARALLEL_TIMEOUT_S = 30.0
#: Lanes that are processes under the kernel but not workers: they start and feed workers.
_NOT_WORKERS = ("resource tracker", "· forkserver", "subprocess")
#: How a forked worker's lane is named (not "ForkServerProcess-": forkserver is a safe choice).
_FORKED = ("ForkProcess-", "ForkPoolWorker-", "forked child")
#: What a function that could not reach a spawn worker raises (3.11 to 3.13).
_SENDING_FAILED = ("BrokenProcessPool", "PicklingError", "Can't get attribute", "Can't pickle",
                   "Can't get local object")  # 3.13's word for a lambda or a nested function


def worker_lanes(record: Any, exclude: frozenset[int] = frozenset()) -> tuple[Any, ...]:
    """The worker processes a watch saw: process lanes other than the helpers that start them (resource
    tracker, forkserver), and other than the pids in `exclude` (processes that ran before). Every lane it
    saw, busy or not: a worker that got no task (the other took them all) is still a worker process."""
    return tuple(lane for lane in record.lanes if lane.kind == "process" and lane.pid not in exclude
                 and not any(helper in lane.name for helper in _NOT_WORKERS))


def _call_bounded(fn: Any, sizes: list[int], timeout: float) -> tuple[str, Any]:
    """Call `fn(sizes)` in a daemon thread: ("returned", value), ("raised", exception) or ("hung", None).
    A daemon thread, so a function that never returns cannot keep the cell (or the kernel's exit) waiting."""
    import threading

    box: list[tuple[str, Any]] = []

    def call() -> None:
        try:
            box.append(("returned", fn(sizes)))
        except BaseException as exc:  # reported to the learner, not lost in a thread
            box.append(("raised", exc))

    runner = threading.Thread(target=call, name="check-parallel-cpu", daemon=True)
    runner.start()
    runner.join(timeout)
    return box[0] if box else ("hung", None)


def _raised_feedback(exc: BaseException) -> Feedback:
    text = f"{type(exc).__name__}: {exc} {exc.__cause__ or ''}"
    if any(marker in text for marker in _SENDING_FAILED):
        return Feedback(False, f"the pool failed ({type(exc).__name__}): its workers could not get the function. "
                               "A spawn worker is a fresh Python: it receives a function by name and imports it, "
                               "and a function defined in this notebook exists only in the kernel's memory, so "
                               "the worker cannot find it. Send `cpu`, imported from `concurrency_lab.workloads`.")
    return Feedback(False, f"your function raised {type(exc).__name__}: {exc}")


def _lanes_feedback(record: Any, before: frozenset[int]) -> Feedback:
    workers = worker_lanes(record, before)
    if not workers:
        pooled = [lane for lane in record.active_lanes() if lane.name.startswith("ThreadPoolExecutor")]
        if pooled:
            return Feedback(False, "the right results, but from threads: no worker process ran. Threads share "
                                   "one GIL, so they take turns on this work; use a ProcessPoolExecutor.")
        return Feedback(False, "the right results, but no worker process ran: the work stayed in this notebook's "
                               "process, one task after another. Hand the tasks to a ProcessPoolExecutor.")
    if any(forked in lane.name for lane in workers for forked in _FORKED):
        return Feedback(False, "the workers were forked from this kernel, which runs threads of its own (fork "
                               "with threads running is unsafe, lesson 01). Pass an explicit start method: "
                               '`mp_context=multiprocessing.get_context("spawn")`.')
    if len(workers) < 2:
        return Feedback(False, "the right results from a worker process, but only one was started: give the pool "
                               "max_workers=2 or more, so that two tasks can run at once.")
    return Feedback(True, f"the right results, computed in {len(workers)} worker processes, each with its own "
                          "interpreter and its own GIL.")


def check_parallel_cpu(fn: Any, *, timeout: float = PARALLEL_TIMEOUT_S) -> Feedback:
    """Exercise 02: does `fn(sizes)` return `[cpu(n) for n in sizes]`, computed in worker processes?

    It runs watched (`watching.watch`), and "used processes" is judged by the worker lanes the watch saw,
    never by speed: on a busy machine two processes need not overlap, but they still show up."""
    import psutil

    from ..watching import watch
    from ..workloads import cpu

    if not callable(fn):
        return Feedback(False, "pass your function itself: `lessons.check_parallel_cpu(parallel_cpu)`")
    sizes = list(PARALLEL_SIZES)
    before = frozenset(p.pid for p in psutil.Process().children(recursive=True))
    with watch() as watched:
        how, value = _call_bounded(fn, sizes, timeout)
    if how == "hung":
        return Feedback(False, f"your function did not return within {timeout:g} s. Does it wait on something "
                               "that never comes? Give every wait a timeout (`future.result(timeout=...)`).")
    if how == "raised":
        return _raised_feedback(value)
    expected = [cpu(n) for n in sizes]
    try:
        got = list(value)
    except TypeError:
        return Feedback(False, f"your function returned {type(value).__name__}: return the list of results, "
                               "one per size, in order.")
    if got != expected:
        return Feedback(False, f"wrong results: expected {expected}, got {got[:6]}. Call `cpu(n)` once per "
                               "size, and keep the results in the order of `sizes` (`pool.map` does).")
    return _lanes_feedback(watched.record, before)
