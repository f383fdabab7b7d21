"""Analysis on hand-built records with known answers, plus one real GIL measurement."""

from __future__ import annotations

import math
import sys

import numpy as np
import pandas as pd
import pytest

from concurrency_lab import analysis, workloads
from concurrency_lab.records import RunRecord, TaskEvent, records_to_dataframe, summaries_to_dataframe
from concurrency_lab.runners import ProcessRunner, ThreadRunner

MACHINE = {"python_version": "3.11.7", "implementation": "CPython", "gil_enabled": True,
           "cores_logical": 2, "cores_physical": 2, "cores_usable": 2, "machine": "Linux x86_64, Test CPU",
           "recorded_at": "2026-01-01T00:00:00+00:00"}
_ids = iter(range(10**6))


def make_record(backend: str, max_workers: int, wall: float, *, tasks: int = 8, start_method: str = "",
                startup: float = 0.0, size: int = 1000, repeat: int = 0, cpu_share: float = 1.0,
                failed: tuple[int, ...] = (), results: tuple = (), rss: tuple[int, int] = (0, 0)) -> RunRecord:
    """A run whose tasks split `wall` evenly over `max_workers` lanes, back to back."""
    per_lane = math.ceil(tasks / max_workers)
    d = wall / per_lane
    events = []
    for i in range(tasks):
        lane, slot = i % max_workers, i // max_workers
        start = slot * d
        events.append(TaskEvent(i, f"w{lane}", 1000 + lane, lane, 0.0, start, start + d, start + d,
                                 d * cpu_share, i not in failed, "boom" if i in failed else ""))
    return RunRecord(backend=backend, max_workers=max_workers, start_method=start_method, workload="cpu",
                     params={"size": size, "tasks": tasks, "chunksize": 1, "repeat": repeat}, wall=wall,
                     startup=startup, parent_peak_rss=rss[0], workers_peak_rss=rss[1], events=tuple(events),
                     run_id=f"r{next(_ids)}", results=results, **MACHINE)


def amdahl_sweep(s: float = 0.2, workers=(1, 2, 4, 8), jitter=(1.03, 0.97, 1.0), backend: str = "processes",
                 start_method: str = "fork") -> list[RunRecord]:
    """Sequential time 8 s; each repeat's wall off the law by a known factor."""
    recs = [make_record("sequential", 1, 8.0 * j, repeat=r) for r, j in enumerate(jitter)]
    for r, j in enumerate(jitter):
        for n in workers:
            wall = 8.0 * (s + (1 - s) / n) * j
            recs.append(make_record(backend, n, wall, start_method=start_method, repeat=r, startup=0.05 * n))
    return recs


# -- speedup ---------------------------------------------------------------


def test_speedup_matches_hand_computation():
    recs = [make_record("sequential", 1, 8.0), make_record("sequential", 1, 10.0), make_record("sequential", 1, 9.0)]
    recs += [make_record("threads", 2, w, startup=1.0) for w in (4.0, 5.0, 6.0)]
    sp = analysis.speedup(recs).set_index("backend")
    assert sp.loc["sequential", "speedup"] == pytest.approx(1.0)
    row = sp.loc["threads"]
    assert row["time"] == pytest.approx(5.0) and row["baseline"] == pytest.approx(9.0)
    assert row["speedup"] == pytest.approx(9.0 / 5.0)
    assert row["efficiency"] == pytest.approx(0.9)
    assert (row["speedup_min"], row["speedup_max"]) == pytest.approx((1.5, 2.25))
    assert row["repeats"] == 3 and row["basis"] == "warm: wall"
    cold = analysis.speedup(recs, cold=True).set_index("backend").loc["threads"]
    assert cold["speedup"] == pytest.approx(9.0 / 6.0) and cold["basis"] == "cold: wall + startup"


def test_speedup_from_per_task_per_run_and_summary_frames_agree():
    recs = amdahl_sweep()
    a = analysis.speedup(recs)
    b = analysis.speedup(analysis.runs(records_to_dataframe(recs)))
    c = analysis.speedup(summaries_to_dataframe(recs))  # no params: matched by workload name only
    np.testing.assert_allclose(a["speedup"], b["speedup"])
    np.testing.assert_allclose(a["speedup"], c["speedup"])


