"""Speed of GDRidgeCV against scikit-learn's ways of choosing alpha.

Targets (issue 4), on dense data with n_samples=50,000 and n_features=200:

* 5 folds x 100 alphas: GDRidgeCV(cv=5) at least 10x faster than
  ``GridSearchCV(Ridge(), {"alpha": alphas}, cv=same folds)`` and faster than
  ``RidgeCV(alphas, cv=5)``;
* leave-one-out with 100 alphas: GDRidgeCV() no slower than RidgeCV(alphas).

Every timing is the median of repeats with BLAS pinned to one thread
(threadpoolctl); each comparison also checks that both sides chose the same
alpha. Prints a markdown table. Run::

    python benchmarks/bench_cv.py                 # the issue's sizes
    python benchmarks/bench_cv.py --quick         # small sizes, seconds
    python benchmarks/bench_cv.py --n-samples 20000 --n-features 100 --repeats 3

:func:`run` returns the rows, for ``benchmarks/run.py``.
"""

import argparse
import sys
from pathlib import Path
import warnings

import numpy as np
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.model_selection import GridSearchCV, KFold
from threadpoolctl import threadpool_limits

from l2gd._cv import GDRidgeCV
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import median_time as _time  # noqa: E402


def make_data(n_samples, n_features, seed=0):
    """Dense regression data with correlated features and noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    X[:, 1:] += 0.5 * X[:, :-1]  # some correlation
    w = rng.standard_normal(n_features)
    y = X @ w + 5.0 * rng.standard_normal(n_samples)
    return X, y



def run(n_samples=50_000, n_features=200, n_alphas=100, n_folds=5, repeats=5, ref_repeats=1):
    """Time the K-fold and leave-one-out comparisons; return table rows.

    Each row is a dict with ``case``, ``ours_s``, ``ref``, ``ref_s``,
    ``speedup`` (reference time / our time) and ``same_alpha``.
    """
    X, y = make_data(n_samples, n_features)
    alphas = np.logspace(-2, 5, n_alphas)
    folds = KFold(n_folds, shuffle=True, random_state=0)
    rows = []
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # boundary warnings are not the point here
        ours_s, ours = _time(
            lambda: GDRidgeCV(alphas=alphas, cv=folds, solver="closed_form").fit(X, y), repeats
        )
        grid_s, grid = _time(
            lambda: GridSearchCV(Ridge(), {"alpha": alphas}, cv=folds).fit(X, y), ref_repeats
        )
        rcv_s, rcv = _time(lambda: RidgeCV(alphas=alphas, cv=folds).fit(X, y), ref_repeats)
        case = f"{n_folds}-fold x {n_alphas} alphas"
        rows.append(dict(case=case, ours_s=ours_s, ref="GridSearchCV(Ridge)", ref_s=grid_s,
                         same_alpha=bool(np.isclose(ours.alpha_, grid.best_params_["alpha"]))))
        rows.append(dict(case=case, ours_s=ours_s, ref=f"RidgeCV(cv={n_folds})", ref_s=rcv_s,
                         same_alpha=bool(np.isclose(ours.alpha_, rcv.alpha_))))
        loo_s, loo = _time(lambda: GDRidgeCV(alphas=alphas).fit(X, y), repeats)
        rloo_s, rloo = _time(lambda: RidgeCV(alphas=alphas).fit(X, y), max(ref_repeats, 3))
        rows.append(dict(case=f"leave-one-out x {n_alphas} alphas", ours_s=loo_s,
                         ref="RidgeCV", ref_s=rloo_s,
                         same_alpha=bool(np.isclose(loo.alpha_, rloo.alpha_))))
    for row in rows:
        row["speedup"] = row["ref_s"] / row["ours_s"]
    return rows


def format_table(rows, n_samples, n_features):
    lines = [
        f"GDRidgeCV vs scikit-learn, dense X {n_samples} x {n_features}, "
        "1 BLAS thread, median wall time",
        "",
        "| case | GDRidgeCV (s) | reference | reference (s) | speedup | same alpha_ |",
        "|---|---:|---|---:|---:|:-:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['ours_s']:.3f} | {r['ref']} | {r['ref_s']:.3f} | "
            f"{r['speedup']:.1f}x | {'yes' if r['same_alpha'] else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=50_000)
    parser.add_argument("--n-features", type=int, default=200)
    parser.add_argument("--n-alphas", type=int, default=100)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5, help="repeats of GDRidgeCV")
    parser.add_argument("--ref-repeats", type=int, default=1,
                        help="repeats of the slow GridSearchCV / RidgeCV(cv=K) references")
    parser.add_argument("--quick", action="store_true", help="n=5000, p=50, 20 alphas")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_samples, args.n_features, args.n_alphas = 5000, 50, 20
    rows = run(args.n_samples, args.n_features, args.n_alphas, args.folds, args.repeats,
               args.ref_repeats)
    print(format_table(rows, args.n_samples, args.n_features))
    return 0 if all(r["same_alpha"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
