"""The public surface: every exported name resolves, and importing the package stays light."""

from __future__ import annotations

import subprocess
import sys

import concurrency_lab


def test_every_exported_name_resolves():
    for name in concurrency_lab.__all__:
        assert getattr(concurrency_lab, name) is not None, name


def test_importing_the_package_and_running_a_task_loads_nothing_heavy():
    code = ("import sys, concurrency_lab as cl\n"
            "cl.run('tiny', backend='threads', max_workers=2, tasks=3)\n"
            "heavy = {'pandas', 'matplotlib', 'ipywidgets', 'IPython', 'numpy'}\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
