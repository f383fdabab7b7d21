"""Lesson 04, section 3 (the 2048-byte line): the same sha256 fed in pieces of each size, where it starts
to scale on threads, the robust verdict (pieces under hashlib's threshold never scale) and the plot.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .native import MIB, SCALED_AT, ScalingReport, _gil_release, default_workers, measure

__all__ = ["hash_pieces", "small_pieces_verdict", "plot_pieces"]

#: The threshold in CPython's Modules/hashlib.h (HASHLIB_GIL_MINSIZE): shorter inputs keep the GIL.
HASHLIB_GIL_MINSIZE = 2048


# -- piece size ---------------------------------------------------------------------

def hash_pieces(pieces: Iterable[int] = (256, 1024, 2048, 8192, 65536, MIB), size: int = 4 * MIB,
                workers: int | None = None) -> ScalingReport:
    """The same sha256 over `size` bytes, fed in pieces of each size: where does it start to scale?"""
    n = workers or default_workers()
    rows = [measure(f"pieces of {p:,} bytes", _gil_release("sha256", p), [size] * (2 * n), n) for p in pieces]
    return ScalingReport(tuple(rows))


def _bytes(n: int) -> str:
    """256 B, 1 KiB, 1 MiB: a tick label a learner reads at a glance."""
    for unit, size in (("MiB", MIB), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} B"


def _piece(label: str) -> int:
    return int(label.split()[2].replace(",", ""))


def small_pieces_verdict(report: ScalingReport) -> str:
    """The robust half of the piece sweep: pieces under hashlib's threshold never scale."""
    small = [r for r in report.rows if _piece(r.label) < HASHLIB_GIL_MINSIZE]
    scaled = [r.label for r in small if r.scaled]
    return (f"piece sizes under {HASHLIB_GIL_MINSIZE} bytes measured: {len(small)}; "
            f"of those, scaled with threads: {', '.join(scaled) if scaled else 'none'}")


def plot_pieces(report: ScalingReport, ax: Any = None) -> Any:
    """Speedup and cores busy against piece size (log scale), with hashlib's 2048-byte line."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    from .. import plots

    if ax is None:
        with mpl.rc_context(plots.STYLE):
            _, ax = plt.subplots(figsize=(10, 5), layout="constrained")
    x = [_piece(r.label) for r in report.rows]
    ax.plot(x, [r.speedup for r in report.rows], "o-", color=plots.BACKEND_COLORS["threads"],
            label=f"speedup: {report.rows[0].workers} threads vs one (×)")
    ax.plot(x, [r.parallelism for r in report.rows], "s--", color=plots.OKABE_ITO["bluish_green"],
            label="cores busy at once (CPU s per wall s)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(x, labels=[_bytes(p) for p in x])
    ax.minorticks_off()
    ax.axvline(HASHLIB_GIL_MINSIZE, color=plots.OKABE_ITO["vermillion"], ls="--",
               label=f"{HASHLIB_GIL_MINSIZE} bytes: hashlib lets go of the GIL from here")
    ax.axhline(SCALED_AT, color="0.5", ls=":", label=f"{SCALED_AT}x: counted as a speedup")
    ax.axhline(1.0, color="0.2", lw=1)
    ax.set_ylim(0, max(2.6, max(max(r.speedup, r.parallelism) for r in report.rows) * 1.2))
    ax.set_title("sha256 of the same bytes, fed in pieces")
    ax.set_xlabel("piece size (bytes, log scale)")
    ax.set_ylabel("× / cores")
    ax.legend(loc="upper left")
    return ax
