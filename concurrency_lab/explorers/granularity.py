"""GranularityExplorer: task size and chunk size against per-task overhead, on one warm pool."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from .. import config
from ._base import (
    MAX_TASKS,
    SLIDER_WORKERS,
    Explorer,
    Progress,
    accepted_backends,
    as_option,
    backend_specs,
    one_of,
    small_or,
    task_size,
    whole,
    wholes,
)
from ._panel import Panel, parse_ints


@dataclass(frozen=True)
class GranularitySettings:
    """Task size x chunk size, one warm pool, each size against its own sequential loop."""

    backend: str = "processes"
    workers: int = 2
    workload: str = "cpu"
    sizes: tuple[int, ...] = field(default_factory=lambda: small_or((100, 10_000, 100_000), (10, 1_000, 10_000, 100_000)))
    chunksizes: tuple[int, ...] = (1, 16)
    tasks: int = field(default_factory=lambda: small_or(64, 256))

    def __post_init__(self) -> None:
        one_of(self.backend, "backend", accepted_backends(sequential=False))
        whole(self.workers, "workers", 1, config.MAX_WORKERS_CAP)
        one_of(self.workload, "workload", ("cpu", "tiny"))
        for size in wholes(tuple(self.sizes), "sizes", 1, 10**8):
            task_size(self.workload, size, "sizes")
        whole(self.tasks, "tasks", 1, MAX_TASKS)
        wholes(tuple(self.chunksizes), "chunksizes", 1, self.tasks)

    @classmethod
    def classic_map(cls) -> GranularitySettings:
        """`pool.map(square, range(n))`: the textbook example, measured."""
        return cls(workload="tiny", sizes=(3,), chunksizes=(1, 100), tasks=small_or(1000, 10_000))


class GranularityPanel(Panel):
    parsers = {"sizes": parse_ints, "chunksizes": parse_ints}
    note = ("<b>Task size and chunk size vs overhead.</b> Each task's trip to a worker and back costs tens of "
            "microseconds; when a task's work is smaller, processes lose to a plain loop. Chunks of many tasks "
            "pay the trip once. The table's <code>pays_off</code> says where processes beat the loop.")

    def make_controls(self, w: Any, s: GranularitySettings) -> dict[str, Any]:
        return {
            "backend": w.Dropdown(options=backend_specs(sequential=False), value=as_option(s.backend),
                                  description="backend"),
            "workers": w.IntSlider(min=1, max=max(SLIDER_WORKERS, s.workers), value=s.workers,
                                   description="workers"),
            "workload": w.Dropdown(options=("cpu", "tiny"), value=s.workload, description="workload"),
            "sizes": w.Text(value=", ".join(map(str, s.sizes)), description="task sizes"),
            "chunksizes": w.Text(value=", ".join(map(str, s.chunksizes)), description="chunk sizes"),
            "tasks": w.IntText(value=s.tasks, description="tasks"),
        }


    def draw(self) -> None:
        from .. import plots

        ax = self.axes[0]
        ax.clear()
        if self.model.records:
            plots.granularity(self.model.table(), ax=ax)


class GranularityExplorer(Explorer):
    """Where processes stop paying off: per-task overhead (pickling, the pipe,
    waking a worker) against the work in one task, and how chunking amortises it.

    `tiny` (x * x) is the classic `pool.map` example: each task costs less than
    a microsecond, its trip to a worker tens of microseconds, so a plain loop wins.
    """

    Settings = GranularitySettings
    Panel = GranularityPanel

    def _measure(self, s: GranularitySettings, stop: threading.Event, progress: Progress) -> None:
        from .. import workloads
        from ..runners import make_runner, parse_backend

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
        from .. import analysis

        if not self.records:
            return None
        t = analysis.speedup(list(self.records))
        t["size"] = [json.loads(w).get("size") for w in t["work"]]
        t["us_per_task"] = t["time"] / t["tasks"] * 1e6
        t["pays_off"] = (t["speedup"] > 1.0) | (t["backend"] == "sequential")
        cols = ["size", "backend", "start_method", "chunksize", "us_per_task", "speedup", "pays_off"]
        return t.sort_values(["size", "backend", "chunksize"], key=_sequential_first)[cols].reset_index(drop=True)



def _sequential_first(column: Any) -> Any:
    return column.map(lambda b: "" if b == "sequential" else b) if column.name == "backend" else column
