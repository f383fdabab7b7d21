"""StartMethodExplorer: pool start-up under fork, forkserver and spawn, and what the raw standard library
does with a function defined in a notebook under each (run in a child Python, `children.run_child`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import config
from ._base import MAX_REPEATS, SLIDER_WORKERS, Explorer, Progress, small_or, some_of, whole
from ._panel import Panel, parse_tuple

#: How long the raw-stdlib demo (a child `python -c`) may take before it is killed.
STDLIB_DEMO_TIMEOUT_S = 30.0


#: A function as a notebook cell defines it: it lives in `__main__`.
NOTEBOOK_SOURCE = "def square(x):\n    return x * x\n"

#: The stdlib, with nothing of ours: a `__main__` function sent to a raw ProcessPoolExecutor.
_STDLIB_SCRIPT = NOTEBOOK_SOURCE + """
import multiprocessing, sys
from concurrent.futures import ProcessPoolExecutor
if __name__ == "__main__":
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(sys.argv[1])) as pool:
        print("square(7) =", pool.submit(square, 7).result(timeout=20))
"""


def notebook_function() -> Callable[[int], int]:
    """`square`, defined in a namespace called `__main__`, exactly as a notebook cell defines it."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(NOTEBOOK_SOURCE, namespace)  # noqa: S102 - fixed source, the point of the demo
    return namespace["square"]


@dataclass(frozen=True)
class StdlibOutcome:
    """What a raw `ProcessPoolExecutor` did with a `__main__` function under one start method."""

    start_method: str
    ok: bool
    message: str
    """The child's last meaningful output line (its result or its error)."""
    explanation: str
    """The same in plain words."""


def stdlib_notebook_function(start_method: str, stop: threading.Event | None = None,
                             timeout: float = STDLIB_DEMO_TIMEOUT_S) -> StdlibOutcome:
    """Run the raw-stdlib demo in a child `python -c` (so our kernel is never at risk), bounded."""
    from ..children import python, run_child

    done = run_child(python("-c", _STDLIB_SCRIPT, start_method), timeout=timeout, stop=stop, merge_stderr=True)
    if done.stopped or done.timed_out:
        why = "stopped" if done.stopped else f"no answer within {timeout:g} s"
        return StdlibOutcome(start_method, False, why, f"The demo was ended: {why}.")
    message = _key_line(done.stdout)
    why = explain_stdlib(start_method, done.returncode, done.stdout)
    return StdlibOutcome(start_method, done.returncode == 0, message, why)


def _key_line(output: str) -> str:
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    # The result line must start with its marker: Python 3.13+ quotes the source line
    # `print("square(7) =", ...)` in tracebacks, which contains it too.
    for marker, at_start in (("square(7) =", True), ("Can't get attribute", False), ("BrokenProcessPool", False),
                             ("Error", False)):
        found = [ln for ln in lines if (ln.startswith(marker) if at_start else marker in ln)]
        if found:
            return found[-1]
    return lines[-1] if lines else ""


def explain_stdlib(start_method: str, returncode: int, output: str) -> str:
    """Plain words for what happened to a `__main__` function in a raw pool."""
    if returncode == 0:
        return ("It worked: fork copies the parent's memory, function included, so each worker already has "
                "`square`. Only under fork, and only for functions defined before the pool started its workers; "
                "fork is no longer the default (Python 3.14 uses forkserver on Linux, spawn on macOS and Windows).")
    if "Can't get attribute" in output:
        return (f"Under {start_method}, each worker is a fresh Python. The pool sends `square` by name "
                "(`__main__.square`), and the worker looks that name up in its own `__main__`. A notebook or "
                "`python -c` has no file the worker can re-import, so the name is missing: the worker fails to "
                "unpickle the task (AttributeError: Can't get attribute 'square'), dies, and the pool marks "
                "itself broken (BrokenProcessPool). concurrency_lab sends such functions by value (cloudpickle), "
                "so the same function runs under every start method.")
    return f"The raw pool failed under {start_method} (exit code {returncode}): {_key_line(output)}"


