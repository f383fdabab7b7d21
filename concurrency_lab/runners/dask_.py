"""Dask: tasks go through a scheduler to worker processes, on this machine or across many.

Data flow: `Client.get_executor()` turns a dask Client into a stdlib
Executor, so the base's submit / done-callback / collection works unchanged.
Each task is `call_timed(fn, item)`. The client pickles it (dask falls back
to cloudpickle; a notebook function is already shipped by value, see
`shipping`) and sends it to the scheduler; the scheduler picks a worker; the
worker process runs it in its single thread and keeps the outcome tuple; the
scheduler tells the client the task is done, and the client fetches the
outcome from the worker and sets the future. Every hop is a message over TCP,
even on one machine: that is the per-task cost a lesson compares with local
processes, and the price of being able to use a hundred machines instead.

By default the runner starts its own `LocalCluster` on 127.0.0.1 (one
single-threaded worker process per `max_workers`, no dashboard); with
`address=` it connects to a running scheduler and leaves that cluster up when
it closes. `distributed` is optional: `pip install -e '.[dask]'`.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from .. import config
from .._worker import Outcome, call_chunk, call_timed, ready
from ._base import Runner
from ._dask_cluster import (
    CLOSE_TIMEOUT_S,
    close_cluster,
    kill_workers,
    local_cluster,
    local_worker_pids,
    quiet_dask,
    worker_procs,
)
from ._run import RunState, stopped_while_starting
from .shipping import check_input_picklable, ship

if TYPE_CHECKING:
    pass

#: What to tell a learner whose environment lacks the optional extra.
MISSING_DISTRIBUTED = (
    "the dask backend needs the optional `distributed` package. Install the extra with "
    "`pip install -e '.[dask]'` (or `pip install 'distributed>=2024.1'`), then restart the kernel."
)


#: Name of the topic on which a worker announces that a task started (only
#: when the run has a task_timeout); the client's id is appended, so runs of
#: other clients on a shared cluster never reach us.
STARTED_TOPIC = "concurrency-lab-started"

#: Clock readings per remote worker at start-up; the fastest round trip wins.
#: Five cost a few ms per worker and dodge one unlucky slow reply.
CLOCK_SAMPLES = 5


class DaskMissingError(ImportError):
    """`distributed` is not installed: the dask backend is an optional extra."""


def distributed_available() -> bool:
    """Whether `distributed` can be imported, without importing it (that takes ~1 s)."""
    try:
        return importlib.util.find_spec("distributed") is not None
    except (ImportError, ValueError):  # a finder refused it, or sys.modules blocks it with None
        return False


def require_distributed() -> None:
    """Refuse, with the install command, before anything starts."""
    if not distributed_available():
        raise DaskMissingError(MISSING_DISTRIBUTED)


@dataclass
class _DaskPool:
    """What one started runner holds: the cluster it owns (None when connected), the client, its executor."""

    cluster: Any
    client: Any
    executor: Any
    offsets: dict[str, int] = field(default_factory=dict)  # worker address -> its clock minus ours (ns)
    topic: str = ""
    watching: dict[str, _TaskFuture] = field(default_factory=dict)


class DaskRunner(Runner):
    """Over a `distributed` Client's executor: a LocalCluster on 127.0.0.1, or `address=` a scheduler.

    Where it differs from the processes backend, and why:

    * Per-task cost is milliseconds, not tens of microseconds: every task is
      scheduled centrally and travels over TCP both ways. Tiny tasks show it.
    * Stop, `timeout` and `task_timeout` cancel every unfinished task. With
      our own LocalCluster the worker processes are then killed and the
      cluster closed (the next run starts a fresh one). On a cluster given by
      `address=` we cannot kill other people's workers: a task already
      running finishes there in the background, as with threads.
    * `task_timeout`: a task's clock starts when its worker announces that it
      began (a message through the scheduler, sent only when a task_timeout
      is set), so it errs on the generous side by one message's latency.
    * A dead worker (os._exit, a segfault) does not break the pool: its
      nanny starts a new one, and the scheduler retries the task up to
      `distributed.scheduler.allowed-failures` times (3) before it fails
      with KilledWorker. Other tasks carry on.
    * With `address=`, the cluster decides how many workers there are:
      `max_workers` (default 1) is how many workers to wait for, and the
      record's `max_workers` is the cluster's total worker threads. Workers'
      peak memory is measured only for a LocalCluster (ours to read). A
      worker on another machine keeps another clock: its task times are
      moved onto ours by an offset measured at start-up (to within half a
      round trip, NTP-style). Pids from different machines may coincide.
    * Dask starts its workers with spawn (its own setting); `start_method`
      stays "" as for the other non-`processes` backends.
    """

    backend = "dask"
    workers_import = True

    def __init__(self, max_workers: int | None = None, *, address: str | None = None) -> None:
        require_distributed()
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise ValueError(f"address: expected a scheduler address like 'tcp://host:8786', got {address!r}")
        super().__init__(1 if address is not None and max_workers is None else max_workers)
        self.address = address
        self._min_workers = self.max_workers  # with address=, max_workers becomes the cluster's size

    # -- lifecycle ---------------------------------------------------------------
    def _make_pool(self) -> _DaskPool:
        from distributed import Client

        cluster = None if self.address is not None else local_cluster(self.max_workers)
        try:  # not the default client: a learner's own dask code must not land on a cluster we will close
            client = Client(cluster if cluster is not None else self.address, set_as_default=False,
                            timeout=config.STARTUP_TIMEOUT_S)
        except BaseException:
            if cluster is not None:
                cluster.close(timeout=CLOSE_TIMEOUT_S)
            raise
        return _DaskPool(cluster, client, client.get_executor(pure=False))

    def _warm_up(self, stop: threading.Event | None) -> None:
        """Wait for the workers, then have each answer a task, so the timed run measures none of it."""
        client = self._pool.client
        client.wait_for_workers(self._min_workers, timeout=config.STARTUP_TIMEOUT_S)
        self._until_all_answer(None, stop)
        if self.address is not None:
            self.max_workers = sum(client.nthreads().values())
            self._pool.offsets = _clock_offsets(client)

    def _until_all_answer(self, module: str | None, stop: threading.Event | None = None) -> None:
        """One `ready` task pinned to each worker: it has started its thread and can import `module`."""
        client = self._pool.client
        futures = [client.submit(ready, 0.0, module, workers=[addr], allow_other_workers=False, pure=False)
                   for addr in client.nthreads()]
        deadline = time.monotonic() + config.STARTUP_TIMEOUT_S
        for fut in futures:  # an import error in a worker raises here, as it would with processes
            fut.result(timeout=max(deadline - time.monotonic(), 0.001))
        stopped_while_starting(stop)

    def _close_pool(self, pool: _DaskPool, *, kill: bool) -> None:
        """Cancel what is left, then close client and cluster; with kill, end our workers first."""
        procs = worker_procs(pool.cluster)
        with quiet_dask() if kill else contextlib.nullcontext():
            try:
                pool.executor.shutdown(wait=False)  # cancels unfinished tasks; never waits on them
                pool.client.close(timeout=CLOSE_TIMEOUT_S)
            finally:
                if pool.cluster is not None:
                    if kill:
                        kill_workers(pool.cluster, procs)
                    close_cluster(pool.cluster, procs)

    def _worker_pids(self) -> list[int]:
        return local_worker_pids(self._pool.cluster) if self._pool is not None else []

    # -- running -----------------------------------------------------------------
    def _prepare(self, fn: Callable, items: list) -> Callable:
        check_input_picklable(items[0], 0)
        return ship(fn)

    def _submitter(self, target: Callable, state: RunState) -> Callable[[Any], Future]:
        return self._submitter_for(call_timed, target, state)

    def _chunk_submitter(self, target: Callable, state: RunState) -> Callable[[list], Future]:
        return self._submitter_for(call_chunk, target, state)

    def _submitter_for(self, call: Callable, target: Callable, state: RunState) -> Callable[[Any], Future]:
        """The plain executor submit when it suffices: the hot path, as with processes. With a
        `task_timeout`, workers announce each start (per run: the run's state decides)."""
        pool = self._pool
        if state.task_timeout is not None:
            return self._announcing_submitter(call, target)
        if pool.offsets:
            return functools.partial(pool.executor.submit, _in_worker, "", pool.offsets, call, target)
        return functools.partial(pool.executor.submit, call, target)

    def _announcing_submitter(self, call: Callable, target: Callable) -> Callable[[Any], Future]:
        """Submit tasks whose workers say when they start, so `running()` means running.

        A dask future stays pending until it is done: the client is never told
        that a task began. For task_timeout we need that moment, so the task
        logs an event first, and the future we hand the base notes it.
        """
        pool = self._pool
        if not pool.topic:
            pool.topic = f"{STARTED_TOPIC}-{pool.client.id}"
            pool.client.subscribe_topic(pool.topic, functools.partial(_mark_started, pool.watching))
        pool.watching.clear()
        submit, topic, offsets, watching = pool.executor.submit, pool.topic, pool.offsets, pool.watching

        def submit_one(arg: Any) -> Future:
            key = f"{call.__name__}-{uuid.uuid4().hex}"
            ours = watching[key] = _TaskFuture()  # before submitting: the start event may come back at once
            submit(_in_worker, topic, offsets, call, target, arg, key=key).add_done_callback(ours.copy_from)
            return ours

        return submit_one

    def _describe_failure(self, exc: BaseException, index: int) -> str:
        if type(exc).__name__ != "KilledWorker":
            return super()._describe_failure(exc, index)
        return (f"KilledWorker: {exc}. The worker process running this task died each time it was tried "
                "(dask's nanny restarts a dead worker and the scheduler retries its task, up to "
                "distributed.scheduler.allowed-failures times); the other tasks carried on.")


# -- task_timeout: knowing when a task started ---------------------------------------

class _TaskFuture(Future):
    """The future the base sees for a dask task: `running()` once its worker announced the start.

    The executor's own future is never marked running (dask cannot say when a
    task starts), and marking it ourselves would clash with how the executor
    reports a cancel; so this one mirrors it and keeps a flag of its own.
    """

    def __init__(self) -> None:
        super().__init__()
        self.started = False

    def running(self) -> bool:
        return self.started and not self.done()

    def copy_from(self, theirs: Future) -> None:
        """Take the executor future's outcome (called in the client's thread when it is set)."""
        if theirs.cancelled():
            self.cancel()
            self.set_running_or_notify_cancel()
            return
        try:
            self.set_result(theirs.result())
        except CancelledError:
            self.cancel()
            self.set_running_or_notify_cancel()
        except BaseException as exc:
            self.set_exception(exc)


def _mark_started(watching: dict[str, _TaskFuture], event: tuple[float, Any]) -> None:
    """Client-side handler for a start announcement: (scheduler time, task key)."""
    fut = watching.pop(event[1], None)
    if fut is not None:
        fut.started = True


def _in_worker(topic: str, offsets: dict[str, int], call: Callable, fn: Callable, arg: Any) -> Any:
    """Runs in the worker: announce the start if asked, do the timed call, put its times on our clock."""
    from distributed import get_worker

    worker = get_worker()
    if topic:
        worker.log_event(topic, worker.get_current_task())
    outcome = call(fn, arg)
    shift = offsets.get(worker.address, 0)
    if not shift:
        return outcome
    return [shifted(one, shift) for one in outcome] if type(outcome) is list else shifted(outcome, shift)


def shifted(outcome: tuple, shift: int) -> tuple:
    """A raw outcome (result, start, end, cpu, pid, tid, error) with its times moved back by `shift` ns."""
    out = Outcome._make(outcome)
    return tuple(out._replace(start=out.start - shift, end=out.end - shift))


# -- clocks of workers on other machines ------------------------------------------------

def _clock_offsets(client: Any) -> dict[str, int]:
    """How far each worker's perf_counter_ns is ahead of ours, for workers whose clock is not ours.

    Each worker is asked for its clock a few times; the answer with the
    shortest round trip is taken as read halfway through it (as NTP does).
    An offset within that half trip of zero is a worker on this machine,
    whose monotonic clock is ours: left out (exactly 0). Monotonic clocks of
    two machines differ by far more (each counts from its own boot).
    """
    offsets = {}
    for addr in client.nthreads():
        trip, offset = min(_clock_sample(client, addr) for _ in range(CLOCK_SAMPLES))
        if abs(offset) > trip // 2:
            offsets[addr] = offset
    return offsets


def _clock_sample(client: Any, addr: str) -> tuple[int, int]:
    """(round trip, offset) of one reading of `addr`'s clock, in ns."""
    t0 = perf_counter_ns()
    theirs = client.run(perf_counter_ns, workers=[addr])[addr]  # bounded by distributed's comm timeouts
    t1 = perf_counter_ns()
    return t1 - t0, theirs - (t0 + t1) // 2
