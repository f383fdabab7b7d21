"""Lesson 01 (threads and processes): shared vs isolated memory, shown, and the exercise's check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._feedback import Feedback

__all__ = ['bump_counter', 'SharedMemoryDemo', 'mutate_global', 'memory_verdict', 'check_shared_memory', 'start_method_verdict', 'COUNTER']

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


def check_shared_memory(answer: Any) -> Feedback:
    """Exercise 01: after a *thread* bumps the counter from 0, what does the parent see?"""
    if answer is None:
        return Feedback(False, "set `answer` to the number you expect the parent to see")
    if answer == 0:
        return Feedback(False, "that is what happens with a process; a thread lives in the parent's memory.")
    if answer != 1:
        return Feedback(False, "the worker added one to 0, once.")
    demo = mutate_global("threads")
    return Feedback(demo.parent_sees == 1, "the thread changed the very dictionary the parent reads."
                    if demo.parent_sees == 1 else "unexpected: run the cell again")



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