def test_speedup_needs_a_matching_baseline():
    recs = [make_record("sequential", 1, 8.0, size=1), make_record("threads", 2, 4.0, size=2)]
    sp = analysis.speedup(recs).set_index("backend")
    assert sp.loc["sequential", "speedup"] == pytest.approx(1.0)
    assert np.isnan(sp.loc["threads", "speedup"])  # another size: no baseline, no made-up number


def test_scaled_speedup_uses_the_baseline_per_task():
    recs = [make_record("sequential", 1, 4.0, tasks=4), make_record("processes", 2, 4.4, tasks=8)]
    sp = analysis.speedup(recs).set_index("backend")
    assert sp.loc["processes", "baseline"] == pytest.approx(8.0)
    assert sp.loc["processes", "speedup"] == pytest.approx(8.0 / 4.4)


def test_efficiency_is_speedup_per_worker():
    eff = analysis.efficiency(amdahl_sweep(s=0.0, jitter=(1.0,)))
    par = eff[eff["backend"] == "processes"]
    np.testing.assert_allclose(par["efficiency"], 1.0)


# -- Amdahl and Gustafson ------------------------------------------------------


def test_models():
    assert analysis.amdahl(4, 0.2) == pytest.approx(1 / (0.2 + 0.8 / 4))
    assert analysis.gustafson(4, 0.2) == pytest.approx(4 - 0.2 * 3)
    np.testing.assert_allclose(analysis.amdahl([1, 2], 0.0), [1, 2])


def test_fit_serial_fraction_is_exact_on_exact_data():
    n = np.array([1, 2, 4, 8, 16])
    assert analysis.fit_serial_fraction(n, analysis.amdahl(n, 0.137))[0] == pytest.approx(0.137, abs=1e-4)
    assert analysis.fit_serial_fraction(n, analysis.gustafson(n, 0.3), "gustafson")[0] == pytest.approx(0.3, abs=1e-4)
    assert analysis.fit_serial_fraction(n, np.full(5, 0.9))[0] == 1.0  # slower than serial: pinned at 1


def test_fit_amdahl_recovers_a_known_serial_fraction():
    fit = analysis.fit_amdahl(amdahl_sweep(s=0.2))
    assert list(fit["backend"]) == ["processes"]  # sequential alone has no curve to fit
    row = fit.iloc[0]
    assert row["s"] == pytest.approx(0.2, abs=0.05)
    assert row["s_low"] <= row["s"] <= row["s_high"]
    assert row["s_low"] < row["s_high"]  # the repeats disagree, so the interval has width
    assert row["s_low"] == pytest.approx(0.2, abs=0.05) and row["s_high"] == pytest.approx(0.2, abs=0.05)
    assert (row["points"], row["repeats"], row["model"]) == (4, 3, "amdahl")
    again = analysis.fit_amdahl(amdahl_sweep(s=0.2))
    assert (again["s_low"].iloc[0], again["s_high"].iloc[0]) == (row["s_low"], row["s_high"])  # seeded


def test_fit_amdahl_one_curve_per_backend():
    recs = amdahl_sweep(s=0.2) + [r for r in amdahl_sweep(s=0.9, backend="threads", start_method="")
                                  if r.backend == "threads"]
    fit = analysis.fit_amdahl(recs).set_index("backend")
    assert fit.loc["processes", "s"] == pytest.approx(0.2, abs=0.05)
    assert fit.loc["threads", "s"] == pytest.approx(0.9, abs=0.05)


def test_fit_gustafson_recovers_a_known_serial_fraction():
    recs = [make_record("sequential", 1, 4.0, tasks=4)]
    for n in (1, 2, 4, 8):
        scaled = analysis.gustafson(n, 0.1)
        recs.append(make_record("processes", n, 4.0 * n / scaled, tasks=4 * n, start_method="fork"))
    fit = analysis.fit_gustafson(recs).iloc[0]
    assert fit["s"] == pytest.approx(0.1, abs=1e-3) and fit["model"] == "gustafson"


