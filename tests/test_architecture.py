"""The house rules, checked: the floors of ARCHITECTURE.md as import contracts, small modules, and a
repository that stands alone (no comment cites a file outside it)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "concurrency_lab"
#: The project's limit: a module that grows past it holds more than one concept.
MAX_LINES = 400


def test_the_import_contracts_hold():
    """pyproject.toml's [tool.importlinter] contracts: layering, light workers, analysis apart, lessons on top."""
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():  # a free-threaded venv: import-linter's grimp has no wheel there (.ci/matrix)
        pytest.skip(f"lint-imports is not installed beside {sys.executable}")
    out = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_no_module_is_over_400_lines():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
             for p in PACKAGE.rglob("*.py")}
    assert {path: n for path, n in sizes.items() if n > MAX_LINES} == {}


def test_nothing_cites_a_file_outside_the_repository():
    """A fact is backed by a test or a benchmark in this repository, never by a note kept elsewhere."""
    outside = re.compile(r"FACTS\.md|\.\./shared/|/work/shared")
    places = [*PACKAGE.rglob("*.py"), *(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").rglob("*"),
              *(ROOT / "notebooks").glob("*.md"), ROOT / "README.md", ROOT / "ARCHITECTURE.md"]
    cited = [str(p.relative_to(ROOT)) for p in places
             if p.is_file() and p != Path(__file__) and outside.search(p.read_text(encoding="utf-8", errors="ignore"))]
    assert cited == []


def test_architecture_names_every_top_level_module():
    """ARCHITECTURE.md is the map: every module and package of the library is on it."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    names = {p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")}
    names |= {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert {n for n in names if f"`{n}" not in text} == set()
