"""What a watch saw: per thread and per process, how much CPU time it had used at every sample.

Everything else is computed from that, here, in plain numpy: how busy each lane was between two samples,
when it was on a CPU (intervals), how many cores were busy at once, the parallelism of the whole block,
and whether each lane's total agrees with the OS's own account. Saved and loaded as JSON.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..load import Load

#: A lane counts as on a CPU in a sample interval when it ran for at least this share of it.
ON_CPU_AT = 0.5
#: The check compares totals only for lanes that used at least this much CPU: the OS's own account
#: counts in ticks of 10 ms, too coarse for less.
CHECK_ABOVE_S = 0.2
#: How far a lane's sampled total may be from the OS's account and still agree.
AGREE_WITHIN = 0.05
SCHEMA = 1


@dataclass(frozen=True)
class Lane:
    """One thread of the watched process, or one process under it."""

    name: str
    """As a learner knows it: `MainThread`, `ThreadPoolExecutor-0_1`, `pid 4242 · pool worker (...)`."""
    kind: str
    """"thread" or "process"."""
    pid: int
    thread_id: int
    """The OS's id of the thread (`threading.get_native_id()`); 0 for a process lane."""
    first: int
    """Index of the first sample this lane was seen in."""
    cpu: tuple[float | None, ...]
    """Cumulative CPU seconds at samples `first`, `first + 1`, ...; None once it had ended."""
    os_cpu_s: float | None = None
    """The OS's own account of the CPU it used (tick-based), over part of the block; None if unknown."""
    sampled_cpu_s: float | None = None
    """The sampled CPU over the same part, to compare with `os_cpu_s`."""
    at_exit: bool = False
    """A thread the sampler never saw: it started and ended between two of its looks for new threads.
    Its CPU is the thread's own clock as it ended (`time.thread_time`), spread evenly over its life."""


