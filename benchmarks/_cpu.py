"""CPU seconds read around a timed run: the parent's own and its pool workers', so that a regression in a
ratio shows its cause (a parent that polls takes a core from 2 workers; slower workers take longer).

psutil is imported when first asked for, not at import: spawn and forkserver workers re-import the script
that imports this (see `_stats`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable


def cpu_now(pids: Iterable[int]) -> tuple[float, float]:
    """(this process's CPU seconds so far, every thread; the CPU seconds of processes `pids` so far).

    The parent's comes from `time.process_time()` (nanoseconds); the workers' from psutil, which on Linux
    counts in the OS's ticks (10 ms), plenty for workers that compute for a second or more.
    """
    import psutil

    workers = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:  # gone: a cold pool's workers, or one that died
            continue
        workers += times.user + times.system
    return time.process_time(), workers


def cpu_since(before: tuple[float, float], pids: Iterable[int]) -> tuple[float, float]:
    """What the parent and the workers `pids` used since `before` (from `cpu_now` on the same pids)."""
    parent, workers = cpu_now(pids)
    return parent - before[0], workers - before[1]
