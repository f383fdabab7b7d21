"""Issue 16, lesson 01: the fork facts are measured in child Pythons (copy-on-write and reference counts,
gc.freeze, a thread's stack reserved but not resident, the 3.12 DeprecationWarning), and each checked line
holds on this machine."""

from __future__ import annotations

import sys

import pytest

from concurrency_lab import lessons
from concurrency_lab.lessons.basics_fork import ForkWarning, ThreadStacks

HAS_FORK = sys.platform != "win32"


def all_true(verdict: str) -> bool:
    return all(line.endswith(": True") for line in verdict.splitlines() if ": " in line)


def test_waiting_threads_reserve_stacks_but_make_little_resident():
    stacks = lessons.thread_stacks()
    assert all_true(stacks.verdict()), repr(stacks)


@pytest.mark.skipif(not HAS_FORK, reason="no fork()")
def test_reading_forked_data_copies_it_and_gc_freeze_spares_only_the_collector():
    cow = lessons.copy_on_write()
    assert all_true(cow.verdict()), repr(cow)


@pytest.mark.skipif(not HAS_FORK, reason="no fork()")
def test_the_fork_warning_shows_exactly_from_3_12():
    warning = lessons.fork_with_threads()
    assert warning.warned == (sys.version_info >= (3, 12)), warning.output
    assert all_true(warning.verdict())


def test_a_missing_or_unexpected_warning_reads_false():
    assert ForkWarning((3, 12), "no warning here").verdict().endswith(": False")
    text = "DeprecationWarning: This process is multi-threaded, use of fork() may lead to deadlocks in the child."
    assert ForkWarning((3, 11), text).verdict().endswith(": False")
    assert ForkWarning((3, 13), text).verdict().endswith(": True")


def test_a_thread_that_touched_its_stack_fails_the_resident_line():
    assert not all_true(ThreadStacks(address_space=80 << 20, resident=40 << 20).verdict())


def test_this_kernel_counts_its_threads():
    assert lessons.kernel_threads() >= 1
