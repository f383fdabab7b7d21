"""Lessons from a plain pip install: the wheel carries them, and `concurrency-lab lessons` copies them out
without ever losing a learner's edits (new, refreshed, up to date, edited: refused or, with --force, replaced)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest

from concurrency_lab.children import run_child
from concurrency_lab.cli import main
from concurrency_lab.lessonfiles import (
    LESSON_PATTERNS,
    MANIFEST_NAME,
    EditedLessons,
    copy_lessons,
    lesson_files,
    lessons_source,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A package's lessons in miniature, beside files that are not lessons."""
    folder = tmp_path / "shipped"
    folder.mkdir()
    for name, text in {"00_a.ipynb": "nb a v1", "00_a.md": "md a v1", "01_b.ipynb": "nb b v1",
                       "jupytext.toml": "formats", "sanitize.cfg": "[x]", "notes.txt": "?"}.items():
        (folder / name).write_text(text)
    return folder


def _ship(source: Path, name: str, text: str) -> None:
    """A new version of the package: one lesson file changed."""
    (source / name).write_text(text)


def test_the_lessons_are_the_notebooks_their_sources_and_the_pairing(source):
    assert lesson_files(source) == ["00_a.ipynb", "00_a.md", "01_b.ipynb", "jupytext.toml"]
    assert lesson_files(source / "missing") == []


def test_a_first_copy_writes_every_lesson_and_a_note_of_what_it_wrote(source, tmp_path):
    dest = tmp_path / "mine" / "lessons"
    done = copy_lessons(dest, source=source)
    assert done.new == lesson_files(source) and done.written == done.new
    assert sorted(p.name for p in dest.iterdir()) == sorted([*done.new, MANIFEST_NAME])
    assert (dest / "00_a.ipynb").read_text() == "nb a v1"
    assert sorted(json.loads((dest / MANIFEST_NAME).read_text())["files"]) == done.new


def test_a_second_copy_writes_nothing(source, tmp_path):
    copy_lessons(tmp_path / "d", source=source)
    again = copy_lessons(tmp_path / "d", source=source)
    assert again.written == [] and again.current == lesson_files(source)


def test_an_unchanged_earlier_copy_is_refreshed_silently(source, tmp_path):
    dest = tmp_path / "d"
    copy_lessons(dest, source=source)
    _ship(source, "00_a.md", "md a v2")
    done = copy_lessons(dest, source=source)
    assert done.refreshed == ["00_a.md"] and done.overwritten == []
    assert (dest / "00_a.md").read_text() == "md a v2"


def test_an_edited_lesson_stops_the_whole_copy_before_a_byte_is_written(source, tmp_path):
    dest = tmp_path / "d"
    copy_lessons(dest, source=source)
    note = (dest / MANIFEST_NAME).read_bytes()
    (dest / "00_a.ipynb").write_text("nb a, with my answers")
    _ship(source, "00_a.md", "md a v2")  # an unchanged copy that would be refreshed...
    _ship(source, "00_a.ipynb", "nb a v2")
    (source / "02_c.md").write_text("new lesson")  # ...and a new one that would be copied
    with pytest.raises(EditedLessons) as exc:
        copy_lessons(dest, source=source)
    assert exc.value.files == ["00_a.ipynb"]
    assert (dest / "00_a.ipynb").read_text() == "nb a, with my answers"
    assert (dest / "00_a.md").read_text() == "md a v1" and not (dest / "02_c.md").exists()
    assert (dest / MANIFEST_NAME).read_bytes() == note


def test_force_overwrites_the_edited_ones_and_says_so(source, tmp_path):
    dest = tmp_path / "d"
    copy_lessons(dest, source=source)
    (dest / "00_a.ipynb").write_text("nb a, with my answers")
    done = copy_lessons(dest, force=True, source=source)
    assert done.overwritten == ["00_a.ipynb"] and (dest / "00_a.ipynb").read_text() == "nb a v1"
    assert copy_lessons(dest, source=source).written == []  # and it is an unchanged copy again


