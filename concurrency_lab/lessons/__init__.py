"""What the notebooks call: the environment check, each lesson's demonstrations, and the exercises' auto-checks.

One module per lesson; cells stay short (import, call, show) and the logic and its tests live here.
Each check answers in words a learner can act on and has a plain-text repr, so nbval can compare it.
Notebooks reach everything as `lessons.<name>`; the re-exports below keep that one flat namespace.
"""

from . import basics, beyond, choosing, communication, cpu, io, mixed, native, races, robustness, start
from ._feedback import CROSS, TICK, Feedback
from .basics import *  # noqa: F403 - lesson 01
from .beyond import *  # noqa: F403 - lesson 10
from .choosing import *  # noqa: F403 - lesson 09
from .communication import *  # noqa: F403 - lesson 05
from .cpu import *  # noqa: F403 - lesson 02
from .io import *  # noqa: F403 - lesson 03
from .mixed import *  # noqa: F403 - lesson 08
from .native import *  # noqa: F403 - lesson 04
from .races import *  # noqa: F403 - lesson 06
from .robustness import *  # noqa: F403 - lesson 07
from .start import *  # noqa: F403 - lesson 00

__all__ = ["CROSS", "TICK", "Feedback"] + [name for m in (start, basics, cpu, io, native, communication, races,
                                                          robustness, mixed, choosing, beyond) for name in m.__all__]
