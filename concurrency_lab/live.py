"""The live-drawing engine: `LiveTimeline`, the one figure a dashboard keeps while a run goes on.

A widget that shows a run as it happens redraws after every few events, so a
frame must stay under 50 ms: benchmarks/plots.py times one of 1,000 tasks,
from the new data to the PNG an `ipywidgets.Image` shows. Calling
`plots.timeline` and `plots.activity` again costs several times that:
matplotlib lays out and renders every tick label, title and caption each
time, and Agg spends ~10 ms per 1,000 rectangles. So a `LiveTimeline` makes
its figure once, renders all but the data into a kept background, and on
each update repaints only the bars: a `PathPatch` of rectangles, as
`timeline` draws them, up to `plots.MAX_EDGED_BARS`; past that a `LaneBars`,
an Artist that sums each lane's cover of every pixel column in numpy
(`_coverage`) and pastes the lane as one image, at a cost that does not grow
with the bars.

Why apart from `plots`: plots holds only functions `f(data, ax=None) -> Axes`
that draw what `analysis` computed onto any axes, once. This is machinery of
another kind: it owns a figure and its canvas, keeps state between frames
(layout, background bitmap, label pixels) and has its own Artist and raster
arithmetic. It draws the same two plots, so it takes their style and lane
helpers from `plots` and the "% ran" of each lane from
`analysis.lane_run_share`, as `plots.activity` does; plots never imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.patches import Patch, PathPatch

from . import analysis
from .plots._style import FONT_SIZE, GID, MAX_EDGED_BARS, STATE_COLORS, STYLE, _dress, caption
from .plots.tasks import (
    _activity_data,
    _lane_axes,
    _rect_path,
    _run_title,
    _task_spans,
    _timeline_data,
    _timeline_right,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes


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

    def __init__(self, *, activity: bool = True, dpi: float = 100.0, width: float = 10.0,
                 text_scale: float = 1.0) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        n = 2 if activity else 1
        with mpl.rc_context(STYLE):  # text_scale: the same pixels, each point of text larger (a panel's "large text")
            self.figure = Figure(figsize=(width / text_scale, 5.0 * n / text_scale), dpi=dpi * text_scale)
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
        self._set_data(y, ok, start, end, act)
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

    def _set_data(self, y: np.ndarray, ok: np.ndarray, start: np.ndarray, end: np.ndarray, act) -> None:
        self._show("ok", start[ok], end[ok], y[ok])
        self._show("failed", start[~ok], end[~ok], y[~ok])
        self.failed_end.set_data(end[~ok], y[~ok])
        if act is None:
            return
        iv, act_lanes, lane, begin, end, running = act
        spans = _task_spans(iv["task"].to_numpy(), begin, end, lane) if len(begin) else ([], [], [])
        self._show("wait", *(np.asarray(a, dtype=float) for a in spans))
        self._show("run", begin[running], end[running], lane[running])
        shares = analysis.lane_run_share(lane, begin, end, running, len(act_lanes))
        for text, w, share in zip(self.lane_labels, act_lanes, shares, strict=True):
            text.set_text(f"{w} ({share:.0%} ran)")
