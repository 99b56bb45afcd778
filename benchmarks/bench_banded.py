"""Banded ridge: ``GDRidgeCV(feature_groups=...)`` against himalaya's ``BandedRidgeCV`` (issue 14).

Two feature spaces of very different signal strength (an encoding-model
setting: 100 informative features, 400 nearly useless ones), several targets,
5-fold CV, 30 group weightings and the same 13 alphas for both libraries
(himalaya's random search: Dirichlet draws over the simplex of group weights,
the alpha grid scored per weighting; l2gd the same plus a coordinate
refinement). Both fit an intercept and choose one alpha pair per target.
Reported: median fit time of repeats with BLAS pinned to one thread, and the
held-out R^2 (mean over targets) of each refit, next to the single-alpha
``GDRidgeCV``. Run::

    python benchmarks/bench_banded.py            # 2000 x 500, 20 targets
    python benchmarks/bench_banded.py --quick    # small, seconds

:func:`run` returns the rows; a markdown table is printed.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import r2_score
from threadpoolctl import threadpool_limits

from l2gd import GDRidgeCV

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import median_time  # noqa: E402


def make_data(n_samples, p_strong, p_weak, n_targets, seed=0):
    rng = np.random.default_rng(seed)
    n = 2 * n_samples
    X = rng.standard_normal((n, p_strong + p_weak))
    W = np.r_[rng.standard_normal((p_strong, n_targets)),
              0.02 * rng.standard_normal((p_weak, n_targets))]
    Y = X @ W + 3.0 * rng.standard_normal((n, n_targets))
    groups = np.r_[np.zeros(p_strong, int), np.ones(p_weak, int)]
    return X[:n_samples], Y[:n_samples], X[n_samples:], Y[n_samples:], groups



def run(n_samples=2000, p_strong=100, p_weak=400, n_targets=20, repeats=3):
    X, Y, X_test, Y_test, groups = make_data(n_samples, p_strong, p_weak, n_targets)
    alphas = np.logspace(-1, 5, 13)
    rows = []
    with threadpool_limits(1):
        def l2gd_fit():
            return GDRidgeCV(alphas=alphas, cv=5, feature_groups=groups, alpha_per_target=True,
                             n_group_candidates=30, random_state=0).fit(X, Y)

        sec, model = median_time(l2gd_fit, repeats)
        rows.append(("l2gd GDRidgeCV(feature_groups)", sec,
                     r2_score(Y_test, model.predict(X_test))))
        sec_s, single = median_time(
            lambda: GDRidgeCV(alphas=alphas, cv=5, alpha_per_target=True).fit(X, Y), repeats
        )
        rows.append(("l2gd GDRidgeCV (one alpha)", sec_s,
                     r2_score(Y_test, single.predict(X_test))))
        try:
            from himalaya.ridge import BandedRidgeCV
        except ImportError:
            rows.append(("himalaya BandedRidgeCV", float("nan"), float("nan")))
        else:

            def himalaya_fit():
                params = {"n_iter": 30, "alphas": alphas, "progress_bar": False}
                return BandedRidgeCV(groups=groups, solver="random_search", solver_params=params,
                                     fit_intercept=True, cv=5, random_state=0).fit(X, Y)

            sec_h, him = median_time(himalaya_fit, repeats)
            rows.append(("himalaya BandedRidgeCV", sec_h,
                         r2_score(Y_test, np.asarray(him.predict(X_test)))))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    sizes = dict(n_samples=300, p_strong=20, p_weak=60, n_targets=4, repeats=1) if (
        args.quick) else {}
    rows = run(**sizes)
    base = rows[0][1]
    print("| method | fit time (s) | vs l2gd banded | held-out R^2 |")
    print("|---|---:|---:|---:|")
    for name, sec, r2 in rows:
        print(f"| {name} | {sec:.3f} | {sec / base:.2f}x | {r2:.4f} |")


if __name__ == "__main__":
    main()
