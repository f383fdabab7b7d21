"""Processes: each worker a separate interpreter with its own memory and GIL.

Data flow: the parent pickles (fn, item) for every task; a feeder thread
writes it to a pipe; the worker unpickles, runs `call_timed`, and pickles the
outcome back; the executor's manager thread sets the future. A function
defined in a notebook cannot be found by name in a worker, so `shipping`
sends it by value. Start methods are always explicit (the default mirrors
Python 3.14: forkserver on Linux, spawn elsewhere) and recorded.
"""

from __future__ import annotations

import functools
import multiprocessing
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .. import config
from .._worker import call_chunk, call_timed, ready
from ._base import Runner
from ._executor import manager_thread, worker_processes
from ._interrupt import wait
from ._run import RunState, stopped_while_starting
from .shipping import check_input_picklable, ship
from .validate import check_int, check_start_method

#: ProcessPoolExecutor refuses more than 61 workers on Windows (a WaitForMultipleObjects limit).
WINDOWS_MAX_WORKERS = 61


class ProcessRunner(Runner):
    """Over `concurrent.futures.ProcessPoolExecutor` with an explicit start method."""

    backend = "processes"
    workers_import = True

    def __init__(self, max_workers: int | None = None, *, start_method: str | None = None) -> None:
        super().__init__(max_workers)
        if sys.platform == "win32":
            check_int(self.max_workers, "max_workers", low=1, high=WINDOWS_MAX_WORKERS)
        self.start_method = check_start_method(start_method)
        self._procs: list[multiprocessing.process.BaseProcess] = []

    def _make_pool(self) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context(self.start_method)
        if self.start_method != "fork":
            # Start the resource tracker before the workers, so they share it
            # and a worker's exit never unlinks shared memory (lesson 05's shared-memory path relies on it:
            # tests/test_lesson_05.py).
            from multiprocessing import resource_tracker

            resource_tracker.ensure_running()
        if self.start_method == "forkserver":
            preload_in_forkserver()
        return ProcessPoolExecutor(self.max_workers, mp_context=ctx)

    def _warm_up(self, stop: threading.Event | None) -> None:
        self._until_all_answer(None, stop)
        self._procs = worker_processes(self._pool)

    def _until_all_answer(self, module: str | None, stop: threading.Event | None = None) -> None:
        """Return only when every worker process has started and answered a task.

        Spawn and forkserver start workers on demand, and a worker that exists
        may still be importing; if timing began then, the first tasks would
        measure its start-up. A worker that answered has finished starting.
        """
        pool: ProcessPoolExecutor = self._pool
        deadline = time.monotonic() + config.STARTUP_TIMEOUT_S
        answered: set[int] = set()
        delay = 0.0
        while True:
            futures = [pool.submit(ready, delay, module) for _ in range(self.max_workers)]
            done, not_done = wait(futures, timeout=max(deadline - time.monotonic(), 0.0), stop=stop)
            stopped_while_starting(stop)
            if not_done:
                raise TimeoutError(f"worker processes did not start within {config.STARTUP_TIMEOUT_S} s")
            for fut in done:
                exc = fut.exception()
                if isinstance(exc, BrokenProcessPool):
                    raise WorkerStartError(_START_FAILED.format(method=self.start_method)) from exc
                answered.add(fut.result())  # any other error (an import failing) raises as it is
            started = {proc.pid for proc in worker_processes(pool)}
            if len(started) >= self.max_workers and answered >= started:
                return
            delay = 0.002  # keep the ready workers busy a moment, so the late one gets a task

    def _close_pool(self, pool: ProcessPoolExecutor, *, kill: bool) -> None:
        procs = worker_processes(pool) or self._procs
        if kill:
            for proc in procs:
                if proc.is_alive():
                    proc.kill()
            # Not shutdown(wait=True): that joins the executor's manager thread
            # with no time limit, and a lock left held by an interrupt (see
            # `_interrupt`) would block it for ever. Its workers are dead; it
            # notices within milliseconds, so a bounded join is plenty.
            manager = manager_thread(pool)  # read before shutdown(), which forgets it
            pool.shutdown(wait=False, cancel_futures=True)
            if manager is not None:
                manager.join(config.SHUTDOWN_GRACE_S)
        else:
            pool.shutdown(wait=True, cancel_futures=True)
        for proc in procs:
            proc.join(config.SHUTDOWN_GRACE_S)
            if proc.is_alive():  # should not happen; never leave one behind
                proc.kill()
                proc.join(config.SHUTDOWN_GRACE_S)

    def _worker_pids(self) -> list[int]:
        return [p.pid for p in self._procs if p.pid is not None]

    def _prepare(self, fn: Callable, items: list) -> Callable:
        check_input_picklable(items[0], 0)
        return ship(fn)

    def _submitter(self, target: Callable, state: RunState) -> Callable:
        return functools.partial(self._pool.submit, call_timed, target)

    def _chunk_submitter(self, target: Callable, state: RunState) -> Callable:
        return functools.partial(self._pool.submit, call_chunk, target)

    def _describe_failure(self, exc: BaseException, index: int) -> str:
        if _is_unpicklable_result(exc):
            return (f"{type(exc).__name__}: {exc}. Task {index}'s return value could not be sent back: a worker "
                    "process hands its result to this one pickled, and this value cannot be pickled. Return "
                    "plain data (numbers, strings, lists, dicts) instead, or use threads.")
        if not isinstance(exc, BrokenProcessPool):
            return super()._describe_failure(exc, index)
        died = self._deaths()
        who = "; ".join(died) if died else "a worker process ended abruptly"
        return (f"BrokenProcessPool: a worker process died ({who}). When one worker dies, "
                "ProcessPoolExecutor marks the whole pool broken and every unfinished task fails with it; "
                "the next run starts a fresh pool.")


    def _deaths(self) -> list[str]:
        """How workers ended. The executor's manager thread reaps them concurrently,
        so an exit code can lag the broken future by a moment: wait (bounded) until
        every worker has one. Workers the pool itself terminated are left out."""
        # Let the executor's manager thread reap them first: under forkserver an
        # exit status is read once from a pipe, and a second reader racing it
        # gets EOF and records 255 instead of the real code or signal.
        manager = manager_thread(self._pool) if self._pool is not None else None
        if manager is not None and manager is not threading.current_thread():
            manager.join(config.SHUTDOWN_GRACE_S)
        deadline = time.monotonic() + config.SHUTDOWN_GRACE_S
        while any(p.exitcode is None for p in self._procs) and time.monotonic() < deadline:
            time.sleep(0.01)
        fates = [_fate(p) for p in self._procs]
        return [f for f in fates if f and "SIGTERM" not in f] or [f for f in fates if f]


