"""How the lessons time things that they compare: each one's fastest of several tries, taken in turn."""

from __future__ import annotations

from collections.abc import Callable, Mapping


def fastest(timers: Mapping[str, Callable[[], float]], repeats: int) -> dict[str, float]:
    """Call every timer once per repeat, in turn, and keep each one's smallest result (seconds).

    Taking them in turn, rather than all of one then all of the next, means a busy
    spell on a shared laptop slows every contender alike; keeping the fastest drops
    the tries it slowed. A timer returns the seconds its one try took.
    """
    best = dict.fromkeys(timers, float("inf"))
    for _ in range(repeats):
        for name, timer in timers.items():
            best[name] = min(best[name], timer())
    return best
