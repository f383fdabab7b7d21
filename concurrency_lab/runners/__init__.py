"""Runners: one contract (`Runner`), one backend per module."""

from __future__ import annotations

from ._base import EventStream, Runner
from .asyncio_ import AsyncioRunner
from .dask_ import DaskRunner
from .interpreters import InterpreterRunner
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
    "dask": DaskRunner,
    "interpreters": InterpreterRunner,
}


def make_runner(backend: str, max_workers: int | None = None, *, start_method: str | None = None,
                address: str | None = None) -> Runner:
    """A runner for `backend`: "sequential", "threads", "processes", "asyncio", "dask" or "interpreters".

    `start_method` is for processes only; `address` (a running scheduler, "tcp://host:8786") for dask only.
    """
    check_choice(backend, "backend", RUNNERS)
    if backend == "processes":
        return ProcessRunner(max_workers, start_method=start_method)
    if start_method is not None:
        raise ValueError(f"start_method: only the processes backend takes one, not {backend!r}")
    if backend == "dask":  # address: a running scheduler, "tcp://host:8786"; None starts a LocalCluster
        return DaskRunner(max_workers, address=address)
    if address is not None:
        raise ValueError(f"address: only the dask backend takes a scheduler address, not {backend!r}")
    if backend == "sequential":
        return SequentialRunner(1 if max_workers is None else max_workers)
    return RUNNERS[backend](max_workers)


__all__ = ["RUNNERS", "AsyncioRunner", "DaskRunner", "EventStream", "InterpreterRunner", "ProcessRunner", "Runner",
           "SequentialRunner", "ThreadRunner", "UnpicklableError", "make_runner"]
