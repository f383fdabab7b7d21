"""`load`: our own CPU counts as ours, also that of pool workers a forkserver started and reaped; a comparison
on a forkserver pool once read as 94% other programs' load (issue 16)."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

from concurrency_lab import workloads
from concurrency_lab.load import Load, LoadMeter, our_cpu_s


def test_busy_means_other_programs_took_over_the_share():
    assert not Load(wall_s=1.0, cores=2, busy_s=1.2, ours_s=1.0).busy  # 10% others
    assert Load(wall_s=1.0, cores=2, busy_s=2.0, ours_s=1.0).busy  # 50% others
    assert Load(wall_s=1.0, cores=2, busy_s=0.5, ours_s=1.0).others_share == 0.0  # never below 0


@pytest.mark.skipif("forkserver" not in multiprocessing.get_all_start_methods(), reason="no forkserver")
def test_workers_a_forkserver_reaped_count_as_ours():
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(2, mp_context=ctx) as pool:
        list(pool.map(abs, [1, 2]))  # the forkserver is up
        before = our_cpu_s()
        meter = LoadMeter()
        list(pool.map(workloads.cpu, [2_000_000] * 4, timeout=60))
    # the pool's workers ended and the forkserver (still running) reaped them
    ours = our_cpu_s() - before
    load = meter.read()
    assert ours > 0.3, f"our CPU {ours:.2f} s misses the workers'"
    assert load.ours_s == pytest.approx(ours, rel=0.2)


def test_a_hosts_steal_is_counted_apart_and_named():
    """On a VM the host's steal is no program of the learner's: it is named apart, and still counts toward
    a busy machine (the cores were not ours to use)."""
    load = Load(wall_s=1.0, cores=2, busy_s=1.0, ours_s=0.96, steal_s=0.3)
    assert load.others_share == pytest.approx(0.02)
    assert load.note() == ("other programs used 2% of the CPU during this run, "
                           "and the virtual machine's host held back 15%")
    assert not load.busy
    assert Load(wall_s=1.0, cores=2, busy_s=1.0, ours_s=0.6, steal_s=0.4).busy  # 20% + 20%
    assert "host" not in Load(wall_s=1.0, cores=2, busy_s=1.0, ours_s=1.0, steal_s=0.04).note()  # 2%: not named
