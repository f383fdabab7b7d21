"""Lesson 04's exercise: the quiz (which of four calls into C code let go of the GIL?), its check, and the
probe run on every quiz call to show the answer measured.
"""

from __future__ import annotations

import bz2
import json
import random
import re
from collections.abc import Callable
from typing import Any

from ._feedback import Feedback
from .native import ProbeReport, gil_probe

__all__ = ["QUIZ", "RELEASES", "native_quiz", "check_gil_prediction", "probe_quiz"]

# -- the exercise: predict which calls let go of the GIL ----------------------------------------

#: Four calls into C code. Which of them let other threads run while they work?
QUIZ: dict[str, str] = {
    "bz2": "bz2.compress(100 kB of random bytes)",
    "numpy_sort": "numpy.sort(an array of 1.5 million float64)",
    "re": "re.search(r'\\w+\\d', a 450 kB string with no match)",
    "json": "json.dumps(a list of 50,000 floats)",
}
#: Whether each lets go, and why, from CPython's and numpy's source.
_WHY: dict[str, tuple[bool, str]] = {
    "bz2": (True, "bz2 lets go of the GIL around each call into libbzip2 (CPython's Modules/_bz2module.c)"),
    "numpy_sort": (True, "numpy sorts plain doubles with the GIL released (NPY_BEGIN_THREADS in its sort "
                         "code): no Python objects are involved"),
    "re": (False, "the regular-expression engine is C, but it keeps the GIL for the whole search "
                  "(CPython's Modules/_sre)"),
    "json": (False, "the C encoder walks Python objects (a list, floats), and touching Python objects needs the GIL"),
}
#: The keys whose calls let go of the GIL: the solution.
RELEASES = frozenset(k for k, (releases, _) in _WHY.items() if releases)


def native_quiz() -> str:
    """The quiz, as the learner reads it."""
    return "\n".join(f"{key:11} {call}" for key, call in QUIZ.items())


def _as_keys(answer: Any) -> set[str] | None:
    if isinstance(answer, str) or not isinstance(answer, (set, frozenset, list, tuple)):
        return None
    if not all(isinstance(a, str) for a in answer):
        return None
    return set(answer)


def check_gil_prediction(answer: Any) -> Feedback:
    """Exercise 04: the set of QUIZ keys whose calls let other threads run while they work."""
    keys = _as_keys(answer)
    if keys is None:
        return Feedback(False, 'set `answer` to a set of keys from the list, e.g. {"bz2"}')
    unknown = sorted(keys - set(QUIZ))
    if unknown:
        return Feedback(False, f"not in the list: {', '.join(unknown)}; choose from {', '.join(QUIZ)}")
    wrong = [k for k in QUIZ if (k in keys) != (k in RELEASES)]
    if wrong:
        k = wrong[0]
        said = "lets go of the GIL" if k in keys else "keeps the GIL"
        more = f" ({len(wrong) - 1} more to rethink)" if len(wrong) > 1 else ""
        return Feedback(False, f"you said {k} {said}, but {_WHY[k][1]}.{more}")
    return Feedback(True, "bz2 and numpy.sort let go of the GIL while they work on raw bytes and numbers; re and "
                          "json are C code too, but keep the GIL throughout. Written in C is not enough.")


def _bz2(data: bytes) -> int:
    return len(bz2.compress(data, 9))


def _np_sort(values: Any) -> float:
    import numpy as np

    return float(np.sort(values)[0])


_PATTERN = re.compile(r"\w+\d")


def _re(text: str) -> bool:
    return _PATTERN.search(text) is not None


def _json(values: list) -> int:
    return len(json.dumps(values))


def probe_quiz() -> ProbeReport:
    """The probe on every quiz call (each input built just before its call, outside the probe)."""
    import numpy as np

    rng = random.Random(4)
    makers: dict[str, tuple[Callable[[Any], Any], Callable[[], Any]]] = {
        "bz2": (_bz2, lambda: rng.randbytes(100_000)),
        "numpy_sort": (_np_sort, lambda: np.random.default_rng(4).random(1_500_000)),
        "re": (_re, lambda: "abcdefgh " * 50_000),
        "json": (_json, lambda: [rng.random() for _ in range(50_000)]),
    }
    return ProbeReport(tuple(gil_probe(key, fn, make()) for key, (fn, make) in makers.items()))
