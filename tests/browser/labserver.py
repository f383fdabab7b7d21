"""A JupyterLab server for the browser tests: isolated, loopback-only, and shut down by its own pids.

Isolated means its own config, data, runtime, settings and workspace directories, so nothing from the
machine's or a learner's Jupyter setup (open tabs, extensions' settings, news pop-ups) changes what the
test sees, and nothing the test does leaks back.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
#: The lessons, in order.
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: JupyterLab takes 2-10 s to answer on a 2-core machine; 120 s is far beyond a healthy start.
START_TIMEOUT_S = 120.0
#: How long a server gets to exit after SIGTERM before it and its kernels are killed.
STOP_GRACE_S = 10.0

#: User settings for the test's JupyterLab: never ask about or fetch news and updates (no network, no
#: pop-up over the notebook); keep every cell in the page (no windowing), so the test sees them all; and
#: start the notebook's own kernel without asking (a learner would press "Select" in that dialog).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        {"windowingMode": "none", "autoStartDefaultKernel": True},
}


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it counts as gone)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(home: Path) -> dict[str, str]:
    """Environment variables that point every Jupyter directory under `home`, with quiet settings written."""
    dirs = {name: home / name for name in ("config", "data", "runtime", "settings", "workspaces")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    for rel, values in LAB_SETTINGS.items():
        path = dirs["settings"] / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return dict(os.environ, JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_DATA_DIR=str(dirs["data"]),
                JUPYTER_RUNTIME_DIR=str(dirs["runtime"]), JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
                JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]), CONCURRENCY_LAB_SMALL="1",
                JUPYTER_PLATFORM_DIRS="1")


def lab_args(port: int, token: str) -> list[str]:
    """Headless, at `port`, with a token, quiet (what README's `make lab` does not already say)."""
    return ["--no-browser", f"--port={port}", f"--IdentityProvider.token={token}", "--ServerApp.port_retries=0",
            "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]


@dataclass
class LabServer:
    """A running JupyterLab: its url and token, and the process tree we must leave behind us clean."""

    proc: subprocess.Popen
    port: int
    token: str
    log: Path
    root: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str, method: str = "GET") -> object:
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> dict:
        """Poll /api/status until it answers; fail with the server's log if it dies or never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                return self.api("/api/status")  # type: ignore[return-value]
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"JupyterLab did not answer in {timeout:.0f} s:\n{self.log.read_text()[-3000:]}")

    def wait_kernel_connected(self, path: str, timeout: float = START_TIMEOUT_S) -> str:
        """Wait until `path` has exactly one kernel, idle, with the page's websocket connected to it.

        JupyterLab sometimes starts a notebook's kernel, shuts it down and starts another within a second;
        cells sent to the first are lost. The kernel the page ends up connected to is the one to run on.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                sessions, kernels = self.api("/api/sessions"), {k["id"]: k for k in self.api("/api/kernels")}
            except OSError:  # a kernel shut down between the two requests: ask again
                time.sleep(0.1)
                continue
            ids = {s["kernel"]["id"] for s in sessions if s["path"].endswith(path) and s["kernel"]}
            if len(ids) == 1 and len(kernels) == 1:
                (kid,) = ids
                k = kernels.get(kid)
                if k and k["connections"] >= 1 and k["execution_state"] == "idle":
                    return kid
            time.sleep(0.1)
        raise TimeoutError(f"no kernel connected for {path} in {timeout:.0f} s:\n{self.log.read_text()[-3000:]}")

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def shutdown_kernels(self, timeout: float = STOP_GRACE_S) -> None:
        """Ask the server to shut every kernel down, then wait for their processes (and workers) to exit."""
        kernels = self.api("/api/kernels")
        before = self.descendants()
        for k in kernels:  # type: ignore[union-attr]
            self.api(f"/api/kernels/{k['id']}", method="DELETE")
        psutil.wait_procs(before, timeout=timeout)

    def server_pid(self) -> int:
        """The JupyterLab process itself: our child, or make's (README's `make lab` runs it)."""
        for p in [psutil.Process(self.proc.pid), *self.descendants()]:
            try:
                if any("jupyter-lab" in part for part in p.cmdline()):
                    return p.pid
            except psutil.Error:
                continue
        return self.proc.pid

    def stop(self) -> list[int]:
        """SIGTERM JupyterLab (it shuts its kernels down), wait, then kill whatever of its process tree is
        left, each by its pid. Returns the pids that had to be killed."""
        if self.proc.poll() is not None:
            return []
        tree = [psutil.Process(self.proc.pid), *self.descendants()]
        try:
            os.kill(self.server_pid(), signal.SIGTERM)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
        try:
            self.proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            pass
        _, alive = psutil.wait_procs(tree, timeout=1.0)
        for p in alive:
            p.kill()
        psutil.wait_procs(alive, timeout=5.0)
        return [p.pid for p in alive]


def start_lab(command: Callable[[int, str], list[str]], home: Path, root: Path, cwd: Path | None = None) -> LabServer:
    """Start `command(port, token)` (a command line that runs JupyterLab on `root`) in a session of its own."""
    port, token = free_port(), secrets.token_hex(16)
    log = home / "lab.log"
    proc = subprocess.Popen(command(port, token), cwd=cwd, env=isolated_env(home), stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    return LabServer(proc, port, token, log, root)


def jupyter_lab(root: Path) -> Callable[[int, str], list[str]]:
    """This interpreter's `jupyter lab`, serving `root`, headless."""
    jupyter = Path(sys.executable).with_name("jupyter")
    exe = str(jupyter if jupyter.exists() else shutil.which("jupyter"))
    # Loopback only; root (containers, CI) needs --allow-root: the same as `make lab` adds.
    extra = ["--ServerApp.ip=127.0.0.1", *(["--allow-root"] if os.geteuid() == 0 else [])]
    return lambda port, token: [exe, "lab", f"--ServerApp.root_dir={root}", *extra, *lab_args(port, token)]


def make_lab(port: int, token: str) -> list[str]:
    """README's "open the lessons" command, made headless through its LAB_ARGS."""
    return ["make", "lab", "LAB_ARGS=" + " ".join(lab_args(port, token))]
