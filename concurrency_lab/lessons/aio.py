"""Lesson 11 (asyncio): running a coroutine on an event loop of its own from a notebook, the switch trace,
a frozen loop and `to_thread`, 10,000 waits on asyncio and on threads, back-pressure against the local
server. The exercise's check (`fetch_all` with at most `limit` requests in flight) is in `aio_exercise`.

Why the demonstrations look the way they do:

- A Jupyter kernel already runs an event loop in its main thread: a cell may `await` at the top level,
  but `asyncio.run` refuses to start a second loop there. `run_async` runs it on a thread of its own, as
  `asyncio.run(main())` runs in a `.py` file; `%%watch` needs that too, since it runs the cell without
  the kernel's loop.
- A frozen loop is measured by a heartbeat: a task that asks to wake every 10 ms. While a blocking call holds
  the loop's thread it cannot tick at all, which makes the verdict certain one way; a free loop ticks dozens
  of times, which leaves a wide margin the other way (the largest gap alone would not: a full garbage
  collection in a big kernel can pause every thread for a few hundred ms on a busy machine).
- Many waits run in a fresh child Python per model, so each starts from the same empty process and the
  memory it grows by is its own.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .. import config
from ..load import Load

__all__ = ["run_async", "LOOP_THREAD", "show_trace", "froze_the_loop", "busiest_thread", "watch_verdict",
           "MANY_AIO_WAITS_SCRIPT", "AsyncWaits", "async_vs_threads", "limit_verdict"]

T = TypeVar("T")

#: The name of the thread `run_async` runs its event loop in, as `%%watch` shows it.
LOOP_THREAD = "event-loop"
#: How long `run_async` waits for the loop's thread after the coroutine's own timeout, before it calls the
#: loop stuck (a blocking call that never returns cannot be cancelled: asyncio only cancels at an await).
STUCK_GRACE_S = 5.0


# -- a loop of its own --------------------------------------------------------------------------------------

async def _bounded(awaitable: Awaitable[T], timeout: float) -> T:
    async with asyncio.timeout(timeout):
        return await awaitable


def run_async(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    """`asyncio.run(coro)` on a new thread, cancelled after `timeout` s; what it returns or raises.

    Why a thread: this kernel's thread already runs an event loop and `asyncio.run` will not start a second
    one there. A daemon thread, waited on with a timeout: a coroutine stuck in a blocking call cannot be
    cancelled, and must not hang the cell (its thread is then left behind, and a TimeoutError says so).
    """
    box: dict[str, Any] = {}

    def main() -> None:
        try:
            box["result"] = asyncio.run(_bounded(coro, timeout))
        except BaseException as exc:  # handed to the caller, not lost in the thread
            box["error"] = exc

    thread = threading.Thread(target=main, name=LOOP_THREAD, daemon=True)
    thread.start()
    thread.join(timeout + STUCK_GRACE_S)
    if thread.is_alive():
        raise TimeoutError(f"the event loop was still busy {timeout + STUCK_GRACE_S:g} s later: a blocking call "
                           "that never returns holds its thread, and asyncio can only cancel at an await")
    if "error" in box:
        raise box["error"]
    return box["result"]


# -- when the loop switches -----------------------------------------------------------------------------------

def show_trace(trace: list[str]) -> str:
    """The trace's steps, one a line, with a mark wherever the loop switched to another task (the first
    word of each step names its task)."""
    lines, previous = [], None
    for step in trace:
        task = step.split()[0] if step.split() else ""
        if previous is not None and task != previous:
            lines.append("      ~~ the loop switched tasks ~~")
        lines.append(f"  {step}")
        previous = task
    return "\n".join(lines)


# -- a frozen loop ----------------------------------------------------------------------------------------------

def froze_the_loop(what: str, ticks: int) -> str:
    """A checked line: did `what` freeze the loop, i.e. did the heartbeat never tick while it ran? Certain for
    a blocking call (nothing else runs until it returns); a free loop ticks dozens of times in 0.6 s, and a
    busy machine or a garbage collection would have to stop it for the whole time to flip it."""
    return f"{what} froze the event loop (the heartbeat never ticked while it ran): {ticks == 0}"


def busiest_thread(record: Any) -> str:
    """The name of the thread lane of a WatchRecord that used the most CPU ('' if none)."""
    threads = [lane for lane in record.lanes if lane.kind == "thread"]
    return max(threads, key=record.total).name if threads else ""


def watch_verdict(record: Any, off_loop: bool) -> str:
    """A checked line from a watch: which thread did the computing, the loop's own or a `to_thread` worker
    (the default executor names its threads `asyncio_0`, `asyncio_1`, ...)? CPU seconds, not wall time, so
    other programs on the machine can slow it but not move it."""
    name = busiest_thread(record)
    if off_loop:
        return f"the busiest thread was a to_thread worker, not the loop's: {name.startswith('asyncio_')}"
    return f"the busiest thread was the event loop's own: {name == LOOP_THREAD}"


# -- many waits at once: asyncio against threads --------------------------------------------------------------

#: One child Python per model. The waiters wait on an event set `wait` s after the start (as for a reply),
#: so all of them are waiting when the memory is read, however long starting them took. If the OS refuses a
#: thread (a limit on threads per user, or on memory), the ones started are released and joined, and the
#: child says how many it got.
MANY_AIO_WAITS_SCRIPT = '''\
import asyncio
import json
import sys
import threading
import time

import psutil


def memory():
    info = psutil.Process().memory_info()
    return info.rss, info.vms  # resident (really used) and virtual (address space reserved)


def with_threads(n, wait):
    release = threading.Event()
    before, t0 = memory(), time.perf_counter()
    threads, error = [], ""
    try:
        for _ in range(n):
            thread = threading.Thread(target=release.wait, args=(120,))
            thread.start()
            threads.append(thread)
    except (RuntimeError, MemoryError) as exc:  # "can't start new thread": the OS said no
        error = f"{type(exc).__name__}: {exc}"
    started, during = time.perf_counter() - t0, memory()  # every started thread is waiting now
    time.sleep(max(t0 + wait - time.perf_counter(), 0))
    release.set()
    for thread in threads:
        thread.join(120)
    alive = sum(thread.is_alive() for thread in threads)
    return len(threads), started, time.perf_counter() - t0, before, during, error, alive


async def with_asyncio(n, wait):
    release = asyncio.Event()
    before, t0 = memory(), time.perf_counter()
    tasks = [asyncio.create_task(release.wait()) for _ in range(n)]
    await asyncio.sleep(0)  # one turn of the loop: every task has started and is waiting
    started, during = time.perf_counter() - t0, memory()
    await asyncio.sleep(max(t0 + wait - time.perf_counter(), 0))
    release.set()
    await asyncio.gather(*tasks)
    return len(tasks), started, time.perf_counter() - t0, before, during, "", 0


model, n, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
got, started, wall, before, during, error, alive = (
    with_threads(n, wait) if model == "threads" else asyncio.run(with_asyncio(n, wait)))
print(json.dumps({"waiting": got, "started_s": started, "wall_s": wall, "rss_bytes": during[0] - before[0],
                  "vms_bytes": during[1] - before[1], "error": error, "still_alive": alive}))
'''
#: 10,000 waits in the lesson; 2,000 in small mode (10,000 threads take ~15-30 s to start and wake on a
#: busy 2-core machine, over the 10 s a cell may take there).
MANY_WAITS = 2_000 if config.SMALL else 10_000
#: The checked lines' margins, far from what is measured: the waits end in ~1 s against n x 0.5 s one after
#: another; a waiting thread holds ~10-16 KiB of resident memory, a task ~1 KiB.
FAR_FASTER = 10.0
LESS_MEMORY = 0.5
CHILD_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class ModelWaits:
    """One child Python's waits on one model (threads or asyncio)."""

    waiting: int
    """How many waits it held at once (fewer than asked if the OS refused a thread)."""
    started_s: float
    """Seconds to start them all."""
    wall_s: float
    """Seconds from the first start to the last one finished (joined, for threads)."""
    rss_bytes: int
    """How much resident memory (pages really used) grew while all the waits were pending."""
    vms_bytes: int
    """How much virtual memory (address space reserved, mostly thread stacks) grew meanwhile."""
    error: str = ""
    still_alive: int = 0
    """Threads still running after the join's timeout (0: none leaked)."""

    @property
    def kib_per_wait(self) -> float:
        return self.rss_bytes / 1024 / self.waiting if self.waiting else float("nan")


