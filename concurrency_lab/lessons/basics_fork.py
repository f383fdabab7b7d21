"""Lesson 01, part 2: what fork and threads really cost, each shown in a child Python.

Each demo is a short script run as a learner runs a `.py` file (`children.run_script`, with a timeout), so
the kernel never forks itself: a kernel runs threads of its own, and a fork with threads running is the
very hazard Python 3.12 warns about. Each result has a repr that says what was measured (the numbers
vary) and a `verdict()` whose lines hold on any machine, for nbval to compare.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from ..children import run_script

__all__ = ['FORK_WARNING_SCRIPT', 'ForkWarning', 'fork_with_threads', 'kernel_threads',
           'COPY_ON_WRITE_SCRIPT', 'CopyOnWrite', 'copy_on_write', 'THREAD_STACKS_SCRIPT', 'ThreadStacks',
           'thread_stacks']

#: How long one demo child may take (it needs well under a second; a loaded machine gets the margin).
CHILD_TIMEOUT_S = 30.0

FORK_WARNING_SCRIPT = '''\
import os
import threading

stop = threading.Event()
helper = threading.Thread(target=stop.wait)  # a second thread, as a Jupyter kernel has several
helper.start()
pid = os.fork()
if pid == 0:
    os._exit(0)  # the child leaves at once
os.waitpid(pid, 0)
stop.set()
helper.join()
print("forked with a second thread running")
'''


def _has_fork() -> bool:
    import os

    return hasattr(os, "fork")


def kernel_threads() -> int:
    """How many OS threads this process runs now (the count `os.fork()` looks at before warning)."""
    import psutil

    return psutil.Process().num_threads()


@dataclass(frozen=True)
class ForkWarning:
    """What `os.fork()` printed in a process running a second thread."""

    version: tuple[int, int]
    output: str
    available: bool = True

    @property
    def warned(self) -> bool:
        return "DeprecationWarning" in self.output and "fork() may lead to deadlocks" in self.output

    def __repr__(self) -> str:
        v = f"Python {self.version[0]}.{self.version[1]}"
        if not self.available:
            return f"{v}: this system has no fork()"
        if self.warned:
            line = next(ln for ln in self.output.splitlines() if "DeprecationWarning" in ln)
            return f"{v}: fork() with a second thread running printed:\n{line.strip()}"
        return f"{v}: fork() with a second thread running printed no warning (it is new in Python 3.12)"

    def verdict(self) -> str:
        """True on every machine: the warning shows exactly from 3.12 on."""
        if not self.available:
            return "this system has no fork(): nothing to warn about"
        return (f"fork() with a thread running warned if and only if this Python is 3.12 or newer: "
                f"{self.warned == (self.version >= (3, 12))}")


def fork_with_threads() -> ForkWarning:
    """Run `FORK_WARNING_SCRIPT` in a child Python and keep what it printed (warnings go to stderr, merged)."""
    version = sys.version_info[:2]
    if not _has_fork():
        return ForkWarning(version, "", available=False)
    child = run_script(FORK_WARNING_SCRIPT, timeout=CHILD_TIMEOUT_S, name="fork_with_threads.py")
    if not child.ok:
        raise RuntimeError(f"the fork demo failed: {child.stdout[-500:]}")
    return ForkWarning(version, child.stdout)


COPY_ON_WRITE_SCRIPT = '''\
import gc
import json
import os

import psutil


def mib(n):
    return n / 2**20


def grows_in_a_child(action):
    """Fork; the child does `action` and reports how much its unique memory (USS) grew meanwhile."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        before = psutil.Process().memory_full_info().uss
        action()
        os.write(w, str(psutil.Process().memory_full_info().uss - before).encode())
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    grew = int(os.read(r, 64))
    os.close(r)
    return mib(grew)


def read_all():
    return sum(item[0] for item in data)  # reads every list and every float, changes none


