"""Processes: each worker a separate interpreter with its own memory and GIL.

Data flow: the parent pickles (fn, item) for every task; a feeder thread
writes it to a pipe; the worker unpickles, runs `call_timed`, and pickles the
outcome back; the executor's manager thread sets the future. A function
defined in a notebook cannot be found by name in a worker, so `shipping`
sends it by value. Start methods are always explicit (the default mirrors
Python 3.14: forkserver on Linux, spawn elsewhere) and recorded.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
from concurrent.futures import Future, ProcessPoolExecutor, wait
from typing import Callable

from .. import config
from ._base import Runner
from .._worker import call_chunk, call_timed, ready
from .shipping import check_input_picklable, ship
from .validate import check_int, check_start_method

#: ProcessPoolExecutor refuses more than 61 workers on Windows (a WaitForMultipleObjects limit).
WINDOWS_MAX_WORKERS = 61


class ProcessRunner(Runner):
    """Over `concurrent.futures.ProcessPoolExecutor` with an explicit start method."""

    backend = "processes"

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
            # and a worker's exit never unlinks shared memory (FACTS.md).
            from multiprocessing import resource_tracker

            resource_tracker.ensure_running()
        return ProcessPoolExecutor(self.max_workers, mp_context=ctx)

    def _warm_up(self) -> None:
        pool: ProcessPoolExecutor = self._pool
        for _ in range(3):  # spawn/forkserver start workers on demand: ask until all are up
            futures = [pool.submit(ready) for _ in range(self.max_workers)]
            done, not_done = wait(futures, timeout=config.STARTUP_TIMEOUT_S)
            if not_done:
                raise TimeoutError(f"worker processes did not start within {config.STARTUP_TIMEOUT_S} s")
            for fut in done:
                fut.result()
            if len(pool._processes) >= self.max_workers:
                break
        self._procs = list(pool._processes.values())

    def _close_pool(self, pool: ProcessPoolExecutor, *, kill: bool) -> None:
        procs = list(getattr(pool, "_processes", {}).values()) or self._procs
        if kill:
            for proc in procs:
                if proc.is_alive():
                    proc.kill()
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

    def _submit(self, target: Callable, chunk: list) -> Future:
        if len(chunk) == 1:
            return self._pool.submit(call_timed, target, chunk[0])
        return self._pool.submit(call_chunk, target, chunk)

    def _describe_failure(self, exc: BaseException) -> str:
        if type(exc).__name__ != "BrokenProcessPool":
            return super()._describe_failure(exc)
        fates = [_fate(p) for p in self._procs]
        died = [f for f in fates if f and "SIGTERM" not in f] or [f for f in fates if f]
        who = "; ".join(died) if died else "a worker process ended abruptly"
        return (f"BrokenProcessPool: a worker process died ({who}). When one worker dies, "
                "ProcessPoolExecutor marks the whole pool broken and every unfinished task fails with it; "
                "the next run starts a fresh pool.")


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
