"""ScalingExplorer: speedup against worker count, per backend, drawn as each point is measured."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from .. import config, info
from ._base import (
    MAX_REPEATS,
    MAX_TASKS,
    NUMERIC_WORKLOADS,
    SLIDER_WORKERS,
    Explorer,
    Progress,
    accepted_backends,
    as_option,
    backend_specs,
    one_of,
    small_or,
    some_of,
    task_size,
    whole,
    wholes,
)
from ._panel import Panel, parse_size, parse_tuple


@dataclass(frozen=True)
class ScalingSettings:
    """A speedup sweep: backends x worker counts, against a sequential baseline."""

    backends: tuple[str, ...] = ("threads", "processes")
    workload: str = "cpu"
    workers: tuple[int, int] = field(default_factory=lambda: (1, small_or(2, max(2, info.logical_cores()))))
    """Lowest and highest worker count; every count between is measured."""
    size: int | float | None = None
    """One task's size (None: the workload's default)."""
    tasks: int = field(default_factory=lambda: small_or(8, 16))
    mode: str = "fixed"
    """"fixed" total work (Amdahl) or "per_worker" (Gustafson: tasks x workers)."""
    repeats: int = field(default_factory=lambda: small_or(1, 3))
    replay: Any = None
    """A recorded sweep to draw beside the live one: "default" (the biggest machine shipped in
    `concurrency_lab/recorded/`), a path to NAME.jsonl, or a `replay.Recording`; None for none."""

    def __post_init__(self) -> None:
        from .. import replay
        from ..experiments import MODES
        from ..runners import parse_backend

        object.__setattr__(self, "replay", replay.resolve(self.replay))  # a bad path fails here, before a run

        some_of(tuple(self.backends), "backends", accepted_backends(sequential=False))
        for spec in self.backends:
            parse_backend(spec)
        one_of(self.workload, "workload", NUMERIC_WORKLOADS)
        pair = wholes(tuple(self.workers), "workers", 1, config.MAX_WORKERS_CAP)
        if len(pair) != 2 or pair[0] > pair[1]:
            raise ValueError(f"workers: {self.workers!r} is not a range; give (lowest, highest), "
                             f"1 <= lowest <= highest <= {config.MAX_WORKERS_CAP}")
        task_size(self.workload, self.size)
        whole(self.tasks, "tasks", 1, MAX_TASKS)
        one_of(self.mode, "mode", MODES)
        whole(self.repeats, "repeats", 1, MAX_REPEATS)

    def worker_counts(self) -> list[int]:
        return list(range(self.workers[0], self.workers[1] + 1))


class ScalingPanel(Panel):
    parsers = {"size": parse_size, "workers": parse_tuple, "backends": parse_tuple}
    note = "<b>Speedup vs workers.</b> Fixed total work shows Amdahl's law; fixed work per worker, Gustafson's."

    def make_controls(self, w: Any, s: ScalingSettings) -> dict[str, Any]:
        return {
            "backends": w.SelectMultiple(options=backend_specs(sequential=False),
                                         value=tuple(map(as_option, s.backends)), description="backends"),
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


    def draw(self) -> None:
        from .. import plots

        ax = self.axes[0]
        ax.clear()
        if self.model.records:
            model = "gustafson" if self.model.settings.mode == "per_worker" else "amdahl"
            plots.speedup(list(self.model.records), ax=ax, model=model, recorded=self.model.recorded())


class ScalingExplorer(Explorer):
    """Speedup vs workers per backend; the plot and table grow after every measured point.

    Each point gets a fresh pool (its start-up is in the record, `cold=True`
    plots include it), and points interleave so a machine slowing down hurts all alike.
    """

    Settings = ScalingSettings
    Panel = ScalingPanel

    def _measure(self, s: ScalingSettings, stop: threading.Event, progress: Progress) -> None:
        from ..experiments import iter_sweep, plan

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

        from .. import analysis

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
