"""Lesson 05, section 4 (queues and pipes vs shared memory): the same block through a thread, the pool's
pickling queue, a raw `Pipe` and `shared_memory`, each timed, with the worker-side functions they run.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
from dataclasses import dataclass
from typing import Any

from .. import config
from ..load import Load
from ..load import LoadMeter as Meter
from ..timing import best_of, fastest, timer
from .communication import MARGIN, MB, REPEATS, WAIT_TIMEOUT_S, _note, _size, _start_method

__all__ = ["DataPath", "DataPathReport", "data_paths"]


def _add_one(block: Any) -> Any:
    """Add 1 to every byte of a numpy uint8 array, in place; return it."""
    block += 1
    return block


def _add_one_shared(name: str, nbytes: int) -> int:
    """Attach to a shared-memory block by name and add 1 to every byte in place: no data travels."""
    from multiprocessing import shared_memory

    import numpy as np

    # The creator owns the block and unlinks it. On 3.13+ track=False keeps this worker from registering it
    # at all; before 3.13 registering is harmless here, because the worker shares the creator's tracker.
    kwargs = {"track": False} if sys.version_info >= (3, 13) else {}
    shm = shared_memory.SharedMemory(name=name, **kwargs)
    try:
        block = np.ndarray((nbytes,), dtype=np.uint8, buffer=shm.buf)
        block += 1
        del block  # release the view, or close() refuses
    finally:
        shm.close()
    return nbytes


def _pipe_worker(conn: Any, nbytes: int) -> None:
    """Receive raw bytes into a buffer, add 1 to each, send them back; an empty message ends it."""
    import numpy as np

    buf = bytearray(nbytes)
    block = np.frombuffer(buf, dtype=np.uint8)
    try:
        while conn.poll(WAIT_TIMEOUT_S):
            size = conn.recv_bytes_into(buf)
            if size == 0:
                break
            block[:size] += 1
            conn.send_bytes(buf, 0, size)
    finally:
        conn.close()


@dataclass(frozen=True)
class DataPath:
    """One way to get a block to a worker, have it changed, and see the change: best time of several."""

    label: str
    seconds: float

    def __repr__(self) -> str:
        return f"{self.label}: {self.seconds * 1e3:.2f} ms"


@dataclass(frozen=True)
class DataPathReport:
    """The same job through every path; `verdict()` holds the facts that do not vary between runs."""

    rows: tuple[DataPath, ...]
    nbytes: int
    start_method: str
    load: Load | None = None

    def __repr__(self) -> str:
        return "\n".join([f"add 1 to every byte of {_size(self.nbytes)}, in a worker, and see the result:"]
                         + [f"  {r!r}" for r in self.rows] + _note(self.load))

    def summary(self) -> str:
        """Each process path as a share of the pool's time and a multiple of the thread's, from the numbers,
        then the load: where shared memory and the pipe land between the two varies from run to run."""
        pool, thread = self._s(POOL), self._s(THREAD)
        lines = [f"{label}: {self._s(label) / pool:.0%} of the pool's time, {self._s(label) / thread:,.1f}x the "
                 "thread's" for label in (PIPE, SHARED)]
        return "\n".join(lines + _note(self.load))

    def to_dataframe(self) -> Any:
        import pandas as pd

        thread = self._s(THREAD)
        return pd.DataFrame([{"path": r.label, "ms": r.seconds * 1e3, "vs_thread": r.seconds / thread,
                              "MB_per_s": 2 * self.nbytes / MB / r.seconds} for r in self.rows])

    def _s(self, label: str) -> float:
        return next(r.seconds for r in self.rows if r.label == label)

    def verdict(self) -> str:
        dearer = self._s(POOL) > MARGIN * self._s(THREAD)
        shared = self._s(SHARED) * MARGIN < self._s(POOL)
        return (f"between processes (pickled) it cost over {MARGIN:g}x as much as between threads: {dearer}\n"
                f"shared memory cost under 1/{MARGIN:g} of pickling through the pool: {shared}")


THREAD = "thread (passes a reference)"
POOL = "process, pickled through the pool's queue"
PIPE = "process, raw bytes through a Pipe"
SHARED = "process, shared_memory (nothing copied)"


def data_paths(nbytes: int | None = None, start_method: str | None = None, repeats: int = REPEATS) -> DataPathReport:
    """Add 1 to every byte of one block in a worker, four ways, and check the parent sees every result.

    The resource tracker is started before the pool, so workers share it and none of them unlinks the
    shared block when it exits: spawn and forkserver start it themselves, but a fork worker made before it
    runs starts its own (tests/test_truth_l05.py shows that block vanish; tests/test_lesson_05.py runs this
    path under every start method). The block is closed and unlinked however this ends.
    """
    from multiprocessing import resource_tracker

    import numpy as np

    method = _start_method(start_method)
    n = nbytes or (10 * MB if config.SMALL else 50 * MB)
    block = np.zeros(n, dtype=np.uint8)
    resource_tracker.ensure_running()  # before any worker starts, whatever the start method
    ctx = multiprocessing.get_context(method)
    meter = Meter()
    rows = [DataPath(label, seconds) for label, seconds in _in_turn(ctx, block, repeats).items()]
    rows.append(DataPath(PIPE, _pipe_path(ctx, block, repeats)))
    expected = 4 * repeats % 256  # every path added 1 to every byte, `repeats` times
    if not (block == expected).all():
        raise AssertionError("a path lost its result: the parent does not see every change")
    order = [THREAD, POOL, PIPE, SHARED]
    return DataPathReport(tuple(sorted(rows, key=lambda r: order.index(r.label))), n, method, meter.read())


def _in_turn(ctx: Any, block: Any, repeats: int) -> dict[str, float]:
    """The thread, pool and shared-memory paths, each try of each taken in turn (`timing.fastest`), so a
    busy spell slows all three alike: the verdict compares them (under stress-ng, the thread's two tries
    taken together once both hit one, and it came out dearer than the pool)."""
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
    from multiprocessing import shared_memory

    import numpy as np

    shm = shared_memory.SharedMemory(create=True, size=block.nbytes)
    shared = np.ndarray(block.shape, dtype=np.uint8, buffer=shm.buf)
    shared[:] = 0  # the shared path's own copy of the data, made there, as it would be
    try:
        with ThreadPoolExecutor(1) as thread, ProcessPoolExecutor(1, mp_context=ctx) as pool:
            thread.submit(_add_one, block[:1].copy()).result(timeout=WAIT_TIMEOUT_S)  # a warm thread
            pool.submit(_add_one, np.zeros(1, dtype=np.uint8)).result(timeout=WAIT_TIMEOUT_S)  # numpy imported

            def pooled() -> None:
                block[:] = pool.submit(_add_one, block).result(timeout=WAIT_TIMEOUT_S)  # a changed copy comes back

            best = fastest({
                THREAD: timer(lambda: thread.submit(_add_one, block).result(timeout=WAIT_TIMEOUT_S)),
                POOL: timer(pooled),
                SHARED: timer(lambda: pool.submit(_add_one_shared, shm.name, block.nbytes).result(
                    timeout=WAIT_TIMEOUT_S)),
            }, repeats)
        block += shared  # what the shared path added, so the check below sees every path's work
        return best
    finally:
        del shared
        shm.close()
        shm.unlink()


def _pipe_path(ctx: Any, block: Any, repeats: int) -> float:
    parent, child = ctx.Pipe()
    worker = ctx.Process(target=_pipe_worker, args=(child, block.nbytes), daemon=True)
    worker.start()
    child.close()
    try:
        parent.send_bytes(b"\0")  # a warm worker (started, numpy imported) before timing
        if not parent.poll(WAIT_TIMEOUT_S):
            raise TimeoutError("the pipe worker did not start")
        parent.recv_bytes()

        def trip() -> None:
            parent.send_bytes(block)
            if not parent.poll(WAIT_TIMEOUT_S):
                raise TimeoutError("the pipe worker did not answer")
            parent.recv_bytes_into(block)

        return best_of(trip, repeats)
    finally:
        with contextlib.suppress(OSError):
            parent.send_bytes(b"")
        parent.close()
        worker.join(WAIT_TIMEOUT_S)
        if worker.is_alive():
            worker.kill()
            worker.join(WAIT_TIMEOUT_S)
