"""Streaming: exact closed-form partial_fit, SGD partial_fit, from_stats, memmap input."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from l2gd import GDRidgeRegressor, RidgeStats
from l2gd.solvers import SGD


def make_data(n=400, p=6, n_targets=1, seed=0, weights=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 3.0, size=p) + rng.normal(0, 5, size=p)
    W = rng.standard_normal((p, n_targets))
    Y = X @ W + 2.0 + 0.1 * rng.standard_normal((n, n_targets))
    y = Y[:, 0] if n_targets == 1 else Y
    sw = rng.uniform(0.0, 3.0, size=n) if weights else None
    return X, y, sw


def random_batches(n, rng, max_batches=6):
    """A random order of the rows cut at random places (batches of >= 1 row)."""
    order = rng.permutation(n)
    k = rng.integers(1, max_batches + 1)
    cuts = np.sort(rng.choice(np.arange(1, n), size=k - 1, replace=False))
    return np.split(order, cuts)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_targets", [1, 3])
@pytest.mark.parametrize("sparse", [False, True])
def test_closed_form_stream_equals_fit_on_concatenation(fit_intercept, n_targets, sparse):
    X, y, sw = make_data(n_targets=n_targets, weights=True)
    Xa = sp.csr_matrix(X) if sparse else X
    ref = Ridge(alpha=2.0, fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
    rng = np.random.default_rng(1)
    for _ in range(10):
        est = GDRidgeRegressor(alpha=2.0, fit_intercept=fit_intercept, solver="closed_form")
        batches = random_batches(len(y), rng)
        for rows in batches:
            est.partial_fit(Xa[rows], y[rows], sample_weight=sw[rows])
        np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-10, atol=1e-12)
        assert est.n_iter_ == len(batches) == len(est.loss_curve_)
        assert est.stats_.n_samples == len(y)


def test_auto_streams_in_closed_form_and_records_it():
    X, y, _ = make_data()
    est = GDRidgeRegressor().partial_fit(X[:100], y[:100]).partial_fit(X[100:], y[100:])
    assert est.solver_ == "closed_form"
    np.testing.assert_allclose(est.coef_, Ridge().fit(X, y).coef_, rtol=1e-10)


def test_gd_does_not_stream():
    est = GDRidgeRegressor(solver="gd")
    assert not hasattr(est, "partial_fit")
    X, y, _ = make_data(n=20)
    for error in (ValueError, AttributeError):
        with pytest.raises(error, match="solver 'gd' does not support partial_fit; use"):
            est.partial_fit(X, y)
    assert hasattr(GDRidgeRegressor(solver="sgd"), "partial_fit")


@pytest.mark.parametrize("solver", ["closed_form", "sgd"])
def test_width_change_is_refused_and_model_unchanged(solver):
    X, y, _ = make_data()
    est = GDRidgeRegressor(solver=solver, random_state=0).partial_fit(X[:200], y[:200])
    coef, intercept, t = est.coef_.copy(), est.intercept_, getattr(est, "t_", None)
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X[200:, :-1], y[200:])
    with pytest.raises(ValueError, match="targets"):
        est.partial_fit(X[200:], np.c_[y[200:], y[200:]])
    np.testing.assert_array_equal(est.coef_, coef)
    assert est.intercept_ == intercept and getattr(est, "t_", None) == t
    assert est.n_features_in_ == X.shape[1] and est.n_iter_ == 1


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sgd_partial_fit_equals_fit_with_same_order(shuffle, fit_intercept):
    X, Y, sw = make_data(n_targets=2, weights=True)
    X = (X - X.mean(0)) / X.std(0)
    solver = SGD(method="plain", batch_size=16, shuffle=shuffle, average=True)
    params = dict(alpha=[1.0, 5.0], solver=solver, fit_intercept=fit_intercept, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = GDRidgeRegressor(max_iter=1, **params).fit(X, Y, sample_weight=sw)
    streamed = GDRidgeRegressor(**params).partial_fit(X, Y, sample_weight=sw)
    np.testing.assert_allclose(streamed.coef_, fitted.coef_, rtol=1e-12)
    np.testing.assert_allclose(streamed.intercept_, fitted.intercept_, rtol=1e-12, atol=1e-14)
    assert streamed.t_ == fitted.t_ == int(np.ceil(len(X) / 16))
    assert streamed.loss_curve_ == pytest.approx(fitted.loss_curve_, rel=1e-12)


def test_sgd_stream_state_persists_and_converges():
    X, y, _ = make_data(n=6000, p=5, seed=2)
    est = GDRidgeRegressor(solver=SGD(batch_size=50, average=1), random_state=0)
    ts = []
    for rows in np.array_split(np.arange(len(y)), 12):
        est.partial_fit(X[rows], y[rows])
        ts.append(est.t_)
    assert ts == [10 * (i + 1) for i in range(12)]
    assert est.n_iter_ == 12 == len(est.loss_curve_)
    ref = Ridge(alpha=1.0).fit(X, y)
    assert np.linalg.norm(est.coef_ - ref.coef_) <= 1e-2 * np.linalg.norm(ref.coef_)
    assert abs(est.intercept_ - ref.intercept_) <= 1e-2 * abs(ref.intercept_)


def test_sgd_partial_fit_after_fit_continues():
    X, y, _ = make_data(n=500)
    est = GDRidgeRegressor(solver="sgd", random_state=0).fit(X, y)
    t, n_iter = est.t_, est.n_iter_
    est.partial_fit(X[:100], y[:100])
    assert est.t_ == t + 1 and est.n_iter_ == n_iter + 1


def test_from_stats_equals_fit():
    X, Y, sw = make_data(n_targets=2, weights=True)
    stats = None
    for rows in np.array_split(np.arange(len(X)), 5):
        part = RidgeStats.from_batch(X[rows], Y[rows], sw[rows])
        stats = part if stats is None else stats.merge(part)
    est = GDRidgeRegressor.from_stats(stats, alpha=[0.5, 50.0])
    ref = Ridge(alpha=[0.5, 50.0]).fit(X, Y, sample_weight=sw)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-10)
    np.testing.assert_allclose(est.predict(X), ref.predict(X), rtol=1e-10)
    assert est.n_features_in_ == X.shape[1] and est.solver_ == "closed_form"
    with pytest.raises(TypeError, match="RidgeStats"):
        GDRidgeRegressor.from_stats({"xx": 1})
    with pytest.raises(ValueError, match="fit_intercept"):
        GDRidgeRegressor.from_stats(stats, fit_intercept=False)
    with pytest.raises(ValueError, match="closed form"):
        GDRidgeRegressor.from_stats(stats, solver="gd")


def _memmap(tmp_path, n, p, seed=0):
    rng = np.random.default_rng(seed)
    path = tmp_path / "X.npy"
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n, p))
    w = rng.standard_normal(p)
    y = np.empty(n)
    for start in range(0, n, 10_000):
        block = rng.standard_normal((min(10_000, n - start), p))
        X[start : start + len(block)] = block
        y[start : start + len(block)] = block @ w + 0.1 * rng.standard_normal(len(block))
    X.flush()
    del X
    return np.load(path, mmap_mode="r"), y


@pytest.mark.parametrize("solver", ["closed_form", SGD(batch_size=1024)])
def test_memmap_is_read_without_a_full_copy(tmp_path, solver):
    X, y = _memmap(tmp_path, 500_000, 20)  # 80 MB on disk
    ref = Ridge(alpha=1.0).fit(np.asarray(X), y)
    est = GDRidgeRegressor(solver=solver, max_iter=3, random_state=0)
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # Row blocks and n-vectors only: a copy of X would be X.nbytes.
    assert peak < X.nbytes / 3, f"peak {peak} bytes for a {X.nbytes}-byte memmap"
    assert np.linalg.norm(est.coef_ - ref.coef_) <= 1e-2 * np.linalg.norm(ref.coef_)
