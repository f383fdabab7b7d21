"""What a run leaves behind: frozen records of every task and of the run.

A `TaskEvent` is one task as the worker saw it; a `RunRecord` is one run of a
workload on one backend, with the machine it ran on. Both convert to a pandas
DataFrame in one call and round-trip exactly through JSON lines or CSV, so a
recorded sweep from a 16-core workstation can be replayed in class.

pandas is imported lazily: worker processes import this module and must stay light.
"""

from __future__ import annotations

import dataclasses
import json
import math
import platform
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import info

#: Bump when a field is added or changes meaning; `load_records` refuses newer files.
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """One task, timed where it ran. Times are seconds since the run started,
    all read from one system-wide monotonic clock (`time.perf_counter_ns`)."""

    index: int
    """Position of the task's input in the run's input sequence."""
    worker: str
    """Label of the worker that ran it: "w0", "w1", ... in the order each worker's
    first result was collected; "" for a task that never reached a worker."""
    pid: int
    """Process id of the worker."""
    thread_id: int
    """`threading.get_ident()` of the worker thread; for asyncio, whose tasks all
    share one thread, the concurrency slot (0 to max_workers - 1) the task held."""
    submit: float
    """When the parent handed the task to the pool."""
    start: float
    """When the worker began the call (after unpickling, for processes)."""
    end: float
    """When the worker's call returned or raised."""
    collected: float
    """When the parent saw the result: end-to-collected is collection overhead."""
    cpu: float
    """CPU seconds the task's own thread used (`time.thread_time`); for a task
    shorter than 20 us, its wall time (see `_worker.EXACT_CPU_ABOVE_NS`)."""
    ok: bool
    """False when the task raised, its worker died, or it timed out."""
    error: str = ""
    """Why it failed: the exception and traceback text, or the worker's fate."""


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run: a workload, a backend, N workers, and what happened to each task."""

    backend: str
    """"sequential", "threads", "processes", "asyncio", ..."""
    max_workers: int
    """Workers the pool was allowed (the stdlib's word)."""
    start_method: str
    """fork / forkserver / spawn for processes; "" where it does not apply."""
    workload: str
    """Name of the task function (a workload name, or a learner's function)."""
    params: dict[str, Any]
    """The workload's parameters: size, tasks, chunksize, ..."""
    wall: float
    """Seconds from the first submit to the last result collected."""
    startup: float
    """Seconds to start the pool and get every worker ready, including importing the
    tasks' module in each worker process (0 for no pool, or a pool already warm)."""
    parent_peak_rss: int
    """Peak resident memory of the parent during the run, in bytes (best effort)."""
    workers_peak_rss: int
    """Sum of the workers' peak resident memory, in bytes; 0 for in-process backends."""
    events: Sequence[TaskEvent]
    """Every task, ordered by index: a tuple, or (from a runner) an `EventLog`
    that builds the same tuple the first time it is read."""
    python_version: str = field(default_factory=platform.python_version)
    implementation: str = field(default_factory=platform.python_implementation)
    gil_enabled: bool = field(default_factory=lambda: info.gil_enabled())
    cores_logical: int = field(default_factory=lambda: info.logical_cores())
    cores_physical: int = field(default_factory=lambda: info.physical_cores())
    cores_usable: int = field(default_factory=lambda: info.usable_cores())
    machine: str = field(default_factory=lambda: info.machine_description())
    recorded_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    schema_version: int = SCHEMA_VERSION
    results: tuple[Any, ...] = field(default=(), compare=False, repr=False)
    """Return values in input order (None for failed tasks); never saved."""

    # -- questions a learner asks of one run ---------------------------------
    @property
    def ok(self) -> bool:
        """True when every task succeeded."""
        return all(e.ok for e in self.events)

    @property
    def failures(self) -> tuple[TaskEvent, ...]:
        """The events of tasks that failed, in index order."""
        return tuple(e for e in self.events if not e.ok)

    @property
    def cpu_time(self) -> float:
        """CPU seconds used by all tasks together."""
        return math.fsum(e.cpu for e in self.events)

    @property
    def parallelism(self) -> float:
        """CPU seconds per wall second: how many cores the tasks kept busy at once, on average (as
        `analysis.achieved_parallelism` computes per run). Threads under the GIL stay at or under ~1,
        and a busy machine can only lower it, so a lesson can check it where a speedup is too noisy."""
        return self.cpu_time / self.wall if self.wall > 0 else 0.0

    def overhead(self) -> dict[str, float]:
        """Where the time went, in seconds summed over tasks.

        startup: making the pool. queued: a task waiting because every worker
        was busy (not overhead: just more tasks than workers). dispatch: the
        rest of submit-to-start, from the moment a worker was free (pickling,
        the pipe, waking the worker, unpickling). compute: start to end.
        collection: from the moment the result existed and the parent was free
        (done with the previous result) to the parent holding it. Time the
        parent spent on earlier results is not counted twice, so collecting in
        input order (as `map` does) and as completed measure the same thing.
        """
        free_at: dict[str, float] = {}
        queued = dispatch = 0.0
        for e in sorted(self.events, key=lambda e: (e.worker, e.start)):
            ready = max(e.submit, free_at.get(e.worker, e.submit))
            queued += ready - e.submit
            dispatch += e.start - ready
            free_at[e.worker] = e.end
        parent_free = -math.inf
        collection = 0.0
        for e in sorted(self.events, key=lambda e: e.collected):
            collection += e.collected - max(e.end, parent_free)
            parent_free = e.collected
        return {
            "startup": self.startup,
            "queued": queued,
            "dispatch": dispatch,
            "compute": math.fsum(e.end - e.start for e in self.events),
            "collection": collection,
        }

    def raise_for_errors(self) -> None:
        """Raise `TaskFailed` naming the first failed task, if any failed."""
        if self.failures:
            raise TaskFailed(self._failed_line())

    def _failed_line(self) -> str:
        first = self.failures[0]
        return (f"{len(self.failures)} of {len(self.events)} tasks failed; "
                f"task {first.index}: {first.error.strip().splitlines()[-1] if first.error else '?'}")

    def __repr__(self) -> str:
        """One line a learner can read: what ran, how long, and whether every task succeeded (if not: how
        many failed, and the first one's error), not every field of every task."""
        method = f":{self.start_method}" if self.start_method else ""
        head = (f"RunRecord({self.backend}{method} x{self.max_workers}, {self.workload}, {len(self.events)} tasks, "
                f"wall {self.wall:.3f} s, startup {self.startup:.3f} s")
        return f"{head}: " + (f"all {len(self.events)} ok)" if self.ok else f"{self._failed_line()})")

    def to_dataframe(self):
        """One row per task, with the run's fields repeated on each row."""
        return records_to_dataframe([self])

    def summary(self) -> dict[str, Any]:
        """The run in one flat row: what a results table shows."""
        row = {k: v for k, v in run_fields(self).items() if k != "params"}
        row.update({"tasks": len(self.events), "failed": len(self.failures),
                    "cpu_time": self.cpu_time, **self.overhead()})
        return row


def _fast_event_builder():
    """A TaskEvent constructor for the runner's hot path: ~3x faster than `TaskEvent(...)`.

    A frozen dataclass sets each field through `object.__setattr__` (about
    3 us per event here, a third of a tiny task's whole cost on a thread pool);
    writing the slots through their descriptors skips that check and builds
    an identical, still frozen, object. A test checks that both are equal.
    """
    new = object.__new__
    (s_index, s_worker, s_pid, s_tid, s_submit, s_start, s_end, s_collected, s_cpu, s_ok, s_error) = (
        TaskEvent.__dict__[name].__set__ for name in EVENT_FIELDS)

    def build(index, worker, pid, thread_id, submit, start, end, collected, cpu, ok, error):
        ev = new(TaskEvent)
        s_index(ev, index)
        s_worker(ev, worker)
        s_pid(ev, pid)
        s_tid(ev, thread_id)
        s_submit(ev, submit)
        s_start(ev, start)
        s_end(ev, end)
        s_collected(ev, collected)
        s_cpu(ev, cpu)
        s_ok(ev, ok)
        s_error(ev, error)
        return ev

    return build


class EventLog(Sequence[TaskEvent]):
    """A run's TaskEvents, built from the runner's raw timings the first time they are read.

    Why: a runner keeps each task as the plain tuple its worker returned
    (cheap to make, see `_worker.call_timed`). Turning 2,000 of them into
    frozen TaskEvents takes 7 to 8 ms on a 2-core VM (about 4 us each, measured
    by benchmarks/overhead.py), a fifth of what the tiny tasks themselves cost
    on a thread pool, and a learner who only wanted
    `record.results` or `record.wall` never needs them. So the log builds them
    on first use, once, under a lock, and then behaves as that tuple: index,
    slice (a tuple), len, iterate, and compare equal to it. It pickles and
    copies as a plain tuple.
    """

    __slots__ = ("_build", "_events", "_len", "_lock")

    def __init__(self, build: Callable[[], tuple[TaskEvent, ...]], length: int) -> None:
        self._build: Callable[[], tuple[TaskEvent, ...]] | None = build
        self._events: tuple[TaskEvent, ...] | None = None
        self._len = length
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        """Whether the TaskEvents exist yet (reading any of them builds all)."""
        return self._events is not None

    def materialize(self) -> tuple[TaskEvent, ...]:
        """The events as a tuple, built now if they were not yet."""
        events = self._events
        if events is None:
            with self._lock:
                if self._events is None:
                    self._events = tuple(self._build())  # type: ignore[misc]
                    self._build = None  # let the raw timings go
                events = self._events
        return events

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index):  # type: ignore[override]
        return self.materialize()[index]

    def __iter__(self) -> Iterator[TaskEvent]:
        return iter(self.materialize())

    def __contains__(self, value: object) -> bool:
        return value in self.materialize()

    def __reversed__(self) -> Iterator[TaskEvent]:
        return reversed(self.materialize())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EventLog):
            other = other.materialize()
        if isinstance(other, tuple):
            return self.materialize() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.materialize())

    def __add__(self, other: object):
        if isinstance(other, (tuple, EventLog)):
            return self.materialize() + tuple(other)
        return NotImplemented

    def __radd__(self, other: object):
        if isinstance(other, tuple):
            return other + self.materialize()
        return NotImplemented

    def __repr__(self) -> str:
        return repr(self.materialize())

    def __reduce__(self):
        return tuple, (self.materialize(),)


