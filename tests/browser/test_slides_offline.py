"""A lesson as slides in a room with no network (issue 20): every request that leaves 127.0.0.1 is refused.

Two ways an instructor shows a lesson: live in JupyterLab, with the kernel
running, through jupyterlab-rise; and from one HTML file exported with
`concurrency-lab slides` (concurrency_lab/slides.py). Each is opened here with
the network blocked, moved through to its last slide, and must have asked
for nothing outside this machine.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest
from labserver import NOTEBOOKS
from notebook_page import OPEN_TIMEOUT_MS

from concurrency_lab import slides

LESSON = next(p for p in NOTEBOOKS if p.name.startswith("02_"))
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "file:", "about:")


def _block_the_network(page) -> list[str]:
    refused: list[str] = []

    def route(r) -> None:
        if r.request.url.startswith(LOCAL):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return refused


def _slides_of(path: Path) -> tuple[int, int]:
    """(slides, sub-slides) the lesson's cells ask for: reveal.js's horizontal and vertical steps."""
    kinds = [slides.slide_type(c) for c in nbformat.read(path, as_version=4).cells]
    return kinds.count("slide"), kinds.count("subslide")


def _names(session: dict, name: str) -> bool:
    """Whether a session listed by /api/sessions is the lesson's. JupyterLab's SessionContext starts a
    session under a temporary path, a UUID in the file's folder, and moves it to the file only once the
    server has answered with the kernel (`startNew({path: uuid})`, then `setPath`); its `name` is the
    file's from the start. On a loaded machine a kernel can sit in that window for a minute: a clean-clone
    CI listed path '8ea9e60a-...', name '02_cpu_bound_and_the_gil.ipynb', state 'starting'."""
    paths = (session.get("path", ""), session.get("name", ""), (session.get("notebook") or {}).get("name", ""))
    return any(str(p).endswith(name) for p in paths)


def _kernel_started_for(lab, name: str, timeout_s: float = OPEN_TIMEOUT_MS / 1000) -> tuple[bool, object]:
    """(whether the slideshow is live: a session for the lesson has a kernel, or, the server being this
    module's own and this its first test, a kernel has a connection; what the server listed last).

    Matching by `path` alone missed a session still under its temporary path (see _names), and the
    kernel, still starting, had no connection yet: a clean-clone CI failed so after 60 s. What the
    server listed is in the failure message, to tell why next time."""
    deadline, listed = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        try:
            listed = {"sessions": lab.api("/api/sessions"), "kernels": lab.api("/api/kernels")}
        except OSError as why:  # a busy server: ask again
            listed = repr(why)
        else:
            if any(_names(s, name) and s.get("kernel") for s in listed["sessions"]) \
                    or any(k.get("connections", 0) > 0 for k in listed["kernels"]):
                return True, listed
        time.sleep(0.2)
    return False, listed


@pytest.mark.timeout(300)  # JupyterLab, a kernel and Chromium on a loaded 2-core machine
def test_a_lesson_opens_as_a_live_slideshow_offline_and_moves_to_its_last_slide(page, lab, shots):
    refused = _block_the_network(page)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{lab.url}/rise/{LESSON.name}?token={lab.token}")
    page.wait_for_selector(".reveal .slides > section", timeout=OPEN_TIMEOUT_MS)
    # Live: the slideshow started a kernel to run cells on. Not lab.wait_kernel_connected, which waits for
    # one idle kernel with the page connected: in CI it waited out the test's whole timeout here.
    live, sessions = _kernel_started_for(lab, LESSON.name)
    assert live, f"the slideshow started no kernel; the server listed: {sessions}"
    horizontal, vertical = _slides_of(LESSON)
    assert page.locator(".reveal .slides > section").count() == horizontal
    page.screenshot(path=str(shots / "slides-rise-first.png"))
    seen = set()
    for _ in range(horizontal + vertical + 5):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(150)  # reveal.js's transition; the hash below is the real end condition
        seen.add(page.evaluate("() => location.hash"))
    last = page.evaluate("() => location.hash")
    assert re.fullmatch(rf"#/slide-{horizontal - 1}-\d+", last), (last, sorted(seen))
    page.screenshot(path=str(shots / "slides-rise-last.png"))
    assert refused == [], f"the slideshow asked the network for {refused}"


def test_the_exported_deck_works_from_a_file_with_no_network(browser, tmp_path, shots):
    deck = slides.export_deck(LESSON, tmp_path / "deck.html")
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        refused = _block_the_network(page)
        page.goto(deck.as_uri())
        total = len(slides.group(nbformat.read(LESSON, as_version=4).cells))
        assert page.inner_text("#counter") == f"1 / {total}"
        for _ in range(total * 4):  # each key shows a fragment or turns a slide
            if page.inner_text("#counter") == f"{total} / {total}":
                break
            page.keyboard.press("ArrowRight")
        assert page.inner_text("#counter") == f"{total} / {total}"
        page.screenshot(path=str(shots / "slides-deck-last.png"))
        broken = page.evaluate("() => [...document.images].filter(i => !i.complete || !i.naturalWidth).length")
        assert broken == 0 and refused == [], (broken, refused)
    finally:
        context.close()
