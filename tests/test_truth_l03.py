"""Issue 16, lesson 03: asyncio switches only where a task suspends (shown, and checked on every machine);
1,000 waits at once are measured on asyncio and on threads, so lesson 09 can cite them; the tutorial's
threads + `requests` script runs as written (against servers on 127.0.0.1) and shows its lost return values
and its missing timeout, beside the fixed version; every measured comparison prints the load."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from concurrency_lab import lessons
from concurrency_lab.children import ChildResult
from concurrency_lab.lessons import io_classic
from concurrency_lab.load import Load
from concurrency_lab.servers import SilentServer

LESSON = Path(__file__).resolve().parents[1] / "notebooks" / "03_io_bound.md"


# -- when asyncio switches --------------------------------------------------------------------------------

def test_awaiting_a_coroutine_that_never_suspends_does_not_switch_and_sleep_zero_does():
    switching = lessons.await_switching()
    assert (switching.no_suspend, switching.sleep_zero) == ("A A A B B B", "A B A B A B")
    assert switching.verdict().splitlines() == [
        "awaiting a coroutine that never suspends let the other task run: False",
        "awaiting asyncio.sleep(0) let the other task run: True"]


def test_the_switching_verdict_reads_the_order():
    made_up = lessons.Switching(no_suspend="A B A B A B", sleep_zero="A A A B B B")
    assert made_up.verdict().splitlines() == [
        "awaiting a coroutine that never suspends let the other task run: True",
        "awaiting asyncio.sleep(0) let the other task run: False"]


def test_the_lesson_no_longer_says_asyncio_switches_at_every_await():
    text = LESSON.read_text()
    starts = [m.start() for m in re.finditer(r"at every `await`", text)]
    assert starts and all(text[i - 4:i].lower() == "not " for i in starts)  # only ever denied
    assert "`await asyncio.sleep(0)`" in text and "print(switching.verdict())" in text


# -- 1,000 waits at once ----------------------------------------------------------------------------------

def _many(threads_s=0.6, asyncio_s=0.25, threads_mib=15.8, asyncio_mib=0.9, load=None):
    return lessons.ManyWaits(1000, 0.2, {"threads": threads_s, "asyncio": asyncio_s},
                             {"threads": threads_mib, "asyncio": asyncio_mib}, load)


def test_many_waits_verdict_holds_with_margins_and_flips_when_the_measurement_does():
    assert all(line.endswith(": True") for line in _many().verdict().splitlines())
    assert _many(threads_s=25.0).verdict().splitlines()[0].endswith(": False")  # not overlapped: 200 s / 10
    assert _many(asyncio_mib=9.0).verdict().splitlines()[2].endswith(": False")  # not under half
    assert _many(asyncio_mib=-0.1).verdict().splitlines()[2].endswith(": True")  # the heap had room already


def test_many_waits_says_what_was_measured_and_the_load():
    load = Load(wall_s=1.0, cores=2, busy_s=1.2, ours_s=0.2)
    text = repr(_many(load=load)).splitlines()
    assert text[0] == "1,000 waits of 0.2 s at once (one after another: 200 s)"
    assert text[1] == "  threads  took 0.60 s, memory grew by 15.8 MiB" and text[-1] == load.note()


def test_many_waits_runs_both_models_in_child_pythons():
    many = lessons.many_waits(50, 0.05)
    assert set(many.wall_s) == set(many.grew_mib) == {"threads", "asyncio"}
    assert many.load is not None and "other programs used" in repr(many)


# -- the tutorial's fetch script --------------------------------------------------------------------------

def _run(server, printed="", timed_out=False, answered=0, returncode=0):
    child = ChildResult(("python",), None if timed_out else returncode, printed + "\n" if printed else "", "",
                        timed_out=timed_out)
    return io_classic.ScriptRun(server, child, 1.0, 5.0, answered)


def test_the_tutorial_verdict_reads_what_the_script_printed():
    lost = io_classic.ClassicFetch("tutorial", _run("answers", "[None, None, None, None, None]", answered=5),
                                   _run("silent", timed_out=True))
    assert lost.verdict().splitlines() == [
        "the server answered all 5 requests: True",
        "and join() gave back None for every page (Thread drops what fetch returns): True",
        "against the silent server, it waited until our timeout killed it: True"]
    kept = io_classic.ClassicFetch("tutorial", _run("answers", "['x', 'y', 'z', 'v', 'w']", answered=5),
                                   _run("silent", "[]"))
    assert [line.rsplit(": ", 1)[1] for line in kept.verdict().splitlines()] == ["True", "False", "False"]
    assert "killed by our timeout, having printed nothing" in repr(lost)


def test_the_fixed_verdict_reads_what_the_script_printed():
    sizes = repr([f"{1024 * i} characters" for i in range(1, 6)])
    good = io_classic.ClassicFetch("fixed", _run("answers", sizes, answered=5),
                                   _run("silent", repr(["failed: ReadTimeout"] * 5)))
    assert all(line.endswith(": True") for line in good.verdict().splitlines())
    hung = io_classic.ClassicFetch("fixed", _run("answers", sizes, answered=4), _run("silent", timed_out=True))
    assert [line.rsplit(": ", 1)[1] for line in hung.verdict().splitlines()] == ["False", "True", "False"]


def test_the_scripts_are_the_tutorial_and_its_fix():
    seed, fixed = io_classic.TUTORIAL_FETCH_SCRIPT, io_classic.FIXED_FETCH_SCRIPT
    assert "threading.Thread(target=fetch, args=(url,))" in seed and "requests.get(url)" in seed
    assert "timeout" not in seed and "urls = sys.argv[1:]" in seed and "thread.join()" in seed
    assert "pool.map(fetch, urls)" in fixed and "requests.get(url, timeout=" in fixed


@pytest.mark.slow
def test_the_tutorial_loses_its_pages_and_hangs_and_the_fix_does_neither(monkeypatch):
    monkeypatch.setattr(io_classic, "HANG_TIMEOUT_S", 2.0)
    for run in (lessons.run_seed_fetch(), lessons.run_fixed_fetch()):
        assert all(line.endswith(": True") for line in run.verdict().splitlines()), repr(run)


def test_the_silent_server_accepts_and_never_answers():
    import socket

    with SilentServer() as server:
        port = int(server.url.rsplit(":", 1)[1].strip("/"))
        with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
            conn.settimeout(0.2)
            with pytest.raises(TimeoutError):
                conn.recv(1)


def test_the_lesson_runs_the_scripts_and_says_the_only_change_is_the_url():
    text = LESSON.read_text()
    assert "**The only change is the URLs**" in text
    for cell in ("print(lessons.TUTORIAL_FETCH_SCRIPT)", "tutorial = lessons.run_seed_fetch()",
                 "print(tutorial.verdict())", "print(lessons.FIXED_FETCH_SCRIPT)", "fixed = lessons.run_fixed_fetch()",
                 "print(fixed.verdict())", "many = lessons.many_waits(1000, 0.2)", "print(many.verdict())"):
        assert cell in text, cell


def test_every_measured_comparison_in_the_lesson_prints_the_load():
    cells = re.findall(r"```\{code-cell\} ipython3\n(.*?)```", LESSON.read_text(), flags=re.S)
    measured = [c for c in cells if "compare_backends(" in c or "thread_counts(" in c]
    assert len(measured) == 4
    assert all("meter = LoadMeter()" in c for c in measured)
    # the three loads read here and the watch's (section 0); many_waits and fetches carry their own
    assert LESSON.read_text().count(".note())") == 5
    assert "print(fetching.load.note())" in LESSON.read_text()


def test_the_thread_count_lines_check_what_the_text_says():
    import pandas as pd

    falls = pd.DataFrame({"threads": [1, 2, 32, 64], "wall_s": [1.6, 0.8, 0.06, 0.05]})
    assert lessons.thread_counts_verdict(falls, 32) == ("32 threads were over 4x faster than 1 thread: True\n"
                                                        "more threads than tasks helped: False")
    flat = pd.DataFrame({"threads": [1, 32, 64], "wall_s": [1.6, 1.0, 0.5]})
    assert lessons.thread_counts_verdict(flat, 32).splitlines() == [
        "32 threads were over 4x faster than 1 thread: False", "more threads than tasks helped: True"]
    assert "print(lessons.thread_counts_verdict(counts, 32))" in LESSON.read_text()


# -- issue 17: the lesson opens with plain code, watched, and checks what its text says --------------------

def test_the_opening_is_plain_stdlib_code_watched_and_checked():
    text = LESSON.read_text()
    opening = text[text.index("## 0. Your own code first"):text.index("## 1. Waiting")]
    for code in ("%%watch fetching", "urllib.request.urlopen(url, timeout=5)", "ThreadPoolExecutor(max_workers=16)",
                 "pool.map(fetch, urls)", "cl.LocalHTTPServer(latency=0.05)"):
        assert code in opening, code
    for check in ('print("the pool gave back the same pages, in the same order:", pooled == looped)',
                  'print("the pool was over 3x faster than the loop:", loop_s > 3 * pool_s)',
                  'print("all the threads together kept under half a core busy:", fetching.parallelism < 0.5)'):
        assert check in opening, check
    assert "server.close()" in text
