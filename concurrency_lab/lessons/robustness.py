"""Lesson 07 (robustness): what happens to a run, and to your notebook, when a task raises, kills its
worker, hangs or is stopped; measured. Here: the task every demonstration runs, how a failure is put in
words, crashes in workers (a task raises, a worker process dies, a thread raises), and the child Python
the rest of the lesson crashes in. The rest: isolation in children (`robustness_isolation`), timeouts and
Stop (`robustness_limits`), the plain tasks of the lesson's opening and the exercise's check
(`robustness_exercise`).

Why it is built this way:

- Anything that can kill the process it runs in (os.abort() or a segfault in a *thread*) runs in a child
  Python started here, never in the notebook's kernel. Its stdout tells us how far it got; its exit code
  tells us how it ended; faulthandler, turned on in the child, names the fatal error on its stderr. Core
  files are turned off in the child (RLIMIT_CORE 0), so crashing on purpose leaves nothing on disk.
- Every wait is bounded: the child gets `CHILD_TIMEOUT_S`, then its whole process group is killed.
- Tasks are module-level functions here, so spawn and forkserver workers can import them; pools and
  processes always use an explicit start method.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .. import config
from ..children import python, run_children
from ..workloads import crash

__all__ = ['work_or_crash', 'TaskErrors', 'exception_in_tasks', 'WorkerDeaths', 'dying_workers',
           'ThreadException', 'exception_in_bare_thread', 'exception_through_future']

#: The longest a child Python may run before its whole process group is killed (they take ~0.2-2 s).
CHILD_TIMEOUT_S = 60.0
#: When the crashing task crashes, after it starts.
CRASH_AFTER_S = 0.05
#: What the child Python runs: `python -c CHILD_CODE <args>` calls `_child_main(<args>)`.
CHILD_CODE = "from concurrency_lab.lessons.robustness import _child_main; _child_main()"


# -- one task that works, waits or crashes, importable by every worker ------------------------------


def work_or_crash(job: tuple[str, Any]) -> Any:
    """One task: ("ok", x) returns x * x; ("sleep", s) sleeps s seconds and returns "done";
    ("crash", how) waits `CRASH_AFTER_S`, then crashes the way `workloads.crash(how)` does;
    ("crash_after", (s, how)) waits s seconds first."""
    kind, arg = job
    if kind == "ok":
        return arg * arg
    if kind == "sleep":
        time.sleep(arg)
        return "done"
    if kind == "crash":
        time.sleep(CRASH_AFTER_S)
        return crash(arg)
    if kind == "crash_after":
        time.sleep(arg[0])
        return crash(arg[1])
    raise ValueError(f"job: unknown kind {kind!r}")


def _last_line(error: str) -> str:
    lines = [line for line in error.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _cause(error: str) -> str:
    """The words of a failure that say *why*: the exception line, or how the worker died."""
    if error.startswith("BrokenProcessPool"):
        inside = error[error.find("(") + 1:error.find(")")]
        return f"worker process died: {inside}"
    return _last_line(error)


# -- 1. a task raises ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskErrors:
    """A run in which one task raised: what came back."""

    backend: str
    tasks: int
    results: tuple[Any, ...]
    failed: tuple[tuple[int, str], ...]

    def __repr__(self) -> str:
        done = sum(1 for k, _ in enumerate(self.results) if k not in dict(self.failed))
        lines = [f"{self.backend}: the run returned; {done} of {self.tasks} tasks gave results "
                 f"{[r for r in self.results]}"]
        lines += [f"  task {k} failed: {why}" for k, why in self.failed]
        return "\n".join(lines)


def exception_in_tasks(backend: str, *, start_method: str | None = None) -> TaskErrors:
    """Run 4 tasks on `backend`, the third of which raises, and report what came back."""
    from ..api import run

    jobs = [("ok", 1), ("ok", 2), ("crash", "raise"), ("ok", 4)]
    method = (start_method or config.default_start_method()) if backend == "processes" else None
    rec = run(work_or_crash, backend=backend, max_workers=2, start_method=method, items=jobs,
              timeout=CHILD_TIMEOUT_S)
    return TaskErrors(backend, len(jobs), rec.results, tuple((e.index, _cause(e.error)) for e in rec.failures))


# -- 2. a worker process dies ------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerDeaths:
    """One process run per way of dying, then one ordinary run: what each record said."""

    causes: tuple[tuple[str, str], ...]
    notebook_pid_unchanged: bool
    next_run_ok: bool
    start_method: str

    def __repr__(self) -> str:
        lines = [f"crash({how!r}) in a worker process ({self.start_method}): {cause}" for how, cause in self.causes]
        lines.append(f"this notebook's process is the same one as before: {self.notebook_pid_unchanged}")
        lines.append(f"an ordinary run right afterwards (a fresh pool) succeeded: {self.next_run_ok}")
        return "\n".join(lines)


@contextmanager
def _no_core_files() -> Iterator[None]:
    """Processes started meanwhile write no core file when they crash on purpose (soft limit only)."""
    try:
        import resource
    except ImportError:  # Windows: no core files anyway
        yield
        return
    old = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, old[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_CORE, old)


def dying_workers(hows: tuple[str, ...] = ("exit", "abort", "segv"), *,
                  start_method: str | None = None) -> WorkerDeaths:
    """For each way of dying, a process run whose only task kills its worker; then a normal run."""
    from ..api import run

    method = start_method or config.default_start_method()
    pid = os.getpid()
    causes = []
    with _no_core_files():
        for how in hows:
            rec = run(work_or_crash, backend="processes", max_workers=1, start_method=method,
                      items=[("crash", how)], timeout=CHILD_TIMEOUT_S)
            causes.append((how, _cause(rec.failures[0].error) if rec.failures else "no failure?!"))
    after = run(work_or_crash, backend="processes", max_workers=1, start_method=method, items=[("ok", 3)],
                timeout=CHILD_TIMEOUT_S)
    return WorkerDeaths(tuple(causes), os.getpid() == pid, after.ok and after.results == (9,), method)


# -- 3. an exception in a thread -------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadException:
    """Where a thread's exception went."""

    how: str
    caller_saw: str
    hook_saw: str

    def __repr__(self) -> str:
        return f"{self.how}:\n  the caller saw: {self.caller_saw}\n  threading.excepthook saw: {self.hook_saw}"


