"""Facts about this machine and interpreter, as lessons and the CLI show them."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from typing import Any

from . import config
from .records import _gil_enabled, _physical_cores, _usable_cores, machine_description

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
        "gil_enabled": _gil_enabled(),
        "platform": machine_description(),
        "cores_logical": os.cpu_count() or 1,
        "cores_physical": _physical_cores(),
        "cores_usable": _usable_cores(),
        "affinity": affinity,
        "default_start_method": config.default_start_method(),
        "start_methods": list(config.available_start_methods()),
        "small_mode": config.SMALL,
        "packages": package_versions(),
    }
