"""Watch any code: when each thread of this kernel and each process under it was on a CPU, while it ran.

    with cl.watch() as watched:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(count, [10**7] * 4))
    watched.parallelism          # ~1.0: the GIL let one thread run at a time
    cl.plots.watch(watched.record)

Or, in a notebook, the `%%watch` cell magic (`magics.py`), which draws the picture after the cell.

The sampling is done from outside, by a small process of its own (`_sampler`), so it never needs this
interpreter's GIL and does not change what it watches; `_names` gives the ids it sees the names a learner
knows. The sampler stops when the block ends, when this process dies (its standard input closes), or when
the watched process is gone: it is never left behind.
"""

from __future__ import annotations

import bisect
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import config, info
from ..load import LoadMeter
from ._names import Ended, Names
from .record import Lane, WatchRecord

#: Samples a second: fine enough to see the GIL's 5 ms hand-offs (an interval of 5 ms), cheap enough for
#: the sampler to stay under 3% of one core (benchmarks/watch.py; on a 2-core VM a Python that only
#: sleeps and wakes 250 times a second already costs 1.6%). The psutil fallback reads OS ticks of 10 ms,
#: so a finer rate would only repeat itself.
DEFAULT_RATE = {"proc": 200.0, "psutil": 50.0}
#: The rates a learner may ask for.
RATE_RANGE = (10.0, 1000.0)
#: How long the sampler may take to start and take its first sample, and to hand its samples back.
SAMPLER_TIMEOUT_S = 30.0

_SAMPLER = Path(__file__).with_name("_sampler.py")
_active = threading.Lock()  # held while a watch is on: watches do not nest


class WatchError(RuntimeError):
    """The sampler could not start, or could not hand back what it saw."""


class Watching:
    """What `watch()` gives the block: after it, `record` is the `WatchRecord`, and this object answers
    for it (`watched.parallelism`, `watched.lanes`, ...)."""

    def __init__(self) -> None:
        self.record: WatchRecord | None = None

    def __getattr__(self, name: str) -> Any:
        record = self.__dict__.get("record")
        if record is None:
            raise AttributeError(f"{name}: the watch is still on; read it after the `with` block")
        return getattr(record, name)

    def __repr__(self) -> str:
        return repr(self.record) if self.record is not None else "Watching(still on)"


def default_backend() -> str:
    """"proc" where /proc has per-thread run times in nanoseconds (Linux), else "psutil"."""
    return "proc" if os.path.exists(f"/proc/{os.getpid()}/task/{threading.get_native_id()}/schedstat") else "psutil"


@contextmanager
def watch(*, rate: float | None = None, pid: int | None = None, backend: str | None = None,
          code: str = "") -> Iterator[Watching]:
    """Watch the block: every thread of process `pid` (default: this one) and every process under it.

    `rate` is samples a second (default: `DEFAULT_RATE`); `backend` "proc" or "psutil" (default: the
    best this OS has; "psutil" on Linux tests the fallback). Watches do not nest.
    """
    backend = backend or default_backend()
    if backend not in DEFAULT_RATE:
        raise ValueError(f"backend: unknown {backend!r}; choose one of: {', '.join(DEFAULT_RATE)}")
    rate = _check_rate(DEFAULT_RATE[backend] if rate is None else rate)
    pid = _check_pid(os.getpid() if pid is None else pid)
    if not _active.acquire(blocking=False):
        raise RuntimeError("a watch is already on: watches do not nest (end the outer one first)")
    try:
        watching = Watching()
        names = Names() if pid == os.getpid() else None
        with _Sampler(pid, 1.0 / rate, backend) as sampler, names or _nothing():
            meter = LoadMeter()
            try:
                yield watching
            finally:
                raw = sampler.finish()
                watching.record = _record(raw, names, meter, code)
    finally:
        _active.release()


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _check_rate(rate: Any) -> float:
    low, high = RATE_RANGE
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not low <= rate <= high:
        raise ValueError(f"rate: {rate!r} is out of range; allowed: {low:g} to {high:g} samples a second")
    return float(rate)


def _check_pid(pid: Any) -> int:
    import psutil

    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        raise ValueError(f"pid: expected a process id (a positive int), got {pid!r}")
    if not psutil.pid_exists(pid):
        raise ValueError(f"pid: no process {pid} is running here (it may have ended)")
    return pid


