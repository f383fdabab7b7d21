"""Lesson 09 (choosing a model): the re-measured table, its checked verdicts, and the exercise."""

from __future__ import annotations

import pytest

from concurrency_lab import info, lessons
from concurrency_lab.lessons import choosing

CHECKED = """memory per worker: threads cheaper
round trip, 8 MiB: threads cheaper
a global changed in a worker: processes isolated
CPU-bound, 2 workers: threads kept under 1.3 cores busy (the GIL): True
I/O-bound (sleeps), 4 workers: both scaled 2x or more: True
a crashing task: processes contain a crash"""


#: The CPU row in a free-threaded Python: its threads are not held to one core (issue 18).
CPU_NO_GIL = "CPU-bound, 2 workers: threads kept over 1.3 cores busy (no GIL here): True"


def _checked_here(table) -> list[str]:
    """CHECKED, with the CPU row a free-threaded Python gives; on a busy machine its threads may fall under
    the bound (other programs take the cores), so there only its wording is checked."""
    lines = CHECKED.splitlines()
    if info.gil_enabled():
        return lines
    lines[3] = CPU_NO_GIL
    if table.load is not None and table.load.busy:
        lines[3] = next(v for v in table.verdicts().splitlines() if v.startswith(CPU_NO_GIL[:-4]))
    return lines


def test_the_whole_table_is_measured_and_its_checked_verdicts_hold_here():
    table = lessons.compare_models()
    assert table.verdicts().splitlines() == _checked_here(table), repr(table)  # the numbers, if a row flips
    assert [r.aspect for r in table.rows] == [line.split(":")[0] for line in CHECKED.splitlines()]
    assert table.seconds < 30 and repr(table).startswith("measured here in ")
    assert list(table.to_dataframe().columns) == ["aspect", "threads", "processes", "verdict"]


def test_repr_is_a_plain_text_table():
    rows = (lessons.Row("memory per worker", "0.02 MiB", "12.5 MiB", "threads cheaper", "threads cheaper"),
            lessons.Row("a crashing task", "died", "survived", "processes contain a crash", "same"))
    text = repr(lessons.ComparisonTable(rows, 2, True, 4.04)).splitlines()
    assert text[0] == "measured here in 4.0 s (2 usable cores, GIL on)"
    assert text[1].split() == ["aspect", "threads", "processes"]  # the verdicts go under the table, not beside it
    assert text[2].index("0.02") == text[1].index("threads") and text[3].endswith("survived")
    assert text[4:] == ["", "what these numbers say:", "  memory per worker: threads cheaper",
                        "  a crashing task: processes contain a crash"]


GIL_CHECK = "threads kept under 1.3 cores busy (the GIL): True"


@pytest.mark.parametrize("cores, gil, measured, verdict, checked", [
    (2, True, {"threads": (0.95, 1.0), "processes": (1.9, 1.9)}, "processes scale", GIL_CHECK),
    (2, True, {"threads": (0.67, 0.9), "processes": (0.97, 1.0)}, "no clear gain (a busy machine?)", GIL_CHECK),
    (1, True, {"threads": (0.9, 0.9), "processes": (0.9, 1.0)}, "one usable core: neither can scale", GIL_CHECK),
    # A busy spell slowed every sequential try: the speedup looks past 1.3x, the cores busy say what happened.
    (2, True, {"threads": (1.45, 1.0), "processes": (2.6, 1.9)}, "processes scale", GIL_CHECK),
    (2, True, {"threads": (1.6, 1.6), "processes": (1.9, 1.9)}, "no clear gain (a busy machine?)",
     "threads kept under 1.3 cores busy (the GIL): False"),
    (2, False, {"threads": (1.9, 1.9), "processes": (1.9, 1.9)}, "threads scale too (no GIL)",
     "threads kept over 1.3 cores busy (no GIL here): True"),
])
def test_cpu_row_says_what_was_measured(monkeypatch, cores, gil, measured, verdict, checked):
    scaling = {name: choosing.Scaling(*pair) for name, pair in measured.items()}
    monkeypatch.setattr(choosing, "_scaling", lambda *a, **k: scaling)
    row = choosing._cpu_row(cores, gil)
    assert (row.verdict, row.checked) == (verdict, checked)
    assert row.threads == f"{measured['threads'][0]:.2f}x, {measured['threads'][1]:.1f} cores busy"


def test_a_hard_crash_in_a_thread_ends_its_process():
    assert choosing._thread_hard_crash() is False


def test_helpers():
    assert lessons.echo(b"abc") == b"abc"
    assert lessons.maybe_crash(None) == "ok"
    with pytest.raises(RuntimeError, match="on purpose"):
        lessons.maybe_crash("raise")


SOLUTION = {"photos": "processes", "chat": "asyncio", "api": "threads"}


@pytest.mark.parametrize("answer, words", [
    (None, "set `answer` to a dict with the keys 'photos', 'chat', 'api'"),
    ({"photos": "processes"}, "set `answer` to a dict"),
    ({**SOLUTION, "chat": "greenlets"}, "chat: choose one of 'threads', 'processes', 'asyncio'"),
    ({**SOLUTION, "photos": "threads"}, "1 of 3 to rethink. photos: pure-Python computing holds the GIL"),
    ({**SOLUTION, "api": "asyncio"}, "blocks the whole event loop"),
    ({"photos": "asyncio", "chat": "threads", "api": "processes"}, "3 of 3 to rethink."),
])
def test_scenario_exercise_rejects_wrong_answers(answer, words):
    feedback = lessons.check_scenarios(answer)
    assert not feedback.ok and words in feedback.message, feedback.message


def test_scenario_exercise_accepts_the_solution():
    feedback = lessons.check_scenarios(SOLUTION)
    assert feedback.ok and feedback.message.startswith("photos: pure-Python computing")
    assert repr(feedback).startswith("\u2713 Right: ")


def test_scenarios_are_described_by_key():
    lines = lessons.describe_scenarios().splitlines()
    assert [line.split(":")[0].strip() for line in lines] == list(SOLUTION)
