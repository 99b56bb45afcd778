"""RidgeProblem: value, gradient and Lipschitz constant against direct formulas."""

import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import make_regression_data

from l2gd import RidgeProblem


def make_problem(sparse=False, fit_intercept=True, weighted=True, n_targets=2, seed=0):
    X, y = make_regression_data(n_targets=n_targets, sparse=sparse, seed=seed)
    rng = np.random.default_rng(seed)
    sw = rng.uniform(0.5, 2.0, X.shape[0]) if weighted else None
    alpha = np.linspace(0.5, 3.0, n_targets)
    return RidgeProblem(X, y, alpha, sample_weight=sw, fit_intercept=fit_intercept), X, y, sw


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_value_is_ridge_objective_at_optimal_intercept(sparse, fit_intercept):
    problem, X, y, sw = make_problem(sparse, fit_intercept)
    Xd = X.toarray() if sp.issparse(X) else X
    W = np.random.default_rng(1).standard_normal((X.shape[1], y.shape[1]))
    b = problem.intercept(W)
    if fit_intercept:
        assert np.allclose(b, np.average(y - Xd @ W, axis=0, weights=sw))
    else:
        assert np.all(b == 0)
    R = y - Xd @ W - b
    direct = sum(sw @ R[:, k] ** 2 + problem.alpha[k] * W[:, k] @ W[:, k] for k in range(2))
    assert np.isclose(problem.value(W), direct, rtol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_gradient_matches_finite_differences(sparse):
    problem, X, y, _ = make_problem(sparse)
    rng = np.random.default_rng(2)
    W = rng.standard_normal((X.shape[1], y.shape[1]))
    G = problem.gradient(W)
    h = 1e-6
    for _ in range(5):
        D = rng.standard_normal(W.shape)
        fd = (problem.value(W + h * D) - problem.value(W - h * D)) / (2 * h)
        assert np.isclose(np.sum(G * D), fd, rtol=1e-6)


def test_gradient_is_zero_at_exact_solution():
    from _helpers import exact_ridge

    problem, X, y, sw = make_problem()
    coef, _ = exact_ridge(X, y, problem.alpha, sw)
    G = problem.gradient(coef.T)
    assert np.linalg.norm(G) < 1e-8 * np.linalg.norm(problem.gradient(np.zeros_like(coef.T)))


@pytest.mark.parametrize("sparse", [False, True])
def test_lipschitz_is_tight_upper_bound(sparse):
    problem, X, y, sw = make_problem(sparse, n_targets=1)
    Xd = X.toarray() if sp.issparse(X) else X
    Xc = Xd - np.average(Xd, axis=0, weights=sw)
    top = np.linalg.eigvalsh(Xc.T @ (sw[:, None] * Xc))[-1]
    L = problem.lipschitz()
    exact = 2 * (top + problem.alpha)
    assert np.all(L >= exact * (1 - 1e-9))
    assert np.all(L <= exact * 1.01)


def test_lipschitz_of_constant_design_is_two_alpha():
    X = np.ones((5, 3))
    problem = RidgeProblem(X, np.ones((5, 1)), np.array([0.7]))
    assert np.allclose(problem.lipschitz(), 1.4)


def test_implicit_centering_products():
    problem, X, y, sw = make_problem(sparse=True)
    Xc = X.toarray() - problem.X_offset
    rng = np.random.default_rng(3)
    W, R = rng.standard_normal((X.shape[1], 2)), rng.standard_normal((X.shape[0], 2))
    assert np.allclose(problem.matvec(W), Xc @ W)
    assert np.allclose(problem.rmatvec(R), Xc.T @ R)
