"""Accuracy of the closed form on the NIST StRD linear least-squares problems,
rank decisions on the scaled design, and no silent overflow."""

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.linalg import LinAlgWarning
from sklearn.linear_model import Ridge

from l2gd import GDRidgeRegressor, RidgeProblem
from l2gd.solvers import ClosedForm

NIST = Path(__file__).parent / "data" / "nist"
PROBLEMS = [
    "Norris", "Pontius", "NoInt1", "NoInt2", "Longley", "Filip",
    "Wampler1", "Wampler2", "Wampler3", "Wampler4", "Wampler5",
]  # fmt: skip
# The certified values carry 15 significant digits, so their own rounding is up
# to 5e-15 relative: agreement beyond 14 digits cannot be resolved.
MAX_DIGITS = 14.0
# Without an extended-precision type (longdouble == float64, e.g. Windows,
# macOS arm64) refinement runs in float64, where on the large-residual Wampler
# problems every method's error is eps * cond**2 * ||r|| up to rounding luck:
# allow one digit there.
EXTENDED = np.finfo(np.longdouble).eps < np.finfo(np.float64).eps
SLACK = 0.0 if EXTENDED else 1.0


def nist_problem(name):
    """Design (without the intercept column), y, fit_intercept and the certified
    coefficients (intercept first when there is one)."""
    with open(NIST / "certified.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["problem"] == name]
    model = rows[0]["model"]
    beta = np.array([float(r["estimate"]) for r in rows])
    data = np.loadtxt(NIST / f"{name}.csv", delimiter=",", skiprows=1, ndmin=2)
    y, X = data[:, 0], data[:, 1:]
    if model.startswith("poly"):
        X = np.column_stack([X[:, 0] ** k for k in range(1, int(model[4:]) + 1)])
    return X, y, model != "no_intercept", beta


def digits(values, certified):
    """NIST's log relative error, worst component, capped at MAX_DIGITS."""
    err = np.max(np.abs(np.asarray(values) - certified) / np.abs(certified))
    return MAX_DIGITS if err == 0 else float(min(MAX_DIGITS, -np.log10(err)))


def fitted(est, fit_intercept):
    coef = np.ravel(est.coef_)
    return np.concatenate([[est.intercept_], coef]) if fit_intercept else coef


def quiet_fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


@pytest.mark.parametrize("name", PROBLEMS)
def test_closed_form_default_has_as_many_nist_digits_as_ridge_svd(name):
    X, y, fi, beta = nist_problem(name)
    ours = quiet_fit(GDRidgeRegressor(alpha=0.0, fit_intercept=fi), X, y)
    ref = quiet_fit(Ridge(alpha=0.0, solver="svd", fit_intercept=fi), X, y)
    assert digits(fitted(ours, fi), beta) >= digits(fitted(ref, fi), beta) - SLACK
    if fi:  # the intercept on its own
        assert digits(ours.intercept_, beta[0]) >= digits(ref.intercept_, beta[0]) - SLACK


@pytest.mark.parametrize("method", ["auto", "svd"])
def test_closed_form_gets_seven_digits_on_filip(method):
    # A 10th-degree polynomial: numerically singular on the raw columns,
    # condition 4e9 once centered and column-scaled.
    X, y, fi, beta = nist_problem("Filip")
    est = GDRidgeRegressor(alpha=0.0, solver=ClosedForm(method=method))
    with warnings.catch_warnings():
        warnings.simplefilter("error", LinAlgWarning)  # full rank: no warning
        est.fit(X, y)
    assert digits(fitted(est, fi), beta) >= 7


def scaled_augmented_lstsq(X, y, alpha):
    """Independent float64 oracle: lstsq of ``[X_c D^-1; sqrt(alpha) D^-1]``
    (centered, columns scaled to unit norm), mapped back to user units."""
    m = X.mean(axis=0)
    Xc, yc = X - m, y - y.mean()
    d = np.linalg.norm(Xc, axis=0)
    A = np.vstack([Xc / d, np.diag(np.sqrt(alpha) / d)])
    v = np.linalg.lstsq(A, np.concatenate([yc, np.zeros(X.shape[1])]), rcond=None)[0]
    w = v / d
    return w, y.mean() - m @ w


@pytest.mark.parametrize("name", ["Longley", "Filip", "Pontius", "Wampler4"])
@pytest.mark.parametrize("method", ["auto", "svd"])
def test_closed_form_small_alpha_matches_scaled_augmented_lstsq(name, method):
    X, y, _, _ = nist_problem(name)
    Xc = X - X.mean(axis=0)
    # Small next to the smallest column's squared norm: the penalty matters
    # only along the ill-conditioned directions.
    alpha = 1e-6 * float(np.min(np.sum(Xc * Xc, axis=0)))
    w, b = scaled_augmented_lstsq(X, y, alpha)
    est = GDRidgeRegressor(alpha=alpha, solver=ClosedForm(method=method)).fit(X, y)
    assert np.max(np.abs(est.coef_ - w) / np.abs(w)) < 1e-6
    assert abs(est.intercept_ - b) <= 1e-6 * abs(b)


def test_rank_is_decided_on_the_scaled_design_and_min_norm_in_user_units():
    # Column 2 is 1000 x column 0: exactly rank deficient whatever the scaling;
    # the minimum-norm solution is the one in the user's units.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    X[:, 2] = 1000.0 * X[:, 0]
    y = rng.standard_normal(60)
    Xc, yc = X - X.mean(0), y - y.mean()
    lstsq = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    for method in ["auto", "svd"]:
        with pytest.warns(LinAlgWarning, match="minimum-norm"):
            est = GDRidgeRegressor(alpha=0.0, solver=ClosedForm(method=method)).fit(X, y)
        assert np.allclose(est.coef_, lstsq, rtol=1e-8, atol=1e-12)
    with pytest.warns(LinAlgWarning, match="minimum-norm"):
        est = GDRidgeRegressor(alpha=0.0).partial_fit(X, y)
    assert np.allclose(est.coef_, lstsq, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("x_scale, y_scale", [(1e300, 1.0), (1e-300, 1.0), (1e300, 1e300)])
def test_closed_form_solve_is_right_or_refuses_near_the_float_range_limits(x_scale, y_scale):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 4)) + 1.0
    y = X @ rng.standard_normal(4) + rng.standard_normal(50)
    ref = np.linalg.lstsq(np.column_stack([X, np.ones(50)]), y, rcond=None)[0][:4]
    problem = RidgeProblem(X * x_scale, (y * y_scale)[:, None], np.array([0.0]))
    with np.errstate(all="ignore"):
        result = ClosedForm().solve(problem)
    coef = result.coef[:, 0] * x_scale / y_scale
    assert np.allclose(coef, ref, rtol=1e-10)
    # The Gram route alone cannot be right here: it must refuse, clearly.
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="overflow|underflow"):
        ClosedForm(method="gram").solve(problem)


