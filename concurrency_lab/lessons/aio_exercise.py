"""Lesson 11's exercise: `async def fetch_all(url, n, limit)` fetches `url?bytes=i` for i in range(n) with at
most `limit` requests in flight, and returns the bodies in order. The check runs it against a local server
on an event loop of its own (`run_async`: the kernel's thread already runs one), with a heartbeat task on
the same loop, and tells the common wrong answers apart by what it measured:

- a blocking call inside (time.sleep, urllib): a heartbeat task on the same loop stops ticking, for a second
  or more in all;
- no Semaphore: the server counted more than `limit` requests at once;
- awaits one after another in a loop: the server never had more than 1 at once;
- the wrong bodies, count or order: compared with what the server sent;
- never finishing: `asyncio.timeout` ends it, and a loop stuck for good is left behind, never waited on.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import time
from dataclasses import dataclass
from typing import Any

from ._feedback import Feedback
from .aio import run_async

__all__ = ["AsyncFetchRun", "check_async_fetch_all", "async_fetch_feedback", "run_async_fetch_all"]

#: The check's load: 12 requests, at most 3 at once, each answered after 0.3 s. A right answer takes 4
#: rounds (1.2 s), one at a time takes 3.6 s: both end well inside the timeout on a busy 2-core laptop.
CHECK_REQUESTS, CHECK_LIMIT, CHECK_LATENCY_S = 12, 3, 0.3
#: Past this, the check stops the learner's coroutine (asyncio.timeout) and calls it a hang.
CHECK_TIMEOUT_S = 8.0
#: The heartbeat asks to wake this often. A gap of FROZEN_GAP_S or more counts as frozen time, and a run
#: frozen for FROZEN_TOTAL_S in all held the loop with a blocking call: a blocking fetch freezes it for a
#: latency per request (12 x 0.3 s = 3.6 s), a free loop for a busy machine's hiccups only (the garbage
#: collector is off meanwhile, so its pauses cannot add up).
HEARTBEAT_S = 0.01
FROZEN_GAP_S = 0.1
FROZEN_TOTAL_S = 1.0


@dataclass(frozen=True)
class AsyncFetchRun:
    """What the check measured of one run of the learner's `fetch_all`."""

    result: Any = None
    error: BaseException | None = None
    timed_out: bool = False
    not_awaitable: bool = False
    frozen_s: float = 0.0
    """The heartbeat's gaps of FROZEN_GAP_S or more, added up: how long the loop was frozen in all."""
    max_in_flight: int = 0
    """The most requests the server was working on at once."""
    wall_s: float = 0.0


class _Heartbeat:
    """A task that ticks every HEARTBEAT_S and adds up the long gaps, counting the one still open when it
    stops (a coroutine that never suspends leaves it no tick at all)."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.frozen = 0.0

    def _note(self) -> None:
        now = time.perf_counter()
        if now - self.last >= FROZEN_GAP_S:
            self.frozen += now - self.last
        self.last = now

    async def run(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            self._note()

    def stop(self, task: asyncio.Task) -> float:
        task.cancel()
        self._note()
        return self.frozen


async def _measure(fetch_all: Any, url: str, n: int, limit: int, timeout: float) -> dict[str, Any]:
    """Call the learner's function on this loop, with the heartbeat beside it and a timeout around it."""
    beat = _Heartbeat()
    task = asyncio.create_task(beat.run())
    await asyncio.sleep(0)  # the heartbeat starts ticking before the learner's code runs
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            call = fetch_all(url, n, limit)
            if not inspect.isawaitable(call):
                out["not_awaitable"] = True
            else:
                out["result"] = await call
    except TimeoutError:
        out["timed_out"] = True
    except Exception as exc:  # the learner's error, reported in words
        out["error"] = exc
    out["wall_s"] = time.perf_counter() - t0
    out["frozen_s"] = beat.stop(task)
    return out


