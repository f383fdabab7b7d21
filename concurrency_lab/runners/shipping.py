"""Getting a function and its inputs to another process, or saying why not.

A module-level function from an importable module travels by reference (its
name), as the stdlib does. Anything else - a function defined in a notebook
cell (module `__main__`), a lambda, a closure - travels by value through
cloudpickle, so it works under spawn and forkserver, and under fork even when
defined after the pool started. If even cloudpickle cannot take it, we find
the object inside that is to blame and name it.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from typing import Any

from .._worker import Shipped


class UnpicklableError(TypeError):
    """A function or task input that cannot be sent to a worker process."""


def ship(fn: Callable) -> Callable | Shipped:
    """What to hand ProcessPoolExecutor for `fn`: itself, or a by-value Shipped."""
    if _by_reference_ok(fn):
        return fn
    import cloudpickle

    try:
        payload = cloudpickle.dumps(fn)
    except Exception as exc:
        raise UnpicklableError(explain_unpicklable(fn, exc)) from None
    key = hashlib.blake2b(payload, digest_size=12).hexdigest()
    return Shipped(key, payload, getattr(fn, "__qualname__", repr(fn)))


def check_input_picklable(item: Any, index: int) -> None:
    """Refuse, before anything starts, a task input that cannot be pickled."""
    try:
        pickle.dumps(item)
    except Exception as exc:
        raise UnpicklableError(
            f"items[{index}]: a {type(item).__name__} cannot be sent to a worker process ({exc}). "
            "Pass plain data (numbers, strings, lists, arrays) and build the object inside the task, "
            "or use the threads backend, which shares memory and needs no pickling."
        ) from None


def _by_reference_ok(fn: Callable) -> bool:
    target = getattr(fn, "func", fn)  # a functools.partial travels with its function
    if getattr(target, "__module__", None) in (None, "__main__"):
        return False
    try:
        pickle.dumps(fn)
    except Exception:
        return False
    return True


def explain_unpicklable(fn: Callable, exc: BaseException) -> str:
    """A plain-words message naming the object that stops `fn` from being pickled."""
    name = getattr(fn, "__qualname__", None) or repr(fn)
    culprit = _find_culprit(fn, depth=0)
    if culprit is None:
        what = f"it cannot be pickled ({exc})"
    else:
        where, obj = culprit
        what = f"it uses {where} (a {type(obj).__module__}.{type(obj).__qualname__} object), which cannot be pickled"
    return (
        f"Can't send function {name!r} to a worker process: {what}. "
        "Create that object inside the function (each process needs its own), pass plain data as the "
        "task's argument instead, or use the threads backend, where tasks share memory."
    )


def _pickles(obj: Any) -> bool:
    import cloudpickle

    try:
        cloudpickle.dumps(obj)
    except Exception:
        return False
    return True


def _parts(fn: Any) -> list[tuple[str, Any]]:
    """The objects a function drags along when pickled by value, with names."""
    parts: list[tuple[str, Any]] = []
    if hasattr(fn, "func") and hasattr(fn, "keywords"):  # functools.partial
        parts.append(("the partial's function", fn.func))
        parts += [(f"partial argument {i}", a) for i, a in enumerate(fn.args)]
        parts += [(f"partial keyword {k!r}", v) for k, v in fn.keywords.items()]
        return parts
    code = getattr(fn, "__code__", None)
    if code is None:
        return parts
    for var, cell in zip(code.co_freevars, fn.__closure__ or (), strict=True):
        try:
            parts.append((f"{var!r} from the enclosing function", cell.cell_contents))
        except ValueError:  # empty cell
            pass
    fn_globals = getattr(fn, "__globals__", {})
    for var in _global_names(code):
        if var in fn_globals:
            parts.append((f"the global {var!r}", fn_globals[var]))
    parts += [("a default argument", d) for d in (fn.__defaults__ or ())]
    parts += [(f"default of {k!r}", v) for k, v in (fn.__kwdefaults__ or {}).items()]
    return parts


def _global_names(code: Any) -> list[str]:
    names = list(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names += _global_names(const)
    return names


def _find_culprit(fn: Any, depth: int) -> tuple[str, Any] | None:
    for where, obj in _parts(fn):
        if _pickles(obj):
            continue
        if callable(obj) and depth < 3 and (hasattr(obj, "__code__") or hasattr(obj, "keywords")):
            deeper = _find_culprit(obj, depth + 1)
            if deeper is not None:
                return (f"{deeper[0]} inside {where}", deeper[1])
        return where, obj
    return None
