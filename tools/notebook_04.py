"""Writes notebooks/04_native_code_releases_the_gil.ipynb (then execute it: see README, "Editing the lessons")."""

from nbcells import IGNORE, code, md, solution, write  # noqa: F401 - not every lesson uses all

cells = [
    md("# 04 · Native code releases the GIL\n\n"
       "Lesson 02 showed threads stuck at 1× on pure-Python work. That is not the whole story: the GIL stops "
       "two threads running *Python* at once, but C code may let go of it while it crunches plain bytes or "
       "numbers, and then other threads run at the same time.\n\n"
       "**Goals.** Measure, on this machine:\n\n"
       "1. which native calls let other threads run while they work (hashlib, zlib, numpy), and one that does not;\n"
       "2. what that buys: threads that scale, and the same hash that stays at 1× when fed in small pieces;\n"
       "3. where the line falls: hashlib's 2048-byte threshold;\n"
       "4. BLAS oversubscription: numpy on many threads, each starting its own BLAS threads;\n"
       "5. how to pin BLAS to one thread, in this process and in worker processes."),
    code("import concurrency_lab as cl\nfrom concurrency_lab import lessons"),
    md("## 1. Does the call let go of the GIL?\n\n"
       "A direct test. While one call runs in the main thread, a second thread notes the time as fast as it "
       "can. If the call keeps the GIL, the second thread cannot run a single line of Python until the call "
       "returns: its notes show one long pause, as long as the call. If the call lets go, the second thread "
       "keeps going (paused now and then only by the operating system).\n\n"
       "This test does not need a free core, so it gives the same answer on a busy laptop as on a quiet "
       "workstation. Three calls that work on raw bytes or numbers, and one that works on Python objects:"),
    code(IGNORE + "# (timings)\nprobes = lessons.native_probes()\nprobes"),
    code("print(probes.verdict())"),
    md("hashlib, zlib and numpy's matrix product (BLAS) let go of the GIL: none of them touches a Python object "
       "while it works. `sorted` is written in C too, but every comparison it makes is between Python objects, "
       "and that needs the GIL, so the other thread was frozen for most of the call."),
    md("## 2. What letting go buys: threads that scale\n\n"
       "The same tasks, one after another and on a pool of threads, with the `gil_release` workload "
       "(`cl.workloads.gil_release(size, kind, piece)`). One pair, as you would write it yourself:"),
    code(IGNORE + "# (timings)\nsequential = cl.run(\"gil_release\", backend=\"sequential\", size=8 << 20, tasks=8)\n"
         "threads = cl.run(\"gil_release\", backend=\"threads\", max_workers=2, size=8 << 20, tasks=8)\n"
         "print(f\"sha256, 8 tasks of 8 MiB: sequential {sequential.wall:.3f} s, 2 threads {threads.wall:.3f} s\")"),
    md("`native_scaling` does this for each kind of work, a few times over, and keeps the best run of each "
       "(a busy machine only ever makes a run slower). It also divides the CPU time the threads used by the "
       "wall time: `cores_busy`, how many cores were busy at once. Threads that take turns at the GIL cannot "
       "pass 1 there, however lucky the clock, so a row counts as `scaled` only with both a speedup and more "
       "than one core busy. The last row hashes the *same bytes*, fed to hashlib 1 KiB at a time:"),
    code(IGNORE + "# (timings)\nnative = lessons.native_scaling()\nnative.to_dataframe()"),
    code("print(lessons.pieces_verdict(native))"),
    md("With free cores, the first three rows approach the number of threads, in speedup and in cores busy: "
       "each thread spends nearly all "
       "its time outside the GIL. Only *nearly*: whatever part of a task keeps the GIL (here, building its "
       "input) still runs one thread at a time, which is Amdahl's serial fraction from lesson 02. If another "
       "program is using your cores, these speedups shrink toward 1×, because letting go of the GIL only "
       "helps when there is a core to run on; the probe in section 1 does not depend on that.\n\n"
       "The last row is the honest exception: it stays near one core busy on any machine. Why? Section 3."),
    md("## 3. The 2048-byte line\n\n"
       "hashlib lets go of the GIL only for inputs of 2048 bytes or more (`HASHLIB_GIL_MINSIZE` in CPython's "
       "`Modules/hashlib.h`): for a short input, releasing and re-taking the GIL would cost more than the "
       "hashing. So feeding a hash 1 KiB at a time keeps the GIL for every piece, and the Python loop around "
       "the calls needs it too. Here is the same 4 MiB hash, fed in pieces of several sizes:"),
    code(IGNORE + "# (timings and a plot of them)\npieces = lessons.hash_pieces()\n"
         "display(pieces.to_dataframe()[[\"call\", \"ms_per_task\", \"speedup\", \"cores_busy\", \"scaled\"]])\n"
         "lessons.plot_pieces(pieces);"),
    code("print(lessons.small_pieces_verdict(pieces))"),
    md("Below the line, threads only take turns. Above it, each `update` lets go, but the loop between the "
       "calls still runs Python under the GIL; the larger the pieces, the smaller that share, and the closer "
       "the speedup gets to the one-buffer row. (If your two lines disagree, a speedup with only one core "
       "busy, the machine was busy and the clock was lucky: trust the cores.) When you hash a file, read it "
       "in large pieces, or let `hashlib.file_digest` (Python 3.11+) do it for you."),
    md("### Exercise\n\n"
       "Four more calls into C code. **Which of them let other threads run while they work?** Set `answer` "
       "to the set of their keys, then run the cell."),
    code("print(lessons.native_quiz())"),
    code("answer = None  # a set of keys, e.g. {\"bz2\"}\n\nlessons.check_gil_prediction(answer)"),
    md("*Solution* (hidden; click to expand):"),
    solution("answer = {\"bz2\", \"numpy_sort\"}\nlessons.check_gil_prediction(answer)"),
    md("Now measure your prediction: the section 1 probe on each call."),
    code(IGNORE + "# (timings)\nquiz = lessons.probe_quiz()\nquiz"),
    code("print(quiz.verdict())"),
    md("*Written in C* is not enough. What matters is whether the C code works on Python objects (then it "
       "needs the GIL) or on raw buffers, and whether its authors chose to let go. Library documentation "
       "sometimes says so; the probe above tells you for sure."),
    md("## 4. BLAS oversubscription\n\n"
       "numpy hands a matrix product to a BLAS library, which starts its *own* threads: by default about one "
       "per core. That is good for one big product. But run products on several Python threads and each of "
       "them asks BLAS for a full set: with *C* cores, *C* Python threads × *C* BLAS threads compete for *C* "
       "cores. Which BLAS does numpy use here, and how many threads does it start?"),
    code(IGNORE + "# (depends on your numpy and your cores)\nlessons.blas_info()"),
    md("The same products three ways: BLAS threads only (one Python thread), Python threads only (BLAS pinned "
       "to one thread each), and both at once. Best of a few runs each, interleaved:"),
    code(IGNORE + "# (timings)\nblas = lessons.blas_oversubscription()\nblas.to_dataframe()"),
    md("Read your own numbers (`vs_pinned`: each run's time over the pinned run's). With *C* cores the "
       "oversubscribed run keeps *C* × *C* threads busy. On 2 cores that is only 4, and the difference may "
       "be small or go either way from run to run, which is why no verdict is printed here. With 16 cores it "
       "is 256 threads on 16 cores. Oversubscription in nested parallelism is the problem `threadpoolctl` was "
       "written to mitigate (its README says so). Spend the cores once: either BLAS threads for a few big "
       "products, or your own threads (or processes) with BLAS pinned to one."),
    md("## 5. How to pin BLAS\n\n"
       "**In this process, for a block of code:** `threadpoolctl` (section 2 used it to pin BLAS for the "
       "`numpy` rows). It finds the BLAS library numpy loaded and sets its thread count; leaving the block "
       "restores it."),
    code("from threadpoolctl import threadpool_limits\n\nwith threadpool_limits(limits=1, user_api=\"blas\"):\n"
         "    print(\"BLAS threads inside the block:\", lessons.blas_info().threads)"),
    md("**For a whole program:** an environment variable, `OMP_NUM_THREADS=1` (or the library's own: "
       "`OPENBLAS_NUM_THREADS`, `MKL_NUM_THREADS`). BLAS reads it once, when numpy is imported, so it must "
       "be set *before* the import: in the shell, or at the very top of a script. Two fresh Python processes, "
       "one setting it before `import numpy` and one after:"),
    code("lessons.pin_before_import()"),
    md("**In worker processes:** every worker imports numpy afresh and starts its own BLAS threads, so *N* "
       "workers on *N* cores oversubscribe just like threads do. Pin each worker as it starts, with the "
       "pool's `initializer` (`lessons.pin_blas_to_one_thread` imports numpy and calls `threadpool_limits(1)`): "
       "it runs in every worker as it starts, whatever the start method."),
    code(IGNORE + "# (the default depends on your cores)\nworker = lessons.pinned_worker()\nworker"),
    code("print(\"the initializer pinned the worker to 1 BLAS thread:\", worker.pinned == 1)"),
    md("## Summary\n\n"
       "- C code can let go of the GIL while it works on raw bytes or numbers: hashlib (inputs of 2048 bytes "
       "or more), zlib, bz2, numpy's sorting and matrix products. Then threads run at once and, given free "
       "cores, scale.\n"
       "- C code that works on Python objects keeps it: `sorted`, `json`, `re`. Written in C is not enough; "
       "the probe tells you which is which.\n"
       "- Small pieces defeat it: under 2048 bytes hashlib keeps the GIL, and a Python loop between calls "
       "needs it anyway. Feed native code big buffers.\n"
       "- numpy's BLAS has threads of its own. Spend the cores once: pin BLAS to one thread "
       "(`threadpoolctl`, `OMP_NUM_THREADS` before import, or a pool initializer) when you parallelise "
       "yourself.\n\n"
       "Next: **05 · Communication costs**: what it costs to move data to a worker and back."),
]

write(cells, "notebooks/04_native_code_releases_the_gil.ipynb")
