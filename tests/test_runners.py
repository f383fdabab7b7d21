"""One behaviour suite, run against every backend and start method."""

from __future__ import annotations

import functools
import threading
import time

import pytest
from support import make

from concurrency_lab import workloads
from concurrency_lab.records import TaskFailed
from concurrency_lab.runners import UnpicklableError, outcome_event

EPS = 1e-6  # float rounding of ns -> s conversions


def check_events(rec, n: int, max_workers: int) -> None:
    assert [e.index for e in rec.events] == list(range(n))
    for e in rec.events:
        assert 0 <= e.submit <= e.start <= e.end <= e.collected <= rec.wall + EPS, e
        assert e.cpu >= 0
    labels = {e.worker for e in rec.events if e.ok}
    assert 1 <= len(labels) <= max_workers
    assert all(e.pid > 0 for e in rec.events if e.ok)


def test_results_in_order_and_events_consistent(backend_spec):
    items = list(range(20))
    with make(backend_spec) as runner:
        rec = runner.run(workloads.tiny, items)
    assert list(rec.results) == [x * x for x in items]
    assert rec.ok and rec.workload == "tiny"
    check_events(rec, len(items), runner.max_workers)
    assert rec.backend == backend_spec.split(":")[0]
    assert rec.start_method == (backend_spec.split(":")[1] if ":" in backend_spec else "")


def test_map_gives_the_results_in_order_as_executor_map_does(backend_spec):
    with make(backend_spec) as runner:
        assert list(runner.map(workloads.tiny, range(10))) == [x * x for x in range(10)]
        assert list(runner.map(workloads.tiny, range(10), chunksize=3)) == [x * x for x in range(10)]


def test_map_raises_task_failed_when_it_reaches_the_failed_task(backend_spec):
    with make(backend_spec) as runner:
        results = iter(runner.map(functools.partial(workloads.crash), ["raise"]))
        with pytest.raises(TaskFailed, match=r"^task 0: RuntimeError: crash\('raise'\)"):
            next(results)


def test_submit_gives_a_future_of_the_result_and_its_timings(backend_spec):
    with make(backend_spec) as runner:
        fut = runner.submit(workloads.tiny, 7)
        assert fut.result(timeout=30) == 49
        out = fut.outcome
        assert out.error is None and out.result == 49 and out.start <= out.end
        event = outcome_event(3, out, t0=fut.submitted, submitted=fut.submitted, collected=out.end, worker="w0")
        assert event.ok and event.index == 3 and 0 <= event.start <= event.end
        failed = runner.submit(workloads.crash, "raise")
        with pytest.raises(TaskFailed, match="RuntimeError"):
            failed.result(timeout=30)


def test_a_record_with_failed_tasks_says_so_where_a_learner_looks():
    with make("threads") as runner:
        rec = runner.run(workloads.crash, ["raise", "raise"])
        ok = runner.run(workloads.tiny, [2])
    assert repr(rec).startswith("RunRecord(threads x2, crash, 2 tasks, wall ")
    assert repr(rec).endswith("2 of 2 tasks failed; task 0: RuntimeError: crash('raise'): this task raised on purpose)")
    assert repr(ok).endswith(": all 1 ok)")


def test_an_unpicklable_return_value_names_the_task_and_says_return_value():
    spec = next(b for b in __import__("support").BACKENDS if b.startswith("processes"))
    with make(spec, 1) as runner:
        rec = runner.run(_return_a_lock, [0, 1])
    error = rec.events[1].error
    assert "cannot pickle" in error and "Task 1's return value could not be sent back" in error
    assert "Return plain data" in error


def _return_a_lock(_: int) -> object:
    return threading.Lock()


def test_chunks_give_the_same_results(backend_spec):
    with make(backend_spec) as runner:
        rec = runner.run(workloads.tiny, list(range(10)), chunksize=3)
    assert list(rec.results) == [x * x for x in range(10)]
    check_events(rec, 10, runner.max_workers)


def test_cpu_workload_and_record_fields(backend_spec):
    with make(backend_spec) as runner:
        rec = runner.run(workloads.cpu, [2000] * 4)
    assert list(rec.results) == [workloads.cpu(2000)] * 4
    assert rec.cpu_time > 0 and rec.wall > 0
    assert rec.params["tasks"] == 4
    assert rec.cores_logical >= rec.cores_usable >= 1
    assert rec.python_version and rec.implementation
    overhead = rec.overhead()
    assert set(overhead) == {"startup", "queued", "dispatch", "compute", "collection"}
    assert all(v >= -EPS for v in overhead.values()), overhead


