"""Lesson 07's plain tasks and its exercise: write `run_isolated(tasks)`, which runs tasks that may crash
the process they run in, and returns the good ones' results with None where a task crashed.

Why it is built this way:

- The tasks are module-level functions, so spawn and forkserver workers can import them (a function
  defined in a notebook cell cannot be pickled by the standard library).
- The learner's function runs in a child Python (`robustness._child_main`), never in the kernel: a wrong
  answer runs os.abort() in the process that calls it, and that must not be the notebook. The function
  travels there by value (cloudpickle). The child has `CHECK_TIMEOUT_S`; then its whole process group is
  killed (`children.run_child`), so an answer that hangs cannot hang the cell.
- The crashing task is the last one and sleeps `ABORT_AFTER_S` first, so the quick ones are done before
  it dies: which results survive then depends on the answer, not on timing.
- faulthandler (on in the child) names the thread that crashed; the child said which thread was its main
  one, so the feedback tells "ran them in the calling thread" from "ran them in threads".
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..children import ChildResult, python, run_child
from ._feedback import Feedback
from .robustness import CHILD_CODE, _last_line, _say, _signal_name

__all__ = ['square', 'exit_with', 'abort_after', 'isolation_tasks', 'check_run_isolated']

#: How long the crashing task sleeps before os.abort(): far longer than the quick tasks take, even when a
#: busy machine is slow to start a worker process.
ABORT_AFTER_S = 1.0
#: How long the learner's function may run in the child Python (a right answer takes 1-3 s; spawn is
#: slow on a loaded machine) before the child's whole process group is killed.
CHECK_TIMEOUT_S = 60.0
#: What a right answer returns for `isolation_tasks()`.
EXPECTED: tuple[int | None, ...] = (1, 4, 9, 16, 25, None)


# -- tasks a worker process can import ------------------------------------------------------------


def square(x: int) -> int:
    """A task that works."""
    return x * x


def exit_with(code: int) -> None:
    """End this process at once with exit code `code`, as a crash does: no exception is raised, no
    `finally` block runs, nothing is flushed."""
    os._exit(code)


def abort_after(seconds: float) -> None:
    """Wait, then abort the process the way a C library does when its own check fails (SIGABRT)."""
    time.sleep(seconds)
    os.abort()


def isolation_tasks() -> list[Callable[[], Any]]:
    """The exercise's tasks, each a function of no arguments: five quick squares, then one that aborts."""
    return [functools.partial(square, k) for k in range(1, 6)] + [functools.partial(abort_after, ABORT_AFTER_S)]


# -- inside the child Python ------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A returned value as JSON can carry it: numbers and None as they are, anything else named."""
    if value is None or isinstance(value, int | float):
        return value
    if isinstance(value, BaseException):
        return {"exception": type(value).__name__}
    return {"other": repr(value)[:60]}


def _child_isolated(path: str) -> None:
    """Run the learner's function (pickled at `path`) on `isolation_tasks()`; say what it returned or raised."""
    import threading

    import cloudpickle

    fn = cloudpickle.loads(Path(path).read_bytes())
    _say(f"main thread {threading.get_ident()}")
    try:
        got = fn(isolation_tasks())
    except BaseException as exc:  # reported to the check, as data
        _say("raised " + json.dumps([type(exc).__name__, str(exc)[:200]]))
        return
    shape = [_plain(v) for v in got] if isinstance(got, list | tuple) else {"type": type(got).__name__}
    _say("returned " + json.dumps(shape))


# -- the check -------------------------------------------------------------------------------------------


def check_run_isolated(fn: Any, *, timeout: float = CHECK_TIMEOUT_S) -> Feedback:
    """Exercise 07: does `fn(tasks)` survive a task that calls os.abort(), and return the other results?

    Your function runs in a child Python, so a wrong answer kills the child, not your notebook.
    """
    if not callable(fn):
        return Feedback(False, "pass your function itself: `lessons.check_run_isolated(run_isolated)`")
    import cloudpickle

    try:
        payload = cloudpickle.dumps(fn)
    except Exception as exc:  # anything cloudpickle cannot take: say so, not a traceback
        return Feedback(False, f"your function could not be sent to the Python that checks it "
                               f"({type(exc).__name__}: {exc})")
    with tempfile.TemporaryDirectory(prefix="concurrency-lab-check-") as folder:
        path = Path(folder) / "answer.pickle"
        path.write_bytes(payload)
        child = run_child(python("-c", CHILD_CODE, "isolated", str(path)), timeout=timeout)
    return _isolated_feedback(child, timeout)