def test_a_lesson_with_no_note_counts_as_edited_if_it_differs(source, tmp_path):
    """Put there by hand, or the note deleted: nothing says it is ours to replace."""
    dest = tmp_path / "d"
    dest.mkdir()
    (dest / "00_a.md").write_text("md a v1")  # the same bytes: up to date
    (dest / "01_b.ipynb").write_text("someone's notebook")
    (dest / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(EditedLessons) as exc:
        copy_lessons(dest, source=source)
    assert exc.value.files == ["01_b.ipynb"]


def test_the_learners_own_files_are_never_touched(source, tmp_path):
    dest = tmp_path / "d"
    dest.mkdir()
    (dest / "my_experiment.ipynb").write_text("mine")
    (dest / "sanitize.cfg").write_text("mine too")  # not a lesson file
    copy_lessons(dest, force=True, source=source)
    assert (dest / "my_experiment.ipynb").read_text() == "mine" and (dest / "sanitize.cfg").read_text() == "mine too"


def test_a_file_in_the_way_is_refused(source, tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError):
        copy_lessons(tmp_path / "f", source=source)


def test_in_a_checkout_the_lessons_are_the_notebooks_folder():
    """The editable install used in development copies nothing into the package: it reads notebooks/."""
    assert lessons_source() == ROOT / "notebooks"
    assert set(lesson_files(ROOT / "notebooks")) >= {p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}


def test_the_sdist_carries_the_same_files_setup_py_ships():
    lines = [line.split() for line in (ROOT / "MANIFEST.in").read_text().splitlines() if line.startswith("include")]
    assert [pattern for line in lines for pattern in line[1:]] == [f"notebooks/{p}" for p in LESSON_PATTERNS]
    assert "concurrency_lab/_lessons/" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_command_copies_and_names_the_next_step(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["lessons"]) == 0
    out = capsys.readouterr().out
    assert "new          00_start_here.ipynb" in out and out.rstrip().endswith("next: jupyter lab concurrency-lab-lessons")
    assert (tmp_path / "concurrency-lab-lessons" / "00_start_here.ipynb").read_bytes() == \
        (ROOT / "notebooks" / "00_start_here.ipynb").read_bytes()


def test_the_command_refuses_edited_lessons_with_status_1_until_forced(tmp_path, capsys):
    dest = tmp_path / "my lessons"
    assert main(["lessons", str(dest)]) == 0
    (dest / "01_threads_and_processes.md").write_text("my notes")
    capsys.readouterr()
    assert main(["lessons", str(dest)]) == 1
    err = capsys.readouterr().err
    assert "nothing was copied" in err and "  01_threads_and_processes.md" in err and f"'{dest}' --force" in err
    assert main(["lessons", str(dest), "--force"]) == 0
    assert "overwritten  01_threads_and_processes.md" in capsys.readouterr().out


# --- The wheel itself, installed where no checkout can help -------------------------------------------

#: What the sdist is built from: the files a clean clone has that the build reads.
SDIST_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "concurrency_lab", "notebooks")


def _run(args: list[str], timeout: float, **kwargs) -> str:
    """One step, bounded (its whole process group is killed at the limit); its output, or a failure naming it."""
    result = run_child([str(a) for a in args], timeout=timeout, merge_stderr=True, **kwargs)
    assert result.ok, f"{args[:4]} ended {result.returncode}, timed out: {result.timed_out}\n{result.stdout[-3000:]}"
    return result.stdout


def _needs_build_and_run_tools() -> None:
    """setuptools (the test extra) to build offline; nbconvert (the lab extra, as `make` installs it) to run
    lesson 00. The version matrix's venvs (.ci/matrix) have the test extra only: the main venv runs this."""
    if importlib.util.find_spec("nbconvert") is None:
        pytest.skip(f"running lesson 00 needs nbconvert beside {sys.executable} (the lab extra)")
    try:
        version = tuple(int(part) for part in metadata.version("setuptools").split(".")[:2])
    except (metadata.PackageNotFoundError, ValueError):
        version = (0, 0)
    if version < (70, 1):
        pytest.skip(f"building the wheel offline needs setuptools>=70.1 beside {sys.executable} (the test extra)")


