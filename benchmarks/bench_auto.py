"""The measurements behind ``solver="auto"`` (issue 15, item 6).

``"auto"`` chooses between the closed form and gd by the size ``d`` of the
matrix the closed form forms: the smaller side of dense X (Gram ``p x p`` or
kernel ``n x n``), the number of features of sparse X. The cost model says
why one number is enough: the closed form costs about ``n p d`` flops at the
BLAS-3 rate plus ``d^3 / 3`` for the factor, gd ``iterations x 2`` products
with X at the (memory-bound) BLAS-2 rate, so their ratio grows like ``d /
iterations`` whatever the larger side. This script measures that ratio on
families the rule has to serve, at growing ``d``, with the estimators'
defaults (``tol=None``, ``preconditioner="auto"``), interleaved, BLAS pinned:

- dense tall ``(2d, d)`` and dense wide ``(d, 3d)``, each ``iid`` (Gaussian
  columns, scales 0.5 ... 2, non-zero means: condition about 30) and
  ``factor`` (20 latent factors plus 10% noise, the correlated design of
  real data: condition about 1e3, where Jacobi does not help);
- sparse ``(10d, d)`` with 20 non-zeros per row, columns chosen
  ``uniform``-ly or by a ``zipf`` popularity law (text-like: a few frequent
  columns, a long tail; a decaying spectrum) or ``topics`` (each row draws
  from one of 20 zipf laws over permuted columns: correlated columns, the
  sparse analogue of ``factor``);
- ``path``: many alphas on the sparse ``topics`` design, ``ridge_path``
  (30 alphas) and ``GDRidgeCV(cv=5)`` (its default alphas, refit included),
  where one factorization serves every alpha and gd pays per alpha.

For each row: seconds of ``closed_form`` and ``gd``, gd's iterations and its
distance from the closed form (relative, coefficients), and ``cf / gd``
(> 1: gd faster). Run::

    python benchmarks/bench_auto.py              # the sizes of RESULTS.md
    python benchmarks/bench_auto.py --quick      # small sizes, seconds
    python benchmarks/bench_auto.py --family sparse --threads 1
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import fit_quietly, interleaved  # noqa: E402

from l2gd import GDRidgeCV, GDRidgeRegressor, ridge_path  # noqa: E402
from l2gd.solvers._registry import AUTO_RULES  # noqa: E402

SIZES = {
    "full": {"tall": [500, 1000, 2000, 4000], "wide": [500, 1000, 2000, 3000],
             "sparse": [500, 1000, 2000, 4000, 8000], "path": [300, 600, 1000, 1500, 2000, 3000]},
    "quick": {"tall": [200, 400], "wide": [200, 400], "sparse": [200, 400, 800],
              "path": [200, 400]},
}


def _dense(n, p, design, rng):
    if design == "iid":
        X = rng.standard_normal((n, p)) * np.exp(rng.uniform(np.log(0.5), np.log(2), p))
    else:
        X = rng.standard_normal((n, 20)) @ rng.standard_normal((20, p))
        X += 0.1 * np.sqrt(20) * rng.standard_normal((n, p))
    X += rng.uniform(-1, 1, p)
    return X


def _sparse(n, p, design, rng, per_row=20, n_topics=20):
    weights = 1.0 / np.arange(1, p + 1) ** 0.8
    weights /= weights.sum()
    if design == "uniform":
        cols = rng.integers(0, p, size=(n, per_row))
    elif design == "zipf":
        cols = rng.choice(p, size=(n, per_row), p=weights)
    else:  # topics: each row draws its columns from one of n_topics zipf laws
        topic = rng.integers(0, n_topics, size=n)
        cols = np.empty((n, per_row), dtype=np.int64)
        for k in range(n_topics):
            rows_k = np.flatnonzero(topic == k)
            order = rng.permutation(p)
            cols[rows_k] = order[rng.choice(p, size=(rows_k.size, per_row), p=weights)]
    rows = np.repeat(np.arange(n), per_row)
    X = sp.csr_matrix((rng.uniform(0.5, 2.0, n * per_row), (rows, cols.ravel())), shape=(n, p))
    X.sum_duplicates()
    return X


def problem(family, d, design, seed=0):
    rng = np.random.default_rng(seed)
    if family == "tall":
        X = _dense(2 * d, d, design, rng)
    elif family == "wide":
        X = _dense(d, 3 * d, design, rng)
    else:
        X = _sparse(10 * d, d, design, rng)
    w = rng.standard_normal(X.shape[1])
    y = np.asarray(X @ w).ravel() + rng.standard_normal(X.shape[0]) * 0.5
    return X, y


DESIGNS = {
    "tall": ("iid", "factor"),
    "wide": ("iid", "factor"),
    "sparse": ("uniform", "zipf", "topics"),
    "path": ("ridge_path", "GDRidgeCV"),
}


def _many_alphas(design, X, y, solver):
    """Seconds of ``ridge_path`` (30 alphas) or ``GDRidgeCV(cv=5)`` (its
    default alphas) with ``solver``, and the coefficients it returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        if design == "ridge_path":
            coef = ridge_path(X, y, alphas=30, solver=solver)[1]
        else:
            coef = GDRidgeCV(cv=5, solver=solver).fit(X, y).coef_
        return time.perf_counter() - t0, coef


