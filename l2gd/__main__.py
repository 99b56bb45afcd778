"""``python -m l2gd``: fit every solver and scikit-learn's Ridge, print a comparison,
then choose alpha by cross-validation with GDRidgeCV, RidgeCV and GridSearchCV.

By default on scikit-learn's bundled diabetes data (no download); ``--csv FILE
--target COLUMN`` runs on your own numeric CSV file.
"""

import argparse
import sys
import time

import numpy as np
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.model_selection import GridSearchCV, KFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import GDRidgeRegressor
from ._cv import GDRidgeCV
from .solvers import SOLVERS


def load_csv(path, target):
    """Read a numeric CSV with a header row; return ``X, y, feature_names``."""
    try:
        with open(path, encoding="utf-8") as fh:
            header = fh.readline().strip().split(",")
    except FileNotFoundError:
        raise SystemExit(f"error: --csv file {path!r} does not exist.") from None
    names = [h.strip().strip('"') for h in header]
    if target not in names:
        raise SystemExit(
            f"error: --target column {target!r} is not in {path!r}; columns are: "
            + ", ".join(names)
        )
    try:
        data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    except ValueError as exc:
        raise SystemExit(f"error: {path!r} must hold numbers only after its header: {exc}")
    j = names.index(target)
    return np.delete(data, j, axis=1), data[:, j], [n for i, n in enumerate(names) if i != j]


def compare(X, y, alpha=1.0, random_state=0):
    """Fit Ridge and every l2gd solver on a standardized train split.

    Returns a list of rows ``(name, fit_seconds, n_iter, max_abs_coef_diff, test_r2)``.
    """
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=random_state
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    t0 = time.perf_counter()
    ref = Ridge(alpha=alpha).fit(X_train, y_train)
    rows = [("sklearn Ridge", time.perf_counter() - t0, "-", 0.0, ref.score(X_test, y_test))]
    for name in SOLVERS:
        est = GDRidgeRegressor(alpha=alpha, solver=name, random_state=random_state)
        t0 = time.perf_counter()
        est.fit(X_train, y_train)
        elapsed = time.perf_counter() - t0
        diff = float(np.max(np.abs(est.coef_ - ref.coef_)))
        rows.append((f"l2gd {name}", elapsed, est.n_iter_, diff, est.score(X_test, y_test)))
    return rows


def format_table(rows):
    lines = [f"{'solver':<18}{'fit time':>12}{'n_iter_':>9}{'max|coef-Ridge|':>18}{'test R^2':>10}"]
    for name, sec, n_iter, diff, r2 in rows:
        lines.append(f"{name:<18}{sec * 1e3:>10.2f}ms{n_iter!s:>9}{diff:>18.2e}{r2:>10.4f}")
    return "\n".join(lines)


def compare_cv(X, y, n_folds=5, n_alphas=100):
    """Choose alpha in ``Pipeline(StandardScaler(), ...)`` with GDRidgeCV and scikit-learn.

    GDRidgeCV's grid (``n_alphas`` alphas derived from the scaled data, 100
    by default) is given to RidgeCV and GridSearchCV too. Returns rows ``(method, cv,
    alpha_, best_score_, fit_seconds)``.
    """
    folds = KFold(n_folds, shuffle=True, random_state=0)

    def timed(estimator):
        pipe = make_pipeline(StandardScaler(), estimator)
        t0 = time.perf_counter()
        pipe.fit(X, y)
        return pipe[-1], time.perf_counter() - t0

    loo, loo_s = timed(GDRidgeCV(alphas=n_alphas))
    alphas = loo.alphas_
    ref_loo, ref_loo_s = timed(RidgeCV(alphas=alphas))
    kfold, kfold_s = timed(GDRidgeCV(alphas=alphas, cv=folds))
    grid, grid_s = timed(GridSearchCV(Ridge(), {"alpha": alphas}, cv=folds))
    ref_kfold, ref_kfold_s = timed(RidgeCV(alphas=alphas, cv=folds))
    return [
        ("l2gd GDRidgeCV()", "leave-one-out", loo.alpha_, loo.best_score_, loo_s),
        ("sklearn RidgeCV", "leave-one-out", ref_loo.alpha_, ref_loo.best_score_, ref_loo_s),
        ("l2gd GDRidgeCV", f"{n_folds}-fold", kfold.alpha_, kfold.best_score_, kfold_s),
        ("sklearn GridSearchCV(Ridge)", f"{n_folds}-fold", grid.best_params_["alpha"],
         grid.best_score_, grid_s),
        ("sklearn RidgeCV", f"{n_folds}-fold", ref_kfold.alpha_, ref_kfold.best_score_,
         ref_kfold_s),
    ]


def format_cv_table(rows):
    lines = [f"{'method':<30}{'cv':<15}{'alpha_':>12}{'best_score_':>14}{'fit time':>12}"]
    for name, cv, alpha, score, sec in rows:
        lines.append(f"{name:<30}{cv:<15}{alpha:>12.5g}{score:>14.5g}{sec * 1e3:>10.1f}ms")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m l2gd", description=__doc__)
    parser.add_argument("--csv", help="numeric CSV file with a header row")
    parser.add_argument("--target", help="name of the target column in --csv")
    parser.add_argument("--alpha", type=float, default=1.0, help="penalty (Ridge's alpha)")
    args = parser.parse_args(argv)
    if (args.csv is None) != (args.target is None):
        parser.error("--csv and --target go together")
    if args.csv:
        X, y, _ = load_csv(args.csv, args.target)
        source = f"{args.csv} (target {args.target!r})"
    else:
        from sklearn.datasets import load_diabetes

        X, y = load_diabetes(return_X_y=True)
        source = "scikit-learn's diabetes data"
    print(f"l2gd vs scikit-learn Ridge on {source}: {X.shape[0]} samples, "
          f"{X.shape[1]} features, alpha={args.alpha}\n")
    print(format_table(compare(X, y, alpha=args.alpha)))
    print("\nChoosing alpha by cross-validation in Pipeline(StandardScaler(), ...) over "
          "GDRidgeCV's default grid of 100 alphas (best_score_: minus the mean squared "
          "leave-one-out error, or the mean R^2 over folds):\n")
    print(format_cv_table(compare_cv(X, y)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