def exception_in_bare_thread() -> ThreadException:
    """A bare `threading.Thread` whose target raises: `join()` returns normally, and only
    `threading.excepthook` hears of it (replaced for the demo, so nothing is printed, and restored)."""
    seen: list[str] = []
    old = threading.excepthook
    threading.excepthook = lambda args: seen.append(f"{args.exc_type.__name__}: {args.exc_value}")
    try:
        t = threading.Thread(target=crash, args=("raise",), name="lesson07-bare")
        t.start()
        t.join(CHILD_TIMEOUT_S)
        caller = "nothing: join() returned normally" if not t.is_alive() else "the thread is still running?!"
    finally:
        threading.excepthook = old
    return ThreadException("a bare threading.Thread", caller, seen[0] if seen else "nothing")


def exception_through_future() -> ThreadException:
    """The same task submitted to a ThreadPoolExecutor: `future.result()` re-raises it in the caller."""
    seen: list[str] = []
    old = threading.excepthook
    threading.excepthook = lambda args: seen.append(f"{args.exc_type.__name__}: {args.exc_value}")
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(crash, "raise")
            try:
                future.result(timeout=CHILD_TIMEOUT_S)
                caller = "no exception?!"
            except RuntimeError as exc:
                caller = f"future.result() raised {type(exc).__name__}: {exc}"
    finally:
        threading.excepthook = old
    return ThreadException("ThreadPoolExecutor.submit(...)", caller, seen[0] if seen else "nothing")


# -- the child Python the lesson's crashes run in ----------------------------------------------------


def _signal_name(code: int | None) -> str:
    if code is None:
        return "still running"
    if code >= 0:
        return f"exit code {code}"
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _run_child(args: list[str], timeout: float) -> tuple[int | None, str, str]:
    """Run `_child_main(args)` in a fresh Python; see `_run_children`."""
    return _run_children([args], timeout)[0]


def _run_children(all_args: list[list[str]], timeout: float) -> list[tuple[int | None, str, str]]:
    """Run `_child_main(args)` in a fresh Python for each args, side by side (`children.run_children`: on a
    timeout or an interrupt every group is killed, so nothing they started is left behind)."""
    done = run_children([python("-c", CHILD_CODE, *args) for args in all_args], timeout=timeout)
    for child in done:
        if child.timed_out:
            raise subprocess.TimeoutExpired(list(child.args), timeout, child.stdout, child.stderr)
    return [(child.returncode, child.stdout, child.stderr) for child in done]


def _child_lines(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.strip()]


def _fatal_error(err: str) -> str:
    return next((line.strip() for line in err.splitlines() if line.startswith("Fatal Python error")), "")


# -- what runs inside the child Python --


def _say(text: str) -> None:
    print(text, flush=True)


def _child_main(argv: list[str] | None = None) -> None:
    """Entry point of the child Python: `crash <setup> <how> <method>`, `isolated <pickled function>`
    or `sleep <seconds>`."""
    import faulthandler

    faulthandler.enable()  # on a fatal signal, print "Fatal Python error: ..." and every thread's stack
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    except (ImportError, ValueError, OSError):
        pass
    args = sys.argv[1:] if argv is None else argv
    if args[0] == "crash":
        from .robustness_isolation import _child_crash

        _child_crash(*args[1:])
    elif args[0] == "isolated":
        from .robustness_exercise import _child_isolated

        _child_isolated(*args[1:])
    elif args[0] == "sleep":  # for tests: a child that outlives its timeout
        time.sleep(float(args[1]))
    _say("host finished")
