"""Lesson 05 (communication costs): what it costs to get data to a worker and back, measured: pickling and
round trips here; granularity and the exercise in `communication_chunks`; the data paths, shared memory
included, in `communication_paths`. The constants and helpers the three share are here.

A thread is handed a *reference* to data the parent already holds: nothing is copied, whatever the size. A
process has its own memory, so the data travels: pickled into bytes, written down a pipe, read and
unpickled on the other side, and the result makes the same trip back. These modules measure each step:

- `pickle_costs`: pickling alone, by size and by what is pickled (raw bytes, a numpy array, a list);
- `round_trips`: the same payload to a warm thread and a warm process and back, by size;
- `data_paths`: the same job (add 1 to every byte of a block) through a thread, the pool's pickling queue,
  a raw `Pipe`, and `shared_memory`, which copies nothing;
- `check_chunksize`: the exercise, which measures the learner's chunk size against one task per trip.

Every timing is the best of a few repeats (a busy machine only makes runs slower), and every report says
what share of the CPU other programs took meanwhile. The verdicts compare costs that differ by several
times, so they hold on a busy 2-core laptop and on a 16-core workstation; what does vary (which kind
pickles fastest at 1 kB, how much the thread's trip grew) is put in sentences computed from the numbers
(`summary()`), never in fixed prose.
Every pool is closed by a context manager, every wait has a timeout, every process has an explicit start
method, and every shared-memory block is closed and unlinked.
"""

from __future__ import annotations

import functools
import os
import pickle
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .. import config
from ..load import Load
from ..load import LoadMeter as Meter
from ..timing import best_of, fastest

__all__ = ["echo", "PickleCost", "PickleReport", "pickle_costs", "RoundTrip", "RoundTripReport", "round_trips",
           "plot_round_trips"]

#: Repeats of every timing; the best is kept.
REPEATS = 3 if config.SMALL else 5
#: How long any wait for a worker may take before we call it a hang (far above the ~0.1-1 s these take).
WAIT_TIMEOUT_S = 60.0
#: Round trips at one size keep trying for at least this long: a tenth of a second is ~500 thread trips'
#: worth, far more than one stall of a virtual CPU, and it adds under half a second to the lesson.
SPREAD_S = 0.1
#: "Costs more" in a verdict means at least this many times as much: the differences measured here were
#: 4x to 1000x, so a factor of 2 holds however busy the machine is.
MARGIN = 2.0
KB, MB = 1000, 1000 * 1000


def echo(x: Any) -> Any:
    """Return the argument: a task that is all communication and no work."""
    return x


def _note(load: Load | None) -> list[str]:
    """The load line a report ends with, when it measured one."""
    return [load.note()] if load is not None else []


def _size(nbytes: int) -> str:
    """1 kB, 100 kB, 10 MB: decimal units, as network and disk speeds are quoted."""
    if nbytes >= MB:
        return f"{nbytes / MB:g} MB"
    return f"{nbytes / KB:g} kB" if nbytes >= KB else f"{nbytes} B"


def _start_method(start_method: str | None) -> str:
    return start_method or config.default_start_method()


# -- 1. pickling ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PickleCost:
    """Pickling and unpickling one object: the first toll on every trip to a process."""

    kind: str
    nbytes: int
    """Size of the data: the numbers as raw float64 bytes."""
    pickled_bytes: int
    dumps_s: float
    loads_s: float

    @property
    def total_s(self) -> float:
        return self.dumps_s + self.loads_s

    def __repr__(self) -> str:
        return (f"{_size(self.nbytes)} as {self.kind}: pickle {self.dumps_s * 1e3:.3f} ms, "
                f"unpickle {self.loads_s * 1e3:.3f} ms, {self.pickled_bytes:,} bytes pickled")


PICKLE_KINDS = ("bytes", "numpy array", "list of floats")


