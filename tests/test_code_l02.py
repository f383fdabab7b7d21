"""Lesson 02's coding exercise (issue 17): `check_parallel_cpu` runs the learner's function watched and
names each common wrong answer (a loop, threads, a forked or one-worker pool, a notebook function sent to a
spawn pool, wrong results, a hang); it passes the solution. "Used processes" is judged by the worker lanes
the watch saw, never by speed."""

from __future__ import annotations

import multiprocessing
import sys
import time
import types
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from concurrency_lab import lessons
from concurrency_lab.workloads import cpu

LESSON = next((Path(__file__).resolve().parents[1] / "notebooks").glob("02_*.md"))
SPAWN = multiprocessing.get_context("spawn")


def solution(sizes):
    with ProcessPoolExecutor(max_workers=2, mp_context=SPAWN) as pool:
        return list(pool.map(cpu, sizes, timeout=60))


def loop(sizes):
    return [cpu(n) for n in sizes]


def threads(sizes):
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(cpu, sizes))


def one_worker(sizes):
    with ProcessPoolExecutor(max_workers=1, mp_context=SPAWN) as pool:
        return list(pool.map(cpu, sizes))


def wrong(sizes):
    return [n * n for n in sizes]


def stub(sizes):
    ...


def slow(sizes):
    time.sleep(5)
    return loop(sizes)


def test_the_solution_passes():
    feedback = lessons.check_parallel_cpu(solution)
    assert feedback.ok, feedback.message
    assert "2 worker processes" in feedback.message


def test_a_multiprocessing_pool_passes_too():
    def pool(sizes):
        with SPAWN.Pool(2) as p:
            return p.map(cpu, sizes)

    assert lessons.check_parallel_cpu(pool).ok


def test_a_loop_is_told_no_worker_process_ran():
    feedback = lessons.check_parallel_cpu(loop)
    assert not feedback.ok and "no worker process ran" in feedback.message


def test_threads_are_named():
    feedback = lessons.check_parallel_cpu(threads)
    assert not feedback.ok and "from threads" in feedback.message


def test_one_worker_is_not_enough():
    feedback = lessons.check_parallel_cpu(one_worker)
    assert not feedback.ok and "only one was started" in feedback.message


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
def test_a_forked_pool_is_asked_for_an_explicit_start_method():
    def forked(sizes):
        with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(cpu, sizes))

    feedback = lessons.check_parallel_cpu(forked)
    assert not feedback.ok and "mp_context" in feedback.message


def test_a_notebook_function_sent_to_a_spawn_pool_is_explained(monkeypatch):
    """As in a notebook: the function lives in a `__main__` that a spawned worker cannot import."""
    notebook = types.ModuleType("__main__")
    exec("def square(n):\n    return n * n\n", notebook.__dict__)
    monkeypatch.setitem(sys.modules, "__main__", notebook)

    def sends_it(sizes):
        with ProcessPoolExecutor(max_workers=2, mp_context=SPAWN) as pool:
            return list(pool.map(notebook.square, sizes, timeout=60))

    feedback = lessons.check_parallel_cpu(sends_it)
    assert not feedback.ok and "defined in this notebook" in feedback.message


def test_a_lambda_cannot_be_pickled_and_is_explained():
    def sends_a_lambda(sizes):
        with ProcessPoolExecutor(max_workers=2, mp_context=SPAWN) as pool:
            return list(pool.map(lambda n: n, sizes, timeout=60))

    feedback = lessons.check_parallel_cpu(sends_a_lambda)
    assert not feedback.ok and "could not get the function" in feedback.message


def test_wrong_results_and_no_results():
    assert "wrong results" in lessons.check_parallel_cpu(wrong).message
    assert "return the list of results" in lessons.check_parallel_cpu(stub).message
    assert "pass your function itself" in lessons.check_parallel_cpu(42).message


def test_a_hang_is_cut_off_by_the_timeout():
    started = time.monotonic()
    feedback = lessons.check_parallel_cpu(slow, timeout=1.0)
    assert not feedback.ok and "did not return within 1 s" in feedback.message
    assert time.monotonic() - started < 4.5


def test_the_lesson_opens_with_the_standard_library():
    text = LESSON.read_text()
    opening = text[:text.index("## 2. Threads vs processes on CPU work")]
    for api in ("ThreadPoolExecutor(max_workers=2)", "ProcessPoolExecutor(max_workers=2, mp_context=",
                ".Pool(processes=2)", 'if __name__ == "__main__":', "run_script(", "%%watch",
                "lessons.check_parallel_cpu(parallel_cpu)"):
        assert api in opening, api


def test_worker_lanes_leave_out_helpers_and_earlier_processes():
    """The lesson's "worker processes the watch saw" line counts workers only, busy or idle."""
    from concurrency_lab.watching import Lane

    def lane(name, pid, kind="process"):
        return Lane(name=name, kind=kind, pid=pid, thread_id=0, first=0, cpu=(0.0, 0.0))

    record = types.SimpleNamespace(lanes=(
        lane("MainThread", 1, "thread"), lane("pid 2 · resource tracker", 2), lane("pid 3 · forkserver", 3),
        lane("pid 4 · worker (forkserver)", 4), lane("pid 5 · pool worker (SpawnProcess-1)", 5),
        lane("pid 6 · subprocess ps", 6), lane("pid 7 · spawned worker", 7)))
    assert [w.pid for w in lessons.worker_lanes(record)] == [4, 5, 7]
    assert [w.pid for w in lessons.worker_lanes(record, frozenset({5}))] == [4, 7]
