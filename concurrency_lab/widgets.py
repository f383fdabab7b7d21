"""The explorers, under the name the lessons have always used: `cl.widgets.ScalingExplorer(...)`.

A thin face over `concurrency_lab.explorers`, where each explorer lives (one
module each), kept so the lessons and learners' own notebooks keep working.
"""

from __future__ import annotations

from .explorers import *  # noqa: F403 - the whole public surface, by design
from .explorers import __all__ as _explorers
from .servers import EchoServer, probe

__all__ = [*_explorers, "EchoServer", "probe"]
