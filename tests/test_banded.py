"""Banded ridge, GDRidgeCV(feature_groups=...): one alpha per feature group.

Oracles: scores recomputed by brute force (the augmented float64 least-squares
system with the group penalties, one fit per fold or left-out row), a grid
search over the group alphas, and the ordinary single-alpha GDRidgeCV.
"""

import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import KFold

from l2gd import GDRidgeCV

N, P1, P2 = 80, 4, 8
GROUPS = np.array(["strong"] * P1 + ["weak"] * P2)


def _data(seed=0):
    """Two feature groups of very different signal strength, and weights."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, P1 + P2))
    w = np.r_[rng.standard_normal(P1) * 2.0, rng.standard_normal(P2) * 0.05]
    Y = X @ w + rng.standard_normal(N)
    return X, Y, rng.uniform(0.2, 2.0, N)


ALPHAS = np.logspace(-2, 4, 13)


def fit_lstsq(X, y, penalties, s):
    """Intercept and coefficients minimizing sum s (y - b - X w)^2 + sum_j p_j w_j^2."""
    n = X.shape[0]
    A = np.c_[np.ones(n), X]
    M = np.r_[A * np.sqrt(s)[:, None], np.diag(np.sqrt(np.r_[0.0, penalties]))]
    sol = np.linalg.lstsq(M, np.r_[y * np.sqrt(s), np.zeros(A.shape[1])], rcond=None)[0]
    return sol[0], sol[1:]


def kfold_r2(X, y, penalties, s, splits):
    scores = []
    for tr, te in splits:
        b, w = fit_lstsq(X[tr], y[tr], penalties, s[tr])
        e = y[te] - b - X[te] @ w
        m = np.average(y[te], weights=s[te])
        scores.append(1 - np.sum(s[te] * e**2) / np.sum(s[te] * (y[te] - m) ** 2))
    return np.mean(scores)


def loo_score(X, y, penalties, s):
    err = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        b, w = fit_lstsq(X[keep], y[keep], penalties, s[keep])
        err.append(s[i] * (y[i] - b - X[i] @ w) ** 2)
    return -np.mean(err)


def per_feature(alpha_groups, labels):
    return np.asarray(alpha_groups)[np.searchsorted(labels, GROUPS)]


def test_kfold_scores_and_refit_match_brute_force():
    X, Y, SW = _data()
    splits = list(KFold(4, shuffle=True, random_state=0).split(X))
    est = GDRidgeCV(alphas=ALPHAS, cv=splits, feature_groups=GROUPS, random_state=0)
    est.fit(X, Y, sample_weight=SW)
    assert est.alpha_.shape == (2,)
    assert list(est.feature_groups_) == ["strong", "weak"]
    pen = per_feature(est.alpha_, est.feature_groups_)
    assert est.best_score_ == pytest.approx(kfold_r2(X, Y, pen, SW, splits), abs=1e-10)
    b, w = fit_lstsq(X, Y, pen, SW)
    np.testing.assert_allclose(est.coef_, w, rtol=1e-8, atol=1e-12)
    assert est.intercept_ == pytest.approx(b, rel=1e-10)
    # At least as good as a 7 x 7 grid over the two group alphas.
    grid = np.logspace(-2, 4, 7)
    brute = max(
        kfold_r2(X, Y, per_feature([a, c], est.feature_groups_), SW, splits)
        for a in grid for c in grid
    )
    assert est.best_score_ >= brute - 1e-3 * abs(brute)


def test_loo_score_matches_brute_force_and_beats_single_alpha():
    X, Y, SW = _data()
    est = GDRidgeCV(alphas=ALPHAS, feature_groups=GROUPS, random_state=0).fit(X, Y)
    pen = per_feature(est.alpha_, est.feature_groups_)
    assert est.best_score_ == pytest.approx(loo_score(X, Y, pen, np.ones(N)), rel=1e-9)
    single = GDRidgeCV(alphas=ALPHAS).fit(X, Y)
    assert est.best_score_ >= single.best_score_
    assert est.group_weights_[0] == pytest.approx([0.5, 0.5])  # equal weights first
    assert est.group_scores_[0] == pytest.approx(single.best_score_, rel=1e-12)


@pytest.mark.parametrize("cv", [None, 5, "gcv"])
def test_recovers_the_group_ordering(cv):
    X, Y, SW = _data()
    est = GDRidgeCV(alphas=ALPHAS, cv=cv, feature_groups=GROUPS, random_state=0).fit(X, Y)
    strong, weak = est.alpha_
    assert weak > 10 * strong


def test_alpha_per_target_learns_each_targets_ordering():
    X, Y, SW = _data()
    rng = np.random.default_rng(1)
    Y2 = np.c_[Y, X @ np.r_[rng.standard_normal(P1) * 0.05, rng.standard_normal(P2) * 2.0]
               + rng.standard_normal(N)]
    est = GDRidgeCV(alphas=ALPHAS, feature_groups=GROUPS, alpha_per_target=True,
                    random_state=0).fit(X, Y2)
    assert est.alpha_.shape == (2, 2) and est.coef_.shape == (2, P1 + P2)
    assert est.alpha_[0, 1] > 10 * est.alpha_[0, 0]  # target 0: weak group shrunk
    assert est.alpha_[1, 0] > 10 * est.alpha_[1, 1]  # target 1: the other way
    for t in range(2):
        b, w = fit_lstsq(X, Y2[:, t], per_feature(est.alpha_[t], est.feature_groups_), np.ones(N))
        np.testing.assert_allclose(est.coef_[t], w, rtol=1e-8, atol=1e-12)


def test_sparse_and_dask_give_the_dense_result():
    X, Y, SW = _data()
    dense = GDRidgeCV(alphas=ALPHAS, cv=4, feature_groups=GROUPS, random_state=0).fit(
        X, Y, sample_weight=SW
    )
    sparse = GDRidgeCV(alphas=ALPHAS, cv=4, feature_groups=GROUPS, random_state=0).fit(
        sp.csr_matrix(X), Y, sample_weight=SW
    )
    np.testing.assert_allclose(sparse.alpha_, dense.alpha_, rtol=1e-8)
    Xd, yd, sd = (da.from_array(a, chunks=20) for a in (X, Y, SW))
    dask = GDRidgeCV(alphas=ALPHAS, cv=4, feature_groups=GROUPS, random_state=0).fit(
        Xd, yd, sample_weight=sd
    )
    np.testing.assert_allclose(dask.alpha_, dense.alpha_, rtol=1e-8)
    np.testing.assert_allclose(dask.coef_, dense.coef_, rtol=1e-8, atol=1e-12)


def test_predict_and_one_group():
    X, Y, SW = _data()
    est = GDRidgeCV(alphas=ALPHAS, feature_groups=np.zeros(P1 + P2)).fit(X, Y)
    single = GDRidgeCV(alphas=ALPHAS).fit(X, Y)
    assert est.alpha_ == pytest.approx([single.alpha_])
    np.testing.assert_allclose(est.predict(X), single.predict(X), rtol=1e-10)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"feature_groups": np.zeros(3)}, r"one group label per feature"),
        ({"feature_groups": np.r_[np.zeros(P1), np.nan, np.ones(P2 - 1)]}, "NaN or infinite"),
        ({"feature_groups": GROUPS, "penalty_factor": np.ones(P1 + P2)}, "cannot be combined"),
    ],
)
def test_bad_feature_groups_is_a_clear_error(params, match):
    X, Y, SW = _data()
    with pytest.raises(ValueError, match=match):
        GDRidgeCV(**params).fit(X, Y)
