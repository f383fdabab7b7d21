"""Guards for every test: no network beyond loopback, no process or listening socket left behind."""

from __future__ import annotations

import os

os.environ.setdefault("CONCURRENCY_LAB_SMALL", "1")  # before concurrency_lab.config reads it

import ipaddress
import socket
import time

import psutil
import pytest
from support import BACKENDS, _is_helper


def _children() -> dict[int, psutil.Process]:
    return {p.pid: p for p in psutil.Process().children(recursive=True) if not _is_helper(p)}


def _listening() -> set[tuple[str, int]]:
    try:
        conns = psutil.Process().net_connections(kind="inet")
    except psutil.Error:
        return set()
    return {(c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN}


@pytest.fixture(autouse=True)
def no_leftovers():
    """Fail a test that leaves a child process or a listening socket behind (and clean up after it)."""
    before, listening = set(_children()), _listening()
    yield
    deadline = time.monotonic() + 3.0  # a worker told to exit may need a moment
    while True:
        left = {pid: p for pid, p in _children().items() if pid not in before}
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for proc in left.values():
        proc.kill()
    sockets = _listening() - listening
    assert not left, f"test left child processes behind: {sorted(left)}"
    assert not sockets, f"test left listening sockets behind: {sorted(sockets)}"


def _loopback_only(address: object) -> None:
    if isinstance(address, tuple) and address:
        host = address[0]
        try:
            ok = ipaddress.ip_address(host).is_loopback
        except ValueError:
            ok = host == "localhost"
        if not ok:
            raise ConnectionRefusedError(f"network guard: tests may only connect to loopback, not {host!r}")


@pytest.fixture(autouse=True, scope="session")
def network_guard():
    """Any connection outside 127.0.0.0/8 and ::1 fails the test that makes it."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self, address):
        _loopback_only(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        _loopback_only(address)
        return real_connect_ex(self, address)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    yield
    socket.socket.connect, socket.socket.connect_ex = real_connect, real_connect_ex


@pytest.fixture
def kernel():
    """A real Jupyter kernel (tests/kernels.py): (KernelManager, client)."""
    pytest.importorskip("jupyter_client")
    from kernels import open_kernel

    with open_kernel() as km_kc:
        yield km_kc


@pytest.fixture(params=BACKENDS)
def backend_spec(request) -> str:
    return request.param
