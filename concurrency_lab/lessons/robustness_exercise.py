"""Lesson 07's exercise: which backend survives a task that calls os.abort() and still returns the other
results? The learner's choice runs in a child Python (`_child_exercise`, called by
`robustness._child_main`), so a wrong answer kills the child, not the notebook.
"""

from __future__ import annotations

import json
from typing import Any

from .. import config
from ._feedback import Feedback
from .robustness import CHILD_TIMEOUT_S, _cause, _child_lines, _last_line, _run_child, _say, _signal_name, work_or_crash

__all__ = ['check_crash_backend']

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
