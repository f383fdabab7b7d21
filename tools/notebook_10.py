"""Writes notebooks/10_beyond.ipynb (then execute it: see README, "Editing the lessons")."""

from nbcells import IGNORE, code, md, solution, write  # noqa: F401 - not every lesson uses all

cells = [
    md("# 10 · Beyond one machine and beyond the GIL\n\n"
       "Everything so far ran on one machine, in one standard CPython, with threads held back by the GIL. "
       "What comes next?\n\n"
       "**Goals.** See, measured where it can be and explained where it cannot:\n\n"
       "1. start methods, and the default Python 3.14 changed;\n"
       "2. other Pythons side by side, including *free-threaded* builds, where the GIL is gone;\n"
       "3. subinterpreters: many interpreters in one process (Python 3.14);\n"
       "4. Dask: the same tasks on a cluster scheduler, and what its scheduling costs;\n"
       "5. a curve from a bigger machine, replayed next to yours."),
    code("import concurrency_lab as cl\nfrom concurrency_lab import lessons, plots"),

    md("## 1. Start methods, and the 3.14 default\n\n"
       "Lesson 01 met the three ways to start a process. Until Python 3.13, Linux used **fork** unless told "
       "otherwise. Python 3.14 made **forkserver** the default there (see *What's New in Python 3.14*): forking a "
       "process that runs threads can copy a lock that some thread holds, and the child then waits for it "
       "forever. macOS has defaulted to **spawn** since 3.8, and Windows has only spawn.\n\n"
       "concurrency-lab always names its start method, and defaults to what 3.14 does, on every version:"),
    code(IGNORE + "# (depends on this Python and platform)\n"
         "print(\"this Python's own default:\", lessons.python_default_start_method())\n"
         "print(\"concurrency-lab's default: \", cl.config.default_start_method())"),
    md("What each costs to start, measured here (a pool of 2, until both workers answer):"),
    code(IGNORE + "# (timings)\nstartup = lessons.startup_by_method()\nstartup"),
    code("print(\"fastest to start:\", startup.fastest)"),
    md("fork copies a running process, so it starts fastest, and that copy is also its danger. forkserver "
       "and spawn pay for a fresh interpreter (forkserver once, for its server, then a quick fork per worker)."),
    md("### Exercise\n\nWhich start method does Python 3.14 use by default on each platform? Set `answer` to a "
       "dict with the keys `\"linux\"`, `\"macos\"` and `\"windows\"`."),
    code("answer = None  # e.g. {\"linux\": ..., \"macos\": ..., \"windows\": ...}\n\n"
         "lessons.check_default_start_methods(answer)"),
    md("*Solution* (hidden; click to expand):"),
    solution("answer = {\"linux\": \"forkserver\", \"macos\": \"spawn\", \"windows\": \"spawn\"}\n"
             "lessons.check_default_start_methods(answer)"),

    md("## 2. Other Pythons, and the free-threaded build\n\n"
       "Since Python 3.13 CPython comes in a second build, *free-threaded* (`python3.13t`, `python3.14t`; "
       "PEP 703), where the GIL is gone and threads run Python code on several cores at once. Other versions "
       "differ too. `cl.interpreters` finds the Pythons on this machine (on PATH, in pyenv and uv, and project "
       "venvs named `.venv-py3.X`), and runs a sweep in any of them as a child process that writes its records "
       "back, so both land on one plot, each labelled with its version and GIL status."),
    code(IGNORE + "# (what is installed differs per machine)\nfound = cl.interpreters.find_interpreters()\n"
         "print(cl.interpreters.explain(found))"),
    md("The same small CPU sweep (threads and processes with 1 and 2 workers, each against that Python's own "
       "sequential run) in this Python and in up to two others. With no other Python ready, this draws "
       "nothing rather than anything made up; the text above says how to get one."),
    code(IGNORE + "# (measured in each Python; a few seconds each)\nacross = lessons.compare_interpreters(found)\n"
         "if across:\n    table = lessons.interpreter_speedups(across)\n    display(table)\n"
         "    plots.by_interpreter(table)\nelse:\n    print(\"no other Python ready to compare: see above\")"),
    md("In every Python with the GIL on, threads stay near 1× on this pure-Python work, whatever the version, "
       "while processes scale with free cores. In a free-threaded build (GIL off) the threads bars climb too. "
       "The price today (PEP 703 and the 3.13/3.14 release notes): single-threaded code runs somewhat slower, "
       "and a C extension not yet marked as safe turns the GIL back on when it is imported, which "
       "`find_interpreters` reports as \"GIL on\"."),

    md("## 3. Subinterpreters\n\n"
       "Python 3.14 added `concurrent.futures.InterpreterPoolExecutor` (PEP 734): several interpreters in "
       "**one process**, each with its own GIL. They run Python code in parallel like processes, and start "
       "faster, but share nothing by default. concurrency-lab has an `interpreters` backend over it:"),
    code(IGNORE + "# (depends on this Python's version)\nprint(lessons.subinterpreters_status())"),
    md("Its limits, in short (and in `cl.InterpreterRunner`'s docstring):\n\n"
       "- a task must be importable: a function defined in `__main__` (this notebook) cannot be used;\n"
       "- arguments and results are pickled between interpreters, as with processes;\n"
       "- objects such as numpy arrays are not shared; each interpreter has its own;\n"
       "- a C extension must declare that it supports subinterpreters, or it will not import there.\n\n"
       "On 3.14 try `cl.run(\"cpu\", backend=\"interpreters\", max_workers=2, tasks=8)`; from an older Python, "
       "`cl.interpreters.sweep_in(\"python3.14\", backends=[\"interpreters\"])` runs it in a 3.14 you have."),

    md("## 4. Dask: the same tasks, on a cluster scheduler\n\n"
       "A cluster engine takes the same tasks across machines. `backend=\"dask\"` runs them on a Dask "
       "`LocalCluster` of worker processes on 127.0.0.1 (or on a real cluster, given its scheduler address: "
       "`cl.make_runner(\"dask\", address=\"tcp://host:8786\")`), and records every task like the other "
       "backends. The same CPU tasks on local processes and on Dask, each against sequential:"),
    code(IGNORE + "# (timings)\ndask = lessons.dask_vs_processes()\ndask"),
    code("print(\"same results from both:\", dask.same_results)"),
    md("Read the `startup_s` and `trip_ms_per_task` columns: a cluster costs more to start (a scheduler, "
       "workers, connections), and every task passes through the scheduler on its way to a worker and back. "
       "On one laptop that is pure overhead. It pays off when there are more cores on other machines than on "
       "yours, and when each task carries enough work to hide the trip: the same rule as lesson 05, one "
       "level up."),

    md("## 5. A bigger machine, replayed\n\n"
       "A 2-core laptop cannot draw a 16-core curve. Recordings made with the CLI on another machine "
       "ship in `concurrency_lab/recorded/`, each with a description of where it was measured. The explorer "
       "draws the recorded curves next to your live ones, hollow and thin, always labelled *recorded on ...*."),
    code(IGNORE + "# (what is recorded, and where)\ncl.replay.recordings()"),
    code(IGNORE + "# (a live panel)\nscaling = cl.widgets.ScalingExplorer(replay=\"default\", workers=(1, 2))\n"
         "scaling.display()"),
    code(IGNORE + "# (your numbers beside the recorded ones)\nscaling.run()\nplots.speedup(scaling.records, "
         "recorded=scaling.recorded());"),
    code("print(scaling.settings.replay.label.split(\",\")[0])"),
    md("To record your own on a big machine (an instructor before class, say), run\n\n"
       "```bash\nconcurrency-lab sweep --backends threads,processes --workers 1,2,4,8,16 --workloads cpu "
       "--repeats 3 --out recorded/my-16-cores.jsonl --describe\n```\n\n"
       "and pass `replay=\"recorded/my-16-cores.jsonl\"` to the explorer."),

    md("## Summary\n\n"
       "- Name your start method. From 3.14, Linux defaults to forkserver, not fork; macOS and Windows spawn.\n"
       "- Free-threaded Python (3.13t, 3.14t) removes the GIL: threads then scale on CPU work. Other builds "
       "and versions can be measured side by side with `cl.interpreters`.\n"
       "- Subinterpreters (3.14) run in parallel inside one process, sharing nothing by default.\n"
       "- Dask takes the same tasks to a cluster, for a start-up and a per-task scheduling cost, measured above.\n"
       "- Curves from bigger machines replay beside yours, always labelled with where they were recorded.\n\n"
       "That is the end of the series: back to **09 · Choosing a model** for the decision guide."),
]

write(cells, "notebooks/10_beyond.ipynb")