@dataclass(frozen=True)
class AsyncWaits:
    """`asked` waits of `wait_s` at once, in one child Python on threads and in another on asyncio."""

    asked: int
    wait_s: float
    models: dict[str, ModelWaits] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    """Why a child gave no numbers (it crashed or ran out of time), by model."""
    load: Load | None = None

    def __repr__(self) -> str:
        lines = [f"{self.asked:,} waits of {self.wait_s:g} s at once (one after another: "
                 f"{self.asked * self.wait_s:,.0f} s), each model in a fresh child Python"
                 + (" (small mode: fewer waits)" if config.SMALL else "")]
        for name in ("threads", "asyncio"):
            m = self.models.get(name)
            if m is None:
                lines.append(f"  {name:<8} gave no numbers: {self.failed.get(name, '?')}")
                continue
            lines.append(f"  {name:<8} started {m.waiting:,} in {m.started_s:.2f} s, all done in {m.wall_s:.2f} s; "
                         f"resident memory grew by {m.rss_bytes / 2**20:.1f} MiB ({m.kib_per_wait:.1f} KiB a wait), "
                         f"address space reserved by {m.vms_bytes / 2**30:.2f} GiB")
            if m.error:
                lines.append(f"           the OS refused more: {m.error}")
        return "\n".join(lines + ([self.load.note()] if self.load else []))

    def verdict(self) -> str:
        """Checked lines with no count in them, so small mode and the full lesson print the same."""
        limit = self.asked * self.wait_s / FAR_FASTER
        lines = []
        for name in ("threads", "asyncio"):
            m = self.models.get(name)
            ok = m is not None and m.waiting == self.asked and not m.error and m.wall_s < limit
            lines.append(f"{name}: every wait started and all overlapped (done in under 1/{FAR_FASTER:g} of the "
                         f"time one after another takes): {ok}")
        t, a = self.models.get("threads"), self.models.get("asyncio")
        less = t is not None and a is not None and a.kib_per_wait < LESS_MEMORY * t.kib_per_wait
        leaked = sum(m.still_alive for m in self.models.values())
        return "\n".join(lines + [f"a wait on asyncio took less than half the resident memory of a wait on a "
                                  f"thread: {less}", f"threads left running: {leaked}"])


