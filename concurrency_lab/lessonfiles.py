"""The lessons as files: where this install keeps them, and a copy out of it that never loses a learner's work.

Why: a learner or a classroom lab that installs the package without cloning the repository still needs
the notebooks. A wheel carries them as package data (`setup.py` copies `notebooks/` into
`concurrency_lab/_lessons/` of the build only, so the repository holds one copy); an editable install
finds them in the checkout's `notebooks/`. `concurrency-lab lessons DIR` copies them out with their
outputs, since a notebook opened inside site-packages could not be saved, and would be lost on upgrade.

A copy into a folder that already holds the lessons must not destroy what the learner wrote there. So
the copy keeps a note (`MANIFEST_NAME`, in DIR) of what it wrote, and a file counts as *edited* when its
bytes differ both from the copy this install ships and from the copy last written there. An unchanged
earlier copy (a previous version of the package) is refreshed without a word; a file with no note (put
there by hand, or the note deleted) counts as edited when it differs. Any edited file stops the whole
copy before one byte is written (all or nothing: half an update is worse than none), unless `force`.

Standard library only, and no import from the package: `setup.py` runs this file to learn which files
are lessons (`LESSON_PATTERNS`), before any of the package's dependencies may be installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

#: What a learner gets: every lesson's notebook (outputs included) and its MyST source, and the pairing
#: that JupyterLab's jupytext reads. Not sanitize.cfg: only this repository's test suite uses it.
LESSON_PATTERNS = ("[0-9][0-9]_*.ipynb", "[0-9][0-9]_*.md", "jupytext.toml")
#: Where a wheel keeps them, inside the package (made by setup.py's build_py; never in the repository).
PACKAGED_DIR = "_lessons"
#: The folder `concurrency-lab lessons` copies into when none is named (relative to where it runs).
DEFAULT_DEST = "concurrency-lab-lessons"
#: The note in DEST of what the last copy wrote there (name -> sha256), which tells unchanged from edited.
MANIFEST_NAME = ".concurrency-lab-lessons.json"


class EditedLessons(FileExistsError):
    """DEST holds lessons the learner changed; nothing was copied. `.files` names them."""

    def __init__(self, dest: Path, files: list[str]) -> None:
        super().__init__(f"{dest} holds {len(files)} edited lesson file(s): {', '.join(files)}")
        self.dest = dest
        self.files = files


@dataclass
class LessonCopy:
    """What a copy did, file name by file name (each list sorted)."""

    source: Path
    dest: Path
    new: list[str] = field(default_factory=list)
    """Not in DEST before: copied."""
    refreshed: list[str] = field(default_factory=list)
    """An earlier copy the learner had not changed: replaced by this install's."""
    current: list[str] = field(default_factory=list)
    """Already the same bytes as this install's: left as they were."""
    overwritten: list[str] = field(default_factory=list)
    """Edited by the learner, replaced anyway (`force`)."""

    @property
    def written(self) -> list[str]:
        return sorted(self.new + self.refreshed + self.overwritten)


def lessons_source() -> Path:
    """The folder holding this install's lessons: the package's own (a wheel), else the checkout's."""
    here = Path(__file__).resolve().parent
    for folder in (here / PACKAGED_DIR, here.parent / "notebooks"):
        if lesson_files(folder):
            return folder
    raise FileNotFoundError(f"no lessons in {here / PACKAGED_DIR} or {here.parent / 'notebooks'}: this install of "
                            "concurrency-lab was built without them; reinstall it from a wheel or a checkout")


def lesson_files(folder: Path) -> list[str]:
    """The names of the lesson files in `folder`, sorted (none if it does not exist)."""
    if not folder.is_dir():
        return []
    return sorted({p.name for pattern in LESSON_PATTERNS for p in folder.glob(pattern) if p.is_file()})


def plan_copy(dest: Path, source: Path | None = None) -> tuple[LessonCopy, list[str]]:
    """Sort each lesson file into new / refreshed / current, and list the edited ones; writes nothing."""
    source = lessons_source() if source is None else source
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(f"{dest} is a file, not a folder to copy the lessons into")
    plan, edited = LessonCopy(source, dest), []
    written_before = _read_manifest(dest)
    for name in lesson_files(source):
        target = dest / name
        if not target.exists():
            plan.new.append(name)
            continue
        theirs = _digest(target)
        if theirs == _digest(source / name):
            plan.current.append(name)
        elif theirs == written_before.get(name):
            plan.refreshed.append(name)
        else:
            edited.append(name)
    return plan, edited


def copy_lessons(dest: Path | str = DEFAULT_DEST, *, force: bool = False, source: Path | None = None) -> LessonCopy:
    """Copy the lessons into `dest` (made if missing); raise `EditedLessons`, writing nothing, if the learner
    edited any of them there, unless `force`, which overwrites those too."""
    plan, edited = plan_copy(Path(dest), source)
    if edited and not force:
        raise EditedLessons(plan.dest, edited)
    plan.overwritten = edited
    plan.dest.mkdir(parents=True, exist_ok=True)
    for name in plan.written:
        _replace(plan.dest / name, (plan.source / name).read_bytes())
    shipped = {name: _digest(plan.source / name) for name in lesson_files(plan.source)}
    note = {"written_by": "concurrency-lab lessons", "files": shipped}
    _replace(plan.dest / MANIFEST_NAME, (json.dumps(note, indent=1, sort_keys=True) + "\n").encode())
    return plan


def _read_manifest(dest: Path) -> dict[str, str]:
    """The digests the last copy wrote; none if there is no note or it cannot be read (every difference
    then counts as an edit: the safe side)."""
    try:
        files = json.loads((dest / MANIFEST_NAME).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _replace(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder and rename it over `path`: a copy cut short
    (Ctrl-C, a full disk) leaves the old file or the new one, never half a notebook."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644  # mkstemp's own 0o600 would hide it from a group
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
