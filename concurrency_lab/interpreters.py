"""Other Python executables on this machine, and sweeps run under them.

"Interpreter" here means another Python program (a free-threaded
`python3.14t`, a pyenv 3.12, a project venv), not a subinterpreter: those are
the `interpreters` backend in `runners/interpreters.py`.

How data flows: `describe()` runs a candidate with a small probe script and
reads back what it is (version, build, GIL) and whether it can import
concurrency_lab and its runtime deps. `sweep_in()` then runs
`python -m concurrency_lab sweep ... --out <tmp>/records.jsonl` under it as a
child process, in its own process group and with a time limit, and loads the
records it wrote: the same RunRecord schema as a local sweep, each carrying the
child's own Python version and GIL status. Nothing is ever made up: where no
other Python exists, `explain()` says how to get one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import config
from .children import ChildResult, run_child
from .interpreter_paths import MIN_VERSION, candidates, clean_env, import_root, package_dir, project_root
from .recordfiles import load_records
from .records import RunRecord

#: What a sweep imports beyond the stdlib: psutil measures memory and cores,
#: cloudpickle ships notebook functions to worker processes.
RUNTIME_DEPS = ("psutil", "cloudpickle")

#: A probe imports our package and psutil: well under a second even on a cold
#: disk; a candidate that takes longer is broken or hanging, and is killed.
PROBE_TIMEOUT_S = 30.0

#: Default limit for a whole child sweep. A small sweep takes seconds; the
#: limit exists so that a hung child can never hang a notebook or CI.
SWEEP_TIMEOUT_S = 600.0


#: Printed before the probe's JSON, so that a noisy sitecustomize cannot confuse us.
_MARK = "@@concurrency-lab-probe "

#: Run by each candidate with argv [our package dir, a folder to put on sys.path].
#: Kept to syntax any Python 3 parses, so an old one fails with a clear message.
_PROBE = r"""
import importlib, importlib.util, json, os, platform, sys, sysconfig
ours, root = sys.argv[1], sys.argv[2]
gil = getattr(sys, "_is_gil_enabled", None)
out = dict(executable=sys.executable, prefix=sys.prefix, version=platform.python_version(),
           implementation=platform.python_implementation(), pythonpath=None, missing={},
           free_threaded=bool(sysconfig.get_config_var("Py_GIL_DISABLED")))
if sys.version_info >= (3, 11):
    spec = importlib.util.find_spec("concurrency_lab")
    where = list(spec.submodule_search_locations or []) if spec else []
    if not where or os.path.realpath(where[0]) != os.path.realpath(ours):
        sys.path.insert(0, root)
        out["pythonpath"] = root
    for name in ("concurrency_lab.cli", "concurrency_lab.experiments", "psutil", "cloudpickle"):
        try:
            importlib.import_module(name)
        except Exception as exc:
            out["missing"][name.split(".")[0]] = "%s: %s" % (type(exc).__name__, exc)
out["gil_enabled"] = bool(gil()) if gil else True
print(MARK + json.dumps(out))
""".replace("MARK", repr(_MARK))

HOW_TO_GET_ONE = """\
To compare another Python, install one, then give its path to sweep_in():
  uv python install 3.14t        free-threaded 3.14 (no GIL); `uv python find 3.14t` prints its path
  pyenv install 3.13t            pyenv's free-threaded build (pyenv 2.4.8 or newer); or 3.12, 3.13, 3.14
  python.org installers          macOS and Windows: tick "free-threaded binaries" in the customize step
  tools/build-free-threaded.sh   Debian and Ubuntu, from this repository: builds 3.13t from Debian's source
Then make it a project venv, which find_interpreters() looks for (a free-threaded one takes wheels only):
  python3.14t -m venv .venv-py3.14t && .venv-py3.14t/bin/python -m pip install --only-binary=:all: -e .
