"""Plots, checked through their artists' data (no image comparison), on hand-built records."""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from test_analysis import MACHINE, amdahl_sweep, make_record  # noqa: E402

from concurrency_lab import analysis, plots  # noqa: E402
from concurrency_lab.live import LaneBars, LiveTimeline  # noqa: E402
from concurrency_lab.records import RunRecord, TaskEvent, records_to_dataframe  # noqa: E402

MS = 1_000_000


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def ours(ax, kind=matplotlib.patches.PathPatch):
    """The bar paths a plot function drew, in drawing order."""
    return [p for p in ax.patches if isinstance(p, kind) and p.get_gid() == plots.GID]


def rects(patch) -> np.ndarray:
    """(x0, x1, y_center) of every rectangle in one bar path."""
    v = patch.get_path().vertices.reshape(-1, 5, 2)
    return np.column_stack([v[:, 0, 0], v[:, 2, 0], v[:, :4, 1].mean(axis=1)])


def caption_of(ax) -> str:
    texts = [t.get_text() for t in ax.texts if t.get_gid() == plots.GID]
    assert len(texts) == 1
    return texts[0]


def labelled(ax, label: str):
    return next(line for line in ax.get_lines() if line.get_label() == label)


# -- one run -------------------------------------------------------------------


def test_timeline_bars_lanes_and_failures():
    rec = make_record("processes", 2, 1.0, tasks=6, start_method="spawn", failed=(3,))
    ax = plots.timeline(rec)
    ok, failed = ours(ax)
    assert plots.bar_count(ok) == 5 and plots.bar_count(failed) == 1
    np.testing.assert_allclose(rects(failed), [[1 / 3, 2 / 3, 1.0]])  # task 3: lane w1, second slot
    np.testing.assert_allclose(rects(ok)[0], [0.0, 1 / 3, 0.0])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["w0", "w1"]
    marker = labelled(ax, "_failed end")
    assert list(marker.get_xdata()) == pytest.approx([2 / 3]) and list(marker.get_ydata()) == [1.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["ok", "failed"]
    assert ax.get_title() == "Tasks per worker: processes (spawn) ×2"
    assert ax.get_xlabel() == "time since the run started (s)"
    assert ax.get_xlim()[1] == pytest.approx(1.02)


def test_timeline_lanes_in_natural_order_and_unstarted_tasks_last():
    events = tuple(TaskEvent(i, w, 1, 1, 0.0, 0.1 * i, 0.1 * i + 0.05, 0.1 * i + 0.05, 0.05, bool(w), "")
                   for i, w in enumerate(["w10", "w2", "", "w0"]))
    rec = RunRecord("threads", 11, "", "cpu", {}, 1.0, 0.0, 0, 0, events, run_id="n", **MACHINE)
    ax = plots.timeline(rec)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["w0", "w2", "w10", "not run"]


def test_timeline_redrawn_on_the_same_axes_replaces_its_bars():
    fig, ax = plt.subplots()
    small, big = make_record("threads", 2, 1.0, tasks=4), make_record("threads", 4, 1.0, tasks=40)
    assert plots.timeline(small, ax=ax) is ax
    plots.timeline(big, ax=ax)
    (bars,) = ours(ax)
    assert plots.bar_count(bars) == 40
    assert len([t for t in ax.texts if t.get_gid() == plots.GID]) == 1  # one caption, not two
    assert [t.get_text() for t in ax.get_yticklabels()] == ["w0", "w1", "w2", "w3"]


def test_timeline_wants_one_run():
    df = records_to_dataframe([make_record("threads", 2, 1.0), make_record("threads", 2, 2.0)])
    with pytest.raises(ValueError, match="holds 2 runs"):
        plots.timeline(df)
    run_id = df["run_id"].iloc[-1]
    ax = plots.timeline(df, run_id=run_id)
    assert plots.bar_count(ours(ax)[0]) == 8


def _alternating(n_tasks: int = 2) -> RunRecord:
    """Two threads taking turns: each runs 5 ms, waits 5 ms, four times."""
    def samples() -> list[int]:
        out = [0]
        for k in range(4):
            out += [(10 * k + t) * MS for t in (1, 2, 3, 4, 5)] + [(10 * k + 10) * MS]
        return out

    events = tuple(TaskEvent(i, f"w{i}", 1, i, 0.0, 0.005 * i, 0.005 * i + 0.040, 0.046, 0.02, True, "")
                   for i in range(n_tasks))
    return RunRecord("threads", 2, "", "cpu_traced", {}, 0.046, 0.0, 0, 0, events, run_id="a",
                     results=tuple(samples() for _ in events), **MACHINE)


def test_activity_lanes_from_intervals_or_a_record():
    rec = _alternating()
    for source in (rec, analysis.gil_activity(rec)):
        ax = plots.activity(source)
        wait, run = ours(ax)  # each task's span in the waiting colour, its running stretches on top
        assert plots.bar_count(run) == 8 and plots.bar_count(wait) == 2
        np.testing.assert_allclose(rects(wait), [[0.0, 0.040, 0.0], [0.005, 0.045, 1.0]], atol=1e-12)
        assert run.get_facecolor()[:3] == pytest.approx(matplotlib.colors.to_rgb(plots.STATE_COLORS["run"]))
        np.testing.assert_allclose(rects(run)[:2], [[0.0, 0.005, 0.0], [0.010, 0.015, 0.0]], atol=1e-12)
        assert [t.get_text() for t in ax.get_yticklabels()] == ["w0 (50% ran)", "w1 (50% ran)"]
        assert ax.get_title() == "When each worker ran: threads ×2"


def test_activity_lane_shares_are_run_share():
    """The "% ran" of each lane (`analysis.lane_run_share`, fast enough for every redraw) is `run_share`'s."""
    import pandas as pd

    rng = np.random.default_rng(3)
    begin = rng.uniform(0, 1, 60)
    iv = pd.DataFrame({"run_id": "r", "worker": rng.choice(["w0", "w1", "w10"], 60), "task": np.arange(60),
                       "state": rng.choice(["run", "wait"], 60), "begin": begin,
                       "end": begin + rng.uniform(0, 0.1, 60)})
    lanes = ["w0", "w1", "w10", "w2"]  # w2: a lane with no intervals
    lane = iv["worker"].map(lanes.index).to_numpy()
    shares = analysis.lane_run_share(lane, iv["begin"], iv["end"], (iv["state"] == "run").to_numpy(), len(lanes))
    expected = analysis.run_share(iv).set_index("worker")["share"].reindex(lanes).to_numpy()
    np.testing.assert_allclose(shares, expected, equal_nan=True)
    assert np.isnan(shares[3])


def test_plots_never_draw_bar_edges_that_would_hide_thousands_of_bars():
    ax = plots.timeline(make_record("threads", 2, 1.0, tasks=plots.MAX_EDGED_BARS + 2))
    assert ours(ax)[0].get_linewidth() == 0
    ax = plots.timeline(make_record("threads", 2, 1.0, tasks=8))
    assert ours(ax)[0].get_linewidth() > 0


# -- sweeps --------------------------------------------------------------------


def test_speedup_lines_ideal_and_fit():
    recs = amdahl_sweep(s=0.2)
    ax = plots.speedup(recs)
    expected = analysis.speedup(recs)
    expected = expected[expected["backend"] == "processes"]
    bars = next(c for c in ax.containers if c.get_label() == "processes (fork)")  # errorbar: line + caps
    line = bars.lines[0]
    assert list(line.get_xdata()) == [1, 2, 4, 8]
    np.testing.assert_allclose(line.get_ydata(), expected["speedup"])
    (spans,) = bars.lines[2]
    np.testing.assert_allclose([seg[:, 1] for seg in spans.get_segments()],
                               expected[["speedup_min", "speedup_max"]].to_numpy())
    assert list(labelled(ax, "ideal (n×)").get_ydata()) == [1, 8]
    fit = next(ln for ln in ax.get_lines() if "Amdahl s = 0.20" in ln.get_label())
    np.testing.assert_allclose(fit.get_ydata()[-1], analysis.amdahl(8, 0.2), rtol=0.05)
    assert ax.get_title() == "Speedup vs workers (warm: wall)"
    assert [c.get_label() for c in ax.containers] == ["processes (fork)"]  # no curve for the baseline


def test_speedup_cold_and_gustafson_labels():
    recs = amdahl_sweep(s=0.2)
    ax = plots.speedup(recs, cold=True, model="gustafson")
    assert ax.get_title() == "Scaled speedup vs workers (cold: wall + startup)"
    assert any("Gustafson s =" in ln.get_label() for ln in ax.get_lines())
    ax = plots.speedup(recs, fit=False)
    assert not any("Amdahl" in ln.get_label() for ln in ax.get_lines())


def test_efficiency_lines():
    recs = amdahl_sweep(s=0.0, jitter=(1.0,))
    ax = plots.efficiency(recs)
    np.testing.assert_allclose(labelled(ax, "processes (fork)").get_ydata(), [1.0, 1.0, 1.0, 1.0])
    assert ax.get_ylabel() == "efficiency (speedup / workers)"


def _bar_widths(ax, label: str) -> list[float]:
    container = next(c for c in ax.containers if c.get_label() == label)
    return [r.get_width() for r in container]


def test_overhead_stacked_bars_are_the_medians():
    recs = [make_record("threads", 2, 1.0, startup=s) for s in (0.1, 0.3, 0.2)]
    recs += [make_record("processes", 2, 1.0, startup=0.5, start_method="fork")]
    ax = plots.overhead(recs)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["processes (fork) ×2", "threads ×2"]
    assert _bar_widths(ax, "startup") == pytest.approx([0.5, 0.2])
    assert _bar_widths(ax, "compute") == pytest.approx([2.0, 2.0])  # 8 tasks of 0.25 s
    assert len(ax.patches) == 2 * len(analysis.OVERHEAD)
    before = np.sum([_bar_widths(ax, c) for c in ("startup", "queued", "dispatch")], axis=0)
    starts = [r.get_x() for r in next(c for c in ax.containers if c.get_label() == "compute")]
    assert starts == pytest.approx(before)  # stacked after the parts that come first
    assert ax.get_xlabel() == "seconds, summed over tasks (s)"


def test_overhead_without_compute():
    ax = plots.overhead([make_record("threads", 2, 1.0, startup=0.1)], components=("startup", "dispatch"))
    assert [c.get_label() for c in ax.containers] == ["startup", "dispatch"]


def test_memory_bars_in_mib():
    recs = [make_record("processes", 2, 1.0, start_method="fork", rss=(30 * 2**20, 14 * 2**20)),
            make_record("sequential", 1, 1.0, rss=(28 * 2**20, 0))]
    ax = plots.memory(recs)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["sequential ×1", "processes (fork) ×2"]
    assert _bar_widths(ax, "parent") == pytest.approx([28.0, 30.0])
    assert _bar_widths(ax, "workers") == pytest.approx([0.0, 14.0])
    assert ax.get_xlabel() == "peak resident memory (MiB)"


def test_latency_ecdf_and_histogram():
    rec = make_record("processes", 2, 1.0, tasks=4, start_method="fork")
    ax = plots.latency(rec)
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_xdata(), [500, 500, 1000, 1000])
    np.testing.assert_allclose(line.get_ydata(), [0.25, 0.5, 0.75, 1.0])
    ax = plots.latency(rec, kind="hist")
    assert len(ax.patches) == 1  # one step outline per configuration
    with pytest.raises(ValueError, match="kind"):
        plots.latency(rec, kind="violin")


