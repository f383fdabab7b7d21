"""The baseline: every task in the calling thread, one after another."""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter_ns

from .._worker import call_timed
from ._base import Runner, _Collector, _Limits
from .validate import check_int


class SequentialRunner(Runner):
    """No pool at all: what every speedup is measured against.

    Stop, a timeout and Ctrl-C take effect between tasks.
    """

    backend = "sequential"
    defers_interrupt = False  # Ctrl-C must reach the task, which runs in the caller's thread

    def __init__(self, max_workers: int | None = 1) -> None:
        super().__init__(check_int(1 if max_workers is None else max_workers, "max_workers", low=1, high=1))

    def _check_task_timeout(self, task_timeout: float | None) -> float | None:
        if task_timeout is not None:
            raise ValueError("task_timeout: the sequential backend runs tasks in your own thread and cannot stop one; "
                             "use timeout= (checked between tasks), or the threads or processes backend")
        return None

    def _execute(self, target: Callable, items: list, chunksize: int, col: _Collector, limits: _Limits) -> None:
        for index, item in enumerate(items):
            submitted = perf_counter_ns()
            outcome = call_timed(target, item)
            col.add(index, submitted, outcome, perf_counter_ns())
            if limits.active:
                limits.check()
