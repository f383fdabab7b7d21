"""Lesson 04 (native code releases the GIL): which native calls let other threads run, what that buys
on threads, the hashlib piece-size trap, BLAS oversubscription, and the exercise's check.

The GIL stops two threads running *Python* at once, but C code may let go of it while it works on plain
bytes or numbers. Whether a given call does is a fact of its source, and the lesson shows it two ways:

- `gil_probe`: a second thread notes the time as fast as it can while one call runs. A call that keeps
  the GIL freezes it for the whole call; one that lets go does not. This holds however busy the machine
  is, so its verdicts are the lesson's checked facts.
- `measure`: the same tasks one after another and on a thread pool, the best of a few repeats. What
  letting go *buys* needs free cores, so on a busy machine the speedups shrink; they are shown, and only
  their robust half (work that keeps the GIL never scales) is checked.

Why the best of repeats: a busy machine only ever makes a run slower, never faster, so the fastest run of
each kind is the closest to what the code can do.
"""

from __future__ import annotations

import bz2
import functools
import hashlib
import json
import os
import random
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .. import config
from ..children import python, run_child
from ..info import usable_cores
from ..timing import fastest
from ._feedback import Feedback

__all__ = ["SCALED_AT", "Probe", "ProbeReport", "gil_probe", "native_probes", "Scaling", "ScalingReport",
           "native_scaling", "pieces_verdict", "hash_pieces", "small_pieces_verdict", "plot_pieces",
           "QUIZ", "RELEASES", "native_quiz", "check_gil_prediction", "probe_quiz",
           "BlasInfo", "blas_info", "BlasRun", "BlasReport", "blas_oversubscription", "matmul",
           "PinDemo", "pin_before_import", "WorkerPin", "pinned_worker", "pin_blas_to_one_thread"]

#: A speedup at or above this, with 2 or more threads, counts as "scaled" (if the threads also used more
#: than one core at once, below). Work that releases the GIL measured 1.8-2.0x on 2 quiet cores here.
SCALED_AT = 1.35
#: ...and the threads' CPU seconds per wall second must reach this. Threads that share the GIL cannot
#: pass ~1.0 on any machine, busy or not, because only one of them runs at a time: that is what makes
#: "did not scale" a robust verdict, where a speedup alone once passed 1.35 by luck with seven other
#: jobs on 2 cores.
PARALLEL_AT = 1.3
#: Repeats of every speedup measurement (the best is kept).
REPEATS = 3 if config.SMALL else 5
#: A call "kept the GIL" when the probing thread's longest pause covers at least this share of it.
#: Measured here: calls that keep it 0.85-1.0 (the rest is the edges of the call), calls that let go
#: 0.02-0.2, with five other jobs running on 2 cores.
PAUSED_AT = 0.5
#: The probing thread records a pause only when it is longer than this (shorter ones are noise).
MIN_PAUSE_S = 2e-4
#: The threshold in CPython's Modules/hashlib.h (HASHLIB_GIL_MINSIZE): shorter inputs keep the GIL.
HASHLIB_GIL_MINSIZE = 2048
#: BLAS libraries read these once, when they load; the first that is set wins (OpenBLAS order).
BLAS_ENV_VARS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                 "OMP_NUM_THREADS")
#: A child `python -c` that imports numpy, or a worker that does, must answer within this.
CHILD_TIMEOUT_S = 60.0
MIB = 1 << 20


def default_workers() -> int:
    """Threads to compare against one: every core, up to 4 (enough to see scaling, quick on 16 cores)."""
    return max(2, min(4, usable_cores()))


def _pinned_blas() -> Any:
    """BLAS limited to one thread in this process for the duration (numpy imported first, or there is
    no BLAS loaded to limit). Pinning once here, around the whole run, also keeps the workload's own
    per-call pinning from racing between threads: each call then finds 1 and restores 1."""
    import numpy  # noqa: F401 - loads the BLAS library threadpoolctl must find
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


# -- the probe: does another thread run while this call runs? -------------------------------

@dataclass(frozen=True)
class Probe:
    """One call, timed, while a second thread tried to run Python the whole time."""

    label: str
    call_s: float
    longest_pause_s: float
    """The second thread's longest stretch without running, within the call."""

    @property
    def paused_share(self) -> float:
        return self.longest_pause_s / self.call_s if self.call_s > 0 else 0.0

    @property
    def released(self) -> bool:
        return self.paused_share < PAUSED_AT

    def __repr__(self) -> str:
        return (f"{self.label}: the call took {self.call_s * 1e3:.1f} ms; the other thread's longest pause "
                f"{self.longest_pause_s * 1e3:.1f} ms ({self.paused_share:.0%} of it)")


