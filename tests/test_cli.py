"""The `concurrency-lab` command: info, run, sweep, and its errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from concurrency_lab import config
from concurrency_lab.cli import main
from concurrency_lab.recordfiles import load_records


def test_info_lists_the_machine(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for key in ("python", "gil_enabled", "cores_usable", "default_start_method", "affinity", "cloudpickle"):
        assert key in out


def test_run_prints_a_summary_table(capsys):
    assert main(["--small", "run", "--backend", "threads", "--workers", "2", "--tasks", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["backend", "max_workers", "start_method", "workload"]
    assert out[1].split()[:4] == ["threads", "2", "cpu", "3"]


def test_run_reports_failed_tasks_with_status_1(capsys):
    assert main(["run", "--backend", "sequential", "--workers", "1", "--workload", "crash", "--tasks", "2"]) == 1
    assert "task 0 failed: RuntimeError: crash('raise')" in capsys.readouterr().out


def test_sweep_writes_records_that_load_back(tmp_path, capsys):
    out = tmp_path / "sweep.csv"
    args = ["--small", "sweep", "--backends", "threads,processes:fork", "--workers", "1,2", "--out", str(out)]
    assert main(args) == 0
    records = load_records(out)
    combos = {(r.backend, r.start_method, r.max_workers) for r in records}
    assert combos == {("sequential", "", 1), ("threads", "", 1), ("threads", "", 2),
                      ("processes", "fork", 1), ("processes", "fork", 2)}
    captured = capsys.readouterr()
    assert "5/5" in captured.err and f"wrote 5 runs to {out}" in captured.out


def test_sweep_waits_for_its_forkserver_so_its_workers_cpu_counts_as_ours(tmp_path):
    """A sweep in another Python (`interpreters.sweep_in`) is this command; its forkserver, left to init,
    took the workers' CPU with it, and the parent's load note called it other programs' (`stop_forkserver`)."""
    from multiprocessing import forkserver

    out = tmp_path / "sweep.csv"
    assert main(["--small", "sweep", "--backends", "processes:forkserver", "--workers", "1", "--out", str(out)]) == 0
    assert forkserver._forkserver._forkserver_pid is None  # stopped and waited for, not left behind


@pytest.mark.parametrize("args, message", [
    (["run", "--workers", "0"], "argument --workers: must be >= 1, got 0"),
    (["run", "--workers", "two"], "argument --workers: expected a whole number, got 'two'"),
    (["run", "--workers", "999"], "max_workers: 999 is out of range; allowed: 1 to 256"),
    (["run", "--backend", "gpu"], "argument --backend: backend: unknown 'gpu'; choose one of: sequential, threads"),
    (["run", "--backend", "threads:fork"], "argument --backend: backend: only processes takes a start method"),
    (["run", "--workload", "nope"], "argument --workload: invalid choice: 'nope'"),
    (["run", "--start-method", "clone"], "argument --start-method: invalid choice: 'clone'"),
    (["run", "--backend", "threads", "--start-method", "spawn"], "start_method: only the processes backend"),
    (["run", "--size", "-3"], "size: -3 is out of range"),
    (["sweep", "--backends", "threads:fork"], "backend: only processes takes a start method"),
    (["sweep", "--workers", "0,2"], "argument --workers: must be >= 1, got 0"),
    (["sweep", "--out", "x.txt", "--workers", "1"], None),
])
def test_bad_flags_exit_2_with_the_field_named(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if message is None:  # a bad output suffix is refused before any run starts
        message = "path: unknown records format '.txt'"
        args = ["--small", *args]
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_a_start_method_in_the_backend_name_means_the_same_as_in_run(capsys):
    """One API: `processes:spawn` is read the same way by the CLI, `run`, `make_runner` and `sweep`."""
    from concurrency_lab import make_runner, run

    method = config.available_start_methods()[-1]
    assert main(["run", "--backend", f"processes:{method}", "--workers", "1", "--workload", "tiny", "--tasks", "2"]) == 0
    assert method in capsys.readouterr().out
    assert run("tiny", backend=f"processes:{method}", max_workers=1, tasks=2).start_method == method
    assert make_runner(f"processes:{method}", 1).start_method == method
    with pytest.raises(ValueError, match="contradicts"):
        make_runner(f"processes:{method}", 1, start_method="fork" if method != "fork" else "spawn")


def test_python_dash_m_is_the_same_command():
    out = subprocess.run([sys.executable, "-m", "concurrency_lab", "info"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "default_start_method" in out.stdout
