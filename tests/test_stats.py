"""RidgeStats: blockwise moments against direct formulas; exact, order-free merges."""

import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import make_regression_data

from l2gd import RidgeStats
from l2gd._stats import _dense_moments


def direct_moments(X, y, sw, fit_intercept):
    X = X.toarray() if sp.issparse(X) else X
    Y = y.reshape(len(y), -1)
    sw = np.ones(len(Y)) if sw is None else sw
    xm = np.average(X, axis=0, weights=sw) if fit_intercept else np.zeros(X.shape[1])
    ym = np.average(Y, axis=0, weights=sw) if fit_intercept else np.zeros(Y.shape[1])
    Xc, Yc = X - xm, Y - ym
    return xm, ym, Xc.T @ (sw[:, None] * Xc), Xc.T @ (sw[:, None] * Yc), sw @ Yc**2


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_from_batch_matches_direct_formulas(sparse, fit_intercept, weighted):
    X, y = make_regression_data(n_samples=90, n_targets=2, sparse=sparse, seed=0)
    sw = np.random.default_rng(0).uniform(0, 2, 90) if weighted else None
    st = RidgeStats.from_batch(X, y, sw, fit_intercept=fit_intercept)
    xm, ym, xx, xy, yy = direct_moments(X, y, sw, fit_intercept)
    for got, want in [(st.x_mean, xm), (st.y_mean, ym), (st.xx, xx), (st.xy, xy), (st.yy, yy)]:
        assert np.allclose(got, want, rtol=1e-12, atol=1e-10)
    assert st.n_samples == 90


def test_blocked_accumulation_equals_single_block():
    X, y = make_regression_data(n_samples=1000, seed=1)
    Y = y.reshape(-1, 1)
    m, my = X.mean(0), Y.mean(0)
    whole = _dense_moments(X, Y, None, 1000.0, (m, my), block_rows=1000)
    blocked = _dense_moments(X, Y, None, 1000.0, (m, my), block_rows=37)
    for a, b in zip(whole, blocked):
        assert np.allclose(a, b, rtol=1e-12)


def _two_pass_moments(X, Y, sw):
    """Oracle: weighted means, then moments of the exactly centered rows (longdouble)."""
    w = np.ones(len(X)) if sw is None else sw
    Xl, Yl, wl = (np.asarray(a, dtype=np.longdouble) for a in (X, Y, w))
    mx, my = wl @ Xl / wl.sum(), wl @ Yl / wl.sum()
    Xc, Yc = Xl - mx, Yl - my
    Xw, Yw = Xc * wl[:, None], Yc * wl[:, None]
    return mx, my, Xc.T @ Xw, Xc.T @ Yw, (Yc * Yw).sum(0)