def measure_path(d, design, repeats):
    X, y = problem("sparse", d, "topics")
    out = {}
    for _ in range(repeats):
        for name in ("closed_form", "gd"):
            dt, coef = _many_alphas(design, X, y, name)
            out.setdefault(name, []).append(dt)
            out[name + "_coef"] = np.asarray(coef)
    cf, gd = out["closed_form_coef"], out["gd_coef"]
    return {
        "shape": X.shape, "cf": float(np.median(out["closed_form"])),
        "gd": float(np.median(out["gd"])), "gd_iter": "path",
        "gd_dist": float(np.linalg.norm(gd - cf) / np.linalg.norm(cf)),
    }


def measure(family, d, design, repeats, alpha=1.0):
    X, y = problem(family, d, design)
    est = {name: GDRidgeRegressor(solver=name, alpha=alpha) for name in ("closed_form", "gd")}
    jobs = {name: (lambda e=e: fit_quietly(e, X, y)) for name, e in est.items()}
    t = interleaved(jobs, repeats, budget_s=30.0)
    cf, gd = est["closed_form"].coef_, est["gd"].coef_
    return {
        "shape": X.shape, "cf": t["closed_form"]["median"], "gd": t["gd"]["median"],
        "gd_iter": int(np.max(est["gd"].n_iter_)),
        "gd_dist": float(np.linalg.norm(gd - cf) / np.linalg.norm(cf)),
    }


def run(mode, families, threads, repeats):
    rows = []
    for nthreads in threads:
        with threadpool_limits(nthreads):
            for family in families:
                for design in DESIGNS[family]:
                    for d in SIZES[mode][family]:
                        r = (measure_path(d, design, repeats) if family == "path"
                             else measure(family, d, design, repeats))
                        r.update(threads=nthreads, family=family, design=design, d=d)
                        rows.append(r)
                        print(f"| {nthreads} | {family} {design} | {d:,} | "
                              f"{r['shape'][0]:,} x {r['shape'][1]:,} | {r['cf']:.4f} | "
                              f"{r['gd']:.4f} ({r['gd_iter']}{'' if family == 'path' else ' it.'}, "
                              f"{r['gd_dist']:.0e}) | "
                              f"{r['cf'] / r['gd']:.2f} |", flush=True)
    return rows


def crossovers(rows):
    """For each (threads, family, design): the smallest measured ``d`` from
    which gd is faster at every larger measured ``d`` (None: never)."""
    out = {}
    keys = sorted({(r["threads"], r["family"], r["design"]) for r in rows})
    for key in keys:
        series = sorted((r["d"], r["cf"] / r["gd"]) for r in rows
                        if (r["threads"], r["family"], r["design"]) == key)
        first = None
        for i, (d, _) in enumerate(series):
            if all(ratio > 1 for _, ratio in series[i:]):
                first = d
                break
        out[key] = first
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--family", choices=list(DESIGNS), action="append")
    ap.add_argument("--threads", type=int, action="append")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    mode = "quick" if args.quick else "full"
    print(f"auto today, one fit: closed_form when {AUTO_RULES['fit'].description}")
    print("\n| threads | family | d | shape | closed_form s | gd s (iter., distance) | "
          "cf / gd |\n|---|---|---|---|---|---|---|")
    rows = run(mode, args.family or list(DESIGNS), args.threads or [1, 2],
               args.repeats)
    print("\n| threads | family | gd faster from d = |\n|---|---|---|")
    for (nthreads, family, design), d in crossovers(rows).items():
        print(f"| {nthreads} | {family} {design} | {'never (measured)' if d is None else d} |")
    return rows


if __name__ == "__main__":
    main()
