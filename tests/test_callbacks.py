"""Progress callbacks (scikit-learn's ``sklearn.callback``): the task tree and
its counts, fitted estimators at each iteration, propagation through
meta-estimators, n_jobs, and fits unchanged without callbacks (or without the
callback API)."""

import warnings

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold

from l2gd import GDRidgeCV, GDRidgeRegressor, ridge_path
from l2gd import _compat

from _helpers import make_regression_data

callback = pytest.importorskip("sklearn.callback")

# small grids: the chosen alpha is often at an edge, which is not the point here
pytestmark = pytest.mark.filterwarnings("ignore::l2gd.AlphaBoundaryWarning")


class Recorder:
    """Records every hook call; the root context of the first setup; the
    fitted estimator each ``on_fit_task_end`` receives; stops at ``stop_at``."""

    def __init__(self, stop_at=None):
        self.events, self.fitted, self.root, self.stop_at = [], [], None, stop_at

    def setup(self, estimator, context):
        self.events.append(("setup", type(estimator).__name__))
        if self.root is None:
            self.root = context

    def teardown(self, estimator, context):
        self.events.append(("teardown", type(estimator).__name__))

    def on_fit_task_begin(self, estimator, context):
        self.events.append(("begin", context.estimator_name, context.task_name))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.events.append(("end", context.estimator_name, context.task_name))
        self.fitted.append((context.task_name, fitted_estimator))
        n_ends = sum(e[0] == "end" and e[2] == context.task_name for e in self.events)
        return self.stop_at is not None and n_ends >= self.stop_at

    def count(self, hook, task_name):
        return sum(e[0] == hook and e[2] == task_name for e in self.events)


class PropagatedRecorder(Recorder):
    """An auto-propagated recorder (reaches the sub-estimators)."""

    max_propagation_depth = None


def _tree(root):
    """``[(depth, estimator_name, task_name), ...]`` in pre-order."""
    rows = []
    for ctx in root:
        depth, node = 0, ctx
        while node.parent is not None:
            depth, node = depth + 1, node.parent
        rows.append((depth, ctx.estimator_name, ctx.task_name))
    return rows


def _balanced(rec):
    begins = [e[1:] for e in rec.events if e[0] == "begin"]
    ends = [e[1:] for e in rec.events if e[0] == "end"]
    return sorted(begins) == sorted(ends)


def test_protocols():
    assert isinstance(Recorder(), callback.FitCallback)
    assert not isinstance(Recorder(), callback.AutoPropagatedCallback)
    assert isinstance(PropagatedRecorder(), callback.AutoPropagatedCallback)


@pytest.mark.parametrize("positive", [False, True])
def test_gd_one_task_per_iteration(positive):
    X, y = make_regression_data(seed=1)
    y = np.abs(y) if positive else y
    rec = Recorder()
    est = GDRidgeRegressor(solver="gd", positive=positive).set_callbacks(rec).fit(X, y)
    assert est.n_iter_ > 1
    assert _tree(rec.root) == [(0, "GDRidgeRegressor", "fit")] + [
        (1, "GDRidgeRegressor", "iteration")
    ] * est.n_iter_
    assert rec.count("end", "iteration") == est.n_iter_
    assert rec.root.max_subtasks == 1000  # the loop's bound, gd's default max_iter
    assert rec.events[0] == ("setup", "GDRidgeRegressor")
    assert rec.events[-1] == ("teardown", "GDRidgeRegressor")
    assert _balanced(rec)


def test_sgd_one_task_per_epoch():
    X, y = make_regression_data(seed=2)
    rec = Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = GDRidgeRegressor(solver="sgd", max_iter=7, tol=0.0, random_state=0)
        est.set_callbacks(rec).fit(X, y)
    assert est.n_iter_ == 7
    assert rec.count("end", "epoch") == 7 and rec.count("begin", "epoch") == 7
    assert rec.count("end", "iteration") == 0
    assert rec.root.max_subtasks == 7


