"""What the notebooks call: the environment check, each lesson's demonstrations, and the exercises' auto-checks.

One module per lesson, named after it; a long lesson adds a module per part, named `<lesson>_<part>`
(`native_blas`, `races_sharing`, ...). Cells stay short (import, call, show) and the logic and its tests
live here.
Each check answers in words a learner can act on and has a plain-text repr, so nbval can compare it.

Notebooks reach everything as `lessons.<name>`. The lesson modules are imported on first use (PEP 562),
not here: a worker process that unpickles `lessons.races.racy_add` then imports `races` alone, not every
lesson and what they import (measured: 0.3 s of start-up per worker otherwise).
"""

from __future__ import annotations

import importlib
from typing import Any

from ._feedback import CROSS as CROSS  # re-exported
from ._feedback import TICK as TICK
from ._feedback import Feedback as Feedback

#: The lesson modules, in lesson number order (00 to 12); the modules of a lesson split in parts follow its own.
MODULES = ("start", "series", "basics", "basics_fork", "cpu", "cpu_classic", "io", "io_classic", "io_exercise",
           "native", "native_threads", "native_pieces", "native_exercise", "native_blas",
           "communication", "communication_pools", "communication_chunks", "communication_paths",
           "races", "races_sharing",
           "robustness", "robustness_isolation", "robustness_limits", "robustness_exercise",
           "mixed", "mixed_convoy", "choosing", "beyond", "beyond_free_threaded",
           "aio", "aio_exercise",
           "coordination", "coordination_exercise")


def _module(name: str) -> Any:
    return importlib.import_module(f"{__name__}.{name}")


def __getattr__(name: str) -> Any:
    if name == "__all__":
        return ["CROSS", "TICK", "Feedback"] + [n for m in MODULES for n in _module(m).__all__]
    if name in MODULES:
        return _module(name)
    for m in MODULES:
        module = _module(m)
        if name in module.__all__:
            value = getattr(module, name)
            globals()[name] = value
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__getattr__("__all__")))
