"""Lesson 05 (communication costs): the verdicts, the data paths under every start method (nothing left in
/dev/shm), and the exercise's check (fails on wrong answers, passes on the solution)."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from concurrency_lab import config, lessons  # noqa: E402
from concurrency_lab.lessons import communication as comm  # noqa: E402
from concurrency_lab.lessons import communication_chunks as chunks  # noqa: E402
from concurrency_lab.lessons import communication_paths as paths  # noqa: E402

METHODS = list(config.available_start_methods())


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _shm() -> set[str]:
    """Shared-memory blocks (Linux names them psm_*); semaphores of other programs come and go."""
    return {f for f in os.listdir("/dev/shm") if f.startswith("psm_")} if os.path.isdir("/dev/shm") else set()


# -- the exercise ------------------------------------------------------------------

@pytest.mark.parametrize("answer", [None, 2.5, "16", True])
def test_chunksize_rejects_what_is_not_a_whole_number(answer):
    feedback = lessons.check_chunksize(answer)
    assert not feedback.ok and "whole number" in feedback.message


@pytest.mark.parametrize("answer", [0, -3, chunks.CHUNK_TASKS // chunks.CHUNK_WORKERS + 1, chunks.CHUNK_TASKS])
def test_chunksize_refuses_out_of_range_without_measuring(answer):
    feedback = lessons.check_chunksize(answer)
    assert not feedback.ok and "a worker sits idle" in feedback.message


def test_chunksize_one_is_not_faster_than_itself():
    feedback = lessons.check_chunksize(1, repeats=1)
    assert not feedback.ok and "were not 3x faster than one task per trip" in feedback.message
    assert "they are one task per trip" in feedback.message
    assert repr(feedback).startswith("\u2717 Not yet: ")


def test_chunksize_check_warms_the_pool_before_timing(monkeypatch):
    calls = []

    def fake_wall(runner, chunksize=1):
        calls.append(chunksize)
        return 1.0 if chunksize == 1 else 0.1

    monkeypatch.setattr(chunks, "_tasks_wall", fake_wall)
    feedback = lessons.check_chunksize(100, repeats=2)
    assert feedback.ok, repr(feedback)
    assert calls == [100, 1, 100, 1, 100]  # one untimed run first, then the two interleaved


def test_chunksize_solution_passes():
    feedback = lessons.check_chunksize(250)
    assert feedback.ok, repr(feedback)
    first, note = feedback.message.split("\n")  # the second line: the load note (issue 16)
    assert first == ("chunks of 250 made the run over 3x faster than one task per trip: one trip now "
                     "carries 250 tasks, so each task pays a small share of it.")
    assert note.startswith("other programs used ")


def test_chunk_setup_shows_chunksize_one_losing():
    setup = lessons.chunk_setup()  # as the lesson measures it
    assert setup.one_per_trip_s > setup.loop_s, repr(setup)
    assert repr(setup).startswith(f"{chunks.CHUNK_TASKS} tasks of cpu({chunks.CHUNK_TASK_SIZE}), about ")


# -- pickling ------------------------------------------------------------------------

def test_pickle_verdict_on_a_real_measurement():
    report = lessons.pickle_costs(sizes=(comm.KB, comm.MB), repeats=comm.REPEATS)  # as the lesson does
    assert len(report.rows) == 6 and {r.kind for r in report.rows} == set(comm.PICKLE_KINDS)
    assert report.verdict() == ("pickling 1 MB took longer than 1 kB, for every kind: True\n"
                                "at 1 MB, a list of floats took over 2x as long as a numpy array of the same numbers: True")
    df = report.to_dataframe()
    assert list(df.columns) == ["size", "kind", "pickled_bytes", "pickle_ms", "unpickle_ms", "MB_per_s"]


def test_pickle_verdict_from_hand_made_rows():
    rows = [lessons.PickleCost(kind, n, n, cost, cost) for n, costs in ((1000, (1e-6, 1e-6, 1e-6)), (10**6, (1e-3, 1e-3, 1e-3)))
            for kind, cost in zip(comm.PICKLE_KINDS, costs, strict=True)]
    report = lessons.PickleReport(tuple(rows))
    assert report.verdict().splitlines()[1].endswith("numbers: False")  # same cost: the list was not slower
    assert "1 MB as bytes: pickle 1.000 ms" in repr(report)


# -- round trips -------------------------------------------------------------------

def test_round_trip_verdict_from_hand_made_rows():
    rows = (lessons.RoundTrip(1000, 1e-4, 5e-4), lessons.RoundTrip(10**7, 1e-4, 5e-2))
    report = lessons.RoundTripReport(rows, "spawn")
    assert report.verdict() == ("a round trip to a process cost more than a thread's, at every size: True\n"
                                "from 1 kB to 10 MB, the process's trip grew over 10x: True; the thread's did not: True")
    same = lessons.RoundTripReport((lessons.RoundTrip(1000, 1.5e-4, 1e-4),), "spawn")
    assert "at every size: False" in same.verdict()
    assert repr(rows[1]) == "10 MB: thread 0.100 ms, process 50.000 ms (500x)"


@pytest.mark.parametrize("method", METHODS)
def test_round_trips_under_every_start_method(method):
    # Best of 5, as the lesson measures: with 2, one busy spell on a loaded machine slowed the thread's
    # 1 kB trip enough to bring the ratio under 2x (the loaded CI pass, .ci/loaded).
    report = lessons.round_trips(sizes=(comm.KB, comm.MB), repeats=5, start_method=method)
    assert report.start_method == method and [r.nbytes for r in report.rows] == [comm.KB, comm.MB]
    assert report.verdict().splitlines()[0].endswith("at every size: True"), repr(report)


def test_plot_round_trips_draws_both_workers():
    report = lessons.RoundTripReport((lessons.RoundTrip(1000, 1e-4, 5e-4), lessons.RoundTrip(10**6, 1e-4, 5e-3)), "spawn")
    ax = lessons.plot_round_trips(report)
    assert [list(line.get_xdata()) for line in ax.lines] == [[1000, 10**6]] * 2
    assert ax.get_xscale() == ax.get_yscale() == "log"


# -- granularity -------------------------------------------------------------------

def _table(one_pays: bool, one_us: float, chunk_us: float) -> pd.DataFrame:
    return pd.DataFrame({"size": [100, 100, 100], "backend": ["sequential", "processes", "processes"],
                         "start_method": ["", "spawn", "spawn"], "chunksize": [1, 1, 16],
                         "us_per_task": [10.0, one_us, chunk_us], "speedup": [1.0, 0.1, 0.5],
                         "pays_off": [True, one_pays, False]})


def test_granularity_verdict():
    assert lessons.granularity_verdict(_table(False, 200.0, 20.0)) == (
        "smallest tasks (size 100), one per trip: processes paid off: False\n"
        "chunks of 16 cut their cost per task over 2x: True")
    assert lessons.granularity_verdict(_table(False, 30.0, 20.0)).endswith("over 2x: False")
    assert lessons.granularity_verdict(_table(False, 30.0, 20.0).iloc[:2]).startswith("measure chunk size 1")


# -- data paths --------------------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_data_paths_under_every_start_method_leave_nothing_behind(method):
    before = _shm()
    report = lessons.data_paths(nbytes=2 * comm.MB, start_method=method, repeats=comm.REPEATS)  # as the lesson does
    assert [r.label for r in report.rows] == [paths.THREAD, paths.POOL, paths.PIPE, paths.SHARED]
    assert report.verdict().splitlines()[0].endswith("as between threads: True"), repr(report)
    assert report.to_dataframe().vs_thread.iloc[0] == 1.0
    assert _shm() == before


def test_echo_is_the_identity():
    payload = object()
    assert lessons.echo(payload) is payload


def test_exports_exist():
    assert all(hasattr(lessons, name) for name in comm.__all__)
