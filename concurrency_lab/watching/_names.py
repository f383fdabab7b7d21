"""Names for what the sampler sees, from inside the watched process: the sampler sees thread ids and pids,
a learner knows `MainThread`, `ThreadPoolExecutor-0_1` and "a pool worker".

While a watch is on, `threading.Thread.start` and `multiprocessing.process.BaseProcess.start` are wrapped:
after the original returns, the new thread's `native_id` (the id the OS and the sampler use) and the new
process's pid are noted with their names. The wrapper only adds a dictionary entry per start, so a watched
program runs as it would; both are put back when the watch ends. Threads that exist when it starts are
named from `threading.enumerate()`. Threads started some other way (`_thread.start_new_thread`) keep their
id as their name.
"""

from __future__ import annotations

import functools
import multiprocessing.process
import threading
from collections.abc import Callable
from typing import Any

#: What a multiprocessing process's target says about its role.
_TARGET_ROLES = {"_process_worker": "pool worker", "worker": "Pool worker"}


class Names:
    """Thread and process names noted during one watch."""

    def __init__(self) -> None:
        self.threads: dict[int, str] = {t.native_id: t.name for t in threading.enumerate() if t.native_id}
        self.processes: dict[int, str] = {}
        self._restore: list[Callable[[], None]] = []

    def __enter__(self) -> Names:
        self._wrap(threading.Thread, "start", self._thread_started)
        self._wrap(multiprocessing.process.BaseProcess, "start", self._process_started)
        return self

    def __exit__(self, *exc: object) -> None:
        while self._restore:
            self._restore.pop()()
        for t in threading.enumerate():  # a thread started some other way, still alive: named now
            if t.native_id and t.native_id not in self.threads:
                self.threads[t.native_id] = t.name

    def _wrap(self, cls: type, name: str, after: Callable[[Any, str], None]) -> None:
        original = cls.__dict__[name]

        @functools.wraps(original)
        def start(obj: Any, *args: Any, **kwargs: Any) -> Any:
            target = getattr(getattr(obj, "_target", None), "__name__", "")  # start() forgets it
            result = original(obj, *args, **kwargs)
            after(obj, target)
            return result

        setattr(cls, name, start)
        self._restore.append(lambda: setattr(cls, name, original))

    def _thread_started(self, thread: threading.Thread, target: str) -> None:
        if thread.native_id:
            self.threads[thread.native_id] = thread.name

    def _process_started(self, proc: Any, target: str) -> None:
        if proc.pid:
            role = _TARGET_ROLES.get(target, "Process")
            self.processes[proc.pid] = f"{role} ({proc.name})" if role != "Process" else proc.name
