"""Lessons as slides (issue 20): the slide types in the sources, and the offline deck built from them."""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path

import pytest

from concurrency_lab import slides

nbformat = pytest.importorskip("nbformat")  # the free-threaded lane installs neither (no wheels that load)
pytest.importorskip("jupytext")

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
sys.path.insert(0, str(ROOT / "tools"))
import slide_types  # noqa: E402


def _cell(kind: str, source: str, slide: str | None = None, **extra) -> dict:
    meta = {"slideshow": {"slide_type": slide}} if slide else {}
    return {"cell_type": kind, "source": source, "metadata": {**meta, **extra}, "outputs": []}


def test_every_lesson_source_has_the_slide_types_the_rule_gives():
    """tools/slide_types.py wrote them; a new cell or lesson without them fails here, with the fix."""
    gaps = {p.name: slide_types.missing(p) for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md"))}
    assert {k: v for k, v in gaps.items() if v} == {}, "run: python tools/slide_types.py"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem[:2])
def test_each_lesson_opens_on_its_title_and_each_section_starts_a_slide(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert slides.slide_type(first) == "slide"
    for cell in nb.cells:
        if cell.cell_type == "markdown" and re.search(r"^## ", cell.source, re.M):
            assert cell.source.startswith("## ") and slides.slide_type(cell) == "slide", cell.source[:60]
        if "solution" in cell.metadata.get("tags", []):
            assert slides.slide_type(cell) == "skip"
    assert nb.metadata["rise"] == slide_types.RISE


def test_the_rule_puts_the_stdlib_code_with_the_text_that_introduces_it():
    cells = [_cell("markdown", "## 1. Threads"), _cell("markdown", "Two threads counting:"),
             _cell("code", "from concurrent.futures import ThreadPoolExecutor\n"),
             _cell("code", "print(w.verdict())"), _cell("code", "x", tags=["solution"]),
             _cell("code", "e = cl.widgets.ScalingExplorer()")]
    assert slide_types.types_for(cells) == ["slide", "subslide", None, "fragment", "skip", "subslide"]


def test_group_starts_a_slide_at_slide_and_subslide_and_leaves_out_skip_and_notes():
    cells = [_cell("markdown", "# T", "slide"), _cell("code", "a"), _cell("markdown", "s", "subslide"),
             _cell("code", "b", "skip"), _cell("markdown", "n", "notes"), _cell("code", "c", "fragment"),
             _cell("markdown", "## S", "slide")]
    assert [[c["source"] for c in s] for s in slides.group(cells)] == [["# T", "a"], ["s", "c"], ["## S"]]


def test_outputs_render_pictures_embedded_and_a_widget_as_a_note():
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
    both = {"output_type": "display_data",
            "data": {"application/vnd.jupyter.widget-view+json": {}, "image/png": png, "text/plain": "x"}}
    assert slides.render_output(both).startswith('<img alt="a plot" src="data:image/png;base64,')
    widget = {"output_type": "display_data", "data": {"application/vnd.jupyter.widget-view+json": {}}}
    assert "run the lesson in JupyterLab" in slides.render_output(widget)
    stream = {"output_type": "stream", "name": "stdout", "text": "\x1b[31m<b>1</b>\x1b[0m\n"}
    assert slides.render_output(stream) == '<pre class="output">&lt;b&gt;1&lt;/b&gt;\n</pre>'


def test_a_fragment_waits_for_a_key_and_nbval_markers_stay_off_the_screen():
    cell = _cell("code", "# NBVAL_IGNORE_OUTPUT\n# (measured)\nprint(v.verdict())", "fragment")
    out = slides.render_cell(cell)
    assert out.startswith('<div class="fragment hidden">') and "NBVAL" not in out and "measured" not in out


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem[:2])
def test_the_deck_needs_no_network_and_holds_every_slide_and_picture(path, tmp_path):
    pytest.importorskip("nbconvert", reason="the deck renders markdown with nbconvert, from the lab extra "
                        "(installed by make test; the version matrix installs only the test extra)")
    out = slides.export_deck(path, tmp_path / "deck.html")
    page = out.read_text(encoding="utf-8")
    nb = nbformat.read(path, as_version=4)
    assert page.count("<section>") == len(slides.group(nb.cells))
    assert not re.search(r"""(src|href)=["']?(https?:)?//|@import|url\(\s*["']?https?:|<link""", page), \
        "the deck asks the network for something"
    pngs = sum("image/png" in o.get("data", {}) for c in nb.cells if "solution" not in c.metadata.get("tags", [])
               and slides.slide_type(c) not in slides.HIDDEN for o in c.get("outputs", []))
    assert page.count('src="data:image/png;base64,') == pngs
    solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    assert not any(slides.render_cell(c) in page for c in solutions)