@pytest.mark.parametrize("order", ["random", "sorted"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("offset", [-2.0, 1e4])
@pytest.mark.parametrize("n_targets", [1, 40])
def test_one_pass_moments_match_two_pass_centering(order, weighted, offset, n_targets):
    """The means and centered moments from one pass (a shift from the first
    block, or none) equal those of an exactly centered two-pass computation,
    also when the first block is not typical (sorted rows: the second pass)."""
    X, Y = make_regression_data(n_samples=3000, n_features=30, n_targets=n_targets, seed=3)
    Y = Y.reshape(len(X), -1) + 5.0
    X = X + offset * np.linspace(1.0, 2.0, X.shape[1])
    if order == "sorted":
        rows = np.argsort(X[:, 0])
        X, Y = X[rows], Y[rows]
    X, Y = np.ascontiguousarray(X), np.ascontiguousarray(Y)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(X)) if weighted else None
    total = float(len(X) if sw is None else sw.sum())
    got = _dense_moments(X, Y, sw, total, None, block_rows=256)
    want = _two_pass_moments(X, Y, sw)
    for g, w in zip(got, want):
        w = np.asarray(w, dtype=np.float64)
        assert np.allclose(g, w, rtol=1e-11, atol=1e-11 * np.abs(w).max())
    assert np.allclose(np.diag(got[2]), np.diag(want[2]).astype(float), rtol=1e-12)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_merge_of_random_splits_in_random_order_is_exact(seed, fit_intercept):
    X, y = make_regression_data(n_samples=200, n_targets=3, seed=seed, offset=1e3)
    rng = np.random.default_rng(seed)
    sw = rng.uniform(0, 3, 200)
    cuts = np.sort(rng.choice(np.arange(1, 200), size=4, replace=False))
    parts = [
        RidgeStats.from_batch(X[i:j], y[i:j], sw[i:j], fit_intercept=fit_intercept)
        for i, j in zip([0, *cuts], [*cuts, 200])
    ]
    rng.shuffle(parts)
    merged = parts[0]
    for p in parts[1:]:
        merged = merged.merge(p)
    whole = RidgeStats.from_batch(X, y, sw, fit_intercept=fit_intercept)
    assert np.allclose(merged.xx, whole.xx, rtol=1e-10)
    assert np.allclose(merged.xy, whole.xy, rtol=1e-10)
    assert np.allclose(merged.yy, whole.yy, rtol=1e-10)
    assert np.allclose(merged.x_mean, whole.x_mean, rtol=1e-12)
    assert merged.sw_sum == pytest.approx(whole.sw_sum)


def test_merge_rejects_mismatched_statistics():
    X, y = make_regression_data(seed=2)
    a = RidgeStats.from_batch(X, y)
    with pytest.raises(TypeError, match="RidgeStats"):
        a.merge("not stats")
    with pytest.raises(ValueError, match="fit_intercept"):
        a.merge(RidgeStats.from_batch(X, y, fit_intercept=False))
    with pytest.raises(ValueError, match="shapes"):
        a.merge(RidgeStats.from_batch(X[:, :3], y))


def test_objective_from_stats_equals_objective_from_data():
    from l2gd import RidgeProblem

    X, y = make_regression_data(n_targets=2, seed=3)
    sw = np.random.default_rng(1).uniform(0.5, 2, X.shape[0])
    st = RidgeStats.from_batch(X, y, sw)
    alpha = np.array([1.0, 3.0])
    W = np.random.default_rng(2).standard_normal((X.shape[1], 2))
    problem = RidgeProblem(X, y, alpha, sample_weight=sw)
    assert np.isclose(st.objective(W, alpha).sum(), problem.value(W), rtol=1e-10)
    assert np.allclose(st.intercept(W), problem.intercept(W))


@pytest.mark.parametrize("weighted", [False, True])
def test_subtract_is_the_inverse_of_merge(weighted):
    # The rest's statistics equal those computed directly from the rest's rows.
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((90, 4)) + 5.0, rng.standard_normal((90, 2))
    sw = rng.uniform(0.5, 2, 90) if weighted else None
    whole = RidgeStats.from_batch(X, y, sw)
    part = RidgeStats.from_batch(X[:30], y[:30], None if sw is None else sw[:30])
    rest = whole.subtract(part)
    direct = RidgeStats.from_batch(X[30:], y[30:], None if sw is None else sw[30:])
    for attr in ("x_mean", "y_mean", "xx", "xy", "yy"):
        np.testing.assert_allclose(getattr(rest, attr), getattr(direct, attr), atol=1e-10)
    assert rest.sw_sum == pytest.approx(direct.sw_sum) and rest.n_samples == 60


def test_subtract_to_zero_weight_raises():
    X, y = np.ones((4, 2)), np.ones(4)
    stats = RidgeStats.from_batch(X, y)
    with pytest.raises(ValueError, match="zero"):
        stats.subtract(stats)


def test_uncentered_equals_statistics_without_intercept():
    rng = np.random.default_rng(4)
    X, y, sw = rng.standard_normal((40, 3)) + 2.0, rng.standard_normal(40), rng.uniform(1, 2, 40)
    moved = RidgeStats.from_batch(X, y, sw).uncentered()
    direct = RidgeStats.from_batch(X, y, sw, fit_intercept=False)
    assert not moved.fit_intercept
    for attr in ("xx", "xy", "yy"):
        np.testing.assert_allclose(getattr(moved, attr), getattr(direct, attr), rtol=1e-12)
