"""How long a dashboard waits to redraw the timeline and activity plots of 1,000 tasks.

A live dashboard redraws after every few events, so a redraw must stay well
under 50 ms. This reuses one figure the way a widget does: call the plot
functions again on the same axes (they replace what they drew, keeping ticks),
keep the layout found on the first draw, and render with Agg. Side by side, in
the same run: the simple way (ax.clear() and a fresh layout every time), the
floor (one axes with one line), and the textbook Gantt chart (one `barh`
rectangle per task), and a blitted redraw that repaints only the bars.

Usage: python benchmarks/plots.py [--events 1000] [--repeats 30]
Prints the median milliseconds per redraw, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from concurrency_lab import analysis, plots  # noqa: E402
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


class BlitVariant(Variant):
    """What a dashboard on an interactive canvas (ipympl) does while the axes'
    limits and labels stay put: the axes, ticks, labels, legend and caption
    are kept as a bitmap; each redraw calls the plot functions as before, then
    paints only their bars onto that bitmap (matplotlib's blitting)."""

    def __init__(self, jobs: list[tuple[Callable, object]]) -> None:
        super().__init__(jobs, clear=False, freeze=True)
        self._show_data(False)
        self.fig.canvas.draw()
        self.background = self.fig.canvas.copy_from_bbox(self.fig.bbox)
        self._show_data(True)

    def _data(self, ax) -> list:
        return [a for a in (*ax.patches, *ax.lines) if a.get_gid() == plots.GID]

    def _show_data(self, visible: bool) -> None:
        for ax in self.axes:
            for artist in self._data(ax):
                artist.set_visible(visible)

    background = None

    def redraw(self) -> None:
        if self.background is None:  # the first, full draw
            super().redraw()
            return
        for ax, (plot, data) in zip(self.axes, self.jobs, strict=True):
            plot(data, ax=ax)
        self.fig.canvas.restore_region(self.background)
        for ax in self.axes:
            for artist in self._data(ax):
                ax.draw_artist(artist)
        self.fig.canvas.blit(self.fig.bbox)


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
    args = parser.parse_args()
    rec = synthetic_run(args.events)
    df = records_to_dataframe([rec])
    intervals = analysis.gil_activity(rec)
    timeline, activity = (plots.timeline, df), (plots.activity, intervals)
    few = synthetic_run(10)
    few_jobs = [(plots.timeline, records_to_dataframe([few])), (plots.activity, analysis.gil_activity(few))]
    variants = {
        "both_ms": Variant([timeline, activity], clear=False, freeze=True),
        "both_10_events_ms": Variant(few_jobs, clear=False, freeze=True),
        "both_blit_ms": BlitVariant([timeline, activity]),
        "timeline_ms": Variant([timeline], clear=False, freeze=True),
        "activity_ms": Variant([activity], clear=False, freeze=True),
        "both_clear_relayout_ms": Variant([timeline, activity], clear=True, freeze=False),
        "floor_one_line_ms": Variant([(empty, None)], clear=False, freeze=True),
        "naive_barh_timeline_ms": Variant([(naive_timeline, df)], clear=True, freeze=True),
    }
    n = args.repeats
    r = measure(variants, n, slow={"naive_barh_timeline_ms"})
    print(f"{args.events} events on {WORKERS} workers, {len(intervals)} run/wait intervals; "
          f"median of {n} redraws (draw + Agg render, figure reused)")
    print(f"  timeline + activity, one figure   {r['both_ms']:7.1f} ms   target <= {TARGET_MS:.0f} ms")
    print(f"  timeline alone                    {r['timeline_ms']:7.1f} ms")
    print(f"  activity alone                    {r['activity_ms']:7.1f} ms")
    print(f"  both, 10 events                   {r['both_10_events_ms']:7.1f} ms   (axes, labels, legend, caption)")
    print(f"  both, blitted: bars onto cached   {r['both_blit_ms']:7.1f} ms   (while limits and labels stay put)")
    print(f"  both, ax.clear() + re-layout      {r['both_clear_relayout_ms']:7.1f} ms   (the simple way)")
    print(f"  floor: one axes, one line         {r['floor_one_line_ms']:7.1f} ms   (matplotlib on this machine)")
    print(f"  naive barh timeline               {r['naive_barh_timeline_ms']:7.1f} ms   "
          f"({r['naive_barh_timeline_ms'] / r['timeline_ms']:.0f}x the timeline)")
    print(json.dumps({"benchmark": "plots_redraw", "events": args.events, "intervals": len(intervals),
                      **{k: round(v, 2) for k, v in r.items()}, "target_ms": TARGET_MS,
                      "full_redraw_within_target": r["both_ms"] <= TARGET_MS,
                      "blit_redraw_within_target": r["both_blit_ms"] <= TARGET_MS}))


if __name__ == "__main__":
    main()
