"""`cl.watch()`: known programs give known shapes, the sampler is never left behind, bad input is refused.

Shapes are judged relative to the run, as a busy machine allows: two CPU-bound threads under the GIL keep
at most ~1 core busy together (load can only lower that); lanes are named as a learner knows them.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import matplotlib

matplotlib.use("Agg")

import psutil  # noqa: E402
import pytest  # noqa: E402

from concurrency_lab import info, plots, watch, workloads  # noqa: E402
from concurrency_lab.watching import DEFAULT_RATE, WatchRecord, default_backend  # noqa: E402

#: About 0.4 s of pure-Python work per task here: long enough for hundreds of samples.
STEPS = 3_000_000
BACKENDS = ["proc", "psutil"] if default_backend() == "proc" else ["psutil"]


def samplers() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if "_sampler.py" in " ".join(_cmd(p))]


def _cmd(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:
        return []


def lanes_named(record: WatchRecord, prefix: str) -> list:
    return [lane for lane in record.lanes if lane.name.startswith(prefix)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_cpu_bound_threads_keep_about_one_core_busy(backend):
    with watch(backend=backend) as watched:
        with ThreadPoolExecutor(2, thread_name_prefix="spin") as pool:
            list(pool.map(workloads.cpu, [STEPS] * 4))
    rec = watched.record
    spinners = lanes_named(rec, "spin")
    assert [lane.name for lane in spinners] == ["spin_0", "spin_1"], [lane.name for lane in rec.lanes]
    assert all(rec.total(lane) > 0.05 for lane in spinners)  # both busy
    threads_cpu = sum(rec.total(lane) for lane in spinners)
    if info.gil_enabled():  # a free-threaded build (the 3.13t lane) lets them run at once
        assert threads_cpu / rec.wall <= 1.1, rec.summary()  # the GIL: one thread at a time
    assert lanes_named(rec, "MainThread")
    assert rec.rate >= 20, rec.summary()  # it sampled; the rate itself is a target of benchmarks/watch.py


def test_two_processes_are_lanes_named_by_their_role():
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with watch() as watched:
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(method)) as pool:
            list(pool.map(workloads.cpu, [STEPS] * 4))
    workers = [lane for lane in watched.record.lanes if "pool worker" in lane.name]
    assert len(workers) == 2 and all(lane.kind == "process" for lane in workers), watched.record.lanes
    assert all(watched.record.total(lane) > 0.05 for lane in workers)
    assert all(lane.name.startswith(f"pid {lane.pid} · pool worker (") for lane in workers)


def test_a_child_python_is_a_subprocess_and_a_fork_a_forked_child(tmp_path):
    script = tmp_path / "spin.py"
    script.write_text("import time\nt = time.time()\nwhile time.time() - t < 0.4:\n    pass\n")
    with watch() as watched:
        subprocess.run([sys.executable, str(script)], timeout=30, check=True)
        if hasattr(os, "fork"):
            pid = os.fork()
            if pid == 0:
                t = time.time()
                while time.time() - t < 0.4:
                    pass
                os._exit(0)
            time.sleep(0.8)  # the child ends at 0.4 s and stays a zombie, with no command line, until reaped
            os.waitpid(pid, 0)
    # Python's own helpers (a forkserver, a resource tracker) may be there too, from earlier tests
    names = [lane.name.split(" · ", 1)[1] for lane in watched.record.lanes if lane.kind == "process"]
    assert "subprocess " + os.path.basename(sys.orig_argv[0]) + " spin.py" in names, names
    assert names.count("forked child") == (1 if hasattr(os, "fork") else 0), names


def test_a_thread_started_in_the_block_is_counted_from_its_start():
    # The sampler finds new threads every 0.1 s or so; what one ran before it was found counts too (it was
    # lost once, and read as other programs' load: a free-threaded Python's pool threads, 0.1 s each).
    ran = {}

    def spin() -> None:
        c0, end = time.thread_time(), time.perf_counter() + 0.3
        while time.perf_counter() < end:
            pass
        ran["cpu"] = time.thread_time() - c0

    with watch() as watching:
        time.sleep(0.05)  # past the sampler's first look at the threads
        spinner = threading.Thread(target=spin, name="spinner")
        spinner.start()
        spinner.join(10)
    record = watching.record
    lane = next(lane for lane in record.lanes if lane.name == "spinner")
    # the look after the sleep comes ~0.075 s after the start (a sample every 5 ms, a look every 0.1 s)
    assert record.total(lane) == pytest.approx(ran["cpu"], abs=0.03), (record.total(lane), ran)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_thread_that_ends_in_the_block_is_none_from_its_end_to_the_last_sample(backend):
    # The sampler stops reading a lane that ended; the record still has a value for every sample.
    ran = {}

    def spin() -> None:
        c0, end = time.thread_time(), time.perf_counter() + 0.2
        while time.perf_counter() < end:
            pass
        ran["cpu"] = time.thread_time() - c0

    with watch(backend=backend) as watching:
        time.sleep(0.15)  # past a look at the threads, so that it is read while it runs
        spinner = threading.Thread(target=spin, name="ender")
        spinner.start()
        spinner.join(10)
        time.sleep(0.3)  # past the next look, which finds it gone
    record = watching.record
    lane = next(lane for lane in record.lanes if lane.name == "ender")
    assert lane.first + len(lane.cpu) == len(record.times)
    assert lane.cpu[-1] is None and any(c is not None for c in lane.cpu)
    # What it ran, not 0.2 s: with two CPU hogs on 2 cores it got about half of its wall (CI here, .ci/loaded).
    # What it ran after its last read is lost: a thread that is gone cannot be read. So the lane may fall short
    # by up to the wall from that read to the next sample (psutil at 50 a second, with three test runs sharing
    # 2 cores in CI's matrix: 0.15 s against 0.197 s), and by an OS tick (10 ms) of psutil's resolution.
    last = lane.first + max(k for k, c in enumerate(lane.cpu) if c is not None)
    lost = record.times[last + 1] - record.times[last]
    total, tick = record.total(lane), 0.011
    assert ran["cpu"] - lost - tick <= total <= ran["cpu"] + tick, (total, ran, lost)


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_of_a_third_of_a_second_are_found_at_every_rate(backend):
    """The sampler looks for new threads every 0.1 s by the clock. Counted in samples, psutil's 50 a second
    looked every 0.5 s, and two pool threads of 0.3-0.5 s could start and end between two looks, unseen."""
    def spin(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass

    with watch(backend=backend, rate=20) as watching:  # the slowest rate a lane of 0.3 s must survive
        time.sleep(0.05)
        with ThreadPoolExecutor(2, thread_name_prefix="brief") as pool:
            list(pool.map(spin, [0.3, 0.3]))
    assert sorted(lane.name for lane in lanes_named(watching.record, "brief")) == ["brief_0", "brief_1"]


def test_sleeping_threads_stay_near_idle():
    with watch() as watched:
        threads = [threading.Thread(target=time.sleep, args=(0.3,), name=f"sleeper-{k}") for k in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
    sleepers = lanes_named(watched.record, "sleeper-")
    assert len(sleepers) == 20  # named, though each ended inside the block
    assert sum(watched.record.total(lane) for lane in sleepers) < 0.1


def test_the_record_agrees_with_the_os_and_says_how_busy_the_machine_was():
    with watch() as watched:
        workloads.cpu(STEPS * 2)
    rec = watched.record
    checked = rec.checks()
    assert any(name == "MainThread" for name, *_ in checked), rec.lanes
    assert rec.agrees, checked
    assert 0.0 <= rec.load.others_share <= 1.0
    assert "other programs used" in rec.summary()
    assert rec.sampler_cpu_s >= 0 and rec.cores == info.logical_cores()


def test_busy_intervals_cores_busy_and_a_table():
    with watch() as watched:
        workloads.cpu(STEPS)
    rec = watched.record
    main = lanes_named(rec, "MainThread")[0]
    assert rec.intervals(main)  # it was on a CPU for some stretch
    busy = rec.cores_busy()
    assert len(busy) == len(rec.times) - 1 and busy.max() > 0.3
    df = rec.to_dataframe()
    assert set(df.columns) == {"lane", "kind", "pid", "begin", "end", "busy"}
    assert len(df) == len(rec.lanes) * (len(rec.times) - 1)


def test_save_and_read_back(tmp_path):
    with watch() as watched:
        workloads.cpu(STEPS // 4)
    path = watched.record.save(tmp_path / "watch.json")
    again = WatchRecord.read(path)
    assert again == watched.record


def test_the_picture_has_both_panels():
    with watch() as watched:
        with ThreadPoolExecutor(2, thread_name_prefix="pic") as pool:
            list(pool.map(workloads.cpu, [STEPS // 2] * 2))  # long enough to be seen when run at once (3.13t)
    fig = plots.watch(watched.record)
    lanes_ax, cores_ax = fig.axes
    assert "pic_0" in " ".join(t.get_text() for t in lanes_ax.texts)
    assert any("1 core" in (line.get_label() or "") for line in cores_ax.lines)


def test_reading_the_record_before_the_block_ends_is_refused():
    with watch() as watched:
        with pytest.raises(AttributeError, match="still on"):
            _ = watched.parallelism


# -- never left behind ------------------------------------------------------------------

def test_no_sampler_after_a_normal_end_or_an_exception():
    with watch():
        pass
    assert samplers() == []
    with pytest.raises(ZeroDivisionError), watch():
        1 / 0  # noqa: B018
    assert samplers() == []


def test_the_sampler_ends_when_the_watched_process_dies():
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with watch(pid=victim.pid) as watched:
            victim.kill()
            victim.wait(10)
            deadline = time.monotonic() + 10
            while samplers() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert samplers() == []  # it noticed by itself, before the block ended
    finally:
        if victim.poll() is None:
            victim.kill()
    assert watched.record.meta["watched_gone"]


def test_the_sampler_ends_when_the_watching_process_is_killed():
    code = ("import os, sys, time; sys.path.insert(0, os.getcwd()); import concurrency_lab as cl\n"
            "with cl.watch():\n    print(os.getpid(), flush=True); time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        parent.stdout.readline()
        sampler = next(p for p in psutil.Process(parent.pid).children() if "_sampler.py" in " ".join(_cmd(p)))
        os.kill(parent.pid, signal.SIGKILL)  # no clean-up at all: the OS closes the sampler's lifeline
        parent.wait(10)
        sampler.wait(10)  # psutil raises TimeoutExpired if it lives on
    finally:
        if parent.poll() is None:
            parent.kill()


def test_ctrl_c_while_the_sampler_starts_ends_it(monkeypatch, tmp_path):
    """An interrupt can land before the block, while `watch()` waits for the sampler's first sample: the
    sampler is ended then too. (A stand-in sampler that never says "ready" makes the moment certain.)"""
    from concurrency_lab import watching

    slow = tmp_path / "slow_sampler.py"
    slow.write_text("import time\ntime.sleep(60)\n")
    monkeypatch.setattr(watching, "_SAMPLER", slow)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt), watch():
            pass
    finally:
        timer.cancel()
    assert [p for p in psutil.Process().children(recursive=True) if "slow_sampler" in " ".join(_cmd(p))] == []


# -- bad input ------------------------------------------------------------------------

def test_bad_input_is_refused_with_the_field_named():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(10)
    with pytest.raises(ValueError, match=f"pid: no process {gone.pid} is running"), watch(pid=gone.pid):
        pass
    with pytest.raises(ValueError, match="rate: 5 is out of range; allowed: 10 to 1000"), watch(rate=5):
        pass
    with pytest.raises(ValueError, match="backend: unknown 'dtrace'"), watch(backend="dtrace"):
        pass
    with watch(), pytest.raises(RuntimeError, match="watches do not nest"), watch():
        pass
    assert samplers() == []
    assert DEFAULT_RATE["proc"] >= 200  # fine enough to see 5 ms GIL hand-offs
