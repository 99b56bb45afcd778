"""positive=True: ridge with coefficients >= 0 (intercept free), every solver that
declares ``supports_positive``, against independent oracles.

Oracles: scipy.optimize.lsq_linear (bounded-variable least squares, an exact
active-set method) on the augmented system ``[S^{1/2} X, S^{1/2} 1; sqrt(alpha) I,
0]`` with the intercept unbounded, scipy.optimize.nnls on the centered augmented
system, a KKT check computed here in float64, and
``Ridge(positive=True, solver="lbfgs")`` (accurate to about 1e-6 only: its
L-BFGS-B stops on a projected gradient of ``tol`` times the objective's scale).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import lsq_linear, nnls
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold

from l2gd import GDRidgeCV, GDRidgeRegressor, RidgeStats, ridge_path
from l2gd.solvers import SGD, ClosedForm, GradientDescent, Solver, SolveResult
from l2gd.solvers import _registry
from l2gd.solvers._positive import nnls_gram

SOLVERS = ["closed_form", "gd"]


def _data(n=80, p=12, k=None, seed=0, sparse=False, dtype=np.float64):
    """Seeded data whose true coefficients have both signs (so some bounds bind)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 1.0
    if sparse:
        X[rng.random(X.shape) < 0.6] = 0.0
    shape = (p,) if k is None else (p, k)
    coef = rng.standard_normal(shape)
    y = X @ coef + 2.0 + 0.3 * rng.standard_normal((n,) + shape[1:])
    X = X.astype(dtype)
    return (sp.csr_matrix(X) if sparse else X), y.astype(dtype)


def _dense(X):
    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)


def _bvls(X, y, alpha, sample_weight=None, fit_intercept=True):
    """Oracle: lsq_linear (BVLS) on the augmented system, intercept unbounded.
    Returns coef (n_targets, p) and intercept (n_targets,)."""
    X = _dense(X)
    Y = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
    n, p = X.shape
    root = np.sqrt(np.ones(n) if sample_weight is None else np.asarray(sample_weight, float))
    alphas = np.broadcast_to(np.asarray(alpha, dtype=np.float64).ravel(), (Y.shape[1],))
    coefs, intercepts = [], []
    for j, a in enumerate(alphas):
        top = X * root[:, None]
        if fit_intercept:
            top = np.hstack([top, root[:, None]])
        bottom = np.hstack([np.sqrt(a) * np.eye(p), np.zeros((p, int(fit_intercept)))])
        A = np.vstack([top, bottom])
        b = np.r_[Y[:, j] * root, np.zeros(p)]
        lower = np.r_[np.zeros(p), np.full(int(fit_intercept), -np.inf)]
        sol = lsq_linear(A, b, bounds=(lower, np.inf), method="bvls", tol=1e-15).x
        coefs.append(sol[:p])
        intercepts.append(sol[p] if fit_intercept else 0.0)
    return np.array(coefs), np.array(intercepts)


def _nnls_centered(X, y, alpha):
    """Second oracle: scipy's Lawson-Hanson NNLS on [X_c; sqrt(alpha) I]."""
    X = _dense(X)
    Xc, yc = X - X.mean(0), y - y.mean()
    A = np.vstack([Xc, np.sqrt(alpha) * np.eye(X.shape[1])])
    w = nnls(A, np.r_[yc, np.zeros(X.shape[1])], maxiter=10_000)[0]
    return w, y.mean() - X.mean(0) @ w


def _kkt_violation(X, y, coef, intercept, alpha, sample_weight=None, fit_intercept=True):
    """Largest KKT violation relative to ||X^T S y_c||_inf, computed here in float64:
    the gradient ``g = -2 X^T S r + 2 alpha w`` (``r = y - X w - b``) must be 0
    where ``w > 0`` and >= 0 where ``w = 0``; with an intercept ``sum S r = 0``."""
    X = _dense(X)
    Y = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
    W = np.asarray(coef, dtype=np.float64).reshape(Y.shape[1], -1).T
    b = np.broadcast_to(np.asarray(intercept, dtype=np.float64).ravel(), (Y.shape[1],))
    s = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, float)
    alphas = np.broadcast_to(np.asarray(alpha, dtype=np.float64).ravel(), (Y.shape[1],))
    R = Y - X @ W - b
    G = -2.0 * X.T @ (R * s[:, None]) + 2.0 * alphas * W
    yc = Y - (s @ Y) / s.sum() if fit_intercept else Y
    scale = np.abs(2.0 * X.T @ (yc * s[:, None])).max(axis=0)
    assert (W >= 0).all(), "a coefficient is negative"
    at_bound = W == 0
    viol = np.where(at_bound, np.maximum(-G, 0.0), np.abs(G)).max(axis=0) / scale
    if fit_intercept:
        viol = np.maximum(viol, np.abs(2.0 * (s @ R)) / scale)
    return float(viol.max())


