"""How long an explorer's panel takes to turn its figure into the picture the widget shows: vector (SVG,
what panels show since issue 20, sharp at any zoom) against the 80-dpi PNG they showed before.

A panel redraws every `REFRESH_S` (0.25 s) while a run goes on, so the picture must leave time for the
run: the target is that SVG costs at most 1.2 times the PNG it replaced, measured side by side on the
same figure in this run. The figure is a real one: ScalingExplorer's speedup plot after a small sweep
(threads and processes, 1 to 4 workers, 2 repeats), and the same with "large text" on.

Usage: python benchmarks/panel_picture.py [--repeats 15]
Prints the median milliseconds of each, the ratio, and one JSON line.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time

import matplotlib

matplotlib.use("Agg")

from concurrency_lab import config, widgets  # noqa: E402
from concurrency_lab.explorers._panel import REFRESH_S, svg  # noqa: E402

TARGET_RATIO = 1.2


def _png(figure) -> bytes:
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=80)  # what a panel showed before
    return buf.getvalue()


def timed(panel, picture, repeats: int) -> tuple[float, int]:
    """Median ms of draw + picture, and the picture's size in bytes."""
    times, size = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        panel.draw()
        size = len(picture(panel.figure))
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    config.SMALL = True
    explorer = widgets.ScalingExplorer(backends=("threads", "processes"), workers=(1, 4), size=20_000, tasks=4,
                                       repeats=2)
    explorer.run()
    panel = explorer.panel
    result = {}
    for large in (False, True):
        panel.large.value = large
        png_ms, png_bytes = timed(panel, _png, args.repeats)
        svg_ms, svg_bytes = timed(panel, svg, args.repeats)
        key = "large" if large else "normal"
        result[key] = {"png_ms": round(png_ms, 1), "svg_ms": round(svg_ms, 1), "ratio": round(svg_ms / png_ms, 3),
                       "png_kib": png_bytes // 1024, "svg_kib": svg_bytes // 1024}
        print(f"ScalingExplorer, {len(explorer.records)} runs, {key} text: draw + PNG (80 dpi) {png_ms:6.1f} ms "
              f"({png_bytes // 1024} KiB), draw + SVG {svg_ms:6.1f} ms ({svg_bytes // 1024} KiB): "
              f"SVG / PNG {svg_ms / png_ms:.3f} (target <= {TARGET_RATIO}); a panel redraws every {REFRESH_S} s")
    print(json.dumps({"benchmark": "panel_picture", "repeats": args.repeats, "target_ratio": TARGET_RATIO,
                      **result, "within_target": all(r["ratio"] <= TARGET_RATIO for r in result.values())}))


if __name__ == "__main__":
    main()
