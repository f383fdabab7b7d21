"""How the library times the things it compares, and the interpreter setting lessons turn.

- `fastest`: several contenders, each tried once per repeat, in turn; each keeps
  its fastest try. A busy machine only ever makes a try slower, never faster,
  so the fastest is the closest to what the code itself costs, and taking
  turns makes a busy spell slow every contender alike.
- `best_of`: the same for one callable.
- `switch_interval`: `sys.setswitchinterval` for a block, always restored.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

#: At most this many times `repeats` rounds when `fastest` is asked to spread its tries over time.
MAX_ROUNDS_FACTOR = 20


def fastest(timers: Mapping[str, Callable[[], float]], repeats: int, min_seconds: float = 0.0) -> dict[str, float]:
    """Call every timer once per round, in turn, and keep each one's smallest result (seconds).

    A timer returns the seconds its one try took (a run's `record.wall`, say). There are `repeats`
    rounds, and more while fewer than `min_seconds` have passed (up to `MAX_ROUNDS_FACTOR` times
    `repeats`). Why: five tries of a 0.2 ms thread round trip span about a millisecond, and one stall
    of a virtual CPU can cover all five. In CI, on 3.13 under spawn, a thread's best 1 kB trip came
    out at 2.3 ms against its usual 0.2 ms, over twice a process's. Tries spread over a tenth of a
    second cannot all fall in one stall.
    """
    best = dict.fromkeys(timers, float("inf"))
    start = time.perf_counter()
    rounds = 0
    while rounds < repeats or (time.perf_counter() - start < min_seconds
                               and rounds < MAX_ROUNDS_FACTOR * repeats):
        for name, timer in timers.items():
            best[name] = min(best[name], timer())
        rounds += 1
    return best


def timer(fn: Callable[[], Any]) -> Callable[[], float]:
    """A timer for `fastest`: calls `fn` and returns the seconds (`time.perf_counter`) the call took."""
    def once() -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    return once


def best_of(fn: Callable[[], Any], repeats: int) -> float:
    """The fastest of `repeats` calls of `fn`, in seconds."""
    return fastest({"fn": timer(fn)}, repeats)["fn"]


@contextlib.contextmanager
def switch_interval(seconds: float | None) -> Iterator[None]:
    """Set `sys.setswitchinterval(seconds)` for a block, and always restore the old value (None: leave it).

    The interval is how often the interpreter asks a thread holding the GIL to hand it over (5 ms by
    default); it is process-wide, so a block that changes it must give it back, error or not.
    """
    old = sys.getswitchinterval()
    if seconds is not None:
        sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(old)
