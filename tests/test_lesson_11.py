"""Lesson 11 (asyncio): the exercise's check fails each common wrong answer and passes the solution; every
verdict the notebook prints is computed right, from made-up numbers."""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.parse
import urllib.request
from types import SimpleNamespace

import pytest

from concurrency_lab import lessons
from concurrency_lab.lessons import aio, aio_exercise
from concurrency_lab.lessons.aio import AsyncWaits, ModelWaits
from concurrency_lab.lessons.aio_exercise import AsyncFetchRun
from concurrency_lab.servers import LocalHTTPServer


async def get(url):
    """The lesson's HTTP/1.0 GET over asyncio's own streams."""
    parts = urllib.parse.urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        writer.write(f"GET {target} HTTP/1.0\r\nHost: {parts.hostname}\r\n\r\n".encode())
        await writer.drain()
        response = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    return response.partition(b"\r\n\r\n")[2]


# -- the exercise: the solution and the common wrong answers ------------------------------------------------

async def solution(url, n, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(i):
        async with semaphore:
            return await get(f"{url}?bytes={i}")

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(i)) for i in range(n)]
    return [task.result() for task in tasks]


async def sequential(url, n, limit):  # the stub in the notebook
    return [await get(f"{url}?bytes={i}") for i in range(n)]


async def no_semaphore(url, n, limit):
    return await asyncio.gather(*(get(f"{url}?bytes={i}") for i in range(n)))


async def blocking_urllib(url, n, limit):
    bodies = []
    for i in range(n):
        with urllib.request.urlopen(f"{url}?bytes={i}", timeout=10) as reply:
            bodies.append(reply.read())
    return bodies


