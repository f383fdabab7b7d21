"""Lesson 10 (beyond one machine and beyond the GIL): start methods and the 3.14 default, other
interpreters (free-threaded builds), subinterpreters, Dask, and a sweep recorded on another machine, replayed.

Everything here either measures on this machine or says plainly why it cannot (no such interpreter,
no `distributed`, a Python older than 3.14): a lesson about what lies beyond must not fake it.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import platform
import sys
import sysconfig
from dataclasses import dataclass
from typing import Any

from .. import config
from ..timing import fastest
from ._feedback import Feedback
from .choosing import GIL_BOUND

__all__ = ["AcrossPythons", "DaskComparison", "PythonThreads", "StartupByMethod", "across_pythons",
           "check_default_start_methods", "compare_interpreters",
           "dask_vs_processes", "interpreter_speedups", "python_default_start_method", "startup_by_method",
           "replayed_machine", "ReplayedMachine", "subinterpreters_status"]

#: The default start method per platform from Python 3.14 on (What's New in Python 3.14; the
#: multiprocessing docs): forkserver on Linux and other POSIX, spawn on macOS (since 3.8) and Windows.
DEFAULTS_3_14 = {"linux": "forkserver", "macos": "spawn", "windows": "spawn"}


def python_default_start_method() -> str:
    """What this Python's multiprocessing picks when code names no start method."""
    return multiprocessing.get_context().get_start_method()


@dataclass(frozen=True)
class StartupByMethod:
    """Pool start-up per start method (a pool of 2, one tiny task each), the fastest of `repeats`."""

    seconds: dict[str, float]
    load: Any = None
    """`load.Load` while they were timed (None: not measured)."""

    @property
    def fastest(self) -> str:
        return min(self.seconds, key=self.seconds.__getitem__)

    def note(self) -> str:
        return self.load.note() if self.load is not None else "the load was not measured"

    def __repr__(self) -> str:
        rows = [f"{m:<11} {s * 1e3:7.1f} ms" for m, s in self.seconds.items()]
        return "pool of 2 started and ready, fastest of the repeats:\n" + "\n".join(rows) + "\n" + self.note()


def startup_by_method(repeats: int = 2, workers: int = 2) -> StartupByMethod:
    """Start a pool with every start method this platform has, and time it (our runner's `startup`)."""
    from ..api import run

    def startup(method: str) -> float:
        rec = run("tiny", backend="processes", start_method=method, max_workers=workers, tasks=workers)
        rec.raise_for_errors()
        return rec.startup

    from ..load import LoadMeter

    methods = config.available_start_methods()
    meter = LoadMeter()
    seconds = fastest({m: functools.partial(startup, m) for m in methods}, repeats)
    return StartupByMethod(seconds, meter.read())


def check_default_start_methods(answer: Any) -> Feedback:
    """Exercise 10: the start method Python 3.14 uses by default on each platform."""
    if not isinstance(answer, dict) or set(answer) != set(DEFAULTS_3_14):
        return Feedback(False, f"set `answer` to a dict with the keys {sorted(DEFAULTS_3_14)}")
    wrong = [f"{platform}: not {answer[platform]!r}" for platform, method in DEFAULTS_3_14.items()
             if answer[platform] != method]
    if wrong:
        hints = {"windows": "Windows has no fork at all", "macos": "fork is unsafe with macOS system libraries",
                 "linux": "3.14 moved Linux away from fork, because forking a process with threads can deadlock"}
        return Feedback(False, "; ".join(f"{w} ({hints[w.split(':')[0]]})" for w in wrong) + ".")
    here = "linux" if sys.platform.startswith("linux") else "macos" if sys.platform == "darwin" else "windows"
    return Feedback(True, f"fork is the default nowhere any more; concurrency-lab already uses "
                          f"{DEFAULTS_3_14[here]} here, on every Python version.")


# -- other interpreters ----------------------------------------------------------


def compare_interpreters(found: list | None = None, *, most: int = 2, workers: tuple[int, ...] = (1, 2),
                         tasks: int = 4, task_seconds: float = 0.05) -> list[Any]:
    """The same small CPU sweep (threads and processes, against sequential) in this Python and in up to
    `most` other ready ones, free-threaded builds first. Records only: nothing when no other Python is
    ready (the notebook then prints how to get one)."""
    from .. import interpreters

    found = interpreters.find_interpreters() if found is None else found
    if not _others(found):
        return []
    return _sweep_pythons(found, most, workers, tasks, task_seconds)


def _others(found: list) -> list:
    """The other ready Pythons, free-threaded builds first, then by version."""
    return sorted((i for i in found if i.ready and not i.current), key=lambda i: (not i.free_threaded, i.version))


