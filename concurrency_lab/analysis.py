"""Pure analysis: records or DataFrames in, DataFrames out. No plotting here.

Two shapes of input are accepted everywhere it makes sense:

- the **per-task frame** of `records_to_dataframe` (one row per task), and
- the **per-run frame** (one row per run): what `runs()` returns, or
  `summaries_to_dataframe` (which lacks `params`, so runs are matched by
  workload name only).

A `RunRecord` or a list of them is turned into the per-task frame first. Every
function says which shape it needs; the ones that need task timings
(`utilisation`, `latency`) refuse a per-run frame with a clear message.

Times are seconds, as in the records. Speedups compare against the sequential
baseline of the same workload and size, normalised per task, so one function
serves both sweep modes: with fixed total work it is the plain ratio of wall
times (Amdahl), and with fixed work per worker it is the scaled speedup
(Gustafson).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

# When each worker ran: its own module (the live timeline needs only that), re-exported here.
from .activity import DEFAULT_WAIT_GAP_S as DEFAULT_WAIT_GAP_S
from .activity import MACHINE as MACHINE
from .activity import RUN_INFO as RUN_INFO
from .activity import gil_activity as gil_activity
from .activity import lane_run_share as lane_run_share
from .activity import run_share as run_share
from .records import RunRecord, records_to_dataframe

#: Columns that name one configuration of a sweep: repeats of it are pooled.
CONFIG: tuple[str, ...] = ("workload", "work", "tasks", "chunksize", "backend", "start_method", "max_workers")
#: A configuration without its worker count: one speedup curve.
CURVE: tuple[str, ...] = ("workload", "work", "backend", "start_method")
#: Parameters that change how much work a run does, not what one task is: dropped from `work`.
_NOT_WORK = ("tasks", "chunksize", "repeat")
#: Components of `RunRecord.overhead()`, in the order they happen to a task.
OVERHEAD: tuple[str, ...] = ("startup", "queued", "dispatch", "compute", "collection")

Data = pd.DataFrame | RunRecord | Iterable[RunRecord]


# -- shapes ------------------------------------------------------------------

def tasks(data: Data) -> pd.DataFrame:
    """The per-task frame: a DataFrame passes through, records are converted."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, RunRecord):
        data = [data]
    return records_to_dataframe(data)


def is_per_task(df: pd.DataFrame) -> bool:
    """True for a per-task frame (it has event columns such as `submit`)."""
    return "submit" in df.columns


def events(data: Data, what: str = "this") -> pd.DataFrame:
    """The per-task frame's rows of real tasks (a run without tasks has a
    placeholder row); a per-run frame is refused, naming `what` needed tasks."""
    df = tasks(data)
    if not is_per_task(df):
        raise ValueError(f"{what} needs the per-task frame (records_to_dataframe), not one row per run")
    return df[df["index"].notna()]


def runs(data: Data) -> pd.DataFrame:
    """One row per run, from either shape: run columns, `tasks`, `failed`,
    `cpu_time`, the overhead components, plus `work` (the params that define
    one task, as JSON) and `chunksize`, which the speedup baseline is matched on."""
    df = tasks(data)
    out = _runs_from_tasks(df) if is_per_task(df) else df.copy()
    return _add_work(out)


def _runs_from_tasks(df: pd.DataFrame) -> pd.DataFrame:
    run_cols = [c for c in df.columns if c not in _EVENT_COLUMNS and c != "run_id"]
    per_run = df.groupby("run_id", sort=False)[run_cols].first()
    ev = df[df["index"].notna()]
    g = ev.groupby("run_id", sort=False)
    per_run["tasks"] = g["index"].count()
    per_run["failed"] = ev["ok"].eq(False).groupby(ev["run_id"], sort=False).sum()  # ok may be object dtype
    per_run["cpu_time"] = g["cpu"].sum()
    per_run = per_run.join(_overhead_from_tasks(ev))
    fill = {"tasks": 0, "failed": 0, "cpu_time": 0.0, **{c: 0.0 for c in OVERHEAD if c != "startup"}}
    return per_run.reset_index().fillna(fill)


_EVENT_COLUMNS = frozenset(("index", "worker", "pid", "thread_id", "submit", "start", "end",
                            "collected", "cpu", "ok", "error"))


