"""The explorers, driven as a learner drives them: set the controls, press Run, wait (bounded), press Stop.

No browser: ipywidgets objects work without a front end, and the figures are
Agg figures whose artists we count. Waits are on events and joins, never sleeps.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import matplotlib

matplotlib.use("Agg")

import psutil  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import PathPatch, Rectangle  # noqa: E402
from support import _is_helper  # noqa: E402

from concurrency_lab import config, info, plots, widgets  # noqa: E402
from concurrency_lab.explorers._panel import LARGE  # noqa: E402

FORK = "processes:fork" if "fork" in config.available_start_methods() else f"processes:{config.default_start_method()}"
#: A generous bound for a whole small run on a loaded 2-core CI machine.
RUN_TIMEOUT_S = 60.0
#: Stop is promised within 2 s (runners poll every 50 ms; shutdown grace 1 s). Tests allow 5 s: a
#: loaded CI machine must not fail a working Stop, and a Stop that hangs still fails.
STOP_LIMIT_S = 5.0


def workers_left() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if not _is_helper(p)]


def set_controls(panel: widgets.Panel, **values) -> None:
    for name, value in values.items():
        panel.controls[name].value = value


def run_panel(panel: widgets.Panel, **values) -> None:
    """Set the controls, press Run, and wait for the painter's last redraw."""
    set_controls(panel, **values)
    assert panel.on_run(), panel.status.value
    assert panel.done.wait(RUN_TIMEOUT_S), "the run did not finish"
    assert panel.error is None, panel.status.value
    assert panel.progress.value == panel.progress.max
    assert bytes(panel.image.value).startswith(b"\x89PNG" if panel.image.format == "png" else b"<?xml")


def reached(widget, at_least: int) -> threading.Event:
    """An event set once the progress bar reaches `at_least`."""
    event = threading.Event()
    widget.observe(lambda change: change["new"] >= at_least and event.set(), "value")
    return event


def stop_and_time(panel: widgets.Panel) -> float:
    t0 = time.monotonic()
    panel.on_stop()
    assert panel.model.wait(2.0), "the run did not stop within 2 s"
    took = time.monotonic() - t0
    assert panel.done.wait(RUN_TIMEOUT_S)
    return took


def ours(ax) -> list[PathPatch]:
    return [p for p in ax.patches if isinstance(p, PathPatch) and p.get_gid() == plots.GID]


# -- the package stays light --------------------------------------------------------