class TaskFailed(RuntimeError):
    """Raised by `RunRecord.raise_for_errors` when a task failed."""


# -- conversion ------------------------------------------------------------

RUN_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(RunRecord) if f.name not in ("events", "results"))
EVENT_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(TaskEvent))
make_event = _fast_event_builder()


def run_fields(rec: RunRecord) -> dict[str, Any]:
    return {name: getattr(rec, name) for name in RUN_FIELDS}


def records_to_dataframe(records: Iterable[RunRecord]):
    """All tasks of all runs as one DataFrame: one row per task.

    A run with no tasks still gets one row (event columns empty), so no run is lost.
    """
    import pandas as pd

    rows = []
    for rec in records:
        run = run_fields(rec)
        run["params"] = json.dumps(rec.params, sort_keys=True)
        if not rec.events:
            rows.append({**run, **{k: None for k in EVENT_FIELDS}})
        for ev in rec.events:
            rows.append({**run, **{k: getattr(ev, k) for k in EVENT_FIELDS}})
    return pd.DataFrame(rows, columns=[*RUN_FIELDS, *EVENT_FIELDS])


def summaries_to_dataframe(records: Iterable[RunRecord]):
    """One row per run (see `RunRecord.summary`)."""
    import pandas as pd

    return pd.DataFrame([r.summary() for r in records])
