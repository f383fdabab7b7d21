"""Lesson 07 (robustness): what happens to a run, and to your notebook, when a task raises, kills its
worker, hangs or is stopped; measured, and the exercise's check.

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

import json
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
from ._feedback import Feedback

__all__ = ['work_or_crash', 'TaskErrors', 'exception_in_tasks', 'WorkerDeaths', 'dying_workers',
           'ThreadException', 'exception_in_bare_thread', 'exception_through_future', 'ChildCrash',
           'crash_in_child', 'isolation', 'Isolation', 'LimitRun', 'hung_run', 'stop_after',
           'check_crash_backend']

#: The longest a child Python may run before its whole process group is killed (they take ~0.2-2 s).
CHILD_TIMEOUT_S = 60.0
#: How long a sibling task works in the isolation demo: far longer than the 0.05 s before the crash (and
#: than a pool takes to notice a dead worker), so "the sibling finished" is decided by the setup, never by
#: a slow machine.
SIBLING_S = 1.0
#: When the crashing task crashes, after it starts.
CRASH_AFTER_S = 0.05


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


# -- 4. a hard crash: in a child Python ---------------------------------------------------------------


def _signal_name(code: int | None) -> str:
    if code is None:
        return "still running"
    if code >= 0:
        return f"exit code {code}"
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


@dataclass(frozen=True)
class ChildCrash:
    """A child Python in which one task crashed next to a sibling task: how far did everyone get?"""

    setup: str
    how: str
    returncode: int | None
    sibling_finished: bool
    host_finished: bool
    fatal_error: str
    explained: str

    @property
    def host_survived(self) -> bool:
        return self.returncode == 0 and self.host_finished

    def __repr__(self) -> str:
        ended = "ran to its end" if self.host_survived else f"was killed by {_signal_name(self.returncode)}"
        lines = [f"{self.setup}, crash({self.how!r}): the child Python {ended}",
                 f"  the sibling task finished its work: {self.sibling_finished}"]
        if self.fatal_error:
            lines.append(f"  faulthandler in the child printed: {self.fatal_error}")
        if self.explained:
            lines.append(f"  the host was told: {self.explained}")
        return "\n".join(lines)


#: The setups `crash_in_child` knows, with the words a table shows for each.
SETUPS = {
    "thread": "two threads in one process",
    "process": "two multiprocessing.Process",
    "pool": "cl.run(backend='processes')",
}


def crash_in_child(setup: str = "thread", how: str = "abort", *, start_method: str | None = None,
                   timeout: float = CHILD_TIMEOUT_S) -> ChildCrash:
    """Start a child Python in which a task crashes (`how`) while a sibling works for `SIBLING_S`:
    as two threads, as two processes, or as two tasks of a process pool (`setup`)."""
    return _crashes_in_children([setup], how, start_method, timeout)[0]


def _crashes_in_children(setups: list[str], how: str, start_method: str | None, timeout: float) -> list[ChildCrash]:
    """`crash_in_child` for several setups, their child Pythons running side by side (each its own Python)."""
    for setup in setups:
        if setup not in SETUPS:
            raise ValueError(f"setup: unknown {setup!r}; choose one of: {', '.join(SETUPS)}")
    method = start_method or config.default_start_method()
    outcomes = _run_children([["crash", setup, how, method] for setup in setups], timeout)
    crashes = []
    for setup, (code, out, err) in zip(setups, outcomes, strict=True):
        said = _child_lines(out)
        explained = next((x[len("explained: "):] for x in said if x.startswith("explained: ")), "")
        crashes.append(ChildCrash(SETUPS[setup], how, code, "sibling finished" in said, "host finished" in said,
                                  _fatal_error(err), explained))
    return crashes


def _run_child(args: list[str], timeout: float) -> tuple[int | None, str, str]:
    """Run `_child_main(args)` in a fresh Python; see `_run_children`."""
    return _run_children([args], timeout)[0]


def _run_children(all_args: list[list[str]], timeout: float) -> list[tuple[int | None, str, str]]:
    """Run `_child_main(args)` in a fresh Python for each args, side by side (`children.run_children`: on a
    timeout or an interrupt every group is killed, so nothing they started is left behind)."""
    code = "from concurrency_lab.lessons.robustness import _child_main; _child_main()"
    done = run_children([python("-c", code, *args) for args in all_args], timeout=timeout)
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


def _sibling() -> None:
    time.sleep(SIBLING_S)
    _say("sibling finished")


def _child_main(argv: list[str] | None = None) -> None:
    """Entry point of the child Python: `crash <setup> <how> <method>`, `exercise <backend> <method>`
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
        _child_crash(*args[1:])
    elif args[0] == "exercise":
        _child_exercise(*args[1:])
    elif args[0] == "sleep":  # for tests: a child that outlives its timeout
        time.sleep(float(args[1]))
    _say("host finished")


