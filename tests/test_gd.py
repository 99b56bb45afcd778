"""GradientDescent: certificates, accelerations, learning rates, divergence."""

import numpy as np
import pytest
from _helpers import exact_ridge, make_regression_data, rel_err
from sklearn.exceptions import ConvergenceWarning

from l2gd import GDRidgeRegressor, RidgeProblem
from l2gd.solvers import GradientDescent


@pytest.mark.parametrize("acceleration", ["cg", "nesterov", "none"])
@pytest.mark.parametrize("tol", [1e-4, 1e-8])
def test_certificate_gradient_norm_at_returned_point(acceleration, tol):
    X, y = make_regression_data(n_targets=2, seed=0)
    problem = RidgeProblem(X, y, np.array([1.0, 5.0]))
    result = GradientDescent(acceleration=acceleration).solve(problem, tol=tol, max_iter=100_000)
    assert result.converged
    g = np.linalg.norm(problem.gradient(result.coef), axis=0)
    g0 = np.linalg.norm(problem.gradient(np.zeros_like(result.coef)), axis=0)
    assert np.all(g <= tol * g0 * (1 + 1e-6))


def test_acceleration_needs_fewer_iterations_on_ill_conditioned_data():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 20)) * np.logspace(0, 2, 20)
    y = rng.standard_normal(300)
    iters = {
        acc: GDRidgeRegressor(solver=GradientDescent(acceleration=acc), tol=1e-6, max_iter=10**6)
        .fit(X, y)
        .n_iter_
        for acc in ["none", "nesterov", "cg"]
    }
    assert iters["cg"] < iters["nesterov"] < iters["none"] / 5


def test_fixed_learning_rate_is_on_the_mean_scaled_objective():
    # The same learning rate converges at any n_samples because the step is
    # taken on objective / sum(sample_weight).
    for n in [50, 5000]:
        X, y = make_regression_data(n_samples=n, n_features=4, seed=2, offset=0.0)
        est = GDRidgeRegressor(
            alpha=1.0, solver=GradientDescent(learning_rate=0.1, acceleration="none"),
            tol=1e-10, max_iter=100_000,
        ).fit(X, y)
        assert rel_err(est.coef_, exact_ridge(X, y, 1.0)[0]) < 1e-7


def test_divergence_raises_naming_learning_rate_and_bound():
    X, y = make_regression_data(seed=3)
    est = GDRidgeRegressor(solver=GradientDescent(learning_rate=50.0, acceleration="none"))
    with pytest.raises(ValueError, match=r"learning_rate=50\.0.*stable bound.*learning_rate <="):
        est.fit(X, y)
    assert not hasattr(est, "coef_")


def test_divergence_bound_in_message_is_correct():
    X, y = make_regression_data(seed=4)
    problem = RidgeProblem(X, y.reshape(-1, 1), np.array([1.0]))
    bound = problem.sw_sum / float(problem.lipschitz()[0])
    # Nesterov is stable just below 1/L (the bound reported) ...
    ok = GDRidgeRegressor(
        solver=GradientDescent(learning_rate=0.9 * bound, acceleration="nesterov"), tol=1e-10,
        max_iter=100_000,
    ).fit(X, y)
    assert rel_err(ok.coef_, exact_ridge(X, y, 1.0)[0]) < 1e-6
    # ... and plain steps blow up above 2/L.
    with pytest.raises(ValueError, match="learning_rate"):
        GDRidgeRegressor(
            solver=GradientDescent(learning_rate=2.5 * bound, acceleration="none"),
            max_iter=100_000,
        ).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"acceleration": "adam"}, "acceleration must be one of"),
        ({"learning_rate": -1.0, "acceleration": "none"}, "learning_rate must be"),
        ({"learning_rate": "fast", "acceleration": "none"}, "learning_rate must be"),
        ({"learning_rate": 0.1}, "not used with acceleration='cg'"),
    ],
)
def test_bad_solver_parameters(params, match):
    X, y = make_regression_data(seed=5)
    with pytest.raises(ValueError, match=match):
        GDRidgeRegressor(solver=GradientDescent(**params)).fit(X, y)


def test_max_iter_one_warns_and_returns_finite():
    X, y = make_regression_data(seed=6)
    for acc in ["cg", "nesterov", "none"]:
        with pytest.warns(ConvergenceWarning):
            est = GDRidgeRegressor(solver=GradientDescent(acceleration=acc), max_iter=1).fit(X, y)
        assert np.all(np.isfinite(est.coef_)) and est.n_iter_ == 1


def test_default_tol_depends_on_dtype():
    solver = GradientDescent()
    assert solver.default_tol(np.float64) == pytest.approx(np.sqrt(np.finfo(np.float64).eps))
    assert solver.default_tol(np.float32) == pytest.approx(100 * np.finfo(np.float32).eps)


def test_float32_converges_with_default_tol():
    X, y = make_regression_data(seed=7, dtype=np.float32)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = GDRidgeRegressor(solver="gd").fit(X, y)
    assert est.coef_.dtype == np.float32
    # float32 resolution: a few ulps times the (small) condition number.
    assert rel_err(est.coef_, exact_ridge(X, y, 1.0)[0]) < 1e-4


def test_verbose_prints_progress(capsys):
    X, y = make_regression_data(seed=8)
    GDRidgeRegressor(solver="gd", verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "objective" in out and "criterion" in out


@pytest.mark.parametrize("acceleration", ["cg", "nesterov", "none"])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("max_iter", [1, 2, 5])
def test_gd_on_the_gram_problem_gives_the_data_problems_iterates(
    acceleration, fit_intercept, weighted, max_iter
):
    from l2gd import RidgeStats
    from l2gd._objective import GramProblem

    X, y = make_regression_data(n_samples=80, n_features=6, n_targets=3, seed=9)
    X = X * np.logspace(-1, 1, 6)
    sw = np.random.default_rng(9).uniform(0.2, 3.0, 80) if weighted else None
    alpha = np.array([0.1, 1.0, 30.0])
    data = RidgeProblem(X, y, alpha, sample_weight=sw, fit_intercept=fit_intercept)
    gram = GramProblem(RidgeStats.from_batch(X, y, sw, fit_intercept=fit_intercept), alpha)
    solver = GradientDescent(acceleration=acceleration)
    with pytest.warns(ConvergenceWarning):
        on_data = solver.solve(data, max_iter=max_iter, tol=1e-300)
    with pytest.warns(ConvergenceWarning):
        on_gram = solver.solve(gram, max_iter=max_iter, tol=1e-300)
    assert on_data.n_iter == on_gram.n_iter == max_iter
    for k in range(3):  # normwise per target: the moments round differently from the data
        assert rel_err(on_gram.coef[:, k], on_data.coef[:, k]) < 1e-10
    assert rel_err(on_gram.intercept, on_data.intercept) < 1e-10
    np.testing.assert_allclose(on_gram.history, on_data.history, rtol=1e-10)
    assert on_gram.info["error_bound"] == pytest.approx(on_data.info["error_bound"], rel=1e-6)