def _overhead_from_tasks(ev: pd.DataFrame) -> pd.DataFrame:
    """`RunRecord.overhead()` for every run at once: a task is *queued* while
    its worker is still busy with the previous task, *dispatched* from then on;
    its result is *collected* from when it existed and the parent was free."""
    ev = ev.sort_values(["run_id", "worker", "start"], kind="stable")
    prev_end = ev.groupby(["run_id", "worker"], sort=False)["end"].shift()
    ready = np.maximum(ev["submit"], prev_end.fillna(ev["submit"]))
    by_collection = ev.sort_values(["run_id", "collected"], kind="stable")
    parent_free = by_collection.groupby("run_id", sort=False)["collected"].shift()
    available = np.maximum(by_collection["end"], parent_free.fillna(by_collection["end"]))
    parts = pd.DataFrame({
        "run_id": ev["run_id"], "queued": ready - ev["submit"], "dispatch": ev["start"] - ready,
        "compute": ev["end"] - ev["start"], "collection": (by_collection["collected"] - available).reindex(ev.index),
    })
    return parts.groupby("run_id", sort=False).sum()


def _add_work(df: pd.DataFrame) -> pd.DataFrame:
    params = df["params"] if "params" in df.columns else pd.Series("{}", index=df.index)
    parsed = [json.loads(p) if isinstance(p, str) else dict(p or {}) for p in params]
    df["work"] = [json.dumps({k: v for k, v in p.items() if k not in _NOT_WORK}, sort_keys=True) for p in parsed]
    if "chunksize" not in df.columns:
        df["chunksize"] = [int(p.get("chunksize", 1)) for p in parsed]
    if "tasks" not in df.columns:
        df["tasks"] = [int(p.get("tasks", 0)) for p in parsed]
    return df


# -- speedup, efficiency and the scaling laws --------------------------------

def _times(r: pd.DataFrame, cold: bool) -> pd.Series:
    return r["wall"] + r["startup"] if cold else r["wall"]


def _basis(cold: bool) -> str:
    return "cold: wall + startup" if cold else "warm: wall"


def _per_run_speedups(data: Data, cold: bool) -> pd.DataFrame:
    """Every run with `time` and its `run_speedup` against the median sequential
    time per task of the same workload and size (NaN where there is none)."""
    r = runs(data)
    r["time"] = _times(r, cold)
    seq = r[(r["backend"] == "sequential") & (r["tasks"] > 0)]
    base = (seq["time"] / seq["tasks"]).groupby([seq["workload"], seq["work"]]).median().rename("base_per_task")
    r = r.join(base, on=["workload", "work"])
    r["run_speedup"] = r["base_per_task"] * r["tasks"] / r["time"]
    return r


def speedup(data: Data, *, cold: bool = False) -> pd.DataFrame:
    """Speedup and efficiency per configuration, against the sequential baseline.

    Input: either shape, with the sequential runs included. One row per
    (workload, work, tasks, chunksize, backend, start_method, max_workers):
    `time` is the median over repeats of `wall` (warm) or `wall + startup`
    (cold: what a learner who makes a pool per job pays); `baseline` is the
    median sequential time per task times `tasks`; `speedup = baseline / time`;
    `efficiency = speedup / max_workers`; `speedup_min`/`_max` span the repeats;
    `basis` says which time was used.
    """
    r = _per_run_speedups(data, cold)
    keys = list(CONFIG)
    g = r.groupby(keys, sort=True, dropna=False)
    out = g.agg(time=("time", "median"), base_per_task=("base_per_task", "first"),
                speedup_min=("run_speedup", "min"), speedup_max=("run_speedup", "max"),
                repeats=("run_id", "count")).reset_index()
    out["baseline"] = out.pop("base_per_task") * out["tasks"]
    out["speedup"] = out["baseline"] / out["time"]
    out["efficiency"] = out["speedup"] / out["max_workers"]
    out["basis"] = _basis(cold)
    return out


def scaling(data: Data) -> pd.DataFrame:
    """Each backend's speedup over itself at one worker: median wall at 1 worker / median wall at n.

    Input: either shape; no sequential run needed. A class's machines differ in what one pool costs
    them, so each curve starts from its own pool at one worker, and what is left is how the backend
    scales there. Normalised per task, like `speedup`, so a per-worker sweep reads alike. One row per
    configuration (CONFIG): `time` (median wall), `repeats`, `speedup` (NaN without a 1-worker run).
    """
    r = runs(data)
    r = r[r["backend"] != "sequential"]
    out = r.groupby(list(CONFIG), sort=True, dropna=False).agg(
        time=("wall", "median"), repeats=("run_id", "count")).reset_index()
    keys = [*CURVE, "chunksize"]
    one = out[out["max_workers"] == 1]
    base = (one["time"] / one["tasks"]).groupby([one[k] for k in keys], dropna=False).median()
    out = out.join(base.rename("base_per_task"), on=keys)
    out["speedup"] = out.pop("base_per_task") * out["tasks"] / out["time"]
    return out