@dataclass(frozen=True)
class StartMethodSettings:
    """Which start methods to compare, with how many workers."""

    methods: tuple[str, ...] = field(default_factory=config.available_start_methods)
    workers: int = 2
    repeats: int = field(default_factory=lambda: small_or(1, 3))
    notebook_function: bool = True
    """Also show what the raw stdlib does with a notebook function under each method."""

    def __post_init__(self) -> None:
        some_of(tuple(self.methods), "methods", config.available_start_methods())
        whole(self.workers, "workers", 1, config.MAX_WORKERS_CAP)
        whole(self.repeats, "repeats", 1, MAX_REPEATS)
        if not isinstance(self.notebook_function, bool):
            raise TypeError(f"notebook_function: expected True or False, got {self.notebook_function!r}")


class StartMethodPanel(Panel):
    parsers = {"methods": parse_tuple}
    note = ("<b>fork, forkserver, spawn.</b> Bars: seconds to start the pool. Table: whether a function defined "
            "in the notebook runs in our runner (sent by value) and in a raw ProcessPoolExecutor, and why.")

    def make_controls(self, w: Any, s: StartMethodSettings) -> dict[str, Any]:
        return {
            "methods": w.SelectMultiple(options=config.available_start_methods(), value=s.methods,
                                        description="methods"),
            "workers": w.IntSlider(min=1, max=max(SLIDER_WORKERS, s.workers), value=s.workers,
                                   description="workers"),
            "repeats": w.IntText(value=s.repeats, description="repeats"),
            "notebook_function": w.Checkbox(value=s.notebook_function, description="raw stdlib demo"),
        }


    def draw(self) -> None:
        from .. import plots

        ax = self.axes[0]
        ax.clear()
        if self.model.records:
            plots.overhead(list(self.model.records), ax=ax, components=("startup",))


class StartMethodExplorer(Explorer):
    """Pool start-up per start method, measured by running a notebook-defined
    function through our runner (it works everywhere), next to what the raw
    stdlib does with the same function (it breaks under spawn and forkserver)."""

    Settings = StartMethodSettings
    Panel = StartMethodPanel

    def __init__(self, settings: Any = None, **changes: Any) -> None:
        super().__init__(settings, **changes)
        self.outcomes: list[StdlibOutcome] = []

    def _measure(self, s: StartMethodSettings, stop: threading.Event, progress: Progress) -> None:
        from .. import api

        fn, self.outcomes = notebook_function(), []
        total = len(s.methods) * (s.repeats + int(s.notebook_function))
        progress(0, total)
        for _ in range(s.repeats):
            for method in s.methods:
                rec = api.run(fn, backend="processes", start_method=method, max_workers=s.workers,
                              items=list(range(s.workers)), stop=stop)
                if stop.is_set():
                    return
                self.records.append(rec)
                progress(len(self.records), total)
        for method in s.methods if s.notebook_function else ():
            self.outcomes.append(stdlib_notebook_function(method, stop))
            if stop.is_set():
                return
            progress(len(self.records) + len(self.outcomes), total)

    def table(self) -> Any:
        import pandas as pd

        if not self.records:
            return None
        df = pd.DataFrame([{"start_method": r.start_method, "startup_ms": r.startup * 1e3,
                            "ours_ok": r.ok and list(r.results) == [x * x for x in range(len(r.results))]}
                           for r in self.records])
        out = df.groupby("start_method", sort=False).agg(startup_ms=("startup_ms", "median"),
                                                         ours_ok=("ours_ok", "all")).reset_index()
        raw = {o.start_method: o for o in self.outcomes}
        out["raw_stdlib"] = [raw[m].message if m in raw else "" for m in out["start_method"]]
        out["why"] = [raw[m].explanation if m in raw else "" for m in out["start_method"]]
        return out
