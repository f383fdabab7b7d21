"""The sampler: a small process of its own that notes, many times a second, how much CPU time every thread
of a watched process and every process under it has used.

Why a process of its own: a sampler thread inside the watched interpreter would need its GIL to run, and so
would change what it watches (a thread waiting for the GIL is exactly what a lesson shows). This program
imports only the standard library (and psutil for the fallback), reads what the OS keeps, and writes
nothing until it ends.

- Linux: `/proc/<pid>/task/<tid>/schedstat`, whose first number is the nanoseconds the thread has run on a
  CPU. Each file stays open and is re-read with `pread` (about 1 us), so 250 samples a second of 30 threads
  cost about 2% of one core (benchmarks/watch.py prints what it costs). The process tree comes from
  `/proc/<pid>/task/<tid>/children`, looked at every `TREE_S` seconds; the OS's own tick-based
  account of each thread (`stat`, utime + stime) is read at the first sample and every `OS_EVERY`, for
  the check.
- Elsewhere (and on Linux when asked, to test it): psutil's per-thread CPU times, at a coarser rate.

It stops when its standard input closes: the watching block ended, or the watched process died (the OS
closes the pipe then, even after a crash or a kill). It also stops when the watched process is gone.
At the end it writes one JSON document to standard output; before the first sample it writes "ready".
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

#: Seconds between two looks at the process tree (threads and processes that start or end). A look costs
#: about 0.4 ms (a file per thread), 15 times a sample; a thread or process that lives less than this can
#: be missed. By the clock, not by a count of samples: counted, psutil's 50 samples a second (or a rate the
#: CPU budget had lowered) looked every 0.5 s or more, and two pool threads that ran 0.4 s between two
#: looks were never seen (the 3.13t lane, test_watch, after lesson 06's tests left threads behind).
TREE_S = 0.1
#: Samples between two readings of the OS's own account of every lane (for the check): every 0.5 s.
OS_EVERY = 125
#: Lanes that ran less than this are not read again for the check (it compares lanes of 0.2 s and more).
NOTE_ABOVE_NS = 100_000_000
#: Most samples kept; a longer block is sampled at the same rate, its oldest samples are not dropped:
#: past this many the sampler halves its rate instead (a memory bound for a block left running for hours).
MAX_SAMPLES = 200_000
#: The sampler's own CPU, as a share of one core, that it keeps under: on a 2-core VM, merely waking 200
#: times a second costs ~1.7% and a sample ~1.5 us a lane, so 20 threads come to ~2.5-3%, but 200 threads
#: would be 8% (benchmarks/watch.py prints each). Every `BUDGET_EVERY` samples it sets its rate from what
#: a sample cost since the last look: the rate asked for, or less when that would pass the budget (200
#: threads: ~120 a second). The rate achieved is in the record.
CPU_BUDGET = 0.04
BUDGET_EVERY = 10


class Lane:
    """One thread of the watched process, or one process under it (all its threads together)."""

    def __init__(self, key: str, kind: str, pid: int, tid: int, first: int) -> None:
        self.key, self.kind, self.pid, self.tid, self.first = key, kind, pid, tid, first
        self.values: list[int | None] = []
        self.os_first: float | None = None
        self.os_last: float | None = None
        self.run_first: int | None = None
        self.run_last: int | None = None
        self.ppid = 0
        self.cmdline: list[str] = []
        self.ended = False
        self.born_after: int | None = None
        """The sample index of the tree look before the one that found it, when it started during the watch."""

    def to_json(self) -> dict:
        return {"key": self.key, "kind": self.kind, "pid": self.pid, "tid": self.tid, "first": self.first,
                "values": self.values, "os_seconds": _delta(self.os_first, self.os_last),
                "run_seconds_at_os": None if self.run_first is None or self.run_last is None
                else (self.run_last - self.run_first) / 1e9,
                "ppid": self.ppid, "cmdline": self.cmdline, "ended": self.ended}


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


class ProcReader:
    """Per-thread run time from /proc (Linux), files kept open."""

    name = "proc"

    def __init__(self, watched: int, me: int) -> None:
        self.watched, self.me = watched, me
        self.tick = os.sysconf("SC_CLK_TCK")
        self.fds: dict[tuple[int, int], int] = {}
        self.latest: dict[tuple[int, int], int] = {}  # run ns of each thread at its last read
        self.looked: dict[tuple[int, int], int] = {}  # ... and at the last look for children
        self.kids: dict[tuple[int, int], list[int]] = {}  # the children each thread had then

    def processes(self) -> list[int]:
        """The watched process and every process under it (but this sampler).

        A thread's children are read again only if it ran since the last look: starting a process
        takes CPU. With 200 sleeping threads this is what keeps a look cheap (one file per thread).
        """
        found, todo = [], [self.watched]
        while todo:
            pid = todo.pop()
            found.append(pid)
            for name in _listdir(f"/proc/{pid}/task"):
                key = (pid, int(name))
                ran = self.latest.get(key)
                if ran is None or ran != self.looked.get(key) or key not in self.kids:
                    children = [int(c) for c in _read(f"/proc/{pid}/task/{name}/children").split()]
                    self.kids[key] = [c for c in children if c != self.me]
                    if ran is not None:
                        self.looked[key] = ran
                todo.extend(self.kids[key])
        return found

    def threads(self, pid: int) -> list[int]:
        return [int(t) for t in _listdir(f"/proc/{pid}/task")]

    def run_ns(self, pid: int, tid: int) -> int | None:
        fd = self.fds.get((pid, tid))
        if fd is None:
            try:
                fd = self.fds[(pid, tid)] = os.open(f"/proc/{pid}/task/{tid}/schedstat", os.O_RDONLY)
            except OSError:
                return None
        try:
            raw = os.pread(fd, 64, 0)
        except OSError:
            raw = b""
        if not raw:  # the thread ended
            os.close(self.fds.pop((pid, tid)))
            return None
        value = self.latest[(pid, tid)] = int(raw.split(None, 1)[0])
        return value

    def os_seconds(self, pid: int, tid: int | None) -> float | None:
        """The OS's tick-based account (utime + stime) of a thread, or of a whole process."""
        path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
        text = _read(path)
        if not text:
            return None
        fields = text.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.tick

    def describe(self, pid: int) -> tuple[int, list[str]]:
        stat = _read(f"/proc/{pid}/stat")
        ppid = int(stat.rsplit(")", 1)[1].split()[1]) if stat else 0
        return ppid, [a for a in _read(f"/proc/{pid}/cmdline").split("\0") if a]


