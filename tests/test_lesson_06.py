"""Lesson 06 (shared state and races): the races it shows happen every time, the fixes are exact every time,
processes share only what they are given, and the exercise's check tells a fix from a near miss."""

from __future__ import annotations

import sys
import threading

import pytest

from concurrency_lab import config, lessons
from concurrency_lab.lessons import races, races_sharing

METHODS = [m for m in ("spawn", "forkserver") if m in config.available_start_methods()]


# -- threads -------------------------------------------------------------------------------------


def test_racy_add_loses_updates_in_every_run():
    runs = lessons.race(lessons.racy_add, n=200, runs=30)
    assert runs.runs_with_losses == 30, runs
    assert runs.verdict() == "racy_add: lost updates in 30 of 30 runs"


def test_busy_race_loses_in_every_run_with_a_tiny_switch_interval():
    runs = lessons.race(lessons.racy_add_busy, n=50_000, runs=10, interval=races.TINY_SWITCH_INTERVAL_S)
    assert runs.runs_with_losses == 10, runs
    assert runs.switch_interval == pytest.approx(1e-6)


def test_the_lock_makes_it_exact_every_time():
    runs = lessons.race(lessons.locked_add, n=200, runs=10, interval=races.TINY_SWITCH_INTERVAL_S)
    assert runs.totals == (800,) * 10
    assert runs.verdict() == "locked_add: exact in 10 of 10 runs"
    assert "lost     0, 0, 0" in repr(runs) and "expected 800 per run" in repr(runs)


def test_switch_interval_is_restored_even_after_an_error():
    before = sys.getswitchinterval()
    with pytest.raises(ZeroDivisionError), lessons.switch_interval(1e-6):
        assert sys.getswitchinterval() == pytest.approx(1e-6)
        1 / 0  # noqa: B018
    assert sys.getswitchinterval() == before
    with pytest.raises(ZeroDivisionError):
        lessons.race(lambda tally, n: 1 / 0, n=1, runs=1, interval=1e-6)
    assert sys.getswitchinterval() == before


def test_a_stuck_thread_is_reported_not_waited_on():
    never = threading.Event()
    with pytest.raises(TimeoutError, match="deadlock"):
        races._run_threads(lambda: never.wait(5), 2, timeout=0.2)
    never.set()


# -- processes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_a_global_changed_in_worker_processes_stays_zero_in_the_parent(method):
    demo = lessons.global_in_processes(tasks=4, n=100, start_method=method)
    assert demo.parent_sees == 0 and demo.workers_saw == 400
    assert repr(demo).endswith("The parent's TOTAL is 0: nothing was shared")


@pytest.mark.parametrize("method", METHODS)
def test_a_value_with_its_lock_and_a_manager_dict_are_exact(method):
    value = lessons.value_total(n=2000, start_method=method)
    manager = lessons.manager_total(n=100, start_method=method)
    assert value.exact and manager.exact
    assert repr(value) == "Value, with get_lock(): 2 processes x 2,000 updates: expected 4,000, got 4,000 (exact)"
    assert lessons.sharing_verdict(value, manager).splitlines()[0] == (
        "both exact: True; a Manager dict update is at least 10x slower than a Value update: True")
    table = lessons.sharing_costs(value, manager)
    assert list(table.exact) == [True, True] and (table.us_per_update > 0).all()


def test_sharing_verdict_says_when_it_is_not_so():
    fast = races_sharing.SharedTotal("a", 2, 10, 20, 1e-6, "spawn")
    lost = races_sharing.SharedTotal("b", 2, 10, 15, 2e-6, "spawn")
    assert lessons.sharing_verdict(fast, lost) == ("both exact: False; a Manager dict update is at least 10x "
                                                   "slower than a Value update: False")
    assert "(lost 5)" in repr(lost)


@pytest.mark.parametrize("method", METHODS)
def test_shared_memory_is_filled_by_workers_and_unlinked(method):
    block = lessons.shared_memory_squares(numbers=10_000, tasks=4, start_method=method)
    assert block.correct and block.unlinked and block.tasks == 4
    assert "correct: True" in repr(block) and "(gone from the system): True" in repr(block)


# -- the exercise ---------------------------------------------------------------------------------

LOCK = threading.Lock()


def locked_deposit(account, amount):
    with LOCK:
        balance = account.balance
        account.balance = balance + amount


def lock_around_the_write_only(account, amount):
    balance = account.balance
    with LOCK:
        account.balance = balance + amount


def a_new_lock_every_call(account, amount):
    with threading.Lock():
        balance = account.balance
        account.balance = balance + amount


def plus_equals(account, amount):
    account.balance += amount


def test_the_check_fails_on_the_racy_starting_point_every_time():
    for _ in range(5):
        feedback = lessons.check_deposit(lessons.racy_deposit)
        assert not feedback.ok and "deposits were lost" in feedback.message


@pytest.mark.parametrize("wrong", [lock_around_the_write_only, a_new_lock_every_call, plus_equals])
def test_the_check_fails_on_near_misses(wrong):
    feedback = lessons.check_deposit(wrong)
    assert not feedback.ok and "Put the read AND the write inside one `with lock:`" in feedback.message


def test_the_check_passes_on_the_solution_every_time():
    for _ in range(3):
        feedback = lessons.check_deposit(locked_deposit)
        assert feedback.ok, feedback
    assert repr(feedback).startswith("\u2713 Right: 5 rounds of 4 threads x 250 deposits: every deposit counted.")


def test_the_check_explains_other_mistakes():
    assert "pass your function itself" in lessons.check_deposit(None).message

    def raises(account, amount):
        raise KeyError("oops")

    assert "raised KeyError" in lessons.check_deposit(raises).message

    def twice(account, amount):
        with LOCK:
            account.balance = account.balance + 2 * amount

    assert "went above" in lessons.check_deposit(twice).message


def test_the_check_reports_a_deadlock_instead_of_hanging(monkeypatch):
    monkeypatch.setattr(races, "CHECK_TIMEOUT_S", 0.5)
    before = sys.getswitchinterval()
    lock = threading.Lock()

    def deadlocks(account, amount):
        with lock, lock:  # a Lock taken twice by one thread waits forever (the threads are daemons)
            account.balance = account.balance + amount

    feedback = lessons.check_deposit(deadlocks)
    assert not feedback.ok and "deadlock" in feedback.message
    assert sys.getswitchinterval() == before


def test_interval_sweep_table_and_verdict():
    sweep = lessons.interval_sweep(sizes=(100, 50_000), runs=3)
    table = sweep.table()
    assert list(table.columns) == ["switch_interval_us", "increments_per_thread", "runs", "runs_that_lost",
                                   "median_lost"]
    assert len(table) == 4 and "runs_that_lost" in repr(sweep)
    assert sweep.verdict() == "switch interval 1 us, 50,000 increments per thread: lost updates in 3 of 3 runs"
