"""Writes notebooks/01_threads_and_processes.ipynb (then execute it: see README, "Editing the lessons")."""

from nbcells import IGNORE, code, md, solution, write  # noqa: F401 - not every lesson uses all

cells = [
    md("# 01 · Threads and processes\n\n"
       "**Goals.** See for yourself:\n\n"
       "1. a **thread** runs inside your process and shares its memory; a **process** gets its own;\n"
       "2. what that costs: the memory of N threads vs N processes, measured here."),
    code("import concurrency_lab as cl\nfrom concurrency_lab import lessons"),
    md("## 1. Shared vs isolated memory\n\n"
       "`lessons.COUNTER` is an ordinary global dictionary. `mutate_global(backend)` sets it to 0, asks one "
       "worker to add one to it, and then looks at it from the notebook (the parent)."),
    code("lessons.mutate_global(\"threads\")"),
    code("lessons.mutate_global(\"processes\")"),
    md("The process did add one, to **its own copy** of the counter (it returned 1), and the notebook's "
       "copy stayed at 0. To get data back from a process you send it: as the task's return value here, or "
       "through a queue, a pipe or shared memory (lesson 06). A thread needs none of that, and that is also "
       "its danger: two threads changing the same object can step on each other (lesson 06 again)."),
    md("### Exercise\n\nA thread bumps the counter from 0 once. What value does the **parent** see afterwards? "
       "Set `answer`; the check runs the experiment and compares."),
    code("answer = None  # your answer here\n\nlessons.check_shared_memory(answer)"),
    md("*Solution* (hidden; click to expand):"),
    solution("answer = 1\nlessons.check_shared_memory(answer)"),
    md("## 2. What a worker costs in memory\n\n"
       "The explorer starts N threads and N processes, runs one task on each, and measures what they added: "
       "the growth of the notebook's own memory (threads live there), plus each worker process's *unique set "
       "size* (USS: the memory that would be freed if it exited)."),
    code(IGNORE + "# (a live panel)\nmemory = cl.widgets.MemoryExplorer()\nmemory.display()"),
    code(IGNORE + "# (measured in MiB)\nmemory.run()\nmemory.table()"),
    code("print(lessons.memory_verdict(memory.measurements))"),
    md("A thread adds a stack and a little bookkeeping to a process that already exists. A process is a whole "
       "interpreter of its own. Under `fork` and `forkserver` a new worker starts as a copy-on-write copy of "
       "another process, so its pages stay shared until they are written; under `spawn` (the default on macOS "
       "and Windows) each worker imports everything afresh. Try `MemoryExplorer(backends=(\"threads\", "
       "\"processes:spawn\"))` to measure the difference on your machine."),
    md("## 3. How a process starts: fork, forkserver, spawn\n\n"
       "A new process needs your code. There are three ways to get it there:\n\n"
       "- **fork** copies the running notebook process (Linux only, fast, but unsafe once threads are running);\n"
       "- **spawn** starts a fresh Python that imports what it needs (the only way on Windows, the default on macOS);\n"
       "- **forkserver** forks each worker from a small clean server process (the default on Linux from Python 3.14).\n\n"
       "The explorer starts a pool with each method, and also tries the classic mistake: sending a function "
       "defined in this notebook to a raw `ProcessPoolExecutor`. Our runner ships such functions by value "
       "(with cloudpickle), so they work under every method."),
    code(IGNORE + "# (a live panel)\nstarts = cl.widgets.StartMethodExplorer(workers=2)\nstarts.display()"),
    code(IGNORE + "# (start-up times vary)\nstarts.run()\nstarts.table()"),
    code("print(lessons.start_method_verdict(starts))"),
    md("Under `spawn` and `forkserver` a worker imports `__main__` afresh, and a function that exists only in "
       "the notebook's memory is not there to find: the raw pool breaks. Under `fork` the copy has it, which is "
       "why code that \"works on Linux\" fails on a Mac. Lesson 05 measures what starting and feeding "
       "processes costs."),
    md("## Summary\n\n"
       "- Threads share the parent's memory: a change in a thread is seen at once by everyone.\n"
       "- Processes are isolated: each has its own copy, and results travel back by message.\n"
       "- That isolation costs memory per worker, measured above.\n"
       "- A process starts by fork, forkserver or spawn; only fork sees what you defined in the notebook, so "
       "portable code sends functions by value or keeps them in an importable module.\n\n"
       "Next: **02 · CPU-bound work and the GIL**."),
]

write(cells, "notebooks/01_threads_and_processes.ipynb")
