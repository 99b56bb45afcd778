"""Draw the README's pictures with :mod:`l2gd.plot` (needs ``pip install 'l2gd[plot]'``).

On scikit-learn's bundled diabetes data (442 rows, 10 features; no download),
with polynomial features of degree 2 for the loss curve (an ill-conditioned
problem, where the solvers differ), it writes:

- ``loss_curve.png``: the gap to the optimum per iteration of gradient descent
  (plain, Nesterov, conjugate gradients) and of SGD (``LossCurveDisplay``);
- ``regularization_path.png``: the coefficients against alpha and against the
  effective degrees of freedom, the alpha chosen by leave-one-out marked
  (``RegularizationPathDisplay``);
- ``cv_curve.png``: the 10-fold R^2 with its standard-error band, each fold's
  curve, the chosen and the 1-SE alphas (``CVCurveDisplay``).

Run from the repository root::

    python examples/make_readme_figures.py             # writes docs/images/*.png
    python examples/make_readme_figures.py --out /tmp  # elsewhere
"""

import argparse
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402
from sklearn.preprocessing import PolynomialFeatures, StandardScaler  # noqa: E402

from l2gd import GDRidgeCV, GDRidgeRegressor  # noqa: E402
from l2gd.plot import (  # noqa: E402
    CVCurveDisplay,
    LossCurveDisplay,
    RegularizationPathDisplay,
)
from l2gd.solvers import SGD, GradientDescent  # noqa: E402

# PNG files that depend only on the drawing: no software version in them.
SAVE = {"dpi": 110, "metadata": {"Software": None}, "bbox_inches": "tight"}


def loss_curve(X, y, path):
    """Gap to the optimum per iteration of each iterative solver, one axes."""
    Xp = StandardScaler().fit_transform(PolynomialFeatures(2, include_bias=False).fit_transform(X))
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    runs = [
        ("gd, plain", GradientDescent(acceleration="none")),
        ("gd, Nesterov", GradientDescent(acceleration="nesterov")),
        ("gd, conjugate gradients", GradientDescent()),
        ("sgd (variance-reduced)", SGD()),
    ]
    for label, solver in runs:
        est = GDRidgeRegressor(alpha=1.0, solver=solver, max_iter=300, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # plain gd stops at max_iter
            est.fit(Xp, y)
        LossCurveDisplay.from_estimator(est, Xp, y, kind="gap", ax=ax, name=label)
    ax.set_title(f"Diabetes, degree-2 features ({Xp.shape[1]} columns), alpha = 1")
    fig.savefig(path, **SAVE)
    plt.close(fig)


def regularization_path(X, y, path, names):
    """Coefficients against alpha and against the degrees of freedom."""
    alphas = np.logspace(-4, 3, 60)
    cv = GDRidgeCV(alphas=alphas).fit(X, y)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    RegularizationPathDisplay.from_estimator(
        cv, X, y, alphas=alphas, ax=left, feature_names=names, legend=False
    )
    RegularizationPathDisplay.from_estimator(
        cv, X, y, alphas=alphas, x_axis="dof", ax=right, feature_names=names
    )
    right.set_ylabel("")
    right.legend(fontsize="small", ncol=2)
    fig.savefig(path, **SAVE)
    plt.close(fig)


def cv_curve(X, y, path):
    """10-fold R^2 with its band, the folds, the chosen and the 1-SE alphas."""
    alphas = np.logspace(-5, 1, 40)
    cv = GDRidgeCV(alphas=alphas, cv=KFold(10, shuffle=True, random_state=0)).fit(X, y)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    disp = CVCurveDisplay.from_estimator(cv, ax=ax, folds=True)
    ax.set_ylim(np.nanmin(disp.lines_[0].get_ydata()) - 0.15, None)
    fig.savefig(path, **SAVE)
    plt.close(fig)
    return cv.alpha_, disp.alpha_1se_[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parent.parent
    parser.add_argument("--out", type=Path, default=root / "docs" / "images",
                        help="folder of the PNG files (default: docs/images)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    data = load_diabetes()
    X, y, names = data.data, data.target, data.feature_names
    loss_curve(X, y, args.out / "loss_curve.png")
    regularization_path(X, y, args.out / "regularization_path.png", names)
    chosen, one_se = cv_curve(X, y, args.out / "cv_curve.png")
    for name in ("loss_curve", "regularization_path", "cv_curve"):
        print(args.out / f"{name}.png")
    print(f"10-fold CV: alpha_ = {chosen:.4g}, 1-SE alpha = {one_se:.4g}")


if __name__ == "__main__":
    main()
