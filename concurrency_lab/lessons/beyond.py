"""Lesson 10 (beyond one machine and beyond the GIL): start methods and the 3.14 default, other
interpreters (free-threaded builds), subinterpreters, Dask, and a bigger machine's sweep replayed.

Everything here either measures on this machine or says plainly why it cannot (no such interpreter,
no `distributed`, a Python older than 3.14): a lesson about what lies beyond must not fake it.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import sys
from dataclasses import dataclass
from typing import Any

from .. import config
from ..timing import fastest
from ._feedback import Feedback

__all__ = ["DaskComparison", "StartupByMethod", "check_default_start_methods", "compare_interpreters",
           "dask_vs_processes", "interpreter_speedups", "python_default_start_method", "startup_by_method",
           "subinterpreters_status"]

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

    @property
    def fastest(self) -> str:
        return min(self.seconds, key=self.seconds.__getitem__)

    def __repr__(self) -> str:
        rows = [f"{m:<11} {s * 1e3:7.1f} ms" for m, s in self.seconds.items()]
        return "pool of 2 started and ready, fastest of the repeats:\n" + "\n".join(rows)


def startup_by_method(repeats: int = 2, workers: int = 2) -> StartupByMethod:
    """Start a pool with every start method this platform has, and time it (our runner's `startup`)."""
    from ..api import run

    def startup(method: str) -> float:
        rec = run("tiny", backend="processes", start_method=method, max_workers=workers, tasks=workers)
        rec.raise_for_errors()
        return rec.startup

    methods = config.available_start_methods()
    return StartupByMethod(fastest({m: functools.partial(startup, m) for m in methods}, repeats))


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
    from ..calibration import calibrate
    from ..experiments import sweep

    found = interpreters.find_interpreters() if found is None else found
    others = sorted((i for i in found if i.ready and not i.current), key=lambda i: (not i.free_threaded, i.version))
    if not others:
        return []
    here = next(i for i in found if i.current)
    sizes = {"cpu": calibrate("cpu", task_seconds)}
    records = [_tag(rec, here.label) for rec in sweep(("threads", "processes"), workers, ("cpu",), tasks=tasks,
                                                      sizes=sizes)]
    for other in others[:most]:  # each calibrates its own size: the same time per task, not the same steps
        records += interpreters.sweep_in(other, ("threads", "processes"), workers, ("cpu",), tasks=tasks,
                                         task_seconds=task_seconds)
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

    def to_dataframe(self) -> Any:
        import pandas as pd

        return pd.DataFrame(list(self.rows))

    def __repr__(self) -> str:
        if self.missing:
            return self.missing
        return self.to_dataframe().to_string(index=False, float_format=lambda x: f"{x:.3f}")


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
    return DaskComparison(tuple(rows), all(r == results[0] for r in results))