async def blocking_sleep(url, n, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(i):
        async with semaphore:
            time.sleep(0.2)  # the mistake: time.sleep instead of asyncio.sleep
            return await get(f"{url}?bytes={i}")

    return await asyncio.gather(*(one(i) for i in range(n)))


async def too_few(url, n, limit):
    return (await solution(url, n, limit))[:-1]


async def out_of_order(url, n, limit):
    return (await solution(url, n, limit))[::-1]


async def never_released(url, n, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(i):
        await semaphore.acquire()  # and never release: the 4th request waits forever
        return await get(f"{url}?bytes={i}")

    return await asyncio.gather(*(one(i) for i in range(n)))


async def smaller_semaphore(url, n, limit):
    return await solution(url, n, 2)


async def forgot_await(url, n, limit):
    return asyncio.gather(*(get(f"{url}?bytes={i}") for i in range(n)))


def not_async(url, n, limit):
    return [b"x" * i for i in range(n)]


async def raises(url, n, limit):
    raise ValueError("oops")


def test_the_solution_passes():
    feedback = lessons.check_async_fetch_all(solution)
    assert feedback.ok, feedback


@pytest.mark.parametrize(("answer", "words"), [
    (sequential, "one request at a time"),
    (no_semaphore, "the limit is 3"),
    (blocking_urllib, "frozen"),
    (blocking_sleep, "frozen"),
    (too_few, "returned 11 bodies"),
    (out_of_order, "wrong order"),
    (smaller_semaphore, "size the Semaphore"),
    (forgot_await, "forget an `await`"),
    (not_async, "async def"),
    (raises, "raised ValueError"),
    (None, "pass your function"),
])
def test_each_common_wrong_answer_gets_its_own_feedback(answer, words):
    feedback = lessons.check_async_fetch_all(answer)
    assert not feedback.ok
    assert words in feedback.message, feedback


def test_an_answer_that_never_finishes_is_stopped_and_called_a_hang():
    run = aio_exercise.run_async_fetch_all(never_released, timeout=1.0)
    assert run.timed_out
    feedback = aio_exercise.async_fetch_feedback(run)
    assert not feedback.ok and "did not finish" in feedback.message


def test_a_loop_blocked_for_good_comes_back_as_a_timeout_not_a_hang(monkeypatch):
    monkeypatch.setattr(aio, "STUCK_GRACE_S", 0.2)
    release = threading.Event()

    async def stuck(url, n, limit):
        release.wait(10)  # blocks the loop's thread: asyncio.timeout cannot cancel it
        return []

    try:
        run = aio_exercise.run_async_fetch_all(stuck, timeout=0.3)
    finally:
        release.set()
    assert run.timed_out
    assert "frozen" in aio_exercise.async_fetch_feedback(run).message


@pytest.mark.parametrize(("run", "words"), [
    (AsyncFetchRun(result=[b"x" * i for i in range(12)], max_in_flight=3), "Right"),
    (AsyncFetchRun(result=[b"x" * i for i in range(12)], max_in_flight=3, frozen_s=2.0), "frozen"),
    (AsyncFetchRun(result=[b"x" * i for i in range(12)], max_in_flight=12), "the limit is 3"),
    (AsyncFetchRun(result=[b"x" * i for i in range(12)], max_in_flight=1), "one request at a time"),
    (AsyncFetchRun(result=[b"x" * i for i in range(12)], max_in_flight=2), "size the Semaphore"),
    (AsyncFetchRun(result=None, max_in_flight=3), "returned None"),
    (AsyncFetchRun(result=[b"y" * i for i in range(12)][:0] + [b"z"] * 12, max_in_flight=3), "not the server"),
    (AsyncFetchRun(timed_out=True), "did not finish"),
])
def test_the_feedback_for_made_up_runs(run, words):
    feedback = aio_exercise.async_fetch_feedback(run)
    assert words in repr(feedback), feedback


# -- run_async and the server's count ----------------------------------------------------------------------

def test_run_async_returns_raises_and_times_out():
    async def answer():
        await asyncio.sleep(0)
        return 42

    async def fails():
        raise KeyError("k")

    assert lessons.run_async(answer()) == 42
    with pytest.raises(KeyError):
        lessons.run_async(fails())
    with pytest.raises(TimeoutError):
        lessons.run_async(asyncio.sleep(10), timeout=0.2)


def test_the_server_counts_the_most_requests_in_flight():
    with LocalHTTPServer(latency=0.2) as server:
        lessons.run_async(no_semaphore(server.url, 8, 8))
        assert server.max_in_flight == 8
    with LocalHTTPServer(latency=0.2) as server:
        lessons.run_async(solution(server.url, 8, 2))
        assert server.max_in_flight == 2 and server.requests == 8


# -- the verdicts, from made-up numbers ------------------------------------------------------------------------

def test_show_trace_marks_each_switch():
    text = lessons.show_trace(["A starts", "A after x", "B starts", "A ends"])
    assert text.count("switched") == 2


def test_froze_the_loop():
    assert lessons.froze_the_loop("x", 0).endswith("True")
    assert lessons.froze_the_loop("x", 1).endswith("False")


def _lane(name, kind="thread"):
    return SimpleNamespace(name=name, kind=kind)


def test_watch_verdict_names_the_busiest_thread():
    lanes = [_lane("MainThread"), _lane("event-loop"), _lane("asyncio_0"), _lane("pid 1", "process")]
    cpu = {"MainThread": 0.01, "event-loop": 0.5, "asyncio_0": 0.0, "pid 1": 9.0}
    frozen = SimpleNamespace(lanes=lanes, total=lambda lane: cpu[lane.name])
    assert lessons.busiest_thread(frozen) == "event-loop"
    assert lessons.watch_verdict(frozen, off_loop=False).endswith("True")
    assert lessons.watch_verdict(frozen, off_loop=True).endswith("False")
    cpu.update({"event-loop": 0.02, "asyncio_0": 0.5})
    assert lessons.watch_verdict(frozen, off_loop=True).endswith("True")


def _waits(kib, wall=1.0, waiting=1000, error=""):
    return ModelWaits(waiting, 0.1, wall, int(kib * 1024 * waiting), 0, error)


def test_async_waits_verdict():
    good = AsyncWaits(1000, 0.5, {"threads": _waits(16), "asyncio": _waits(1)})
    assert good.verdict().count("True") == 3 and "threads left running: 0" in good.verdict()
    refused = AsyncWaits(1000, 0.5, {"threads": _waits(16, waiting=300, error="RuntimeError: can't start new thread"),
                                     "asyncio": _waits(1)})
    assert refused.verdict().splitlines()[0].endswith("False")
    assert "refused" in repr(refused)
    slow = AsyncWaits(1000, 0.5, {"threads": _waits(16, wall=60.0), "asyncio": _waits(12)}, failed={})
    assert slow.verdict().splitlines()[0].endswith("False") and slow.verdict().splitlines()[2].endswith("False")
    missing = AsyncWaits(1000, 0.5, {"asyncio": _waits(1)}, failed={"threads": "it ran out of time"})
    assert "ran out of time" in repr(missing) and missing.verdict().splitlines()[0].endswith("False")


def test_async_vs_threads_measures_both_models_in_children():
    result = lessons.async_vs_threads(50, 0.05)
    assert set(result.models) == {"threads", "asyncio"}
    assert all(m.waiting == 50 and m.still_alive == 0 for m in result.models.values())


def test_limit_verdict():
    lines = lessons.limit_verdict(10, 10, 50, 0.2, 1.1).splitlines()
    assert [line.endswith("True") for line in lines] == [True, True, True]
    lines = lessons.limit_verdict(50, 10, 50, 0.2, 0.25).splitlines()
    assert [line.endswith("True") for line in lines] == [False, False, True]
    assert lessons.limit_verdict(10, 10, 50, 0.2, 6.0).splitlines()[2].endswith("False")