def _child_crash(setup: str, how: str, method: str) -> None:
    if setup == "thread":
        workers = [threading.Thread(target=_sibling), threading.Thread(target=work_or_crash, args=(("crash", how),))]
        for w in workers:
            w.start()
        for w in workers:
            w.join(CHILD_TIMEOUT_S)
    elif setup == "process":
        import multiprocessing

        ctx = multiprocessing.get_context(method)
        procs = [ctx.Process(target=_sibling), ctx.Process(target=work_or_crash, args=(("crash", how),))]
        for p in procs:
            p.start()
        for p in procs:
            p.join(CHILD_TIMEOUT_S)
        _say(f"explained: the crashed process's exit code is {procs[1].exitcode} ({_signal_name(procs[1].exitcode)})")
    else:
        from ..api import run

        rec = run(work_or_crash, backend="processes", max_workers=2, start_method=method,
                  items=[("sleep", SIBLING_S), ("crash", how)], timeout=CHILD_TIMEOUT_S)
        if rec.results[0] == "done":
            _say("sibling finished")
        _say(f"explained: task 1: {_cause(rec.failures[-1].error) if rec.failures else 'no failure?!'}")


@dataclass(frozen=True)
class Isolation:
    """The same crash next to the same sibling, in each setup: who survived?"""

    rows: tuple[ChildCrash, ...]

    def table(self) -> Any:
        import pandas as pd

        return pd.DataFrame([{"setup": r.setup, "host survived": r.host_survived,
                              "sibling finished": r.sibling_finished,
                              "ended by": "normal exit" if r.host_survived else _signal_name(r.returncode)}
                             for r in self.rows])

    def verdict(self) -> str:
        by = {r.setup: r for r in self.rows}
        threads, procs = by.get(SETUPS["thread"]), by.get(SETUPS["process"])
        if threads is None or procs is None:
            return "measure both the thread and the process setup to compare them"
        isolated = procs.host_survived and procs.sibling_finished
        shared_fate = not threads.host_survived and not threads.sibling_finished
        return f"processes isolate crashes: {isolated}; threads do not: {shared_fate}"

    def __repr__(self) -> str:
        return self.table().to_string(index=False)


def isolation(how: str = "abort", *, start_method: str | None = None) -> Isolation:
    """`crash_in_child` for every setup (side by side): the measured claim "processes isolate crashes,
    threads do not"."""
    return Isolation(tuple(_crashes_in_children(list(SETUPS), how, start_method, CHILD_TIMEOUT_S)))


# -- 5. timeouts and Stop ---------------------------------------------------------------------------


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


# -- the exercise --------------------------------------------------------------------------------------

#: The exercise's tasks: five quick ones, then one that crashes (os.abort) after 0.3 s, long after the
#: quick ones are done, so which results survive depends on the backend, not on timing.
EXERCISE_JOBS: tuple[tuple[str, Any], ...] = (*(("ok", k) for k in range(5)), ("crash_after", (0.3, "abort")))


def _child_exercise(backend: str, method: str) -> None:
    from ..api import run

    rec = run(work_or_crash, backend=backend, max_workers=1 if backend == "sequential" else 2,
              start_method=method if backend == "processes" else None, items=list(EXERCISE_JOBS),
              timeout=CHILD_TIMEOUT_S)
    _say("record " + json.dumps({"results": list(rec.results), "failed": [[e.index, _cause(e.error)]
                                                                         for e in rec.failures]}))


def check_crash_backend(backend: Any, *, start_method: str | None = None) -> Feedback:
    """Exercise 07: which backend survives a task that calls os.abort() and still returns the other results?

    Your choice runs in a child Python, so a wrong answer kills the child, not your notebook.
    """
    from ..runners import RUNNERS

    if backend not in RUNNERS:
        return Feedback(False, f"set `backend` to one of: {', '.join(RUNNERS)}")
    method = start_method or config.default_start_method()
    code, out, err = _run_child(["exercise", backend, method], CHILD_TIMEOUT_S)
    record = next((json.loads(s[len("record "):]) for s in _child_lines(out) if s.startswith("record ")), None)
    tasks = len(EXERCISE_JOBS)
    if record is None and (code is None or code >= 0):
        return Feedback(False, f"the run with {backend} failed before it could crash: {_last_line(err)}")
    if record is None:
        return Feedback(False, f"with {backend}, the task's crash killed the whole Python running the run "
                               f"({_signal_name(code)}), and all {tasks} results died with it. In your notebook, "
                               "that Python would have been the kernel.")
    got = sum(1 for r in record["results"] if r is not None)
    why = "; ".join(f"task {k}: {cause}" for k, cause in record["failed"])
    return Feedback(True, f"with {backend}, the crash killed one worker process and the run came back: {got} of "
                          f"{tasks} results, and the record says why the last one failed ({why}).")