def efficiency(data: Data, *, cold: bool = False) -> pd.DataFrame:
    """`speedup()` with the columns an efficiency plot needs: 1.0 is perfect use of every worker."""
    return speedup(data, cold=cold)[[*CONFIG, "efficiency", "speedup", "repeats", "basis"]]


def amdahl(n: Any, s: Any) -> np.ndarray:
    """Amdahl's law: the speedup of fixed work on `n` workers with serial fraction `s`."""
    n, s = np.asarray(n, dtype=float), np.asarray(s, dtype=float)
    return 1.0 / (s + (1.0 - s) / n)


def gustafson(n: Any, s: Any) -> np.ndarray:
    """Gustafson's law: the scaled speedup when work grows with `n` (fixed work per worker)."""
    n, s = np.asarray(n, dtype=float), np.asarray(s, dtype=float)
    return n - s * (n - 1.0)


_MODELS = {"amdahl": amdahl, "gustafson": gustafson}


def fit_serial_fraction(n: Sequence[float], observed: np.ndarray, model: str = "amdahl") -> np.ndarray:
    """Least-squares serial fraction s in [0, 1] for each row of `observed`.

    `observed` is (points,) or (rows, points) speedups at worker counts `n`.
    A grid search (1e-3 steps, then refined to 1e-5) is exact enough, needs no
    SciPy, cannot diverge, and fits hundreds of bootstrap rows in one go.
    Speedups below 1 pin s at 1 (no better than serial); above `n`, at 0.
    """
    f = _MODELS[model]
    n = np.asarray(n, dtype=float)
    obs = np.atleast_2d(np.asarray(observed, dtype=float))
    best = _grid_min(f, n, obs, np.linspace(0.0, 1.0, 1001)[None, :].repeat(len(obs), 0))
    fine = np.clip(best[:, None] + np.linspace(-1e-3, 1e-3, 201)[None, :], 0.0, 1.0)
    return _grid_min(f, n, obs, fine)


