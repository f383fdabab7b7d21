"""Argument checks shared by runners, the CLI and the widgets.

Each error names the parameter and what is allowed, and is raised before
anything starts, so a bad call never leaves a half-started pool behind.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .. import config


def check_int(value: Any, name: str, *, low: int, high: int | None = None) -> int:
    """An int in [low, high]; bools and floats are refused, not rounded."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__} {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f"{low} to {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name}: {value} is out of range; allowed: {allowed}")
    return value


def check_workers(value: Any) -> int:
    """max_workers: 1 to MAX_WORKERS_CAP (None means the number of usable cores)."""
    if value is None:
        from ..info import usable_cores

        return min(usable_cores(), config.MAX_WORKERS_CAP)
    return check_int(value, "max_workers", low=1, high=config.MAX_WORKERS_CAP)


def check_items(items: Iterable[Any]) -> list:
    """The task inputs: a non-empty, finite sequence of at most MAX_TASKS_CAP items."""
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise TypeError(f"items: expected a list or other iterable of task inputs, got {type(items).__name__}")
    out = list(items) if not isinstance(items, list) else items
    if not out:
        raise ValueError("items: no tasks to run; give at least 1 task input")
    if len(out) > config.MAX_TASKS_CAP:
        raise ValueError(f"items: {len(out)} tasks is over the cap of {config.MAX_TASKS_CAP}")
    return out


def check_tasks(value: Any) -> int:
    return check_int(value, "tasks", low=1, high=config.MAX_TASKS_CAP)


def check_chunksize(value: Any) -> int:
    return check_int(value, "chunksize", low=1, high=config.MAX_TASKS_CAP)


def check_timeout(value: Any, name: str) -> float | None:
    """None (no limit) or a positive, finite number of seconds."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: expected seconds as a number or None, got {type(value).__name__}")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name}: {value!r} is out of range; allowed: a number of seconds > 0, or None")
    return float(value)


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name}: unknown {value!r}; choose one of: {', '.join(choices)}")
    return value


def check_start_method(value: Any) -> str:
    """fork / forkserver / spawn, and one this platform has; None picks the 3.14 default."""
    if value is None:
        return config.default_start_method()
    check_choice(value, "start_method", config.START_METHODS)
    have = config.available_start_methods()
    if value not in have:
        raise ValueError(f"start_method: {value!r} is not available on this platform; choose one of: {', '.join(have)}")
    return value
