"""Lesson 02, part 2: the tutorial's `Pool.map(square, range(10))` script as tutorials write it, run as a
learner runs a `.py` file, under each start method.

Why a child Python: the `if __name__ == "__main__":` guard only means something in a script. Under spawn
and forkserver each worker imports the script again, as `__mp_main__`; code outside the guard runs again in
every worker, and a worker that tries to start a pool of its own stops with multiprocessing's "bootstrapping
phase" `RuntimeError`. The pool then starts a new worker in its place, which fails the same way, so the
script never ends: a timeout must end it. A notebook cannot show this in its own kernel (it has no
importable `__main__`), so each script runs in a child Python with a timeout, its process group killed at
the end (`children.run_child`).

The script is shown and run exactly as written. The one thing added, outside it, is the start method: a
launcher sets it, then runs the file as `__main__` (`runpy.run_path`), as `python script.py` would.
"""

from __future__ import annotations

import multiprocessing
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..children import ChildResult, python, run_child

__all__ = ['SEED_SCRIPT', 'GUARDS', 'SeedRun', 'SeedRuns', 'seed_pool_map']

#: The tutorial's script; `{guard}` is the line each version puts before the pool.
SEED_SCRIPT = '''\
from multiprocessing import Pool

def square(x):
    return x * x

{guard}
    with Pool(2) as p:
        print(p.map(square, range(10)))
'''

#: The three versions: as the tutorial wrote its guard, with no guard at all, and with the real guard.
GUARDS = {"as written": "if __:", "no guard": "if True:", "fixed": 'if __name__ == "__main__":'}

#: Sets the start method, then runs the script as `__main__`, with its own file name (spawn needs it).
LAUNCHER = ("import multiprocessing, runpy, sys; multiprocessing.set_start_method(sys.argv[1]); "
            "runpy.run_path(sys.argv[2], run_name='__main__')")

#: A script that works ends in well under a second; this bound is for a very busy machine.
TIMEOUT_S = 30.0
#: The unguarded script under spawn or forkserver never ends (its pool replaces each failing worker for
#: ever), so it gets only this long before it is killed; enough to see the errors repeat.
HANG_S = 3.0

SQUARES = str([x * x for x in range(10)])
BOOTSTRAP = "bootstrapping phase"


@dataclass(frozen=True)
class SeedRun:
    """One version of the script under one start method: what it did."""

    version: str
    start_method: str
    result: ChildResult

    @property
    def squares(self) -> bool:
        return SQUARES in self.result.stdout

    @property
    def bootstrap_errors(self) -> int:
        return self.result.stdout.count(BOOTSTRAP)

    def outcome(self) -> str:
        out = self.result.stdout
        if self.squares and self.result.ok:
            return f"printed {SQUARES}"
        if "NameError" in out:
            return next(ln.strip() for ln in out.splitlines() if ln.startswith("NameError"))
        if self.result.timed_out:
            errors = (f"RuntimeError ({BOOTSTRAP}) {self.bootstrap_errors} time(s) in its workers; "
                      if self.bootstrap_errors else "")
            return f"{errors}not ended after {HANG_S:g} s: killed by our timeout"
        return f"exit status {self.result.returncode}: {out.strip().splitlines()[-1] if out.strip() else ''}"


@dataclass(frozen=True)
class SeedRuns:
    runs: tuple[SeedRun, ...]

    def methods(self) -> list[str]:
        return list(dict.fromkeys(r.start_method for r in self.runs))

    def of(self, version: str) -> list[SeedRun]:
        return [r for r in self.runs if r.version == version]

    def __repr__(self) -> str:
        return "\n".join(f"{r.version:>10}, {r.start_method:>10}: {r.outcome()}" for r in self.runs)

    def verdict(self) -> str:
        """What holds on every machine: the versions' outcomes, not their times."""
        spawned = [r for r in self.of("no guard") if r.start_method != "fork"]
        methods = ", ".join(r.start_method for r in spawned)
        return "\n".join([
            "as written, `if __:` stops with a NameError under every start method: "
            f"{all('NameError' in r.outcome() for r in self.of('as written'))}",
            f"with no guard, under {methods}: the squares did not come back before our timeout: "
            f"{all(not r.squares for r in spawned)}",
            f"with `if __name__ == \"__main__\":`, every start method printed the squares: "
            f"{all(r.squares and r.result.ok for r in self.of('fixed'))}"])


def _run(version: str, method: str, folder: Path) -> SeedRun:
    path = folder / f"squares_{version.replace(' ', '_')}.py"
    path.write_text(SEED_SCRIPT.format(guard=GUARDS[version]), encoding="utf-8")
    timeout = HANG_S if version == "no guard" and method != "fork" else TIMEOUT_S
    result = run_child(python("-c", LAUNCHER, method, str(path)), timeout=timeout, cwd=str(folder),
                       merge_stderr=True)
    return SeedRun(version, method, result)


def seed_pool_map(methods: tuple[str, ...] = ("fork", "forkserver", "spawn")) -> SeedRuns:
    """Each version of the script under each start method this system has (HANG_S each for the ones
    that cannot end)."""
    available = [m for m in methods if m in multiprocessing.get_all_start_methods()]
    with tempfile.TemporaryDirectory(prefix="concurrency-lab-seed-") as folder:
        return SeedRuns(tuple(_run(v, m, Path(folder)) for v in GUARDS for m in available))
