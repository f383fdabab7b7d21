"""`concurrency-lab demo` (make demo): a lesson's explorers on a page with no code, as an instructor shows them.

The command is started as README says, with a token; the page must refuse a
visitor without it, show the lesson's explorers, run and stop one as a
learner's panel does, and leave nothing running after Ctrl-C.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psutil
import pytest
from labserver import START_TIMEOUT_S, alive, start_lab
from notebook_page import (
    EXPLORER_TIMEOUT_MS,
    LONG_RUN,
    OPEN_TIMEOUT_MS,
    STOP_TIMEOUT_MS,
    explorers,
    kind_of,
    press_run,
    set_control,
)

from concurrency_lab import demo


def _demo(lesson: str):
    return lambda port, token: [sys.executable, "-m", "concurrency_lab", "demo", lesson, f"--port={port}",
                                f"--token={token}", "--no-browser"]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003 - urllib's signature
        return None


def _status(url: str) -> int:
    try:
        with urllib.request.build_opener(_NoRedirect).open(url, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _wait_page(url: str, proc: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the demo exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if _status(url) == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"the demo page did not answer in {START_TIMEOUT_S:.0f} s:\n{log.read_text()[-3000:]}")


def _run_then_stop(page, panel) -> tuple[str, float]:
    """Make the run long, press Run, wait until Stop is enabled, press it; the status, and the seconds until
    Run is back (on a fresh page the status is empty, so the lessons' helper cannot tell a refusal apart)."""
    set_control(panel, *LONG_RUN[kind_of(panel)])
    panel.locator("button.cl-run").click()
    panel.locator("button.cl-stop:not([disabled])").wait_for(timeout=EXPLORER_TIMEOUT_MS)
    t0 = time.monotonic()
    panel.locator("button.cl-stop").click()
    panel.locator("button.cl-run:not([disabled])").wait_for(timeout=STOP_TIMEOUT_MS)
    return panel.locator(".cl-status").inner_text(), time.monotonic() - t0


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_the_demo_page_shows_the_lessons_explorers_runs_and_stops_and_ends_clean(browser, tmp_path, shots):
    server = start_lab(_demo("02"), tmp_path, tmp_path)
    tree: list[psutil.Process] = []
    try:
        page_url = f"http://127.0.0.1:{server.port}/?token={server.token}"
        _wait_page(page_url, server.proc, server.log)
        assert _status(f"http://127.0.0.1:{server.port}/") != 200, "the page opened without its token"
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        try:
            page = context.new_page()
            page.goto(page_url)
            want = [c.name for c in demo.lesson_calls(demo._lessons(), "02")]
            page.wait_for_function(f"() => document.querySelectorAll('.cl-explorer').length === {len(want)}",
                                   timeout=OPEN_TIMEOUT_MS)
            panels = explorers(page)
            assert [kind_of(panels.nth(i)) for i in range(panels.count())] == want
            assert "demo.show" not in page.inner_text("body"), "the page shows code"
            tree = [psutil.Process(server.proc.pid), *server.descendants()]
            timeline = page.locator(".cl-explorer.cl-TimelineExplorer").first
            run = press_run(page, timeline)
            assert run.status.startswith("done") and run.plot_changed, run
            status, seconds = _run_then_stop(page, page.locator(".cl-explorer.cl-ScalingExplorer").first)
            assert status.startswith("stopped") and seconds < 2.0, (status, seconds)
            page.screenshot(path=str(shots / "demo-page.png"))
        finally:
            context.close()
        tree = [*tree, *server.descendants()]  # the kernel's workers, started by the runs
        server.proc.send_signal(signal.SIGINT)  # Ctrl-C in the instructor's terminal
        assert server.proc.wait(30) == 130
        _, left = psutil.wait_procs(tree, timeout=10)
        assert [p.pid for p in left if alive(p.pid)] == [], f"left running after Ctrl-C: {left}"
    finally:
        server.stop()
