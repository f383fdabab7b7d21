"""What the notebooks call: the environment check and the exercises' auto-checks.

Cells stay short (import, call, show); the logic and its tests live here.
Each check answers in words a learner can act on, and has a plain-text repr,
so nbval can compare it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from . import config
from .records import RunRecord, _gil_enabled, _usable_cores

TICK, CROSS = "\u2713", "\u2717"


@dataclass(frozen=True)
class Check:
    """One line of the environment check: ticked, or explained."""

    name: str
    ok: bool
    detail: str

    def __str__(self) -> str:
        return f"{TICK if self.ok else CROSS} {self.name}: {self.detail}"


@dataclass(frozen=True)
class CheckReport:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def verdict(self) -> str:
        passed = sum(c.ok for c in self.checks)
        if self.ok:
            return f"All {passed} checks passed: this machine is ready for the lessons."
        failed = ", ".join(c.name for c in self.checks if not c.ok)
        return f"{passed} of {len(self.checks)} checks passed; look at: {failed}."

    def __repr__(self) -> str:
        return "\n".join(str(c) for c in self.checks)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _check_python() -> Check:
    v = sys.version_info
    return Check("Python", v >= (3, 11), f"{v.major}.{v.minor}.{v.micro} (the lessons need 3.11 or newer)")


def _check_packages() -> Check:
    needed = ("ipywidgets", "matplotlib", "pandas", "psutil", "cloudpickle", "numpy", "threadpoolctl")
    missing = [p for p in needed if _version(p) is None]
    if missing:
        return Check("packages", False, f"missing {', '.join(missing)}: run `make lab` again, or pip install them")
    return Check("packages", True, ", ".join(f"{p} {_version(p)}" for p in needed))


def _check_widgets() -> Check:
    front = _version("jupyterlab_widgets") or _version("widgetsnbextension")
    major = int((_version("ipywidgets") or "0").split(".")[0])
    ok = major >= 8 and front is not None
    detail = (f"ipywidgets {_version('ipywidgets')} with its JupyterLab extension {front}: the box below "
              "should show a slider" if ok else "ipywidgets 8 and jupyterlab_widgets are needed for the explorers")
    return Check("widgets", ok, detail)


def _check_cores() -> Check:
    n = _usable_cores()
    if n >= 2:
        return Check("cores", True, f"{n} usable: processes can run CPU work {n} at a time")
    return Check("cores", False, "1 usable core: every lesson runs, but no backend can speed up CPU work here")


def _check_gil() -> Check:
    on = _gil_enabled()
    what = ("on: threads take turns on pure-Python work" if on
            else "off (a free-threaded build): threads can run Python code at the same time")
    return Check("GIL", True, what)


def _check_start_method() -> Check:
    method = config.default_start_method()
    return Check("start method", True, f"{method} by default (as Python 3.14 does); available: "
                 f"{', '.join(config.available_start_methods())}")


def _check_processes() -> Check:
    from .api import run

    try:
        rec = run("tiny", backend="processes", max_workers=2, tasks=4, timeout=60)
    except Exception as exc:  # the point of a check is to say what broke
        return Check("processes", False, f"a pool of 2 failed to run: {exc}")
    return Check("processes", rec.ok, "a pool of 2 worker processes ran 4 tasks" if rec.ok else
                 f"tasks failed: {rec.failures[0].error.strip().splitlines()[-1]}")


def _check_local_server() -> Check:
    from .servers import LocalHTTPServer

    with LocalHTTPServer(latency=0.0) as server:
        got = server.task(timeout=10)(100)
    return Check("local server", got == 100, "the I/O demos' server answers on 127.0.0.1; no internet is needed")


def environment_check() -> CheckReport:
    """Everything the lessons rely on, each ticked or explained."""
    return CheckReport((_check_python(), _check_packages(), _check_widgets(), _check_cores(), _check_gil(),
                        _check_start_method(), _check_processes(), _check_local_server()))


def widget_check() -> Any:
    """A slider: if it renders, widgets work in this JupyterLab."""
    import ipywidgets

    return ipywidgets.IntSlider(value=2, min=1, max=8, description="workers")


# -- exercises -------------------------------------------------------------------


@dataclass(frozen=True)
class Feedback:
    """What an auto-check says: right, or what to look at."""

    ok: bool
    message: str

    def __repr__(self) -> str:
        return f"{TICK + ' Right' if self.ok else CROSS + ' Not yet'}: {self.message}"


def check_first_run(rec: Any) -> Feedback:
    """Exercise 00: a run of `cpu` on processes, 2 workers, 4 tasks, every task ok."""
    if rec is None:
        return Feedback(False, "set `rec` to the record `cl.run(...)` returns")
    if not isinstance(rec, RunRecord):
        return Feedback(False, f"`rec` is a {type(rec).__name__}; it should be what `cl.run(...)` returns")
    wrong = []
    if rec.workload != "cpu":
        wrong.append(f"the workload is {rec.workload!r}, not 'cpu'")
    if rec.backend != "processes":
        wrong.append(f"the backend is {rec.backend!r}, not 'processes'")
    if rec.max_workers != 2:
        wrong.append(f"max_workers is {rec.max_workers}, not 2")
    if len(rec.events) != 4:
        wrong.append(f"it ran {len(rec.events)} tasks, not 4")
    if not rec.ok:
        wrong.append("some tasks failed: look at rec.failures")
    if wrong:
        return Feedback(False, "; ".join(wrong) + ".")
    return Feedback(True, f"4 cpu tasks ran in worker processes of their own (see their pids), "
                          f"started with {rec.start_method}.")


# -- lesson 02: CPU-bound work and the GIL ------------------------------------------


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

    from .workloads import tiny

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


def check_larger_serial_fraction(answer: Any, fit: Any) -> Feedback:
    """Exercise 02: which backend's measured serial fraction is larger?"""
    choices = ("threads", "processes")
    if answer not in choices:
        return Feedback(False, f"set `answer` to one of {choices}, after looking at the fitted `s` column")
    fitted = {row.backend: row.s for row in fit.itertuples()}
    missing = [b for b in choices if b not in fitted]
    if missing:
        return Feedback(False, f"the fit has no {missing[0]} row: measure both backends first")
    larger = max(choices, key=lambda b: fitted[b])
    if answer != larger:
        return Feedback(False, f"look again: {answer} has the smaller serial fraction in your measurement.")
    return Feedback(True, "that backend has the larger serial fraction in your measurement.")


