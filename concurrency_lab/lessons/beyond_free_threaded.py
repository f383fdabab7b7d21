"""Lessons 02 and 10, without the GIL: the same CPU-bound threads in a free-threaded Python (3.13t),
beside this Python's, and what the free-threaded build costs a single thread.

- `without_the_gil`: measured here when a free-threaded Python is ready on this machine (found by
  `interpreters.find_interpreters`, or built by `tools/build-free-threaded.sh`); otherwise the
  recording shipped in `recorded/free-threaded/`, always labelled as recorded, with where and when.
- `watch_without_the_gil`: any code (lesson 02 passes its `%%watch` cell's), run as a script by the
  free-threaded Python and watched from inside it, so the same lanes-and-cores picture shows its threads;
  or the watch record shipped beside the sweep.
- `single_thread_cost`: the same pure-Python loop, one thread, in the free-threaded build and in the
  GIL build of the same minor version, and in the free-threaded build with `PYTHON_GIL=1`.

Nothing here pretends: with no free-threaded Python the learner sees a recording that says so, and
with no GIL build of the same version `single_thread_cost` says what is missing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .beyond import AcrossPythons
from .native import PARALLEL_AT  # cores busy that count as "more than one core at once"

__all__ = ["FREE_THREADED_RECORDING", "FREE_THREADED_WATCH", "RaceWithoutTheGil", "SingleThreadCost",
           "WatchedWithoutTheGil", "free_threaded_python", "race_without_the_gil", "recorded_without_the_gil",
           "single_thread_cost", "watch_without_the_gil", "without_the_gil"]

#: The recording lessons replay where no free-threaded Python is ready (tools/record-free-threaded.sh).
FREE_THREADED_RECORDING = Path(__file__).parents[1] / "recorded" / "free-threaded" / "2-cores-amd-epyc-py3.13t.jsonl"
#: The watch record lessons replay where no free-threaded Python is ready (same machine file as the sweep).
FREE_THREADED_WATCH = FREE_THREADED_RECORDING.with_name("2-cores-amd-epyc-py3.13t.watch.json")
#: Seconds the watched script may run in the child Python (section 1's code takes about 1 s).
WATCH_TIMEOUT_S = 120.0
#: Within this ratio of the GIL build's time, two single-thread timings count as the same speed (a busy
#: spell moves one fastest-of-3 timing by a few percent).
SAME_SPEED = 1.05
#: Runs of the race without a lock before it is reported as losing nothing (it stops at the first run that
#: lost updates). A busy machine can run the two threads one after the other: a make test run once saw none
#: lost in one run, and with a loaded make test and stress-ng beside it, 1 of 10 calls saw none in 5 runs
#: (others needed 4). A run is about 30 ms.
RACE_TRIES = 20
#: Seconds a child Python may take for the single-thread timing (three runs of a ~0.2 s loop, plus start-up).
CHILD_TIMEOUT_S = 60.0


def free_threaded_python(found: list | None = None) -> Any:
    """The first ready free-threaded Python with its GIL off (an `interpreters.Interpreter`), or None."""
    from .. import interpreters

    found = interpreters.find_interpreters() if found is None else found
    return next((i for i in found if i.ready and i.free_threaded and not i.gil_enabled and not i.current), None)


def without_the_gil(found: list | None = None, *, workers: tuple[int, ...] = (1, 2), tasks: int = 8,
                    task_seconds: float = 0.05, backends: tuple[str, ...] = ("threads",)) -> AcrossPythons:
    """This Python's threads on CPU work (1 and 2 of them, against its own sequential run) beside a
    free-threaded Python's, measured now when one is ready, else the shipped recording (its `source` names
    the machine and the date). Threads only: processes are the lesson's other half, and leaving them out
    keeps the cell to a few seconds."""
    from .. import interpreters
    from ..load import LoadMeter
    from .beyond import _sweep_pythons

    found = interpreters.find_interpreters() if found is None else found
    free = free_threaded_python(found)
    if free is None:
        return recorded_without_the_gil()
    here = [i for i in found if i.current]
    meter = LoadMeter()
    records = _sweep_pythons(here + [free], 1, workers, tasks, task_seconds, backends)
    return AcrossPythons(tuple(records), meter.read(), "measured now, on this machine")


def recorded_without_the_gil(path: str | os.PathLike = FREE_THREADED_RECORDING) -> AcrossPythons:
    """The shipped recording of the same two sweeps, labelled as recorded."""
    from ..replay import load_recording

    rec = load_recording(path)
    return AcrossPythons(rec.records, None, f"{rec.label.replace('recorded', 'replayed: recorded', 1)} "
                                            f"(no free-threaded Python is ready here)")


# -- the same code, watched, in a free-threaded Python ---------------------------------------------

_WATCH_IN = r"""
import platform, sys
from concurrency_lab.watching import watch
code = open(sys.argv[1], encoding="utf-8").read()
with watch(code=code) as watching:
    exec(compile(code, sys.argv[1], "exec"), {"__name__": "__main__"})
