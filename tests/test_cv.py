"""GDRidgeCV and ridge_path against their oracles.

Leave-one-out against RidgeCV and against leave-one-out done by hand with
Ridge; K-fold against GridSearchCV(Ridge) with the same splitter; paths
against Ridge at each alpha.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.base import clone
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.metrics import get_scorer
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    ShuffleSplit,
    TimeSeriesSplit,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from l2gd._cv import AlphaBoundaryWarning, GDRidgeCV, alpha_grid, ridge_path
from l2gd._path import _problem
from l2gd.solvers import GradientDescent

ALPHAS = np.logspace(-3, 3, 13)
GD = dict(solver="gd", tol=1e-12, max_iter=10_000)


def make_data(n_samples=60, n_features=5, n_targets=None, noise=1.0, seed=0):
    """Correlated features, a linear signal plus noise; uneven weights."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    X[:, 1:] += 0.5 * X[:, :-1]
    X += 3.0  # non-centered, so the intercept matters
    k = 1 if n_targets is None else n_targets
    W = rng.standard_normal((n_features, k))
    Y = X @ W + noise * rng.standard_normal((n_samples, k)) + 2.0
    y = Y[:, 0] if n_targets is None else Y
    sw = rng.uniform(0.2, 3.0, n_samples)
    return X, y, sw


@pytest.fixture(autouse=True)
def _quiet_boundary():
    # Random small data often picks an end of a short grid; tests of the
    # warning itself re-enable it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlphaBoundaryWarning)
        yield


# ---------------------------------------------------------------------------
# Leave-one-out
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(60, 5), (20, 40)], ids=["tall", "wide"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("targets", [None, 3, "per_target"])
def test_loo_matches_ridgecv(shape, fit_intercept, weighted, targets):
    per_target = targets == "per_target"
    X, y, sw = make_data(*shape, n_targets=3 if per_target else targets)
    sw = sw if weighted else None
    kw = dict(alphas=ALPHAS, fit_intercept=fit_intercept, alpha_per_target=per_target)
    ref = RidgeCV(**kw).fit(X, y, sample_weight=sw)
    est = GDRidgeCV(**kw).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(est.alpha_, ref.alpha_)
    np.testing.assert_allclose(est.best_score_, ref.best_score_, rtol=1e-8)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-7, atol=1e-10)
    assert np.shape(est.coef_) == np.shape(ref.coef_)
    assert est.n_splits_ == shape[0]


@pytest.mark.parametrize("scoring", [None, "r2", "neg_mean_absolute_error"])
def test_loo_stored_values_and_scorers_match_ridgecv(scoring):
    X, Y, sw = make_data(40, 4, n_targets=2)
    kw = dict(alphas=ALPHAS, scoring=scoring, store_cv_results=True)
    ref = RidgeCV(**kw).fit(X, Y, sample_weight=sw)
    est = GDRidgeCV(**kw).fit(X, Y, sample_weight=sw)
    loo = est.cv_results_["loo_predictions"]
    assert loo.shape == (40, 2, len(ALPHAS))
    # RidgeCV stores predictions with a scorer, weighted squared errors without.
    expected = loo if scoring else sw[:, None, None] * (Y[:, :, None] - loo) ** 2
    np.testing.assert_allclose(expected, ref.cv_results_, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(est.alpha_, ref.alpha_)
    np.testing.assert_allclose(est.best_score_, ref.best_score_, rtol=1e-8)


@pytest.mark.parametrize("shape", [(30, 4), (12, 20)], ids=["tall", "wide"])
def test_loo_predictions_equal_brute_force_leave_one_out(shape):
    # The oracle: Ridge refit without each row in turn (a zero weight included).
    X, Y, sw = make_data(*shape, n_targets=2)
    sw[3] = 0.0
    alpha = 0.7
    est = GDRidgeCV(alphas=[alpha, 5.0], store_cv_results=True).fit(X, Y, sample_weight=sw)
    expected = np.empty_like(Y)
    for i in range(len(Y)):
        keep = np.arange(len(Y)) != i
        model = Ridge(alpha=alpha).fit(X[keep], Y[keep], sample_weight=sw[keep])
        expected[i] = model.predict(X[i : i + 1])[0]
    np.testing.assert_allclose(est.cv_results_["loo_predictions"][:, :, 0], expected, rtol=1e-8)


@pytest.mark.parametrize("cv", [None, 3])
@pytest.mark.parametrize("shape", [(50, 6), (15, 30)], ids=["tall", "wide"])
def test_sparse_equals_dense(cv, shape):
    X, y, sw = make_data(*shape)
    X[X < 3.0] = 0.0
    dense = GDRidgeCV(alphas=ALPHAS, cv=cv).fit(X, y, sample_weight=sw)
    sparse = GDRidgeCV(alphas=ALPHAS, cv=cv).fit(sp.csr_matrix(X), y, sample_weight=sw)
    assert sparse.alpha_ == dense.alpha_
    np.testing.assert_allclose(
        sparse.cv_results_["mean_test_score"], dense.cv_results_["mean_test_score"], rtol=1e-8
    )
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-7, atol=1e-10)


