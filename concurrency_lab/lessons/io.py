"""Lesson 03 (I/O-bound work): backends compared on waiting work, when asyncio switches tasks, very many waits
on asyncio and on threads, thread counts, and the exercise's check. The classic fetch example is in `io_classic`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..load import Load

__all__ = ['compare_backends', 'overlapped', 'thread_counts', 'more_threads_than_tasks_helped',
           'thread_counts_verdict',
           'no_suspend', 'take_turns', 'Switching', 'await_switching', 'MANY_WAITS_SCRIPT', 'ManyWaits',
           'many_waits']

def compare_backends(workload: Any, size: Any, *, tasks: int = 16, max_workers: int = 8,
                     backends: tuple[str, ...] = ("sequential", "threads", "processes", "asyncio")) -> Any:
    """Wall time of the same tasks on each backend, and speedup over sequential (a DataFrame)."""
    import pandas as pd

    from ..api import run

    rows = []
    for backend in backends:
        workers = 1 if backend == "sequential" else max_workers
        rec = run(workload, backend=backend, max_workers=workers, items=[size] * tasks)
        rec.raise_for_errors()
        rows.append({"backend": backend, "max_workers": workers, "tasks": tasks, "wall_s": rec.wall,
                     "startup_s": rec.startup})
    df = pd.DataFrame(rows)
    base = df.loc[df.backend == "sequential", "wall_s"]
    df["speedup"] = float(base.iloc[0]) / df["wall_s"] if len(base) else float("nan")
    return df


def overlapped(df: Any, at_least: float = 2.0, among: tuple[str, ...] | None = None) -> str:
    """A checked line: which backends (of `among`, default all) overlapped the waiting (speedup >= `at_least`)."""
    fast = [b for b, s in zip(df["backend"], df["speedup"], strict=True)
            if b != "sequential" and s >= at_least and (among is None or b in among)]
    return f"overlapped the waiting ({at_least:g}x or better): {', '.join(fast) if fast else 'none'}"


def thread_counts(size: float = 0.05, tasks: int = 32, counts: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)) -> Any:
    """Wall time of `tasks` sleeps of `size` s on thread pools of each size (a DataFrame)."""
    import pandas as pd

    from ..api import run

    rows = [{"threads": n, "wall_s": run("io_sleep", backend="threads", max_workers=n, size=size, tasks=tasks).wall}
            for n in counts]
    return pd.DataFrame(rows)


def more_threads_than_tasks_helped(df: Any, tasks: int) -> bool:
    """Did any pool with more threads than tasks beat the one with exactly `tasks` threads by 20%?"""
    at = df.loc[df.threads == tasks, "wall_s"]
    beyond = df.loc[df.threads > tasks, "wall_s"]
    return bool(len(at) and len(beyond) and (beyond < 0.8 * float(at.iloc[0])).any())


def thread_counts_verdict(df: Any, tasks: int) -> str:
    """Checked lines for `thread_counts`: one thread per task beat one thread by far (32 waits of 50 ms: ~1.6 s
    against ~0.05 s, so a 4x margin holds on a busy machine), and more threads than tasks did not help."""
    one = df.loc[df.threads == 1, "wall_s"]
    at = df.loc[df.threads == tasks, "wall_s"]
    fell = bool(len(one) and len(at) and float(at.iloc[0]) * 4 < float(one.iloc[0]))
    return (f"{tasks} threads were over 4x faster than 1 thread: {fell}\n"
            f"more threads than tasks helped: {more_threads_than_tasks_helped(df, tasks)}")


# -- when asyncio switches: only at an await that suspends --------------------------------------------------

async def no_suspend() -> None:
    """A coroutine that returns at once: awaiting it runs it to the end inside the awaiting task, so the
    event loop never gets a turn and no other task can run."""


async def take_turns(name: str, log: list[str], pause: Callable[[], Awaitable[Any]]) -> None:
    """Log `name` three times, awaiting `pause()` between entries: the order in `log` shows when the loop
    switched tasks."""
    for _ in range(3):
        log.append(name)
        await pause()


@dataclass(frozen=True)
class Switching:
    """The order two tasks ran in, once awaiting `no_suspend()` and once awaiting `asyncio.sleep(0)`."""

    no_suspend: str
    sleep_zero: str

    def __repr__(self) -> str:
        return ("tasks A and B each log their name 3 times, with an await between entries:\n"
                f"  await no_suspend()      ran them in the order {self.no_suspend}\n"
                f"  await asyncio.sleep(0)  ran them in the order {self.sleep_zero}")

    def verdict(self) -> str:
        """Deterministic on every machine: asyncio's ready queue runs tasks in the order they became ready."""
        return (f"awaiting a coroutine that never suspends let the other task run: {_interleaved(self.no_suspend)}\n"
                f"awaiting asyncio.sleep(0) let the other task run: {_interleaved(self.sleep_zero)}")


def _interleaved(order: str) -> bool:
    """Did B run before A had finished (A's entries are not all first)?"""
    return order.split() != sorted(order.split())


