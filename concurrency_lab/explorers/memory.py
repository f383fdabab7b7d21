"""MemoryExplorer: what N threads and N processes cost in memory, measured (the parent's growth and the
workers' unique memory). The measuring lives here: nothing else needs it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from .. import config
from ..records import RunRecord
from ._base import Explorer, Progress, accepted_backends, as_option, backend_specs, small_or, some_of, wholes
from ._panel import Panel, parse_ints, parse_tuple


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
    workers: tuple[int, ...] = field(default_factory=lambda: small_or((1, 2), (1, 2, 4, 8)))

    def __post_init__(self) -> None:
        some_of(tuple(self.backends), "backends", accepted_backends(sequential=False, in_process=False))
        wholes(tuple(self.workers), "workers", 1, config.MAX_WORKERS_CAP)


class MemoryPanel(Panel):
    parsers = {"backends": parse_tuple, "workers": parse_ints}
    note = ("<b>N threads vs N processes.</b> Bars: peak resident memory (the library's view: shared pages "
            "count in every process). Table: measured cost, the parent's growth (threads) plus the workers' "
            "unique memory (USS: what would be freed if they exited).")

    def make_controls(self, w: Any, s: MemorySettings) -> dict[str, Any]:
        options = ("threads", *backend_specs(sequential=False, in_process=False)[1:])
        value = tuple(map(as_option, s.backends))
        return {
            "backends": w.SelectMultiple(options=options, value=value, description="backends"),
            "workers": w.Text(value=", ".join(map(str, s.workers)), description="workers"),
        }


    def draw(self) -> None:
        from .. import plots

        ax = self.axes[0]
        ax.clear()
        if self.model.records:
            plots.memory(list(self.model.records), ax=ax)


class MemoryExplorer(Explorer):
    """Memory of N threads vs N processes: a thread adds a stack to one process;
    a process is a whole interpreter with its own copy of every module."""

    Settings = MemorySettings
    Panel = MemoryPanel

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

    from .. import workloads
    from ..memory import uss
    from ..runners import make_runner, parse_backend

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
