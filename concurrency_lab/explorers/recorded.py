"""Pictures of real recorded runs, one per explorer, shown where no live panel can be.

An explorer's output carries, beside the widget, a PNG of the same panel after a run of its default
settings, recorded on a named machine on a named day (`tools/record_explorers.py` makes them; the
picture says where and when on its face). JupyterLab shows it when a lesson is opened without being
run (it renders no widget of an untrusted notebook), and so do static pages and GitHub.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "recorded" / "explorers"


@cache
def picture_bundle(kind: str) -> dict[str, str]:
    """The recorded picture of explorer `kind` as display data (image/png and text/plain), or {} if none."""
    png = FOLDER / f"{kind}.png"
    if not png.exists():
        return {}
    about = json.loads(png.with_suffix(".json").read_text(encoding="utf-8"))
    return {"image/png": base64.b64encode(png.read_bytes()).decode("ascii"),
            "text/plain": f"{kind}: a live panel; run this cell to use it. The picture is a run recorded on "
                          f"{about['machine']}, {about['recorded_at']}."}
