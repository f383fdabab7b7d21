"""Lesson 12 (coordinating workers): back-pressure measured, where stuck threads wait, and which single
operations on built-in types lose nothing when threads share them. The exercise's check is in
`coordination_exercise`.

Why the demonstrations look the way they do:

- Back-pressure is measured from the producer's side, where it shows: the time its `put` waited, and the
  most items ever waiting in the queue. Consumers hold each item for a sleep, so their pace does not depend
  on how busy the machine is, and a full queue must hold the producer back.
- A faulthandler dump names files, line numbers and thread ids that differ on every machine; `where_waiting`
  keeps only what holds everywhere: which of the named functions waits, on which line of source.
- The shared-container race reuses lesson 06's machinery (`races._run_threads`, `timing.switch_interval`):
  threads that start together, a tiny switch interval, always restored, and bounded joins.
"""

from __future__ import annotations

import linecache
import queue
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..timing import switch_interval
from .races import TINY_SWITCH_INTERVAL_S, WAIT_TIMEOUT_S, _run_threads

__all__ = ['Feeding', 'feed', 'feed_verdict', 'Waiting', 'where_waiting', 'SharedOps', 'shared_ops']


# -- back-pressure ------------------------------------------------------------------------------------


@dataclass
class _ProducerLog:
    """What the producer saw of the queue."""

    blocked_s: float = 0.0
    most_waiting: int = 0


def _produce(q: queue.Queue, n: int, consumers: int, log: _ProducerLog) -> None:
    """Put n items as fast as the queue takes them, then one sentinel per consumer."""
    for i in range(n):
        t0 = time.perf_counter()
        q.put(i, timeout=WAIT_TIMEOUT_S)  # waits while the queue is full: that wait is the back-pressure
        log.blocked_s += time.perf_counter() - t0
        log.most_waiting = max(log.most_waiting, q.qsize())
    for _ in range(consumers):
        q.put(None, timeout=WAIT_TIMEOUT_S)


def _consume(q: queue.Queue, hold_s: float) -> None:
    """Take items until the sentinel; each takes `hold_s` seconds to handle (a sleep: a steady pace)."""
    while q.get(timeout=WAIT_TIMEOUT_S) is not None:
        time.sleep(hold_s)


@dataclass(frozen=True)
class Feeding:
    """One fast producer feeding slow consumers through a `queue.Queue(maxsize)`, measured."""

    maxsize: int
    items: int
    consumers: int
    hold_s: float
    most_waiting: int
    """The most items the producer ever saw waiting in the queue, just after a put."""
    blocked_s: float
    """Seconds the producer spent inside `put`, waiting for room."""
    producer_s: float
    """Seconds the producer took from its first put to its last."""
    load: Any = field(default=None, compare=False)

    @property
    def bounded(self) -> bool:
        return self.maxsize > 0

    @property
    def blocked_share(self) -> float:
        return self.blocked_s / self.producer_s if self.producer_s > 0 else 0.0

    def __repr__(self) -> str:
        kind = f"Queue(maxsize={self.maxsize})" if self.bounded else "Queue() (no maxsize)"
        return (f"{kind}: {self.items} items, {self.consumers} consumers taking {self.hold_s * 1000:g} ms each\n"
                f"  most items waiting at once: {self.most_waiting}\n"
                f"  the producer took {self.producer_s:.3f} s, of which {self.blocked_s:.3f} s blocked in put() "
                f"({self.blocked_share:.0%})")


def feed(maxsize: int, items: int = 40, consumers: int = 2, hold_s: float = 0.01) -> Feeding:
    """Run `_produce` in this thread against `consumers` threads running `_consume`; every wait bounded."""
    from ..load import LoadMeter

    meter = LoadMeter()
    q: queue.Queue = queue.Queue(maxsize)
    log = _ProducerLog()
    threads = [threading.Thread(target=_consume, args=(q, hold_s), daemon=True, name=f"consumer-{k}")
               for k in range(consumers)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    _produce(q, items, consumers, log)
    producer_s = time.perf_counter() - t0
    for t in threads:
        t.join(WAIT_TIMEOUT_S)
    if any(t.is_alive() for t in threads):
        raise TimeoutError("a consumer did not end: was its sentinel lost?")
    return Feeding(maxsize, items, consumers, hold_s, log.most_waiting, log.blocked_s, producer_s, meter.read())


def feed_verdict(bounded: Feeding, unbounded: Feeding) -> str:
    """Checked lines: the bounded queue held the producer back, the unbounded one let it run ahead.

    Both rest on wide margins: with 40 items and consumers needing 10 ms each, a bounded producer waits
    for nearly all of the consumers' 0.2 s, while its own work is microseconds; an unbounded producer puts
    5 items long before a consumer sleeping 10 ms takes a second one.
    """
    lines = [f"Queue(maxsize={bounded.maxsize}): never more than {bounded.maxsize} items waiting: "
             f"{bounded.most_waiting <= bounded.maxsize}; the producer spent most of its time blocked in put(): "
             f"{bounded.blocked_share > 0.5}",
             f"Queue() with no maxsize: the producer ran ahead, more than {bounded.maxsize} items waiting: "
             f"{unbounded.most_waiting > bounded.maxsize}"]
    lines += [f.load.note() for f in (bounded, unbounded) if f.load is not None]
    return "\n".join(lines)


# -- where stuck threads wait -------------------------------------------------------------------------

_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<function>\S+)')


