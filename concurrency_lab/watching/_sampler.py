"""The sampler: a small process of its own that notes, many times a second, how much CPU time every thread
of a watched process and every process under it has used.

Why a process of its own: a sampler thread inside the watched interpreter would need its GIL to run, and so
would change what it watches (a thread waiting for the GIL is exactly what a lesson shows). This program
imports only the standard library (and psutil for the fallback), reads what the OS keeps, and writes
nothing until it ends.

What it reads is in `_readers`:
- Linux: `/proc/<pid>/task/<tid>/schedstat`, whose first number is the nanoseconds the thread has run on a
  CPU. Each file stays open and is re-read with `pread` (1-4 us on a 2-vCPU VM), in a loop of its own
  (`Sampler.sample`; benchmarks/watch.py prints what the sampler costs). Each sample first reads the
  watched process's CPU clock (`ProcReader.process_clock`, one system call): when it has not moved, no
  thread of it ran, and none is read. A process under the watched one is one lane, read whole in one
  call from its own CPU clock, which also counts its threads that ended. The process tree comes from
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

if __package__:  # imported, as tests and tools may
    from ._readers import ProcReader, PsutilReader
else:  # run as a script, as the watch starts it: its folder is sys.path[0]
    from _readers import ProcReader, PsutilReader

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
#: The sampler's own CPU, as a share of one core, that it keeps under: on a 2-vCPU VM, merely waking 200
#: times a second costs 1.2-1.8% and a read 5-15 us, so a few threads come to 1.7-3% (README, Benchmarks),
#: but 200 new threads, each read every sample until it has been idle `QUIET_AFTER` reads, would pass 8%.
#: Every `BUDGET_EVERY` samples it sets its rate from what a sample cost since the last look: the rate
#: asked for, or less when that would pass the budget. The rate achieved is in the record.
CPU_BUDGET = 0.04
BUDGET_EVERY = 10
#: A thread whose run time stayed the same for this many reads in a row (50 ms at 200 a second) is read
#: only every `IDLE_EVERY`-th sample, until a read finds it has run. A read costs 5-15 us on a 2-vCPU VM
#: (a `pread` of a schedstat file, on caches gone cold while the sampler slept), and a notebook's kernel
#: has about 8 threads that mostly wait. What the picture gives up: a thread waking after 50 ms idle has
#: what it ran before the read that notices spread evenly over up to `IDLE_EVERY - 1` samples (15 ms),
#: as a new lane's is; a thread that keeps running is read every sample.
QUIET_AFTER = 10
IDLE_EVERY = 4


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
        self.found: int | None = None
        """The sample that first read it, when what it ran before was spread back to `born_after` (`_backfill`)."""
        self.quiet = 0
        """Reads in a row that found it had not run (see `QUIET_AFTER`)."""
        self.skipped = 0
        """Samples since its last read, while it is read every `IDLE_EVERY`-th sample only."""
        self.described_at: int | None = None
        """A process lane's run time when its command line was last read."""

    def to_json(self, samples: int) -> dict:
        """`samples`: how many the sampler took. A lane that ended was not read again: None stands for it."""
        values = self.values + [None] * (samples - self.first - len(self.values))
        return {"key": self.key, "kind": self.kind, "pid": self.pid, "tid": self.tid, "first": self.first,
                "values": values, "os_seconds": _delta(self.os_first, self.os_last),
                "run_seconds_at_os": None if self.run_first is None or self.run_last is None
                else (self.run_last - self.run_first) / 1e9,
                "ppid": self.ppid, "cmdline": self.cmdline, "ended": self.ended, "found": self.found}


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


