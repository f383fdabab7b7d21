"""Summaries the benchmark scripts print: a median with its range.

Standard library only: spawn and forkserver workers re-import the script that
imports this, so anything heavy here would be paid by every worker.
"""

from __future__ import annotations

import statistics


def summary(values: list[float]) -> dict[str, float]:
    """Median, min and max: on a shared machine the spread matters as much as the middle."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def cell(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    """One table cell, "median [min-max]", each value times `scale`."""
    s = summary(values)
    f = f"{{:.{digits}f}}"
    return f"{f.format(s['median'] * scale)} [{f.format(s['min'] * scale)}-{f.format(s['max'] * scale)}]"