def _grid_min(f, n: np.ndarray, obs: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """For each row, the grid value of s with the least squared error."""
    pred = f(n[None, None, :], grid[:, :, None])                 # rows x grid x points
    sse = np.nansum((pred - obs[:, None, :]) ** 2, axis=2)
    return grid[np.arange(len(grid)), sse.argmin(axis=1)]


def fit_amdahl(data: Data, *, cold: bool = False, ci: float = 0.9, n_boot: int = 200,
               seed: int = 0) -> pd.DataFrame:
    """Fit Amdahl's serial fraction to each backend's speedup curve (fixed total work).

    Input: either shape, sequential runs included. One row per curve
    (workload, work, backend, start_method) with at least two worker counts:
    `s` from the median speedups; `s_low`/`s_high`, the `ci` percentile
    interval from `n_boot` bootstrap resamples of the repeats at each worker
    count (the baseline is held fixed), widened if need be to contain `s`;
    `rmse` of the fit; `points`, the worker counts; `repeats`, the fewest
    repeats at any of them. Seeded: the same data give the same interval.
    """
    return _fit(data, "amdahl", cold, ci, n_boot, seed)


def fit_gustafson(data: Data, *, cold: bool = False, ci: float = 0.9, n_boot: int = 200,
                  seed: int = 0) -> pd.DataFrame:
    """`fit_amdahl` for a sweep with fixed work per worker: fits the serial fraction
    of Gustafson's scaled speedup n - s(n - 1). Same input and columns."""
    return _fit(data, "gustafson", cold, ci, n_boot, seed)


def _fit(data: Data, model: str, cold: bool, ci: float, n_boot: int, seed: int) -> pd.DataFrame:
    if not 0 < ci < 1:
        raise ValueError(f"ci: {ci!r} is out of range; allowed: between 0 and 1")
    r = _per_run_speedups(data, cold)
    r = r[(r["backend"] != "sequential") & r["run_speedup"].notna()]
    rng = np.random.default_rng(seed)
    rows = [_fit_curve(key, curve, model, ci, n_boot, rng) for key, curve in r.groupby(list(CURVE), sort=True)]
    columns = [*CURVE, "model", "s", "s_low", "s_high", "rmse", "points", "repeats", "basis"]
    out = pd.DataFrame([row for row in rows if row], columns=columns)
    out["basis"] = _basis(cold)
    return out


def _fit_curve(key: tuple, curve: pd.DataFrame, model: str, ci: float, n_boot: int,
               rng: np.random.Generator) -> dict[str, Any] | None:
    by_n = {n: g["run_speedup"].to_numpy() for n, g in curve.groupby("max_workers", sort=True)}
    if len(by_n) < 2:
        return None  # one worker count cannot say how speedup grows
    n = np.array(list(by_n), dtype=float)
    medians = np.array([np.median(v) for v in by_n.values()])
    s = float(fit_serial_fraction(n, medians, model)[0])
    boot = np.column_stack([np.median(rng.choice(v, size=(n_boot, len(v))), axis=1) for v in by_n.values()])
    s_boot = fit_serial_fraction(n, boot, model)
    low, high = np.percentile(s_boot, [50 * (1 - ci), 50 * (1 + ci)])
    rmse = float(np.sqrt(np.mean((_MODELS[model](n, s) - medians) ** 2)))
    return {**dict(zip(CURVE, key, strict=True)), "model": model, "s": s, "s_low": float(min(low, s)),
            "s_high": float(max(high, s)), "rmse": rmse, "points": len(n),
            "repeats": min(len(v) for v in by_n.values())}


# -- where the time went -----------------------------------------------------

def achieved_parallelism(data: Data) -> pd.DataFrame:
    """Per run: `parallelism` = CPU seconds of all tasks / wall, how many cores
    were really computing on average (threads under the GIL stay near 1), and
    `concurrency` = summed task durations / wall, how many tasks were in flight
    (waiting tasks count here, not above). Input: either shape."""
    r = runs(data)
    out = r[[c for c in RUN_INFO if c in r.columns] + ["wall", "cpu_time", "compute"]].copy()
    out["parallelism"] = out["cpu_time"] / out["wall"]
    out["concurrency"] = out["compute"] / out["wall"]
    return out


def utilisation(data: Data) -> pd.DataFrame:
    """Per run and worker label: `busy` seconds running tasks, `tasks` run,
    and `utilisation` = busy / the run's wall. Input: the per-task frame.

    Only workers that ran a task appear: an idle thread has no label.
    Failed tasks that never started (worker "") are left out.
    """
    ev = events(data, "utilisation")
    ev = ev[ev["worker"] != ""].assign(busy=ev["end"] - ev["start"])
    keys = [*RUN_INFO, "worker"]
    out = ev.groupby(keys, sort=True).agg(busy=("busy", "sum"), tasks=("index", "count"),
                                          wall=("wall", "first")).reset_index()
    out["utilisation"] = out["busy"] / out["wall"]
    return out


def overhead(data: Data) -> pd.DataFrame:
    """Per run, where the time went, with `RunRecord.overhead()`'s meaning:
    startup, queued, dispatch, compute, collection (seconds summed over tasks),
    plus wall. Input: either shape."""
    r = runs(data)
    parts = [c for c in OVERHEAD if c in r.columns]
    return r[[c for c in RUN_INFO if c in r.columns] + parts + ["wall"]].copy()


def latency(data: Data) -> pd.DataFrame:
    """Per task: `latency` = collected - submit (what a caller waits for one
    result), split into `waiting` (submit to start) and `compute`. Input: the
    per-task frame."""
    ev = events(data, "latency")
    out = ev[[*RUN_INFO, "index", "worker", "ok"]].copy()
    out["latency"] = ev["collected"] - ev["submit"]
    out["waiting"] = ev["start"] - ev["submit"]
    out["compute"] = ev["end"] - ev["start"]
    return out


def ecdf(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """The empirical CDF of `values` (e.g. one configuration's `latency()`): the
    values sorted, and the fraction of them at or below each (k / n for the k-th)."""
    x = np.sort(np.asarray(values, dtype=float))
    return x, np.arange(1, len(x) + 1) / len(x)


def memory(data: Data) -> pd.DataFrame:
    """Per run: peak resident memory of the parent and of all workers, in MiB.
    Input: either shape."""
    r = runs(data)
    out = r[[c for c in RUN_INFO if c in r.columns]].copy()
    out["parent_mib"] = r["parent_peak_rss"] / 2**20
    out["workers_mib"] = r["workers_peak_rss"] / 2**20
    out["total_mib"] = out["parent_mib"] + out["workers_mib"]
    return out


def config_medians(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The median over repeats of `columns`, one row per (backend, start_method,
    max_workers), in that order. Input: a per-run table (`overhead()`, `memory()`)."""
    keys = ["backend", "start_method", "max_workers"]
    return table.groupby(keys, sort=True)[list(columns)].median().reset_index()