record = watching.record
record.meta["python"] = platform.python_version()
record.meta["gil_enabled"] = getattr(sys, "_is_gil_enabled", lambda: True)()
record.save(sys.argv[2])
"""


@dataclass(frozen=True)
class WatchedWithoutTheGil:
    """A block of code watched in a free-threaded Python (`record` is its `WatchRecord`)."""

    record: Any
    source: str
    """"measured now, on this machine", or where and when the replayed record was made."""
    same_code: bool = True
    """False when a recording was replayed for code other than the code it ran."""

    @property
    def python(self) -> str:
        gil = "on" if self.record.meta.get("gil_enabled", True) else "off"
        return f"Python {self.record.meta.get('python', '?')} free-threaded, GIL {gil}"

    def __repr__(self) -> str:
        peak = self.record.cores_busy(0.1)
        lines = [f"{self.python} ({self.source}):", self.record.summary(),
                 f"cores busy: {self.record.parallelism:.2f} on average, {peak.max() if peak.size else 0:.2f} at "
                 f"the most over 0.1 s"]
        if not self.same_code:
            lines.append("(the recording ran section 1's code as shipped, not the code passed in)")
        return "\n".join(lines)

    def verdict(self) -> str:
        return (f"the threads kept more than one core busy at once (cores busy {PARALLEL_AT} or more on "
                f"average): {self.record.parallelism >= PARALLEL_AT}")


def watch_without_the_gil(code: str, found: list | None = None) -> WatchedWithoutTheGil:
    """Run `code` as a script in a free-threaded Python, watched there by `watching.watch` (the sampler is
    started by that Python, from this package, so the lanes are its threads by their `threading` names).
    With no free-threaded Python ready, the shipped record of section 1's code, labelled as recorded."""
    import tempfile

    from ..children import run_child
    from ..watching import WatchRecord

    free = free_threaded_python(found)
    if free is None:
        from ..replay import load_recording

        record = WatchRecord.read(FREE_THREADED_WATCH)
        label = load_recording(FREE_THREADED_RECORDING).label.replace("recorded", "replayed: recorded", 1)
        return WatchedWithoutTheGil(record, label, same_code=record.code.strip() == code.strip())
    with tempfile.TemporaryDirectory(prefix="concurrency-lab-watch-") as folder:
        script, out = Path(folder, "watched.py"), Path(folder, "watch.json")
        script.write_text(code, encoding="utf-8")
        done = run_child([free.executable, "-c", _WATCH_IN, str(script), str(out)], timeout=WATCH_TIMEOUT_S,
                         env=_child_env(free, {"PYTHON_GIL": "0"}))
        _check_child(free, done)
        return WatchedWithoutTheGil(WatchRecord.read(out), "measured now, on this machine")


# -- the price: one thread, with and without the GIL -------------------------------------------------

