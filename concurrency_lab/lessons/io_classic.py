"""Lesson 03, part 2: the classic "fetch some URLs with threads and `requests`" example, run for real.

Tutorials show it fetching internet sites. Here the same script runs as a `.py` file in a child Python
(`children.run_script`, with a timeout), and the only change is where its URLs come from: the command line,
pointing at a server on 127.0.0.1, so a classroom needs no network. Each script meets two servers:

- `LocalHTTPServer`, which answers: the tutorial's script finishes, and shows what its threads gave back;
- `SilentServer`, which accepts the connection and never answers (a hung API, the slowest server there is):
  with no timeout, the tutorial's script waits until our timeout kills it.

Then the fixed script (a thread pool's `map`, a `timeout=` on each request) meets the same two servers.
Each run has a repr that says what happened (times vary) and a `verdict()` that holds on any machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .. import config
from ..children import ChildResult, run_script
from ..load import Load, LoadMeter
from ..servers import LocalHTTPServer, SilentServer

__all__ = ['TUTORIAL_FETCH_SCRIPT', 'FIXED_FETCH_SCRIPT', 'ScriptRun', 'ClassicFetch', 'run_seed_fetch',
           'run_fixed_fetch', 'FETCH_PAGES', 'REQUEST_TIMEOUT_S']

#: The tutorial's script as tutorials write it; the only change is the first line of the URLs.
TUTORIAL_FETCH_SCRIPT = '''\
import sys
import threading

import requests

urls = sys.argv[1:]  # the tutorial: urls = ["https://www.python.org", "https://www.wikipedia.org", ...]


def fetch(url):
    response = requests.get(url)
    return response.text


threads = []
for url in urls:
    thread = threading.Thread(target=fetch, args=(url,))
    threads.append(thread)
    thread.start()

results = [thread.join() for thread in threads]
print(results)
'''

#: How long the fixed script lets one request take (connecting, then each wait for data).
REQUEST_TIMEOUT_S = 2.0

#: The fixed script: a pool's `map` hands back what `fetch` returns, in order, and every request has a timeout.
FIXED_FETCH_SCRIPT = f'''\
import sys
from concurrent.futures import ThreadPoolExecutor

import requests

urls = sys.argv[1:]


def fetch(url):
    try:
        response = requests.get(url, timeout={REQUEST_TIMEOUT_S:g})
        response.raise_for_status()
        return f"{{len(response.text)}} characters"
    except requests.RequestException as error:
        return f"failed: {{type(error).__name__}}"


with ThreadPoolExecutor(max_workers=len(urls)) as pool:
    results = list(pool.map(fetch, urls))
print(results)
'''

#: How many URLs each script fetches: a page of 1, 2, ... FETCH_PAGES KiB.
FETCH_PAGES = 5
#: How long a script may run. It needs about a second; against the silent server the tutorial's version
#: would wait forever, so this is how long it gets before we kill it (shorter in the small mode, for CI).
SCRIPT_TIMEOUT_S = 30.0
HANG_TIMEOUT_S = 3.0 if config.SMALL else 5.0


@dataclass(frozen=True)
class ScriptRun:
    """One script run in a child Python against one server."""

    server: str
    """"answers" (LocalHTTPServer, 50 ms) or "silent" (SilentServer)."""
    child: ChildResult
    seconds: float
    timeout_s: float
    answered: int = 0
    """How many requests the server answered (the silent one answers none)."""

    @property
    def printed(self) -> str:
        return self.child.stdout.strip().splitlines()[-1] if self.child.stdout.strip() else ""

    def __repr__(self) -> str:
        where = ("a server that answers in 50 ms" if self.server == "answers"
                 else "a server that accepts and never answers")
        if self.child.timed_out:
            ended = f"still running after {self.timeout_s:g} s: killed by our timeout"
            ended += "" if self.printed else ", having printed nothing"
        else:
            ended = f"ended by itself after {self.seconds:.1f} s (exit status {self.child.returncode})"
        lines = [f"against {where}: {ended}"]
        if self.server == "answers":
            lines.append(f"  the server answered {self.answered} requests")
        if self.printed:
            lines.append(f"  it printed: {self.printed}")
        return "\n".join(lines)


@dataclass(frozen=True)
class ClassicFetch:
    """One script against both servers."""

    script: str
    """"tutorial" (TUTORIAL_FETCH_SCRIPT) or "fixed" (FIXED_FETCH_SCRIPT)."""
    answers: ScriptRun
    silent: ScriptRun
    load: Load | None = None

    def __repr__(self) -> str:
        return "\n".join([f"the {self.script} script", repr(self.answers), repr(self.silent)]
                         + ([self.load.note()] if self.load else []))

    def verdict(self) -> str:
        """What the script did, in lines that hold on any machine (nothing here depends on speed)."""
        a, s = self.answers, self.silent
        fetched = a.answered == FETCH_PAGES
        if self.script == "tutorial":
            lost = a.child.ok and a.printed == repr([None] * FETCH_PAGES)
            return "\n".join([f"the server answered all {FETCH_PAGES} requests: {fetched}",
                              f"and join() gave back None for every page (Thread drops what fetch returns): {lost}",
                              f"against the silent server, it waited until our timeout killed it: {s.child.timed_out}"])
        sizes = [f"{1024 * i} characters" for i in range(1, FETCH_PAGES + 1)]
        came_back = a.child.ok and a.printed == repr(sizes)
        failed = s.child.ok and s.printed == repr(["failed: ReadTimeout"] * FETCH_PAGES)
        return "\n".join([f"the server answered all {FETCH_PAGES} requests: {fetched}",
                          f"and every page came back, in order: {came_back}",
                          f"against the silent server, every request failed with ReadTimeout and the script "
                          f"ended by itself: {failed}"])


def _run(script: str, urls: list[str], server: str, timeout: float, counter: LocalHTTPServer | None) -> ScriptRun:
    t0 = time.perf_counter()
    child = run_script(script, *urls, timeout=timeout, name="fetch.py")
    seconds = time.perf_counter() - t0
    return ScriptRun(server, child, seconds, timeout, counter.requests if counter else 0)


def _against_both(name: str, script: str) -> ClassicFetch:
    meter = LoadMeter()
    with LocalHTTPServer(latency=0.05) as server:
        urls = [f"{server.url}?bytes={1024 * i}" for i in range(1, FETCH_PAGES + 1)]
        answers = _run(script, urls, "answers", SCRIPT_TIMEOUT_S, server)
    timeout = HANG_TIMEOUT_S if name == "tutorial" else SCRIPT_TIMEOUT_S
    with SilentServer() as silent:
        hung = _run(script, [silent.url] * FETCH_PAGES, "silent", timeout, None)
    return ClassicFetch(name, answers, hung, meter.read())


def run_seed_fetch() -> ClassicFetch:
    """The tutorial's script against both servers (a few seconds: the silent server holds it until our timeout)."""
    return _against_both("tutorial", TUTORIAL_FETCH_SCRIPT)


def run_fixed_fetch() -> ClassicFetch:
    """The fixed script against both servers (a few seconds: each request to the silent server times out)."""
    return _against_both("fixed", FIXED_FETCH_SCRIPT)