def test_a_raising_task_is_recorded_and_the_next_run_works(backend_spec):
    with make(backend_spec) as runner:
        rec = runner.run(workloads.crash, ["raise", "raise"])
        assert not rec.ok and len(rec.failures) == 2
        assert "RuntimeError: crash('raise')" in rec.failures[0].error
        assert "Traceback" in rec.failures[0].error
        again = runner.run(workloads.tiny, [3])
    assert again.ok and again.results == (9,)


def test_learner_functions_lambdas_and_closures_run_everywhere(backend_spec):
    offset = 10

    def add_offset(x):  # a closure, like a function defined in a notebook cell
        return x + offset

    with make(backend_spec) as runner:
        assert runner.run(add_offset, [1, 2]).results == (11, 12)
        assert runner.run(lambda x: x * 3, [1, 2]).results == (3, 6)
        assert runner.run(functools.partial(pow, 2), [3, 4]).results == (8, 16)


def test_events_stream_as_tasks_finish(backend_spec):
    seen = []
    with make(backend_spec) as runner:
        rec = runner.run(workloads.io_sleep, [0.01] * 6, on_event=seen.append)
    assert sorted(e.index for e in seen) == list(range(6))
    assert [e.collected for e in seen] == sorted(e.collected for e in seen)  # handed over as collected
    assert set(seen) == set(rec.events)


def test_stream_iterator_yields_events_then_the_record(backend_spec):
    with make(backend_spec) as runner:
        stream = runner.stream(workloads.tiny, list(range(5)))
        events = list(stream)
    assert sorted(e.index for e in events) == list(range(5))
    assert stream.record is not None and stream.record.results == (0, 1, 4, 9, 16)


def test_stop_ends_a_run_quickly_and_marks_unfinished_tasks(backend_spec):
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    t0 = time.monotonic()
    with make(backend_spec) as runner:
        rec = runner.run(workloads.io_sleep, [0.05] * 400, stop=stop)
        took = time.monotonic() - t0
        assert took < 0.3 + 2.0, took
        cancelled = [e for e in rec.failures if e.error.startswith("cancelled")]
        assert cancelled and len(rec.events) == 400
        assert runner.run(workloads.tiny, [2]).results == (4,)  # a following run works


def test_run_timeout_marks_unfinished_tasks(backend_spec):
    with make(backend_spec) as runner:
        rec = runner.run(workloads.io_sleep, [0.05] * 200, timeout=0.3)
    assert any(e.error.startswith("timeout") for e in rec.failures)
    assert rec.wall < 0.3 + 2.0


def test_an_error_in_the_event_callback_cleans_up_and_propagates(backend_spec):
    def boom(event):
        raise KeyboardInterrupt  # what Ctrl-C looks like from inside the loop

    runner = make(backend_spec)
    with pytest.raises(KeyboardInterrupt):
        runner.run(workloads.io_sleep, [0.02] * 50, on_event=boom)
    assert not runner.started  # the pool was shut down before the interrupt went on


def test_warm_pool_is_reused(backend_spec):
    with make(backend_spec) as runner:
        first = runner.run(workloads.tiny, [1, 2])
        second = runner.run(workloads.tiny, [1, 2])
    # the with-block started the pool; a process pool's first run of a module imports it in
    # every worker before its clock starts (counted as start-up), and the second run pays nothing
    assert first.startup >= 0.0 and second.startup == 0.0
    if not backend_spec.startswith("processes"):
        assert first.startup == 0.0
    if backend_spec.startswith("processes"):
        assert {e.pid for e in first.events} | {e.pid for e in second.events} <= set(runner._worker_pids()) | set()


def test_unpicklable_closure_names_the_object():
    lock = threading.Lock()

    def uses_lock(x):
        with lock:
            return x

    with make("threads") as runner:  # threads share memory: fine
        assert runner.run(uses_lock, [1]).results == (1,)
    runner = make("processes:spawn")
    with pytest.raises(UnpicklableError, match=r"'lock'.*_thread.lock.*threads backend"):
        runner.run(uses_lock, [1])
    assert not runner.started  # refused before any worker started


def test_generator_in_a_closure_is_named():
    gen = (i for i in range(3))

    def uses_gen(x):
        return next(gen) + x

    with pytest.raises(UnpicklableError, match=r"'gen'.*generator"):
        make("processes:forkserver").run(uses_gen, [1])


def test_unpicklable_task_input_is_refused_before_start():
    runner = make("processes:spawn")
    with pytest.raises(UnpicklableError, match=r"items\[0\]"):
        runner.run(workloads.tiny, [threading.Lock()])
    assert not runner.started


