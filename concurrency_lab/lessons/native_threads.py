"""Lesson 04, the opening: plain `ThreadPoolExecutor` code, watched, hashing big buffers (hashlib lets go of
the GIL) and summing bytes in pure Python (which cannot), and the checked lines read from the two watches.

What a watch can check on every machine: threads running pure Python keep at most about one core busy
between them, busy machine or not (the GIL lets one run at a time). Threads that let go of the GIL *can*
keep more than one core busy, but only when other programs leave them a core: on a 2-core laptop where two
other programs are busy, two hashing threads get about one core between them, like threads that take turns.
So that line is checked only when the load measured during the watch left our threads `FREE_CORES` cores,
and says so.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TAKE_TURNS_AT", "OVERLAP_AT", "FREE_CORES", "cores_left", "hashing_verdict"]

#: Threads taking turns at the GIL keep at most about 1 core busy (the sampler's edges add a little).
TAKE_TURNS_AT = 1.1
#: Threads that ran at once, with `FREE_CORES` cores to run on, keep more than this many busy.
OVERLAP_AT = 1.2
#: How many cores other programs must leave for the overlap line to be checked.
FREE_CORES = 1.5


def cores_left(record: Any) -> float:
    """The cores other programs (and a VM's host) left to the watched code, on average over the watch."""
    load = record.load
    return load.cores * max(0.0, 1.0 - load.others_share - load.host_share)


def hashing_verdict(hashing: Any, counting: Any) -> str:
    """Checked lines from two watches of the same pool: hashing (the GIL let go) and pure Python (kept).
    The first holds everywhere; the second is checked only where the load left `FREE_CORES` cores free
    (elsewhere a core was not free to show it, and it prints True without a claim to contradict)."""
    turns = counting.parallelism <= TAKE_TURNS_AT
    free = cores_left(hashing) >= FREE_CORES
    overlapped = hashing.parallelism > OVERLAP_AT if free else True
    return (f"pure Python: the threads kept at most about 1 core busy between them: {turns}\n"
            f"hashing: where other programs left {FREE_CORES:g} cores free, the threads kept over {OVERLAP_AT:g} "
            f"cores busy: {overlapped}")