# -- lesson 01: threads and processes --------------------------------------------

#: A module-level global that lesson 01 mutates from a thread and from a process.
COUNTER = {"value": 0}


def bump_counter(_: object = None) -> int:
    """Add one to `COUNTER` in whatever process runs this; return the value seen there."""
    COUNTER["value"] += 1
    return COUNTER["value"]


@dataclass(frozen=True)
class SharedMemoryDemo:
    """What the parent sees of a global after a worker changed it."""

    backend: str
    worker_saw: int
    parent_sees: int

    def __repr__(self) -> str:
        shared = "shares" if self.parent_sees == self.worker_saw else "does not share"
        return (f"{self.backend}: the worker set the counter to {self.worker_saw}; the parent now sees "
                f"{self.parent_sees}, so a {self.backend[:-2] if self.backend.endswith('es') else self.backend[:-1]}"
                f" {shared} the parent's memory")


def mutate_global(backend: str) -> SharedMemoryDemo:
    """Reset `COUNTER`, bump it once in a worker of `backend`, and report what the parent sees."""
    from .api import run

    COUNTER["value"] = 0
    rec = run(bump_counter, backend=backend, max_workers=1, items=[None])
    rec.raise_for_errors()
    return SharedMemoryDemo(backend, rec.results[0], COUNTER["value"])


