"""When each worker really ran: run and wait intervals from `workloads.cpu_traced`'s samples, and their shares.

Pure numpy and pandas, like `analysis`, which re-exports these functions: the
live timeline (`live`) and `plots.activity` call them on every redraw.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .records import RunRecord, TaskEvent

#: Run columns carried into per-run results so they can be labelled and captioned.
RUN_INFO: tuple[str, ...] = ("run_id", "backend", "start_method", "max_workers", "workload")
#: The machine columns a plot caption is made from.
MACHINE: tuple[str, ...] = ("machine", "cores_logical", "cores_physical", "cores_usable",
                            "python_version", "implementation", "gil_enabled")
#: A gap between two `cpu_traced` samples longer than this means the worker was
#: not running: 4x the 0.5 ms sampling period, well under the GIL's 5 ms switch interval.
DEFAULT_WAIT_GAP_S = 0.002

Traced = RunRecord | Iterable[tuple[TaskEvent, Sequence[int]]]


def gil_activity(source: Traced, *, wait_gap: float = DEFAULT_WAIT_GAP_S) -> pd.DataFrame:
    """Run and wait intervals per worker, from `workloads.cpu_traced` samples.

    `source` is a RunRecord of `cpu_traced` tasks (its `results` are the
    samples, so a record loaded from a file, which has none, will not do), or
    pairs of (TaskEvent, samples). Samples are ns since the task's first one,
    placed at the event's `start`. Between samples the worker either ran (the
    gap is the ~0.5 ms sampling period) or waited: a gap above `wait_gap`
    seconds means something else had the GIL, or the core. Waits shorter than
    `wait_gap` count as running: that is the resolution.

    One row per interval: run_id, worker, task, state ("run" or "wait"),
    begin, end (seconds since the run started), and the record's run and
    machine columns when a record was given (for labels and captions).
    """
    if wait_gap <= 0:
        raise ValueError(f"wait_gap: {wait_gap!r} is out of range; allowed: > 0 seconds")
    pairs, info = _traced_pairs(source)
    frames = [_task_intervals(ev, samples, wait_gap) for ev, samples in pairs]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_INTERVAL_COLUMNS)
    for column, value in info.items():
        out[column] = value
    return out


_INTERVAL_COLUMNS = ["worker", "task", "state", "begin", "end"]


def _traced_pairs(source: Traced) -> tuple[list[tuple[TaskEvent, Sequence[int]]], dict[str, Any]]:
    if not isinstance(source, RunRecord):
        return [(ev, s) for ev, s in source if ev.ok and s is not None and len(s) > 1], {"run_id": ""}
    if len(source.results) != len(source.events):
        raise ValueError("source: this record has no results (records loaded from a file keep none); "
                         "gil_activity needs the samples cpu_traced returned")
    info = {c: getattr(source, c) for c in (*RUN_INFO, *MACHINE)}
    pairs = [(ev, s) for ev, s in zip(source.events, source.results, strict=True)
             if ev.ok and isinstance(s, (list, tuple)) and len(s) > 1]
    return pairs, info


def _task_intervals(ev: TaskEvent, samples: Sequence[int], wait_gap: float) -> pd.DataFrame:
    """Consecutive samples of one task, merged into alternating run/wait stretches."""
    t = ev.start + np.asarray(samples, dtype=float) / 1e9
    waiting = np.diff(t) > wait_gap
    change = np.flatnonzero(waiting[1:] != waiting[:-1]) + 1
    first, last = np.r_[0, change], np.r_[change, len(waiting)]
    return pd.DataFrame({"worker": ev.worker, "task": ev.index, "state": np.where(waiting[first], "wait", "run"),
                         "begin": t[first], "end": t[last]})


def run_share(intervals: pd.DataFrame) -> pd.DataFrame:
    """Per run and worker: seconds `run` and `wait`, `observed` (their sum: the
    time its traced tasks lasted) and `share` = run / observed, the fraction of
    its time the worker actually ran. Under the GIL two busy threads share ~0.5
    each; two processes on two free cores ~1.0 each. Input: `gil_activity()`."""
    seconds = (intervals["end"] - intervals["begin"]).to_numpy(dtype=float)
    running = (intervals["state"] == "run").to_numpy()
    keys = [c for c in ("run_id", "worker") if c in intervals.columns]
    d = intervals[keys].assign(run=np.where(running, seconds, 0.0), wait=np.where(running, 0.0, seconds))
    out = d.groupby(keys, sort=True)[["run", "wait"]].sum().reset_index()  # a live plot calls this per redraw
    out["observed"] = out["run"] + out["wait"]
    out["share"] = out["run"] / out["observed"]
    return out


def lane_run_share(lane: np.ndarray, begin: np.ndarray, end: np.ndarray, running: np.ndarray,
                   n: int) -> np.ndarray:
    """`run_share`'s share for the intervals of ONE run, per lane: interval i lies in
    lane[i] (0 to n - 1: its worker's row in a plot), spans [begin[i], end[i]] and
    ran if running[i]. n shares, NaN for a lane without time. numpy only: a live
    plot calls this on every redraw (~0.05 ms for 4,000 intervals, where
    `run_share`'s groupby takes ~7 ms)."""
    lane, seconds = np.asarray(lane).astype(int), np.asarray(end, dtype=float) - np.asarray(begin, dtype=float)
    ran = np.bincount(lane, weights=np.where(running, seconds, 0.0), minlength=n)
    seen = np.bincount(lane, weights=seconds, minlength=n)
    return np.divide(ran, seen, out=np.full(n, np.nan), where=seen > 0)
