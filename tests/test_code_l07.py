"""Lesson 07's code exercise: `check_run_isolated` runs a learner's `run_isolated(tasks)` in a child Python and
passes the answers that keep the good results, and names what went wrong in each common wrong answer (the
tasks run in the calling Python or in threads, a pool's BrokenProcessPool lost the results, a hang, results in
the wrong order or a wrong marker). The plain tasks of the lesson's opening do what their docstrings say."""

from __future__ import annotations

import multiprocessing

import pytest

from concurrency_lab import lessons
from concurrency_lab.lessons import robustness_exercise

STUB = '''
def run_isolated(tasks):
    return [task() for task in tasks]
'''

THREADS = '''
from concurrent.futures import ThreadPoolExecutor

def run_isolated(tasks):
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(task) for task in tasks]
        return [f.result(timeout=30) for f in futures]
'''

POOL_MAP = '''
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

def run_isolated(tasks):
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        return list(pool.map(_call, tasks, timeout=30))

def _call(task):
    return task()
'''

POOL_MAP_BUILTIN = '''
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

def run_isolated(tasks):
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        futures = [pool.submit(task) for task in tasks]
        return [f.result(timeout=30) for f in futures]
'''

MP_POOL_HANG = '''
import multiprocessing

def run_isolated(tasks):
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        handles = [pool.apply_async(task) for task in tasks]
        return [h.get() for h in handles]
'''

SOLUTION = '''
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

def run_isolated(tasks):
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        futures = [pool.submit(task) for task in tasks]
        results = []
        for future in futures:
            try:
                results.append(future.result(timeout=30))
            except BrokenProcessPool:
                results.append(None)
    return results
'''

FRESH_POOL = '''
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

def run_isolated(tasks):
    results = []
    for task in tasks:
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            try:
                results.append(pool.submit(task).result(timeout=30))
            except BrokenProcessPool as exc:
                results.append(exc)
    return results
'''

PROCESSES = '''
import multiprocessing

def _run(task, queue):
    queue.put(task())

def run_isolated(tasks):
    ctx = multiprocessing.get_context("spawn")
    results = []
    for task in tasks:
        queue = ctx.SimpleQueue()
        p = ctx.Process(target=_run, args=(task, queue))
        p.start()
        p.join(30)
        results.append(queue.get() if p.exitcode == 0 else None)
    return results
'''


WRONG_ORDER = '''
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed

def run_isolated(tasks):
    ctx = multiprocessing.get_context("spawn")
    results = []
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        futures = [pool.submit(task) for task in reversed(tasks)]
        for future in futures:
            try:
                results.append(future.result(timeout=30))
            except Exception:
                results.append(None)
    return results
'''

WRONG_MARKER = SOLUTION.replace("results.append(None)", 'results.append("crashed")')

HANGS = '''
import time

def run_isolated(tasks):
    time.sleep(3600)
'''


def answer(source: str):
    """The learner's cell, run as a notebook runs it: its functions belong to `__main__`."""
    namespace = {"__name__": "__main__"}
    exec(source, namespace)
    return namespace["run_isolated"]


def check(source: str, **kwargs) -> lessons.Feedback:
    return lessons.check_run_isolated(answer(source), **kwargs)


@pytest.mark.parametrize("source", [SOLUTION, FRESH_POOL], ids=["collect-each-future", "fresh-pool-per-task"])
def test_the_check_passes_answers_that_keep_the_good_results(source):
    feedback = check(source)
    assert feedback.ok, feedback
    assert "the five results [1, 4, 9, 16, 25]" in feedback.message


def test_the_stub_kills_the_python_that_calls_it_and_is_told_so():
    feedback = check(STUB)
    assert not feedback.ok
    assert feedback.message.startswith("your function ran the tasks in the Python that called it: the last "
                                       "task's abort killed that Python (SIGABRT)")


def test_threads_are_told_apart_from_the_calling_thread():
    feedback = check(THREADS)
    assert not feedback.ok
    assert feedback.message.startswith("your function ran the tasks in threads. The abort in one thread ended "
                                       "the whole Python (SIGABRT)")


def test_a_pool_that_raises_broken_process_pool_is_told_how_to_keep_what_finished():
    feedback = check(POOL_MAP_BUILTIN)
    assert not feedback.ok
    assert feedback.message.startswith("your function raised BrokenProcessPool, and the five good results were lost")
    assert "except BrokenProcessPool" in feedback.message


def test_a_helper_defined_in_the_notebook_cannot_go_to_a_spawn_worker():
    for source in (POOL_MAP, PROCESSES):
        feedback = check(source)
        assert not feedback.ok
        assert "A function defined in the notebook cannot be sent to a spawn worker" in feedback.message


def test_a_hang_is_ended_and_named():
    feedback = check(HANGS, timeout=3)
    assert not feedback.ok and feedback.message.startswith("your function did not return within 3 s")


@pytest.mark.timeout(120)
def test_a_multiprocessing_pool_that_waits_for_ever_is_ended():
    feedback = check(MP_POOL_HANG, timeout=8)
    assert not feedback.ok and "multiprocessing.Pool replaces a worker that died" in feedback.message


def test_wrong_order_and_wrong_marker_are_named():
    order = check(WRONG_ORDER)
    assert not order.ok and "in the order they finished" in order.message
    marker = check(WRONG_MARKER)
    assert not marker.ok and "mark the task that crashed with None" in marker.message


@pytest.mark.parametrize("got, words", [({"type": "generator"}, "returned a generator: return a list"),
                                        ([1, 4], "returned 2 entries for 6 tasks"),
                                        ([1, None, 9, 16, 25, None], "the result of task(s) [1] is missing")])
def test_returned_values_are_compared_with_what_was_expected(got, words):
    feedback = robustness_exercise._returned_feedback(got)
    assert not feedback.ok and words in feedback.message


def test_a_non_function_is_refused_without_running_anything():
    assert lessons.check_run_isolated(None).message.startswith("pass your function itself")


def test_the_plain_tasks_do_what_they_say():
    assert lessons.square(7) == 49
    assert [task() for task in lessons.isolation_tasks()[:5]] == [1, 4, 9, 16, 25]
    ctx = multiprocessing.get_context("spawn")
    process = ctx.Process(target=lessons.exit_with, args=(3,))
    process.start()
    process.join(60)
    assert process.exitcode == 3