def _sweep_pythons(found: list, most: int, workers: tuple[int, ...], tasks: int, task_seconds: float,
                   backends: tuple[str, ...] = ("threads", "processes")) -> list[Any]:
    """This Python's sweep, then each of up to `most` others' (each calibrates its own size: the same time
    per task, not the same steps)."""
    from .. import info, interpreters
    from ..calibration import calibrate
    from ..experiments import sweep

    here = next((i.label for i in found if i.current), None) or interpreters.python_label(
        platform.python_implementation(), platform.python_version(),
        bool(sysconfig.get_config_var("Py_GIL_DISABLED")), info.gil_enabled())
    sizes = {"cpu": calibrate("cpu", task_seconds)}
    records = [_tag(rec, here) for rec in sweep(backends, workers, ("cpu",), tasks=tasks, sizes=sizes)]
    for other in _others(found)[:most]:
        records += interpreters.sweep_in(other, backends, workers, ("cpu",), tasks=tasks, task_seconds=task_seconds)
    return records


def _tag(rec: Any, label: str) -> Any:
    """Label this Python's records as `interpreters.sweep_in` labels another's."""
    from dataclasses import replace

    return replace(rec, params={**rec.params, "python": label})


def interpreter_speedups(records: list[Any]) -> Any:
    """Speedup over each Python's own sequential run, one row per (Python, backend, workers)."""
    from .. import analysis

    table = analysis.speedup(records)
    table.insert(0, "python", [json.loads(w).get("python", "?") for w in table["work"]])
    table = table[table["backend"] != "sequential"]
    return table[["python", "backend", "start_method", "max_workers", "speedup"]].reset_index(drop=True)


@dataclass(frozen=True)
class PythonThreads:
    """One Python's threads at their most workers: the speedup (a ratio of two runs) and the cores they kept
    busy (CPU seconds per wall second of their own run: other programs can only lower it)."""

    python: str
    gil: bool
    workers: int
    speedup: float
    cores_busy: float
    best: float
    """The highest threads speedup at any worker count (one thread included)."""

    def line(self) -> str:
        words = f"{self.python}: threads x{self.workers} ran at {self.speedup:.2f}x its sequential speed, " \
                f"{self.cores_busy:.2f} cores busy"
        if self.gil and self.best >= GIL_BOUND and self.cores_busy < GIL_BOUND:
            words += (f" (threads reached {self.best:.2f}x with about one core busy: its sequential run was "
                      "slowed, not its threads sped up)")
        elif not self.gil and self.cores_busy >= GIL_BOUND:
            words += " (no GIL: the threads ran on several cores at once)"
        elif not self.gil:
            words += (f" (no GIL, yet under {GIL_BOUND:g} cores busy: other programs or the host took the cores "
                      "they could have used; see the last line)")
        return words


@dataclass(frozen=True)
class AcrossPythons:
    """The same CPU sweep in this Python and in the other ready ones; `verdict()` is the checked part."""

    records: tuple[Any, ...]
    load: Any
    """`load.Load` over all the sweeps: what other programs took meanwhile (None for a recording)."""
    source: str = ""
    """Where the numbers come from, when not only from this moment ("replayed: recorded on ...")."""

    def _notes(self) -> list[str]:
        return [n for n in (self.source, self.load.note() if self.load is not None else "") if n]

    def table(self) -> Any:
        return interpreter_speedups(list(self.records))

    def threads(self) -> list[PythonThreads]:
        """Per Python, its threads at their most workers (of several repeats, the one with most cores busy)."""
        speed = self.table()
        rows = []
        for python in dict.fromkeys(r.params.get("python", "?") for r in self.records):
            runs = [r for r in self.records if r.backend == "threads" and r.params.get("python", "?") == python]
            if not runs:
                continue
            most = max(r.max_workers for r in runs)
            busiest = max((r for r in runs if r.max_workers == most), key=lambda r: r.parallelism)
            sp = speed[(speed.python == python) & (speed.backend == "threads")]
            at_most = float(sp[sp.max_workers == most]["speedup"].iloc[0])
            rows.append(PythonThreads(python, busiest.gil_enabled, most, at_most, busiest.parallelism,
                                      float(sp["speedup"].max())))
        return rows

    def __repr__(self) -> str:
        rows = self.threads()
        alone = [] if len(rows) > 1 else ["no other Python ready to compare: this one alone (see above)"]
        return "\n".join([r.line() for r in rows] + alone + self._notes())

    def verdict(self) -> str:
        """Holds on any machine: with the GIL, threads keep about one core busy, and load only lowers that.
        A speedup is not checked: a busy spell during a sequential run pushes it up (see `PythonThreads`)."""
        with_gil = [r for r in self.threads() if r.gil]
        held = all(r.cores_busy < GIL_BOUND for r in with_gil)
        return "\n".join([f"every Python with the GIL on kept its threads under {GIL_BOUND:g} cores busy: {held}",
                          *self._notes()])


