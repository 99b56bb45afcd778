"""Speed and accuracy of ``positive=True`` against ``Ridge(positive=True)`` (issue 14).

Dense tall (20000 x 100) and dense wide (500 x 1500) problems whose true
coefficients have both signs (so many bounds bind), one target and several.
Every timing is the median of repeats with BLAS pinned to one thread
(threadpoolctl). Accuracy: the KKT residual of each answer (the projected
gradient relative to ``||X_c^T y_c||_inf``, computed here in float64) and its
objective relative to the best of all answers. scikit-learn's
``Ridge(positive=True)`` fits one target at a time with L-BFGS-B
(``solver="lbfgs"``, the only solver it allows with positive), at its default
``tol=1e-4`` and at ``tol=1e-10``. Prints a markdown table. Run::

    python benchmarks/bench_positive.py            # the issue's sizes
    python benchmarks/bench_positive.py --quick    # small sizes, seconds

:func:`run` returns the rows.
"""

import argparse
import sys
from pathlib import Path
import warnings

import numpy as np
from sklearn.linear_model import Ridge
from threadpoolctl import threadpool_limits

from l2gd import GDRidgeRegressor
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import median_time as _time  # noqa: E402


def make_data(n_samples, n_features, n_targets=1, seed=0):
    """Correlated dense features, coefficients of both signs, noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    X[:, 1:] += 0.5 * X[:, :-1]
    W = rng.standard_normal((n_features, n_targets))
    Y = X @ W + 3.0 + rng.standard_normal((n_samples, n_targets))
    return X, (Y[:, 0] if n_targets == 1 else Y)



def kkt_and_objective(X, Y, alpha, coef, intercept):
    """KKT residual (max over targets) and objective (sum over targets), float64."""
    Y = Y.reshape(len(X), -1)
    W = np.asarray(coef, dtype=np.float64).reshape(Y.shape[1], -1).T
    R = Y - X @ W - np.asarray(intercept).ravel()
    G = -2.0 * X.T @ R + 2.0 * alpha * W
    scale = np.abs(2.0 * X.T @ (Y - Y.mean(0))).max(axis=0)
    kkt = np.where(W > 0, np.abs(G), np.maximum(-G, 0.0)).max(axis=0) / scale
    if np.any(W < 0):
        kkt = np.full_like(kkt, np.inf)
    return float(kkt.max()), float(np.sum(R * R) + alpha * np.sum(W * W))


def _sklearn_fit(X, Y, alpha, tol):
    def fit():
        Y2 = Y.reshape(len(X), -1)
        coefs, intercepts = [], []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for k in range(Y2.shape[1]):  # Ridge(positive=True) is lbfgs, one target at a time
                est = Ridge(alpha=alpha, positive=True, solver="lbfgs", tol=tol)
                est.fit(X, Y2[:, k])
                coefs.append(est.coef_)
                intercepts.append(est.intercept_)
        return np.array(coefs), np.array(intercepts)

    return fit


def _ours_fit(X, Y, alpha, solver):
    def fit():
        est = GDRidgeRegressor(alpha=alpha, positive=True, solver=solver).fit(X, Y)
        return est.coef_, est.intercept_

    return fit


CASES = {"tall": (20_000, 100), "wide": (500, 1500)}


def run(cases=CASES, n_targets=(1, 5), alpha=1.0, repeats=5, ref_repeats=3):
    """Rows: ``case``, ``method``, ``seconds``, ``kkt``, ``rel_objective``,
    ``speedup`` (Ridge(positive=True)'s default-tol time over ours)."""
    rows = []
    with threadpool_limits(1):
        for name, (n, p) in cases.items():
            for k in n_targets:
                X, Y = make_data(n, p, k)
                fits = {
                    "l2gd closed_form": (_ours_fit(X, Y, alpha, "closed_form"), repeats),
                    "l2gd gd": (_ours_fit(X, Y, alpha, "gd"), repeats),
                    "Ridge lbfgs tol=1e-4": (_sklearn_fit(X, Y, alpha, 1e-4), ref_repeats),
                    "Ridge lbfgs tol=1e-10": (_sklearn_fit(X, Y, alpha, 1e-10), ref_repeats),
                }
                out = {}
                for method, (fit, reps) in fits.items():
                    seconds, (coef, b) = _time(fit, reps)
                    out[method] = (seconds, *kkt_and_objective(X, Y, alpha, coef, b))
                best = min(obj for _, _, obj in out.values())
                ref_s = out["Ridge lbfgs tol=1e-4"][0]
                for method, (seconds, kkt, obj) in out.items():
                    rows.append({
                        "case": f"{name} {n}x{p}, {k} target{'s' if k > 1 else ''}",
                        "method": method,
                        "seconds": seconds,
                        "kkt": kkt,
                        "rel_objective": (obj - best) / best,
                        "speedup": ref_s / seconds,
                    })
    return rows


def table(rows):
    lines = [
        "| case | method | time (s) | KKT residual | objective - best (rel.) | vs Ridge tol=1e-4 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['method']} | {r['seconds']:.4f} | {r['kkt']:.1e} | "
            f"{r['rel_objective']:.1e} | {r['speedup']:.1f}x |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if args.quick:
        rows = run({"tall": (2000, 30), "wide": (60, 150)}, n_targets=(1, 2), repeats=1,
                   ref_repeats=1)
    else:
        rows = run(repeats=args.repeats)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
