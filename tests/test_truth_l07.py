"""Issue 16, lesson 07: the Ctrl-C internals live in an appendix, and the main text's promise about Ctrl-C
(the run ends within 2 s, workers are killed, a thread runs on) is a checked demonstration beside it."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import md_code_cells

from concurrency_lab import lessons

LESSON = Path(__file__).resolve().parents[1] / "notebooks" / "07_robustness.md"
APPENDIX = "## Appendix: how Ctrl-C is held back"


def _main_and_appendix() -> tuple[str, str]:
    text = LESSON.read_text()
    assert APPENDIX in text, "lesson 07 lost its Ctrl-C appendix"
    main, appendix = text.split(APPENDIX)
    return main, appendix


def test_the_ctrl_c_internals_are_in_the_appendix_at_the_end():
    main, appendix = _main_and_appendix()
    for internal in ("POLL_INTERVAL_S", "SHUTDOWN_GRACE_S", "with lock:", "held for ever"):
        assert internal not in main, f"{internal!r} is an internal: it belongs in the appendix"
        assert internal in appendix
    assert "\n## " not in appendix, "the appendix must be the lesson's last section"


def test_the_main_text_keeps_what_a_learner_must_know_about_ctrl_c():
    main, _ = _main_and_appendix()
    for must in ("within 2 s", "kills the worker processes", "cannot be killed", "What stays behind",
                 "*aborted*", "lessons.interrupt_after(0.3, \"processes\")", "lessons.interrupt_after(0.3, \"threads\")"):
        assert must in main, must


def test_a_pressed_ctrl_c_ends_a_process_run_promptly_and_leaves_no_worker():
    run = lessons.interrupt_after(0.3, "processes")
    assert run.prompt and run.workers_left == 0
    lines = repr(run).splitlines()
    assert lines[0].startswith("processes, Ctrl-C pressed 0.3 s after the start: the run raised KeyboardInterrupt ")
    assert lines[0].endswith("after the press; within 2 s: True")
    assert lines[1:] == ["  worker processes left: 0"]


def test_a_pressed_ctrl_c_cannot_kill_a_thread():
    run = lessons.interrupt_after(0.3, "threads", hang_s=1.0)
    assert run.prompt and run.thread_still_running
    assert repr(run).splitlines()[-1] == "  the hung task's thread is still running in the background: True"


def test_a_real_ctrl_c_outside_the_demo_is_not_swallowed(monkeypatch):
    """The demo catches only the KeyboardInterrupt its own timer caused."""
    from concurrency_lab.lessons import robustness_limits

    monkeypatch.setattr(robustness_limits, "_hang_marked", _raise_interrupt)
    with pytest.raises(KeyboardInterrupt):
        lessons.hung_run("sequential", ctrl_c_after_s=5.0)  # the timer has not pressed yet


def _raise_interrupt(job):
    if job[1] > 0:  # not the warm-up
        raise KeyboardInterrupt
    return 0.0


def test_ctrl_c_counts_as_the_one_limit():
    with pytest.raises(ValueError, match="exactly one"):
        lessons.hung_run("threads", ctrl_c_after_s=0.3, timeout=1.0)


# -- issue 17: the lesson opens with plain multiprocessing / concurrent.futures code -----------------------


def _opening_cells() -> list[str]:
    main, _ = _main_and_appendix()
    opening = main[main.index("## 1. A crash, in plain Python"):main.index("## 2. A task that raises")]
    return md_code_cells(opening)


def test_the_opening_runs_as_the_lesson_says(capsys):
    import inspect

    cells = _opening_cells()
    text = "\n".join(cells)
    for api in ("ctx.Process(target=", "child.exitcode", "max_tasks_per_child=2", "mp_context=ctx",
                "except BrokenProcessPool", "get_context(\"spawn\")", "result(timeout="):
        assert api in text, api
    namespace = {"lessons": lessons, "inspect": inspect}
    for cell in cells:
        exec(cell, namespace)  # noqa: S102 - the lesson's own cells
    out = capsys.readouterr().out
    assert "the child's exit code: 3\nand the notebook carries on" in out
    assert "no worker ran more than 2 tasks: True\n6 tasks needed at least 3 workers: True" in out
    assert ("square(3) = 9\nthe crashed task's result() raised BrokenProcessPool\n"
            "a new submit() raised BrokenProcessPool\nand the notebook carries on") in out


def test_the_fork_start_method_refuses_max_tasks_per_child():
    """What the lesson says of max_tasks_per_child and fork (CPython 3.11+)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork here")
    with pytest.raises(ValueError, match="fork"):
        ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"), max_tasks_per_child=2)
    main, _ = _main_and_appendix()
    assert "It cannot be used with the fork start method (the constructor raises `ValueError`)" in main
