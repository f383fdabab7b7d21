"""A local HTTP server for the I/O lessons: no lesson ever touches the internet.

It binds 127.0.0.1 only, on a free port the OS picks, answers every GET after
an adjustable latency with as many bytes as asked, and stops when its `with`
block ends.
"""

from __future__ import annotations

import functools
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import config
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
        if self.server.latency:
            time.sleep(self.server.latency)
        with self.server.lock:  # counted before answering, so a client that got its answer is counted
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
    request_queue_size = config.HTTP_REQUEST_QUEUE_SIZE  # the stdlib's 5 drops clients (FACTS.md)
    latency: float = 0.0
    requests: int = 0
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

    def task(self, timeout: float = 10.0) -> functools.partial:
        """`io_http` bound to this server: picklable, so processes can run it too."""
        return functools.partial(io_http, url=self.url, timeout=timeout)
