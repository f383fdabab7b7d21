"""Writes notebooks/02_cpu_bound_and_the_gil.ipynb (then execute it: see README, "Editing the lessons")."""

from nbcells import IGNORE, code, md, solution, write  # noqa: F401 - not every lesson uses all

cells = [
    md("# 02 · CPU-bound work and the GIL\n\n"
       "**Goals.** Measure, on this machine:\n\n"
       "1. how threads and processes scale on pure-Python arithmetic;\n"
       "2. *why*: when each worker really ran, drawn from samples the task takes of its own progress;\n"
       "3. Amdahl's law fitted to your own numbers;\n"
       "4. the classic `Pool.map(square, range(10))` example, and why it loses to a loop."),
    code("import concurrency_lab as cl\nfrom concurrency_lab import analysis, lessons, plots"),
    md("## 1. Threads vs processes on CPU work\n\n"
       "The explorer runs the same total work (`cpu`, pure-Python arithmetic) with 1 and 2 workers on each "
       "backend, against a sequential baseline measured in the same sweep. Press **Run** to watch the points "
       "arrive; the cell after it measures the same thing and waits."),
    code(IGNORE + "# (a live panel)\nsize = cl.calibrate(\"cpu\", 0.05)  # one task: about 50 ms on this machine\n"
         "scaling = cl.widgets.ScalingExplorer(backends=(\"threads\", \"processes\"), workers=(1, 2), size=size, tasks=8)\n"
         "scaling.display()"),
    code(IGNORE + "# (measured speedups vary from run to run)\nrecords = scaling.run()\nanalysis.speedup(records)"),
    code("plots.speedup(records)"),
    md("Threads stay near 1×: the GIL lets one thread run Python code at a time. Processes each have their "
       "own interpreter and GIL, so with 2 cores they approach 2×, less what starting and feeding them costs."),
    md("## 2. Why: when each worker actually ran\n\n"
       "`cpu_traced` does the same arithmetic as `cpu`, and notes the time every ~0.5 ms of its own progress. "
       "A gap in those notes is time the worker was not running. Green: running; orange: waiting."),
    code(IGNORE + "# (measured)\nthreads = cl.run(cl.workloads.cpu_traced, backend=\"threads\", max_workers=2, "
         "size=300_000, tasks=4)\nintervals = analysis.gil_activity(threads)\n"
         "display(analysis.run_share(intervals)[[\"worker\", \"run\", \"wait\", \"share\"]])\nplots.activity(intervals)"),
    code(IGNORE + "# (measured)\nprocs = cl.run(cl.workloads.cpu_traced, backend=\"processes\", max_workers=2, "
         "size=300_000, tasks=4)\nintervals = analysis.gil_activity(procs)\n"
         "display(analysis.run_share(intervals)[[\"worker\", \"run\", \"wait\", \"share\"]])\nplots.activity(intervals)"),
    md("Try it yourself: the timeline explorer draws the same picture live, task by task, for any backend "
       "and number of workers."),
    code(IGNORE + "# (a live panel)\ntimeline = cl.widgets.TimelineExplorer(backend=\"threads\", workers=2)\n"
         "timeline.display()"),
    code("runs = timeline.run()\nprint(f\"{len(runs[0].events)} tasks on {runs[0].max_workers} {runs[0].backend}, "
         "all ok: {runs[0].ok}\")"),
    md("With threads the two lanes alternate, each running about half the time: they take turns holding the "
       "GIL (every `sys.getswitchinterval()` seconds, 5 ms by default). With processes both lanes are green at once."),
    md("## 3. Amdahl's law, fitted to your numbers\n\n"
       "If a fraction *s* of the work is serial, *n* workers give at most 1 / (s + (1 − s) / n). "
       "The fit finds the *s* that best explains your speedups (the interval comes from the repeats)."),
    code(IGNORE + "# (fitted to this machine's measurements)\nfit = analysis.fit_amdahl(records)\n"
         "fit[[\"backend\", \"s\", \"s_low\", \"s_high\"]]"),
    md("### Exercise\n\nWhich backend has the **larger** serial fraction on your machine? "
       "Set `answer` to `\"threads\"` or `\"processes\"`."),
    code("answer = None  # your answer here\n\nlessons.check_larger_serial_fraction(answer, fit)"),
    md("*Solution* (hidden; click to expand):"),
    solution("answer = fit.sort_values(\"s\").iloc[-1][\"backend\"]\nlessons.check_larger_serial_fraction(answer, fit)"),
    md("On a standard build it is threads, by far: the GIL lets one thread run Python code at a time, so "
       "almost all of their work is serial. If your fit says otherwise, the machine was busy: run the sweep again."),
    md("## 4. The classic example, measured\n\n"
       "Tutorials often show `with Pool(2) as p: p.map(square, range(10))` as *the* way to use processes. "
       "Here it is, with an explicit start method, against a plain loop:"),
    code(IGNORE + "# (timings)\nclassic = lessons.classic_pool_map()\nclassic"),
    code("print(\"the loop wins:\", classic.loop_wins)"),
    md("Squaring ten numbers takes microseconds; starting two processes and sending every number to them "
       "and back takes milliseconds. Processes pay off only when each task carries enough work: lesson 05's "
       "`GranularityExplorer` finds where that line falls on your machine."),
    md("## Summary\n\n"
       "- On pure-Python CPU work, threads stay near 1× (the GIL); processes scale toward the core count.\n"
       "- The activity lanes show why: threads take turns, processes run at once.\n"
       "- Amdahl's *s* summarises it: close to 1 for threads, close to 0 for processes.\n"
       "- Tiny tasks lose to a loop on any pool: the cost is in getting work to workers.\n\n"
       "Next: **03 · I/O-bound work**."),
]

write(cells, "notebooks/02_cpu_bound_and_the_gil.ipynb")
