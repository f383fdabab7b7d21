"""README's "open the lessons" command really starts a JupyterLab (headless here, through LAB_ARGS)."""

from __future__ import annotations

import shutil

import pytest
from labserver import ROOT, alive, make_lab, start_lab


@pytest.mark.timeout(600)  # a pyproject.toml newer than .venv makes `make lab` reinstall first
def test_make_lab_answers_on_api_status(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed; README's commands need it (apt-get install make)")
    lab = start_lab(make_lab, tmp_path, ROOT / "notebooks", cwd=ROOT)
    tree: list[int] = []
    try:
        status = lab.wait_ready(timeout=540)
        tree = [lab.proc.pid, *(p.pid for p in lab.descendants())]
        assert status["kernels"] == 0 and "started" in status
        contents = lab.api("/api/contents")  # serves the lessons folder, as README says
        assert {"00_start_here.ipynb"} <= {item["name"] for item in contents["content"]}
    finally:
        killed = lab.stop()
    assert killed == [], f"JupyterLab did not exit on SIGTERM; killed {killed}"
    assert not [pid for pid in tree if alive(pid)]
