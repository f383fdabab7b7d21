"""The Runner contract, shared by every backend.

How data flows through a run (pool backends):

1. `run()` checks its arguments, starts the pool if needed (timed: `startup`),
   and resets the peak-memory marks of the parent and the workers.
2. Each task is submitted as `call_timed(fn, item)`; the parent notes the
   submit time. The worker times the call itself and returns an `Outcome`'s
   fields (result, start, end, cpu, pid, thread id, error) as a plain tuple,
   so tiny tasks stay cheap to measure.
3. A done-callback drops each finished future on a queue. The calling thread
   takes them off as they come (waking every POLL_INTERVAL_S to look at Stop,
   the deadline, and to let Ctrl-C in), notes the collection time, and hands a
   `TaskEvent` to `on_event` when the caller streams.
4. At the end the outcomes become a frozen `RunRecord`, in input order; its
   TaskEvents are built from the raw columns when first read (`EventLog`).

What belongs to one run (its limits, the futures, the collected outcomes)
lives in objects made for that run (`_run.RunState`, `_run.Collector`); the
runner keeps only its pool. `map` and `submit` give the same runs the
standard library's shape.

On Ctrl-C, Stop or a timeout the runner aborts: pending tasks are cancelled,
worker processes are killed, and only then does the run return or re-raise.
Ctrl-C is held back while the calling thread is inside the pool's own code
and raised where no pool lock is held (`_interrupt`), since a
KeyboardInterrupt inside `submit` can leave a lock held and hang shutdown.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError, Future
from time import perf_counter_ns
from typing import Any, ClassVar

from .._worker import Outcome, Shipped
from ..memory import PeakMemory
from ..records import RunRecord, TaskEvent, TaskFailed
from . import _interrupt
from ._interrupt import deferred_interrupt
from ._run import Collector, EventCallback, RunState, RunStopped, collect_as_completed, collect_in_order
from ._stream import EventStream
from .validate import check_chunksize, check_items, check_timeout, check_workers


class Runner:
    """Run a function over inputs with `max_workers` workers, and record every task.

    Use it as a context manager to keep one warm pool across runs::

        with ThreadRunner(max_workers=4) as runner:
            record = runner.run(workloads.cpu, [100_000] * 8)
    """

    backend: ClassVar[str] = ""
    #: Whether workers are other interpreters, which must import a task's module
    #: themselves (processes, Dask, subinterpreters); see `warm`.
    workers_import: ClassVar[bool] = False
    #: Whether Ctrl-C is held back while the calling thread is inside the pool's
    #: own code, and raised where no pool lock is held (see `_interrupt`). Not
    #: for the sequential backend, whose tasks run in the caller's thread: there
    #: Ctrl-C must reach the task itself.
    defers_interrupt: ClassVar[bool] = True
    #: Whether `task_timeout` is enforced by watching the futures (pools); a
    #: backend that bounds each task itself (asyncio: per coroutine) says False.
    watches_task_timeout: ClassVar[bool] = True

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

    def start(self, stop: threading.Event | None = None) -> float:
        """Start the pool and wait until every worker is ready; return the seconds it took.

        Starting twice is a no-op that returns 0.0. Setting `stop` meanwhile
        ends the start-up (the pool is closed, and `RunStopped` raised).
        """
        if self._pool is not None:
            return 0.0
        t0 = perf_counter_ns()
        with self._deferring():
            self._warmed = set()  # a new pool has imported nothing yet
            self._pool = self._make_pool()
            try:
                self._warm_up(stop)
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

    def _warm_up(self, stop: threading.Event | None) -> None:
        """Make every worker exist before timing starts (and give up when `stop` is set)."""

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

    def warm(self, fn: Callable, stop: threading.Event | None = None) -> float:
        """Start the pool if needed and import the module `fn` comes from in every worker, now, outside any
        timed run; return the seconds it took (a run counts them as start-up).

        Otherwise each worker's first task pays for the import (tens of ms
        under spawn): a one-off cost that would pass for a slow task. Only
        backends whose workers are other interpreters (`workers_import`) have
        anything to do; each module is imported once per pool.
        """
        with self._deferring():
            seconds = self.start(stop)
            if not self.workers_import:
                return seconds
            module = task_module(fn)
            if not module or module in self._warmed:
                return seconds
            t0 = perf_counter_ns()
            try:
                self._until_all_answer(module, stop)
            except RunStopped:
                self.shutdown(kill=True)
                raise
            self._warmed.add(module)
            return seconds + (perf_counter_ns() - t0) / 1e9

    def _until_all_answer(self, module: str | None, stop: threading.Event | None = None) -> None:
        """Return once every worker has started and run `ready(module=module)` (pool backends);
        raise `RunStopped` if `stop` is set meanwhile."""
        raise NotImplementedError

    def _stoppable(self, target: Callable, state: RunState) -> Callable:
        """`target`, or a wrapper that lets Stop and timeouts end it while it runs (threads; see `_cancel`)."""
        return target

    def _submitter(self, target: Callable, state: RunState) -> Callable[[Any], Future]:
        """A one-argument callable that submits `target(item)` as a timed task.

        Pools return `functools.partial(pool.submit, call_timed, target)`: a
        C-level call, because it runs once per task on the hot path.
        """
        raise NotImplementedError

    def _chunk_submitter(self, target: Callable, state: RunState) -> Callable[[list], Future]:
        """Like `_submitter`, for a list of items run one after another by one worker."""
        raise NotImplementedError

    def _check_task_timeout(self, task_timeout: float | None) -> None:
        """Refuse a `task_timeout` this backend cannot honour (before anything starts)."""

    def _describe_failure(self, exc: BaseException, index: int) -> str:
        """Words for task `index`, whose future failed (a dead worker, a cancel...)."""
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
        task_timeout = check_timeout(task_timeout, "task_timeout")
        self._check_task_timeout(task_timeout)
        if not callable(fn):
            raise TypeError(f"fn: expected a callable, got {type(fn).__name__}")
        target = self._prepare(fn, items)
        with self._deferring():
            col = Collector(len(items), chunksize, on_event, on_result)
            started = perf_counter_ns()
            memory = None
            try:
                startup = self.warm(target, stop)
            except RunStopped as why:  # Stop came while the pool was starting: nothing ran
                startup = (perf_counter_ns() - started) / 1e9
                col.t0 = perf_counter_ns()
                col.fail_unfinished(str(why))
            else:
                memory = PeakMemory(self._worker_pids())
                self._run_timed(target, items, col, stop, timeout, task_timeout)
            wall = (perf_counter_ns() - col.t0) / 1e9
            if col.pool_broken:
                self.shutdown(kill=True)  # the next run gets a fresh pool
        parent_peak, workers_peak = memory.read() if memory is not None else (0, 0)
        merged = {"tasks": len(items), "chunksize": chunksize, **(params or {})}
        return RunRecord(
            backend=self.backend, max_workers=self.max_workers, start_method=self.start_method,
            workload=workload or _name_of(fn), params=merged, wall=wall, startup=startup,
            parent_peak_rss=parent_peak, workers_peak_rss=workers_peak,
            events=col.events(), results=col.results(),
        )

    def _run_timed(self, target: Callable, items: list, col: Collector, stop: threading.Event | None,
                   timeout: float | None, task_timeout: float | None) -> None:
        """The timed part of a run, from the first submit to the last result, or to Stop, a timeout or an
        error (the pool is then killed, and unfinished tasks are recorded as such). Its `RunState` is made
        here, whole, when the clock starts."""
        col.t0 = perf_counter_ns()
        state = RunState(stop, None if timeout is None else col.t0 + int(timeout * 1e9), task_timeout,
                         window=self.max_workers + 16, chunksize=col.chunksize,
                         enforce_task_timeout=self.watches_task_timeout)
        try:
            self._execute(target, items, col, state)
        except RunStopped as why:
            self.shutdown(kill=True)
            if why.culprit is not None:
                first = why.culprit[0]
                col.fail_range(first, min(col.chunksize, len(items) - first), col.t0, perf_counter_ns(),
                               why.culprit[1])
            col.fail_unfinished(str(why))
        except BaseException:
            self.shutdown(kill=True)  # Ctrl-C: clean up first, then let it through
            raise

    def stream(self, fn: Callable[[Any], Any], items: Iterable[Any], **kwargs: Any) -> EventStream:
        """Run in a background thread and iterate over events as tasks finish.

        After the loop, `.record` holds the RunRecord. Closing the stream early stops the run.
        """
        return EventStream(self, fn, items, kwargs)

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], *, timeout: float | None = None,
            chunksize: int = 1) -> Iterator[Any]:
        """Like `Executor.map(fn, items)`: the results, in input order.

        Every task runs at once (as `Executor.map` submits them all). A failed
        task raises `TaskFailed`, naming it and its error, when the iteration
        reaches it; the standard library raises the task's own exception there,
        but ours crossed into this process as text. Keep `run` for the record.
        """
        return _in_order(self.run(fn, items, timeout=timeout, chunksize=chunksize))

    def submit(self, fn: Callable[[Any], Any], item: Any) -> Future:
        """Like `Executor.submit(fn, item)`: a Future of one task's result.

        The future raises `TaskFailed` if the task failed. Its `outcome` (an
        `Outcome`, set before the future is done) holds the task's own timings,
        and `submitted` the parent's clock when it was handed over, for
        `outcome_event`. The pool is started and warmed first, if needed.
        """
        target = self._prepare(fn, [item])
        with self._deferring():
            self.warm(target)
            submitted = perf_counter_ns()
            inner = self._submitter(target, RunState(None, None, None, window=self.max_workers))(item)
        outer: Future = Future()
        outer.submitted = submitted  # type: ignore[attr-defined]
        inner.add_done_callback(lambda done: _settle(outer, done, self._describe_failure))
        return outer

    def _execute(self, target: Callable, items: list, col: Collector, state: RunState) -> None:
        target = self._stoppable(target, state)
        chunksize = state.chunksize
        futures: list[Future] = state.futures
        stamps: list[int] = []  # submit times, one per future
        append, stamp = futures.append, stamps.append
        pending = _interrupt.pending()  # a held-back Ctrl-C; raised here, between submits
        if chunksize == 1:
            submit = self._submitter(target, state)
            for item in items:
                stamp(perf_counter_ns())
                try:
                    append(submit(item))
                except Exception as exc:  # the pool broke while we were still submitting
                    append(_failed_future(exc))
                if pending:
                    _interrupt.check()
        else:
            submit = self._chunk_submitter(target, state)
            for first in range(0, len(items), chunksize):
                stamp(perf_counter_ns())
                try:
                    append(submit(items[first:first + chunksize]))
                except Exception as exc:
                    append(_failed_future(exc))
                if pending:
                    _interrupt.check()
        collect = collect_as_completed if col.streaming else collect_in_order
        collect(futures, stamps, col, state, self._describe_failure)


def task_module(target: Callable) -> str | None:
    """The module a worker must import to run `target`, or None when there is none to import.

    A function shipped by value needs `cloudpickle` to unpack; one defined in
    `__main__` (a notebook) cannot be imported by a worker at all.
    """
    if isinstance(target, Shipped):
        return "cloudpickle"
    module = getattr(getattr(target, "func", target), "__module__", None)  # functools.partial: its function
    return None if module == "__main__" else module


def _in_order(record: RunRecord) -> Iterator[Any]:
    for event, result in zip(record.events, record.results, strict=True):
        if not event.ok:
            raise TaskFailed(f"task {event.index}: {_last_line(event.error)}")
        yield result


def _settle(outer: Future, inner: Future, describe: Callable[[BaseException, int], str]) -> None:
    """Give `outer` (a `submit`'s future) what the pool's future for it gave."""
    try:
        raw = inner.result()
    except (Exception, CancelledError) as exc:
        outer.set_exception(TaskFailed(f"task 0: {describe(exc, 0)}"))
        return
    outer.outcome = outcome = Outcome._make(raw)  # type: ignore[attr-defined]
    if outcome.error is None:
        outer.set_result(outcome.result)
    else:
        outer.set_exception(TaskFailed(f"task 0: {_last_line(outcome.error)}"))


def _last_line(error: str) -> str:
    lines = error.strip().splitlines()
    return lines[-1] if lines else "?"


def _failed_future(exc: BaseException) -> Future:
    """A future that failed before it was submitted, so it is collected like any other failure."""
    fut: Future = Future()
    fut.set_exception(exc)
    return fut


def _name_of(fn: Callable) -> str:
    inner = getattr(fn, "func", fn)  # functools.partial
    return getattr(inner, "__qualname__", None) or getattr(inner, "__name__", None) or type(fn).__name__


