"""Lesson 08 (mixed workloads): the pipeline, the comparison's verdict, the convoy verdict, and the exercise."""

from __future__ import annotations

import os
import signal
import threading
from types import SimpleNamespace

import pytest

from concurrency_lab import config, info, lessons
from concurrency_lab.records import RunRecord, TaskEvent
from concurrency_lab.servers import LocalHTTPServer

#: A job small enough for a test: 4 items, 2 waves of 20 ms waits, ~5 ms of CPU each.
TINY = lessons.MixedSettings(items=4, latency=0.02, cpu_seconds=0.005, io_workers=2, cpu_workers=2)


@pytest.mark.parametrize("method", config.available_start_methods())
def test_pipeline_hands_each_fetch_to_a_process(method):
    with LocalHTTPServer(latency=TINY.latency) as server:
        rec = lessons.pipeline(server.url, TINY, start_method=method)
        assert server.requests == TINY.items
    assert rec.ok and rec.backend == "pipeline" and rec.start_method == method
    fetches, computes = rec.events[:TINY.items], rec.events[TINY.items:]
    assert all(e.worker.startswith("io") for e in fetches) and all(e.worker.startswith("cpu") for e in computes)
    assert {e.pid for e in computes}.isdisjoint({e.pid for e in fetches})  # the CPU steps ran elsewhere
    assert lessons.overlap_seen(rec)  # the second wave still waited while the first was computed
    assert 0 < rec.wall < 10


def test_ctrl_c_in_a_pipeline_ends_it_with_both_pools_closed():
    """Pressed while fetches wait, Ctrl-C is raised at the next fetch handed on; the pools close on the way
    out (the autouse no_leftovers fixture fails the test if a worker process is left)."""
    settings = lessons.MixedSettings(items=40, latency=0.05, cpu_seconds=0.005, io_workers=2, cpu_workers=2)
    with LocalHTTPServer(latency=settings.latency) as server:
        timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
        with pytest.raises(KeyboardInterrupt):
            timer.start()
            lessons.pipeline(server.url, settings)
        timer.join()
        assert server.requests < settings.items  # it stopped early, not at the end
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_pipeline_stages_can_be_sequential_or_threads():
    with LocalHTTPServer(latency=0.0) as server:
        rec = lessons.pipeline(server.url, TINY, io="sequential", cpu="threads")
    assert rec.ok and rec.start_method == "" and len(rec.events) == 2 * TINY.items
    with pytest.raises(ValueError, match="io: unknown 'asyncio'"):
        lessons.pipeline("http://127.0.0.1:9/", TINY, io="asyncio")


def test_fetch_and_compute_does_both():
    from concurrency_lab.workloads import cpu

    with LocalHTTPServer(latency=0.0) as server:
        assert lessons.fetch_and_compute(1000, url=server.url) == cpu(1000)
        assert server.requests == 1


def _comparison(seq: float, threads: float, procs: float, pipe: float, overlap: bool) -> lessons.MixedComparison:
    cpu_start = 0.05 if overlap else 0.5
    events = (TaskEvent(0, "io0", 1, 1, 0, 0, 0.1, 0.1, 0, True), TaskEvent(1, "io0", 1, 1, 0, 0.1, 0.2, 0.2, 0, True),
              TaskEvent(2, "cpu0", 2, 2, 0.1, cpu_start, cpu_start + 0.1, 0.6, 0.1, True))
    rec = SimpleNamespace(events=events)
    rows = (("sequential", "sequential", seq), ("threads", "threads alone", threads),
            ("processes", "processes alone", procs), ("pipeline", "pipeline", pipe))
    return lessons.MixedComparison(lessons.MixedSettings(), rows, rec)


def test_comparison_verdict_and_repr():
    good = _comparison(1.0, 0.5, 0.6, 0.3, overlap=True)
    assert good.verdict().splitlines() == [
        "pipeline at least 1.5x faster than sequential: True",
        "pipeline faster than processes alone (they wait for 2 fetches at a time): True",
        "CPU steps started while other fetches were still waiting: True"]
    bad = _comparison(1.0, 0.5, 0.6, 0.9, overlap=False)
    assert bad.verdict().count("False") == 3
    assert "8 items, each: a GET answered after 100 ms" in repr(good) and "3.3x" in repr(good)
    assert list(good.table().columns) == ["how", "wall_s", "speedup"]


def test_compare_mixed_measures_five_ways():
    result = lessons.compare_mixed(TINY)
    assert [k for k, _, _ in result.rows] == ["sequential", "threads", "processes", "classic", "pipeline"]
    assert all(wall > 0 for _, _, wall in result.rows) and result.pipeline_record.ok
    assert len(result.verdict().splitlines()) == 4  # the classic tutorial version's line (issue 16)


def _probe_record(background: str, ms: float) -> RunRecord:
    events = tuple(TaskEvent(i, "probe", 1, 1, i, i, i + ms / 1e3, i + ms / 1e3, 0, True) for i in range(5))
    return RunRecord(backend=background, max_workers=2, start_method="", workload="echo_probe", params={},
                     wall=5.0, startup=0.0, parent_peak_rss=0, workers_peak_rss=0, events=events)


def test_convoy_verdict_from_records():
    verdict = lessons.convoy_verdict([_probe_record("idle", 0.1), _probe_record("threads", 20.0),
                                      _probe_record("processes", 0.2)])
    assert verdict.threads_hurt and verdict.processes_spared
    assert repr(verdict).count(": True") == 2
    flat = lessons.convoy_verdict([_probe_record("idle", 0.1), _probe_record("threads", 0.2),
                                   _probe_record("processes", 0.2)])
    assert repr(flat).count(": False") == 2
    assert "run all three" in repr(lessons.convoy_verdict([_probe_record("threads", 1.0)]))
    with pytest.raises(ValueError, match="records: empty"):
        lessons.convoy_verdict([])


def test_convoy_lab_verdict_holds_here():
    from concurrency_lab.widgets import ConvoyLab

    lab = ConvoyLab(probes=50)
    lab.run()
    verdict = lessons.convoy_verdict(lab.records)
    if not info.gil_enabled():  # free-threaded: no convoy to show, and the verdict says why (issue 18)
        assert not verdict.gil_enabled and "runs without a GIL" in repr(verdict), repr(verdict)
        return
    assert verdict.threads_hurt and verdict.processes_spared, verdict.p90_ms


@pytest.mark.parametrize("answer, words", [
    (None, 'set `answer` to {"fetch": ..., "compute": ...}'),
    ({"fetch": "threads"}, 'set `answer` to {"fetch"'),
    ({"fetch": "asyncio", "compute": "processes"}, "must be one of"),
    ({"fetch": "threads", "compute": "threads"}, "share one GIL"),
    ({"fetch": "processes", "compute": "processes"}, "whole interpreter"),
    ({"fetch": "sequential", "compute": "sequential"}, "should overlap; and the CPU steps"),
])
def test_stage_exercise_rejects_wrong_answers(answer, words):
    feedback = lessons.check_stage_backends(answer, settings=TINY)
    assert not feedback.ok and words in feedback.message, feedback.message
    assert repr(feedback).startswith("\u2717 Not yet: ")


def test_stage_exercise_accepts_the_solution():
    feedback = lessons.check_stage_backends({"fetch": "threads", "compute": "processes"}, settings=TINY)
    assert feedback.ok and "threads overlap the waits, processes overlap the computing" in feedback.message
    assert feedback.message.startswith("your pipeline ran 4 items in ")