def _build_wheel(tmp: Path) -> Path:
    """sdist from a copy of the sources (the build writes nothing into the checkout), then a wheel from the
    sdist, as `python -m build` does: so MANIFEST.in and setup.py are both tested. Offline: no isolation."""
    src, dist = tmp / "src", tmp / "dist"
    src.mkdir()
    for name in SDIST_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "_lessons", ".*"))
        else:
            shutil.copy2(ROOT / name, src / name)
    code = "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))"
    sdist = _run([sys.executable, "-c", code, dist], timeout=120, cwd=src).strip().splitlines()[-1]
    shutil.unpack_archive(dist / sdist, tmp / "unpacked")
    unpacked = next((tmp / "unpacked").iterdir())
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", dist, unpacked], timeout=180)
    return next(dist.glob("concurrency_lab-*.whl"))


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    """A new venv holding only the wheel; a .pth line lends it this environment's site-packages for numpy,
    pandas and jupyter (fast, offline). A path line does not run that folder's own .pth files, so the
    editable install's finder stays out, and `concurrency_lab` can only come from the wheel."""
    venv = tmp / "venv"
    _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", venv], timeout=120)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel],
         timeout=180)
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], timeout=60).strip()
    Path(purelib, "zz_lend_test_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def _learner_env(tmp: Path) -> dict[str, str]:
    """No PYTHONPATH into the checkout, and Jupyter and IPython settings of their own (no user kernel spec)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    for var in ("JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "IPYTHONDIR"):
        env[var] = str(tmp / "home" / var.lower())
    return {**env, "CONCURRENCY_LAB_SMALL": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_wheel_in_a_fresh_venv_copies_out_lessons_that_run(tmp_path):
    _needs_build_and_run_tools()
    python = _fresh_venv(tmp_path, _build_wheel(tmp_path))
    env, classroom = _learner_env(tmp_path), tmp_path / "classroom"
    classroom.mkdir()
    where = _run([python, "-c", "import concurrency_lab as c, concurrency_lab.lessonfiles as f; "
                  "print(c.__file__); print(f.lessons_source())"], timeout=120, cwd=classroom, env=env).split()
    assert all(Path(p).is_relative_to(python.parent.parent) for p in where), where
    out = _run([python.with_name("concurrency-lab"), "lessons"], timeout=120, cwd=classroom, env=env)
    lessons = classroom / "concurrency-lab-lessons"
    assert out.rstrip().endswith("next: jupyter lab concurrency-lab-lessons")
    assert lesson_files(lessons) == lesson_files(tmp_path / "src" / "notebooks")
    assert (lessons / "00_start_here.ipynb").read_bytes() == (tmp_path / "src/notebooks/00_start_here.ipynb").read_bytes()
    _execute_lesson_00(python, lessons, env)


def _execute_lesson_00(python: Path, lessons: Path, env: dict[str, str]) -> None:
    """Lesson 00 as the learner's kernel runs it, plus one cell saying where that kernel's package lives."""
    notebook = json.loads((lessons / "00_start_here.ipynb").read_text(encoding="utf-8"))
    notebook["cells"].append({"cell_type": "code", "execution_count": None, "id": "where-from", "metadata": {},
                              "outputs": [], "source": "import concurrency_lab\nprint(concurrency_lab.__file__)"})
    checked = lessons / "00_start_here.checked.ipynb"
    checked.write_text(json.dumps(notebook), encoding="utf-8")
    _run([python, "-m", "nbconvert", "--to", "notebook", "--execute", "--inplace",
          "--ExecutePreprocessor.kernel_name=python3", "--ExecutePreprocessor.timeout=120", checked],
         timeout=300, cwd=lessons, env=env)
    cells = json.loads(checked.read_text(encoding="utf-8"))["cells"]
    assert [o for c in cells for o in c.get("outputs", []) if o["output_type"] == "error"] == []
    printed = "".join("".join(o.get("text", "")) for o in cells[-1]["outputs"]).strip()  # a str, or its lines
    assert Path(printed).is_relative_to(python.parent.parent), printed
