"""Names for what the sampler sees, from inside the watched process: the sampler sees thread ids and pids,
a learner knows `MainThread`, `ThreadPoolExecutor-0_1` and "a pool worker".

While a watch is on, `threading.Thread.start` and `multiprocessing.process.BaseProcess.start` are wrapped:
after the original returns, the new thread's `native_id` (the id the OS and the sampler use) and the new
process's pid are noted with their names. The wrapper only adds a dictionary entry per start, so a watched
program runs as it would; both are put back when the watch ends. Threads that exist when it starts are
named from `threading.enumerate()`. Threads started some other way (`_thread.start_new_thread`) keep their
id as their name.

A thread started while a watch is on also notes, as it ends, what it ran: its own CPU clock
(`time.thread_time_ns`, which counts from its start), with the time its `start()` was called and the time
it ended (`Ended`). The sampler looks for new threads every 0.1 s (`_sampler.TREE_S`), so a thread that
starts and ends between two looks is never read from outside; this note is all that is known of it, and
the record draws its lane from it. Two clock reads and a list append per thread, in the thread itself.
"""

from __future__ import annotations

import functools
import multiprocessing.process
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

#: What `Thread._bootstrap_inner` calls last, in the thread itself, after `run` has returned and any
#: exception from it has gone to `threading.excepthook` (CPython 3.11-3.13: `finally: self._delete()`).
#: Hooked there, not around `run`, so a traceback from the thread shows no frame of the watch's. Private:
#: on a Python whose threads do not call it, brief threads have no lane, as before (`Names._time_thread`).
_AT_END = "_delete"

#: What a multiprocessing process's target says about its role.
_TARGET_ROLES = {"_process_worker": "pool worker", "worker": "Pool worker"}


class Ended(NamedTuple):
    """A thread started during a watch, as it ended: `time.perf_counter_ns()` (the sampler's clock) when its
    `start()` was called (it did not exist before) and as it ended, and its own CPU clock then."""

    thread_id: int
    name: str
    began_ns: int
    ended_ns: int
    cpu_ns: int


class Names:
    """Thread and process names noted during one watch, and what each thread started in it ran (`ended`)."""

    def __init__(self) -> None:
        self.threads: dict[int, str] = {t.native_id: t.name for t in threading.enumerate() if t.native_id}
        self.processes: dict[int, str] = {}
        self.ended: list[Ended] = []
        self._started: list[tuple[threading.Thread, int]] = []
        self._restore: list[Callable[[], None]] = []

    @property
    def began(self) -> list[tuple[int, int]]:
        """(thread id, `time.perf_counter_ns()` when its `start()` was called) for each thread started in
        the watch, in the order they were started."""
        return [(t.native_id, ns) for t, ns in self._started if t.native_id]

    def __enter__(self) -> Names:
        self._wrap(threading.Thread, "start", self._thread_started, before=self._time_thread)
        self._wrap(multiprocessing.process.BaseProcess, "start", self._process_started)
        return self

    def __exit__(self, *exc: object) -> None:
        while self._restore:
            self._restore.pop()()
        for t in threading.enumerate():  # a thread started some other way, still alive: named now
            if t.native_id and t.native_id not in self.threads:
                self.threads[t.native_id] = t.name

    def _wrap(self, cls: type, name: str, after: Callable[[Any, str], None],
              before: Callable[[Any], Callable[[], None] | None] | None = None) -> None:
        """`cls.name` calls `before` (which may give back how to undo itself, should the original raise),
        the original, then `after`, until the watch ends."""
        original = cls.__dict__[name]

        @functools.wraps(original)
        def start(obj: Any, *args: Any, **kwargs: Any) -> Any:
            target = getattr(getattr(obj, "_target", None), "__name__", "")  # start() forgets it
            undo = before(obj) if before is not None else None
            try:
                result = original(obj, *args, **kwargs)
            except BaseException:
                if undo is not None:
                    undo()
                raise
            after(obj, target)
            return result

        setattr(cls, name, start)
        self._restore.append(lambda: setattr(cls, name, original))

    def _time_thread(self, thread: threading.Thread) -> Callable[[], None] | None:
        """Have `thread` note what it ran as it ends (`_AT_END`, an attribute of this thread only, taken
        off again then: no cycle is left). Not a thread already started: `start()` refuses it."""
        if thread.ident is not None or not callable(getattr(threading.Thread, _AT_END, None)):
            return None
        original, ended, began = getattr(thread, _AT_END), self.ended, time.perf_counter_ns()

        def at_end() -> None:
            try:
                ended.append(Ended(threading.get_native_id(), thread.name, began, time.perf_counter_ns(),
                                   time.thread_time_ns()))
            finally:
                thread.__dict__.pop(_AT_END, None)
                original()

        thread.__dict__[_AT_END] = at_end
        self._started.append((thread, began))
        return lambda: thread.__dict__.pop(_AT_END, None)

    def _thread_started(self, thread: threading.Thread, target: str) -> None:
        if thread.native_id:
            self.threads[thread.native_id] = thread.name

    def _process_started(self, proc: Any, target: str) -> None:
        if proc.pid:
            role = _TARGET_ROLES.get(target, "Process")
            self.processes[proc.pid] = f"{role} ({proc.name})" if role != "Process" else proc.name
