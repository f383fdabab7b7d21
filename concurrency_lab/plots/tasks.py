"""One run's tasks and GIL activity: `timeline` and `activity`, and the lane and
bar helpers `live.LiveTimeline` draws the same plots with."""

from __future__ import annotations

from collections.abc import Sized
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path

from .. import analysis
from ._style import GID, MAX_EDGED_BARS, STATE_COLORS, _dress, _fresh, _label, _legend

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _one_run(df: pd.DataFrame, run_id: str | None) -> pd.DataFrame:
    """The rows of one run: `run_id`'s, or the only run there is."""
    ids = df["run_id"].unique() if "run_id" in df.columns else np.array([""])
    if run_id is None:
        if len(ids) > 1:
            raise ValueError(f"data: holds {len(ids)} runs; pass run_id= one of {', '.join(map(str, ids[:5]))}"
                             f"{', ...' if len(ids) > 5 else ''}")
        return df
    if run_id not in ids:
        raise ValueError(f"run_id: {run_id!r} is not in the data")
    return df[df["run_id"] == run_id]


def _lanes(workers: pd.Series) -> tuple[list[str], np.ndarray]:
    """Worker labels in natural order (w2 before w10, tasks that never ran
    last), and each row's lane number."""
    codes, labels = pd.factorize(workers)
    order = sorted(range(len(labels)), key=lambda i: (labels[i] == "", len(labels[i]), labels[i]))
    lane_of = np.empty(len(labels), dtype=float)
    lane_of[order] = np.arange(len(order))
    return [str(labels[i]) for i in order], lane_of[codes]


#: Path codes of one closed rectangle.
_RECT_CODES = np.array([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY], dtype=Path.code_type)


def _bars(ax: Axes, begin: np.ndarray, end: np.ndarray, lane: np.ndarray, color: str, **kw: Any) -> PathPatch:
    """Horizontal bars, one per row, as ONE path of rectangles: matplotlib makes a
    Python object per item of a collection, so thousands of bars cost tens of ms
    before anything is drawn; one path costs the same for 10 bars or 10,000.

    White edges separate back-to-back tasks; past a few hundred bars each is
    a pixel or two wide, the edges would hide them, and they double the drawing time.
    """
    edges = 0.5 if len(begin) <= MAX_EDGED_BARS else 0.0
    patch = PathPatch(_rect_path(begin, end, lane), facecolor=color, edgecolor="white", linewidth=edges, gid=GID,
                      transform=ax.transData, **kw)
    ax.add_artist(patch)  # not add_patch: limits are set by the caller, and walking 10,000 rectangles is slow
    return patch


def _rect_path(begin: np.ndarray, end: np.ndarray, lane: np.ndarray) -> Path:
    """One path of closed rectangles, [begin, end] x [lane - 0.4, lane + 0.4] each."""
    begin, end, lane = (np.asarray(a, dtype=float) for a in (begin, end, lane))
    y0, y1 = lane - 0.4, lane + 0.4
    corners = ((begin, y0), (begin, y1), (end, y1), (end, y0), (begin, y0))
    verts = np.stack([np.column_stack(c) for c in corners], axis=1).reshape(-1, 2)
    return Path(verts, np.tile(_RECT_CODES, len(begin)))


def bar_count(patch: PathPatch | Sized) -> int:
    """How many bars a timeline or activity path holds (for tests and dashboards);
    any other artist of bars, such as `live.LaneBars`, says so itself: its `len()`."""
    if isinstance(patch, PathPatch):
        return int(np.count_nonzero(patch.get_path().codes == Path.MOVETO))
    return len(patch)


def _lane_axes(ax: Axes, lanes: list[str], labels: list[str], right: float) -> None:
    ax.set_yticks(range(len(lanes)), labels)
    ax.set_ylim(len(lanes) - 0.4, -0.6)  # the first worker on top
    ax.set_xlim(0, right * 1.02 if right > 0 else 1.0)
    ax.grid(False, axis="y")


def _run_title(df: pd.DataFrame, what: str) -> str:
    if "backend" not in df.columns or df.empty:
        return what
    first = {c: df[c].iat[0] for c in ("backend", "start_method", "max_workers")}
    return f"{what}: {_label(first['backend'], first['start_method'], int(first['max_workers']))}"


# -- one run -------------------------------------------------------------------

