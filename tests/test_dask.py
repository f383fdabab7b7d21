"""The dask backend against a LocalCluster on 127.0.0.1 (needs the `dask` extra).

A cluster takes 1-3 s to start, so the tests that leave the pool running
share one per module; the leak guard still checks every test (the shared
cluster's processes exist before each test begins), and the tests that stop
a run, which closes the cluster, each use a runner of their own, whose
clean-up the guard then checks.
"""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from concurrency_lab import workloads
from concurrency_lab.runners import RUNNERS, make_runner, parse_backend
from concurrency_lab.runners.dask_ import distributed_available

EPS = 1e-6  # float rounding of ns -> s conversions
HAVE_DISTRIBUTED = distributed_available()
needs_distributed = pytest.mark.skipif(
    not HAVE_DISTRIBUTED, reason="distributed is not installed: pip install -e '.[dask]' to test the dask backend")


def check_events(rec, n: int, max_workers: int, worker_pids: set[int]) -> None:
    assert [e.index for e in rec.events] == list(range(n))
    for e in rec.events:
        assert 0 <= e.submit <= e.start <= e.end <= e.collected <= rec.wall + EPS, e
        assert e.cpu >= 0
    assert 1 <= len({e.worker for e in rec.events}) <= max_workers
    pids = {e.pid for e in rec.events}
    assert os.getpid() not in pids and pids <= worker_pids  # run by dask's worker processes, not by us


@pytest.fixture(scope="module")
def runner():
    from concurrency_lab.runners.dask_ import DaskRunner

    with DaskRunner(max_workers=2) as shared:
        yield shared


# -- without distributed, or before anything starts ------------------------------------

def test_a_missing_distributed_says_how_to_install_it(monkeypatch):
    from concurrency_lab.runners import dask_

    monkeypatch.setitem(sys.modules, "distributed", None)  # what an environment without it looks like
    assert not dask_.distributed_available()
    with pytest.raises(ImportError, match=r"pip install -e '\.\[dask\]'"):
        make_runner("dask", 2)


def test_dask_is_registered_and_parsed():
    assert "dask" in RUNNERS
    assert parse_backend("dask") == ("dask", None)
    with pytest.raises(ValueError, match="only processes takes a start method"):
        parse_backend("dask:spawn")
    with pytest.raises(ValueError, match="address: only the dask backend"):
        make_runner("threads", 2, address="tcp://127.0.0.1:8786")


@needs_distributed
def test_bad_arguments_are_refused_before_anything_starts():
    with pytest.raises(ValueError, match="start_method: only the processes backend"):
        make_runner("dask", 2, start_method="spawn")
    with pytest.raises(ValueError, match="address: expected a scheduler address"):
        make_runner("dask", address="")
    with pytest.raises(ValueError, match="max_workers"):
        make_runner("dask", 0)


def test_outcome_times_move_onto_our_clock():
    from concurrency_lab.runners.dask_ import shifted

    assert shifted(("r", 100, 250, 9, 7, 8, None), 40) == ("r", 60, 210, 9, 7, 8, None)


# -- one shared LocalCluster ------------------------------------------------------------

@needs_distributed
def test_results_in_order_and_events_consistent(runner):
    items = list(range(20))
    rec = runner.run(workloads.tiny, items)
    assert list(rec.results) == [x * x for x in items]
    assert rec.ok and rec.backend == "dask" and rec.start_method == "" and rec.max_workers == 2
    check_events(rec, len(items), 2, set(runner.worker_pids))
    assert len(runner.worker_pids) == 2 and rec.workers_peak_rss > 0


@needs_distributed
def test_cpu_work_spreads_over_both_workers(runner):
    rec = runner.run(workloads.cpu, [20_000] * 6)
    assert list(rec.results) == [workloads.cpu(20_000)] * 6
    check_events(rec, 6, 2, set(runner.worker_pids))
    assert rec.cpu_time > 0 and rec.startup == 0.0  # warm pool, module already imported by the workers
    assert all(v >= -EPS for v in rec.overhead().values())


@needs_distributed
def test_chunks_give_the_same_results(runner):
    rec = runner.run(workloads.tiny, list(range(10)), chunksize=3)
    assert list(rec.results) == [x * x for x in range(10)]
    check_events(rec, 10, 2, set(runner.worker_pids))


@needs_distributed
def test_a_notebook_function_a_closure_and_a_lambda_run(runner):
    namespace = {"__name__": "__main__"}  # what a notebook cell defines: a worker cannot import it
    exec("def plus_one_squared(x):\n    return (x + 1) ** 2\n", namespace)
    offset = 10

    def add_offset(x):
        return x + offset

    assert runner.run(namespace["plus_one_squared"], [1, 2]).results == (4, 9)
    assert runner.run(add_offset, [1, 2]).results == (11, 12)
    assert runner.run(lambda x: x * 3, [1, 2]).results == (3, 6)


