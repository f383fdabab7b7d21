"""Subinterpreters: one process, many interpreters, one GIL each (Python 3.14+).

Data flow: `InterpreterPoolExecutor` is a `ThreadPoolExecutor` whose every
worker thread owns a fresh interpreter. For each task the parent pickles
`call_timed`, the function and its input; the worker thread unpickles them
inside its interpreter (importing their modules there by name), runs the
call, and the outcome tuple comes back the same way. Each interpreter has its
own GIL, so CPU-bound tasks run in parallel as they would in processes, but
with no process start-up and no pipe.

Limits a learner meets (all from the stdlib, explained rather than hidden):

- Functions travel by name, so they must be importable: a function defined
  in `__main__` (a notebook cell, an interactive session), a lambda or a
  closure cannot be used. Put it in a module, or use `concurrency_lab.workloads`.
  (The processes backend ships such functions by value with cloudpickle; here
  they are refused before anything starts, with this explanation.)
- Arguments and results are pickled between interpreters: they are copied,
  not shared, so a big input costs what it costs for processes.
- Objects such as numpy arrays, open files, locks and sockets are not
  shareable between interpreters; build them inside the task.
- C extensions must support subinterpreters (multi-phase init, per-interpreter
  GIL). numpy does not (yet), so the `gil_release` numpy workload fails here.
- The task's module must be importable by a fresh interpreter: installed, or on
  PYTHONPATH, not only on a `sys.path` entry the notebook added at runtime.
- As with threads, a running task cannot be killed: on Stop or a timeout the
  queued tasks are cancelled and a running one finishes in the background.
"""

from __future__ import annotations

import concurrent.futures
import functools
import platform
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from .. import config
from .._worker import Outcome, call_chunk, call_timed, ready
from ._base import Runner
from ._interrupt import wait
from ._run import RunState, stopped_while_starting
from .shipping import UnpicklableError, _by_reference_ok, check_input_picklable

#: The first Python whose concurrent.futures has InterpreterPoolExecutor (PEP 734's companion).
MIN_VERSION = (3, 14)

#: How long each warm-up task holds its worker, so that every worker thread,
#: not one fast one, creates its interpreter and answers before timing starts.
WARM_UP_DELAY_S = 0.02


class BackendUnavailable(ValueError):
    """This Python lacks what the backend needs. A ValueError, like asking
    multiprocessing for a start method the platform lacks, so the CLI shows
    the message instead of a traceback."""


def pool_class() -> type[Executor] | None:
    """`InterpreterPoolExecutor` where this Python has it, else None."""
    return getattr(concurrent.futures, "InterpreterPoolExecutor", None)


def check_available() -> None:
    """Refuse, with the reason and the remedy, on a Python without InterpreterPoolExecutor."""
    if sys.version_info < MIN_VERSION or pool_class() is None:
        raise BackendUnavailable(
            f"the interpreters backend needs Python {MIN_VERSION[0]}.{MIN_VERSION[1]} or newer "
            f"(InterpreterPoolExecutor); this is {platform.python_version()}. Run it under a newer Python, "
            "e.g. concurrency_lab.interpreters.sweep_in('python3.14', backends=['interpreters'])")


class InterpreterRunner(Runner):
    """Over `concurrent.futures.InterpreterPoolExecutor` (Python 3.14+); see the module note for its limits."""

    backend = "interpreters"
    workers_import = True

    def __init__(self, max_workers: int | None = None) -> None:
        check_available()  # before anything else: the version is the first thing wrong
        super().__init__(max_workers)

    def _make_pool(self) -> Executor:
        return pool_class()(self.max_workers, thread_name_prefix="concurrency-lab-interp")

    def _warm_up(self, stop: threading.Event | None) -> None:
        self._until_all_answer(None, stop)

    def _until_all_answer(self, module: str | None, stop: threading.Event | None = None) -> None:
        """Return once every worker thread has created its interpreter and run a task there.

        Threads (and so interpreters) start on demand, so timing would otherwise
        include creating them. A warm-up task's outcome carries its thread id,
        so we repeat until every worker has answered; an import failing inside a
        worker interpreter raises here, before the run.
        """
        deadline = time.monotonic() + config.STARTUP_TIMEOUT_S
        task = functools.partial(ready, module=module)
        answered: set[int] = set()
        while len(answered) < self.max_workers:
            futures = [self._pool.submit(call_timed, task, WARM_UP_DELAY_S) for _ in range(self.max_workers)]
            done, not_done = wait(futures, timeout=max(deadline - time.monotonic(), 0.0), stop=stop)
            stopped_while_starting(stop)
            if not_done:
                raise TimeoutError(f"worker interpreters did not start within {config.STARTUP_TIMEOUT_S} s")
            for fut in done:
                outcome = Outcome._make(fut.result())
                if outcome.error:
                    raise RuntimeError(f"a worker interpreter could not import {module!r}:\n{outcome.error}")
                answered.add(outcome.thread_id)

    def _close_pool(self, pool: Executor, *, kill: bool) -> None:
        pool.shutdown(wait=not kill, cancel_futures=True)

    def _prepare(self, fn: Callable, items: list) -> Callable:
        if not _by_reference_ok(fn):
            raise UnpicklableError(_not_importable(fn))
        check_input_picklable(items[0], 0)
        return fn

    def _submitter(self, target: Callable, state: RunState) -> Callable:
        return functools.partial(self._pool.submit, call_timed, target)

    def _chunk_submitter(self, target: Callable, state: RunState) -> Callable:
        return functools.partial(self._pool.submit, call_chunk, target)


def _not_importable(fn: Any) -> str:
    name = getattr(fn, "__qualname__", None) or repr(fn)
    module = getattr(getattr(fn, "func", fn), "__module__", None)
    return (f"fn: {name!r} (module {module!r}) cannot be sent to another interpreter: functions travel by name, "
            "so they must be importable module-level functions. A function defined in a notebook cell "
            "(__main__), a lambda or a closure cannot be used; move it into a .py module, or use "
            "concurrency_lab.workloads (the processes backend can ship such functions by value).")
