"""Runners: one contract (`Runner`), one backend per module."""

from __future__ import annotations

from ._base import EventStream, Runner
from .asyncio_ import AsyncioRunner
from .processes import ProcessRunner
from .sequential import SequentialRunner
from .shipping import UnpicklableError
from .threads import ThreadRunner
from .validate import check_choice

RUNNERS: dict[str, type[Runner]] = {
    "sequential": SequentialRunner,
    "threads": ThreadRunner,
    "processes": ProcessRunner,
    "asyncio": AsyncioRunner,
}


def make_runner(backend: str, max_workers: int | None = None, *, start_method: str | None = None) -> Runner:
    """A runner for `backend` ("sequential", "threads", "processes", "asyncio")."""
    check_choice(backend, "backend", RUNNERS)
    if backend == "processes":
        return ProcessRunner(max_workers, start_method=start_method)
    if start_method is not None:
        raise ValueError(f"start_method: only the processes backend takes one, not {backend!r}")
    if backend == "sequential":
        return SequentialRunner(1 if max_workers is None else max_workers)
    return RUNNERS[backend](max_workers)


__all__ = ["RUNNERS", "AsyncioRunner", "EventStream", "ProcessRunner", "Runner", "SequentialRunner",
           "ThreadRunner", "UnpicklableError", "make_runner"]