class _Sampler:
    """The sampler process: started, ready (its first sample taken), then told to finish."""

    def __init__(self, pid: int, period: float, backend: str) -> None:
        self.args = [sys.executable, str(_SAMPLER), str(pid), repr(period), backend]
        self.ready, self.done = threading.Event(), threading.Event()
        self.output: list[bytes] = []

    def __enter__(self) -> _Sampler:
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=os.name == "posix")
        try:
            threading.Thread(target=self._read, name="concurrency-lab-watch-reader", daemon=True).start()
            started = self.ready.wait(SAMPLER_TIMEOUT_S)
        except BaseException:  # Ctrl-C while it starts: __exit__ will not run, so end it here
            self._end()
            raise
        if not started or self.output[:1] != [b"ready\n"]:
            self._end()
            raise WatchError(f"the sampler did not start: {self._stderr()}")
        return self

    def __exit__(self, *exc: object) -> None:
        self._end()

    def _read(self) -> None:
        """The sampler's output, in this reader thread. `_end` may close the pipe under it (Ctrl-C while the
        sampler starts: seen in a loaded full run as "I/O operation on closed file" in this thread); what
        was read by then is all there is, and `done` is set either way."""
        out = self.proc.stdout
        try:
            first = out.readline()
            self.output.append(first)
            self.ready.set()
            self.output.append(out.read())
        except (ValueError, OSError):
            pass
        finally:
            self.ready.set()
            self.done.set()

    def finish(self) -> dict:
        """Tell the sampler to stop (close its standard input) and take what it saw."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        if not self.done.wait(SAMPLER_TIMEOUT_S):
            self._end()
            raise WatchError("the sampler did not hand its samples back in time; it was killed")
        self.proc.wait(SAMPLER_TIMEOUT_S)
        try:
            return json.loads(self.output[-1])
        except ValueError:
            raise WatchError(f"the sampler ended without its samples: {self._stderr()}") from None

    def _stderr(self) -> str:
        try:
            return self.proc.stderr.read().decode(errors="replace").strip()[-2000:] or "(nothing on stderr)"
        except (OSError, ValueError):
            return "(stderr unreadable)"

    def _end(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(SAMPLER_TIMEOUT_S)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass


def _record(raw: dict, names: Names | None, meter: LoadMeter, code: str) -> WatchRecord:
    t0 = raw["times"][0]
    times = tuple((t - t0) / 1e9 for t in raw["times"])
    by_pid = {lane["pid"]: lane for lane in raw["lanes"] if lane["kind"] == "process"}
    if names is not None:
        _narrow(raw, names.began)
    lanes = tuple(Lane(name=_name(lane, raw["watched"], names, by_pid), kind=lane["kind"], pid=lane["pid"],
                       thread_id=lane["tid"], first=lane["first"],
                       cpu=tuple(None if v is None else v / 1e9 for v in lane["values"]),
                       os_cpu_s=lane["os_seconds"], sampled_cpu_s=lane["run_seconds_at_os"])
                  for lane in raw["lanes"])
    if names is not None:
        unseen = _unseen(names.ended, raw)
        ids = {lane.thread_id for lane in unseen}  # found by a look, gone before its first read: no lane twice
        lanes = tuple(lane for lane in lanes if lane.thread_id not in ids or any(c is not None for c in lane.cpu))
        lanes += tuple(unseen)
    ours = sum(_total(lane.cpu) for lane in lanes) + raw["sampler_cpu"]
    return WatchRecord(times=times, lanes=lanes, backend=raw["backend"], sampler_cpu_s=raw["sampler_cpu"],
                       load=meter.read(ours_s=ours), cores=info.logical_cores(), t0_ns=t0, code=code,
                       meta={"watched_pid": raw["watched"], "watched_gone": raw["watched_gone"],
                             "small": config.SMALL})


def _narrow(raw: dict, began: list[tuple[int, int]]) -> None:
    """What a thread ran before the sampler found it was spread back to the look before (`_sampler`'s
    `_backfill`): all that is known from outside. A thread started in the watch notes when its `start()`
    was called (`Names.began`), before which it did not exist; its share is spread from then instead, and
    it is idle before. (Without this a thread of 10 ms found by a look drew as a fifth of a core for the
    whole 0.1 s before it.) Of the threads the OS gave the same id, it is the last started before the
    sample that found it."""
    t = raw["times"]
    for lane in raw["lanes"]:
        found = lane.get("found")
        if lane["kind"] != "thread" or found is None or lane["values"][found - lane["first"]] is None:
            continue
        first, values = lane["first"], lane["values"]
        start = max((ns for tid, ns in began if tid == lane["tid"] and ns < t[found]), default=None)
        if start is None or start <= t[first]:
            continue
        value, span = values[found - first], t[found] - start
        for j in range(first, found):
            values[j - first] = value * max(t[j] - start, 0) // span


def _unseen(ended: list[Ended], raw: dict) -> list[Lane]:
    """A lane for each thread that started and ended during the watch without the sampler reading it: it
    lived between two looks for new threads (`_sampler.TREE_S`). What it ran is its own CPU clock as it
    ended (`_names.Ended`), spread evenly over its life, as the sampler spreads what a thread it finds late
    ran before it was found (and never more than all of each interval: Windows counts a thread's CPU in
    ticks of 15.6 ms). A thread the sampler read keeps its sampled lane (the OS can give a thread's id to a
    later one: matched by id and by the time it was read)."""
    t = raw["times"]
    if len(t) < 2:
        return []
    lanes = []
    for end in ended:
        began, over = max(end.began_ns, t[0]), min(end.ended_ns, t[-1])
        if end.cpu_ns <= 0 or over < began or any(_read_while(lane, t, end) for lane in raw["lanes"]):
            continue
        first = min(max(bisect.bisect_right(t, began) - 1, 0), len(t) - 2)
        last = min(max(bisect.bisect_left(t, over), first + 1), len(t) - 1)  # an interval at least
        span = max(end.ended_ns - end.began_ns, 1)
        ran = min(end.cpu_ns, span)
        cpu: list[float | None] = [ran * min(max(t[j] - end.began_ns, 0), span) / span / 1e9
                                   for j in range(first, last + 1)]
        cpu += [None] * (len(t) - first - len(cpu))
        lanes.append(Lane(name=end.name, kind="thread", pid=raw["watched"], thread_id=end.thread_id,
                          first=first, cpu=tuple(cpu), at_exit=True))
    return lanes


def _read_while(lane: dict, t: list[int], end: Ended) -> bool:
    """Whether the sampler read `lane` while the thread that `end` tells of lived: then it is that thread's
    (reads, not the values spread back before the sample that found it)."""
    if lane["kind"] != "thread" or lane["tid"] != end.thread_id:
        return False
    first = lane["first"] if lane.get("found") is None else lane["found"]
    read = [first + i for i, v in enumerate(lane["values"][first - lane["first"]:]) if v is not None]
    return bool(read) and t[read[0]] <= end.ended_ns and t[read[-1]] >= end.began_ns


def _total(cpu: tuple[float | None, ...]) -> float:
    seen = [c for c in cpu if c is not None]
    return seen[-1] - seen[0] if len(seen) > 1 else 0.0


def _name(lane: dict, watched: int, names: Names | None, by_pid: dict[int, dict]) -> str:
    if lane["kind"] == "thread":
        known = names.threads.get(lane["tid"]) if names else None
        return known or f"thread {lane['tid']}"
    return f"pid {lane['pid']} · {_role(lane, watched, names, by_pid)}"


def _role(lane: dict, watched: int, names: Names | None, by_pid: dict[int, dict]) -> str:
    """What a process is, as the watched program started it, or as its command line and parent tell."""
    known = names.processes.get(lane["pid"]) if names else None
    if known:
        return known
    cmd = " ".join(lane["cmdline"])
    for marker, role in (("multiprocessing.forkserver", "forkserver"),
                         ("multiprocessing.resource_tracker", "resource tracker"),
                         ("multiprocessing.spawn", "spawned worker")):
        if marker in cmd and not (marker == "multiprocessing.forkserver" and _is_forkserver(by_pid, lane["ppid"])):
            return role
    if _is_forkserver(by_pid, lane["ppid"]):
        return "worker (forkserver)"
    argv0 = os.path.basename(lane["cmdline"][0]) if lane["cmdline"] else "?"
    if lane["ppid"] == watched and lane["cmdline"] == sys.orig_argv:  # a fork keeps its parent's command line
        return "forked child"
    script = next((os.path.basename(a) for a in lane["cmdline"][1:] if a.endswith(".py")), "")
    return f"subprocess {argv0} {script}".rstrip()


def _is_forkserver(by_pid: dict[int, dict], pid: int) -> bool:
    parent = by_pid.get(pid)
    return parent is not None and "multiprocessing.forkserver" in " ".join(parent["cmdline"])


__all__ = ["DEFAULT_RATE", "Lane", "WatchError", "WatchRecord", "Watching", "default_backend", "watch"]
