"""Writes notebooks/08_mixed_workloads.ipynb (then execute it: see README, "Editing the lessons")."""

from nbcells import IGNORE, code, md, solution, write  # noqa: F401 - not every lesson uses all

cells = [
    md("# 08 · Mixed workloads\n\n"
       "Real programs rarely do one kind of work. A crawler waits for pages, then parses them; a thumbnailer "
       "waits for files, then resizes them. The waiting wants threads, the computing wants processes.\n\n"
       "**Goals.** Measure, on this machine:\n\n"
       "1. a two-stage **pipeline**: threads fetch, and each response goes to a process pool as it arrives;\n"
       "2. the same job done by one pool for everything (threads alone, processes alone) and one item at a time;\n"
       "3. the **convoy effect**: I/O that runs next to CPU-bound *threads* waits for the GIL, and next to "
       "CPU-bound *processes* it does not."),
    code("import concurrency_lab as cl\nfrom concurrency_lab import lessons, plots"),
    md("## 1. The pipeline, in plain stdlib code\n\n"
       "Eight items. Each is a GET to the local server, which answers after 100 ms, followed by some "
       "pure-Python arithmetic on what came back. Four threads do the fetching; `as_completed` hands each "
       "response to a pool of two processes **the moment it arrives**, so the first results are being "
       "computed while later fetches still wait. The tasks are the library's `io_http` and `cpu` workloads: "
       "module-level functions, so a worker process can import them under any start method."),
    code("import functools, multiprocessing\n"
         "from concurrent.futures import ThreadPoolExecutor, ProcessPoolExecutor, as_completed\n\n"
         "ctx = multiprocessing.get_context(cl.config.default_start_method())  # always explicit\n"
         "with cl.LocalHTTPServer(latency=0.1) as server:\n"
         "    fetch = functools.partial(cl.workloads.io_http, url=server.url)\n"
         "    with ThreadPoolExecutor(4) as fetchers, ProcessPoolExecutor(2, mp_context=ctx) as workers:\n"
         "        fetches = [fetchers.submit(fetch, 1024) for _ in range(8)]\n"
         "        computes = [workers.submit(cl.workloads.cpu, 50 * f.result()) "
         "for f in as_completed(fetches, timeout=60)]\n"
         "        results = [c.result(timeout=60) for c in computes]\n"
         "print(len(results), \"items fetched by threads and computed in processes\")"),
    md("Every wait has a timeout, and both pools close at the end of the `with` block, even on an error."),
    md("## 2. Four ways to do the same job, measured\n\n"
       "`compare_mixed` runs the job (each item: a 100 ms wait, then about 30 ms of arithmetic):\n\n"
       "- **sequential**: fetch, compute, next item;\n"
       "- **threads alone**: 4 threads, each task fetches *and* computes;\n"
       "- **processes alone**: 2 processes, each task fetches *and* computes;\n"
       "- **pipeline**: the code above, with every task timed.\n\n"
       "Every pool is started and warm before its clock starts, so this compares running, not starting "
       "(lesson 02 measured start-up). Each row is the best of 2 runs (sequential: 1), so a moment of load "
       "elsewhere on the machine does not decide it. The worker counts are fixed, so a laptop and a "
       "workstation compare."),
    code(IGNORE + "# (timings)\nmixed = lessons.compare_mixed()\nmixed"),
    code("print(mixed.verdict())"),
    md("Where the pipeline's time went: one lane per worker, fetch threads (`io…`) and CPU processes (`cpu…`). "
       "The CPU lanes fill up while the second wave of fetches is still waiting."),
    code(IGNORE + "# (measured)\nplots.timeline(mixed.pipeline_record)"),
    md("How to read the table:\n\n"
       "- **Processes alone** can wait too, but only as many fetches at a time as there are processes; "
       "sized for the CPU work (2), they leave most of the waiting unoverlapped. Giving them one process per "
       "fetch would work, at a whole interpreter per waiting fetch (lesson 01's memory).\n"
       "- **Threads alone** overlap all the waits, but their arithmetic takes turns on one GIL. With two free "
       "cores the pipeline beats them, because its CPU steps run on two cores at once; on a busy machine or a "
       "single core that advantage shrinks, so it is not among the checked lines above. Read your own numbers.\n"
       "- The **pipeline** overlaps both kinds: the waits with each other (threads) and the computing with the "
       "waits and with itself (processes).\n\n"
       "The library also has this job's one-task shape as the `mixed` workload (a sleep, then `cpu`): try "
       "`cl.run(\"mixed\", backend=\"threads\", max_workers=4, tasks=8).wall` against `backend=\"processes\"`."),
    md("## 3. The convoy effect: I/O next to CPU-bound threads\n\n"
       "A thread that waits for I/O gives the GIL away; when its data arrives it needs the GIL back before it "
       "can run a single line. If other threads are busy computing, it must ask for it and wait until the "
       "running thread is told to let go: Python checks every *switch interval* (`sys.getswitchinterval()`, "
       "5 ms by default, per the `sys` documentation). Every step of an I/O exchange pays that again, so the "
       "I/O moves at the pace of the computing: a *convoy*.\n\n"
       "`ConvoyLab` measures it. A tiny echo server runs as a thread in this notebook, and we time one-byte "
       "round trips to it: with nothing else running (`idle`), next to 2 CPU-bound threads, and next to 2 "
       "CPU-bound processes. Press **Run** in the panel to watch, or let the next cell measure."),
    code(IGNORE + "# (a live panel)\nconvoy = cl.widgets.ConvoyLab(probes=50)\nconvoy.display()"),
    code(IGNORE + "# (measured round trips, in ms)\nconvoy.run()\nconvoy.table()"),
    code(IGNORE + "# (measured)\nplots.latency(convoy.records)"),
    md("The convoy shows in the slow tail: `p90_ms` is the time within which 9 round trips in 10 came back. "
       "The verdict compares those:"),
    code("print(lessons.convoy_verdict(convoy.records))"),
    md("The processes compute just as hard, on their own interpreters with their own GILs: they compete with "
       "the echo only for a core, and the operating system gives a woken thread a core quickly: compare the "
       "`processes` row with `idle` in the table. So a program that must stay responsive (a server, a GUI, a notebook kernel) should move its CPU-bound "
       "work to processes, not to threads. The panel's switch-interval control shows the trade-off: a shorter "
       "interval shortens the convoy and costs the computing threads more hand-overs."),
    md("### Exercise\n\nChoose a backend for each stage of the pipeline: `\"sequential\"`, `\"threads\"` or "
       "`\"processes\"`. The check runs the pipeline your way (8 items, 50 ms waits) and tells you what it "
       "thinks of your choice."),
    code("answer = {\"fetch\": None, \"compute\": None}  # your choices here\n\nlessons.check_stage_backends(answer)"),
    md("*Solution* (hidden; click to expand):"),
    solution("answer = {\"fetch\": \"threads\", \"compute\": \"processes\"}\nlessons.check_stage_backends(answer)"),
    md("## Summary\n\n"
       "- Split mixed work by kind: threads (or asyncio) for the waiting, processes for the computing, and "
       "hand items from one pool to the other as they arrive (`as_completed`).\n"
       "- One pool for both kinds leaves something on the table: processes alone wait only as many at a time as "
       "there are processes; threads alone compute one at a time.\n"
       "- CPU-bound threads slow down the I/O threads next to them (the convoy effect); CPU-bound processes do not.\n\n"
       "Next: **09 · Choosing a model**."),
]

write(cells, "notebooks/08_mixed_workloads.ipynb")