@dataclass(frozen=True)
class ProbeReport:
    """Several probes; `verdict()` is the part that does not vary between runs."""

    rows: tuple[Probe, ...]

    def __repr__(self) -> str:
        return "\n".join(repr(r) for r in self.rows)

    def verdict(self) -> str:
        return "\n".join(f"{r.label}: another thread ran during the call: {r.released}" for r in self.rows)


def _heartbeat(stop: threading.Event, pauses: list[tuple[float, float]], ready: threading.Event) -> None:
    """Note the time as fast as possible; keep only the pauses (when this thread could not run)."""
    clock = time.perf_counter
    last = clock()
    ready.set()
    while not stop.is_set():
        now = clock()
        if now - last > MIN_PAUSE_S:
            pauses.append((last, now))
        last = now


def gil_probe(label: str, fn: Callable[[Any], Any], arg: Any) -> Probe:
    """Run `fn(arg)` once while a heartbeat thread runs; report the heartbeat's longest pause inside the call.

    A call that keeps the GIL stops the heartbeat for (almost) all of it, however busy the machine is;
    one that lets go leaves it running (paused only by the OS scheduler, for a few ms at most).
    """
    stop, ready, pauses = threading.Event(), threading.Event(), []
    beat = threading.Thread(target=_heartbeat, args=(stop, pauses, ready), name="gil-probe", daemon=True)
    beat.start()
    try:
        ready.wait(CHILD_TIMEOUT_S)
        time.sleep(0.005)  # let the heartbeat run before the call starts
        t0 = time.perf_counter()
        fn(arg)
        t1 = time.perf_counter()
    finally:
        stop.set()
        beat.join(CHILD_TIMEOUT_S)
    longest = max([min(end, t1) - max(begin, t0) for begin, end in pauses] + [0.0])
    return Probe(label, t1 - t0, longest)


def _sha256(data: bytes) -> int:
    return len(hashlib.sha256(data).digest())


def _zlib(data: bytes) -> int:
    return len(zlib.compress(data, 6))


def _matmul_of(a: Any) -> float:
    return float((a @ a)[0, 0])


def _sorted(values: list) -> float:
    return sorted(values)[0]


