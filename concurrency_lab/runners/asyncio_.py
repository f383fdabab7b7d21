"""asyncio: one thread, one event loop, many tasks waiting at once.

The loop runs in a thread of its own, because a Jupyter kernel's main thread
already runs a loop (so `asyncio.run` would fail there). `max_workers` limits
how many tasks are in flight (a semaphore). Workloads with a coroutine twin
(`io_sleep`, `io_http`) use it; a coroutine function is awaited; a plain
function is called inside the loop and blocks it - which is the lesson:
asyncio overlaps waiting, never computing.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from concurrent.futures import Future
from time import perf_counter_ns, thread_time_ns
from typing import Any, Callable

from .. import config
from ..workloads import async_twin
from ._base import Runner
from .._worker import _describe


class AsyncioRunner(Runner):
    """Tasks as coroutines on one event loop, at most `max_workers` at a time."""

    backend = "asyncio"

    def _make_pool(self) -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="concurrency-lab-asyncio", daemon=True)
        thread.start()
        return loop, thread

    def _warm_up(self) -> None:
        async def make_semaphore() -> asyncio.Semaphore:
            return asyncio.Semaphore(self.max_workers)

        loop, _ = self._pool
        self._sem = asyncio.run_coroutine_threadsafe(make_semaphore(), loop).result(config.STARTUP_TIMEOUT_S)

    def _close_pool(self, pool: tuple[asyncio.AbstractEventLoop, threading.Thread], *, kill: bool) -> None:
        loop, thread = pool
        if loop.is_running():
            loop.call_soon_threadsafe(_cancel_all_and_stop, loop)
            thread.join(config.SHUTDOWN_GRACE_S * 2)
        if not thread.is_alive():
            loop.close()

    def _prepare(self, fn: Callable, items: list) -> Callable:
        return async_twin(fn) or fn

    def _submit(self, target: Callable, chunk: list) -> Future:
        loop, _ = self._pool
        return asyncio.run_coroutine_threadsafe(self._run_chunk(target, chunk), loop)

    async def _run_chunk(self, target: Callable, chunk: list) -> Any:
        async with self._sem:
            outcomes = [await _call_timed_async(target, item) for item in chunk]
        return outcomes[0] if len(chunk) == 1 else outcomes


async def _call_timed_async(fn: Callable, item: Any) -> tuple:
    c0 = thread_time_ns()
    t0 = perf_counter_ns()
    try:
        result = fn(item)
        if inspect.isawaitable(result):
            result = await result
    except Exception as exc:  # CancelledError (a BaseException) must propagate
        t1 = perf_counter_ns()
        return None, t0, t1, thread_time_ns() - c0, _pid(), threading.get_ident(), _describe(exc)
    t1 = perf_counter_ns()
    return result, t0, t1, thread_time_ns() - c0, _pid(), threading.get_ident(), None


def _pid() -> int:
    from .. import _worker

    return _worker._PID


def _cancel_all_and_stop(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        task.cancel()
    loop.call_soon(loop.stop)
