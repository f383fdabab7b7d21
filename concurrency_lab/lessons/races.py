"""Lesson 06 (shared state and races): lost updates made visible, the lock that fixes them, and the
exercise's check (make a deposit safe with a lock). The ways processes share (nothing, a Value, a Manager,
shared memory), each measured, are in `races_sharing`.

Why the demonstrations look the way they do:

- A race needs a thread switch *between* a read and its write. `racy_add` puts a `time.sleep(0)` there (it
  stands for any wait: I/O, a log line, a database read), which hands the GIL over, so the race shows on
  every run, on any CPython from 3.11 to 3.14, with or without the GIL.
- `racy_add_busy` has only computation there; the interpreter then switches only when it is asked to (every
  `sys.getswitchinterval()` seconds), so lost updates are rare at the default 5 ms and certain at 1 us.
  That is why races survive testing, and why `switch_interval` shrinks the interval (restored afterwards).
- Every thread wait has a timeout; threads are daemons, so a deadlocked exercise answer cannot keep the
  kernel from exiting.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..timing import switch_interval
from ._feedback import Feedback

__all__ = ['Tally', 'racy_add', 'racy_add_busy', 'locked_add', 'plain_add', 'switch_interval', 'RaceRuns', 'race',
           'IntervalSweep', 'interval_sweep', 'Account', 'racy_deposit', 'check_deposit']

#: How long any wait for threads or processes may take before we call it a hang (far above the ~0.1-1 s
#: these demonstrations take on a busy 2-core machine).
WAIT_TIMEOUT_S = 60.0
#: A switch interval so short that the interpreter hands the GIL over at nearly every chance it gets.
TINY_SWITCH_INTERVAL_S = 1e-6


# -- threads: the race and the lock ---------------------------------------------------------------


@dataclass
class Tally:
    """A number many threads add to, and the lock that can protect it."""

    value: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


def racy_add(tally: Tally, n: int) -> None:
    """`tally.value += 1`, n times, as three steps with a wait in the middle: read, wait, write."""
    for _ in range(n):
        value = tally.value        # 1. read
        time.sleep(0)              # 2. wait (I/O, a log line...): another thread runs now
        tally.value = value + 1    # 3. write what we read plus one: anything others added meanwhile is lost


def racy_add_busy(tally: Tally, n: int) -> None:
    """Read, compute a moment, write: no wait, so only a forced thread switch can cut in."""
    for _ in range(n):
        value = tally.value
        for _ in range(2):         # compute a moment: each turn of a loop is a point where a switch may land
            pass
        tally.value = value + 1


def locked_add(tally: Tally, n: int) -> None:
    """`racy_add` with the read, the wait and the write under one lock: no other thread can cut in."""
    for _ in range(n):
        with tally.lock:
            value = tally.value
            time.sleep(0)
            tally.value = value + 1


def plain_add(tally: Tally, n: int) -> None:
    """The bare `+= 1`: still a read and a write, but with no point in between where CPython (3.10+,
    with the GIL) switches threads. Safe by luck of an implementation detail, not by promise."""
    for _ in range(n):
        tally.value += 1


def _run_threads(target: Callable[[], Any], threads: int, timeout: float = WAIT_TIMEOUT_S) -> list[BaseException]:
    """Run `target` in `threads` daemon threads that start together; return what they raised.

    Daemon threads and a bounded join: a thread stuck forever (a deadlock) is reported, never waited on.
    """
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def body() -> None:
        try:
            barrier.wait(timeout)
            target()
        except BaseException as exc:  # reported to the caller, not lost in a thread
            errors.append(exc)

    workers = [threading.Thread(target=body, daemon=True, name=f"lesson06-{k}") for k in range(threads)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + timeout
    for w in workers:
        w.join(max(deadline - time.monotonic(), 0.0))
    if any(w.is_alive() for w in workers):
        raise TimeoutError(f"threads still running after {timeout:g} s: a deadlock?")
    return errors


@dataclass(frozen=True)
class RaceRuns:
    """Several runs of `threads` threads each adding 1, `n` times, to one shared tally."""

    function: str
    threads: int
    n: int
    switch_interval: float
    totals: tuple[int, ...]

    @property
    def expected(self) -> int:
        return self.threads * self.n

    @property
    def lost(self) -> tuple[int, ...]:
        return tuple(self.expected - t for t in self.totals)

    @property
    def runs_with_losses(self) -> int:
        return sum(1 for x in self.lost if x > 0)

    def verdict(self) -> str:
        """The robust part, in words: did any run lose updates, and how many runs?"""
        runs = len(self.totals)
        if self.runs_with_losses == 0:
            return f"{self.function}: exact in {runs} of {runs} runs"
        return f"{self.function}: lost updates in {self.runs_with_losses} of {runs} runs"

    def __repr__(self) -> str:
        got = ", ".join(f"{t:,}" for t in self.totals)
        lost = ", ".join(f"{x:,}" for x in self.lost)
        return (f"{self.function}: {self.threads} threads x {self.n:,} increments, switch interval "
                f"{self.switch_interval * 1e6:g} us\n  expected {self.expected:,} per run\n  got      {got}\n"
                f"  lost     {lost}")


def race(fn: Callable[[Tally, int], Any], *, threads: int = 4, n: int = 500, runs: int = 5,
         interval: float | None = None) -> RaceRuns:
    """Run `fn(tally, n)` in `threads` threads at once, `runs` times, with the switch interval set to
    `interval` seconds meanwhile (None: as it is); the totals show how many updates survived.

    For `racy_add_busy` give n in the tens of thousands: each thread must then compute for tens of ms,
    longer than a busy OS may take to wake the others, or the threads might just run one after another.
    """
    totals = []
    with switch_interval(interval):
        used = sys.getswitchinterval()
        for _ in range(runs):
            tally = Tally()
            errors = _run_threads(lambda t=tally: fn(t, n), threads)
            if errors:
                raise errors[0]
            totals.append(tally.value)
    return RaceRuns(getattr(fn, "__name__", "fn"), threads, n, used, tuple(totals))


@dataclass(frozen=True)
class IntervalSweep:
    """The same race at several switch intervals and run lengths: how often does it bite?"""

    sweeps: tuple[RaceRuns, ...]

    def table(self) -> Any:
        """One row per (interval, increments per thread): runs that lost updates, and the median loss."""
        import statistics

        import pandas as pd

        return pd.DataFrame([{"switch_interval_us": r.switch_interval * 1e6, "increments_per_thread": r.n,
                              "runs": len(r.totals), "runs_that_lost": r.runs_with_losses,
                              "median_lost": statistics.median(r.lost)} for r in self.sweeps])

    def verdict(self) -> str:
        """The robust row: the tiniest interval with the longest runs."""
        r = min(self.sweeps, key=lambda r: (r.switch_interval, -r.n))
        return (f"switch interval {r.switch_interval * 1e6:g} us, {r.n:,} increments per thread: "
                f"lost updates in {r.runs_with_losses} of {len(r.totals)} runs")

    def __repr__(self) -> str:
        return self.table().to_string(index=False)


def interval_sweep(fn: Callable[[Tally, int], Any] = racy_add_busy, *, sizes: tuple[int, ...] = (1000, 50_000),
                   intervals: tuple[float | None, ...] = (None, TINY_SWITCH_INTERVAL_S), runs: int = 5,
                   threads: int = 4) -> IntervalSweep:
    """`race(fn)` for every (switch interval, increments per thread); None is the interval as it is."""
    return IntervalSweep(tuple(race(fn, threads=threads, n=n, runs=runs, interval=iv)
                               for iv in intervals for n in sizes))


# -- the exercise ---------------------------------------------------------------------------------


class Account:
    """A bank account whose balance lives somewhere slow: reading it lets other threads run,
    as a database or network read would."""

    def __init__(self, balance: int = 0) -> None:
        self._balance = balance

    @property
    def balance(self) -> int:
        value = self._balance
        time.sleep(0)  # the read takes a moment; the GIL is free meanwhile
        return value

    @balance.setter
    def balance(self, value: int) -> None:
        self._balance = value

    def __repr__(self) -> str:
        return f"Account(balance={self._balance})"


def racy_deposit(account: Account, amount: int) -> None:
    """The exercise's starting point: read the balance, then write it back plus `amount`."""
    balance = account.balance
    account.balance = balance + amount


