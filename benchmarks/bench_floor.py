"""The closed form against its floor, and mixed precision (issue 15).

Sections, every timing the median of interleaved repeats with BLAS pinned to
one thread (threadpoolctl), scikit-learn in the same process:

- ``floor``: ``GDRidgeRegressor(solver="closed_form").fit`` and
  ``RidgeStats.from_batch`` against one blocked ``syrk`` pass over X in place
  (the floor: one read of X and the ``n p^2`` flops) and
  ``Ridge(solver="cholesky")`` (the same algorithm). Run it once with
  ``PYTHONPATH`` at the old tree and once at the new one for before/after.
- ``mixed``: a prototype of mixed precision for float64 X (Gram in float32,
  refinement with float64 residuals from X), its time against the float64
  floor and its error, at several ``p``. Not in the package (see RESULTS.md).

Preconditioned gd, many targets in one gd fit and Nystrom are in
``benchmarks/bench_gd.py``.

Run::

    python benchmarks/bench_floor.py              # the issue's sizes
    python benchmarks/bench_floor.py --quick      # small sizes, seconds
    python benchmarks/bench_floor.py --section floor
"""

import argparse
import gc
import statistics
import time

import numpy as np
import scipy.linalg as la
from scipy.linalg.blas import get_blas_funcs
from sklearn.linear_model import Ridge
from threadpoolctl import threadpool_limits

import l2gd
from l2gd import GDRidgeRegressor, RidgeStats


def timed(fn):
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def interleaved(jobs, repeats):
    """name -> median seconds of ``repeats`` round-robin runs."""
    times = {name: [] for name in jobs}
    for _ in range(repeats):
        for name, fn in jobs.items():
            times[name].append(timed(fn))
    return {name: statistics.median(t) for name, t in times.items()}


def syrk_floor(X, block_bytes=2**20):
    """One blocked syrk pass over X in place (no shift, no copy)."""
    syrk = get_blas_funcs("syrk", dtype=X.dtype)
    n, p = X.shape
    rows = max(256, block_bytes // (p * X.itemsize))
    C = np.zeros((p, p), dtype=X.dtype, order="F")
    for s in range(0, n, rows):
        C = syrk(1.0, X[s : s + rows].T, beta=1.0, c=C, trans=0, lower=1, overwrite_c=1)
    return C


def tall(n, p, dtype, seed=0):
    """The suite's dense tall problem: scales in [0.5, 2], non-zero means."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * np.exp(rng.uniform(np.log(0.5), np.log(2), p))
    X += rng.uniform(-1, 1, p)
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)
    return X.astype(dtype), y.astype(dtype)


def floor_section(sizes, repeats):
    rows = []
    for n, p, dtype in sizes:
        X, y = tall(n, p, dtype)

        def fit():
            GDRidgeRegressor(solver="closed_form", alpha=1.0).fit(X, y)

        def ridge():
            Ridge(solver="cholesky", alpha=1.0).fit(X, y)

        jobs = {"floor": lambda: syrk_floor(X), "fit": fit,
                "from_batch": lambda: RidgeStats.from_batch(X, y), "ridge": ridge}
        t = interleaved(jobs, repeats)
        rows.append((f"{n:,} x {p} {np.dtype(dtype).name}", t))
        print(f"| {n:,} x {p} {np.dtype(dtype).name} | {t['floor']:.4f} | {t['from_batch']:.4f} "
              f"({t['from_batch'] / t['floor']:.2f}x) | {t['fit']:.4f} "
              f"({t['fit'] / t['floor']:.2f}x) | {t['ridge']:.4f} | "
              f"{t['ridge'] / t['fit']:.2f}x |", flush=True)
    return rows


# -- mixed precision prototype ------------------------------------------------
def mixed_fit(X, y, alpha, steps=3):
    """Prototype: float32 Gram (one blocked pass, the block converted on the
    fly), its Cholesky, then refinement steps with float64 residuals from X."""
    n, p = X.shape
    m, my = X.mean(0), y.mean()
    syrk = get_blas_funcs("syrk", dtype=np.float32)
    rows = max(256, 2**20 // (p * 4))
    C = np.zeros((p, p), dtype=np.float32, order="F")
    buf = np.empty((rows, p), dtype=np.float32)
    for s in range(0, n, rows):
        B = buf[: min(rows, n - s)]
        np.subtract(X[s : s + rows], m, out=B, casting="same_kind")
        C = syrk(1.0, B.T, beta=1.0, c=C, trans=0, lower=1, overwrite_c=1)
    G = np.tril(C).astype(np.float64)
    G = G + np.tril(G, -1).T
    G.flat[:: p + 1] += alpha
    c = la.cho_factor(G, check_finite=False)
    yc = y - my
    b = X.T @ yc - m * yc.sum()
    w = la.cho_solve(c, b, check_finite=False)
    for _ in range(steps):
        r = yc - (X @ w - m @ w)
        g = X.T @ r - m * r.sum() - alpha * w
        w = w + la.cho_solve(c, g, check_finite=False)
    return w


def mixed_section(sizes, repeats):
    for n, p, kappa in sizes:
        rng = np.random.default_rng(1)
        X = rng.standard_normal((n, p)) * np.logspace(0, np.log10(kappa), p) + 1.0
        y = X @ rng.standard_normal(p) + rng.standard_normal(n)
        alpha = 1.0
        ref = Ridge(alpha=alpha, solver="svd").fit(X, y).coef_
        est = GDRidgeRegressor(solver="closed_form", alpha=alpha)
        t = interleaved({"floor64": lambda: syrk_floor(X), "fit64": lambda: est.fit(X, y),
                         "mixed": lambda: mixed_fit(X, y, alpha)}, repeats)
        err64 = np.linalg.norm(est.fit(X, y).coef_ - ref) / np.linalg.norm(ref)
        errs = [np.linalg.norm(mixed_fit(X, y, alpha, s) - ref) / np.linalg.norm(ref)
                for s in (1, 2, 3, 5)]
        print(f"| {n:,} x {p} (column scales 1..{kappa:g}) | {t['floor64']:.4f} | {t['fit64']:.4f} "
              f"| {t['mixed']:.4f} ({t['mixed'] / t['floor64']:.2f}x floor) | {err64:.1e} | "
              + ", ".join(f"{e:.1e}" for e in errs) + " |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--section", choices=("floor", "mixed", "all"), default="all")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 5)
    print(f"l2gd {l2gd.__version__} from {l2gd.__file__}; BLAS pinned to 1 thread")
    with threadpool_limits(1):
        if args.section in ("floor", "all"):
            sizes = ([(20000, 100, np.float64), (50000, 200, np.float32)] if args.quick else
                     [(400000, 200, np.float64), (400000, 200, np.float32),
                      (20000, 100, np.float64), (20000, 1000, np.float64)])
            print("| problem | syrk floor s | from_batch s | fit s | Ridge(cholesky) s | "
                  "Ridge / fit |\n|---|---|---|---|---|---|")
            floor_section(sizes, repeats)
        if args.section in ("mixed", "all"):
            sizes = [(5000, 300, 10.0)] if args.quick else [
                (20000, 300, 10.0), (20000, 1000, 10.0), (20000, 1000, 1e3)]
            print("\n| problem | f64 syrk floor s | f64 fit s | mixed s | f64 fit error | "
                  "mixed error after 1, 2, 3, 5 steps |\n|---|---|---|---|---|---|")
            mixed_section(sizes, repeats)


if __name__ == "__main__":
    main()
