"""Explorers: ipywidgets dashboards that wire controls to the library, and nothing more.

Each explorer is split as the jupyter-widgets tutorial splits an app:

- a plain-Python **model** (`ScalingExplorer`, ...): a frozen settings
  dataclass that refuses a bad value naming the field and what is allowed;
  `run(...)`, which blocks and returns the records (for CI notebooks and
  tests); and `start(...)` / `stop()`, the same run in a background thread
  with a progress callback, so a kernel stays responsive and Stop is honoured
  within the runner's poll interval;
- a thin **panel** (`explorer.widget`, or `explorer.display()`): controls,
  Run / Stop, a progress bar, a figure drawn by `plots` and a table from
  `analysis`, redrawn by a painter thread while the run goes on.

ipywidgets and matplotlib are imported only when a panel is built or drawn,
so importing this module (or the package) costs neither. `config.SMALL`
shrinks every default so a notebook cell finishes in seconds on 2 cores.
"""

from __future__ import annotations

import html
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from time import perf_counter_ns
from typing import Any, ClassVar

from . import config
from .records import RunRecord, TaskEvent

#: A progress callback: (points or tasks done, how many there will be).
Progress = Callable[[int, int], Any]

#: Most tasks a widget run takes: a notebook control is not the place for a million.
MAX_TASKS = 100_000
#: Most repeats: beyond 20 a sweep on a laptop takes longer than a lesson.
MAX_REPEATS = 20
#: Largest worker count a panel's slider offers: oversubscription shows at 2x the cores.
SLIDER_WORKERS = max(4, 2 * (os.cpu_count() or 1))
#: How often a panel redraws while a run goes on: often enough to look live,
#: rarely enough that drawing (~50-150 ms a figure) does not steal the cores measured.
REFRESH_S = 0.25
#: How long the raw-stdlib demo (a child `python -c`) may take before it is killed.
STDLIB_DEMO_TIMEOUT_S = 30.0
#: Workloads whose size is a number, so a sweep over them makes sense (crash and hang do not).
NUMERIC_WORKLOADS = ("cpu", "tiny", "io_sleep", "io_http", "io_file", "gil_release", "mixed", "memory")


# -- checks: each names the field and what is allowed -----------------------------

def _int(value: Any, name: str, low: int, high: int) -> int:
    from .runners.validate import check_int

    return check_int(value, name, low=low, high=high)


def _ints(values: Any, name: str, low: int, high: int) -> tuple[int, ...]:
    """A non-empty tuple of ints in [low, high]."""
    if isinstance(values, (int, str)) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"{name}: give a non-empty list of whole numbers, each {low} to {high}")
    return tuple(_int(v, name, low, high) for v in values)


def _choice(value: Any, name: str, choices: Sequence[str]) -> str:
    from .runners.validate import check_choice

    return check_choice(value, name, choices)


def _choices(values: Any, name: str, choices: Sequence[str]) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"{name}: choose at least one of: {', '.join(choices)}")
    return tuple(_choice(v, name, choices) for v in values)


def _size(value: Any, name: str = "size") -> int | float | None:
    """None (the workload's own size) or a positive number."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name}: {value!r} is out of range; allowed: a number > 0, or empty for the default")
    return value


def _task_size(workload: str, size: Any, name: str = "size") -> int | float | None:
    """`_size`, and refused when one task of `workload` would run longer than an explorer allows."""
    from .workloads import get, seconds_per_task

    if _size(size, name) is None:
        return None
    seconds = seconds_per_task(workload, size)
    limit = config.EXPLORER_MAX_TASK_S
    if seconds is not None and seconds > limit:
        unit = get("cpu" if workload == "cpu_traced" else workload).unit
        shown = f"{size:,}" if isinstance(size, int) else f"{size:g}"
        raise ValueError(f"{name}: {shown} would make one {workload} task run about {seconds:,.0f} s here "
                         f"(its size counts {unit}); an explorer runs tasks of at most {limit:g} s. "
                         "Leave it empty for the workload's default.")
    return size


def _number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{name}: {value!r} is out of range; allowed: {low} to {high}")
    return float(value)


def backend_specs(*, sequential: bool = True, in_process: bool = True) -> tuple[str, ...]:
    """The backend specs this machine can run: "threads", "processes:spawn", ..."""
    base = (("sequential",) if sequential else ()) + (("threads", "asyncio") if in_process else ("threads",))
    return base + tuple(f"processes:{m}" for m in config.available_start_methods())


def _accepted(*, sequential: bool = True, in_process: bool = True) -> tuple[str, ...]:
    """`backend_specs` plus plain "processes" (the default start method)."""
    return (*backend_specs(sequential=sequential, in_process=in_process), "processes")


def _option(spec: str) -> str:
    """A spec as a panel's options name it: plain "processes" gets its default start method spelled out."""
    return f"processes:{config.default_start_method()}" if spec == "processes" else spec


def _backend(spec: str, name: str = "backend") -> str:
    return _choice(spec, name, _accepted())


def _small(small: Any, large: Any) -> Any:
    """The SMALL-mode default or the normal one, read when a settings object is made."""
    return small if config.SMALL else large


# -- the model: settings, a blocking run, a background run ----------------------------