class Sampler:
    """The sampling loop and what it has seen so far."""

    def __init__(self, reader: ProcReader | PsutilReader, period: float) -> None:
        self.reader, self.period = reader, period
        self.times: list[int] = []
        self.stamp = self.times.append
        self.lanes: dict[str, Lane] = {}
        self.members: dict[int, list[int]] = {}  # process pid -> its threads, as last seen
        self.last: dict[int, dict[int, int]] = {}  # process pid -> {thread: run ns at the last sample}
        self.dead: dict[int, int] = {}  # process pid -> run ns of its threads that ended
        self.last_look: int | None = None  # the sample index of the last look at the tree
        self.reads: list[tuple[Lane, int | None, list, int | None]] = []  # what each sample reads, and how (`_route`)
        self.born: list[Lane] = []  # lanes found after the first look, not read yet (`_backfill`)
        self.changed = False  # lanes were found since the last `_route`
        # The watched process's CPU clock, and what it read at the last sample (`sample`: when it has not
        # moved, none of its threads ran, and none needs reading)
        self.whole = ProcReader.process_clock(reader.watched) if isinstance(reader, ProcReader) else None
        self.whole_ns: int | None = None

    def look_at_tree(self, n: int) -> bool:
        """Refresh which threads and processes exist; False once the watched process is gone."""
        reader = self.reader
        for lane, fd, values, cid in self.reads:  # what each thread has run, for `processes` to tell who ran
            if values and values[-1] is not None:
                if fd is not None:
                    reader.latest[(lane.pid, lane.tid)] = values[-1]
                elif cid is not None:  # a process, read whole: if it ran, any of its threads may have
                    for tid in self.members.get(lane.pid, ()):
                        reader.latest[(lane.pid, tid)] = values[-1]
        procs = reader.processes()
        if reader.watched not in procs or not reader.threads(reader.watched):
            return False
        for pid in procs:
            before, self.members[pid] = self.members.get(pid, ()), reader.threads(pid)
            if pid == reader.watched:
                known, now = set(before), set(self.members[pid])
                for tid in self.members[pid]:
                    if tid not in known:
                        self._lane(f"t{tid}", "thread", pid, tid, n)
                for tid in known - now if now else ():  # ended and gone: `sample` may not read it again
                    self._ended(self.lanes.get(f"t{tid}"))
            else:
                self._lane(f"p{pid}", "process", pid, 0, n)
                lane = self.lanes[f"p{pid}"]
                # Read again while it lives: a child seen between fork and exec still had its parent's
                # command line (a forkserver looked like a forked copy of the kernel). A zombie (exited,
                # not yet reaped) reads as an empty command line: keep the last one it had.
                # Only if it ran since (an exec takes CPU): idle pool workers and forkservers are common.
                ran = lane.values[-1] if lane.values else None
                if not lane.ended and (ran is None or ran != lane.described_at):
                    ppid, cmdline = reader.describe(pid)
                    if cmdline:
                        lane.ppid, lane.cmdline, lane.described_at = ppid, cmdline, ran
        self.last_look = n
        if self.changed:
            self._route()
        return True

    def _route(self) -> None:
        """The living lanes, each with what `sample` reads it by: with /proc, a thread's schedstat, open,
        or a process's CPU clock (`ProcReader.process_clock`); otherwise (every lane under psutil, a thread
        already gone) None and None, for the reader."""
        self.changed = False
        proc = isinstance(self.reader, ProcReader)
        self.reads = []
        for lane in self.lanes.values():
            if not lane.ended:
                thread = lane.kind == "thread"
                fd = self.reader.open(lane.pid, lane.tid) if proc and thread else None
                cid = ProcReader.process_clock(lane.pid) if proc and not thread else None
                self.reads.append((lane, fd, lane.values, cid))

    def _ended(self, lane: Lane | None) -> None:
        if lane is not None and not lane.ended:
            lane.ended = self.changed = True
            if isinstance(self.reader, ProcReader):
                self.reader.close(lane.pid, lane.tid)

    def _lane(self, key: str, kind: str, pid: int, tid: int, n: int) -> None:
        if key not in self.lanes:
            self.changed = True
            lane = self.lanes[key] = Lane(key, kind, pid, tid, n)
            lane.values = [None] * (n - lane.first)
            lane.born_after = self.last_look
            if lane.born_after is not None:
                self.born.append(lane)
            if kind == "process":
                lane.ppid, lane.cmdline = self.reader.describe(pid)

    def sample(self) -> None:
        """Read every living lane once. A lane that ended is not read again (`Lane.to_json` fills it in).

        Its cost is most of the sampler's own CPU: a /proc thread is read with no call into the reader, and
        a lane that has not run for `QUIET_AFTER` reads is read only every `IDLE_EVERY`-th sample until it
        runs again (`_spread` fills the samples between). When the watched process's CPU clock has not
        moved since the last sample, none of its threads ran: each one whose last value was read keeps it,
        exactly, with no read (an idle kernel, a block that sleeps or awaits)."""
        reader = self.reader
        self.stamp(time.perf_counter_ns())
        ended = still = False
        pread, clock = os.pread, time.clock_gettime_ns
        if self.whole is not None:
            try:
                total = clock(self.whole)
            except OSError:  # gone: the next look at the tree ends the watch
                total = None
            still = total is not None and total == self.whole_ns
            self.whole_ns = total
        else:
            for pid in self.members:  # psutil: one call per process refreshes all its threads' times
                reader.threads(pid)
        for lane, fd, values, cid in self.reads:
            if still and fd is not None and not lane.skipped and values and values[-1] is not None:
                lane.quiet += 1  # read before this sample's clock, and the clock has not moved since
                values.append(values[-1])
                continue
            if lane.quiet >= QUIET_AFTER and lane.skipped < IDLE_EVERY - 1:
                lane.skipped += 1
                values.append(values[-1])  # as if it had not run; the next read says
                continue
            if fd is not None:
                try:
                    raw = pread(fd, 64, 0)
                except OSError:  # the thread ended and was reaped
                    raw = b""
                value = int(raw.split(None, 1)[0]) if raw else None
            elif cid is not None:
                try:
                    value = clock(cid)
                except OSError:  # reaped (then None here too), or a kernel that refuses the clock
                    value = self._process_ns(lane.pid)
            else:
                value = reader.run_ns(lane.pid, lane.tid) if lane.kind == "thread" else self._process_ns(lane.pid)
            if value is None:
                if fd is not None:
                    reader.close(lane.pid, lane.tid)
                lane.ended = ended = True
                continue
            if values and value == values[-1]:
                lane.quiet += 1
            else:
                if lane.skipped:
                    _spread(values, lane.skipped, value)
                lane.quiet = 0
            lane.skipped = 0
            values.append(value)
        if ended:
            self._route()
        if self.born:
            for lane in self.born:
                if not lane.ended and lane.values and lane.values[-1] is not None:
                    self._backfill(lane)
            self.born = [lane for lane in self.born if lane.born_after is not None and not lane.ended]

    def _backfill(self, lane: Lane) -> None:
        """Spread what a lane ran before it was found evenly back to the tree look before, where it must
        have started (one that existed then would have been found then).

        Its run time counts from its start, so all of it fell inside the watch; dropped, it read as
        other programs' load and as idle cores (a free-threaded Python's two pool threads ran 0.1 s,
        both cores busy, before the look that found them, and the picture showed nothing there). Spread
        evenly, a lane never runs more than all of each interval (its run time cannot pass the time since
        it started), and threads that took turns in that window add up to what they ran together. The
        watch, told by a thread as it ends when it began, narrows this to its start (`watching._narrow`).
        """
        p, n, times = lane.born_after, len(self.times) - 1, self.times
        lane.born_after = None
        value, span = lane.values[-1], times[n] - times[p]
        if span <= 0 or n <= p:
            return
        lane.first, lane.found = p, n
        # the same list, not a new one: `reads` holds it
        lane.values[:] = [value * (times[j] - times[p]) // span for j in range(p, n)] + [value]

    def _process_ns(self, pid: int) -> int | None:
        """A process's run time under psutil: its living threads' plus those that ended (so it never goes
        down); None once none is left. (With /proc, the process's CPU clock gives the same in one call.)"""
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


def _spread(values: list, skipped: int, value: int) -> None:
    """The last `skipped` samples were not read (an idle thread): spread what it ran between the read
    before them and this one's `value` evenly over them, as `Sampler._backfill` does for a new lane."""
    before = values[-skipped - 1]
    step = (value - before) / (skipped + 1)
    for j in range(1, skipped + 1):
        values[-skipped - 1 + j] = before + int(step * j)


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
    closed: list[bool] = []  # not an Event: looked at every sample, and a list's truth costs no call

    def lifeline() -> None:  # our standard input closes when the watching block ends or its process dies
        try:
            while os.read(0, 4096):  # the raw fd: a buffered stdin would hold a lock at exit
                pass
        finally:
            closed.append(True)

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
    # The loop runs 200 times a second, each time on caches gone cold while it slept: every name is local
    # and every call that is not needed is left out (benchmarks/watch.py prints what it costs).
    clock, sleep, sample = time.perf_counter, time.sleep, sampler.sample
    while alive and not closed:
        t_next += sampler.period
        now = clock()
        if t_next > now:
            sleep(t_next - now)  # cheaper than waiting on an event; the lifeline is looked at every sample
            now = t_next
        else:
            t_next = now  # late (a busy machine): start counting again from now
        if now - last_tree >= TREE_S:
            last_tree = now
            alive = sampler.look_at_tree(len(sampler.times))
        if n % OS_EVERY == 0:
            sampler.note_os(first=False)
        sample()
        n += 1
        if n % BUDGET_EVERY == 0:
            window = _keep_to_budget(sampler, asked, window)
            if len(sampler.times) >= MAX_SAMPLES and sampler.period < 1.0:
                sampler.period *= 2  # a very long block: fewer samples, same picture
    sampler.sample()
    sampler.note_os(first=False)
    loop_cpu = time.process_time() - cpu0
    json.dump({"backend": reader.name, "watched": watched, "sampler_pid": me, "times": sampler.times,
               "lanes": [lane.to_json(len(sampler.times)) for lane in sampler.lanes.values()],
               "sampler_cpu": loop_cpu, "watched_gone": not alive}, sys.stdout)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    os._exit(code)  # at once: the lifeline thread may still wait on its read (the watched process ended)
