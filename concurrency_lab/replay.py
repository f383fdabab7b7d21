"""Recorded sweeps: measured on another machine, replayed next to the learner's live numbers.

A 2-core laptop cannot show a 16-core curve. An instructor (or we) records a sweep on a big machine
with the CLI, `concurrency-lab sweep ... --out NAME.jsonl --describe`, which writes the records and a
`NAME.machine.json` beside them (cores, CPU model, Python, when, and the command). Explorers draw such
a recording beside live runs, always labelled "recorded on ...": a recorded number is never passed
off as the learner's own. Records load through `recordfiles.load_records`, so a recording has exactly
the schema of a live run (tests check it).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .recordfiles import RecordsFileError, load_records
from .records import RunRecord

#: Recordings shipped with the package (and so with every clone and wheel).
RECORDED_DIR = Path(__file__).with_name("recorded")
MACHINE_SUFFIX = ".machine.json"


@dataclass(frozen=True)
class Recording:
    """A recorded sweep and the machine it was measured on."""

    path: Path
    records: tuple[RunRecord, ...]
    machine: dict[str, Any]
    """`info.system_info()` of the recording machine, plus `command` and `recorded_at`."""

    @property
    def label(self) -> str:
        """How every plot and table names it: where and when it was measured."""
        m = self.machine
        when = str(m.get("recorded_at", ""))[:10]
        gil = "" if m.get("gil_enabled", True) else ", free-threaded"
        return (f"recorded on {m.get('cores_usable', '?')} cores ({m.get('platform', 'unknown machine')}), "
                f"Python {m.get('python', '?')}{gil}, {when}")

    def __repr__(self) -> str:
        return f"<Recording {self.path.name}: {len(self.records)} runs, {self.label}>"


def machine_file(records_path: str | os.PathLike) -> Path:
    """`NAME.machine.json` beside `NAME.jsonl` (or `NAME.csv`)."""
    p = Path(records_path)
    return p.with_name(p.stem + MACHINE_SUFFIX)


def describe_machine(command: list[str] | None = None) -> dict[str, Any]:
    """What a recording says about where it was made."""
    from datetime import UTC, datetime

    from .info import system_info

    info = system_info()
    argv = command if command is not None else [Path(sys.argv[0]).name, *sys.argv[1:]]
    info["command"] = " ".join(argv)
    info["recorded_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return info


def write_machine_file(records_path: str | os.PathLike, command: list[str] | None = None) -> Path:
    path = machine_file(records_path)
    path.write_text(json.dumps(describe_machine(command), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def load_recording(path: str | os.PathLike) -> Recording:
    """A records file and its machine description; refuses a recording without one (no anonymous numbers)."""
    p = Path(path)
    desc = machine_file(p)
    if not desc.is_file():
        raise RecordsFileError(f"{p}: no {desc.name} beside it; a recording must say where it was measured "
                               "(record with `concurrency-lab sweep ... --describe`)")
    try:
        machine = json.loads(desc.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RecordsFileError(f"{desc}: not valid JSON ({exc})") from None
    return Recording(p, tuple(load_records(p)), machine)


def recordings(folder: str | os.PathLike = RECORDED_DIR) -> list[Recording]:
    """Every recording in `folder`, the one with the most cores first."""
    found = [load_recording(p) for p in sorted(Path(folder).glob("*.jsonl")) if machine_file(p).is_file()]
    return sorted(found, key=lambda r: -int(r.machine.get("cores_usable", 0)))


def resolve(replay: Any) -> Recording | None:
    """What an explorer's `replay=` means: None, a Recording, a path, or "default" (the biggest shipped)."""
    if replay is None or isinstance(replay, Recording):
        return replay
    if replay == "default":
        found = recordings()
        if not found:
            raise FileNotFoundError(f"no recordings in {RECORDED_DIR}")
        return found[0]
    if isinstance(replay, (str, os.PathLike)):
        return load_recording(replay)
    raise TypeError(f"replay: expected None, 'default', a path or a Recording, got {type(replay).__name__}")


__all__ = ["RECORDED_DIR", "Recording", "describe_machine", "load_recording", "machine_file", "recordings",
           "resolve", "write_machine_file"]