def _fit(solver, **kw):
    tol = {"tol": 1e-12, "max_iter": 500} if solver == "gd" else {}
    return GDRidgeRegressor(positive=True, solver=solver, **tol, **kw)


# -- the oracles ----------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_bvls_and_kkt(solver, sparse, fit_intercept, weighted):
    X, y = _data(sparse=sparse, seed=1)
    sw = np.random.default_rng(2).uniform(0.2, 3.0, len(y)) if weighted else None
    est = _fit(solver, alpha=1.5, fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
    coef, b = _bvls(X, y, 1.5, sw, fit_intercept)
    assert (coef == 0).sum() >= 2  # bounds bind: the test is about the constraint
    np.testing.assert_allclose(est.coef_, coef[0], rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(est.intercept_, b[0], rtol=1e-9, atol=1e-11)
    assert _kkt_violation(X, y, est.coef_, est.intercept_, 1.5, sw, fit_intercept) < 1e-10


@pytest.mark.parametrize("solver", SOLVERS)
def test_matches_nnls_and_sklearn(solver):
    X, y = _data(n=200, p=25, seed=3)
    est = _fit(solver, alpha=3.0).fit(X, y)
    w, b = _nnls_centered(X, y, 3.0)
    np.testing.assert_allclose(est.coef_, w, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(est.intercept_, b, rtol=1e-9)
    ref = Ridge(alpha=3.0, positive=True, solver="lbfgs", tol=1e-12).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-5)

    def objective(coef, intercept):
        return np.sum((y - X @ coef - intercept) ** 2) + 3.0 * coef @ coef

    # At least as good as scikit-learn's answer (which stops earlier).
    assert objective(est.coef_, est.intercept_) <= objective(ref.coef_, ref.intercept_) + 1e-9


@pytest.mark.parametrize("solver", SOLVERS)
def test_multi_target_alpha_per_target(solver):
    X, Y = _data(n=90, p=10, k=4, seed=4)
    alpha = np.array([0.1, 1.0, 10.0, 100.0])
    est = _fit(solver, alpha=alpha).fit(X, Y)
    coef, b = _bvls(X, Y, alpha)
    assert est.coef_.shape == (4, 10) and est.intercept_.shape == (4,)
    np.testing.assert_allclose(est.coef_, coef, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(est.intercept_, b, rtol=1e-8)
    assert _kkt_violation(X, Y, est.coef_, est.intercept_, alpha) < 1e-9


@pytest.mark.parametrize("solver", SOLVERS)
def test_wide_data(solver):
    X, y = _data(n=30, p=120, seed=5)
    est = _fit(solver, alpha=0.5).fit(X, y)
    coef, b = _bvls(X, y, 0.5)
    np.testing.assert_allclose(est.coef_, coef[0], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(est.intercept_, b[0], rtol=1e-7)
    assert _kkt_violation(X, y, est.coef_, est.intercept_, 0.5) < 1e-8


@pytest.mark.parametrize("solver", SOLVERS)
def test_float32(solver):
    X, y = _data(seed=6, dtype=np.float32)
    est = GDRidgeRegressor(alpha=1.0, positive=True, solver=solver).fit(X, y)
    assert est.coef_.dtype == np.float32 and (est.coef_ >= 0).all()
    coef, b = _bvls(X, y, 1.0)
    np.testing.assert_allclose(est.coef_, coef[0], atol=1e-3 * np.abs(coef).max())
    np.testing.assert_allclose(est.intercept_, b[0], rtol=1e-4)


def test_alpha_zero_is_nnls():
    X, y = _data(n=100, p=8, seed=7)
    est = GDRidgeRegressor(alpha=0.0, positive=True, fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(est.coef_, nnls(X, y)[0], rtol=1e-10, atol=1e-12)
    res = nnls_gram(X.T @ X, (X.T @ y)[:, None], [0.0])
    assert res.converged
    np.testing.assert_allclose(res.coef[:, 0], nnls(X, y)[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("solver", SOLVERS)
def test_all_bounds_bind(solver):
    # Every feature is negatively correlated with y: w = 0, b = mean(y).
    rng = np.random.default_rng(8)
    X = rng.standard_normal((50, 5))
    y = -X @ np.ones(5) + 0.01 * rng.standard_normal(50)
    est = _fit(solver, alpha=1.0).fit(X, y)
    assert np.all(est.coef_ == 0)
    assert est.intercept_ == pytest.approx(y.mean(), rel=1e-12)


@pytest.mark.parametrize("solver", SOLVERS)
def test_positive_false_unchanged_and_positive_differs(solver):
    X, y = _data(seed=9)
    free = GDRidgeRegressor(alpha=1.0, solver=solver).fit(X, y)
    ref = Ridge(alpha=1.0).fit(X, y)
    np.testing.assert_allclose(free.coef_, ref.coef_, rtol=1e-6)
    assert (free.coef_ < 0).any()
    assert (_fit(solver, alpha=1.0).fit(X, y).coef_ >= 0).all()


@pytest.mark.parametrize("solver", SOLVERS)
def test_equivariance_in_y_and_warm_start(solver):
    X, y = _data(seed=10)
    base = _fit(solver, alpha=2.0).fit(X, y)
    scaled = _fit(solver, alpha=2.0).fit(X, 8.0 * y)
    np.testing.assert_allclose(scaled.coef_, 8.0 * base.coef_, rtol=1e-9, atol=1e-10)
    # Warm start from an unconstrained fit (negative entries) reaches the same point.
    est = GDRidgeRegressor(alpha=2.0, solver=solver, warm_start=True, tol=1e-12).fit(X, y)
    est.set_params(positive=True).fit(X, y)
    np.testing.assert_allclose(est.coef_, base.coef_, rtol=1e-9, atol=1e-10)


def test_streaming_and_from_stats_are_exact():
    X, y = _data(n=120, seed=11)
    full = GDRidgeRegressor(alpha=1.0, positive=True).fit(X, y)
    est = GDRidgeRegressor(alpha=1.0, positive=True)
    stats = None
    for rows in np.array_split(np.arange(120), 4):
        est.partial_fit(X[rows], y[rows])
        part = RidgeStats.from_batch(X[rows], y[rows])
        stats = part if stats is None else stats.merge(part)
    np.testing.assert_allclose(est.coef_, full.coef_, rtol=1e-10, atol=1e-12)
    from_stats = GDRidgeRegressor.from_stats(stats, alpha=1.0, positive=True)
    np.testing.assert_allclose(from_stats.coef_, full.coef_, rtol=1e-10, atol=1e-12)
    assert (full.coef_ == 0).any()


def test_ridge_path_positive_equals_fits():
    X, y = _data(seed=12)
    alphas, coefs, intercepts = ridge_path(X, y, alphas=[0.1, 10.0, 1.0], positive=True)
    for j, a in enumerate(alphas):
        coef, b = _bvls(X, y, a)
        np.testing.assert_allclose(coefs[:, j], coef[0], rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(intercepts[j], b[0], rtol=1e-9)


# -- capabilities and errors ------------------------------------------------------
class _Unbounded(Solver):
    """A user solver that does not declare supports_positive."""

    def solve(self, problem, **kwargs):
        W = np.zeros((problem.n_features, problem.n_targets))
        return SolveResult(coef=W, intercept=problem.intercept(W), n_iter=1, converged=True)


def test_solvers_without_bounds_raise_naming_those_with():
    X, y = _data()
    msg = r"solver 'sgd' does not support positive=True .* use solver='closed_form' or 'gd'"
    with pytest.raises(ValueError, match=msg):
        GDRidgeRegressor(positive=True, solver="sgd").fit(X, y)
    with pytest.raises(ValueError, match=msg):
        GDRidgeRegressor(positive=True, solver=SGD()).partial_fit(X, y)
    with pytest.raises(ValueError, match=r"'_Unbounded' does not support positive=True"):
        GDRidgeRegressor(positive=True, solver=_Unbounded()).fit(X, y)
    with pytest.raises(ValueError, match=r"'closed_form' does not support positive=True"):
        GDRidgeRegressor(positive=True, solver=ClosedForm(method="svd")).fit(X, y)
    with pytest.raises(ValueError, match=r"does not support positive=True"):
        GDRidgeCV(positive=True, cv=3, solver="sgd").fit(X, y)
    # Without positive the user solver is never passed the keyword.
    GDRidgeRegressor(solver=_Unbounded()).fit(X, y)


def test_capability_flags_and_auto():
    assert _registry.capabilities(ClosedForm())["positive"]
    assert _registry.capabilities(GradientDescent())["positive"]
    assert not _registry.capabilities(SGD())["positive"]
    assert not _registry.capabilities(ClosedForm(method="svd"))["positive"]
    # A large stream would be sgd; with positive=True it is the closed form.
    assert _registry.auto_solver("stream", 10, 6000) == "sgd"
    assert _registry.auto_solver("stream", 10, 6000, positive=True) == "closed_form"
    assert _registry.auto_solver("fit", 6000, 6000, positive=True) == "gd"
    X, y = _data()
    assert GDRidgeRegressor(positive=True).fit(X, y).solver_ == "closed_form"


def test_positive_must_be_bool():
    X, y = _data()
    with pytest.raises(ValueError, match="positive"):
        GDRidgeRegressor(positive="yes").fit(X, y)


# -- GDRidgeCV --------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_cv_kfold_fits_each_fold_with_the_bound(solver):
    X, y = _data(n=120, p=10, seed=13)
    alphas = np.logspace(-2, 3, 8)
    cv = KFold(4, shuffle=True, random_state=0)
    tol = {"tol": 1e-12, "max_iter": 500} if solver == "gd" else {}
    est = GDRidgeCV(alphas=alphas, cv=cv, positive=True, solver=solver, **tol).fit(X, y)
    grid = GridSearchCV(
        Ridge(positive=True, solver="lbfgs", tol=1e-12), {"alpha": alphas}, cv=cv
    ).fit(X, y)
    np.testing.assert_allclose(
        est.cv_results_["mean_test_score"], grid.cv_results_["mean_test_score"], rtol=1e-6
    )
    assert est.alpha_ == grid.best_params_["alpha"]
    assert "dof" not in est.cv_results_
    coef, b = _bvls(X, y, est.alpha_)
    np.testing.assert_allclose(est.coef_, coef[0], rtol=1e-8, atol=1e-10)
    # The unconstrained CV scores differ: the folds really were constrained.
    free = GDRidgeCV(alphas=alphas, cv=cv).fit(X, y)
    assert not np.allclose(free.cv_results_["mean_test_score"], est.cv_results_["mean_test_score"])


def test_cv_multi_target_per_target_alpha():
    X, Y = _data(n=100, p=8, k=3, seed=14)
    alphas = np.logspace(-1, 3, 6)
    est = GDRidgeCV(alphas=alphas, cv=3, positive=True, alpha_per_target=True).fit(X, Y)
    for j in range(3):
        grid = GridSearchCV(
            Ridge(positive=True, solver="lbfgs", tol=1e-12), {"alpha": alphas}, cv=3
        ).fit(X, Y[:, j])
        assert est.alpha_[j] == grid.best_params_["alpha"]
    assert (est.coef_ >= 0).all()


@pytest.mark.parametrize("cv", [None, "gcv"])
def test_cv_loo_and_gcv_refuse_positive(cv):
    X, y = _data()
    with pytest.raises(ValueError, match=r"positive=True needs a K-fold cv"):
        GDRidgeCV(positive=True, cv=cv).fit(X, y)


# -- Dask -------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_dask(solver):
    da = pytest.importorskip("dask.array")
    X, Y = _data(n=120, p=9, k=2, seed=15)
    est = _fit(solver, alpha=1.0).fit(da.from_array(X, chunks=40), da.from_array(Y, chunks=40))
    coef, b = _bvls(X, Y, 1.0)
    np.testing.assert_allclose(est.coef_, coef, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(est.intercept_, b, rtol=1e-8)
    with pytest.raises(ValueError, match="does not support positive"):
        GDRidgeRegressor(positive=True, solver="sgd").fit(
            da.from_array(X, chunks=40), da.from_array(Y, chunks=40)
        )


def test_dask_cv():
    da = pytest.importorskip("dask.array")
    X, y = _data(n=120, p=8, seed=16)
    alphas = np.logspace(-1, 3, 6)
    est = GDRidgeCV(alphas=alphas, cv=3, positive=True).fit(
        da.from_array(X, chunks=40), da.from_array(y, chunks=40)
    )
    ref = GDRidgeCV(alphas=alphas, cv=3, positive=True).fit(X, y)
    np.testing.assert_allclose(
        est.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-9
    )
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match=r"positive=True needs a K-fold cv"):
        GDRidgeCV(positive=True, cv="gcv").fit(da.from_array(X, chunks=40), y)


def test_gd_reports_nonconvergence():
    X, y = _data(n=200, p=40, seed=17)
    with pytest.warns(Warning, match="did not converge"):
        GDRidgeRegressor(positive=True, solver="gd", max_iter=1, tol=1e-14).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GDRidgeRegressor(positive=True, solver="gd").fit(X, y)


def test_closed_form_refines_on_ill_conditioned_data():
    # Near-collinear columns and a tiny alpha: the Gram route alone squares the
    # condition number (relative error about 5e-7 here); refinement from X
    # restores the accuracy of an orthogonal method.
    rng = np.random.default_rng(18)
    Z = rng.standard_normal((300, 3))
    X = Z @ rng.standard_normal((3, 10)) + 1e-5 * rng.standard_normal((300, 10))
    y = X @ np.abs(rng.standard_normal(10)) + 0.01 * rng.standard_normal(300)
    est = GDRidgeRegressor(alpha=1e-6, positive=True, solver="closed_form").fit(X, y)
    coef, b = _bvls(X, y, 1e-6)
    assert np.abs(est.coef_ - coef[0]).max() <= 1e-9 * np.abs(coef).max()
