"""Build hook: the wheel carries the lessons (metadata lives in pyproject.toml; this file adds one step).

Why: a learner who installs the package without cloning has nothing to open unless the wheel holds
the notebooks. They stay in `notebooks/`, the one copy in the repository; building copies them into
`concurrency_lab/_lessons/` of the build folder only (never the source tree), where
`concurrency_lab.lessonfiles.lessons_source()` finds them in an installed package. An editable install
copies nothing: the same function finds the checkout's `notebooks/`. The sdist carries `notebooks/`
(MANIFEST.in), so a wheel built from it gets the lessons the same way.
"""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# The one list of lesson files, read from the module without importing the package (its dependencies
# need not be installed while a wheel is built).
_FILES = runpy.run_path(str(ROOT / "concurrency_lab" / "lessonfiles.py"))


class build_py_with_lessons(build_py):
    """setuptools' build_py, then the lessons copied into the built package."""

    def run(self) -> None:
        super().run()
        if not self.editable_mode:  # an editable install reads the checkout's notebooks/ in place
            lessons = self._lessons()
            # build/ outlives a build: a lesson renamed since the last one must not ship under its old name too
            if not self.dry_run:
                shutil.rmtree(lessons[0][1].parent, ignore_errors=True)
            for src, dst in lessons:
                dst.parent.mkdir(parents=True, exist_ok=True)  # not self.mkpath: it caches, and would skip a re-made one
                self.copy_file(str(src), str(dst))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        extra = [] if self.editable_mode else [str(dst) for _, dst in self._lessons()]
        return [*super().get_outputs(include_bytecode), *extra]

    def _lessons(self) -> list[tuple[Path, Path]]:
        source = ROOT / "notebooks"
        names = _FILES["lesson_files"](source)
        if not any(name.endswith(".ipynb") for name in names):  # a wheel without lessons is a broken wheel
            raise FileNotFoundError(f"no lessons in {source}: build from a checkout or an sdist that has notebooks/")
        target = Path(self.build_lib) / "concurrency_lab" / _FILES["PACKAGED_DIR"]
        return [(source / name, target / name) for name in names]


setup(cmdclass={"build_py": build_py_with_lessons})