# -- style ---------------------------------------------------------------------


def test_caption_names_the_machine_from_the_data():
    rec = make_record("threads", 2, 1.0)
    ax = plots.timeline(rec)
    text = caption_of(ax)
    assert text == "Linux x86_64, Test CPU · 2 logical cores (2 physical) · CPython 3.11.7 · GIL on"
    ft = dataclasses.replace(rec, gil_enabled=False, cores_usable=1, python_version="3.14.0", run_id="ft")
    assert plots.caption(ft).endswith("1 usable) · CPython 3.14.0 · GIL off (free-threaded)")
    assert plots.caption(records_to_dataframe([rec, ft])).count(" | ") == 1


def test_projector_style_on_any_axes():
    fig, ax = plt.subplots()  # the learner's own axes, default style
    plots.speedup(amdahl_sweep(), ax=ax)
    assert ax.title.get_fontsize() == plots.FONT_SIZE + 2
    assert ax.xaxis.label.get_fontsize() == plots.FONT_SIZE
    assert all(t.get_fontsize() == plots.FONT_SIZE - 1 for t in ax.get_xticklabels())
    colors = {matplotlib.colors.to_hex(ln.get_color()) for ln in ax.get_lines()}
    assert matplotlib.colors.to_hex(plots.BACKEND_COLORS["processes"]) in colors