def across_pythons(found: list | None = None, *, most: int = 2, workers: tuple[int, ...] = (1, 2),
                   tasks: int = 4, task_seconds: float = 0.05) -> AcrossPythons:
    """`compare_interpreters`, with this Python measured even when no other is ready, and the load meanwhile."""
    from .. import interpreters
    from ..load import LoadMeter

    found = interpreters.find_interpreters() if found is None else found
    meter = LoadMeter()
    records = _sweep_pythons(found, most, workers, tasks, task_seconds)
    return AcrossPythons(tuple(records), meter.read())


# -- subinterpreters -------------------------------------------------------------


def subinterpreters_status() -> str:
    """Whether this Python can run the `interpreters` backend, and if not, why (its own refusal)."""
    from ..runners.interpreters import check_available

    try:
        check_available()
    except ValueError as exc:
        return f"not here: {exc}"
    return f"available: Python {sys.version.split()[0]} has concurrent.futures.InterpreterPoolExecutor"


# -- Dask ------------------------------------------------------------------------


@dataclass(frozen=True)
class DaskComparison:
    """The same CPU tasks on local processes and on a Dask LocalCluster, each against sequential."""

    rows: tuple[dict[str, Any], ...]
    same_results: bool
    missing: str = ""
    load: Any = None
    """`load.Load` while both were measured (None: not measured)."""

    def note(self) -> str:
        return self.load.note() if self.load is not None else "nothing was measured"

    def to_dataframe(self) -> Any:
        import pandas as pd

        return pd.DataFrame(list(self.rows))

    def __repr__(self) -> str:
        if self.missing:
            return self.missing
        table = self.to_dataframe().to_string(index=False, float_format=lambda x: f"{x:.3f}")
        return f"{table}\n{self.note()}"


def dask_vs_processes(max_workers: int = 2, tasks: int = 8, task_seconds: float = 0.05) -> DaskComparison:
    """Start-up, wall time, speedup and the per-task cost of getting work there and back (dispatch +
    collection, per task) for processes and for Dask, on calibrated `cpu` tasks."""
    from ..api import run
    from ..calibration import calibrate

    try:
        import distributed  # noqa: F401
    except ImportError:
        return DaskComparison((), False, "distributed is not installed: pip install -e '.[dask]' (or conda "
                                         "install distributed), then run this cell again")
    from ..load import LoadMeter

    meter = LoadMeter()
    size = calibrate("cpu", task_seconds)
    seq = run("cpu", backend="sequential", size=size, tasks=tasks)
    rows, results = [], [seq.results]
    for backend in ("processes", "dask"):
        rec = run("cpu", backend=backend, max_workers=max_workers, size=size, tasks=tasks)
        rec.raise_for_errors()
        results.append(rec.results)
        cost = rec.overhead()
        rows.append({"backend": backend, "workers": max_workers, "startup_s": rec.startup, "wall_s": rec.wall,
                     "speedup": seq.wall / rec.wall,
                     "trip_ms_per_task": (cost["dispatch"] + cost["collection"]) / tasks * 1e3})
    return DaskComparison(tuple(rows), all(r == results[0] for r in results), load=meter.read())


# -- another machine, replayed ---------------------------------------------------


@dataclass(frozen=True)
class ReplayedMachine:
    """Where a recording was measured, read from its own `.machine.json`, beside this machine's cores."""

    name: str
    cores: int
    platform: str
    python: str
    recorded_at: str
    command: str
    cores_here: int
    most_shipped: int
    """The most cores of any recording shipped in `replay.RECORDED_DIR` (0: none shipped)."""

    def __repr__(self) -> str:
        than = (f"more than this machine's {self.cores_here}" if self.cores > self.cores_here
                else f"no more than this machine's {self.cores_here}: not a bigger machine")
        return (f"{self.name}: recorded on {self.cores} cores ({than}), {self.platform}, Python {self.python}, "
                f"{self.recorded_at[:10]}\nmade with: {self.command}")

    def verdict(self) -> str:
        """What holds wherever the notebook runs, with any set of shipped recordings."""
        return (f"the recording says where it was measured (cores, machine, date): "
                f"{bool(self.cores and self.platform and self.recorded_at)}\n"
                f"no shipped recording has more cores than the one replayed: {self.cores >= self.most_shipped}")


def replayed_machine(recording: Any = "default") -> ReplayedMachine:
    """Describe a recording (`replay.resolve`: "default" is the shipped one with the most cores) from its
    own machine file, so a lesson never types where it came from."""
    from .. import info, replay

    rec = replay.resolve(recording)
    m = rec.machine
    shipped = [int(r.machine.get("cores_usable", 0)) for r in replay.recordings()]
    return ReplayedMachine(rec.path.name, int(m.get("cores_usable", 0)), str(m.get("platform", "")),
                           str(m.get("python", "?")), str(m.get("recorded_at", "")), str(m.get("command", "")),
                           info.usable_cores(), max(shipped, default=0))
