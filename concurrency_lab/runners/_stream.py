"""`Runner.stream`: a run in a background thread, its events handed over as tasks finish."""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .. import config
from ..records import RunRecord, TaskEvent

if TYPE_CHECKING:
    from ._base import Runner


class EventStream:
    """Iterate over a run's events while it runs in a background thread."""

    _ids = itertools.count()

    def __init__(self, runner: Runner, fn: Callable, items: Iterable, kwargs: dict[str, Any]) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = kwargs.pop("stop", None) or threading.Event()
        self.record: RunRecord | None = None
        self.error: BaseException | None = None
        user_cb = kwargs.pop("on_event", None)

        def on_event(ev: TaskEvent) -> None:
            if user_cb is not None:
                user_cb(ev)
            self._queue.put(ev)

        def body() -> None:
            try:
                self.record = runner.run(fn, items, on_event=on_event, stop=self._stop, **kwargs)
            except BaseException as exc:  # re-raised in the iterating thread
                self.error = exc
            finally:
                self._queue.put(_END)

        self._thread = threading.Thread(target=body, name=f"concurrency-lab-stream-{next(self._ids)}", daemon=True)
        self._thread.start()

    def __iter__(self) -> Iterator[TaskEvent]:
        try:
            while True:
                try:
                    item = self._queue.get(timeout=config.POLL_INTERVAL_S)
                except queue.Empty:
                    continue
                if item is _END:
                    break
                yield item
        except BaseException:
            self.close()
            raise
        self._thread.join(config.STARTUP_TIMEOUT_S)  # it has put _END: only its last lines are left
        if self.error is not None:
            raise self.error

    def close(self, timeout: float = 5.0) -> None:
        """Stop the run and wait (bounded) for its cleanup."""
        self._stop.set()
        self._thread.join(timeout)


_END = object()
