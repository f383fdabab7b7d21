"""Lesson 07, section 5 (timeouts, Stop and Ctrl-C): tasks that hang, ended by `task_timeout=`,
`timeout=`, a Stop event or a Ctrl-C; how soon the run returns after the limit, whether a hung thread lives
on, and (after Ctrl-C) whether any worker process is left.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from .. import config

__all__ = ['LimitRun', 'hung_run', 'stop_after', 'interrupt_after']


@dataclass(frozen=True)
class LimitRun:
    """A run of tasks that never finish, ended by a limit: how soon after the limit, and what the record says."""

    backend: str
    limit: str
    after_limit_s: float
    """Seconds from the limit (the timeout passing, or Stop being set) to the run's return."""
    errors: tuple[str, ...]
    thread_still_running: bool
    workers_left: int | None = None
    """After a Ctrl-C: worker processes this run started that are still alive (None: not a Ctrl-C run)."""

    @property
    def prompt(self) -> bool:
        """Ended within 2 s of the limit: the runners' promise for Stop, timeouts and Ctrl-C."""
        return self.after_limit_s <= 2.0

    def __repr__(self) -> str:
        since = {"Stop": "Stop was set", "Ctrl": "the press"}.get(self.limit[:4], "the limit")
        ended = "the run raised KeyboardInterrupt" if self.limit.startswith("Ctrl") else "the run returned"
        lines = [f"{self.backend}, {self.limit}: {ended} {max(self.after_limit_s, 0.0):.2f} s after "
                 f"{since}; within 2 s: {self.prompt}"]
        lines += [f"  task {k}: {e}" for k, e in enumerate(self.errors)]
        if self.workers_left is not None and self.backend == "processes":
            lines.append(f"  worker processes left: {self.workers_left}")
        if self.backend == "threads":
            lines.append(f"  the hung task's thread is still running in the background: {self.thread_still_running}")
        return "\n".join(lines)


#: Tokens of `_hang_marked` calls still running in this process: how we see a thread that outlived its run.
_RUNNING: set[str] = set()


def _hang_marked(job: tuple[str, float]) -> float:
    """Hang for `seconds` in one blocking C call (`time.sleep`), noting while it runs (under `token`) in
    this process's `_RUNNING`. One call on purpose: the exception a runner raises in a thread to end its
    task (runners/_cancel.py) lands only at the thread's next loop turn or call, after the call returns."""
    token, seconds = job
    _RUNNING.add(token)
    try:
        time.sleep(seconds)
        return seconds
    finally:
        _RUNNING.discard(token)


def hung_run(backend: str = "processes", *, task_timeout: float | None = None, timeout: float | None = None,
             stop_after_s: float | None = None, ctrl_c_after_s: float | None = None, hang_s: float = 2.0,
             start_method: str | None = None) -> LimitRun:
    """Two tasks that hang on `backend`, ended by `task_timeout=`, `timeout=`, or a timer that sets a Stop
    event `stop_after_s` (or presses Ctrl-C `ctrl_c_after_s`) seconds after the tasks start. Threads cannot be
    killed, and the exception raised in them waits for their one `time.sleep` to return: their hang lasts
    `hang_s` (keep it short). The pool is started and warmed first, so only the limit is timed."""
    from ..runners import make_runner

    limits = [x for x in (task_timeout, timeout, stop_after_s, ctrl_c_after_s) if x is not None]
    if len(limits) != 1:
        raise ValueError("give exactly one of task_timeout, timeout, stop_after_s and ctrl_c_after_s")
    method = (start_method or config.default_start_method()) if backend == "processes" else None
    token = f"{backend}-{time.perf_counter_ns()}"
    stop = threading.Event() if stop_after_s is not None else None
    before = _worker_pids()
    with make_runner(backend, 1 if backend == "sequential" else 2, start_method=method) as runner:
        runner.run(_hang_marked, [(token, 0.0)] * 2)  # warm: every worker has imported this module
        t0 = time.perf_counter()
        press = _Press(stop.set if stop is not None else _ctrl_c, stop_after_s or ctrl_c_after_s)
        try:
            rec = runner.run(_hang_marked, [(token, hang_s)] * 2, task_timeout=task_timeout, timeout=timeout,
                             stop=stop)
        except KeyboardInterrupt:
            if ctrl_c_after_s is None or not press.at:
                raise  # a real Ctrl-C: the learner's, not ours
            rec = None
        finally:
            press.cancel()
        returned = time.perf_counter()
    still = token in _RUNNING
    if press.seconds is not None:
        what = (f"Stop set {stop_after_s:g} s after the start" if stop is not None
                else f"Ctrl-C pressed {ctrl_c_after_s:g} s after the start")
        after = returned - (press.at or [t0])[0]
    else:
        what = f"task_timeout={task_timeout:g} s" if task_timeout is not None else f"timeout={timeout:g} s"
        after = returned - t0 - limits[0]
    errors = tuple(e.error for e in rec.events) if rec is not None else ()
    left = len(_worker_pids() - before) if ctrl_c_after_s is not None else None
    return LimitRun(backend, what, after, errors, still, left)


class _Press:
    """A timer that does `action` (set Stop, press Ctrl-C) `seconds` from now, noting when (`at`); no timer
    for None. `cancel()` always: a press that never came must not come later, in some other cell."""

    def __init__(self, action: Any, seconds: float | None) -> None:
        self.seconds, self.at = seconds, []
        self._action = action
        self._timer = threading.Timer(seconds, self._press) if seconds is not None else None
        if self._timer is not None:
            self._timer.start()

    def _press(self) -> None:
        self.at.append(time.perf_counter())
        self._action()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _ctrl_c() -> None:
    """What the ■ button does to a kernel, from inside: SIGINT's handler runs in the main thread, where the
    runner holds the press back until it is safe to raise (runners/_interrupt.py)."""
    import _thread
    import signal

    _thread.interrupt_main(signal.SIGINT)


def _worker_pids() -> set[int]:
    """This process's children that are not Python's own helpers (the forkserver, the resource tracker)."""
    from ..info import child_processes

    return {c.pid for c in child_processes() if c.role == "worker or other"}


def stop_after(seconds: float = 0.3, backend: str = "processes", **kwargs: Any) -> LimitRun:
    """A Stop button pressed by a timer: `threading.Timer(seconds, stop.set)` while `cl.run(..., stop=stop)`."""
    return hung_run(backend, stop_after_s=seconds, **kwargs)


def interrupt_after(seconds: float = 0.3, backend: str = "processes", **kwargs: Any) -> LimitRun:
    """Ctrl-C pressed by a timer while two tasks hang: how soon KeyboardInterrupt reaches the cell, and what
    is left running (worker processes are killed; a thread runs on until its task returns)."""
    return hung_run(backend, ctrl_c_after_s=seconds, **kwargs)
