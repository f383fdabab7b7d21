"""A Dask `LocalCluster` the runner owns: started quietly, its worker processes found, killed and reaped.

Dask's own shutdown waits politely for workers that may be stuck in a task;
Stop and Ctrl-C must end them within 2 s, so the runner kills the worker
processes (and their nannies) itself, then closes the cluster.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .. import config

#: How long closing the client and cluster may take before we stop waiting.
#: A LocalCluster with idle workers closes in well under a second; a few
#: seconds covers a loaded 2-core laptop, and the worker processes are
#: killed afterwards anyway if any is still there.
CLOSE_TIMEOUT_S: float = 10.0

if TYPE_CHECKING:
    import psutil

def local_cluster(n_workers: int) -> Any:
    """A LocalCluster on loopback: one single-threaded worker process per worker, like a process pool.

    No dashboard (it would pull in bokeh and, by default, listen on every
    interface). The scheduler still serves its small health/metrics HTTP
    routes: on a free loopback port, not on 8787, which a learner's own dask
    may hold (dask would warn and move). Dask's logs are kept to warnings,
    so a notebook cell shows our output, not dask's chatter.
    """
    from distributed import LocalCluster

    return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                        protocol="tcp", dashboard_address=None, silence_logs=logging.WARNING,
                        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"})


def local_worker_pids(cluster: Any) -> list[int]:
    """Pids of a LocalCluster's worker processes, as its nannies know them now (after restarts too)."""
    if cluster is None:
        return []
    return [pid for pid in (getattr(w, "pid", None) for w in list(cluster.workers.values())) if pid]


@contextlib.contextmanager
def quiet_dask() -> Iterator[None]:
    """Mute dask's and tornado's loggers while we tear a cluster down on purpose.

    Killing workers mid-run makes the scheduler (it runs in this process)
    report lost results, failed fetches and cancelled graph updates: all
    true, all expected after a Stop, and alarming in a learner's notebook.
    """
    names = [n for n in list(logging.root.manager.loggerDict) if n.split(".")[0] in ("distributed", "tornado")]
    loggers = [logging.getLogger(n) for n in ("distributed", "tornado", *names)]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def worker_procs(cluster: Any) -> list[psutil.Process]:
    """The worker processes as psutil handles, which refuse to signal a pid that was reused."""
    import psutil

    procs = []
    for pid in local_worker_pids(cluster):
        try:
            procs.append(psutil.Process(pid))
        except psutil.Error:
            pass
    return procs


def kill_workers(cluster: Any, procs: list[psutil.Process]) -> None:
    """End the worker processes at once: a running task cannot be stopped any other way.

    Each nanny is told first that its worker is going away on purpose, so it
    does not start a new one.
    """
    for nanny in list(cluster.workers.values()):
        close_gracefully = getattr(nanny, "close_gracefully", None)
        if close_gracefully is not None:
            close_gracefully(reason="concurrency-lab-stop")
    for proc in procs:
        kill(proc)


def close_cluster(cluster: Any, procs: list[psutil.Process]) -> None:
    """Close the cluster, bounded; a worker process still there afterwards is killed."""
    try:
        cluster.close(timeout=CLOSE_TIMEOUT_S)
    finally:
        deadline = time.monotonic() + config.SHUTDOWN_GRACE_S
        while any(running(p) for p in procs) and time.monotonic() < deadline:
            time.sleep(0.01)
        for proc in procs:
            if running(proc):
                kill(proc)


def running(proc: psutil.Process) -> bool:
    """Alive and not a zombie. Never waits on it: its nanny's multiprocessing reaps it."""
    import psutil

    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def kill(proc: psutil.Process) -> None:
    import psutil

    try:
        proc.kill()
    except psutil.Error:
        pass


