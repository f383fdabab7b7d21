"""`concurrency-lab info | run | sweep | lessons | class | slides | demo` (also `python -m concurrency_lab`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from . import config


def _backend(text: str) -> str:
    """A backend name as `run`, `make_runner` and `sweep` read it ("processes:spawn" included)."""
    from .runners import parse_backend

    try:
        parse_backend(text)
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _int_list(text: str) -> list[int]:
    return [_positive_int(part) for part in text.split(",") if part.strip()]


def _size(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text  # e.g. crash's "exit"


def build_parser() -> argparse.ArgumentParser:
    from .runners import RUNNERS
    from .workloads import WORKLOADS

    parser = argparse.ArgumentParser(prog="concurrency-lab", description=__doc__)
    parser.add_argument("--small", action="store_true", help="small, fast mode (CI); also CONCURRENCY_LAB_SMALL=1")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("info", help="cores, affinity, Python, GIL, start methods, package versions")

    run = sub.add_parser("run", help="one measured run, with a summary table")
    run.add_argument("--backend", type=_backend, default="threads",
                     help=f"{', '.join(RUNNERS)}; processes may name its start method: processes:spawn")
    run.add_argument("--workers", type=_positive_int, default=2, help=f"max_workers, 1 to {config.MAX_WORKERS_CAP}")
    run.add_argument("--workload", choices=list(WORKLOADS), default="cpu")
    run.add_argument("--tasks", type=_positive_int, default=8)
    run.add_argument("--size", type=_size, default=None, help="the workload's size (default: its own)")
    run.add_argument("--start-method", choices=list(config.START_METHODS), default=None)
    run.add_argument("--timeout", type=float, default=None, help="seconds for the whole run")
    run.add_argument("--task-timeout", type=float, default=None, help="seconds one task may run")

    sw = sub.add_parser("sweep", help="backends x workers x workloads with repeats, CSV out")
    sw.add_argument("--backends", default="threads,processes",
                    help="comma-separated; processes:fork / processes:forkserver / processes:spawn pick a start method")
    sw.add_argument("--workers", type=_int_list, default=None, help="comma-separated worker counts, e.g. 1,2,4")
    sw.add_argument("--workloads", default="cpu", help=f"comma-separated, from: {', '.join(WORKLOADS)}")
    sw.add_argument("--repeats", type=_positive_int, default=None)
    sw.add_argument("--tasks", type=_positive_int, default=None)
    sw.add_argument("--mode", choices=["fixed", "per_worker"], default="fixed")
    sw.add_argument("--task-seconds", type=float, default=None, help="calibrate each task to about this long")
    sw.add_argument("--out", default="sweep.csv", help="records file (.csv or .jsonl)")
    sw.add_argument("--describe", action="store_true",
                    help="also write OUT's .machine.json (cores, CPU, Python, command): a recording to replay")

    ls = sub.add_parser("lessons", help="copy the lessons, with their outputs, out of the installed package")
    ls.add_argument("dir", nargs="?", default=None, help="where to (default: ./concurrency-lab-lessons)")
    ls.add_argument("--force", action="store_true", help="also overwrite lessons you edited there")

    cls = sub.add_parser("class", help="a class's recordings (every sweep ... --describe in DIR) on one speedup plot")
    cls.add_argument("dir", help="folder of recordings: NAME.jsonl beside NAME.machine.json (subfolders too)")
    cls.add_argument("--out", default="class.png", help="where to write the plot (.png, .svg or .pdf)")

    sl = sub.add_parser("slides", help="a lesson as one HTML file of slides that needs no network")
    sl.add_argument("lesson", help="a lesson's number (02) or an executed .ipynb")
    sl.add_argument("--out", default=None, help="where to write it (default: NN_topic.slides.html here)")

    dm = sub.add_parser("demo", help="the explorers of a lesson (or all) on a page with no code, served by Voila")
    dm.add_argument("lesson", nargs="?", default="all", help="a lesson's number, e.g. 02 (default: all)")
    dm.add_argument("--port", type=_positive_int, default=8866)
    dm.add_argument("--token", default=None, help="the page's token (default: a new random one, printed)")
    dm.add_argument("--no-browser", action="store_true", help="do not open a browser")
    dm.add_argument("--large", action="store_true", help="every panel's large text on, for a projector")
    return parser


def cmd_info(args: argparse.Namespace) -> int:
    from .info import system_info

    info = system_info()
    packages = info.pop("packages")
    width = max(map(len, info))
    for key, value in info.items():
        print(f"{key:<{width}}  {value}")
    print("packages:")
    for name, version in packages.items():
        print(f"  {name:<{width - 2}}  {version}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .api import run

    size = args.size
    if size is None and args.small and args.workload == "cpu":
        size = 20_000
    rec = run(args.workload, backend=args.backend, max_workers=args.workers, tasks=args.tasks, size=size,
              start_method=args.start_method, timeout=args.timeout, task_timeout=args.task_timeout)
    _print_table([rec.summary()], ["backend", "max_workers", "start_method", "workload", "tasks", "failed",
                                   "wall", "startup", "cpu_time", "dispatch", "compute", "collection"])
    for ev in rec.failures[:3]:
        print(f"task {ev.index} failed: {ev.error.strip().splitlines()[-1] if ev.error else '?'}")
    return 0 if rec.ok else 1


def cmd_sweep(args: argparse.Namespace) -> int:
    from .calibration import calibrate
    from .experiments import iter_sweep, plan
    from .recordfiles import check_records_path, save_records

    check_records_path(args.out)  # a bad suffix is refused before a single run
    small = args.small
    workers = args.workers or ([1, 2] if small else sorted({1, 2, 4, config_cores()}))
    repeats = args.repeats or (1 if small else 3)
    tasks = args.tasks or (4 if small else 8)
    names = [w.strip() for w in args.workloads.split(",") if w.strip()]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    points = plan(backends, workers, names, repeats=repeats, tasks=tasks, mode=args.mode)
    seconds = args.task_seconds or (0.01 if small else 0.1)
    sizes = {name: calibrate(name, seconds) for name in names if name not in ("io_http",)}
    records = []
    try:
        for i, rec in enumerate(iter_sweep(points, sizes), 1):
            records.append(rec)
            _progress(i, len(points), rec)
    finally:
        from .runners.processes import stop_forkserver

        stop_forkserver()  # its workers' CPU then counts as this sweep's, not as other programs'
    print(file=sys.stderr)
    path = save_records(records, args.out)
    if args.describe:
        from .replay import write_machine_file

        print(f"described the machine in {write_machine_file(path, args.argv)}")
    _print_table([r.summary() for r in records], ["backend", "start_method", "max_workers", "workload", "tasks",
                                                  "wall", "startup"])
    print(f"wrote {len(records)} runs to {path}")
    return 0


def cmd_lessons(args: argparse.Namespace) -> int:
    import shlex

    from .lessonfiles import DEFAULT_DEST, EditedLessons, copy_lessons

    dest = args.dir or DEFAULT_DEST
    try:
        done = copy_lessons(dest, force=args.force)
    except EditedLessons as exc:
        print(f"{exc.dest} holds lessons you edited; nothing was copied:", file=sys.stderr)
        for name in exc.files:
            print(f"  {name}", file=sys.stderr)
        print("Keep your work: move or rename those files, or overwrite them with "
              f"`concurrency-lab lessons {shlex.quote(dest)} --force`.", file=sys.stderr)
        return 1
    except OSError as exc:  # DIR is a file, a folder we may not write, or this install has no lessons
        print(f"concurrency-lab lessons: {exc}", file=sys.stderr)
        return 1
    for label, names in (("new", done.new), ("updated", done.refreshed), ("overwritten", done.overwritten)):
        for name in names:
            print(f"  {label:<11}  {name}")
    print(f"copied {len(done.written)} lesson file(s) from {done.source} to {done.dest}"
          f" ({len(done.current)} already up to date)")
    print(f"next: jupyter lab {shlex.quote(dest)}")
    return 0


def cmd_class(args: argparse.Namespace) -> int:
    from .classroom import gather, machines, speedups

    found, skipped = gather(args.dir)
    if found:
        _print_table(machines(found, args.dir), ["file", "cores", "python", "platform", "recorded_at", "runs"])
    for path, reason in skipped:
        print(f"skipped {path}: {reason}")
    if not found:
        print(f"no recording to plot in {args.dir} (a learner records one with `concurrency-lab sweep ... --describe`)")
        return 1
    import matplotlib.pyplot as plt

    from .plots import class_speedup

    fig = class_speedup(speedups(found))
    fig.savefig(args.out, dpi=100)
    plt.close(fig)
    print(f"plotted {len(found)} recording(s), skipped {len(skipped)}: wrote {args.out}")
    return 0


def cmd_slides(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .lessonfiles import lessons_source
    from .slides import export_deck

    path = Path(args.lesson)
    if not path.suffix:  # a number: the lesson of that number in this install
        found = sorted(lessons_source().glob(f"{args.lesson.zfill(2)}_*.ipynb"))
        if not found:
            raise ValueError(f"no lesson {args.lesson!r} in {lessons_source()}")
        path = found[0]
    out = export_deck(path, args.out or Path.cwd() / (path.stem + ".slides.html"))
    print(f"wrote {out}: open it in a browser; arrow keys or a click move through it")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import serve

    return serve(args.lesson, port=args.port, token=args.token, open_browser=not args.no_browser, large=args.large)


def config_cores() -> int:
    from .info import usable_cores

    return usable_cores()


def _progress(done: int, total: int, rec: Any) -> None:
    width = 30
    filled = width * done // total
    label = f"{rec.backend}{':' + rec.start_method if rec.start_method else ''} x{rec.max_workers} {rec.workload}"
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label:<40}", end="", file=sys.stderr, flush=True)


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    cells = [[_fmt(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = ["concurrency-lab", *(sys.argv[1:] if argv is None else argv)]  # what a recording says made it
    if args.small:
        config.SMALL = True
    handlers = {"info": cmd_info, "run": cmd_run, "sweep": cmd_sweep, "lessons": cmd_lessons, "class": cmd_class,
                "slides": cmd_slides, "demo": cmd_demo}
    try:
        return handlers[args.command](args)
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))  # exits with status 2 and the message
    except KeyboardInterrupt:
        print("\ninterrupted: workers stopped", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