# ---------------------------------------------------------------------------
# K-fold against GridSearchCV
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cv",
    [KFold(4, shuffle=True, random_state=0), TimeSeriesSplit(3), ShuffleSplit(3, random_state=0)],
    ids=["kfold", "timeseries", "shuffle"],
)
@pytest.mark.parametrize("solver", ["closed_form", "gd"])
@pytest.mark.parametrize("n_targets", [None, 2])
def test_kfold_matches_gridsearchcv(cv, solver, n_targets):
    X, y, _ = make_data(50, 5, n_targets=n_targets)
    ref = GridSearchCV(Ridge(), {"alpha": ALPHAS}, cv=cv).fit(X, y)
    kw = GD if solver == "gd" else {"solver": solver}
    est = GDRidgeCV(alphas=ALPHAS, cv=cv, **kw).fit(X, y)
    res = est.cv_results_
    assert est.alpha_ == ref.best_params_["alpha"]
    np.testing.assert_allclose(est.best_score_, ref.best_score_, rtol=1e-8)
    for key in ["mean_test_score", "std_test_score", "split0_test_score", "split2_test_score"]:
        np.testing.assert_allclose(res[key], ref.cv_results_[key], rtol=1e-7, atol=1e-12)
    np.testing.assert_array_equal(res["rank_test_score"], ref.cv_results_["rank_test_score"])
    np.testing.assert_allclose(est.coef_, ref.best_estimator_.coef_, rtol=1e-7)
    np.testing.assert_allclose(est.intercept_, ref.best_estimator_.intercept_, rtol=1e-7)


def test_kfold_scorer_string_and_callable_match_gridsearchcv():
    X, y, _ = make_data(40, 4)
    cv = KFold(5, shuffle=True, random_state=1)

    def neg_max_coef(estimator, X, y):
        # A callable that looks at the fitted estimator, not only its predictions.
        return -float(np.abs(estimator.coef_).max()) - np.mean((estimator.predict(X) - y) ** 2)

    for scoring in ["neg_mean_absolute_error", neg_max_coef]:
        ref = GridSearchCV(Ridge(), {"alpha": ALPHAS}, cv=cv, scoring=scoring).fit(X, y)
        est = GDRidgeCV(alphas=ALPHAS, cv=cv, scoring=scoring).fit(X, y)
        np.testing.assert_allclose(
            est.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-8
        )
        assert est.alpha_ == ref.best_params_["alpha"]


@pytest.mark.parametrize("solver", ["closed_form", "gd"])
def test_kfold_weights_fit_and_score_like_routed_gridsearchcv(solver):
    X, y, sw = make_data(50, 5)
    cv = KFold(5, shuffle=True, random_state=0)
    kw = GD if solver == "gd" else {"solver": solver}
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = get_scorer("r2").set_score_request(sample_weight=True)
        ridge = Ridge().set_fit_request(sample_weight=True)
        ref = GridSearchCV(ridge, {"alpha": ALPHAS}, cv=cv, scoring=scorer)
        ref.fit(X, y, sample_weight=sw)
        routed = GDRidgeCV(alphas=ALPHAS, cv=cv, **kw).fit(X, y, sample_weight=sw)
    plain = GDRidgeCV(alphas=ALPHAS, cv=cv, **kw).fit(X, y, sample_weight=sw)
    for est in (routed, plain):
        np.testing.assert_allclose(
            est.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-7
        )
        assert est.alpha_ == ref.best_params_["alpha"]
        np.testing.assert_allclose(est.coef_, ref.best_estimator_.coef_, rtol=1e-7)


