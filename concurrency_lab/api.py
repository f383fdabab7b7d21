"""One call for one measured run: `run("cpu", backend="processes", max_workers=2)`."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from . import workloads as _workloads
from .records import RunRecord
from .runners import make_runner
from .runners._base import EventCallback
from .runners.validate import check_int, check_tasks

#: Tasks in a run when the caller does not say: enough for 2-4 cores to share.
DEFAULT_TASKS = 8


def resolve(workload: str | Callable, size: Any = None, tasks: int | None = None,
            items: list | None = None) -> tuple[Callable, list, str, dict[str, Any]]:
    """Turn (workload, size, tasks) or (fn, items) into (fn, items, name, params)."""
    if items is not None and (size is not None or tasks is not None):
        raise ValueError("items: give either items, or size and tasks, not both")
    if isinstance(workload, str):
        w = _workloads.get(workload)
        fn, name = w.fn, w.name
        if size is None:
            size = w.default_size
    elif callable(workload):
        fn, name = workload, None
    else:
        raise TypeError(f"workload: expected a workload name or a function, got {type(workload).__name__}")
    if items is None:
        if size is None:
            raise ValueError("size: a function of your own needs size= (its argument) and tasks=, or items=")
        if isinstance(size, (int, float)) and not isinstance(size, bool) and size < 0:
            raise ValueError(f"size: {size!r} is out of range; allowed: >= 0")
        tasks = check_tasks(DEFAULT_TASKS if tasks is None else tasks)
        items = [size] * tasks
        params = {"size": size}
    else:
        params = {}
    return fn, items, name, params


@contextlib.contextmanager
def workload_fn(fn: Callable) -> Iterator[Callable]:
    """`fn`, ready to run: `io_http` without a URL gets a local server for the run."""
    if fn is _workloads.io_http:
        from .servers import LocalHTTPServer

        with LocalHTTPServer() as server:
            yield server.task()
    else:
        yield fn


def run(
    workload: str | Callable = "cpu",
    *,
    backend: str = "threads",
    max_workers: int | None = None,
    size: Any = None,
    tasks: int | None = None,
    items: list | None = None,
    start_method: str | None = None,
    chunksize: int = 1,
    on_event: EventCallback | None = None,
    on_result: Callable[[Any, Any], Any] | None = None,
    stop: threading.Event | None = None,
    timeout: float | None = None,
    task_timeout: float | None = None,
) -> RunRecord:
    """Start a pool, run the tasks, close the pool, and return the record.

    `workload` is a name from `WORKLOADS` or your own function. The record's
    `startup` is the pool's start-up (a cold run); for warm runs keep a runner
    open with `make_runner(...)` as a context manager.
    """
    fn, items, name, params = resolve(workload, size, tasks, items)
    check_int(chunksize, "chunksize", low=1)
    runner = make_runner(backend, max_workers, start_method=start_method)
    try:
        with workload_fn(fn) as ready_fn:
            return runner.run(ready_fn, items, chunksize=chunksize, on_event=on_event, on_result=on_result, stop=stop,
                              timeout=timeout, task_timeout=task_timeout, workload=name, params=params)
    finally:
        runner.shutdown()
