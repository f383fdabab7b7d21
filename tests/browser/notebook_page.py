"""What a learner does in JupyterLab, as Playwright steps that wait on real conditions (never fixed sleeps)."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labserver import LabServer

#: Opening a notebook and starting its kernel on a busy 2-core machine takes a few seconds.
OPEN_TIMEOUT_MS = 60_000
#: One lesson's "Run All" in SMALL mode takes 10-30 s here (nbval's figures); leave plenty of room.
RUN_ALL_TIMEOUT_MS = 240_000
#: An explorer's run in SMALL mode takes 0.2-4 s here.
EXPLORER_TIMEOUT_MS = 120_000
#: Stop is promised within 2 s (runners poll every 50 ms; shutdown grace 1 s), and the last redraw
#: follows; 20 s on a loaded 2-core CI machine is a clear failure (how long it took is reported).
STOP_TIMEOUT_MS = 20_000

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
STDERR_MIME = "application/vnd.jupyter.stderr"

#: For each explorer, a control to turn up so a run lasts long enough to press Stop in the middle of it.
#: Each value is within the explorer's own limits (widgets.MAX_REPEATS, MAX_TASKS, ...).
LONG_RUN = {
    "ScalingExplorer": ("repeats", "20"),
    "TimelineExplorer": ("tasks", "1000"),  # outlasts the click; with 5000 the stop and last redraw took 1.5 s quiet, >10 s once in CI
    "GranularityExplorer": ("tasks", "100000"),
    "StartMethodExplorer": ("repeats", "20"),
    "MemoryExplorer": ("workers", "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12"),
    "ConvoyLab": ("probes", "10000"),
}


def open_notebook(page: Any, lab: LabServer, name: str) -> None:
    """Open `name` and wait until its kernel has started and is idle."""
    # ?reset: a fresh workspace, so tabs of an earlier test are not reopened (with kernels of their own).
    page.goto(f"{lab.url}/lab/tree/{name}?reset&token={lab.token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=OPEN_TIMEOUT_MS)
    lab.wait_kernel_connected(name)
    wait_kernel_idle(page)


def wait_kernel_idle(page: Any, timeout: int = OPEN_TIMEOUT_MS) -> None:
    # The toolbar's kernel indicator carries the state in its title once the kernel has answered.
    page.wait_for_selector("text=Kernel status: Idle", state="attached", timeout=timeout)


def menu(page: Any, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel").get_by_text(top, exact=True).click()
    page.locator(".lm-Menu-itemLabel").get_by_text(item, exact=True).click()


def run_all(page: Any) -> None:
    """Clear the committed outputs, then Run All Cells (through the menus, as a learner would), and wait
    until every code cell has an execution count again: a real end condition, not a guess of time."""
    menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function(f"() => {_PROMPTS}.every(p => !/\\d/.test(p.textContent))", timeout=OPEN_TIMEOUT_MS)
    menu(page, "Run", "Run All Cells")
    page.wait_for_function(f"() => {_PROMPTS}.length > 0 && {_PROMPTS}.every(p => /\\[\\d+\\]/.test(p.textContent))",
                           timeout=RUN_ALL_TIMEOUT_MS)
    wait_kernel_idle(page)


_PROMPTS = "[...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')]"


def code_cells(page: Any) -> int:
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").count()


def errors(page: Any) -> list[str]:
    """The text of every stderr or error output (a traceback, a warning)."""
    outs = page.locator(f".jp-OutputArea-output[data-mime-type='{STDERR_MIME}']")
    return [outs.nth(i).inner_text()[:2000] for i in range(outs.count())]


def widget_outputs(notebook: Path) -> int:
    """How many widget views the executed notebook displays (its committed outputs say)."""
    nb = json.loads(notebook.read_text())
    return sum(WIDGET_MIME in out.get("data", {}) for cell in nb["cells"] for out in cell.get("outputs", []))


def wait_widgets_rendered(page: Any, expected: int) -> int:
    """Wait until `expected` widget views have rendered and none shows the famous "Error displaying widget"
    (or stays at "Loading widget..."); return how many rendered. A view that failed shows its error text
    in place of the widget, so it is not counted, and the wait times out with a clear message."""
    try:
        page.wait_for_function(
            f"""n => [...document.querySelectorAll('{_OUTPUTS}')].filter(o => o.querySelector(':scope > .jupyter-widgets')
                     && !{_WIDGET_ERROR}.test(o.textContent)).length >= n""", arg=expected, timeout=OPEN_TIMEOUT_MS)
    finally:
        bad = page.evaluate(f"""() => [...document.querySelectorAll('{_OUTPUTS}')].map(o => o.innerText)
                                     .filter(t => {_WIDGET_ERROR}.test(t))""")
        assert not bad, f"widgets failed to render: {bad}"
    return page.locator(f"{_OUTPUTS} > .jupyter-widgets").count()


_OUTPUTS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output"
_WIDGET_ERROR = "/Error displaying widget|Loading widget|model not found/"


def broken_images(page: Any) -> int:
    """Output images (plots) the browser could not decode."""
    return page.evaluate("""() => [...document.querySelectorAll('.jp-OutputArea-output img')]
                                 .filter(i => i.offsetParent !== null && !(i.complete && i.naturalWidth > 0)).length""")


def screenshot_whole(page: Any, path: Path) -> None:
    """The whole notebook, not only what fits the window: grow the window to the notebook's height first."""
    height = page.evaluate("""() => { const n = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer')
                                      || document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
                                      return n ? n.scrollHeight : 1000; }""")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(max(int(height) + 200, 1000), 16_000)})
    # Run All leaves the notebook scrolled to its last cell: show it from the top.
    page.evaluate("""() => { for (const el of document.querySelectorAll(
                      '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer')) { el.scrollTop = 0; } }""")
    try:
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)


