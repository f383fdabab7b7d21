"""The private parts of `concurrent.futures.ProcessPoolExecutor` this library reads, in one place.

Why read them at all: the executor starts its workers and its manager thread
itself and hands out neither. The runners need the worker processes to
measure them (pids, memory), to kill them on Stop or Ctrl-C, and to read how
each one died; and the manager thread, to wait (bounded) for it when a pool is
killed, since `shutdown(wait=True)` waits for it with no time limit.

Version note: `_processes` (a dict, pid -> Process) and
`_executor_manager_thread` have these names and meanings from Python 3.9
through 3.14 (Lib/concurrent/futures/process.py). `shutdown()` sets the
manager thread to None, so read it first. If a later Python renames them,
this module is the one to change; `tests/test_runners.py` checks both on
every Python the version matrix runs.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor


def worker_processes(pool: ProcessPoolExecutor) -> list[multiprocessing.process.BaseProcess]:
    """The pool's worker processes started so far (spawn and forkserver start them on demand)."""
    return list((getattr(pool, "_processes", None) or {}).values())


def manager_thread(pool: ProcessPoolExecutor) -> threading.Thread | None:
    """The thread that feeds the workers and sets the futures, or None once the pool was shut down."""
    return getattr(pool, "_executor_manager_thread", None)
