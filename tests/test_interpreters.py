"""Other Python executables: finding and describing them, sweeps run under them, and their errors.

The end-to-end test needs a second Python 3.11+ that can import concurrency_lab,
psutil and cloudpickle: `.ci/matrix setup` builds `.venv-py3.X` for every other
version the machine has. Without any other Python it is skipped; in CI (`CI`
set) a Python that is present but not ready fails it, naming what to run.
"""

from __future__ import annotations

import _thread
import dataclasses
import os
import platform
import sys
import sysconfig
import threading
import time

import psutil
import pytest

from concurrency_lab import analysis, children, interpreter_paths, interpreters
from concurrency_lab.experiments import sweep
from concurrency_lab.info import gil_enabled
from concurrency_lab.interpreters import (
    Interpreter,
    InterpreterError,
    InterpreterTimeout,
    describe,
    explain,
    find_interpreters,
    python_label,
    sweep_in,
)
from concurrency_lab.recordfiles import load_records, save_records
from concurrency_lab.records import records_to_dataframe

SMALL_SWEEP = dict(backends=["threads", "processes"], workers=[1, 2], workloads=["cpu"], tasks=4, small=True,
                   timeout=120)


@pytest.fixture(scope="module")
def found() -> list[Interpreter]:
    return find_interpreters()


@pytest.fixture(scope="module")
def this(found) -> Interpreter:
    return next(i for i in found if i.current)


@pytest.fixture(scope="module")
def other(found, this) -> Interpreter:
    """A second Python that can run a sweep, another version than this one where there is one."""
    ready = [i for i in found if i.ready and not i.current]
    ready.sort(key=lambda i: i.version_info[:2] == this.version_info[:2])
    if ready:
        return ready[0]
    present = [i for i in found if not i.current]
    if present and os.environ.get("CI"):
        pytest.fail("CI must prove the other-interpreter lane, but no other Python here can run a sweep; "
                    f"run `.ci/matrix setup` first. {present[0].executable}: {present[0].install_hint}")
    pytest.skip("no second Python 3.11+ that can import concurrency_lab, psutil and cloudpickle here "
                "(`.ci/matrix setup` builds .venv-py3.X for each other version the machine has)")


def _fake_python(tmp_path, body: str) -> str:
    path = tmp_path / "python3.99"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


# -- describing -------------------------------------------------------------------

def test_finds_this_interpreter_first_and_describes_it_as_it_is(found, this):
    assert found[0] is this
    assert this.source == "this" and this.ready and not this.missing
    assert this.version == platform.python_version()
    assert this.implementation == platform.python_implementation()
    assert this.free_threaded == bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    assert this.gil_enabled == gil_enabled()
    assert os.path.samefile(this.executable, sys.executable)


def test_every_found_python_is_311_or_newer_and_listed_once(found):
    assert all(i.version_info[:2] >= (3, 11) for i in found)
    keys = [(os.path.realpath(i.executable), interpreter_paths.venv_of(i.executable)) for i in found]
    assert len(keys) == len(set(keys))
    assert sum(i.current for i in found) == 1


def test_a_python_without_our_package_imports_it_from_the_project_root(found):
    bare = [i for i in found if i.pythonpath is not None]
    if not bare:
        pytest.skip("every Python here has concurrency_lab installed")
    root = os.path.dirname(os.path.dirname(interpreters.__file__))
    for interp in bare:
        assert os.path.samefile(interp.pythonpath, root)
        assert "concurrency_lab" not in interp.missing, interp.missing["concurrency_lab"]


def test_describe_a_given_path(this):
    given = describe(sys.executable)
    assert given.source == "given" and given.current
    assert dataclasses.replace(given, source="this") == this


@pytest.mark.parametrize("path, message", [
    ("/no/such/python3.99", "python: no such file '/no/such/python3.99'"),
    ("", "expected a path to a Python executable"),
    ("no-such-python-anywhere", "no such file 'no-such-python-anywhere'"),
])
def test_missing_python_is_a_clear_error(path, message):
    with pytest.raises(InterpreterError, match=message.replace("(", r"\(")):
        describe(path)
    with pytest.raises(InterpreterError, match=message.replace("(", r"\(")):
        sweep_in(path, ["threads"], [1], ["cpu"])


def test_a_folder_or_a_plain_file_is_not_a_python(tmp_path):
    with pytest.raises(InterpreterError, match="is not an executable file"):
        describe(tmp_path)
    plain = tmp_path / "python"
    plain.write_text("not a program")
    with pytest.raises(InterpreterError, match="is not an executable file"):
        describe(plain)


def test_a_program_that_is_not_python_says_what_it_printed(tmp_path):
    fake = _fake_python(tmp_path, "echo 'I am not Python' >&2; exit 3")
    with pytest.raises(InterpreterError, match=r"did not answer like a Python 3 \(exit status 3\): I am not Python"):
        describe(fake)


