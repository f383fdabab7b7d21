"""Peak memory of the parent and of worker processes (parent side only).

Where Linux allows it, the peak ("high water mark") is reset at the start of
a run by writing 5 to /proc/<pid>/clear_refs and read back from VmHWM, so the
peak belongs to this run and not to the kernel's whole life. Elsewhere we fall
back to what psutil offers (peak working set on Windows, current RSS on macOS).
"""

from __future__ import annotations

import os
import sys


def _reset_peak(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _linux_peak(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def peak_rss(pid: int) -> int:
    """The peak resident set of `pid` in bytes, best effort (0 if unknown)."""
    if sys.platform.startswith("linux"):
        peak = _linux_peak(pid)
        if peak is not None:
            return peak
    try:
        import psutil

        info = psutil.Process(pid).memory_info()
        return int(getattr(info, "peak_wset", 0) or info.rss)
    except Exception:  # the process is gone, or psutil is missing
        return 0


class PeakMemory:
    """Reset the peaks at construction; `read()` returns (parent, sum of workers)."""

    def __init__(self, worker_pids: list[int]) -> None:
        self.worker_pids = list(worker_pids)
        for pid in [os.getpid(), *self.worker_pids]:
            _reset_peak(pid)

    def read(self) -> tuple[int, int]:
        return peak_rss(os.getpid()), sum(peak_rss(pid) for pid in self.worker_pids)


def uss(pid: int) -> int:
    """Unique set size: memory that would be freed if `pid` exited (bytes, best effort)."""
    import psutil

    try:
        return int(psutil.Process(pid).memory_full_info().uss)
    except Exception:
        return 0