_TIME_ONE_THREAD = r"""
import json, sys, time
from concurrency_lab.workloads import cpu
best = min((lambda t0: (cpu(SIZE), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(3))
gil = getattr(sys, "_is_gil_enabled", lambda: True)()
import platform, shlex, sysconfig
args = shlex.split(sysconfig.get_config_var("CONFIG_ARGS") or "")
options = sorted(a for a in args if a.split("=")[0] in OPTIONS)
print(json.dumps({"seconds": best, "gil_enabled": gil, "version": platform.python_version(), "options": options}))
"""
#: The configure options that change how fast one thread runs, besides the GIL: a shared libpython (calls
#: go through the PLT: pyenv's default), profile-guided optimization, link-time optimization.
SPEED_OPTIONS = ("--enable-shared", "--enable-optimizations", "--with-lto")


@dataclass(frozen=True)
class SingleThreadCost:
    """The same loop on one thread: seconds in a GIL build, in a free-threaded build, and in that build with
    `PYTHON_GIL=1`. A field is None when that Python is not on this machine."""

    size: int
    version: str
    with_gil_build: float | None
    free_threaded: float | None
    free_threaded_gil_on: float | None
    gil_on_reported: bool | None
    """What `sys._is_gil_enabled()` said in the free-threaded build under `PYTHON_GIL=1`."""
    builds: tuple[str, str] = ("", "")
    """Each build's version and speed-relevant configure options (`SPEED_OPTIONS`), GIL build first."""

    def _unlike(self) -> str:
        """A line when the two builds differ in more than the GIL (version or options), else ""."""
        gil, free = self.builds
        if gil == free:
            return ""
        return (f"not a like-for-like pair: the GIL build is {gil}, the free-threaded one {free}; "
                "part of the difference is theirs, not the GIL's")

    def __repr__(self) -> str:
        if self.with_gil_build is None or self.free_threaded is None:
            return (f"needs a GIL build and a free-threaded build of Python {self.version or '3.13'} on this "
                    "machine (tools/build-free-threaded.sh builds the second; .ci/matrix setup makes venvs)")
        lines = [f"cpu({self.size:,}) on one thread, fastest of 3, Python {self.version}:",
                 *([self._unlike()] if self._unlike() else []),
                 f"  GIL build               {self.with_gil_build:.3f} s",
                 f"  free-threaded build     {self.free_threaded:.3f} s  "
                 f"({self.free_threaded / self.with_gil_build:.2f}x the GIL build's time)"]
        if self.free_threaded_gil_on is not None:
            again = self.free_threaded_gil_on / self.with_gil_build
            lines += [f"  free-threaded, PYTHON_GIL=1  {self.free_threaded_gil_on:.3f} s  "
                      f"(sys._is_gil_enabled() said {self.gil_on_reported})",
                      f"with the GIL switched back on, the free-threaded build took {again:.2f}x the GIL build's "
                      f"time: " + ("its own cost remained" if again > SAME_SPEED else "about the same speed")]
        return "\n".join(lines)


def single_thread_cost(found: list | None = None, size: int = 300_000) -> SingleThreadCost:
    """Time `cpu(size)` on one thread in a free-threaded Python and in the GIL build of its minor version,
    each in its own child process (so neither shares a machine moment with a sweep of the other)."""
    from .. import interpreters

    found = interpreters.find_interpreters() if found is None else found
    free = free_threaded_python(found) or next((i for i in found if i.free_threaded and i.ready), None)
    minor = free.version_info[:2] if free else None
    gil_build = next((i for i in found if i.ready and not i.free_threaded and i.version_info[:2] == minor), None)
    version = ".".join(map(str, minor)) if minor else ""
    if free is None or gil_build is None:
        return SingleThreadCost(size, version, None, None, None, None)
    plain = _time_in(gil_build, size, {})
    ft = _time_in(free, size, {"PYTHON_GIL": "0"})
    ft_gil = _time_in(free, size, {"PYTHON_GIL": "1"})
    return SingleThreadCost(size, free.version, plain["seconds"], ft["seconds"], ft_gil["seconds"],
                            ft_gil["gil_enabled"], (_build(plain), _build(ft)))


def _build(timed: dict[str, Any]) -> str:
    return f"{timed['version']} ({' '.join(timed['options']) or 'no ' + '/'.join(SPEED_OPTIONS)})"


