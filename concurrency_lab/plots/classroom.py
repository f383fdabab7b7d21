"""The class on one plot: every machine's speedup against its workers, one panel per workload.

Input: `classroom.speedups(recordings)`, the numbers already computed. Colour names the machine (the
legend says its cores and Python); line style names the backend, threads solid and processes dashed,
the same on every panel, so a learner follows one colour from CPU work to I/O and sees their threads
stay flat on one and climb on the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import pandas as pd

from ..classroom import CLASS_BACKENDS, CLASS_WORKLOADS
from ._style import FONT_SIZE, PALETTE, STYLE, _axes, _dress

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: threads solid, processes dashed (colour is the machine's).
BACKEND_LINES: dict[str, str] = {"threads": "-", "processes": "--"}
#: After the 8 colours of the palette, machines differ by marker too.
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")
#: Each panel's title: what the work does, then the workload's name.
TITLES: dict[str, str] = {"cpu": "CPU work (pure Python, cpu)", "io_sleep": "I/O: waiting (io_sleep)"}


def _machine_styles(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The same colour and marker for a machine on every panel."""
    names = list(dict.fromkeys(table["machine"]))
    return {name: {"color": PALETTE[i % len(PALETTE)], "marker": MARKERS[i // len(PALETTE) % len(MARKERS)]}
            for i, name in enumerate(names)}


def class_panel(table: pd.DataFrame, workload: str = "cpu", ax: Axes | None = None, *, legend: bool = True,
                styles: dict[str, dict[str, Any]] | None = None) -> Axes:
    """One workload: a line per machine and backend (speedup against max_workers), and the ideal n×."""
    ax = _axes(ax)
    styles = styles or _machine_styles(table)
    rows = table[(table["workload"] == workload) & table["speedup"].notna()]
    top = int(max(table["max_workers"].max() if len(table) else 1, 2))
    ax.plot([1, top], [1, top], color="0.5", linestyle=":", linewidth=2, label="ideal (n×)")
    for (machine, backend), curve in rows.groupby(["machine", "backend"], sort=False):
        curve = curve.sort_values("max_workers")
        ax.plot(curve["max_workers"], curve["speedup"], linestyle=BACKEND_LINES.get(backend, "-."),
                label=f"{machine}, {backend}", **styles[machine])
    if rows.empty:
        ax.text(0.5, 0.5, f"no recording here measured {workload} yet", transform=ax.transAxes, ha="center",
                va="center", fontsize=FONT_SIZE - 1, color="0.35", bbox={"facecolor": "white", "edgecolor": "none"})
    ax.set_xticks(sorted(set(table["max_workers"])) or [1, 2])
    ax.set_ylim(bottom=0)
    if legend:
        ax.legend(handles=_legend_handles(styles), loc="upper left", fontsize=FONT_SIZE - 3)
    _dress(ax, TITLES.get(workload, workload), "workers (max_workers)", "speedup over 1 worker (×)", None)
    return ax


def _legend_handles(styles: dict[str, dict[str, Any]]) -> list[Any]:
    """A line per machine in its colour, then one per backend in its line style, then the ideal."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], label=name, **style) for name, style in styles.items()]
    handles += [Line2D([], [], color="0.2", linestyle=BACKEND_LINES[b], label=b) for b in CLASS_BACKENDS]
    return [*handles, Line2D([], [], color="0.5", linestyle=":", linewidth=2, label="ideal (n×)")]


def class_speedup(table: pd.DataFrame, workloads: tuple[str, ...] = CLASS_WORKLOADS) -> Figure:
    """The class on one figure: a panel per workload side by side, one shared legend of machines."""
    import matplotlib.pyplot as plt

    styles = _machine_styles(table)
    with mpl.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(workloads), figsize=(6.5 * len(workloads) + 4, 5.5), layout="constrained",
                                 squeeze=False)
        interactive = mpl.is_interactive()
    mpl.interactive(interactive)
    for workload, ax in zip(workloads, axes[0], strict=True):
        class_panel(table, workload, ax, legend=False, styles=styles)
    fig.legend(handles=_legend_handles(styles), loc="outside right upper", fontsize=FONT_SIZE - 3)
    return fig
