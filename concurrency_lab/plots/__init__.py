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
replaces what it drew there (cheaper than `ax.clear()`). A dashboard that
redraws while a run goes on keeps one figure and repaints only its bars:
that engine is `concurrency_lab.live`, not a plot function, and lives there.

The modules: `_style` (palette, STYLE, caption, labels), `tasks` (one run:
`timeline`, `activity`), `curves` (`speedup`, `efficiency`) and `bars`
(`overhead`, `memory`, `latency`, `by_interpreter`), `watch` (what `cl.watch` saw:
`watch_lanes`, `cores_busy`, both as `watch`), `classroom` (a class's machines: `class_panel`, both
workloads as `class_speedup`); every public name is here.
"""

from __future__ import annotations

from ._style import (
    BACKEND_COLORS,
    CAPTION_SIZE,
    FONT_SIZE,
    GID,
    MAX_EDGED_BARS,
    METHOD_STYLES,
    OKABE_ITO,
    OVERHEAD_COLORS,
    PALETTE,
    STATE_COLORS,
    STYLE,
    caption,
    use_style,
)
from .bars import by_interpreter, latency, memory, overhead
from .classroom import class_panel, class_speedup
from .curves import efficiency, granularity, speedup
from .tasks import activity, bar_count, timeline
from .watch import cores_busy, watch, watch_lanes

__all__ = [
    "BACKEND_COLORS", "CAPTION_SIZE", "FONT_SIZE", "GID", "MAX_EDGED_BARS", "METHOD_STYLES", "OKABE_ITO",
    "OVERHEAD_COLORS", "PALETTE", "STATE_COLORS", "STYLE", "activity", "bar_count", "by_interpreter", "caption",
    "class_panel", "class_speedup",
    "cores_busy", "efficiency", "granularity", "latency", "memory", "overhead", "speedup", "timeline", "use_style", "watch",
    "watch_lanes",
]
