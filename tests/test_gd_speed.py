"""GradientDescent's preconditioner: the "auto" choice, and the randomized Nystrom one.

Oracles built here: ``exact_ridge`` (pivoted-QR least squares of the augmented
weighted system, float64) for the coefficients, and an independent NumPy
conjugate gradient on the centered normal equations for the number of
iterations plain CG needs to reach a given true error.
"""

import warnings

import numpy as np
import pytest
import scipy.linalg as la
import scipy.sparse as sp
from _helpers import exact_ridge, rel_err

from l2gd import GDRidgeRegressor, RidgeProblem, RidgeStats
from l2gd._objective import GramProblem
from l2gd.solvers import GradientDescent


def _numpy_cg_iterations(X, y, alpha, ref, level, max_iter=5000):
    """Iterations of textbook CG (from 0) on ``(X_c^T X_c + alpha I) w = X_c^T y_c``
    until ``||w - ref|| <= level ||ref||``."""
    X = X.toarray() if sp.issparse(X) else X
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    w = np.zeros(X.shape[1])
    r = Xc.T @ yc
    d, rr = r.copy(), r @ r
    for it in range(1, max_iter + 1):
        Ad = Xc.T @ (Xc @ d) + alpha * d
        a = rr / (d @ Ad)
        w += a * d
        r -= a * Ad
        if np.linalg.norm(w - ref) <= level * np.linalg.norm(ref):
            return it
        rr, rr_old = r @ r, rr
        d = r + (rr / rr_old) * d
    raise AssertionError("the reference CG did not converge")


