"""Many targets in bounded memory: ``target_batch_size`` (issue 15, item 4).

Batched results are compared with the unbatched ones (one batch of every
target) and with independent oracles: scikit-learn's ``RidgeCV`` for
leave-one-out, brute-force ``Ridge`` fits for K-fold and GCV, the augmented
least-squares solution for ``ridge_path``. Memory is bounded relatively
(batched peak against unbatched peak, by ``tracemalloc``), never by time.
"""

import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.model_selection import KFold

from l2gd import GDRidgeCV, ridge_path
from l2gd.solvers import ClosedForm

from _helpers import exact_ridge, make_regression_data

ALPHAS = np.logspace(-2, 3, 7)


def _data(n_samples=40, n_features=6, n_targets=10, seed=0):
    return make_regression_data(n_samples, n_features, n_targets=n_targets, seed=seed)


def _fit(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return GDRidgeCV(alphas=ALPHAS, **params).fit(X, y)


# ---------------------------------------------------------------------------
# Leave-one-out
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shape, solver",
    [((40, 6), "closed_form"), ((12, 30), "closed_form"), ((40, 6), ClosedForm(method="svd")),
     ((12, 30), ClosedForm(method="svd"))],
    ids=["tall-eigh", "wide-kernel", "tall-svd", "wide-svd"],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_loo_batched_matches_unbatched_and_ridgecv(shape, solver, weighted):
    X, y = _data(*shape)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(X)) if weighted else None
    kw = dict(alpha_per_target=True, solver=solver, store_cv_results=True)
    whole = GDRidgeCV(alphas=ALPHAS, target_batch_size=y.shape[1], **kw)
    batched = GDRidgeCV(alphas=ALPHAS, target_batch_size=3, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole.fit(X, y, sample_weight=sw)
        batched.fit(X, y, sample_weight=sw)
        ref = RidgeCV(alphas=ALPHAS, alpha_per_target=True).fit(X, y, sample_weight=sw)
    for key in ("mean_test_score", "std_test_score", "loo_predictions", "dof"):
        np.testing.assert_allclose(
            batched.cv_results_[key], whole.cv_results_[key], rtol=1e-10, atol=1e-12
        )
    np.testing.assert_array_equal(batched.alpha_, whole.alpha_)
    np.testing.assert_allclose(batched.alpha_, ref.alpha_)
    np.testing.assert_allclose(batched.best_score_, ref.best_score_, rtol=1e-7)
    np.testing.assert_allclose(batched.coef_, ref.coef_, rtol=1e-7, atol=1e-9)


def test_loo_shared_score_and_scorer_per_target():
    """Without alpha_per_target the default score averages over all targets
    (per-row sums accumulated over batches); a scorer per target as well."""
    X, y = _data()
    for params in ({}, {"alpha_per_target": True, "scoring": "neg_mean_absolute_error"},
                   {"scoring": "r2"}):
        whole = _fit(X, y, target_batch_size=y.shape[1], **params)
        batched = _fit(X, y, target_batch_size=4, **params)
        for key in ("mean_test_score", "std_test_score"):
            np.testing.assert_allclose(
                batched.cv_results_[key], whole.cv_results_[key], rtol=1e-10, atol=1e-12
            )
        np.testing.assert_array_equal(batched.alpha_, whole.alpha_)
    ref = RidgeCV(alphas=ALPHAS).fit(X, y)
    assert _fit(X, y, target_batch_size=3).alpha_ == ref.alpha_


def test_loo_decomposes_x_once(monkeypatch):
    """One decomposition of X for every batch of targets."""
    calls = []
    original = ClosedForm.decompose

    def counting(self, problem):
        calls.append(problem.n_targets)
        return original(self, problem)

    monkeypatch.setattr(ClosedForm, "decompose", counting)
    X, y = _data(n_targets=10)
    _fit(X, y, alpha_per_target=True, target_batch_size=2, refit=False)
    assert calls == [2]
    calls.clear()
    _fit(X, y, cv="gcv", alpha_per_target=True, target_batch_size=3, refit=False)
    assert calls == [3]
    calls.clear()
    _fit(X, y, cv=3, alpha_per_target=True, target_batch_size=3, refit=False)
    assert len(calls) == 3 + 1  # each fold's X once, all rows' X once (the dof)


def test_loo_inaccurate_spectrum_exact_fits_batched():
    """Columns of very different scales: some alphas are fit exactly (one
    factorization of X reused by every batch); same scores as unbatched and
    as RidgeCV."""
    X, y = _data(n_samples=30, n_features=5, n_targets=7)
    X = X * np.array([1e-6, 1.0, 1e5, 1.0, 1e-3])
    alphas = np.logspace(-8, 2, 6)
    kw = dict(alphas=alphas, alpha_per_target=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = GDRidgeCV(target_batch_size=7, **kw).fit(X, y)
        batched = GDRidgeCV(target_batch_size=2, **kw).fit(X, y)
        gcv_whole = GDRidgeCV(cv="gcv", target_batch_size=7, **kw).fit(X, y)
        gcv_batched = GDRidgeCV(cv="gcv", target_batch_size=2, **kw).fit(X, y)
    np.testing.assert_allclose(
        batched.cv_results_["mean_test_score"], whole.cv_results_["mean_test_score"],
        rtol=1e-9,
    )
    np.testing.assert_allclose(gcv_batched.cv_results_["gcv"], gcv_whole.cv_results_["gcv"],
                               rtol=1e-9)


# ---------------------------------------------------------------------------
# GCV and K-fold against brute force
# ---------------------------------------------------------------------------
def test_gcv_batched_matches_brute_force():
    X, y = _data(n_targets=9)
    batched = _fit(X, y, cv="gcv", alpha_per_target=True, target_batch_size=2)
    whole = _fit(X, y, cv="gcv", alpha_per_target=True, target_batch_size=9)
    np.testing.assert_allclose(batched.cv_results_["gcv"], whole.cv_results_["gcv"], rtol=1e-10)
    n = len(X)
    Xc = X - X.mean(0)
    sv = np.linalg.svd(Xc, compute_uv=False)
    for i, alpha in enumerate(ALPHAS):
        coef, icpt = exact_ridge(X, y, alpha)
        rss = ((y - X @ coef.T - icpt) ** 2).sum(0)
        dof = np.sum(sv**2 / (sv**2 + alpha))
        np.testing.assert_allclose(batched.cv_results_["gcv"][i], rss / (n - dof) ** 2,
                                   rtol=1e-8)


@pytest.mark.parametrize("per_target", [True, False])
@pytest.mark.parametrize("shape", [(45, 6), (18, 25)], ids=["tall", "wide"])
def test_kfold_batched_matches_brute_force(per_target, shape):
    X, y = _data(*shape, n_targets=7)
    batched = _fit(X, y, cv=3, alpha_per_target=per_target, target_batch_size=2)
    whole = _fit(X, y, cv=3, alpha_per_target=per_target, target_batch_size=7)
    for key in ("mean_test_score", "std_test_score", "split1_test_score", "dof"):
        np.testing.assert_allclose(
            batched.cv_results_[key], whole.cv_results_[key], rtol=1e-9, atol=1e-12
        )
    scores = np.empty((3, len(ALPHAS), y.shape[1]))
    for f, (train, test) in enumerate(KFold(3).split(X)):
        for i, alpha in enumerate(ALPHAS):
            pred = Ridge(alpha=alpha).fit(X[train], y[train]).predict(X[test])
            res = ((y[test] - pred) ** 2).sum(0)
            tot = ((y[test] - y[test].mean(0)) ** 2).sum(0)
            scores[f, i] = 1.0 - res / tot
    expected = scores.mean(0) if per_target else scores.mean(2).mean(0)
    np.testing.assert_allclose(batched.cv_results_["mean_test_score"], expected, rtol=1e-8)


def test_kfold_scorer_of_all_targets_takes_them_together():
    X, y = _data(n_targets=5)
    a = _fit(X, y, cv=3, scoring="neg_mean_squared_error", target_batch_size=2)
    b = _fit(X, y, cv=3, scoring="neg_mean_squared_error", target_batch_size=5)
    np.testing.assert_allclose(a.cv_results_["mean_test_score"],
                               b.cv_results_["mean_test_score"], rtol=1e-10)


# ---------------------------------------------------------------------------
# ridge_path
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(40, 6), (12, 30)], ids=["tall", "wide"])
def test_ridge_path_batched_matches_unbatched_and_lstsq(shape):
    X, y = _data(*shape, n_targets=5)
    grid, coefs, icpts = ridge_path(X, y, alphas=ALPHAS, target_batch_size=2)
    grid1, coefs1, icpts1 = ridge_path(X, y, alphas=ALPHAS, target_batch_size=5)
    np.testing.assert_array_equal(grid, grid1)
    np.testing.assert_allclose(coefs, coefs1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(icpts, icpts1, rtol=1e-10, atol=1e-12)
    for i, alpha in enumerate(grid):
        coef, icpt = exact_ridge(X, y, alpha)
        np.testing.assert_allclose(coefs[:, :, i], coef, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(icpts[:, i], icpt, rtol=1e-7, atol=1e-9)


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [0, -3, 1.5, "big", True])
def test_target_batch_size_validated(bad):
    X, y = _data(n_targets=3)
    with pytest.raises((ValueError, TypeError), match="target_batch_size"):
        GDRidgeCV(alphas=ALPHAS, target_batch_size=bad).fit(X, y)
    with pytest.raises((ValueError, TypeError), match="target_batch_size"):
        ridge_path(X, y, alphas=ALPHAS, target_batch_size=bad)


# ---------------------------------------------------------------------------
# Memory, relatively
# ---------------------------------------------------------------------------
def _peak(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("cv", [None, "gcv", 3])
def test_batched_peak_memory_is_bounded(cv):
    """2,000 targets of 300 rows (Y: 4.8 MB): unbatched, several arrays of all
    targets (centered copy, residuals, statistics, the K-fold paths); in
    batches of 50 targets, a few arrays of 50 targets plus the scores."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 20))
    Y = X @ rng.standard_normal((20, 2000)) + rng.standard_normal((300, 2000))
    alphas = np.logspace(-1, 3, 8)

    def run(size):
        return lambda: _fit_quiet(X, Y, alphas, cv, size)

    run(50)()  # warm caches
    whole, batched = _peak(run(Y.shape[1])), _peak(run(50))
    assert batched < whole / 3, (batched, whole)


def _fit_quiet(X, Y, alphas, cv, size):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        GDRidgeCV(alphas=alphas, cv=cv, alpha_per_target=True, refit=False,
                  target_batch_size=size).fit(X, Y)


def test_closed_form_fit_of_many_targets_keeps_one_target_sized_buffer():
    """A closed-form fit from the statistics never forms the centered targets
    (``RidgeProblem.Yc`` is formed on first use): its peak extra memory is the
    moments pass's block buffer (here all rows: about Y's size), not that plus
    a centered copy of Y (2x Y before)."""
    from l2gd import GDRidgeRegressor

    rng = np.random.default_rng(1)
    X = rng.standard_normal((2000, 50))
    Y = X @ rng.standard_normal((50, 2000)) + rng.standard_normal((2000, 2000))
    est = GDRidgeRegressor(solver="closed_form", alpha=1.0)
    est.fit(X[:100], Y[:100])  # warm caches
    peak = _peak(lambda: est.fit(X, Y))
    assert peak < 1.5 * Y.nbytes
    coef, intercept = exact_ridge(X, Y[:, :3], 1.0)
    np.testing.assert_allclose(est.coef_[:3], coef, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(est.intercept_[:3], intercept, rtol=1e-9, atol=1e-12)
