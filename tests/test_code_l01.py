"""Lesson 01's coding exercise (issue 17): `check_spawn_safe` runs the learner's script as a `.py` file in a
child Python and names each common wrong answer; it passes the solution. The lesson's opening code is the
standard library's own: Thread, Event, a spawn Process, the `__main__` guard in a script."""

from __future__ import annotations

from pathlib import Path

from concurrency_lab import lessons
from concurrency_lab.lessons import basics
from concurrency_lab.lessons.basics import UNSAFE_SCRIPT

LESSON = next((Path(__file__).resolve().parents[1] / "notebooks").glob("01_*.md"))

GUARDED = '''\
import multiprocessing


def square(k):
    print(f"worker {k}: {k} squared is {k * k}", flush=True)


if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=square, args=(k,)) for k in range(2)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=20)
    print("exit codes:", [p.exitcode for p in workers])
'''
#: The guard added, but the function moved inside it too.
FUNCTION_INSIDE = "import multiprocessing\n\nif __name__ == \"__main__\":\n" + "\n".join(
    "    " + line if line else "" for line in UNSAFE_SCRIPT.splitlines()[1:]) + "\n"


def test_the_unguarded_script_is_told_about_the_guard():
    feedback = lessons.check_spawn_safe(UNSAFE_SCRIPT)
    assert not feedback.ok
    assert "bootstrapping phase" in feedback.message and 'if __name__ == "__main__":' in feedback.message


def test_a_function_inside_the_guard_is_told_where_workers_look():
    feedback = lessons.check_spawn_safe(FUNCTION_INSIDE)
    assert not feedback.ok
    assert "Can't get attribute 'square'" in feedback.message and "__mp_main__" in feedback.message


def test_the_guarded_script_passes():
    feedback = lessons.check_spawn_safe(GUARDED)
    assert feedback.ok, feedback.message


def test_two_workers_lines_run_together_still_pass():
    """Unbuffered (PYTHONUNBUFFERED=1), two workers' prints can meet before a newline; seen with two CPU hogs."""
    feedback = basics._run_feedback("worker 1: 1 squared is 1worker 0: 0 squared is 0\n\nexit codes: [0, 0]\n",
                                    timed_out=False, returncode=0)
    assert feedback.ok, feedback.message


def test_the_script_runs_buffered_whatever_this_process_was_given(monkeypatch):
    """As `python spawn_safe.py` runs in a pipe: no PYTHONUNBUFFERED passed on from the kernel or CI."""
    from concurrency_lab import children

    monkeypatch.setenv("PYTHONUNBUFFERED", "1")
    given = {}
    real = children.run_script

    def run_script(source, *args, env=None, **kwargs):
        given["env"] = env
        return real(source, *args, env=env, **kwargs)

    monkeypatch.setattr(children, "run_script", run_script)
    assert lessons.check_spawn_safe(GUARDED).ok
    assert given["env"] is not None and "PYTHONUNBUFFERED" not in given["env"] and "PATH" in given["env"]


def test_a_script_that_never_ends_is_killed_and_named(monkeypatch):
    monkeypatch.setattr(basics, "SPAWN_CHECK_TIMEOUT_S", 3.0)
    hangs = GUARDED.replace("    print(f\"worker", "    import time; time.sleep(60)\n    print(f\"worker"
                            ).replace("p.join(timeout=20)", "p.join()")
    feedback = lessons.check_spawn_safe(hangs)
    assert not feedback.ok and "did not end within 3 s" in feedback.message


def test_wrong_output_is_named():
    feedback = lessons.check_spawn_safe(GUARDED.replace("range(2)", "range(1)"))
    assert not feedback.ok and "did not print: 'worker 1: 1 squared is 1'" in feedback.message


def test_a_misspelt_guard_runs_nothing_and_says_so():
    feedback = lessons.check_spawn_safe(GUARDED.replace('"__main__"', '"main"'))
    assert not feedback.ok and "printed nothing" in feedback.message


def test_what_needs_no_run():
    assert "a string" in lessons.check_spawn_safe(None).message
    assert "does not compile" in lessons.check_spawn_safe("def (").message
    assert "keep `multiprocessing.get_context(\"spawn\")`" in lessons.check_spawn_safe(
        GUARDED.replace('"spawn"', '"fork"')).message


def test_the_lesson_opens_with_the_standard_library():
    text = LESSON.read_text()
    opening = text[:text.index("## 2. Shared vs isolated memory")]
    for api in ("threading.Thread(", "threading.Event()", ".join(timeout=", 'get_context("spawn")', ".Process(",
                ".exitcode", ".terminate()", 'if __name__ == "__main__":', "run_script(", "%%watch"):
        assert api in opening, api
    assert "lessons.check_spawn_safe(script)" in text
