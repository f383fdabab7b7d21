"""Lesson 08, section 3 (the convoy effect): I/O next to CPU-bound threads waits for the GIL, next to
CPU-bound processes it does not; measured by `ConvoyLab` as one-byte round trips to an echo server.

Two readings of its records: `convoy_verdict`, the checked comparison of the slow tails (threads against
idle and against processes), and `convoy_in_intervals`, each round trip counted in switch intervals. The
second says why a round trip next to CPU-bound threads costs several intervals, not the one the `sys`
documentation names: the echo server and the probe are both threads of this process, so one round trip
needs the GIL back several times (each side, after every socket call it makes), and a thread coming
back from I/O has no priority: it waits until the holder is asked to let go (up to an interval), and may
then lose the GIL to the other CPU-bound thread and wait again.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ['ConvoyVerdict', 'convoy_verdict', 'ConvoyIntervals', 'convoy_in_intervals', 'run_with_load']

#: How many times slower the slow tail of echoes (p90) must be to count as "suffered": measured here it is
#: 50-500x (threads vs idle, threads vs processes) on 2 cores, busy or not; 5x leaves room.
CONVOY_MARGIN = 5.0


@dataclass(frozen=True)
class ConvoyVerdict:
    """The 90th percentile of echo round trips (ms) in each background scenario of a `ConvoyLab` run.

    The convoy shows as a tail: each GIL hand-over an echo needs can wait up to a switch interval, so the
    slowest tenth of round trips is where CPU-bound threads leave their mark. A percentile, not the maximum,
    so one stray pause of the machine does not decide the verdict.
    """

    p90_ms: tuple[tuple[str, float], ...]
    """(background, 90th percentile of the round trips in ms), in the order measured."""
    gil_enabled: bool = True

    def p90(self, background: str) -> float:
        return dict(self.p90_ms)[background]

    @property
    def threads_hurt(self) -> bool:
        """Next to CPU-bound threads, was p90 CONVOY_MARGIN times longer than with nothing running?"""
        return self.p90("threads") > CONVOY_MARGIN * self.p90("idle")

    @property
    def processes_spared(self) -> bool:
        """Next to CPU-bound processes, was p90 CONVOY_MARGIN times shorter than next to threads?"""
        return CONVOY_MARGIN * self.p90("processes") < self.p90("threads")

    def __repr__(self) -> str:
        if not {"idle", "threads", "processes"} <= dict(self.p90_ms).keys():
            return "run all three backgrounds (idle, threads, processes) to compare them"
        lines = [f"next to CPU-bound threads, the echoes' p90 was over {CONVOY_MARGIN:g}x longer than with nothing "
                 f"running: {self.threads_hurt}",
                 f"next to CPU-bound processes, p90 was over {CONVOY_MARGIN:g}x shorter than next to threads: "
                 f"{self.processes_spared}"]
        if not self.gil_enabled:
            lines.append("(this Python runs without a GIL, so threads need not take turns: read your own numbers)")
        return "\n".join(lines)


def convoy_verdict(records: Any) -> ConvoyVerdict:
    """The verdict from `ConvoyLab.records` (one RunRecord per background scenario)."""
    records = list(records)
    if not records:
        raise ValueError("records: empty; run the ConvoyLab first (lab.run())")
    p90 = tuple((r.backend, statistics.quantiles([(e.collected - e.submit) * 1e3 for e in r.events], n=10,
                                                 method="inclusive")[-1])
                for r in records if len(r.events) >= 2)
    return ConvoyVerdict(p90, all(r.gil_enabled for r in records))


@dataclass(frozen=True)
class ConvoyIntervals:
    """Each background's median and p90 round trip, in ms and in the switch interval the run used."""

    interval_ms: float
    rows: tuple[tuple[str, float, float], ...]
    """(background, median ms, p90 ms), in the order measured."""
    gil_enabled: bool = True
    load: Any = None
    """What other programs took while the lab ran (`concurrency_lab.load.Load`), if measured."""

    def median(self, background: str) -> float:
        return next(med for bg, med, _ in self.rows if bg == background)

    def p90(self, background: str) -> float:
        return next(p90 for bg, _, p90 in self.rows if bg == background)

    def verdict(self) -> str:
        """The checked line: next to CPU-bound threads, the slowest tenth of echoes took longer than one switch
        interval. The slow tail, not the median: on an oversubscribed machine the computing threads spend
        much of their time off a core, waiting for one, without the GIL, and an echo then finds it free.
        Seen under stress-ng plus a compiler on 2 cores: the median fell under 5 ms while the p90 stayed
        far above. Without a GIL it need not hold."""
        if "threads" not in {bg for bg, _, _ in self.rows}:
            return "run the threads background to compare"
        line = (f"next to CPU-bound threads, the slowest tenth of round trips (p90) took longer than one switch "
                f"interval: {self.p90('threads') > self.interval_ms}")
        if not self.gil_enabled:
            line += "\n(this Python runs without a GIL: the echo need not wait for the computing threads)"
        return line

    def __repr__(self) -> str:
        unit = self.interval_ms
        lines = [f"switch interval during the run: {unit:g} ms"]
        lines += [f"{_BACKGROUND.get(bg, bg)}: median round trip {med:.2f} ms = {_count(med / unit)} switch "
                  f"intervals (p90: {_count(p90 / unit)})" for bg, med, p90 in self.rows]
        if self.load is not None:
            lines.append(self.load.note())
        return "\n".join(lines)


def _count(x: float) -> str:
    """A number of intervals: one decimal from 1 up, two significant digits below (0.013, not 0.0)."""
    return f"{x:.1f}" if x >= 1 else f"{x:.2g}"


_BACKGROUND = {"idle": "nothing else running", "threads": "next to CPU-bound threads",
               "processes": "next to CPU-bound processes"}


def convoy_in_intervals(records: Any, load: Any = None) -> ConvoyIntervals:
    """Every round trip of `ConvoyLab.records` counted in switch intervals (the one each run set, from its
    params; Python's default 5 ms where a record does not say). `load`: a `Load` read around the lab's run."""
    records = [r for r in records if len(r.events) >= 2]
    if not records:
        raise ValueError("records: empty; run the ConvoyLab first (lab.run())")
    interval = float(records[0].params.get("switch_interval_ms", 5.0))
    rows = []
    for r in records:
        ms = [(e.collected - e.submit) * 1e3 for e in r.events]
        rows.append((r.backend, statistics.median(ms), statistics.quantiles(ms, n=10, method="inclusive")[-1]))
    return ConvoyIntervals(interval, tuple(rows), all(r.gil_enabled for r in records), load)


def run_with_load(run: Callable[[], Any]) -> Any:
    """Call `run` (a lab's `run`, say) and return what other programs took meanwhile (`load.Load`: `.note()`).
    Our own worker processes count as ours, also those a forkserver started and reaped (`load.our_cpu_s`)."""
    from ..load import LoadMeter as Meter

    meter = Meter()
    run()
    return meter.read()