def test_closed_form_is_one_leaf_task():
    X, y = make_regression_data(seed=3)
    rec = Recorder()
    GDRidgeRegressor(solver="closed_form").set_callbacks(rec).fit(X, y)
    assert _tree(rec.root) == [(0, "GDRidgeRegressor", "fit")]
    assert rec.root.max_subtasks == 0
    assert _balanced(rec)


def _tiny_X_huge_y(seed):
    # magnitudes near the ends of the float range: the solve runs rescaled;
    # alpha scaled as X**2 keeps it the same problem (coef times 2**600)
    X, y = make_regression_data(seed=seed)
    return X * 2.0**-300, y * 2.0**300


@pytest.mark.parametrize(
    "make, fit_intercept, alpha",
    [
        (lambda: make_regression_data(seed=4), True, 1.0),
        (lambda: make_regression_data(seed=4, n_targets=2), True, 1.0),
        (lambda: make_regression_data(seed=4), False, 1.0),
        (lambda: _tiny_X_huge_y(4), True, 2.0**-600),
    ],
)
def test_iteration_fitted_estimator_is_the_iterate_in_user_units(make, fit_intercept, alpha):
    X, y = make()
    rec = Recorder()
    est = GDRidgeRegressor(alpha=alpha, solver="gd", fit_intercept=fit_intercept)
    est.set_callbacks(rec).fit(X, y)
    iterates = [f for name, f in rec.fitted if name == "iteration"]
    assert len(iterates) == est.n_iter_
    last, ridge = iterates[-1], Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(X, y)
    assert np.shape(last.coef_) == np.shape(ridge.coef_)
    assert np.shape(last.intercept_) == np.shape(ridge.intercept_)
    # the last iterate is the fit (an independent oracle: sklearn's Ridge)
    np.testing.assert_allclose(last.predict(X), ridge.predict(X), rtol=1e-6, atol=0)
    # the fitted estimators are copies: the first is far from the end
    assert r2_score(y, iterates[0].predict(X)) < r2_score(y, last.predict(X)) - 0.1


def test_penalty_factor_iterates_in_user_units():
    X, y = make_regression_data(seed=5)
    factor = np.r_[0.0, np.full(X.shape[1] - 1, 2.0)]
    rec = Recorder()
    est = GDRidgeRegressor(solver="gd", penalty_factor=factor).set_callbacks(rec).fit(X, y)
    last = [f for name, f in rec.fitted if name == "iteration"][-1]
    np.testing.assert_allclose(last.coef_, est.coef_, rtol=1e-10)
    assert last.coef_.shape == (X.shape[1],)