def test_a_python_older_than_311_is_refused(tmp_path):
    answer = ('{"version": "3.8.18", "implementation": "CPython", "free_threaded": false, "gil_enabled": true, '
              '"pythonpath": null, "missing": {}, "executable": "x", "prefix": "x"}')
    fake = _fake_python(tmp_path, f"echo '{interpreters._MARK}{answer}'")
    with pytest.raises(InterpreterError, match="is Python 3.8.18; concurrency_lab needs 3.11 or newer"):
        describe(fake)


def test_label_names_version_build_and_gil():
    assert python_label("CPython", "3.13.0", True, False) == "CPython 3.13.0t, GIL off"
    assert python_label("CPython", "3.12.1", False, True) == "CPython 3.12.1, GIL on"


def test_a_python_without_the_deps_is_refused_with_what_to_install(this):
    lacking = dataclasses.replace(this, current=False, missing={"psutil": "ModuleNotFoundError: no psutil"})
    assert not lacking.ready
    assert "-m pip install psutil" in lacking.install_hint and ".venv-py3." in lacking.install_hint
    with pytest.raises(InterpreterError, match="cannot run a sweep yet.*-m pip install psutil"):
        sweep_in(lacking, ["threads"], [1], ["cpu"])


def test_bad_sweep_arguments_are_refused_before_a_child_starts(this):
    with pytest.raises(ValueError, match="backend"):
        sweep_in(this, ["gpu"], [1], ["cpu"])
    with pytest.raises(ValueError, match="timeout: a sweep in another Python always has a time limit"):
        sweep_in(this, ["threads"], [1], ["cpu"], timeout=None)


def test_a_failing_child_sweep_reports_its_exit_status_and_error(tmp_path, this):
    fake = dataclasses.replace(this, executable=_fake_python(tmp_path, "echo 'boom: it broke' >&2; exit 3"))
    with pytest.raises(InterpreterError, match=r"failed with exit status 3: boom: it broke"):
        sweep_in(fake, ["threads"], [1], ["cpu"])


# -- explaining --------------------------------------------------------------------

def test_explain_says_how_to_get_another_python_when_there_is_none(this):
    text = explain([this])
    assert "No other Python 3.11+ can run a sweep here yet" in text
    assert "uv python install 3.14t" in text and "pyenv install 3.13t" in text and "free-threaded" in text


def test_explain_lists_a_free_threaded_python_without_the_advice(this):
    ft = dataclasses.replace(this, current=False, free_threaded=True, gil_enabled=False, version="3.14.0",
                             executable="/opt/python3.14t")
    text = explain([this, ft])
    assert "CPython 3.14.0t, GIL off" in text and "/opt/python3.14t" in text
    assert "uv python install" not in text


def test_explain_is_compact_not_ready_ones_in_one_line_with_the_one_command(this):
    this = dataclasses.replace(this, free_threaded=False, gil_enabled=True)  # whichever build runs the tests
    ready = dataclasses.replace(this, current=False, version="3.12.1", executable="/opt/a/python3.12")
    twin = dataclasses.replace(ready, executable="/opt/b/python3.12", missing={"psutil": "ModuleNotFoundError"})
    lacking = dataclasses.replace(this, current=False, version="3.10.9", executable="/opt/c/python3.10",
                                  missing={"psutil": "ModuleNotFoundError"})
    text = explain([this, ready, twin, lacking])
    assert "/opt/b/python3.12" not in text  # a ready 3.12.1 is listed; its not-ready twin is not
    assert "Not ready (they lack this package or its dependencies): 3.10.9." in text
    assert "/opt/c/python3.10 -m venv " in text and text.count("-m venv") == 2  # one command, and the advice
    assert len(text.splitlines()) <= 14


# -- sweeping in another Python ---------------------------------------------------------

def test_sweep_in_another_python_end_to_end(other, tmp_path):
    remote = sweep_in(other, **SMALL_SWEEP)
    assert {(r.backend, r.max_workers) for r in remote} == {("sequential", 1), ("threads", 1), ("threads", 2),
                                                            ("processes", 1), ("processes", 2)}
    assert all(r.ok for r in remote)
    assert {r.python_version for r in remote} == {other.version}
    assert {r.gil_enabled for r in remote} == {other.gil_enabled}
    assert {r.params["python"] for r in remote} == {other.label}
    assert all(e.pid != os.getpid() for r in remote for e in r.events)  # measured over there, not here
    # One schema: the same columns as a local sweep's, and an exact round trip through a file.
    local = sweep(["threads"], [1], ["cpu"], tasks=2)
    assert list(records_to_dataframe(remote).columns) == list(records_to_dataframe(local).columns)
    save_records(remote, tmp_path / "remote.jsonl")
    assert load_records(tmp_path / "remote.jsonl") == remote
    # Each Python keeps its own sequential baseline, so speedups are never mixed across them.
    speedups = analysis.speedup([*local, *remote])
    assert len(speedups[speedups["backend"] == "sequential"]) == 2


