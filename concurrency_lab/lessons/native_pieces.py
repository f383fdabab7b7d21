"""Lesson 04, section 3 (the 2048-byte line): the same sha256 fed in pieces of each size, the robust
verdict (with the GIL, pieces under hashlib's threshold never scale), what this run's bigger pieces did, and the plot.

The threshold is necessary, not sufficient. From 2048 bytes on, each `update()` lets go of the GIL while
it hashes, but its thread must win the GIL back before the next line of Python, once per piece. Where
that hand-over costs as much as hashing a piece, threads still take turns: 2, 8 and 64 KiB pieces measured
0.87x, 0.97x and 0.95x on 2 threads here, and 64 KiB pieces 1.92x in another run. So only the half below
the line is a verdict; above it, `pieces_summary` says what this run did.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import info
from ..load import LoadMeter
from .native import MIB, SCALED_AT, ScalingReport, _gil_release, default_workers, measure

__all__ = ["hash_pieces", "small_pieces_verdict", "NO_GIL_PIECES", "pieces_summary", "plot_pieces"]

#: The threshold in CPython's Modules/hashlib.h (HASHLIB_GIL_MINSIZE): shorter inputs keep the GIL.
HASHLIB_GIL_MINSIZE = 2048
#: The verdict's second line in a free-threaded Python, where the threshold has no GIL to keep.
NO_GIL_PIECES = ("this Python runs without the GIL (a free-threaded build): nothing makes small pieces "
                 "take turns, so they may scale here; run a standard build to see the line")


# -- piece size ---------------------------------------------------------------------

def hash_pieces(pieces: Iterable[int] = (256, 1024, 2048, 8192, 65536, MIB), size: int = 4 * MIB,
                workers: int | None = None) -> ScalingReport:
    """The same sha256 over `size` bytes, fed in pieces of each size: where does it start to scale?"""
    n = workers or default_workers()
    meter = LoadMeter()
    rows = [measure(f"pieces of {p:,} bytes", _gil_release("sha256", p), [size] * (2 * n), n) for p in pieces]
    return ScalingReport(tuple(rows), meter.read(), task_bytes=size)


def _bytes(n: int) -> str:
    """256 B, 1 KiB, 1 MiB: a tick label a learner reads at a glance."""
    for unit, size in (("MiB", MIB), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} B"


def _piece(label: str) -> int:
    return int(label.split()[2].replace(",", ""))


def small_pieces_verdict(report: ScalingReport, gil_enabled: bool | None = None) -> str:
    """The robust half of the piece sweep: with the GIL, pieces under hashlib's threshold never scale.

    Without it (a free-threaded build, `gil_enabled` False; by default this Python's state) nothing makes
    small pieces take turns, and they can scale: a clean-clone CI run here measured 1 KiB pieces at 1.43x
    on 2 threads under 3.13t. The verdict then says so on a second line, so that "scaled" is not read as
    the threshold failing."""
    small = [r for r in report.rows if _piece(r.label) < HASHLIB_GIL_MINSIZE]
    scaled = [r.label for r in small if r.scaled]
    line = (f"piece sizes under {HASHLIB_GIL_MINSIZE} bytes measured: {len(small)}; "
            f"of those, scaled with threads: {', '.join(scaled) if scaled else 'none'}")
    if info.gil_enabled() if gil_enabled is None else gil_enabled:
        return line
    return line + "\n" + NO_GIL_PIECES


def _per_piece_us(row: Any, task_bytes: int) -> float:
    """Microseconds one piece took in the one-after-another run: a task's time over its pieces, the loop
    and `update()` together."""
    return row.sequential_s / row.tasks / (task_bytes / _piece(row.label)) * 1e6


def pieces_summary(report: ScalingReport) -> str:
    """What this run's pieces at or above the threshold did, in words computed from the numbers, then the
    load. Not a verdict: whether they scale depends on how often each thread must win the GIL back."""
    big = [r for r in report.rows if _piece(r.label) >= HASHLIB_GIL_MINSIZE]

    def named(rows: list) -> str:
        return "; ".join(f"{_bytes(_piece(r.label))} ({r.speedup:.2f}x, {r.parallelism:.2f} cores busy)"
                         for r in rows) or "none"

    lines = []
    if report.task_bytes:
        each = "; ".join(f"{_bytes(_piece(r.label))} {_per_piece_us(r, report.task_bytes):.1f} us" for r in report.rows)
        lines.append(f"one piece took, on one thread: {each}")
    for word, rows in (("scaled", [r for r in big if r.scaled]), ("did not scale", [r for r in big if not r.scaled])):
        lines.append(f"pieces of {HASHLIB_GIL_MINSIZE} bytes or more that {word} on this run: {named(rows)}")
    return "\n".join(lines + ([report.load.note()] if report.load is not None else []))


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
