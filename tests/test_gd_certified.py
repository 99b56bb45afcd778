"""GradientDescent certifies the coefficients (or says it cannot), whatever the scales.

Oracles: float64 ``numpy.linalg.lstsq`` of the augmented weighted system
``[sqrt(s) X_c; sqrt(alpha) I] w = [sqrt(s) y_c; 0]``, built here, with its
columns scaled to unit norm (``w = v / d``) when ``alpha > 0``: unscaled,
columns of scales 1e-3 ... 1e3 leave the SVD solution itself about 1e-12 off.
(With ``alpha = 0`` the minimum-norm solution is wanted, so no scaling.)
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import LinAlgWarning
from sklearn.exceptions import ConvergenceWarning

from l2gd import RidgeProblem
from l2gd.solvers import GradientDescent


def _oracle(X, Y, alpha, sample_weight=None, fit_intercept=True):
    """Ridge coefficients (p, k) by SVD least squares (minimum norm for alpha=0)."""
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64).reshape(len(X), -1)
    n, p = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if fit_intercept:
        X, Y = X - s @ X / s.sum(), Y - s @ Y / s.sum()
    alphas = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (Y.shape[1],))
    Xs = np.sqrt(s)[:, None] * X
    norms = np.linalg.norm(Xs, axis=0)
    cols = []
    for k, a in enumerate(alphas):
        d = np.where(norms > 0, norms, 1.0) if a > 0 else np.ones(p)
        A = np.vstack([Xs / d, np.sqrt(a) * np.diag(1.0 / d)])
        b = np.concatenate([np.sqrt(s) * Y[:, k], np.zeros(p)])
        cols.append(np.linalg.lstsq(A, b, rcond=None)[0] / d)
    return np.column_stack(cols)


def _rel(a, b):
    return float(np.linalg.norm(np.asarray(a, np.float64) - b) / np.linalg.norm(b))


def _solve(X, Y, alpha, expect_warning=None, **kwargs):
    """Solve with GradientDescent; return (result, warning categories)."""
    Y = np.asarray(Y).reshape(X.shape[0], -1)
    sw = kwargs.pop("sample_weight", None)
    fi = kwargs.pop("fit_intercept", True)
    solver_kw = kwargs.pop("solver_kw", {})
    alpha = np.broadcast_to(np.asarray(alpha, dtype=X.dtype), (Y.shape[1],)).copy()
    problem = RidgeProblem(X, Y, alpha, sample_weight=sw, fit_intercept=fi)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = GradientDescent(**solver_kw).solve(problem, **kwargs)
    return result, caught


def _mixed_scales(seed=0, n=200, p=10, low=-8, high=8):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p) * np.logspace(low, high, p) + 3.0 * np.logspace(low, high, p)
    return X, rng.randn(n)


def test_mixed_column_scales_are_accurate_and_certified():
    X, y = _mixed_scales()
    result, caught = _solve(X, y, 1.0)
    assert result.converged and not caught
    assert _rel(result.coef, _oracle(X, y, 1.0)) <= 1e-6


def test_jacobi_needs_far_fewer_iterations_on_scales_1e_3_to_1e3():
    rng = np.random.default_rng(0)
    scales = np.logspace(-3, 3, 40)
    X = rng.standard_normal((600, 40)) * scales
    y = X @ (rng.standard_normal(40) / scales) + rng.standard_normal(600)
    jacobi, _ = _solve(X, y, 1.0, tol=1e-6, max_iter=5000)
    plain, _ = _solve(X, y, 1.0, tol=1e-6, max_iter=5000, solver_kw={"preconditioner": None})
    assert jacobi.converged and _rel(jacobi.coef, _oracle(X, y, 1.0)) <= 1e-6
    assert 5 * jacobi.n_iter <= plain.n_iter


@pytest.mark.parametrize("degree", [10, 15])
def test_vandermonde_tiny_alpha_never_claims_convergence_while_off(degree):
    t = np.linspace(0, 1, 100)
    X = np.vander(t, degree + 1, increasing=True)[:, 1:]
    y = np.sin(6 * t)
    tol = 1.5e-8
    result, caught = _solve(X, y, 1e-10, tol=tol)
    err = _rel(result.coef, _oracle(X, y, 1e-10))
    if result.converged:
        assert err <= 10 * tol
    else:
        messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
        assert messages and all("closed_form" in m for m in messages)
        assert "converged" not in messages[0].split("could not")[0]
    assert np.all(np.isfinite(result.coef))


def test_float32_returns_the_best_certified_iterate_and_stops_at_rounding():
    rng = np.random.RandomState(17)
    X = rng.randn(40, 30).astype(np.float32)
    y = rng.randn(40).astype(np.float32)
    ref = _oracle(X, y, 1.0)
    errors, iters = [], []
    for max_iter in (300, 1000):
        result, caught = _solve(X, y, 1.0, tol=1e-10, max_iter=max_iter)
        assert not result.converged  # 1e-10 is below float32 resolution
        assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
        errors.append(_rel(result.coef, ref))
        iters.append(result.n_iter)
    assert errors[1] <= 1.5 * errors[0] and errors[1] < 1e-5
    assert iters[0] < 300  # stopped when float32 could do no better


def test_tiny_targets_are_solved_in_rescaled_units():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((50, 5)), rng.standard_normal(50)
    result, _ = _solve(X, y * 1e-300, 1.0)
    assert result.converged and not np.any(np.isnan(result.history))
    assert _rel(result.coef * 1e300, _oracle(X, y, 1.0)) <= 1e-6


def test_huge_targets_never_give_nan_or_false_convergence():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((50, 5)), rng.standard_normal(50)
    try:
        result, _ = _solve(X, y * 1e300, 1.0)
    except ValueError as exc:
        assert "not finite" in str(exc)
    else:  # pragma: no cover - a solver that copes must be right
        assert not np.any(np.isnan(result.history))
        assert _rel(result.coef / 1e300, _oracle(X, y, 1.0)) <= 1e-6 or not result.converged


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_alpha_zero_wide_design_warns_and_returns_minimum_norm(fit_intercept):
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((12, 30)), rng.standard_normal(12)
    result, caught = _solve(X, y, 0.0, fit_intercept=fit_intercept, tol=1e-10)
    assert any(issubclass(w.category, LinAlgWarning) for w in caught)
    assert _rel(result.coef, _oracle(X, y, 0.0, fit_intercept=fit_intercept)) <= 1e-8


def test_alpha_zero_collinear_columns_give_minimum_norm():
    rng = np.random.default_rng(5)
    A = rng.standard_normal((40, 3)) * [1e-2, 1.0, 1e2]
    X = np.hstack([A, A @ rng.standard_normal((3, 4))])
    y = rng.standard_normal(40)
    result, _ = _solve(X, y, 0.0, tol=1e-10)
    assert _rel(result.coef, _oracle(X, y, 0.0)) <= 1e-7


def test_constant_column_alpha_zero_warns():
    rng = np.random.default_rng(6)
    X = np.column_stack([rng.standard_normal((30, 3)), np.full(30, 7.0)])
    y = rng.standard_normal(30)
    result, caught = _solve(X, y, 0.0)
    assert any(issubclass(w.category, LinAlgWarning) for w in caught)
    assert _rel(result.coef, _oracle(X, y, 0.0)) <= 1e-7


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_multi_target_mixed_scales_match_the_oracle(sparse, weighted, fit_intercept):
    rng = np.random.default_rng(7)
    X, _ = _mixed_scales(seed=7, n=120, p=8, low=-4, high=4)
    if sparse:
        X[rng.random(X.shape) < 0.5] = 0.0
    Y = X @ rng.standard_normal((8, 3)) + rng.standard_normal((120, 3)) * [1e-6, 1.0, 1e6]
    sw = rng.uniform(0.1, 3.0, 120) if weighted else None
    alpha = np.array([1e-3, 1.0, 50.0])
    Xs = sp.csr_matrix(X) if sparse else X
    result, caught = _solve(Xs, Y, alpha, sample_weight=sw, fit_intercept=fit_intercept)
    assert result.converged and not caught
    ref = _oracle(X, Y, alpha, sample_weight=sw, fit_intercept=fit_intercept)
    for k in range(3):
        assert _rel(result.coef[:, k], ref[:, k]) <= 1e-6
    assert not np.any(np.isnan(result.history))


def test_reported_error_bound_covers_the_true_error():
    X, y = _mixed_scales(seed=8, low=-3, high=3)
    result, _ = _solve(X, y, 1e-2, tol=1e-9)
    assert result.converged
    assert _rel(result.coef, _oracle(X, y, 1e-2)) <= max(result.info["error_bound"], 1e-13) * 1.01


def test_below_the_rounding_floor_ritz_values_stay_in_the_spectrum():
    # tol far below rounding: the iterations go on at the attainable accuracy.
    # The reported condition comes from Ritz values, which lie inside the
    # spectrum of the preconditioned operator (computed here), and the error
    # bound never claims more than float64 can hold.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 40)) * np.logspace(0, 3, 40)
    y = X @ rng.standard_normal(40) + rng.standard_normal(600)
    alpha = 1e-6
    result, _ = _solve(X, y, alpha, tol=1e-300, max_iter=200)
    Xc = X - X.mean(axis=0)
    A = Xc.T @ Xc + alpha * np.eye(40)
    d = np.sqrt(np.diag(A))
    eig = np.linalg.eigvalsh(A / np.outer(d, d))
    assert result.info["condition"] <= eig[-1] / eig[0] * (1 + 1e-6)
    assert result.info["error_bound"] >= np.finfo(np.float64).eps
    assert _rel(result.coef, _oracle(X, y, alpha)) <= 1e-10
