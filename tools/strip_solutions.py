"""Remove the outputs of every hidden solution cell from executed lessons: a stored output gives the answer
away to anyone who opens the notebook, expanded or not. `make lessons` runs this after executing them.

    python tools/strip_solutions.py notebooks/*.ipynb

A solution cell is tagged `solution` (and `nbval-ignore-output`, so nbval still runs it and compares
nothing); `tests/test_lesson_sources.py` checks that none stores an output.
"""

from __future__ import annotations

import sys

import nbformat


def strip(path: str) -> int:
    nb = nbformat.read(path, as_version=4)
    stripped = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and "solution" in cell.metadata.get("tags", []) and cell.outputs:
            cell.outputs, cell.execution_count = [], None
            stripped += 1
    if stripped:
        nbformat.write(nb, path)
    return stripped


if __name__ == "__main__":
    for notebook in sys.argv[1:]:
        print(f"{notebook}: {strip(notebook)} solution output(s) removed")