def native_probes() -> ProbeReport:
    """The probe on three native calls that work on raw bytes or numbers, and one on Python objects.

    Inputs are built before each call, so the probe sees the call alone (building a big input keeps the GIL).
    """
    import numpy as np

    rng = random.Random(4)
    cases = [("hashlib.sha256(one 32 MiB buffer)", _sha256, lambda: b"\x5a" * (32 * MIB)),
             ("zlib.compress(4 MiB, level 6)", _zlib, lambda: bytes(range(256)) * (4 * MIB // 256)),
             ("numpy a @ a, 768 x 768, BLAS pinned to 1 thread", _matmul_of, lambda: np.full((768, 768), 1.0)),
             ("sorted(a list of 200,000 floats)", _sorted, lambda: [rng.random() for _ in range(200_000)])]
    with _pinned_blas():
        return ProbeReport(tuple(gil_probe(label, fn, make()) for label, fn, make in cases))


# -- measuring the speedup: sequential vs threads -------------------------------------------

@dataclass(frozen=True)
class Scaling:
    """The same tasks run one after another and on a thread pool: the best wall time of each."""

    label: str
    tasks: int
    workers: int
    sequential_s: float
    threads_s: float
    repeats: int
    """How many (sequential, threads) pairs were measured; the best of each is kept."""
    parallelism: float = 1.0
    """The threads' CPU seconds per wall second, in the threaded run that reached the most: how many
    cores were busy at once. Threads that share the GIL stay at or under ~1."""

    @property
    def speedup(self) -> float:
        return self.sequential_s / self.threads_s

    @property
    def scaled(self) -> bool:
        return self.speedup >= SCALED_AT and self.parallelism >= PARALLEL_AT

    def __repr__(self) -> str:
        return (f"{self.label}: {self.speedup:.2f}x on {self.workers} threads, {self.parallelism:.2f} cores busy "
                f"(sequential {self.sequential_s * 1e3:.1f} ms, threads {self.threads_s * 1e3:.1f} ms, "
                f"best of {self.repeats})")


@dataclass(frozen=True)
class ScalingReport:
    """Several calls measured the same way."""

    rows: tuple[Scaling, ...]

    def __repr__(self) -> str:
        return "\n".join(repr(r) for r in self.rows)

    def to_dataframe(self) -> Any:
        import pandas as pd

        return pd.DataFrame([{"call": r.label, "tasks": r.tasks, "threads": r.workers,
                              "ms_per_task": r.sequential_s / r.tasks * 1e3, "sequential_s": r.sequential_s,
                              "threads_s": r.threads_s, "speedup": r.speedup, "cores_busy": r.parallelism,
                              "scaled": r.scaled,
                              "repeats": r.repeats} for r in self.rows])

    def row(self, label: str) -> Scaling:
        return next(r for r in self.rows if r.label == label)


def _run(fn: Callable[[Any], Any], items: list, backend: str, workers: int) -> Any:
    from ..api import run

    record = run(fn, backend=backend, max_workers=workers, items=items)
    record.raise_for_errors()
    return record


def _wall(fn: Callable[[Any], Any], items: list, backend: str, workers: int) -> float:
    return _run(fn, items, backend, workers).wall


def measure(label: str, fn: Callable[[Any], Any], items: list, workers: int | None = None,
            repeats: int = REPEATS) -> Scaling:
    """Best sequential and best threaded wall time over `repeats` pairs (interleaved, so a busy
    spell hurts both alike), and the most cores the threads kept busy at once."""
    n = workers or default_workers()
    busy: list[float] = []

    def threads() -> float:
        record = _run(fn, items, "threads", n)
        busy.append(record.parallelism)
        return record.wall

    best = fastest({"sequential": lambda: _wall(fn, items, "sequential", 1), "threads": threads}, repeats)
    return Scaling(label, len(items), n, best["sequential"], best["threads"], repeats, max(busy))


# -- the speedup: the three native workloads, and the same hash in small pieces ----------------

def _gil_release(kind: str, piece: int = 0) -> Callable[[int], int]:
    from ..workloads import gil_release

    return functools.partial(gil_release, kind=kind, piece=piece)


#: Labels of `native_scaling`'s rows, so the notebook and tests name them without repeating the text.
SHA_BIG, SHA_PIECES = "sha256 over one 8 MiB buffer", "sha256 of the same bytes, fed 1 KiB at a time"


def native_scaling(workers: int | None = None) -> ScalingReport:
    """sha256, zlib and numpy (`workloads.gil_release`) on threads, and sha256 fed 1 KiB at a time."""
    n = workers or default_workers()
    cases = [(SHA_BIG, _gil_release("sha256"), 8 * MIB),
             ("zlib.compress(1 MiB, level 6)", _gil_release("zlib"), MIB),
             ("numpy matmul 448 x 448, BLAS pinned to 1 thread", _gil_release("numpy"), 448),
             (SHA_PIECES, _gil_release("sha256", 1024), 8 * MIB)]
    with _pinned_blas():
        return ScalingReport(tuple(measure(label, fn, [size] * (4 * n), n) for label, fn, size in cases))


def pieces_verdict(report: ScalingReport) -> str:
    """The robust half of section 2: the hash fed in 1 KiB pieces never scales, busy machine or not."""
    return f"{SHA_PIECES}: scaled with threads: {report.row(SHA_PIECES).scaled}"


# -- piece size ---------------------------------------------------------------------

def hash_pieces(pieces: Iterable[int] = (256, 1024, 2048, 8192, 65536, MIB), size: int = 4 * MIB,
                workers: int | None = None) -> ScalingReport:
    """The same sha256 over `size` bytes, fed in pieces of each size: where does it start to scale?"""
    n = workers or default_workers()
    rows = [measure(f"pieces of {p:,} bytes", _gil_release("sha256", p), [size] * (2 * n), n) for p in pieces]
    return ScalingReport(tuple(rows))


def _bytes(n: int) -> str:
    """256 B, 1 KiB, 1 MiB: a tick label a learner reads at a glance."""
    for unit, size in (("MiB", MIB), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} B"


def _piece(label: str) -> int:
    return int(label.split()[2].replace(",", ""))


def small_pieces_verdict(report: ScalingReport) -> str:
    """The robust half of the piece sweep: pieces under hashlib's threshold never scale."""
    small = [r for r in report.rows if _piece(r.label) < HASHLIB_GIL_MINSIZE]
    scaled = [r.label for r in small if r.scaled]
    return (f"piece sizes under {HASHLIB_GIL_MINSIZE} bytes measured: {len(small)}; "
            f"of those, scaled with threads: {', '.join(scaled) if scaled else 'none'}")


def plot_pieces(report: ScalingReport, ax: Any = None) -> Any:
    """Speedup and cores busy against piece size (log scale), with hashlib's 2048-byte line."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    from .. import plots

    if ax is None:
        with mpl.rc_context(plots.STYLE):
            _, ax = plt.subplots(figsize=(10, 5), layout="constrained")
    x = [_piece(r.label) for r in report.rows]
    ax.plot(x, [r.speedup for r in report.rows], "o-", color=plots.BACKEND_COLORS["threads"],
            label=f"speedup: {report.rows[0].workers} threads vs one (×)")
    ax.plot(x, [r.parallelism for r in report.rows], "s--", color=plots.OKABE_ITO["bluish_green"],
            label="cores busy at once (CPU s per wall s)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(x, labels=[_bytes(p) for p in x])
    ax.minorticks_off()
    ax.axvline(HASHLIB_GIL_MINSIZE, color=plots.OKABE_ITO["vermillion"], ls="--",
               label=f"{HASHLIB_GIL_MINSIZE} bytes: hashlib lets go of the GIL from here")
    ax.axhline(SCALED_AT, color="0.5", ls=":", label=f"{SCALED_AT}x: counted as a speedup")
    ax.axhline(1.0, color="0.2", lw=1)
    ax.set_ylim(0, max(2.6, max(max(r.speedup, r.parallelism) for r in report.rows) * 1.2))
    ax.set_title("sha256 of the same bytes, fed in pieces")
    ax.set_xlabel("piece size (bytes, log scale)")
    ax.set_ylabel("× / cores")
    ax.legend(loc="upper left")
    return ax


# -- the exercise: predict which calls let go of the GIL ----------------------------------------

#: Four calls into C code. Which of them let other threads run while they work?
QUIZ: dict[str, str] = {
    "bz2": "bz2.compress(100 kB of random bytes)",
    "numpy_sort": "numpy.sort(an array of 1.5 million float64)",
    "re": "re.search(r'\\w+\\d', a 450 kB string with no match)",
    "json": "json.dumps(a list of 50,000 floats)",
}
#: Whether each lets go, and why, from CPython's and numpy's source.
_WHY: dict[str, tuple[bool, str]] = {
    "bz2": (True, "bz2 lets go of the GIL around each call into libbzip2 (CPython's Modules/_bz2module.c)"),
    "numpy_sort": (True, "numpy sorts plain doubles with the GIL released (NPY_BEGIN_THREADS in its sort "
                         "code): no Python objects are involved"),
    "re": (False, "the regular-expression engine is C, but it keeps the GIL for the whole search "
                  "(CPython's Modules/_sre)"),
    "json": (False, "the C encoder walks Python objects (a list, floats), and touching Python objects needs the GIL"),
}
#: The keys whose calls let go of the GIL: the solution.
RELEASES = frozenset(k for k, (releases, _) in _WHY.items() if releases)


def native_quiz() -> str:
    """The quiz, as the learner reads it."""
    return "\n".join(f"{key:11} {call}" for key, call in QUIZ.items())


def _as_keys(answer: Any) -> set[str] | None:
    if isinstance(answer, str) or not isinstance(answer, (set, frozenset, list, tuple)):
        return None
    if not all(isinstance(a, str) for a in answer):
        return None
    return set(answer)


def check_gil_prediction(answer: Any) -> Feedback:
    """Exercise 04: the set of QUIZ keys whose calls let other threads run while they work."""
    keys = _as_keys(answer)
    if keys is None:
        return Feedback(False, 'set `answer` to a set of keys from the list, e.g. {"bz2"}')
    unknown = sorted(keys - set(QUIZ))
    if unknown:
        return Feedback(False, f"not in the list: {', '.join(unknown)}; choose from {', '.join(QUIZ)}")
    wrong = [k for k in QUIZ if (k in keys) != (k in RELEASES)]
    if wrong:
        k = wrong[0]
        said = "lets go of the GIL" if k in keys else "keeps the GIL"
        more = f" ({len(wrong) - 1} more to rethink)" if len(wrong) > 1 else ""
        return Feedback(False, f"you said {k} {said}, but {_WHY[k][1]}.{more}")
    return Feedback(True, "bz2 and numpy.sort let go of the GIL while they work on raw bytes and numbers; re and "
                          "json are C code too, but keep the GIL throughout. Written in C is not enough.")


def _bz2(data: bytes) -> int:
    return len(bz2.compress(data, 9))


def _np_sort(values: Any) -> float:
    import numpy as np

    return float(np.sort(values)[0])


_PATTERN = re.compile(r"\w+\d")


def _re(text: str) -> bool:
    return _PATTERN.search(text) is not None


def _json(values: list) -> int:
    return len(json.dumps(values))


def probe_quiz() -> ProbeReport:
    """The probe on every quiz call (each input built just before its call, outside the probe)."""
    import numpy as np

    rng = random.Random(4)
    makers: dict[str, tuple[Callable[[Any], Any], Callable[[], Any]]] = {
        "bz2": (_bz2, lambda: rng.randbytes(100_000)),
        "numpy_sort": (_np_sort, lambda: np.random.default_rng(4).random(1_500_000)),
        "re": (_re, lambda: "abcdefgh " * 50_000),
        "json": (_json, lambda: [rng.random() for _ in range(50_000)]),
    }
    return ProbeReport(tuple(gil_probe(key, fn, make()) for key, (fn, make) in makers.items()))


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
