"""What every auto-check returns: a ticked or crossed line a learner can act on, with a plain-text repr
so nbval can compare it."""

from __future__ import annotations

from dataclasses import dataclass

TICK, CROSS = "\u2713", "\u2717"


@dataclass(frozen=True)
class Feedback:
    """What an auto-check says: right, or what to look at."""

    ok: bool
    message: str

    def __repr__(self) -> str:
        return f"{TICK + ' Right' if self.ok else CROSS + ' Not yet'}: {self.message}"
