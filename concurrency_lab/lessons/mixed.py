"""Lesson 08 (mixed workloads): threads for the waiting, processes for the computing, in one pipeline.

Real programs rarely do one kind of work: a crawler fetches (waits) and then parses (computes). This module
measures a two-stage pipeline (fetch on a thread pool; each response handed, as it arrives, to a process pool
for its CPU step) against one pool doing both steps in every task, and against the classic tutorial version
(the same two pools, stage after stage: every fetch first, then every CPU step). The convoy effect, lesson 08's
last section, is in `mixed_convoy`.

Every wait here has a timeout and every pool is closed by a `with` block; process pools use the library's
default start method, so the lesson behaves alike under spawn, forkserver and fork.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from time import perf_counter_ns
from typing import Any

from .. import config
from ..runners import Runner, WorkerLabels, as_completed, deferred_interrupt, make_runner, outcome_event
from ..workloads import cpu as cpu_step
from ..workloads import io_http
from ._feedback import Feedback

__all__ = ['STAGE_BACKENDS', 'MixedSettings', 'fetch_and_compute', 'pipeline', 'overlap_seen', 'MixedComparison',
           'compare_mixed', 'computed_while_waiting', 'check_stage_backends']

#: What can run one stage of the pipeline.
STAGE_BACKENDS = ("sequential", "threads", "processes")
#: Bytes each fetch asks the local server for: small, so the wait is the server's latency, not the transfer.
RESPONSE_BYTES = 1024
#: Each way of running the job is measured this many times on the same warm pools; the table keeps the best.
REPEATS = 2
#: Longest any one run of this lesson may take before it is abandoned (its pools are then closed).
RUN_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class MixedSettings:
    """One mixed job: `items` fetches that each wait `latency` s, then `cpu_seconds` of pure-Python work each.

    Worker counts are fixed, not taken from the core count, so numbers from a laptop and a workstation
    compare: the I/O stage gets half as many threads as there are items (so responses arrive in two waves,
    and CPU work can start while the second wave still waits), the CPU stage gets 2 processes.
    """

    items: int = 8
    latency: float = 0.1
    cpu_seconds: float = 0.03
    io_workers: int = 4
    cpu_workers: int = 2

    @classmethod
    def default(cls) -> MixedSettings:
        """The lesson's job: 8 items in SMALL mode (a classroom cell of a few seconds), 16 otherwise."""
        return cls() if config.SMALL else cls(items=16, io_workers=8)


def fetch_and_compute(steps: int, *, url: str, timeout: float = 10.0) -> int:
    """One item done start to finish in one task: GET it from `url`, then compute on it (like the `mixed`
    workload, which sleeps instead of fetching). Returns the CPU step's result."""
    from ..workloads import cpu, io_http

    io_http(RESPONSE_BYTES, url=url, timeout=timeout)
    return cpu(steps)


# -- the pipeline -------------------------------------------------------------------------------------

@contextmanager
def _stages(io: str, cpu: str, s: MixedSettings, start_method: str,
            fn: Callable) -> Iterator[tuple[Runner, Runner, float]]:
    """Both stages' runners, warm: every worker started and `fn`'s module imported, before any clock starts
    (the third value is the start-up they took). Closed on exit, even on error."""
    with ExitStack() as stack:
        t0 = time.perf_counter()
        stages = []
        for kind, n in ((io, s.io_workers), (cpu, s.cpu_workers)):
            runner = stack.enter_context(make_runner(kind, 1 if kind == "sequential" else n,
                                                     start_method=start_method if kind == "processes" else None))
            runner.warm(fn)
            stages.append(runner)
        yield stages[0], stages[1], time.perf_counter() - t0


