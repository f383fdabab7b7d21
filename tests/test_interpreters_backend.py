"""The `interpreters` backend (subinterpreters, Python 3.14+): its refusal before 3.14, its limits after."""

from __future__ import annotations

import functools
import os
import platform
import re
import sys

import pytest

from concurrency_lab import workloads
from concurrency_lab.cli import main
from concurrency_lab.runners import RUNNERS, UnpicklableError, make_runner
from concurrency_lab.runners import interpreters as backend
from concurrency_lab.runners.interpreters import BackendUnavailable, InterpreterRunner

NEEDS_314 = (f"the interpreters backend needs Python 3.14 or newer (InterpreterPoolExecutor); "
             f"this is {platform.python_version()}")
old_python = pytest.mark.skipif(sys.version_info >= (3, 14), reason="Python 3.14+ has InterpreterPoolExecutor")
py314 = pytest.mark.skipif(sys.version_info < (3, 14), reason="InterpreterPoolExecutor is new in Python 3.14")


def test_registered_as_a_backend():
    assert RUNNERS["interpreters"] is InterpreterRunner
    assert InterpreterRunner.backend == "interpreters"


def test_its_limits_are_written_down():
    doc = backend.__doc__
    for limit in ("__main__", "pickled", "numpy", "C extensions must support subinterpreters", "importable"):
        assert limit in doc


@old_python
def test_refuses_before_314_with_the_version_it_found():
    with pytest.raises(BackendUnavailable, match=re.escape(NEEDS_314)):
        InterpreterRunner(2)
    with pytest.raises(ValueError, match=re.escape(NEEDS_314)):  # a ValueError, so the CLI shows it plainly
        make_runner("interpreters", 2)


@old_python
def test_cli_run_says_it_needs_314(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--backend", "interpreters", "--workers", "2", "--tasks", "2"])
    assert exit_.value.code == 2
    assert NEEDS_314 in capsys.readouterr().err


def test_a_notebook_function_is_refused_with_the_reason():
    def local(x):
        return x

    text = backend._not_importable(local)
    assert "'test_a_notebook_function_is_refused_with_the_reason.<locals>.local'" in text
    assert "must be importable module-level functions" in text and "__main__" in text


# -- Python 3.14+ only: written from the documentation; run wherever a 3.14 exists ------------

@py314
def test_runs_cpu_tasks_in_worker_interpreters_of_this_process():
    with InterpreterRunner(2) as runner:
        rec = runner.run(workloads.cpu, [20_000] * 6, workload="cpu")
    assert rec.ok and rec.backend == "interpreters" and rec.max_workers == 2
    assert {e.pid for e in rec.events} == {os.getpid()}  # one process...
    assert len({e.worker for e in rec.events}) == 2  # ...two worker threads, each with its own interpreter
    assert rec.results == tuple(workloads.cpu(20_000) for _ in range(6))


@py314
def test_refuses_main_functions_and_lambdas_before_starting():
    runner = InterpreterRunner(2)
    for fn in (lambda x: x, _as_main(lambda x: x)):
        with pytest.raises(UnpicklableError, match="must be importable module-level functions"):
            runner.run(fn, [1, 2])
    assert not runner.started


@py314
def test_an_extension_without_subinterpreter_support_fails_the_task_not_the_run():
    with InterpreterRunner(1) as runner:
        rec = runner.run(functools.partial(workloads.gil_release, kind="numpy"), [64], workload="gil_release")
    assert rec.ok or "interpreter" in rec.failures[0].error.lower()


def _as_main(fn):
    fn.__module__ = "__main__"
    return fn
