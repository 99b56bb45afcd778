"""GDRidgeCV and ridge_path against brute force: one exact fit per alpha and per fold.

The oracle is built here, independently of l2gd: for every alpha and every
split, ``numpy.linalg.lstsq`` on the augmented weighted least-squares system
(``tests._helpers.exact_ridge``), predictions on the held-out rows, the same
score. Leave-one-out likewise, by ``n_samples`` separate fits. Designs are
hostile on purpose: wide, rank deficient, columns over sixteen orders of
magnitude, tiny and huge data, constant and zero columns, zero weights.
"""

import warnings

import numpy as np
import pytest
import scipy.linalg as la
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_regression
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold

from l2gd import GDRidgeCV, ridge_path
from l2gd._cv import AlphaBoundaryWarning

ALPHAS = np.array([1e-3, 1e-1, 1.0, 10.0, 1e3])


@pytest.fixture(autouse=True)
def _quiet_boundary():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlphaBoundaryWarning)
        yield


def exact_fit(X, Y, sw, alpha, fit_intercept):
    """Least squares on the augmented weighted system ``[S^1/2 X, S^1/2 1; sqrt(alpha) I, 0]``
    by QR with column pivoting (LAPACK gelsy: column-scaling invariant, float64).
    ``numpy.linalg.lstsq`` (SVD with a relative cutoff) is not accurate enough
    on columns spanning sixteen orders of magnitude."""
    Y = np.asarray(Y, dtype=np.float64).reshape(len(X), -1)
    n, p = X.shape
    s = np.ones(n) if sw is None else np.asarray(sw, dtype=np.float64)
    A = np.sqrt(s)[:, None] * (np.hstack([X, np.ones((n, 1))]) if fit_intercept else X)
    pen = np.hstack([np.sqrt(alpha) * np.eye(p), np.zeros((p, A.shape[1] - p))])
    rhs = np.vstack([np.sqrt(s)[:, None] * Y, np.zeros((p, Y.shape[1]))])
    sol = la.lstsq(np.vstack([A, pen]), rhs, lapack_driver="gelsy")[0]
    return sol[:p], (sol[p] if fit_intercept else np.zeros(Y.shape[1]))


def _fit_predict(X, Y, sw, alpha, fit_intercept, X_new):
    coef, intercept = exact_fit(X, Y, sw, alpha, fit_intercept)
    pred = X_new @ coef + intercept
    return pred if np.ndim(Y) == 2 else pred[:, 0]


def brute_loo(X, y, sw, alphas, fit_intercept=True):
    """RidgeCV's default leave-one-out score, ``-mean(s_i e_i^2)``, per alpha."""
    Y = y.reshape(len(y), -1)
    s = np.ones(len(Y)) if sw is None else sw
    scores = []
    for alpha in alphas:
        E = np.empty_like(Y)
        for i in range(len(Y)):
            keep = np.arange(len(Y)) != i
            pred = _fit_predict(X[keep], Y[keep], s[keep], alpha, fit_intercept, X[i : i + 1])
            E[i] = Y[i] - pred[0]
        scores.append(-np.mean(s[:, None] * E**2))
    return np.array(scores)


def brute_kfold(X, y, sw, alphas, cv, fit_intercept=True):
    """Weighted R^2 on each test fold, averaged over folds, per alpha."""
    scores = np.zeros(len(alphas))
    splits = list(cv.split(X))
    for train, test in splits:
        w_tr = None if sw is None else sw[train]
        w_te = None if sw is None else sw[test]
        for j, alpha in enumerate(alphas):
            pred = _fit_predict(X[train], y[train], w_tr, alpha, fit_intercept, X[test])
            scores[j] += r2_score(y[test], pred, sample_weight=w_te) / len(splits)
    return scores


def assert_scores_match(est, expected, rtol=1e-6):
    got = est.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(got))
    scale = np.max(np.abs(expected))
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * scale)
    best = np.max(expected)
    # alpha_ is the brute-force argmax (or ties with it within the tolerance).
    assert expected[list(est.alphas_).index(est.alpha_)] >= best - 2 * rtol * scale


