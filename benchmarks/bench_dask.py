"""Dask scenario: fit on data several times larger than the cluster's memory.

The data are generated block by block on the workers (``dask.array.random``)
inside the fit's own pass, so they never exist anywhere in full. For each
cluster size (weak scaling: the same data per worker) it reports

- the passes over the data (tasks that generated a block of X, divided by the
  number of blocks) and the total task count,
- the throughput (bytes of X per second of fit) against a single-process numpy
  loop over the same blocks (generate, then ``RidgeStats.from_batch`` and
  ``merge``), one BLAS thread everywhere,
- the peak resident memory of each worker (``ru_maxrss``, fresh workers),
- ``|coef - true coef|``, a sanity check (noise sd 1 / sqrt(n)).

Run::

    python benchmarks/bench_dask.py                      # 1 and 2 workers
    python benchmarks/bench_dask.py --workers 1 2 4 8 --memory-limit 2GiB --factor 4

Procedure for bigger clusters: keep ``--memory-limit`` and ``--factor``
(data = factor x total memory limit, so the data per worker is fixed) and list
the worker counts; ideal weak scaling keeps the fit time constant and the
throughput proportional to the number of workers. On a real cluster, replace the
``LocalCluster`` below by your scheduler address (``--scheduler tcp://...``),
which uses the workers already running there.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one BLAS thread per worker thread (inherited by workers)

import argparse  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def _peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _warm_up():
    """Import what the tasks need, so the timings do not include imports."""
    import dask.array  # noqa: F401

    import l2gd._dask  # noqa: F401

    return True


def make_data(n, p, chunk_rows, seed=0):
    import dask.array as da

    rng = da.random.default_rng(seed)
    X = rng.standard_normal((n, p), chunks=(chunk_rows, p))
    coef = np.linspace(-1.0, 1.0, p)
    y = X @ coef + 3.0 + rng.standard_normal(n, chunks=chunk_rows)
    return X, y, coef


def numpy_block_loop(n, p, chunk_rows, seed=0):
    """Single process: the same amount of work, block by block, in a plain loop."""
    from threadpoolctl import threadpool_limits

    from l2gd import RidgeStats

    coef = np.linspace(-1.0, 1.0, p)
    rng = np.random.default_rng(seed)
    with threadpool_limits(1):
        t0 = time.perf_counter()
        stats, gen = None, 0.0
        for start in range(0, n, chunk_rows):
            m = min(chunk_rows, n - start)
            g0 = time.perf_counter()
            Xb = rng.standard_normal((m, p))
            yb = Xb @ coef + 3.0 + rng.standard_normal(m)
            gen += time.perf_counter() - g0
            s = RidgeStats.from_batch(Xb, yb)
            stats = s if stats is None else stats.merge(s)
        total = time.perf_counter() - t0
    return total, gen


def run_cluster(n_workers, args):
    import dask
    from distributed import Client, LocalCluster, get_task_stream

    from l2gd import GDRidgeRegressor

    mem = dask.utils.parse_bytes(args.memory_limit)
    n = int(args.factor * mem * n_workers // (8 * args.p))
    n -= n % args.chunk_rows
    if args.scheduler:
        cluster = None
        client = Client(args.scheduler)
        n_workers = len(client.scheduler_info(n_workers=-1)["workers"])
    else:
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=args.memory_limit,
            dashboard_address=None,
        )
        client = Client(cluster)
    try:
        X, y, coef = make_data(n, args.p, args.chunk_rows)
        n_blocks = X.numblocks[0]
        gen_name = X.name
        client.run(_warm_up)
        pids = client.run(os.getpid)
        with get_task_stream(client) as ts:
            t0 = time.perf_counter()
            est = GDRidgeRegressor(alpha=1.0, solver=args.solver).fit(X, y)
            fit_s = time.perf_counter() - t0
        keys = [t["key"] for t in ts.data]
        names = [k[0] if isinstance(k, tuple) else str(k) for k in keys]
        gen_tasks = sum(1 for nm in names if nm == gen_name)
        with get_task_stream(client) as ts2:
            t0 = time.perf_counter()
            r2 = est.score(X, y)
            score_s = time.perf_counter() - t0
        restarts = int(client.run(os.getpid) != pids)
        peaks = list(client.run(_peak_rss_mib).values())
        return {
            "workers": n_workers,
            "n": n,
            "GB": X.nbytes / 1e9,
            "data/limit": X.nbytes / (mem * n_workers),
            "blocks": n_blocks,
            "passes": gen_tasks / n_blocks,
            "tasks": len(keys),
            "fit_s": fit_s,
            "GB/s": X.nbytes / 1e9 / fit_s,
            "score_s": score_s,
            "score_tasks": len(ts2.data),
            "peak_MiB": max(peaks),
            "limit_MiB": mem / 2**20,
            "restarts": restarts,
            "coef_err": float(np.max(np.abs(est.coef_ - coef))),
            "r2": r2,
        }
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--memory-limit", default="300MiB", help="per worker")
    parser.add_argument("--factor", type=float, default=3.0, help="data / total memory limit")
    parser.add_argument("--p", type=int, default=50, help="n_features")
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--solver", default="closed_form")
    parser.add_argument("--scheduler", default=None, help="address of an existing cluster")
    args = parser.parse_args(argv)

    rows = [run_cluster(w, args) for w in args.workers]
    print(f"\nDask fit, solver={args.solver!r}, p={args.p}, {args.chunk_rows} rows per chunk, "
          f"one thread per worker\n")
    cols = ["workers", "GB", "data/limit", "blocks", "passes", "tasks", "fit_s", "GB/s",
            "score_s", "peak_MiB", "limit_MiB", "restarts", "coef_err"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(
            f"{r[c]:.3g}" if isinstance(r[c], float) else str(r[c]) for c in cols) + " |")

    # Same work, one process, plain loop (largest data size above).
    n = rows[-1]["n"]
    total, gen = numpy_block_loop(n, args.p, args.chunk_rows)
    gb = rows[-1]["GB"]
    print(f"\nnumpy block loop, one process, same {gb:.2f} GB: {total:.2f} s "
          f"({gb / total:.3f} GB/s; generation {gen:.2f} s, statistics "
          f"{total - gen:.2f} s = {gb / (total - gen):.3f} GB/s)")
    for r in rows:
        print(f"dask, {r['workers']} worker(s): {r['GB/s']:.3f} GB/s = "
              f"{r['GB/s'] / (gb / total):.2f} x the numpy loop")


if __name__ == "__main__":
    main()
