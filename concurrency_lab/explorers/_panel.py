"""The thin widget layer every explorer's panel shares: controls -> settings -> model, and back.

A panel builds its controls (`make_controls`), turns their values into
settings fields (`parsers`: one converter per control that needs one), starts
the model in the background on Run, and lets a painter thread redraw the
figure (via `plots`) and table (via `analysis`) while the run goes on. It
computes nothing: every number comes from the model. A callback can be tested
with no browser: set `controls[...].value`, call `on_run()`, wait on `done`.
"""

from __future__ import annotations

import html
import io
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from ._base import Explorer

#: How often a panel redraws while a run goes on: often enough to look live,
#: rarely enough that drawing (~50-150 ms a figure) does not steal the cores measured.
REFRESH_S = 0.25
#: "large text" makes every font this many times larger against the plot, for the back of a room. It draws
#: the figure this many times narrower in inches (a painted one at this many times the pixels per inch):
#: the plot fills the same width, each point of text takes more of it, and no plot function changes.
LARGE = 1.3
#: CSS pixels per inch (the CSS standard's): the plot's natural width on the page, at 100% zoom.
CSS_PX_PER_INCH = 96


def svg(figure: Any) -> bytes:
    """The figure as vector graphics: sharp at any zoom, where a picture of 800 pixels was stretched to
    1,100 device pixels at 200% (issue 20), and as quick to draw here as the picture (about 100 ms)."""
    buf = io.BytesIO()
    figure.savefig(buf, format="svg")
    return buf.getvalue()


def html_table(frame: Any) -> str:
    if frame is None or len(frame) == 0:
        return ""
    return frame.to_html(index=False, border=0, float_format=lambda x: f"{x:.3g}", escape=True)


def parse_size(text: str, name: str = "size") -> int | float | None:
    """A text box's number: "" is None (the default), "1e5" a float, "100000" an int."""
    text = str(text).strip().replace("_", "")
    if not text:
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    raise ValueError(f"{name}: {text!r} is not a number; allowed: a number > 0, or empty for the default")


def parse_ints(text: str, name: str) -> tuple[int, ...]:
    """"1, 16, 256" -> (1, 16, 256), or an error naming the field."""
    parts = [p.strip().replace("_", "") for p in str(text).split(",") if p.strip()]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a comma-separated list of whole numbers, e.g. 1, 16") from None


def parse_tuple(value: Any, name: str) -> tuple:
    """A multiple-choice control's value (a tuple already, or a list) as a tuple."""
    return tuple(value)


