"""Functions a learner defines in `__main__` (a script or a notebook) work under every start method."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from concurrency_lab import config

SCRIPT = textwrap.dedent(
    """
    import sys
    from concurrency_lab.runners import ProcessRunner

    def square(x):          # defined in __main__, which spawn/forkserver workers cannot import
        return x * x

    if __name__ == "__main__":
        method = sys.argv[1]
        with ProcessRunner(2, start_method=method) as runner:
            rec = runner.run(square, [1, 2, 3])
            assert rec.ok, rec.failures
            def late(x):    # defined after the pool started: breaks a raw fork pool silently
                return x + 100
            rec2 = runner.run(late, [1, 2])
            assert rec2.ok, rec2.failures
        print(method, list(rec.results), list(rec2.results), rec.start_method)
    """
)

UNGUARDED = textwrap.dedent(
    """
    from concurrency_lab.runners import ProcessRunner
    with ProcessRunner(1, start_method=METHOD) as runner:
        runner.run(abs, [-1])
    """
)


@pytest.mark.parametrize("method", config.available_start_methods())
def test_main_module_functions_run_in_workers(tmp_path, method):
    script = tmp_path / "learner.py"
    script.write_text(SCRIPT)
    out = subprocess.run([sys.executable, str(script), method], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [method, "[1,", "4,", "9]", "[101,", "102]", method]


@pytest.mark.parametrize("method", [m for m in ("spawn", "forkserver") if m in config.available_start_methods()])
def test_a_script_without_a_main_guard_gets_an_explanation(tmp_path, method):
    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED.replace("METHOD", repr(method)))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert 'if __name__ == "__main__":' in out.stderr
    assert "WorkerStartError" in out.stderr


PRELOADED = textwrap.dedent(
    """
    import sys

    def imported(name):
        return name in sys.modules

    if __name__ == "__main__":  # nothing of ours imported at the top: the forkserver preloads this file
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrency_lab.runners import ProcessRunner

        with ProcessRunner(1, start_method="forkserver") as runner:  # starts this process's forkserver
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver")) as raw:
                print(raw.submit(imported, "concurrency_lab._worker").result(timeout=30),
                      runner.run(imported, ["__mp_main__"]).results[0])
    """
)


@pytest.mark.skipif("forkserver" not in config.available_start_methods(), reason="no forkserver here")
def test_the_forkserver_preloads_our_worker_module_and_still_main(tmp_path):
    """Workers inherit `concurrency_lab._worker` from the forkserver instead of importing it after the fork
    (`processes.preload_in_forkserver`): a raw pool's worker from the same forkserver has it before any
    task of ours ran there, and the script itself is still preloaded, as the standard library does."""
    script = tmp_path / "preload.py"
    script.write_text(PRELOADED)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]
