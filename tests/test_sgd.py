"""The "sgd" solver against Ridge and exact invariances; the plain method's
schedules, averaging and warm start (the variance-reduced default: test_sgd_vr.py)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV

from l2gd import GDRidgeRegressor, RidgeProblem
from l2gd.schedules import Constant, InverseScaling, Optimal
from l2gd.solvers import SGD


def make_data(n=2000, p=10, n_targets=1, noise=0.1, seed=0, weights=False):
    """Standardized, well-conditioned seeded regression data."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, n_targets))
    Y = X @ W + 3.0 + noise * rng.standard_normal((n, n_targets))
    y = Y[:, 0] if n_targets == 1 else Y
    sw = rng.uniform(0.5, 2.0, size=n) if weights else None
    return X, y, sw


def rel_err(a, b):
    return np.linalg.norm(np.asarray(a) - b) / np.linalg.norm(b)


def ridge_objective(X, y, sw, coef, intercept, alpha):
    r = np.reshape(y, (len(y), -1)) - (X @ np.atleast_2d(coef).T + intercept)
    s = np.ones(len(y)) if sw is None else sw
    return float(np.sum(s[:, None] * r**2) + np.sum(alpha * np.atleast_2d(coef) ** 2))


def test_default_reaches_1e_2_on_standardized_problem():
    X, y, _ = make_data(n=10_000, p=20, noise=1.0)
    ref = Ridge(alpha=1.0).fit(X, y)
    est = GDRidgeRegressor(alpha=1.0, solver="sgd", random_state=0).fit(X, y)
    assert rel_err(est.coef_, ref.coef_) <= 1e-2
    assert abs(est.intercept_ - ref.intercept_) <= 1e-2
    assert est.solver_ == "sgd" and est.n_iter_ == len(est.loss_curve_) > 0


def test_averaging_and_more_epochs_reach_1e_4():
    X, y, _ = make_data(n=10_000, p=20, noise=0.1)
    ref = Ridge(alpha=1.0).fit(X, y)
    solver = SGD(learning_rate=Constant(), average=5, method="plain")
    est = GDRidgeRegressor(solver=solver, tol=0.0, max_iter=100, random_state=0).fit(X, y)
    assert rel_err(est.coef_, ref.coef_) <= 1e-4


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_multi_output_weights_against_ridge(fit_intercept):
    X, Y, sw = make_data(n=3000, p=8, n_targets=3, weights=True, seed=1)
    alpha = np.array([0.1, 10.0, 300.0])
    ref = Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(X, Y, sample_weight=sw)
    est = GDRidgeRegressor(
        alpha=alpha, fit_intercept=fit_intercept, solver=SGD(batch_size=64), random_state=0
    ).fit(X, Y, sample_weight=sw)
    assert est.coef_.shape == ref.coef_.shape == (3, 8)
    assert rel_err(est.coef_, ref.coef_) <= 1e-2
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-2)


def test_sparse_with_intercept_is_never_densified(monkeypatch):
    rng = np.random.default_rng(2)
    X = sp.random(2000, 30, density=0.2, format="csr", random_state=3)
    X.data = rng.standard_normal(X.nnz) + 2.0  # non-centered columns
    y = X @ rng.standard_normal(30) + 0.05 * rng.standard_normal(2000) + 1.0
    ref = Ridge(alpha=1.0).fit(X.toarray(), y)

    def refuse(*args, **kwargs):
        raise AssertionError("X was densified")

    monkeypatch.setattr(sp.csr_matrix, "toarray", refuse)
    monkeypatch.setattr(sp.csr_matrix, "todense", refuse)
    est = GDRidgeRegressor(solver=SGD(batch_size=32), random_state=0).fit(X, y)
    assert rel_err(est.coef_, ref.coef_) <= 1e-2
    assert abs(est.intercept_ - ref.intercept_) <= 1e-2


def test_float32_stays_float32():
    X, y, _ = make_data(n=2000, p=6)
    ref = Ridge(alpha=1.0).fit(X, y)
    est = GDRidgeRegressor(solver="sgd", random_state=0).fit(X.astype(np.float32), y)
    assert est.coef_.dtype == np.float32
    assert rel_err(est.coef_, ref.coef_) <= 1e-3


def test_loss_curve_is_the_objective_of_the_returned_model():
    X, y, sw = make_data(n=1000, p=5, weights=True)
    est = GDRidgeRegressor(alpha=3.0, solver="sgd", random_state=0).fit(X, y, sample_weight=sw)
    value = ridge_objective(X, y, sw, est.coef_, est.intercept_, 3.0)
    assert est.loss_curve_[-1] == pytest.approx(value, rel=1e-10)
    # ... and never below the exact minimum.
    ref = Ridge(alpha=3.0).fit(X, y, sample_weight=sw)
    best = ridge_objective(X, y, sw, ref.coef_, ref.intercept_, 3.0)
    assert min(est.loss_curve_) >= best * (1 - 1e-12)


