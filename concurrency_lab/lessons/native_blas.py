"""Lesson 04, sections 4 and 5: BLAS oversubscription (numpy's own threads times Python threads), and how
to pin BLAS: environment variables before `import numpy`, threadpoolctl in a pool's initializer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .. import config
from ..children import python, run_child
from ..info import usable_cores
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
        return f"numpy's BLAS: {self.library} {self.version} ({self.threading_layer}), {self.threads} threads per call"


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
    """One way to spend the cores on the same matrix products: its best wall time."""

    label: str
    python_threads: int
    blas_threads: int
    wall_s: float

    def __repr__(self) -> str:
        return (f"{self.label}: {self.python_threads} Python x {self.blas_threads} BLAS threads = "
                f"{self.python_threads * self.blas_threads} busy threads, {self.wall_s * 1e3:.1f} ms")


@dataclass(frozen=True)
class BlasReport:
    """The same matrix products three ways: BLAS threads only, Python threads only, both.

    No verdict: on 2 cores which is fastest changed from run to run (the oversubscribed run was 20%
    slower in some, 15% faster in others), so only the numbers are shown."""

    rows: tuple[BlasRun, ...]
    tasks: int
    n: int
    repeats: int

    def __repr__(self) -> str:
        head = f"{self.tasks} products of {self.n} x {self.n} matrices, best of {self.repeats}:"
        return "\n".join([head] + [f"  {r!r}" for r in self.rows])

    def to_dataframe(self) -> Any:
        import pandas as pd

        pinned = next(r.wall_s for r in self.rows if r.blas_threads == 1)
        return pd.DataFrame([{"how": r.label, "python_threads": r.python_threads, "blas_threads": r.blas_threads,
                              "busy_threads": r.python_threads * r.blas_threads, "wall_s": r.wall_s,
                              "vs_pinned": r.wall_s / pinned} for r in self.rows])


def _blas_wall(n: int, tasks: int, python_threads: int, blas_threads: int) -> float:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=blas_threads, user_api="blas"):
        backend = "sequential" if python_threads == 1 else "threads"
        return _wall(matmul, [n] * tasks, backend, python_threads)


def blas_oversubscription(n: int | None = None, repeats: int = REPEATS) -> BlasReport:
    """Matrix products with the cores spent by BLAS, by Python threads, or by both at once."""
    import numpy  # noqa: F401 - BLAS must be loaded before threadpoolctl can limit it

    cores = min(usable_cores(), 8)
    n = n or (512 if config.SMALL else 768)
    tasks = 4 * cores
    configs = [("BLAS threads only", 1, cores), ("Python threads, BLAS pinned", cores, 1),
               ("both (oversubscribed)", cores, cores)]
    best = {label: float("inf") for label, _, _ in configs}
    for _ in range(repeats):  # interleaved, so a busy spell hurts every config alike
        for label, p, b in configs:
            best[label] = min(best[label], _blas_wall(n, tasks, p, b))
    return BlasReport(tuple(BlasRun(label, p, b, best[label]) for label, p, b in configs), tasks, n, repeats)


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
