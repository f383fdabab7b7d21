"""Issue 16, lesson 06: the shared-memory section names the right trap and `track=False` (3.13, guarded), the
worker attaches on every supported Python, and the Value-vs-Manager comparison prints the load."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest
from support import md_code_cells

from concurrency_lab import config, info, lessons
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


# -- issue 17: the lesson opens with plain threading code, and its checked lines hold ---------------------


def _code_cells(text: str) -> list[str]:
    return md_code_cells(text)


def _plain_cells() -> list[str]:
    opening = LESSON[LESSON.index("## 1. A lost update, in plain Python"):LESSON.index("## 2. Why")]
    return _code_cells(opening)[:3]  # then the same race without the GIL (issue 18), through `lessons`


def test_the_opening_is_plain_threading_code_with_the_interval_restored():
    racy, verdict, locked = _plain_cells()
    for cell in (racy, locked):
        assert "threading.Thread(target=" in cell and "sys.setswitchinterval(1e-6)" in cell
        assert "finally:\n    sys.setswitchinterval(old)" in cell and "join(timeout=" in cell
        assert "lessons" not in cell, "the opening is plain stdlib code"
    assert "with lock:" in locked and "threading.Lock()" in locked
    assert verdict == 'print("updates were lost:", counter < 2 * N)'


def test_the_plain_race_loses_updates_and_the_plain_lock_is_exact(capsys):
    """Up to 5 runs of the racy cell until one loses updates: on a free-threaded Python (the 3.13t lane) a
    machine busy with other programs ran the two threads one after the other, and nothing was lost (a run
    in which they never overlapped says nothing about the race). With the GIL the first run loses."""
    racy, verdict, locked = _plain_cells()
    before = sys.getswitchinterval()
    namespace: dict = {}
    outs = []
    for _ in range(1 if info.gil_enabled() else 5):
        exec(racy, namespace)  # noqa: S102 - the lesson's own cell
        exec(verdict, namespace)  # noqa: S102
        outs.append(capsys.readouterr().out)
        if "updates were lost: True" in outs[-1]:
            break
    assert "updates were lost: True" in outs[-1], outs
    exec(locked, namespace)  # noqa: S102
    assert capsys.readouterr().out.strip() == "expected 1,000,000, got 1,000,000"
    assert sys.getswitchinterval() == before
