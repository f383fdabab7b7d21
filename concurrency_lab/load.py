"""How much of the machine other programs took while something was measured.

A learner's laptop is rarely quiet: a browser, a video call, an update. On 2 cores, one busy program is
enough to hide what a comparison should show (two processes cannot reach 2x when a third takes a core).
So a measurement can say, beside its result, what share of all cores went to programs other than ours,
and say when that share may have hidden the point.

The machine's busy time comes from the OS's counters for all CPUs (psutil.cpu_times); ours is given by
the caller (a watch knows it exactly) or read from this process and its children. On a virtual machine the
host may also hold our CPUs back for its other guests ("steal" time): that is counted apart, and named in
the note, because no program on the learner's machine took it (measured here: threads taking turns at the
GIL on an otherwise idle 2-vCPU VM lost 12-16% of the cores to steal, and read as 32% "other programs"
before it was counted apart; tests/test_load.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from . import info

#: Past this share of all cores taken by other programs, a comparison may not show its point: on 2 cores,
#: a quarter is half a core, enough to pull two processes' speedup visibly under 2x.
BUSY_SHARE = 0.25


@dataclass(frozen=True)
class Load:
    """What the machine did during one measurement."""

    wall_s: float
    cores: int
    busy_s: float
    """CPU seconds every program together used, over all cores."""
    ours_s: float
    """CPU seconds our own work used (this process and its children)."""
    steal_s: float = 0.0
    """CPU seconds a virtual machine's host held back from this machine's CPUs (0 on real hardware)."""

    @property
    def _capacity(self) -> float:
        return self.cores * self.wall_s

    @property
    def others_share(self) -> float:
        """The share of all cores' time that other programs used (0 to 1)."""
        capacity = self._capacity
        return min(max(self.busy_s - self.ours_s, 0.0) / capacity, 1.0) if capacity > 0 else 0.0

    @property
    def host_share(self) -> float:
        """The share of all cores' time a virtual machine's host held back (0 to 1)."""
        return min(self.steal_s / self._capacity, 1.0) if self._capacity > 0 else 0.0

    @property
    def busy(self) -> bool:
        """Whether other programs (and the host) took enough to hide the point of a comparison (`BUSY_SHARE`)."""
        return self.others_share + self.host_share > BUSY_SHARE

    def _host(self) -> str:
        """Named only when it matters: a VM's host holds back a few percent at almost any moment."""
        return f", and the virtual machine's host held back {self.host_share:.0%}" if self.host_share >= 0.05 else ""

    def short_note(self) -> str:
        """The same, short enough for a plot's caption."""
        busy = ": a busy machine may hide the point" if self.busy else ""
        return f"other programs used {self.others_share:.0%} of the CPU{self._host()}{busy}"

    def note(self) -> str:
        """One line to print beside a measurement: the share, and a warning past `BUSY_SHARE`."""
        line = f"other programs used {self.others_share:.0%} of the CPU during this run{self._host()}"
        if self.busy:
            line += " (a busy machine: the comparison may not show its point; close other programs and run it again)"
        return line


class LoadMeter:
    """Started before a measurement, read after it: `LoadMeter().read()` gives the `Load` in between."""

    def __init__(self) -> None:
        self._t0 = time.perf_counter()
        self._busy0, self._steal0 = machine_busy_s()
        self._ours0 = our_cpu_s()

    def read(self, ours_s: float | None = None) -> Load:
        """The load since this meter started; `ours_s` when the caller knows its own CPU use better."""
        wall = time.perf_counter() - self._t0
        ours = our_cpu_s() - self._ours0 if ours_s is None else ours_s
        busy, steal = machine_busy_s()
        return Load(wall, info.logical_cores(), busy - self._busy0, ours, steal - self._steal0)


def machine_busy_s() -> tuple[float, float]:
    """CPU seconds all programs have used since boot, over all cores (not idle, not waiting for I/O, not
    held back by a VM's host), and the seconds the host held back ("steal", Linux only)."""
    import psutil

    t = psutil.cpu_times()
    steal = getattr(t, "steal", 0.0)
    guest = getattr(t, "guest", 0.0) + getattr(t, "guest_nice", 0.0)  # already inside user and nice
    return sum(t) - t.idle - getattr(t, "iowait", 0.0) - steal - guest, steal


def our_cpu_s() -> float:
    """CPU seconds this process, its finished children and its running descendants (with theirs) have used.

    A running descendant's reaped children count too: a forkserver is our child, and the pool workers it
    forks are its children, so when they exit their CPU lands in its `children_*` times. Without them a
    CPU-bound run on a forkserver pool counted as other programs' load (94% on a run that was mostly ours).
    """
    import psutil

    me = psutil.Process()
    t = me.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in me.children(recursive=True):
        try:
            c = child.cpu_times()
            total += c.user + c.system + c.children_user + c.children_system
        except psutil.Error:
            pass  # it ended meanwhile
    return total
