"""Facts about this machine and interpreter: one place for each, used by records, lessons and the CLI.

Light on purpose (the standard library; psutil only inside a function): every
record reads these, and worker processes import `records`.
"""

from __future__ import annotations

import functools
import os
import platform
import sys
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from . import config


def gil_enabled() -> bool:
    """Whether this interpreter runs with the GIL (False on a free-threaded build with it off)."""
    check = getattr(sys, "_is_gil_enabled", None)  # 3.13+
    return bool(check()) if check else True


def usable_cores() -> int:
    """Cores this process may run on: the affinity mask where the OS has one (a container's limit, `taskset`)."""
    if hasattr(os, "process_cpu_count"):  # 3.13+
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def logical_cores() -> int:
    """Logical CPUs the machine has, usable or not."""
    return os.cpu_count() or 1


@functools.cache  # psutil scans /sys (~0.5 ms): once per process is enough
def physical_cores() -> int:
    """Physical cores (hyper-threads counted once), or the logical count where psutil cannot tell."""
    try:
        import psutil

        return psutil.cpu_count(logical=False) or logical_cores()
    except Exception:  # psutil missing or unsupported platform
        return logical_cores()


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.cache
def machine_description() -> str:
    """One line naming the OS and CPU model, stored with every record."""
    return f"{platform.system()} {platform.machine()}, {_cpu_model()}"

#: Packages whose versions matter to the lessons (read from metadata: nothing is imported).
KEY_PACKAGES = ("cloudpickle", "psutil", "numpy", "threadpoolctl", "pandas", "matplotlib", "ipywidgets",
                "jupyterlab", "nbval")


def package_versions() -> dict[str, str]:
    out = {}
    for name in KEY_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def system_info() -> dict[str, Any]:
    """Cores, affinity, Python, GIL, start methods and package versions."""
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "gil_enabled": gil_enabled(),
        "platform": machine_description(),
        "cores_logical": logical_cores(),
        "cores_physical": physical_cores(),
        "cores_usable": usable_cores(),
        "affinity": affinity,
        "default_start_method": config.default_start_method(),
        "start_methods": list(config.available_start_methods()),
        "small_mode": config.SMALL,
        "packages": package_versions(),
    }


# -- the processes under this one ---------------------------------------------------

#: multiprocessing's own long-lived helpers: what their command line runs -> (role, why it stays).
PYTHON_HELPERS: dict[str, tuple[str, str]] = {
    "multiprocessing.resource_tracker": (
        "resource tracker",
        "Python's own, one per program: started by the first spawn or forkserver pool (or shared memory), it "
        "removes the semaphores and shared memory that a crashed process leaves behind. It outlives every pool "
        "on purpose and exits with this program."),
    "multiprocessing.forkserver": (
        "forkserver server",
        "Python's own, one per program: started by the first forkserver pool, it forks every later worker "
        "from a small clean process. It stays for the next pool and exits with this program."),
}


@dataclass(frozen=True)
class ChildProcess:
    """A process started by this one (or by its children)."""

    pid: int
    role: str
    """"resource tracker" or "forkserver server" (Python's helpers), else "worker or other"."""
    why: str
    """Why it is there, in plain words."""


def child_processes(pid: int | None = None) -> list[ChildProcess]:
    """Every process under `pid` (default: this one), naming Python's own helpers.

    After a pool is closed, stopped or interrupted, its workers are gone, and
    what may remain is at most one resource tracker and one forkserver server:
    the same two a raw `ProcessPoolExecutor` leaves (tests/test_interrupt.py).
    """
    import psutil

    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []
    out = []
    for proc in children:
        role, why = _role(proc)
        out.append(ChildProcess(proc.pid, role, why))
    return out


def is_python_helper(proc: Any) -> bool:
    """Whether a `psutil.Process` is one of multiprocessing's own helpers (not a worker it forked)."""
    return _role(proc)[0] != "worker or other"


def _role(proc: Any) -> tuple[str, str]:
    import psutil

    try:
        cmd = " ".join(proc.cmdline())
        parent = proc.parent()
        parent_cmd = " ".join(parent.cmdline()) if parent else ""
    except psutil.Error:
        return "gone", "It ended while being looked at."
    if "multiprocessing.forkserver" not in parent_cmd:  # workers forked by the server inherit its command line
        for marker, (role, why) in PYTHON_HELPERS.items():
            if marker in cmd:
                return role, why
    return "worker or other", "Not one of Python's helpers: a worker, or a process of your own."
