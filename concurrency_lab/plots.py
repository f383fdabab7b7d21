"""Plots: matplotlib only, each `f(data, ax=None) -> Axes`. No numbers are computed here.

Every function takes what `analysis` takes (records, the per-task frame or the
per-run frame; `activity` takes `analysis.gil_activity`'s intervals), asks
`analysis` for the numbers, and draws them. Pass `ax` to draw into your own
figure (a dashboard redraws into the same axes); leave it out for a new figure.

Made for a projector: 14 pt text, the Okabe-Ito colour-blind-safe palette,
units on every axis, and a caption under each plot naming the machine (cores,
Python, GIL on/off) the numbers came from, read from the data itself, so a
recorded sweep replayed in class says where it was measured.

Bars for tasks and intervals are one path of rectangles per colour, not one
patch per task, and calling `timeline` or `activity` again on the same axes
replaces what it drew there (cheaper than `ax.clear()`): benchmarks/plots.py
times a dashboard's redraw of 1,000 tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.artist import Artist
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path

from . import analysis

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
OKABE_ITO: dict[str, str] = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
}
PALETTE: tuple[str, ...] = tuple(OKABE_ITO[k] for k in ("blue", "vermillion", "bluish_green", "orange",
                                                         "reddish_purple", "sky_blue", "yellow", "black"))
#: One colour per backend, the same in every plot, so a learner can follow "threads" across a lesson.
BACKEND_COLORS: dict[str, str] = {
    "sequential": OKABE_ITO["black"], "threads": OKABE_ITO["blue"], "processes": OKABE_ITO["vermillion"],
    "asyncio": OKABE_ITO["bluish_green"], "interpreters": OKABE_ITO["reddish_purple"], "dask": OKABE_ITO["sky_blue"],
    "idle": OKABE_ITO["black"],  # ConvoyLab: no background work, the baseline
}
#: Start methods differ by line style and marker, so colour stays the backend's.
METHOD_STYLES: dict[str, tuple[str, str]] = {"": ("-", "o"), "fork": ("-", "o"), "forkserver": ("--", "s"),
                                             "spawn": (":", "^")}
STATE_COLORS = {"ok": OKABE_ITO["blue"], "failed": OKABE_ITO["vermillion"],
                "run": OKABE_ITO["bluish_green"], "wait": OKABE_ITO["orange"]}
OVERHEAD_COLORS = dict(zip(analysis.OVERHEAD, (OKABE_ITO["black"], OKABE_ITO["sky_blue"], OKABE_ITO["orange"],
                                               OKABE_ITO["blue"], OKABE_ITO["reddish_purple"]), strict=True))
FONT_SIZE = 14
#: rcParams for figures made here; `use_style()` applies them to your own figures too.
STYLE: dict[str, Any] = {
    "font.size": FONT_SIZE, "axes.titlesize": FONT_SIZE + 2, "axes.labelsize": FONT_SIZE,
    "xtick.labelsize": FONT_SIZE - 1, "ytick.labelsize": FONT_SIZE - 1, "legend.fontsize": FONT_SIZE - 2,
    "axes.prop_cycle": cycler(color=PALETTE), "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.3, "lines.linewidth": 2.5, "lines.markersize": 8,
    "figure.figsize": (10, 5.5), "legend.frameon": False,
}
CAPTION_SIZE = FONT_SIZE - 2
#: Bars drawn with separating edges up to this many (see `_bars`).
MAX_EDGED_BARS = 200


def use_style() -> None:
    """Make every later matplotlib figure projector-readable (updates rcParams)."""
    mpl.rcParams.update(STYLE)


# -- shared pieces -------------------------------------------------------------

def _axes(ax: Axes | None) -> Axes:
    """The caller's axes, or a new figure made with STYLE (pyplot, so notebooks show it)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    with mpl.rc_context(STYLE):
        _, ax = plt.subplots(layout="constrained")
        # The first figure in a Jupyter kernel loads the inline backend, which switches interactive
        # mode on; rc_context would undo that on exit, and no later figure would show by itself.
        interactive = mpl.is_interactive()
    mpl.interactive(interactive)
    return ax


#: Marks the artists a plot function draws, so drawing again on the same axes replaces them.
GID = "concurrency-lab"


def _fresh(ax: Axes | None) -> Axes:
    """The axes to draw on, without what an earlier call drew there.

    Removing only our own artists keeps the axes' ticks and spines, which
    `ax.clear()` rebuilds at a cost of 10-20 ms: a dashboard that redraws after
    every few events just calls the plot function again on the same axes.
    """
    ax = _axes(ax)
    for artist in [*ax.patches, *ax.lines, *ax.texts]:
        if artist.get_gid() == GID:
            artist.remove()
    return ax


