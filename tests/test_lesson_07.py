"""Lesson 07 (robustness): failures come back explained, hard crashes are shown safely in a child Python,
processes isolate crashes and threads do not, and limits end runs promptly. The exercise's check is tested in
tests/test_code_l07.py."""

from __future__ import annotations

import subprocess

import pytest

from concurrency_lab import config, lessons
from concurrency_lab.lessons import robustness

METHODS = [m for m in ("spawn", "forkserver") if m in config.available_start_methods()]
RAISED = "RuntimeError: crash('raise'): this task raised on purpose"


@pytest.mark.parametrize("backend, method", [("threads", None)] + [("processes", m) for m in METHODS])
def test_a_task_that_raises_comes_back_explained_and_the_others_keep_their_results(backend, method):
    errors = lessons.exception_in_tasks(backend, start_method=method)
    assert errors.results == (1, 4, None, 16)
    assert errors.failed == ((2, RAISED),)
    assert repr(errors) == f"{backend}: the run returned; 3 of 4 tasks gave results [1, 4, None, 16]\n" \
                           f"  task 2 failed: {RAISED}"


@pytest.mark.parametrize("method", METHODS)
def test_a_dying_worker_is_explained_and_the_next_run_works(method):
    deaths = lessons.dying_workers(start_method=method)
    causes = dict(deaths.causes)
    assert causes["exit"].startswith("worker process died: pid ") and causes["exit"].endswith("exited with code 1")
    assert causes["abort"].endswith("killed by SIGABRT") and causes["segv"].endswith("killed by SIGSEGV")
    assert deaths.notebook_pid_unchanged and deaths.next_run_ok


def test_an_exception_in_a_bare_thread_reaches_only_the_excepthook():
    import threading

    hook = threading.excepthook
    bare = lessons.exception_in_bare_thread()
    assert bare.caller_saw == "nothing: join() returned normally" and bare.hook_saw == RAISED
    future = lessons.exception_through_future()
    assert future.caller_saw == f"future.result() raised {RAISED}" and future.hook_saw == "nothing"
    assert threading.excepthook is hook


@pytest.mark.parametrize("how, signal, fatal", [("abort", "SIGABRT", "Aborted"), ("segv", "SIGSEGV",
                                                                                  "Segmentation fault")])
def test_a_hard_crash_in_a_thread_kills_the_whole_child_python(how, signal, fatal):
    child = lessons.crash_in_child("thread", how)
    assert not child.host_survived and not child.sibling_finished
    assert child.fatal_error == f"Fatal Python error: {fatal}"
    assert repr(child).startswith(f"two threads in one process, crash('{how}'): the child Python was killed by {signal}")


@pytest.mark.parametrize("method", METHODS)
def test_processes_isolate_crashes_and_threads_do_not(method):
    iso = lessons.isolation(start_method=method)
    assert iso.verdict() == "processes isolate crashes: True; threads do not: True"
    table = iso.table()
    assert list(table["host survived"]) == [False, True, True]
    assert list(table["sibling finished"]) == [False, True, False]  # the pool breaks: unfinished tasks fail
    pool = iso.rows[2]
    assert pool.explained.startswith("task 1: worker process died: pid ") and pool.explained.endswith("SIGABRT")
    assert iso.rows[1].explained == "the crashed process's exit code is -6 (SIGABRT)"


def test_isolation_verdict_needs_both_setups():
    assert "measure both" in lessons.Isolation(()).verdict()
    with pytest.raises(ValueError, match="setup"):
        lessons.crash_in_child("nope")


def test_a_child_that_outlives_its_timeout_is_killed_with_its_group():
    with pytest.raises(subprocess.TimeoutExpired):
        robustness._run_child(["sleep", "30"], timeout=0.5)


@pytest.mark.parametrize("backend", ["threads", "processes"])
@pytest.mark.parametrize("limit", [{"task_timeout": 0.3}, {"timeout": 0.3}, {"stop_after_s": 0.3}])
def test_limits_end_hung_runs_promptly(backend, limit):
    run = lessons.hung_run(backend, hang_s=1.0, **limit)
    assert run.prompt and run.after_limit_s < 2.0
    assert len(run.errors) == 2 and all(e.startswith(("timeout:", "cancelled:")) for e in run.errors)
    assert run.thread_still_running == (backend == "threads")  # a thread cannot be killed
    if "task_timeout" in limit:
        assert run.errors == ("timeout: this task ran longer than task_timeout=0.3 s",
                              "cancelled: the run stopped because task 0 timed out")
    if "stop_after_s" in limit:
        assert "after Stop was set; within 2 s: True" in repr(run)


def test_hung_run_needs_exactly_one_limit():
    with pytest.raises(ValueError, match="exactly one"):
        lessons.hung_run("threads")
    with pytest.raises(ValueError, match="exactly one"):
        lessons.hung_run("threads", timeout=1, task_timeout=1)


def test_work_or_crash_rejects_an_unknown_job():
    assert lessons.work_or_crash(("ok", 3)) == 9
    with pytest.raises(ValueError, match="unknown kind"):
        lessons.work_or_crash(("nope", 0))


def test_no_core_file_limit_is_restored():
    resource = pytest.importorskip("resource")
    before = resource.getrlimit(resource.RLIMIT_CORE)
    with robustness._no_core_files():
        assert resource.getrlimit(resource.RLIMIT_CORE)[0] == 0
    assert resource.getrlimit(resource.RLIMIT_CORE) == before
