"""One run's own state, apart from the runner (which may serve many runs on one warm pool).

- `RunState`: Stop, the run's deadline and the per-task timeout, checked while
  the runner waits, and the futures it waits on.
- `Collector`: what workers returned, in three columns indexed by task; the
  record's TaskEvents are built from them when first read.
- `outcome_event`: the one place an `Outcome` (what `_worker.call_timed`
  returns) becomes a `TaskEvent`. Runners and the lessons' own pipelines use it.
"""

from __future__ import annotations

import functools
import gc
import operator
import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import BrokenExecutor, CancelledError, Future
from time import perf_counter_ns
from typing import Any

from .. import config
from .._worker import Outcome
from ..records import EventLog, TaskEvent, make_event
from . import _interrupt

EventCallback = Callable[[TaskEvent], Any]


class RunStopped(Exception):
    """Internal: the run must end now (Stop, the run's timeout, or a task's)."""

    def __init__(self, message: str, culprit: tuple[int, str] | None = None) -> None:
        super().__init__(message)
        self.culprit = culprit  # (index of the task to blame, what happened to it)


def stopped_while_starting(stop: threading.Event | None) -> None:
    """Raise `RunStopped` if Stop was pressed while a pool was starting (its start-up waits look)."""
    if stop is not None and stop.is_set():
        raise RunStopped("cancelled: the run was stopped while its pool was starting")


