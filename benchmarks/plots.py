"""How long a dashboard waits to redraw the timeline and activity plots of 1,000 tasks.

A live dashboard redraws after every few events, so a redraw must take at most
50 ms. The headline is `live.LiveTimeline`, the figure a widget keeps: timed
from the new data (the per-task frame and the `gil_activity` intervals, both
already made) to PNG bytes an `ipywidgets.Image` shows, at 100 dpi (1000 x 1000
px): `live.update(df, intervals).png()`. Turning records into those frames
(`records_to_dataframe`, `gil_activity`) is not timed here. Also timed:
the same to the RGBA canvas only (no PNG; what an interactive canvas blits),
the same without the kept background (every artist rendered, `blit=False`),
and a replay of a run as it grows from 10 to 1,000 tasks (re-layouts included).

Side by side, in the same run, each on a figure made once and reused: the
plot functions called again on the same axes (they replace what they drew,
keeping ticks) with the layout found on the first draw, rendered with Agg's
`canvas.draw()` (no PNG); the simple way (ax.clear() and a fresh layout every
time); the floor (one axes with one line); and the textbook Gantt chart (one
`barh` rectangle per task).

Usage: python benchmarks/plots.py [--events 1000] [--repeats 30] [--png DIR]
Prints the median milliseconds per redraw, then one JSON line; --png writes the live frames.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import time
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from concurrency_lab import analysis, plots  # noqa: E402
from concurrency_lab.live import LiveTimeline  # noqa: E402
from concurrency_lab.records import RunRecord, TaskEvent, records_to_dataframe  # noqa: E402

TARGET_MS = 50.0
WORKERS = 4
MS = 1_000_000  # ns


def synthetic_run(n_events: int, seed: int = 0) -> RunRecord:
    """`n_events` tasks of 5-30 ms on 4 workers, 1% failed, each traced as
    alternating 5 ms of running and waiting (what two threads under a GIL show)."""
    rng = np.random.default_rng(seed)
    free = np.zeros(WORKERS)
    events, results = [], []
    for i in range(n_events):
        w = int(free.argmin())
        start, d = free[w] + rng.uniform(0, 0.001), rng.uniform(0.005, 0.030)
        free[w] = start + d
        ok = rng.random() > 0.01
        events.append(TaskEvent(i, f"w{w}", 100 + w, w, 0.0, start, start + d, start + d + 1e-4, d / 2, ok,
                                "" if ok else "RuntimeError: synthetic"))
        results.append(_samples(int(d * 1e9)) if ok else None)
    return RunRecord("threads", WORKERS, "", "cpu_traced", {"size": 0}, float(free.max()) + 1e-3, 0.001,
                     0, 0, tuple(events), results=tuple(results))


def _samples(duration_ns: int) -> list[int]:
    """A sample every 0.5 ms while running; none during each 5 ms wait."""
    t = np.arange(0, duration_ns, MS // 2)
    running = (t // (5 * MS)) % 2 == 0
    return [*t[running].tolist(), duration_ns]


class Variant:
    """One way of redrawing, on its own figure made once and reused, as a dashboard does.

    clear: `ax.clear()` before drawing (the simple way); else the plot function
    replaces what it drew before, keeping ticks. freeze: lay the figure out on
    the first draw, then keep that layout.
    """

    def __init__(self, jobs: list[tuple[Callable, object]], *, clear: bool, freeze: bool) -> None:
        self.jobs, self.clear = jobs, clear
        with matplotlib.rc_context(plots.STYLE):
            self.fig, axes = plt.subplots(len(jobs), 1, figsize=(10, 4.5 * len(jobs) + 1), layout="constrained",
                                          squeeze=False)
        self.axes = list(axes[:, 0])
        self.redraw()  # warm-up, and the layout a frozen variant keeps
        if freeze:
            self.fig.set_layout_engine("none")
        self.times: list[float] = []

    def redraw(self) -> None:
        for ax, (plot, data) in zip(self.axes, self.jobs, strict=True):
            if self.clear:
                ax.clear()
            plot(data, ax=ax)
        self.fig.canvas.draw()

    def timed(self) -> None:
        t0 = time.perf_counter()
        self.redraw()
        self.times.append((time.perf_counter() - t0) * 1e3)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times)


class LiveVariant:
    """`live.LiveTimeline`: new data to PNG bytes (or to the RGBA canvas only, `png=False`)."""

    def __init__(self, df, intervals, *, blit: bool = True, png: bool = True, dpi: float = 100.0) -> None:
        self.df, self.intervals, self.blit, self.png = df, intervals, blit, png
        self.live = LiveTimeline(dpi=dpi)
        self.frame = self.live.update(df, intervals).png()  # warm-up: lays the figure out
        self.times: list[float] = []

    def timed(self) -> None:
        t0 = time.perf_counter()
        self.live.update(self.df, self.intervals, blit=self.blit)
        if self.png:
            self.frame = self.live.png()
        self.times.append((time.perf_counter() - t0) * 1e3)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times)


def replay(df, intervals, frames: int) -> tuple[list[float], LiveTimeline, bytes]:
    """A run shown as it goes: `frames` updates of a new LiveTimeline, each with
    the first k tasks (k from n/frames to n) and their intervals, the run's
    wall time being its last task's end so far; each timed to PNG bytes."""
    n, times = int(df["index"].max()) + 1, []
    live, frame = LiveTimeline(), b""
    for k in np.linspace(n / frames, n, frames).round().astype(int):
        part = df[df["index"] < k]
        part = part.assign(wall=part["end"].max())
        iv = intervals[intervals["task"] < k]
        t0 = time.perf_counter()
        frame = live.update(part, iv).png()
        times.append((time.perf_counter() - t0) * 1e3)
    return times, live, frame