def test_callback_can_stop_the_loop():
    X, y = make_regression_data(seed=6)
    rec = Recorder(stop_at=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a requested stop is no failure
        est = GDRidgeRegressor(solver="gd", tol=1e-14).set_callbacks(rec).fit(X, y)
    assert est.n_iter_ == 3


def test_scoring_monitor_scores_each_iteration():
    X, y = make_regression_data(seed=7)
    monitor = callback.ScoringMonitor(scoring="r2")
    est = GDRidgeRegressor(solver="gd").set_callbacks(monitor).fit(X, y)
    rows = monitor.get_logs().data
    iterations = [r for r in rows if r["task_name"] == "iteration"]
    assert len(iterations) == est.n_iter_
    (fit_row,) = [r for r in rows if r["task_name"] == "fit"]
    expected = r2_score(y, Ridge(alpha=1.0).fit(X, y).predict(X))
    assert fit_row["r2"] == pytest.approx(expected, rel=1e-9)
    assert iterations[-1]["r2"] == pytest.approx(expected, rel=1e-9)


def _cv_tree(n_splits, n_alphas, per_alpha):
    fold = [(2, "GDRidgeCV", "fold")] + [(3, "GDRidgeCV", "alpha")] * (n_alphas * per_alpha)
    return (
        [(0, "GDRidgeCV", "fit"), (1, "GDRidgeCV", "cross-validation")]
        + fold * n_splits
        + [(1, "GDRidgeRegressor", "fit")]
    )


@pytest.mark.parametrize("solver, per_alpha", [("closed_form", 0), ("gd", 1)])
def test_cv_one_task_per_fold_and_alpha(solver, per_alpha):
    X, y = make_regression_data(seed=8)
    alphas = [0.1, 1.0, 10.0]
    rec = Recorder()
    cv = GDRidgeCV(alphas=alphas, cv=KFold(4), solver=solver).set_callbacks(rec).fit(X, y)
    assert cv.n_splits_ == 4
    assert _tree(rec.root) == _cv_tree(4, len(alphas), per_alpha)
    assert rec.count("end", "fold") == 4
    assert rec.count("end", "alpha") == 4 * len(alphas) * per_alpha
    assert _balanced(rec)
    # the refit is nested (merged with the "refit" task) but a callback that
    # is not auto-propagated stays on the meta-estimator
    refit = [c for c in rec.root if c.estimator_name == "GDRidgeRegressor"][0]
    assert refit.source_task_name == "refit"


def test_cv_propagated_callback_sees_the_refit_iterations():
    X, y = make_regression_data(seed=9)
    rec = PropagatedRecorder()
    cv = GDRidgeCV(alphas=[0.1, 1.0], cv=3, solver="gd").set_callbacks(rec).fit(X, y)
    tree = _tree(rec.root)
    refit_iters = [t for t in tree if t == (2, "GDRidgeRegressor", "iteration")]
    assert len(refit_iters) == cv.n_iter_
    assert rec.events.count(("setup", "GDRidgeRegressor")) == 0  # set up once, on the CV


@pytest.mark.parametrize("cv", [None, "gcv"])
def test_cv_loo_and_gcv_have_no_fold_tasks(cv):
    X, y = make_regression_data(seed=10)
    rec = Recorder()
    GDRidgeCV(alphas=[0.1, 1.0], cv=cv).set_callbacks(rec).fit(X, y)
    assert _tree(rec.root) == [(0, "GDRidgeCV", "fit"), (1, "GDRidgeRegressor", "fit")]


def test_banded_cv_is_one_task():
    # The group search fits many candidates on the same folds: they must not
    # add tasks under the (full) root.
    X, y = make_regression_data(seed=19)
    rec = Recorder()
    cv = GDRidgeCV(alphas=[0.1, 1.0, 10.0], cv=3, feature_groups=[0, 0, 0, 0, 1, 1, 1, 1])
    cv.set_callbacks(rec).fit(X, y)
    assert _tree(rec.root) == [(0, "GDRidgeCV", "fit")] and _balanced(rec)
    assert rec.events.count(("setup", "GDRidgeCV")) == 1


def test_cv_n_jobs_threads_give_the_same_tree():
    X, y = make_regression_data(seed=11)
    rec = Recorder()
    with parallel_config(backend="threading"):
        GDRidgeCV(alphas=[0.1, 1.0, 10.0], cv=KFold(3), solver="gd", n_jobs=2).set_callbacks(
            rec
        ).fit(X, y)
    assert sorted(_tree(rec.root)) == sorted(_cv_tree(3, 3, 1))
    assert rec.count("end", "alpha") == 9 and _balanced(rec)


def test_cv_n_jobs_processes_run_with_callbacks():
    # In worker processes the recorder is a copy (only transport-based
    # callbacks report back), so what is checked is that callbacks travel to
    # the workers and the fit is unchanged.
    X, y = make_regression_data(seed=12)
    params = dict(alphas=[0.1, 1.0, 10.0], cv=KFold(3), solver="gd", n_jobs=2)
    plain = GDRidgeCV(**params).fit(X, y)
    monitor = callback.ScoringMonitor(scoring="r2")
    cv = GDRidgeCV(**params).set_callbacks(monitor, Recorder()).fit(X, y)
    np.testing.assert_array_equal(cv.coef_, plain.coef_)
    np.testing.assert_array_equal(cv.cv_results_["mean_test_score"],
                                  plain.cv_results_["mean_test_score"])
    assert any(r["task_name"] == "fit" for r in monitor.get_logs().data)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_grid_search_nests_the_iterations(n_jobs):
    X, y = make_regression_data(seed=13)
    rec = PropagatedRecorder()
    search = GridSearchCV(
        GDRidgeRegressor(solver="gd"), {"alpha": [0.1, 1.0]}, cv=2, n_jobs=n_jobs
    )
    with parallel_config(backend="threading"):
        search.set_callbacks(rec).fit(X, y)
    fits = [c for c in rec.root if c.estimator_name == "GDRidgeRegressor" and c.task_name == "fit"]
    assert len(fits) == 2 * 2 + 1  # candidates x splits, then the refit
    for ctx in fits:
        assert ctx.parent is not None and ctx.parent.estimator_name == "GridSearchCV"
        children = list(ctx)[1:]
        assert children and all(c.task_name == "iteration" for c in children)
    assert len(list(fits[-1])) - 1 == search.best_estimator_.n_iter_


def test_grid_search_over_cv_nests_folds():
    X, y = make_regression_data(seed=14)
    rec = PropagatedRecorder()
    inner = GDRidgeCV(alphas=[0.1, 1.0], cv=KFold(3))
    GridSearchCV(inner, {"fit_intercept": [True]}, cv=2).set_callbacks(rec).fit(X, y)
    names = [(c.estimator_name, c.task_name) for c in rec.root]
    assert names.count(("GDRidgeCV", "fold")) == 3 * 3  # 3 fits of GDRidgeCV, 3 folds each
    assert names.count(("GDRidgeRegressor", "fit")) == 3  # each GDRidgeCV's refit


def test_progress_bar_runs(capsys):
    pytest.importorskip("rich")
    X, y = make_regression_data(seed=15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        GDRidgeRegressor(solver="sgd", max_iter=5, random_state=0).set_callbacks(
            callback.ProgressBar()
        ).fit(X, y)
    GDRidgeCV(alphas=[0.1, 1.0], cv=3, solver="gd").set_callbacks(callback.ProgressBar()).fit(
        X, y
    )
    GridSearchCV(GDRidgeRegressor(solver="gd"), {"alpha": [1.0]}, cv=2).set_callbacks(
        callback.ProgressBar(max_propagation_depth=None)
    ).fit(X, y)
    out = capsys.readouterr().out
    assert "GDRidgeCV - fold" in out and "GDRidgeRegressor - fit" in out


@pytest.mark.parametrize("solver", ["closed_form", "gd", "sgd"])
def test_fits_unchanged_by_callbacks_and_without_the_api(solver, monkeypatch):
    X, y = make_regression_data(seed=16)
    params = dict(solver=solver, random_state=0, max_iter=20)

    def fit(*callbacks):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return GDRidgeRegressor(**params).set_callbacks(*callbacks).fit(X, y)

    plain, recorded = fit(), fit(Recorder())
    np.testing.assert_array_equal(recorded.coef_, plain.coef_)
    assert recorded.n_iter_ == plain.n_iter_ and recorded.loss_curve_ == plain.loss_curve_
    monkeypatch.setattr(_compat, "HAS_CALLBACKS", False)
    rec = Recorder()
    without = fit(rec)
    np.testing.assert_array_equal(without.coef_, plain.coef_)
    cv = GDRidgeCV(alphas=[0.1, 1.0], cv=3, solver=solver).set_callbacks(rec).fit(X, y)
    assert rec.events == [] and cv.alpha_ in (0.1, 1.0)
    assert not any(k.startswith("_callback") for k in vars(without))


def test_solvers_outside_an_estimator_report_nothing():
    X, y = make_regression_data(seed=17)
    rec = Recorder()
    est = GDRidgeRegressor(solver="gd").set_callbacks(rec)
    ridge_path(X, y, alphas=[0.1, 1.0], solver="gd")
    assert rec.events == []
    est.fit(X, y)
    assert rec.count("end", "iteration") == est.n_iter_


def test_dask_gd_one_task_per_pass():
    da = pytest.importorskip("dask.array")
    X, y = make_regression_data(seed=18)
    rec = Recorder()
    est = GDRidgeRegressor(solver="gd").set_callbacks(rec)
    est.fit(da.from_array(X, chunks=20), da.from_array(y, chunks=20))
    assert rec.count("end", "iteration") == est.n_iter_ > 1
    np.testing.assert_allclose(est.coef_, Ridge(alpha=1.0).fit(X, y).coef_, rtol=1e-6)
