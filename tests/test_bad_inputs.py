"""Bad input gets a clear error that names the field and what is allowed, before anything starts."""

from __future__ import annotations

import threading

import pytest

from concurrency_lab import api, calibration, config, experiments, workloads
from concurrency_lab.runners import ProcessRunner, SequentialRunner, ThreadRunner, make_runner
from concurrency_lab.servers import LocalHTTPServer

CASES = [
    # (id, call, exception, message regex)
    ("workers zero", lambda: ThreadRunner(0), ValueError, r"max_workers: 0 is out of range; allowed: 1 to 256"),
    ("workers negative", lambda: ProcessRunner(-2), ValueError, r"max_workers: -2 is out of range"),
    ("workers float", lambda: ThreadRunner(1.5), TypeError, r"max_workers: expected an int, got float"),
    ("workers string", lambda: ThreadRunner("2"), TypeError, r"max_workers: expected an int, got str"),
    ("workers bool", lambda: ThreadRunner(True), TypeError, r"max_workers: expected an int, got bool"),
    ("workers over cap", lambda: ProcessRunner(10_000), ValueError, r"max_workers: 10000 is out of range; allowed: 1 to 256"),
    ("sequential with 2 workers", lambda: SequentialRunner(2), ValueError, r"max_workers: 2 is out of range; allowed: 1 to 1"),
    ("tasks zero", lambda: api.run("tiny", tasks=0), ValueError, r"tasks: 0 is out of range"),
    ("tasks negative", lambda: api.run("tiny", tasks=-1), ValueError, r"tasks: -1 is out of range"),
    ("tasks over cap", lambda: api.run("tiny", tasks=config.MAX_TASKS_CAP + 1), ValueError, r"tasks: .* out of range"),
    ("no items", lambda: ThreadRunner(1).run(workloads.tiny, []), ValueError, r"items: no tasks to run"),
    ("items not iterable", lambda: ThreadRunner(1).run(workloads.tiny, 5), TypeError, r"items: expected a list"),
    ("items a string", lambda: ThreadRunner(1).run(workloads.tiny, "abc"), TypeError, r"items: expected a list"),
    ("fn not callable", lambda: ThreadRunner(1).run(42, [1]), TypeError, r"fn: expected a callable"),
    ("unknown backend", lambda: api.run("tiny", backend="gpu"), ValueError,
     r"backend: unknown 'gpu'; choose one of: sequential, threads, processes, asyncio"),
    ("unknown workload", lambda: api.run("nope"), ValueError, r"workload: unknown 'nope'; choose one of: cpu, tiny"),
    ("unknown start method", lambda: ProcessRunner(2, start_method="clone"), ValueError,
     r"start_method: unknown 'clone'; choose one of: fork, forkserver, spawn"),
    ("start method for threads", lambda: make_runner("threads", 2, start_method="spawn"), ValueError,
     r"start_method: only the processes backend takes one"),
    ("negative size", lambda: api.run("cpu", size=-5), ValueError, r"size: -5 is out of range; allowed: >= 0"),
    ("size and items together", lambda: api.run("cpu", size=5, items=[1]), ValueError, r"items: give either items"),
    ("own function without size", lambda: api.run(abs), ValueError, r"size: a function of your own needs size="),
    ("workload not a name or function", lambda: api.run(3.5), TypeError, r"workload: expected a workload name"),
    ("chunksize zero", lambda: api.run("tiny", chunksize=0), ValueError, r"chunksize: 0 is out of range"),
    ("timeout negative", lambda: ThreadRunner(1).run(workloads.tiny, [1], timeout=-1), ValueError,
     r"timeout: -1 is out of range; allowed: a number of seconds > 0"),
    ("timeout not a number", lambda: ThreadRunner(1).run(workloads.tiny, [1], timeout="1s"), TypeError,
     r"timeout: expected seconds"),
    ("calibrate bad target", lambda: calibration.calibrate("cpu", 0), ValueError, r"target_seconds: 0 is out of range"),
    ("calibrate unknown", lambda: calibration.calibrate("cpux", 1), ValueError, r"workload: unknown 'cpux'"),
    ("memory negative", lambda: workloads.memory(-1), ValueError, r"mb: expected an int >= 0"),
    ("memory over what is free", lambda: workloads.memory(10**9), MemoryError, r"mb: 1000000000 MiB is more than .* refused before allocating"),
    ("gil_release unknown kind", lambda: workloads.gil_release(10, kind="md4"), ValueError, r"kind: unknown 'md4'; choose one of: sha256, zlib, numpy"),
    ("crash unknown way", lambda: workloads.crash("explode"), ValueError, r"how: unknown 'explode'; choose one of: raise"),
    ("server latency negative", lambda: LocalHTTPServer(latency=-1), ValueError, r"latency: -1 is out of range; allowed: 0 to 10"),
    ("sweep bad mode", lambda: experiments.sweep(mode="weak"), ValueError, r"mode: unknown 'weak'; choose one of: fixed, per_worker"),
    ("sweep start method on threads", lambda: experiments.sweep(backends=["threads:fork"]), ValueError,
     r"backend: only processes takes a start method"),
    ("sweep no workers", lambda: experiments.sweep(workers=[]), ValueError, r"workers: give a non-empty list"),
    ("sweep workers zero", lambda: experiments.sweep(workers=[0, 2]), ValueError, r"workers: 0 is out of range"),
    ("sweep repeats zero", lambda: experiments.sweep(repeats=0), ValueError, r"repeats: 0 is out of range"),
    ("sweep unknown workload", lambda: experiments.sweep(workloads=["cpu", "gpu"]), ValueError, r"workload: unknown 'gpu'"),
]


@pytest.mark.parametrize("call, exc, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_clearly(call, exc, message):
    threads_before = threading.active_count()
    with pytest.raises(exc, match=message):
        call()
    assert threading.active_count() == threads_before  # nothing half-started (processes: the autouse fixture)


def test_start_method_the_platform_lacks(monkeypatch):
    monkeypatch.setattr(config, "available_start_methods", lambda: ("spawn",))
    with pytest.raises(ValueError, match=r"start_method: 'fork' is not available on this platform; choose one of: spawn"):
        ProcessRunner(2, start_method="fork")


def test_catalogue_is_big_enough():
    assert len(CASES) + 1 >= 25