"""


class InterpreterError(RuntimeError):
    """A Python that is missing, is not a usable Python, or whose sweep failed."""


class InterpreterTimeout(InterpreterError, TimeoutError):
    """A child ran past its time limit and was killed, with every process it started."""


@dataclass(frozen=True)
class Interpreter:
    """One Python executable, as it described itself when we ran it."""

    executable: str
    """The path as found; a venv's bin/python is kept unresolved, or the venv would be lost."""
    version: str
    """`platform.python_version()`, e.g. "3.13.0"."""
    implementation: str
    """"CPython", "PyPy", ..."""
    free_threaded: bool
    """Built without the GIL (python3.13t, 3.14t): threads can run Python code in parallel."""
    gil_enabled: bool
    """Whether the GIL is on after importing concurrency_lab and its deps. A free-threaded
    build turns it back on for a C extension not marked safe, or with PYTHON_GIL=1."""
    source: str
    """Where it was found: "this", "PATH", "pyenv", "uv", "venv" or "given"."""
    pythonpath: str | None
    """The folder the child needs on PYTHONPATH to import concurrency_lab; None when installed there."""
    missing: dict[str, str]
    """Modules it cannot import (concurrency_lab, psutil, cloudpickle), each with the error."""
    current: bool = False
    """True for the Python running this code."""

    @property
    def version_info(self) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", self.version)[:3])

    @property
    def ready(self) -> bool:
        """True when it can run a sweep now."""
        return not self.missing

    @property
    def label(self) -> str:
        """How plots and tables name it, e.g. "CPython 3.13.0t, GIL off"."""
        return python_label(self.implementation, self.version, self.free_threaded, self.gil_enabled)

    @property
    def install_hint(self) -> str:
        """What to run so that it can run a sweep ("" when it already can)."""
        return _install_hint(self)


def python_label(implementation: str, version: str, free_threaded: bool, gil_enabled: bool) -> str:
    """ "CPython 3.13.0t, GIL off": the version with its build, and the GIL as it was at run time."""
    return f"{implementation} {version}{'t' if free_threaded else ''}, GIL {'on' if gil_enabled else 'off'}"


# -- finding and describing ----------------------------------------------------

def find_interpreters(*, timeout: float = PROBE_TIMEOUT_S) -> list[Interpreter]:
    """Every Python >= 3.11 on this machine, this one first, each described by running it.

    Looks on PATH (python3.X, python3.Xt), in pyenv's and uv's installed
    versions, and in project venvs named `.venv-py3.X`. Candidates are probed
    in parallel; one that does not answer like a Python (a broken install) is
    left out: `describe(path)` says why.
    """
    found = candidates()
    with ThreadPoolExecutor(max_workers=min(8, len(found)), thread_name_prefix="concurrency-lab-probe") as pool:
        probed = list(pool.map(lambda c: _try_describe(c[0], c[1], timeout), found))
    good = [i for i in probed if i is not None and i.version_info[:2] >= MIN_VERSION]
    return sorted(good, key=lambda i: (not i.current, i.version_info, i.free_threaded, i.source))


def describe(python: str | os.PathLike, *, source: str = "given", timeout: float = PROBE_TIMEOUT_S) -> Interpreter:
    """Run `python` with a probe and say what it is; InterpreterError if it is not a usable Python.

    Asking the executable itself is the only reliable way: names lie (a
    python3.13 inside a free-threaded build folder), and whether the GIL is on
    is only known at run time.
    """
    path = _check_executable(python)
    with tempfile.TemporaryDirectory(prefix="concurrency-lab-probe-") as tmp:
        done = _run_child([path, "-c", _PROBE, str(package_dir()), import_root()], env=clean_env(),
                          cwd=tmp, timeout=timeout, what=f"probing {path}")
    data = _parse_probe(path, done)
    interp = Interpreter(executable=path, version=data["version"], implementation=data["implementation"],
                         free_threaded=data["free_threaded"], gil_enabled=data["gil_enabled"], source=source,
                         pythonpath=data["pythonpath"], missing=dict(data["missing"]), current=_is_current(data))
    if interp.version_info[:2] < MIN_VERSION:
        raise InterpreterError(f"{path} is Python {interp.version}; concurrency_lab needs "
                               f"{MIN_VERSION[0]}.{MIN_VERSION[1]} or newer")
    return interp


def _try_describe(path: str, source: str, timeout: float) -> Interpreter | None:
    try:
        return describe(path, source=source, timeout=timeout)
    except InterpreterError:
        return None