def test_every_plot_makes_its_own_figure_when_no_axes_is_given():
    recs = amdahl_sweep()
    for plot in (plots.speedup, plots.efficiency, plots.overhead, plots.memory):
        ax = plot(recs)
        assert ax.figure.get_layout_engine() is not None
        ax.figure.canvas.draw()  # renders without error


def test_plots_are_functions_and_constants_only():
    """One of each piece of machinery: no module of plots defines a class; the live engine
    (classes, state kept between frames) is `concurrency_lab.live`, which plots never imports."""
    import ast
    import pathlib

    files = sorted(pathlib.Path(plots.__file__).parent.glob("*.py"))
    assert {f.stem for f in files} >= {"__init__", "_style", "tasks", "curves", "bars"}
    for f in files:
        nodes = list(ast.walk(ast.parse(f.read_text(encoding="utf-8"))))
        assert not [n.name for n in nodes if isinstance(n, ast.ClassDef)], f"{f.name} defines a class"
        imported = [n.module or "" for n in nodes if isinstance(n, ast.ImportFrom)]
        imported += [a.name for n in nodes if isinstance(n, ast.Import | ast.ImportFrom) for a in n.names]
        assert "live" not in {m.rsplit(".", 1)[-1] for m in imported}, f"{f.name} imports live"
    assert not hasattr(plots, "LiveTimeline") and not hasattr(plots, "LaneBars")


