"""What the estimator accepts, refuses and keeps: data at the ends of the float
range, alpha validation, streaming state, solver results, Array API inputs."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import exact_ridge, make_regression_data, rel_err
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from l2gd import GDRidgeRegressor
from l2gd.solvers import Solver, SolveResult

SOLVER_TOL = {"closed_form": 1e-10, "gd": 1e-6, "sgd": 1e-8}


def _fit(solver, X, y, alpha, **kw):
    est = GDRidgeRegressor(alpha=alpha, solver=solver, random_state=0, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


# -- data at the ends of the float range: Ridge is equivariant -------------------
@pytest.mark.parametrize("solver", ["closed_form", "gd", "sgd"])
@pytest.mark.parametrize("c", [1e300, 1e-300, 1e200, 1e-200])
def test_targets_rescaled_by_c_give_coefficients_times_c(solver, c):
    X, y = make_regression_data(60, 5, seed=1)
    base = _fit(solver, X, y, 1.0)
    est = _fit(solver, X, y * c, 1.0)
    assert np.all(np.isfinite(est.coef_)) and np.isfinite(est.intercept_)
    assert rel_err(est.coef_ / c, base.coef_) < SOLVER_TOL[solver]
    assert abs(est.intercept_ / c - base.intercept_) <= SOLVER_TOL[solver] * (
        1 + abs(base.intercept_)
    )
    assert not np.any(np.isnan(est.loss_curve_))


@pytest.mark.parametrize("solver", ["closed_form", "gd", "sgd"])
@pytest.mark.parametrize("c", [1e150, 1e-150])
def test_features_rescaled_by_c_give_coefficients_over_c(solver, c):
    # (X * c, y) with alpha * c**2 has the solution coef / c (same intercept).
    X, y = make_regression_data(60, 5, seed=2)
    base = _fit(solver, X, y, 3.0)
    est = _fit(solver, X * c, y, 3.0 * c * c)
    assert rel_err(est.coef_ * c, base.coef_) < SOLVER_TOL[solver]
    assert abs(est.intercept_ - base.intercept_) <= SOLVER_TOL[solver] * (
        1 + abs(base.intercept_)
    )


@pytest.mark.parametrize("solver", ["closed_form", "gd"])
@pytest.mark.parametrize("sparse", [False, True])
def test_huge_features_with_unit_alpha_are_least_squares(solver, sparse):
    # alpha = 1 next to a Gram matrix of order 1e600 is least squares exactly.
    X, y = make_regression_data(40, 4, seed=3)
    ref_coef, ref_icpt = exact_ridge(X, y, 0.0)
    Xc = X * 1e300
    est = _fit(solver, sp.csr_matrix(Xc) if sparse else Xc, y, 1.0)
    assert rel_err(est.coef_ * 1e300, ref_coef) < SOLVER_TOL[solver]
    assert abs(est.intercept_ - ref_icpt) < 1e-6 * (1 + abs(ref_icpt))


def test_safe_magnitudes_are_not_copied():
    from l2gd._scaling import Rescaling

    X, y = make_regression_data(30, 3, seed=4)
    scaling = Rescaling.of(X, y)
    Xs, ys = scaling.data(X, y)
    assert scaling.identity and Xs is X and ys is y


# -- alpha: what scikit-learn refuses, we refuse --------------------------------
@pytest.mark.parametrize(
    "alpha", [np.array(["1.0"]), [1, 1.0, "1"], "1.0", True, np.array([1 + 0j]), [[1.0]]]
)
def test_alpha_of_non_real_type_is_refused(alpha):
    X, y = make_regression_data(20, 3, seed=5)
    with pytest.raises((TypeError, ValueError), match="alpha"):
        GDRidgeRegressor(alpha=alpha).fit(X, y)


# -- streaming state ----------------------------------------------------------
def test_partial_fit_after_fit_continues_with_fits_rows():
    X, y = make_regression_data(80, 4, seed=6)
    est = GDRidgeRegressor(alpha=2.0, solver="closed_form").fit(X[:50], y[:50])
    est.partial_fit(X[50:], y[50:])
    ref = Ridge(alpha=2.0).fit(X, y)
    assert rel_err(est.coef_, ref.coef_) < 1e-10


def test_partial_fit_after_a_fit_that_kept_no_statistics_warns():
    # Wide data: the closed form solves the dual and keeps no p x p statistics.
    X, y = make_regression_data(10, 30, seed=7)
    est = GDRidgeRegressor(solver="closed_form").fit(X, y)
    with pytest.warns(UserWarning, match="not part of"):
        est.partial_fit(X, y)


@pytest.mark.parametrize("solver", ["sgd", "closed_form"])
def test_changing_fit_intercept_mid_stream_raises_and_keeps_the_model(solver):
    X, y = make_regression_data(50, 3, seed=8)
    est = GDRidgeRegressor(solver=solver, random_state=0).partial_fit(X, y)
    before = (est.coef_.copy(), est.intercept_, est.n_iter_, list(est.loss_curve_))
    est.set_params(fit_intercept=False)
    with pytest.raises(ValueError, match="fit_intercept"):
        est.partial_fit(X, y)
    est.set_params(fit_intercept=True)
    assert np.array_equal(est.coef_, before[0]) and est.intercept_ == before[1]
    assert est.n_iter_ == before[2] and est.loss_curve_ == before[3]
    est.partial_fit(X, y)  # the stream still continues
    assert est.n_iter_ == before[2] + 1


@pytest.mark.parametrize("solver", ["sgd", "closed_form"])
@pytest.mark.parametrize("big", [1e300, 1e-300])
def test_partial_fit_on_extreme_values_raises_a_clear_error(solver, big):
    X, y = make_regression_data(30, 3, seed=9)
    est = GDRidgeRegressor(solver=solver, random_state=0).partial_fit(X, y)
    coef = est.coef_.copy()
    with pytest.raises(ValueError, match="partial_fit: X has magnitudes"):
        est.partial_fit(X * big, y)
    assert np.array_equal(est.coef_, coef)


def test_failed_first_partial_fit_leaves_the_estimator_unfitted():
    X, y = make_regression_data(30, 3, seed=10)
    est = GDRidgeRegressor(solver="closed_form")
    with pytest.raises(ValueError):
        est.partial_fit(X * 1e300, y)
    assert not hasattr(est, "n_features_in_") and not hasattr(est, "coef_")


# -- solver results are checked once ----------------------------------------------
class _Returns(Solver):
    def __init__(self, kind="nan"):
        self.kind = kind

    def solve(self, problem, **kwargs):
        p, k = problem.n_features, problem.n_targets
        coef = np.zeros((p + (self.kind == "shape"), k))
        if self.kind == "nan":
            coef[:] = np.nan
        return SolveResult(coef=coef, intercept=np.zeros(k), n_iter=1, converged=True)


@pytest.mark.parametrize("kind, match", [("nan", "non-finite"), ("shape", "shape")])
def test_user_solver_returning_bad_coefficients_is_refused(kind, match):
    X, y = make_regression_data(20, 3, seed=11)
    with pytest.raises(ValueError, match=match):
        GDRidgeRegressor(solver=_Returns(kind)).fit(X, y)


# -- warm start -----------------------------------------------------------------
@pytest.mark.parametrize("solver", ["gd", "sgd", "closed_form"])
def test_warm_start_with_other_features_starts_cold(solver):
    X, y = make_regression_data(40, 5, seed=12)
    est = _fit(solver, X, y, 1.0, warm_start=True)
    X7 = np.hstack([X, X[:, :2] ** 2])
    est = est.set_params(warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X7, y)
    cold = _fit(solver, X7, y, 1.0)
    assert est.coef_.shape == (7,)
    assert rel_err(est.coef_, cold.coef_) < SOLVER_TOL[solver]


# -- Array API inputs: refuse what would be silently changed -------------------------
torch = pytest.importorskip("torch")


@pytest.fixture
def dispatch():
    import sklearn

    with sklearn.config_context(array_api_dispatch=True):
        yield


def test_complex_tensor_is_refused(dispatch):
    X, y = make_regression_data(20, 3, seed=13)
    with pytest.raises(ValueError, match="Complex data not supported"):
        GDRidgeRegressor().fit(torch.tensor(X + 1j * X), torch.tensor(y))


def test_tensor_requiring_grad_gets_a_clear_error(dispatch):
    X, y = make_regression_data(20, 3, seed=14)
    with pytest.raises(TypeError, match=r"requires grad.*detach"):
        GDRidgeRegressor().fit(torch.tensor(X, requires_grad=True), torch.tensor(y))


def test_alpha_array_on_another_device_is_moved_to_the_host(dispatch):
    xps = pytest.importorskip("array_api_strict")
    X, y = make_regression_data(30, 3, seed=15)
    dev = xps.Device("device1")
    est = GDRidgeRegressor(alpha=xps.asarray([2.0], device=dev)).fit(
        xps.asarray(X, device=dev), xps.asarray(y, device=dev)
    )
    ref = Ridge(alpha=2.0).fit(X, y)
    assert rel_err(np.asarray(est.coef_._array), ref.coef_) < 1e-10


# -- fitted statistics are in the user's units, or absent ---------------------------
@pytest.mark.parametrize("c, alpha", [(1e200, 1.0), (1e-150, 1e-300)])
def test_fit_on_rescaled_data_keeps_no_statistics_in_internal_units(c, alpha):
    # stats_ (and the stream state behind inference() and partial_fit) must
    # describe the user's data: the rescaled problem's moments would silently
    # give wrong standard errors and a wrong continued stream.
    X, y = make_regression_data(60, 5, seed=4)
    est = GDRidgeRegressor(alpha=alpha, solver="closed_form").fit(X * c, y)
    stats = getattr(est, "stats_", None)
    if stats is not None:
        Xc = (X * c) - (X * c).mean(axis=0)
        np.testing.assert_allclose(stats.xx, Xc.T @ Xc, rtol=1e-10)
    assert getattr(est._stream, "state", None) is None or stats is not None


def test_fit_on_safe_data_keeps_statistics():
    X, y = make_regression_data(60, 5, seed=4)
    est = GDRidgeRegressor(alpha=1.0, solver="closed_form").fit(X, y)
    Xc = X - X.mean(axis=0)
    np.testing.assert_allclose(est.stats_.xx, Xc.T @ Xc, rtol=1e-10)


@pytest.mark.parametrize("solver", ["closed_form", "gd", "sgd"])
def test_alpha_overflowing_next_to_tiny_X_is_refused_clearly(solver):
    # X at 1e-200 with alpha=1: alpha / |X|^2 = 1e400 has no float64 value in
    # any rescaling; refuse naming alpha and the remedy (never a wrong answer).
    X, y = make_regression_data(60, 5, seed=4)
    with pytest.raises(ValueError, match="alpha is too large next to X"):
        GDRidgeRegressor(alpha=1.0, solver=solver).fit(X * 1e-200, y)


# -- columns far from zero next to their spread (years, Kelvin, prices) -----------
def _offset_column_data(n, dtype, seed=0):
    """A column of "years" (2000 +- 0.5) beside unit-scale columns, in ``dtype``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    X[:, 0] = 2000.0 + 0.5 * rng.standard_normal(n)
    y = 3.0 * (X[:, 0] - 2000.0) + X[:, 1] + 0.1 * rng.standard_normal(n)
    return X.astype(dtype), (y + 1e4).astype(dtype)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_means_of_offset_columns_are_correctly_rounded(weighted, dtype):
    # Summing 300,000 float32 "years" row by row in float32 drifts by several
    # standard deviations; the centers of every iterative solver come from
    # these means, so the fit would solve another problem. Oracle: the long
    # double mean of the very same values. Allowed: one rounding to the dtype
    # and, in float64 (the float32 means are summed in float64), the blocked
    # sum's rounding, about n**0.25 eps |mean| (row by row: sqrt(n) eps |mean|).
    from l2gd._objective import RidgeProblem

    X, y = _offset_column_data(300_000, dtype)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0]).astype(dtype) if weighted else None
    problem = RidgeProblem(X, y[:, None], np.ones(1, dtype), sample_weight=sw)
    s = np.ones(X.shape[0], np.longdouble) if sw is None else sw.astype(np.longdouble)
    for got, A in ((problem.X_offset, X), (problem.y_offset, y[:, None])):
        AL = A.astype(np.longdouble)
        exact = (s @ AL) / s.sum()
        summed = 4 * len(s) ** 0.25 * np.finfo(np.float64).eps * np.abs(exact)
        allowed = np.spacing(np.abs(exact).astype(dtype)) + summed
        assert got.dtype == dtype
        assert np.all(np.abs(got.astype(np.longdouble) - exact) <= allowed)


@pytest.mark.parametrize("solver", ["gd", "sgd"])
def test_float32_fit_with_a_year_column_is_right_or_warns(solver):
    # Before: sgd returned a coefficient of 0.0024 for the year column (3.0
    # expected: 99.9% off) without a warning, gd warned; both solved the
    # problem centered at a float32 mean 35 standard deviations off.
    X, y = _offset_column_data(1_000_000, np.float32)
    ref = Ridge(alpha=1.0).fit(X.astype(np.float64), y.astype(np.float64))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        est = GDRidgeRegressor(alpha=1.0, solver=solver, random_state=0).fit(X, y)
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    err = rel_err(est.coef_, ref.coef_)
    assert warned or err <= 1e-3, err
    assert err <= 1e-2, err  # and the answer is the right one either way
