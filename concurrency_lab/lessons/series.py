"""The map of the series (lesson 00 and README show it): what each lesson teaches, which standard-library
APIs its code cells use, and about how long it takes.

The map is data, so it can be checked rather than trusted. `tests/test_series_map.py` checks that every
API listed for a lesson appears in that lesson's code cells (and that together they cover every API the
series promises, `PROMISED`), that each lesson's minutes are what `estimate_minutes` says for its text, and
that README's table is `SeriesMap.markdown()` word for word.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Lesson", "SERIES", "PROMISED", "SeriesMap", "series_map", "estimate_minutes"]

#: A learner's pace, for `estimate_minutes`: prose read at this many words a minute (a careful technical
#: read, a little under the 200-250 of ordinary text) ...
WORDS_PER_MINUTE = 180
#: ... this many minutes per code cell (run it, look at the output; most cells are one call) ...
MINUTES_PER_CELL = 0.5
#: ... and this many per exercise (write the answer, run the check, perhaps twice).
MINUTES_PER_EXERCISE = 8


@dataclass(frozen=True)
class Lesson:
    """One lesson on the map: its notebook's name (no suffix), what it teaches, its stdlib APIs, minutes, and
    whether it is on the core path (the others deepen it, for a second sitting)."""

    notebook: str
    teaches: str
    stdlib: tuple[str, ...]
    minutes: int
    core: bool = True


#: The series, in the order a learner takes it. The notebooks keep their numbers; 11 and 12 were written
#: after 10 and fit best where they stand here: asyncio after I/O, coordination after races.
SERIES: tuple[Lesson, ...] = (
    Lesson("00_start_here", "checks this machine, plain `concurrent.futures` watched, a first measured run, "
           "driving an explorer", ("ThreadPoolExecutor",), 20),
    Lesson("01_threads_and_processes", "threads share memory, processes do not; a result back from a thread; "
           "memory per worker; start methods; a spawn-safe script",
           ("threading.Thread", "threading.Event", "multiprocessing.Process", 'if __name__ == "__main__":'), 35),
    Lesson("02_cpu_bound_and_the_gil", "the GIL: threads take turns on pure Python, processes run at once; "
           "Amdahl's law; a process pool written by you",
           ("ThreadPoolExecutor", "ProcessPoolExecutor", "mp_context=", "multiprocessing.Pool"), 40),
    Lesson("03_io_bound", "waiting overlaps on threads, processes and asyncio; how many threads; a thread pool "
           "for downloads written by you", ("ThreadPoolExecutor",), 30),
    Lesson("11_asyncio", "the event loop, a blocking call freezing it, `to_thread`, 10,000 waits, back-pressure, "
           "cancellation and timeouts; a fetcher with a limit, written by you", ("async def", "asyncio.gather", "asyncio.TaskGroup", "asyncio.Semaphore",
                                         "asyncio.to_thread", "asyncio.timeout"), 30),
    Lesson("04_native_code_releases_the_gil", "C code that lets go of the GIL scales on threads; BLAS threads",
           ("ThreadPoolExecutor",), 30, core=False),
    Lesson("05_communication_costs", "pickling, round trips, chunk size, an initializer, shared memory",
           ("ProcessPoolExecutor", "initializer=", "multiprocessing.shared_memory"), 30, core=False),
    Lesson("06_shared_state_and_races", "lost updates made certain, and the lock that fixes them; a racy deposit "
           "fixed by you",
           ("threading.Thread", "threading.Lock"), 30),
    Lesson("12_coordinating_workers", "producer and consumers on a queue, back-pressure, a deadlock found and "
           "fixed, what is atomic; a pipeline written by you", ("queue.Queue", "threading.RLock", "threading.Condition",
                                      "threading.Semaphore", "threading.Barrier"), 30),
    Lesson("07_robustness", "a crashing worker, replacing workers, an exception in a thread, timeouts; a run "
           "that survives a crash, written by you", ("multiprocessing.Process", "max_tasks_per_child="), 35,
           core=False),
    Lesson("08_mixed_workloads", "a pipeline of threads and processes; the convoy effect",
           ("ThreadPoolExecutor", "ProcessPoolExecutor"), 25, core=False),
    Lesson("09_choosing_a_model", "the three shapes of code side by side, the whole comparison re-measured, and "
           "a decision guide", ("ThreadPoolExecutor", "ProcessPoolExecutor", "asyncio.gather"), 20),
    Lesson("10_beyond", "start methods, free-threaded builds, subinterpreters, Dask",
           ("sys._is_gil_enabled", "multiprocessing.get_start_method"), 30, core=False),
)

#: Every API the series promises to show in runnable code (issue 17), each in at least one lesson.
PROMISED = ("threading.Thread", "ThreadPoolExecutor", "multiprocessing.Process", "multiprocessing.Pool",
            "ProcessPoolExecutor", "mp_context=", "initializer=", "max_tasks_per_child=", "async def",
            "asyncio.gather", "asyncio.TaskGroup", "asyncio.Semaphore", "asyncio.to_thread", "asyncio.timeout",
            "queue.Queue", "threading.Lock", "threading.RLock", "threading.Condition", "threading.Event",
            "threading.Semaphore", "threading.Barrier", "multiprocessing.shared_memory",
            'if __name__ == "__main__":')


def estimate_minutes(words: int, code_cells: int, exercises: int) -> int:
    """About how long a lesson takes at the pace above, rounded up to 5 minutes."""
    raw = words / WORDS_PER_MINUTE + code_cells * MINUTES_PER_CELL + exercises * MINUTES_PER_EXERCISE
    return 5 * math.ceil(raw / 5)


@dataclass(frozen=True)
class SeriesMap:
    """The map, as plain text (lesson 00) or a Markdown table (README)."""

    lessons: tuple[Lesson, ...] = SERIES

    @property
    def total_minutes(self) -> int:
        return sum(lesson.minutes for lesson in self.lessons)

    @property
    def core_minutes(self) -> int:
        return sum(lesson.minutes for lesson in self.lessons if lesson.core)

    def _path(self) -> str:
        return (f"The core path (*) takes about {self.core_minutes / 60:.1f} hours, all {len(self.lessons)} "
                f"lessons about {self.total_minutes / 60:.1f}, at the pace of `estimate_minutes`: "
                f"{WORDS_PER_MINUTE} words a minute, {MINUTES_PER_CELL:g} minute a code cell, "
                f"{MINUTES_PER_EXERCISE} an exercise.")

    def markdown(self) -> str:
        rows = ["| lesson | what it teaches | standard library in its code | minutes |", "|---|---|---|---|"]
        for lesson in self.lessons:
            apis = ", ".join(f"`{api}`" for api in lesson.stdlib) or "(our measurements)"
            star = " *" if lesson.core else ""
            rows.append(f"| `{lesson.notebook}`{star} | {lesson.teaches} | {apis} | {lesson.minutes} |")
        return "\n".join(rows + ["", self._path()])

    def __repr__(self) -> str:
        lines = []
        for lesson in self.lessons:
            star = " *" if lesson.core else ""
            lines.append(f"{lesson.notebook}{star}  (about {lesson.minutes} min)")
            lines.append(f"    {lesson.teaches}")
            if lesson.stdlib:
                lines.append(f"    code: {', '.join(lesson.stdlib)}")
        return "\n".join(lines + ["", self._path().replace("`", "")])


def series_map() -> SeriesMap:
    """The map of the series, in the order a learner takes it."""
    return SeriesMap()
