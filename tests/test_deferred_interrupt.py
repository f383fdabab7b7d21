"""Ctrl-C is held back inside a pool's own code and raised where no lock is held (runners/_interrupt.py).

A KeyboardInterrupt raised just after a stdlib `with lock:` took its lock leaves the lock held
for ever; the executor's manager thread then blocks on it and the kernel hangs on shutdown (seen
on Python 3.12 with fork, about one interrupt in ten). These tests press Ctrl-C for real
(SIGINT to this process, which pytest runs in its main thread).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future

import pytest
from support import BACKENDS, make

from concurrency_lab import workloads
from concurrency_lab.runners import _interrupt
from concurrency_lab.runners._interrupt import deferred_interrupt

POOL_BACKENDS = [b for b in BACKENDS if b != "sequential"]


def press_ctrl_c() -> None:
    signal.raise_signal(signal.SIGINT)


def press_later(seconds: float) -> threading.Timer:
    """Ctrl-C from outside, as a terminal or a kernel's interrupt sends it, while the main thread waits.
    Start it inside the `pytest.raises` block: with no delay it can land in `start()` itself."""
    return threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))


@pytest.fixture(autouse=True)
def default_handler():
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    yield
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, "a block left its handler behind"
    assert not _interrupt.PENDING


def test_a_press_is_held_until_a_check():
    with deferred_interrupt():
        press_ctrl_c()  # would raise here without the block
        assert _interrupt.pending() == [signal.SIGINT]
        with pytest.raises(KeyboardInterrupt):
            _interrupt.check()
        _interrupt.check()  # raised once: it is gone
    # nothing more is raised when the block ends


def test_a_press_nobody_checked_is_raised_when_the_outermost_block_ends():
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupt():
            with deferred_interrupt():
                press_ctrl_c()
            reached.append("inner block ended quietly")
    assert reached == ["inner block ended quietly"]


def test_a_press_during_the_clean_up_of_an_interrupt_is_not_raised_twice():
    with pytest.raises(KeyboardInterrupt) as caught:
        with deferred_interrupt():
            press_ctrl_c()
            try:
                _interrupt.check()
            finally:  # the runner's clean-up, while the first interrupt is on its way out
                with deferred_interrupt():
                    press_ctrl_c()
    assert caught.value.__context__ is None  # one interrupt, not one raised inside another
    assert not _interrupt.PENDING


def test_a_second_press_raises_at_once():
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupt():
            press_ctrl_c()
            press_ctrl_c()
            pytest.fail("the second press should have raised")


def test_an_error_after_a_press_becomes_the_interrupt_it_followed():
    """Ctrl-C reaches the workers too; one dying while it starts breaks the pool. The learner pressed Ctrl-C:
    they get KeyboardInterrupt, with the error as its cause, not a start-up error that blames their script."""
    with pytest.raises(KeyboardInterrupt) as caught:
        with deferred_interrupt():
            press_ctrl_c()
            raise ValueError("a worker died while starting")
    assert isinstance(caught.value.__cause__, ValueError)


def test_an_error_with_no_press_goes_through_unchanged():
    with pytest.raises(ValueError):
        with deferred_interrupt():
            raise ValueError("the run failed on its own")


def test_other_threads_are_not_affected():
    seen = []

    def body():
        with deferred_interrupt():
            seen.append((signal.getsignal(signal.SIGINT), _interrupt.pending()))

    with deferred_interrupt():
        press_ctrl_c()
        thread = threading.Thread(target=body)
        thread.start()
        thread.join(10)
        assert seen[0][1] == (), "a held-back Ctrl-C belongs to the main thread"
        with pytest.raises(KeyboardInterrupt):
            _interrupt.check()


def test_a_handler_of_the_programs_own_is_left_alone():
    presses = []
    signal.signal(signal.SIGINT, lambda signum, frame: presses.append(signum))
    try:
        with deferred_interrupt():
            press_ctrl_c()
            assert signal.getsignal(signal.SIGINT) is not _interrupt._hold
        assert presses == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def test_a_long_wait_still_lets_the_press_through():
    never: Future = Future()
    timer = press_later(0.2)
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupt():
            timer.start()
            _interrupt.wait([never], timeout=60)
    timer.join()
    assert time.monotonic() - t0 < 30, "the wait ran to its timeout instead of taking the press"


@pytest.mark.parametrize("spec", POOL_BACKENDS)
def test_ctrl_c_during_a_run_raises_and_leaves_no_worker(spec):
    """The press lands at a random point of start-up, submitting or collecting; every one must end cleanly.
    (The autouse no_leftovers fixture fails the test if a worker outlives it.)"""
    runner = make(spec)
    for delay in (0.0, 0.05, 0.3):
        timer = press_later(delay)
        with pytest.raises(KeyboardInterrupt):
            timer.start()
            with runner:
                runner.run(workloads.io_sleep, [0.02] * 500)
        timer.join()
        assert not runner.started
        assert runner.worker_pids == []


def test_a_killed_process_pool_is_let_go_even_if_its_manager_thread_is_stuck():
    """The shape of the hang itself: a lock an interrupt left held blocks the executor's manager thread.
    shutdown(kill=True) must still return, with its workers dead, instead of joining that thread for ever."""
    runner = make("processes:fork" if "processes:fork" in BACKENDS else "processes:spawn")
    runner.start()
    pool = runner._pool
    manager = pool._executor_manager_thread
    pool._work_ids.mutex.acquire()  # as a KeyboardInterrupt inside submit() can leave it
    try:
        done = threading.Event()
        closer = threading.Thread(target=lambda: (runner.shutdown(kill=True), done.set()), daemon=True)
        closer.start()
        assert done.wait(30), "shutdown(kill=True) waited for a thread that cannot finish"
        assert all(not p.is_alive() for p in runner._procs)
    finally:
        pool._work_ids.mutex.release()  # let the manager thread finish, so nothing is left behind
        manager.join(30)


#: Run in a child, so a hang fails the test by its timeout instead of blocking the suite's own main thread.
PRESSES_WHILE_SUBMITTING = """
import faulthandler, os, random, signal, sys, threading
from concurrency_lab import workloads
from concurrency_lab.runners import make_runner


def main(backend, presses):
    random.seed(1)
    interrupted = 0
    with make_runner(backend, 2) as runner:
        for _ in range(presses):
            runner.start()  # each press kills the pool: start the next one before the clock
            timer = threading.Timer(random.uniform(0.0, 0.08), os.kill, (os.getpid(), signal.SIGINT))
            try:
                timer.start()
                runner.run(workloads.tiny, range(20_000))  # submitting 20,000 tasks: presses land in submit()
            except KeyboardInterrupt:
                interrupted += 1
            timer.join()
    print(interrupted)


if __name__ == "__main__":
    faulthandler.dump_traceback_later(60, exit=True)  # a hang shows where every thread waits
    main(sys.argv[1], int(sys.argv[2]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_many_presses_while_submitting_never_hang(backend, tmp_path):
    """Before presses were held back, three of four runs of this test on Python 3.12 hung (threads twice):
    a KeyboardInterrupt inside the executor's `submit` left one of the pool's locks held."""
    presses = 40
    script = tmp_path / "presses.py"
    script.write_text(PRESSES_WHILE_SUBMITTING)
    try:
        out = subprocess.run([sys.executable, str(script), backend, str(presses)], capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("a run hung after Ctrl-C and did not even dump its tracebacks")
    assert "most recent call first" not in out.stderr, f"a run hung after Ctrl-C:\n{out.stderr}"
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == presses
