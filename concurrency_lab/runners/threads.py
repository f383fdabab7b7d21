"""Threads: one process, many threads, one GIL (on a standard build)."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Callable

from .. import config
from ._base import Runner
from .._worker import call_chunk, call_timed


class ThreadRunner(Runner):
    """Over `concurrent.futures.ThreadPoolExecutor`.

    A thread cannot be killed from outside: on Stop or Ctrl-C, queued tasks
    are cancelled at once, but a task already running finishes on its own.
    """

    backend = "threads"

    def _make_pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(self.max_workers, thread_name_prefix="concurrency-lab")

    def _warm_up(self) -> None:
        # Threads start on demand; a barrier keeps each one busy so the pool
        # must start all of them now, outside the timed run.
        barrier = threading.Barrier(self.max_workers)
        futures = [self._pool.submit(barrier.wait, config.STARTUP_TIMEOUT_S) for _ in range(self.max_workers)]
        done, _ = wait(futures, timeout=config.STARTUP_TIMEOUT_S)
        for fut in done:
            fut.result()

    def _close_pool(self, pool: ThreadPoolExecutor, *, kill: bool) -> None:
        pool.shutdown(wait=not kill, cancel_futures=True)

    def _submit(self, target: Callable, chunk: list) -> Future:
        if len(chunk) == 1:
            return self._pool.submit(call_timed, target, chunk[0])
        return self._pool.submit(call_chunk, target, chunk)
