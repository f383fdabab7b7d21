"""Servers on 127.0.0.1 for the lessons: no lesson ever touches the internet.

- `LocalHTTPServer`: answers every GET after an adjustable latency with as
  many bytes as asked (the I/O lessons' "web").
- `EchoServer` and `probe`: one byte there and back, timed (the convoy effect).
- `SilentServer`: accepts connections and never answers (a hung API: lesson 03's script with no
  timeout meets it).

Each binds 127.0.0.1 only, on a free port the OS picks, and stops when its
`with` block ends.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import perf_counter_ns
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import config
from .records import TaskEvent
from .workloads import io_http

#: Largest response the demo server sends, so a typo cannot fill the memory.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        query = parse_qs(urlsplit(self.path).query)
        try:
            size = min(max(int(query.get("bytes", ["0"])[0]), 0), MAX_RESPONSE_BYTES)
        except ValueError:
            self.send_error(400, "bytes must be an integer")
            return
        with self.server.lock:
            self.server.in_flight += 1
            self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
        try:
            if self.server.latency:
                time.sleep(self.server.latency)
        finally:
            with self.server.lock:  # counted before answering, so a client that got its answer is counted
                self.server.in_flight -= 1
                self.server.requests += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        self.wfile.write(b"x" * size)

    def log_message(self, format: str, *args: Any) -> None:  # keep notebooks quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = config.HTTP_REQUEST_QUEUE_SIZE  # the stdlib's 5 drops clients: see config
    latency: float = 0.0
    requests: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock


class LocalHTTPServer:
    """A context manager serving GETs on 127.0.0.1, each after `latency` seconds.

    >>> with LocalHTTPServer(latency=0.05) as server:
    ...     runner.run(server.task(), [1024] * 32)
    """

    def __init__(self, latency: float = 0.05) -> None:
        if isinstance(latency, bool) or not isinstance(latency, (int, float)) or not 0 <= latency <= 10:
            raise ValueError(f"latency: {latency!r} is out of range; allowed: 0 to 10 seconds")
        self.latency = float(latency)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LocalHTTPServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        if self._server is not None:
            return
        server = _Server(("127.0.0.1", 0), _Handler)
        server.latency = self.latency
        server.lock = threading.Lock()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="concurrency-lab-http", daemon=True)
        self._thread.start()

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            assert self._thread is not None
            self._thread.join(5)

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the server is not running; use it in a `with` block or call start()")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def requests(self) -> int:
        """How many requests were answered so far."""
        return self._server.requests if self._server else 0

    @property
    def max_in_flight(self) -> int:
        """The most requests this server was working on at once (each from its arrival to the end of its
        latency, before the answer is sent: a client that got its answer is no longer counted)."""
        return self._server.max_in_flight if self._server else 0

    def task(self, timeout: float = 10.0) -> functools.partial:
        """`io_http` bound to this server: picklable, so processes can run it too."""
        return functools.partial(io_http, url=self.url, timeout=timeout)


# -- the echo server ------------------------------------------------------------------

#: Pause between two probes, so they sample the background work rather than each other.
PROBE_GAP_S = 0.002


class EchoServer:
    """Echo bytes back, on 127.0.0.1 only, on a free port; one client at a time.

    Runs as a thread of this process on purpose: under the GIL its answers
    wait for CPU-bound threads here, which is the convoy effect being measured.
    """

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> EchoServer:
        sock = self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)
        sock.settimeout(config.POLL_INTERVAL_S)
        self._thread = threading.Thread(target=self._serve, name="concurrency-lab-echo", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join(2.0)
        if self._sock is not None:
            self._sock.close()

    @property
    def address(self) -> tuple[str, int]:
        assert self._sock is not None, "use EchoServer in a `with` block"
        return self._sock.getsockname()

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                self._echo(conn)

    def _echo(self, conn: socket.socket) -> None:
        conn.settimeout(config.POLL_INTERVAL_S)
        while not self._closed.is_set():
            try:
                data = conn.recv(64)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            conn.sendall(data)


def probe(address: tuple[str, int], count: int, stop: threading.Event,
          on_probe: Callable[[int], Any] | None = None) -> list[TaskEvent]:
    """Round trips of one byte to the echo server, as TaskEvents (submit = sent, collected = answered)."""
    t0, pid, tid = perf_counter_ns(), os.getpid(), threading.get_ident()
    events = []
    with socket.create_connection(address, timeout=5.0) as conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(count):
            if stop.wait(PROBE_GAP_S):
                break
            sent = perf_counter_ns()
            conn.sendall(b"x")
            conn.recv(1)
            back = perf_counter_ns()
            s, e = (sent - t0) / 1e9, (back - t0) / 1e9
            events.append(TaskEvent(i, "probe", pid, tid, s, s, e, e, 0.0, True))
            if on_probe is not None:
                on_probe(i + 1)
    return events


class SilentServer:
    """A socket on 127.0.0.1 that accepts connections and never reads or answers them.

    The operating system completes each connection for a listening socket by itself (the backlog), so a
    client connects, sends its request, and waits for a reply that never comes: a server that hung.
    Nothing runs in this process to serve it, so nothing is left behind when the `with` block ends.
    """

    def __enter__(self) -> SilentServer:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/"
