"""A thread that starts and ends between two of the sampler's looks for new threads (every 0.1 s) still has
a lane: its own CPU clock as it ended, noted by the watch's wrapper around its `run` (`watching._names`).

Before, such a thread had no lane at all: lesson 01's two counting threads, at about 0.1 s each, once
showed as one lane in a clean-clone CI.
"""

from __future__ import annotations

import threading
import time

import pytest

from concurrency_lab import watch
from concurrency_lab.watching import WatchRecord, _narrow, _unseen
from concurrency_lab.watching._names import Ended, Names
from concurrency_lab.watching.record import Lane

MS = 1_000_000


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_threads_shorter_than_a_look_each_have_a_lane_with_what_they_ran():
    ran: dict[str, float] = {}
    began: dict[str, int] = {}

    def spin() -> None:
        began[threading.current_thread().name] = time.perf_counter_ns()
        _spin(0.015)
        ran[threading.current_thread().name] = time.thread_time()

    with watch() as watching:
        for k in range(10):  # one after another, 10 lives of ~15 ms: most between two looks, some found by one
            t = threading.Thread(target=spin, name=f"brief-{k}")
            t.start()
            t.join(10)
    record = watching.record
    lanes = {lane.name: lane for lane in record.lanes if lane.name.startswith("brief-")}
    assert sorted(lanes) == [f"brief-{k}" for k in range(10)], [lane.name for lane in record.lanes]
    for name, lane in lanes.items():
        assert record.total(lane) > 0, (name, lane)
        # none of it drawn before it began, found by a look or not (`watching._narrow`): the sample
        # intervals that end before its start are idle
        before = [k for k, t in enumerate(record.times[1:]) if record.t0_ns + t * 1e9 < began[name] - 1e5]
        assert sum(record.busy(lane)[before]) == 0, (name, lane)
        if lane.at_exit:  # its own clock, whole: what it had run when `spin` looked, and a little more
            assert record.total(lane) == pytest.approx(ran[name], abs=0.002), (name, record.total(lane), ran)
    if any(lane.at_exit for lane in lanes.values()):
        assert "lived too briefly to be sampled" in record.summary()


def test_a_lane_from_exit_spreads_the_thread_cpu_over_its_life_and_ends_there():
    times = [0, 10 * MS, 20 * MS, 30 * MS, 40 * MS]
    raw = {"times": times, "watched": 7}
    (lane,) = _unseen([Ended(11, "short", 12 * MS, 26 * MS, 7 * MS)], raw, ())
    assert (lane.name, lane.kind, lane.pid, lane.thread_id, lane.at_exit) == ("short", "thread", 7, 11, True)
    assert lane.first == 1 and lane.cpu == (0.0, pytest.approx(0.004), 0.007, None)
    inside = _unseen([Ended(12, "inside", 21 * MS, 23 * MS, 1 * MS)], raw, ())[0]
    assert inside.first == 2 and inside.cpu == (0.0, 0.001, None)  # within one interval: all of it by the next


def test_a_thread_the_sampler_saw_keeps_its_sampled_lane_and_a_reused_id_does_not_hide_one():
    times = [0, 10 * MS, 20 * MS, 30 * MS, 40 * MS]
    raw = {"times": times, "watched": 7}
    seen = Lane(name="seen", kind="thread", pid=7, thread_id=11, first=1, cpu=(0.0, 0.004, None, None))
    assert _unseen([Ended(11, "seen", 12 * MS, 26 * MS, 7 * MS)], raw, (seen,)) == ()
    # the OS gave id 11 to a thread that ran later, which the sampler never saw
    (later,) = _unseen([Ended(11, "later", 31 * MS, 35 * MS, 2 * MS)], raw, (seen,))
    assert later.name == "later" and later.first == 3
    # one that ended before the watch's first sample, or began after its last, is not a lane
    raw_late = {"times": [50 * MS, 60 * MS], "watched": 7}
    assert _unseen([Ended(13, "before", 12 * MS, 26 * MS, 7 * MS)], raw_late, ()) == ()


def test_the_timing_wrapper_is_taken_off_the_thread_and_times_a_subclass_run():
    class Spinner(threading.Thread):
        def run(self) -> None:
            _spin(0.005)

    start = threading.Thread.start
    with Names() as names:
        spinner = Spinner(name="subclassed")
        spinner.start()
        spinner.join(10)
    assert "run" not in spinner.__dict__  # no cycle left through the thread's own attribute
    (ended,) = [e for e in names.ended if e.name == "subclassed"]
    assert ended.thread_id == spinner.native_id and ended.ended_ns > ended.began_ns and ended.cpu_ns > 0
    assert threading.Thread.start is start  # put back when the watch ends


def test_a_record_with_a_lane_from_exit_reads_back(tmp_path):
    with watch() as watching:
        t = threading.Thread(target=_spin, args=(0.005,), name="brief")
        t.start()
        t.join(10)
    path = watching.record.save(tmp_path / "watch.json")
    assert WatchRecord.read(path) == watching.record


def test_what_a_found_thread_ran_before_it_was_found_is_spread_from_when_it_began():
    # The sampler spread 6 ms back to its look at 0 ms; the thread began its run at 24 ms.
    raw = {"times": [0, 10 * MS, 20 * MS, 30 * MS, 40 * MS],
           "lanes": [{"kind": "thread", "tid": 5, "first": 0, "found": 3, "values": [0, 2 * MS, 4 * MS, 6 * MS, 8 * MS]},
                     {"kind": "thread", "tid": 6, "first": 0, "found": None, "values": [0, 1, 2, 3, 4]}]}
    _narrow(raw, [(5, 24 * MS), (6, 5 * MS), (5, 35 * MS)])  # a later thread with id 5 does not count
    assert raw["lanes"][0]["values"] == [0, 0, 0, 6 * MS, 8 * MS]
    assert raw["lanes"][1]["values"] == [0, 1, 2, 3, 4]  # read from its first sample: nothing to narrow
