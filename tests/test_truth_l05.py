"""Issue 16, lesson 05: the shared-memory advice is true on 3.11 to 3.13 (the tracker trap is fork's, and
`track=False` is new in 3.13 and version-guarded), and every measured comparison prints the load beside it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from concurrency_lab import config, lessons
from concurrency_lab.children import run_script
from concurrency_lab.lessons import communication_paths as paths
from concurrency_lab.load import Load

LESSON = next((Path(__file__).resolve().parents[1] / "notebooks").glob("05_*.md")).read_text(encoding="utf-8")
QUIET = Load(wall_s=1.0, cores=2, busy_s=1.0, ours_s=1.0)

#: A fork worker made before the parent's resource tracker runs, attaching to a block the parent made later,
#: then exiting. ATTACH is how the worker attaches. Run in a child Python: this test process's tracker may
#: already be running, which would hide the trap.
TRAP = '''
import multiprocessing as mp, sys, time
from multiprocessing import shared_memory

def attach(name):
    block = shared_memory.SharedMemory(name=name, **ATTACH)
    block.close()

if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    pool = ctx.Pool(1)
    pool.apply(len, ((),))                        # the worker exists before the parent's tracker
    block = shared_memory.SharedMemory(create=True, size=16)
    pool.apply(attach, (block.name,))
    pool.close(); pool.join()                     # the worker exits
    time.sleep(0.5)
    try:
        shared_memory.SharedMemory(name=block.name).close()
        print("still there")
        block.close(); block.unlink()
    except FileNotFoundError:
        print("gone")
'''


def _trap(method: str, attach: str) -> str:
    child = run_script(TRAP.replace("ATTACH", attach), method, timeout=60, name="trap.py")
    assert child.ok, child.stdout
    return "still there" if "still there" in child.stdout else "gone"


@pytest.mark.skipif("fork" not in config.available_start_methods(), reason="no fork here")
def test_a_fork_worker_made_before_the_tracker_unlinks_the_block_when_it_exits():
    """The trap the lesson names is fork's: its own tracker unlinks the parent's block."""
    assert _trap("fork", "{}") == "gone"


@pytest.mark.parametrize("method", [m for m in ("spawn", "forkserver") if m in config.available_start_methods()])
def test_spawn_and_forkserver_workers_share_the_parents_tracker(method):
    """What the lesson used to say (spawn's worker unlinks the block) does not happen."""
    assert _trap(method, "{}") == "still there"


@pytest.mark.skipif(sys.version_info < (3, 13), reason="track= is new in Python 3.13")
@pytest.mark.skipif("fork" not in config.available_start_methods(), reason="no fork here")
def test_track_false_keeps_the_block_even_in_the_fork_trap():
    assert _trap("fork", '{"track": False}') == "still there"


def test_the_version_guarded_attach_works_on_this_python():
    """`_add_one_shared` attaches with track=False on 3.13+ and without it on 3.11/3.12 (no TypeError)."""
    from multiprocessing import shared_memory

    block = shared_memory.SharedMemory(create=True, size=8)
    try:
        block.buf[:8] = bytes(8)
        assert paths._add_one_shared(block.name, 8) == 8
        assert bytes(block.buf[:8]) == bytes([1] * 8)
    finally:
        block.close()
        block.unlink()


def test_the_lesson_names_the_trap_and_track_false_correctly():
    assert "under spawn or forkserver, a worker's own tracker" not in LESSON
    assert "**fork** worker made before the parent's tracker" in LESSON
    assert "track=False" in LESSON and "sys.version_info >= (3, 13)" in LESSON
    assert "Python 3.11 and 3.12 have no `track` argument" in LESSON
    assert "comes close to a thread" not in LESSON  # not checked; "under half of the pool's time" is


def test_every_timed_comparison_prints_its_load():
    """The tables are DataFrames (no load line); the summaries under them end with the note."""
    for line in ("print(pickles.summary())", "print(trips.summary())", "print(paths.summary())",
                 "print(meter.read().note())"):
        assert line in LESSON, line
    report = paths.DataPathReport((paths.DataPath(paths.THREAD, 0.001), paths.DataPath(paths.POOL, 0.05),
                                   paths.DataPath(paths.PIPE, 0.03), paths.DataPath(paths.SHARED, 0.004)),
                                  10, "spawn", QUIET)
    assert report.summary().splitlines()[-1].startswith("other programs used 0% of the CPU")
    assert report.verdict() == ("between processes (pickled) it cost over 2x as much as between threads: True\n"
                                "shared memory cost under 1/2 of pickling through the pool: True")


# -- issue 17: the opening's plain code: an initializer, and shared memory closed and unlinked --------------

def test_the_initializer_verdict_reads_bytes_and_time():
    assert lessons.initializer_verdict(20_000, 2_000, 1.5, 0.3).splitlines() == [
        "with the initializer, under a fifth of the bytes were pickled: True",
        "and the pool with the initializer finished first: True"]
    assert lessons.initializer_verdict(20_000, 5_000, 0.3, 0.4).splitlines()[1].endswith(": False")


def test_the_initializer_gives_each_spawned_worker_the_table_once():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    table = lessons.make_table(1000)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                             initializer=lessons.keep_table, initargs=(table,)) as pool:
        assert list(pool.map(lessons.lookup, [3, 999], timeout=60)) == ["row 3", "row 999"]
    assert lessons.lookup_in(table, 7) == "row 7"


def test_a_spawned_worker_changes_the_block_in_place_and_nothing_is_left():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import shared_memory

    block = shared_memory.SharedMemory(create=True, size=512)
    try:
        block.buf[:512] = bytes(range(256)) * 2
        assert lessons.block_exists(block.name)
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            assert pool.submit(lessons.add_one_in_place, block.name, 512).result(timeout=60) == 512
        assert bytes(block.buf[:3]) == b"\x01\x02\x03" and block.buf[255] == 0
    finally:
        block.close()
        block.unlink()
    assert not lessons.block_exists(block.name)


def test_the_opening_shows_the_worker_code_and_cleans_up_in_finally():
    opening = LESSON[LESSON.index("## 0. Your own code first"):LESSON.index("## 1. Pickling")]
    for code in ("print(inspect.getsource(lessons.keep_table))", "initializer=keep_table, initargs=(table,)",
                 "mp_context=spawn", "print(meter.read().note())", "print(inspect.getsource(lessons.add_one_in_place))",
                 "finally:\n    block.close()", "block.unlink()", "not lessons.block_exists(block.name)"):
        assert code in opening, code
