"""Issue 16, lesson 06: the shared-memory section names the right trap and `track=False` (3.13, guarded), the
worker attaches on every supported Python, and the Value-vs-Manager comparison prints the load."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from concurrency_lab import config, lessons
from concurrency_lab.lessons import races_sharing
from concurrency_lab.load import Load

LESSON = next((Path(__file__).resolve().parents[1] / "notebooks").glob("06_*.md")).read_text(encoding="utf-8")
QUIET = Load(wall_s=1.0, cores=2, busy_s=1.0, ours_s=1.0)
BUSY = Load(wall_s=1.0, cores=2, busy_s=2.0, ours_s=0.5)


@pytest.mark.parametrize("method", list(config.available_start_methods()))
def test_shared_memory_squares_under_every_start_method(method):
    """fork included: the tracker now starts before the workers whatever the method."""
    block = lessons.shared_memory_squares(numbers=2000, tasks=4, start_method=method)
    assert block.correct and block.unlinked


def test_the_worker_guards_track_by_version():
    source = inspect.getsource(races_sharing._fill_squares)
    assert '{"track": False} if sys.version_info >= (3, 13) else {}' in source


def test_the_lesson_names_the_trap_and_track_false_correctly():
    assert "under spawn a worker's own tracker" not in LESSON
    assert "a **fork** worker made before the parent's tracker" in LESSON
    assert "track=False" in LESSON and "sys.version_info >= (3, 13)" in LESSON
    assert "3.11 and 3.12 have no `track` argument" in LESSON
    assert "far less than was added" not in LESSON


def test_sharing_verdict_keeps_its_checked_line_and_adds_the_load():
    value = races_sharing.SharedTotal("Value, with get_lock()", 2, 10, 20, 1e-6, "spawn", QUIET)
    manager = races_sharing.SharedTotal("Manager().dict(), with a manager Lock", 2, 10, 20, 1e-4, "spawn", BUSY)
    lines = lessons.sharing_verdict(value, manager).splitlines()
    assert lines[0] == "both exact: True; a Manager dict update is at least 10x slower than a Value update: True"
    assert lines[1] == "while the Value ran, other programs used 0% of the CPU during this run"
    assert lines[2].startswith("while the Manager().dict() ran, other programs used 75% of the CPU")
    assert "a busy machine" in lines[2]


def test_sharing_verdict_without_a_load_is_one_line():
    value = races_sharing.SharedTotal("Value, with get_lock()", 2, 10, 20, 1e-6, "spawn")
    assert lessons.sharing_verdict(value, value).count("\n") == 0