def test_reproducible_with_random_state():
    X, y, _ = make_data(n=500, p=5)
    a = GDRidgeRegressor(solver=SGD(batch_size=16), max_iter=3, random_state=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        c1 = a.fit(X, y).coef_.copy()
        c2 = a.fit(X, y).coef_.copy()
        c3 = a.set_params(random_state=8).fit(X, y).coef_
    np.testing.assert_array_equal(c1, c2)
    assert not np.array_equal(c1, c3)


def test_warm_start_resumes():
    # A constant step and a fixed row order make epochs 4-5 after a warm start
    # exactly epochs 4-5 of one run of 5.
    X, y, _ = make_data(n=600, p=5)
    solver = SGD(batch_size=32, learning_rate=Constant(0.01), shuffle=False, method="plain")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cold = GDRidgeRegressor(solver=solver, tol=0.0, max_iter=5).fit(X, y)
        warm = GDRidgeRegressor(solver=solver, tol=0.0, max_iter=3, warm_start=True).fit(X, y)
        first = warm.coef_.copy()
        warm.set_params(max_iter=2).fit(X, y)
    assert not np.allclose(first, cold.coef_)
    np.testing.assert_allclose(warm.coef_, cold.coef_, rtol=1e-12)
    assert warm.intercept_ == pytest.approx(cold.intercept_, rel=1e-12)


def test_early_stopping_restores_best_epoch():
    X, y, _ = make_data(n=400, p=5, noise=2.0, seed=4)
    problem = RidgeProblem(X, y[:, None], np.array([1.0]))
    # A large constant step keeps the iterates noisy, so epochs differ.
    solver = SGD(
        batch_size=4, learning_rate=0.05, early_stopping=True, n_iter_no_change=3, method="plain"
    )
    result = solver.solve(problem, random_state=0, max_iter=30, tol=0.0)
    scores = result.info["validation_scores"]
    best = result.info["best_iteration"]
    assert len(scores) == result.n_iter and scores[best - 1] == max(scores)
    assert best < result.n_iter  # the last epoch was not the best, yet it was restored
    train, (Xv, Yv, _) = solver._split(problem, 0)
    pred = Xv @ result.coef + result.intercept
    r2 = 1 - np.sum((Yv - pred) ** 2) / np.sum((Yv - Yv.mean()) ** 2)
    assert r2 == pytest.approx(max(scores), rel=1e-12)
    est = GDRidgeRegressor(solver=solver, tol=0.0, max_iter=30, random_state=0).fit(X, y)
    assert est.best_iteration_ == est.validation_scores_.index(max(est.validation_scores_)) + 1


@pytest.mark.parametrize(
    "schedule", [InverseScaling(), Optimal(), Constant()], ids=["invscaling", "optimal", "const"]
)
def test_other_schedules_converge(schedule):
    X, y, _ = make_data(n=2000, p=5)
    ref = Ridge(alpha=100.0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = GDRidgeRegressor(
            alpha=100.0, solver=SGD(learning_rate=schedule, method="plain"), max_iter=50,
            random_state=0,
        ).fit(X, y)
    # A constant step stops in its noise ball; the decaying ones go further.
    assert rel_err(est.coef_, ref.coef_) <= (2e-2 if isinstance(schedule, Constant) else 1e-2)


def test_divergence_raises_naming_learning_rate():
    X, y, _ = make_data(n=500, p=5)
    est = GDRidgeRegressor(solver=SGD(learning_rate=50.0), random_state=0)
    with pytest.raises(ValueError, match=r"learning_rate=50\.0.*safe step"):
        est.fit(X, y)
    assert not hasattr(est, "coef_")


@pytest.mark.parametrize("method", ["svrg", "plain"])
def test_max_iter_reached_warns_without_inf(method):
    X, y, _ = make_data(n=500, p=5)
    with pytest.warns(ConvergenceWarning, match="max_iter=1") as record:
        GDRidgeRegressor(solver=SGD(method=method), max_iter=1, random_state=0).fit(X, y)
    assert all("inf" not in str(w.message) for w in record)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"average": -1}, "average"),
        ({"validation_fraction": 1.5}, "validation_fraction"),
        ({"n_iter_no_change": 0}, "n_iter_no_change"),
        ({"learning_rate": "optimal"}, "learning_rate"),
        ({"shuffle": "yes"}, "shuffle"),
        ({"method": "saga"}, "method"),
        ({"batch_size": "big"}, "batch_size"),
    ],
)
def test_invalid_options(params, match):
    X, y, _ = make_data(n=50, p=3)
    with pytest.raises(ValueError, match=match):
        GDRidgeRegressor(solver=SGD(**params)).fit(X, y)


def test_grid_search_reaches_solver_options():
    X, y, _ = make_data(n=300, p=4)
    search = GridSearchCV(
        GDRidgeRegressor(solver=SGD(), random_state=0),
        {"solver__batch_size": [16, 64], "solver__learning_rate": ["auto", InverseScaling()]},
        cv=2,
    ).fit(X, y)
    assert set(search.best_params_) == {"solver__batch_size", "solver__learning_rate"}
    assert search.best_score_ > 0.9


def test_safe_step_is_stable_on_heavy_rows():
    # A few rows with huge norms: the safe step must account for them.
    X, y, _ = make_data(n=2000, p=10, seed=5)
    X[:5] *= 100.0
    y = X @ np.ones(10)
    ref = Ridge(alpha=1.0).fit(X, y)
    est = GDRidgeRegressor(solver=SGD(batch_size=32), random_state=0).fit(X, y)
    assert np.all(np.isfinite(est.coef_))
    assert rel_err(est.coef_, ref.coef_) <= 1e-2
