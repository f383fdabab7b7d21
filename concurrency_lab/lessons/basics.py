"""Lesson 01 (threads and processes): shared vs isolated memory, shown, and the exercises' checks.

The coding exercise hands the learner a script that starts spawn processes at module level. Its check runs
the learner's version as a `.py` file in a child Python (`children.run_script`, with a timeout: the script
may never end) and reads what it printed, because only a real script has the importable `__main__` that
spawn's workers import again.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from ._feedback import Feedback

__all__ = ['bump_counter', 'SharedMemoryDemo', 'mutate_global', 'memory_verdict',
           'start_method_verdict', 'COUNTER', 'UNSAFE_SCRIPT', 'check_spawn_safe']

#: A module-level global that lesson 01 mutates from a thread and from a process.
COUNTER = {"value": 0}


def bump_counter(_: object = None) -> int:
    """Add one to `COUNTER` in whatever process runs this; return the value seen there."""
    COUNTER["value"] += 1
    return COUNTER["value"]


@dataclass(frozen=True)
class SharedMemoryDemo:
    """What the parent sees of a global after a worker changed it."""

    backend: str
    worker_saw: int
    parent_sees: int

    def __repr__(self) -> str:
        shared = "shares" if self.parent_sees == self.worker_saw else "does not share"
        return (f"{self.backend}: the worker set the counter to {self.worker_saw}; the parent now sees "
                f"{self.parent_sees}, so a {self.backend[:-2] if self.backend.endswith('es') else self.backend[:-1]}"
                f" {shared} the parent's memory")


def mutate_global(backend: str) -> SharedMemoryDemo:
    """Reset `COUNTER`, bump it once in a worker of `backend`, and report what the parent sees."""
    from ..api import run

    COUNTER["value"] = 0
    rec = run(bump_counter, backend=backend, max_workers=1, items=[None])
    rec.raise_for_errors()
    return SharedMemoryDemo(backend, rec.results[0], COUNTER["value"])


def memory_verdict(measurements: Any) -> str:
    """One checked line from `MemoryExplorer.measurements`: which backend costs more per worker."""
    per = {}
    for m in measurements:
        per.setdefault(m.backend, []).append(m.total_mib / m.workers)
    if not {"threads", "processes"} <= set(per):
        return "measure both threads and processes to compare them"
    more = max(("threads", "processes"), key=lambda b: min(per[b]))
    return f"per worker, {more} cost more memory than {'threads' if more == 'processes' else 'processes'}"


def start_method_verdict(explorer: Any) -> str:
    """Checked lines from a `StartMethodExplorer` run: where a notebook function ran, ours vs the raw stdlib.

    Facts, not timings: which start methods ran it, so the output is the same on every run of a machine.
    """
    ours = sorted({r.start_method for r in explorer.records if r.ok})
    raw_ok = sorted(o.start_method for o in explorer.outcomes if o.ok)
    raw_broke = sorted(o.start_method for o in explorer.outcomes if not o.ok)
    lines = [f"our runner ran the notebook's function under: {', '.join(ours) or 'none'}"]
    if explorer.outcomes:
        lines.append(f"a raw ProcessPoolExecutor ran it under: {', '.join(raw_ok) or 'none'}; "
                     f"it broke under: {', '.join(raw_broke) or 'none'}")
    return "\n".join(lines)


# -- the coding exercise: make a script spawn-safe ------------------------------------------------------------

#: The exercise's script: spawn processes started at module level, with no `if __name__ == "__main__":` guard.
UNSAFE_SCRIPT = '''\
import multiprocessing


def square(k):
    print(f"worker {k}: {k} squared is {k * k}", flush=True)


ctx = multiprocessing.get_context("spawn")
workers = [ctx.Process(target=square, args=(k,)) for k in range(2)]
for p in workers:
    p.start()
for p in workers:
    p.join(timeout=20)
print("exit codes:", [p.exitcode for p in workers])
'''

#: What the script prints when it works; the two workers' lines may come in either order, and each is looked
#: for anywhere in the output: two processes writing to one pipe can put one's line before the other's
#: newline (see `check_spawn_safe`).
EXPECTED_LINES = ("worker 0: 0 squared is 0", "worker 1: 1 squared is 1", "exit codes: [0, 0]")
#: A spawn-safe version ends in about a second; a script that starts workers for ever is killed after this.
SPAWN_CHECK_TIMEOUT_S = 20.0
BOOTSTRAP = "before the current process has finished its bootstrapping phase"
_SPAWN_CONTEXT = re.compile(r"""get_context\(\s*["']spawn["']\s*\)""")
_MISSING_ATTRIBUTE = re.compile(r"Can't get attribute '(\w+)' on <module '__mp_main__'")


def _static_feedback(source: object) -> Feedback | None:
    """What can be said without running it: not a script, does not compile, or no longer uses spawn."""
    if not isinstance(source, str):
        return Feedback(False, "pass the script's source, a string: `lessons.check_spawn_safe(script)`")
    try:
        compile(source, "script.py", "exec")
    except SyntaxError as exc:
        return Feedback(False, f"the script does not compile: line {exc.lineno}: {exc.msg}")
    if not _SPAWN_CONTEXT.search(source):
        return Feedback(False, 'keep `multiprocessing.get_context("spawn")`: the exercise is to make the script '
                               "safe under spawn (macOS and Windows use it by default); fork would hide the problem.")
    return None


def _run_feedback(out: str, timed_out: bool, returncode: int | None) -> Feedback:
    """Read what the script printed, most telling first."""
    if BOOTSTRAP in " ".join(out.split()):  # the stdlib wraps its message over several lines
        return Feedback(False, "each worker stopped with RuntimeError: \"An attempt has been made to start a new "
                               "process before the current process has finished its bootstrapping phase\". A spawn "
                               "worker imports your script again (as `__mp_main__`) to find the function it runs, so code at "
                               "module level runs again in every worker, and starts workers of its own. Put the "
                               "code that starts processes under `if __name__ == \"__main__\":`, which is true only "
                               "in the script you ran." + (" It also never ended, killed by the check's timeout."
                                                           if timed_out else ""))
    missing = _MISSING_ATTRIBUTE.search(out)
    if missing:
        return Feedback(False, f"the workers stopped with AttributeError: Can't get attribute '{missing.group(1)}' "
                               "on <module '__mp_main__'>. A worker finds the function by importing your script "
                               "as `__mp_main__`, where the guarded block does not run: define the function at "
                               "module level, above the guard, and keep only the code that starts processes "
                               "inside it.")
    if timed_out:
        return Feedback(False, f"the script did not end within {SPAWN_CHECK_TIMEOUT_S:g} s: killed by the check. "
                               "Does every `join` have a timeout, and does every worker return?")
    if returncode != 0:
        last = out.strip().splitlines()[-1] if out.strip() else "(it printed nothing)"
        return Feedback(False, f"the script failed (exit status {returncode}): {last}")
    if not out.strip():
        return Feedback(False, 'the script ran and printed nothing: is the guard spelled '
                               '`if __name__ == "__main__":`, two underscores on each side of both words?')
    absent = [line for line in EXPECTED_LINES if line not in out]
    if absent:
        return Feedback(False, f"the script ran but did not print: {absent[0]!r}. Start both workers, join "
                               "them, then print their exit codes, as the original did.")
    return Feedback(True, "both spawn workers ran and exited with 0. Each imported your script as "
                          "`__mp_main__`, found `square` at module level, and skipped the guarded block.")


def check_spawn_safe(source: object) -> Feedback:
    """Exercise 01: run the learner's version of `UNSAFE_SCRIPT` as a `.py` file and say what went wrong.

    The script runs as `python spawn_safe.py` would with its output in a pipe: buffered, without a
    `PYTHONUNBUFFERED` the kernel or CI may have set. Unbuffered, `print` writes its text and its newline in
    two writes, and the two workers' lines came out as "worker 1: 1 squared is 1worker 0: 0 squared is 0"
    in 34 of 120 runs with two CPU hogs running; buffered, each line leaves a worker in one write."""
    from ..children import run_script

    early = _static_feedback(source)
    if early is not None:
        return early
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    result = run_script(str(source), timeout=SPAWN_CHECK_TIMEOUT_S, name="spawn_safe.py", env=env)
    return _run_feedback(result.stdout, result.timed_out, result.returncode)
