"""Lesson 07, section 4 (a hard crash in a thread kills the whole process): a task crashes next to a
sibling task in a child Python, as two threads, two processes or two tasks of a process pool; who
survived, and the measured claim "processes isolate crashes, threads do not". Also what the child runs
for it (`_child_crash`, called by `robustness._child_main`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from .. import config
from .robustness import (
    CHILD_TIMEOUT_S,
    _cause,
    _child_lines,
    _fatal_error,
    _run_children,
    _say,
    _signal_name,
    work_or_crash,
)

__all__ = ['ChildCrash', 'crash_in_child', 'isolation', 'Isolation']

#: How long a sibling task works in the isolation demo: far longer than the 0.05 s before the crash (and
#: than a pool takes to notice a dead worker), so "the sibling finished" is decided by the setup, never by
#: a slow machine.
SIBLING_S = 1.0


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


# -- what the child Python runs for it (called by `robustness._child_main`) --


def _sibling() -> None:
    time.sleep(SIBLING_S)
    _say("sibling finished")


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