# -- explorers -------------------------------------------------------------------


@dataclass
class ExplorerRun:
    kind: str
    status: str
    progress: str
    plot_changed: bool
    seconds: float


def explorers(page: Any) -> Any:
    return page.locator(".cl-explorer")


def kind_of(panel: Any) -> str:
    classes = panel.get_attribute("class") or ""
    found = [c[3:] for c in classes.split() if c.startswith("cl-") and c != "cl-explorer"]
    return found[0] if found else "?"


def _plot_src(panel: Any) -> str | None:
    img = panel.locator(".cl-plot")
    return img.get_attribute("src") if img.count() else None


def progress_width(panel: Any) -> str:
    return panel.locator(".cl-progress .progress-bar").evaluate("b => b.style.width")


def press_run(page: Any, panel: Any) -> ExplorerRun:
    """Press Run, wait for this run's "done" (or an error), and report what the panel shows.

    The panel may already say "done" before the press: the lesson's blocking `run()` drew into it. So
    "done" alone is not this run's end: a loaded machine answered the click late, the old "done" was
    read, and then "running…" (a stress-ng run). This run has ended when the status says so, Run is back,
    and the plot is a new one; an error ends the wait too, for the caller's assertion to report.
    """
    panel.scroll_into_view_if_needed()
    before = _plot_src(panel)
    t0 = time.monotonic()
    panel.locator("button.cl-run").click()
    page.wait_for_function("""([el, before]) => {
            const status = el.querySelector('.cl-status').innerText;
            if (/^(.*Error|drawing failed)/.test(status)) return true;
            const plot = el.querySelector('.cl-plot');
            return /^(done|stopped)/.test(status) && !el.querySelector('button.cl-run').disabled
                   && plot !== null && plot.getAttribute('src') !== before;
        }""", arg=[panel.element_handle(), before], timeout=EXPLORER_TIMEOUT_MS)
    status = panel.locator(".cl-status")
    return ExplorerRun(kind_of(panel), status.inner_text(), progress_width(panel), _plot_src(panel) != before,
                       time.monotonic() - t0)


def set_control(panel: Any, description: str, value: str) -> None:
    """Type into the control labelled `description` and commit it (Enter), as a learner would."""
    box = panel.locator(".widget-inline-hbox", has=panel.page.locator("label", has_text=re.compile(f"^{description}$")))
    field = box.locator("input").first
    field.fill(value)
    field.press("Enter")
    field.blur()


def choose(panel: Any, description: str, option: str) -> None:
    """Pick `option` in the drop-down labelled `description`, as a learner would."""
    box = panel.locator(".widget-inline-hbox", has=panel.page.locator("label", has_text=re.compile(f"^{description}$")))
    box.locator("select").select_option(option)


def control_value(panel: Any, description: str) -> str:
    box = panel.locator(".widget-inline-hbox", has=panel.page.locator("label", has_text=re.compile(f"^{description}$")))
    return box.locator("input").first.input_value()


def press_stop_midway(page: Any, panel: Any) -> tuple[str, float]:
    """Make the run long, press Run, wait until it is running, press Stop; return the status and the
    seconds from pressing Stop until Run is enabled again."""
    control, value = LONG_RUN[kind_of(panel)]
    set_control(panel, control, value)
    return press_run_then_stop(page, panel)


def press_run_then_stop(page: Any, panel: Any) -> tuple[str, float]:
    """Press Run, wait until it is running, press Stop; return the status and the seconds from pressing
    Stop until Run is enabled again."""
    panel.scroll_into_view_if_needed()
    panel.locator("button.cl-run").click()
    # Either the run starts (Stop enabled) or the panel refuses it (its status changes to the reason).
    page.wait_for_function("""el => !el.querySelector('button.cl-stop').disabled
                                 || !/^(done|stopped)/.test(el.querySelector('.cl-status').innerText)""",
                           arg=panel.element_handle(), timeout=EXPLORER_TIMEOUT_MS)
    if panel.locator("button.cl-stop").is_disabled():
        raise AssertionError(f"{kind_of(panel)} refused the long run: {panel.locator('.cl-status').inner_text()}")
    t0 = time.monotonic()
    panel.locator("button.cl-stop").click()
    panel.locator("button.cl-run:not([disabled])").wait_for(timeout=STOP_TIMEOUT_MS)
    return panel.locator(".cl-status").inner_text(), time.monotonic() - t0
