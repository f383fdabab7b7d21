"""Writes notebooks/09_choosing_a_model.ipynb (then execute it: see README, "Editing the lessons")."""

from nbcells import IGNORE, code, md, solution, write  # noqa: F401 - not every lesson uses all

GUIDE = """```text
What does the work mostly do?
│
├─ WAIT (network, disk, sleep, a database) ............................ lessons 03, 08
│    ├─ thousands of waits at once, and an async library exists? ──▶ asyncio
│    └─ otherwise (blocking libraries, tens to hundreds of waits) ──▶ threads
│
├─ COMPUTE ............................................................ lessons 02, 04, 05
│    ├─ in native code that releases the GIL (numpy, hashlib, zlib)? ──▶ threads
│    └─ in pure Python?                                             ──▶ processes
│         └─ each task worth more than its pickling and dispatch (lesson 05)? if not: bigger chunks
│
└─ BOTH, one after the other ──▶ a pipeline: threads for the waits, processes for the computing (lesson 08)

Then adjust:
  • the work may crash hard (C extensions, untrusted input)? ──▶ processes (lesson 07)
  • workers must share large state cheaply and often?        ──▶ threads, with locks (lesson 06)
  • memory is tight, or start-up must be instant?            ──▶ threads, or few long-lived processes
```"""

cells = [
    md("# 09 · Choosing a model\n\n"
       "Every tutorial on threads and processes ends with the same table: threads are light, share memory and "
       "suit I/O; processes are heavy, isolated, robust and suit CPU work. We have measured each claim in its "
       "own lesson. Here we measure **all of them at once, on this machine**, and turn the result into a "
       "decision guide.\n\n"
       "**Goals.**\n\n"
       "1. re-measure the whole comparison table in one cell, with a verdict per row;\n"
       "2. read which verdicts hold everywhere and which depend on your machine;\n"
       "3. use a decision guide to pick threads, processes or asyncio for a job."),
    code("import concurrency_lab as cl\nfrom concurrency_lab import lessons"),
    md("## 1. The table, measured here\n\n"
       "`compare_models()` measures six rows, each for threads and for processes:\n\n"
       "- **memory per worker**: start 2 workers, and measure what they add (the notebook's growth for threads, "
       "the workers' unique memory for processes), as in lesson 01;\n"
       "- **round trip, 8 MiB**: send 8 MiB to a warm worker and get it back; the fastest of 3 tries;\n"
       "- **a global changed in a worker**: a worker adds one to a global; does the notebook see it? (lesson 01);\n"
       "- **CPU-bound, 2 workers**: 4 tasks of pure-Python arithmetic, speedup over sequential (best of 3), and "
       "the most cores the tasks kept busy at once: their CPU seconds over the wall seconds (lessons 02 and 04);\n"
       "- **I/O-bound, 4 workers**: 8 sleeps of 50 ms, speedup over sequential (lesson 03);\n"
       "- **a crashing task**: one task of four raises an exception; then one kills its worker outright with "
       "`os._exit` (a stand-in for a segfault in a C extension). The thread version of the hard crash runs in a "
       "child Python, so the notebook is not the process that dies (lesson 07).\n\n"
       "Every pool is closed and every wait has a timeout; it takes a few seconds."),
    code(IGNORE + "# (measured on this machine)\ntable = lessons.compare_models()\ntable"),
    md("The numbers above are yours and will differ from anyone else's. The verdicts below are the ones that "
       "hold on any machine with a GIL, from a busy 2-core laptop to a 16-core workstation, so they are "
       "checked every time this notebook runs:"),
    code("print(table.verdicts())"),
    md("Reading the table honestly:\n\n"
       "- **Memory and communication** are two sides of one fact. A thread lives inside your process: it costs "
       "a stack, and it receives a *reference* to your 8 MiB, not a copy. A process is a whole interpreter, and "
       "everything it gets is pickled, piped and unpickled, both ways.\n"
       "- **Isolation** is the same fact again, now as a safety feature: a worker process cannot corrupt your "
       "globals, and a thread can (lesson 06 shows what that costs when two threads write at once).\n"
       "- **CPU-bound**: threads stay near 1× on pure Python, because the GIL lets one of them run at a time: "
       "they keep about one core busy, however many there are. That count is what the checked verdict reads, "
       "not the speedup: a busy spell that slows every sequential try can push a speedup up, but it cannot "
       "make threads use more cores than the GIL allows. "
       "What processes reach depends on free cores: at most one × per worker with a core to itself, less when "
       "the machine is busy, and no gain at all on one core. Your row says what this machine gave. Native code that "
       "releases the GIL is the exception: there threads scale too (lesson 04).\n"
       "- **I/O-bound**: both scale, because a waiting thread does not hold the GIL. Threads get there for a "
       "fraction of the memory and start-up.\n"
       "- **A crashing task**: an *exception* is caught and recorded on both; neither takes the run down. A "
       "*hard* crash is different: a thread's takes its whole process with it, while a worker process's leaves "
       "the parent standing (the pool breaks, and its unfinished tasks fail with it)."),
    md("## 2. A decision guide\n\n"
       "Start from what the work spends its time doing, then adjust for memory, sharing and crashes:\n\n"
       + GUIDE + "\n\n"
       "asyncio is not in the table because it is not a kind of worker: it is one thread that switches between "
       "waits at every `await`. Lesson 03 measured it next to threads: just as good at waiting, able to hold "
       "far more waits at once, but only with libraries written for it. A blocking call inside a coroutine "
       "stops every other coroutine until it returns."),
    md("### Exercise\n\nPick `\"threads\"`, `\"processes\"` or `\"asyncio\"` for each of these jobs:"),
    code("print(lessons.describe_scenarios())"),
    code("answer = {\"photos\": None, \"chat\": None, \"api\": None}  # your choices here\n\n"
         "lessons.check_scenarios(answer)"),
    md("*Solution* (hidden; click to expand):"),
    solution("answer = {\"photos\": \"processes\", \"chat\": \"asyncio\", \"api\": \"threads\"}\n"
             "lessons.check_scenarios(answer)"),
    md("## Summary\n\n"
       "- The classic table is mostly right, and now you have measured it: threads are cheaper in memory and "
       "in communication; processes are isolated, survive a worker's hard crash, and scale pure-Python work "
       "with free cores.\n"
       "- Two rows need care: threads *do* scale on native code that releases the GIL, and processes scale "
       "CPU work only as far as your free cores allow.\n"
       "- Choose by what the work does: waiting → threads (or asyncio for very many waits); pure-Python "
       "computing → processes; both → a pipeline.\n\n"
       "Next: **10 · Beyond one machine and beyond the GIL**."),
]

write(cells, "notebooks/09_choosing_a_model.ipynb")
