"""The sampler's own reading (`watching._sampler`, Linux's /proc): what a lane counts, and what it skips reading.

`test_watch.py` checks whole watches; these check two ways the sampler reads less than one file per thread
per sample, and that nothing is lost by them.
"""

from __future__ import annotations

import os
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
        done = subprocess.run([sys.executable, "-c", SHORT_THREADS], capture_output=True, text=True,
                              timeout=60, check=True)
    used = float(done.stdout)
    lane = next(lane for lane in watched.record.lanes if lane.kind == "process" and "subprocess" in lane.name)
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


@pytest.mark.parametrize("program, runs", [("import time; time.sleep(60)", False),
                                           ("while True: pass", True)])
def test_a_process_that_has_not_run_since_the_last_sample_is_not_read_again(monkeypatch, program, runs):
    """When the watched process's CPU clock has not moved, none of its threads ran: each keeps its value,
    exactly, with no read. A process that runs is read again. (Whether a spinning process's clock moves
    between two samples 5 ms apart depends on the machine's load and tick, so only that is asserted.)"""
    from concurrency_lab.watching import _readers, _sampler

    child = subprocess.Popen([sys.executable, "-c", program])
    try:
        time.sleep(0.5)  # past its start-up
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