def _said(child: ChildResult, tag: str) -> str | None:
    return next((line[len(tag) + 1:] for line in child.stdout.splitlines() if line.startswith(tag + " ")), None)


def _isolated_feedback(child: ChildResult, timeout: float) -> Feedback:
    if child.timed_out:
        return Feedback(False, f"your function did not return within {timeout:g} s. A common cause: a "
                               "multiprocessing.Pool replaces a worker that died but never answers for its task, so "
                               "a `.get()` with no timeout waits for ever. Give every wait a timeout "
                               "(`future.result(timeout=...)`), or use ProcessPoolExecutor, which reports the death.")
    raised, returned = _said(child, "raised"), _said(child, "returned")
    if raised is not None:
        return _raised_feedback(*json.loads(raised))
    if returned is not None:
        return _returned_feedback(json.loads(returned))
    if child.returncode is not None and child.returncode < 0:
        return _died_feedback(child)
    return Feedback(False, f"the Python running your function ended without an answer ({_signal_name(child.returncode)}"
                           f"): {_last_line(child.stderr) or 'nothing on stderr'}")


def _died_feedback(child: ChildResult) -> Feedback:
    """The abort killed the Python that called the function: in the calling thread, or in another thread?"""
    main = _said(child, "main thread")
    crashed = re.search(r"^Current thread (0x[0-9a-fA-F]+)", child.stderr, re.MULTILINE)
    signal = _signal_name(child.returncode)
    if main is not None and crashed is not None and int(crashed.group(1), 16) != int(main):
        return Feedback(False, f"your function ran the tasks in threads. The abort in one thread ended the whole "
                               f"Python ({signal}), every thread and every result with it; in your notebook that "
                               "Python is the kernel. Threads share one process: only a process of its own keeps "
                               "a crash away from the others. Run each task in a worker process.")
    return Feedback(False, f"your function ran the tasks in the Python that called it: the last task's abort killed "
                           f"that Python ({signal}) and every result with it; in your notebook it is the kernel. "
                           "Run each task in a worker process (ProcessPoolExecutor, or multiprocessing.Process).")


def _raised_feedback(name: str, message: str) -> Feedback:
    if name == "BrokenProcessPool":
        return Feedback(False, "your function raised BrokenProcessPool, and the five good results were lost with "
                               "the exception. When a worker dies, the pool marks itself broken and fails every "
                               "task not yet done, and `pool.map` (or a loop with no try) stops at the first one. "
                               "Submit each task, then ask each future for its result inside its own "
                               "`try: ... except BrokenProcessPool:`, so what finished is kept (or give each task "
                               "a fresh pool, or a Process of its own).")
    if "pickle" in message.lower() or "Can't get attribute" in message:
        return Feedback(False, f"your function raised {name}: {message}. A function defined in the notebook cannot "
                               "be sent to a spawn worker: give the worker the task itself (`pool.submit(task)`), "
                               "or a function from a module.")
    return Feedback(False, f"your function raised {name}: {message}")


def _returned_feedback(got: Any) -> Feedback:
    expected = list(EXPECTED)
    if not isinstance(got, list):
        return Feedback(False, f"your function returned a {got['type']}: return a list, one entry per task, "
                               "in the tasks' order")
    if len(got) != len(expected):
        return Feedback(False, f"your function returned {len(got)} entries for {len(expected)} tasks: one per "
                               "task, in the tasks' order")
    crashed = got[-1]
    marked = crashed is None or (isinstance(crashed, dict) and "exception" in crashed)
    if got[:-1] == expected[:-1] and marked:
        what = "None" if crashed is None else f"its {crashed['exception']}"
        return Feedback(True, f"the abort killed one worker process and your function came back with the five "
                              f"results {expected[:-1]} and {what} for the task that crashed.")
    if sorted(str(v) for v in got) == sorted(str(v) for v in expected) and got != expected:
        return Feedback(False, f"got {got}: the right values, but in the order they finished. Keep each result in "
                               "its task's place (collect the futures in the order you submitted them).")
    lost = [k for k, (g, e) in enumerate(zip(got[:-1], expected[:-1], strict=True)) if g != e]
    if lost:
        return Feedback(False, f"got {got}, expected {expected}: the result of task(s) {lost} is missing or wrong. "
                               "Those tasks finished before the crash: keep what each future returned.")
    return Feedback(False, f"got {got}: mark the task that crashed with None (or its exception), so the caller "
                           "can tell it from a result.")