def memory_verdict(measurements: Any) -> str:
    """One checked line from `MemoryExplorer.measurements`: which backend costs more per worker."""
    per = {}
    for m in measurements:
        per.setdefault(m.backend, []).append(m.total_mib / m.workers)
    if not {"threads", "processes"} <= set(per):
        return "measure both threads and processes to compare them"
    more = max(("threads", "processes"), key=lambda b: min(per[b]))
    return f"per worker, {more} cost more memory than {'threads' if more == 'processes' else 'processes'}"


def check_shared_memory(answer: Any) -> Feedback:
    """Exercise 01: after a *thread* bumps the counter from 0, what does the parent see?"""
    if answer is None:
        return Feedback(False, "set `answer` to the number you expect the parent to see")
    if answer == 0:
        return Feedback(False, "that is what happens with a process; a thread lives in the parent's memory.")
    if answer != 1:
        return Feedback(False, "the worker added one to 0, once.")
    demo = mutate_global("threads")
    return Feedback(demo.parent_sees == 1, "the thread changed the very dictionary the parent reads."
                    if demo.parent_sees == 1 else "unexpected: run the cell again")


# -- lesson 03: I/O-bound work -------------------------------------------------------


def compare_backends(workload: Any, size: Any, *, tasks: int = 16, max_workers: int = 8,
                     backends: tuple[str, ...] = ("sequential", "threads", "processes", "asyncio")) -> Any:
    """Wall time of the same tasks on each backend, and speedup over sequential (a DataFrame)."""
    import pandas as pd

    from .api import run

    rows = []
    for backend in backends:
        workers = 1 if backend == "sequential" else max_workers
        rec = run(workload, backend=backend, max_workers=workers, items=[size] * tasks)
        rec.raise_for_errors()
        rows.append({"backend": backend, "max_workers": workers, "tasks": tasks, "wall_s": rec.wall,
                     "startup_s": rec.startup})
    df = pd.DataFrame(rows)
    base = df.loc[df.backend == "sequential", "wall_s"]
    df["speedup"] = float(base.iloc[0]) / df["wall_s"] if len(base) else float("nan")
    return df


def overlapped(df: Any, at_least: float = 2.0) -> str:
    """A checked line: which backends overlapped the waiting (speedup >= `at_least`)."""
    fast = [b for b, s in zip(df["backend"], df["speedup"], strict=True) if b != "sequential" and s >= at_least]
    return f"overlapped the waiting ({at_least:g}x or better): {', '.join(fast) if fast else 'none'}"


def thread_counts(size: float = 0.05, tasks: int = 32, counts: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)) -> Any:
    """Wall time of `tasks` sleeps of `size` s on thread pools of each size (a DataFrame)."""
    import pandas as pd

    from .api import run

    rows = [{"threads": n, "wall_s": run("io_sleep", backend="threads", max_workers=n, size=size, tasks=tasks).wall}
            for n in counts]
    return pd.DataFrame(rows)


def more_threads_than_tasks_helped(df: Any, tasks: int) -> bool:
    """Did any pool with more threads than tasks beat the one with exactly `tasks` threads by 20%?"""
    at = df.loc[df.threads == tasks, "wall_s"]
    beyond = df.loc[df.threads > tasks, "wall_s"]
    return bool(len(at) and len(beyond) and (beyond < 0.8 * float(at.iloc[0])).any())


def check_io_estimate(answer: Any, tasks: int = 16, threads: int = 4, wait: float = 0.05) -> Feedback:
    """Exercise 03: how long do `tasks` waits of `wait` s take on `threads` threads?"""
    import math

    expected = math.ceil(tasks / threads) * wait
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return Feedback(False, "set `answer` to a number of seconds")
    if abs(answer - expected) > 0.25 * expected:
        hint = "too long: the threads wait at the same time" if answer > expected else "too short: each thread still waits its turns one after another"
        return Feedback(False, f"{hint}.")
    return Feedback(True, f"{tasks} tasks on {threads} threads are {math.ceil(tasks / threads)} rounds of "
                          f"{wait * 1000:g} ms each; the GIL is free while a thread waits.")