class PsutilReader:
    """Per-thread CPU times from psutil: macOS, Windows, or Linux when asked. Coarser (OS ticks)."""

    name = "psutil"

    def __init__(self, watched: int, me: int) -> None:
        import psutil

        self.psutil, self.watched, self.me = psutil, watched, me
        self.cache: dict[int, dict[int, float]] = {}

    def processes(self) -> list[int]:
        try:
            root = self.psutil.Process(self.watched)
            return [self.watched] + [p.pid for p in root.children(recursive=True) if p.pid != self.me]
        except self.psutil.Error:
            return []

    def threads(self, pid: int) -> list[int]:
        try:
            times = {t.id: t.user_time + t.system_time for t in self.psutil.Process(pid).threads()}
        except self.psutil.Error:
            times = {}
        self.cache[pid] = times
        return list(times)

    def run_ns(self, pid: int, tid: int) -> int | None:
        seconds = self.cache.get(pid, {}).get(tid)
        return None if seconds is None else int(seconds * 1e9)

    def os_seconds(self, pid: int, tid: int | None) -> float | None:
        try:
            proc = self.psutil.Process(pid)
            if tid is None:
                t = proc.cpu_times()
                return t.user + t.system
            return self.cache.get(pid, {}).get(tid)
        except self.psutil.Error:
            return None

    def describe(self, pid: int) -> tuple[int, list[str]]:
        try:
            proc = self.psutil.Process(pid)
            return proc.ppid(), proc.cmdline()
        except self.psutil.Error:
            return 0, []


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


