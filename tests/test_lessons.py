"""The environment check and each exercise's auto-check: fails on a wrong answer, passes on the solution."""

from __future__ import annotations

import time

from concurrency_lab import api, lessons


def test_environment_check_ticks_everything_here():
    report = lessons.environment_check()
    assert report.ok, repr(report)
    assert report.verdict() == f"All {len(report.checks)} checks passed: this machine is ready for the lessons."
    assert all(str(c).startswith("\u2713 ") for c in report.checks)


def test_a_failed_check_is_named_in_the_verdict():
    report = lessons.CheckReport((lessons.Check("cores", False, "1 usable core"), lessons.Check("GIL", True, "on")))
    assert report.verdict() == "1 of 2 checks passed; look at: cores."
    assert repr(report).splitlines()[0] == "\u2717 cores: 1 usable core"


def test_first_run_exercise_rejects_wrong_answers():
    assert not lessons.check_first_run(None).ok
    assert not lessons.check_first_run(42).ok
    wrong = api.run("cpu", backend="threads", max_workers=2, tasks=4, size=1000)
    feedback = lessons.check_first_run(wrong)
    assert not feedback.ok and "the backend is 'threads', not 'processes'" in feedback.message
    assert repr(feedback).startswith("\u2717 Not yet: ")


def test_first_run_exercise_accepts_the_solution():
    rec = api.run("cpu", backend="processes", max_workers=2, tasks=4, size=1000)
    feedback = lessons.check_first_run(rec)
    assert feedback.ok and repr(feedback).startswith("\u2713 Right: 4 cpu tasks ran")


def test_classic_pool_map_is_slower_than_the_loop():
    result = lessons.classic_pool_map(10, "fork")
    assert result.loop_wins and "Pool(2).map with fork" in repr(result)


def test_serial_fraction_exercise():
    import pandas as pd

    fit = pd.DataFrame({"backend": ["processes", "threads"], "s": [0.05, 0.9]})
    assert not lessons.check_larger_serial_fraction(None, fit).ok
    wrong = lessons.check_larger_serial_fraction("processes", fit)
    assert not wrong.ok and "smaller serial fraction" in wrong.message
    right = lessons.check_larger_serial_fraction("threads", fit)
    assert right.ok and "larger serial fraction" in right.message
    assert not lessons.check_larger_serial_fraction("threads", fit[fit.backend == "threads"]).ok


def test_threads_share_a_global_and_processes_do_not():
    assert lessons.mutate_global("threads").parent_sees == 1
    demo = lessons.mutate_global("processes")
    assert demo.worker_saw == 1 and demo.parent_sees == 0
    assert "does not share" in repr(demo) and "a process" in repr(demo)
    assert "a thread shares" in repr(lessons.mutate_global("threads"))


def test_memory_verdict():
    from types import SimpleNamespace as M

    ms = [M(backend="threads", workers=2, total_mib=0.2), M(backend="processes", workers=2, total_mib=60.0)]
    assert lessons.memory_verdict(ms) == "per worker, processes cost more memory than threads"
    assert lessons.memory_verdict(ms[:1]).startswith("measure both")


def test_compare_backends_and_overlap_verdict():
    df = lessons.compare_backends("io_sleep", 0.02, tasks=8, max_workers=8, backends=("sequential", "threads"))
    assert list(df.backend) == ["sequential", "threads"] and df.speedup.iloc[0] == 1.0
    assert lessons.overlapped(df) == "overlapped the waiting (2x or better): threads"


def test_thread_count_verdict():
    import pandas as pd

    df = pd.DataFrame({"threads": [1, 8, 16], "wall_s": [0.8, 0.05, 0.05]})
    assert not lessons.more_threads_than_tasks_helped(df, 8)
    assert lessons.more_threads_than_tasks_helped(pd.DataFrame({"threads": [8, 16], "wall_s": [0.1, 0.05]}), 8)


def test_start_method_verdict_names_where_a_notebook_function_ran():
    from concurrency_lab import config, widgets

    explorer = widgets.StartMethodExplorer(repeats=1, workers=1)
    explorer.run()
    lines = lessons.start_method_verdict(explorer).splitlines()
    methods = config.available_start_methods()
    assert lines[0] == f"our runner ran the notebook's function under: {', '.join(sorted(methods))}"
    broke = sorted(m for m in methods if m != "fork")
    assert lines[1].endswith(f"it broke under: {', '.join(broke)}")


def test_fastest_takes_timers_in_turn_and_keeps_each_ones_best():
    from concurrency_lab.timing import fastest

    calls = []
    tries = {"a": iter([3.0, 1.0, 2.0]), "b": iter([0.5, 0.7, 0.4])}

    def timer(name):
        def take():
            calls.append(name)
            return next(tries[name])
        return take

    assert fastest({"a": timer("a"), "b": timer("b")}, repeats=3) == {"a": 1.0, "b": 0.4}
    assert calls == ["a", "b"] * 3  # interleaved: a busy spell hurts both alike


def test_fastest_keeps_trying_until_min_seconds_have_passed():
    from concurrency_lab.timing import fastest

    calls = []

    def slow_then_fast():
        calls.append(1)
        time.sleep(0.01)
        return 1.0 if len(calls) < 5 else 0.5  # the fast tries come only after the first four

    assert fastest({"a": slow_then_fast}, repeats=2, min_seconds=0.2) == {"a": 0.5}
    assert 5 <= len(calls) <= 40  # past `repeats`, and bounded by MAX_ROUNDS_FACTOR * repeats
    calls.clear()
    assert fastest({"a": slow_then_fast}, repeats=2) == {"a": 1.0} and len(calls) == 2
