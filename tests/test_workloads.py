"""Workloads do what they say, calibrate sensibly, and fail the way the lessons need."""

from __future__ import annotations

import functools
import pickle
import socket

import pytest
from support import make

from concurrency_lab import calibration, config, workloads
from concurrency_lab.calibration import calibrate
from concurrency_lab.servers import LocalHTTPServer
from concurrency_lab.workloads import WORKLOADS


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_every_workload_is_a_picklable_module_level_function(name):
    fn = WORKLOADS[name].fn
    assert pickle.loads(pickle.dumps(fn)) is fn
    assert fn.__module__ == "concurrency_lab.workloads"


def test_small_workloads_return_what_they_compute():
    assert workloads.cpu(10) == sum(i * i % 7 for i in range(10))
    assert workloads.tiny(7) == 49
    assert workloads.io_sleep(0.001) == 0.001
    assert workloads.io_file(100_000) == 100_000
    assert workloads.gil_release(10_000, "sha256") == 32
    assert workloads.gil_release(10_000, "sha256", piece=1024) == 32
    assert workloads.gil_release(10_000, "zlib") > 0
    assert workloads.gil_release(8, "numpy") == 8
    assert workloads.mixed(10, io_seconds=0.001) == workloads.cpu(10)
    assert workloads.memory(2) == 2 * 1024 * 1024


def test_calibrate_scales_with_the_target_and_remembers():
    calibration._CALIBRATED.clear()
    # A fake clock: the first probe takes 1 ms, the second 40 ms (preempted), then 25 and 30 ms when confirmed.
    ticks = iter([0.0, 0.001, 1.0, 1.040, 2.0, 2.025, 3.0, 3.030])
    size = calibrate("gil_release", 0.1, clock=lambda: next(ticks))
    assert size == 2 * (1 << 14) * 4  # doubled once, then scaled by 0.1 / 0.025, the fastest of three
    assert calibrate("gil_release", 0.1) == size  # remembered for this process
    assert calibrate("io_sleep", 0.3) == 0.3 and calibrate("crash", 1) == "raise"
    assert calibrate("cpu", 0.02) < calibrate("cpu", 0.2)


def test_local_http_server_binds_loopback_and_serves_sizes():
    with LocalHTTPServer(latency=0.0) as server:
        assert server.url.startswith("http://127.0.0.1:")
        with socket.create_connection(("127.0.0.1", server.port), timeout=5):
            pass
        task = server.task()
        assert pickle.loads(pickle.dumps(task)).keywords["url"] == server.url
        assert task(1234) == 1234
    assert server.requests == 0  # closed: nothing is counted after close


def test_the_demo_server_answers_32_clients_at_once_without_dropping_one():
    """Why config.HTTP_REQUEST_QUEUE_SIZE is 128: with the stdlib's backlog of 5, connections beyond it
    are dropped and the client retries 1 to 3 s later, so 32 waits of 50 ms take seconds, not 50 ms."""
    with LocalHTTPServer(latency=0.05) as server, make("threads", 32) as runner:
        rec = runner.run(server.task(), [10] * 32)
        answered = server.requests
    assert rec.ok and answered == 32
    assert rec.wall < 0.9  # one latency and scheduling; a dropped connection alone would cost 1 s


@pytest.mark.parametrize("backend", ["threads", "asyncio", "processes:fork"])
def test_http_workload_runs_on_threads_asyncio_and_processes(backend):
    with LocalHTTPServer(latency=0.01) as server, make(backend, 8) as runner:
        rec = runner.run(server.task(), [100] * 16)
        assert rec.ok and rec.results == (100,) * 16
        assert server.requests == 16


def test_asyncio_uses_the_coroutine_twin_and_overlaps_waits():
    with make("asyncio", 20) as runner:
        rec = runner.run(workloads.io_sleep, [0.1] * 20)
    assert rec.ok and rec.wall < 20 * 0.1 / 2  # overlapped; sequentially it would be 2 s
    assert len({e.thread_id for e in rec.events}) > 1  # tasks held different slots


PROCESS_SPECS = [f"processes:{m}" for m in config.available_start_methods()]


@pytest.mark.parametrize("spec", PROCESS_SPECS)
@pytest.mark.parametrize("how, signal_name", [("abort", "SIGABRT"), ("segv", "SIGSEGV")])
def test_hard_crashes_in_a_worker_process_are_named(how, signal_name, spec):
    with make(spec) as runner:
        rec = runner.run(workloads.crash, [how])
        assert not rec.ok and f"killed by {signal_name}" in rec.failures[0].error
        assert runner.run(workloads.tiny, [3]).results == (9,)


def test_memory_error_in_a_task_is_recorded(backend_spec):
    with make(backend_spec) as runner:
        rec = runner.run(workloads.crash, ["memory", "raise"])
    assert "MemoryError" in rec.events[0].error and "RuntimeError" in rec.events[1].error


@pytest.mark.parametrize("spec", PROCESS_SPECS)
def test_a_worker_killed_from_outside_breaks_only_that_run(spec):
    import os
    import signal
    import threading

    with make(spec) as runner:
        runner.warm(workloads.io_sleep)  # so the kill lands among the tasks, not in the run's own warm-up
        victim = runner.worker_pids[0]
        threading.Timer(0.2, os.kill, (victim, signal.SIGKILL)).start()
        rec = runner.run(workloads.io_sleep, [0.5] * 4)
        assert any(f"pid {victim} killed by SIGKILL" in e.error for e in rec.failures)
        assert runner.run(workloads.tiny, [4]).results == (16,)


@pytest.mark.parametrize("spec", PROCESS_SPECS)
def test_hang_is_stopped_by_the_run_timeout(spec):
    with make(spec) as runner:
        rec = runner.run(functools.partial(workloads.hang), [60.0, 60.0], timeout=0.5)
    assert all(e.error.startswith("timeout") for e in rec.events)