def test_groups_reach_the_splitter_with_and_without_routing():
    X, y, _ = make_data(48, 4)
    groups = np.repeat(np.arange(8), 6)
    ref = GridSearchCV(Ridge(), {"alpha": ALPHAS}, cv=GroupKFold(4)).fit(X, y, groups=groups)
    est = GDRidgeCV(alphas=ALPHAS, cv=GroupKFold(4)).fit(X, y, groups=groups)
    np.testing.assert_allclose(
        est.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-8
    )
    with sklearn.config_context(enable_metadata_routing=True):
        routed = GDRidgeCV(alphas=ALPHAS, cv=GroupKFold(4)).fit(X, y, groups=groups)
    np.testing.assert_allclose(
        routed.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-8
    )


def test_kfold_alpha_per_target_matches_one_search_per_target():
    X, Y, _ = make_data(50, 5, n_targets=2, seed=3)
    Y[:, 1] = 3.0 * np.random.default_rng(1).standard_normal(50)  # noise: wants large alpha
    cv = KFold(5, shuffle=True, random_state=0)
    est = GDRidgeCV(alphas=ALPHAS, cv=cv, alpha_per_target=True).fit(X, Y)
    assert est.cv_results_["mean_test_score"].shape == (len(ALPHAS), 2)
    for j in range(2):
        ref = GridSearchCV(Ridge(), {"alpha": ALPHAS}, cv=cv).fit(X, Y[:, j])
        assert est.alpha_[j] == ref.best_params_["alpha"]
        np.testing.assert_allclose(
            est.cv_results_["mean_test_score"][:, j], ref.cv_results_["mean_test_score"]
        )
        np.testing.assert_allclose(est.coef_[j], ref.best_estimator_.coef_, rtol=1e-7)
    assert est.alpha_[0] != est.alpha_[1]


def test_n_jobs_gives_the_same_results():
    X, y, _ = make_data(60, 5)
    one = GDRidgeCV(alphas=ALPHAS, cv=3).fit(X, y)
    two = GDRidgeCV(alphas=ALPHAS, cv=3, n_jobs=2).fit(X, y)
    np.testing.assert_allclose(
        two.cv_results_["mean_test_score"], one.cv_results_["mean_test_score"], rtol=1e-12
    )


# ---------------------------------------------------------------------------
# Selection, warnings
# ---------------------------------------------------------------------------
def test_one_standard_error_rule_from_gridsearchcv_results():
    X, y, _ = make_data(60, 8, noise=3.0, seed=2)
    cv = KFold(5, shuffle=True, random_state=0)
    ref = GridSearchCV(Ridge(), {"alpha": ALPHAS}, cv=cv).fit(X, y).cv_results_
    best = np.argmax(ref["mean_test_score"])
    se = ref["std_test_score"][best] / np.sqrt(5 - 1)
    expected = ALPHAS[ref["mean_test_score"] >= ref["mean_test_score"][best] - se].max()
    est = GDRidgeCV(alphas=ALPHAS, cv=cv, selection="1se").fit(X, y)
    assert est.alpha_ == expected
    assert est.alpha_ >= GDRidgeCV(alphas=ALPHAS, cv=cv).fit(X, y).alpha_


def test_one_standard_error_rule_leave_one_out():
    X, y, _ = make_data(60, 8, noise=3.0, seed=2)
    ref = RidgeCV(alphas=ALPHAS, store_cv_results=True).fit(X, y)
    per_row = -ref.cv_results_  # (n_samples, n_alphas), one "split" per row
    mean, std = per_row.mean(axis=0), per_row.std(axis=0)
    best = np.argmax(mean)
    expected = ALPHAS[mean >= mean[best] - std[best] / np.sqrt(60 - 1)].max()
    assert GDRidgeCV(alphas=ALPHAS, selection="1se").fit(X, y).alpha_ == expected