def test_timeline_refuses_a_per_run_frame():
    with pytest.raises(ValueError, match="timeline needs the per-task frame"):
        plots.timeline(analysis.runs([make_record("threads", 2, 1.0)]))


# -- live dashboard ------------------------------------------------------------


def _agg_pixels(artist_of) -> np.ndarray:
    """The RGB pixels of one axes holding what `artist_of(ax)` makes, lanes top to bottom."""
    fig = matplotlib.figure.Figure(figsize=(6, 3), dpi=100)
    matplotlib.backends.backend_agg.FigureCanvasAgg(fig)
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.8))
    ax.set_xlim(0, 10.3)
    ax.set_ylim(3.6, -0.6)
    ax.set_axis_off()
    ax.add_artist(artist_of(ax))
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)


def test_lane_bars_draw_what_a_path_of_rectangles_draws():
    import matplotlib.backends.backend_agg  # noqa: F401

    rng = np.random.default_rng(1)
    lane = np.repeat(np.arange(4.0), 500)
    begin = np.concatenate([np.sort(rng.uniform(0, 10, 500)) for _ in range(4)])
    nxt = np.where(np.r_[lane[1:], -1] == lane, np.r_[begin[1:], 10.0], 10.0)
    end = np.minimum(begin + rng.uniform(0.001, 0.02, begin.size), nxt)  # most thinner than a pixel
    path = _agg_pixels(lambda ax: matplotlib.patches.PathPatch(plots.tasks._rect_path(begin, end, lane), linewidth=0,
                                                               facecolor="#0072B2", transform=ax.transData))

    def cover(ax):
        bars = LaneBars("#0072B2")
        bars.set_data(begin, end, lane)
        return bars

    pixels = _agg_pixels(cover)
    assert (path != 255).any() and np.abs(pixels - path).max() <= 3  # antialiased alike, to 3/255
    bars = cover(None)
    assert plots.bar_count(bars) == 2000 and np.array_equal(bars.get_data()[0], begin)
    with pytest.raises(ValueError, match="same length"):
        bars.set_data([0.0], [1.0, 2.0], [0.0])


