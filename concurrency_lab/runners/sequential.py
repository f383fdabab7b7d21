"""The baseline: every task in the calling thread, one after another."""

from __future__ import annotations

import threading
from collections.abc import Callable
from time import perf_counter_ns

from .._worker import call_timed
from ._base import Runner, _check_stop, _Collector
from .validate import check_int


class SequentialRunner(Runner):
    """No pool at all: what every speedup is measured against.

    Stop, a timeout and Ctrl-C take effect between tasks.
    """

    backend = "sequential"

    def __init__(self, max_workers: int | None = 1) -> None:
        super().__init__(check_int(1 if max_workers is None else max_workers, "max_workers", low=1, high=1))

    def _execute(self, target: Callable, items: list, chunksize: int, col: _Collector,
                 stop: threading.Event | None, deadline: int | None) -> None:
        check = stop is not None or deadline is not None
        for index, item in enumerate(items):
            submitted = perf_counter_ns()
            outcome = call_timed(target, item)
            col.add(index, submitted, outcome, perf_counter_ns())
            if check:
                _check_stop(stop, deadline)
