"""What the sampler reads: each thread's run time and the process tree, from /proc on Linux (`ProcReader`)
or from psutil elsewhere (`PsutilReader`, also on Linux when asked, to test it).

Standard library only, but psutil for the fallback: this runs in the sampler's own small process
(`_sampler`), which must start fast and never import the watched program's packages.
"""

from __future__ import annotations

import os


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
        self.listed: dict[int, list[int]] = {}  # each process's threads, as the last `processes` listed them

    def processes(self) -> list[int]:
        """The watched process and every process under it (but this sampler).

        A thread's children are read again only if it ran since the last look: starting a process
        takes CPU. With 200 sleeping threads this is what keeps a look cheap (one file per thread).
        """
        found, todo = [], [self.watched]
        self.listed = {}
        while todo:
            pid = todo.pop()
            found.append(pid)
            names = _listdir(f"/proc/{pid}/task")
            self.listed[pid] = [int(name) for name in names]
            for name in names:
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
        """The process's threads: as the last `processes` listed them (a look lists each folder once:
        300 us with 200 threads), or listed now."""
        listed = self.listed.get(pid)
        return listed if listed is not None else [int(t) for t in _listdir(f"/proc/{pid}/task")]

    def open(self, pid: int, tid: int) -> int | None:
        """The thread's schedstat, kept open; None when it has ended."""
        fd = self.fds.get((pid, tid))
        if fd is None:
            try:
                fd = self.fds[(pid, tid)] = os.open(f"/proc/{pid}/task/{tid}/schedstat", os.O_RDONLY)
            except OSError:
                return None
        return fd

    @staticmethod
    def process_clock(pid: int) -> int:
        """The id of the process's CPU-time clock, for `time.clock_gettime_ns`: Linux's encoding of a CPU
        clock, `CPUCLOCK_SCHED` (2) of process `pid` (include/linux/posix-timers.h, `make_process_cpuclock`).

        It is the sum of the counts each thread's schedstat shows, those of threads that ended included,
        read in one system call with no file to open, for any process of ours. Another process's thread
        clocks are refused (EINVAL), so its threads are still read from /proc. Once the process has been
        reaped, reading it raises OSError."""
        return ((~pid) << 3) | 2

    def close(self, pid: int, tid: int) -> None:
        fd = self.fds.pop((pid, tid), None)
        if fd is not None:
            os.close(fd)

    def run_ns(self, pid: int, tid: int) -> int | None:
        fd = self.open(pid, tid)
        if fd is None:
            return None
        try:
            raw = os.pread(fd, 64, 0)
        except OSError:
            raw = b""
        if not raw:  # the thread ended
            self.close(pid, tid)
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