# -- where the time went -------------------------------------------------------


def test_achieved_parallelism():
    rec = make_record("processes", 2, 1.0, tasks=4, cpu_share=0.9)  # 4 tasks of 0.5 s, 90% on CPU
    par = analysis.achieved_parallelism(rec).iloc[0]
    assert par["parallelism"] == pytest.approx(4 * 0.45 / 1.0)
    assert par["concurrency"] == pytest.approx(2.0)


def _event(i, worker, submit, start, end, collected, ok=True):
    return TaskEvent(i, worker, 1, 1, submit, start, end, collected, end - start, ok, "" if ok else "x")


def test_utilisation_per_worker():
    events = (_event(0, "w0", 0.0, 0.0, 0.4, 0.4), _event(1, "w1", 0.0, 0.1, 0.4, 0.4),
              _event(2, "w0", 0.0, 0.4, 0.6, 0.6), _event(3, "", 0.0, 1.0, 1.0, 1.0, ok=False))
    rec = RunRecord("threads", 2, "", "cpu", {}, 1.0, 0.0, 0, 0, events, run_id="u", **MACHINE)
    util = analysis.utilisation(rec).set_index("worker")
    assert list(util.index) == ["w0", "w1"]
    assert util.loc["w0", "utilisation"] == pytest.approx(0.6) and util.loc["w0", "tasks"] == 2
    assert util.loc["w1", "utilisation"] == pytest.approx(0.3)
    with pytest.raises(ValueError, match="per-task"):
        analysis.utilisation(summaries_to_dataframe([rec]))


def test_overhead_matches_the_record():
    events = (_event(0, "w0", 0.00, 0.01, 0.30, 0.31), _event(1, "w1", 0.00, 0.02, 0.20, 0.22),
              _event(2, "w0", 0.00, 0.32, 0.50, 0.52), _event(3, "w1", 0.01, 0.25, 0.40, 0.45))
    rec = RunRecord("processes", 2, "fork", "cpu", {}, 0.6, 0.05, 0, 0, events, run_id="o", **MACHINE)
    row = analysis.overhead(rec).iloc[0]
    for key, value in rec.overhead().items():
        assert row[key] == pytest.approx(value), key
    assert row["wall"] == 0.6


def test_runs_keeps_a_run_without_tasks():
    empty = RunRecord("threads", 2, "", "cpu", {"tasks": 0}, 0.0, 0.0, 0, 0, (), run_id="e", **MACHINE)
    r = analysis.runs([empty, make_record("threads", 2, 1.0, failed=(3,))]).set_index("run_id")
    assert r.loc["e", "tasks"] == 0 and r.loc["e", "compute"] == 0.0
    assert r.drop(index="e")["failed"].tolist() == [1]


