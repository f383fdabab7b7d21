"""Give every lesson's cells their slide types, in the lesson sources (issue 20: slides in class).

Why a tool, not hand edits: thirteen lessons of 30-60 cells each, and one rule
an instructor can read here. It writes `slideshow.slide_type` into each
`notebooks/NN_topic.md` (the source an instructor edits; `make lessons` or
`jupytext --sync` carries it into the .ipynb), and only where a cell has none:
a type an instructor set by hand is kept. The rule:

- the title (`# ...`) and every section (`## ...`) start a slide; a markdown
  cell that holds a section heading after some text is split there first;
- a subsection (`### ...`), the standard library's code (a `%%watch` cell, or
  one that imports `threading`, `concurrent.futures`, `multiprocessing`,
  `asyncio` or `queue`) and an explorer start a sub-slide (down, in reveal.js);
- a verdict (a cell that prints one) comes in as a fragment, after what it checks;
- a hidden solution is skipped: it stays in the notebook, not on the screen.

It also sets the notebook's `rise` options for jupyterlab-rise (`RISE`): the
"white" theme, whose fonts come with it (the default, "simple", asks Google
Fonts for two, which a room without a network never answers), and scrolling,
since a slide with a plot is often taller than a projector's 720 px.

    python tools/slide_types.py            # every lesson
    python tools/slide_types.py --check    # exit 1 if a lesson lacks a type the rule gives
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import jupytext
from jupytext.config import load_jupytext_config
from nbformat.v4 import new_markdown_cell

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
_STDLIB = re.compile(r"^(%%watch|import (threading|multiprocessing|asyncio|queue)\b|"
                     r"from (concurrent\.futures|threading|multiprocessing|asyncio|queue)\b)", re.M)
_EXPLORER = re.compile(r"Explorer\(|\bLab\(")
_VERDICT = re.compile(r"\.verdict\(\)")
_SECTION = re.compile(r"^## ", re.M)
#: The notebook metadata jupyterlab-rise reads (see the docstring for why each).
RISE = {"theme": "white", "scroll": True}


def slide_type(cell: dict) -> str | None:
    """The type the rule gives a cell, or None (it goes on the slide before it)."""
    text = cell["source"].lstrip()
    if cell["cell_type"] == "markdown":
        if text.startswith(("# ", "## ")):
            return "slide"
        return "subslide" if text.startswith("### ") else None
    if "solution" in cell.get("metadata", {}).get("tags", []):
        return "skip"
    if _EXPLORER.search(text) or _STDLIB.search(text):
        return "subslide"
    return "fragment" if _VERDICT.search(text) else None


def types_for(cells: list) -> list[str | None]:
    """The rule for a whole lesson: a code cell's sub-slide starts at the markdown that introduces it."""
    types = [slide_type(c) for c in cells]
    for i, cell in enumerate(cells):
        if i and types[i] == "subslide" and cell["cell_type"] == "code" and cells[i - 1]["cell_type"] == "markdown" \
                and types[i - 1] is None:
            types[i - 1], types[i] = "subslide", None
    return types


def split_sections(cells: list) -> list:
    """Markdown cells cut before each `## ` heading that is not their first line, so a section starts a cell."""
    out = []
    for cell in cells:
        starts = [m.start() for m in _SECTION.finditer(cell["source"]) if m.start() > 0]
        if cell["cell_type"] != "markdown" or not starts:
            out.append(cell)
            continue
        bounds = [0, *starts, len(cell["source"])]
        for a, b in zip(bounds, bounds[1:], strict=False):
            part = new_markdown_cell(cell["source"][a:b].strip("\n"))
            if a == 0:
                part.metadata = cell.get("metadata", {})
            out.append(part)
    return out


def apply(path: Path) -> int:
    """Write the rule's types into one lesson source; how many cells changed."""
    nb = jupytext.read(path)
    nb.cells = split_sections(nb.cells)
    changed = 0
    for cell, want in zip(nb.cells, types_for(nb.cells), strict=True):
        if want is None or "slideshow" in cell.metadata:
            continue
        cell.metadata["slideshow"] = {"slide_type": want}
        changed += 1
    if nb.metadata.get("rise") != RISE:
        nb.metadata["rise"] = dict(RISE)
        changed += 1
    if changed:
        jupytext.write(nb, path, fmt="md:myst", config=load_jupytext_config(str(path.parent)))
    return changed


def missing(path: Path) -> list[int]:
    """Cells (by index) that lack the type the rule gives them; -1 when the notebook lacks `RISE`."""
    nb = jupytext.read(path)
    gaps = [i for i, (c, want) in enumerate(zip(nb.cells, types_for(nb.cells), strict=True))
            if want and "slideshow" not in c.metadata]
    return gaps if nb.metadata.get("rise") == RISE else [*gaps, -1]  # -1: the notebook's own options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    bad = 0
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.md")):
        if args.check:
            gaps = missing(path)
            bad += bool(gaps)
            if gaps:
                print(f"{path.name}: cells {gaps} have no slide type")
        else:
            print(f"{path.name}: {apply(path)} cells given a slide type")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
