"""Sweeps: backends x workers x workloads, with repeats, as a list of RunRecords.

Points are run in an interleaved order (every configuration once per repeat)
so that a machine that slows down mid-sweep hurts all of them alike, and each
repeat starts with its own sequential baseline for speedups.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from . import config
from .api import resolve, workload_fn
from .records import RunRecord
from .runners import make_runner, parse_backend
from .runners.validate import check_choice, check_int
from .workloads import get as get_workload

#: How total work grows with workers: "fixed" total (Amdahl, strong scaling)
#: or "per_worker" (Gustafson, weak scaling: tasks = tasks_per_worker x workers).
MODES = ("fixed", "per_worker")


@dataclass(frozen=True)
class Point:
    """One configuration of a sweep."""

    backend: str
    start_method: str | None
    max_workers: int
    workload: str
    repeat: int
    tasks: int


def plan(backends: Sequence[str], workers: Sequence[int], workloads: Sequence[str], *, repeats: int = 1,
         tasks: int = 8, mode: str = "fixed", baseline: bool = True) -> list[Point]:
    """Every run a sweep will make, in the order it makes them."""
    check_int(repeats, "repeats", low=1, high=100)
    check_int(tasks, "tasks", low=1, high=config.MAX_TASKS_CAP)
    check_choice(mode, "mode", MODES)
    if isinstance(workers, int) or not workers:
        raise ValueError("workers: give a non-empty list of worker counts, e.g. [1, 2, 4]")
    workers = [check_int(w, "workers", low=1, high=config.MAX_WORKERS_CAP) for w in workers]
    if isinstance(workloads, str) or not workloads:
        raise ValueError("workloads: give a non-empty list of workload names, e.g. ['cpu']")
    for wl in workloads:
        get_workload(wl)
    parsed = [parse_backend(b) for b in backends]
    if not parsed:
        raise ValueError("backends: give at least one backend")
    points = []
    for r in range(repeats):
        for wl in workloads:
            if baseline and all(b != "sequential" for b, _ in parsed):
                points.append(Point("sequential", None, 1, wl, r, tasks))
            for backend, method in parsed:
                counts = [1] if backend == "sequential" else workers
                for n in counts:
                    n_tasks = tasks * n if mode == "per_worker" else tasks
                    points.append(Point(backend, method, n, wl, r, n_tasks))
    return points


def run_point(point: Point, size: Any = None, *, fn: Callable | None = None,
              stop: threading.Event | None = None, timeout: float | None = None) -> RunRecord:
    """Run one point with a fresh pool (its start-up is in the record)."""
    fn_, items, name, params = resolve(fn or point.workload, size, point.tasks)
    params = {**params, "repeat": point.repeat}
    runner = make_runner(point.backend, point.max_workers, start_method=point.start_method)
    try:
        with workload_fn(fn_) as ready_fn:
            return runner.run(ready_fn, items, stop=stop, timeout=timeout, workload=name or point.workload,
                              params=params)
    finally:
        runner.shutdown()


def iter_sweep(points: Iterable[Point], sizes: dict[str, Any] | None = None, *,
               stop: threading.Event | None = None, timeout: float | None = None) -> Iterator[RunRecord]:
    """Yield each point's record as soon as it is measured (for live plots)."""
    sizes = sizes or {}
    for point in points:
        if stop is not None and stop.is_set():
            return
        yield run_point(point, sizes.get(point.workload), stop=stop, timeout=timeout)


def sweep(backends: Sequence[str] = ("threads", "processes"), workers: Sequence[int] = (1, 2),
          workloads: Sequence[str] = ("cpu",), *, repeats: int = 1, tasks: int = 8, mode: str = "fixed",
          sizes: dict[str, Any] | None = None, on_record: Callable[[RunRecord], Any] | None = None,
          stop: threading.Event | None = None, timeout: float | None = None) -> list[RunRecord]:
    """Measure every (backend, workers, workload) `repeats` times; return all records.

    `sizes` maps a workload name to its size (default: the workload's own).
    `on_record` is called after every point, so a plot can grow as results come in.
    """
    points = plan(backends, workers, workloads, repeats=repeats, tasks=tasks, mode=mode)
    records = []
    for rec in iter_sweep(points, sizes, stop=stop, timeout=timeout):
        records.append(rec)
        if on_record is not None:
            on_record(rec)
    return records
