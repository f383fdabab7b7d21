"""What a watch saw (`cl.watch`, `%%watch`): when each thread and process was on a CPU, and how many cores
were busy at once. The numbers come from the `WatchRecord`; these only draw them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np

from ._style import FONT_SIZE, GID, OKABE_ITO, STATE_COLORS, STYLE, _dress, _fresh

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Cores busy is drawn over windows of this long: the OS updates a running thread's count at its clock ticks,
#: so one 4 ms sample interval can read a little high and the next a little low; 20 ms evens that out.
SMOOTH_S = 0.02
#: Colours by what a lane is.
KIND_COLORS = {"thread": OKABE_ITO["blue"], "process": OKABE_ITO["vermillion"]}


def watch_lanes(record: Any, ax: Axes | None = None) -> Axes:
    """One lane per thread or process that used the CPU; its height in each sample interval is the share
    of it spent on a CPU (full: all of it). Threads that take turns and processes that run at once look
    as they are. A thread too brief to be sampled (`Lane.at_exit`) is drawn hatched and says so: its
    height is what it ran, spread evenly over its life, not when it ran."""
    ax = _fresh(ax)
    lanes = list(record.active_lanes())
    t = np.asarray(record.times)
    for y, lane in enumerate(lanes):
        base = -y - 0.45
        busy = np.minimum(record.busy(lane), 1.0)
        if len(busy):
            ax.stairs(base + 0.6 * busy, t, baseline=base, fill=True, color=KIND_COLORS[lane.kind], gid=GID,
                      **({"alpha": 0.45, "hatch": "//"} if lane.at_exit else {}))
        how = ", too brief to sample: its own clock at its end" if lane.at_exit else ""
        ax.text(0.002, -y + 0.2, f"{lane.name}  ({record.total(lane):.2f} CPU s{how})", transform=ax.get_yaxis_transform(),
                fontsize=FONT_SIZE - 3, va="center", gid=GID)  # above its lane: the plot keeps its width
    ax.set_yticks([])
    ax.set_ylim(-max(len(lanes), 1) + 0.45, 0.5)
    ax.set_xlim(0, max(record.wall, 1e-3))
    ax.grid(False, axis="y")
    _dress(ax, "When each thread and process was on a CPU", "time since the watch began (s)", "", None)
    return ax


def cores_busy(record: Any, ax: Axes | None = None) -> Axes:
    """Cores busy at once over time, with the line no pure-Python thread of a GIL build can pass together
    with the others (1 core), and the machine's own limit."""
    ax = _fresh(ax)
    t = np.asarray(record.times)
    busy = record.cores_busy(window_s=SMOOTH_S)
    if len(busy):
        ax.stairs(busy, t, fill=True, color=STATE_COLORS["run"], alpha=0.6, gid=GID)
    ax.axhline(1.0, color=OKABE_ITO["black"], linestyle="--", linewidth=1.5, gid=GID,
               label="1 core: all the GIL lets pure-Python threads use")
    ax.axhline(record.cores, color=OKABE_ITO["vermillion"], linestyle=":", linewidth=1.5, gid=GID,
               label=f"{record.cores} cores: this machine")
    top = max(float(busy.max()) if len(busy) else 0.0, record.cores) * 1.3
    ax.set_ylim(0, top)
    ax.set_xlim(0, max(record.wall, 1e-3))
    ax.legend(loc="upper left", fontsize=FONT_SIZE - 3, ncols=2)
    _dress(ax, f"Cores busy at once (on average {record.parallelism:.2f})", "time since the watch began (s)",
           "cores", None)
    ax.text(0.99, -0.32, record.load.short_note(), transform=ax.transAxes, ha="right", va="top",
            fontsize=FONT_SIZE - 3, color=OKABE_ITO["vermillion"] if record.load.busy else "0.35", gid=GID)
    return ax


def watch(record: Any) -> Figure:
    """Both pictures of one watch, in one figure: the lanes above, the cores busy below."""
    import matplotlib.pyplot as plt

    lanes = max(len(record.active_lanes()), 1)
    with mpl.rc_context(STYLE):
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 2.2 + 0.45 * lanes + 3.2), layout="constrained",
                                          height_ratios=[1 + 0.45 * lanes, 3], sharex=True)
        interactive = mpl.is_interactive()
    mpl.interactive(interactive)
    watch_lanes(record, top)
    cores_busy(record, bottom)
    return fig
