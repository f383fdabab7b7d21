"""Lesson 12 (coordinating workers): the bounded queue holds a producer back and the unbounded one does not,
a faulthandler dump is read back to where each deadlocked thread waits, single operations on shared
containers lose nothing while a read-call-write does, and the pipeline exercise's check tells a right answer
from each common wrong one, never hanging and leaving no thread behind."""

from __future__ import annotations

import faulthandler
import queue
import sys
import tempfile
import threading
import time
from collections.abc import Iterator

import pytest

from concurrency_lab import lessons
from concurrency_lab.lessons import coordination, coordination_exercise

STOP = None
#: Short, so a wrong answer that hangs costs the suite a little: a right one answers in about 0.2 s.
HANG_TIMEOUT_S = 2.0


@pytest.fixture(autouse=True)
def no_thread_left_behind() -> Iterator[None]:
    """Every test ends with the threads it began with (its own leaks cleaned up by the test)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    for t in set(threading.enumerate()) - before:
        t.join(max(deadline - time.monotonic(), 0.0))
    left = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    assert left == [], f"threads left running: {left}"


# -- back-pressure ------------------------------------------------------------------------------------


def test_a_bounded_queue_holds_the_producer_back_and_an_unbounded_one_does_not():
    bounded, unbounded = lessons.feed(maxsize=4), lessons.feed(maxsize=0)
    assert bounded.most_waiting <= 4 and bounded.blocked_share > 0.5, bounded
    assert unbounded.most_waiting > 4, unbounded
    verdict = lessons.feed_verdict(bounded, unbounded)
    assert "False" not in verdict and verdict.count("True") == 3, verdict
    assert "Queue(maxsize=4)" in repr(bounded) and "no maxsize" in repr(unbounded)


# -- where stuck threads wait -------------------------------------------------------------------------


def _deadlock_and_dump() -> str:
    """Two threads, two locks, opposite order, forced by a barrier; dump while both wait; end both."""
    a, b = threading.Lock(), threading.Lock()
    both = threading.Barrier(2, timeout=10)
    gave_up = threading.Barrier(2, timeout=10)  # nobody releases its first lock until both have given up

    def first_a():
        with a:
            both.wait()
            got = b.acquire(timeout=1.5)
            gave_up.wait()
            assert not got

    def first_b():
        with b:
            both.wait()
            got = a.acquire(timeout=1.5)
            gave_up.wait()
            assert not got

    threads = [threading.Thread(target=first_a, daemon=True), threading.Thread(target=first_b, daemon=True)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    with tempfile.TemporaryFile("w+") as f:
        faulthandler.dump_traceback(file=f, all_threads=True)
        f.seek(0)
        dump = f.read()
    for t in threads:
        t.join(10)
    return dump


def test_where_waiting_reads_a_real_dump_back_to_the_acquire_lines():
    waiting = lessons.where_waiting(_deadlock_and_dump(), ["first_a", "first_b"])
    assert waiting.lines == (("first_a", "got = b.acquire(timeout=1.5)"), ("first_b", "got = a.acquire(timeout=1.5)"))
    assert waiting.all_at(".acquire(")
    assert repr(waiting).splitlines()[0] == "first_a waits at: got = b.acquire(timeout=1.5)"


def test_where_waiting_says_so_when_no_thread_ran_a_function():
    dump = ('Thread 0x00007f00 (most recent call first):\n  File "/nowhere/x.py", line 3 in elsewhere\n\n'
            'Current thread 0x00007f01 (most recent call first):\n  File "/nowhere/x.py", line 9 in <module>\n')
    waiting = lessons.where_waiting(dump, ["elsewhere", "missing"])
    assert waiting.lines == (("elsewhere", "line 3 of /nowhere/x.py"), ("missing", "?"))
    assert not waiting.all_at(".acquire(")
    assert not lessons.where_waiting("", []).all_at(".acquire(")


# -- single operations on shared containers ----------------------------------------------------------


def test_single_operations_lose_nothing_and_a_read_call_write_loses_updates():
    before = sys.getswitchinterval()
    ops = lessons.shared_ops()
    assert sys.getswitchinterval() == before  # restored
    assert ops.runs_with_losses("items.append(i)") == 0 and ops.runs_with_losses("d[(me, i)] = i") == 0
    assert ops.runs_with_losses("d['total'] = d.get('total', 0) + 1") > 0, ops
    verdict = ops.verdict()
    assert "False" not in verdict and verdict.count("True") == 3, verdict
    assert list(ops.table()["operation"]) == list(coordination.OPERATIONS)


# -- the exercise: right answers ----------------------------------------------------------------------


def solution(items, work, workers, maxsize):
    tasks = queue.Queue(maxsize)
    results = []

    def worker():
        while True:
            item = tasks.get(timeout=30)
            if item is STOP:
                return
            results.append(work(item))

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for item in items:
        tasks.put(item, timeout=30)
    for _ in threads:
        tasks.put(STOP, timeout=30)
    for t in threads:
        t.join(timeout=30)
    return results


def test_the_solution_passes():
    feedback = lessons.check_pipeline(solution)
    assert feedback.ok, feedback
    assert repr(feedback).startswith("\u2713 Right")


@pytest.mark.skipif(sys.version_info < (3, 13), reason="Queue.shutdown is new in 3.13")
def test_a_solution_ending_workers_with_shutdown_passes():
    def with_shutdown(items, work, workers, maxsize):
        tasks, results = queue.Queue(maxsize), []

        def worker():
            while True:
                try:
                    item = tasks.get(timeout=30)
                except queue.ShutDown:
                    return
                results.append(work(item))

        threads = [threading.Thread(target=worker) for _ in range(workers)]
        for t in threads:
            t.start()
        for item in items:
            tasks.put(item, timeout=30)
        tasks.shutdown()
        for t in threads:
            t.join(timeout=30)
        return results

    assert lessons.check_pipeline(with_shutdown).ok


# -- the exercise: each common wrong answer, and what the check says ---------------------------------


def _leaky(join_timeout: float | None, leaked: list, *, bounded: bool = True, listed: bool = False,
           sentinels: bool = True, twice: bool = False, joins: bool = True, per_item: bool = False):
    """A pipeline with one mistake switched on; its queue and workers go to `leaked`, so the test can end them."""
    def pipeline(items, work, workers, maxsize):
        tasks = queue.Queue(maxsize if bounded else 0)
        results = []

        def worker():
            while True:
                item = tasks.get(timeout=30)
                if item is STOP:
                    return
                results.append(work(item))
                if twice:
                    results.append(work(item))

        if per_item:
            threads = [threading.Thread(target=lambda i=i: results.append(work(i)), daemon=True) for i in items]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            return results
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
        leaked.append((tasks, threads))
        for t in threads:
            t.start()
        for item in (list(items) if listed else items):
            tasks.put(item, timeout=30)
        if sentinels:
            for _ in threads:
                tasks.put(STOP, timeout=30)
        if joins:
            for t in threads:
                t.join(join_timeout)
        return results

    return pipeline


def _end(leaked: list) -> None:
    """Send each worker a wrong answer left waiting the sentinel it forgot, so it ends."""
    for tasks, threads in leaked:
        for _ in range(sum(t.is_alive() for t in threads)):  # counted first: any worker may take any sentinel
            tasks.put(STOP, timeout=5)
        for t in threads:
            t.join(5)


def _check(pipeline, **kwargs) -> lessons.Feedback:
    feedback = lessons.check_pipeline(pipeline, **kwargs)
    assert not feedback.ok, feedback
    assert repr(feedback).startswith("\u2717 Not yet")
    return feedback


def test_the_sequential_stub_fails():
    def stub(items, work, workers, maxsize):
        return [work(item) for item in items]

    assert "one item at a time" in _check(stub).message


def test_forgotten_sentinels_with_a_plain_join_time_out_and_do_not_hang():
    leaked: list = []
    t0 = time.monotonic()
    feedback = _check(_leaky(None, leaked, sentinels=False), timeout=HANG_TIMEOUT_S)
    assert time.monotonic() - t0 < HANG_TIMEOUT_S + coordination_exercise.GRACE_S + 5
    assert "did not return" in feedback.message and "sentinel" in feedback.message
    _end(leaked)


def test_forgotten_sentinels_with_a_bounded_join_leave_threads_running():
    leaked: list = []
    feedback = _check(_leaky(0.05, leaked, sentinels=False), timeout=HANG_TIMEOUT_S)
    assert "still running after pipeline returned" in feedback.message
    _end(leaked)


def test_an_unbounded_queue_has_no_back_pressure():
    leaked: list = []
    assert "no back-pressure" in _check(_leaky(30, leaked, bounded=False)).message


def test_listing_the_items_first_has_no_back_pressure_either():
    leaked: list = []
    assert "no back-pressure" in _check(_leaky(30, leaked, listed=True)).message


def test_duplicated_results_are_named():
    leaked: list = []
    assert "more than once" in _check(_leaky(30, leaked, twice=True)).message


def test_returning_before_the_workers_finish_is_named():
    """Results are missing, or (if the last workers were quick) threads were still running at the return."""
    leaked: list = []
    feedback = _check(_leaky(30, leaked, joins=False))
    assert "missing" in feedback.message and "join" in feedback.message.lower()
    _end(leaked)


def test_a_thread_per_item_is_more_than_workers():
    leaked: list = []
    assert "different threads, but workers=" in _check(_leaky(30, leaked, per_item=True)).message


@pytest.mark.parametrize(("returned", "words"), [(None, "returned None"), (42, "returned 42"),
                                                  ("abc", "returned 'abc'"), ([[1]], "not a list of work")])
def test_a_wrong_return_value_is_named(returned, words):
    def wrong(items, work, workers, maxsize):
        solution(items, work, workers, maxsize)
        return returned

    assert words in _check(wrong).message


def test_values_work_did_not_return_are_named():
    def plus_one(items, work, workers, maxsize):
        return [r + 1 for r in solution(items, work, workers, maxsize)]

    assert "did not return" in _check(plus_one).message


def test_an_error_is_reported_and_a_non_function_is_refused():
    def raises(items, work, workers, maxsize):
        raise ValueError("boom")

    assert "raised ValueError: boom" in _check(raises).message
    assert "pass your function itself" in _check("pipeline").message
