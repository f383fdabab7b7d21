"""Ctrl-C, held back while the calling thread is inside a pool's own code.

Why: Python raises KeyboardInterrupt between any two bytecodes of the main
thread. Raised inside `Executor.submit` or `Future.result` just after a
`with lock:` has taken its lock, and before the block's clean-up is armed,
it leaves that lock held for ever (CPython gh-74174; the interpreter's fix,
gh-148874, comes only with Python 3.15). The executor's manager
thread then blocks on it, `shutdown()` waits for that thread, and the kernel
hangs instead of stopping. We saw it about once in ten interrupts of a
fork-method run on Python 3.12 (tests/test_interrupt.py).

So while a runner drives its pool from the main thread, the first Ctrl-C
only sets a flag. The runner looks at it at points where no pool lock is
held (between submits, and each time its wait for a result wakes, at least
every POLL_INTERVAL_S) and raises KeyboardInterrupt there, then kills the
workers as before. A second Ctrl-C is not held back: it raises at once,
wherever the thread is, for the rare wait that does not look (the start-up
of a Dask cluster). Where the flag is never looked at, the interrupt is
raised when the outermost `deferred_interrupt()` block ends, even when
another error ends it: that error is often the press's own echo, as Ctrl-C
reaches the workers too.

Only the main thread receives signals, and only the default handler is
replaced: a program with a SIGINT handler of its own keeps it untouched.
"""

from __future__ import annotations

import concurrent.futures
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from types import FrameType

from .. import config

#: Non-empty while a Ctrl-C waits to be raised. One list for the process, so
#: a hot loop can keep it in a local and test it for a few nanoseconds.
PENDING: list[int] = []

_depth = 0  # nesting of deferred_interrupt() blocks in the main thread


def _hold(signum: int, frame: FrameType | None) -> None:
    if PENDING:  # pressed again: the learner insists, stop now
        PENDING.clear()
        raise KeyboardInterrupt
    PENDING.append(signum)


def pending() -> list[int] | tuple[()]:
    """What a loop should test to learn of a held-back Ctrl-C: `PENDING` in the
    main thread, an empty tuple elsewhere (a Ctrl-C is not another thread's to raise)."""
    return PENDING if threading.current_thread() is threading.main_thread() else ()


def check() -> None:
    """Raise the held-back KeyboardInterrupt, if any, in the main thread. Call only where no pool lock is held."""
    if PENDING and threading.current_thread() is threading.main_thread():
        PENDING.clear()
        raise KeyboardInterrupt


@contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold Ctrl-C back inside this block (main thread, default handler only); see the module docstring.

    Blocks nest. When the outermost one ends, the default handler is back,
    and an interrupt nobody raised yet is raised then, chained to any other
    exception that was on its way out.
    """
    global _depth
    if threading.current_thread() is not threading.main_thread() or (
            _depth == 0 and signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    if _depth == 0:
        PENDING.clear()
        signal.signal(signal.SIGINT, _hold)
    _depth += 1
    try:
        yield
    except KeyboardInterrupt:
        if _leave():
            PENDING.clear()  # a press during the clean-up: the interrupt is already on its way
        raise
    except BaseException as exc:
        if _leave() and PENDING:
            # The press comes first: the error is often its echo (Ctrl-C in a terminal or
            # a kernel's interrupt reaches the workers too, and one dying mid-start breaks the pool).
            PENDING.clear()
            raise KeyboardInterrupt from exc
        raise
    if _leave():
        check()


def _leave() -> bool:
    """End one block; True when it was the outermost."""
    global _depth
    _depth -= 1
    if _depth:
        return False
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return True


def wait(futures: Iterable[Future], timeout: float,
         stop: threading.Event | None = None) -> tuple[set[Future], set[Future]]:
    """`concurrent.futures.wait` for all of them, in POLL_INTERVAL_S slices
    that each end with `check()`: a held-back Ctrl-C gets through a long wait.
    It also returns, unfinished, as soon as `stop` is set."""
    deadline = time.monotonic() + timeout
    not_done = set(futures)
    done: set[Future] = set()
    while True:
        now_done, not_done = concurrent.futures.wait(
            not_done, timeout=min(config.POLL_INTERVAL_S, max(deadline - time.monotonic(), 0.0)))
        done |= now_done
        if not not_done or time.monotonic() >= deadline or (stop is not None and stop.is_set()):
            return done, not_done
        check()


def as_completed(futures: Iterable[Future], timeout: float) -> Iterator[Future]:
    """`concurrent.futures.as_completed`, waiting in POLL_INTERVAL_S slices that each end with `check()`,
    so a held-back Ctrl-C gets through; past `timeout` seconds, TimeoutError."""
    deadline = time.monotonic() + timeout
    not_done = set(futures)
    while not_done:
        done, not_done = concurrent.futures.wait(
            not_done, timeout=min(config.POLL_INTERVAL_S, max(deadline - time.monotonic(), 0.0)),
            return_when=concurrent.futures.FIRST_COMPLETED)
        yield from done
        if not_done and time.monotonic() >= deadline:
            raise TimeoutError(f"{len(not_done)} task(s) not done within {timeout:g} s")
        check()
