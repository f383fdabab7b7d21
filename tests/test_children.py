"""The one bounded child-process helper: output, exit status, a time limit, Stop, and a kill that reaches
everything the child started."""

from __future__ import annotations

import threading
import time

from concurrency_lab.children import python, run_child, run_children, run_script

FAMILY = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # a grandchild holding the pipes
print("started", flush=True)
time.sleep(60)
"""


def test_output_and_exit_status():
    done = run_child(python("-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"), timeout=30)
    assert (done.returncode, done.stdout, done.stderr, done.ok) == (3, "out\n", "err\n", False)


def test_a_timeout_kills_the_child_and_what_it_started():
    t0 = time.monotonic()
    done = run_child(python("-c", FAMILY), timeout=1.0)
    assert done.timed_out and done.returncode is None and "started" in done.stdout
    assert time.monotonic() - t0 < 10  # the grandchild held the pipes: only a group kill lets them close


def test_stop_ends_a_child_early():
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    done = run_child(python("-c", "import time; time.sleep(60)"), timeout=30, stop=stop)
    assert done.stopped and not done.timed_out


def test_children_side_by_side_share_one_deadline():
    t0 = time.monotonic()
    done = run_children([python("-c", "print(1)"), python("-c", "import time; time.sleep(60)")], timeout=1.0)
    assert [d.timed_out for d in done] == [False, True] and time.monotonic() - t0 < 10


def test_a_script_runs_as_a_file_with_a_real_main():
    done = run_script("import sys\nprint(__name__, sys.argv[1:])\n", "x", timeout=30)
    assert done.ok and done.stdout == "__main__ ['x']\n"
