"""Records: frozen, convertible to a DataFrame, and exact through JSON lines and CSV."""

from __future__ import annotations

import dataclasses
import json

import pytest

from concurrency_lab import api, workloads
from concurrency_lab.recordfiles import RecordsFileError, load_records, save_records
from concurrency_lab.records import (
    SCHEMA_VERSION,
    RunRecord,
    TaskEvent,
    TaskFailed,
    records_to_dataframe,
    summaries_to_dataframe,
)


def synthetic(run_id: str = "abc", events=None) -> RunRecord:
    if events is None:
        events = (
            TaskEvent(0, "w0", 11, 1, 0.0, 0.001, 0.101, 0.1015, 0.0999, True, ""),
            TaskEvent(1, "w1", 12, 2, 0.0, 0.002, 0.2, 0.2003, 0.19, False, 'Traceback:\n  x, "y"\nValueError: bad, "quoted"'),
            TaskEvent(2, "w0", 11, 1, 0.0, 0.1015, 0.3, 0.31, 0.1 / 3, True, ""),
        )
    return RunRecord(backend="processes", max_workers=2, start_method="spawn", workload="cpu",
                     params={"size": 1000, "tasks": 3, "nested": {"a": [1, 2.5]}}, wall=0.31, startup=0.0812,
                     parent_peak_rss=26 << 20, workers_peak_rss=54 << 20, events=tuple(events), run_id=run_id)


def test_records_are_frozen():
    rec = synthetic()
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.wall = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.events[0].ok = False


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_save_and_load_round_trip_exactly(tmp_path, suffix):
    records = [synthetic("a"), synthetic("b", events=()), api.run("tiny", backend="threads", max_workers=2, tasks=5)]
    path = save_records(records, tmp_path / f"runs{suffix}")
    loaded = load_records(path)
    assert loaded == records  # every field, floats bit for bit (results are not saved)
    assert all(type(e.ok) is bool for r in loaded for e in r.events)


def test_dataframe_has_one_row_per_task_and_every_field():
    rec = synthetic()
    df = rec.to_dataframe()
    assert len(df) == 3
    assert {"backend", "start_method", "wall", "index", "worker", "submit", "start", "end", "cpu", "ok"} <= set(df.columns)
    assert df["ok"].tolist() == [True, False, True]
    assert len(records_to_dataframe([rec, synthetic("z", events=())])) == 4  # an empty run keeps a row


def test_summary_and_overhead_sum_the_events():
    rec = synthetic()
    o = rec.overhead()
    assert o["compute"] == pytest.approx(0.1 + 0.198 + 0.1985)
    assert o["collection"] == pytest.approx(0.0005 + 0.0003 + 0.01)
    # tasks 0 and 1 found their workers free; task 2 was queued behind task 0 on w0
    # until 0.101, then took 0.0005 s to start
    assert o["queued"] == pytest.approx(0.101)
    assert o["dispatch"] == pytest.approx(0.001 + 0.002 + 0.0005)
    row = summaries_to_dataframe([rec]).iloc[0]
    assert row["failed"] == 1 and row["tasks"] == 3


def test_parallelism_is_cpu_seconds_per_wall_second():
    rec = synthetic()
    assert rec.parallelism == pytest.approx((0.0999 + 0.19 + 0.1 / 3) / 0.31)
    assert dataclasses.replace(rec, wall=0.0).parallelism == 0.0  # an empty run divides by nothing


def test_raise_for_errors_names_the_first_failure():
    with pytest.raises(TaskFailed, match=r"1 of 3 tasks failed; task 1: ValueError: bad"):
        synthetic().raise_for_errors()


def test_machine_facts_are_filled_in():
    rec = synthetic()
    assert rec.cores_logical >= 1 and rec.cores_usable >= 1 and rec.cores_physical >= 1
    assert rec.schema_version == SCHEMA_VERSION and rec.recorded_at.endswith("+00:00")
    assert isinstance(rec.gil_enabled, bool)


def _jsonl(tmp_path, text: str):
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    return path


def test_corrupt_jsonl_names_the_line(tmp_path):
    good = json.dumps({**json.loads(_line(synthetic()))})
    with pytest.raises(RecordsFileError, match=r"bad.jsonl:2: corrupt JSON"):
        load_records(_jsonl(tmp_path, good + "\n{not json\n"))


def _line(rec: RunRecord) -> str:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = save_records(rec, Path(d) / "r.jsonl")
        return p.read_text().strip()


