"""Where other Pythons live on this machine, and how a child Python finds this package.

`interpreters` asks each candidate what it is (a probe in a child Python);
this module only lists candidates (PATH, pyenv, uv, the project's own
`.venv-py3.X` folders) and builds the environment a child needs to import
`concurrency_lab` from this checkout, whatever its own site-packages hold.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: concurrency_lab's own floor (pyproject's requires-python).
MIN_VERSION = (3, 11)
#: python3.13, python3.14t: the names versioned Pythons are installed under.
_NAME = re.compile(r"^python3\.(\d+)(t?)$")

def candidates() -> list[tuple[str, str]]:
    """(path, source) pairs, this Python first, one per distinct environment."""
    seen: set[tuple[str, str]] = set()
    out = []
    for path, source in [(sys.executable, "this"), *_on_path(), *_in_pyenv(), *_in_uv(), *_project_venvs()]:
        key = (os.path.realpath(path), venv_of(path))
        if key not in seen:
            seen.add(key)
            out.append((path, source))
    return out


def venv_of(path: str) -> str:
    """The venv folder a bin/python belongs to ("" for a base install): a venv's python
    resolves to its base's binary but has other packages, so both must be kept."""
    root = Path(path).parent.parent
    return str(root.resolve()) if (root / "pyvenv.cfg").is_file() else ""


def _versioned(folder: Path) -> Iterator[str]:
    """python3.X / python3.Xt in `folder` with X >= 11, executable."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return
    for name in names:
        match = _NAME.match(name)
        if match and (3, int(match.group(1))) >= MIN_VERSION and os.access(folder / name, os.X_OK):
            yield str(folder / name)


def _pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def _on_path() -> Iterator[tuple[str, str]]:
    # pyenv's shims are skipped: a shim runs whichever version `pyenv version` selects
    # (or fails); the versions themselves are listed from pyenv's folder.
    shims = _pyenv_root() / "shims"
    for folder in os.get_exec_path():
        if folder and Path(folder) != shims:
            yield from ((p, "PATH") for p in _versioned(Path(folder)))


def _in_pyenv() -> Iterator[tuple[str, str]]:
    for version in sorted((_pyenv_root() / "versions").glob("*")):
        yield from ((p, "pyenv") for p in _versioned(version / "bin"))


def _in_uv() -> Iterator[tuple[str, str]]:
    base = Path(os.environ.get("UV_PYTHON_INSTALL_DIR") or Path.home() / ".local" / "share" / "uv" / "python")
    for version in sorted(base.glob("*")):
        yield from ((p, "uv") for p in _versioned(version / "bin"))


def _project_venvs() -> Iterator[tuple[str, str]]:
    for venv in sorted(project_root().glob(".venv-py3.*")):
        python = venv / "bin" / "python"
        if python.is_file():
            yield str(python), "venv"


# -- our package, as a child must find it ------------------------------------

def package_dir() -> Path:
    return Path(__file__).resolve().parent


def project_root() -> Path:
    """The source checkout we run from, or the working folder for an installed package."""
    parent = package_dir().parent
    return parent if (parent / "pyproject.toml").is_file() else Path.cwd()


def import_root() -> str:
    """A folder that puts our package, and only it, on a child's sys.path.

    In a source checkout that is the project root. For an installed package
    its parent is site-packages, whose compiled modules belong to this Python,
    not the child's, so a folder holding just a link to the package is used.
    """
    parent = package_dir().parent
    if (parent / "pyproject.toml").is_file():
        return str(parent)
    digest = hashlib.blake2b(str(package_dir()).encode(), digest_size=6).hexdigest()
    shim = Path(tempfile.gettempdir()) / f"concurrency-lab-path-{digest}"
    link = shim / "concurrency_lab"
    if not link.exists():
        shim.mkdir(exist_ok=True)
        link.symlink_to(package_dir(), target_is_directory=True)
    return str(shim)


def clean_env(pythonpath: str | None = None) -> dict[str, str]:
    """Our environment minus what belongs to this Python (PYTHONPATH, PYTHONHOME)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


