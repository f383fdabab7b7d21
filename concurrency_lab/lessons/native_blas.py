"""Lesson 04, sections 4 and 5 (optional): BLAS oversubscription (numpy's own threads times Python
threads), and how to pin BLAS: environment variables before `import numpy`, threadpoolctl in a pool's
initializer.

Python threads x BLAS threads is what the code *asks* for, not what runs: OpenBLAS's pthreads build
shares one pool of workers among all the threads that call it, and a BLAS built on OpenMP starts a team
per calling thread. So the report measures what the run did instead: the cores its threads kept busy
(process CPU seconds per wall second) and the wall time.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from .. import config
from ..children import python, run_child
from ..info import usable_cores
from ..load import Load, LoadMeter
from .native import CHILD_TIMEOUT_S, REPEATS, _wall

__all__ = ["BlasInfo", "blas_info", "BlasRun", "BlasReport", "blas_oversubscription", "matmul",
           "PinDemo", "pin_before_import", "WorkerPin", "pinned_worker", "pin_blas_to_one_thread"]

#: BLAS libraries read these once, when they load; the first that is set wins (OpenBLAS order).
BLAS_ENV_VARS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                 "OMP_NUM_THREADS")


# -- BLAS oversubscription ----------------------------------------------------------

def matmul(n: int) -> float:
    """`a @ a` for an n x n matrix, with however many BLAS threads the process allows right now."""
    import numpy as np

    a = np.full((n, n), 1.0)
    return float((a @ a)[0, 0])


@dataclass(frozen=True)
class BlasInfo:
    """numpy's BLAS as threadpoolctl sees it in this process."""

    library: str
    version: str
    threading_layer: str
    threads: int

    def __repr__(self) -> str:
        return (f"numpy's BLAS: {self.library} {self.version} ({self.threading_layer}), {self.threads} threads "
                f"per call; this machine has {usable_cores()} usable cores")


def blas_info() -> BlasInfo:
    """Which BLAS numpy loaded, and how many threads each call may use now."""
    import numpy  # noqa: F401 - loads BLAS
    from threadpoolctl import threadpool_info

    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if not blas:
        return BlasInfo("none found", "", "", 1)
    b = blas[0]
    return BlasInfo(b.get("internal_api", "?"), str(b.get("version", "?")), str(b.get("threading_layer", "?")),
                    int(b.get("num_threads", 1)))


@dataclass(frozen=True)
class BlasRun:
    """One way to spend the cores on the same matrix products: its best wall time, and the cores busy then."""

    label: str
    python_threads: int
    blas_threads: int
    wall_s: float
    cores_busy: float = 0.0
    """Measured: the process's CPU seconds per wall second in that run (BLAS's own threads included)."""

    def __repr__(self) -> str:
        return (f"{self.label}: {self.python_threads} Python x {self.blas_threads} BLAS threads asked for, "
                f"{self.cores_busy:.2f} cores busy, {self.wall_s * 1e3:.1f} ms")


@dataclass(frozen=True)
class BlasReport:
    """The same matrix products three ways: BLAS threads only, Python threads only, both.

    No verdict: on 2 cores which is fastest changed from run to run (the oversubscribed run was 20%
    slower in some, 15% faster in others), so only the numbers are shown, and `summary` words them."""

    rows: tuple[BlasRun, ...]
    tasks: int
    n: int
    repeats: int
    load: Load | None = None

    def __repr__(self) -> str:
        head = f"{self.tasks} products of {self.n} x {self.n} matrices, best of {self.repeats}:"
        return "\n".join([head] + [f"  {r!r}" for r in self.rows] + self._note())

    def _note(self) -> list[str]:
        return [self.load.note()] if self.load is not None else []

    def _pinned(self) -> float:
        return next(r.wall_s for r in self.rows if r.blas_threads == 1)

    def to_dataframe(self) -> Any:
        import pandas as pd

        pinned = self._pinned()
        return pd.DataFrame([{"how": r.label, "python_threads": r.python_threads, "blas_threads": r.blas_threads,
                              "cores_busy": r.cores_busy, "wall_s": r.wall_s, "vs_pinned": r.wall_s / pinned}
                             for r in self.rows])

    def summary(self) -> str:
        """This run in words computed from its numbers, then the load."""
        fastest = min(self.rows, key=lambda r: r.wall_s)
        both = self.rows[-1]
        lines = [f"fastest on this run: {fastest.label}",
                 f"{both.label}: {both.python_threads} x {both.blas_threads} = "
                 f"{both.python_threads * both.blas_threads} threads asked for, {both.cores_busy:.2f} cores busy, "
                 f"{both.wall_s / self._pinned():.2f}x the pinned run's time"]
        return "\n".join(lines + self._note())


