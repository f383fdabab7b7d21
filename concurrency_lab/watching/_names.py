"""Names for what the sampler sees, from inside the watched process: the sampler sees thread ids and pids,
a learner knows `MainThread`, `ThreadPoolExecutor-0_1` and "a pool worker".

While a watch is on, `threading.Thread.start` and `multiprocessing.process.BaseProcess.start` are wrapped:
after the original returns, the new thread's `native_id` (the id the OS and the sampler use) and the new
process's pid are noted with their names. The wrapper only adds a dictionary entry per start, so a watched
program runs as it would; both are put back when the watch ends. Threads that exist when it starts are
named from `threading.enumerate()`. Threads started some other way (`_thread.start_new_thread`) keep their
id as their name.

A thread started while a watch is on also notes, as its `run` returns, what it ran: its own CPU clock
(`time.thread_time_ns`, which counts from its start) with when it began and ended (`Ended`). The sampler
looks for new threads every 0.1 s (`_sampler.TREE_S`), so a thread that starts and ends between two looks
is never read from outside; this note is all that is known of it, and the record draws its lane from it.
Two clock reads and a list append per thread, in the thread itself, as it ends.
"""

from __future__ import annotations

import functools
import multiprocessing.process
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

#: What a multiprocessing process's target says about its role.
_TARGET_ROLES = {"_process_worker": "pool worker", "worker": "Pool worker"}


class Ended(NamedTuple):
    """A thread started during a watch, as its `run` returned: `time.perf_counter_ns()` (the sampler's clock)
    at its `run`'s start and end, and its own CPU clock then."""

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
        self.began: list[tuple[int, int]] = []
        """(thread id, `time.perf_counter_ns()`) as each thread started in the watch began its `run`."""
        self._restore: list[Callable[[], None]] = []

    def __enter__(self) -> Names:
        self._wrap(threading.Thread, "start", self._thread_started, before=self._time_run)
        self._wrap(multiprocessing.process.BaseProcess, "start", self._process_started)
        return self

    def __exit__(self, *exc: object) -> None:
        while self._restore:
            self._restore.pop()()
        for t in threading.enumerate():  # a thread started some other way, still alive: named now
            if t.native_id and t.native_id not in self.threads:
                self.threads[t.native_id] = t.name

    def _wrap(self, cls: type, name: str, after: Callable[[Any, str], None],
              before: Callable[[Any], None] | None = None) -> None:
        original = cls.__dict__[name]

        @functools.wraps(original)
        def start(obj: Any, *args: Any, **kwargs: Any) -> Any:
            target = getattr(getattr(obj, "_target", None), "__name__", "")  # start() forgets it
            if before is not None:
                before(obj)
            result = original(obj, *args, **kwargs)
            after(obj, target)
            return result

        setattr(cls, name, start)
        self._restore.append(lambda: setattr(cls, name, original))

    def _time_run(self, thread: threading.Thread) -> None:
        """Have `thread` note what it ran as its `run` returns (an attribute of this thread only, so a
        subclass's own `run` is the one timed; taken off again at the end, leaving no cycle behind)."""
        run = thread.run
        if getattr(run, "_concurrency_lab_timed", False):  # started twice: start() refuses the second
            return
        ended, begun = self.ended, self.began

        def timed_run() -> None:
            began = time.perf_counter_ns()
            begun.append((threading.get_native_id(), began))
            try:
                run()
            finally:
                ended.append(Ended(threading.get_native_id(), thread.name, began, time.perf_counter_ns(),
                                   time.thread_time_ns()))
                thread.__dict__.pop("run", None)

        timed_run._concurrency_lab_timed = True  # type: ignore[attr-defined]
        try:
            thread.run = timed_run  # type: ignore[method-assign]
        except (AttributeError, TypeError):  # a subclass that will not have it: the sampler alone sees it
            pass

    def _thread_started(self, thread: threading.Thread, target: str) -> None:
        if thread.native_id:
            self.threads[thread.native_id] = thread.name

    def _process_started(self, proc: Any, target: str) -> None:
        if proc.pid:
            role = _TARGET_ROLES.get(target, "Process")
            self.processes[proc.pid] = f"{role} ({proc.name})" if role != "Process" else proc.name