@needs_distributed
def test_a_raising_task_is_recorded_with_its_traceback(runner):
    rec = runner.run(workloads.crash, ["raise", "raise"])
    assert not rec.ok and len(rec.failures) == 2
    assert "RuntimeError: crash('raise')" in rec.failures[0].error and "Traceback" in rec.failures[0].error
    assert runner.run(workloads.tiny, [3]).results == (9,)


@needs_distributed
def test_events_stream_as_tasks_finish(runner):
    seen = []
    rec = runner.run(workloads.io_sleep, [0.01] * 6, on_event=seen.append)
    assert sorted(e.index for e in seen) == list(range(6))
    assert [e.collected for e in seen] == sorted(e.collected for e in seen)
    assert set(seen) == set(rec.events)
    stream = runner.stream(workloads.tiny, list(range(5)))
    assert sorted(e.index for e in stream) == list(range(5)) and stream.record.results == (0, 1, 4, 9, 16)


@needs_distributed
def test_a_task_timeout_that_is_not_reached_changes_nothing(runner):
    rec = runner.run(workloads.tiny, list(range(6)), task_timeout=30, chunksize=2)
    assert rec.ok and list(rec.results) == [x * x for x in range(6)]
    check_events(rec, 6, 2, set(runner.worker_pids))


# -- runs that stop: each closes its own cluster ----------------------------------------

def _timed_run(runner, *args, **kwargs):
    """The record, and the seconds the run took past the pool's start-up."""
    t0 = time.monotonic()
    rec = runner.run(*args, **kwargs)
    return rec, time.monotonic() - t0 - rec.startup


@needs_distributed
def test_stop_ends_the_run_kills_the_workers_and_the_next_run_works():
    stop = threading.Event()
    with make_runner("dask", 2) as runner:
        pids = set(runner.worker_pids)
        threading.Timer(0.5, stop.set).start()
        rec, took = _timed_run(runner, workloads.hang, [3600.0] * 4, stop=stop)
        assert took < 0.5 + 2.0, took
        assert len(rec.events) == 4 and all(e.error.startswith("cancelled") for e in rec.failures)
        assert not rec.ok and not runner.started
        assert not any(_alive(pid) for pid in pids)
        again = runner.run(workloads.tiny, [2])  # a fresh cluster
    assert again.results == (4,) and again.startup > 0


@needs_distributed
def test_run_timeout_marks_unfinished_tasks():
    with make_runner("dask", 2) as runner:
        rec, took = _timed_run(runner, workloads.io_sleep, [0.05] * 200, timeout=0.5)
    assert any(e.error.startswith("timeout") for e in rec.failures)
    assert took < 0.5 + 2.0, took


@needs_distributed
def test_a_task_over_its_timeout_is_named_and_the_run_stops():
    with make_runner("dask", 2) as runner:
        rec, took = _timed_run(runner, workloads.io_sleep, [0.01, 60.0, 0.01, 0.01, 0.01, 0.01], task_timeout=1.0)
    assert took < 1.0 + 2.0, took
    assert rec.events[1].error.startswith("timeout: this task ran longer than task_timeout=1 s")
    assert rec.events[0].ok
    assert all(e.ok or e.error.startswith("cancelled: the run stopped because task 1 timed out")
               for e in rec.events if e.index != 1)


@needs_distributed
def test_a_dead_worker_is_replaced_and_only_its_task_fails():
    import dask
    import distributed  # noqa: F401  (loads its config defaults, which the override below edits)

    runner = make_runner("dask", 2)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):  # fail at the first death: quicker
        runner.start()
    with runner:
        rec = runner.run(workloads.crash, ["exit", "raise"])
        assert rec.events[0].error.startswith("KilledWorker:") and "retries its task" in rec.events[0].error
        assert "RuntimeError: crash('raise')" in rec.events[1].error  # the other task ran as usual
        assert runner.started and runner.run(workloads.tiny, [5]).results == (25,)  # same cluster, new worker


# -- a cluster we did not start -----------------------------------------------------------

@needs_distributed
def test_a_given_scheduler_address_is_used_and_left_running():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, host="127.0.0.1", protocol="tcp",
                      dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster:
        runner = make_runner("dask", address=cluster.scheduler_address)
        with runner:
            rec = runner.run(workloads.tiny, list(range(8)))
            assert runner._pool.offsets == {}  # same machine, same clock: no correction
        assert list(rec.results) == [x * x for x in range(8)]
        assert rec.max_workers == 2 and rec.workers_peak_rss == 0  # the cluster's size; its memory is not ours
        assert all(0 <= e.submit <= e.start <= e.end <= e.collected for e in rec.events)
        with Client(cluster, set_as_default=False) as client:  # still up after the runner closed
            assert client.submit(workloads.tiny, 7, pure=False).result(timeout=30) == 49


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