@pytest.mark.parametrize("cv", [None, 4])
def test_warning_when_alpha_at_an_end_of_the_grid(cv):
    X, y, _ = make_data(60, 4, noise=1e-6)  # nearly noiseless: smallest alpha wins
    with warnings.catch_warnings():
        warnings.simplefilter("error", AlphaBoundaryWarning)
        with pytest.raises(AlphaBoundaryWarning, match="smallest alpha.*below"):
            GDRidgeCV(alphas=[1.0, 10.0, 100.0], cv=cv).fit(X, y)
        noise = np.random.default_rng(5).standard_normal(60)  # no signal: largest wins
        with pytest.raises(AlphaBoundaryWarning, match="largest alpha.*above"):
            GDRidgeCV(alphas=[1e-3, 1e-2, 0.1], cv=cv).fit(X, noise)
        # An interior choice is silent.
        X, y, _ = make_data(60, 4, noise=3.0)
        est = GDRidgeCV(alphas=np.logspace(-4, 6, 21), cv=cv).fit(X, y)
        assert est.alphas_.min() < est.alpha_ < est.alphas_.max()


# ---------------------------------------------------------------------------
# Paths and grids
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["closed_form", "gd"])
@pytest.mark.parametrize("shape", [(40, 5), (15, 30)], ids=["tall", "wide"])
def test_ridge_path_matches_ridge_at_each_alpha(solver, shape):
    X, Y, sw = make_data(*shape, n_targets=2)
    kw = GD if solver == "gd" else {"solver": solver}
    alphas, coefs, intercepts = ridge_path(X, Y, alphas=ALPHAS, sample_weight=sw, **kw)
    assert np.all(np.diff(alphas) < 0)
    assert coefs.shape == (2, shape[1], len(ALPHAS)) and intercepts.shape == (2, len(ALPHAS))
    for i, alpha in enumerate(alphas):
        ref = Ridge(alpha=alpha).fit(X, Y, sample_weight=sw)
        np.testing.assert_allclose(coefs[:, :, i], ref.coef_, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(intercepts[:, i], ref.intercept_, rtol=1e-6)
    _, coef1, icpt1 = ridge_path(X, Y[:, 0], alphas=ALPHAS[:3], fit_intercept=False)
    ref = Ridge(alpha=ALPHAS[2], fit_intercept=False).fit(X, Y[:, 0])
    np.testing.assert_allclose(coef1[:, 0], ref.coef_, rtol=1e-6)
    assert coef1.shape == (shape[1], 3) and np.all(icpt1 == 0.0)


def test_warm_started_path_needs_fewer_iterations_than_cold_starts():
    X, y, _ = make_data(300, 30, seed=4)
    problem = _problem(X, y[:, None], None, True)
    alphas = np.logspace(-1, 4, 15)
    path = GradientDescent().solve_path(problem, alphas, tol=1e-10, max_iter=5000)
    W, n_iter = path.coefs, path.n_iter
    cold = [
        GradientDescent().solve(problem.with_alpha(a), tol=1e-10, max_iter=5000).n_iter
        for a in alphas
    ]
    assert n_iter.sum() < sum(cold)
    np.testing.assert_allclose(W[5, :, 0], Ridge(alpha=alphas[5]).fit(X, y).coef_, rtol=1e-7)


def test_alpha_grid_is_wide_and_scales_with_the_data():
    X, y, sw = make_data(80, 6)
    grid = alpha_grid(X, n_alphas=50)
    assert grid.shape == (50,) and np.all(np.diff(grid) > 0)
    Xc = X - X.mean(axis=0)
    mean_diag = np.mean(np.sum(Xc**2, axis=0))
    assert grid[0] <= 1e-3 * mean_diag and grid[-1] >= 1e3 * mean_diag
    np.testing.assert_allclose(alpha_grid(3.0 * X, n_alphas=50), 9.0 * grid)
    # Weight k is repetition k times: the grid follows Ridge's alpha.
    np.testing.assert_allclose(
        alpha_grid(X, 2.0 * np.ones(80), n_alphas=50), alpha_grid(np.vstack([X, X]), n_alphas=50)
    )
    est = GDRidgeCV(alphas=7).fit(X, y)
    np.testing.assert_allclose(est.alphas_, alpha_grid(X, n_alphas=7))
    assert est.cv_results_["mean_test_score"].shape == (7,)


# ---------------------------------------------------------------------------
# scikit-learn integration
# ---------------------------------------------------------------------------
def test_pipeline_nested_cv_clone_pickle():
    X, y, _ = make_data(60, 4)
    pipe = make_pipeline(StandardScaler(), GDRidgeCV(alphas=ALPHAS, cv=3))
    ref = make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHAS, cv=3))
    outer = KFold(3, shuffle=True, random_state=0)
    np.testing.assert_allclose(
        cross_val_score(pipe, X, y, cv=outer), cross_val_score(ref, X, y, cv=outer), rtol=1e-8
    )
    fitted = pipe.fit(X, y)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(X), fitted.predict(X))
    fresh = clone(fitted[-1])
    assert fresh.get_params()["cv"] == 3 and not hasattr(fresh, "alpha_")
    np.testing.assert_array_equal(fresh.get_params()["alphas"], ALPHAS)


