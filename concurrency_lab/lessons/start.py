"""Lesson 00 (start here): the environment check, and the first run's auto-check."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from .. import config
from ..info import gil_enabled, usable_cores
from ..records import RunRecord
from ._feedback import CROSS, TICK, Feedback

__all__ = ['Check', 'CheckReport', 'environment_check', 'widget_check', 'check_first_run', 'Measured', 'measure',
           'stdlib_start_method']

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
    n = usable_cores()
    if n >= 2:
        return Check("cores", True, f"{n} usable: processes can run CPU work {n} at a time")
    return Check("cores", False, "1 usable core: every lesson runs, but no backend can speed up CPU work here")


def _check_gil() -> Check:
    on = gil_enabled()
    what = ("on: threads take turns on pure-Python work" if on
            else "off (a free-threaded build): threads can run Python code at the same time")
    return Check("GIL", True, what)


def stdlib_start_method(platform: str | None = None, version: tuple[int, int] | None = None) -> str:
    """The standard library's own default start method: fork on Linux (and other POSIX but macOS) up to
    3.13, forkserver there from 3.14, spawn on macOS (since 3.8) and Windows. Computed, not asked:
    `multiprocessing.get_start_method()` would fix the default for this kernel as a side effect."""
    platform = sys.platform if platform is None else platform
    version = sys.version_info[:2] if version is None else version
    if platform == "win32" or platform == "darwin":
        return "spawn"
    return "forkserver" if version >= (3, 14) else "fork"


def _check_start_method() -> Check:
    method, stdlib = config.default_start_method(), stdlib_start_method()
    same = "the same as" if method == stdlib else "where"
    return Check("start method", True, f"this library's pools use {method} (as Python 3.14 does), {same} "
                 f"the standard library's own default here{'' if method == stdlib else ' is ' + stdlib}; "
                 f"available: {', '.join(config.available_start_methods())}")


def _check_processes() -> Check:
    from ..api import run

    try:
        rec = run("tiny", backend="processes", max_workers=2, tasks=4, timeout=60)
    except Exception as exc:  # the point of a check is to say what broke
        return Check("processes", False, f"a pool of 2 failed to run: {exc}")
    return Check("processes", rec.ok, "a pool of 2 worker processes ran 4 tasks" if rec.ok else
                 f"tasks failed: {rec.failures[0].error.strip().splitlines()[-1]}")


def _check_local_server() -> Check:
    from ..servers import LocalHTTPServer

    with LocalHTTPServer(latency=0.0) as server:
        got = server.task(timeout=10)(100)
    return Check("local server", got == 100, "the I/O demos' server answers on 127.0.0.1; no internet is needed")


def environment_check() -> CheckReport:
    """Everything the lessons rely on, each ticked or explained."""
    return CheckReport((_check_python(), _check_packages(), _check_widgets(), _check_cores(), _check_gil(),
                        _check_start_method(), _check_processes(), _check_local_server()))


@dataclass(frozen=True)
class Measured:
    """An explorer's blocking run: its records, and how busy other programs kept the machine meanwhile."""

    records: list[RunRecord]
    load: Any
    """A `load.Load`: `load.note()` is the line to print beside any comparison drawn from `records`."""

    def __repr__(self) -> str:
        runs = ", ".join(f"{r.backend} x{r.max_workers}" for r in self.records)
        return f"{len(self.records)} runs measured: {runs}\n{self.load.note()}"


def measure(explorer: Any, **changes: Any) -> Measured:
    """`explorer.run(**changes)` (blocking), with the load other programs put on the machine during it."""
    from ..load import LoadMeter as Meter

    meter = Meter()
    records = explorer.run(**changes)
    return Measured(list(records), meter.read())


def widget_check() -> Any:
    """A slider: if it renders, widgets work in this JupyterLab."""
    import ipywidgets

    return ipywidgets.IntSlider(value=2, min=1, max=8, description="workers")


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
