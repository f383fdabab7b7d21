"""The tasks lessons run: module-level functions, so every start method can pickle them.

Each takes one argument, its size, so `runner.run(cpu, [size] * tasks)` reads
like the stdlib's `map`. `calibration.calibrate(name, target_seconds)` finds the
size that makes one task last about that long on this machine. Nothing heavy is imported
at module level: workers import this module, and numpy is loaded only by the
numpy variant of `gil_release`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

# -- CPU-bound ------------------------------------------------------------------


def cpu(n: int) -> int:
    """Pure-Python arithmetic for `n` steps: holds the GIL the whole time."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def tiny(x: int) -> int:
    """`x * x`: the classic example, far cheaper than sending it anywhere."""
    return x * x


# -- I/O-bound ---------------------------------------------------------------


#: The longest single `time.sleep` a waiting workload makes. A thread blocked in
#: one sleep cannot be interrupted (runners/_cancel.py), so Stop could wait
#: this long; a shorter slice wakes sleeping threads more often for nothing.
SLEEP_SLICE_S = 0.5


def io_sleep(seconds: float) -> float:
    """Wait without using the CPU (the GIL is released while sleeping).

    A wait longer than `SLEEP_SLICE_S` is made of several sleeps, so Stop can end it.
    """
    end = time.perf_counter() + seconds
    remaining = seconds
    while remaining > 0:
        time.sleep(min(remaining, SLEEP_SLICE_S))
        remaining = end - time.perf_counter()
    return seconds


async def io_sleep_async(seconds: float) -> float:
    """The asyncio twin of `io_sleep`."""
    import asyncio  # here, not at the top: workers need not pay for importing asyncio

    await asyncio.sleep(seconds)
    return seconds


def io_http(size: int = 0, *, url: str, timeout: float = 10.0) -> int:
    """GET `size` bytes from the local demo server at `url`; returns bytes read.

    Bind `url` with functools.partial (which pickles) or use `LocalHTTPServer.task()`.
    """
    from urllib.request import urlopen

    with urlopen(f"{url}?bytes={int(size)}", timeout=timeout) as resp:
        return len(resp.read())


async def io_http_async(size: int = 0, *, url: str, timeout: float = 10.0) -> int:
    """The asyncio twin of `io_http`: a raw HTTP/1.0 GET over asyncio streams."""
    import asyncio
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, parts.port), timeout)
    try:
        path = (parts.path or "/") + f"?bytes={int(size)}"
        writer.write(f"GET {path} HTTP/1.0\r\nHost: {parts.hostname}\r\n\r\n".encode())
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    return len(raw.split(b"\r\n\r\n", 1)[1])


def io_file(size: int) -> int:
    """Write `size` bytes to a temp file, fsync it to disk, and read it back.

    In `BLOCK`-sized pieces of data made once per process: memory stays
    small whatever the size, and Stop can end a long task between pieces.
    """
    block = _block()
    fd, path = tempfile.mkstemp(prefix="concurrency-lab-")
    try:
        with os.fdopen(fd, "wb") as fh:
            for first in range(0, size, BLOCK):
                fh.write(block[:min(BLOCK, size - first)])
            fh.flush()
            os.fsync(fh.fileno())
        read = 0
        buf = bytearray(BLOCK)
        with open(path, "rb", buffering=0) as fh:
            while n := fh.readinto(buf):
                read += n
        return read
    finally:
        os.unlink(path)


# -- native code that releases the GIL -----------------------------------------

GIL_RELEASE_KINDS = ("sha256", "zlib", "numpy")

#: The data hashed, compressed and written is this block, made once per process and fed
#: again and again: building a fresh buffer in every task (a `bytes` of `size`, with the
#: GIL held) took as long as hashing it, and capped 2 threads near 1.3x
#: (benchmarks/gil_release.py measures threads on it against raw threads on a prebuilt buffer).
BLOCK = 1 << 23


