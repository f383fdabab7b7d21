"""Records on disk: save runs as JSON lines or CSV, and load them back exactly, or refuse a bad file.

A recorded sweep from a 16-core workstation replays in class, and a class's
recordings gather in one folder: so loading checks every field, says which
line of which file is wrong, refuses a file written by a newer version, and
never half-loads one.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .records import EVENT_FIELDS, RUN_FIELDS, SCHEMA_VERSION, RunRecord, TaskEvent, run_fields

_RUN_TYPES = {f.name: f.type for f in dataclasses.fields(RunRecord)}
_EVENT_TYPES = {f.name: f.type for f in dataclasses.fields(TaskEvent)}


class RecordsFileError(ValueError):
    """A records file that is corrupt, incomplete, or from a newer version."""


# -- save and load -----------------------------------------------------------

def save_records(records: Iterable[RunRecord] | RunRecord, path: str | os.PathLike) -> Path:
    """Write runs to `path`: JSON lines (.jsonl, .json) or CSV (.csv), by suffix."""
    if isinstance(records, RunRecord):
        records = [records]
    path = Path(path)
    fmt = _format_of(path)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        if fmt == "jsonl":
            for rec in records:
                fh.write(json.dumps(_to_json(rec), sort_keys=True) + "\n")
        else:
            writer = csv.writer(fh)
            writer.writerow([*RUN_FIELDS, *EVENT_FIELDS])
            for rec in records:
                run = [_csv_cell(getattr(rec, k)) for k in RUN_FIELDS]
                if not rec.events:
                    writer.writerow(run + [""] * len(EVENT_FIELDS))
                for ev in rec.events:
                    writer.writerow(run + [_csv_cell(getattr(ev, k)) for k in EVENT_FIELDS])
    return path


def load_records(path: str | os.PathLike) -> list[RunRecord]:
    """Read runs written by `save_records`; raise `RecordsFileError` on a bad file."""
    path = Path(path)
    fmt = _format_of(path)
    try:
        with open(path, encoding="utf-8", newline="") as fh:  # newline="": keep \r\n inside CSV fields
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise RecordsFileError(f"{path}: not a text file ({exc.reason})") from None
    if fmt == "jsonl":
        return [_from_json(line, path, n) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    return _from_csv(text, path)


def check_records_path(path: str | os.PathLike) -> str:
    """The format ("jsonl" or "csv") a records path asks for, or a ValueError."""
    return _format_of(Path(path))


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise ValueError(f"path: unknown records format {suffix!r}; use .jsonl, .json or .csv")


def _to_json(rec: RunRecord) -> dict[str, Any]:
    out = run_fields(rec)
    out["events"] = [dataclasses.asdict(e) for e in rec.events]
    return out


def _check_version(version: Any, where: str) -> None:
    if not isinstance(version, int) or isinstance(version, bool):
        raise RecordsFileError(f"{where}: schema_version must be an integer, got {version!r}")
    if version > SCHEMA_VERSION:
        raise RecordsFileError(f"{where}: written by a newer concurrency_lab (schema_version {version}, "
                               f"this one reads up to {SCHEMA_VERSION}); upgrade concurrency_lab")


def _build(types: dict[str, Any], data: dict[str, Any], where: str) -> dict[str, Any]:
    missing = [n for n in types if n not in data and n not in ("events", "results")]
    if missing:
        raise RecordsFileError(f"{where}: missing field(s) {', '.join(missing)}")
    kwargs = {}
    for name, typ in types.items():
        if name in ("events", "results"):
            continue
        kwargs[name] = _coerce(data[name], typ, f"{where}: field {name!r}")
    return kwargs


def _coerce(value: Any, typ: str, where: str) -> Any:
    try:
        if typ == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if typ == "float":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if typ == "bool":
            if isinstance(value, bool):
                return value
            if value in ("True", "False"):
                return value == "True"
            raise ValueError
        if typ == "str":
            if not isinstance(value, str):
                raise ValueError
            return value
        if typ.startswith("dict"):
            if isinstance(value, str):
                value = json.loads(value)
            if not isinstance(value, dict):
                raise ValueError
            return value
    except (ValueError, TypeError):
        raise RecordsFileError(f"{where} has a bad value {value!r} (expected {typ})") from None
    return value


def _from_json(line: str, path: Path, lineno: int) -> RunRecord:
    where = f"{path}:{lineno}"
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise RecordsFileError(f"{where}: corrupt JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise RecordsFileError(f"{where}: expected a JSON object per line")
    _check_version(data.get("schema_version"), where)
    kwargs = _build(_RUN_TYPES, data, where)
    events = data["events"]
    if not isinstance(events, list):
        raise RecordsFileError(f"{where}: field 'events' must be a list")
    kwargs["events"] = tuple(_event(e, f"{where}: event {i}") for i, e in enumerate(events))
    return RunRecord(**kwargs)


def _event(data: Any, where: str) -> TaskEvent:
    if not isinstance(data, dict):
        raise RecordsFileError(f"{where}: expected an object")
    return TaskEvent(**_build(_EVENT_TYPES, data, where))


def _csv_cell(value: Any) -> str:
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, float):
        return repr(value)  # repr round-trips a float exactly
    return str(value)


def _from_csv(text: str, path: Path) -> list[RunRecord]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [n for n in (*RUN_FIELDS, *EVENT_FIELDS) if n not in header]
    if missing:
        raise RecordsFileError(f"{path}: not a records CSV; missing column(s) {', '.join(missing)}")
    runs: dict[str, dict[str, Any]] = {}
    for lineno, row in enumerate(reader, 2):
        where = f"{path}:{lineno}"
        if None in row or any(v is None for v in row.values()):
            raise RecordsFileError(f"{where}: wrong number of columns")
        try:
            version = int(row["schema_version"])
        except ValueError:
            raise RecordsFileError(f"{where}: field 'schema_version' has a bad value {row['schema_version']!r}") from None
        _check_version(version, where)
        run = runs.get(row["run_id"])
        if run is None:
            run = runs[row["run_id"]] = _build(_RUN_TYPES, row, where)
            run["events"] = []
        if row["index"] != "":
            run["events"].append(_event(row, where))
    return [RunRecord(**{**kw, "events": tuple(kw["events"])}) for kw in runs.values()]
