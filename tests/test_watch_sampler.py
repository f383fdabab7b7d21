"""The sampler's own reading (`watching._sampler`, Linux's /proc): what a lane counts, and what it skips reading.

`test_watch.py` checks whole watches; these check two ways the sampler reads less than one file per thread
per sample, and that nothing is lost by them.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time

import pytest

from concurrency_lab import watch
from concurrency_lab.watching import default_backend

pytestmark = pytest.mark.skipif(default_backend() != "proc", reason="the /proc reader is Linux's")

#: A child Python that runs 8 threads of 40 ms one after another, each shorter than the sampler's 0.1 s
#: between looks at the tree, then prints the CPU seconds it used in all.
SHORT_THREADS = (
    "import threading, time\n"
    "def spin():\n"
    "    end = time.thread_time() + 0.04\n"
    "    while time.thread_time() < end:\n"
    "        pass\n"
    "for _ in range(8):\n"
    "    t = threading.Thread(target=spin)\n"
    "    t.start()\n"
    "    t.join(10)\n"
    "print(time.process_time())\n"
)


def test_a_child_process_counts_threads_it_ran_between_two_looks():
    """A process lane is read whole, from the process's CPU clock, which keeps what its ended threads ran.
    Summed from the threads each look found, most of these 0.32 s were lost."""
    with watch() as watched:
        child = subprocess.Popen([sys.executable, "-c", SHORT_THREADS], stdout=subprocess.PIPE, text=True)
        try:
            out, _ = child.communicate(timeout=60)
        finally:
            child.kill()
            child.wait(10)
    used = float(out)
    (lane,) = [lane for lane in watched.record.lanes if lane.kind == "process" and lane.pid == child.pid]
    # What it ran after its last read (its exit) is not in the lane; what it printed leaves that out too.
    assert watched.record.total(lane) == pytest.approx(used, rel=0.1, abs=0.03), (watched.record.total(lane), used)


def _counting_preads(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = os.pread

    def pread(fd: int, n: int, offset: int) -> bytes:
        calls.append(fd)
        return real(fd, n, offset)

    monkeypatch.setattr(os, "pread", pread)
    return calls


def _recording_clock(monkeypatch, clock_id: int) -> list[int]:
    seen: list[int] = []
    real = time.clock_gettime_ns

    def clock(cid: int) -> int:
        value = real(cid)
        if cid == clock_id:
            seen.append(value)
        return value

    monkeypatch.setattr(time, "clock_gettime_ns", clock)
    return seen


def _until_still(clock_id: int, timeout: float = 10.0) -> None:
    """Wait until the process's CPU clock stays the same over 20 ms, on a machine however busy."""
    deadline = time.monotonic() + timeout
    before = time.clock_gettime_ns(clock_id)
    while time.monotonic() < deadline:
        time.sleep(0.02)
        now = time.clock_gettime_ns(clock_id)
        if now == before:
            return
        before = now
    raise AssertionError(f"the child still ran after {timeout} s")


@pytest.mark.parametrize("program, runs", [("import time; time.sleep(60)", False),
                                           ("while True: pass", True)])
def test_a_process_that_has_not_run_since_the_last_sample_is_not_read_again(monkeypatch, program, runs):
    """When the watched process's CPU clock has not moved, none of its threads ran: each keeps its value,
    exactly, with no read. A process that runs is read again. (Whether a spinning process's clock moves
    between two samples 5 ms apart depends on the machine's load and tick, so only that is asserted.)"""
    from concurrency_lab.watching import _readers, _sampler

    monkeypatch.setattr(_sampler, "QUIET_AFTER", 10**9)  # no idle lane: `_spread` would rewrite skipped samples
    child = subprocess.Popen([sys.executable, "-c", f"print('ready', flush=True)\n{program}"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert select.select([child.stdout], [], [], 60)[0], "the child did not start in 60 s"
        assert child.stdout.readline() == "ready\n"
        if not runs:
            _until_still(_readers.ProcReader.process_clock(child.pid))  # its print done, its sleep begun
        sampler = _sampler.Sampler(_readers.ProcReader(child.pid, os.getpid()), 0.005)
        assert sampler.look_at_tree(0)
        sampler.sample()
        calls = _counting_preads(monkeypatch)
        clocks = _recording_clock(monkeypatch, sampler.whole)
        for _ in range(20):
            time.sleep(0.005)
            sampler.sample()
    finally:
        child.kill()
        child.wait(10)
    (lane,) = sampler.lanes.values()
    values = lane.values[1:]
    assert len(values) == 20 and None not in values and len(clocks) == 20
    for before, after, clock_before, clock_after in zip(values[:-1], values[1:], clocks[:-1], clocks[1:], strict=True):
        assert after >= before
        if clock_after == clock_before:
            assert after == before
    if runs:
        assert calls and values[-1] > values[0]
    else:
        assert calls == [] and len(set(values)) == 1
