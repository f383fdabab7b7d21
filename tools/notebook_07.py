"""Writes notebooks/07_robustness.ipynb (then execute it: see README, "Editing the lessons")."""

from nbcells import IGNORE, code, md, solution, write  # noqa: F401 - not every lesson uses all

cells = [
    md("# 07 · Robustness\n\n"
       "**Goals.** Break things on purpose and see what survives:\n\n"
       "1. a task that **raises**: the run comes back and says which task failed, and why;\n"
       "2. a worker **process that dies** (exit, abort, segfault): your notebook lives on, and the record "
       "explains the death;\n"
       "3. an exception in a **thread**: where it goes, and where it does not;\n"
       "4. a **hard crash in a thread** kills its whole process (shown safely, in a separate Python), and the "
       "measured claim: *processes isolate crashes, threads do not*;\n"
       "5. **timeouts, Stop and Ctrl-C**: how a run that never ends is ended."),
    code("import concurrency_lab as cl\nfrom concurrency_lab import lessons"),
    md("## 1. A task that raises\n\n"
       "`lessons.work_or_crash(job)` is one task: `(\"ok\", x)` returns x², `(\"crash\", how)` fails on purpose "
       "(it calls `cl.workloads.crash(how)`). Four tasks, the third of which raises, on threads and then on "
       "processes:"),
    code("lessons.exception_in_tasks(\"threads\")"),
    code("lessons.exception_in_tasks(\"processes\")"),
    md("Both backends behave the same: the exception is caught where the task ran and becomes data in that "
       "task's record (`record.failures`, traceback included), and the other tasks keep their results. When "
       "you would rather have an exception, `record.raise_for_errors()` raises one naming the first failed "
       "task."),
    md("## 2. A worker process that dies\n\n"
       "A process can also end without any exception: `os._exit(1)`, `os.abort()` (what a C library does when "
       "its own check fails), or a segmentation fault (here: reading memory address 0 through `ctypes`). "
       "`dying_workers` runs each in a one-worker process pool, then an ordinary run:"),
    code("lessons.dying_workers()"),
    md("Your notebook is untouched: only the worker died. `concurrent.futures` itself only reports that \"a "
       "process terminated abruptly\" (`BrokenProcessPool`); the runner looks at the dead worker's exit code "
       "to tell you *how* it died. A negative exit code means a signal killed it: `SIGABRT` for an abort, "
       "`SIGSEGV` for a segfault. After a death the pool is marked broken and every unfinished task fails "
       "with it (section 4 measures that); the next run starts a fresh pool."),
    md("## 3. An exception in a thread\n\n"
       "The same raising task, once in a bare `threading.Thread`, once through a thread pool's future:"),
    code("lessons.exception_in_bare_thread()"),
    code("lessons.exception_through_future()"),
    md("A bare thread's exception goes to `threading.excepthook`, whose default prints it to stderr (in "
       "Jupyter, that may land under some other cell, or in the terminal), and `join()` returns as if all were "
       "well. A future keeps the exception and re-raises it in whoever asks for the result, which is what "
       "`cl.run` does for you. Prefer executors to bare threads, or set your own `threading.excepthook`."),
    md("## 4. A hard crash in a thread kills the whole process\n\n"
       "An exception can be caught. An abort or a segfault cannot: the operating system ends the whole "
       "process, with every thread in it. We will not do that to your kernel, so `crash_in_child` starts a "
       "separate Python in which one thread crashes shortly after it starts, while a sibling thread is still "
       "working:"),
    code("lessons.crash_in_child(\"thread\", \"abort\")"),
    code("lessons.crash_in_child(\"thread\", \"segv\")"),
    md("The sibling's work died with the process; only the exit signal is left to tell what happened. "
       "`faulthandler` (turned on in the child with `faulthandler.enable()`) at least prints the fatal error "
       "and every thread's stack to stderr as the process goes down: worth turning on when native code "
       "crashes.\n\n"
       "Now the same crash next to the same sibling in three setups, each in its own child Python: two "
       "threads; two `multiprocessing.Process`; two tasks of a process pool (`cl.run(backend=\"processes\")`):"),
    code("iso = lessons.isolation()\niso"),
    code("print(iso.verdict())"),
    md("Read the table row by row:\n\n"
       "- **threads**: the whole Python died, sibling included;\n"
       "- **processes**: the crashed process died alone; the sibling process finished its work, and the parent "
       "learned the exit code;\n"
       "- **a process pool**: the parent survived and was told which task died and how, but the sibling task "
       "failed too. That is not shared memory at work: `ProcessPoolExecutor` marks the whole pool broken when "
       "one worker dies, and ends the rest. Rerun the tasks that failed on a fresh pool.\n\n"
       "So the claim holds, with a footnote: processes isolate crashes; a pool built on them may still give up "
       "on the work in flight."),
    md("## 5. Timeouts, Stop and Ctrl-C\n\n"
       "`cl.workloads.hang` never returns (it sleeps for an hour). `timeout=` bounds a whole run:"),
    code("rec = cl.run(\"hang\", backend=\"processes\", max_workers=2, tasks=2, timeout=0.5)\n"
         "[event.error for event in rec.events]"),
    md("`task_timeout=` bounds each task instead: one task running too long ends the run. `hung_run` starts "
       "the pool first, so what it measures is how soon after the limit the run returns:"),
    code("lessons.hung_run(\"processes\", task_timeout=0.5)"),
    code("lessons.hung_run(\"threads\", task_timeout=0.5)"),
    md("Both runs return promptly, but look at the last line for threads: **a thread cannot be killed** from "
       "outside. All Python offers is to raise an exception inside it (`PyThreadState_SetAsyncExc`), and on a "
       "timeout or Stop the runner does: the exception lands at the thread's next Python instruction, so a "
       "task looping in Python ends at once. This one is blocked inside a single C call (one `time.sleep`), "
       "so it keeps running in the background until that call returns (here the hang was made short on "
       "purpose). A worker process is simply killed.\n\n"
       "`stop=` takes a `threading.Event`; setting it ends the run the same way (the explorers' Stop button "
       "sets one). Here a timer presses Stop:"),
    code("lessons.stop_after(0.3, \"processes\")"),
    md("**Ctrl-C** (in Jupyter: the ■ button, or *I, I*) raises `KeyboardInterrupt` in the cell. Python can "
       "raise it between any two steps of a program, even inside the executor's own `with lock:`, just after "
       "the lock was taken and before anything is set to release it. That lock then stays held for ever, and "
       "closing the pool waits for it: the cell hangs (we saw it in about one interrupt in ten on Python 3.12). "
       "So while a runner is inside the pool's own code, it holds your first press back and raises it at the "
       "next safe point: between two submits, or when its wait for a result wakes, every 50 ms. Then it "
       "cancels the queued tasks, kills worker processes, and lets the interrupt through. A second press is "
       "never held back. Your kernel stays alive with no worker left behind; a running *thread* again "
       "finishes on its own. `tests/test_interrupt.py` checks this for every backend, within 2 s, four times "
       "in one kernel. The slice and the grace given to a worker before it is killed:"),
    code("cl.config.POLL_INTERVAL_S, cl.config.SHUTDOWN_GRACE_S"),
    md("**Right after an interrupt**, run the next cell calmly. When a cell ends in an error (`KeyboardInterrupt` "
       "included), the kernel first answers it, then for a moment skips every cell that reaches it: that is how "
       "*Run All* stops at the first error (ipykernel's `stop_on_error`). A cell sent in that instant comes back "
       "*aborted* and does not run; run it again.\n\n"
       "**What stays behind.** After a process run ends (normally, by Stop, or by Ctrl-C) its workers are gone, "
       "but `ps` may still show one or two Python processes under your kernel. They are Python's own helpers, "
       "one of each per program, shared by every pool and ended with the kernel; a raw `ProcessPoolExecutor` "
       "leaves the same ones (`tests/test_interrupt.py` checks both). The runs above used the default start "
       "method; here is every process now under this kernel:"),
    code("for role, why in sorted({(child.role, child.why) for child in cl.info.child_processes()}):\n"
         "    print(f\"{role}: {why}\\n\")"),
    md("### Exercise\n\n"
       "Six tasks: five quick ones, then one that calls `os.abort()` a moment later, like a C library hitting "
       "a bug. Pick the backend that keeps the Python doing the run alive **and** still returns the five "
       "results. The check runs your choice in a separate Python, so a wrong answer cannot hurt your kernel."),
    code("backend = None  # one of: \"sequential\", \"threads\", \"processes\", \"asyncio\"\n\n"
         "lessons.check_crash_backend(backend)"),
    md("*Solution* (hidden; click to expand):"),
    solution("backend = \"processes\"\nlessons.check_crash_backend(backend)"),
    md("## Summary\n\n"
       "- A task that raises is just a failed task: every backend returns the others' results and the error.\n"
       "- A task that kills its process (abort, segfault, `os._exit`) takes down everything in that process. "
       "In a worker process, that is the worker: your notebook survives and the record says how it died. In "
       "a thread, it is your whole program.\n"
       "- Processes isolate crashes, threads do not (measured above); a process pool still breaks as a whole, "
       "so rerun its failed tasks.\n"
       "- Bound every run with `timeout=` or `task_timeout=`; Stop and Ctrl-C end a run promptly. Worker "
       "processes are killed; a thread cannot be, and at best is interrupted at its next Python "
       "instruction.\n\n"
       "Next: **08 · Mixed workloads**."),
]

write(cells, "notebooks/07_robustness.ipynb")