def _time_in(python: Any, size: int, env: dict[str, str]) -> dict[str, Any]:
    code = _TIME_ONE_THREAD.replace("SIZE", str(int(size))).replace("OPTIONS", repr(SPEED_OPTIONS))
    return _json_from(python, code, env)


def _json_from(python: Any, code: str, env: dict[str, str]) -> dict[str, Any]:
    """Run `code` in `python` (`children.run_child`: killed with its group past CHILD_TIMEOUT_S) and return
    the JSON it printed last."""
    from ..children import run_child

    done = run_child([python.executable, "-c", code], timeout=CHILD_TIMEOUT_S, env=_child_env(python, env))
    _check_child(python, done)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child_env(python: Any, env: dict[str, str]) -> dict[str, str]:
    """This process's environment, plus `env`, plus the PYTHONPATH that lets `python` import this package."""
    return {**os.environ, **env, **({"PYTHONPATH": python.pythonpath} if python.pythonpath else {})}


def _check_child(python: Any, done: Any) -> None:
    if not done.ok:
        why = "ran past its time limit" if done.timed_out else f"exited with {done.returncode}"
        raise RuntimeError(f"a child {python.executable} {why}: {done.stderr.strip()[-500:]}")


# -- lesson 06: the race, without the GIL ---------------------------------------------------------

_RACE = r"""
import json, sys, threading
counter = 0
lock = threading.Lock()
def add(n):
    global counter
    for _ in range(n):
        value = counter
        counter = value + 1
def add_locked(n):
    global counter
    for _ in range(n):
        with lock:
            value = counter
            counter = value + 1
def race(fn):
    global counter
    counter = 0
    start = threading.Barrier(2)
    def go():
        start.wait(timeout=10)  # both begin at the same moment, not one after the other has finished
        fn(N)
    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads: t.start()
    for t in threads: t.join(timeout=60)
    return counter
got = {"tries": 0}
for got["tries"] in range(1, TRIES + 1):  # a core taken by the host can run the two one after the other
    got["without_lock"] = race(add)
    if got["without_lock"] < 2 * N:
        break
got["with_lock"] = race(add_locked)
got["gil_enabled"] = getattr(sys, "_is_gil_enabled", lambda: True)()
print(json.dumps(got))
"""


@dataclass(frozen=True)
class RaceWithoutTheGil:
    """Section 1's race, two threads adding `per_thread` each, in a free-threaded Python."""

    python: str
    per_thread: int
    without_lock: int
    with_lock: int
    source: str
    tries: int = 1
    """Runs without a lock until one lost updates, at most RACE_TRIES (the count shown is the last)."""

    def __repr__(self) -> str:
        return (f"{self.python} ({self.source}): two threads, {self.per_thread:,} additions each, "
                f"expected {2 * self.per_thread:,}\n"
                f"  without a lock: {self.without_lock:,} (run {self.tries} of at most {RACE_TRIES})\n"
                f"  with the lock:  {self.with_lock:,}")

    def verdict(self) -> str:
        return (f"without the GIL, updates were lost without a lock: {self.without_lock < 2 * self.per_thread}; "
                f"with the lock none were: {self.with_lock == 2 * self.per_thread}")


def race_without_the_gil(found: list | None = None, per_thread: int = 300_000) -> RaceWithoutTheGil:
    """Run the race and its fix in a free-threaded Python when one is ready; else the recorded result."""
    free = free_threaded_python(found)
    if free is None:
        from ..replay import load_recording

        rec = load_recording(FREE_THREADED_RECORDING)
        race = rec.machine["race"]
        return RaceWithoutTheGil(race["python"], race["per_thread"], race["without_lock"], race["with_lock"],
                                 rec.label.replace("recorded", "replayed: recorded", 1))
    code = _RACE.replace("fn(N)", f"fn({int(per_thread)})").replace("2 * N", f"{2 * int(per_thread)}")
    got = _json_from(free, code.replace("TRIES", str(RACE_TRIES)), {"PYTHON_GIL": "0"})
    return RaceWithoutTheGil(free.label, per_thread, got["without_lock"], got["with_lock"],
                             "measured now, on this machine", got["tries"])