@pytest.mark.parametrize("method", [m for m in ("fork", "forkserver", "spawn") if m in __import__("concurrency_lab").config.available_start_methods()])
def test_dead_worker_breaks_the_run_with_an_explanation_and_the_next_run_works(method):
    with make(f"processes:{method}") as runner:
        rec = runner.run(workloads.crash, ["exit", "exit"])
        assert not rec.ok
        assert all("BrokenProcessPool" in e.error and "exited with code 1" in e.error for e in rec.failures)
        again = runner.run(workloads.tiny, [5])
    assert again.ok and again.results == (25,)


def test_processes_record_the_start_method_default():
    from concurrency_lab import config

    runner = make("processes")
    assert runner.start_method == config.default_start_method()
    runner.shutdown()


@pytest.mark.parametrize("spec", ["threads", "processes:fork", "processes:forkserver", "processes:spawn"])
def test_a_task_over_its_timeout_is_named_and_the_run_stops(spec):
    t0 = time.monotonic()
    with make(spec) as runner:
        rec = runner.run(workloads.io_sleep, [0.01, 1.5, 0.01, 0.01, 0.01, 0.01], task_timeout=0.3)
        assert time.monotonic() - t0 < 0.3 + 2.0
        assert rec.events[1].error.startswith("timeout: this task ran longer than task_timeout=0.3 s")
        assert rec.events[0].ok
        assert all(e.ok or e.error.startswith("cancelled: the run stopped because task 1 timed out")
                   for e in rec.events if e.index != 1)
        assert runner.run(workloads.tiny, [6]).results == (36,)


def test_asyncio_times_out_one_coroutine_and_carries_on():
    with make("asyncio", 4) as runner:
        rec = runner.run(workloads.io_sleep, [0.01, 5.0, 0.01], task_timeout=0.2)
    assert [e.ok for e in rec.events] == [True, False, True]
    assert rec.events[1].error == "timeout: this task ran longer than task_timeout=0.2 s"


def test_sequential_refuses_a_task_timeout():
    with pytest.raises(ValueError, match="task_timeout: the sequential backend runs tasks in your own thread"):
        make("sequential").run(workloads.tiny, [1], task_timeout=1)


def test_a_pool_that_breaks_during_submission_fails_the_rest_cleanly(monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    with make("processes:fork") as runner:
        real = runner._submitter

        def breaking(target, state):
            submit = real(target, state)
            calls = iter(range(10**6))

            def maybe(item):
                if next(calls) >= 2:
                    raise BrokenProcessPool("A child process terminated abruptly")
                return submit(item)

            return maybe

        monkeypatch.setattr(runner, "_submitter", breaking)
        rec = runner.run(workloads.tiny, [1, 2, 3, 4])
        assert [e.ok for e in rec.events] == [True, True, False, False]
        assert all("BrokenProcessPool" in e.error for e in rec.failures)
        monkeypatch.undo()
        assert runner.run(workloads.tiny, [5]).results == (25,)  # a fresh pool


def test_task_module_names_what_a_worker_must_import():
    from concurrency_lab._worker import Shipped
    from concurrency_lab.runners._base import task_module

    assert task_module(workloads.cpu) == "concurrency_lab.workloads"
    assert task_module(functools.partial(workloads.crash, "raise")) == "concurrency_lab.workloads"
    assert task_module(Shipped("k", b"", "f")) == "cloudpickle"  # shipped by value: cloudpickle unpacks it
    main_fn = type(lambda: 0)(compile("lambda x: x", "<cell>", "eval").co_consts[0], {"__name__": "__main__"})
    assert main_fn.__module__ == "__main__" and task_module(main_fn) is None


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_workers_import_a_tasks_module_once_per_pool_before_the_clock_starts(method):
    from concurrency_lab.runners import ProcessRunner

    with ProcessRunner(2, start_method=method) as runner:
        assert runner._warmed == set()
        first = runner.run(workloads.tiny, range(4))
        assert runner._warmed == {"concurrency_lab.workloads"} and first.startup > 0  # the import, paid as start-up
        again = runner.run(workloads.tiny, range(4))
        assert again.startup == 0.0 and first.results == again.results == (0, 1, 4, 9)
        runner.shutdown()
        runner.start()
        assert runner._warmed == set()  # a fresh pool has imported nothing


def test_in_process_backends_have_nothing_to_import():
    from concurrency_lab.runners import ThreadRunner

    with ThreadRunner(2) as runner:
        assert runner.run(workloads.tiny, range(3)).startup == 0.0 and runner._warmed == set()