def _dress(ax: Axes, title: str, xlabel: str, ylabel: str, data: pd.DataFrame | None) -> None:
    """Title, labels with units, large ticks and the machine caption, on any axes."""
    ax.set_title(title, fontsize=FONT_SIZE + 2, y=1.0, pad=10)  # a fixed y skips a costly search per draw
    ax.set_xlabel(xlabel, fontsize=FONT_SIZE)
    ax.set_ylabel(ylabel, fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE - 1)
    ax.spines[["top", "right"]].set_visible(False)
    text = caption(data) if data is not None else ""
    if text:
        for old in [t for t in ax.texts if t.get_gid() == GID]:
            old.remove()
        # Under the x label: ticks, tick labels, the label and their pads, in points.
        below = 3.5 + 3.5 + 1.2 * (FONT_SIZE - 1) + 4 + 1.2 * FONT_SIZE + 6
        ax.annotate(text, xy=(0, 0), xycoords="axes fraction", xytext=(0, -below), textcoords="offset points",
                    ha="left", va="top", fontsize=CAPTION_SIZE, color="0.35", gid=GID)


def caption(data: Any) -> str:
    """One line naming the machine(s) behind the data: CPU, cores, Python, GIL.

    Read from the data's own columns, never from the machine drawing the plot.
    """
    df = analysis.tasks(data) if not isinstance(data, pd.DataFrame) else data
    if not set(analysis.MACHINE) <= set(df.columns) or df.empty:
        return ""
    # Plain Python, not drop_duplicates: a live plot captions every redraw, and this is 10x faster.
    machines = dict.fromkeys(zip(*(df[c].tolist() for c in analysis.MACHINE), strict=True))
    return " | ".join(_machine_line(*m) for m in machines)


def _machine_line(machine: str, logical: int, physical: int, usable: int, python: str, implementation: str,
                  gil_enabled: bool) -> str:
    gil = "GIL on" if bool(gil_enabled) else "GIL off (free-threaded)"
    usable_text = f", {usable} usable" if usable != logical else ""
    return (f"{machine} · {logical} logical cores ({physical} physical{usable_text}) · "
            f"{implementation} {python} · {gil}")


def _label(backend: str, start_method: str = "", max_workers: int | None = None) -> str:
    text = f"{backend} ({start_method})" if start_method else backend
    return text if max_workers is None else f"{text} ×{max_workers}"


def _style_of(backend: str, start_method: str, i: int) -> dict[str, Any]:
    linestyle, marker = METHOD_STYLES.get(start_method, ("-", "D"))
    color = BACKEND_COLORS.get(backend, PALETTE[i % len(PALETTE)])
    return {"color": color, "linestyle": linestyle, "marker": marker}


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


def bar_count(patch: PathPatch | LaneBars) -> int:
    """How many bars a timeline or activity path (or `LaneBars`) holds (for tests and dashboards)."""
    if isinstance(patch, LaneBars):
        return len(patch)
    return int(np.count_nonzero(patch.get_path().codes == Path.MOVETO))


def _lane_axes(ax: Axes, lanes: list[str], labels: list[str], right: float) -> None:
    ax.set_yticks(range(len(lanes)), labels)
    ax.set_ylim(len(lanes) - 0.4, -0.6)  # the first worker on top
    ax.set_xlim(0, right * 1.02 if right > 0 else 1.0)
    ax.grid(False, axis="y")


def _legend(ax: Axes, handles: list[Patch]) -> None:
    """A legend of `handles`, kept as it is when a redraw would make the same one."""
    old = ax.get_legend()
    if old is None or [t.get_text() for t in old.get_texts()] != [h.get_label() for h in handles]:
        ax.legend(handles=handles, loc="upper right", fontsize=FONT_SIZE - 2)


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
    shares = _shares(y, end - begin, running, len(lanes))
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


def _shares(lane: np.ndarray, seconds: np.ndarray, running: np.ndarray, n: int) -> np.ndarray:
    """`analysis.run_share` per lane of one run, in numpy: it runs on every redraw."""
    lane = lane.astype(int)
    ran = np.bincount(lane, weights=np.where(running, seconds, 0.0), minlength=n)
    seen = np.bincount(lane, weights=seconds, minlength=n)
    return np.divide(ran, seen, out=np.full(n, np.nan), where=seen > 0)


# -- a live dashboard's figure -------------------------------------------------

