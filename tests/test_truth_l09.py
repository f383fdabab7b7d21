"""Issue 16, lesson 09: asyncio is described as switching only where a task suspends; what the lesson says
lesson 03 measured about asyncio is what lesson 03 measures and checks; the table fits a notebook at 1400 px
(the verdicts go under it as lines, not in a fourth column that wrapped under each row); the crash row's words
come from the run; the table carries the load note."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from concurrency_lab import lessons
from concurrency_lab.lessons import choosing
from concurrency_lab.load import Load

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
LESSON = NOTEBOOKS / "09_choosing_a_model.md"
#: Characters a JupyterLab output fits on one line in a 1400 px window with the file browser open.
FITS_AT_1400_PX = 120

#: The longest words each row can produce, as measured runs wrote them.
LONGEST = (lessons.Row("memory per worker", "0.02 MiB", "12.5 MiB", "threads cheaper", "threads cheaper"),
           lessons.Row("round trip, 8 MiB", "0.20 ms", "153.0 ms", "threads cheaper (765x)", "threads cheaper"),
           lessons.Row("a global changed in a worker", "parent sees it", "parent does not see it",
                       "processes isolated", "processes isolated"),
           lessons.Row("CPU-bound, 2 workers", "1.05x, 1.0 cores busy", "1.28x, 1.6 cores busy",
                       "no clear gain (a busy machine?)", "threads kept under 1.3 cores busy (the GIL): True"),
           lessons.Row("I/O-bound (sleeps), 4 workers", "4.0x", "3.8x", "not both scaled", "both scaled 2x"),
           lessons.Row("a crashing task", "not caught; os._exit: process survived",
                       "not caught; os._exit: parent survived, 4/4 lost", "no difference seen", "no difference seen"))


def test_the_table_fits_at_1400_px_with_the_verdicts_under_it():
    text = repr(lessons.ComparisonTable(LONGEST, 2, True, 3.2)).splitlines()
    assert max(len(line) for line in text) <= FITS_AT_1400_PX, max(text, key=len)
    assert text[1].split() == ["aspect", "threads", "processes"]
    assert "  CPU-bound, 2 workers: no clear gain (a busy machine?)" in text


def test_the_table_carries_the_load_note():
    load = Load(wall_s=1.0, cores=2, busy_s=1.2, ours_s=0.2)
    assert repr(lessons.ComparisonTable(LONGEST, 2, True, 3.2, load)).splitlines()[-1] == load.note()


def _record(oks, failures=0):
    return SimpleNamespace(events=[SimpleNamespace(ok=ok) for ok in oks], failures=[None] * failures)


@pytest.mark.parametrize("thread_oks, threads_cell, verdict", [
    ([True, False, True, True], "caught; os._exit: process died", "processes contain a crash"),
    ([True, False, False, False], "not caught; os._exit: process died", "no difference seen"),
])
def test_the_crash_row_says_what_the_run_did(monkeypatch, thread_oks, threads_cell, verdict):
    from concurrency_lab import api

    records = iter([_record(thread_oks), _record([True, False, True, True]), _record([True, False, True, True], 3)])
    monkeypatch.setattr(api, "run", lambda *a, **k: next(records))
    monkeypatch.setattr(choosing, "_thread_hard_crash", lambda: False)
    row = choosing._robustness_row()
    assert (row.threads, row.processes, row.verdict) == (threads_cell, "caught; os._exit: parent survived, 3/4 lost",
                                                         verdict)


def test_what_lesson_09_says_of_asyncio_is_what_lesson_03_measures():
    text = LESSON.read_text()
    assert "at every `await`" not in text and "far more waits" not in text
    assert "switches to another task only where the running one suspends" in text
    claim = "held 1,000 waits at once with less memory than 1,000 threads"
    assert claim in text
    lesson_03 = (NOTEBOOKS / "03_io_bound.md").read_text()
    assert "many = lessons.many_waits(1000, 0.2)" in lesson_03 and "print(many.verdict())" in lesson_03
    checked = lessons.ManyWaits(1000, 0.2, {"threads": 0.5, "asyncio": 0.2}, {"threads": 16.0, "asyncio": 1.0})
    assert "asyncio's waits took less than half the memory of the threads': True" in checked.verdict()


# -- issue 17: every choice in the decision guide links to the lesson that shows it, with its stdlib code --


def _guide() -> str:
    text = LESSON.read_text()
    return text[text.index("## 2. A decision guide"):text.index("asyncio is not in the table because")]


def test_every_choice_in_the_guide_links_a_lesson_that_exists_and_names_its_code():
    import re

    choices = [line for line in _guide().splitlines() if "→" in line]
    assert len(choices) >= 9
    for line in choices:
        links = re.findall(r"\]\(([0-9]{2}_[a-z_]+\.ipynb)\)", line)
        assert links, f"no lesson linked: {line}"
        for link in links:
            assert (NOTEBOOKS / link).with_suffix(".md").exists(), link
        assert "`" in line, f"no code named: {line}"


def test_the_guide_links_the_asyncio_and_coordination_lessons_by_name():
    guide = _guide()
    assert "(11_asyncio.ipynb)" in guide and "(12_coordinating_workers.ipynb)" in guide
    for api in ("ProcessPoolExecutor(max_workers=2, mp_context=", "ThreadPoolExecutor(max_workers=16)", "as_completed",
                "chunksize=", "BrokenProcessPool", "max_tasks_per_child", "threading.Lock", "queue.Queue",
                "asyncio.Semaphore", "asyncio.to_thread", 'if __name__ == "__main__":'):
        assert api in guide, api
