"""Child processes that never outlive their time: start, wait (bounded), kill the whole group, return output.

Why: the lessons run code that may crash, hang or start pools of its own in a
separate Python, so that a learner's kernel is never at risk: a raw-stdlib
demo, a crash inside a thread, a script run under spawn, another interpreter.
Each needs the same things: a time limit, Stop, the output, and a kill that
reaches everything the child started. Killing only the child is not enough:
a pool's workers and a forkserver inherit its pipes, keep them open, and
reading the child's output would then wait for them. So each child gets a
process group of its own (POSIX: a new session), and the group is killed.

On Windows there are no process groups to kill; the child alone is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from . import config

#: After a kill, how long to wait for the child's pipes to close and its exit status to be read.
KILL_GRACE_S = 5.0


@dataclass(frozen=True)
class ChildResult:
    """What a child did: its exit status and output, and whether it was ended early (and why)."""

    args: tuple[str, ...]
    returncode: int | None
    """The exit status (negative: killed by that signal); None if it never exited on its own."""
    stdout: str
    stderr: str
    """Empty when stderr was merged into stdout."""
    timed_out: bool = False
    stopped: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not (self.timed_out or self.stopped)


class Child:
    """A started child in a process group of its own. Use as a context manager: leaving the block
    for any reason (an error, Ctrl-C) kills what is still running."""

    def __init__(self, args: Sequence[str], *, env: dict[str, str] | None = None, cwd: str | None = None,
                 merge_stderr: bool = False) -> None:
        self.args = tuple(args)
        self.proc = subprocess.Popen(self.args, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
                                     text=True, errors="replace", start_new_session=os.name == "posix")

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.returncode is None:
            self.kill()

    def wait(self, timeout: float, stop: threading.Event | None = None, *, deadline: float | None = None) -> ChildResult:
        """Wait until it exits, `timeout` s pass (or the monotonic `deadline`), or `stop` is set; then
        kill its group if it is still running, and return what it printed."""
        deadline = time.monotonic() + timeout if deadline is None else deadline
        while True:
            remaining = max(deadline - time.monotonic(), 0.0)
            try:
                out, err = self.proc.communicate(timeout=min(config.POLL_INTERVAL_S, remaining))
                return ChildResult(self.args, self.proc.returncode, out or "", err or "")
            except subprocess.TimeoutExpired:
                stopped = stop is not None and stop.is_set()
                if stopped or time.monotonic() >= deadline:
                    out, err = self.kill()
                    return ChildResult(self.args, None, out, err, timed_out=not stopped, stopped=stopped)
            except BaseException:
                self.kill()
                raise

    def kill(self) -> tuple[str, str]:
        """SIGKILL the child and everything in its process group, then reap it (bounded); its output so far."""
        try:
            if os.name == "posix":
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group id is the child's pid (a new session)
            else:
                self.proc.kill()
        except (ProcessLookupError, PermissionError):
            pass  # already gone
        try:
            out, err = self.proc.communicate(timeout=KILL_GRACE_S)
        except (subprocess.TimeoutExpired, ValueError):
            return "", ""
        return out or "", err or ""


def run_child(args: Sequence[str], *, timeout: float, stop: threading.Event | None = None,
              env: dict[str, str] | None = None, cwd: str | None = None, merge_stderr: bool = False) -> ChildResult:
    """Run `args` in a group of its own, for at most `timeout` s (less if `stop` is set); see `Child`."""
    with Child(args, env=env, cwd=cwd, merge_stderr=merge_stderr) as child:
        return child.wait(timeout, stop)


def run_children(all_args: Sequence[Sequence[str]], *, timeout: float) -> list[ChildResult]:
    """Run several children side by side, all within one `timeout`; each is killed at the deadline."""
    deadline = time.monotonic() + timeout
    children: list[Child] = []
    try:
        for args in all_args:
            children.append(Child(args))
        return [child.wait(timeout, deadline=deadline) for child in children]
    finally:
        for child in children:
            if child.proc.returncode is None:
                child.kill()


def run_script(source: str, *args: str, timeout: float, name: str = "script.py",
               env: dict[str, str] | None = None) -> ChildResult:
    """Write `source` to a file `name` in a new temporary folder and run it with this Python, as a learner
    runs a `.py` file: a real `__main__` that spawn and forkserver workers can import again."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="concurrency-lab-script-") as folder:
        path = Path(folder) / name
        path.write_text(source, encoding="utf-8")
        return run_child(python(str(path), *args), timeout=timeout, cwd=folder, env=env, merge_stderr=True)


def python(*args: str) -> list[str]:
    """This Python, with `args`: `run_child(python("-c", code))`."""
    return [sys.executable, *args]