def _coverage(begin: np.ndarray, end: np.ndarray, n: int) -> np.ndarray:
    """How much of each of `n` unit cells [c, c + 1) the intervals [begin, end] cover
    (intervals in cell units, clipped to [0, n]; overlaps add up), in O(intervals + n)."""
    # F(c) = sum of (c - a) over the ends a below c, +1 for begins and -1 for ends: the covered length below c.
    a = np.concatenate([begin, end])
    w = np.concatenate([np.ones(len(begin)), -np.ones(len(end))])
    k = np.floor(a).astype(np.intp) + 1
    count = np.cumsum(np.bincount(k, weights=w, minlength=n + 2))
    total = np.cumsum(np.bincount(k, weights=w * a, minlength=n + 2))
    below = np.arange(len(count)) * count - total
    return np.diff(below)[:n]


class LaneBars(Artist):
    """Horizontal bars [begin, end] x [lane - 0.4, lane + 0.4], drawn by how much
    of each pixel they cover: the picture a path of rectangles gives (an
    antialiased bar per task; a pixel half covered is half coloured), at a cost
    that does not grow with the bars. Agg spends ~10 ms per 1,000 rectangles,
    whose edges it rasterises on every pixel row of their lane; here numpy
    sums each lane's cover per pixel column and the lane is pasted as one image.

    No edges and no hatch: `LiveTimeline` draws up to MAX_EDGED_BARS bars as a
    `PathPatch`, as `timeline` does, and more with this.
    """

    def __init__(self, color: Any, *, height: float = 0.8, **kwargs: Any) -> None:
        super().__init__()
        self._rgba = np.array(mpl.colors.to_rgba(color))
        self.height = height
        self._data = (np.empty(0), np.empty(0), np.empty(0))
        self.set(**kwargs)

    def set_data(self, begin: Any, end: Any, lane: Any) -> None:
        """The bars: their begin and end (x, data units) and lane (y: bar centres)."""
        self._data = tuple(np.asarray(a, dtype=float).ravel() for a in (begin, end, lane))
        if not len(self._data[0]) == len(self._data[1]) == len(self._data[2]):
            raise ValueError("begin, end, lane: need the same length")
        self.stale = True

    def get_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(begin, end, lane) of every bar."""
        return self._data

    def get_facecolor(self) -> tuple[float, float, float, float]:
        return tuple(self._rgba)

    def __len__(self) -> int:
        return len(self._data[0])

    def draw(self, renderer) -> None:
        ax = self.axes
        if not self.get_visible() or ax is None or not len(self):
            return
        begin, end, lane = self._data
        box = ax.bbox
        left, right = int(np.floor(box.x0)), int(np.ceil(box.x1))
        width = right - left
        x = ax.transData.transform(np.column_stack([np.r_[begin, end], np.r_[lane, lane]]))[:, 0] - left
        x = np.clip(x, 0, width)
        xb, xe = np.minimum(x[:len(begin)], x[len(begin):]), np.maximum(x[:len(begin)], x[len(begin):])
        keep = np.isfinite(xb) & np.isfinite(xe) & (xe > xb)
        values, which = np.unique(lane[keep], return_inverse=True)
        if not len(values):
            return
        # Each lane's cover of each pixel column, all lanes at once: lane i's cells start at i * (width + 2).
        step = width + 2
        cols = _coverage(xb[keep] + which * step, xe[keep] + which * step, len(values) * step)
        cols = np.clip(cols.reshape(len(values), step)[:, :width], 0.0, 1.0)
        ys = ax.transData.transform(np.column_stack([np.r_[values, values],
                                                     np.r_[values - self.height / 2, values + self.height / 2]]))
        y0, y1 = np.minimum(ys[:len(values), 1], ys[len(values):, 1]), np.maximum(ys[:len(values), 1],
                                                                                   ys[len(values):, 1])
        bottom, top = int(np.floor(y0.min())), int(np.ceil(y1.max()))
        # Each pixel row's cover by each lane's band (rows from the bottom: Agg takes the bottom row first).
        rows = np.clip(np.minimum(y1[None, :], np.arange(bottom + 1, top + 1)[:, None])
                       - np.maximum(y0[None, :], np.arange(bottom, top)[:, None]), 0.0, 1.0)
        alpha = self._rgba[3] * (1.0 if self.get_alpha() is None else self.get_alpha())
        # A row is a lane's row of column covers times the share of the row in the band (1 inside it): make
        # each distinct row once, then the image by indexing (a tenth of the work of a full (rows, columns) product).
        band = rows.argmax(axis=1)
        share = np.round(rows[np.arange(len(rows)), band] * 255).astype(np.intp)
        kinds, row_kind = np.unique(band * 256 + share, return_inverse=True)
        cover = (kinds % 256)[:, None] / 255 * cols[kinds // 256]
        rgb = np.round(self._rgba[:3] * 255).astype(np.uint32)
        table = (rgb[0] | rgb[1] << 8 | rgb[2] << 16) | (np.round(cover * (alpha * 255)).astype(np.uint32) << 24)
        pixels = table[row_kind.ravel()]
        image = pixels.astype("<u4").view(np.uint8).reshape(top - bottom, width, 4)
        gc = renderer.new_gc()
        self._set_gc_clip(gc)
        renderer.draw_image(gc, left, bottom, image)
        gc.restore()
        self.stale = False


def _nice_ceil(x: float) -> float:
    """The smallest 1, 2 or 5 x 10^k at or above `x` (1.0 for nothing): time axes grow
    by these steps, so a live run that keeps getting longer re-lays its axes out rarely."""
    if not x > 0 or not np.isfinite(x):
        return 1.0
    scale = 10.0 ** np.floor(np.log10(x))
    return float(next(m * scale for m in (1.0, 2.0, 5.0, 10.0) if m * scale >= x * (1 - 1e-12)))


class LiveTimeline:
    """The `timeline` (and `activity`) of one run in one figure made once, for a
    dashboard that redraws while the run goes on: `update(...)`, then show `png()`.

    A matplotlib redraw costs in text (each tick label, label, title and caption
    is laid out and rendered again: ~130 ms for both plots even with 10 tasks)
    and in bars (Agg: ~10 ms per 1,000 rectangles). Here the axes, ticks,
    labels, legends, titles and captions are rendered once into a background
    bitmap; an update pastes that bitmap back and draws only the data on it:
    the bars (`LaneBars` past MAX_EDGED_BARS of them, a cost that does not grow
    with the tasks), the failed tasks' end marks, the activity lanes' labels
    (their "% ran" changes with the data; each label's pixels are kept, so a
    label already seen is pasted, not rendered) and the legends on top (pasted).

    The background is rendered again, with a fresh layout, only when what it
    shows changes: the lanes, the run, a first failure, or a time axis that
    the data outgrows; that axis then grows to the next 1, 2 or 5 x 10^k
    seconds, so a run 1,000 times longer than its first task re-lays out
    about ten times. `update(..., blit=False)` renders everything every time.

    The plots are `timeline`'s and `activity`'s, except that both time axes
    end at the same round number (the panels line up) and the legends are
    opaque. Not pyplot: a notebook does not show this figure by itself; put
    `png()` in an `ipywidgets.Image(format="png")`.
    """

    _SERIES = (("ok", "timeline"), ("failed", "timeline"), ("wait", "activity"), ("run", "activity"))

    def __init__(self, *, activity: bool = True, dpi: float = 100.0, width: float = 10.0) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        n = 2 if activity else 1
        with mpl.rc_context(STYLE):
            self.figure = Figure(figsize=(width, 5.0 * n), dpi=dpi)
            FigureCanvasAgg(self.figure)
            axes = list(self.figure.subplots(n, 1, squeeze=False)[:, 0])
            self._tick_offset = mpl.rcParams["ytick.major.size"] + mpl.rcParams["ytick.major.pad"]
        #: The timeline's axes and, when `activity`, the activity panel's (else None).
        self.timeline_ax: Axes = axes[0]
        self.activity_ax: Axes | None = axes[1] if activity else None
        self._paths: dict[str, PathPatch] = {}
        self._covers: dict[str, LaneBars] = {}
        for name, panel in self._SERIES:
            ax = self.timeline_ax if panel == "timeline" else self.activity_ax
            if ax is None:
                continue
            kw = {"hatch": "//"} if name == "failed" else {}
            self._paths[name] = PathPatch(_rect_path([], [], []), facecolor=STATE_COLORS[name], edgecolor="white",
                                          linewidth=0, gid=GID, transform=ax.transData, animated=True, label=name,
                                          **kw)
            self._covers[name] = LaneBars(STATE_COLORS[name], gid=GID, animated=True, label=name)
            ax.add_artist(self._paths[name])
            ax.add_artist(self._covers[name])
        #: The failed tasks' end marks (an x each), as in `timeline`.
        (self.failed_end,) = self.timeline_ax.plot([], [], "x", color=STATE_COLORS["failed"], markersize=10,
                                                   mew=2.5, label="_failed end", gid=GID, animated=True)
        #: The activity panel's lane labels, "w0 (50% ran)", one Text per lane.
        self.lane_labels: list = []
        #: How many times the background was rendered (a re-layout): the first update's, and each change.
        self.relayouts = 0
        self._key: tuple | None = None
        self._xmax = 0.0
        self._background = None
        self._legends: list = []  # the legends' pixels, pasted over the data
        self._label_pixels: dict[tuple[int, str], Any] = {}

    # -- the public loop -----------------------------------------------------

    def update(self, data: Any, intervals: Any = None, *, run_id: str | None = None,
               blit: bool = True) -> LiveTimeline:
        """Draw `data` (what `timeline` takes) and `intervals` (what `activity`
        takes; None: none yet) onto the figure's canvas; returns self, so
        `live.update(df, iv).png()` makes one frame. blit=False renders every
        artist again (what a redraw costs without the kept background)."""
        df, lanes, y, ok, start, end = _timeline_data(data, run_id)
        right = _timeline_right(df, end)
        act = None
        if self.activity_ax is not None:
            empty = pd.DataFrame({"worker": [], "task": [], "state": [], "begin": [], "end": []})
            act = _activity_data(empty, None) if intervals is None else _activity_data(intervals, run_id)
            if len(act[4]):
                right = max(right, float(np.nanmax(act[4])))
        key = self._static_key(df, lanes, ok, act)
        canvas = self.figure.canvas
        if key != self._key or right * 1.02 > self._xmax:
            self._xmax = _nice_ceil(right * 1.02)
            self._relayout(df, lanes, ok, act, key)
        elif blit:
            canvas.restore_region(self._background)
        else:
            canvas.draw()  # everything but the data, which is animated
        self._set_data(lanes, y, ok, start, end, act)
        for artist in self._data_artists():
            artist.axes.draw_artist(artist)
        for i, text in enumerate(self.lane_labels):
            pixels = self._label_pixels.get((i, text.get_text())) if blit else None
            if pixels is None:
                text.axes.draw_artist(text)
                box = text.get_window_extent(canvas.get_renderer()).padded(2)
                self._label_pixels[i, text.get_text()] = canvas.copy_from_bbox(box)
            else:
                canvas.restore_region(pixels)
        for legend, pixels in self._legends:
            if blit:
                canvas.restore_region(pixels)
            else:
                legend.axes.draw_artist(legend)
        return self

    def bars(self, name: str) -> PathPatch | LaneBars:
        """The artist drawing one series of bars: "ok" or "failed" (timeline),
        "wait" or "run" (activity): a `PathPatch` of rectangles as `timeline`
        draws, with edges, up to MAX_EDGED_BARS bars; a `LaneBars` past that."""
        path, cover = self._paths[name], self._covers[name]
        return path if path.get_visible() else cover

    def rgba(self) -> np.ndarray:
        """The canvas's pixels, (height, width, 4) uint8: a view the next update overwrites."""
        return np.asarray(self.figure.canvas.buffer_rgba())

    def png(self, compress_level: int = 1) -> bytes:
        """The canvas as PNG bytes, RGB (the figure is opaque). zlib level 1: ~2x
        faster than matplotlib's 6, for a larger file (~100 KiB for 1,000 tasks)."""
        import io

        from PIL import Image

        width, height = self.figure.canvas.get_width_height()
        out = io.BytesIO()
        image = Image.frombuffer("RGBA", (width, height), self.figure.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        image.convert("RGB").save(out, format="png", compress_level=compress_level)
        return out.getvalue()

    # -- inside ------------------------------------------------------------

    def _data_artists(self) -> list:
        drawn = [self.bars(name) for name, _ in self._SERIES if name in self._paths]
        return [*drawn[:2], self.failed_end, *drawn[2:]]

    def _static_key(self, df: pd.DataFrame, lanes: list[str], ok: np.ndarray, act) -> tuple:
        """What the background shows, but the time axis."""
        run = df["run_id"].iat[0] if "run_id" in df.columns and len(df) else None
        key: tuple = (tuple(lanes), _run_title(df, "Tasks per worker"), caption(df.iloc[:1]), bool((~ok).any()),
                      run)
        if act is not None:
            key += (tuple(act[1]), _run_title(act[0], "When each worker ran"), caption(act[0].iloc[:1]))
        return key

    def _relayout(self, df: pd.DataFrame, lanes: list[str], ok: np.ndarray, act, key: tuple) -> None:
        """Set the axes up, lay the figure out and render it without its data: the new background."""
        from matplotlib.transforms import ScaledTranslation, blended_transform_factory

        legends = []
        ax = self.timeline_ax
        _lane_axes(ax, lanes, [w or "not run" for w in lanes], 0.0)
        legends.append((ax, [("ok", "ok"), *([("failed", "failed")] if (~ok).any() else [])]))
        _dress(ax, key[1], "time since the run started (s)", "worker", df.iloc[:1])
        for label in self.lane_labels:
            label.remove()
        self.lane_labels, self._label_pixels = [], {}
        if act is not None and self.activity_ax is not None:
            ax, (iv, act_lanes) = self.activity_ax, act[:2]
            # The widest labels lay the figure out, transparent: `lane_labels` are drawn over them.
            _lane_axes(ax, act_lanes, [f"{w} (100% ran)" for w in act_lanes], 0.0)
            ax.tick_params(axis="y", labelcolor=(0, 0, 0, 0))
            legends.append((ax, [("run", "running"), ("wait", "waiting")]))
            _dress(ax, key[6], "time since the run started (s)", "worker", iv.iloc[:1])
            at = blended_transform_factory(ax.transAxes, ax.transData) + ScaledTranslation(
                -self._tick_offset / 72, 0, self.figure.dpi_scale_trans)
            self.lane_labels = [ax.text(0, i, "", transform=at, ha="right", va="center", fontsize=FONT_SIZE - 1,
                                        animated=True, gid=f"{GID}-lane") for i in range(len(act_lanes))]
        for ax, entries in legends:
            ax.legend(handles=[Patch(color=STATE_COLORS[s], label=t) for s, t in entries], loc="upper right",
                      fontsize=FONT_SIZE - 2, frameon=True, framealpha=1.0)
            ax.set_xlim(0, self._xmax)
        self.figure.set_layout_engine("constrained")
        self.figure.canvas.draw()  # lays out, and renders all but the animated data
        self.figure.set_layout_engine("none")  # later full redraws keep this layout
        self._background = self.figure.canvas.copy_from_bbox(self.figure.bbox)
        self._legends = [(ax.get_legend(), self.figure.canvas.copy_from_bbox(ax.get_legend().get_window_extent()))
                         for ax, _ in legends]
        for legend, _ in self._legends:
            legend.set_animated(True)  # drawn over the data, not under it
        self._key = key
        self.relayouts += 1

    def _show(self, name: str, begin: np.ndarray, end: np.ndarray, lane: np.ndarray) -> None:
        path, cover = self._paths[name], self._covers[name]
        few = len(begin) <= MAX_EDGED_BARS
        path.set_visible(few)
        cover.set_visible(not few)
        if few:
            path.set_path(_rect_path(begin, end, lane))
            path.set_linewidth(0.5)
        else:
            cover.set_data(begin, end, lane)

    def _set_data(self, lanes: list[str], y: np.ndarray, ok: np.ndarray, start: np.ndarray, end: np.ndarray,
                  act) -> None:
        self._show("ok", start[ok], end[ok], y[ok])
        self._show("failed", start[~ok], end[~ok], y[~ok])
        self.failed_end.set_data(end[~ok], y[~ok])
        if act is None:
            return
        iv, act_lanes, lane, begin, end, running = act
        spans = _task_spans(iv["task"].to_numpy(), begin, end, lane) if len(begin) else ([], [], [])
        self._show("wait", *(np.asarray(a, dtype=float) for a in spans))
        self._show("run", begin[running], end[running], lane[running])
        shares = _shares(lane, end - begin, running, len(act_lanes))
        for text, w, share in zip(self.lane_labels, act_lanes, shares, strict=True):
            text.set_text(f"{w} ({share:.0%} ran)")


# -- sweeps --------------------------------------------------------------------

def _curves(table: pd.DataFrame):
    """(label, style, rows) per backend curve, skipping the sequential baseline."""
    table = table[table["backend"] != "sequential"]
    several = table["workload"].nunique() > 1 or table["work"].nunique() > 1
    for i, (key, rows) in enumerate(table.groupby(list(analysis.CURVE), sort=True)):
        workload, work, backend, method = key
        label = _label(backend, method) + (f", {workload} {work}" if several else "")
        yield key, label, _style_of(backend, method, i), rows.sort_values("max_workers")


def speedup(data: Any, ax: Axes | None = None, *, cold: bool = False, model: str = "amdahl",
            fit: bool = True, recorded: Any = None) -> Axes:
    """Speedup against sequential vs workers: one line per backend (median of
    repeats, bars from min to max), the ideal y = n, and the fitted Amdahl curve
    (or Gustafson's, with `model="gustafson"`, for fixed work per worker).
    Input: records or either frame, with the sequential runs.

    `recorded`: a `replay.Recording` drawn beside, hollow and thin, each curve marked
    "(recorded)" and the axes noting where and when it was recorded."""
    ax, df = _axes(ax), analysis.tasks(data)
    table = analysis.speedup(df, cold=cold)
    fits = _fits(df, cold, model) if fit else {}
    past = analysis.speedup(list(recorded.records), cold=cold) if recorded is not None else table.iloc[:0]
    top = int(max(table["max_workers"].max() if len(table) else 1, past["max_workers"].max() if len(past) else 1))
    ax.plot([1, top], [1, top], color="0.5", linestyle=":", linewidth=2, label="ideal (n×)")
    for key, label, style, rows in _curves(table):
        n, s = rows["max_workers"].to_numpy(), rows["speedup"].to_numpy()
        err = np.vstack([s - rows["speedup_min"], rows["speedup_max"] - s])
        ax.errorbar(n, s, yerr=np.clip(err, 0, None), capsize=4, label=label, **style)
        if key in fits:
            _fit_line(ax, fits[key], top, style["color"], model, label)
    if recorded is not None:
        _recorded_curves(ax, past, recorded.label)
    ax.set_xticks(sorted(set(table["max_workers"]) | set(past["max_workers"])))
    ax.legend(loc="upper left", fontsize=FONT_SIZE - 2)
    what = "scaled speedup" if model == "gustafson" else "speedup"
    _dress(ax, f"{what.capitalize()} vs workers ({table['basis'].iloc[0] if len(table) else ''})",
           "workers (max_workers)", f"{what} over sequential (×)", df)
    return ax


def _recorded_curves(ax: Axes, table: pd.DataFrame, label: str) -> None:
    """A recording's curves: its backends' colours, hollow markers, thin lines; never mistaken for live ones."""
    for _key, name, style, rows in _curves(table):
        ax.plot(rows["max_workers"], rows["speedup"], color=style["color"], marker=style["marker"],
                linestyle="-", linewidth=1, markerfacecolor="none", alpha=0.8, label=f"{name} (recorded)")
    ax.text(0.99, 0.02, label, transform=ax.transAxes, ha="right", va="bottom", fontsize=FONT_SIZE - 3,
            color="0.3", style="italic")


def _fits(data: Any, cold: bool, model: str) -> dict[tuple, pd.Series]:
    fitter = {"amdahl": analysis.fit_amdahl, "gustafson": analysis.fit_gustafson}[model]
    table = fitter(data, cold=cold)
    return {tuple(row[list(analysis.CURVE)]): row for _, row in table.iterrows()}


def _fit_line(ax: Axes, row: pd.Series, top: int, color: str, model: str, label: str) -> None:
    n = np.linspace(1, max(top, 2), 100)
    law = analysis.amdahl if model == "amdahl" else analysis.gustafson
    ax.plot(n, law(n, row["s"]), color=color, linestyle="--", linewidth=1.5, alpha=0.8,
            label=f"{label}: {model.capitalize()} s = {row['s']:.2f} [{row['s_low']:.2f}–{row['s_high']:.2f}]")


def efficiency(data: Any, ax: Axes | None = None, *, cold: bool = False) -> Axes:
    """Efficiency (speedup / workers) vs workers, one line per backend: 1.0 means
    every worker was fully useful; threads on pure Python fall as 1/n."""
    ax, df = _axes(ax), analysis.tasks(data)
    table = analysis.efficiency(df, cold=cold)
    ax.axhline(1.0, color="0.5", linestyle=":", linewidth=2, label="ideal")
    for _, label, style, rows in _curves(table):
        ax.plot(rows["max_workers"], rows["efficiency"], label=label, **style)
    ax.set_xticks(sorted(table["max_workers"].unique()))
    ax.set_ylim(0, max(1.1, float(table["efficiency"].max(skipna=True) or 0) * 1.1))
    ax.legend(loc="lower left", fontsize=FONT_SIZE - 2)
    _dress(ax, "Efficiency vs workers", "workers (max_workers)", "efficiency (speedup / workers)", df)
    return ax


def _by_config(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Median over repeats per (backend, start_method, max_workers); sequential first."""
    keys = ["backend", "start_method", "max_workers"]
    med = table.groupby(keys, sort=True)[list(columns)].median().reset_index()
    med = med.sort_values("backend", key=lambda b: b != "sequential", kind="stable").reset_index(drop=True)
    med["label"] = [_label(b, m, int(n)) for b, m, n in zip(med["backend"], med["start_method"], med["max_workers"],
                                                             strict=True)]
    return med


def _stacked(ax: Axes, med: pd.DataFrame, columns: Sequence[str], colors: dict[str, str],
             names: dict[str, str]) -> None:
    """Horizontal stacked bars, one per configuration: long labels stay readable, unrotated."""
    y, left = np.arange(len(med)), np.zeros(len(med))
    for column in columns:
        widths = med[column].to_numpy(dtype=float)
        ax.barh(y, widths, left=left, color=colors[column], label=names.get(column, column), height=0.7)
        left += widths
    ax.set_yticks(y, med["label"])
    ax.set_ylim(len(med) - 0.4, -0.6)  # the first configuration on top
    ax.set_xlim(left=0)
    ax.grid(False, axis="y")
    ax.legend(loc="lower right", fontsize=FONT_SIZE - 2)


def overhead(data: Any, ax: Axes | None = None, *, components: Sequence[str] = analysis.OVERHEAD) -> Axes:
    """Stacked bars of where the time went per configuration (median of repeats):
    startup, queued, dispatch, compute, collection, in seconds summed over tasks
    (`RunRecord.overhead()`). Leave "compute" out of `components` to zoom in on the rest."""
    ax, df = _axes(ax), analysis.tasks(data)
    table = analysis.overhead(df)
    columns = [c for c in components if c in table.columns]
    _stacked(ax, _by_config(table, columns), columns, OVERHEAD_COLORS, {})
    _dress(ax, "Where the time went", "seconds, summed over tasks (s)", "", df)
    return ax


def memory(data: Any, ax: Axes | None = None) -> Axes:
    """Stacked bars of peak resident memory per configuration (median of repeats):
    the parent, and all workers together (0 for threads: they share the parent's)."""
    ax, df = _axes(ax), analysis.tasks(data)
    med = _by_config(analysis.memory(df), ["parent_mib", "workers_mib"])
    colors = {"parent_mib": OKABE_ITO["blue"], "workers_mib": OKABE_ITO["orange"]}
    _stacked(ax, med, ["parent_mib", "workers_mib"], colors, {"parent_mib": "parent", "workers_mib": "workers"})
    _dress(ax, "Peak memory", "peak resident memory (MiB)", "", df)
    return ax


def latency(data: Any, ax: Axes | None = None, *, kind: str = "ecdf") -> Axes:
    """Distribution of per-task latency (collected - submit, in ms) per run
    configuration: `kind="ecdf"` (the fraction of tasks done within x ms; reads
    medians and tails off directly) or `"hist"`."""
    if kind not in ("ecdf", "hist"):
        raise ValueError(f"kind: unknown {kind!r}; choose one of: ecdf, hist")
    ax, df = _axes(ax), analysis.tasks(data)
    lat = analysis.latency(df)
    ms = lat["latency"] * 1e3
    bins = np.histogram_bin_edges(ms, bins=30) if len(ms) else 10
    groups = lat.groupby(["backend", "start_method", "max_workers"])
    own_colors = lat.groupby("backend")["max_workers"].nunique().max() > 1  # else backends' colours suffice
    for i, ((backend, method, n), rows) in enumerate(groups):
        values, style = np.sort(rows["latency"].to_numpy() * 1e3), _style_of(backend, method, i)
        if own_colors:
            style["color"] = PALETTE[i % len(PALETTE)]
        label = _label(backend, method, int(n))
        if kind == "ecdf":
            ax.step(values, np.arange(1, len(values) + 1) / len(values), where="post", label=label,
                    color=style["color"], linestyle=style["linestyle"])
        else:
            ax.hist(values, bins=bins, histtype="step", linewidth=2.5, label=label, color=style["color"])
    ylabel = "fraction of tasks done within x" if kind == "ecdf" else "tasks"
    ax.legend(loc="best", fontsize=FONT_SIZE - 2)
    _dress(ax, "Latency per task", "latency: collected − submit (ms)", ylabel, df)
    return ax


def by_interpreter(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Speedup over each Python's own sequential run, grouped by Python (rows of
    `lessons.interpreter_speedups`): one bar per backend and worker count, the ideal
    marked per worker count. Each group is labelled with its version and GIL status."""
    ax = _axes(ax)
    pythons = list(dict.fromkeys(table["python"]))
    configs = list(dict.fromkeys(zip(table["backend"], table["max_workers"], strict=True)))
    width = 0.8 / max(len(configs), 1)
    for j, (backend, n) in enumerate(configs):
        rows = table[(table["backend"] == backend) & (table["max_workers"] == n)].set_index("python")
        xs = [i + (j - (len(configs) - 1) / 2) * width for i in range(len(pythons))]
        ys = [float(rows["speedup"].get(p, float("nan"))) for p in pythons]
        ax.bar(xs, ys, width * 0.95, color=BACKEND_COLORS.get(backend, PALETTE[j % len(PALETTE)]),
               alpha=1.0 if n > 1 else 0.45, label=_label(backend, "", int(n)))
    for n in sorted(set(table["max_workers"])):
        ax.axhline(n, color="0.5", linestyle=":", linewidth=1.5)
    ax.set_xticks(range(len(pythons)), pythons)
    ax.legend(loc="upper left", fontsize=FONT_SIZE - 2)
    _dress(ax, "The same CPU work in each Python", "Python (version, GIL at run time)",
           "speedup over its own sequential (×)", None)
    return ax
