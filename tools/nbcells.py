"""What every lesson builder in tools/ shares: cell makers, the hidden solution, and the write."""

import nbformat as nbf

md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
#: First line of a cell whose output truly varies (timings, versions): nbval skips comparing it.
IGNORE = "# NBVAL_IGNORE_OUTPUT\n"


def solution(src: str):
    """A code cell collapsed in JupyterLab and tagged, so the exercise above it stays an exercise."""
    cell = code(src)
    cell.metadata["tags"] = ["solution"]
    cell.metadata["jupyter"] = {"source_hidden": True}
    return cell


def write(cells: list, path: str) -> None:
    nb = nbf.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbf.write(nb, path)