def _solve(X, Y, alpha, solver=None, **kwargs):
    Y = np.asarray(Y).reshape(X.shape[0], -1)
    alpha = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (Y.shape[1],)).copy()
    problem = RidgeProblem(X, Y, alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning, no LinAlgWarning
        return (solver or GradientDescent()).solve(problem, **kwargs)


def _wide(sparse, seed=0, n=150, p=450):
    rng = np.random.default_rng(seed)
    if sparse:
        X = sp.random(n, p, density=0.1, format="csr", random_state=seed)
    else:
        X = rng.standard_normal((n, p)) + 0.5
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("sparse", [False, True])
def test_wide_near_uniform_scales_take_about_plain_cg_iterations(sparse):
    # Wide: X_c^T X_c + alpha I has a (p - n)-fold eigenvalue alpha that plain
    # CG from 0 never sees; Jacobi scaling spreads it and costs several times
    # more iterations. The default must stay within 1.3x of plain CG.
    X, y = _wide(sparse)
    ref = exact_ridge(X, y, 1.0)[0]
    plain = _numpy_cg_iterations(X, y, 1.0, ref, 1e-6)
    result = _solve(X, y, 1.0, tol=1e-6, max_iter=5000)
    assert result.converged and rel_err(result.coef[:, 0], ref) <= 1e-6
    assert result.n_iter <= 1.3 * plain + 2, (result.n_iter, plain)


@pytest.mark.parametrize("shape", [(3000, 60), (150, 450)], ids=["tall", "wide"])
def test_column_scales_1e_3_to_1e3_converge_accurately(shape):
    n, p = shape
    rng = np.random.default_rng(1)
    scales = rng.permutation(np.logspace(-3, 3, p))
    X = (rng.standard_normal((n, p)) + 0.5) * scales
    y = X @ (rng.standard_normal(p) / scales) + rng.standard_normal(n)
    ref = exact_ridge(X, y, 1.0)[0]
    result = _solve(X, y, 1.0, tol=1e-6, max_iter=20000)
    assert result.converged and rel_err(result.coef[:, 0], ref) <= 1e-6
    if n > p:  # Jacobi: the iterations do not see the scales
        assert result.n_iter <= 40


@pytest.mark.parametrize("spread", [1.0, 10.0, 1e4])
def test_wide_data_is_never_slower_than_plain_cg_whatever_the_scales(spread):
    # Jacobi on wide data spreads the alpha cluster by the spread of the
    # column scales: at 1e4 it takes thousands of iterations where plain CG
    # takes hundreds.
    rng = np.random.default_rng(2)
    n, p = 100, 300
    scales = rng.permutation(np.logspace(0, np.log10(spread), p))
    X = (rng.standard_normal((n, p)) + 0.5) * scales
    y = X @ (rng.standard_normal(p) / scales) + rng.standard_normal(n)
    ref = exact_ridge(X, y, 1.0)[0]
    auto = _solve(X, y, 1.0, tol=1e-6, max_iter=20000)
    plain = _solve(X, y, 1.0, tol=1e-6, max_iter=20000,
                   solver=GradientDescent(preconditioner=None))
    assert auto.converged and rel_err(auto.coef[:, 0], ref) <= 1e-6
    assert auto.n_iter <= plain.n_iter


def test_warm_start_off_the_row_space_is_still_certified_honestly():
    # From a start with a component in the null space of X_c the iterates do
    # not stay in the row space: the alpha eigenvalue is then in play, and the
    # certificate must see it (returned error within the requested tol).
    X, y = _wide(False, seed=3)
    ref = exact_ridge(X, y, 0.1)[0]
    init = np.random.default_rng(4).standard_normal((X.shape[1], 1)) * np.abs(ref).max()
    for pre in ("auto", None, "jacobi"):
        result = _solve(X, y, 0.1, tol=1e-7, max_iter=20000, init=init,
                        solver=GradientDescent(preconditioner=pre))
        assert result.converged and rel_err(result.coef[:, 0], ref) <= 1e-7, pre


def _fast_decay(seed=5, n=400, p=200, decay=8.0):
    rng = np.random.default_rng(seed)
    Q = la.qr(rng.standard_normal((n, p)), mode="economic")[0]
    V = la.qr(rng.standard_normal((p, p)))[0]
    X = (Q * (1e2 * np.exp(-np.arange(p) / decay))) @ V.T + 1.0
    y = X @ rng.standard_normal(p) + 0.01 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("rank", ["auto", 60])
def test_nystrom_needs_far_fewer_iterations_on_fast_spectral_decay(rank):
    X, y = _fast_decay()
    alpha, tol = 1e-2, 1e-7
    ref = exact_ridge(X, y, alpha)[0]
    nys = _solve(X, y, alpha, tol=tol, max_iter=5000, random_state=0,
                 solver=GradientDescent(preconditioner="nystrom", rank=rank))
    # Jacobi-preconditioned CG leaves kappa ~ 2e6 here, so at tol=1e-7 it is in
    # its own rounding regime (1e3 eps kappa ~ 5e-7) and may honestly refuse to
    # certify; it is given the 10x looser tol=1e-6, which only favours it.
    jac = _solve(X, y, alpha, tol=10 * tol, max_iter=5000,
                 solver=GradientDescent(preconditioner="jacobi"))
    assert nys.converged and rel_err(nys.coef[:, 0], ref) <= tol
    assert jac.converged and rel_err(jac.coef[:, 0], ref) <= 10 * tol
    assert 4 * nys.n_iter <= jac.n_iter, (nys.n_iter, jac.n_iter)
    assert nys.info["preconditioner"] == "nystrom" and nys.info["rank"] >= 1


def test_nystrom_is_seeded_and_works_on_statistics_with_several_alphas():
    X, y = _fast_decay(seed=6)
    Y = np.column_stack([y, -2 * y + 1])
    alpha = np.array([1e-3, 1.0])
    solver = GradientDescent(preconditioner="nystrom", rank=40)
    data = RidgeProblem(X, Y, alpha)
    a = solver.solve(data, tol=1e-8, random_state=3)
    b = solver.solve(data, tol=1e-8, random_state=3)
    np.testing.assert_array_equal(a.coef, b.coef)
    gram = GramProblem(RidgeStats.from_batch(X, Y), alpha)
    c = solver.solve(gram, tol=1e-8, random_state=3)
    for k in range(2):
        ref = exact_ridge(X, Y[:, k], alpha[k])[0]
        assert rel_err(a.coef[:, k], ref) <= 1e-8
        assert rel_err(c.coef[:, k], ref) <= 1e-8
    assert a.converged and c.converged


def test_nystrom_through_the_estimator_matches_the_oracle_on_sparse_data():
    rng = np.random.default_rng(7)
    X = sp.random(300, 80, density=0.2, format="csr", random_state=7)
    y = X @ rng.standard_normal(80) + 0.1 * rng.standard_normal(300)
    est = GDRidgeRegressor(alpha=0.5, tol=1e-8, random_state=0,
                           solver=GradientDescent(preconditioner="nystrom")).fit(X, y)
    coef, intercept = exact_ridge(X, y, 0.5)
    assert rel_err(est.coef_, coef) <= 1e-8
    assert np.isclose(est.intercept_, intercept, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("params, match", [
    ({"preconditioner": "nystrom", "acceleration": "nesterov"}, "needs acceleration='cg'"),
    ({"preconditioner": "nystrom", "rank": 0}, "rank must be"),
    ({"preconditioner": "nystrom", "rank": 2.5}, "rank must be"),
    ({"preconditioner": "jacobi", "rank": 5}, "rank is only used"),
])
def test_bad_nystrom_parameters(params, match):
    X, y = _wide(False)
    with pytest.raises(ValueError, match=match):
        _solve(X, y, 1.0, solver=GradientDescent(**params))


@pytest.mark.parametrize("shape, same_as", [((60, 180), None), ((400, 30), "jacobi")])
def test_positive_gd_follows_the_auto_rule(shape, same_as):
    """positive=True (projected Newton, CG on the free set) takes the same
    preconditioner as the unconstrained gd: none on wide data, where Jacobi
    spreads the alpha eigenvalue (measured at 500 x 1500, column scales
    1 ... 10: 31 s with Jacobi, 20 s without), Jacobi on tall data. The
    default fit is step for step the fit with that preconditioner, and it is
    the non-negative least-squares oracle's solution."""
    from scipy.optimize import nnls

    rng = np.random.default_rng(2)
    n, p = shape
    s = np.logspace(0, 1, p)
    X = (rng.standard_normal((n, p)) + 0.5) * s
    y = X @ (np.abs(rng.standard_normal(p)) / s) + rng.standard_normal(n)

    def fit(pc):
        est = GDRidgeRegressor(solver=GradientDescent(preconditioner=pc), positive=True,
                               alpha=1.0, tol=1e-10, max_iter=500)
        return est.fit(X, y)

    auto, chosen = fit("auto"), fit(same_as)
    assert auto.n_iter_ == chosen.n_iter_
    np.testing.assert_array_equal(auto.coef_, chosen.coef_)
    Xc, yc = X - X.mean(0), y - y.mean()
    coef = nnls(np.vstack([Xc, np.eye(p)]), np.r_[yc, np.zeros(p)], maxiter=10_000)[0]
    assert rel_err(auto.coef_, coef) <= 1e-7
