"""Sweeps as curves against the worker count: `speedup` and `efficiency`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import analysis
from ._style import FONT_SIZE, _axes, _dress, _label, _style_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes


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


def granularity(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Time per task against the task's size, one line for the plain loop and one per chunk size on the pool:
    where a pool line runs under the loop's, the pool pays off. Input: `GranularityExplorer.table()` (size,
    backend, start_method, chunksize, us_per_task, ...); log scales, so 100 steps and 100,000 both show."""
    ax = _axes(ax)
    groups = sorted(table.groupby(["backend", "start_method", "chunksize"]), key=lambda g: g[0][0] != "sequential")
    for i, ((backend, method, chunk), rows) in enumerate(groups):  # the loop first: the line to beat
        rows = rows.sort_values("size")
        label = "a plain loop" if backend == "sequential" else f"{_label(backend, method)}, chunks of {chunk}"
        style = _style_of(backend, method, i)
        if backend != "sequential":
            style["linestyle"] = ("-", "--", ":", "-.")[i % 4]
        ax.plot(rows["size"], rows["us_per_task"], label=label, **style)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.legend(fontsize=FONT_SIZE - 3, loc="upper left")
    _dress(ax, "Time per task, by the task's size", "task size (loop steps)", "microseconds per task", None)
    return ax