def test_float32_input_and_inputs_not_modified():
    X, y, sw = make_data(40, 4)
    copies = X.copy(), y.copy(), sw.copy()
    est64 = GDRidgeCV(alphas=ALPHAS, cv=4).fit(X, y, sample_weight=sw)
    for a, b in zip((X, y, sw), copies):
        np.testing.assert_array_equal(a, b)
    est32 = GDRidgeCV(alphas=ALPHAS, cv=4).fit(X.astype(np.float32), y, sample_weight=sw)
    assert est32.alpha_ == est64.alpha_ and est32.coef_.dtype == np.float32


@parametrize_with_checks(
    [
        GDRidgeCV(alphas=[0.1, 1.0, 10.0]),
        GDRidgeCV(alphas=5, cv=3),
        GDRidgeCV(alphas=[0.1, 1.0, 10.0], cv=3, **GD),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params, match",
    [
        ({"alphas": []}, "alphas must not be empty"),
        ({"alphas": [1.0, -1.0], "cv": 3}, "alphas must be >= 0"),
        ({"alphas": [0.0, 1.0]}, "alphas must be > 0 with cv=None"),
        ({"alphas": [1.0, np.nan]}, "alphas must be finite"),
        ({"alphas": [[1.0, 2.0]]}, "alphas must be 1-D"),
        ({"alpha_per_target": True}, "alpha_per_target=True needs y with at least 2"),
        ({"store_cv_results": True, "cv": 3}, "store_cv_results=True needs cv=None"),
        ({"scoring": "no_such_scorer"}, "'scoring' parameter"),
        ({"selection": "best"}, "'selection' parameter"),
        ({"cv": [(np.arange(10), np.array([], dtype=int))]}, "empty test set in split 0"),
        ({"cv": [(np.array([], dtype=int), np.arange(10))]}, "empty training set in split 0"),
        ({"selection": "1se", "scoring": "r2"}, "selection='1se' needs per-split"),
    ],
)
def test_bad_input_raises_clear_errors(params, match):
    X, y, _ = make_data(20, 3)
    with pytest.raises(ValueError, match=match):
        GDRidgeCV(**{"alphas": [0.1, 1.0], **params}).fit(X, y)


def test_unexpected_fit_parameter_and_ridge_path_errors():
    X, y, _ = make_data(20, 3)
    with pytest.raises(ValueError, match="unexpected parameters \\['foo'\\]"):
        GDRidgeCV(alphas=[1.0], cv=3).fit(X, y, foo=np.ones(20))
    with pytest.raises(ValueError, match="alphas must be >= 0"):
        ridge_path(X, y, alphas=[-1.0])
    with pytest.raises(TypeError, match="alphas must be an int or an array"):
        ridge_path(X, y, alphas="many")


def test_demo_cv_section_agrees_with_ridgecv_and_gridsearchcv():
    from l2gd.__main__ import compare_cv, format_cv_table

    X, y, _ = make_data(60, 4, noise=3.0)
    rows = compare_cv(X, y, n_folds=3, n_alphas=10)
    (_, _, loo, loo_score, _), (_, _, ref_loo, ref_score, _) = rows[:2]
    assert loo == ref_loo and np.isclose(loo_score, ref_score, rtol=1e-8)
    assert rows[2][2] == rows[3][2] == rows[4][2]  # GDRidgeCV, GridSearchCV, RidgeCV(cv=3)
    assert all(row[4] > 0 for row in rows)
    assert "GridSearchCV(Ridge)" in format_cv_table(rows)