def _check_executable(python: str | os.PathLike) -> str:
    """The path to run, or a clear InterpreterError before anything is started."""
    if isinstance(python, Interpreter):
        return python.executable
    if not isinstance(python, (str, os.PathLike)) or not str(python).strip():
        raise InterpreterError(f"python: expected a path to a Python executable, got {python!r}")
    text = os.fspath(python)
    path = text if os.sep in text or (os.altsep and os.altsep in text) else shutil.which(text) or text
    if not os.path.exists(path):
        raise InterpreterError(f"python: no such file {text!r}. Give a path to a Python executable "
                               "(find_interpreters() lists the ones found here)")
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise InterpreterError(f"python: {text!r} is not an executable file")
    return path


def _parse_probe(path: str, done: ChildResult) -> dict:
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(_MARK):
            return json.loads(line[len(_MARK):])
    raise InterpreterError(f"{path} did not answer like a Python 3 (exit status {done.returncode}): "
                           f"{_tail(done.stderr) or _tail(done.stdout) or 'no output'}")


def _is_current(data: dict) -> bool:
    return (os.path.realpath(data["prefix"]) == os.path.realpath(sys.prefix)
            and os.path.realpath(data["executable"]) == os.path.realpath(sys.executable))


def _install_hint(interp: Interpreter) -> str:
    if not interp.missing:
        return ""
    exe = shlex.quote(interp.executable)
    if "concurrency_lab" in interp.missing:
        return (f"it cannot import concurrency_lab ({interp.missing['concurrency_lab']}); "
                f"install it there: {exe} -m pip install -e {shlex.quote(import_root())}")
    deps = " ".join(sorted(interp.missing))
    return f"it lacks {deps}: run `{exe} -m pip install {deps}`, or make a project venv: `{_venv_command(interp)}`"


def _venv_name(interp: Interpreter) -> str:
    """.venv-py3.13 or .venv-py3.13t: the name `.ci/matrix` and `find_interpreters` use."""
    major_minor = ".".join(map(str, interp.version_info[:2]))
    return f".venv-py{major_minor}{'t' if interp.free_threaded else ''}"


# -- running a sweep in it ------------------------------------------------------

def sweep_in(python: str | os.PathLike | Interpreter, backends: Sequence[str] = ("threads", "processes"),
             workers: Sequence[int] = (1, 2), workloads: Sequence[str] = ("cpu",), *, repeats: int = 1,
             tasks: int = 8, mode: str = "fixed", task_seconds: float | None = None, small: bool | None = None,
             timeout: float = SWEEP_TIMEOUT_S, stop: threading.Event | None = None) -> list[RunRecord]:
    """Run `experiments.sweep` under another Python and return its records.

    Arguments are those of `experiments.sweep` (checked here first, so a typo
    never starts a child). The child runs the CLI's `sweep` with a time limit;
    on timeout, Ctrl-C or `stop` its whole process group (workers, forkserver)
    is killed. Each record keeps the child's python_version and gil_enabled,
    and `params["python"]` holds its label, so analysis keeps each
    interpreter's sequential baseline apart and plots can name it. With `stop`
    set, nothing is returned: the child writes its records only at the end.
    """
    from .experiments import plan
    from .runners.validate import check_timeout

    plan(backends, workers, workloads, repeats=repeats, tasks=tasks, mode=mode)
    if check_timeout(timeout, "timeout") is None:
        raise ValueError("timeout: a sweep in another Python always has a time limit; give seconds")
    interp = python if isinstance(python, Interpreter) else describe(python)
    if not interp.ready:
        raise InterpreterError(f"{interp.executable} cannot run a sweep yet. {interp.install_hint}")
    small = config.SMALL if small is None else small
    with tempfile.TemporaryDirectory(prefix="concurrency-lab-sweep-") as tmp:
        out = Path(tmp) / "records.jsonl"
        cmd = _sweep_command(interp.executable, backends, workers, workloads, repeats, tasks, mode,
                             task_seconds, small, out)
        env = {**clean_env(interp.pythonpath), "CONCURRENCY_LAB_SMALL": "1" if small else "0"}
        done = _run_child(cmd, env=env, cwd=tmp, timeout=timeout, stop=stop, what=f"the sweep in {interp.label}")
        if done is None:
            return []
        if done.returncode != 0:
            raise InterpreterError(f"the sweep in {interp.executable} ({interp.label}) failed with exit status "
                                   f"{done.returncode}: {_tail(done.stderr)}")
        records = load_records(out)
    return [_tagged(rec, interp.free_threaded) for rec in records]


