"""`%%watch`, the cell magic: run a cell while `cl.watch()` samples every thread and process, then draw what
it saw. Registered by `%load_ext concurrency_lab`, or by `import concurrency_lab` inside IPython.

    %%watch threads
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(count, [10**7] * 4))

puts the `WatchRecord` in `threads` (default name: `watched`), shows the lanes and cores-busy picture,
and prints a summary with the share of the CPU other programs took meanwhile.
"""

from __future__ import annotations

from typing import Any

from IPython.core import magic_arguments
from IPython.core.magic import Magics, cell_magic, magics_class


@magics_class
class WatchMagics(Magics):
    @magic_arguments.magic_arguments()
    @magic_arguments.argument("name", nargs="?", default="watched", help="the variable the WatchRecord goes to")
    @magic_arguments.argument("--rate", type=float, default=None, help="samples a second (default: 250 on Linux)")
    @magic_arguments.argument("--backend", default=None, help="proc (Linux) or psutil (the fallback)")
    @magic_arguments.argument("--no-plot", action="store_true", help="keep the record, draw nothing")
    @cell_magic
    def watch(self, line: str, cell: str) -> None:
        """Run the cell while watching it; see `concurrency_lab.watching.watch`."""
        from .watching import watch

        args = magic_arguments.parse_argstring(self.watch, line)
        if not args.name.isidentifier():
            raise ValueError(f"name: {args.name!r} is not a Python name for the record")
        with watch(rate=args.rate, backend=args.backend, code=cell) as watching:
            self.shell.run_cell(cell, store_history=False)
        self.shell.user_ns[args.name] = record = watching.record
        if not args.no_plot:
            _show(record)
        print(record.summary())


def _show(record: Any) -> None:
    import matplotlib.pyplot as plt
    from IPython.display import display

    from . import plots

    figure = plots.watch(record)
    display(figure)
    plt.close(figure)


def register(shell: Any) -> None:
    """Make `%%watch` available in this IPython shell."""
    shell.register_magics(WatchMagics)