#: The exercise's load: threads x deposits of 1, repeated in rounds, under the tiny switch interval.
CHECK_THREADS, CHECK_DEPOSITS, CHECK_ROUNDS = 4, 250, 5
#: A correct answer takes well under a second here; past this, the check calls it a deadlock.
CHECK_TIMEOUT_S = 20.0


def check_deposit(deposit: Any) -> Feedback:
    """Exercise 06: is `deposit(account, amount)` safe when many threads deposit into one account at once?"""
    if not callable(deposit):
        return Feedback(False, "pass your function itself: `lessons.check_deposit(deposit)`")
    expected = CHECK_THREADS * CHECK_DEPOSITS
    totals = []
    with switch_interval(TINY_SWITCH_INTERVAL_S):
        for _ in range(CHECK_ROUNDS):
            account = Account()

            def work(account: Account = account) -> None:
                for _ in range(CHECK_DEPOSITS):
                    deposit(account, 1)

            try:
                errors = _run_threads(work, CHECK_THREADS, CHECK_TIMEOUT_S)
            except TimeoutError:
                return Feedback(False, f"the deposits did not finish within {CHECK_TIMEOUT_S:g} s: a deadlock? "
                                       "A threading.Lock cannot be taken twice, even by the same thread.")
            if errors:
                return Feedback(False, f"your function raised {type(errors[0]).__name__}: {errors[0]}")
            totals.append(account._balance)
    return _deposit_feedback(totals, expected)


def _deposit_feedback(totals: list[int], expected: int) -> Feedback:
    bad = [t for t in totals if t != expected]
    if not bad:
        return Feedback(True, f"{len(totals)} rounds of {CHECK_THREADS} threads x {CHECK_DEPOSITS} deposits: every "
                              "deposit counted. The lock makes read-then-write one step no other thread can cut into.")
    if any(t > expected for t in bad):
        return Feedback(False, f"the balance went above the {expected:,} deposited: deposit exactly `amount`, "
                               "once per call.")
    return Feedback(False, f"deposits were lost: the balance came up short of the {expected:,} deposited. Put the "
                           "read AND the write inside one `with lock:`, and make the lock once, outside the "
                           "function, so every thread uses the same one.")
