"""Fit ridge regression on a file several times larger than a memory budget.

The script writes a ``.npy`` file of ``--rows x --features`` float64 values
(by default 200 MB), then streams it in row blocks of at most ``--budget-mb / 4``
megabytes through two estimators at once:

- ``GDRidgeRegressor(solver="closed_form").partial_fit``: exact; the model
  equals ``fit`` on the whole file, with ``O(n_features**2)`` memory;
- ``GDRidgeRegressor(solver="sgd").partial_fit``: one SGD pass per block.

Blocks are read with ordinary file reads (``numpy.fromfile``), so the pages
of the file stay in the operating system's cache and do not count towards the
process's resident memory. (A ``numpy.memmap`` also works, with ``fit`` or
``partial_fit``, and no copy of X is made; but the pages it touches are mapped
into the process and count towards its RSS until the kernel reclaims them.)

It reports the peak resident set size (RSS) of the process above what it was
before streaming, next to the budget and the file size.

Run::

    python examples/out_of_core.py            # 200 MB file, 50 MB budget
    python examples/out_of_core.py --rows 200000 --budget-mb 8   # quick
"""

import argparse
import os
import resource
import tempfile
import time

import numpy as np

from l2gd import GDRidgeRegressor


def rss_mb():
    """Current resident set size of this process, in MB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb():
    """Peak resident set size since the process started, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_file(path, n_rows, n_features, coef, block_rows, seed=0):
    """Write X (.npy) and y (.npy) block by block; never holds the whole file."""
    rng = np.random.default_rng(seed)
    header = {"descr": "<f8", "fortran_order": False, "shape": (n_rows, n_features)}
    y = np.lib.format.open_memmap(path + ".y.npy", mode="w+", dtype=np.float64, shape=(n_rows,))
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        for start in range(0, n_rows, block_rows):
            X = rng.standard_normal((min(block_rows, n_rows - start), n_features))
            X.tofile(f)
            y[start : start + len(X)] = X @ coef + 1.0 + 0.5 * rng.standard_normal(len(X))
    y.flush()


def blocks(path, block_rows):
    """Yield (X_block, y_block) read from the files with plain reads."""
    y_all = np.load(path + ".y.npy", mmap_mode="r")
    with open(path, "rb") as f:
        np.lib.format.read_magic(f)
        shape, _, _ = np.lib.format.read_array_header_1_0(f)
        n_rows, n_features = shape
        for start in range(0, n_rows, block_rows):
            rows = min(block_rows, n_rows - start)
            X = np.fromfile(f, dtype=np.float64, count=rows * n_features).reshape(rows, n_features)
            yield X, np.array(y_all[start : start + rows])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_250_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--budget-mb", type=float, default=50.0)
    args = parser.parse_args()

    file_mb = args.rows * args.features * 8 / 2**20
    block_rows = max(1, int(args.budget_mb / 4 * 2**20 / (8 * args.features)))
    coef = np.linspace(-2.0, 2.0, args.features)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "X.npy")
        write_file(path, args.rows, args.features, coef, block_rows)

        exact = GDRidgeRegressor(alpha=1.0, solver="closed_form")
        sgd = GDRidgeRegressor(alpha=1.0, solver="sgd", random_state=0)
        start_rss, tic = rss_mb(), time.perf_counter()
        n_blocks = 0
        for X, y in blocks(path, block_rows):
            exact.partial_fit(X, y)
            sgd.partial_fit(X, y)
            n_blocks += 1
        elapsed = time.perf_counter() - tic
        extra = peak_rss_mb() - start_rss

    print(f"file {file_mb:.0f} MB in {n_blocks} blocks; memory budget {args.budget_mb:.0f} MB")
    print(f"peak RSS above the start of streaming: {extra:.1f} MB ({elapsed:.1f} s)")
    print(f"closed form: rows seen {exact.stats_.n_samples}, coef error vs truth "
          f"{np.linalg.norm(exact.coef_ - coef) / np.linalg.norm(coef):.2e}")
    gap = np.linalg.norm(sgd.coef_ - exact.coef_) / np.linalg.norm(exact.coef_)
    print(f"sgd (one pass, t_={sgd.t_}): relative distance to the exact solution {gap:.2e}")
    if extra > args.budget_mb:
        raise SystemExit(f"peak RSS {extra:.1f} MB exceeded the budget {args.budget_mb} MB")


if __name__ == "__main__":
    main()
