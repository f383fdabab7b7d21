"""TimelineExplorer: one run, task by task, and when each worker really ran (the GIL's activity lanes)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from .. import config
from ..records import RunRecord, TaskEvent
from ._base import (
    MAX_TASKS,
    NUMERIC_WORKLOADS,
    SLIDER_WORKERS,
    Explorer,
    Progress,
    as_option,
    backend_spec,
    backend_specs,
    one_of,
    small_or,
    task_size,
    whole,
)
from ._panel import Panel, html_table, parse_size

#: `cpu_traced` is not in the registry (its result is samples, not a number); it is what the activity lanes need.
TIMELINE_WORKLOADS = ("cpu_traced", *NUMERIC_WORKLOADS)


@dataclass(frozen=True)
class TimelineSettings:
    """One run, drawn as it happens."""

    backend: str = "threads"
    workers: int = 2
    workload: str = "cpu_traced"
    size: int | float | None = None
    tasks: int = field(default_factory=lambda: small_or(8, 16))

    def __post_init__(self) -> None:
        backend_spec(self.backend)
        whole(self.workers, "workers", 1, 1 if self.backend == "sequential" else config.MAX_WORKERS_CAP)
        one_of(self.workload, "workload", TIMELINE_WORKLOADS)
        task_size(self.workload, self.size)
        whole(self.tasks, "tasks", 1, MAX_TASKS)


class TimelinePanel(Panel):
    parsers = {"size": parse_size}
    rows = 2
    figsize = (10.0, 4.0)
    picture_format = "png"  # live.LiveTimeline repaints only its bars, as pixels (under 50 ms a frame)
    note = ("<b>One run, task by task.</b> Top: when each task ran on which worker. Bottom (workload cpu_traced): "
            "when each worker really computed (green) or waited for the GIL or a core (orange), from samples "
            "each task takes of its own progress; both fill in as tasks finish.")

    def make_controls(self, w: Any, s: TimelineSettings) -> dict[str, Any]:
        return {
            "backend": w.Dropdown(options=backend_specs(), value=as_option(s.backend), description="backend"),
            "workers": w.IntSlider(min=1, max=max(SLIDER_WORKERS, s.workers), value=s.workers,
                                   description="workers"),
            "workload": w.Dropdown(options=TIMELINE_WORKLOADS, value=s.workload, description="workload"),
            "size": w.Text(value="" if s.size is None else str(s.size), description="size",
                           placeholder="the workload's default"),
            "tasks": w.IntText(value=s.tasks, description="tasks"),
        }


    def values(self) -> dict[str, Any]:
        """The sequential backend has one worker, whatever the slider says."""
        v = super().values()
        if v["backend"] == "sequential":
            v["workers"] = 1
        return v

    def draw(self) -> None:
        """Redraw through `live.LiveTimeline`: one figure kept, only the bars
        repainted, so a frame of 1,000 tasks stays under 50 ms (benchmarks/plots.py)."""
        from .. import analysis, live

        rec = self.model.partial_record()
        if rec is None:
            return
        if getattr(self, "live", None) is None:
            self.live = live.LiveTimeline(text_scale=self.scale)
            self.figure, self.axes = self.live.figure, [self.live.timeline_ax, self.live.activity_ax]
        samples = list(self.model.samples)
        self.live.update(rec, analysis.gil_activity(samples) if samples else None)

    def new_figure(self) -> None:
        """`live.LiveTimeline` makes its own figure, at the text scale, on the next draw."""
        self.live = None
        super().new_figure()

    def refresh(self) -> None:
        with self._draw_lock:
            self.draw()
            if getattr(self, "live", None) is not None:
                self.show(self.live.png())
            self.table.value = html_table(self.model.table())


class TimelineExplorer(Explorer):
    """A Gantt chart of one run that fills in as tasks finish, and (for
    `cpu_traced`) the lanes of when each worker really ran or waited for the GIL."""

    Settings = TimelineSettings
    Panel = TimelinePanel

    def __init__(self, settings: Any = None, **changes: Any) -> None:
        super().__init__(settings, **changes)
        self.events: list[TaskEvent] = []
        self.samples: list[tuple[TaskEvent, Any]] = []

    def _measure(self, s: TimelineSettings, stop: threading.Event, progress: Progress) -> None:
        from .. import api, workloads
        from ..runners import parse_backend

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
        from ..runners import parse_backend

        backend, method = parse_backend(self.settings.backend)
        return RunRecord(backend=backend, max_workers=self.settings.workers,
                         start_method=method or "", workload=self.settings.workload, params={},
                         wall=max(e.collected for e in events), startup=0.0, parent_peak_rss=0,
                         workers_peak_rss=0, events=tuple(events))

    def table(self) -> Any:
        from .. import analysis

        rec = self.partial_record()
        if rec is None:
            return None
        if self.records and self.settings.workload == "cpu_traced" and any(e.ok for e in rec.events):
            return analysis.run_share(analysis.gil_activity(rec))
        return analysis.utilisation(rec)