def _sweep_command(python: str, backends: Sequence[str], workers: Sequence[int], workloads: Sequence[str],
                   repeats: int, tasks: int, mode: str, task_seconds: float | None, small: bool,
                   out: Path) -> list[str]:
    cmd = [python, "-m", "concurrency_lab", *(["--small"] if small else []), "sweep",
           "--backends", ",".join(backends), "--workers", ",".join(map(str, workers)),
           "--workloads", ",".join(workloads), "--repeats", str(repeats), "--tasks", str(tasks),
           "--mode", mode, "--out", str(out)]
    if task_seconds is not None:
        cmd += ["--task-seconds", repr(float(task_seconds))]
    return cmd


def _tagged(rec: RunRecord, free_threaded: bool) -> RunRecord:
    label = python_label(rec.implementation, rec.python_version, free_threaded, rec.gil_enabled)
    return dataclasses.replace(rec, params={**rec.params, "python": label})


# -- children that never outlive their time -------------------------------------

def _run_child(cmd: list[str], *, env: dict[str, str], cwd: str, timeout: float, what: str,
               stop: threading.Event | None = None) -> ChildResult | None:
    """Run `cmd` (`children.run_child`: its whole process group is killed on a timeout, Stop or Ctrl-C)
    and return what it did, or None if `stop` was set; past `timeout`, raise InterpreterTimeout."""
    try:
        done = run_child(cmd, env=env, cwd=cwd, timeout=timeout, stop=stop)
    except OSError as exc:
        raise InterpreterError(f"{what}: could not start {cmd[0]} ({exc})") from None
    if done.stopped:
        return None
    if done.timed_out:
        raise InterpreterTimeout(f"{what} ran past its {timeout:g} s limit; it was killed, "
                                 "with every process it started")
    return done


def _tail(text: str, lines: int = 8) -> str:
    """The last lines of a child's output (progress bars redraw with \\r: split on it too)."""
    parts = [p.strip() for p in re.split(r"[\r\n]+", text or "") if p.strip()]
    return "\n".join(parts[-lines:])


# -- what to tell a learner ---------------------------------------------------------

def explain(found: Sequence[Interpreter] | None = None) -> str:
    """The Pythons that can run a sweep, one line each; those that cannot, in one line, with the one
    command that makes one ready; and how to get a free-threaded one where there is none."""
    found = find_interpreters() if found is None else found
    ready = [i for i in found if i.ready or i.current]
    have = {(i.version, i.free_threaded) for i in ready}
    waiting = [i for i in found if not (i.ready or i.current) and (i.version, i.free_threaded) not in have]
    lines = ["Pythons here that can run a sweep:"]
    lines += [f"  {i.label:<28} {'this one' if i.current else 'ready':<9} {_short(i.executable)}" for i in ready]
    if waiting:
        first = waiting[0]
        lines += [f"Not ready (they lack this package or its dependencies): "
                  f"{', '.join(f'{i.version}' + ('t' if i.free_threaded else '') for i in waiting)}.",
                  f"  One command makes one ready, e.g. {first.version}: {_venv_command(first)}"]
    if len(ready) < 2:
        lines += ["No other Python 3.11+ can run a sweep here yet.", HOW_TO_GET_ONE]
    elif not any(i.free_threaded for i in ready):
        lines += ["None of them is free-threaded (no GIL), the build where threads scale on CPU work.", HOW_TO_GET_ONE]
    return "\n".join(lines)


def _short(path: str) -> str:
    """A path inside the project, relative to it; any other path as it is."""
    try:
        rel = os.path.relpath(os.path.abspath(path), project_root())
    except ValueError:  # another drive, on Windows
        return path
    return path if rel.startswith("..") else rel


def _venv_command(interp: Interpreter) -> str:
    """The one command that makes `interp` ready: a project venv with this package in it (wheels only for a
    free-threaded build, whose source builds of matplotlib and rpds-py need the network)."""
    venv = shlex.quote(str(project_root() / _venv_name(interp)))
    wheels = "--only-binary=:all: " if interp.free_threaded else ""
    return (f"{shlex.quote(interp.executable)} -m venv {venv} && {venv}/bin/python -m pip install {wheels}-e "
            f"{shlex.quote(import_root())}")


__all__ = ["HOW_TO_GET_ONE", "Interpreter", "InterpreterError", "InterpreterTimeout", "describe", "explain",
           "find_interpreters", "python_label", "sweep_in"]
