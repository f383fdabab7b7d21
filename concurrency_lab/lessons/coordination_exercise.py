"""Lesson 12's exercise: the learner writes `pipeline(items, work, workers, maxsize)`, a producer and
`workers` threads joined by a bounded `queue.Queue`, and this module checks it.

How the check sees inside code it did not write:

- `items` is a generator that notes each item as the producer takes it, and `work` notes when each item
  starts, in which thread, and how many run at once. The gap between taken and started is what waits in
  the queue (plus at most one item in the producer's hand and one in each worker's): a bounded queue keeps
  it small, an unbounded one (or `list(items)`) lets it grow to nearly every item.
- The learner's function runs in a daemon thread joined with a timeout, so workers that never end (no
  sentinel) make the check answer, not hang. Threads it started and left running are named afterwards.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ._feedback import Feedback

__all__ = ['check_pipeline']

#: Each case: (items, workers, maxsize). Two shapes, so an answer that ignores an argument shows it.
CASES = ((24, 4, 2), (12, 3, 1))
#: How long `work` takes per item: a sleep, so its pace does not depend on how busy the machine is, and
#: long enough that 3 or 4 workers surely overlap.
HOLD_S = 0.02
#: A right answer takes about 0.2 s per case; past this, the check calls it a hang.
CHECK_TIMEOUT_S = 10.0
#: How long threads the learner started may take to end after `pipeline` returned.
GRACE_S = 2.0


@dataclass
class _Probe:
    """What the check's `items` and `work` saw, under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    taken: int = 0
    started: int = 0
    most_ahead: int = 0
    """The most items taken from `items` but not yet started by `work`."""
    running: int = 0
    most_running: int = 0
    threads: set[int] = field(default_factory=set)

    def items(self, n: int) -> Iterator[int]:
        for i in range(n):
            with self.lock:
                self.taken += 1
                self.most_ahead = max(self.most_ahead, self.taken - self.started)
            yield i

    def work(self, item: int) -> int:
        with self.lock:
            self.started += 1
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            self.threads.add(threading.get_ident())
        try:
            time.sleep(HOLD_S)
            return item * item
        finally:
            with self.lock:
                self.running -= 1


@dataclass
class _Run:
    """One call of the learner's `pipeline`, from outside."""

    returned: bool = False
    result: Any = None
    error: BaseException | None = None
    running_at_return: list[str] = field(default_factory=list)
    """Threads it started that were still running at the moment it returned."""
    left_running: list[str] = field(default_factory=list)
    """Threads it started that were still running `GRACE_S` after it returned (or timed out)."""


def _started(before: set[threading.Thread], caller: threading.Thread) -> list[threading.Thread]:
    """Threads that did not exist before the call, but the caller's own (Dummy-: not a Thread we can join)."""
    return [t for t in threading.enumerate()
            if t not in before and t is not caller and not t.name.startswith("Dummy-")]


def _run(pipeline: Callable, probe: _Probe, n: int, workers: int, maxsize: int, timeout: float) -> _Run:
    """Call `pipeline` in a daemon thread; wait at most `timeout`; then name the threads it left running."""
    run = _Run()
    before = set(threading.enumerate())

    def call() -> None:
        try:
            result = pipeline(probe.items(n), probe.work, workers, maxsize)
            # A snapshot, as returned: workers left running could still add to a list afterwards.
            run.result = list(result) if isinstance(result, (list, tuple)) else result
            run.returned = True
            run.running_at_return = [t.name for t in _started(before, caller) if t.is_alive()]
        except BaseException as exc:  # reported to the learner, not lost in a thread
            run.error = exc

    caller = threading.Thread(target=call, daemon=True, name="check_pipeline")
    caller.start()
    caller.join(timeout)
    deadline = time.monotonic() + GRACE_S
    started = _started(before, caller)
    for t in started:
        t.join(max(deadline - time.monotonic(), 0.0))
    run.left_running = [t.name for t in started if t.is_alive()]
    return run


