"""The regularization path as a solver capability, and the one fold engine.

Oracles built here: scikit-learn's Ridge per alpha, least squares on the
augmented weighted system per fold (float64 ``scipy.linalg.lstsq``), and the
NumPy engine's results for the Dask engine's (same folds).
"""

import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.linalg as la
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold

from l2gd import GDRidgeCV, RidgeProblem
from l2gd._cv import AlphaBoundaryWarning
from l2gd.solvers import ClosedForm, GradientDescent
from l2gd.solvers._base import PathResult
from l2gd.solvers._closed_form import InterceptComplement, deflate_intercept


@pytest.fixture(autouse=True)
def _quiet_boundary():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlphaBoundaryWarning)
        yield


def make_data(n, p, k=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 2.0
    Y = X @ rng.standard_normal((p, k)) + rng.standard_normal((n, k)) + 1.0
    return X, Y, rng.uniform(0.2, 2.0, n)


@pytest.mark.parametrize("shape", [(60, 6), (25, 70)])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize(
    "solver", [ClosedForm(), ClosedForm(method="svd"), ClosedForm(method="gram"),
               GradientDescent()], ids=repr,
)
def test_solve_path_matches_ridge_per_alpha(shape, fit_intercept, solver):
    X, Y, sw = make_data(*shape)
    alphas = np.array([10.0, 0.05, 1.0])  # not sorted: the order given is kept
    problem = RidgeProblem(X, Y, np.zeros(2), sample_weight=sw, fit_intercept=fit_intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gd at tol=1e-12 may stop at rounding
        path = solver.solve_path(problem, alphas, tol=1e-12, max_iter=50_000)
    assert isinstance(path, PathResult)
    assert path.coefs.shape == (3, shape[1], 2) and path.intercepts.shape == (3, 2)
    assert path.n_iter.shape == path.converged.shape == (3,)
    rtol = 1e-9 if isinstance(solver, ClosedForm) else 1e-6
    for i, alpha in enumerate(alphas):
        ref = Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(X, Y, sample_weight=sw)
        scale = np.abs(ref.coef_).max()
        np.testing.assert_allclose(path.coefs[i].T, ref.coef_, rtol=rtol, atol=rtol * scale)
        np.testing.assert_allclose(path.intercepts[i], ref.intercept_, rtol=rtol, atol=rtol)
    with pytest.raises(AttributeError):
        path.coefs = None  # frozen


def test_spectral_path_needs_no_per_alpha_fit_on_well_conditioned_data():
    # The eigenvalue error test compares with L + alpha for the smallest kept
    # L: on well-conditioned data tiny alphas are spectral too.
    for shape in [(300, 20), (40, 400)]:
        X, Y, _ = make_data(*shape)
        problem = RidgeProblem(X, Y, np.zeros(2))
        for method in ("auto", "svd"):
            path = ClosedForm(method=method).solve_path(problem, [1e-6, 1e-3, 1.0])
            assert path.info["n_exact"] == 0, (shape, method)


def test_warm_started_default_path_goes_from_large_to_small_alpha():
    X, Y, _ = make_data(100, 8)
    seen = []

    class Recording(ClosedForm):
        def solve(self, problem, *, init=None, **kwargs):
            seen.append((float(problem.alpha[0]), init is None))
            return super().solve(problem, **kwargs)

    # ClosedForm's own solve_path is spectral; the base class's is the warm start.
    from l2gd.solvers._base import Solver

    path = Solver.solve_path(Recording(), RidgeProblem(X, Y, np.zeros(2)), [1.0, 100.0, 0.1])
    assert seen == [(100.0, True), (1.0, False), (0.1, False)]
    assert path.info["method"] == "warm_start"
    ref = Ridge(alpha=0.1).fit(X, Y)
    np.testing.assert_allclose(path.coefs[2].T, ref.coef_, rtol=1e-10)


def test_intercept_complement_is_an_orthonormal_basis_of_the_complement():
    rng = np.random.default_rng(0)
    u = rng.uniform(0.1, 2.0, 9)
    Q = InterceptComplement.of(u).lift(np.eye(8))
    np.testing.assert_allclose(Q.T @ Q, np.eye(8), atol=1e-14)
    np.testing.assert_allclose(u @ Q, 0.0, atol=1e-14)
    A = rng.standard_normal((9, 4))
    A -= np.outer(u, u @ A) / (u @ u)  # K u = 0
    K = A @ A.T
    Kd, comp = deflate_intercept(K, u)
    np.testing.assert_allclose(Kd, Q.T @ K @ Q, atol=1e-13)
    np.testing.assert_allclose(comp.lift(Kd @ comp.reduce(np.eye(9))), K, atol=1e-13)


# -- ClosedForm(method="svd") scores with an SVD ----------------------------
def _spy(monkeypatch, name, calls):
    real = getattr(scipy.linalg, name)

    def spy(*args, **kwargs):
        calls.append(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(scipy.linalg, name, spy)


@pytest.mark.parametrize("cv", [None, 3])
@pytest.mark.parametrize("shape", [(80, 6), (30, 90)])
def test_svd_method_scores_with_an_svd_not_an_eigendecomposition(monkeypatch, cv, shape):
    X, Y, sw = make_data(*shape, k=1)
    calls = []
    _spy(monkeypatch, "svd", calls)
    _spy(monkeypatch, "eigh", calls)
    est = GDRidgeCV(alphas=[0.1, 1.0, 10.0], cv=cv, solver=ClosedForm(method="svd"))
    est.fit(X, Y[:, 0], sample_weight=sw)
    assert "svd" in calls and "eigh" not in calls
    calls.clear()
    GDRidgeCV(alphas=[0.1, 1.0, 10.0], cv=cv, solver=ClosedForm(method="gram")).fit(X, Y[:, 0])
    assert "eigh" in calls


def exact_fit(X, y, sw, alpha):
    """Weighted ridge with intercept: float64 least squares on the augmented system."""
    n, p = X.shape
    r = np.sqrt(sw)
    A = np.vstack([r[:, None] * np.hstack([X, np.ones((n, 1))]),
                   np.hstack([np.sqrt(alpha) * np.eye(p), np.zeros((p, 1))])])
    sol = la.lstsq(A, np.concatenate([r * y, np.zeros(p)]), lapack_driver="gelsy")[0]
    return sol[:p], sol[p]


def test_svd_path_is_spectral_and_exact_where_the_gram_spectrum_is_not():
    # Near-collinear columns: the Gram matrix's small eigenvalues are lost to
    # rounding (eps * L_max), the design's small singular values are not.
    rng = np.random.default_rng(3)
    n = 120
    base = rng.standard_normal((n, 3))
    X = np.hstack([base, base[:, :2] + 1e-6 * rng.standard_normal((n, 2))])
    y = X @ rng.standard_normal(5) + 0.1 * rng.standard_normal(n)
    sw = rng.uniform(0.5, 2.0, n)
    alphas = np.array([1e-9, 1e-7, 1e-4, 1e-1])
    problem = RidgeProblem(X, y[:, None], np.zeros(1), sample_weight=sw)
    assert ClosedForm(method="svd").solve_path(problem, alphas).info["n_exact"] == 0
    assert ClosedForm(method="gram").solve_path(problem, alphas).info["n_exact"] > 0
    cv = KFold(4)
    est = GDRidgeCV(alphas=alphas, cv=cv, solver=ClosedForm(method="svd"))
    est.fit(X, y, sample_weight=sw)
    for f, (train, test) in enumerate(cv.split(X)):
        for j, alpha in enumerate(alphas):
            coef, b = exact_fit(X[train], y[train], sw[train], alpha)
            r = y[test] - X[test] @ coef - b
            w = sw[test]
            ybar = np.average(y[test], weights=w)
            r2 = 1.0 - np.sum(w * r**2) / np.sum(w * (y[test] - ybar) ** 2)
            got = est.cv_results_[f"split{f}_test_score"][j]
            assert abs(got - r2) <= 1e-9 * max(1.0, abs(r2)), (f, alpha, got, r2)


# -- NumPy and Dask: one engine ---------------------------------------------
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("scoring", [None, "neg_mean_squared_error"])
def test_numpy_and_dask_cv_results_are_equal(fit_intercept, scoring):
    da = pytest.importorskip("dask.array")
    import dask

    X, Y, sw = make_data(150, 7, k=2, seed=5)
    params = dict(alphas=np.logspace(-3, 3, 9), fit_intercept=fit_intercept, scoring=scoring,
                  alpha_per_target=True)
    ref = GDRidgeCV(cv=KFold(5), **params).fit(X, Y, sample_weight=sw)
    with dask.config.set(scheduler="synchronous"):
        est = GDRidgeCV(cv=5, **params).fit(
            da.from_array(X, chunks=(40, 7)), da.from_array(Y, chunks=(40, 2)),
            sample_weight=da.from_array(sw, chunks=40),
        )
    assert sorted(est.cv_results_) == sorted(ref.cv_results_)
    for key, value in ref.cv_results_.items():
        if key == "rank_test_score":
            np.testing.assert_array_equal(est.cv_results_[key], value)
        else:
            np.testing.assert_allclose(est.cv_results_[key], value, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(est.alpha_, ref.alpha_)
