"""Writes notebooks/00_start_here.ipynb (then execute it: see README, "Editing the lessons")."""

from nbcells import IGNORE, code, md, solution, write  # noqa: F401 - not every lesson uses all

cells = [
    md("# 00 · Start here\n\n"
       "**Goals.** By the end of this notebook you will have\n\n"
       "1. checked that this machine has everything the lessons need (each item ticked, or explained);\n"
       "2. made your first measured run and read its record;\n"
       "3. driven an *explorer*: the interactive panels every later lesson uses.\n\n"
       "Nothing here talks to the internet. Every number you see is measured on this machine, in this session."),
    code("import concurrency_lab as cl\nfrom concurrency_lab import lessons"),
    md("## 1. Is this machine ready?\n\n"
       "The check below starts a small process pool and the local HTTP server the I/O lessons use. "
       "Versions and core counts are this machine's, so your list will differ from anyone else's."),
    code("# NBVAL_IGNORE_OUTPUT\n# (versions and core counts belong to this machine)\n"
         "report = lessons.environment_check()\nreport"),
    code("print(report.verdict())"),
    md("The explorers are widgets. If a slider shows below, widgets render in your JupyterLab. "
       "If you see *Error displaying widget* instead, restart JupyterLab from `make lab`."),
    code("lessons.widget_check()"),
    md("## 2. Your first measurement\n\n"
       "`cl.run` starts a pool, runs a workload's tasks, closes the pool, and returns a **record** of every task: "
       "which worker ran it, when it was submitted, started and finished, and how much CPU it used. "
       "Here: pure-Python arithmetic (`cpu`) on 2 threads."),
    code("# NBVAL_IGNORE_OUTPUT\n# (timings vary from run to run)\n"
         "rec = cl.run(\"cpu\", backend=\"threads\", max_workers=2, tasks=4)\n"
         "rec.to_dataframe()[[\"index\", \"worker\", \"start\", \"end\", \"cpu\", \"ok\"]]"),
    code("print(f\"{len(rec.events)} tasks on {rec.max_workers} threads, all ok: {rec.ok}\")"),
    md("Times are seconds since the run started. `cpu` is the CPU time the task's own thread used. "
       "Lesson 02 asks why `cpu` adds up to about the wall time for threads, and to more than it for processes."),
    md("### Exercise\n\n"
       "Run the same workload on the **processes** backend with **2 workers** and **4 tasks**, and store the "
       "record in `rec`. The check below tells you what is right or what to look at."),
    code("rec = None  # your code here: rec = cl.run(...)\n\nlessons.check_first_run(rec)"),
    md("*Solution* (hidden; click to expand):"),
    solution("rec = cl.run(\"cpu\", backend=\"processes\", max_workers=2, tasks=4)\nlessons.check_first_run(rec)"),
    md("## 3. Driving an explorer\n\n"
       "Each explorer is a panel of controls with **Run** and **Stop**, a progress bar, a plot and a table. "
       "Runs go on in the background, so the notebook stays responsive, and **Stop** ends a run within 2 seconds "
       "without leaving any worker behind. Try it: press Run, watch the points arrive, then Stop a second run."),
    code("# NBVAL_IGNORE_OUTPUT\n# (a live panel)\nexplorer = cl.widgets.ScalingExplorer(backends=(\"threads\", \"processes\"), workers=(1, 2))\n"
         "explorer.display()"),
    md("Every explorer also has a blocking `run()` that returns its records, for scripts and for this "
       "notebook's automatic tests:"),
    code("records = explorer.run()\nprint(f\"{len(records)} runs measured: \"\n"
         "      + \", \".join(f\"{r.backend} x{r.max_workers}\" for r in records))"),
    md("## Summary\n\n"
       "- `lessons.environment_check()` told you what this machine offers: cores, GIL, start method.\n"
       "- `cl.run(...)` returns a record of every task; `record.to_dataframe()` shows it as a table.\n"
       "- Explorers run in the background with Run and Stop; `explorer.run()` does the same and waits.\n\n"
       "Next: **01 · Threads and processes**."),
]

write(cells, "notebooks/00_start_here.ipynb")
