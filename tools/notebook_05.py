"""Writes notebooks/05_communication_costs.ipynb (then execute it: see README, "Editing the lessons")."""

from nbcells import IGNORE, code, md, solution, write  # noqa: F401 - not every lesson uses all

cells = [
    md("# 05 · Communication costs\n\n"
       "Tutorials say that communication between threads is cheap and between processes costly. Here is why, "
       "and how much, on this machine. A thread is handed a *reference* to data the parent already holds. A "
       "process has its own memory, so the data must travel: pickled into bytes, written down a pipe, read and "
       "unpickled on the other side, and the result makes the same trip back.\n\n"
       "**Goals.** Measure:\n\n"
       "1. what pickling costs, by size and by what you pickle;\n"
       "2. a round trip of the same data to a warm thread and to a warm process;\n"
       "3. granularity: when a task is too small to be worth its trip, and how chunking fixes that;\n"
       "4. queues and pipes vs shared memory, which copies nothing."),
    code("import concurrency_lab as cl\nfrom concurrency_lab import lessons"),
    md("## 1. Pickling: the toll on every trip\n\n"
       "The same float64 numbers three ways: as raw `bytes`, as a numpy array, and as a Python list. Each is "
       "pickled and unpickled (best of a few runs):"),
    code(IGNORE + "# (timings)\npickles = lessons.pickle_costs()\npickles.to_dataframe()"),
    code("print(pickles.verdict())"),
    md("Bytes and numpy arrays pickle as one block of memory, copied once each way. A list holds every "
       "number as a separate float object: each is written, and on the way back each is built again, which is "
       "why the big list is slower and its pickle larger (the `pickled_bytes` column). At 1 kB, look again: "
       "an array pays a fixed cost for describing itself, so for small data the kinds are close and the list "
       "may even win. What you send matters as much as how much: send big data as arrays or bytes, not as "
       "lists of numbers."),
    md("## 2. A round trip: thread vs process\n\n"
       "One warm worker of each kind (already started, so start-up is not counted), and a task that returns "
       "its argument (`lessons.echo`): all communication, no work. The same payload, from 1 kB to 10 MB, "
       "through the library's runners:"),
    code(IGNORE + "# (timings and a plot of them)\ntrips = lessons.round_trips()\ndisplay(trips.to_dataframe())\n"
         "lessons.plot_round_trips(trips);"),
    code("print(trips.verdict())"),
    md("The thread's line is flat: however big the payload, it gets a reference to it, and what you pay is "
       "handing over a task and waking a thread. The process's line climbs with the data: every byte is "
       "pickled, piped and unpickled, there and back. That is the claim \"communication between processes "
       "costs more than between threads\", measured; and *how much* more depends on how much you send."),
    md("## 3. Granularity and chunk size\n\n"
       "Every task sent to a process pays a trip, even a tiny one: pickling the call, the pipe, waking the "
       "worker, and the result's way back. If the task itself is shorter than its trip, the pool loses to a "
       "plain loop. `chunksize` sends several tasks per trip, so each task pays only a share of it.\n\n"
       "`GranularityExplorer` measures `cpu` tasks of three sizes, on processes with chunk sizes 1 and 16, "
       "each against its own sequential loop. Press **Run** to measure live; the cell after it measures the "
       "same thing and waits."),
    code(IGNORE + "# (a live panel)\ngranularity = cl.widgets.GranularityExplorer()\ngranularity.display()"),
    code(IGNORE + "# (timings)\nrecords = granularity.run()\ngranularity.table()"),
    code("print(lessons.granularity_verdict(granularity.table()))"),
    md("Read the `us_per_task` column from top to bottom. The smallest tasks cost far more per task on "
       "processes than in the loop: almost all of it is the trip. Chunks cut that share. The largest tasks "
       "carry enough work to pay for their trip one at a time, so there processes win even with chunksize 1, "
       "as long as your machine has free cores (so that row is yours to read, not a printed verdict)."),
    md("### Exercise\n\n"
       "Here are 2000 tiny tasks, timed in a plain loop and on 2 processes with one task per trip:"),
    code(IGNORE + "# (timings)\nsetup = lessons.chunk_setup()\nsetup"),
    md("Pick a `chunksize` that makes the same tasks on the same 2 processes **at least 3× faster** than "
       "chunksize 1. Set `answer` and run the cell: the check measures your chunk size against chunksize 1 on "
       "one warm pool."),
    code("answer = None  # tasks per chunk\n\nlessons.check_chunksize(answer)"),
    md("*Solution* (hidden; click to expand):"),
    solution("answer = 250  # 2000 tasks / 2 workers / 4 chunks each: few trips, and work for both workers\n"
             "lessons.check_chunksize(answer)"),
    md("Many chunk sizes pass: once a trip carries a few dozen tasks, its cost per task is small next to the "
       "work. Past 1000 (2000 tasks / 2 workers) there would be fewer chunks than workers, and one worker "
       "would have nothing to do. `multiprocessing.Pool.map` picks a "
       "chunk size for you (about tasks / (4 × workers), in CPython's `multiprocessing/pool.py`); "
       "`ProcessPoolExecutor.map` uses 1 unless you pass `chunksize=`.\n\n"
       "Whether your chunked run also beats the loop depends on free cores: compare with the loop's time in "
       "`setup` above."),
    md("## 4. Queues and pipes vs shared memory\n\n"
       "One job, four ways: add 1 to every byte of a 10 MB block in a worker, and make sure the parent sees the "
       "result.\n\n"
       "- **thread**: the worker gets a reference and changes the block in place;\n"
       "- **pickled through the pool's queue**: `ProcessPoolExecutor.submit`, which pickles the block, sends it, "
       "and pickles the changed copy back;\n"
       "- **raw bytes through a `Pipe`**: the same bytes, sent with `send_bytes` and read into a buffer on each "
       "side with `recv_bytes_into`, with no pickling at all;\n"
       "- **`shared_memory`**: the block lives in memory both processes map; the worker attaches to it by name "
       "and changes it in place, so only the name and the size travel."),
    code(IGNORE + "# (timings)\npaths = lessons.data_paths()\npaths.to_dataframe()"),
    code("print(paths.verdict())"),
    md("The pipe row, without any pickling, shows how much of the pool's cost is the copying itself: "
       "through the kernel, there and back. Shared memory skips it, and lands much nearer the thread than the "
       "pool: that is why it exists.\n\n"
       "It needs care, which `lessons.data_paths` takes (read its source):\n\n"
       "- start the resource tracker **before** the workers (`multiprocessing.resource_tracker.ensure_running()`),"
       " so they share it; otherwise, under spawn or forkserver, a worker's own tracker may unlink the block "
       "when that worker exits;\n"
       "- every process that attaches must `close()` it (after dropping any numpy view of it), and the one that "
       "created it must `unlink()` it, in a `finally`, or it outlives your program (on Linux, in `/dev/shm`);\n"
       "- it holds raw bytes: numbers in arrays, not Python objects; and if two processes write the same "
       "place, you need a lock (lesson 06)."),
    md("## Summary\n\n"
       "- A thread gets a reference: the cost of passing data to it does not grow with the data.\n"
       "- A process gets a copy: pickled, piped and unpickled, both ways. Its cost grows with the bytes, and "
       "lists of Python objects cost more than arrays of the same numbers.\n"
       "- Tiny tasks are not worth their trip; `chunksize` shares one trip among many tasks.\n"
       "- `shared_memory` moves nothing and comes close to a thread, at the price of care: start the resource "
       "tracker first, close, unlink.\n\n"
       "Next: **06 · Shared state and races**."),
]

write(cells, "notebooks/05_communication_costs.ipynb")
