"""The class on one plot: every learner's recording of their own machine, gathered from one folder.

Each learner runs `RECORD_COMMAND` in a terminal and hands in the two files it writes (the runs, and the
`.machine.json` that says where they were measured). `gather(folder)` loads every recording under the
folder (subfolders too: a course platform often puts each hand-in in a folder of its own) and sets aside,
with the reason, every file it cannot trust: corrupt, written by a newer concurrency-lab, without its
machine file, or a second copy of a recording already gathered. A file is kept whole or skipped whole:
half a recording would draw as a different machine. `speedups` turns the recordings into one table,
`plots.class_speedup` draws it, and `concurrency-lab class DIR` does both from a terminal.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .recordfiles import RecordsFileError
from .replay import MACHINE_SUFFIX, Recording, load_recording, machine_file

if TYPE_CHECKING:
    import pandas as pd

#: Worker counts every learner records: up to 8, so an 8-core laptop shows where its curve bends, while
#: the whole command stays about a minute on a 2-core one (45-57 s on 2 vCPUs that other programs kept
#: busy; to 4 workers only, 29 s: the 8 buys the bigger laptops their bend for under 30 s more).
RECORD_WORKERS: tuple[int, ...] = (1, 2, 4, 8)
#: The workloads the class compares: pure-Python computing, where the GIL holds threads to one core,
#: and waiting, where it does not.
CLASS_WORKLOADS: tuple[str, ...] = ("cpu", "io_sleep")
CLASS_BACKENDS: tuple[str, ...] = ("threads", "processes")
#: Each task is calibrated to about 0.1 s on the learner's own machine, so every machine does the same
#: amount of waiting and a comparable amount of computing, whatever its speed; 8 tasks, 3 repeats.
RECORD_TASKS, RECORD_TASK_SECONDS, RECORD_REPEATS = 8, 0.1, 3
#: What a recording's machine file must say, for the class table and the plot's labels.
MACHINE_FIELDS: tuple[str, ...] = ("cores_usable", "python", "gil_enabled", "platform", "recorded_at")
#: Files that may hold runs. A `.json` counts only with its machine file beside it: other JSON files
#: (an explorer's saved state, a watch record) are not recordings.
RECORDS_SUFFIXES: tuple[str, ...] = (".jsonl", ".csv", ".json")


def record_command(name: str = "my-machine") -> str:
    """The one command a learner runs to add their machine to the class plot; it writes NAME.jsonl
    and NAME.machine.json."""
    if not re.fullmatch(r"[\w.-]+", name):
        raise ValueError(f"name: letters, digits, '-', '_' and '.' only (it names two files), got {name!r}")
    return (f"concurrency-lab sweep --backends {','.join(CLASS_BACKENDS)} "
            f"--workers {','.join(map(str, RECORD_WORKERS))} --workloads {','.join(CLASS_WORKLOADS)} "
            f"--tasks {RECORD_TASKS} --task-seconds {RECORD_TASK_SECONDS} --repeats {RECORD_REPEATS} "
            f"--out {name}.jsonl --describe")


RECORD_COMMAND = record_command()


class Gathered(NamedTuple):
    """What `gather` found: `recordings, skipped = gather(folder)`."""

    recordings: list[Recording]
    """Every recording kept whole, in file-name order."""
    skipped: list[tuple[Path, str]]
    """Every file set aside, with the reason, in file-name order."""


def gather(folder: str | os.PathLike) -> Gathered:
    """Every recording under `folder`, and every file skipped with its reason.

    Duplicates: runs carry a random `run_id` each, so two files that share one hold the same
    measurements (a learner who handed in twice, or the same sweep saved as .jsonl and .csv); the
    first in file-name order is kept, the later one skipped. Two sweeps of one machine share no run:
    both are kept, and their labels name their files.
    """
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"folder: {root} is not a folder")
    kept: list[Recording] = []
    skipped: list[tuple[Path, str]] = []
    first_with: dict[str, Path] = {}  # run_id -> the file that brought it
    for path in _candidates(root):
        try:
            rec = _load(path)
        except RecordsFileError as exc:
            skipped.append((path, _reason(exc, path)))
            continue
        copied = next((first_with[r.run_id] for r in rec.records if r.run_id in first_with), None)
        if copied is not None:
            skipped.append((path, f"a copy of {_shown(copied, root)}: the same runs (the same run ids)"))
            continue
        first_with.update(dict.fromkeys((r.run_id for r in rec.records), path))
        kept.append(rec)
    skipped += [(p, f"a machine file without its runs: no {p.name.removesuffix(MACHINE_SUFFIX)}.jsonl beside it")
                for p in _orphan_machine_files(root)]
    return Gathered(kept, sorted(skipped, key=lambda s: str(s[0])))


def _files(root: Path) -> Iterator[Path]:
    """Files under `root`, in name order, without hidden ones (.ipynb_checkpoints and the like)."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts):
            yield path


