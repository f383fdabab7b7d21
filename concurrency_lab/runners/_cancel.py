"""Ending a task that runs in a thread of this process, for Stop and timeouts.

Why: Python has no way to kill a thread. The sequential backend runs its
tasks in the caller's own thread, and a plain function on the asyncio
backend runs inside the event loop's thread; before this module, Stop and
`timeout=` were looked at only between tasks, so one task of a minute held
Stop off for a minute (issue 13: an explorer sat at "stopping..." after a
size meant for `cpu` reached `io_sleep`). The promise is that Stop ends any
run within 2 s.

How: CPython can raise an exception in another thread of the same
interpreter, `PyThreadState_SetAsyncExc` (C API, reached through ctypes). The
exception is raised the next time that thread runs Python bytecode (the same
check that delivers Ctrl-C), so a pure-Python loop stops within a switch
interval. A thread blocked inside one long C call (`time.sleep(600)`, one
huge `sha256.update`) stops only when that call returns, which is why the
library's workloads wait and hash in slices (`workloads.SLEEP_SLICE_S`).
A thread pool's task is ended the same way: left to finish in the
background, two CPU-bound tasks kept the GIL busy, and every cell of the
kernel slow, for as long as they had left.

An exception sent can be lost: if the thread's next bytecode belongs to a
weakref callback or a `__del__` that runs in the middle of the task, the
exception is raised there, and the interpreter prints "Exception ignored in"
and drops it. Seen on the free-threaded 3.13t build (issue 18), where objects
freed by another thread are finalized later in the owner thread: Stop pressed
during a sequential `cpu` task landed in `WeakSet._remove` (a `threading.Timer`
finishing) and the task ran on for 30 s. So `cancel()` sends again while the
same thread is still inside a task `RESEND_AFTER_S` after the last send; at
most one is ever pending, because a new one replaces the one not yet raised.

The exception must land in the task and nowhere else: raised in a runner's
own bookkeeping, or after the run has returned, it would break code that has
nothing to do with the task. So a `TaskGuard` sends at most one exception,
only while its thread is inside a task, and `leave()` (after each task) or
`close()` (once, when a run ends) takes back one that was sent but not yet
raised (the same call with NULL clears it).
"""

from __future__ import annotations

import ctypes
import threading
import time

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc

#: How long `close()` waits for the gate when an exception raised inside it left the gate held.
_GATE_TIMEOUT_S = 1.0
#: A sent exception that has not ended the task after this long was lost (see above): send it again. Long
#: enough for a task to unwind its own `finally` blocks, short enough that Stop still ends the run in 2 s.
RESEND_AFTER_S = 0.5


class TaskCancelled(BaseException):
    """Raised inside a task that Stop or a timeout ended.

    A BaseException, like KeyboardInterrupt, so that a task's own
    `except Exception:` and `call_timed`'s error capture let it through.
    """


def raise_in(ident: int, exc_type: type[BaseException] | None) -> int:
    """Raise `exc_type` in the thread `ident` at its next bytecode (None: take back one not yet raised).

    Returns how many threads were affected: 1, or 0 when no such thread exists.
    """
    return _set_async_exc(ctypes.c_ulong(ident), None if exc_type is None else ctypes.py_object(exc_type))


class TaskGuard:
    """Lets another thread end the task one thread is running, and only while it runs one.

    It belongs to the thread that makes it (`owner`). That thread sets
    `inside` to `owner` just before each task and, after it, either sets it
    back to None and calls `close()` once when the run ends (two attribute
    stores a task: the sequential loop stays as cheap as a plain one), or
    calls `leave()` after every task (a pool thread, which goes back to code
    that is not ours). Any thread may call `cancel()`.
    """

    def __init__(self) -> None:
        self._gate = threading.Lock()
        self.inside: int | None = None  # ident of the thread inside a task, or None
        self.owner = threading.get_ident()  # the thread that runs the tasks
        self._closed = False
        self.sent = False
        self._sent_at = 0.0

    @property
    def closed(self) -> bool:
        return self._closed

    def cancel(self) -> bool:
        """Raise `TaskCancelled` in the running task; again if it is still running `RESEND_AFTER_S` later
        (a lost exception, see above). False when there is none to end, or one was sent just now."""
        if not self._gate.acquire(timeout=_GATE_TIMEOUT_S):  # held only by a close() cut short
            return False
        try:
            ident = self.inside
            if self._closed or ident is None:
                return False
            if self.sent and time.monotonic() - self._sent_at < RESEND_AFTER_S:
                return False
            self.sent = raise_in(ident, TaskCancelled) == 1
            self._sent_at = time.monotonic()
            return self.sent
        finally:
            self._gate.release()

    def leave(self) -> None:
        """From the running thread, after a task: an exception sent for it cannot arrive later.

        It may arrive here instead, before the clearing; it then leaves the
        task's wrapper as the task's own exception would, and nothing more comes.
        """
        self.inside = None
        if self._gate.acquire(timeout=_GATE_TIMEOUT_S):  # a cancel() that read `inside` has sent by now
            self._gate.release()
        if self.sent:
            raise_in(self.owner, None)

    def close(self) -> None:
        """From the running thread, when its run ends: no exception can arrive after this returns.

        The one exception `cancel` may have sent can still be on its way: it
        is raised at this thread's next check for pending exceptions, perhaps
        inside this method, where it is caught and the closing goes on. But a
        call's first bytecode (RESUME) is such a check too, and it lies outside
        any handler here: the free-threaded 3.13t build, where the sender reads
        `inside` while the owner runs on in parallel, let one escape from there
        past the end of a run (CI, `test_a_cancelled_task_never_leaks...`). So
        call it as `try: close() / except TaskCancelled: close()`; with `inside`
        set back to None on every way out of a task, no second one can come.
        """
        while True:
            try:
                got = self._gate.acquire(timeout=_GATE_TIMEOUT_S)
                try:
                    self._closed = True
                finally:
                    if got:
                        self._gate.release()
                if self.sent:
                    raise_in(self.owner, None)
                return
            except TaskCancelled:
                continue