@dataclass(frozen=True)
class WatchRecord:
    """Every thread of a watched process and every process under it, sampled while a block of code ran."""

    times: tuple[float, ...]
    """Seconds since the first sample, one per sample."""
    lanes: tuple[Lane, ...]
    backend: str
    """"proc" (Linux, nanoseconds from /proc) or "psutil" (the fallback: OS ticks)."""
    sampler_cpu_s: float
    """CPU seconds the sampler itself used while sampling (not the watched program's)."""
    load: Load
    """The machine during the block: the share other programs took."""
    cores: int
    t0_ns: int = 0
    """`time.perf_counter_ns()` at the first sample (the same clock as the runners' records)."""
    code: str = ""
    """What was watched, when the cell magic or the caller said."""
    meta: dict[str, Any] = field(default_factory=dict)

    # -- the block as a whole ---------------------------------------------------------
    @property
    def wall(self) -> float:
        return self.times[-1] - self.times[0] if len(self.times) > 1 else 0.0

    @property
    def rate(self) -> float:
        """Samples per second the sampler achieved."""
        return (len(self.times) - 1) / self.wall if self.wall > 0 else 0.0

    def total(self, lane: Lane) -> float:
        seen = [c for c in lane.cpu if c is not None]
        return seen[-1] - seen[0] if len(seen) > 1 else 0.0

    @property
    def cpu_time(self) -> float:
        return sum(self.total(lane) for lane in self.lanes)

    @property
    def parallelism(self) -> float:
        """CPU seconds per wall second, over every lane: how many cores the block kept busy on average."""
        return self.cpu_time / self.wall if self.wall > 0 else 0.0

    # -- over time ------------------------------------------------------------------------
    def busy(self, lane: Lane) -> np.ndarray:
        """The share of each sample interval the lane was on a CPU (a process can pass 1: several threads)."""
        n = len(self.times)
        cpu = np.full(n, np.nan)
        cpu[lane.first:lane.first + len(lane.cpu)] = [np.nan if c is None else c for c in lane.cpu]
        dt = np.diff(np.asarray(self.times))
        share = np.diff(cpu) / np.where(dt > 0, dt, np.nan)
        return np.clip(np.nan_to_num(share, nan=0.0), 0.0, None)

    def cores_busy(self, window_s: float = 0.0) -> np.ndarray:
        """How many cores the lanes kept busy together, in each sample interval; with `window_s`, each
        value is the mean over the intervals within that many seconds around it."""
        total = np.zeros(max(len(self.times) - 1, 0))
        for lane in self.lanes:
            total += self.busy(lane)
        width = int(round(window_s * self.rate)) if window_s > 0 and self.rate > 0 else 1
        if width > 1 and len(total) >= width:
            total = np.convolve(total, np.ones(width) / width, mode="same")
        return total

    def intervals(self, lane: Lane, at: float = ON_CPU_AT) -> list[tuple[float, float]]:
        """(begin, end) seconds when the lane was on a CPU: runs of sample intervals busy at least `at`."""
        on = self.busy(lane) >= at
        edges = np.flatnonzero(np.diff(np.r_[0, on.astype(int), 0]))
        t = np.asarray(self.times)
        return [(float(t[a]), float(t[b])) for a, b in zip(edges[::2], edges[1::2], strict=True)]

    def active_lanes(self, at_least_s: float = 0.001) -> tuple[Lane, ...]:
        """Lanes that used any CPU to speak of (an idle kernel thread is not worth a lane on a plot)."""
        return tuple(lane for lane in self.lanes if self.total(lane) >= at_least_s)

    # -- honesty -------------------------------------------------------------------------------
    def checks(self) -> list[tuple[str, float, float, bool]]:
        """(lane, sampled s, OS s, agree) for every lane with enough CPU to compare to the OS's account."""
        out = []
        for lane in self.lanes:
            if lane.os_cpu_s is None or lane.sampled_cpu_s is None or lane.os_cpu_s < CHECK_ABOVE_S:
                continue
            agree = abs(lane.sampled_cpu_s - lane.os_cpu_s) <= AGREE_WITHIN * lane.os_cpu_s
            out.append((lane.name, lane.sampled_cpu_s, lane.os_cpu_s, agree))
        return out

    @property
    def agrees(self) -> bool:
        """Whether every lane that could be checked agrees with the OS within 5%."""
        return all(agree for *_, agree in self.checks())

    def summary(self) -> str:
        lines = [f"watched {self.wall:.2f} s: {len(self.active_lanes())} busy lane(s) of {len(self.lanes)}, "
                 f"{self.cpu_time:.2f} CPU s, parallelism {self.parallelism:.2f} (cores busy on average); "
                 f"{self.rate:.0f} samples/s ({self.backend})", self.load.note()]
        short = [lane.name for lane in self.lanes if lane.at_exit]
        if short:
            named = ", ".join(short[:4]) + (", ..." if len(short) > 4 else "")
            lines.append(f"{len(short)} thread(s) lived too briefly to be sampled ({named}): each lane is "
                         "the thread's own CPU clock at its end, spread evenly over its life")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"WatchRecord({self.summary().splitlines()[0]})"

    # -- tables and files ----------------------------------------------------------------------
    def to_dataframe(self) -> Any:
        """One row per lane and sample interval: lane, kind, pid, begin, end, busy (share of the interval)."""
        import pandas as pd

        t = np.asarray(self.times)
        frames = [pd.DataFrame({"lane": lane.name, "kind": lane.kind, "pid": lane.pid, "begin": t[:-1],
                                "end": t[1:], "busy": self.busy(lane)}) for lane in self.lanes]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["lane", "kind", "pid", "begin", "end", "busy"])

    def save(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        data = {"schema": SCHEMA, **asdict(self)}
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: str | os.PathLike) -> WatchRecord:
        """A record written by `save`."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.pop("schema", None) != SCHEMA:
            raise ValueError(f"{path}: not a watch record this version reads")
        data["times"] = tuple(data["times"])
        data["lanes"] = tuple(Lane(**{**lane, "cpu": tuple(lane["cpu"])}) for lane in data["lanes"])
        data["load"] = Load(**data["load"])
        return cls(**data)
