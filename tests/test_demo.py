"""The demo page (issue 20): which explorers it shows is read from the lessons' own cells."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from concurrency_lab import demo

ROOT = Path(__file__).resolve().parent.parent
NAMES = {"ScalingExplorer", "TimelineExplorer", "GranularityExplorer", "StartMethodExplorer", "MemoryExplorer",
         "ConvoyLab"}


def test_a_call_keeps_its_literal_arguments_and_names_the_ones_it_leaves_out():
    source = "%%watch x\nsize = cl.calibrate('cpu', 0.05)\ne = cl.widgets.ScalingExplorer(workers=(1, 2), size=size)\n"
    (call,) = demo.calls_in(source, "02", NAMES)
    assert (call.name, call.kwargs, call.left_out) == ("ScalingExplorer", {"workers": (1, 2)}, ("size",))
    assert demo.calls_in("print(1", "02", NAMES) == []  # a cell that does not parse shows nothing


def test_every_explorer_of_every_lesson_is_on_the_all_page_and_each_can_be_made():
    calls = demo.lesson_calls(ROOT / "notebooks")
    assert demo.explorer_names() == NAMES and {c.name for c in calls} == NAMES
    for call in calls:
        assert type(demo.make(call)).__name__ == call.name


def test_one_lesson_gives_its_own_explorers_and_an_unknown_one_is_refused():
    assert [c.name for c in demo.lesson_calls(ROOT / "notebooks", "2")] == ["ScalingExplorer", "TimelineExplorer"]
    with pytest.raises(ValueError, match="no lesson '77'"):
        demo.lesson_calls(ROOT / "notebooks", "77")


def test_a_learners_own_recording_is_not_on_the_page():
    """Lesson 10 replays my-machine.jsonl, which exists only once the learner has made it."""
    assert not [c for c in demo.lesson_calls(ROOT / "notebooks", "10") if "my-machine" in str(c.kwargs)]


def test_the_page_is_one_cell_and_voila_listens_on_loopback_behind_the_token(tmp_path):
    pytest.importorskip("nbformat")  # not in the free-threaded lane (no wheels there that load)
    nb = demo.notebook("02")
    assert [c.cell_type for c in nb.cells] == ["markdown", "code"] and "demo.show('02', large=False)" in nb.cells[1].source
    assert "large=True" in demo.notebook("all", large=True).cells[1].source
    cmd = demo.voila_command(tmp_path / "demo.ipynb", 8870, "t0k", open_browser=False)
    assert {"--Voila.ip=127.0.0.1", "--port=8870", "--token=t0k", "--no-browser"} <= set(cmd)
    json.dumps(nb)  # it is a plain notebook
