"""What an explorer shows where it cannot be live, and after a blocking run (issue 16).

A lesson opened without being run shows no widget (JupyterLab renders no widget of an untrusted
notebook; a static page or GitHub never does): the output carries a picture of a real recorded run.
After Run All, the blocking `run()` cell below a panel leaves that panel showing what it measured.
"""

from __future__ import annotations

import base64
import json

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from concurrency_lab import widgets  # noqa: E402
from concurrency_lab.explorers.recorded import FOLDER, picture_bundle  # noqa: E402

KINDS = ["ScalingExplorer", "TimelineExplorer", "GranularityExplorer", "StartMethodExplorer", "MemoryExplorer",
         "ConvoyLab"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_explorer_has_a_recorded_picture_that_says_where_and_when(kind):
    bundle = picture_bundle(kind)
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    about = json.loads((FOLDER / f"{kind}.json").read_text())
    assert about["machine"] in bundle["text/plain"] and about["recorded_at"] in bundle["text/plain"]
    assert "run this cell to use it" in bundle["text/plain"]


def test_the_displayed_output_holds_the_widget_and_the_picture(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    explorer = widgets.ScalingExplorer()
    explorer.display()
    (bundle, raw), = shown
    assert raw and {"application/vnd.jupyter.widget-view+json", "image/png", "text/plain"} <= set(bundle)
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id


def test_a_blocking_run_leaves_its_results_in_the_panel():
    explorer = widgets.ScalingExplorer(backends=("threads",), workers=(1, 2), size=20_000, tasks=4, repeats=1)
    panel = explorer.panel
    records = explorer.run()
    assert len(records) == 3
    assert bytes(panel.image.value).startswith(b"<?xml") and panel.image.format == "svg+xml"  # sharp at any zoom
    assert panel.image.layout.display == ""
    assert panel.table.value.count("<tr") == 1 + 3
    assert "done: 3 run(s), measured by the cell below" in panel.status.value
    assert "other programs used" in panel.status.value  # the share of the CPU others took meanwhile
    assert panel.progress.value == panel.progress.max


def test_convoy_labels_say_idle_not_idle_times_zero():
    from concurrency_lab.plots._style import _label

    assert _label("idle", "", 0) == "idle" and _label("threads", "", 2) == "threads ×2"