class Sampler:
    """The sampling loop and what it has seen so far."""

    def __init__(self, reader: ProcReader | PsutilReader, period: float) -> None:
        self.reader, self.period = reader, period
        self.times: list[int] = []
        self.lanes: dict[str, Lane] = {}
        self.members: dict[int, list[int]] = {}  # process pid -> its threads, as last seen
        self.last: dict[int, dict[int, int]] = {}  # process pid -> {thread: run ns at the last sample}
        self.dead: dict[int, int] = {}  # process pid -> run ns of its threads that ended
        self.last_look: int | None = None  # the sample index of the last look at the tree

    def look_at_tree(self, n: int) -> bool:
        """Refresh which threads and processes exist; False once the watched process is gone."""
        reader = self.reader
        procs = reader.processes()
        if reader.watched not in procs or not reader.threads(reader.watched):
            return False
        for pid in procs:
            self.members[pid] = reader.threads(pid)
            if pid == reader.watched:
                for tid in self.members[pid]:
                    self._lane(f"t{tid}", "thread", pid, tid, n)
            else:
                self._lane(f"p{pid}", "process", pid, 0, n)
                lane = self.lanes[f"p{pid}"]
                # Read again while it lives: a child seen between fork and exec still had its parent's
                # command line (a forkserver looked like a forked copy of the kernel). A zombie (exited,
                # not yet reaped) reads as an empty command line: keep the last one it had.
                if not lane.ended:
                    ppid, cmdline = reader.describe(pid)
                    if cmdline:
                        lane.ppid, lane.cmdline = ppid, cmdline
        self.last_look = n
        return True

    def _lane(self, key: str, kind: str, pid: int, tid: int, n: int) -> None:
        if key not in self.lanes:
            lane = self.lanes[key] = Lane(key, kind, pid, tid, n)
            lane.values = [None] * (n - lane.first)
            lane.born_after = self.last_look
            if kind == "process":
                lane.ppid, lane.cmdline = self.reader.describe(pid)

    def sample(self) -> None:
        reader = self.reader
        self.times.append(time.perf_counter_ns())
        if isinstance(reader, PsutilReader):
            for pid in self.members:
                reader.threads(pid)
        for lane in self.lanes.values():
            value = None
            if not lane.ended:
                value = reader.run_ns(lane.pid, lane.tid) if lane.kind == "thread" else self._process_ns(lane.pid)
                lane.ended = value is None
            lane.values.append(value)
            if lane.born_after is not None and value is not None:
                self._backfill(lane)

    def _backfill(self, lane: Lane) -> None:
        """Spread what a lane ran before it was found evenly back to the tree look before, where it must
        have started (one that existed then would have been found then).

        Its run time counts from its start, so all of it fell inside the watch; dropped, it read as
        other programs' load and as idle cores (a free-threaded Python's two pool threads ran 0.1 s,
        both cores busy, before the look that found them, and the picture showed nothing there). Spread
        evenly, a lane never runs more than all of each interval (its run time cannot pass the time since
        it started), and threads that took turns in that window add up to what they ran together.
        """
        p, n, times = lane.born_after, len(self.times) - 1, self.times
        lane.born_after = None
        value, span = lane.values[-1], times[n] - times[p]
        if span <= 0 or n <= p:
            return
        lane.first = p
        lane.values = [value * (times[j] - times[p]) // span for j in range(p, n)] + [value]

    def _process_ns(self, pid: int) -> int | None:
        """A process's run time: its living threads' plus those that ended (so it never goes down);
        None once none is left."""
        now = {}
        for tid in self.members.get(pid, ()):
            value = self.reader.run_ns(pid, tid)
            if value is not None:
                now[tid] = value
        before = self.last.get(pid, {})
        self.dead[pid] = self.dead.get(pid, 0) + sum(v for tid, v in before.items() if tid not in now)
        self.last[pid] = now
        return self.dead[pid] + sum(now.values()) if now else None

    def note_os(self, first: bool) -> None:
        """The OS's own account of every lane, at the first sample and later, beside the run time then.

        Later readings skip lanes that have run less than `NOTE_ABOVE_NS` since the first: the check
        compares only lanes with far more, and reading a file per idle thread is what it would cost."""
        for lane in self.lanes.values():
            if lane.ended:
                continue
            if not first and lane.run_first is not None and lane.values and lane.values[-1] is not None \
                    and lane.values[-1] - lane.run_first < NOTE_ABOVE_NS:
                continue
            seconds = self.reader.os_seconds(lane.pid, lane.tid if lane.kind == "thread" else None)
            run = lane.values[-1] if lane.values else None
            if seconds is None or run is None:
                continue
            if first or lane.os_first is None:
                lane.os_first, lane.run_first = seconds, run
            if not first:
                lane.os_last, lane.run_last = seconds, run


def _keep_to_budget(sampler: Sampler, asked: float, window: tuple[float, float, int]) -> tuple[float, float, int]:
    """Set the period from what a sample cost in the last window: the rate asked for, unless that would
    cost more than `CPU_BUDGET` of a core, then the rate that costs 95% of it."""
    cpu, wall, n = time.process_time(), time.perf_counter(), len(sampler.times)
    per_sample = (cpu - window[0]) / max(n - window[2], 1)
    sampler.period = max(asked, per_sample / (0.95 * CPU_BUDGET))
    return cpu, wall, n


def main(argv: list[str]) -> int:
    watched, period, backend = int(argv[0]), float(argv[1]), argv[2]
    me = os.getpid()
    reader = ProcReader(watched, me) if backend == "proc" else PsutilReader(watched, me)
    sampler = Sampler(reader, period)
    closed = threading.Event()

    def lifeline() -> None:  # our standard input closes when the watching block ends or its process dies
        try:
            while os.read(0, 4096):  # the raw fd: a buffered stdin would hold a lock at exit
                pass
        finally:
            closed.set()

    threading.Thread(target=lifeline, daemon=True).start()
    alive = sampler.look_at_tree(0)
    last_tree = time.perf_counter()
    sampler.sample()
    sampler.note_os(first=True)
    print("ready", flush=True)
    cpu0 = time.process_time()
    t_next = time.perf_counter()
    asked = period
    window = (time.process_time(), time.perf_counter(), len(sampler.times))
    n = 1
    while alive and not closed.is_set():
        t_next += sampler.period
        pause = t_next - time.perf_counter()
        if pause > 0:
            time.sleep(pause)  # cheaper than waiting on an event; the lifeline is looked at every sample
        else:
            t_next = time.perf_counter()  # late (a busy machine): start counting again from now
        if time.perf_counter() - last_tree >= TREE_S:
            last_tree = time.perf_counter()
            alive = sampler.look_at_tree(len(sampler.times))
        if n % OS_EVERY == 0:
            sampler.note_os(first=False)
        sampler.sample()
        n += 1
        if n % BUDGET_EVERY == 0:
            window = _keep_to_budget(sampler, asked, window)
        if len(sampler.times) >= MAX_SAMPLES and sampler.period < 1.0:
            sampler.period *= 2  # a very long block: fewer samples, same picture
    sampler.sample()
    sampler.note_os(first=False)
    loop_cpu = time.process_time() - cpu0
    json.dump({"backend": reader.name, "watched": watched, "sampler_pid": me, "times": sampler.times,
               "lanes": [lane.to_json() for lane in sampler.lanes.values()],
               "sampler_cpu": loop_cpu, "watched_gone": not alive}, sys.stdout)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    os._exit(code)  # at once: the lifeline thread may still wait on its read (the watched process ended)
