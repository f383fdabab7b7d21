"""Lesson 07, section 5 (timeouts, Stop and Ctrl-C): tasks that hang, ended by `task_timeout=`,
`timeout=` or a Stop event; how soon the run returns after the limit, and whether a hung thread lives on.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from .. import config

__all__ = ['LimitRun', 'hung_run', 'stop_after']


@dataclass(frozen=True)
class LimitRun:
    """A run of tasks that never finish, ended by a limit: how soon after the limit, and what the record says."""

    backend: str
    limit: str
    after_limit_s: float
    """Seconds from the limit (the timeout passing, or Stop being set) to the run's return."""
    errors: tuple[str, ...]
    thread_still_running: bool

    @property
    def prompt(self) -> bool:
        """Ended within 2 s of the limit: the runners' promise for Stop, timeouts and Ctrl-C."""
        return self.after_limit_s <= 2.0

    def __repr__(self) -> str:
        since = "Stop was set" if self.limit.startswith("Stop") else "the limit"
        lines = [f"{self.backend}, {self.limit}: the run returned {max(self.after_limit_s, 0.0):.2f} s after "
                 f"{since}; within 2 s: {self.prompt}"]
        lines += [f"  task {k}: {e}" for k, e in enumerate(self.errors)]
        if self.backend == "threads":
            lines.append(f"  the hung task's thread is still running in the background: {self.thread_still_running}")
        return "\n".join(lines)


#: Tokens of `_hang_marked` calls still running in this process: how we see a thread that outlived its run.
_RUNNING: set[str] = set()


def _hang_marked(job: tuple[str, float]) -> float:
    """Hang for `seconds` in one blocking C call (`time.sleep`), noting while it runs (under `token`) in
    this process's `_RUNNING`. One call on purpose: the exception a runner raises in a thread to end its
    task (runners/_cancel.py) lands only at the thread's next Python instruction, after the call returns."""
    token, seconds = job
    _RUNNING.add(token)
    try:
        time.sleep(seconds)
        return seconds
    finally:
        _RUNNING.discard(token)


def hung_run(backend: str = "processes", *, task_timeout: float | None = None, timeout: float | None = None,
             stop_after_s: float | None = None, hang_s: float = 2.0, start_method: str | None = None) -> LimitRun:
    """Two tasks that hang on `backend`, ended by `task_timeout=`, `timeout=` or a Stop event that a timer
    sets `stop_after_s` seconds after the tasks start. Threads cannot be killed, and the exception raised
    in them waits for their one `time.sleep` to return: their hang lasts `hang_s` (keep it short). The pool is started and warmed first, so only the limit is timed."""
    from ..runners import make_runner

    limits = [x for x in (task_timeout, timeout, stop_after_s) if x is not None]
    if len(limits) != 1:
        raise ValueError("give exactly one of task_timeout, timeout and stop_after_s")
    method = (start_method or config.default_start_method()) if backend == "processes" else None
    token = f"{backend}-{time.perf_counter_ns()}"
    stop = threading.Event() if stop_after_s is not None else None
    stopped_at: list[float] = []

    def press_stop() -> None:
        stopped_at.append(time.perf_counter())
        stop.set()

    with make_runner(backend, 1 if backend == "sequential" else 2, start_method=method) as runner:
        runner.run(_hang_marked, [(token, 0.0)] * 2)  # warm: every worker has imported this module
        timer = threading.Timer(stop_after_s, press_stop) if stop is not None else None
        t0 = time.perf_counter()
        if timer is not None:
            timer.start()
        try:
            rec = runner.run(_hang_marked, [(token, hang_s)] * 2, task_timeout=task_timeout, timeout=timeout,
                             stop=stop)
        finally:
            if timer is not None:
                timer.cancel()
        returned = time.perf_counter()
    still = token in _RUNNING
    if stop is not None:
        what, after = f"Stop set {stop_after_s:g} s after the start", returned - (stopped_at or [t0])[0]
    else:
        what = f"task_timeout={task_timeout:g} s" if task_timeout is not None else f"timeout={timeout:g} s"
        after = returned - t0 - limits[0]
    return LimitRun(backend, what, after, tuple(e.error for e in rec.events), still)


def stop_after(seconds: float = 0.3, backend: str = "processes", **kwargs: Any) -> LimitRun:
    """A Stop button pressed by a timer: `threading.Timer(seconds, stop.set)` while `cl.run(..., stop=stop)`."""
    return hung_run(backend, stop_after_s=seconds, **kwargs)