def run_async_fetch_all(fetch_all: Any, n: int = CHECK_REQUESTS, limit: int = CHECK_LIMIT,
                  latency: float = CHECK_LATENCY_S, timeout: float = CHECK_TIMEOUT_S) -> AsyncFetchRun:
    """Run `fetch_all(url, n, limit)` against a fresh local server; what it returned and what was measured.
    A loop blocked for good (a blocking call that never returns) comes back as a timeout, never a hang."""
    from ..servers import LocalHTTPServer

    collecting = gc.isenabled()
    gc.disable()  # a full collection in a big kernel pauses every thread: not the learner's doing
    try:
        with LocalHTTPServer(latency=latency) as server:
            try:
                out = run_async(_measure(fetch_all, server.url, n, limit, timeout), timeout=timeout + 2)
            except TimeoutError:  # the loop's thread never came back: frozen all along
                out = {"timed_out": True, "frozen_s": timeout + 2}
            return AsyncFetchRun(**out, max_in_flight=server.max_in_flight)
    finally:
        if collecting:
            gc.enable()


def check_async_fetch_all(fetch_all: Any) -> Feedback:
    """Exercise 11: does `fetch_all(url, n, limit)` fetch concurrently, at most `limit` at once, with the
    loop never frozen, and return the n bodies in order?"""
    if not callable(fetch_all):
        return Feedback(False, "pass your function itself: `lessons.check_async_fetch_all(fetch_all)`")
    return async_fetch_feedback(run_async_fetch_all(fetch_all))


def async_fetch_feedback(run: AsyncFetchRun, n: int = CHECK_REQUESTS, limit: int = CHECK_LIMIT) -> Feedback:
    """What to say about a measured run, the most telling problem first."""
    if run.not_awaitable:
        return Feedback(False, "fetch_all returned without anything to await: define it with `async def`, so "
                               "that the check (and you) can `await fetch_all(url, n, limit)`.")
    if run.error is not None:
        return Feedback(False, f"your function raised {type(run.error).__name__}: {run.error}")
    if run.frozen_s >= FROZEN_TOTAL_S:
        return Feedback(False, f"the event loop was frozen for {run.frozen_s:.1f} s in all: a blocking call "
                               "(time.sleep, urllib.request.urlopen, requests.get) inside a coroutine holds the "
                               "loop's only thread. Await `get(...)` (or `asyncio.to_thread(...)` for a "
                               "blocking call you cannot avoid).")
    if run.timed_out:
        return Feedback(False, f"it did not finish within {CHECK_TIMEOUT_S:g} s: something it awaits never "
                               "completes. A Semaphore acquired and never released? Use `async with semaphore:`.")
    if run.max_in_flight > limit:
        return Feedback(False, f"the server had {run.max_in_flight} requests at once; the limit is {limit}. Make "
                               "ONE `asyncio.Semaphore(limit)` per call of fetch_all and hold it (`async with`) "
                               "around each request.")
    wrong = _wrong_result(run.result, n)
    if wrong:
        return Feedback(False, wrong)
    if run.max_in_flight <= 1:
        return Feedback(False, "right bodies, but one request at a time: `await` in a loop waits for each reply "
                               "before sending the next. Start them all as tasks (asyncio.gather or a TaskGroup) "
                               "and let the Semaphore hold them back.")
    if run.max_in_flight < limit:
        return Feedback(False, f"never more than {run.max_in_flight} requests at once, and {limit} are allowed: "
                               "size the Semaphore with `limit`.")
    return Feedback(True, f"{n} requests, {limit} at a time and never more, the loop never frozen, every body in "
                          "its place. The Semaphore is the back-pressure: the tasks wait for a slot, not the server.")


def _wrong_result(result: Any, n: int) -> str:
    """What is wrong with the returned bodies ('' if nothing): count, order, or content."""
    if result is None:
        return "fetch_all returned None: return the list of bodies."
    if inspect.isawaitable(result):
        return (f"fetch_all returned a {type(result).__name__}, something still to await: did you forget an "
                "`await` (on asyncio.gather)?")
    if not isinstance(result, (list, tuple)):
        return f"fetch_all returned a {type(result).__name__}: return a list of the bodies."
    try:
        sizes = [len(body) for body in result]
    except TypeError:
        return ("the list holds something other than bodies: did you forget `.result()` on a TaskGroup's tasks, "
                "or an `await`?")
    if len(sizes) != n:
        return f"fetch_all returned {len(sizes)} bodies; it was asked for {n}."
    if sizes == list(range(n)):
        return ""
    if sorted(sizes) == list(range(n)):
        return ("the right bodies, in the wrong order: the i-th must be the answer to `?bytes=i`. asyncio.gather, "
                "and a list of TaskGroup tasks, keep the order they were started in.")
    return "the bodies are not the server's answers: the i-th must be `await get(f\"{url}?bytes={i}\")`."