def test_latency_and_memory():
    rec = make_record("processes", 2, 1.0, tasks=4, rss=(30 * 2**20, 10 * 2**20))
    lat = analysis.latency(rec)
    np.testing.assert_allclose(lat["latency"], [0.5, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(lat["waiting"], [0.0, 0.0, 0.5, 0.5])
    mem = analysis.memory(rec).iloc[0]
    assert (mem["parent_mib"], mem["workers_mib"], mem["total_mib"]) == (30.0, 10.0, 40.0)


# -- GIL activity --------------------------------------------------------------

MS = 1_000_000  # ns


def test_gil_activity_finds_the_known_gaps():
    ev = _event(0, "w0", 0.0, 1.0, 1.008, 1.009)
    samples = [0, MS // 2, 1 * MS, 6 * MS, 6 * MS + MS // 2, 7 * MS, 8 * MS]
    iv = analysis.gil_activity([(ev, samples)])
    assert iv["state"].tolist() == ["run", "wait", "run"]
    np.testing.assert_allclose(iv["begin"], [1.0, 1.001, 1.006])
    np.testing.assert_allclose(iv["end"], [1.001, 1.006, 1.008])
    share = analysis.run_share(iv).iloc[0]
    assert share["run"] == pytest.approx(0.003) and share["wait"] == pytest.approx(0.005)
    assert share["share"] == pytest.approx(3 / 8)
    loose = analysis.gil_activity([(ev, samples)], wait_gap=0.006)  # the 5 ms gap is under the threshold now
    assert loose["state"].tolist() == ["run"]


def test_gil_activity_from_a_record_two_alternating_threads():
    # Two threads, each running 5 ms and then waiting 5 ms for the other, for 40 ms.
    def samples(offset_ms: int) -> list[int]:
        out = [0]
        for k in range(4):
            out += [int((offset_ms + 10 * k + t) * MS) - offset_ms * MS for t in (0.5, 1, 2, 3, 4, 5)]
            out += [int((offset_ms + 10 * k + 10) * MS) - offset_ms * MS]
        return out

    events = (_event(0, "w0", 0.0, 0.0, 0.040, 0.040), _event(1, "w1", 0.0, 0.005, 0.045, 0.045))
    rec = RunRecord("threads", 2, "", "cpu_traced", {}, 0.045, 0.0, 0, 0, events, run_id="g",
                    results=(samples(0), samples(5)), **MACHINE)
    iv = analysis.gil_activity(rec)
    assert set(iv["backend"]) == {"threads"} and set(iv["run_id"]) == {"g"}
    share = analysis.run_share(iv).set_index("worker")["share"]
    assert share["w0"] == pytest.approx(0.5) and share["w1"] == pytest.approx(0.5)
    lanes = iv[iv["worker"] == "w0"]
    assert lanes["state"].tolist() == ["run", "wait"] * 4


def test_gil_activity_needs_the_samples():
    rec = make_record("threads", 2, 1.0)
    with pytest.raises(ValueError, match="no results"):
        analysis.gil_activity(rec)
    assert analysis.gil_activity([]).empty


def test_cpu_traced_samples_its_progress():
    samples = workloads.cpu_traced(200_000)
    assert samples[0] == 0 and samples == sorted(samples) and len(samples) >= 2
    assert workloads.cpu_traced(0)[0] == 0 and len(workloads.cpu_traced(10)) == 2  # a start and an end


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_threads_share_the_gil_processes_do_not():
    """The real thing: two cpu_traced tasks on 2 threads, then on 2 processes.

    Only invariants that hold however fast or busy the machine is (it is
    shared, so two processes may not get two cores): the time the samples say
    a task ran is its thread CPU time; threads under a GIL never run more
    than one at a time; and processes that did get two cores each ran more.
    """
    items = [600_000, 600_000]
    method = "fork" if sys.platform.startswith("linux") else None  # fork leaves no helper process behind
    with ThreadRunner(2) as runner:
        threads = runner.run(workloads.cpu_traced, items, workload="cpu_traced")
    with ProcessRunner(2, start_method=method) as runner:
        procs = runner.run(workloads.cpu_traced, items, workload="cpu_traced")
    for rec in (threads, procs):
        iv = analysis.gil_activity(rec)
        ran = iv[iv["state"] == "run"].assign(d=iv["end"] - iv["begin"]).groupby("task")["d"].sum()
        for ev in rec.events:
            assert ran[ev.index] == pytest.approx(ev.cpu, abs=0.1 * (ev.end - ev.start) + 0.02), (rec.backend, ev)
    t_share = analysis.run_share(analysis.gil_activity(threads))
    p_share = analysis.run_share(analysis.gil_activity(procs))
    assert ((p_share["share"] > 0) & (p_share["share"] <= 1)).all()
    if threads.gil_enabled:
        assert t_share["share"].sum() <= 1.2, t_share
        if procs.parallelism > 1.5:  # the two processes really had two cores
            assert p_share["share"].mean() > t_share["share"].mean(), (t_share, p_share)


def test_run_share_handles_a_worker_that_never_waited():
    iv = pd.DataFrame({"run_id": "x", "worker": ["w0"], "task": [0], "state": ["run"], "begin": [0.0], "end": [1.0]})
    row = analysis.run_share(iv).iloc[0]
    assert (row["run"], row["wait"], row["share"]) == (1.0, 0.0, 1.0)
