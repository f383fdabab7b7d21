"""Issue 16, lesson 10: the sentence under the interpreters table rests on cores busy (a threads speedup over 1
with the GIL is explained, not contradicted), the replayed recording is described from its own machine file
(the one with the most cores that ships), the PEP facts are right, and the measured comparisons print the load."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from support import md_code_cells

from concurrency_lab import replay
from concurrency_lab.lessons import beyond
from concurrency_lab.lessons.beyond import AcrossPythons, PythonThreads, ReplayedMachine
from concurrency_lab.load import Load

LESSON = next((Path(__file__).resolve().parents[1] / "notebooks").glob("10_*.md")).read_text(encoding="utf-8")
QUIET = Load(wall_s=1.0, cores=2, busy_s=1.0, ours_s=1.0)


def across(rows: list[PythonThreads], monkeypatch) -> AcrossPythons:
    monkeypatch.setattr(AcrossPythons, "threads", lambda self: rows)
    return AcrossPythons((), QUIET)


def test_the_committed_3_13_run_passes_the_checked_line_and_is_explained(monkeypatch):
    """The run that contradicted "threads stay near 1x": 3.13.0 threads at 1.76x (x1) and 1.42x (x2)."""
    rows = [PythonThreads("CPython 3.11.7, GIL on", True, 2, 1.01, 0.99, 1.11),
            PythonThreads("CPython 3.13.0, GIL on", True, 2, 1.42, 0.98, 1.76)]
    result = across(rows, monkeypatch)
    assert result.verdict().splitlines()[0] == "every Python with the GIL on kept its threads under 1.3 cores busy: True"
    text = repr(result)
    assert "threads reached 1.76x with about one core busy: its sequential run was slowed" in text
    assert "3.11.7, GIL on: threads x2 ran at 1.01x its sequential speed, 0.99 cores busy\n" in text + "\n"
    assert "no other Python ready" not in text


def test_threads_busy_on_two_cores_with_the_gil_would_fail_the_line(monkeypatch):
    result = across([PythonThreads("CPython 3.12.1, GIL on", True, 2, 1.9, 1.9, 1.9)], monkeypatch)
    assert result.verdict().startswith("every Python with the GIL on kept its threads under 1.3 cores busy: False")
    assert "no other Python ready to compare: this one alone" in repr(result)


def test_a_free_threaded_python_is_left_out_of_the_gil_line(monkeypatch):
    rows = [PythonThreads("CPython 3.11.7, GIL on", True, 2, 0.9, 0.97, 0.95),
            PythonThreads("CPython 3.14.0t, GIL off", False, 2, 1.8, 1.9, 1.8)]
    result = across(rows, monkeypatch)
    assert result.verdict().splitlines()[0].endswith(": True")
    assert "(no GIL: the threads ran on several cores at once)" in repr(result)


def test_across_pythons_measures_this_python_alone_when_no_other_is_ready():
    from concurrency_lab import interpreters

    here = [i for i in interpreters.find_interpreters() if i.current]
    result = beyond.across_pythons(here, workers=(1, 2), tasks=2, task_seconds=0.01)
    rows = result.threads()
    assert len(rows) == 1 and rows[0].workers == 2 and rows[0].cores_busy > 0
    assert set(result.table()["backend"]) == {"threads", "processes"}
    assert result.verdict().splitlines()[1].startswith("other programs used")


def test_the_sentence_no_longer_claims_near_1x_and_explains_the_baseline():
    assert "threads stay near 1×" not in LESSON
    assert "print(across.verdict())" in LESSON
    assert "slows the sequential run makes whatever ran after it look faster" in LESSON


def _recording(folder: Path, name: str, cores: int) -> None:
    shipped = replay.recordings()[0]
    shutil.copy(shipped.path, folder / f"{name}.jsonl")
    machine = {**shipped.machine, "cores_usable": cores, "platform": f"a {cores}-core test machine"}
    (folder / f"{name}.machine.json").write_text(json.dumps(machine), encoding="utf-8")


def test_the_default_replay_is_the_recording_with_the_most_cores(tmp_path, monkeypatch):
    _recording(tmp_path, "small", 2)
    _recording(tmp_path, "big", 16)
    _recording(tmp_path, "middle", 8)
    real = replay.recordings
    monkeypatch.setattr(replay, "recordings", lambda folder=tmp_path: real(folder))
    machine = beyond.replayed_machine("default")
    assert machine.name == "big.jsonl" and machine.cores == 16
    assert machine.platform == "a 16-core test machine"
    assert machine.verdict().splitlines()[1] == "no shipped recording has more cores than the one replayed: True"


def test_the_shipped_recording_is_described_from_its_own_machine_file():
    machine = beyond.replayed_machine("default")
    shipped = replay.recordings()[0]
    assert machine.cores == int(shipped.machine["cores_usable"]) and machine.name == shipped.path.name
    assert machine.verdict() == ("the recording says where it was measured (cores, machine, date): True\n"
                                 "no shipped recording has more cores than the one replayed: True")
    assert f"recorded on {machine.cores} cores" in repr(machine)


def test_a_recording_no_bigger_than_this_machine_is_not_called_bigger():
    small = ReplayedMachine("x.jsonl", 2, "Linux", "3.11.7", "2026-11-26T11:01:10+00:00", "sweep", 2, 2)
    big = ReplayedMachine("y.jsonl", 16, "Linux", "3.11.7", "2026-11-26T11:01:10+00:00", "sweep", 2, 16)
    assert "no more than this machine's 2: not a bigger machine" in repr(small)
    assert "16 cores (more than this machine's 2)" in repr(big)


def test_section_5_types_no_machine_and_is_not_called_bigger():
    section = LESSON[LESSON.index("## 5."):LESSON.index("## Summary")]
    assert "## 5. Another machine, replayed" in section and "bigger machine" not in LESSON.lower()
    assert not re.search(r"\b\d+[- ]cores?\b", section.replace("--workers 1,2,4,8", ""))
    assert 'lessons.replayed_machine("default")' in section and "--describe" in section


def test_the_pep_facts():
    sub = LESSON[LESSON.index("## 3. Subinterpreters"):LESSON.index("## 4.")]
    assert "InterpreterPoolExecutor` (PEP 734)" not in LESSON
    assert "`concurrent.interpreters` module (PEP 734)" in sub
    assert "gh-124548" in sub and "own GIL (PEP 684)" in sub and "3.12" in sub
    free = LESSON[LESSON.index("## 2. Other Pythons"):LESSON.index("## 3.")]
    assert "PEP 779" in free and "**experimental**" in free and "`python3.13t`, `python3.14t`" not in free
    assert "Free-threaded Python (3.13t, 3.14t)" not in LESSON


def test_startup_and_dask_reprs_end_with_the_load():
    startup = beyond.StartupByMethod({"fork": 0.01, "spawn": 0.1}, QUIET)
    assert repr(startup).splitlines()[-1] == "other programs used 0% of the CPU during this run"
    dask = beyond.DaskComparison(({"backend": "processes", "speedup": 1.0},), True, load=QUIET)
    assert repr(dask).splitlines()[-1] == "other programs used 0% of the CPU during this run"
    assert beyond.DaskComparison((), False, "distributed is not installed").note() == "nothing was measured"


@pytest.mark.parametrize("line", ["meter = LoadMeter()", "print(meter.read().note())"])
def test_the_replayed_run_prints_the_load(line):
    assert line in LESSON[LESSON.index("## 5."):]


# -- issue 17: the lesson opens with plain code that reports the build ------------------------------------


def _opening_cells() -> list[str]:
    opening = LESSON[LESSON.index("## This Python, in plain code"):LESSON.index("## 1. Start methods")]
    return md_code_cells(opening)


def test_the_build_report_is_guarded_and_its_checked_line_holds(capsys):
    import sys
    import sysconfig

    report, check = _opening_cells()
    opening = LESSON[LESSON.index("## This Python, in plain code"):LESSON.index("## 1. Start methods")]
    assert "tags: [nbval-ignore-output]\n---\n%%watch started\n" in opening  # versions differ between CI lanes
    assert "multiprocessing.Process(target=time.sleep" in report and "worker.join(timeout=30)" in report
    assert 'getattr(sys, "_is_gil_enabled", None)' in report and 'get_config_var("Py_GIL_DISABLED")' in report
    assert "multiprocessing.get_start_method()" in report
    namespace: dict = {}
    exec(report, namespace)  # noqa: S102 - the lesson's own cells
    exec(check, namespace)  # noqa: S102
    out = capsys.readouterr().out
    assert out.endswith("the default start method is the one section 1 gives for this Python and platform: True\n")
    assert namespace["expected"] == beyond.python_default_start_method()
    flag = sysconfig.get_config_var("Py_GIL_DISABLED")
    if sys.version_info < (3, 13):
        assert flag is None and not hasattr(sys, "_is_gil_enabled")  # what the lesson says of older Pythons
    else:
        assert flag in (0, 1)
