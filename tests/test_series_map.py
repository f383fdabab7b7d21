"""The map of the series (`lessons.series`) against the lessons themselves: every standard-library API it
lists for a lesson is in that lesson's code cells, together they cover every API the series promises
(issue 17), the minutes follow from each lesson's text, and README shows the same table."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from concurrency_lab.lessons import series

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

#: How each API shows in code: a call or keyword, as a learner would write it (with or without the module
#: prefix, after `from threading import Lock`, say). `\b` keeps `Lock(` from matching inside `RLock(`.
PATTERNS = {
    "threading.Thread": r"\b(?:threading\.)?Thread\(",
    "ThreadPoolExecutor": r"\bThreadPoolExecutor\(",
    "multiprocessing.Process": r"\.Process\(",
    "multiprocessing.Pool": r"\.Pool\(",
    "ProcessPoolExecutor": r"\bProcessPoolExecutor\(",
    "mp_context=": r"\bmp_context=",
    "initializer=": r"\binitializer=",
    "max_tasks_per_child=": r"\bmax_tasks_per_child=",
    "async def": r"\basync def\b",
    "asyncio.gather": r"\basyncio\.gather\(",
    "asyncio.TaskGroup": r"\basyncio\.TaskGroup\(",
    "asyncio.Semaphore": r"\basyncio\.Semaphore\(",
    "asyncio.to_thread": r"\basyncio\.to_thread\(",
    "asyncio.timeout": r"\basyncio\.timeout\(",
    "queue.Queue": r"\bqueue\.Queue\(",
    "threading.Lock": r"\b(?:threading\.)?Lock\(",
    "threading.RLock": r"\b(?:threading\.)?RLock\(",
    "threading.Condition": r"\b(?:threading\.)?Condition\(",
    "threading.Event": r"\b(?:threading\.)?Event\(",
    "threading.Semaphore": r"\bthreading\.(?:Bounded)?Semaphore\(",
    "threading.Barrier": r"\b(?:threading\.)?Barrier\(",
    "multiprocessing.shared_memory": r"\bSharedMemory\(",
    'if __name__ == "__main__":': r"""if __name__ == ["']__main__["']:""",
    "sys._is_gil_enabled": r"\b_is_gil_enabled\b",  # getattr(sys, "_is_gil_enabled", None) before 3.13
    "multiprocessing.get_start_method": r"\bget_start_method\(",
}


def _cells(notebook: str) -> list[dict]:
    return json.loads((NOTEBOOKS / f"{notebook}.ipynb").read_text(encoding="utf-8"))["cells"]


def _code(notebook: str) -> str:
    """Every code cell of the executed notebook (nbval runs them all, hidden solutions included)."""
    return "\n".join("".join(c["source"]) for c in _cells(notebook) if c["cell_type"] == "code")


def test_the_map_lists_every_lesson_once():
    on_disk = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    assert sorted(lesson.notebook for lesson in series.SERIES) == on_disk


def test_every_promised_api_is_on_the_map_and_has_a_pattern():
    listed = {api for lesson in series.SERIES for api in lesson.stdlib}
    assert set(series.PROMISED) <= listed, set(series.PROMISED) - listed
    assert listed <= set(PATTERNS), listed - set(PATTERNS)


@pytest.mark.parametrize("lesson", series.SERIES, ids=lambda lesson: lesson.notebook)
def test_each_api_on_the_map_is_in_that_lessons_code(lesson):
    code = _code(lesson.notebook)
    missing = [api for api in lesson.stdlib if not re.search(PATTERNS[api], code)]
    assert not missing, f"{lesson.notebook} lists {missing} but no code cell of it uses them"


def _text_counts(notebook: str) -> tuple[int, int, int]:
    cells = _cells(notebook)
    words = sum(len("".join(c["source"]).split()) for c in cells if c["cell_type"] == "markdown")
    code = [c for c in cells if c["cell_type"] == "code" and "solution" not in c.get("metadata", {}).get("tags", [])]
    exercises = sum(bool(re.search(r"^#+ Exercise", "".join(c["source"]), re.M))
                    for c in cells if c["cell_type"] == "markdown")
    return words, len(code), exercises


@pytest.mark.parametrize("lesson", series.SERIES, ids=lambda lesson: lesson.notebook)
def test_each_lessons_minutes_follow_from_its_text(lesson):
    assert lesson.minutes == series.estimate_minutes(*_text_counts(lesson.notebook))


def test_the_core_path_takes_three_to_four_hours():
    assert 3 * 60 <= series.series_map().core_minutes <= 4 * 60


def test_readme_shows_the_map():
    assert series.series_map().markdown() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_estimate_rounds_up_to_five_minutes():
    assert series.estimate_minutes(words=1200, code_cells=10, exercises=1) == 20  # 6.7 + 5 + 8
    assert series.estimate_minutes(words=0, code_cells=1, exercises=0) == 5
