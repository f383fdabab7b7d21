"""Root conftest: the test run (unit tests and notebooks alike) uses the small, fast mode, and has Python's
own Ctrl-C handler."""

import os
import signal

os.environ.setdefault("CONCURRENCY_LAB_SMALL", "1")  # before concurrency_lab.config reads it; nbval kernels inherit it

# A POSIX shell starts a background job (`cmd &` without job control) with SIGINT ignored, and a Python
# started with SIGINT ignored installs no KeyboardInterrupt handler. A suite launched that way (seen: CI
# started as `nohup bash -c '.ci/run' &`) failed every Ctrl-C test, its children inheriting the same
# deafness. A learner's kernel and a terminal's Python always have the handler, so the tests get it too;
# children started after this get SIGINT's default, as from any terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
