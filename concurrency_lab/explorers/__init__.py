"""Explorers: ipywidgets panels that let a learner vary a measurement and watch it, live.

One module per explorer, each holding its settings, its panel and its model
(see `_base` for how the three split the work), over a shared base. Importing
this package imports neither ipywidgets nor matplotlib: a panel is built, and
they are imported, only when one is displayed.
"""

from __future__ import annotations

from ._base import Explorer, backend_specs
from ._panel import Panel
from .convoy import ConvoyLab, ConvoySettings
from .granularity import GranularityExplorer, GranularitySettings
from .memory import MemoryExplorer, MemoryMeasurement, MemorySettings
from .scaling import ScalingExplorer, ScalingSettings
from .start_methods import (
    StartMethodExplorer,
    StartMethodSettings,
    StdlibOutcome,
    explain_stdlib,
    notebook_function,
    stdlib_notebook_function,
)
from .timeline import TimelineExplorer, TimelineSettings

__all__ = [
    "ConvoyLab", "ConvoySettings", "Explorer", "GranularityExplorer", "GranularitySettings", "MemoryExplorer",
    "MemoryMeasurement", "MemorySettings", "Panel", "ScalingExplorer", "ScalingSettings", "StartMethodExplorer",
    "StartMethodSettings", "StdlibOutcome", "TimelineExplorer", "TimelineSettings", "backend_specs",
    "explain_stdlib", "notebook_function", "stdlib_notebook_function",
]