def _timeline_data(data: Any, run_id: str | None):
    """(frame, lanes, lane per task, ok, start, end) of one run's tasks."""
    df = _one_run(analysis.events(data, "timeline"), run_id)
    lanes, y = _lanes(df["worker"])
    ok = df["ok"].to_numpy(dtype=bool)
    return df, lanes, y, ok, df["start"].to_numpy(dtype=float), df["end"].to_numpy(dtype=float)


def _timeline_right(df: pd.DataFrame, end: np.ndarray) -> float:
    """Where the run's time axis ends: its wall time, or its last task's end."""
    return float(max(df["wall"].max(), end.max())) if len(df) else 0.0


def _activity_data(intervals: Any, run_id: str | None):
    """(frame, lanes, lane per interval, begin, end, running) of one run's intervals."""
    iv = analysis.gil_activity(intervals) if not isinstance(intervals, pd.DataFrame) else intervals
    iv = _one_run(iv, run_id)
    lanes, y = _lanes(iv["worker"])
    begin, end = iv["begin"].to_numpy(dtype=float), iv["end"].to_numpy(dtype=float)
    return iv, lanes, y, begin, end, (iv["state"] == "run").to_numpy(dtype=bool)


def timeline(data: Any, ax: Axes | None = None, *, run_id: str | None = None) -> Axes:
    """Gantt chart of one run: a bar per task from its start to its end, a lane
    per worker, blue when it succeeded, hatched vermillion (with an x at its
    end) when it failed. Gaps in a lane are a worker doing nothing.
    Input: records or the per-task frame of one run (or pass `run_id`).
    Called again on the same axes, it replaces its bars (a live dashboard's redraw)."""
    ax = _fresh(ax)
    df, lanes, y, ok, start, end = _timeline_data(data, run_id)
    _bars(ax, start[ok], end[ok], y[ok], STATE_COLORS["ok"], label="ok")
    handles = [Patch(color=STATE_COLORS["ok"], label="ok")]
    if (~ok).any():
        _bars(ax, start[~ok], end[~ok], y[~ok], STATE_COLORS["failed"], hatch="//", label="failed")
        ax.plot(end[~ok], y[~ok], "x", color=STATE_COLORS["failed"], markersize=10, mew=2.5, label="_failed end",
                gid=GID)
        handles.append(Patch(color=STATE_COLORS["failed"], label="failed"))
    _lane_axes(ax, lanes, [w or "not run" for w in lanes], _timeline_right(df, end))
    _legend(ax, handles)
    _dress(ax, _run_title(df, "Tasks per worker"), "time since the run started (s)", "worker", df.iloc[:1])
    return ax


def activity(intervals: Any, ax: Axes | None = None, *, run_id: str | None = None) -> Axes:
    """Swim lanes of when each worker really ran (green) or waited (orange), from
    `analysis.gil_activity` (a RunRecord of `cpu_traced` tasks is also accepted).
    Two threads under the GIL alternate every ~5 ms; two processes on free cores
    run side by side. Each lane's label gives the share of its time it ran.
    Called again on the same axes, it replaces its bars (a live dashboard's redraw)."""
    ax = _fresh(ax)
    iv, lanes, y, begin, end, running = _activity_data(intervals, run_id)
    _bars(ax, *_task_spans(iv["task"].to_numpy(), begin, end, y), STATE_COLORS["wait"], label="wait")
    _bars(ax, begin[running], end[running], y[running], STATE_COLORS["run"], label="run")
    shares = analysis.lane_run_share(y, begin, end, running, len(lanes))
    labels = [f"{w} ({share:.0%} ran)" for w, share in zip(lanes, shares, strict=True)]
    _lane_axes(ax, lanes, labels, float(end.max()) if len(end) else 0.0)
    _legend(ax, [Patch(color=STATE_COLORS[s], label=t) for s, t in (("run", "running"), ("wait", "waiting"))])
    _dress(ax, _run_title(iv, "When each worker ran"), "time since the run started (s)", "worker", iv.iloc[:1])
    return ax


def _task_spans(task: np.ndarray, begin: np.ndarray, end: np.ndarray,
                lane: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(begin, end, lane) of each task's whole traced stretch.

    Drawn in the waiting colour under the running stretches, it shows the
    waits with a third fewer rectangles than drawing every wait on its own.
    """
    order = np.argsort(task, kind="stable")
    first = np.flatnonzero(np.r_[True, np.diff(task[order]) != 0])
    return (np.minimum.reduceat(begin[order], first), np.maximum.reduceat(end[order], first), lane[order][first])
