"""``python -m l2gd``: fit every solver and scikit-learn's Ridge, print a comparison.

By default on scikit-learn's bundled diabetes data (no download); ``--csv FILE
--target COLUMN`` runs on your own numeric CSV file.
"""

import argparse
import sys
import time

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from . import GDRidgeRegressor
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