def _candidates(root: Path) -> Iterator[Path]:
    for path in _files(root):
        if path.name.endswith(MACHINE_SUFFIX) or path.suffix.lower() not in RECORDS_SUFFIXES:
            continue
        if path.suffix.lower() != ".json" or machine_file(path).is_file():
            yield path


def _orphan_machine_files(root: Path) -> list[Path]:
    return [p for p in _files(root) if p.name.endswith(MACHINE_SUFFIX)
            and not any(p.with_name(p.name.removesuffix(MACHINE_SUFFIX) + s).is_file() for s in RECORDS_SUFFIXES)]


def _load(path: Path) -> Recording:
    """`replay.load_recording`, plus what a class table needs: a machine file that says enough, and runs."""
    rec = load_recording(path)
    where = machine_file(path).name
    if not isinstance(rec.machine, dict):
        raise RecordsFileError(f"{where}: expected a JSON object, got {type(rec.machine).__name__}")
    missing = [f for f in MACHINE_FIELDS if f not in rec.machine]
    if missing:
        raise RecordsFileError(f"{where}: missing field(s) {', '.join(missing)}")
    if not rec.records:
        raise RecordsFileError("no runs in it")
    return rec


def _reason(exc: RecordsFileError, path: Path) -> str:
    """The loader's message without the path the report already names: "line 3: corrupt JSON (...)"."""
    text, desc = str(exc), machine_file(path)
    if text.startswith(f"{desc}:"):
        return desc.name + text[len(str(desc)):]
    if not text.startswith(f"{path}:"):
        return text
    rest = text[len(str(path)) + 1:].lstrip()
    line = re.match(r"(\d+):\s*", rest)
    return f"line {line[1]}: {rest[line.end():]}" if line else rest


def _shown(path: Path, root: Path | None) -> str:
    return str(path.relative_to(root)) if root is not None and path.is_relative_to(root) else path.name


# -- what the class table and the plot show -------------------------------------------


def label(cores: Any, python: Any, gil_enabled: Any, path: Path) -> str:
    """One machine as the plot's legend names it: cores and Python (free-threaded when its GIL was off),
    then its file, so each learner finds their own line."""
    gil = "" if bool(gil_enabled) else ", free-threaded"
    return f"{cores} cores, Python {python}{gil} ({path.stem})"


def machines(recordings: Iterable[Recording], folder: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """One row per recording for the class table, read from its machine file: file, cores, Python,
    platform, recorded_at, runs."""
    root = Path(folder) if folder is not None else None
    return [{"file": _shown(r.path, root), "cores": r.machine["cores_usable"],
             "python": str(r.machine["python"]) + ("" if r.machine["gil_enabled"] else " (free-threaded)"),
             "platform": r.machine["platform"], "recorded_at": r.machine["recorded_at"], "runs": len(r.records)}
            for r in recordings]


def speedups(recordings: Sequence[Recording], workloads: Sequence[str] = CLASS_WORKLOADS,
             backends: Sequence[str] = CLASS_BACKENDS) -> pd.DataFrame:
    """Every machine's speedup against max_workers (`analysis.scaling`: each backend over itself at one
    worker, median over repeats), one curve per (machine, workload, backend).

    A machine is one recording's runs with one Python: cores, Python and GIL are read from the runs
    themselves, so a recording that holds two Pythons (lesson 10's free-threaded one) draws two lines.
    Columns: machine (its label), file, cores, python, gil_enabled, then `analysis.scaling`'s.
    """
    import pandas as pd

    from . import analysis

    parts = []
    for rec in recordings:
        runs = analysis.runs(list(rec.records))
        runs = runs[runs["workload"].isin(workloads) & runs["backend"].isin(backends)]
        for (cores, python, gil), group in runs.groupby(["cores_usable", "python_version", "gil_enabled"]):
            table = analysis.scaling(group)
            table.insert(0, "machine", label(cores, python, gil, rec.path))
            table.insert(1, "file", rec.path.name)
            table.insert(2, "cores", int(cores))
            table.insert(3, "python", python)
            table.insert(4, "gil_enabled", bool(gil))
            parts.append(table)
    columns = ["machine", "file", "cores", "python", "gil_enabled", *analysis.CONFIG, "time", "repeats", "speedup"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


__all__ = ["CLASS_BACKENDS", "CLASS_WORKLOADS", "Gathered", "MACHINE_FIELDS", "RECORD_COMMAND", "RECORD_WORKERS",
           "gather", "label", "machines", "record_command", "speedups"]