class RunState:
    """Stop, the run's deadline and the per-task timeout, checked while waiting; made for one run.

    A task counts as started once its future is running (threads: the worker
    took it; processes: it went into the call queue, a few tasks ahead), so the
    per-task clock can only err on the generous side. `task_timeout` is the
    caller's (a backend may enforce it itself, as asyncio does per coroutine);
    `task_timeout_ns` is what this object enforces.
    """

    def __init__(self, stop: threading.Event | None, deadline: int | None, task_timeout: float | None,
                 window: int, chunksize: int = 1, enforce_task_timeout: bool = True) -> None:
        self.stop, self.deadline = stop, deadline
        self.task_timeout = task_timeout
        enforced = task_timeout if enforce_task_timeout else None
        self.task_timeout_ns = None if enforced is None else int(enforced * 1e9)
        self.window = window  # how many futures past the oldest unfinished one can be running
        self.chunksize = chunksize
        self.futures: list[Future] = []
        self._lo = 0
        self._running_since: dict[int, int] = {}

    @property
    def active(self) -> bool:
        """Whether anything can end this run early (Stop, a deadline, a task timeout)."""
        return self.stop is not None or self.deadline is not None or self.task_timeout is not None

    def check(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise RunStopped("cancelled: the run was stopped before this task finished")
        now = perf_counter_ns()
        if self.deadline is not None and now > self.deadline:
            raise RunStopped("timeout: the run's time limit passed before this task finished")
        if self.task_timeout_ns is not None:
            self._check_tasks(now)

    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds` (less when the deadline comes first); True once Stop or the deadline ends the run."""
        if self.deadline is not None:
            seconds = max(min(seconds, (self.deadline - perf_counter_ns()) / 1e9), 0.0)
        if self.stop is not None:
            if self.stop.wait(seconds):
                return True
        else:
            time.sleep(seconds)
        return self.deadline is not None and perf_counter_ns() > self.deadline

    def _check_tasks(self, now: int) -> None:
        futures = self.futures
        while self._lo < len(futures) and (futures[self._lo] is None or futures[self._lo].done()):
            self._lo += 1
        for k in range(self._lo, min(self._lo + self.window, len(futures))):
            fut = futures[k]  # None once collected
            if fut is not None and fut.running():
                since = self._running_since.setdefault(k, now)
                if now - since > self.task_timeout_ns:
                    what = f"timeout: this task ran longer than task_timeout={self.task_timeout:g} s"
                    raise RunStopped(f"cancelled: the run stopped because task {k * self.chunksize} timed out",
                                     (k * self.chunksize, what))


def collect_in_order(futures: list[Future], stamps: list[int], col: Collector, state: RunState,
                     describe: Callable[[BaseException, int], str]) -> None:
    """Take results in input order, as `Executor.map` does: the cheapest way.

    The wait is sliced into POLL_INTERVAL_S pieces so that Stop, the deadline
    and Ctrl-C are noticed while a long task runs.
    """
    poll = config.POLL_INTERVAL_S
    checks, chunksize = state.active, state.chunksize
    pending = _interrupt.pending()
    outcomes, collected, take = col.outcomes, col.collected, col.take
    if chunksize == 1:
        col.submitted = stamps  # one future per task: the submit times are already by task index
    for k, fut in enumerate(futures):
        while True:
            try:
                outcome = fut.result(poll)
            except TimeoutError:
                _interrupt.check()
                state.check()
                continue
            except (Exception, CancelledError) as exc:
                outcome = exc
            break
        if type(outcome) is tuple and chunksize == 1:  # the hot path: one task, nobody streaming
            outcomes[k] = outcome
            collected[k] = perf_counter_ns()
        else:
            take(k * chunksize, stamps[k], outcome, perf_counter_ns(), describe)
        # Let the future go now, as `Executor.map` does, rather than keeping
        # thousands of finished ones (and their locks) alive to the end.
        futures[k] = None  # type: ignore[call-overload]
        if pending:
            _interrupt.check()
        if checks:
            state.check()

def collect_as_completed(futures: list[Future], stamps: list[int], col: Collector, state: RunState,
                         describe: Callable[[BaseException, int], str]) -> None:
    """Take results as they finish, so each event can be streamed at once."""
    chunksize = state.chunksize
    done: queue.SimpleQueue[Future] = queue.SimpleQueue()
    pending = {fut: k for k, fut in enumerate(futures)}
    for fut in futures:
        fut.add_done_callback(done.put)
    poll = config.POLL_INTERVAL_S
    while pending:
        try:
            fut = done.get(timeout=poll)
        except queue.Empty:
            _interrupt.check()
            state.check()
            continue
        collected = perf_counter_ns()
        k = pending.pop(fut)
        futures[k] = None  # type: ignore[call-overload]  # see _collect_in_order
        try:
            outcome = fut.result()
        except (Exception, CancelledError) as exc:
            outcome = exc
        col.take(k * chunksize, stamps[k], outcome, collected, describe)
        _interrupt.check()
        if state.active:
            state.check()


class WorkerLabels:
    """Short worker labels ("w0", "w1", ...) in the order each (pid, thread) is first seen."""

    def __init__(self, prefix: str = "w") -> None:
        self.prefix = prefix
        self.seen: dict[tuple[int, int], str] = {}

    def __call__(self, pid: int, thread_id: int) -> str:
        label = self.seen.get((pid, thread_id))
        if label is None:
            label = self.seen[(pid, thread_id)] = f"{self.prefix}{len(self.seen)}"
        return label


def outcome_event(index: int, outcome: tuple, *, t0: int, submitted: int, collected: int, worker: str) -> TaskEvent:
    """The TaskEvent of one task from its `Outcome` and the parent's clock readings (all `perf_counter_ns`).

    Times become seconds since `t0`; a task's submit time is never after its start (a
    sequential task is "submitted" as it starts).
    """
    _, start, end, cpu, pid, tid, error = outcome
    return make_event(index, worker, pid, tid, (min(submitted, start) - t0) / 1e9, (start - t0) / 1e9,
                      (end - t0) / 1e9, (collected - t0) / 1e9, cpu / 1e9, error is None, error or "")


def failed_outcome(error: str, when: int) -> tuple:
    """The `Outcome` of a task that never ran (or whose worker died): no pid, no time, the reason."""
    return Outcome(None, when, when, 0, 0, 0, error)


class Collector:
    """Gathers raw outcomes in the parent, in three columns indexed by task.

    On the hot path it only stores the worker's outcome tuple and the
    collection time; TaskEvents are built by the record's `EventLog` when first
    read, or at once for a caller who streams them. Worker labels go to workers
    in the order their first result was collected (streaming) or by task index.
    """

    def __init__(self, n: int, chunksize: int, on_event: EventCallback | None,
                 on_result: Callable[[TaskEvent, Any], Any] | None = None) -> None:
        self.n = n
        self.chunksize = chunksize
        self.t0 = 0
        self.on_event = on_event
        self.on_result = on_result
        self.streaming = on_event is not None or on_result is not None
        self.submitted: list[int] = [0] * n
        self.outcomes: list[tuple | None] = [None] * n
        self.collected: list[int] = [0] * n
        self.labels = WorkerLabels()
        self.pool_broken = False
        self._built: list[TaskEvent | None] = [None] * n

    def take(self, first: int, submitted: int, outcome: object, collected: int,
             describe: Callable[[BaseException, int], str]) -> None:
        """Record what one future gave: a task's outcome, a chunk's, or the pool's failure
        (`describe(exception, first task)` puts that into words)."""
        if type(outcome) is tuple:  # one task; a chunk comes back as a list
            self.add(first, submitted, outcome, collected)
        elif type(outcome) is list:
            for k, one in enumerate(outcome):
                self.add(first + k, submitted, one, collected)
        else:
            self.pool_broken = self.pool_broken or isinstance(outcome, BrokenExecutor)
            count = min(self.chunksize, self.n - first)
            self.fail_range(first, count, submitted, collected, describe(outcome, first))  # type: ignore[arg-type]

    def add(self, index: int, submitted: int, outcome: tuple, collected: int) -> None:
        self.submitted[index] = submitted
        self.outcomes[index] = outcome
        self.collected[index] = collected
        if self.streaming:
            event = self._event(index)
            if self.on_event is not None:
                self.on_event(event)
            if self.on_result is not None:
                self.on_result(event, outcome[0])

    def fail_range(self, first: int, count: int, submitted: int, when: int, error: str) -> None:
        for index in range(first, first + count):
            if self.outcomes[index] is None:
                self.add(index, submitted, failed_outcome(error, when), when)

    def fail_unfinished(self, error: str) -> None:
        now = perf_counter_ns()
        for index in range(self.n):
            if self.outcomes[index] is None:
                self.add(index, self.t0, failed_outcome(error, now), now)

    def _event(self, index: int) -> TaskEvent:
        """One task's event, built now (for streaming) and kept for the record."""
        ev = self._built[index]
        if ev is None:
            ev = self._built[index] = build_events(self.t0, self.labels, [index], self.submitted, self.outcomes,
                                                   self.collected, self._built)[0]
        return ev

    def events(self) -> EventLog:
        """Every collected task's event, in index order, built when first read."""
        present = [k for k, out in enumerate(self.outcomes) if out is not None] if None in self.outcomes \
            else range(self.n)
        build = functools.partial(build_events, self.t0, self.labels, present, self.submitted, self.outcomes,
                                  self.collected, self._built)
        return EventLog(build, len(present))

    def results(self) -> tuple[Any, ...]:
        outcomes = self.outcomes
        if None in outcomes:
            return tuple(None if out is None else out[0] for out in outcomes)
        return tuple(map(_result, outcomes))


_result = operator.itemgetter(Outcome._fields.index("result"))
_PID, _THREAD = Outcome._fields.index("pid"), Outcome._fields.index("thread_id")


def build_events(t0: int, labels: WorkerLabels, indices: Iterable[int], submitted: list[int],
                 outcomes: list[tuple | None], collected: list[int],
                 built: list[TaskEvent | None]) -> list[TaskEvent]:
    """TaskEvents for `indices` from the collector's columns; events built before are reused.

    One tight loop, as it runs once per task. The cyclic garbage collector is
    paused meanwhile: thousands of new objects would otherwise trigger full
    collections that cost more than building them (and no cycle is made here).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        out = []
        for index in indices:
            ev = built[index]
            if ev is None:
                outcome = outcomes[index]
                pid, tid = outcome[_PID], outcome[_THREAD]  # type: ignore[index]
                ev = outcome_event(index, outcome, t0=t0, submitted=submitted[index],  # type: ignore[arg-type]
                                   collected=collected[index], worker=labels(pid, tid) if pid else "")
            out.append(ev)
        return out
    finally:
        if enabled:
            gc.enable()