def _pickle_inputs(nbytes: int) -> dict[str, Any]:
    """The same float64 numbers three ways."""
    import numpy as np

    numbers = np.random.default_rng(5).random(max(1, nbytes // 8))
    return {"bytes": numbers.tobytes(), "numpy array": numbers, "list of floats": numbers.tolist()}


@dataclass(frozen=True)
class PickleReport:
    """Pickling costs by size and kind; `verdict()` holds the facts that do not vary between runs."""

    rows: tuple[PickleCost, ...]
    load: Load | None = None
    """What other programs took while it was measured (None: not measured)."""

    def __repr__(self) -> str:
        return "\n".join([repr(r) for r in self.rows] + _note(self.load))

    def summary(self) -> str:
        """The kinds from fastest to slowest at the smallest and the biggest size, then the load: at 1 kB
        the order changes from run to run, so it is said from the numbers, not in prose."""
        lines = []
        for nbytes in sorted({min(r.nbytes for r in self.rows), max(r.nbytes for r in self.rows)}):
            ranked = sorted((r for r in self.rows if r.nbytes == nbytes), key=lambda r: r.total_s)
            order = ", then ".join(f"{r.kind} ({r.total_s * 1e3:.3f} ms)" for r in ranked)
            lines.append(f"{_size(nbytes)}, pickled and unpickled, fastest first: {order}")
        return "\n".join(lines + _note(self.load))

    def to_dataframe(self) -> Any:
        import pandas as pd

        return pd.DataFrame([{"size": _size(r.nbytes), "kind": r.kind, "pickled_bytes": r.pickled_bytes,
                              "pickle_ms": r.dumps_s * 1e3, "unpickle_ms": r.loads_s * 1e3,
                              "MB_per_s": r.nbytes / MB / r.total_s} for r in self.rows])

    def _cost(self, kind: str, nbytes: int) -> float:
        return next(r.total_s for r in self.rows if r.kind == kind and r.nbytes == nbytes)

    def verdict(self) -> str:
        small, big = min(r.nbytes for r in self.rows), max(r.nbytes for r in self.rows)
        grew = all(self._cost(k, big) > MARGIN * self._cost(k, small) for k in PICKLE_KINDS)
        slower = self._cost("list of floats", big) > MARGIN * self._cost("numpy array", big)
        return (f"pickling {_size(big)} took longer than {_size(small)}, for every kind: {grew}\n"
                f"at {_size(big)}, a list of floats took over {MARGIN:g}x as long as a numpy array of the same "
                f"numbers: {slower}")


def pickle_costs(sizes: Iterable[int] = (KB, 100 * KB, MB, 10 * MB), repeats: int = REPEATS) -> PickleReport:
    """Best-of-`repeats` pickle and unpickle times of the same numbers as bytes, an array and a list."""
    rows = []
    meter = Meter()
    for nbytes in sizes:
        for kind, obj in _pickle_inputs(nbytes).items():
            data = pickle.dumps(obj)
            rows.append(PickleCost(kind, nbytes, len(data), best_of(lambda o=obj: pickle.dumps(o), repeats),
                                   best_of(lambda d=data: pickle.loads(d), repeats)))
    return PickleReport(tuple(rows), meter.read())


# -- 2. round trips: a warm thread vs a warm process -------------------------------------------

@dataclass(frozen=True)
class RoundTrip:
    """The same payload sent to a warm worker and back (`echo`), best of several."""

    nbytes: int
    thread_s: float
    process_s: float

    @property
    def ratio(self) -> float:
        return self.process_s / self.thread_s

    def __repr__(self) -> str:
        return (f"{_size(self.nbytes)}: thread {self.thread_s * 1e3:.3f} ms, process {self.process_s * 1e3:.3f} ms "
                f"({self.ratio:,.0f}x)")


@dataclass(frozen=True)
class RoundTripReport:
    """Round trips by size; `verdict()` holds the facts that do not vary between runs."""

    rows: tuple[RoundTrip, ...]
    start_method: str
    load: Load | None = None

    def __repr__(self) -> str:
        return "\n".join([repr(r) for r in self.rows] + _note(self.load))

    def summary(self) -> str:
        """How much each trip grew from the smallest payload to the biggest, from the numbers, then the load."""
        first, last = self.rows[0], self.rows[-1]
        return "\n".join([f"from {_size(first.nbytes)} to {_size(last.nbytes)} ({last.nbytes / first.nbytes:,.0f}x "
                          f"the data): the thread's trip took {last.thread_s / first.thread_s:,.1f}x as long, "
                          f"the process's {last.process_s / first.process_s:,.1f}x"] + _note(self.load))

    def to_dataframe(self) -> Any:
        import pandas as pd

        return pd.DataFrame([{"size": _size(r.nbytes), "bytes": r.nbytes, "thread_ms": r.thread_s * 1e3,
                              "process_ms": r.process_s * 1e3, "process_over_thread": r.ratio} for r in self.rows])

    def verdict(self) -> str:
        first, last = self.rows[0], self.rows[-1]
        # More, not MARGIN times more: at 1 kB a thread's best trip of ~0.15 ms and a process's ~0.7 ms
        # came within 2x of each other once in a quiet full run (a late wake of the thread on a VM).
        more = all(r.process_s > r.thread_s for r in self.rows)
        grew = last.process_s > 10 * first.process_s
        flat = last.thread_s < 10 * first.thread_s
        return (f"a round trip to a process cost more than a thread's, at every size: {more}\n"
                f"from {_size(first.nbytes)} to {_size(last.nbytes)}, the process's trip grew over 10x: {grew}; "
                f"the thread's did not: {flat}")


def round_trips(sizes: Iterable[int] = (KB, 100 * KB, MB, 10 * MB), repeats: int = 5,
                start_method: str | None = None) -> RoundTripReport:
    """`echo(payload)` on a warm 1-thread pool and a warm 1-process pool (the library's runners), best of
    `repeats` or more, interleaved so a busy spell hurts both alike, and spread over `SPREAD_S` seconds
    at least so one stall cannot cover every try of a fast trip (`timing.fastest`)."""
    from ..runners import make_runner

    method = _start_method(start_method)
    rows = []
    meter = Meter()
    with make_runner("threads", 1) as thread, make_runner("processes", 1, start_method=method) as process:
        for nbytes in sizes:
            payload = os.urandom(nbytes)
            best = fastest({"thread": functools.partial(_echo_wall, thread, payload),
                            "process": functools.partial(_echo_wall, process, payload)}, repeats, SPREAD_S)
            rows.append(RoundTrip(nbytes, best["thread"], best["process"]))
    return RoundTripReport(tuple(rows), method, meter.read())


def _echo_wall(runner: Any, payload: bytes) -> float:
    record = runner.run(echo, [payload], timeout=WAIT_TIMEOUT_S)
    record.raise_for_errors()
    assert record.results[0] == payload
    return record.wall


def plot_round_trips(report: RoundTripReport, ax: Any = None) -> Any:
    """Round-trip time against payload size, thread vs process, log-log."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from .. import plots

    if ax is None:
        with mpl.rc_context(plots.STYLE):
            _, ax = plt.subplots(figsize=(10, 5), layout="constrained")
    x = [r.nbytes for r in report.rows]
    ax.plot(x, [r.thread_s * 1e3 for r in report.rows], "o-", color=plots.BACKEND_COLORS["threads"],
            label="thread (passes a reference)")
    ax.plot(x, [r.process_s * 1e3 for r in report.rows], "s--", color=plots.BACKEND_COLORS["processes"],
            label=f"process ({report.start_method}): pickled, piped, unpickled, both ways")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(x, labels=[_size(n) for n in x])
    ax.minorticks_off()
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_title("Sending data to a warm worker and back")
    ax.set_xlabel("payload (log scale)")
    ax.set_ylabel("round trip (ms, log scale)")
    ax.legend(loc="upper left")
    return ax
