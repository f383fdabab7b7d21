"""What tests share beyond fixtures: the backends every behaviour test runs on, a runner maker, and how
to tell multiprocessing's own long-lived helpers from workers a test left behind.

A plain module (not conftest) so test files import it by one unambiguous name: tests/browser has a
conftest of its own, and `from conftest import ...` would find whichever loaded first.
"""

from __future__ import annotations

import psutil

from concurrency_lab import config
from concurrency_lab.info import is_python_helper

BACKENDS = ["sequential", "threads", "asyncio"] + [f"processes:{m}" for m in config.available_start_methods()]


def _is_helper(proc: psutil.Process) -> bool:
    """The forkserver and resource tracker themselves (long-lived on purpose), or a process already gone."""
    return is_python_helper(proc)


def make(spec: str, max_workers: int = 2):
    from concurrency_lab.runners import make_runner

    return make_runner(spec, 1 if spec == "sequential" else max_workers)



def md_code_cells(text: str) -> list[str]:
    """The code cells of a lesson's MyST source (or a part of it), as a learner's kernel runs them: without
    the cell's options (`:tags: [...]` lines, or a `---` block of them: tags, slide type) and without a
    leading `%%watch` line (the magic's)."""
    cells = []
    for block in text.split("```{code-cell} ipython3\n")[1:]:
        body = block.split("\n```", 1)[0]
        if body.startswith("---\n"):
            body = body.split("\n---\n", 1)[1]
        lines = [line for line in body.splitlines() if not line.startswith((":tags:", "%%watch"))]
        cells.append("\n".join(lines).strip("\n"))
    return cells
