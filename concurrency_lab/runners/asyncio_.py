"""asyncio: one thread, one event loop, many tasks waiting at once.

The loop runs in a thread of its own, because a Jupyter kernel's main thread
already runs a loop (so `asyncio.run` would fail there). `max_workers` limits
how many tasks are in flight: each task holds one of `max_workers` slots, and
its event's `thread_id` is that slot number (every task shares the loop's thread). Workloads with a coroutine twin
(`io_sleep`, `io_http`) use it; a coroutine function is awaited; a plain
function is called inside the loop and blocks it - which is the lesson:
asyncio overlaps waiting, never computing. On Stop, such a blocking call is
ended at its next bytecode (`_cancel`), so the loop can close in time.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Callable
from time import perf_counter_ns, thread_time_ns
from typing import Any

from .. import config
from .._worker import _describe
from ..workloads import async_twin
from ._base import Runner
from ._cancel import TaskCancelled, TaskGuard
from ._run import RunState


class AsyncioRunner(Runner):
    """Tasks as coroutines on one event loop, at most `max_workers` at a time."""

    backend = "asyncio"

    def _make_pool(self) -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
        # Every submitted task's first step sits in the loop's ready queue, ahead of
        # any cancel we schedule; a flag read directly lets them all bow out at once.
        self._closing = threading.Event()
        loop = asyncio.new_event_loop()
        made = threading.Event()
        thread = threading.Thread(target=self._serve, args=(loop, made), name="concurrency-lab-asyncio",
                                  daemon=True)
        thread.start()
        made.wait(config.STARTUP_TIMEOUT_S)
        return loop, thread

    def _serve(self, loop: asyncio.AbstractEventLoop, made: threading.Event) -> None:
        """The loop's thread. Its guard lets Stop end a plain function that blocks the loop."""
        guard = self._guard = TaskGuard()
        made.set()
        try:
            loop.run_forever()
        except TaskCancelled:
            pass  # it arrived just after the blocking call returned: the loop is being closed anyway
        finally:
            try:
                guard.close()
            except TaskCancelled:  # the same, arriving at close()'s first bytecode (see `TaskGuard.close`)
                guard.close()

    def _warm_up(self, stop: threading.Event | None) -> None:
        async def make_slots() -> asyncio.Queue:
            slots: asyncio.Queue[int] = asyncio.Queue()
            for slot in range(self.max_workers):
                slots.put_nowait(slot)
            return slots

        loop, _ = self._pool
        self._slots = asyncio.run_coroutine_threadsafe(make_slots(), loop).result(config.STARTUP_TIMEOUT_S)

    def _close_pool(self, pool: tuple[asyncio.AbstractEventLoop, threading.Thread], *, kill: bool) -> None:
        loop, thread = pool
        self._closing.set()
        if loop.is_running():
            loop.call_soon_threadsafe(_cancel_all_and_stop, loop)
            thread.join(config.POLL_INTERVAL_S)
            deadline = time.monotonic() + config.SHUTDOWN_GRACE_S
            while thread.is_alive() and time.monotonic() < deadline:
                if kill:  # a plain function blocks the loop: end it (see `_cancel`, and why it may send again)
                    self._guard.cancel()
                thread.join(config.POLL_INTERVAL_S)
        if not thread.is_alive():
            loop.close()

    #: Coroutines are cancelled one by one inside the loop (asyncio.wait_for); the
    #: run goes on, unlike pools, which must stop a worker to stop a task.
    watches_task_timeout = False

    def _prepare(self, fn: Callable, items: list) -> Callable:
        return async_twin(fn) or fn

    def _submitter(self, target: Callable, state: RunState) -> Callable:
        loop, _ = self._pool
        timeout = state.task_timeout
        return lambda item: asyncio.run_coroutine_threadsafe(self._run_chunk(target, [item], timeout), loop)

    def _chunk_submitter(self, target: Callable, state: RunState) -> Callable:
        loop, _ = self._pool
        timeout = state.task_timeout
        return lambda chunk: asyncio.run_coroutine_threadsafe(self._run_chunk(target, chunk, timeout), loop)

    async def _run_chunk(self, target: Callable, chunk: list, timeout: float | None) -> Any:
        closing = self._closing
        if closing.is_set():
            raise asyncio.CancelledError
        slot = await self._slots.get()
        try:
            outcomes = []
            for item in chunk:
                if closing.is_set():
                    raise asyncio.CancelledError
                outcomes.append(await _call_timed_async(target, item, slot, timeout, self._guard))
        finally:
            self._slots.put_nowait(slot)
        return outcomes[0] if len(chunk) == 1 else outcomes


async def _call_timed_async(fn: Callable, item: Any, slot: int, timeout: float | None,
                            guard: TaskGuard) -> tuple:
    c0 = thread_time_ns()
    t0 = perf_counter_ns()
    try:
        guard.inside = threading.get_ident()
        try:
            result = fn(item)  # a plain function runs here, blocking the loop; a coroutine function only starts
        finally:
            guard.inside = None
        if inspect.isawaitable(result):
            result = await (result if timeout is None else asyncio.wait_for(result, timeout))
    except TimeoutError:
        t1 = perf_counter_ns()
        return (None, t0, t1, thread_time_ns() - c0, _pid(), slot,
                f"timeout: this task ran longer than task_timeout={timeout:g} s")
    except Exception as exc:  # CancelledError (a BaseException) must propagate
        t1 = perf_counter_ns()
        return None, t0, t1, thread_time_ns() - c0, _pid(), slot, _describe(exc)
    t1 = perf_counter_ns()
    return result, t0, t1, thread_time_ns() - c0, _pid(), slot, None


def _pid() -> int:
    from .. import _worker

    return _worker._PID


def _cancel_all_and_stop(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        task.cancel()
    loop.call_soon(loop.stop)
