"""Sweeps per configuration: `overhead` and `memory` (stacked bars), `latency`
(ECDF or histogram) and `by_interpreter` (grouped bars, one group per Python)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import analysis
from ._style import BACKEND_COLORS, FONT_SIZE, OKABE_ITO, OVERHEAD_COLORS, PALETTE, _axes, _dress, _label, _style_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _by_config(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """`analysis.config_medians`, sequential first, with a label per configuration."""
    med = analysis.config_medians(table, columns)
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
        values, style = rows["latency"].to_numpy() * 1e3, _style_of(backend, method, i)
        if own_colors:
            style["color"] = PALETTE[i % len(PALETTE)]
        label = _label(backend, method, int(n))
        if kind == "ecdf":
            ax.step(*analysis.ecdf(values), where="post", label=label, color=style["color"],
                    linestyle=style["linestyle"])
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