def test_importing_widgets_imports_neither_ipywidgets_nor_matplotlib():
    code = ("import sys, concurrency_lab, concurrency_lab.widgets as w; w.ScalingExplorer(); "
            "assert not {'ipywidgets', 'matplotlib'} & set(sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# -- ScalingExplorer ---------------------------------------------------------------

def test_scaling_panel_updates_plot_and_table():
    panel = widgets.ScalingExplorer().panel
    run_panel(panel, backends=("threads", FORK), workload="cpu", workers=(1, 2), size="20000", tasks=4,
              mode="fixed", repeats=1)
    records = panel.model.records
    assert [(r.backend, r.max_workers) for r in records] == [
        ("sequential", 1), ("threads", 1), ("threads", 2), ("processes", 1), ("processes", 2)]
    assert all(r.ok and r.params["size"] == 20000 for r in records)
    ax = panel.axes[0]
    curves = [line for line in ax.lines if list(line.get_xdata()) == [1, 2] and line.get_marker() != "None"]
    assert len(curves) >= 2, [line.get_label() for line in ax.lines]  # one per backend (plus the ideal line)
    assert panel.table.value.count("<tr") == 1 + 5  # header + one row per configuration
    assert "done: 5 run(s)" in panel.status.value
    assert panel.run_button.disabled is False and panel.stop_button.disabled is True


def test_scaling_blocking_run_per_worker_mode():
    explorer = widgets.ScalingExplorer(backends=("threads",), workers=(1, 2), size=10_000, tasks=2,
                                       mode="per_worker", repeats=1)
    seen = []
    records = explorer.run(progress=lambda done, total: seen.append((done, total)))
    assert [r.params["tasks"] for r in records] == [2, 2, 4]  # tasks grow with workers
    assert seen[-1] == (3, 3)


def test_scaling_stop_mid_run_leaves_no_worker():
    panel = widgets.ScalingExplorer().panel
    set_controls(panel, backends=(FORK,), workload="io_sleep", workers=(2, 2), size="0.1", tasks=6, repeats=1)
    baseline_done = reached(panel.progress, 1)
    assert panel.on_run()
    assert baseline_done.wait(RUN_TIMEOUT_S)  # the sequential baseline is in; the process pool is next
    took = stop_and_time(panel)
    assert took < STOP_LIMIT_S
    assert [r.backend for r in panel.model.records] == ["sequential"]  # the cut-short point is left out
    assert "stopped" in panel.status.value
    assert workers_left() == []


# -- refusing bad values -------------------------------------------------------------

@pytest.mark.parametrize("explorer, control, value, words", [
    (widgets.ScalingExplorer, "tasks", 0, "tasks: 0 is out of range; allowed: 1 to"),
    (widgets.ScalingExplorer, "size", "lots", "size: 'lots' is not a number"),
    (widgets.ScalingExplorer, "repeats", 1000, "repeats: 1000 is out of range; allowed: 1 to 20"),
    (widgets.TimelineExplorer, "tasks", -1, "tasks: -1 is out of range"),
    (widgets.GranularityExplorer, "chunksizes", "0, 4", "chunksizes: 0 is out of range"),
    (widgets.GranularityExplorer, "sizes", "1, x", "sizes: '1, x' is not a comma-separated list"),
    (widgets.StartMethodExplorer, "repeats", 0, "repeats: 0 is out of range"),
    (widgets.MemoryExplorer, "workers", "0, 2", "workers: 0 is out of range"),
    (widgets.ConvoyLab, "probes", 0, "probes: 0 is out of range; allowed: 1 to 10000"),
])
def test_out_of_range_values_are_refused_with_the_field_named(explorer, control, value, words):
    panel = explorer().panel
    panel.controls[control].value = value
    assert panel.on_run() is False
    assert words.replace("'", "&#x27;") in panel.status.value
    assert isinstance(panel.error, ValueError) and words in str(panel.error)
    assert not panel.model.running and panel.done.is_set()


@pytest.mark.parametrize("make, words", [
    (lambda: widgets.ScalingSettings(workers=(3, 1)), "workers: (3, 1) is not a range"),
    (lambda: widgets.ScalingSettings(backends=("cobol",)), "backends: unknown 'cobol'"),
    (lambda: widgets.ScalingSettings(mode="both"), "mode: unknown 'both'"),
    (lambda: widgets.TimelineSettings(backend="sequential", workers=2), "workers: 2 is out of range; allowed: 1 to 1"),
    (lambda: widgets.GranularitySettings(tasks=10, chunksizes=(20,)), "chunksizes: 20 is out of range; allowed: 1 to 10"),
    (lambda: widgets.StartMethodSettings(methods=("vfork",)), "methods: unknown 'vfork'"),
    (lambda: widgets.ConvoySettings(switch_interval_ms=0.0), "switch_interval_ms: 0.0 is out of range"),
    (lambda: widgets.ConvoySettings(scenarios=()), "scenarios: choose at least one of"),
])
def test_settings_refuse_bad_values(make, words):
    with pytest.raises(ValueError, match="^" + words.replace("(", r"\(").replace(")", r"\)")):
        make()


def test_a_second_run_is_refused_while_one_goes_on():
    panel = widgets.TimelineExplorer().panel
    set_controls(panel, backend="threads", workload="io_sleep", size="0.05", tasks=40, workers=2)
    assert panel.on_run()
    assert panel.on_run() is False and "already going on" in panel.status.value
    with pytest.raises(RuntimeError, match="stop"):
        panel.model.configure(tasks=3)
    stop_and_time(panel)


# -- TimelineExplorer ----------------------------------------------------------------

def test_timeline_panel_draws_every_task_and_the_activity_lanes():
    panel = widgets.TimelineExplorer().panel
    run_panel(panel, backend="threads", workers=2, workload="cpu_traced", size="20000", tasks=6)
    (rec,) = panel.model.records
    assert rec.ok and len(panel.model.events) == 6
    assert sum(plots.bar_count(p) for p in ours(panel.axes[0])) == 6
    assert sum(plots.bar_count(p) for p in ours(panel.axes[1])) > 0  # run / wait lanes
    assert "share" in panel.table.value


def test_large_text_draws_the_results_again_with_every_font_larger_against_the_plot():
    """For a projector (issue 20): the figure is drawn 1.3 times narrower in inches and fills the same width,
    so every point of text takes 1.3 times more of the plot; off again gives the normal size back."""
    panel = widgets.ScalingExplorer().panel
    run_panel(panel, backends=("threads",), workload="cpu", workers=(1, 2), size="20000", tasks=4, repeats=1)
    normal, picture = panel.figure.get_size_inches(), bytes(panel.image.value)
    panel.large.value = True
    assert panel.figure.get_size_inches()[0] * LARGE == pytest.approx(normal[0])
    assert panel.figure.get_size_inches()[1] == pytest.approx(normal[1])  # the same height for title and legend
    assert bytes(panel.image.value) != picture and bytes(panel.image.value).startswith(b"<?xml")  # redrawn
    panel.large.value = False
    assert list(panel.figure.get_size_inches()) == pytest.approx(list(normal))


def test_large_text_in_the_painted_timeline_keeps_its_pixels():
    panel = widgets.TimelineExplorer().panel
    run_panel(panel, backend="threads", workers=2, workload="cpu", size="20000", tasks=4)
    normal = panel.live.figure.get_size_inches()
    pixels = normal * panel.live.figure.dpi
    panel.large.value = True
    assert list(panel.live.figure.get_size_inches() * LARGE) == pytest.approx(list(normal))
    assert list(panel.live.figure.get_size_inches() * panel.live.figure.dpi) == pytest.approx(list(pixels))
    assert bytes(panel.image.value).startswith(b"\x89PNG")


def test_timeline_stop_kills_process_workers_promptly():
    panel = widgets.TimelineExplorer().panel
    set_controls(panel, backend=FORK, workers=2, workload="io_sleep", size="0.2", tasks=40)
    first_task = reached(panel.progress, 1)
    assert panel.on_run()
    assert first_task.wait(RUN_TIMEOUT_S)
    assert len(workers_left()) >= 2  # really mid-run, workers alive
    assert stop_and_time(panel) < STOP_LIMIT_S
    assert workers_left() == []
    (rec,) = panel.model.records
    assert any(e.error.startswith("cancelled") for e in rec.failures)
    assert sum(plots.bar_count(p) for p in ours(panel.axes[0])) == 40  # cancelled tasks are drawn as failed


# -- GranularityExplorer -------------------------------------------------------------

def test_granularity_shows_the_classic_map_losing_to_a_loop():
    panel = widgets.GranularityExplorer(widgets.GranularitySettings.classic_map()).panel
    run_panel(panel, backend=FORK, workers=2, workload="tiny", sizes="3", chunksizes="1, 50", tasks=200)
    table = panel.model.table()
    assert list(table["backend"]) == ["sequential", "processes", "processes"]
    one_by_one = table[(table["backend"] == "processes") & (table["chunksize"] == 1)].iloc[0]
    assert one_by_one["speedup"] < 1 and not one_by_one["pays_off"]  # x * x is cheaper than the trip
    labels = [line.get_label() for line in panel.axes[0].lines]
    assert labels[0] == "a plain loop" and sorted(labels[1:]) == [f"processes ({FORK.split(':')[1]}), chunks of 1",
                                                                  f"processes ({FORK.split(':')[1]}), chunks of 50"]
    assert "pays_off" in panel.table.value


# -- StartMethodExplorer -------------------------------------------------------------

def test_start_methods_startup_and_the_notebook_function():
    methods = config.available_start_methods()
    panel = widgets.StartMethodExplorer().panel
    run_panel(panel, methods=methods, workers=1, repeats=1, notebook_function=True)
    model = panel.model
    assert [r.start_method for r in model.records] == list(methods)
    assert all(r.ok and r.startup > 0 and r.results == (0,) for r in model.records)  # ours runs __main__.square
    assert len([p for p in panel.axes[0].patches if isinstance(p, Rectangle)]) == len(methods)
    raw = {o.start_method: o for o in model.outcomes}
    for method in set(methods) - {"fork"}:
        assert not raw[method].ok and "Can't get attribute 'square'" in raw[method].message
        assert "BrokenProcessPool" in raw[method].explanation and "cloudpickle" in raw[method].explanation
    if "fork" in raw:
        assert raw["fork"].ok and raw["fork"].message == "square(7) = 49"
    assert "get attribute" in panel.table.value or methods == ("fork",)


def test_stdlib_demo_is_bounded():
    outcome = widgets.stdlib_notebook_function(config.default_start_method(), timeout=0.01)
    assert not outcome.ok and "no answer within" in outcome.message


# -- MemoryExplorer ----------------------------------------------------------------

def test_memory_of_threads_vs_processes_is_measured():
    panel = widgets.MemoryExplorer().panel
    run_panel(panel, backends=("threads", FORK), workers="1, 2")
    table = panel.model.table()
    assert list(zip(table["backend"], table["workers"], strict=True)) == [
        ("threads", 1), ("threads", 2), ("processes", 1), ("processes", 2)]
    threads, procs = table[table["backend"] == "threads"], table[table["backend"] == "processes"]
    assert (threads["workers_uss_mib"] == 0).all()
    assert (procs["workers_uss_mib"] > 1).all()  # a whole interpreter each
    assert len([p for p in panel.axes[0].patches if isinstance(p, Rectangle)]) == 4 * 2  # parent + workers


# -- ConvoyLab ---------------------------------------------------------------------

def test_convoy_lab_measures_latency_and_restores_the_switch_interval():
    before = sys.getswitchinterval()
    panel = widgets.ConvoyLab().panel
    run_panel(panel, switch_interval_ms=5.0, cpu_workers=2, probes=15, scenarios=("idle", "threads", "processes"))
    assert sys.getswitchinterval() == before
    records = {r.backend: r for r in panel.model.records}
    assert set(records) == {"idle", "threads", "processes"}
    assert all(len(r.events) == 15 for r in records.values())
    table = panel.model.table().set_index("background")
    if info.gil_enabled():  # without the GIL (the 3.13t lane) there is no convoy to see
        assert table.loc["threads", "median_ms"] > table.loc["idle", "median_ms"]  # the convoy
    assert len(panel.axes[0].lines) == 3  # one ECDF per background
    assert workers_left() == []


def test_convoy_lab_stop_mid_run():
    before = sys.getswitchinterval()
    panel = widgets.ConvoyLab().panel
    set_controls(panel, switch_interval_ms=1.0, cpu_workers=2, probes=5000, scenarios=("processes",))
    probing = reached(panel.progress, 5)
    assert panel.on_run()
    assert probing.wait(RUN_TIMEOUT_S)
    assert stop_and_time(panel) < STOP_LIMIT_S
    assert sys.getswitchinterval() == before
    assert panel.model.records == [] and workers_left() == []
