"""Recorded sweeps replay beside live runs, labelled, with exactly the live schema."""

from __future__ import annotations

import json

import pytest

from concurrency_lab import api, cli, plots, replay, widgets
from concurrency_lab.recordfiles import RecordsFileError, load_records
from concurrency_lab.records import RUN_FIELDS, records_to_dataframe


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A small recording made here, as an instructor would (the CLI with --describe)."""
    out = tmp_path_factory.mktemp("rec") / "mini.jsonl"
    assert cli.main(["--small", "sweep", "--backends", "threads,processes", "--workers", "1,2",
                     "--out", str(out), "--describe"]) == 0
    return replay.load_recording(out)


def test_describe_writes_where_and_how_it_was_recorded(recording):
    m = recording.machine
    assert {"cores_usable", "platform", "python", "gil_enabled", "recorded_at", "command"} <= set(m)
    assert "sweep" in m["command"] and "--describe" in m["command"]
    assert recording.label.startswith(f"recorded on {m['cores_usable']} cores (")


def test_replayed_and_live_records_share_one_schema(recording):
    live = api.run("cpu", backend="threads", max_workers=2, tasks=4, size=1000)
    for rec in recording.records:
        assert type(rec) is type(live) and rec.schema_version == live.schema_version
        assert [f for f in RUN_FIELDS if not hasattr(rec, f)] == []
    recorded_df, live_df = records_to_dataframe(recording.records), records_to_dataframe([live])
    assert list(recorded_df.columns) == list(live_df.columns)
    assert dict(recorded_df.dtypes) == dict(live_df.dtypes)


@pytest.mark.parametrize("path", sorted(replay.RECORDED_DIR.glob("*.jsonl")), ids=lambda p: p.name)
def test_every_shipped_recording_loads_and_says_where_it_was_made(path):
    rec = replay.load_recording(path)
    assert rec.records and rec.label.startswith("recorded on ")
    assert {r.machine for r in rec.records} == {rec.machine["platform"]}
    live_columns = list(records_to_dataframe([api.run("tiny", backend="sequential", tasks=2)]).columns)
    assert list(records_to_dataframe(rec.records).columns) == live_columns


def test_shipped_recordings_exist_and_the_biggest_comes_first():
    found = replay.recordings()
    assert found, f"no recording shipped in {replay.RECORDED_DIR}"
    cores = [int(r.machine["cores_usable"]) for r in found]
    assert cores == sorted(cores, reverse=True)
    assert replay.resolve("default") == found[0]


def test_a_recording_without_its_machine_file_is_refused(tmp_path, recording):
    bare = tmp_path / "anonymous.jsonl"
    bare.write_text(recording.path.read_text())
    with pytest.raises(RecordsFileError, match="must say where it was measured"):
        replay.load_recording(bare)
    assert len(load_records(bare)) == len(recording.records)  # the records alone are fine


def test_a_broken_machine_file_is_refused(tmp_path, recording):
    path = tmp_path / "x.jsonl"
    path.write_text(recording.path.read_text())
    replay.machine_file(path).write_text("{not json")
    with pytest.raises(RecordsFileError, match="not valid JSON"):
        replay.load_recording(path)


def test_replay_setting_is_checked_before_a_run(tmp_path):
    with pytest.raises(TypeError, match="replay: expected"):
        widgets.ScalingExplorer(replay=42)
    with pytest.raises(RecordsFileError):
        widgets.ScalingExplorer(replay=tmp_path / "missing.jsonl")


def test_scaling_explorer_shows_recorded_beside_live(recording):
    explorer = widgets.ScalingExplorer(replay=recording.path, workers=(1, 2), tasks=2, size=1000)
    explorer.run()
    table = explorer.table()
    assert set(table["source"]) == {"live", recording.label}
    ax = plots.speedup(explorer.records, recorded=explorer.settings.replay)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.endswith("(recorded)") for t in legend) and any(not t.endswith("(recorded)") for t in legend)
    assert recording.label in [t.get_text() for t in ax.texts]


def test_without_replay_the_table_has_no_source_column():
    explorer = widgets.ScalingExplorer(workers=(1, 1), tasks=2, size=1000, backends=("threads",))
    explorer.run()
    assert "source" not in explorer.table().columns
    json.dumps(list(explorer.table().columns))


def test_the_explorer_replays_only_its_own_workload():
    explorer = widgets.ScalingExplorer(replay="default", workload="cpu")
    recorded = explorer.recorded()
    assert recorded.records and {r.workload for r in recorded.records} == {"cpu"}
    assert recorded.label == replay.recordings()[0].label