before = psutil.Process().memory_info().rss
data = [[float(i)] for i in range(500_000)]  # half a million small lists, each holding a float
built = mib(psutil.Process().memory_info().rss - before)
result = {"built": built, "read": grows_in_a_child(read_all), "collect": grows_in_a_child(gc.collect)}
gc.freeze()  # moves every object the collector tracks out of its reach, for good
result["collect_frozen"] = grows_in_a_child(gc.collect)
result["read_frozen"] = grows_in_a_child(read_all)
print(json.dumps(result))
'''


@dataclass(frozen=True)
class CopyOnWrite:
    """MiB a forked child's unique memory grew by while it only read the parent's data, or only collected."""

    built: float
    read: float
    collect: float
    collect_frozen: float
    read_frozen: float

    def __repr__(self) -> str:
        return "\n".join([
            f"the parent built {self.built:.0f} MiB of small lists; a forked child's own memory then grew by:",
            f"  {self.read:5.1f} MiB while it only read them",
            f"  {self.collect:5.1f} MiB while it only ran gc.collect()",
            f"  {self.collect_frozen:5.1f} MiB for gc.collect() after the parent called gc.freeze()",
            f"  {self.read_frozen:5.1f} MiB for reading after gc.freeze()"])

    def verdict(self) -> str:
        """Ratios with wide margins (a read copies ~90% of what was built, a frozen collection ~0%)."""
        return "\n".join([
            f"only reading the data copied over half of it into the child: {self.read > self.built / 2}",
            f"a garbage collection in the child copied pages too: {self.collect > self.built / 4}",
            f"after gc.freeze(), a collection copied under a tenth as much: {self.collect_frozen < self.collect / 10}",
            f"gc.freeze() did not stop reading from copying: {self.read_frozen > self.built / 2}"])


def copy_on_write() -> CopyOnWrite | str:
    """Run `COPY_ON_WRITE_SCRIPT` in a child Python (it forks children of its own); a sentence without fork."""
    if not _has_fork():
        return "this system has no fork(): every process starts with memory of its own"
    child = run_script(COPY_ON_WRITE_SCRIPT, timeout=CHILD_TIMEOUT_S, name="copy_on_write.py")
    if not child.ok:
        raise RuntimeError(f"the copy-on-write demo failed: {child.stdout[-500:]}")
    return CopyOnWrite(**json.loads(child.stdout.strip().splitlines()[-1]))


THREADS = 10

THREAD_STACKS_SCRIPT = f'''\
import json
import threading

import psutil

me = psutil.Process()
before = me.memory_info()
stop = threading.Event()
threads = [threading.Thread(target=stop.wait) for _ in range({THREADS})]  # threads that only wait
for t in threads:
    t.start()
after = me.memory_info()
stop.set()
for t in threads:
    t.join()
print(json.dumps({{"address_space": after.vms - before.vms, "resident": after.rss - before.rss}}))
'''


@dataclass(frozen=True)
class ThreadStacks:
    """What THREADS waiting threads added to a process: address space reserved, and memory resident."""

    address_space: int
    resident: int
    threads: int = THREADS

    def __repr__(self) -> str:
        return (f"{self.threads} threads that only wait added {self.address_space / 2**20:.0f} MiB of address "
                f"space and {self.resident / 2**20:.2f} MiB of resident memory")

    def verdict(self) -> str:
        per_thread = self.resident / self.threads
        reserved = (f"each thread reserved at least 1 MiB of address space: {self.address_space / self.threads >= 2**20}"
                    if sys.platform != "win32" else  # there psutil's vms is memory committed, not reserved
                    "Windows reports memory committed, not address space reserved: only the resident line applies")
        return "\n".join([
            reserved,
            f"each made under 1 MiB of it resident: {per_thread < 2**20}"])


def thread_stacks() -> ThreadStacks:
    """Run `THREAD_STACKS_SCRIPT` in a child Python: a fresh process, so nothing else grows meanwhile."""
    child = run_script(THREAD_STACKS_SCRIPT, timeout=CHILD_TIMEOUT_S, name="thread_stacks.py")
    if not child.ok:
        raise RuntimeError(f"the thread-stack demo failed: {child.stdout[-500:]}")
    return ThreadStacks(**json.loads(child.stdout.strip().splitlines()[-1]))
