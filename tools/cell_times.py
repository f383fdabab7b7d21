"""How long each lesson's cells took when the committed notebooks were last executed (`make lessons`).

nbclient records, in every executed code cell's metadata, when the kernel received the cell and when it
replied; this reads those stamps back, so README's figures come from the notebooks themselves.

    python tools/cell_times.py [notebooks/*.ipynb]
"""

from __future__ import annotations

import glob
import json
import sys
from datetime import datetime


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def cell_seconds(path: str) -> list[float]:
    """Seconds each executed code cell of the notebook at `path` took, in order."""
    with open(path, encoding="utf-8") as fh:
        cells = json.load(fh)["cells"]
    times = []
    for cell in cells:
        run = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in run and "shell.execute_reply" in run:
            times.append((_stamp(run["shell.execute_reply"]) - _stamp(run["iopub.execute_input"])).total_seconds())
    return times


def main(paths: list[str]) -> None:
    total = 0.0
    for path in paths:
        times = cell_seconds(path)
        total += sum(times)
        print(f"{path}: {len(times)} cells, {sum(times):.1f} s in all, slowest {max(times, default=0):.1f} s")
    print(f"all: {total:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:] or sorted(glob.glob("notebooks/[0-9][0-9]_*.ipynb")))
