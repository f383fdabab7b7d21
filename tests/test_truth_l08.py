"""Issue 16, lesson 08: the convoy's round trips are counted in switch intervals from the measurement (the
text no longer implies one interval per round trip), and the classic tutorial version (stage after stage) is
measured next to the pipeline, with a checked line about its shape and a comparison produced from the data."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from concurrency_lab import lessons
from concurrency_lab.load import Load
from concurrency_lab.records import RunRecord, TaskEvent
from concurrency_lab.servers import LocalHTTPServer

LESSON = Path(__file__).resolve().parents[1] / "notebooks" / "08_mixed_workloads.md"
TINY = lessons.MixedSettings(items=4, latency=0.02, cpu_seconds=0.005, io_workers=2, cpu_workers=2)


def _probes(background: str, ms: list[float], interval_ms: float | None = 5.0) -> RunRecord:
    events = tuple(TaskEvent(i, "probe", 1, 1, i, i, i + m / 1e3, i + m / 1e3, 0, True) for i, m in enumerate(ms))
    params = {} if interval_ms is None else {"switch_interval_ms": interval_ms}
    return RunRecord(backend=background, max_workers=2, start_method="", workload="echo_probe", params=params,
                     wall=5.0, startup=0.0, parent_peak_rss=0, workers_peak_rss=0, events=events,
                     gil_enabled=True)  # the committed run's; not the Python running the test (3.13t in the matrix)


def _committed_run(interval_ms: float | None = 5.0) -> list[RunRecord]:
    """The committed notebook's run: median 46.7 ms and p90 ~70 ms next to threads, under a 5 ms interval."""
    return [_probes("idle", [0.1] * 5, interval_ms), _probes("threads", [30.0, 40.0, 46.7, 60.0, 70.0], interval_ms),
            _probes("processes", [0.09] * 5, interval_ms)]


def test_the_round_trip_is_counted_in_switch_intervals_from_the_data():
    intervals = lessons.convoy_in_intervals(_committed_run())
    lines = repr(intervals).splitlines()
    assert lines[0] == "switch interval during the run: 5 ms"
    assert lines[2] == "next to CPU-bound threads: median round trip 46.70 ms = 9.3 switch intervals (p90: 13.2)"
    assert lines[1].startswith("nothing else running: median round trip 0.10 ms = 0.02 switch intervals")
    assert intervals.verdict() == "next to CPU-bound threads, the slowest tenth of round trips (p90) took longer " \
                                  "than one switch interval: True"


def test_the_interval_is_the_one_the_run_used():
    """A learner who set 100 ms in the panel: a p90 of 66 ms is then less than one interval, and the line says so."""
    intervals = lessons.convoy_in_intervals(_committed_run(interval_ms=100.0))
    assert "= 0.47 switch intervals (p90: 0.66)" in repr(intervals)
    assert intervals.verdict().endswith(": False")
    assert lessons.convoy_in_intervals(_committed_run(interval_ms=None)).interval_ms == 5.0  # Python's default


def test_the_intervals_carry_the_load_note_and_say_when_there_is_no_gil():
    load = Load(wall_s=1.0, cores=2, busy_s=1.2, ours_s=0.2)
    assert repr(lessons.convoy_in_intervals(_committed_run(), load)).splitlines()[-1] == load.note()
    no_gil = lessons.ConvoyIntervals(5.0, lessons.convoy_in_intervals(_committed_run()).rows, gil_enabled=False)
    assert "without a GIL" in no_gil.verdict()
    with pytest.raises(ValueError, match="records: empty"):
        lessons.convoy_in_intervals([])


def test_the_lesson_explains_the_gap_and_shows_the_count():
    text = LESSON.read_text()
    assert "no priority" in text and "several times" in text and "both threads of this kernel" in text
    assert "lessons.convoy_in_intervals(convoy.records, load)" in text and "print(intervals.verdict())" in text
    assert "print(load.note())" in text


def _events(cpu_start: float) -> tuple[TaskEvent, ...]:
    return (TaskEvent(0, "io0", 1, 1, 0, 0, 0.1, 0.1, 0, True), TaskEvent(1, "io0", 1, 1, 0, 0.1, 0.2, 0.2, 0, True),
            TaskEvent(2, "cpu0", 2, 2, 0.1, cpu_start, cpu_start + 0.1, 0.6, 0.1, True))


def _comparison(classic: float, pipe: float) -> lessons.MixedComparison:
    rows = (("sequential", "sequential", 1.0), ("threads", "threads alone", 0.5),
            ("processes", "processes alone", 0.6), ("classic", "classic tutorial version", classic),
            ("pipeline", "pipeline", pipe))
    return lessons.MixedComparison(lessons.MixedSettings(), rows, SimpleNamespace(events=_events(0.15)),
                                   SimpleNamespace(events=_events(0.25)), Load(1.0, 2, 0.5, 0.4))


@pytest.mark.parametrize("classic, pipe, said", [
    (0.36, 0.30, "the pipeline was 1.20x faster than the classic tutorial version"),
    (0.30, 0.36, "the pipeline was 1.20x slower than the classic tutorial version"),
    (0.31, 0.30, "the pipeline and the classic tutorial version took about as long (within 5%)"),
])
def test_the_comparison_with_the_classic_version_is_produced_from_the_walls(classic, pipe, said):
    result = _comparison(classic, pipe)
    assert result.versus_classic() == f"{said}; it computed for 0.05 s while fetches still waited"
    lines = repr(result).splitlines()
    assert lines[-2] == result.versus_classic() and lines[-1].startswith("other programs used 5% of the CPU")
    assert result.verdict().splitlines()[-1] == ("the classic tutorial version computed nothing until every fetch "
                                                 "was back: True")


def test_the_classic_version_computes_only_after_the_last_fetch():
    with LocalHTTPServer(latency=TINY.latency) as server:
        rec = lessons.pipeline(server.url, TINY, stage_after_stage=True)
    assert rec.ok and rec.backend == "stage after stage" and len(rec.events) == 2 * TINY.items
    assert not lessons.overlap_seen(rec) and lessons.computed_while_waiting(rec) == 0.0


def test_the_lesson_shows_the_classic_tutorial_version():
    text = LESSON.read_text()
    assert "pages = list(fetchers.map(fetch" in text and "workers.map(cl.workloads.cpu" in text
    assert "## 2. Five ways to do the same job, measured" in text
