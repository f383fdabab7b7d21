"""Lesson 03 (I/O-bound work): backends compared on waiting work, thread counts, and the exercise's check."""

from __future__ import annotations

from typing import Any

from ._feedback import Feedback

__all__ = ['compare_backends', 'overlapped', 'thread_counts', 'more_threads_than_tasks_helped', 'check_io_estimate']

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


def overlapped(df: Any, at_least: float = 2.0) -> str:
    """A checked line: which backends overlapped the waiting (speedup >= `at_least`)."""
    fast = [b for b, s in zip(df["backend"], df["speedup"], strict=True) if b != "sequential" and s >= at_least]
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


def check_io_estimate(answer: Any, tasks: int = 16, threads: int = 4, wait: float = 0.05) -> Feedback:
    """Exercise 03: how long do `tasks` waits of `wait` s take on `threads` threads?"""
    import math

    expected = math.ceil(tasks / threads) * wait
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return Feedback(False, "set `answer` to a number of seconds")
    if abs(answer - expected) > 0.25 * expected:
        hint = "too long: the threads wait at the same time" if answer > expected else "too short: each thread still waits its turns one after another"
        return Feedback(False, f"{hint}.")
    return Feedback(True, f"{tasks} tasks on {threads} threads are {math.ceil(tasks / threads)} rounds of "
                          f"{wait * 1000:g} ms each; the GIL is free while a thread waits.")
