"""Root conftest: the test run (unit tests and notebooks alike) uses the small, fast mode."""

import os

os.environ.setdefault("CONCURRENCY_LAB_SMALL", "1")  # before concurrency_lab.config reads it; nbval kernels inherit it