def check_pipeline(pipeline: Any, *, timeout: float = CHECK_TIMEOUT_S) -> Feedback:
    """Exercise 12: does `pipeline(items, work, workers, maxsize)` return every `work(item)`, with `workers`
    threads at once, a bounded queue holding the producer back, and no thread left running?"""
    if not callable(pipeline):
        return Feedback(False, "pass your function itself: `lessons.check_pipeline(pipeline)`")
    for n, workers, maxsize in CASES:
        probe = _Probe()
        run = _run(pipeline, probe, n, workers, maxsize, timeout)
        wrong = _judge(run, probe, n, workers, maxsize, timeout)
        if wrong is not None:
            return Feedback(False, f"with {n} items, workers={workers}, maxsize={maxsize}: {wrong}")
    return Feedback(True, f"{len(CASES)} runs: every result came back once, several workers ran at once, the "
                          "bounded queue held the producer back, and every thread had ended when pipeline returned.")


def _judge(run: _Run, probe: _Probe, n: int, workers: int, maxsize: int, timeout: float) -> str | None:
    """What is wrong with one run, in words a learner can act on; None if nothing."""
    if not run.returned and run.error is None:
        return (f"pipeline did not return within {timeout:g} s ({probe.started} of {n} items were started). "
                "Are your workers still waiting in get() for an item that never comes? After the last item, "
                "put one sentinel per worker (or call q.shutdown() on Python 3.13+), and join each worker "
                "with a timeout.")
    if run.error is not None:
        return f"your function raised {type(run.error).__name__}: {run.error}"
    return (_results_wrong(run.result, n) or _threads_wrong(run, probe, workers)
            or _back_pressure_wrong(probe, workers, maxsize))


def _results_wrong(result: Any, n: int) -> str | None:
    if result is None or isinstance(result, (str, bytes)) or not hasattr(result, "__iter__"):
        return f"pipeline returned {result!r}: return a list of every work(item) (in any order)."
    try:
        got = Counter(result)
    except TypeError:
        return "pipeline returned something that is not a list of work(item) results."
    expected = Counter(i * i for i in range(n))
    lost, extra = expected - got, got - expected
    twice = sum(c - 1 for v, c in got.items() if c > 1 and v in expected)
    if twice:
        return (f"{twice} result(s) came back more than once: each item must be taken from the queue by "
                "exactly one worker, and its result stored once.")
    if extra:
        return "pipeline returned values that work() did not return: store what work(item) returns."
    if lost:
        return (f"{sum(lost.values())} of {n} results are missing. Does every worker keep going until it sees "
                "a sentinel, and do you wait for every worker (join) before you return?")
    return None


def _threads_wrong(run: _Run, probe: _Probe, workers: int) -> str | None:
    if run.left_running:
        names = ", ".join(sorted(run.left_running)[:4])
        return (f"{len(run.left_running)} thread(s) you started were still running after pipeline returned "
                f"({names}). Send one sentinel per worker so each one ends, and join them before returning.")
    if run.running_at_return:
        return (f"{len(run.running_at_return)} thread(s) you started were still running when pipeline returned "
                "(they ended soon after). Join every worker before you return: until then, results may be missing.")
    if len(probe.threads) == 1 or probe.most_running < 2:
        return (f"work ran one item at a time (in {len(probe.threads)} thread(s)). Start `workers` threads, "
                "each taking items from a queue.Queue(maxsize), so several items are worked on at once.")
    if len(probe.threads) > workers:
        return (f"work ran in {len(probe.threads)} different threads, but workers={workers}: start exactly "
                "`workers` threads and let each take many items from the queue.")
    return None


def _back_pressure_wrong(probe: _Probe, workers: int, maxsize: int) -> str | None:
    # Taken but not started: at most `maxsize` in the queue, one in the producer's hand, one per worker.
    room = maxsize + 1 + workers
    if probe.most_ahead > room:
        return (f"no back-pressure: the producer took up to {probe.most_ahead} items before a worker started "
                f"them, with maxsize={maxsize}. Make the queue queue.Queue(maxsize), so put() waits while it "
                "is full, and take the items one at a time as you put them (no list(items) first).")
    return None