def _blas_try(n: int, tasks: int, python_threads: int, blas_threads: int) -> tuple[float, float]:
    """One run: its wall time, and the cores the whole process kept busy meanwhile (BLAS threads too)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=blas_threads, user_api="blas"):
        backend = "sequential" if python_threads == 1 else "threads"
        c0, t0 = time.process_time(), time.perf_counter()
        wall = _wall(matmul, [n] * tasks, backend, python_threads)
        cpu, outer = time.process_time() - c0, time.perf_counter() - t0
    return wall, cpu / outer if outer > 0 else 0.0


def blas_oversubscription(n: int | None = None, repeats: int = REPEATS) -> BlasReport:
    """Matrix products with the cores spent by BLAS, by Python threads, or by both at once."""
    import numpy  # noqa: F401 - BLAS must be loaded before threadpoolctl can limit it

    cores = min(usable_cores(), 8)
    n = n or (512 if config.SMALL else 768)
    tasks = 4 * cores
    configs = [("BLAS threads only", 1, cores), ("Python threads, BLAS pinned", cores, 1),
               ("both (oversubscribed)", cores, cores)]
    best = {label: (float("inf"), 0.0) for label, _, _ in configs}
    meter = LoadMeter()
    for _ in range(repeats):  # interleaved, so a busy spell hurts every config alike
        for label, p, b in configs:
            best[label] = min(best[label], _blas_try(n, tasks, p, b))
    rows = tuple(BlasRun(label, p, b, *best[label]) for label, p, b in configs)
    return BlasReport(rows, tasks, n, repeats, meter.read())


# -- how to pin: environment variables before import; threadpoolctl in a worker ---------------

_CHILD = """import os
{before}import numpy
{after}from threadpoolctl import threadpool_info
print(max([i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] or [0]))
"""


def _child_blas_threads(before: str, after: str) -> int:
    env = {k: v for k, v in os.environ.items() if k not in BLAS_ENV_VARS}
    code = _CHILD.format(before=before, after=after)
    out = run_child(python("-c", code), env=env, timeout=CHILD_TIMEOUT_S)
    if not out.ok:
        raise RuntimeError(f"the BLAS probe in a child Python failed (exit {out.returncode}): {out.stderr[-500:]}")
    return int(out.stdout.strip())


@dataclass(frozen=True)
class PinDemo:
    """BLAS threads in a fresh Python that sets OMP_NUM_THREADS=1 before vs after `import numpy`."""

    before: int
    after: int

    def __repr__(self) -> str:
        return ("OMP_NUM_THREADS=1 set before `import numpy`: pinned to 1 thread: "
                f"{self.before == 1}\nOMP_NUM_THREADS=1 set after `import numpy`: pinned to 1 thread: {self.after == 1}")


def pin_before_import() -> PinDemo:
    """Two child processes with no BLAS variable inherited: one sets it before import, one after."""
    line = 'os.environ["OMP_NUM_THREADS"] = "1"\n'
    return PinDemo(_child_blas_threads(line, ""), _child_blas_threads("", line))


def pin_blas_to_one_thread() -> None:
    """A pool initializer: import numpy (so its BLAS is loaded), then limit it to one thread for good."""
    import numpy  # noqa: F401
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def _worker_blas_threads() -> int:
    import numpy  # noqa: F401
    from threadpoolctl import threadpool_info

    return max([i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] or [0])


@dataclass(frozen=True)
class WorkerPin:
    """BLAS threads inside a worker process, without and with the pinning initializer."""

    start_method: str
    unpinned: int
    pinned: int

    def __repr__(self) -> str:
        return (f"a {self.start_method} worker process: {self.unpinned} BLAS threads by default, "
                f"{self.pinned} with initializer=pin_blas_to_one_thread")


def pinned_worker(start_method: str | None = None) -> WorkerPin:
    """Ask a worker process how many BLAS threads it would use, with and without the initializer."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = start_method or config.default_start_method()
    ctx = multiprocessing.get_context(method)
    counts = []
    for init in (None, pin_blas_to_one_thread):
        with ProcessPoolExecutor(1, mp_context=ctx, initializer=init) as pool:
            counts.append(pool.submit(_worker_blas_threads).result(timeout=CHILD_TIMEOUT_S))
    return WorkerPin(method, counts[0], counts[1])
