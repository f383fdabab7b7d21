"""Threads: one process, many threads, one GIL (on a standard build)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .. import config
from .._worker import call_chunk, call_timed
from ._base import Runner
from ._cancel import TaskGuard
from ._interrupt import wait
from ._run import RunState


class ThreadRunner(Runner):
    """Over `concurrent.futures.ThreadPoolExecutor`.

    A thread cannot be killed from outside: on Ctrl-C queued tasks are
    cancelled at once, and a task already running finishes on its own. On
    Stop or a timeout, a running task is also ended at its next Python
    bytecode, by an exception raised inside it (`_cancel`): otherwise
    CPU-bound tasks left running would keep the GIL, and the kernel, busy.
    """

    backend = "threads"

    def _make_pool(self) -> ThreadPoolExecutor:
        self._guards = _PoolGuards()
        return ThreadPoolExecutor(self.max_workers, thread_name_prefix="concurrency-lab")

    def _warm_up(self, stop: threading.Event | None) -> None:
        # Threads start on demand; a barrier keeps each one busy so the pool
        # must start all of them now, outside the timed run.
        barrier = threading.Barrier(self.max_workers)
        futures = [self._pool.submit(barrier.wait, config.STARTUP_TIMEOUT_S) for _ in range(self.max_workers)]
        done, _ = wait(futures, timeout=config.STARTUP_TIMEOUT_S)
        for fut in done:
            fut.result()

    def _close_pool(self, pool: ThreadPoolExecutor, *, kill: bool) -> None:
        pool.shutdown(wait=not kill, cancel_futures=True)
        if kill:
            self._guards.cancel_all()

    def _stoppable(self, target: Callable, state: RunState) -> Callable:
        return functools.partial(_guarded, self._guards, target) if state.active else target

    def _submitter(self, target: Callable, state: RunState) -> Callable:
        return functools.partial(self._pool.submit, call_timed, target)

    def _chunk_submitter(self, target: Callable, state: RunState) -> Callable:
        return functools.partial(self._pool.submit, call_chunk, target)


class _PoolGuards:
    """One `TaskGuard` per pool thread, made by the thread on its first guarded task."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[TaskGuard] = []

    def mine(self) -> TaskGuard:
        guard = getattr(self._local, "guard", None)
        if guard is None:
            guard = self._local.guard = TaskGuard()
            self._all.append(guard)
        return guard

    def cancel_all(self) -> None:
        for guard in list(self._all):
            guard.cancel()


def _guarded(guards: _PoolGuards, fn: Callable, item: Any) -> Any:
    """`fn(item)` in a pool thread, which `cancel_all` can end while it runs (and only then)."""
    guard = guards.mine()
    guard.inside = guard.owner
    try:
        return fn(item)
    finally:
        guard.leave()
