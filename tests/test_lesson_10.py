"""Lesson 10's measurements and its exercise check: fails on wrong answers, passes on the solution."""

from __future__ import annotations

import sys

import matplotlib
import pytest

from concurrency_lab import api, config, interpreters, lessons, plots

matplotlib.use("Agg")

SOLUTION = {"linux": "forkserver", "macos": "spawn", "windows": "spawn"}


@pytest.mark.parametrize("answer", [None, "forkserver", {"linux": "fork"},
                                    {"linux": "fork", "macos": "spawn", "windows": "spawn"},
                                    {"linux": "forkserver", "macos": "fork", "windows": "spawn"},
                                    {"linux": "forkserver", "macos": "spawn", "windows": "fork"}])
def test_default_start_method_exercise_rejects_wrong_answers(answer):
    feedback = lessons.check_default_start_methods(answer)
    assert not feedback.ok and repr(feedback).startswith("\u2717 Not yet")


def test_default_start_method_exercise_explains_each_wrong_platform():
    feedback = lessons.check_default_start_methods({**SOLUTION, "windows": "fork"})
    assert "windows: not 'fork' (Windows has no fork at all)" in feedback.message


def test_default_start_method_exercise_accepts_the_solution():
    feedback = lessons.check_default_start_methods(SOLUTION)
    assert feedback.ok and config.default_start_method() in feedback.message


def test_startup_by_method_times_every_available_method():
    startup = lessons.startup_by_method(repeats=1, workers=1)
    assert set(startup.seconds) == set(config.available_start_methods())
    assert all(s > 0 for s in startup.seconds.values())
    assert startup.fastest in startup.seconds and "pool of 2 started" in repr(startup)


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="3.14 has InterpreterPoolExecutor")
def test_subinterpreters_status_says_it_needs_314():
    assert lessons.subinterpreters_status().startswith("not here: the interpreters backend needs Python 3.14")


def test_compare_interpreters_draws_nothing_without_another_python():
    here = [i for i in interpreters.find_interpreters() if i.current]
    assert lessons.compare_interpreters(here) == []


def test_interpreter_speedups_keep_each_python_apart():
    recs = []
    for label in ("CPython 3.11.7, GIL on", "CPython 3.13.0t, GIL off"):
        for backend, n in (("sequential", 1), ("threads", 1), ("threads", 2)):
            rec = api.run("cpu", backend=backend, max_workers=n, tasks=2, size=2000)
            recs.append(lessons.beyond._tag(rec, label))
    table = lessons.interpreter_speedups(recs)
    assert list(table.columns) == ["python", "backend", "start_method", "max_workers", "speedup"]
    assert set(table["python"]) == {"CPython 3.11.7, GIL on", "CPython 3.13.0t, GIL off"}
    assert len(table) == 4 and (table["speedup"] > 0).all()
    ax = plots.by_interpreter(table)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["CPython 3.11.7, GIL on", "CPython 3.13.0t, GIL off"]
    assert len(ax.patches) == 4


def test_dask_and_processes_compute_the_same_results():
    pytest.importorskip("distributed")
    dask = lessons.dask_vs_processes(max_workers=2, tasks=4, task_seconds=0.01)
    assert dask.same_results
    df = dask.to_dataframe()
    assert list(df["backend"]) == ["processes", "dask"]
    assert (df["startup_s"] > 0).all() and (df["trip_ms_per_task"] >= 0).all()