class Panel:
    """The thin widget layer: controls -> settings -> model.start; a painter thread
    redraws the figure (via `plots`) and table (via `analysis`) while the run goes on.

    Tests drive it as a learner would: set `controls[...].value`, call
    `on_run()`, wait on `done`, look at `figure`, `table`, `status`.
    """

    figsize: ClassVar[tuple[float, float]] = (10.0, 5.5)
    #: The plot widget's format: vector graphics (`svg`), or "png" for a panel that paints pixels itself.
    picture_format: ClassVar[str] = "svg+xml"
    rows: ClassVar[int] = 1
    note: ClassVar[str] = ""
    #: Converters from a control's value to its settings field, for controls that need one:
    #: name -> f(value, name). The others pass through as they are.
    parsers: ClassVar[dict[str, Callable[[Any, str], Any]]] = {}

    def __init__(self, model: Explorer) -> None:
        import ipywidgets as w

        self.model = model
        self.controls: dict[str, Any] = self.make_controls(w, model.settings)
        for control in self.controls.values():  # "CPU workers", "switch (ms)": a label cut short helps no one
            if len(getattr(control, "description", "")) > 8:
                control.style.description_width = "initial"
        self.run_button = w.Button(description="Run", button_style="success", icon="play")
        self.stop_button = w.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.progress = w.IntProgress(min=0, max=1, value=0, description="progress")
        self.status = w.HTML()
        # The plot fills the output's width up to its own natural width (the figure's inches at 96 CSS pixels
        # each, whatever "large text" draws), so that zooming in makes it bigger on screen until it fills the
        # cell: at 1280x720 with the file browser closed, 960, 1010 and 1048 screen pixels at 100, 150 and
        # 200% (tests/browser/test_zoom.py), where a picture of fixed pixels shrank. Hidden until a run draws
        # it: no broken-image icon before.
        self.image = w.Image(format=self.picture_format, layout=w.Layout(
            display="none", width="100%", max_width=f"{round(self.figsize[0] * CSS_PX_PER_INCH)}px", height="auto"))
        self.table = w.HTML()
        self.large = w.ToggleButton(value=False, description="large text", icon="search-plus",
                                    tooltip="bigger text in the plot, for a projector")
        self.new_figure()
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.done.set()
        self._dirty = threading.Event()
        self._lock = threading.RLock()  # which run is current (`done`), its status and buttons; on_run switches runs
        self._draw_lock = threading.RLock()  # one frame at a time: refresh() draws into the one figure
        self.run_button.on_click(self.on_run)
        self.stop_button.on_click(self.on_stop)
        if "workload" in self.controls and "size" in self.controls:
            self.controls["workload"].observe(self.on_workload, names="value")
        self.large.observe(self.on_large, names="value")
        for button in (self.run_button, self.stop_button, self.large):  # zoomed in, the row wraps; "St…" helps no one
            button.layout.flex = "none"
        buttons = w.HBox([self.run_button, self.stop_button, self.progress, self.status, self.large],
                         layout=w.Layout(flex_flow="row wrap"))
        self.root = w.VBox([w.HTML(self.note), w.HBox(list(self.controls.values()),
                                                      layout=w.Layout(flex_flow="row wrap")),
                            buttons, self.image, self.table])
        self._mark_for_tests(type(model).__name__)

    # -- what a subclass provides ------------------------------------------------
    def make_controls(self, w: Any, s: Any) -> dict[str, Any]:
        raise NotImplementedError

    def values(self) -> dict[str, Any]:
        """The controls' values as settings fields, each through its parser (see `parsers`)."""
        return {name: self.parsers.get(name, _as_is)(control.value, name) for name, control in self.controls.items()}

    def draw(self) -> None:
        """Draw the model's results so far into `self.axes`."""
        raise NotImplementedError

    # -- handlers ----------------------------------------------------------------
    def on_run(self, _button: Any = None) -> bool:
        """Start a background run with the controls' values; refuse bad values with the error shown."""
        if self.model.running:
            self._say("a run is already going on; press Stop first", error=True)
            return False
        try:
            self.model.configure(**self.values())
        except (ValueError, TypeError) as exc:
            self.error = exc
            self._say(str(exc), error=True)
            return False
        with self._lock:  # a stopped run's painter may still be drawing its last frame: this run is now the one
            self.error = None
            done = self.done = threading.Event()
            self._busy(True)
            self._say("running…")
        self.model.start(progress=self._on_progress)
        threading.Thread(target=self._paint_until_done, args=(done,), name="concurrency-lab-painter",
                         daemon=True).start()
        threading.Thread(target=self._release_on_stop, args=(done,), name="concurrency-lab-release",
                         daemon=True).start()
        return True

    def on_large(self, _change: Any = None) -> None:
        """Draw the results so far again, at the text size the toggle asks for."""
        with self._draw_lock:
            self.new_figure()
            if self.model.records:
                self.refresh()

    @property
    def scale(self) -> float:
        """How much larger than normal the text is drawn (`LARGE` while "large text" is on)."""
        return LARGE if self.large.value else 1.0

    def new_figure(self) -> None:
        """A fresh figure for `draw()`, sized for the text scale (see `LARGE`)."""
        import matplotlib as mpl
        from matplotlib.figure import Figure

        from .. import plots

        # Narrower, not shorter: the title, legend and caption still need their height (at 1/1.5 of it the
        # constrained layout collapsed the axes to nothing); the plot is shown taller instead.
        width, height = self.figsize[0] / self.scale, self.figsize[1] * self.rows
        with mpl.rc_context(plots.STYLE):
            self.figure = Figure(figsize=(width, height), layout="constrained")
            self.axes = [self.figure.add_subplot(self.rows, 1, i + 1) for i in range(self.rows)]

    def on_workload(self, _change: Any = None) -> None:
        """A size belongs to one workload (loop steps, seconds, bytes): a new workload starts from its default."""
        self.controls["size"].value = ""

    def on_stop(self, _button: Any = None) -> None:
        """Ask the run to stop; returns at once (the painter reports when it has)."""
        self._say("stopping…")
        self.model._stop.set()

    def show_results(self, status: str) -> None:
        """Draw the model's results (a blocking `run()` just made them) and say so, unless a run is on."""
        if self.model.running:
            return
        self.refresh()
        self.progress.max = max(self.progress.max, 1)
        self.progress.value = self.progress.max
        self._say(status.format(n=len(self.model.records)) + self._load_note())

    def refresh(self) -> None:
        """Redraw the figure and the table from the model's results so far."""
        with self._draw_lock:
            self.draw()
            self.show(svg(self.figure))
            self.table.value = html_table(self.model.table())

    def show(self, picture: bytes) -> None:
        self.image.value = picture
        self.image.layout.display = ""

    # -- plumbing ------------------------------------------------------------------
    def _mark_for_tests(self, kind: str) -> None:
        """CSS classes a real-browser test (tests/browser) finds the panel's parts by."""
        self.root.add_class("cl-explorer")
        self.root.add_class(f"cl-{kind}")
        for part, name in ((self.run_button, "run"), (self.stop_button, "stop"), (self.progress, "progress"),
                           (self.status, "status"), (self.image, "plot"), (self.large, "large")):
            part.add_class(f"cl-{name}")

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.max = max(total, 1)
        self.progress.value = min(done, self.progress.max)
        self._dirty.set()

    def _paint_until_done(self, done: threading.Event) -> None:
        """Redraw while the run goes on, then once more; `done` is set after that last frame.

        After Stop, the controls come back as soon as the run has ended, before
        the last frame (which can take a second on a busy machine): Stop gives
        the panel back within 2 s. Everything this painter says or enables is
        said only while its run is still the panel's current one.
        """
        try:
            while not self.model.wait(REFRESH_S):
                if self._dirty.is_set():
                    self._dirty.clear()
                    self.refresh()
            if self.model.stopped:
                self._finish(done)
            self.refresh()
            self._finish(done)
        except Exception as exc:  # a drawing bug must not leave the buttons stuck
            with self._lock:
                if self.done is done:
                    self.error = exc
                    self._say(f"drawing failed: {type(exc).__name__}: {exc}", error=True)
        finally:
            with self._lock:
                if self.done is done:
                    self._busy(False)
            done.set()

    def _release_on_stop(self, done: threading.Event) -> None:
        """After Stop, give the controls back as soon as the run has ended, not after the frame the painter
        may be drawing. Measured under `stress-ng --cpu 2 --hdd 1 --vm 1` on 2 cores: the run ended 0.04 to
        0.1 s after Stop, but the panel came back 1 to 2 s later, once a frame in progress (about 1 s to
        draw there) was done, and once past the 2 s Stop promises."""
        while not self.model.wait(REFRESH_S):
            if done.is_set():
                return
        if self.model.stopped:
            self._finish(done)

    def _finish(self, done: threading.Event) -> None:
        with self._lock:
            if self.done is done:
                self._finish_status()
                self._busy(False)

    def _finish_status(self) -> None:
        if self.model.error is not None:
            self.error = self.model.error
            self._say(f"{type(self.model.error).__name__}: {self.model.error}", error=True)
        elif self.model.stopped:
            self._say(f"stopped; {len(self.model.records)} result(s) kept")
        else:
            self._say(f"done: {len(self.model.records)} run(s)" + self._load_note())

    def _load_note(self) -> str:
        load = self.model.load
        return f"; {load.short_note()}" if load is not None else ""

    def _busy(self, busy: bool) -> None:
        self.run_button.disabled = busy
        self.stop_button.disabled = not busy
        for control in self.controls.values():
            control.disabled = busy

    def _say(self, text: str, *, error: bool = False) -> None:
        color = "#D55E00" if error else "#333"
        self.status.value = f'<span style="color:{color}">{html.escape(text)}</span>'


def _as_is(value: Any, name: str) -> Any:
    return value