def test_newer_schema_is_refused_with_advice(tmp_path):
    data = json.loads(_line(synthetic()))
    data["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(RecordsFileError, match=r"newer concurrency_lab.*upgrade"):
        load_records(_jsonl(tmp_path, json.dumps(data)))


def test_missing_field_and_bad_value_are_named(tmp_path):
    data = json.loads(_line(synthetic()))
    del data["wall"]
    with pytest.raises(RecordsFileError, match=r"missing field\(s\) wall"):
        load_records(_jsonl(tmp_path, json.dumps(data)))
    data = json.loads(_line(synthetic()))
    data["max_workers"] = "two"
    with pytest.raises(RecordsFileError, match=r"field 'max_workers' has a bad value 'two'"):
        load_records(_jsonl(tmp_path, json.dumps(data)))


def test_csv_that_is_not_ours_is_refused(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(RecordsFileError, match="missing column"):
        load_records(path)
    path = tmp_path / "short.csv"
    save_records(synthetic(), path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1][:40]]))
    with pytest.raises(RecordsFileError):
        load_records(path)


def test_binary_file_and_unknown_suffix(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(RecordsFileError, match="not a text file"):
        load_records(path)
    with pytest.raises(ValueError, match=r"unknown records format '.txt'"):
        save_records(synthetic(), tmp_path / "x.txt")


def test_real_run_records_results_separately_from_saved_fields():
    rec = api.run(workloads.tiny, backend="sequential", items=[2, 3])
    assert rec.results == (4, 9)
    assert "results" not in rec.to_dataframe().columns


def test_fast_event_builder_makes_an_equal_frozen_event():
    from concurrency_lab.records import make_event

    args = (3, "w1", 42, 7, 0.1, 0.2, 0.3, 0.4, 0.05, False, "boom")
    fast = make_event(*args)
    assert fast == TaskEvent(*args) and type(fast) is TaskEvent
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.index = 4


# -- the runner's lazy event log -------------------------------------------------

def test_a_runs_events_are_built_on_first_read_and_then_behave_as_a_tuple():
    from concurrency_lab.records import EventLog

    rec = api.run("tiny", backend="threads", max_workers=2, tasks=20)
    log = rec.events
    assert isinstance(log, EventLog) and not log.built
    assert len(log) == 20 and rec.results[3] == 9 and not log.built  # neither needs the events
    first = log[0]
    assert log.built and type(first) is TaskEvent and first.index == 0
    as_tuple = log.materialize()
    assert log.materialize() is as_tuple  # built once
    assert log == as_tuple and as_tuple == log and list(log) == list(as_tuple)
    assert log[2:5] == as_tuple[2:5] and type(log[2:5]) is tuple
    assert first in log and list(reversed(log))[0].index == 19
    assert log + () == as_tuple and () + log == as_tuple
    assert repr(log) == repr(as_tuple) and hash(log) == hash(as_tuple)
    assert [e.index for e in log] == list(range(20))


def test_a_lazy_log_pickles_copies_and_compares_as_the_tuple_it_stands_for():
    import copy
    import pickle

    rec = api.run("tiny", backend="sequential", tasks=4)
    back = pickle.loads(pickle.dumps(rec))
    assert type(back.events) is tuple and back == rec
    assert copy.deepcopy(rec) == rec and dataclasses.replace(rec) == rec


def test_a_lazy_log_is_built_once_when_threads_race_to_read_it():
    import threading

    from concurrency_lab.records import EventLog

    calls = []
    barrier = threading.Barrier(8)

    def build():
        calls.append(1)
        return (TaskEvent(0, "w0", 1, 1, 0.0, 0.0, 0.0, 0.0, 0.0, True, ""),)

    log = EventLog(build, 1)
    seen = []

    def read():
        barrier.wait(5)
        seen.append(log.materialize())

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert calls == [1] and len(seen) == 8 and all(s is seen[0] for s in seen)


def test_streamed_events_are_the_same_objects_as_the_records():
    from concurrency_lab.runners import ThreadRunner

    streamed = []
    with ThreadRunner(2) as runner:
        rec = runner.run(workloads.tiny, range(30), on_event=streamed.append)
    assert sorted(streamed, key=lambda e: e.index) == list(rec.events)
    by_index = {e.index: e for e in streamed}
    assert all(by_index[e.index] is e for e in rec.events)
