"""Sizes for the workloads that make one task last a given time on this machine, and the reverse.

`calibrate(name, seconds)` finds the size; `seconds_per_task(name, size)` says
how long a size takes (an explorer refuses a task over a minute with it).
Both run in the parent, never in a worker, and remember what they measured
for the life of the process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .workloads import get

_CALIBRATED: dict[tuple[str, float], Any] = {}

#: Workloads whose size is already in seconds: calibration is the identity.
_SIZE_IS_SECONDS = {"io_sleep", "hang"}
#: Workloads whose size is not a cost: which way to crash, a number to square,
#: io_http, whose time is set by the server's latency, and memory, whose size is
#: the point (MiB), not its time.
_NOT_SCALABLE = {"crash", "tiny", "io_http", "memory"}
#: Calibration never probes above this size (bytes for io_file: 256 MiB).
_MAX_PROBE = 1 << 28


def calibrate(name: str, target_seconds: float, *, clock: Callable[[], float] = time.perf_counter) -> Any:
    """The size for which one task of `name` takes about `target_seconds` here.

    Doubles the size until one call takes at least 20 ms (or the target), then
    scales linearly, and remembers the answer for this process.
    """
    w = get(name)
    if not (isinstance(target_seconds, (int, float)) and 0 < target_seconds <= 60):
        raise ValueError(f"target_seconds: {target_seconds!r} is out of range; allowed: > 0 and <= 60")
    if name in _SIZE_IS_SECONDS:
        return float(target_seconds)
    if name in _NOT_SCALABLE:
        return w.default_size
    if name == "mixed":  # 10 ms of sleep, then cpu(n)
        return calibrate("cpu", max(target_seconds - 0.01, 0.001), clock=clock)
    key = (name, float(target_seconds))
    if key not in _CALIBRATED:
        _CALIBRATED[key] = _scale(w.fn, _start_size(name), target_seconds, clock)
    return _CALIBRATED[key]


#: Target of the calibration `seconds_per_task` scales from: long enough to time, short enough to be cheap.
_RATE_PROBE_S = 0.05


def seconds_per_task(name: str, size: Any) -> float | None:
    """About how long one task of workload `name` at `size` takes here; None where size is not a cost.

    From the calibration (`calibrate`), so the first call for a workload
    costs a few of its tasks of ~50 ms. `cpu_traced` counts as `cpu`.
    """
    if name == "cpu_traced":
        name = "cpu"
    w = get(name)
    if name in _NOT_SCALABLE or w.kind == "fault" and name not in _SIZE_IS_SECONDS:
        return None
    if name in _SIZE_IS_SECONDS:
        return float(size)
    if name == "mixed":
        return 0.01 + size * _RATE_PROBE_S / calibrate("cpu", _RATE_PROBE_S)
    return size * _RATE_PROBE_S / calibrate(name, _RATE_PROBE_S)


def _start_size(name: str) -> int:
    return {"cpu": 1000, "io_file": 4096, "gil_release": 1 << 14}[name]


#: Extra timings of the final probe size, whose fastest sets the size.
_CONFIRM_TIMINGS = 2


def _scale(fn: Callable[[int], Any], size: int, target: float, clock: Callable[[], float]) -> int:
    probe = min(0.02, target)
    while True:
        t0 = clock()
        fn(size)
        took = clock() - t0
        if took >= probe or size >= _MAX_PROBE:
            # One preemption on a busy machine inflates a single timing several times (and the size
            # comes out that much too small): keep the fastest of three.
            for _ in range(_CONFIRM_TIMINGS):
                t0 = clock()
                fn(size)
                took = min(took, clock() - t0)
            return max(1, int(size * target / max(took, 1e-9)))
        size *= 2


