"""concurrency_lab: measure threads, processes and asyncio on your own machine.

The public API is listed in `__all__`. Names are imported on first use
(PEP 562), so a worker process that imports this package to run a task pays
for almost nothing, and nothing here ever imports matplotlib or ipywidgets.
"""

from __future__ import annotations

import importlib
import sys

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # running
    "run": "concurrency_lab.api",
    "Runner": "concurrency_lab.runners",
    "SequentialRunner": "concurrency_lab.runners",
    "ThreadRunner": "concurrency_lab.runners",
    "ProcessRunner": "concurrency_lab.runners",
    "AsyncioRunner": "concurrency_lab.runners",
    "DaskRunner": "concurrency_lab.runners",
    "InterpreterRunner": "concurrency_lab.runners",
    "EventStream": "concurrency_lab.runners",
    "make_runner": "concurrency_lab.runners",
    "UnpicklableError": "concurrency_lab.runners",
    "RUNNERS": "concurrency_lab.runners",
    "sweep": "concurrency_lab.experiments",
    # beyond one interpreter: other Pythons (free-threaded builds), recorded sweeps from bigger machines
    "interpreters": "concurrency_lab.interpreters",
    "replay": "concurrency_lab.replay",
    "classroom": "concurrency_lab.classroom",
    # records
    "TaskEvent": "concurrency_lab.records",
    "RunRecord": "concurrency_lab.records",
    "TaskFailed": "concurrency_lab.records",
    "RecordsFileError": "concurrency_lab.recordfiles",
    "save_records": "concurrency_lab.recordfiles",
    "load_records": "concurrency_lab.recordfiles",
    "records_to_dataframe": "concurrency_lab.records",
    "summaries_to_dataframe": "concurrency_lab.records",
    # workloads and the demo server
    "workloads": "concurrency_lab.workloads",
    "calibrate": "concurrency_lab.calibration",
    "calibration": "concurrency_lab.calibration",
    "WORKLOADS": "concurrency_lab.workloads",
    "LocalHTTPServer": "concurrency_lab.servers",
    # explorers (ipywidgets and matplotlib load only when a panel is built)
    "widgets": "concurrency_lab.widgets",
    "analysis": "concurrency_lab.analysis",
    "plots": "concurrency_lab.plots",
    # watching any code: when each thread and process was on a CPU
    "watch": "concurrency_lab.watching",
    "WatchRecord": "concurrency_lab.watching",
    # facts about this machine
    "system_info": "concurrency_lab.info",
    "info": "concurrency_lab.info",
    "config": "concurrency_lab.config",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'concurrency_lab' has no attribute {name!r}")
    mod = importlib.import_module(module)
    value = mod if module.endswith("." + name) else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


def load_ipython_extension(ipython: object) -> None:
    """`%load_ext concurrency_lab`: registers the `%%watch` cell magic."""
    from .magics import register

    register(ipython)


def _register_in_ipython() -> None:
    """Inside IPython (a notebook), `import concurrency_lab` registers `%%watch` too. IPython is never
    imported here: only a process that already runs it has a shell to register with."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if shell is not None and hasattr(shell, "register_magics"):
        load_ipython_extension(shell)


_register_in_ipython()