def measure(variants: dict[str, Variant], repeats: int, slow: set[str]) -> dict[str, float]:
    """Round-robin over the variants, so a machine that slows down mid-run
    (ours is shared) slows them all alike; `slow` ones run every 10th round."""
    for i in range(repeats):
        for name, variant in variants.items():
            if name not in slow or i % 10 == 0:
                variant.timed()
    plt.close("all")
    return {name: v.median_ms for name, v in variants.items()}


def naive_timeline(df, ax) -> None:
    """The textbook Gantt chart: one Rectangle per task."""
    for _, row in df.iterrows():
        ax.barh(row["worker"], row["end"] - row["start"], left=row["start"],
                color="tab:blue" if row["ok"] else "tab:red")


def empty(_data, ax) -> None:
    """The floor: an axes with one short line, as matplotlib renders it here."""
    for line in list(ax.lines):
        line.remove()
    ax.plot([0, 1], [0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--png", metavar="DIR", help="write the live frames here, to look at")
    args = parser.parse_args()
    rec = synthetic_run(args.events)
    df = records_to_dataframe([rec])
    intervals = analysis.gil_activity(rec)
    timeline, activity = (plots.timeline, df), (plots.activity, intervals)
    few = synthetic_run(10)
    few_df, few_iv = records_to_dataframe([few]), analysis.gil_activity(few)
    few_jobs = [(plots.timeline, few_df), (plots.activity, few_iv)]
    variants = {
        "live_png_ms": LiveVariant(df, intervals),
        "live_canvas_ms": LiveVariant(df, intervals, png=False),
        "live_full_png_ms": LiveVariant(df, intervals, blit=False),
        "live_10_events_png_ms": LiveVariant(few_df, few_iv),
        "live_72dpi_png_ms": LiveVariant(df, intervals, dpi=72),
        "both_ms": Variant([timeline, activity], clear=False, freeze=True),
        "both_10_events_ms": Variant(few_jobs, clear=False, freeze=True),
        "both_clear_relayout_ms": Variant([timeline, activity], clear=True, freeze=False),
        "floor_one_line_ms": Variant([(empty, None)], clear=False, freeze=True),
        "naive_barh_timeline_ms": Variant([(naive_timeline, df)], clear=True, freeze=True),
    }
    n = args.repeats
    r = measure(variants, n, slow={"naive_barh_timeline_ms"})
    grow, grown, last = replay(df, intervals, frames=100)
    w, h = variants["live_png_ms"].live.figure.canvas.get_width_height()
    png_kib = len(variants["live_png_ms"].frame) / 1024
    print(f"{args.events} events on {WORKERS} workers, {len(intervals)} run/wait intervals; median of {n} redraws, "
          f"each on a figure made once and reused")
    print(f"LiveTimeline, {w}x{h} px: from the new frames (tasks, intervals) to what the widget shows")
    print(f"  to PNG bytes ({png_kib:.0f} KiB)               {r['live_png_ms']:7.1f} ms   target <= {TARGET_MS:.0f} ms")
    print(f"  to the RGBA canvas (no PNG)          {r['live_canvas_ms']:7.1f} ms")
    print(f"  to PNG, everything rendered (no blit) {r['live_full_png_ms']:6.1f} ms   (blit=False)")
    print(f"  to PNG, 10 events                    {r['live_10_events_png_ms']:7.1f} ms")
    print(f"  to PNG at 72 dpi (720x720 px)        {r['live_72dpi_png_ms']:7.1f} ms   (LiveTimeline(dpi=72))")
    print(f"  replay, 10 to {args.events} tasks in 100 frames {statistics.median(grow):6.1f} ms median, "
          f"{np.percentile(grow, 90):.1f} ms p90, {max(grow):.1f} ms max ({grown.relayouts} re-layouts)")
    print("The plot functions, redrawn on the same axes (draw + Agg render to the canvas, no PNG)")
    print(f"  timeline + activity, one figure      {r['both_ms']:7.1f} ms")
    print(f"  both, 10 events                      {r['both_10_events_ms']:7.1f} ms   (axes, labels, legend, caption)")
    print(f"  both, ax.clear() + re-layout         {r['both_clear_relayout_ms']:7.1f} ms   (the simple way)")
    print(f"  floor: one axes, one line            {r['floor_one_line_ms']:7.1f} ms   (matplotlib on this machine)")
    print(f"  naive barh timeline                  {r['naive_barh_timeline_ms']:7.1f} ms   (one Rectangle per task)")
    if args.png:
        out = pathlib.Path(args.png)
        out.mkdir(parents=True, exist_ok=True)
        for name in ("live_png_ms", "live_full_png_ms", "live_10_events_png_ms", "live_72dpi_png_ms"):
            (out / f"{name.removesuffix('_ms')}.png").write_bytes(variants[name].frame)
        (out / "live_replay_last.png").write_bytes(last)
        print(f"  frames written to {out}/")
    print(json.dumps({"benchmark": "plots_redraw", "events": args.events, "intervals": len(intervals),
                      "pixels": [w, h], **{k: round(v, 2) for k, v in r.items()},
                      "replay_median_ms": round(statistics.median(grow), 2), "replay_max_ms": round(max(grow), 2),
                      "replay_relayouts": grown.relayouts, "target_ms": TARGET_MS,
                      "live_png_within_target": r["live_png_ms"] <= TARGET_MS,
                      "plot_functions_within_target": r["both_ms"] <= TARGET_MS}))


if __name__ == "__main__":
    main()
