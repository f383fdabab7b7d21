"""Every default in one place, each with the reason beside it.

Nothing here imports anything heavy: worker processes import this module.
"""

from __future__ import annotations

import multiprocessing
import os
import sys

#: One switch for a small, fast mode (CI, nbval, a 2-core laptop in class).
SMALL: bool = os.environ.get("CONCURRENCY_LAB_SMALL", "").strip().lower() in {"1", "true", "yes", "on"}

#: Backends every runner registry knows, in the order lessons introduce them.
BACKENDS: tuple[str, ...] = ("sequential", "threads", "processes", "asyncio", "dask", "interpreters")

#: Start methods we accept; the platform may lack some (Windows has only spawn).
START_METHODS: tuple[str, ...] = ("fork", "forkserver", "spawn")

#: Upper bound on max_workers. Far above any laptop, low enough that a typo
#: (max_workers=10000) is refused before it starts thousands of processes.
MAX_WORKERS_CAP: int = 256

#: Upper bound on tasks in one run, so a typo cannot queue a billion futures.
MAX_TASKS_CAP: int = 1_000_000

#: How long shutdown waits for a worker to exit before it is killed. Stop and
#: interrupts must finish within 2 s, so this leaves room for the kill itself.
SHUTDOWN_GRACE_S: float = 1.0

#: How often the collecting loop wakes to look at a stop request or a deadline.
#: 50 ms keeps Stop prompt and costs nothing measurable while tasks finish.
POLL_INTERVAL_S: float = 0.05

#: The longest one task an explorer will run, refused before anything starts. A size
#: meant for one workload can mean days in another (692,933 loop steps of `cpu` are
#: 692,933 seconds of `io_sleep`); a minute is far more than any lesson needs.
EXPLORER_MAX_TASK_S: float = 60.0

#: The longest one pool start-up may take before we call it a failure:
#: spawn on a slow laptop takes ~0.1-0.5 s per worker, this is far above it.
STARTUP_TIMEOUT_S: float = 60.0

#: The demo HTTP server queues this many connections. The stdlib default of 5
#: drops connections under 32 clients and they retry after 1-3 s
#: (tests/test_workloads.py::test_the_demo_server_answers_32_clients_at_once_without_dropping_one).
HTTP_REQUEST_QUEUE_SIZE: int = 128


def available_start_methods() -> tuple[str, ...]:
    """The start methods this platform supports, in our canonical order."""
    have = set(multiprocessing.get_all_start_methods())
    return tuple(m for m in START_METHODS if m in have)


def default_start_method() -> str:
    """The default of Python 3.14: forkserver on Linux, spawn elsewhere.

    We mirror 3.14 on every version so lessons behave the same on 3.11 and
    3.14, and so code that only worked thanks to fork is caught early.
    """
    if sys.platform.startswith("linux") and "forkserver" in available_start_methods():
        return "forkserver"
    return "spawn"
