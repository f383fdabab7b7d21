"""A lesson as a deck of slides in one HTML file that needs no network (issue 20: teaching in class).

Why our own deck, not nbconvert's: `jupyter nbconvert --to slides` writes a
page that loads reveal.js from a CDN (unpkg), so in a room without a network
it shows unstyled text on one long page. This deck is one file: the styles,
the few lines of script that turn the slides and every plot (as a data URI)
are inside it, and it asks for nothing from anywhere (a test opens it in
Chromium with every request blocked). A live slideshow, with the kernel
running, is jupyterlab-rise's job in JupyterLab; this is what an instructor
carries on a memory stick.

The slides follow the `slideshow.slide_type` each lesson source gives its
cells (`tools/slide_types.py`, the rule): "slide" and "subslide" start a new
slide, "fragment" appears on the next key press, "skip" and "notes" stay off
the screen, and any other cell goes on the slide before it. An explorer's
widget cannot run in a static page; the picture of a real run it carries
beside the widget (recorded on a named machine and day) is shown instead.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

#: Slide types that open a new slide, and those that never reach the screen (Jupyter's names).
NEW_SLIDE = ("slide", "subslide")
HIDDEN = ("skip", "notes")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_MARKER = re.compile(r"^# NBVAL_\w+.*\n(#\s*\(.*\)\n)?", re.M)  # nbval's markers, and the reason under one

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
html, body {{ margin: 0; height: 100%; background: #fff; color: #111;
  font: clamp(16px, 1.6vw, 40px)/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }}
section {{ display: none; box-sizing: border-box; height: 100vh; overflow: auto; padding: 3vh 5vw 6vh; }}
section.current {{ display: block; }}
.fragment.hidden {{ visibility: hidden; }}
pre {{ font: 0.8em/1.35 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; white-space: pre-wrap;
  background: #f6f8fa; padding: 0.6em 0.8em; border-radius: 4px; margin: 0.4em 0; }}
pre.output {{ background: #fff; border-left: 3px solid #ccc; }}
img {{ max-width: 100%; height: auto; }}
table {{ border-collapse: collapse; font-size: 0.8em; }} td, th {{ border: 1px solid #ddd; padding: 0.2em 0.5em; }}
.note {{ color: #555; font-style: italic; }}
#counter {{ position: fixed; right: 1.2em; bottom: 0.8em; color: #666; font-size: 0.7em; }}
</style></head><body>
{slides}
<div id="counter"></div>
<script>
(function () {{
  var slides = Array.prototype.slice.call(document.querySelectorAll("section"));
  var at = Math.max(0, Math.min(slides.length - 1, (parseInt(location.hash.slice(1), 10) || 1) - 1));
  function hidden(s) {{ return s.querySelectorAll(".fragment.hidden"); }}
  function show(n) {{
    slides[at].classList.remove("current");
    at = Math.max(0, Math.min(slides.length - 1, n));
    slides[at].classList.add("current");
    document.getElementById("counter").textContent = (at + 1) + " / " + slides.length;
    history.replaceState(null, "", "#" + (at + 1));
  }}
  function next() {{ var h = hidden(slides[at]); if (h.length) {{ h[0].classList.remove("hidden"); }} else {{ show(at + 1); }} }}
  document.addEventListener("keydown", function (e) {{
    if (["ArrowRight", "PageDown", " ", "Enter"].indexOf(e.key) >= 0) {{ next(); e.preventDefault(); }}
    else if (["ArrowLeft", "PageUp", "Backspace"].indexOf(e.key) >= 0) {{ show(at - 1); e.preventDefault(); }}
    else if (e.key === "Home") {{ show(0); }} else if (e.key === "End") {{ show(slides.length - 1); }}
  }});
  document.addEventListener("click", function (e) {{ if (!e.target.closest("a, pre")) next(); }});
  show(at);
}})();
</script>
</body></html>
"""


def slide_type(cell: Any) -> str:
    """A cell's `slideshow.slide_type`, or "-" (goes on the slide before it)."""
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-") or "-"


def group(cells: list) -> list[list]:
    """The cells of each slide, in order; cells the deck leaves out are dropped."""
    slides: list[list] = []
    for cell in cells:
        kind = slide_type(cell)
        if kind in HIDDEN:
            continue
        if kind in NEW_SLIDE or not slides:
            slides.append([])
        slides[-1].append(cell)
    return [s for s in slides if s]


def render_output(output: Any) -> str:
    """One output as HTML: a picture embedded, a table as is, text as text; a live widget is named, not run."""
    kind = output.get("output_type")
    if kind == "stream":
        return f'<pre class="output">{html.escape(_ANSI.sub("", "".join(output["text"])))}</pre>'
    if kind == "error":
        lines = _ANSI.sub("", "\n".join(output.get("traceback", [])))
        return f'<pre class="output">{html.escape(lines)}</pre>'
    data = output.get("data", {})
    if "image/png" in data:
        png = "".join(data["image/png"]).replace("\n", "")
        base64.b64decode(png, validate=True)  # a broken picture fails the export, not the class
        return f'<img alt="a plot" src="data:image/png;base64,{png}">'
    if "image/svg+xml" in data:
        return "".join(data["image/svg+xml"])
    if "text/html" in data:
        return "".join(data["text/html"])
    if "application/vnd.jupyter.widget-view+json" in data:
        return '<p class="note">A live panel: run the lesson in JupyterLab to use it.</p>'
    if "text/plain" in data:
        return f'<pre class="output">{html.escape(_ANSI.sub("", "".join(data["text/plain"])))}</pre>'
    return ""


def render_cell(cell: Any) -> str:
    """A cell as HTML: markdown rendered, code highlighted (with its outputs); a fragment waits for a key."""
    source = "".join(cell["source"])
    if cell["cell_type"] == "markdown":
        from nbconvert.filters.markdown_mistune import markdown2html_mistune

        body = markdown2html_mistune(source)
    elif cell["cell_type"] == "code":
        body = _code(_MARKER.sub("", source).strip("\n")) + "".join(map(render_output, cell.get("outputs", [])))
    else:
        return ""
    return f'<div class="fragment hidden">{body}</div>' if slide_type(cell) == "fragment" else body


def _code(source: str) -> str:
    if not source:
        return ""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    return highlight(source, PythonLexer(), HtmlFormatter(noclasses=True, nowrap=False, style="default"))


def deck(notebook: Any, title: str = "") -> str:
    """The deck's HTML for a notebook (an `nbformat` node or its JSON as a dict)."""
    sections = ["<section>" + "".join(map(render_cell, cells)) + "</section>" for cells in group(notebook["cells"])]
    return _PAGE.format(title=html.escape(title), slides="\n".join(sections))


def export_deck(path: str | Path, out: str | Path | None = None) -> Path:
    """Write `path` (an executed .ipynb) as a deck; `out` defaults to the same name with `.slides.html`."""
    import nbformat

    src = Path(path)
    nb = nbformat.read(src, as_version=4)
    dest = Path(out) if out is not None else src.with_suffix(".slides.html")
    dest.write_text(deck(nb, title=src.stem), encoding="utf-8")
    return dest


__all__ = ["deck", "export_deck", "group", "render_cell", "render_output", "slide_type"]