def await_switching() -> Switching:
    """Run A and B on a fresh event loop, once per kind of await (in a thread of its own: a Jupyter kernel
    already runs a loop in this one, and `asyncio.run` refuses to start a second loop there)."""
    import asyncio
    import functools
    from concurrent.futures import ThreadPoolExecutor

    async def both(pause: Callable[[], Awaitable[Any]]) -> str:
        log: list[str] = []
        await asyncio.gather(take_turns("A", log, pause), take_turns("B", log, pause))
        return " ".join(log)

    def run(pause: Callable[[], Awaitable[Any]]) -> str:
        return asyncio.run(both(pause))

    with ThreadPoolExecutor(1) as pool:
        return Switching(pool.submit(run, no_suspend).result(timeout=30),
                         pool.submit(run, functools.partial(asyncio.sleep, 0)).result(timeout=30))


# -- very many waits at once: asyncio against threads --------------------------------------------------------

#: One child Python per model, so each starts from the same empty process and its memory growth is its own.
#: The waiters wait on an event set `wait` s after the start (as for a reply), so all of them are waiting
#: when the memory is read, however long starting them took on a busy machine.
MANY_WAITS_SCRIPT = '''\
import asyncio
import json
import sys
import threading
import time

import psutil


def rss():
    return psutil.Process().memory_info().rss


def with_threads(n, wait):
    release = threading.Event()
    before, t0 = rss(), time.perf_counter()
    threads = [threading.Thread(target=release.wait, args=(60,)) for _ in range(n)]
    for thread in threads:
        thread.start()
    during = rss()  # all n threads are waiting now
    time.sleep(max(t0 + wait - time.perf_counter(), 0))
    release.set()
    for thread in threads:
        thread.join()
    return time.perf_counter() - t0, during - before


async def with_asyncio(n, wait):
    release = asyncio.Event()
    before, t0 = rss(), time.perf_counter()
    tasks = [asyncio.create_task(release.wait()) for _ in range(n)]
    await asyncio.sleep(0)  # one turn of the loop: every task has started and is waiting
    during = rss()
    await asyncio.sleep(max(t0 + wait - time.perf_counter(), 0))
    release.set()
    await asyncio.gather(*tasks)
    return time.perf_counter() - t0, during - before


model, n, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
wall, grew = with_threads(n, wait) if model == "threads" else asyncio.run(with_asyncio(n, wait))
print(json.dumps({"wall_s": wall, "grew_bytes": grew}))
'''
#: The checked lines' margins: far from what is measured (~0.2-0.6 s against 200 s one after another; a
#: thread adds ~8-16 KiB, a task ~1 KiB), so a busy laptop and a quiet workstation print the same lines.
FAR_FASTER = 10.0
LESS_MEMORY = 0.5


@dataclass(frozen=True)
class ManyWaits:
    """`waits` waits of `wait_s` at once, in one child Python on threads and in another on asyncio."""

    waits: int
    wait_s: float
    wall_s: dict[str, float]
    grew_mib: dict[str, float]
    """How much the child's resident memory grew while all the waits were pending."""
    load: Load | None = None

    def __repr__(self) -> str:
        lines = [f"{self.waits:,} waits of {self.wait_s:g} s at once (one after another: "
                 f"{self.waits * self.wait_s:,.0f} s)"]
        lines += [f"  {m:<8} took {self.wall_s[m]:.2f} s, memory grew by {self.grew_mib[m]:.1f} MiB"
                  for m in ("threads", "asyncio")]
        return "\n".join(lines + ([self.load.note()] if self.load else []))

    def verdict(self) -> str:
        limit = self.waits * self.wait_s / FAR_FASTER
        lines = [f"{m}: all {self.waits:,} waits overlapped (done in under 1/{FAR_FASTER:g} of the time one after "
                 f"another takes): {self.wall_s[m] < limit}" for m in ("threads", "asyncio")]
        less = self.grew_mib["asyncio"] < LESS_MEMORY * self.grew_mib["threads"]
        return "\n".join(lines + [f"asyncio's waits took less than half the memory of the threads': {less}"])


def many_waits(waits: int = 1000, wait_s: float = 0.2) -> ManyWaits:
    """Measure `MANY_WAITS_SCRIPT` for both models (a second or two; each child bounded by a timeout)."""
    import json

    from ..children import run_script
    from ..load import LoadMeter

    meter = LoadMeter()
    wall, grew = {}, {}
    for model in ("threads", "asyncio"):
        child = run_script(MANY_WAITS_SCRIPT, model, str(waits), str(wait_s), timeout=60, name="many_waits.py")
        if not child.ok:
            raise RuntimeError(f"the {model} child failed: {child.stdout[-500:]}")
        result = json.loads(child.stdout.strip().splitlines()[-1])
        wall[model], grew[model] = result["wall_s"], result["grew_bytes"] / 2**20
    return ManyWaits(waits, wait_s, wall, grew, meter.read())
