"""`%%watch` and `cl.watch()` in a real Jupyter kernel: the magic after `import concurrency_lab`, and Ctrl-C
inside a watched cell, which must leave no sampler behind."""

from __future__ import annotations

import psutil
import pytest

pytest.importorskip("jupyter_client")

from kernels import reply, wait_for, wait_for_output, wait_idle  # noqa: E402


def run_cell(kc, code: str, timeout: float = 120) -> tuple[dict, str]:
    """Execute `code`; return its reply and everything it printed."""
    msg_id = kc.execute(code)
    answer = reply(kc, msg_id, timeout)
    printed = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            printed.append(msg["content"]["text"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return answer, "".join(printed)


def samplers(pid: int) -> list[psutil.Process]:
    """The sampler processes under `pid` that still run (a zombie, ended and not yet reaped, is not)."""
    found = []
    for proc in psutil.Process(pid).children(recursive=True):
        try:
            if "_sampler.py" in " ".join(proc.cmdline()):
                found.append(proc)
        except psutil.Error:
            pass
    return found


WATCHED_CELL = """%%watch spun --no-plot
from concurrent.futures import ThreadPoolExecutor
from concurrency_lab.workloads import cpu
with ThreadPoolExecutor(2, thread_name_prefix="spin") as pool:
    list(pool.map(cpu, [2_000_000] * 4))
"""


def test_the_cell_magic_is_there_after_import_and_keeps_the_record(kernel):
    km, kc = kernel
    answer, _ = run_cell(kc, "import concurrency_lab as cl")
    assert answer["status"] == "ok"
    answer, printed = run_cell(kc, WATCHED_CELL)
    assert answer["status"] == "ok", answer
    assert "samples/s" in printed and "other programs used" in printed
    answer, printed = run_cell(kc, "print(sorted(l.name for l in spun.lanes if l.name.startswith('spin')), "
                                   "sum(spun.total(l) for l in spun.lanes if l.name.startswith('spin')) / spun.wall "
                                   "<= 1.1)")
    assert printed.strip() == "['spin_0', 'spin_1'] True", printed
    assert samplers(km.provisioner.process.pid) == []


@pytest.mark.parametrize("cell", [
    "with cl.watch() as w:\n    print('watching', flush=True)\n    import time; time.sleep(60)",
    "%%watch w --no-plot\nprint('watching', flush=True)\nimport time; time.sleep(60)",
])
def test_ctrl_c_inside_a_watched_cell_leaves_no_sampler(kernel, cell):
    km, kc = kernel
    pid = km.provisioner.process.pid
    run_cell(kc, "import concurrency_lab as cl")
    msg_id = kc.execute(cell)
    wait_for_output(kc, "watching", 60)  # inside the block: the sampler has taken its first sample
    assert samplers(pid) != []
    km.interrupt_kernel()
    reply(kc, msg_id, timeout=30)
    wait_idle(kc, msg_id, timeout=30)
    assert wait_for(lambda: samplers(pid) == [], 10), "a sampler outlived the interrupt"
    answer, printed = run_cell(kc, "print(w.record is not None if hasattr(w, 'record') else w.wall > 0)")
    assert answer["status"] == "ok" and printed.strip() == "True", printed

