"""Fixtures for the real-browser tests: Debian's Chromium driven by Playwright, and an isolated JupyterLab.

Locally, without Chromium or Playwright, these tests are skipped with a message saying how to get them.
In CI (`CI` set, as `.ci/run` does) a missing browser is a failure: they must never be silently skipped there.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from labserver import NOTEBOOKS, ROOT, LabServer, alive, jupyter_lab, start_lab

#: Where screenshots go; CI prints this folder's listing into its log. Override with BROWSER_SCREENSHOTS.
SHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", ROOT / "artifacts" / "screenshots"))
#: Flags for Debian's Chromium in a container: no sandbox (root), no GPU, and no traffic of its own.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def _chromium() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if _chromium() is None:
        return "Chromium is not installed (Debian/Ubuntu: sudo apt-get install chromium; or set CHROMIUM=/path)"
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    why = _missing()
    if why and os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI, but {why}")
    if why:
        pytest.skip(f"browser tests skipped: {why}")
    return _chromium()  # type: ignore[return-value]


# Module scope: the browser and the server close when the browser tests end, so they cannot
# take CPU from the timing-sensitive tests that run after them.
@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[LabServer]:
    """JupyterLab serving a copy of the lessons (running them must not rewrite the committed notebooks)."""
    home = tmp_path_factory.mktemp("lab")
    root = home / "notebooks"
    root.mkdir()
    for nb in NOTEBOOKS:
        shutil.copy(nb, root / nb.name)
    server = start_lab(jupyter_lab(root), home, root)
    try:
        server.wait_ready()
        yield server
    finally:
        tree = [server.proc.pid, *(p.pid for p in server.descendants())]
        server.stop()
        assert not [pid for pid in tree if alive(pid)], \
            f"JupyterLab left processes behind: {tree}"


@pytest.fixture
def page(browser: object, lab: LabServer) -> Iterator[object]:
    """A fresh tab; afterwards every kernel is shut down and its processes waited for."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    p = context.new_page()
    try:
        yield p
    finally:
        context.close()
        lab.shutdown_kernels()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def _browser_tree() -> set[int]:
    """Playwright's driver and the Chromium it runs: they start renderers as they please."""
    pids: set[int] = set()
    for child in psutil.Process().children():
        try:
            if "playwright" in " ".join(child.cmdline()):
                pids |= {child.pid, *(p.pid for p in child.children(recursive=True))}
        except psutil.Error:
            continue
    return pids


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    """The suite's guard, minus the browser's own processes: a kernel or a kernel's worker left running
    after a test fails it (the JupyterLab server itself is checked when the session ends)."""
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    yield
    deadline = time.monotonic() + 5.0
    while True:
        ignore = before | _browser_tree()
        left = [p for p in psutil.Process().children(recursive=True) if p.pid not in ignore and alive(p.pid)]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for p in left:
        p.kill()
    assert not left, f"left running: {[(p.pid, p.name()) for p in left]}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SHOTS.is_dir() and any(SHOTS.iterdir()):
        terminalreporter.write_sep("-", f"browser screenshots in {SHOTS}")
        for f in sorted(SHOTS.iterdir()):
            terminalreporter.write_line(f"  {f.name}  {f.stat().st_size // 1024} KiB")
