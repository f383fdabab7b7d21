"""The class on one plot (issue 20): real recordings made here by the CLI, under two Pythons and with one
core faked by CPU affinity, beside every kind of bad hand-in. `gather` keeps the good ones whole and names
each bad one with its reason; the table, the plot and `concurrency-lab class` show exactly the good ones."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from test_analysis import make_record  # noqa: E402

from concurrency_lab import analysis, classroom, plots, replay  # noqa: E402
from concurrency_lab.cli import build_parser, main  # noqa: E402
from concurrency_lab.records import SCHEMA_VERSION  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: As small as a sweep gets: 2 tasks of ~5 ms, 1 and 2 workers, one repeat; about a second each.
SWEEP = ["--small", "sweep", "--backends", "threads,processes", "--workers", "1,2", "--workloads", "cpu,io_sleep",
         "--tasks", "2", "--task-seconds", "0.005", "--repeats", "1", "--describe", "--out"]


def _other_python() -> str:
    """A second Python of another version from the project's `.venv-py3.X` folders, else this one."""
    mine = f"{sys.version_info.major}.{sys.version_info.minor}"
    for venv in sorted(ROOT.glob(".venv-py3.*")):
        python = venv / "bin" / "python"
        if python.is_file() and not venv.name.endswith(mine) and not venv.name.endswith("t"):
            return str(python)
    return sys.executable


def _one_core() -> list[str]:
    """`taskset -c N`, so the machine file says 1 usable core (`info.usable_cores` reads the affinity)."""
    if shutil.which("taskset") and hasattr(os, "sched_getaffinity"):
        return ["taskset", "-c", str(min(os.sched_getaffinity(0)))]
    return []


def _copy(src: Path, dest: Path, lines: list[str] | None = None, machine: dict | None = None) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("".join(lines) if lines is not None else src.read_text())
    desc = json.loads(replay.machine_file(src).read_text()) if machine is None else machine
    replay.machine_file(dest).write_text(json.dumps(desc))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """ana (this Python) and sub/ben (another Python, one core): real; then one of each bad hand-in."""
    root = tmp_path_factory.mktemp("class")
    (root / "sub").mkdir()
    sweeps = [[sys.executable, "-m", "concurrency_lab", *SWEEP, str(root / "ana.jsonl")],
              [*_one_core(), _other_python(), "-m", "concurrency_lab", *SWEEP, str(root / "sub" / "ben.jsonl")]]
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for cmd in sweeps]
    for proc in procs:
        out, _ = proc.communicate(timeout=90)
        assert proc.returncode == 0, out
    ana = root / "ana.jsonl"
    lines = ana.read_text().splitlines(keepends=True)
    _copy(ana, root / "corrupt.jsonl", [*lines[:1], "{not json\n"])  # one good line, then a broken one
    newer = [json.dumps({**json.loads(line), "schema_version": SCHEMA_VERSION + 1}) + "\n" for line in lines]
    _copy(ana, root / "newer.jsonl", newer)
    _copy(ana, root / "resubmitted.jsonl")  # the same runs handed in again, under another name
    no_python = {k: v for k, v in json.loads(replay.machine_file(ana).read_text()).items() if k != "python"}
    _copy(ana, root / "vague.jsonl", machine=no_python)
    shutil.copy(root / "sub" / "ben.jsonl", root / "anonymous.jsonl")  # no machine file beside it
    shutil.copy(replay.machine_file(ana), root / "lonely.machine.json")  # no runs beside it
    (root / "notes.txt").write_text("not a recording, and not reported: only records files are")
    return root


@pytest.fixture(scope="module")
def gathered(folder):
    return classroom.gather(folder)


def test_gather_keeps_the_good_recordings_whole(folder, gathered):
    recordings, _ = gathered
    assert [r.path.relative_to(folder).as_posix() for r in recordings] == ["ana.jsonl", "sub/ben.jsonl"]
    for rec in recordings:
        assert rec.records == tuple(replay.load_recording(rec.path).records)


def test_gather_skips_each_bad_file_with_its_reason(folder, gathered):
    reasons = {p.relative_to(folder).as_posix(): why for p, why in gathered.skipped}
    assert sorted(reasons) == ["anonymous.jsonl", "corrupt.jsonl", "lonely.machine.json", "newer.jsonl",
                               "resubmitted.jsonl", "vague.jsonl"]
    assert reasons["corrupt.jsonl"].startswith("line 2: corrupt JSON")
    assert "newer concurrency_lab" in reasons["newer.jsonl"]
    assert reasons["resubmitted.jsonl"].startswith("a copy of ana.jsonl")
    assert "missing field(s) python" in reasons["vague.jsonl"]
    assert "no anonymous.machine.json beside it" in reasons["anonymous.jsonl"]
    assert "without its runs" in reasons["lonely.machine.json"]