@dataclass(frozen=True)
class Waiting:
    """For each named function a thread was running, the source line it stood on when the dump was taken."""

    lines: tuple[tuple[str, str], ...]
    """(function, source line), in the order the functions were asked for; '?' where no thread ran it."""

    def all_at(self, text: str) -> bool:
        """Whether every named function stood on a line containing `text` (e.g. '.acquire(')."""
        return bool(self.lines) and all(text in line for _, line in self.lines)

    def __repr__(self) -> str:
        return "\n".join(f"{function} waits at: {line}" for function, line in self.lines)


def _threads(dump: str) -> list[list[tuple[str, int, str]]]:
    """The dump as one list of (file, line, function) frames per thread, most recent first."""
    threads: list[list[tuple[str, int, str]]] = []
    for raw in dump.splitlines():
        if raw.startswith(("Thread ", "Current thread ")):
            threads.append([])
        elif threads and (m := _FRAME.search(raw)):
            threads[-1].append((m["file"], int(m["line"]), m["function"]))
    return threads


def where_waiting(dump: str, functions: Sequence[str]) -> Waiting:
    """Read a `faulthandler.dump_traceback(all_threads=True)` text: where does each of `functions` stand?

    A thread blocked in a C call (`Lock.acquire`) shows no frame for it: its most recent Python frame is
    the line that made the call, which `linecache` turns back into source (a notebook cell's too).
    """
    found: dict[str, str] = {}
    for frames in _threads(dump):
        for file, line, function in frames:
            if function in functions and function not in found:
                found[function] = linecache.getline(file, line).strip() or f"line {line} of {file}"
                break
    return Waiting(tuple((f, found.get(f, "?")) for f in functions))


# -- single operations on shared built-in containers --------------------------------------------------


def _append(shared: dict, items: list, n: int) -> None:
    for i in range(n):
        items.append(i)                              # one call: list.append


def _set_own_keys(shared: dict, items: list, n: int) -> None:
    me = threading.get_ident()
    for i in range(n):
        shared[(me, i)] = i                          # one store: dict.__setitem__


def _augmented(shared: dict, items: list, n: int) -> None:
    for _ in range(n):
        shared["total"] += 1                         # read, add, write: three steps, no call between


def _get_then_set(shared: dict, items: list, n: int) -> None:
    for _ in range(n):
        shared["total"] = shared.get("total", 0) + 1  # read (a call), add, write


#: What each operation is, as a learner would write it, and what its final state should count.
OPERATIONS: dict[str, tuple[Callable[[dict, list, int], None], Callable[[dict, list], int]]] = {
    "items.append(i)": (_append, lambda d, lst: len(lst)),
    "d[(me, i)] = i": (_set_own_keys, lambda d, lst: len(d)),
    "d['total'] += 1": (_augmented, lambda d, lst: d.get("total", 0)),
    "d['total'] = d.get('total', 0) + 1": (_get_then_set, lambda d, lst: d.get("total", 0)),
}


@dataclass(frozen=True)
class SharedOps:
    """Threads applying one operation to one shared list or dict, under a tiny switch interval."""

    threads: int
    n: int
    runs: int
    counts: dict[str, tuple[int, ...]]
    """Per operation, what each run counted at the end (expected: threads * n)."""

    @property
    def expected(self) -> int:
        return self.threads * self.n

    def runs_with_losses(self, operation: str) -> int:
        return sum(1 for c in self.counts[operation] if c != self.expected)

    def table(self) -> Any:
        import pandas as pd

        return pd.DataFrame([{"operation": op, "expected": self.expected, "lowest count": min(c),
                              "runs that lost some": self.runs_with_losses(op), "runs": len(c)}
                             for op, c in self.counts.items()])

    def verdict(self) -> str:
        """The robust lines: single operations lost nothing; the read-call-write lost updates at least once."""
        single = [op for op in ("items.append(i)", "d[(me, i)] = i") if op in self.counts]
        lines = [f"{op}: every one of {self.expected:,} counted in all {self.runs} runs: "
                 f"{self.runs_with_losses(op) == 0}" for op in single]
        op = "d['total'] = d.get('total', 0) + 1"
        if op in self.counts:
            lines.append(f"{op}: updates lost in at least one run: {self.runs_with_losses(op) > 0}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"{self.threads} threads x {self.n:,} operations each, {self.runs} runs, switch interval "
                f"{TINY_SWITCH_INTERVAL_S * 1e6:g} us\n{self.table().to_string(index=False)}")


def shared_ops(operations: Sequence[str] = tuple(OPERATIONS), *, threads: int = 4, n: int = 50_000,
               runs: int = 5) -> SharedOps:
    """Run each operation in `threads` threads at once on one shared list and dict, `runs` times."""
    counts: dict[str, tuple[int, ...]] = {}
    with switch_interval(TINY_SWITCH_INTERVAL_S):
        for op in operations:
            fn, count = OPERATIONS[op]
            got = []
            for _ in range(runs):
                shared: dict = {"total": 0} if "total" in op else {}
                items: list = []
                errors = _run_threads(lambda fn=fn, shared=shared, items=items: fn(shared, items, n), threads)
                if errors:
                    raise errors[0]
                got.append(count(shared, items))
            counts[op] = tuple(got)
    return SharedOps(threads, n, runs, counts)