class Explorer:
    """What every explorer shares: settings, `run` (blocking), `start`/`stop` (background).

    Subclasses set `Settings` and `Panel` and implement `_measure`, which
    appends to `self.records` as results come in and calls `progress`.
    """

    Settings: ClassVar[type]
    Panel: ClassVar[type]

    def __init__(self, settings: Any = None, **changes: Any) -> None:
        self.settings = replace(settings or self.Settings(), **changes)
        self.records: list[RunRecord] = []
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._panel: Any = None

    def configure(self, **changes: Any) -> Any:
        """New settings, validated as a whole before anything starts."""
        if self.running:
            raise RuntimeError("a run is going on: stop() it before changing the settings")
        self.settings = replace(self.settings, **changes)
        return self.settings

    def run(self, progress: Progress | None = None, **changes: Any) -> list[RunRecord]:
        """Measure with the settings (and `changes`), blocking; return the records."""
        self.configure(**changes)
        self._stop = threading.Event()
        return self._run(self._stop, progress)

    def start(self, progress: Progress | None = None, **changes: Any) -> threading.Thread:
        """Like `run`, in a background thread: the kernel and the Stop button stay responsive."""
        self.configure(**changes)
        stop = self._stop = threading.Event()

        def body() -> None:
            try:
                self._run(stop, progress)
            except BaseException as exc:  # shown by the panel; a background thread has nobody to raise to
                self.error = exc

        self._thread = threading.Thread(target=body, name=f"concurrency-lab-{type(self).__name__}", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = 2.0) -> bool:
        """Ask the run to stop and wait up to `timeout` s; True once it has ended (workers gone)."""
        self._stop.set()
        return self.wait(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait (bounded) for a background run; True when none is going on."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.running

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopped(self) -> bool:
        """True when the last run was asked to stop."""
        return self._stop.is_set()

    @property
    def widget(self) -> Any:
        """The panel's root widget (built on first use; imports ipywidgets and matplotlib)."""
        return self.panel.root

    @property
    def panel(self) -> Any:
        if self._panel is None:
            self._panel = self.Panel(self)
        return self._panel

    def display(self) -> None:
        from IPython.display import display

        display(self.widget)

    def table(self) -> Any:
        """The results as a DataFrame (what the panel's table shows)."""
        raise NotImplementedError

    def _run(self, stop: threading.Event, progress: Progress | None) -> list[RunRecord]:
        self.records, self.error = [], None
        self._measure(self.settings, stop, progress or _ignore)
        return list(self.records)

    def _measure(self, settings: Any, stop: threading.Event, progress: Progress) -> None:
        raise NotImplementedError


def _ignore(done: int, total: int) -> None:
    pass


# -- ScalingExplorer ---------------------------------------------------------------

@dataclass(frozen=True)
class ScalingSettings:
    """A speedup sweep: backends x worker counts, against a sequential baseline."""

    backends: tuple[str, ...] = ("threads", "processes")
    workload: str = "cpu"
    workers: tuple[int, int] = field(default_factory=lambda: (1, _small(2, max(2, os.cpu_count() or 1))))
    """Lowest and highest worker count; every count between is measured."""
    size: int | float | None = None
    """One task's size (None: the workload's default)."""
    tasks: int = field(default_factory=lambda: _small(8, 16))
    mode: str = "fixed"
    """"fixed" total work (Amdahl) or "per_worker" (Gustafson: tasks x workers)."""
    repeats: int = field(default_factory=lambda: _small(1, 3))
    replay: Any = None
    """A recorded sweep to draw beside the live one: "default" (the biggest machine shipped in
    `concurrency_lab/recorded/`), a path to NAME.jsonl, or a `replay.Recording`; None for none."""

    def __post_init__(self) -> None:
        from . import replay
        from .experiments import MODES, parse_backend

        object.__setattr__(self, "replay", replay.resolve(self.replay))  # a bad path fails here, before a run

        _choices(tuple(self.backends), "backends", _accepted(sequential=False))
        for spec in self.backends:
            parse_backend(spec)
        _choice(self.workload, "workload", NUMERIC_WORKLOADS)
        pair = _ints(tuple(self.workers), "workers", 1, config.MAX_WORKERS_CAP)
        if len(pair) != 2 or pair[0] > pair[1]:
            raise ValueError(f"workers: {self.workers!r} is not a range; give (lowest, highest), "
                             f"1 <= lowest <= highest <= {config.MAX_WORKERS_CAP}")
        _task_size(self.workload, self.size)
        _int(self.tasks, "tasks", 1, MAX_TASKS)
        _choice(self.mode, "mode", MODES)
        _int(self.repeats, "repeats", 1, MAX_REPEATS)

    def worker_counts(self) -> list[int]:
        return list(range(self.workers[0], self.workers[1] + 1))


class ScalingExplorer(Explorer):
    """Speedup vs workers per backend; the plot and table grow after every measured point.

    Each point gets a fresh pool (its start-up is in the record, `cold=True`
    plots include it), and points interleave so a machine slowing down hurts all alike.
    """

    Settings = ScalingSettings

    def _measure(self, s: ScalingSettings, stop: threading.Event, progress: Progress) -> None:
        from .experiments import iter_sweep, plan

        points = plan(s.backends, s.worker_counts(), [s.workload], repeats=s.repeats, tasks=s.tasks, mode=s.mode)
        sizes = None if s.size is None else {s.workload: s.size}
        progress(0, len(points))
        for rec in iter_sweep(points, sizes, stop=stop):
            if stop.is_set():
                break  # a point cut short would pull its curve down: it is left out
            self.records.append(rec)
            progress(len(self.records), len(points))

    def recorded(self) -> Any:
        """The replayed recording's runs of this explorer's workload (None without `replay`)."""
        recording = self.settings.replay
        if recording is None:
            return None
        same = tuple(r for r in recording.records if r.workload == self.settings.workload)
        return replace(recording, records=same)

    def table(self) -> Any:
        import pandas as pd

        from . import analysis

        if not self.records:
            return None
        cols = ["source", "backend", "start_method", "max_workers", "tasks", "time", "speedup", "efficiency",
                "repeats"]
        live = analysis.speedup(list(self.records)).assign(source="live")
        recording = self.recorded()
        if recording is None:
            return live[cols[1:]]
        recorded = analysis.speedup(list(recording.records)).assign(source=recording.label)
        return pd.concat([live, recorded], ignore_index=True)[cols]


# -- TimelineExplorer ---------------------------------------------------------------

#: `cpu_traced` is not in the registry (its result is samples, not a number); it is what the activity lanes need.
TIMELINE_WORKLOADS = ("cpu_traced", *NUMERIC_WORKLOADS)


@dataclass(frozen=True)
class TimelineSettings:
    """One run, drawn as it happens."""

    backend: str = "threads"
    workers: int = 2
    workload: str = "cpu_traced"
    size: int | float | None = None
    tasks: int = field(default_factory=lambda: _small(8, 16))

    def __post_init__(self) -> None:
        _backend(self.backend)
        _int(self.workers, "workers", 1, 1 if self.backend == "sequential" else config.MAX_WORKERS_CAP)
        _choice(self.workload, "workload", TIMELINE_WORKLOADS)
        _task_size(self.workload, self.size)
        _int(self.tasks, "tasks", 1, MAX_TASKS)


class TimelineExplorer(Explorer):
    """A Gantt chart of one run that fills in as tasks finish, and (for
    `cpu_traced`) the lanes of when each worker really ran or waited for the GIL."""

    Settings = TimelineSettings

    def __init__(self, settings: Any = None, **changes: Any) -> None:
        super().__init__(settings, **changes)
        self.events: list[TaskEvent] = []
        self.samples: list[tuple[TaskEvent, Any]] = []

    def _measure(self, s: TimelineSettings, stop: threading.Event, progress: Progress) -> None:
        from . import api, workloads
        from .experiments import parse_backend

        backend, method = parse_backend(s.backend)
        fn: Any = s.workload
        size = s.size
        if s.workload == "cpu_traced":
            fn, size = workloads.cpu_traced, size or workloads.get("cpu").default_size
        self.events = []
        self.samples = []
        progress(0, s.tasks)
        traced = fn is workloads.cpu_traced

        def on_result(ev: TaskEvent, result: Any) -> None:
            if traced and ev.ok:
                self.samples.append((ev, result))  # before the event: a painter never sees one without the other
            self.events.append(ev)
            progress(len(self.events), s.tasks)

        self.records.append(api.run(fn, backend=backend, start_method=method, max_workers=s.workers, size=size,
                                    tasks=s.tasks, on_result=on_result, stop=stop))

    def partial_record(self) -> RunRecord | None:
        """The run so far, as a record (the final one once it has ended): what the live timeline draws."""
        if self.records:
            return self.records[-1]
        events = sorted(list(self.events), key=lambda e: e.index)
        if not events:
            return None
        from .experiments import parse_backend

        backend, method = parse_backend(self.settings.backend)
        return RunRecord(backend=backend, max_workers=self.settings.workers,
                         start_method=method or "", workload=self.settings.workload, params={},
                         wall=max(e.collected for e in events), startup=0.0, parent_peak_rss=0,
                         workers_peak_rss=0, events=tuple(events))

    def table(self) -> Any:
        from . import analysis

        rec = self.partial_record()
        if rec is None:
            return None
        if self.records and self.settings.workload == "cpu_traced" and any(e.ok for e in rec.events):
            return analysis.run_share(analysis.gil_activity(rec))
        return analysis.utilisation(rec)


# -- GranularityExplorer ---------------------------------------------------------

@dataclass(frozen=True)
class GranularitySettings:
    """Task size x chunk size, one warm pool, each size against its own sequential loop."""

    backend: str = "processes"
    workers: int = 2
    workload: str = "cpu"
    sizes: tuple[int, ...] = field(default_factory=lambda: _small((100, 10_000, 100_000), (10, 1_000, 10_000, 100_000)))
    chunksizes: tuple[int, ...] = (1, 16)
    tasks: int = field(default_factory=lambda: _small(64, 256))

    def __post_init__(self) -> None:
        _choice(self.backend, "backend", _accepted(sequential=False))
        _int(self.workers, "workers", 1, config.MAX_WORKERS_CAP)
        _choice(self.workload, "workload", ("cpu", "tiny"))
        for size in _ints(tuple(self.sizes), "sizes", 1, 10**8):
            _task_size(self.workload, size, "sizes")
        _int(self.tasks, "tasks", 1, MAX_TASKS)
        _ints(tuple(self.chunksizes), "chunksizes", 1, self.tasks)

    @classmethod
    def classic_map(cls) -> GranularitySettings:
        """`pool.map(square, range(n))`: the textbook example, measured."""
        return cls(workload="tiny", sizes=(3,), chunksizes=(1, 100), tasks=_small(1000, 10_000))


class GranularityExplorer(Explorer):
    """Where processes stop paying off: per-task overhead (pickling, the pipe,
    waking a worker) against the work in one task, and how chunking amortises it.

    `tiny` (x * x) is the classic `pool.map` example: each task costs less than
    a microsecond, its trip to a worker tens of microseconds, so a plain loop wins.
    """

    Settings = GranularitySettings

    def _measure(self, s: GranularitySettings, stop: threading.Event, progress: Progress) -> None:
        from . import workloads
        from .experiments import parse_backend
        from .runners import make_runner

        backend, method = parse_backend(s.backend)
        fn = workloads.get(s.workload).fn
        total = len(s.sizes) * (1 + len(s.chunksizes))
        progress(0, total)
        with make_runner("sequential") as seq, make_runner(backend, s.workers, start_method=method) as pool:
            for size in s.sizes:
                for runner, chunksize in [(seq, 1)] + [(pool, c) for c in s.chunksizes]:
                    rec = runner.run(fn, [size] * s.tasks, chunksize=chunksize, stop=stop, workload=s.workload,
                                     params={"size": size})
                    if stop.is_set():
                        return
                    self.records.append(rec)
                    progress(len(self.records), total)

    def table(self) -> Any:
        from . import analysis

        if not self.records:
            return None
        t = analysis.speedup(list(self.records))
        t["size"] = [json.loads(w).get("size") for w in t["work"]]
        t["us_per_task"] = t["time"] / t["tasks"] * 1e6
        t["pays_off"] = (t["speedup"] > 1.0) | (t["backend"] == "sequential")
        cols = ["size", "backend", "start_method", "chunksize", "us_per_task", "speedup", "pays_off"]
        return t.sort_values(["size", "backend", "chunksize"], key=_sequential_first)[cols].reset_index(drop=True)

    def labelled_frame(self) -> Any:
        """The per-task frame with one label per (size, chunksize), so `plots.overhead`
        draws a bar for each rather than pooling them by backend."""
        from .records import records_to_dataframe

        df = records_to_dataframe(list(self.records))
        params = [json.loads(p) for p in df["params"]]
        df["backend"] = [f"{b} size={p['size']} chunk={p['chunksize']}" for b, p in zip(df["backend"], params,
                                                                                         strict=True)]
        return df


def _sequential_first(column: Any) -> Any:
    return column.map(lambda b: "" if b == "sequential" else b) if column.name == "backend" else column


# -- StartMethodExplorer -----------------------------------------------------------

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
    proc = subprocess.Popen([sys.executable, "-c", _STDLIB_SCRIPT, start_method], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = perf_counter_ns() + int(timeout * 1e9)
    while True:
        try:
            out, _ = proc.communicate(timeout=config.POLL_INTERVAL_S)
            break
        except subprocess.TimeoutExpired:
            if (stop is not None and stop.is_set()) or perf_counter_ns() > deadline:
                _kill_group(proc)
                why = "stopped" if stop is not None and stop.is_set() else f"no answer within {timeout:g} s"
                return StdlibOutcome(start_method, False, why, f"The demo was ended: {why}.")
    message = _key_line(out)
    why = explain_stdlib(start_method, proc.returncode, out)
    return StdlibOutcome(start_method, proc.returncode == 0, message, why)


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the child and the pool workers it started (its whole session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        proc.kill()
    proc.communicate()


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
    repeats: int = field(default_factory=lambda: _small(1, 3))
    notebook_function: bool = True
    """Also show what the raw stdlib does with a notebook function under each method."""

    def __post_init__(self) -> None:
        _choices(tuple(self.methods), "methods", config.available_start_methods())
        _int(self.workers, "workers", 1, config.MAX_WORKERS_CAP)
        _int(self.repeats, "repeats", 1, MAX_REPEATS)
        if not isinstance(self.notebook_function, bool):
            raise TypeError(f"notebook_function: expected True or False, got {self.notebook_function!r}")


class StartMethodExplorer(Explorer):
    """Pool start-up per start method, measured by running a notebook-defined
    function through our runner (it works everywhere), next to what the raw
    stdlib does with the same function (it breaks under spawn and forkserver)."""

    Settings = StartMethodSettings

    def __init__(self, settings: Any = None, **changes: Any) -> None:
        super().__init__(settings, **changes)
        self.outcomes: list[StdlibOutcome] = []

    def _measure(self, s: StartMethodSettings, stop: threading.Event, progress: Progress) -> None:
        from . import api

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


# -- MemoryExplorer --------------------------------------------------------------

@dataclass(frozen=True)
class MemoryMeasurement:
    """What N idle-but-started workers cost, measured (MiB)."""

    backend: str
    start_method: str
    workers: int
    parent_delta_mib: float
    """Growth of the parent's resident memory from before the pool to after a first task (threads live here)."""
    workers_uss_mib: float
    """Sum of the worker processes' unique set sizes: what their exit would free (0 for threads)."""

    @property
    def total_mib(self) -> float:
        return self.parent_delta_mib + self.workers_uss_mib


@dataclass(frozen=True)
class MemorySettings:
    backends: tuple[str, ...] = ("threads", "processes")
    workers: tuple[int, ...] = field(default_factory=lambda: _small((1, 2), (1, 2, 4, 8)))

    def __post_init__(self) -> None:
        _choices(tuple(self.backends), "backends", _accepted(sequential=False, in_process=False))
        _ints(tuple(self.workers), "workers", 1, config.MAX_WORKERS_CAP)


class MemoryExplorer(Explorer):
    """Memory of N threads vs N processes: a thread adds a stack to one process;
    a process is a whole interpreter with its own copy of every module."""

    Settings = MemorySettings

    def __init__(self, settings: Any = None, **changes: Any) -> None:
        super().__init__(settings, **changes)
        self.measurements: list[MemoryMeasurement] = []

    def _measure(self, s: MemorySettings, stop: threading.Event, progress: Progress) -> None:
        self.measurements = []
        total = len(s.backends) * len(s.workers)
        progress(0, total)
        for spec in s.backends:
            for n in s.workers:
                if stop.is_set():
                    return
                rec, m = _measure_memory(spec, n, stop)
                if stop.is_set():
                    return
                self.records.append(rec)
                self.measurements.append(m)
                progress(len(self.records), total)

    def table(self) -> Any:
        import pandas as pd

        if not self.measurements:
            return None
        rows = [{**vars(m), "total_mib": m.total_mib, "per_worker_mib": m.total_mib / m.workers}
                for m in list(self.measurements)]
        return pd.DataFrame(rows)


def _measure_memory(spec: str, n: int, stop: threading.Event) -> tuple[RunRecord, MemoryMeasurement]:
    """Start a pool of `n`, run one tiny task per worker, and measure before closing it."""
    import psutil

    from . import workloads
    from .experiments import parse_backend
    from .memory import uss
    from .runners import make_runner

    backend, method = parse_backend(spec)
    me = psutil.Process()
    before = me.memory_info().rss
    runner = make_runner(backend, n, start_method=method)
    try:
        rec = runner.run(workloads.tiny, [3] * n, stop=stop, workload="tiny", params={"size": 3})
        parent = (me.memory_info().rss - before) / 2**20
        workers = sum(uss(pid) for pid in runner.worker_pids) / 2**20
    finally:
        runner.shutdown()
    return rec, MemoryMeasurement(backend, method or "", n, parent, workers)


# -- ConvoyLab ---------------------------------------------------------------------

#: Pause between two probes, so they sample the background work rather than each other.
PROBE_GAP_S = 0.002
#: One background CPU task: short, so a thread told to stop finishes its task promptly.
CONVOY_TASK_S = 0.01
#: Background scenarios: none, CPU-bound threads (sharing our GIL), CPU-bound processes (their own).
SCENARIOS = ("idle", "threads", "processes")


class EchoServer:
    """Echo bytes back, on 127.0.0.1 only, on a free port; one client at a time.

    Runs as a thread of this process on purpose: under the GIL its answers
    wait for CPU-bound threads here, which is the convoy effect being measured.
    """

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> EchoServer:
        sock = self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)
        sock.settimeout(config.POLL_INTERVAL_S)
        self._thread = threading.Thread(target=self._serve, name="concurrency-lab-echo", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join(2.0)
        if self._sock is not None:
            self._sock.close()

    @property
    def address(self) -> tuple[str, int]:
        assert self._sock is not None, "use EchoServer in a `with` block"
        return self._sock.getsockname()

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                self._echo(conn)

    def _echo(self, conn: socket.socket) -> None:
        conn.settimeout(config.POLL_INTERVAL_S)
        while not self._closed.is_set():
            try:
                data = conn.recv(64)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            conn.sendall(data)


def probe(address: tuple[str, int], count: int, stop: threading.Event,
          on_probe: Callable[[int], Any] | None = None) -> list[TaskEvent]:
    """Round trips of one byte to the echo server, as TaskEvents (submit = sent, collected = answered)."""
    t0, pid, tid = perf_counter_ns(), os.getpid(), threading.get_ident()
    events = []
    with socket.create_connection(address, timeout=5.0) as conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(count):
            if stop.wait(PROBE_GAP_S):
                break
            sent = perf_counter_ns()
            conn.sendall(b"x")
            conn.recv(1)
            back = perf_counter_ns()
            s, e = (sent - t0) / 1e9, (back - t0) / 1e9
            events.append(TaskEvent(i, "probe", pid, tid, s, s, e, e, 0.0, True))
            if on_probe is not None:
                on_probe(i + 1)
    return events


@dataclass(frozen=True)
class ConvoySettings:
    switch_interval_ms: float = 5.0
    """`sys.setswitchinterval` during the run, in ms (Python's default is 5 ms); restored afterwards."""
    cpu_workers: int = 2
    probes: int = field(default_factory=lambda: _small(30, 200))
    scenarios: tuple[str, ...] = SCENARIOS
    start_method: str | None = None

    def __post_init__(self) -> None:
        from .runners.validate import check_start_method

        _number(self.switch_interval_ms, "switch_interval_ms", 0.1, 50.0)
        _int(self.cpu_workers, "cpu_workers", 1, 64)
        _int(self.probes, "probes", 1, 10_000)
        _choices(tuple(self.scenarios), "scenarios", SCENARIOS)
        check_start_method(self.start_method)


class ConvoyLab(Explorer):
    """How long a tiny echo takes to answer while CPU-bound work runs: threads
    hold our GIL, so each I/O step waits up to a switch interval for it back;
    processes have their own GIL, and only compete for cores."""

    Settings = ConvoySettings

    def _measure(self, s: ConvoySettings, stop: threading.Event, progress: Progress) -> None:
        from . import workloads

        size = workloads.calibrate("cpu", CONVOY_TASK_S)
        total = s.probes * len(s.scenarios)
        progress(0, total)
        old = sys.getswitchinterval()
        sys.setswitchinterval(s.switch_interval_ms / 1e3)
        try:
            with EchoServer() as server:
                for k, scenario in enumerate(s.scenarios):
                    def on_probe(done: int, k: int = k) -> None:
                        progress(k * s.probes + done, total)

                    rec = _convoy_scenario(scenario, s, size, server.address, stop, on_probe)
                    if stop.is_set():
                        return
                    self.records.append(rec)
        finally:
            sys.setswitchinterval(old)

    def table(self) -> Any:
        from . import analysis

        if not self.records:
            return None
        lat = analysis.latency(list(self.records))
        ms = lat.assign(latency_ms=lat["latency"] * 1e3).groupby("backend", sort=False)["latency_ms"]
        out = ms.describe(percentiles=[0.5, 0.9])[["count", "50%", "90%", "max"]].reset_index()
        return out.rename(columns={"backend": "background", "50%": "median_ms", "90%": "p90_ms", "max": "max_ms"})


def _convoy_scenario(scenario: str, s: ConvoySettings, size: int, address: tuple[str, int],
                     stop: threading.Event, on_probe: Callable[[int], Any]) -> RunRecord:
    """Probe while `scenario`'s background CPU work runs; the background ends with the probes."""
    from . import workloads
    from .runners import make_runner

    method = s.start_method if scenario == "processes" else None
    runner = None if scenario == "idle" else make_runner(scenario, s.cpu_workers, start_method=method)
    background_stop = threading.Event()
    busy = threading.Event()
    thread = None
    if runner is not None:
        runner.start()
        items = [size] * (s.cpu_workers * 2_000)  # far more than the probes last; stopped when they end
        thread = threading.Thread(target=runner.run, args=(workloads.cpu, items),
                                  kwargs={"stop": background_stop, "on_event": lambda ev: busy.set()}, daemon=True)
        thread.start()
        deadline = perf_counter_ns() + 5 * 10**9
        while not (busy.wait(config.POLL_INTERVAL_S) or stop.is_set() or perf_counter_ns() > deadline):
            pass  # until a first task is done: the workers are computing
    try:
        events = probe(address, s.probes, stop, on_probe)
    finally:
        background_stop.set()
        if thread is not None:
            thread.join(5.0)
        if runner is not None:
            runner.shutdown(kill=True)
    n = 0 if runner is None else s.cpu_workers
    wall = max((e.collected for e in events), default=0.0)
    return RunRecord(backend=scenario, max_workers=n, start_method=runner.start_method if runner else "",
                     workload="echo_probe", params={"switch_interval_ms": s.switch_interval_ms,
                                                    "background": scenario, "cpu_workers": n},
                     wall=wall, startup=0.0, parent_peak_rss=0, workers_peak_rss=0, events=tuple(events))


# -- the panels: controls, Run / Stop, progress, a figure and a table ----------------

def _png(figure: Any) -> bytes:
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=80)
    return buf.getvalue()


def _html_table(frame: Any) -> str:
    if frame is None or len(frame) == 0:
        return ""
    return frame.to_html(index=False, border=0, float_format=lambda x: f"{x:.3g}", escape=True)


def _parse_size(text: str, name: str = "size") -> int | float | None:
    """A text box's number: "" is None (the default), "1e5" a float, "100000" an int."""
    text = str(text).strip().replace("_", "")
    if not text:
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    raise ValueError(f"{name}: {text!r} is not a number; allowed: a number > 0, or empty for the default")


def _parse_ints(text: str, name: str) -> tuple[int, ...]:
    """"1, 16, 256" -> (1, 16, 256), or an error naming the field."""
    parts = [p.strip().replace("_", "") for p in str(text).split(",") if p.strip()]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a comma-separated list of whole numbers, e.g. 1, 16") from None


class Panel:
    """The thin widget layer: controls -> settings -> model.start; a painter thread
    redraws the figure (via `plots`) and table (via `analysis`) while the run goes on.

    Tests drive it as a learner would: set `controls[...].value`, call
    `on_run()`, wait on `done`, look at `figure`, `table`, `status`.
    """

    figsize: ClassVar[tuple[float, float]] = (10.0, 5.5)
    rows: ClassVar[int] = 1
    note: ClassVar[str] = ""

    def __init__(self, model: Explorer) -> None:
        import ipywidgets as w
        import matplotlib as mpl
        from matplotlib.figure import Figure

        from . import plots

        self.model = model
        self.controls: dict[str, Any] = self.make_controls(w, model.settings)
        self.run_button = w.Button(description="Run", button_style="success", icon="play")
        self.stop_button = w.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.progress = w.IntProgress(min=0, max=1, value=0, description="progress")
        self.status = w.HTML()
        self.image = w.Image(format="png", layout=w.Layout(display="none"))  # no broken-image icon before a run
        self.table = w.HTML()
        with mpl.rc_context(plots.STYLE):
            self.figure = Figure(figsize=(self.figsize[0], self.figsize[1] * self.rows), layout="constrained")
            self.axes = [self.figure.add_subplot(self.rows, 1, i + 1) for i in range(self.rows)]
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.done.set()
        self._dirty = threading.Event()
        self._lock = threading.Lock()
        self.run_button.on_click(self.on_run)
        self.stop_button.on_click(self.on_stop)
        if "workload" in self.controls and "size" in self.controls:
            self.controls["workload"].observe(self.on_workload, names="value")
        buttons = w.HBox([self.run_button, self.stop_button, self.progress, self.status])
        self.root = w.VBox([w.HTML(self.note), w.HBox(list(self.controls.values()),
                                                      layout=w.Layout(flex_flow="row wrap")),
                            buttons, self.image, self.table])
        self._mark_for_tests(type(model).__name__)

    # -- what a subclass provides ------------------------------------------------
    def make_controls(self, w: Any, s: Any) -> dict[str, Any]:
        raise NotImplementedError

    def values(self) -> dict[str, Any]:
        """The controls' values as settings fields (a subclass converts text boxes)."""
        return {name: control.value for name, control in self.controls.items()}

    def draw(self) -> None:
        """Draw the model's results so far into `self.axes`."""
        raise NotImplementedError

    # -- handlers ----------------------------------------------------------------
    def on_run(self, _button: Any = None) -> bool:
        """Start a background run with the controls' values; refuse bad values with the error shown."""
        if not self.done.is_set():
            self._say("a run is already going on; press Stop first", error=True)
            return False
        try:
            self.model.configure(**self.values())
        except (ValueError, TypeError) as exc:
            self.error = exc
            self._say(str(exc), error=True)
            return False
        self.error = None
        self.done.clear()
        self._busy(True)
        self._say("running…")
        self.model.start(progress=self._on_progress)
        threading.Thread(target=self._paint_until_done, name="concurrency-lab-painter", daemon=True).start()
        return True

    def on_workload(self, _change: Any = None) -> None:
        """A size belongs to one workload (loop steps, seconds, bytes): a new workload starts from its default."""
        self.controls["size"].value = ""

    def on_stop(self, _button: Any = None) -> None:
        """Ask the run to stop; returns at once (the painter reports when it has)."""
        self._say("stopping…")
        self.model._stop.set()

    def refresh(self) -> None:
        """Redraw the figure and the table from the model's results so far."""
        with self._lock:
            self.draw()
            self.show(_png(self.figure))
            self.table.value = _html_table(self.model.table())

    def show(self, png: bytes) -> None:
        self.image.value = png
        self.image.layout.display = ""

    # -- plumbing ------------------------------------------------------------------
    def _mark_for_tests(self, kind: str) -> None:
        """CSS classes a real-browser test (tests/browser) finds the panel's parts by."""
        self.root.add_class("cl-explorer")
        self.root.add_class(f"cl-{kind}")
        for part, name in ((self.run_button, "run"), (self.stop_button, "stop"), (self.progress, "progress"),
                           (self.status, "status"), (self.image, "plot")):
            part.add_class(f"cl-{name}")

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.max = max(total, 1)
        self.progress.value = min(done, self.progress.max)
        self._dirty.set()

    def _paint_until_done(self) -> None:
        try:
            while not self.model.wait(REFRESH_S):
                if self._dirty.is_set():
                    self._dirty.clear()
                    self.refresh()
            self.refresh()
            self._finish_status()
        except Exception as exc:  # a drawing bug must not leave the buttons stuck
            self.error = exc
            self._say(f"drawing failed: {type(exc).__name__}: {exc}", error=True)
        finally:
            self._busy(False)
            self.done.set()

    def _finish_status(self) -> None:
        if self.model.error is not None:
            self.error = self.model.error
            self._say(f"{type(self.model.error).__name__}: {self.model.error}", error=True)
        elif self.model.stopped:
            self._say(f"stopped; {len(self.model.records)} result(s) kept")
        else:
            self._say(f"done: {len(self.model.records)} run(s)")

    def _busy(self, busy: bool) -> None:
        self.run_button.disabled = busy
        self.stop_button.disabled = not busy
        for control in self.controls.values():
            control.disabled = busy

    def _say(self, text: str, *, error: bool = False) -> None:
        color = "#D55E00" if error else "#333"
        self.status.value = f'<span style="color:{color}">{html.escape(text)}</span>'


class ScalingPanel(Panel):
    note = "<b>Speedup vs workers.</b> Fixed total work shows Amdahl's law; fixed work per worker, Gustafson's."

    def make_controls(self, w: Any, s: ScalingSettings) -> dict[str, Any]:
        return {
            "backends": w.SelectMultiple(options=backend_specs(sequential=False),
                                         value=tuple(map(_option, s.backends)), description="backends"),
            "workload": w.Dropdown(options=NUMERIC_WORKLOADS, value=s.workload, description="workload"),
            "workers": w.IntRangeSlider(min=1, max=max(SLIDER_WORKERS, s.workers[1]), value=s.workers,
                                        description="workers"),
            "size": w.Text(value="" if s.size is None else str(s.size), description="size",
                           placeholder="the workload's default"),
            "tasks": w.IntText(value=s.tasks, description="tasks"),
            "mode": w.ToggleButtons(options=[("fixed total work", "fixed"), ("fixed per worker", "per_worker")],
                                    value=s.mode, description="work"),
            "repeats": w.IntText(value=s.repeats, description="repeats"),
        }

    def values(self) -> dict[str, Any]:
        v = super().values()
        v["size"] = _parse_size(v["size"])
        v["workers"] = tuple(v["workers"])
        v["backends"] = tuple(v["backends"])
        return v

    def draw(self) -> None:
        from . import plots

        ax = self.axes[0]
        ax.clear()
        if self.model.records:
            model = "gustafson" if self.model.settings.mode == "per_worker" else "amdahl"
            plots.speedup(list(self.model.records), ax=ax, model=model, recorded=self.model.recorded())


class TimelinePanel(Panel):
    rows = 2
    figsize = (10.0, 4.0)
    note = ("<b>One run, task by task.</b> Top: when each task ran on which worker. Bottom (workload cpu_traced): "
            "when each worker really computed (green) or waited for the GIL or a core (orange), from samples "
            "each task takes of its own progress; both fill in as tasks finish.")

    def make_controls(self, w: Any, s: TimelineSettings) -> dict[str, Any]:
        return {
            "backend": w.Dropdown(options=backend_specs(), value=_option(s.backend), description="backend"),
            "workers": w.IntSlider(min=1, max=max(SLIDER_WORKERS, s.workers), value=s.workers,
                                   description="workers"),
            "workload": w.Dropdown(options=TIMELINE_WORKLOADS, value=s.workload, description="workload"),
            "size": w.Text(value="" if s.size is None else str(s.size), description="size",
                           placeholder="the workload's default"),
            "tasks": w.IntText(value=s.tasks, description="tasks"),
        }

    def values(self) -> dict[str, Any]:
        v = super().values()
        v["size"] = _parse_size(v["size"])
        if v["backend"] == "sequential":
            v["workers"] = 1
        return v

    def draw(self) -> None:
        """Redraw through `plots.LiveTimeline`: one figure kept, only the bars
        repainted, so a frame of 1,000 tasks stays under 50 ms (benchmarks/plots.py)."""
        from . import analysis, plots

        rec = self.model.partial_record()
        if rec is None:
            return
        if getattr(self, "live", None) is None:
            self.live = plots.LiveTimeline()
            self.figure, self.axes = self.live.figure, [self.live.timeline_ax, self.live.activity_ax]
        samples = list(self.model.samples)
        self.live.update(rec, analysis.gil_activity(samples) if samples else None)

    def refresh(self) -> None:
        with self._lock:
            self.draw()
            if getattr(self, "live", None) is not None:
                self.show(self.live.png())
            self.table.value = _html_table(self.model.table())


class GranularityPanel(Panel):
    note = ("<b>Task size and chunk size vs overhead.</b> Each task's trip to a worker and back costs tens of "
            "microseconds; when a task's work is smaller, processes lose to a plain loop. Chunks of many tasks "
            "pay the trip once. The table's <code>pays_off</code> says where processes beat the loop.")

    def make_controls(self, w: Any, s: GranularitySettings) -> dict[str, Any]:
        return {
            "backend": w.Dropdown(options=backend_specs(sequential=False), value=_option(s.backend),
                                  description="backend"),
            "workers": w.IntSlider(min=1, max=max(SLIDER_WORKERS, s.workers), value=s.workers,
                                   description="workers"),
            "workload": w.Dropdown(options=("cpu", "tiny"), value=s.workload, description="workload"),
            "sizes": w.Text(value=", ".join(map(str, s.sizes)), description="task sizes"),
            "chunksizes": w.Text(value=", ".join(map(str, s.chunksizes)), description="chunk sizes"),
            "tasks": w.IntText(value=s.tasks, description="tasks"),
        }

    def values(self) -> dict[str, Any]:
        v = super().values()
        v["sizes"] = _parse_ints(v["sizes"], "sizes")
        v["chunksizes"] = _parse_ints(v["chunksizes"], "chunksizes")
        return v

    def draw(self) -> None:
        from . import plots

        ax = self.axes[0]
        ax.clear()
        if self.model.records:
            plots.overhead(self.model.labelled_frame(), ax=ax, components=("dispatch", "collection"))


class StartMethodPanel(Panel):
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

    def values(self) -> dict[str, Any]:
        v = super().values()
        v["methods"] = tuple(v["methods"])
        return v

    def draw(self) -> None:
        from . import plots

        ax = self.axes[0]
        ax.clear()
        if self.model.records:
            plots.overhead(list(self.model.records), ax=ax, components=("startup",))


class MemoryPanel(Panel):
    note = ("<b>N threads vs N processes.</b> Bars: peak resident memory (the library's view: shared pages "
            "count in every process). Table: measured cost, the parent's growth (threads) plus the workers' "
            "unique memory (USS: what would be freed if they exited).")

    def make_controls(self, w: Any, s: MemorySettings) -> dict[str, Any]:
        options = ("threads", *backend_specs(sequential=False, in_process=False)[1:])
        value = tuple(map(_option, s.backends))
        return {
            "backends": w.SelectMultiple(options=options, value=value, description="backends"),
            "workers": w.Text(value=", ".join(map(str, s.workers)), description="workers"),
        }

    def values(self) -> dict[str, Any]:
        v = super().values()
        v["backends"] = tuple(v["backends"])
        v["workers"] = _parse_ints(v["workers"], "workers")
        return v

    def draw(self) -> None:
        from . import plots

        ax = self.axes[0]
        ax.clear()
        if self.model.records:
            plots.memory(list(self.model.records), ax=ax)


class ConvoyPanel(Panel):
    note = ("<b>The convoy effect.</b> An echo server in this kernel answers one byte at a time. With CPU-bound "
            "threads it must win the GIL back after every I/O step, waiting up to a switch interval each time; "
            "CPU-bound processes have their own GIL. The switch interval is restored after the run.")

    def make_controls(self, w: Any, s: ConvoySettings) -> dict[str, Any]:
        return {
            "switch_interval_ms": w.FloatSlider(min=0.1, max=50.0, step=0.1, value=s.switch_interval_ms,
                                                description="switch (ms)"),
            "cpu_workers": w.IntSlider(min=1, max=max(SLIDER_WORKERS, s.cpu_workers), value=s.cpu_workers,
                                       description="CPU workers"),
            "probes": w.IntText(value=s.probes, description="probes"),
            "scenarios": w.SelectMultiple(options=SCENARIOS, value=s.scenarios, description="background"),
        }

    def values(self) -> dict[str, Any]:
        v = super().values()
        v["scenarios"] = tuple(v["scenarios"])
        return v

    def draw(self) -> None:
        from . import plots

        ax = self.axes[0]
        ax.clear()
        if self.model.records:
            plots.latency(list(self.model.records), ax=ax)


ScalingExplorer.Panel = ScalingPanel
TimelineExplorer.Panel = TimelinePanel
GranularityExplorer.Panel = GranularityPanel
StartMethodExplorer.Panel = StartMethodPanel
MemoryExplorer.Panel = MemoryPanel
ConvoyLab.Panel = ConvoyPanel

__all__ = [
    "ConvoyLab", "ConvoySettings", "EchoServer", "Explorer", "GranularityExplorer", "GranularitySettings",
    "MemoryExplorer", "MemoryMeasurement", "MemorySettings", "Panel", "ScalingExplorer", "ScalingSettings",
    "StartMethodExplorer", "StartMethodSettings", "StdlibOutcome", "TimelineExplorer", "TimelineSettings",
    "backend_specs", "explain_stdlib", "notebook_function", "probe", "stdlib_notebook_function",
]
