"""The baseline: every task in the calling thread, one after another."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from time import perf_counter_ns
from typing import Any

from .. import config
from .._worker import call_timed
from ._base import Runner
from ._cancel import TaskCancelled, TaskGuard
from ._run import Collector, RunState, RunStopped
from .validate import check_int


class SequentialRunner(Runner):
    """No pool at all: what every speedup is measured against.

    Ctrl-C reaches the task itself. Stop and a timeout end the task that is
    running, at its next Python bytecode (see `_cancel`): a watchdog thread
    raises `TaskCancelled` inside it. A run with neither is the plain loop.
    """

    backend = "sequential"
    defers_interrupt = False  # Ctrl-C must reach the task, which runs in the caller's thread

    def __init__(self, max_workers: int | None = 1) -> None:
        super().__init__(check_int(1 if max_workers is None else max_workers, "max_workers", low=1, high=1))

    def _check_task_timeout(self, task_timeout: float | None) -> None:
        if task_timeout is not None:
            raise ValueError("task_timeout: the sequential backend runs tasks in your own thread, one after "
                             "another; use timeout= for the whole run, or the threads or processes backend")

    def _submitter(self, target: Callable, state: RunState) -> Callable[[Any], Future]:
        """`submit` runs the task at once, in the caller's thread, and hands back a done future."""
        return lambda item: _done(call_timed(target, item))

    def _execute(self, target: Callable, items: list, col: Collector, state: RunState) -> None:
        limits = state
        if not limits.active:
            for index, item in enumerate(items):
                submitted = perf_counter_ns()
                outcome = call_timed(target, item)
                col.add(index, submitted, outcome, perf_counter_ns())
            return
        guard = _watch(limits)
        me = threading.get_ident()
        try:
            for index, item in enumerate(items):
                submitted = perf_counter_ns()
                guard.inside = me
                try:
                    outcome = call_timed(target, item)
                finally:
                    guard.inside = None  # on every way out: the watchdog never sends again for this task
                col.add(index, submitted, outcome, perf_counter_ns())
                limits.check()
        except TaskCancelled:
            limits.check()  # raises RunStopped, saying whether Stop or the deadline ended the task
            raise RunStopped("cancelled: the run was stopped before this task finished") from None
        finally:
            try:
                guard.close()
            except TaskCancelled:  # sent as the task ended, it arrived at close()'s first bytecode
                guard.close()


def _done(outcome: tuple) -> Future:
    fut: Future = Future()
    fut.set_result(outcome)
    return fut


def _watch(limits: RunState) -> TaskGuard:
    """A guard for the calling thread, and a daemon thread that cancels its task when the run must end.

    The watchdog looks every POLL_INTERVAL_S and leaves once the guard is
    closed, so it outlives its run by at most that long; until then it asks
    the guard again, which sends again only when the first was lost (`_cancel`). Between two tasks there is nothing to cancel: the loop's own
    `limits.check()` ends the run there, or the next task is cancelled.
    """
    guard = TaskGuard()

    def watch() -> None:
        while not guard.closed:
            if limits.wait(config.POLL_INTERVAL_S):
                guard.cancel()
                time.sleep(config.POLL_INTERVAL_S / 10)

    threading.Thread(target=watch, name="concurrency-lab-watchdog", daemon=True).start()
    return guard
