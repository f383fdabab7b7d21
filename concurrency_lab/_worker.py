"""Code that runs inside a worker: the timed call, and unpacking shipped functions.

Kept apart and light on purpose: a spawn or forkserver worker imports this
module (and `concurrency_lab/__init__`) before its first task, so anything heavy
here would be paid in every pool's start-up.
"""

from __future__ import annotations

import os
import threading
import time
from collections import namedtuple
from collections.abc import Callable
from time import perf_counter_ns, thread_time_ns

_get_ident = threading.get_ident

# os.getpid() is a real syscall (~190 ns): cache it, and refresh it in a forked child.
_PID = os.getpid()


def _refresh_pid() -> None:
    global _PID
    _PID = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_refresh_pid)

#: What a worker returns for one task. `call_timed` returns these fields as a
#: plain tuple, in this order: a named tuple costs 0.5 to 1.5 us more to build
#: and twice the bytes to pickle, a fifth of what a tiny task costs on a thread
#: pool. `Outcome._make(raw)` names them where a caller reads them, and
#: `runners.outcome_event` turns one into a `TaskEvent`. Times are
#: `perf_counter_ns` readings; `error` is the failure's text, or None.
Outcome = namedtuple("Outcome", "result start end cpu pid thread_id error")


#: Below this many ns of wall time a task's CPU time is taken to be its wall time.
#: Reading a thread's CPU clock is a system call (~0.6 us here, more than `x * x`
#: itself); a task this short cannot have been switched out (a GIL hand-off or
#: an OS preemption takes far longer), so its CPU time equals its wall time to
#: within this bound, and tiny tasks skip the second read.
EXACT_CPU_ABOVE_NS = 20_000


def call_timed(fn: Callable, item: object) -> tuple:
    """Run `fn(item)` and time it, returning an `Outcome`'s fields; an exception becomes text, never a raise.

    Returning the error as text keeps one failing task from hiding the timings
    of the others, and survives exceptions that cannot be pickled.
    """
    c0 = thread_time_ns()
    t0 = perf_counter_ns()
    try:
        result = fn(item)
    except (Exception, SystemExit) as exc:  # a task's failure is data; Ctrl-C must stop the run, not the task
        t1 = perf_counter_ns()
        return None, t0, t1, thread_time_ns() - c0, _PID, _get_ident(), _describe(exc)
    t1 = perf_counter_ns()
    wall = t1 - t0
    return result, t0, t1, (thread_time_ns() - c0 if wall > EXACT_CPU_ABOVE_NS else wall), _PID, _get_ident(), None


def call_chunk(fn: Callable, items: list) -> list:
    """Run a chunk of items one after another, each timed on its own."""
    return [call_timed(fn, item) for item in items]


def _describe(exc: BaseException) -> str:
    import traceback  # only a failing task pays for it

    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def ready(delay: float = 0.0, module: str | None = None) -> int:
    """A task that proves a worker is up; returns its pid.

    A short `delay` keeps one fast worker from taking every warm-up task, so
    each worker must finish starting and answer for itself. `module` is
    imported first: the module a run's tasks come from, so that importing it
    is paid before the run's clock starts, not by its first tasks.
    """
    if module:
        import importlib

        importlib.import_module(module)
    if delay:
        time.sleep(delay)
    return _PID


# -- functions shipped by value (cloudpickle) ---------------------------------

_SHIPPED: dict = {}


class Shipped:
    """A function sent by value, unpickled once per worker and then cached.

    A function defined in a notebook lives in `__main__`, which a spawn or
    forkserver worker cannot import; cloudpickle sends its code instead. The
    bytes travel with each task (they are small), but only the first task in
    each worker pays for `cloudpickle.loads`.
    """

    __slots__ = ("key", "payload", "name")

    def __init__(self, key: str, payload: bytes, name: str) -> None:
        self.key, self.payload, self.name = key, payload, name

    def __reduce__(self):
        return _load_shipped, (self.key, self.payload, self.name)


def _load_shipped(key: str, payload: bytes, name: str) -> Callable:
    fn = _SHIPPED.get(key)
    if fn is None:
        import cloudpickle  # only workers that receive a shipped function pay for this

        fn = _SHIPPED[key] = cloudpickle.loads(payload)
    return fn