def pipeline(url: str, settings: MixedSettings | None = None, *, io: str = "threads", cpu: str = "processes",
             steps: int | None = None, start_method: str | None = None, repeats: int = 1,
             stage_after_stage: bool = False) -> Any:
    """Fetch every item on the `io` stage and hand each response, as it arrives, to the `cpu` stage; or, with
    `stage_after_stage`, hand none on until every fetch is back (the classic tutorial version).

    Returns a RunRecord (backend "pipeline", or "stage after stage"), the fastest of `repeats` runs on the
    same warm pools: events 0..n-1 are the fetches (workers io0, io1, ...), events n..2n-1 the CPU steps
    (cpu0, cpu1, ...), so `plots.timeline` draws both stages in one chart.
    """
    from ..calibration import calibrate

    s = settings or MixedSettings.default()
    for name, kind in (("io", io), ("cpu", cpu)):
        if kind not in STAGE_BACKENDS:
            raise ValueError(f"{name}: unknown {kind!r}; choose one of: {', '.join(STAGE_BACKENDS)}")
    steps = steps or calibrate("cpu", s.cpu_seconds)
    method = start_method or config.default_start_method()
    how = {"io": io, "cpu": cpu, "start_method": method if "processes" in (io, cpu) else ""}
    # Ctrl-C is held back inside the pools' own code, as the runners do, and raised at safe points.
    with deferred_interrupt(), _stages(io, cpu, s, method, cpu_step) as (io_pool, cpu_pool, startup):
        records = [_pipeline_once(io_pool, cpu_pool, url, s, steps, startup if k == 0 else 0.0, how,
                                  stage_after_stage) for k in range(max(1, repeats))]
    return min(records, key=lambda r: r.wall)


def _pipeline_and_classic(url: str, s: MixedSettings, steps: int, method: str, repeats: int) -> tuple[Any, Any]:
    """The pipeline and the classic tutorial version on the same warm pools, taking turns `repeats` times
    (a busy spell slows both alike); each the fastest of its tries."""
    how = {"io": "threads", "cpu": "processes", "start_method": method}
    tries: dict[bool, list[Any]] = {False: [], True: []}
    with deferred_interrupt(), _stages("threads", "processes", s, method, cpu_step) as (io_pool, cpu_pool, _):
        for _ in range(max(1, repeats)):
            for after in tries:
                tries[after].append(_pipeline_once(io_pool, cpu_pool, url, s, steps, 0.0, how, after))
    return tuple(min(tries[after], key=lambda r: r.wall) for after in (False, True))


def _pipeline_once(io_pool: Runner, cpu_pool: Runner, url: str, s: MixedSettings, steps: int, startup: float,
                   how: dict[str, str], stage_after_stage: bool = False) -> Any:
    """One timed run of the pipeline on warm runners (`Runner.submit`: a future per task, with its timings).
    `stage_after_stage`: keep every response until the last fetch is back, then submit all the CPU steps, as
    `list(pool.map(...))` for each stage in turn does."""
    from ..records import RunRecord

    fetch = functools.partial(io_http, url=url, timeout=10.0)
    io_label, cpu_label = WorkerLabels("io"), WorkerLabels("cpu")
    events = []
    t0 = perf_counter_ns()

    def event(index: int, fut: Future, label: WorkerLabels) -> Any:
        fut.result()  # a failed task raises TaskFailed here
        out = fut.outcome
        return outcome_event(index, out, t0=t0, submitted=fut.submitted, collected=perf_counter_ns(),
                             worker=label(out.pid, out.thread_id))

    fetches = {io_pool.submit(fetch, RESPONSE_BYTES): k for k in range(s.items)}
    computes, arrived = {}, []
    for fut in as_completed(fetches, timeout=RUN_TIMEOUT_S):  # as each response arrives...
        k = fetches[fut]
        events.append(event(k, fut, io_label))
        if stage_after_stage:
            arrived.append(k)  # ...keep it for later (the classic tutorial version)
        else:
            computes[cpu_pool.submit(cpu_step, steps)] = s.items + k  # ...or hand it on at once
    for k in arrived:  # every fetch is back: now the CPU stage
        computes[cpu_pool.submit(cpu_step, steps)] = s.items + k
    for fut in as_completed(computes, timeout=RUN_TIMEOUT_S):
        events.append(event(computes[fut], fut, cpu_label))
    wall = (perf_counter_ns() - t0) / 1e9
    return RunRecord(backend="stage after stage" if stage_after_stage else "pipeline", max_workers=s.io_workers + s.cpu_workers, start_method=how["start_method"],
                     workload="fetch, then cpu", params={"io": how["io"], "cpu": how["cpu"], "items": s.items,
                                                         "latency": s.latency, "steps": steps},
                     wall=wall, startup=startup, parent_peak_rss=0, workers_peak_rss=0,
                     events=tuple(sorted(events, key=lambda e: e.index)))


def overlap_seen(record: Any) -> bool:
    """Did a CPU step start before the last fetch was answered (computing while still waiting)?"""
    fetches = [e for e in record.events if e.worker.startswith("io")]
    computes = [e for e in record.events if e.worker.startswith("cpu")]
    return bool(fetches and computes) and min(e.start for e in computes) < max(e.end for e in fetches)