def mixed_scales(n, p, seed, low=-8, high=8):
    rng = np.random.default_rng(seed)
    scales = np.logspace(low, high, p)
    X = rng.standard_normal((n, p)) * scales + 3.0 * scales
    y = X @ (rng.standard_normal(p) / scales) + rng.standard_normal(n)
    return X, y


# ---------------------------------------------------------------------------
# Leave-one-out on wide data with an intercept
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(10, 50), (4, 50), (6, 50), (7, 50), (5, 120)])
@pytest.mark.parametrize("weighted", [False, True])
def test_loo_on_wide_data_with_intercept_equals_brute_force(shape, weighted):
    X, y = make_regression(*shape, noise=1.0, random_state=29)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, shape[0]) if weighted else None
    est = GDRidgeCV(alphas=ALPHAS).fit(X, y, sample_weight=sw)
    assert_scores_match(est, brute_loo(X, y, sw, ALPHAS))


def test_loo_on_wide_data_picks_ridgecvs_alpha_over_many_problems():
    alphas = [1e-3, 1.0, 1e3]
    X, y = make_regression(10, 50, random_state=29)
    assert GDRidgeCV(alphas=alphas).fit(X, y).alpha_ == RidgeCV(alphas=alphas).fit(X, y).alpha_
    for seed in range(40):
        X, y = make_regression(10, 50, noise=1.0, random_state=seed)
        ref = RidgeCV(alphas=alphas).fit(X, y)
        est = GDRidgeCV(alphas=alphas).fit(X, y)
        assert est.alpha_ == ref.alpha_, seed
        np.testing.assert_allclose(est.best_score_, ref.best_score_, rtol=1e-6)


# ---------------------------------------------------------------------------
# Columns of very different scales
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(40, 6), (12, 30)], ids=["tall", "wide"])
def test_loo_with_columns_over_sixteen_orders_equals_brute_force(shape):
    X, y = mixed_scales(*shape, seed=0)
    est = GDRidgeCV(alphas=ALPHAS).fit(X, y)
    # Wide, alpha=1e-3: 1 - h_i - s_i/S is about alpha / L ~ 1e-13 there, so a
    # leave-one-out formula loses digits that n separate fits keep (measured 2e-5).
    rtol = 1e-6 if shape[0] > shape[1] else 1e-4
    assert_scores_match(est, brute_loo(X, y, None, ALPHAS), rtol=rtol)


@pytest.mark.parametrize("shape", [(40, 6), (12, 30)], ids=["tall", "wide"])
def test_kfold_with_columns_over_sixteen_orders_equals_brute_force(shape):
    X, y = mixed_scales(*shape, seed=1)
    cv = KFold(4, shuffle=True, random_state=0)
    est = GDRidgeCV(alphas=ALPHAS, cv=cv).fit(X, y)
    assert_scores_match(est, brute_kfold(X, y, None, ALPHAS, cv))


def test_ridge_path_with_columns_over_sixteen_orders_equals_exact_fits():
    X, y = mixed_scales(30, 5, seed=2)
    alphas, coefs, intercepts = ridge_path(X, y, alphas=ALPHAS)
    for i, alpha in enumerate(alphas):
        coef, intercept = exact_fit(X, y, None, alpha, True)
        coef, intercept = coef[:, 0], intercept[0]
        np.testing.assert_allclose(X @ coefs[:, i] + intercepts[i], X @ coef + intercept,
                                   rtol=1e-7, atol=1e-7 * np.abs(y).max())


