"""Timing, memory and environment measurement helpers."""

import gc
import os
import platform
import subprocess
import sys
import threading
import time
import tracemalloc
import warnings

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits


def median_time(fit, repeats):
    """Median wall time of ``fit()`` over ``repeats`` runs, and its last result."""
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fit()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), result


def fit_quietly(est, X, y):
    """Fit ``est`` with warnings silenced; return the wall time in seconds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - t0


def n_iter_of(est):
    n = getattr(est, "n_iter_", None)
    if n is None:
        return None
    return int(np.max(n))


def interleaved(jobs, repeats, budget_s=None):
    """Run ``jobs`` (name -> zero-argument callable returning seconds, or
    raising) round-robin ``repeats`` times. A job whose first run took more
    than ``budget_s / repeats`` runs fewer times (at least once).

    Returns name -> {"times": [...]} or {"error": str}.
    """
    out = {name: {"times": []} for name in jobs}
    wanted = dict.fromkeys(jobs, repeats)
    for r in range(repeats):
        for name, job in jobs.items():
            rec = out[name]
            if "error" in rec or len(rec["times"]) >= wanted[name]:
                continue
            gc.collect()
            try:
                dt = job()
            except Exception as exc:  # recorded, reported, never hidden
                rec["error"] = f"{type(exc).__name__}: {exc}"[:300]
                continue
            rec["times"].append(dt)
            if r == 0 and budget_s is not None and dt * repeats > budget_s:
                wanted[name] = max(1, int(budget_s // max(dt, 1e-9)))
    for rec in out.values():
        if rec["times"]:
            rec["median"] = float(np.median(rec["times"]))
            rec["min"] = float(np.min(rec["times"]))
    return out


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _RSSSampler(threading.Thread):
    def __init__(self, interval=0.002):
        super().__init__(daemon=True)
        self.interval = interval
        self.base = _rss_bytes()
        self.peak = self.base
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            self.peak = max(self.peak, _rss_bytes())
            time.sleep(self.interval)

    def stop(self):
        self._stop_event.set()
        self.join()
        self.peak = max(self.peak, _rss_bytes())


def peak_memory(fit):
    """Peak extra memory of ``fit()`` (not timed): tracemalloc peak above the
    allocations live at the start, and the peak RSS growth sampled every 2 ms.

    numpy and scipy allocations are traced; BLAS internal buffers are not (RSS
    sees them). RSS underestimates when freed memory is reused.
    """
    gc.collect()
    sampler = _RSSSampler()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    sampler.start()
    try:
        fit()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        sampler.stop()
    return {"tracemalloc_peak": int(peak - base), "rss_peak": int(sampler.peak - sampler.base)}


def max_threads():
    import numpy  # noqa: F401  (load BLAS before asking threadpoolctl)

    return max([info["num_threads"] for info in threadpool_info()] + [1])


def thread_settings(requested):
    """``requested`` is a list of ints or "all"; returns sorted unique ints."""
    top = max_threads()
    out = []
    for t in requested:
        t = top if t == "all" else int(t)
        if t not in out:
            out.append(min(t, top))
    return sorted(set(out))


def limits(threads):
    return threadpool_limits(limits=threads)


def environment():
    """Machine, library versions and BLAS, for the record."""
    import scipy
    import sklearn
    import threadpoolctl

    import l2gd

    def cmd(args):
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return ""

    lscpu = cmd(["lscpu"])
    keep = (
        "Model name",
        "CPU(s)",
        "Thread(s) per core",
        "Core(s) per socket",
        "L2",
        "L3",
        "Hypervisor vendor",
        "Flags",
    )
    cpu = {}
    for line in lscpu.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in keep:
            value = value.strip()
            if key.strip() == "Flags":
                value = " ".join(f for f in value.split() if f.startswith(("avx", "fma")))
            cpu[key.strip()] = value
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f.readline().split(":")[1].strip()
    except OSError:
        pass
    versions = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "threadpoolctl": threadpoolctl.__version__,
        "l2gd": l2gd.__version__,
    }
    try:
        import matplotlib

        versions["matplotlib"] = matplotlib.__version__
    except ImportError:
        versions["matplotlib"] = None
    blas = [
        {
            k: info.get(k)
            for k in (
                "user_api",
                "internal_api",
                "version",
                "num_threads",
                "architecture",
                "filepath",
            )
        }
        for info in threadpool_info()
    ]
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "memory_total": mem,
        "cpu_count": os.cpu_count(),
        "loadavg_start": os.getloadavg(),
        "versions": versions,
        "blas": blas,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
