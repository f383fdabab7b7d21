"""Lesson 05, the opening: the small functions its plain-code cells send to spawned workers (a function
defined in a notebook cannot go to a spawn or forkserver worker, so they live here and the notebook shows
their source with `inspect.getsource`), and the checks read from what those cells measured.

- `keep_table`, `lookup`, `lookup_in`: a pool's `initializer` gives each worker the table once
  (`keep_table`), so each task sends only a key (`lookup`); without it, every task carries the table
  (`lookup_in`), and the table is pickled, piped and unpickled once per task instead of once per worker.
- `add_one_in_place`: a worker attaches to a `shared_memory` block by name and changes it in place.
- `block_exists`: whether a block of that name is still there (after `unlink()`, it must not be).
"""

from __future__ import annotations

__all__ = ["make_table", "keep_table", "lookup", "lookup_in", "add_one_in_place", "block_exists",
           "initializer_verdict"]

_table: dict[int, str] = {}
"""Each worker's own copy of the table, set once by the pool's initializer."""


def make_table(rows: int) -> dict[int, str]:
    """A lookup table of `rows` Python objects: costly to pickle, as real tables are."""
    return {n: f"row {n}" for n in range(rows)}


def keep_table(table: dict[int, str]) -> None:
    """The pool's initializer: runs once in each worker as it starts, and keeps the table there."""
    global _table
    _table = table


def lookup(key: int) -> str:
    """A task that uses the worker's own table: only the key travels."""
    return _table[key]


def lookup_in(table: dict[int, str], key: int) -> str:
    """The same task, with the table sent along every time."""
    return table[key]


def add_one_in_place(name: str, size: int) -> int:
    """Attach to the shared-memory block called `name` and add 1 to each of its first `size` bytes, in
    place: nothing but the name and the size travelled. Close it (this process's view), never unlink it:
    the process that created it unlinks it."""
    from multiprocessing import shared_memory

    block = shared_memory.SharedMemory(name=name)
    try:
        for i in range(size):
            block.buf[i] = (block.buf[i] + 1) % 256
    finally:
        block.close()
    return size


def block_exists(name: str) -> bool:
    """Whether a shared-memory block called `name` is still there, read without attaching to it where the
    OS shows the blocks as files (Linux: /dev/shm), so the check itself registers nothing."""
    import os

    if os.path.isdir("/dev/shm"):
        return os.path.exists(os.path.join("/dev/shm", name.lstrip("/")))
    from multiprocessing import shared_memory

    try:
        block = shared_memory.SharedMemory(name=name)
    except FileNotFoundError:
        return False
    block.close()
    return True


def initializer_verdict(sent_each: int, sent_once: int, each_s: float, once_s: float) -> str:
    """Checked lines for the initializer cell: bytes pickled (exact) and time (a wide margin: the table's
    trips cost far more than the pool's start-up, which both runs pay)."""
    return (f"with the initializer, under a fifth of the bytes were pickled: {sent_once * 5 < sent_each}\n"
            f"and the pool with the initializer finished first: {once_s < each_s}")