# ---------------------------------------------------------------------------
# Random hostile designs
# ---------------------------------------------------------------------------
def hostile_design(seed, n, p, kind, zero_weights):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + rng.standard_normal(p)
    if kind == "rank_deficient" and p >= 2:
        X[:, -1] = X[:, 0] - 2.0 * X[:, 1 % p]
    elif kind == "constant_and_zero" and p >= 2:
        X[:, 0], X[:, -1] = 5.0, 0.0
    elif kind == "mixed_scales":
        X *= np.logspace(-8, 8, p) if p > 1 else 1e8
    coef = rng.standard_normal(p) / np.sqrt(np.mean(X**2, axis=0) + 1e-300)
    y = X @ coef + rng.standard_normal(n) + 1.0
    sw = rng.uniform(0.5, 2.0, n)
    if zero_weights:
        sw[rng.choice(n, size=max(1, n // 4), replace=False)] = 0.0
    # Near the float limits the oracle is computed on the unscaled design:
    # (c X, y) with alphas * c^2 has the same scores (c a power of two, exact).
    c = {"tiny": 2.0**-500, "huge": 2.0**500}.get(kind, 1.0)
    return X, y, sw, c


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(5, 12),
    p=st.integers(1, 16),
    kind=st.sampled_from(["random", "rank_deficient", "constant_and_zero", "mixed_scales",
                          "tiny", "huge"]),
    zero_weights=st.booleans(),
    fit_intercept=st.booleans(),
)
def test_loo_scores_equal_brute_force_on_hostile_designs(
    seed, n, p, kind, zero_weights, fit_intercept
):
    X, y, sw, c = hostile_design(seed, n, p, kind, zero_weights)
    est = GDRidgeCV(alphas=ALPHAS * c * c, fit_intercept=fit_intercept)
    est.fit(c * X, y, sample_weight=sw)
    assert_scores_match(est, brute_loo(X, y, sw, ALPHAS, fit_intercept), rtol=1e-5)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(8, 16),
    p=st.integers(1, 16),
    kind=st.sampled_from(["random", "rank_deficient", "constant_and_zero", "mixed_scales",
                          "tiny", "huge"]),
    fit_intercept=st.booleans(),
)
def test_kfold_scores_equal_brute_force_on_hostile_designs(seed, n, p, kind, fit_intercept):
    X, y, sw, c = hostile_design(seed, n, p, kind, zero_weights=False)
    cv = KFold(3, shuffle=True, random_state=seed)
    est = GDRidgeCV(alphas=ALPHAS * c * c, cv=cv, fit_intercept=fit_intercept)
    est.fit(c * X, y, sample_weight=sw)
    assert_scores_match(est, brute_kfold(X, y, sw, ALPHAS, cv, fit_intercept), rtol=1e-5)


# ---------------------------------------------------------------------------
# Extreme magnitudes and zero data
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("cv", [None, 4])
@pytest.mark.parametrize("c", [1e-300, 1e300])
def test_targets_near_the_float_limits_give_the_same_choice(cv, c):
    X, y = mixed_scales(30, 4, seed=3, low=0, high=1)
    ref = GDRidgeCV(alphas=ALPHAS, cv=cv).fit(X, y)
    est = GDRidgeCV(alphas=ALPHAS, cv=cv).fit(X, c * y)
    assert est.alpha_ == ref.alpha_
    assert not np.any(np.isnan(est.cv_results_["mean_test_score"]))
    if cv is not None:  # R^2 is invariant
        np.testing.assert_allclose(est.best_score_, ref.best_score_, rtol=1e-10)
    np.testing.assert_allclose(est.coef_, c * ref.coef_, rtol=1e-8)


@pytest.mark.parametrize("cv", [None, 4])
@pytest.mark.parametrize("c", [2.0**-500, 2.0**500])
def test_design_near_the_float_limits_is_equivariant(cv, c):
    # (c X, y) with alphas * c^2 is the same problem as (X, y): coef / c.
    X, y = mixed_scales(30, 4, seed=4, low=0, high=1)
    ref = GDRidgeCV(alphas=ALPHAS, cv=cv).fit(X, y)
    est = GDRidgeCV(alphas=ALPHAS * c * c, cv=cv).fit(c * X, y)
    assert list(est.alphas_).index(est.alpha_) == list(ref.alphas_).index(ref.alpha_)
    np.testing.assert_allclose(est.best_score_, ref.best_score_, rtol=1e-10)
    np.testing.assert_allclose(est.cv_results_["mean_test_score"],
                               ref.cv_results_["mean_test_score"], rtol=1e-10)


@pytest.mark.parametrize("cv", [None, 4])
def test_all_zero_design_scores_the_intercept_only_model(cv):
    y = np.random.default_rng(0).standard_normal(20)
    est = GDRidgeCV(alphas=ALPHAS, cv=cv).fit(np.zeros((20, 3)), y)
    scores = est.cv_results_["mean_test_score"]
    assert np.all(scores == scores[0]) and est.alpha_ == ALPHAS[0]  # ties: the first
    expected = -np.mean((y - y.mean()) ** 2 * (20 / 19) ** 2) if cv is None else None
    if cv is None:
        np.testing.assert_allclose(scores[0], expected, rtol=1e-12)
    np.testing.assert_array_equal(est.coef_, 0.0)


# ---------------------------------------------------------------------------
# Never choose from a NaN; clear errors
# ---------------------------------------------------------------------------
def test_nan_score_raises_naming_the_split_and_alpha():
    X, y = mixed_scales(30, 3, seed=5, low=0, high=1)

    def nan_at_one(estimator, X, y):
        return np.nan if estimator.alpha == 1.0 else -np.mean((estimator.predict(X) - y) ** 2)

    with pytest.raises(ValueError, match=r"split 0 at alpha=1 is NaN"):
        GDRidgeCV(alphas=ALPHAS, cv=3, scoring=nan_at_one).fit(X, y)

    def nan_loo(estimator, X, y):
        return np.nan

    with pytest.raises(ValueError, match=r"leave-one-out score at alpha=0.001 is NaN"):
        GDRidgeCV(alphas=ALPHAS, scoring=nan_loo).fit(X, y)


def test_test_fold_of_zero_weight_raises_naming_the_split():
    X, y = mixed_scales(30, 3, seed=6, low=0, high=1)
    sw = np.ones(30)
    sw[10:20] = 0.0
    with pytest.raises(ValueError, match="test rows of split 1"):
        GDRidgeCV(alphas=ALPHAS, cv=KFold(3)).fit(X, y, sample_weight=sw)


def test_groups_without_cv_raise():
    X, y = mixed_scales(30, 3, seed=7, low=0, high=1)
    with pytest.raises(ValueError, match="groups.*need cv set"):
        GDRidgeCV(alphas=ALPHAS).fit(X, y, groups=np.arange(30) % 3)


@pytest.mark.parametrize("alphas", [(1, 1.0, "1"), ["0.1", "1"], [True, False], [1 + 0j]])
def test_alphas_that_are_not_real_numbers_raise_type_error(alphas):
    X, y = mixed_scales(10, 2, seed=8, low=0, high=1)
    for cv in (None, 3):
        with pytest.raises(TypeError, match="alphas must be an int or an array of real"):
            GDRidgeCV(alphas=alphas, cv=cv).fit(X, y)


def test_more_folds_than_samples_names_cv_and_n_samples():
    X, y = mixed_scales(4, 2, seed=9, low=0, high=1)
    with pytest.raises(ValueError, match="cv=5 cannot split n_samples=4"):
        GDRidgeCV(alphas=ALPHAS, cv=5).fit(X, y)


# ---------------------------------------------------------------------------
# Array API inputs
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("module", ["array_api_strict", "torch"])
@pytest.mark.parametrize("cv", [None, 3])
def test_array_api_inputs_match_numpy(module, cv):
    xp = pytest.importorskip(module)
    X, y = mixed_scales(30, 4, seed=10, low=0, high=1)
    ref = GDRidgeCV(alphas=ALPHAS, cv=cv).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = GDRidgeCV(alphas=ALPHAS, cv=cv).fit(xp.asarray(X), xp.asarray(y))
        pred = est.predict(xp.asarray(X))
    assert est.alpha_ == ref.alpha_
    np.testing.assert_allclose(est.cv_results_["mean_test_score"],
                               ref.cv_results_["mean_test_score"], rtol=1e-10)
    np.testing.assert_allclose(np.asarray(pred), ref.predict(X), rtol=1e-8)
