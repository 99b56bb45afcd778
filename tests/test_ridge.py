"""GDRidgeRegressor against exact solutions, scikit-learn's Ridge and invariances."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import exact_ridge, make_regression_data, rel_err
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from l2gd import GDRidgeRegressor
from l2gd.solvers import ClosedForm, GradientDescent

# Every solver configuration, with a tolerance tight enough for 1e-6 agreement.
SOLVERS = {
    "closed_form": lambda: ClosedForm(),
    "closed_form_svd": lambda: ClosedForm(method="svd"),
    "gd_cg": lambda: GradientDescent(),
    "gd_nesterov": lambda: GradientDescent(acceleration="nesterov"),
}


def make_estimator(solver_key, dtype=np.float64, **params):
    tol = 1e-12 if dtype == np.float64 else 1e-6
    return GDRidgeRegressor(solver=SOLVERS[solver_key](), tol=tol, max_iter=20_000, **params)


def expected_rtol(solver_key, dtype):
    if dtype == np.float32:
        return 2e-3
    return 1e-6 if solver_key.startswith("gd") else 1e-9


@pytest.mark.parametrize("solver_key", list(SOLVERS))
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("y_shape", ["1d", "2d_one", "2d_three"])
def test_matches_exact_solution_and_ridge(solver_key, fit_intercept, sparse, dtype, weighted, y_shape):
    if sparse and solver_key == "closed_form_svd":
        pytest.skip("method='svd' declares no sparse support (tested in test_capabilities)")
    n_targets = {"1d": None, "2d_one": 1, "2d_three": 3}[y_shape]
    X, y = make_regression_data(n_targets=n_targets, sparse=sparse, dtype=dtype, seed=1)
    rng = np.random.default_rng(2)
    sw = rng.uniform(0.2, 3.0, X.shape[0]) if weighted else None
    alpha = np.array([0.5, 2.0, 7.0]) if y_shape == "2d_three" else 1.5
    est = make_estimator(solver_key, dtype, alpha=alpha, fit_intercept=fit_intercept)
    est.fit(X, y, sample_weight=sw)
    coef, intercept = exact_ridge(X, y, alpha, sw, fit_intercept)
    ref = Ridge(alpha=alpha, fit_intercept=fit_intercept, tol=1e-14).fit(X, y, sample_weight=sw)

    assert est.coef_.shape == ref.coef_.shape
    assert np.shape(est.intercept_) == np.shape(ref.intercept_)
    assert est.coef_.dtype == dtype
    rtol = expected_rtol(solver_key, dtype)
    assert rel_err(est.coef_, coef) < rtol
    assert np.allclose(est.intercept_, intercept, rtol=rtol, atol=rtol * 10)
    assert np.allclose(est.predict(X), ref.predict(X), rtol=10 * rtol, atol=10 * rtol)
    assert est.predict(X).dtype == dtype


@pytest.mark.parametrize("solver_key", list(SOLVERS))
def test_alpha_array_equals_separate_fits(solver_key):
    X, y = make_regression_data(n_targets=2, seed=3)
    est = make_estimator(solver_key, alpha=[0.1, 30.0]).fit(X, y)
    for k, a in enumerate([0.1, 30.0]):
        single = Ridge(alpha=a).fit(X, y[:, k])
        assert rel_err(est.coef_[k], single.coef_) < 1e-6


@pytest.mark.parametrize("solver_key", list(SOLVERS))
def test_rows_stacked_twice_equals_doubled_alpha(solver_key):
    X, y = make_regression_data(seed=4)
    twice = make_estimator(solver_key, alpha=1.0).fit(np.vstack([X, X]), np.concatenate([y, y]))
    once = make_estimator(solver_key, alpha=0.5).fit(X, y)
    assert rel_err(twice.coef_, once.coef_) < 1e-6
    assert np.isclose(twice.intercept_, once.intercept_, rtol=1e-6)


@pytest.mark.parametrize("solver_key", list(SOLVERS))
def test_duplicated_columns_split_the_coefficient(solver_key):
    # Ridge on [X, X] with alpha gives [v/2, v/2], v = Ridge on X with alpha / 2.
    X, y = make_regression_data(seed=5)
    dup = make_estimator(solver_key, alpha=2.0).fit(np.hstack([X, X]), y)
    half = exact_ridge(X, y, 1.0)[0]
    p = X.shape[1]
    assert rel_err(dup.coef_[:p], half / 2) < 1e-6
    assert rel_err(dup.coef_[p:], half / 2) < 1e-6


@pytest.mark.parametrize("solver_key", list(SOLVERS))
@pytest.mark.parametrize("sparse", [False, True])
def test_integer_weights_equal_repetition_and_zero_weight_removal(solver_key, sparse):
    if sparse and solver_key == "closed_form_svd":
        pytest.skip("no sparse support")
    X, y = make_regression_data(seed=6, sparse=sparse)
    rng = np.random.default_rng(0)
    sw = rng.integers(0, 4, X.shape[0]).astype(float)
    weighted = make_estimator(solver_key).fit(X, y, sample_weight=sw)
    rows = np.repeat(np.arange(X.shape[0]), sw.astype(int))
    repeated = make_estimator(solver_key).fit(X[rows], y[rows])
    assert rel_err(weighted.coef_, repeated.coef_) < 1e-6
    assert np.isclose(weighted.intercept_, repeated.intercept_, rtol=1e-6)


@pytest.mark.parametrize("solver_key", list(SOLVERS))
def test_scaling_weights_by_c_equals_scaling_alpha_by_1_over_c(solver_key):
    X, y = make_regression_data(seed=7)
    sw = np.random.default_rng(1).uniform(0.5, 2, X.shape[0])
    a = make_estimator(solver_key, alpha=3.0).fit(X, y, sample_weight=5 * sw)
    b = make_estimator(solver_key, alpha=3.0 / 5).fit(X, y, sample_weight=sw)
    assert rel_err(a.coef_, b.coef_) < 1e-6


@pytest.mark.parametrize("solver_key", list(SOLVERS))
@pytest.mark.parametrize("shape", [(40, 6), (12, 30)])
def test_alpha_zero_is_minimum_norm_least_squares(solver_key, shape):
    rng = np.random.default_rng(8)
    X = rng.standard_normal(shape)
    y = rng.standard_normal(shape[0])
    Xc, yc = X - X.mean(0), y - y.mean()
    lstsq = np.linalg.lstsq(Xc, yc, rcond=None)[0]  # minimum-norm for the wide case
    est = make_estimator(solver_key, alpha=0.0)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # rank-deficient wide case warns; tested below
            est.fit(X, y)
    assert rel_err(est.coef_, lstsq) < 1e-6
    assert np.isclose(est.intercept_, y.mean() - X.mean(0) @ lstsq, atol=1e-6)


def test_alpha_zero_rank_deficient_warns_and_matches_ridge():
    from scipy.linalg import LinAlgWarning

    X, y = make_regression_data(seed=9)
    X = np.hstack([X, X[:, :2]])  # duplicated columns: singular Gram
    with pytest.warns(LinAlgWarning, match="minimum-norm"):
        est = GDRidgeRegressor(alpha=0.0, solver="closed_form").fit(X, y)
    Xc, yc = X - X.mean(0), y - y.mean()
    assert rel_err(est.coef_, np.linalg.lstsq(Xc, yc, rcond=None)[0]) < 1e-8
    assert np.all(np.isfinite(est.coef_))


@pytest.mark.parametrize("solver_key", list(SOLVERS))
def test_huge_alpha_gives_zero_coef_and_weighted_mean_intercept(solver_key):
    X, y = make_regression_data(seed=10)
    sw = np.random.default_rng(3).uniform(0.1, 1.0, X.shape[0])
    est = make_estimator(solver_key, alpha=1e12).fit(X, y, sample_weight=sw)
    assert np.max(np.abs(est.coef_)) < 1e-8
    assert np.isclose(est.intercept_, np.average(y, weights=sw), rtol=1e-7)


@pytest.mark.parametrize("cond", [1e3, 1e5, 1e6, 1e7])
def test_closed_form_ill_conditioned_at_least_as_accurate_as_ridge_svd(cond):
    # X = U diag(s) V^T with known factors: the exact solution is known analytically.
    rng = np.random.default_rng(11)
    n, p = 300, 12
    U = np.linalg.qr(rng.standard_normal((n, p)))[0]
    V = np.linalg.qr(rng.standard_normal((p, p)))[0]
    s = np.logspace(0, -np.log10(cond), p)
    X = (U * s) @ V.T
    y = U @ rng.standard_normal(p)
    alpha = 1e-16
    exact = V @ (s / (s**2 + alpha) * (U.T @ y))
    ours = GDRidgeRegressor(alpha=alpha, solver="closed_form", fit_intercept=False).fit(X, y)
    svd = Ridge(alpha=alpha, solver="svd", fit_intercept=False).fit(X, y)
    floor = cond * np.finfo(float).eps
    assert rel_err(ours.coef_, exact) <= 10 * max(rel_err(svd.coef_, exact), floor)


def test_closed_form_polynomial_design_objective_no_worse_than_svd():
    x = np.linspace(0, 1, 200)
    X = np.vander(x, 13, increasing=True)[:, 1:]  # degree-12 polynomial, cond ~ 1e9
    y = np.sin(6 * x) + 0.01 * np.random.default_rng(0).standard_normal(200)
    alpha = 1e-12
    ours = GDRidgeRegressor(alpha=alpha, solver="closed_form").fit(X, y)
    svd = Ridge(alpha=alpha, solver="svd").fit(X, y)

    def objective(est):
        r = y - X @ est.coef_ - est.intercept_
        return r @ r + alpha * est.coef_ @ est.coef_

    assert objective(ours) <= objective(svd) * (1 + 1e-9)


def test_closed_form_reports_refinement_and_fallback_routes():
    from l2gd import RidgeProblem

    rng = np.random.default_rng(12)
    base = rng.standard_normal((200, 6))
    routes = {}
    for cond in [1.0, 1e4, 1e12]:
        X = base.copy()
        X[:, -1] = X[:, 0] + X[:, -1] / cond  # nearly collinear columns
        y = rng.standard_normal((200, 1))
        problem = RidgeProblem(X, y, np.array([1e-14]))
        routes[cond] = ClosedForm().solve(problem).info["method"]
    assert routes[1.0] == "cholesky"
    assert routes[1e4] == "cholesky+refinement"
    assert routes[1e12] == "svd"


def test_wide_data_uses_the_dual_and_matches_ridge():
    from l2gd import RidgeProblem

    X, y = make_regression_data(n_samples=20, n_features=80, seed=13)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, 20)
    problem = RidgeProblem(X, y.reshape(-1, 1), np.array([2.0]), sample_weight=sw)
    assert ClosedForm().solve(problem).info["method"] == "dual"
    est = GDRidgeRegressor(alpha=2.0, solver="closed_form").fit(X, y, sample_weight=sw)
    assert rel_err(est.coef_, exact_ridge(X, y, 2.0, sw)[0]) < 1e-10


def test_sparse_input_is_not_densified():
    X, y = make_regression_data(n_samples=200, n_features=30, sparse=True, seed=14)
    X = X.tocsr()

    class NoDense(sp.csr_matrix):
        def toarray(self, *a, **k):  # pragma: no cover - failing path
            raise AssertionError("X was densified")

        todense = toarray

    Xnd = NoDense(X)
    for solver in ["gd", "closed_form"]:
        est = GDRidgeRegressor(solver=solver, tol=1e-12).fit(Xnd, y)
        assert rel_err(est.coef_, exact_ridge(X, y, 1.0)[0]) < 1e-6


def test_auto_records_the_choice():
    X, y = make_regression_data(seed=15)
    assert GDRidgeRegressor().fit(X, y).solver_ == "closed_form"
    Xs = sp.random(50, 3000, density=0.01, format="csr", random_state=0)
    ys = np.random.default_rng(0).standard_normal(50)
    assert GDRidgeRegressor().fit(Xs, ys).solver_ == "gd"


def test_loss_curve_is_the_ridge_objective():
    X, y = make_regression_data(seed=16)
    est = GDRidgeRegressor(solver="gd", tol=1e-12, alpha=2.0).fit(X, y)
    r = y - est.predict(X)
    final = r @ r + 2.0 * est.coef_ @ est.coef_
    assert len(est.loss_curve_) == est.n_iter_
    assert np.isclose(est.loss_curve_[-1], final, rtol=1e-9)
    assert all(b <= a * (1 + 1e-12) for a, b in zip(est.loss_curve_, est.loss_curve_[1:]))


def test_warm_start_resumes_from_previous_coef():
    X, y = make_regression_data(seed=17)
    est = GDRidgeRegressor(solver="gd", tol=1e-10, warm_start=True).fit(X, y)
    first = est.n_iter_
    est.fit(X, y)
    assert est.n_iter_ < first
    cold = GDRidgeRegressor(solver="gd", tol=1e-10).fit(X, y)
    assert rel_err(est.coef_, cold.coef_) < 1e-6


def test_convergence_warning_when_max_iter_reached():
    X, y = make_regression_data(seed=18)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        est = GDRidgeRegressor(solver="gd", max_iter=1).fit(X, y)
    assert est.n_iter_ == 1
    assert np.all(np.isfinite(est.coef_))


def test_pipeline_gridsearch_same_best_alpha_as_ridge():
    X, y = make_regression_data(n_samples=120, seed=19)
    grid = {"ridge__alpha": [0.01, 0.1, 1.0, 10.0, 100.0]}
    cv = KFold(4, shuffle=True, random_state=0)
    ours = GridSearchCV(
        make_pipeline(StandardScaler(), GDRidgeRegressor(solver="gd", tol=1e-12)).set_params(),
        {"gdridgeregressor__alpha": grid["ridge__alpha"]},
        cv=cv,
    ).fit(X, y)
    ref = GridSearchCV(make_pipeline(StandardScaler(), Ridge()), grid, cv=cv).fit(X, y)
    assert ours.best_params_["gdridgeregressor__alpha"] == ref.best_params_["ridge__alpha"]
    assert np.allclose(
        ours.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-8
    )
    scores = cross_val_score(GDRidgeRegressor(), X, y, cv=cv)
    assert np.allclose(scores, cross_val_score(Ridge(), X, y, cv=cv), rtol=1e-8)


def test_solver_options_reachable_by_gridsearch_and_clone_pickle():
    X, y = make_regression_data(seed=20)
    est = GDRidgeRegressor(solver=GradientDescent(acceleration="nesterov"))
    assert est.get_params()["solver__acceleration"] == "nesterov"
    est.set_params(solver__acceleration="none", solver__learning_rate=0.001)
    assert est.solver.learning_rate == 0.001
    c = clone(est)
    assert c.solver is not est.solver and c.solver.learning_rate == 0.001
    fitted = GDRidgeRegressor(solver="gd").fit(X, y)
    again = pickle.loads(pickle.dumps(fitted))
    assert np.array_equal(again.predict(X), fitted.predict(X))


def test_fit_does_not_modify_parameters_or_solver_object():
    X, y = make_regression_data(seed=21)
    solver = GradientDescent()
    est = GDRidgeRegressor(solver=solver, alpha=[1.0])
    est.fit(X, y)
    assert est.solver is solver and est.alpha == [1.0]
    assert solver.get_params() == GradientDescent().get_params()
