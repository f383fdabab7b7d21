"""A real Jupyter kernel for tests, and the waits a client needs (each bounded): for output, for the
reply to a request, and for the kernel to be idle again before the next cell (see `wait_idle`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import jupyter_client


@contextmanager
def open_kernel() -> Iterator[tuple]:
    """A fresh python3 kernel and a client for it, shut down after the block (the `kernel` fixture)."""
    km = jupyter_client.KernelManager(kernel_name="python3")
    km.start_kernel(extra_arguments=["--HistoryManager.enabled=False"])
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def wait_for_output(kc, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.01))
        if msg["msg_type"] == "stream" and text in msg["content"]["text"]:
            return


def wait_idle(kc, msg_id: str, timeout: float) -> None:
    """Until the kernel says it is idle after the request `msg_id`.

    ipykernel sends the reply to a cell that ended in an error (KeyboardInterrupt
    included) first, and only then starts aborting queued requests
    (`stop_on_error`); a request that arrives in between is answered "aborted"
    without running. It says "idle" after that, so a request sent after "idle"
    runs. On a busy machine the gap was wide enough to hit (issue 13).
    """
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.01))
        if (msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"
                and msg["parent_header"].get("msg_id") == msg_id):
            return


def reply(kc, msg_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_shell_msg(timeout=max(deadline - time.monotonic(), 0.01))
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg["content"]