# -- the comparison -----------------------------------------------------------------------------------

#: Two wall times closer than this (relative) are "about as long": below it, noise decides the order.
SAME_WITHIN = 0.05


@dataclass(frozen=True)
class MixedComparison:
    """The same mixed job several ways, and the pipeline's own record (for its timeline)."""

    settings: MixedSettings
    rows: tuple[tuple[str, str, float], ...]
    """(key, how it ran, wall seconds); keys: sequential, threads, processes, classic (if measured), pipeline."""
    pipeline_record: Any
    classic_record: Any = None
    """The classic tutorial version's record (every fetch, then every CPU step), when measured."""
    load: Any = None
    """What other programs took while this was measured (`concurrency_lab.load.Load`), when measured."""

    def wall(self, key: str) -> float:
        return next(wall for k, _, wall in self.rows if k == key)

    def table(self) -> Any:
        """A DataFrame: how, wall_s, speedup over sequential."""
        import pandas as pd

        df = pd.DataFrame([(how, wall) for _, how, wall in self.rows], columns=["how", "wall_s"])
        df["speedup"] = self.wall("sequential") / df["wall_s"]
        return df

    def verdict(self) -> str:
        """Checked lines: facts with wide margins, true on a busy 2-core machine and on 16 cores. The classic
        version's line is about its shape, not its speed: it cannot compute before its last fetch is back."""
        pipe = self.wall("pipeline")
        lines = [
            f"pipeline at least 1.5x faster than sequential: {self.wall('sequential') >= 1.5 * pipe}",
            f"pipeline faster than processes alone (they wait for {self.settings.cpu_workers} fetches at a time): "
            f"{self.wall('processes') > pipe}",
            f"CPU steps started while other fetches were still waiting: {overlap_seen(self.pipeline_record)}",
        ]
        if self.classic_record is not None:
            lines.append(f"the classic tutorial version computed nothing until every fetch was back: "
                         f"{not overlap_seen(self.classic_record)}")
        return "\n".join(lines)

    def versus_classic(self) -> str:
        """How the pipeline compared with the classic tutorial version here, in words from the two walls."""
        if self.classic_record is None:
            return ""
        pipe, classic = self.wall("pipeline"), self.wall("classic")
        hidden = computed_while_waiting(self.pipeline_record)
        if abs(classic / pipe - 1) < SAME_WITHIN:
            said = f"the pipeline and the classic tutorial version took about as long (within {SAME_WITHIN:.0%})"
        elif classic > pipe:
            said = f"the pipeline was {classic / pipe:.2f}x faster than the classic tutorial version"
        else:
            said = f"the pipeline was {pipe / classic:.2f}x slower than the classic tutorial version"
        return f"{said}; it computed for {hidden:.2f} s while fetches still waited"

    def __repr__(self) -> str:
        s, seq = self.settings, self.wall("sequential")
        head = (f"{s.items} items, each: a GET answered after {s.latency * 1e3:g} ms, then "
                f"~{s.cpu_seconds * 1e3:g} ms of pure-Python work")
        w = max(len(how) for _, how, _ in self.rows)
        rows = [f"{how:<{w}} {wall:6.3f} s  {seq / wall:5.1f}x" for _, how, wall in self.rows]
        tail = [line for line in (self.versus_classic(), self.load.note() if self.load is not None else "") if line]
        return "\n".join([head, f"{'how':<{w}} {'wall':>8}  speedup", *rows, *tail])


def computed_while_waiting(record: Any) -> float:
    """Seconds between the first CPU step's start and the last fetch's answer: how long the pipeline computed
    while fetches still waited (0 for the classic version, which computes only after the last one)."""
    fetches = [e.end for e in record.events if e.worker.startswith("io")]
    computes = [e.start for e in record.events if e.worker.startswith("cpu")]
    return max(max(fetches) - min(computes), 0.0) if fetches and computes else 0.0


