"""Lesson 02 (CPU-bound work and the GIL): the classic Pool.map example, measured, and the exercise's check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import config
from ._feedback import Feedback

__all__ = ['ClassicMap', 'classic_pool_map', 'check_larger_serial_fraction']

@dataclass(frozen=True)
class ClassicMap:
    """The textbook `with Pool(2) as p: p.map(square, range(10))`, timed against a loop."""

    loop_s: float
    pool_s: float
    start_method: str

    @property
    def loop_wins(self) -> bool:
        return self.loop_s < self.pool_s

    def __repr__(self) -> str:
        return (f"loop: {self.loop_s * 1e6:.1f} us; Pool(2).map with {self.start_method}: "
                f"{self.pool_s * 1e3:.1f} ms ({self.pool_s / self.loop_s:,.0f}x slower)")


def classic_pool_map(n: int = 10, start_method: str | None = None) -> ClassicMap:
    """Measure the classic example as tutorials write it (pool made inside the timing),
    with an explicit start method and a square function workers can import."""
    import multiprocessing
    import time

    from ..workloads import tiny

    method = start_method or config.default_start_method()
    t0 = time.perf_counter()
    expected = [tiny(x) for x in range(n)]
    loop_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with multiprocessing.get_context(method).Pool(2) as pool:
        got = pool.map(tiny, range(n))
    pool_s = time.perf_counter() - t0
    assert got == expected
    return ClassicMap(loop_s, pool_s, method)


def check_larger_serial_fraction(answer: Any, fit: Any) -> Feedback:
    """Exercise 02: which backend's measured serial fraction is larger?"""
    choices = ("threads", "processes")
    if answer not in choices:
        return Feedback(False, f"set `answer` to one of {choices}, after looking at the fitted `s` column")
    fitted = {row.backend: row.s for row in fit.itertuples()}
    missing = [b for b in choices if b not in fitted]
    if missing:
        return Feedback(False, f"the fit has no {missing[0]} row: measure both backends first")
    larger = max(choices, key=lambda b: fitted[b])
    if answer != larger:
        return Feedback(False, f"look again: {answer} has the smaller serial fraction in your measurement.")
    return Feedback(True, "that backend has the larger serial fraction in your measurement.")

