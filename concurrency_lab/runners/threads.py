"""Threads: one process, many threads, one GIL (on a standard build)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from .. import config
from .._worker import call_chunk, call_timed
from ._base import Runner
from ._interrupt import wait


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

    def _submitter(self, target: Callable) -> Callable:
        return functools.partial(self._pool.submit, call_timed, target)

    def _chunk_submitter(self, target: Callable) -> Callable:
        return functools.partial(self._pool.submit, call_chunk, target)