def compare_mixed(settings: MixedSettings | None = None, *, start_method: str | None = None) -> MixedComparison:
    """Measure the job sequentially, on threads alone, on processes alone (one task = fetch + compute), stage
    after stage (the classic tutorial version) and as the pipeline; each (but the sequential baseline) the
    best of REPEATS runs, so a moment of load elsewhere does not decide a row, and the last two take turns on
    the same pools. Every pool is warm before its clock starts (each worker has already fetched once, so has
    imported urllib): start-up is lesson 02's subject, not this one's. The load note says what other
    programs took meanwhile."""
    from ..calibration import calibrate
    from ..load import LoadMeter as Meter
    from ..runners import make_runner
    from ..servers import LocalHTTPServer

    s = settings or MixedSettings.default()
    steps = calibrate("cpu", s.cpu_seconds)
    meter = Meter()  # counts the CPU of workers a forkserver reaped as ours, as it is
    plan = (("sequential", 1, "sequential (fetch + compute, one by one)"),
            ("threads", s.io_workers, f"threads alone (x{s.io_workers}, each: fetch + compute)"),
            ("processes", s.cpu_workers, f"processes alone (x{s.cpu_workers}, each: fetch + compute)"))
    rows = []
    with LocalHTTPServer(latency=s.latency) as server:
        task = functools.partial(fetch_and_compute, url=server.url)
        for backend, workers, how in plan:
            method = start_method if backend == "processes" else None
            with make_runner(backend, workers, start_method=method) as runner:
                runner.run(task, [0] * workers, timeout=RUN_TIMEOUT_S)  # warm: each worker has fetched once
                repeats = 1 if backend == "sequential" else REPEATS  # a slow moment only widens the margins
                recs = [runner.run(task, [steps] * s.items, timeout=RUN_TIMEOUT_S) for _ in range(repeats)]
            for rec in recs:
                rec.raise_for_errors()
            rows.append((backend, how, min(rec.wall for rec in recs)))
        method = start_method or config.default_start_method()
        pipe, classic = _pipeline_and_classic(server.url, s, steps, method, REPEATS)
    rows.append(("classic", f"classic tutorial version (all fetches x{s.io_workers}, then all cpu x{s.cpu_workers})",
                 classic.wall))
    rows.append(("pipeline", f"pipeline (fetch: threads x{s.io_workers} -> cpu: processes x{s.cpu_workers})",
                 pipe.wall))
    return MixedComparison(s, tuple(rows), pipe, classic, meter.read())


# -- the exercise --------------------------------------------------------------------------------------

_STAGE_ADVICE = {
    ("io", "sequential"): "the fetches would wait one after another, when the waiting is what should overlap",
    ("io", "processes"): "processes can wait too, but each waiting fetch would hold a whole interpreter "
                         "(lesson 01's memory), while threads wait just as well for the price of a stack",
    ("cpu", "sequential"): "the CPU steps would run one after another, on one core",
    ("cpu", "threads"): "the CPU steps would share one GIL and take turns (lesson 02), while processes compute "
                        "on separate cores",
}


def check_stage_backends(answer: Any, *, settings: MixedSettings | None = None) -> Feedback:
    """Exercise 08: `answer = {"fetch": ..., "compute": ...}`, a backend per stage. Runs the pipeline with the
    choice (so the learner sees it work and how long it took), then says what is right or wrong about it."""
    from ..servers import LocalHTTPServer

    if not isinstance(answer, dict) or set(answer) != {"fetch", "compute"}:
        return Feedback(False, 'set `answer` to {"fetch": ..., "compute": ...}, each one of '
                               f"{', '.join(map(repr, STAGE_BACKENDS))}")
    io, cpu = answer["fetch"], answer["compute"]
    if io not in STAGE_BACKENDS or cpu not in STAGE_BACKENDS:
        return Feedback(False, f"each stage's backend must be one of {', '.join(map(repr, STAGE_BACKENDS))}")
    s = settings or MixedSettings(items=8, latency=0.05, cpu_seconds=0.02)
    with LocalHTTPServer(latency=s.latency) as server:
        rec = pipeline(server.url, s, io=io, cpu=cpu)
    ran = f"your pipeline ran {s.items} items in {rec.wall:.2f} s"
    problems = [_STAGE_ADVICE[key] for key in (("io", io), ("cpu", cpu)) if key in _STAGE_ADVICE]
    if not rec.ok:
        return Feedback(False, f"{ran}, but some tasks failed: {rec.failures[0].error}")
    if problems:
        return Feedback(False, f"{ran}; but " + "; and ".join(problems) + ".")  # one clause per stage
    return Feedback(True, f"{ran}: threads overlap the waits, processes overlap the computing.")