def _is_unpicklable_result(exc: BaseException) -> bool:
    """Whether the pool failed to pickle a task's outcome in the worker. The input was pickled before any
    worker started (`check_input_picklable`) and a task's own exception comes back as text, so a pickling
    error on the future can only be the result's."""
    return isinstance(exc, (TypeError, AttributeError, pickle.PicklingError)) and "pickle" in str(exc).lower()


class WorkerStartError(RuntimeError):
    """Worker processes died before they ran a single task."""


_START_FAILED = (
    "The worker processes died while starting (start method {method!r}). Under spawn and forkserver "
    "each worker imports your main script again: if that script starts a pool at its top level, guard "
    "it with `if __name__ == \"__main__\":`. The worker's own error, if any, is printed to stderr above."
)


def _fate(proc: multiprocessing.process.BaseProcess) -> str:
    code = proc.exitcode
    if code is None or code == 0:
        return ""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"pid {proc.pid} killed by {name}"
    return f"pid {proc.pid} exited with code {code}"


#: What every worker of ours imports before its first task (`call_timed`, `ready`): light on purpose.
WORKER_MODULE = "concurrency_lab._worker"


def preload_in_forkserver() -> None:
    """Have the forkserver import `WORKER_MODULE` when it starts, so that its workers inherit it.

    Why: a forkserver worker that imports it after the fork starts 1-2 ms later, and runs its tasks in a
    different memory state from a worker that did not. That state decided a measured gap: the same
    8 CPU-bound tasks used 9-13% more CPU in our forkserver workers than in a raw
    `ProcessPoolExecutor`'s, also when our workers were called exactly as raw's are
    (benchmarks/overhead.py, its crossed paths; benchmarks/README.md), while under fork, where the
    workers inherit every module from the parent, ours were as fast or faster. Preloaded, every worker
    the forkserver forks, ours or anyone's, starts from the same state.

    `set_forkserver_preload` only acts on a forkserver not started yet (one per process); it keeps
    `__main__`, which the standard library preloads by default, and the forkserver skips a module it
    cannot import.
    """
    from multiprocessing import forkserver

    server = forkserver._forkserver
    modules = list(getattr(server, "_preload_modules", None) or ["__main__"])
    if WORKER_MODULE not in modules:
        server.set_forkserver_preload([*modules, WORKER_MODULE])


def stop_forkserver() -> None:
    """End this process's forkserver, if one runs, and wait for it: for a short-lived Python that sweeps and
    exits (`concurrency-lab sweep`, run by `interpreters.sweep_in`).

    Why: a forkserver reaps the pool workers it forked, so their CPU time lands in its own; but nobody
    waits for the forkserver itself, which outlives its parent and is reaped by init. The CPU the sweep's
    workers used then reached no one's counters, and the parent's `load.LoadMeter` called it other
    programs' load (19% of the machine for one sweep in a free-threaded Python, on an idle machine).
    Waited for here, it lands in this process's children's times, and so in the parent's. `_stop` is
    what CPython's own tests use for this (Lib/test/_test_multiprocessing.py); it does nothing when no
    forkserver was started.
    """
    from multiprocessing import forkserver

    stop = getattr(forkserver._forkserver, "_stop", None)
    if stop is not None:
        stop()
