"""A thread that starts and ends between two of the sampler's looks for new threads (every 0.1 s) still has
a lane: its own CPU clock as it ended, noted by the watch in the thread itself (`watching._names`).

Before, such a thread had no lane at all: lesson 01's two counting threads, at about 0.1 s each, once
showed as one lane in a clean-clone CI. And a thread found by a look drew what it ran before as spread
back to the look before, when it did not exist yet.
"""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from concurrency_lab import watch
from concurrency_lab.watching import WatchRecord, _narrow, _unseen
from concurrency_lab.watching._names import Ended, Names

MS = 1_000_000
TIMES = [0, 10 * MS, 20 * MS, 30 * MS, 40 * MS]


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_threads_shorter_than_a_look_each_have_a_lane_with_what_they_ran():
    ran: dict[str, float] = {}
    before_start: dict[str, int] = {}

    def spin() -> None:
        _spin(0.015)
        ran[threading.current_thread().name] = time.thread_time()

    with watch() as watching:
        for k in range(10):  # one after another, 10 lives of ~15 ms: most between two looks, some found by one
            t = threading.Thread(target=spin, name=f"brief-{k}")
            before_start[t.name] = time.perf_counter_ns()
            t.start()
            t.join(10)
    record = watching.record
    names = [lane.name for lane in record.lanes if lane.name.startswith("brief-")]
    assert sorted(names) == [f"brief-{k}" for k in range(10)], [lane.name for lane in record.lanes]
    for lane in (lane for lane in record.lanes if lane.name.startswith("brief-")):
        assert record.total(lane) > 0, lane
        if lane.at_exit:  # its own clock, whole: what it had run when `spin` looked, and a little more
            assert record.total(lane) == pytest.approx(ran[lane.name], abs=0.002), (lane, ran)
        # none of it drawn before its start() was called, found by a look or not (`watching._narrow`)
        before = [k for k, t in enumerate(record.times[1:]) if record.t0_ns + t * 1e9 <= before_start[lane.name]]
        assert sum(record.busy(lane)[before]) == 0, lane
    if any(lane.at_exit for lane in record.lanes):
        assert "lived too briefly to be sampled" in record.summary()


def test_a_lane_from_exit_spreads_the_thread_cpu_over_its_life_and_ends_there():
    raw = {"times": TIMES, "watched": 7, "lanes": []}
    (lane,) = _unseen([Ended(11, "short", 12 * MS, 26 * MS, 7 * MS)], raw)
    assert (lane.name, lane.kind, lane.pid, lane.thread_id, lane.at_exit) == ("short", "thread", 7, 11, True)
    assert lane.first == 1 and lane.cpu == (0.0, pytest.approx(0.004), 0.007, None)
    (inside,) = _unseen([Ended(12, "inside", 21 * MS, 23 * MS, 1 * MS)], raw)
    assert inside.first == 2 and inside.cpu == (0.0, 0.001, None)  # within one interval: all of it by the next
    # a clock in ticks (Windows: 15.6 ms) may say more than it lived: never more than all of its life
    (ticked,) = _unseen([Ended(13, "ticked", 21 * MS, 24 * MS, 15 * MS)], raw)
    assert ticked.cpu == (0.0, 0.003, None)


def test_a_thread_the_sampler_read_keeps_its_sampled_lane_and_a_reused_id_does_not_hide_one():
    seen = {"kind": "thread", "tid": 11, "first": 1, "found": None, "values": [0, 4 * MS, None, None]}
    raw = {"times": TIMES, "watched": 7, "lanes": [seen]}
    assert _unseen([Ended(11, "seen", 12 * MS, 26 * MS, 7 * MS)], raw) == []
    # the OS gave id 11 to a thread that ran later, which the sampler never read
    (later,) = _unseen([Ended(11, "later", 31 * MS, 35 * MS, 2 * MS)], raw)
    assert later.name == "later" and later.first == 3
    # a thread found at 30 ms has values spread back to 0 ms: not reads of an earlier one with its id
    found = {"kind": "thread", "tid": 12, "first": 0, "found": 3, "values": [0, 1 * MS, 2 * MS, 3 * MS, None]}
    (earlier,) = _unseen([Ended(12, "earlier", 2 * MS, 8 * MS, 1 * MS)], {**raw, "lanes": [found]})
    assert earlier.name == "earlier"
    # one that ended before the watch's first sample is not a lane
    assert _unseen([Ended(13, "before", 12 * MS, 26 * MS, 7 * MS)], {**raw, "times": [50 * MS, 60 * MS]}) == []


def test_what_a_found_thread_ran_before_it_was_found_is_spread_from_its_start():
    # The sampler spread 6 ms back to its look at 0 ms; the thread's start() was called at 24 ms.
    raw = {"times": TIMES,
           "lanes": [{"kind": "thread", "tid": 5, "first": 0, "found": 3, "values": [0, 2 * MS, 4 * MS, 6 * MS, 8 * MS]},
                     {"kind": "thread", "tid": 6, "first": 0, "found": None, "values": [0, 1, 2, 3, 4]}]}
    _narrow(raw, [(5, 3 * MS), (5, 24 * MS), (6, 5 * MS), (5, 35 * MS)])  # the last before 30 ms is its start
    assert raw["lanes"][0]["values"] == [0, 0, 0, 6 * MS, 8 * MS]
    assert raw["lanes"][1]["values"] == [0, 1, 2, 3, 4]  # read from its first sample: nothing to narrow


def test_the_end_note_is_taken_off_the_thread_and_a_thread_started_twice_is_not_timed_twice():
    class Spinner(threading.Thread):
        def run(self) -> None:
            _spin(0.005)

    start = threading.Thread.start
    with Names() as names:
        spinner = Spinner(name="subclassed")
        spinner.start()
        spinner.join(10)
        with pytest.raises(RuntimeError, match="started once"):
            spinner.start()
    assert spinner.__dict__.keys().isdisjoint({"_delete", "run"})  # nothing of the watch's left on it
    (ended,) = [e for e in names.ended if e.name == "subclassed"]
    assert ended.thread_id == spinner.native_id and ended.ended_ns > ended.began_ns and ended.cpu_ns > 0
    assert names.began == [(spinner.native_id, ended.began_ns)]
    assert threading.Thread.start is start  # put back when the watch ends


def test_a_traceback_from_a_watched_thread_shows_only_the_learner_s_frames(monkeypatch):
    seen = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_traceback))

    def fails() -> None:
        raise ValueError("in the thread")

    with watch():
        t = threading.Thread(target=fails)
        t.start()
        t.join(10)
    (tb,) = seen
    files = []
    while tb is not None:
        files.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    assert not any("concurrency_lab" in f for f in files), files


def test_a_record_with_a_lane_from_exit_reads_back(tmp_path):
    with watch() as watching:
        _spin(0.01)
    record = watching.record
    lane = _unseen([Ended(99, "brief", record.t0_ns, record.t0_ns + 3 * MS, 2 * MS)],
                   {"times": [record.t0_ns + round(t * 1e9) for t in record.times], "watched": 1, "lanes": []})
    record = dataclasses.replace(record, lanes=record.lanes + tuple(lane))
    assert WatchRecord.read(record.save(tmp_path / "watch.json")) == record
