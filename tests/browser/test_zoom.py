"""An explorer's plot on a projector (issue 20): zoomed to 150% and 200%, it grows on screen, never shrinks.

Before, the plot was an 800-pixel picture beside JupyterLab's file browser: at 150% and 200% it took 421
and 272 CSS pixels, about 630 and 540 screen pixels against 848 at 100%, and its legend could not be read.
Now it is vector graphics as wide as its cell, up to its natural width (960 CSS pixels), so that zooming in
makes it bigger until it fills the cell. The test zooms as a browser does (fewer CSS pixels
across, more screen pixels each), with the file browser closed as an instructor would have it, and
screenshots each zoom at 1280x720, "large text" on at 200%.
"""

from __future__ import annotations

import base64

import nbformat
import pytest
from notebook_page import open_notebook, press_run, run_all

from concurrency_lab.explorers import _panel

ZOOMS = (1.0, 1.5, 2.0)
CELL = ("import concurrency_lab as cl\n"
        "explorer = cl.widgets.ScalingExplorer(backends=('threads',), workers=(1, 2), size=20_000, tasks=4)\n"
        "explorer.display()")


def _screenshot(cdp, path) -> None:
    """Through the DevTools protocol: Playwright's own screenshot puts its viewport back first, undoing the zoom."""
    path.write_bytes(base64.b64decode(cdp.send("Page.captureScreenshot", {"format": "png"})["data"]))


def _zoom(cdp, zoom: float) -> None:
    cdp.send("Emulation.setDeviceMetricsOverride", {"width": round(1280 / zoom), "height": round(720 / zoom),
                                                    "deviceScaleFactor": zoom, "mobile": False})


@pytest.mark.browser
def test_the_plot_grows_on_screen_at_150_and_200_percent(browser, lab, shots):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, lab.root / "zoom.ipynb")
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        open_notebook(page, lab, "zoom.ipynb")
        run_all(page)
        panel = page.locator(".cl-explorer").first
        assert press_run(page, panel).status.startswith("done")
        page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()  # close the file browser
        cdp = context.new_cdp_session(page)
        plot, screen = panel.locator(".cl-plot"), {}
        for zoom in ZOOMS:
            _zoom(cdp, zoom)
            page.wait_for_function("z => window.devicePixelRatio === z", arg=zoom)
            plot.scroll_into_view_if_needed()
            page.wait_for_timeout(300)  # the notebook's layout settles after a resize
            box, area = plot.bounding_box(), panel.bounding_box()
            natural = _panel.Panel.figsize[0] * _panel.CSS_PX_PER_INCH
            assert box["width"] >= 0.9 * min(area["width"], natural), (zoom, box, area)  # its cell or its own width
            screen[zoom] = box["width"] * zoom
            _screenshot(cdp, shots / f"zoom-{round(zoom * 100)}.png")
        panel.locator(".cl-large").click()  # "large text", as an instructor would for the back row
        page.wait_for_timeout(1000)
        _screenshot(cdp, shots / "zoom-200-large-text.png")
        print({f"{round(z * 100)}%": f"{w:.0f} screen px" for z, w in screen.items()})
        assert screen[1.5] > screen[1.0] and screen[2.0] > screen[1.0], screen  # it grows with the zoom
        assert page.locator(".cl-plot").first.evaluate("i => i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0")
    finally:
        context.close()
        lab.shutdown_kernels()