@functools.cache
def _block() -> bytes:
    """`BLOCK` bytes, the same in every process: a repeating 0..255 pattern."""
    return bytes(range(256)) * (BLOCK // 256)


def _pieces(size: int, piece: int) -> Iterator[memoryview]:
    """`size` bytes of `_block()` as views of at most `piece` bytes (no copy)."""
    view = memoryview(_block())
    step = min(piece or BLOCK, BLOCK)
    for first in range(0, size, step):
        yield view[:min(step, size - first)]


def gil_release(size: int, kind: str = "sha256", piece: int = 0) -> int:
    """Native work that lets other threads run while it computes.

    sha256 / zlib over `size` bytes; numpy: a size x size matrix product with
    BLAS pinned to one thread (so threads, not BLAS, provide the parallelism).
    With `piece` > 0, sha256 is fed in pieces of that many bytes: under 2048
    bytes hashlib keeps the GIL, so the same hash no longer scales. The bytes
    come from one block made before (see `BLOCK`).
    """
    if kind == "sha256":
        h = hashlib.sha256()
        for view in _pieces(size, piece):
            h.update(view)
        return len(h.digest())
    if kind == "zlib":
        c = zlib.compressobj(6)
        return sum(len(c.compress(view)) for view in _pieces(size, BLOCK)) + len(c.flush())
    if kind == "numpy":
        return _numpy_matmul(size)
    raise ValueError(f"kind: unknown {kind!r}; choose one of: {', '.join(GIL_RELEASE_KINDS)}")


def _numpy_matmul(n: int) -> int:
    import numpy as np

    a = np.full((n, n), 1.0)
    with _one_blas_thread():
        return int((a @ a)[0, 0])


_blas_lock = threading.Lock()
_blas_users = 0
_blas_limiter: Any = None


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """BLAS pinned to one thread while any task in this process multiplies.

    threadpoolctl's limits are process-wide and not meant to be entered from several threads at once:
    with a `threadpool_limits` per call, one thread's exit restores BLAS's threads while another's
    product still runs. So the first task in pins, and the last one out restores.
    """
    global _blas_users, _blas_limiter
    with _blas_lock:
        if _blas_users == 0:
            from threadpoolctl import threadpool_limits

            _blas_limiter = threadpool_limits(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


# -- mixed, memory, faults -------------------------------------------------------


def mixed(n: int, io_seconds: float = 0.01) -> int:
    """Wait for I/O first, then compute: a request handler in miniature."""
    time.sleep(io_seconds)
    return cpu(n)


def memory(mb: int) -> int:
    """Allocate `mb` MiB and touch every page, so it is really resident."""
    if isinstance(mb, bool) or not isinstance(mb, int) or mb < 0:
        raise ValueError(f"mb: expected an int >= 0, got {mb!r}")
    _refuse_over_available(mb)
    block = bytearray(mb * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    return len(block)


def _refuse_over_available(mb: int) -> None:
    try:
        import psutil

        available = psutil.virtual_memory().available // (1024 * 1024)
    except Exception:
        return
    if mb > available:
        raise MemoryError(f"mb: {mb} MiB is more than the {available} MiB this machine has free; refused before allocating")


CRASH_KINDS = ("raise", "exit", "abort", "segv", "memory")


def crash(how: str = "raise") -> None:
    """Fail on purpose, in one of the ways real tasks fail."""
    if how == "raise":
        raise RuntimeError("crash('raise'): this task raised on purpose")
    if how == "exit":
        os._exit(1)
    if how == "abort":
        os.abort()
    if how == "segv":
        import ctypes

        ctypes.string_at(0)  # read address 0: SIGSEGV
    if how == "memory":
        raise MemoryError("crash('memory'): out of memory, on purpose")
    raise ValueError(f"how: unknown {how!r}; choose one of: {', '.join(CRASH_KINDS)}")


def hang(seconds: float = 3600.0) -> float:
    """Never return (for an hour): for timeouts and Stop. Sleeps, so uses no CPU."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.05)
    return seconds


# -- the registry -------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """A named workload: its function, what kind of work it is, and its size's unit."""

    name: str
    fn: Callable[..., Any]
    kind: str
    """cpu, io, native, mixed, tiny, memory, fault"""
    unit: str
    """What the size parameter counts."""
    default_size: Any
    """A size that takes a few milliseconds here; `calibrate` finds a better one."""
    async_fn: Callable[..., Any] | None = None


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("cpu", cpu, "cpu", "loop steps", 100_000),
        Workload("tiny", tiny, "tiny", "the number to square", 3),
        Workload("io_sleep", io_sleep, "io", "seconds", 0.01, io_sleep_async),
        Workload("io_http", io_http, "io", "response bytes", 1024, io_http_async),
        Workload("io_file", io_file, "io", "bytes", 1 << 16),
        Workload("gil_release", gil_release, "native", "bytes (sha256, zlib) or matrix side (numpy)", 1 << 20),
        Workload("mixed", mixed, "mixed", "loop steps after 10 ms of I/O", 100_000),
        Workload("memory", memory, "memory", "MiB", 10),
        Workload("crash", crash, "fault", "how to crash", "raise"),
        Workload("hang", hang, "fault", "seconds", 3600.0),
    )
}


def get(name: str) -> Workload:
    """The workload called `name`, or a ValueError listing the choices."""
    try:
        return WORKLOADS[name]
    except KeyError:
        raise ValueError(f"workload: unknown {name!r}; choose one of: {', '.join(WORKLOADS)}") from None


def async_twin(fn: Callable) -> Callable | None:
    """The coroutine version of a workload function (keeping partial's arguments), if any."""
    if isinstance(fn, functools.partial):
        twin = async_twin(fn.func)
        return functools.partial(twin, *fn.args, **fn.keywords) if twin else None
    for w in WORKLOADS.values():
        if w.fn is fn:
            return w.async_fn
    return None


# -- traced CPU work (GIL activity) --

#: How often `cpu_traced` notes the time while it runs: often enough to see
#: the GIL's 5 ms switch interval, rarely enough that the list stays small.
TRACE_PERIOD_NS = 500_000
#: Loop steps between two looks at the clock: ~3-5 us of work here, so a
#: pause is located to within a few microseconds for ~4% extra cost (measured).
TRACE_EVERY = 64


def cpu_traced(n: int) -> list[int]:
    """`cpu(n)`'s arithmetic, noting when this worker actually made progress.

    Returns nanoseconds since the task's own first sample (so the list starts
    with 0 and ends with the task's last moment). While the task runs, samples
    come about every `TRACE_PERIOD_NS`; a pause longer than that (waiting for
    the GIL, or for a core) adds two samples: the last moment before it and
    the first after it. So a gap much larger than the period *is* a wait.

    Relative times keep the list independent of the parent's clock origin:
    `analysis.gil_activity` places the first sample at the TaskEvent's `start`
    (which `call_timed` takes a fraction of a microsecond earlier). Needs no
    perf, ptrace or private API, so it works on 3.11-3.14 and free-threaded builds.
    """
    clock = time.perf_counter_ns
    first = last = prev = clock()
    samples = [0]
    total = 0
    full = n - n % TRACE_EVERY
    for begin in range(0, full, TRACE_EVERY):
        for i in range(begin, begin + TRACE_EVERY):
            total += i * i % 7
        now = clock()
        if now - last >= TRACE_PERIOD_NS:
            if now - prev > TRACE_PERIOD_NS and prev != last:
                samples.append(prev - first)  # where the pause began
            samples.append(now - first)
            last = now
        prev = now
    for i in range(full, n):
        total += i * i % 7
    end = clock()
    if end != last:
        samples.append(end - first)
    return samples