def _augmented_lstsq(X, y, alpha):
    """Oracle: ridge with intercept as float64 least squares on the augmented system."""
    n, p = X.shape
    A = np.vstack([np.hstack([X, np.ones((n, 1))]),
                   np.hstack([np.sqrt(alpha) * np.eye(p), np.zeros((p, 1))])])
    sol = np.linalg.lstsq(A, np.concatenate([y, np.zeros(p)]), rcond=None)[0]
    return sol[:p], sol[p]


def test_many_features_well_conditioned_skip_refinement_and_stay_exact():
    """The 1-norm condition estimate falls with p on well-conditioned data
    (here below REFINE_BELOW), the 2-norm one does not: no refinement pass,
    and the answer is as accurate as float64 least squares."""
    from l2gd._linalg import REFINE_BELOW, GramCholesky
    from l2gd._stats import RidgeStats

    rng = np.random.default_rng(0)
    n, p = 6000, 400
    X = rng.standard_normal((n, p)) * np.exp(rng.uniform(-0.7, 0.7, p)) + rng.uniform(-1, 1, p)
    y = X @ rng.standard_normal(p) + 2.0 + rng.standard_normal(n)
    stats = RidgeStats.from_batch(X, y)
    assert GramCholesky(stats.xx, np.array([1.0])).rcond < REFINE_BELOW  # the case at issue
    result = ClosedForm().solve(RidgeProblem(X, y[:, None], np.array([1.0])))
    assert result.info["method"] == "cholesky"
    w, b = _augmented_lstsq(X, y, 1.0)
    assert np.linalg.norm(result.coef[:, 0] - w) <= 1e-12 * np.linalg.norm(w)
    assert abs(result.intercept[0] - b) <= 1e-12 * abs(b)


def test_per_target_alphas_refine_only_the_ill_conditioned_targets(monkeypatch):
    """With one alpha per target, the extended-precision refinement passes (the
    expensive part) run on the targets whose factor is ill-conditioned (tiny
    alpha on a collinear design), not on all; every target is still as
    accurate as float64 least squares of the augmented system."""
    import l2gd.solvers._closed_form as cf

    rng = np.random.default_rng(3)
    n, p = 2000, 30
    Z = rng.standard_normal((n, p))
    X = Z @ np.diag(np.logspace(0, -4, p)) @ np.linalg.qr(rng.standard_normal((p, p)))[0]
    Y = X @ rng.standard_normal((p, 6)) + 0.1 * rng.standard_normal((n, 6))
    alpha = np.array([1e-9, 1e4, 1e5, 1e-9, 1e4, 1e5])  # targets 0 and 3 ill-conditioned
    widths = []
    real = cf._normal_residual

    def spy(problem, W):
        widths.append(W.shape[1])
        return real(problem, W)

    monkeypatch.setattr(cf, "_normal_residual", spy)
    result = ClosedForm().solve(RidgeProblem(X, Y, alpha))
    assert result.info["method"] == "cholesky+refinement"
    assert widths and set(widths) == {2}
    for k in range(6):
        w, b = _augmented_lstsq(X, Y[:, k], alpha[k])
        assert np.linalg.norm(result.coef[:, k] - w) <= 1e-9 * np.linalg.norm(w), k
        assert abs(result.intercept[k] - b) <= 1e-9 * max(1.0, abs(b)), k
