"""Writes notebooks/03_io_bound.ipynb (then execute it: see README, "Editing the lessons")."""

from nbcells import IGNORE, code, md, solution, write  # noqa: F401 - not every lesson uses all

cells = [
    md("# 03 · I/O-bound work\n\n"
       "**Goals.** Measure threads, processes and asyncio on work that mostly *waits*:\n\n"
       "1. sleeping, the purest wait;\n"
       "2. HTTP requests, to a server on this machine (no internet needed);\n"
       "3. file writes that wait for the disk;\n"
       "4. the classic \"fetch some URLs with threads\" example, run for real;\n"
       "5. how many threads is too many."),
    code("import concurrency_lab as cl\nfrom concurrency_lab import lessons"),
    md("## 1. Waiting: 16 tasks that each sleep 50 ms\n\n"
       "Sequential: one after another. Threads, processes and asyncio: up to 8 at a time."),
    code(IGNORE + "# (timings)\nsleep = lessons.compare_backends(\"io_sleep\", 0.05, tasks=16, max_workers=8)\nsleep"),
    code("print(lessons.overlapped(sleep))"),
    md("All three overlap the waits: a sleeping thread releases the GIL, a process has its own, and asyncio "
       "switches to another coroutine at every `await`. Processes pay to start, which the `startup_s` column shows "
       "and `wall_s` leaves out."),
    md("## 2. HTTP requests to a local server\n\n"
       "`LocalHTTPServer` listens on 127.0.0.1 at a free port and answers each GET after 50 ms, like a slow API."),
    code(IGNORE + "# (timings)\nwith cl.LocalHTTPServer(latency=0.05) as server:\n"
         "    http = lessons.compare_backends(server.task(), 1024, tasks=16, max_workers=8)\nhttp"),
    code("print(lessons.overlapped(http, at_least=1.5))"),
    md("## 3. Files: write, `fsync`, read back\n\n"
       "Here the wait is the disk. How much overlap you get depends on your disk and operating system, so no "
       "verdict is printed: read your own numbers."),
    code(IGNORE + "# (timings)\nlessons.compare_backends(\"io_file\", 256 * 1024, tasks=16, max_workers=8, "
         "backends=(\"sequential\", \"threads\"))"),
    md("## 4. The classic example, with a server that exists\n\n"
       "Tutorials fetch web pages with a thread pool. Here is the same code, pointed at the local server, so "
       "it works in a classroom without a network:"),
    code("from concurrent.futures import ThreadPoolExecutor\nimport urllib.request\n\n"
         "def fetch(url):\n    with urllib.request.urlopen(url, timeout=10) as response:\n        return len(response.read())\n\n"
         "with cl.LocalHTTPServer(latency=0.05) as server:\n"
         "    urls = [f\"{server.url}?bytes={100 * i}\" for i in range(20)]\n"
         "    with ThreadPoolExecutor(max_workers=8) as pool:\n        sizes = list(pool.map(fetch, urls))\n"
         "print(sizes[:5], \"...\", len(sizes), \"pages\")"),
    md("## 5. How many threads is too many?\n\n"
       "32 tasks that each wait 50 ms, on pools of 1 to 64 threads:"),
    code(IGNORE + "# (timings)\ncounts = lessons.thread_counts(0.05, tasks=32)\ncounts"),
    code("print(\"more threads than tasks helped:\", lessons.more_threads_than_tasks_helped(counts, 32))"),
    md("Wall time falls as threads are added, until there is one thread per waiting task; past that, extra "
       "threads have nothing to do. Each thread also costs a stack and scheduling work, so a pool sized to the "
       "number of things you wait on at once is the right size."),
    md("### Exercise\n\n16 tasks each wait 50 ms, on a pool of **4** threads. About how many seconds will the run "
       "take? Set `answer`."),
    code("answer = None  # your estimate, in seconds\n\nlessons.check_io_estimate(answer)"),
    md("*Solution* (hidden; click to expand):"),
    solution("answer = 16 / 4 * 0.05\nlessons.check_io_estimate(answer)"),
    md("## Summary\n\n"
       "- On waiting, threads, processes and asyncio all overlap: the GIL is released while a thread waits.\n"
       "- Threads are the cheapest way to do it from ordinary code; asyncio needs `async` code but scales to "
       "many waits in one thread; processes work too but pay to start.\n"
       "- Size a thread pool to how many waits can usefully happen at once.\n\n"
       "Next: **04 · Native code releases the GIL**."),
]

write(cells, "notebooks/03_io_bound.ipynb")
