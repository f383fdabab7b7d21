"""Each lesson is one source in two files: notebooks/NN_topic.md (MyST Markdown, edited) and
NN_topic.ipynb (executed, checked by nbval). They must be paired and hold the same cells.
No kernel: both files are only read (with jupytext and nbformat)."""

from __future__ import annotations

from pathlib import Path

import pytest

# Not in a free-threaded Python's venv (nbformat needs jsonschema's rpds-py, which has no wheel there).
jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
FORMATS = "ipynb,md:myst"
LESSONS = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.md"))


def _cells(nb: nbformat.NotebookNode) -> list[dict]:
    """What each cell must agree on between the two files (outputs, ids and run metadata may differ)."""
    return [
        {
            "cell_type": cell.cell_type,
            "source": cell.source,
            "tags": list(cell.metadata.get("tags", [])),
            "source_hidden": bool(cell.metadata.get("jupyter", {}).get("source_hidden", False)),
        }
        for cell in nb.cells
    ]


def test_every_lesson_has_both_files():
    ipynb = {p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    md = set(LESSONS)
    assert md, f"no lesson sources (NN_topic.md) in {NOTEBOOKS}"
    assert not ipynb - md, f"notebooks without a .md source (run: jupytext --set-formats {FORMATS} X.ipynb): " \
        f"{sorted(ipynb - md)}"
    assert not md - ipynb, f".md sources without their .ipynb (run: make lessons): {sorted(md - ipynb)}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_md_and_the_ipynb_are_paired_and_in_sync(lesson: str):
    md_path, ipynb_path = NOTEBOOKS / f"{lesson}.md", NOTEBOOKS / f"{lesson}.ipynb"
    text = jupytext.read(md_path)
    notebook = nbformat.read(ipynb_path, as_version=4)

    assert text.metadata.get("jupytext", {}).get("text_representation", {}).get("format_name") == "myst", \
        f"{md_path.name} is not a MyST Markdown notebook"
    for path, nb in ((md_path, text), (ipynb_path, notebook)):
        assert nb.metadata.get("jupytext", {}).get("formats") == FORMATS, \
            f"{path.name} is not paired: its metadata should say jupytext.formats = {FORMATS!r}"

    want, got = _cells(text), _cells(notebook)
    assert len(got) == len(want), \
        f"{ipynb_path.name} has {len(got)} cells, {md_path.name} has {len(want)}: run make lessons"
    for i, (w, g) in enumerate(zip(want, got, strict=True)):
        assert g == w, f"cell {i} differs between {md_path.name} (left) and {ipynb_path.name}: run make lessons"


def test_solution_cells_are_hidden_in_the_md():
    """The sync check compares the flags; this one makes sure the .md keeps them (a metadata filter could drop both)."""
    solutions = [(lesson, c) for lesson in LESSONS for c in _cells(jupytext.read(NOTEBOOKS / f"{lesson}.md"))
                 if "solution" in c["tags"]]
    assert solutions, "no cell tagged 'solution' in any lesson's .md"
    bad = [lesson for lesson, c in solutions if not (c["source_hidden"] and c["cell_type"] == "code")]
    assert not bad, f"a solution cell is not a hidden code cell in: {sorted(set(bad))}"


def test_solution_cells_store_no_outputs_and_are_run_by_nbval_without_comparing():
    """A stored output gives the answer away (`make lessons` strips them: tools/strip_solutions.py); nbval still
    runs each solution, so a broken one fails, but compares nothing (the `nbval-ignore-output` tag)."""
    for lesson in LESSONS:
        nb = nbformat.read(NOTEBOOKS / f"{lesson}.ipynb", as_version=4)
        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            if "solution" in tags:
                assert cell.outputs == [], f"{lesson}: a solution cell stores outputs"
                assert "nbval-ignore-output" in tags, f"{lesson}: a solution cell without nbval-ignore-output"
