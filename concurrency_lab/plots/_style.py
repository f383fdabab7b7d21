"""The look every plot shares: colours, fonts, the machine caption, labels and axes.

Projector-sized text (14 pt), the Okabe-Ito colour-blind-safe palette with one
colour per backend, and the helpers every plot function (and `live`) uses to
get its axes, title them and caption them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import pandas as pd
from cycler import cycler

from .. import analysis

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.patches import Patch


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
#: Bars drawn with separating edges up to this many (see `tasks._bars`).
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
        # wrap: in a narrow figure (a panel's "large text") the line breaks at the figure's edge, not in it
        ax.annotate(text, xy=(0, 0), xycoords="axes fraction", xytext=(0, -below), textcoords="offset points",
                    ha="left", va="top", fontsize=CAPTION_SIZE, color="0.35", gid=GID, wrap=True)
    if xlabel.startswith("time"):  # labels of 6 characters ("0.0025"): fewer of them, or they run together
        ax.locator_params(axis="x", nbins=6)


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
    return text if not max_workers else f"{text} ×{max_workers}"  # 0: no workers (ConvoyLab's "idle")


def _style_of(backend: str, start_method: str, i: int) -> dict[str, Any]:
    linestyle, marker = METHOD_STYLES.get(start_method, ("-", "D"))
    color = BACKEND_COLORS.get(backend, PALETTE[i % len(PALETTE)])
    return {"color": color, "linestyle": linestyle, "marker": marker}


def _legend(ax: Axes, handles: list[Patch]) -> None:
    """A legend of `handles`, kept as it is when a redraw would make the same one."""
    old = ax.get_legend()
    if old is None or [t.get_text() for t in old.get_texts()] != [h.get_label() for h in handles]:
        ax.legend(handles=handles, loc="upper right", fontsize=FONT_SIZE - 2)