def test_live_timeline_draws_the_timeline_and_activity_of_a_run():
    rec = _alternating()
    live = LiveTimeline()
    assert live.update(rec, analysis.gil_activity(rec)) is live
    static_t, static_a = plots.timeline(rec), plots.activity(rec)
    np.testing.assert_allclose(rects(live.bars("ok")), rects(ours(static_t)[0]))
    np.testing.assert_allclose(rects(live.bars("wait")), rects(ours(static_a)[0]))
    np.testing.assert_allclose(rects(live.bars("run")), rects(ours(static_a)[1]))
    assert plots.bar_count(live.bars("failed")) == 0 and len(live.failed_end.get_xdata()) == 0
    assert [t.get_text() for t in live.lane_labels] == ["w0 (50% ran)", "w1 (50% ran)"]
    assert [t.get_text() for t in live.timeline_ax.get_yticklabels()] == ["w0", "w1"]
    assert live.timeline_ax.get_title() == static_t.get_title()
    assert live.activity_ax.get_title() == static_a.get_title()
    assert caption_of(live.timeline_ax) == caption_of(static_t)
    assert live.timeline_ax.get_xlim() == live.activity_ax.get_xlim() == pytest.approx((0, 0.05))  # 1.02 x 0.046
    assert live.rgba().shape == (1000, 1000, 4)
    assert live.png().startswith(b"\x89PNG\r\n\x1a\n")
    assert live.relayouts == 1


def test_live_timeline_lays_out_again_only_when_the_background_changes():
    run = make_record("threads", 2, 1.0, tasks=400)
    events = run.events
    live = LiveTimeline(activity=False)
    assert live.activity_ax is None

    def upto(k: int, failed: tuple[int, ...] = ()) -> RunRecord:
        evs = [dataclasses.replace(e, ok=e.index not in failed) for e in events[:k]]
        return dataclasses.replace(run, events=tuple(evs), wall=max(e.end for e in evs))

    live.update(upto(100))  # 50 slots of 1/200 s: the axis ends at 0.5 s
    assert live.relayouts == 1 and live.timeline_ax.get_xlim()[1] == pytest.approx(0.5)
    assert isinstance(live.bars("ok"), matplotlib.patches.PathPatch) and live.bars("ok").get_linewidth() > 0
    live.update(upto(120))
    assert live.relayouts == 1  # same lanes, title and caption; still within the axis
    live.update(upto(300))  # past 0.5 s: the axis grows to 1 s
    assert live.relayouts == 2 and live.timeline_ax.get_xlim()[1] == pytest.approx(1.0)
    assert isinstance(live.bars("ok"), LaneBars) and plots.bar_count(live.bars("ok")) == 300
    live.update(upto(302, failed=(301,)))  # a first failure: the legend gains "failed"
    assert live.relayouts == 3
    assert [t.get_text() for t in live.timeline_ax.get_legend().get_texts()] == ["ok", "failed"]
    assert list(live.failed_end.get_xdata()) == pytest.approx([events[301].end])
    begin, end, lane = live.bars("ok").get_data()
    assert len(begin) == 301 and lane.max() == 1.0


def test_live_timeline_blitted_frame_matches_a_full_render():
    rec = _alternating()
    iv = analysis.gil_activity(rec)
    live = LiveTimeline(dpi=50)
    live.update(rec, iv)
    live.update(rec, iv)  # blitted: the kept background, the data, pasted labels and legends
    blitted = live.rgba().copy()
    full = live.update(rec, iv, blit=False).rgba()
    assert np.abs(blitted.astype(int) - full).max() <= 3


def test_a_backend_switching_interactive_on_during_the_first_figure_is_kept(monkeypatch):
    """Jupyter's inline backend loads with the first figure and turns interactive mode on; our style
    context must not undo that, or no later figure in the notebook would show by itself."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    real = plt.subplots

    def loading_backend(*args, **kwargs):
        mpl.interactive(True)  # what matplotlib_inline's activation does
        return real(*args, **kwargs)

    was = mpl.is_interactive()
    mpl.interactive(False)
    monkeypatch.setattr(plt, "subplots", loading_backend)
    try:
        ax = plots._style._axes(None)
        assert mpl.is_interactive()
        plt.close(ax.figure)
    finally:
        mpl.interactive(was)
