"""The Runner contract, shared by every backend.

How data flows through a run (pool backends):

1. `run()` checks its arguments, starts the pool if needed (timed: `startup`),
   and resets the peak-memory marks of the parent and the workers.
2. Each task is submitted as `call_timed(fn, item)`; the parent notes the
   submit time. The worker times the call itself and returns a raw outcome
   tuple (result, start, end, cpu, pid, thread id, error) - lean, so tiny
   tasks stay cheap to measure.
3. A done-callback drops each finished future on a queue. The calling thread
   takes them off as they come (waking every POLL_INTERVAL_S to look at Stop,
   the deadline, and to let Ctrl-C in), notes the collection time, and hands a
   `TaskEvent` to `on_event` when the caller streams.
4. At the end the outcomes become a frozen `RunRecord`, in input order; its
   TaskEvents are built from the raw columns when first read (`EventLog`).

On Ctrl-C, Stop or a timeout the runner aborts: pending tasks are cancelled,
worker processes are killed, and only then does the run return or re-raise.
Ctrl-C is held back while the calling thread is inside the pool's own code
and raised where no pool lock is held (`_interrupt`), since a
KeyboardInterrupt inside `submit` can leave a lock held and hang shutdown.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import operator
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError, Future
from time import perf_counter_ns
from typing import Any, ClassVar

from .. import config
from .._worker import Shipped
from ..memory import PeakMemory
from ..records import EventLog, RunRecord, TaskEvent, make_event
from . import _interrupt
from ._interrupt import deferred_interrupt
from .validate import check_chunksize, check_items, check_timeout, check_workers

EventCallback = Callable[[TaskEvent], Any]


class RunStopped(Exception):
    """Internal: the run must end now (Stop, the run's timeout, or a task's)."""

    def __init__(self, message: str, culprit: tuple[int, str] | None = None) -> None:
        super().__init__(message)
        self.culprit = culprit  # (index of the task to blame, what happened to it)


class _Limits:
    """Stop, the run's deadline and the per-task timeout, checked while waiting.

    A task counts as started once its future is running (threads: the worker
    took it; processes: it went into the call queue, a few tasks ahead), so the
    per-task clock can only err on the generous side.
    """

    def __init__(self, stop: threading.Event | None, deadline: int | None, task_timeout: float | None,
                 window: int) -> None:
        self.stop, self.deadline = stop, deadline
        self.task_timeout_ns = None if task_timeout is None else int(task_timeout * 1e9)
        self.task_timeout = task_timeout
        self.active = stop is not None or deadline is not None or task_timeout is not None
        self.window = window  # how many futures past the oldest unfinished one can be running
        self.futures: list[Future] = []
        self.chunksize = 1
        self._lo = 0
        self._running_since: dict[int, int] = {}

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


class Runner:
    """Run a function over inputs with `max_workers` workers, and record every task.

    Use it as a context manager to keep one warm pool across runs::

        with ThreadRunner(max_workers=4) as runner:
            record = runner.run(workloads.cpu, [100_000] * 8)
    """

    backend: ClassVar[str] = ""
    #: Whether workers are other interpreters, which must import a task's module
    #: themselves (processes, Dask, subinterpreters); see `_warm_for`.
    workers_import: ClassVar[bool] = False
    #: Whether Ctrl-C is held back while the calling thread is inside the pool's
    #: own code, and raised where no pool lock is held (see `_interrupt`). Not
    #: for the sequential backend, whose tasks run in the caller's thread: there
    #: Ctrl-C must reach the task itself.
    defers_interrupt: ClassVar[bool] = True

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = check_workers(max_workers)
        self.start_method = ""
        self._pool: Any = None
        self._warmed: set[str] = set()  # modules every worker of the current pool has imported

    # -- lifecycle -----------------------------------------------------------
    def __enter__(self) -> Runner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def __del__(self) -> None:  # a forgotten runner must not leave workers behind
        try:
            if self._pool is not None:
                self.shutdown(kill=True)
        except Exception:
            pass

    @property
    def started(self) -> bool:
        return self._pool is not None

    def start(self) -> float:
        """Start the pool and wait until every worker is ready; return the seconds it took.

        Starting twice is a no-op that returns 0.0.
        """
        if self._pool is not None:
            return 0.0
        t0 = perf_counter_ns()
        with self._deferring():
            self._warmed = set()  # a new pool has imported nothing yet
            self._pool = self._make_pool()
            try:
                self._warm_up()
                _interrupt.check()  # a press held back meanwhile: still inside, so the pool is closed
            except BaseException:
                self.shutdown(kill=True)
                raise
        return (perf_counter_ns() - t0) / 1e9

    def shutdown(self, *, kill: bool = False) -> None:
        """Close the pool. With kill=True, end workers at once (Stop, Ctrl-C, timeouts)."""
        with self._deferring():
            pool, self._pool = self._pool, None
            if pool is not None:
                self._close_pool(pool, kill=kill)

    def _deferring(self) -> contextlib.AbstractContextManager:
        return deferred_interrupt() if self.defers_interrupt else contextlib.nullcontext()

    # -- hooks for backends -------------------------------------------------------
    def _make_pool(self) -> Any:
        return object()  # in-process backends have no pool; a marker keeps `started` true

    def _warm_up(self) -> None:
        """Make every worker exist before timing starts."""

    def _close_pool(self, pool: Any, *, kill: bool) -> None:
        """Free the pool's workers."""

    def _worker_pids(self) -> list[int]:
        """Pids of worker processes (empty for in-process backends)."""
        return []

    @property
    def worker_pids(self) -> list[int]:
        """Pids of the pool's worker processes, for measuring them (empty for in-process backends)."""
        return self._worker_pids() if self.started else []

    def _prepare(self, fn: Callable, items: list) -> Callable:
        """Turn the learner's function into what the pool receives."""
        return fn

    def _warm_for(self, target: Callable) -> float:
        """Import the module the tasks come from in every worker, outside the timed run;
        return the seconds it took (counted as start-up).

        Otherwise each worker's first task pays for the import (tens of ms
        under spawn): a one-off cost that would pass for a slow task. Only
        backends whose workers are other interpreters (`workers_import`) have
        anything to do; each module is imported once per pool.
        """
        if not self.workers_import:
            return 0.0
        module = task_module(target)
        if not module or module in self._warmed:
            return 0.0
        t0 = perf_counter_ns()
        self._until_all_answer(module)
        self._warmed.add(module)
        return (perf_counter_ns() - t0) / 1e9

    def _until_all_answer(self, module: str | None) -> None:
        """Return once every worker has started and run `ready(module=module)` (pool backends)."""
        raise NotImplementedError

    def _stoppable(self, target: Callable, limits: _Limits) -> Callable:
        """`target`, or a wrapper that lets Stop and timeouts end it while it runs (threads; see `_cancel`)."""
        return target

    def _submitter(self, target: Callable) -> Callable[[Any], Future]:
        """A one-argument callable that submits `target(item)` as a timed task.

        Pools return `functools.partial(pool.submit, call_timed, target)`: a
        C-level call, because it runs once per task on the hot path.
        """
        raise NotImplementedError

    def _chunk_submitter(self, target: Callable) -> Callable[[list], Future]:
        """Like `_submitter`, for a list of items run one after another by one worker."""
        raise NotImplementedError

    def _check_task_timeout(self, task_timeout: float | None) -> float | None:
        return task_timeout

    def _describe_failure(self, exc: BaseException) -> str:
        """Words for a task whose future failed (a dead worker, a cancel...)."""
        return f"{type(exc).__name__}: {exc}"

    # -- running -----------------------------------------------------------
    def run(
        self,
        fn: Callable[[Any], Any],
        items: Iterable[Any],
        *,
        chunksize: int = 1,
        on_event: EventCallback | None = None,
        on_result: Callable[[TaskEvent, Any], Any] | None = None,
        stop: threading.Event | None = None,
        timeout: float | None = None,
        task_timeout: float | None = None,
        workload: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> RunRecord:
        """Run `fn(item)` for every item and return the record of the run.

        Results are in input order (`record.results`); a failed task has result
        None and its event says why. `on_event` gets each task's event as soon as
        the task is collected; `on_result` gets (event, result), for live plots
        that need what a task returned (the GIL activity samples). Setting `stop`, or passing `timeout` seconds,
        ends the run early; unfinished tasks are recorded as cancelled. A task
        running longer than `task_timeout` seconds is recorded as timed out and
        ends the run the same way (a thread cannot be killed: it finishes on its
        own, in the background).
        """
        items = check_items(items)
        chunksize = check_chunksize(chunksize)
        timeout = check_timeout(timeout, "timeout")
        task_timeout = self._check_task_timeout(check_timeout(task_timeout, "task_timeout"))
        if not callable(fn):
            raise TypeError(f"fn: expected a callable, got {type(fn).__name__}")
        target = self._prepare(fn, items)
        with self._deferring():
            startup = self.start()
            startup += self._warm_for(target)
            memory = PeakMemory(self._worker_pids())
            col = _Collector(len(items), chunksize, on_event, on_result)
            t0 = col.t0 = perf_counter_ns()
            deadline = None if timeout is None else t0 + int(timeout * 1e9)
            limits = _Limits(stop, deadline, task_timeout, window=self.max_workers + 16)
            try:
                self._execute(target, items, chunksize, col, limits)
            except RunStopped as why:
                self.shutdown(kill=True)
                if why.culprit is not None:
                    col.fail_range(why.culprit[0], min(chunksize, len(items) - why.culprit[0]), col.t0,
                                   perf_counter_ns(), why.culprit[1])
                col.fail_unfinished(str(why))
            except BaseException:
                self.shutdown(kill=True)  # Ctrl-C: clean up first, then let it through
                raise
            wall = (perf_counter_ns() - t0) / 1e9
            if col.pool_broken:
                self.shutdown(kill=True)  # the next run gets a fresh pool
        parent_peak, workers_peak = memory.read()
        merged = {"tasks": len(items), "chunksize": chunksize, **(params or {})}
        return RunRecord(
            backend=self.backend, max_workers=self.max_workers, start_method=self.start_method,
            workload=workload or _name_of(fn), params=merged, wall=wall, startup=startup,
            parent_peak_rss=parent_peak, workers_peak_rss=workers_peak,
            events=col.events(), results=col.results(),
        )

    def stream(self, fn: Callable[[Any], Any], items: Iterable[Any], **kwargs: Any) -> EventStream:
        """Run in a background thread and iterate over events as tasks finish.

        After the loop, `.record` holds the RunRecord. Closing the stream early stops the run.
        """
        return EventStream(self, fn, items, kwargs)

    def _execute(self, target: Callable, items: list, chunksize: int, col: _Collector, limits: _Limits) -> None:
        target = self._stoppable(target, limits)
        futures: list[Future] = limits.futures
        limits.chunksize = chunksize
        stamps: list[int] = []  # submit times, one per future
        append, stamp = futures.append, stamps.append
        pending = _interrupt.pending()  # a held-back Ctrl-C; raised here, between submits
        if chunksize == 1:
            submit = self._submitter(target)
            for item in items:
                stamp(perf_counter_ns())
                try:
                    append(submit(item))
                except Exception as exc:  # the pool broke while we were still submitting
                    append(_failed_future(exc))
                if pending:
                    _interrupt.check()
        else:
            submit = self._chunk_submitter(target)
            for first in range(0, len(items), chunksize):
                stamp(perf_counter_ns())
                try:
                    append(submit(items[first:first + chunksize]))
                except Exception as exc:
                    append(_failed_future(exc))
                if pending:
                    _interrupt.check()
        if not col.streaming:
            self._collect_in_order(futures, stamps, chunksize, col, limits)
        else:
            self._collect_as_completed(futures, stamps, chunksize, col, limits)

    def _collect_in_order(self, futures: list[Future], stamps: list[int], chunksize: int, col: _Collector,
                          limits: _Limits) -> None:
        """Take results in input order, as `Executor.map` does: the cheapest way.

        The wait is sliced into POLL_INTERVAL_S pieces so that Stop, the deadline
        and Ctrl-C are noticed while a long task runs.
        """
        poll = config.POLL_INTERVAL_S
        checks = limits.active
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
                    limits.check()
                    continue
                except (Exception, CancelledError) as exc:
                    outcome = exc
                break
            if type(outcome) is tuple and chunksize == 1:  # the hot path: one task, nobody streaming
                outcomes[k] = outcome
                collected[k] = perf_counter_ns()
            else:
                take(k * chunksize, stamps[k], outcome, perf_counter_ns(), self)
            # Let the future go now, as `Executor.map` does, rather than keeping
            # thousands of finished ones (and their locks) alive to the end.
            futures[k] = None  # type: ignore[call-overload]
            if pending:
                _interrupt.check()
            if checks:
                limits.check()

    def _collect_as_completed(self, futures: list[Future], stamps: list[int], chunksize: int, col: _Collector,
                              limits: _Limits) -> None:
        """Take results as they finish, so each event can be streamed at once."""
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
                limits.check()
                continue
            collected = perf_counter_ns()
            k = pending.pop(fut)
            futures[k] = None  # type: ignore[call-overload]  # see _collect_in_order
            try:
                outcome = fut.result()
            except (Exception, CancelledError) as exc:
                outcome = exc
            col.take(k * chunksize, stamps[k], outcome, collected, self)
            _interrupt.check()
            if limits.active:
                limits.check()


def task_module(target: Callable) -> str | None:
    """The module a worker must import to run `target`, or None when there is none to import.

    A function shipped by value needs `cloudpickle` to unpack; one defined in
    `__main__` (a notebook) cannot be imported by a worker at all.
    """
    if isinstance(target, Shipped):
        return "cloudpickle"
    module = getattr(getattr(target, "func", target), "__module__", None)  # functools.partial: its function
    return None if module == "__main__" else module


def _failed_future(exc: BaseException) -> Future:
    """A future that failed before it was submitted, so it is collected like any other failure."""
    fut: Future = Future()
    fut.set_exception(exc)
    return fut


def _is_broken_pool(exc: BaseException) -> bool:
    return type(exc).__name__ in ("BrokenProcessPool", "BrokenThreadPool", "BrokenExecutor")


def _name_of(fn: Callable) -> str:
    inner = getattr(fn, "func", fn)  # functools.partial
    return getattr(inner, "__qualname__", None) or getattr(inner, "__name__", None) or type(fn).__name__


class _Collector:
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
        self.outcomes: list[tuple | None] = [None] * n  # (result, start, end, cpu, pid, tid, error)
        self.collected: list[int] = [0] * n
        self.labels: dict[tuple[int, int], str] = {}
        self.pool_broken = False
        self._built: list[TaskEvent | None] = [None] * n

    def take(self, first: int, submitted: int, outcome: object, collected: int, runner: Runner) -> None:
        """Record what one future gave: a task's outcome, a chunk's, or the pool's failure."""
        if type(outcome) is tuple:  # one task; a chunk comes back as a list
            self.add(first, submitted, outcome, collected)
        elif type(outcome) is list:
            for k, one in enumerate(outcome):
                self.add(first + k, submitted, one, collected)
        else:
            self.pool_broken = self.pool_broken or _is_broken_pool(outcome)
            count = min(self.chunksize, self.n - first)
            self.fail_range(first, count, submitted, collected, runner._describe_failure(outcome))

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
                self.add(index, submitted, (None, when, when, 0, 0, 0, error), when)

    def fail_unfinished(self, error: str) -> None:
        now = perf_counter_ns()
        for index in range(self.n):
            if self.outcomes[index] is None:
                self.add(index, self.t0, (None, now, now, 0, 0, 0, error), now)

    def _event(self, index: int) -> TaskEvent:
        """One task's event, built now (for streaming) and kept for the record."""
        ev = self._built[index]
        if ev is None:
            ev = self._built[index] = _build_events(self.t0, self.labels, [index], self.submitted,
                                                    self.outcomes, self.collected, self._built)[0]
        return ev

    def events(self) -> EventLog:
        """Every collected task's event, in index order, built when first read."""
        present = [k for k, out in enumerate(self.outcomes) if out is not None] if None in self.outcomes \
            else range(self.n)
        build = functools.partial(_build_events, self.t0, self.labels, present, self.submitted, self.outcomes,
                                  self.collected, self._built)
        return EventLog(build, len(present))

    def results(self) -> tuple[Any, ...]:
        outcomes = self.outcomes
        if None in outcomes:
            return tuple(None if out is None else out[0] for out in outcomes)
        return tuple(map(_first, outcomes))


_first = operator.itemgetter(0)


def _build_events(t0: int, labels: dict[tuple[int, int], str], indices: Iterable[int], submitted: list[int],
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
        make = make_event
        for index in indices:
            ev = built[index]
            if ev is None:
                _, start, end, cpu, pid, tid, err = outcomes[index]  # type: ignore[misc]
                label = labels.get((pid, tid)) if pid else ""
                if label is None:
                    label = labels[(pid, tid)] = f"w{len(labels)}"
                ev = make(index, label, pid, tid, (min(submitted[index], start) - t0) / 1e9, (start - t0) / 1e9,
                          (end - t0) / 1e9, (collected[index] - t0) / 1e9, cpu / 1e9, err is None, err or "")
            out.append(ev)
        return out
    finally:
        if enabled:
            gc.enable()


class EventStream:
    """Iterate over a run's events while it runs in a background thread."""

    _ids = itertools.count()

    def __init__(self, runner: Runner, fn: Callable, items: Iterable, kwargs: dict[str, Any]) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = kwargs.pop("stop", None) or threading.Event()
        self.record: RunRecord | None = None
        self.error: BaseException | None = None
        user_cb = kwargs.pop("on_event", None)

        def on_event(ev: TaskEvent) -> None:
            if user_cb is not None:
                user_cb(ev)
            self._queue.put(ev)

        def body() -> None:
            try:
                self.record = runner.run(fn, items, on_event=on_event, stop=self._stop, **kwargs)
            except BaseException as exc:  # re-raised in the iterating thread
                self.error = exc
            finally:
                self._queue.put(_END)

        self._thread = threading.Thread(target=body, name=f"concurrency-lab-stream-{next(self._ids)}", daemon=True)
        self._thread.start()

    def __iter__(self) -> Iterator[TaskEvent]:
        try:
            while True:
                try:
                    item = self._queue.get(timeout=config.POLL_INTERVAL_S)
                except queue.Empty:
                    continue
                if item is _END:
                    break
                yield item
        except BaseException:
            self.close()
            raise
        self._thread.join()
        if self.error is not None:
            raise self.error

    def close(self, timeout: float = 5.0) -> None:
        """Stop the run and wait (bounded) for its cleanup."""
        self._stop.set()
        self._thread.join(timeout)


_END = object()
