"""Record one real run of every explorer and save the panel's picture, labelled with where and when.

    CONCURRENCY_LAB_SMALL=1 .venv/bin/python tools/record_explorers.py

writes concurrency_lab/recorded/explorers/<Explorer>.png and .json (the machine and the date), which an
explorer's output carries beside its live widget (concurrency_lab/explorers/recorded.py). Run it on a
quiet machine after changing an explorer's picture.
"""

from __future__ import annotations

import io
import json
import platform
from datetime import UTC, datetime

import matplotlib

matplotlib.use("Agg")

from concurrency_lab import info, widgets  # noqa: E402
from concurrency_lab.explorers.recorded import FOLDER  # noqa: E402

KINDS = ("ScalingExplorer", "TimelineExplorer", "GranularityExplorer", "StartMethodExplorer", "MemoryExplorer",
         "ConvoyLab")


def record(kind: str, machine: str, when: str) -> None:
    explorer = getattr(widgets, kind)()
    explorer.run()
    panel = explorer.panel
    panel.refresh()
    figure = panel.figure
    # Above the figure, not inside it: a suptitle collided with the top plot's title where a panel
    # places its own titles; a tight bounding box grows the picture to hold the caption.
    figure.text(0.5, 1.0, f"A run recorded on {machine}, {when}. Run the cell to measure your own.",
                ha="center", va="bottom", fontsize=11, color="0.35")
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=80, bbox_inches="tight", pad_inches=0.15)
    (FOLDER / f"{kind}.png").write_bytes(buf.getvalue())
    (FOLDER / f"{kind}.json").write_text(json.dumps({"machine": machine, "recorded_at": when,
                                                     "python": platform.python_version()}, indent=2) + "\n")
    print(f"{kind}: {len(explorer.records)} run(s) recorded")


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    machine = f"{info.machine_description()} ({info.logical_cores()} cores)"
    when = datetime.now(UTC).date().isoformat()
    for kind in KINDS:
        record(kind, machine, when)


if __name__ == "__main__":
    main()
