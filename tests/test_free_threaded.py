"""Lessons 02, 06 and 10 without the GIL (issue 18): the shipped recording replayed and labelled, and,
where a free-threaded Python is ready here (tools/build-free-threaded.sh, .ci/matrix setup), the same
measured live."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import pytest

from concurrency_lab import interpreters, lessons
from concurrency_lab.lessons import beyond_free_threaded as ft
from concurrency_lab.replay import load_recording
from concurrency_lab.watching import WatchRecord

TOOL = Path(__file__).parents[1] / "tools" / "record_free_threaded.py"
#: Two named threads counting, for the live watch (long enough to be seen: the sampler looks for new threads
#: every 0.1 s, and misses one that lives less).
COUNTING = """
import threading

def count(n):
    total = 0
    for i in range(n):
        total += i

threads = [threading.Thread(target=count, args=(3_000_000,), name=f"counter-{k}") for k in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def _lesson_02_cell() -> str:
    """Lesson 02's `%%watch threads` cell, read by the tool that records it."""
    spec = importlib.util.spec_from_file_location("record_free_threaded", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool.watched_cell()


@pytest.fixture(scope="module")
def found():
    return interpreters.find_interpreters()


@pytest.fixture(scope="module")
def free(found):
    python = ft.free_threaded_python(found)
    if python is None:
        pytest.skip("no other free-threaded Python ready here (tools/build-free-threaded.sh, then .ci/matrix setup)")
    return python


# -- the recording, where no free-threaded Python is ready -----------------------------------------

def test_the_recording_names_both_pythons_the_machine_and_the_date():
    rec = load_recording(ft.FREE_THREADED_RECORDING)
    assert {r.gil_enabled for r in rec.records} == {True, False}
    assert {r.python_version[:4] for r in rec.records} == {"3.13"}
    assert rec.label.startswith("recorded on ") and "with the GIL and" in rec.label and "t without" in rec.label
    assert rec.machine["recorded_at"] and rec.machine["load"]


def test_replayed_without_the_gil_says_it_was_recorded_and_the_gil_build_held():
    replayed = ft.without_the_gil(found=[])  # nothing found: the recording
    text = repr(replayed)
    assert "replayed: recorded on " in text and "no free-threaded Python is ready here" in text
    assert replayed.verdict().splitlines()[0].endswith("cores busy: True")
    free_lines = [line for line in text.splitlines() if "GIL off" in line]
    assert free_lines and "(no GIL: the threads ran on several cores at once)" in free_lines[0]


def test_the_race_replayed_lost_updates_and_the_lock_kept_them():
    race = ft.race_without_the_gil(found=[])
    assert "replayed: recorded on " in repr(race) and "GIL off" in race.python
    assert race.verdict() == ("without the GIL, updates were lost without a lock: True; "
                              "with the lock none were: True")


def test_the_watch_recording_is_lesson_02s_cell_in_a_python_without_the_gil():
    record = WatchRecord.read(ft.FREE_THREADED_WATCH)
    assert record.meta["gil_enabled"] is False and record.meta["python"].startswith("3.13")
    assert record.code.strip() == _lesson_02_cell().strip(), "lesson 02's cell changed: record it again"
    assert {"ThreadPoolExecutor-0_0", "ThreadPoolExecutor-0_1"} <= {lane.name for lane in record.active_lanes()}


def test_the_watch_replayed_says_it_was_recorded_and_for_which_code():
    cell = _lesson_02_cell()
    replayed = ft.watch_without_the_gil(cell, found=[])
    assert replayed.source.startswith("replayed: recorded on ") and replayed.same_code
    assert repr(replayed).splitlines()[0] == f"{replayed.python} ({replayed.source}):"
    assert "GIL off" in replayed.python
    assert replayed.verdict().endswith(": True")  # recorded on a quiet machine (the tool refuses a busy one)
    other = ft.watch_without_the_gil("pass", found=[])
    assert not other.same_code and "not the code passed in" in repr(other)


def test_single_thread_cost_says_what_is_missing_without_both_builds(found):
    this = next(i for i in found if i.current)
    cost = ft.single_thread_cost(found=[this])
    assert cost.free_threaded is None and "needs a GIL build and a free-threaded build" in repr(cost)


def test_the_price_line_is_written_from_the_numbers():
    slower = ft.SingleThreadCost(1000, "3.13.5", 0.20, 0.30, 0.29, True)
    assert "took 1.45x the GIL build's time: its own cost remained" in repr(slower)
    same = dataclasses.replace(slower, free_threaded_gil_on=0.205)
    assert "about the same speed" in repr(same) and "like-for-like" not in repr(same)
    unlike = dataclasses.replace(slower, builds=("3.13.0 (--enable-shared)", "3.13.5 (no options)"))
    assert repr(unlike).splitlines()[1].startswith("not a like-for-like pair: the GIL build is 3.13.0 (--enable-shared)")


def test_lessons_reach_them():
    assert lessons.without_the_gil is ft.without_the_gil and lessons.race_without_the_gil is ft.race_without_the_gil


# -- live, in a free-threaded Python on this machine ------------------------------------------------

def test_without_the_gil_measured_live(found, free):
    live = ft.without_the_gil(found, tasks=4, task_seconds=0.02)
    assert live.source == "measured now, on this machine"
    pythons = {r.params["python"] for r in live.records}
    assert free.label in pythons and len(pythons) == 2
    assert {r.gil_enabled for r in live.records} == {True, False}
    assert live.verdict().splitlines()[0].endswith("cores busy: True")


def test_the_race_measured_live_loses_updates_and_the_lock_keeps_them(found, free):
    race = ft.race_without_the_gil(found, per_thread=300_000)
    assert race.source == "measured now, on this machine" and race.python == free.label
    assert race.with_lock == 600_000 and race.without_lock < 600_000


def test_single_thread_cost_measured_live_and_python_gil_1_turns_it_on(found, free):
    gil_build = [i for i in found if i.ready and not i.free_threaded and i.version_info[:2] == free.version_info[:2]]
    if not gil_build:
        pytest.skip(f"no GIL build of {free.version_info[:2]} ready here")
    cost = ft.single_thread_cost(found, size=50_000)
    assert cost.with_gil_build > 0 and cost.free_threaded > 0 and cost.free_threaded_gil_on > 0
    assert cost.gil_on_reported is True


def test_watch_without_the_gil_measured_live(found, free):
    watched = ft.watch_without_the_gil(COUNTING, found)
    assert watched.source == "measured now, on this machine" and watched.record.meta["gil_enabled"] is False
    names = {lane.name for lane in watched.record.lanes}
    assert {"MainThread", "counter-0", "counter-1"} <= names, names
    assert watched.record.code == COUNTING


def test_lesson_06_says_how_many_times_the_race_runs():
    lesson = next((Path(__file__).parents[1] / "notebooks").glob("06_*.md")).read_text(encoding="utf-8")
    assert f"up to {ft.RACE_TRIES} times, until a run loses updates" in lesson
