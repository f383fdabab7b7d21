"""`python -m concurrency_lab` is the `concurrency-lab` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
