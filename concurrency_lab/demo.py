"""The explorers of one lesson, or of every lesson, on a page with no code (issue 20: a demo in class).

Why: on a projector an instructor wants the controls and the plot, not forty
cells of code to scroll past; `make demo` serves `notebooks/demo.ipynb` with
Voilà, which runs it and shows only its outputs. Which explorers, and with
which settings, is read from the lessons' own cells (each
`cl.widgets.SomeExplorer(...)` call, keeping its literal arguments), so the
demo shows what the lesson shows and there is no second list to fall out of
step. An argument that is not a literal (`size=size`, worked out by an
earlier cell) is left to the explorer's own default, and the demo page says
so under the explorer's heading.
"""

from __future__ import annotations

import ast
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ExplorerCall:
    """One explorer as a lesson makes it: the class name and the arguments that are plain values."""

    lesson: str
    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    left_out: tuple[str, ...] = ()
    """Arguments the lesson works out in earlier cells; the explorer's defaults stand in for them."""


def calls_in(source: str, lesson: str, names: set[str]) -> list[ExplorerCall]:
    """The explorer calls (`widgets.Name(...)` or `Name(...)`, Name in `names`) in one cell's code."""
    try:
        tree = ast.parse("\n".join(ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))))
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name not in names or node.args:
            continue
        kwargs, left_out = {}, []
        for kw in node.keywords:
            try:
                kwargs[kw.arg] = ast.literal_eval(kw.value)
            except ValueError:
                left_out.append(kw.arg)
        found.append(ExplorerCall(lesson, name, kwargs, tuple(left_out)))
    return found


def lesson_calls(folder: Path, lesson: str | None = None) -> list[ExplorerCall]:
    """Every explorer the lessons in `folder` make (or lesson `lesson`, e.g. "02"), in lesson order.

    A lesson that replays a learner's own recording (`replay="my-machine.jsonl"`) is skipped: that
    file exists only once the learner has made it.
    """
    paths = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if lesson not in (None, "", "all"):
        paths = [p for p in paths if p.name[:2] == str(lesson).zfill(2)]
        if not paths:
            raise ValueError(f"no lesson {lesson!r} in {folder}")
    calls = []
    for path in paths:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] == "code" and "solution" not in cell.get("metadata", {}).get("tags", []):
                calls += calls_in("".join(cell["source"]), path.name[:2], explorer_names())
    calls = [c for c in calls if not str(c.kwargs.get("replay", "")).endswith((".jsonl", ".csv"))]
    seen: set[str] = set()  # two lessons that make the same explorer the same way show it once
    return [c for c in calls if not (_key(c) in seen or seen.add(_key(c)))]  # type: ignore[func-returns-value]


def _key(call: ExplorerCall) -> str:
    return repr((call.name, sorted(call.kwargs.items()), call.left_out))


def explorer_names() -> set[str]:
    """The explorer classes a lesson can make (`ScalingExplorer`, ..., `ConvoyLab`)."""
    from . import explorers

    return {name for name in explorers.__all__ if isinstance(obj := getattr(explorers, name), type)
            and issubclass(obj, explorers.Explorer) and obj is not explorers.Explorer}


def make(call: ExplorerCall) -> Any:
    """The explorer a call describes."""
    from . import explorers

    return getattr(explorers, call.name)(**call.kwargs)


def show(lesson: str | None = None, folder: Path | None = None, large: bool = False) -> list[Any]:
    """Display, under a heading each, the explorers of `lesson` (None or "all": of every lesson).

    `large` turns each panel's "large text" on, for a projector. Returns them, so a test (or an
    instructor's cell) can reach their panels.
    """
    from IPython.display import Markdown, display

    made = []
    for call in lesson_calls(folder or _lessons(), lesson):
        note = f" (the lesson's {', '.join(call.left_out)}: this explorer's default)" if call.left_out else ""
        display(Markdown(f"### Lesson {call.lesson}: {call.name}{note}"))
        explorer = make(call)
        explorer.panel.large.value = large
        explorer.display()
        made.append(explorer)
    return made


def notebook(lesson: str | None, large: bool = False) -> Any:
    """The demo page as a notebook: a title, and one cell that shows the explorers (Voilà hides its code)."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    which = f"lesson {lesson}" if lesson not in (None, "", "all") else "every lesson"
    nb = new_notebook(cells=[
        new_markdown_cell(f"# concurrency-lab: the explorers of {which}\n\nEach panel measures this machine "
                          "when you press **Run**; **Stop** ends a run within 2 s."),
        new_code_cell(f"from concurrency_lab import demo\n\n_explorers = demo.show({lesson!r}, large={large!r})"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    return nb


def voila_command(path: Path, port: int, token: str, open_browser: bool) -> list[str]:
    """Voilà serving `path` on 127.0.0.1 only, behind `token` (anyone on the room's network could
    otherwise start kernels on the instructor's laptop)."""
    import sys

    return [sys.executable, "-m", "voila", str(path), "--Voila.ip=127.0.0.1", f"--port={port}",
            f"--token={token}", "--Voila.port_retries=0", *([] if open_browser else ["--no-browser"])]


def serve(lesson: str | None = None, port: int = 8866, token: str | None = None, open_browser: bool = True,
          large: bool = False, stopped_within: float = 10.0) -> int:
    """Run the demo page until Ctrl-C, then end Voilà and its kernels (waiting `stopped_within` s, then killing)."""
    import secrets
    import shutil
    import signal
    import subprocess
    import tempfile

    import nbformat

    lesson_calls(_lessons(), lesson)  # a lesson that does not exist is refused before anything starts
    token = token or secrets.token_urlsafe(16)
    home = Path(tempfile.mkdtemp(prefix="concurrency-lab-demo-"))
    try:
        path = home / "demo.ipynb"
        nbformat.write(notebook(lesson, large), path)
        print(f"the demo page: http://127.0.0.1:{port}/?token={token}  (Ctrl-C ends it)", flush=True)
        proc = subprocess.Popen(voila_command(path, port, token, open_browser), cwd=home, start_new_session=True)
        previous = signal.signal(signal.SIGTERM, _interrupt)  # `kill` or a closed terminal ends it as Ctrl-C does
        try:
            return proc.wait()
        except KeyboardInterrupt:
            return 130
        finally:
            signal.signal(signal.SIGTERM, previous)
            _end(proc, stopped_within)  # Voilà left its kernel running when it alone got SIGTERM
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _end(proc: Any, grace: float) -> None:
    """End Voilà and its kernels: SIGTERM to its whole group, SIGKILL to what is left after `grace` seconds
    (Windows has no groups: the process is terminated, then killed)."""
    import signal
    import subprocess
    import time

    if not hasattr(os, "killpg"):
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
        return
    deadline = time.monotonic() + grace
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                os.killpg(proc.pid, 0)  # raises once no kernel of the group is left
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(grace)


def _lessons() -> Path:
    from .lessonfiles import lessons_source

    return lessons_source()


__all__ = ["ExplorerCall", "calls_in", "explorer_names", "lesson_calls", "make", "notebook", "serve", "show",
           "voila_command"]
