"""What every explorer shares: the model (`Explorer`) and the checks its settings make.

An explorer is split as the jupyter-widgets tutorial splits an app (`model.py`
vs `gui.py`):

- a plain-Python **model**: a frozen settings dataclass that refuses a bad
  value naming the field and what is allowed; `run(...)`, which blocks and
  returns the records (for CI notebooks and tests); and `start(...)` /
  `stop()`, the same run in a background thread with a progress callback, so
  a kernel stays responsive and Stop is honoured within 2 s;
- a thin **panel** (`_panel.Panel`): controls, Run / Stop, a progress bar, a
  figure drawn by `plots` and a table from `analysis`. It only wires.

Nothing here measures: explorers call the runners, `experiments`, `servers`
and `analysis`. ipywidgets and matplotlib are imported only when a panel is
built or drawn. `config.SMALL` shrinks every default so a notebook cell
finishes in seconds on 2 cores.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from .. import config, info
from ..records import RunRecord

#: A progress callback: (points or tasks done, how many there will be).
Progress = Callable[[int, int], Any]

#: Most tasks a widget run takes: a notebook control is not the place for a million.
MAX_TASKS = 100_000
#: Most repeats: beyond 20 a sweep on a laptop takes longer than a lesson.
MAX_REPEATS = 20
#: Largest worker count a panel's slider offers: oversubscription shows at 2x the cores.
SLIDER_WORKERS = max(4, 2 * info.logical_cores())
#: Workloads whose size is a number, so a sweep over them makes sense (crash and hang do not).
NUMERIC_WORKLOADS = ("cpu", "tiny", "io_sleep", "io_http", "io_file", "gil_release", "mixed", "memory")


# -- checks: each names the field and what is allowed -----------------------------

def whole(value: Any, name: str, low: int, high: int) -> int:
    from ..runners.validate import check_int

    return check_int(value, name, low=low, high=high)


def wholes(values: Any, name: str, low: int, high: int) -> tuple[int, ...]:
    """A non-empty tuple of ints in [low, high]."""
    if isinstance(values, (int, str)) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"{name}: give a non-empty list of whole numbers, each {low} to {high}")
    return tuple(whole(v, name, low, high) for v in values)


def one_of(value: Any, name: str, choices: Sequence[str]) -> str:
    from ..runners.validate import check_choice

    return check_choice(value, name, choices)


def some_of(values: Any, name: str, choices: Sequence[str]) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"{name}: choose at least one of: {', '.join(choices)}")
    return tuple(one_of(v, name, choices) for v in values)


def size_or_none(value: Any, name: str = "size") -> int | float | None:
    """None (the workload's own size) or a positive number."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name}: {value!r} is out of range; allowed: a number > 0, or empty for the default")
    return value


def task_size(workload: str, size: Any, name: str = "size") -> int | float | None:
    """`_size`, and refused when one task of `workload` would run longer than an explorer allows."""
    from ..calibration import seconds_per_task
    from ..workloads import get

    if size_or_none(size, name) is None:
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


def number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{name}: {value!r} is out of range; allowed: {low} to {high}")
    return float(value)


def backend_specs(*, sequential: bool = True, in_process: bool = True) -> tuple[str, ...]:
    """The backend specs this machine can run: "threads", "processes:spawn", ..."""
    base = (("sequential",) if sequential else ()) + (("threads", "asyncio") if in_process else ("threads",))
    return base + tuple(f"processes:{m}" for m in config.available_start_methods())


def accepted_backends(*, sequential: bool = True, in_process: bool = True) -> tuple[str, ...]:
    """`backend_specs` plus plain "processes" (the default start method)."""
    return (*backend_specs(sequential=sequential, in_process=in_process), "processes")


def as_option(spec: str) -> str:
    """A spec as a panel's options name it: plain "processes" gets its default start method spelled out."""
    return f"processes:{config.default_start_method()}" if spec == "processes" else spec


def backend_spec(spec: str, name: str = "backend") -> str:
    return one_of(spec, name, accepted_backends())


def small_or(small: Any, large: Any) -> Any:
    """The SMALL-mode default or the normal one, read when a settings object is made."""
    return small if config.SMALL else large


# -- the model: settings, a blocking run, a background run ----------------------------

class Explorer:
    """What every explorer shares: settings, `run` (blocking), `start`/`stop` (background).

    Subclasses set `Settings` and `Panel` (the panel class, defined before
    the model in each explorer's module) and implement `_measure`, which
    appends to `self.records` as results come in and calls `progress`.
    """

    Settings: ClassVar[type]
    Panel: ClassVar[type]

    def __init__(self, settings: Any = None, **changes: Any) -> None:
        self.settings = replace(settings or self.Settings(), **changes)
        self.records: list[RunRecord] = []
        self.error: BaseException | None = None
        self.load: Any = None  # the `load.Load` of the last run
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
        """Measure with the settings (and `changes`), blocking; return the records.

        A panel already on the page shows them too: a lesson's blocking cell below its panel (what
        Run All and the tests run) leaves the panel with the plot and table of what it measured.
        """
        self.configure(**changes)
        self._stop = threading.Event()
        records = self._run(self._stop, progress)
        if self._panel is not None:
            self._panel.show_results("done: {n} run(s), measured by the cell below")
        return records

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
        """Show the panel. Beside the live widget, the output carries a picture of a real recorded run
        (`recorded/explorers/`): what a notebook opened without running it (JupyterLab shows an untrusted
        notebook's pictures, not its widgets), a static HTML page or GitHub show instead of the panel."""
        from IPython.display import display

        from .recorded import picture_bundle

        bundle = {**self.widget._repr_mimebundle_(), **picture_bundle(type(self).__name__)}
        display(bundle, raw=True)

    def table(self) -> Any:
        """The results as a DataFrame (what the panel's table shows)."""
        raise NotImplementedError

    def _run(self, stop: threading.Event, progress: Progress | None) -> list[RunRecord]:
        """Measure, noting what share of the CPU other programs took meanwhile (`self.load`): on a busy
        laptop, threads can match processes, and the panel says why rather than let it pass."""
        from ..load import LoadMeter

        self.records, self.error, self.load = [], None, None
        meter = LoadMeter()
        try:
            self._measure(self.settings, stop, progress or _ignore)
        finally:
            self.load = meter.read()
        return list(self.records)

    def _measure(self, settings: Any, stop: threading.Event, progress: Progress) -> None:
        raise NotImplementedError


def _ignore(done: int, total: int) -> None:
    pass
