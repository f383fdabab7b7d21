"""Lesson 03's code exercise (issue 17): `check_fetch_all` runs the learner's function against a local
server and must say what is wrong with each common wrong answer, and pass the solution. Behaviour only:
the speeds here are far from the thresholds (a loop of 30 waits of 100 ms against 30 at once)."""

from __future__ import annotations

import multiprocessing
import threading
import urllib.request
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from pathlib import Path

from concurrency_lab import lessons
from concurrency_lab.lessons import io_exercise

LESSON = Path(__file__).resolve().parents[1] / "notebooks" / "03_io_bound.md"


def fetch(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


def stub(urls):
    return [fetch(u) for u in urls]


def solution(urls):
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        return list(pool.map(fetch, urls))


def test_the_solution_passes_and_says_how_many_were_in_flight():
    feedback = lessons.check_fetch_all(solution)
    assert feedback.ok, feedback
    assert "in order" in feedback.message and "requests were in flight at once" in feedback.message


def test_the_stub_is_still_sequential_and_its_words_carry_no_timing():
    feedback = lessons.check_fetch_all(stub)
    assert not feedback.ok
    assert feedback.message.startswith("still one request at a time: the server never had more than 1 in flight")
    assert "x the" not in feedback.message  # the stub's answer is compared by nbval: no measured numbers


def test_too_few_threads_names_the_most_in_flight():
    def two(urls):
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(fetch, urls))

    feedback = lessons.check_fetch_all(two)
    assert not feedback.ok
    assert "at most 2 requests were in flight at once" in feedback.message
    assert f"{io_exercise.CHECK_URLS // 2} rounds" in feedback.message


def test_results_out_of_order_missing_or_none():
    def unordered(urls):
        with ThreadPoolExecutor(max_workers=len(urls)) as pool:
            return [f.result() for f in as_completed([pool.submit(fetch, u) for u in reversed(urls)])]

    def missing(urls):
        return solution(urls)[:-1]

    def forgot_return(urls):
        with ThreadPoolExecutor(max_workers=len(urls)) as pool:
            pool.map(fetch, urls)

    def wrong(urls):
        return [b"x"] * len(urls)

    assert "the wrong order" in lessons.check_fetch_all(unordered).message
    assert lessons.check_fetch_all(missing).message.startswith("29 results for 30 URLs")
    assert "returned None" in lessons.check_fetch_all(forgot_return).message
    assert lessons.check_fetch_all(wrong).message.startswith("result 0 is not the page from urls[0]")


def test_a_hang_times_out_and_an_error_is_reported():
    release = threading.Event()
    try:
        feedback = lessons.check_fetch_all(lambda urls: release.wait(30), timeout=1)
    finally:
        release.set()
    assert not feedback.ok and feedback.message.startswith("your function had not returned after 1 s")

    def boom(urls):
        raise ValueError("no\nmore lines")

    assert lessons.check_fetch_all(boom).message == "your function raised ValueError: no"
    assert not lessons.check_fetch_all("fetch_all").ok


def test_processes_work_but_threads_are_asked_for():
    def processes(urls):
        with ProcessPoolExecutor(max_workers=4, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(fetch, urls))

    feedback = lessons.check_fetch_all(processes)
    assert not feedback.ok
    assert "started 4 process(es)" in feedback.message and "threads suffice" in feedback.message


def test_the_pickle_error_of_a_spawned_pool_points_to_threads():
    run = io_exercise._Run(None, AttributeError("Can't pickle local object 'fetch'"), 0.1, 0, 0, True)
    assert "threads suffice" in io_exercise._error_feedback(run).message


def test_the_lesson_gives_the_stub_and_hides_the_solution():
    text = LESSON.read_text()
    assert "def fetch_all(urls):\n    return [fetch(u) for u in urls]\n\n\nlessons.check_fetch_all(fetch_all)" in text
    hidden = text.split("*Solution* (hidden; click to expand):")[1]
    assert hidden.lstrip().startswith("```{code-cell} ipython3\n---\njupyter:\n  source_hidden: true\n"
                                      "tags: [solution, nbval-ignore-output]")
    assert "max_workers=len(urls)" in hidden.split("```", 2)[1]