def test_the_table_reads_each_machine_file(folder, gathered):
    rows = {row["file"]: row for row in classroom.machines(gathered.recordings, folder)}
    ana, ben = rows["ana.jsonl"], rows["sub/ben.jsonl"]
    assert ana["python"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")
    assert ana["runs"] == ben["runs"] == 10  # 2 workloads x (sequential + 2 backends x 2 worker counts)
    if _other_python() != sys.executable:
        assert ben["python"].split(".")[:2] != ana["python"].split(".")[:2]
    assert set(ana) == {"file", "cores", "python", "platform", "recorded_at", "runs"}
    if _one_core():
        assert ben["cores"] == 1


def test_speedups_one_curve_per_machine_workload_and_backend(gathered):
    table = classroom.speedups(gathered.recordings)
    curves = table.groupby(["machine", "workload", "backend"]).size()
    assert len(curves) == 2 * 2 * 2 and set(curves) == {2}  # 1 and 2 workers each
    assert set(table["workload"]) == set(classroom.CLASS_WORKLOADS)
    assert (table.loc[table["max_workers"] == 1, "speedup"] == 1.0).all()
    ben = table[table["file"] == "ben.jsonl"]["machine"].iloc[0]
    assert "(ben)" in ben and f"Python {ben.split('Python ')[1].split()[0]}" in ben
    if _one_core():
        assert ben.startswith("1 cores")


def test_scaling_is_the_median_wall_at_one_worker_over_the_median_at_n():
    runs = [make_record("threads", 1, wall, repeat=r) for r, wall in enumerate((4.0, 4.4, 3.6))]
    runs += [make_record("threads", 2, wall, repeat=r) for r, wall in enumerate((2.0, 1.0, 9.0))]
    table = analysis.scaling(runs).set_index("max_workers")
    assert table.loc[2, "speedup"] == pytest.approx(4.0 / 2.0)  # medians: 4.0 and 2.0; no sequential run needed
    assert table.loc[2, "repeats"] == 3
    assert analysis.scaling(runs[3:])["speedup"].isna().all()  # no run at one worker: no baseline, no number


def test_the_plot_has_one_line_per_machine_and_backend_in_each_panel(gathered):
    table = classroom.speedups(gathered.recordings)
    fig = plots.class_speedup(table)
    try:
        assert len(fig.axes) == len(classroom.CLASS_WORKLOADS)
        for ax in fig.axes:
            lines = [ln for ln in ax.get_lines() if not ln.get_label().startswith("ideal")]
            assert len(lines) == 2 * 2
            assert len({ln.get_color() for ln in lines}) == 2  # a colour per machine
            assert {ln.get_linestyle() for ln in lines} == {"-", "--"}  # threads solid, processes dashed
            ideal = [ln for ln in ax.get_lines() if ln.get_label().startswith("ideal")]
            assert len(ideal) == 1 and ideal[0].get_linestyle() == ":"
        fig.canvas.draw()
    finally:
        plt.close(fig)


def test_an_empty_panel_says_what_is_missing():
    table = classroom.speedups([])
    ax = plots.class_panel(table, "io_sleep")
    try:
        assert [t.get_text() for t in ax.texts] == ["no recording here measured io_sleep yet"]
    finally:
        plt.close(ax.figure)


def test_the_shipped_recordings_gather_cleanly_and_one_runs_free_threaded():
    recordings, skipped = classroom.gather(replay.RECORDED_DIR)
    assert skipped == [] and len(recordings) >= 2
    machines = set(classroom.speedups(recordings)["machine"])
    assert any("free-threaded" in m for m in machines) and any("free-threaded" not in m for m in machines)


def test_the_cli_prints_the_machines_and_the_skipped_files_and_writes_the_plot(folder, tmp_path, capsys):
    png = tmp_path / "class.png"
    assert main(["class", str(folder), "--out", str(png)]) == 0
    out = capsys.readouterr().out
    header, *rows = out.splitlines()
    assert header.split() == ["file", "cores", "python", "platform", "recorded_at", "runs"]
    assert [r.split()[0] for r in rows[:2]] == ["ana.jsonl", "sub/ben.jsonl"]
    for name in ("anonymous.jsonl", "corrupt.jsonl", "lonely.machine.json", "newer.jsonl", "resubmitted.jsonl",
                 "vague.jsonl"):
        assert f"skipped {folder / name}: " in out
    assert "notes.txt" not in out
    assert out.rstrip().endswith(f"plotted 2 recording(s), skipped 6: wrote {png}")
    assert png.read_bytes().startswith(b"\x89PNG")


def test_the_cli_fails_with_nothing_to_plot_and_names_a_missing_folder(folder, tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(folder / "anonymous.jsonl", bad)
    assert main(["class", str(bad), "--out", str(tmp_path / "x.png")]) == 1
    assert "no recording to plot" in capsys.readouterr().out and not (tmp_path / "x.png").exists()
    with pytest.raises(SystemExit) as exit_:
        main(["class", str(tmp_path / "nowhere")])
    assert exit_.value.code == 2 and "is not a folder" in capsys.readouterr().err


def test_the_record_command_is_one_sweep_the_cli_accepts():
    argv = shlex.split(classroom.RECORD_COMMAND)
    assert argv[0] == "concurrency-lab"
    args = build_parser().parse_args(argv[1:])
    assert args.command == "sweep" and args.describe and args.out == "my-machine.jsonl"
    assert args.workloads.split(",") == list(classroom.CLASS_WORKLOADS)
    assert args.backends.split(",") == list(classroom.CLASS_BACKENDS)
    assert args.workers == list(classroom.RECORD_WORKERS)
    assert "--out ana.jsonl" in classroom.record_command("ana")
    with pytest.raises(ValueError, match="name"):
        classroom.record_command("my machine; rm")
