"""ConvoyLab: how long a tiny echo waits while CPU-bound work runs beside it, in threads or in processes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter_ns
from typing import Any

from .. import calibration, config
from ..records import RunRecord
from ..servers import EchoServer, probe
from ..timing import switch_interval
from ._base import SLIDER_WORKERS, Explorer, Progress, number, small_or, some_of, whole
from ._panel import Panel, parse_tuple

#: One background CPU task: short, so a thread told to stop finishes its task promptly.
CONVOY_TASK_S = 0.01
#: Background scenarios: none, CPU-bound threads (sharing our GIL), CPU-bound processes (their own).
SCENARIOS = ("idle", "threads", "processes")


@dataclass(frozen=True)
class ConvoySettings:
    switch_interval_ms: float = 5.0
    """`sys.setswitchinterval` during the run, in ms (Python's default is 5 ms); restored afterwards."""
    cpu_workers: int = 2
    probes: int = field(default_factory=lambda: small_or(30, 200))
    scenarios: tuple[str, ...] = SCENARIOS
    start_method: str | None = None

    def __post_init__(self) -> None:
        from ..runners.validate import check_start_method

        number(self.switch_interval_ms, "switch_interval_ms", 0.1, 50.0)
        whole(self.cpu_workers, "cpu_workers", 1, 64)
        whole(self.probes, "probes", 1, 10_000)
        some_of(tuple(self.scenarios), "scenarios", SCENARIOS)
        check_start_method(self.start_method)


class ConvoyPanel(Panel):
    parsers = {"scenarios": parse_tuple}
    note = ("<b>The convoy effect.</b> An echo server in this kernel answers one byte at a time. With CPU-bound "
            "threads it must win the GIL back after every I/O step, waiting up to a switch interval each time; "
            "CPU-bound processes have their own GIL. The switch interval is restored after the run.")

    def make_controls(self, w: Any, s: ConvoySettings) -> dict[str, Any]:
        return {
            "switch_interval_ms": w.FloatSlider(min=0.1, max=50.0, step=0.1, value=s.switch_interval_ms,
                                                description="switch (ms)"),
            "cpu_workers": w.IntSlider(min=1, max=max(SLIDER_WORKERS, s.cpu_workers), value=s.cpu_workers,
                                       description="CPU workers"),
            "probes": w.IntText(value=s.probes, description="probes"),
            "scenarios": w.SelectMultiple(options=SCENARIOS, value=s.scenarios, description="background"),
        }


    def draw(self) -> None:
        from .. import plots

        ax = self.axes[0]
        ax.clear()
        if self.model.records:
            plots.latency(list(self.model.records), ax=ax)



class ConvoyLab(Explorer):
    """How long a tiny echo takes to answer while CPU-bound work runs: threads
    hold our GIL, so each I/O step waits up to a switch interval for it back;
    processes have their own GIL, and only compete for cores."""

    Settings = ConvoySettings
    Panel = ConvoyPanel

    def _measure(self, s: ConvoySettings, stop: threading.Event, progress: Progress) -> None:

        size = calibration.calibrate("cpu", CONVOY_TASK_S)
        total = s.probes * len(s.scenarios)
        progress(0, total)
        with switch_interval(s.switch_interval_ms / 1e3), EchoServer() as server:
            for k, scenario in enumerate(s.scenarios):
                def on_probe(done: int, k: int = k) -> None:
                    progress(k * s.probes + done, total)

                rec = _convoy_scenario(scenario, s, size, server.address, stop, on_probe)
                if stop.is_set():
                    return
                self.records.append(rec)

    def table(self) -> Any:
        from .. import analysis

        if not self.records:
            return None
        lat = analysis.latency(list(self.records))
        ms = lat.assign(latency_ms=lat["latency"] * 1e3).groupby("backend", sort=False)["latency_ms"]
        out = ms.describe(percentiles=[0.5, 0.9])[["count", "50%", "90%", "max"]].reset_index()
        return out.rename(columns={"backend": "background", "50%": "median_ms", "90%": "p90_ms", "max": "max_ms"})


def _convoy_scenario(scenario: str, s: ConvoySettings, size: int, address: tuple[str, int],
                     stop: threading.Event, on_probe: Callable[[int], Any]) -> RunRecord:
    """Probe while `scenario`'s background CPU work runs; the background ends with the probes."""
    from .. import workloads
    from ..runners import make_runner

    method = s.start_method if scenario == "processes" else None
    runner = None if scenario == "idle" else make_runner(scenario, s.cpu_workers, start_method=method)
    background_stop = threading.Event()
    busy = threading.Event()
    thread = None
    if runner is not None:
        runner.start()
        items = [size] * (s.cpu_workers * 2_000)  # far more than the probes last; stopped when they end
        thread = threading.Thread(target=runner.run, args=(workloads.cpu, items),
                                  kwargs={"stop": background_stop, "on_event": lambda ev: busy.set()}, daemon=True)
        thread.start()
        deadline = perf_counter_ns() + 5 * 10**9
        while not (busy.wait(config.POLL_INTERVAL_S) or stop.is_set() or perf_counter_ns() > deadline):
            pass  # until a first task is done: the workers are computing
    try:
        events = probe(address, s.probes, stop, on_probe)
    finally:
        background_stop.set()
        if thread is not None:
            thread.join(5.0)
        if runner is not None:
            runner.shutdown(kill=True)
    n = 0 if runner is None else s.cpu_workers
    wall = max((e.collected for e in events), default=0.0)
    return RunRecord(backend=scenario, max_workers=n, start_method=runner.start_method if runner else "",
                     workload="echo_probe", params={"switch_interval_ms": s.switch_interval_ms,
                                                    "background": scenario, "cpu_workers": n},
                     wall=wall, startup=0.0, parent_peak_rss=0, workers_peak_rss=0, events=tuple(events))
