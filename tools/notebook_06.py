"""Writes notebooks/06_shared_state_and_races.ipynb (then execute it: see README, "Editing the lessons")."""

from nbcells import IGNORE, code, md, solution, write  # noqa: F401 - not every lesson uses all

cells = [
    md("# 06 · Shared state and races\n\n"
       "**Goals.** See for yourself:\n\n"
       "1. threads that add to one shared number **lose updates**, and why;\n"
       "2. how the interpreter's *switch interval* decides how often that bites (and why races pass tests);\n"
       "3. a **lock** makes the count exact;\n"
       "4. processes share nothing unless you ask: a global, a `multiprocessing.Value`, a `Manager().dict()` "
       "and `shared_memory`, each measured."),
    code("import inspect\n\nimport concurrency_lab as cl  # noqa: F401 - the library, for your own experiments\n"
         "from concurrency_lab import lessons"),
    md("## 1. A lost update\n\n"
       "`count += 1` looks like one step, but it is three: **read** the value, **add** one, **write** it back. "
       "`racy_add` spells them out, with a wait in the middle. `time.sleep(0)` stands for anything that waits "
       "there: a log line, a network call, a database read. While a thread waits, the GIL is free and another "
       "thread runs."),
    code("print(inspect.getsource(lessons.racy_add))"),
    md("`lessons.race(fn)` starts 4 threads at the same moment; each calls `fn(tally, 500)` on one shared "
       "`Tally`, so every run should end at 4 × 500. It does that 5 times:"),
    code(IGNORE + "# (the exact losses vary from run to run)\nracy = lessons.race(lessons.racy_add)\nracy"),
    code("print(racy.verdict())"),
    md("Look at the `got` line: far less than was added. Each thread read the value, and while it waited the "
       "others read the *same* value; then each wrote back its own old value plus one, and the others' work "
       "was overwritten. Nothing crashed and no error was raised: the total is just wrong."),
    md("## 2. No wait at all: the switch interval\n\n"
       "Take the wait out and leave a moment of computation between read and write:"),
    code("print(inspect.getsource(lessons.racy_add_busy))"),
    md("Now a thread gives up the GIL only when the interpreter makes it: every `sys.getswitchinterval()` "
       "seconds (5 ms unless changed, per the `sys.setswitchinterval` docs) it asks the running thread to let "
       "another one in. The race bites only if that switch lands between the read and the write. "
       "`interval_sweep` runs the race for short and long runs, at the interval as it is and at 1 µs "
       "(`lessons.switch_interval(seconds)` sets it for a block and always restores it):"),
    code(IGNORE + "# (counts vary from run to run)\nsweep = lessons.interval_sweep()\nsweep"),
    code("print(sweep.verdict())"),
    md("Read your table: at the usual interval, short runs often come out exact, because each thread finished "
       "before the interpreter asked it to switch. **That is how a race passes its tests and fails in "
       "production**, where the runs are longer. Shrink the interval and switches happen almost everywhere, so "
       "races show up at once; that makes a tiny switch interval a useful trick in tests."),
    md("**Honest footnote.** The bare `tally.value += 1` (no helper, no wait) usually stays exact on standard "
       "CPython 3.10 and later, even at 1 µs:"),
    code(IGNORE + "# (usually exact on a standard CPython build; not on a free-threaded one)\n"
         "lessons.race(lessons.plain_add, n=50_000, interval=1e-6)"),
    md("That is luck, not a promise. The interpreter only checks whether to switch at certain points (a call, "
       "a jump back in a loop; see `ceval.c` in CPython's source), and `+=` on an attribute has none between "
       "its read and its write. Put a function call there (a property, a log line) and the window opens; on "
       "the free-threaded build (3.13t and later) threads really run at once and there is no switch to wait "
       "for. Never rely on it: protect shared updates with a lock."),
    md("## 3. The fix: a lock\n\n"
       "A `threading.Lock` lets one thread at a time through a block. Put the read, the wait and the write "
       "inside it:"),
    code("print(inspect.getsource(lessons.locked_add))"),
    code("locked = lessons.race(lessons.locked_add, interval=1e-6)\nlocked"),
    code("print(locked.verdict())"),
    md("Exact, every run, even with the tiny switch interval. The price: while one thread is inside the block "
       "the others wait, so keep locked blocks short."),
    md("## 4. Processes share nothing unless asked\n\n"
       "Each process has its own memory (lesson 01). Four tasks in worker processes add to the module global "
       "`TOTAL`; then the notebook looks at its own `TOTAL`:"),
    code("lessons.global_in_processes()"),
    md("To share a number between processes you must ask for it. Three ways, from light to heavy.\n\n"
       "### `multiprocessing.Value`\n\n"
       "A number in shared memory, with a lock beside it. Two processes each add 1, 10,000 times, under "
       "`value.get_lock()`:"),
    code("value = lessons.value_total()\nvalue"),
    md("Careful: the Value's own lock guards each read and each write *separately*, not the pair. Without "
       "`get_lock()`, `value.value += 1` is the same race as in section 1, now between processes:"),
    code(IGNORE + "# (usually loses updates; how many varies)\nlessons.value_total(locked=False)"),
    md("On a multi-core machine this usually loses thousands of updates; on a busy one the processes may take "
       "turns and lose fewer, sometimes none. A race is a matter of chance, which is what makes it hard to "
       "test.\n\n"
       "### `Manager().dict()`\n\n"
       "A server process holds an ordinary dict; every read and write is a message to it. It can hold any "
       "picklable object, and it is exact with the manager's lock, but each update is two round trips (get, "
       "set) plus two for the lock:"),
    code("manager = lessons.manager_total()\nmanager"),
    code(IGNORE + "# (timings)\nlessons.sharing_costs(value, manager)"),
    code("print(lessons.sharing_verdict(value, manager))"),
    md("### `shared_memory`\n\n"
       "A block of raw bytes that several processes map at once: nothing is pickled or copied. The parent "
       "creates it, each worker attaches by name, writes its own slice of squares and `close()`s it; the "
       "parent reads the numbers in place, then `close()`s and `unlink()`s it (the block outlives every "
       "process until someone unlinks it). One trap: start the resource tracker "
       "(`multiprocessing.resource_tracker.ensure_running()`) before the workers, or under spawn a worker's "
       "own tracker may unlink the block when that worker exits. `shared_memory_squares` does all of it:"),
    code("lessons.shared_memory_squares()"),
    md("Each worker wrote a different slice, so no lock was needed; if two processes wrote the same place, "
       "you would need one (a `multiprocessing.Lock`) just as threads do."),
    md("### Exercise\n\n"
       "Many threads deposit into one bank account at once. An `Account`'s balance lives somewhere slow, so "
       "reading it lets other threads run (like a database read). `deposit` below loses money. **Fix it with "
       "the lock**, then run the cell: the check runs your function from 4 threads, 250 deposits each, 5 "
       "times, with a 1 µs switch interval, and counts every cent."),
    code("import threading\n\nlock = threading.Lock()  # one lock, made once, shared by every thread\n\n\n"
         "def deposit(account, amount):\n    balance = account.balance            # read\n"
         "    account.balance = balance + amount   # write\n\n\nlessons.check_deposit(deposit)"),
    md("*Solution* (hidden; click to expand):"),
    solution("def deposit(account, amount):\n    with lock:  # read and write as one step\n"
             "        balance = account.balance\n        account.balance = balance + amount\n\n\n"
             "lessons.check_deposit(deposit)"),
    md("## Summary\n\n"
       "- A read-modify-write on shared data loses updates when another thread runs between the read and the "
       "write. Nothing warns you; the total is just wrong.\n"
       "- How often that happens depends on waits and on the switch interval, so a race can pass every short "
       "test. A tiny `sys.setswitchinterval` makes it show (restore it afterwards).\n"
       "- A `threading.Lock` around the whole read-modify-write makes it exact.\n"
       "- Processes share nothing by default. A `Value` (with `get_lock()`) shares a number cheaply; a "
       "`Manager` shares any object, slowly; `shared_memory` shares raw bytes with no copying, and must be "
       "closed and unlinked.\n\n"
       "Next: **07 · Robustness**: what happens when a task crashes, hangs or is interrupted."),
]

write(cells, "notebooks/06_shared_state_and_races.ipynb")
