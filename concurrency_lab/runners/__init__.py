"""Runners: one contract (`Runner`), one backend per module."""

from __future__ import annotations

from .._worker import Outcome
from ._base import Runner
from ._interrupt import as_completed, deferred_interrupt
from ._run import WorkerLabels, outcome_event
from ._stream import EventStream
from .asyncio_ import AsyncioRunner
from .dask_ import DaskRunner
from .interpreters import InterpreterRunner
from .processes import ProcessRunner
from .sequential import SequentialRunner
from .shipping import UnpicklableError
from .threads import ThreadRunner
from .validate import check_choice, check_start_method

RUNNERS: dict[str, type[Runner]] = {
    "sequential": SequentialRunner,
    "threads": ThreadRunner,
    "processes": ProcessRunner,
    "asyncio": AsyncioRunner,
    "dask": DaskRunner,
    "interpreters": InterpreterRunner,
}


def parse_backend(spec: str) -> tuple[str, str | None]:
    """"processes:spawn" -> ("processes", "spawn"); "threads" -> ("threads", None); plain "processes" gets
    the default start method. The one reading of a backend name, used by `run`, `make_runner`, `sweep`,
    the CLI and the explorers."""
    if not isinstance(spec, str):
        raise TypeError(f"backend: expected a name like 'threads' or 'processes:spawn', got {spec!r}")
    backend, _, method = spec.partition(":")
    check_choice(backend, "backend", RUNNERS)
    if method:
        if backend != "processes":
            raise ValueError(f"backend: only processes takes a start method, not {spec!r}")
        return backend, check_start_method(method)
    return backend, (check_start_method(None) if backend == "processes" else None)


def make_runner(backend: str, max_workers: int | None = None, *, start_method: str | None = None,
                address: str | None = None) -> Runner:
    """A runner for `backend`: "sequential", "threads", "processes" (or "processes:spawn", with its start
    method), "asyncio", "dask" or "interpreters".

    `start_method` is for processes only; `address` (a running scheduler, "tcp://host:8786") for dask only.
    """
    if isinstance(backend, str) and ":" in backend:
        backend, method = parse_backend(backend)
        if start_method is not None and start_method != method:
            raise ValueError(f"start_method: {start_method!r} contradicts the backend's own {method!r}; give one")
        start_method = method
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


__all__ = ["RUNNERS", "AsyncioRunner", "DaskRunner", "EventStream", "InterpreterRunner", "Outcome", "ProcessRunner",
           "Runner", "SequentialRunner", "ThreadRunner", "UnpicklableError", "WorkerLabels", "as_completed",
           "deferred_interrupt", "make_runner", "outcome_event", "parse_backend"]