def test_sweep_in_this_python_carries_its_label(this):
    records = sweep_in(this, ["threads"], [2], ["cpu"], tasks=2, small=True, timeout=60)
    assert {r.python_version for r in records} == {platform.python_version()}
    assert {r.params["python"] for r in records} == {this.label}


# -- never hang, never leave anything behind -------------------------------------------

#: A child that starts a grandchild, writes both pids to argv[1], then sleeps: a sweep's shape in miniature.
_FAMILY = """
import os, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
with open(sys.argv[1], "w") as fh:
    fh.write("%d %d" % (os.getpid(), grandchild.pid))
time.sleep(60)
"""


def _gone(pid: int, within: float = 3.0) -> bool:
    """True once `pid` is dead (a zombie awaiting its reaper counts as dead)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def _family_pids(pidfile, wait_only: bool = False) -> list[int]:
    deadline = time.monotonic() + 10
    while not (pidfile.exists() and pidfile.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [] if wait_only else [int(p) for p in pidfile.read_text().split()]


def test_timeout_kills_the_child_and_its_whole_process_group(tmp_path):
    """On a loaded machine two Pythons may take longer than the limit to start, and a family killed before
    it has a grandchild proves nothing: then the limit is raised and the test tried again."""
    for limit in (1.5, 4.0, 10.0):
        pidfile = tmp_path / f"pids-{limit}"
        t0 = time.monotonic()
        with pytest.raises(InterpreterTimeout, match=f"the family ran past its {limit:g} s limit; it was killed"):
            interpreters._run_child([sys.executable, "-c", _FAMILY, str(pidfile)], env=dict(os.environ),
                                    cwd=str(tmp_path), timeout=limit, what="the family")
        assert time.monotonic() - t0 < limit + children.KILL_GRACE_S
        if pidfile.exists() and pidfile.read_text():
            break
    child, grandchild = _family_pids(pidfile)
    assert _gone(child) and _gone(grandchild), "the grandchild outlived the kill"


def test_ctrl_c_kills_the_child_and_its_group_then_goes_through(tmp_path):
    """Ctrl-C once the family is whole (the child has written both pids): before, on a loaded machine, a
    fixed 1 s could land before the child had started its grandchild (CI, 3.13: no pid file)."""
    pidfile = tmp_path / "pids"

    def interrupt_once_started() -> None:
        _family_pids(pidfile, wait_only=True)
        _thread.interrupt_main()

    timer = threading.Thread(target=interrupt_once_started)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            interpreters._run_child([sys.executable, "-c", _FAMILY, str(pidfile)], env=dict(os.environ),
                                    cwd=str(tmp_path), timeout=30, what="the family")
    finally:
        timer.join(15)
    child, grandchild = _family_pids(pidfile)
    assert _gone(child) and _gone(grandchild)


def _marked(mark: str) -> list[int]:
    """Live processes whose environment carries `mark` (children reparented to init included)."""
    out = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("CONCURRENCY_LAB_TEST_MARK") == mark and proc.status() != psutil.STATUS_ZOMBIE:
                out.append(proc.pid)
        except psutil.Error:
            pass
    return out


def test_a_sweep_past_its_timeout_is_killed_with_its_workers_and_forkserver(monkeypatch):
    mark = f"timeout-{os.getpid()}-{time.monotonic_ns()}"
    monkeypatch.setenv("CONCURRENCY_LAB_TEST_MARK", mark)  # every process the sweep starts inherits it
    most = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            most[0] = max(most[0], len(psutil.Process().children(recursive=True)))
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with pytest.raises(InterpreterTimeout, match="the sweep in CPython .* ran past its 6 s limit"):
            sweep_in(sys.executable, ["processes"], [2], ["cpu"], tasks=2, task_seconds=0.25, repeats=10,
                     small=True, timeout=6)
    finally:
        done.set()
        watcher.join()
    assert most[0] >= 3, "the sweep never got as far as starting its worker processes"
    deadline = time.monotonic() + 3
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _marked(mark), "a process the sweep started outlived the kill"


def test_stop_kills_the_child_and_returns_nothing(this):
    stop = threading.Event()
    timer = threading.Timer(1.0, stop.set)
    timer.start()
    t0 = time.monotonic()
    try:
        assert sweep_in(this, ["threads"], [1], ["cpu"], tasks=40, task_seconds=0.5, small=False, stop=stop) == []
    finally:
        timer.cancel()
        timer.join()
    assert time.monotonic() - t0 < 1.0 + children.KILL_GRACE_S