def async_vs_threads(waits: int = MANY_WAITS, wait_s: float = 0.5) -> AsyncWaits:
    """Run `MANY_AIO_WAITS_SCRIPT` for both models, each child bounded by a timeout. A child that fails
    (the OS refused threads and then some) is reported in words, not raised: the lesson goes on."""
    import json

    from ..children import run_script
    from ..load import LoadMeter

    meter = LoadMeter()
    models, failed = {}, {}
    for model in ("threads", "asyncio"):
        child = run_script(MANY_AIO_WAITS_SCRIPT, model, str(waits), str(wait_s), timeout=CHILD_TIMEOUT_S,
                           name="many_waits.py")
        try:
            models[model] = ModelWaits(**json.loads(child.stdout.strip().splitlines()[-1]))
        except (ValueError, IndexError, TypeError):
            why = "it ran out of time" if child.timed_out else f"it failed: {child.stdout.strip()[-300:]}"
            failed[model] = why
    return AsyncWaits(waits, wait_s, models, failed, meter.read())


# -- back-pressure ---------------------------------------------------------------------------------------------

def limit_verdict(max_in_flight: int, limit: int, requests: int, latency: float, wall_s: float) -> str:
    """Checked lines for a run of `requests` GETs with a Semaphore(`limit`) against a server of `latency`:
    the server never had more than `limit` at once (certain, if the Semaphore works), so the run took at
    least `requests / limit` latencies (certain: each holds its slot that long), and it took under half of
    one-at-a-time's `requests x latency` (a 5x margin at 50 requests and a limit of 10)."""
    rounds = -(-requests // limit)
    return (f"the server never had more than {limit} requests at once: {max_in_flight <= limit}\n"
            f"so it took at least {rounds} rounds of the latency: {wall_s >= 0.99 * rounds * latency}\n"
            f"and under half the time of one at a time: {wall_s < requests * latency / 2}")
