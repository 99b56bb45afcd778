"""GDRidgeRegressor on dask arrays: threaded scheduler and a 2-worker LocalCluster.

Oracles: scikit-learn's Ridge / r2_score on the same data in memory, the numpy
fit of GDRidgeRegressor, and exact solutions built from a known SVD.
"""

import os
import subprocess
import sys
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

from l2gd import GDRidgeRegressor, RidgeStats, _dask  # noqa: E402
from l2gd.solvers import _registry  # noqa: E402
from l2gd.solvers._closed_form import solve_from_stats  # noqa: E402
from l2gd.solvers import SGD, ClosedForm, GradientDescent, Solver  # noqa: E402

WORKER_MEMORY = 400 * 2**20


def make_data(n=700, p=12, k=None, seed=0, weights=False, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, p)) + 1.5).astype(dtype)
    coef = rng.standard_normal((p,) if k is None else (p, k))
    y = (X @ coef + 2.0 + 0.3 * rng.standard_normal((n,) if k is None else (n, k))).astype(dtype)
    w = rng.uniform(0.2, 3.0, n).astype(dtype) if weights else None
    return X, y, w


def to_dask(X, y, w=None, chunks=(150, 250, 100, 200)):
    """Uneven row chunks; y and w chunked differently from X on purpose."""
    n, rows = X.shape[0], []
    for c in chunks:
        rows.append(min(c, n - sum(rows)))
    if sum(rows) < n:
        rows.append(n - sum(rows))
    rows = tuple(r for r in rows if r > 0)
    Xd = da.from_array(X, chunks=(rows, X.shape[1]))
    yd = da.from_array(y, chunks=(230,) + y.shape[1:])
    wd = None if w is None else da.from_array(w, chunks=310)
    return Xd, yd, wd


@pytest.fixture(scope="module")
def client():
    # Worker processes (not threads): results travel pickled between processes
    # as on a real cluster, and the nanny enforces the memory limit (a worker
    # over it is restarted), which the out-of-memory test relies on. Startup
    # takes about a second.
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        memory_limit=WORKER_MEMORY,
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster, set_as_default=False) as c:
        yield c


@contextmanager
def scheduler_context(name, request):
    if name == "threads":
        with dask.config.set(scheduler="threads"):
            yield
    else:
        c = request.getfixturevalue("client")
        with c.as_current(), dask.config.set(scheduler=c.get):
            yield


@pytest.fixture(params=["threads", "distributed"])
def scheduler(request):
    with scheduler_context(request.param, request):
        yield request.param


@pytest.fixture
def threads():
    with dask.config.set(scheduler="threads"):
        yield


@pytest.mark.parametrize("k", [None, 3])
@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("solver, rtol", [("closed_form", 1e-10), ("gd", 1e-6)])
def test_fit_matches_numpy_fit_and_ridge(scheduler, solver, rtol, fit_intercept, weights, k):
    X, y, w = make_data(k=k, weights=weights, seed=1)
    Xd, yd, wd = to_dask(X, y, w)
    est = GDRidgeRegressor(alpha=2.0, solver=solver, fit_intercept=fit_intercept)
    est.fit(Xd, yd, sample_weight=wd)
    ref = GDRidgeRegressor(alpha=2.0, solver=solver, fit_intercept=fit_intercept)
    ref.fit(X, y, sample_weight=w)
    sk = Ridge(alpha=2.0, fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    for other in (ref, sk):
        assert np.shape(est.coef_) == np.shape(other.coef_)
        assert np.shape(est.intercept_) == np.shape(other.intercept_)
        scale = np.abs(other.coef_).max()
        np.testing.assert_allclose(est.coef_, other.coef_, rtol=rtol, atol=rtol * scale)
        np.testing.assert_allclose(est.intercept_, other.intercept_, rtol=rtol, atol=rtol * scale)
    assert est.n_features_in_ == X.shape[1]
    assert est.solver_ == solver
    assert len(est.loss_curve_) == est.n_iter_
    np.testing.assert_allclose(est.loss_curve_[-1], ref.loss_curve_[-1], rtol=1e-9)


@pytest.mark.parametrize("acceleration", ["cg", "none"])
def test_gd_on_statistics_gives_the_iterates_of_gd_on_the_data(threads, acceleration):
    X, y, w = make_data(k=2, weights=True, seed=2)
    Xd, yd, wd = to_dask(X, y, w)
    solver = GradientDescent(acceleration=acceleration)
    est = GDRidgeRegressor(alpha=5.0, solver=solver, tol=1e-6).fit(Xd, yd, sample_weight=wd)
    ref = GDRidgeRegressor(alpha=5.0, solver=solver, tol=1e-6).fit(X, y, sample_weight=w)
    assert est.n_iter_ == ref.n_iter_ > 3
    np.testing.assert_allclose(est.loss_curve_, ref.loss_curve_, rtol=1e-10)


@pytest.mark.parametrize("weighted", [False, True])
def test_dask_gram_product_is_the_explicit_product(threads, weighted):
    # The chunked product (one task per chunk, the in-memory blocked
    # product's kernel) against X_c^T S X_c V formed here in long double.
    X, y, w = make_data(k=2, weights=weighted, seed=5)
    Xd, yd, wd = to_dask(X, y, w)
    rows = Xd.chunks[0]  # the estimator aligns y and the weights with X's chunks
    yd = yd.rechunk((rows, 2))
    wd = None if wd is None else wd.rechunk((rows,))
    cross, matvec = _dask.gram_operator(Xd, yd, wd, True)
    V = np.random.default_rng(6).standard_normal((X.shape[1], 3))
    s = np.ones(X.shape[0], np.longdouble) if w is None else w.astype(np.longdouble)
    XL = X.astype(np.longdouble)
    Xc = XL - (s @ XL) / s.sum()
    expected = Xc.T @ (s[:, None] * (Xc @ V.astype(np.longdouble)))
    out = matvec(V)
    assert out.shape == V.shape and out.dtype == np.float64
    np.testing.assert_allclose(out, np.asarray(expected, np.float64), rtol=1e-12,
                               atol=1e-12 * float(np.abs(expected).max()))


@pytest.mark.parametrize("acceleration", ["cg", "nesterov"])
def test_wide_gd_one_fused_pass_per_iteration(scheduler, monkeypatch, acceleration):
    # Force the path for data too wide for p x p statistics.
    monkeypatch.setattr(_registry, "GRAM_MAX_DIM", 4)  # one limit: "auto" and gd's route
    calls = []
    make = _dask._dask_gram_matvec

    def counting(*args):
        matvec = make(*args)

        def wrapped(V):
            calls.append(V.shape)
            return matvec(V)

        return wrapped

    monkeypatch.setattr(_dask, "_dask_gram_matvec", counting)
    X, y, w = make_data(k=2, weights=True, seed=3)
    Xd, yd, wd = to_dask(X, y, w)
    est = GDRidgeRegressor(alpha=3.0, solver=GradientDescent(acceleration=acceleration))
    est.fit(Xd, yd, sample_weight=wd)
    sk = Ridge(alpha=3.0).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(est.coef_, sk.coef_, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(est.intercept_, sk.intercept_, rtol=1e-6)
    if acceleration == "cg":
        # One pass per iteration, plus a resynchronization every 50.
        assert 0 < len(calls) <= est.n_iter_ + est.n_iter_ // 50 + 1
    assert GDRidgeRegressor(alpha=3.0).fit(Xd, yd).solver_ == "gd"  # auto on wide data


def _ill_conditioned(seed=0, n=3000, p=10, cond=1e7):
    """X with centered columns and a known SVD; the exact ridge solution from it."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, p))
    U, _ = np.linalg.qr(A - A.mean(axis=0))  # columns orthogonal to the ones vector
    V, _ = np.linalg.qr(rng.standard_normal((p, p)))
    s = np.logspace(0, -np.log10(cond), p)
    X = (U * s) @ V.T + 5.0
    y = X @ rng.standard_normal(p) + 1e-3 * rng.standard_normal(n)
    alpha = 1e-12
    exact = V @ (s / (s**2 + alpha) * (U.T @ (y - y.mean())))
    return X, y, alpha, exact


def test_tsqr_keeps_accuracy_on_ill_conditioned_data(threads):
    X, y, alpha, exact = _ill_conditioned()
    Xd, yd = da.from_array(X, chunks=400), da.from_array(y, chunks=400)

    def error(method):
        est = GDRidgeRegressor(alpha=alpha, solver=ClosedForm(method=method)).fit(Xd, yd)
        return np.linalg.norm(est.coef_ - exact) / np.linalg.norm(exact), est

    err_gram, _ = error("gram")
    err_svd, est = error("svd")
    err_auto, _ = error("auto")
    # About eps * cond(X) * ||X|| / ||X_c|| (X is stored with its mean of 5).
    assert err_svd < 1e-7 and err_auto < 1e-7
    assert err_gram > 100 * err_svd  # the Gram route squares the condition number
    np.testing.assert_allclose(est.intercept_, y.mean() - X.mean(0) @ exact, rtol=1e-7)


def test_float32(threads):
    X, y, w = make_data(k=2, weights=True, dtype=np.float32, seed=4)
    Xd, yd, wd = to_dask(X, y, w)
    est = GDRidgeRegressor(alpha=1.0).fit(Xd, yd, sample_weight=wd)
    assert est.coef_.dtype == np.float32
    sk = Ridge(alpha=1.0).fit(X.astype(np.float64), y.astype(np.float64), sample_weight=w)
    np.testing.assert_allclose(est.coef_, sk.coef_, rtol=1e-3, atol=1e-4)
    pred = est.predict(Xd)
    assert pred.dtype == np.float32


@pytest.mark.parametrize("k", [None, 2])
def test_predict_is_lazy_and_score_matches_r2(scheduler, k):
    X, y, w = make_data(k=k, weights=True, seed=5)
    Xd, yd, wd = to_dask(X, y, w)
    est = GDRidgeRegressor(alpha=1.0).fit(Xd, yd, sample_weight=wd)
    pred = est.predict(Xd)
    assert isinstance(pred, da.Array)
    assert pred.chunks[0] == Xd.chunks[0]
    assert pred.shape == y.shape
    np.testing.assert_allclose(pred.compute(), est.predict(X), rtol=1e-12)
    expected = r2_score(y, est.predict(X), sample_weight=w)
    assert est.score(Xd, yd, sample_weight=wd) == pytest.approx(expected, rel=1e-10)
    assert est.score(Xd, y) == pytest.approx(r2_score(y, est.predict(X)), rel=1e-10)


def test_inputs_numpy_targets_scalar_weight_and_column_chunks(threads):
    X, y, _ = make_data(seed=6)
    sk = Ridge(alpha=1.0).fit(X, y, sample_weight=np.full(len(y), 2.5))
    Xd = da.from_array(X, chunks=(200, 5))  # chunked along columns: rechunked
    est = GDRidgeRegressor(alpha=1.0).fit(Xd, y, sample_weight=2.5)
    np.testing.assert_allclose(est.coef_, sk.coef_, rtol=1e-10)
    np.testing.assert_allclose(est.predict(Xd).compute(), sk.predict(X), rtol=1e-10)


def test_caller_arrays_not_modified(threads):
    X, y, w = make_data(k=2, weights=True, seed=7)
    copies = [a.copy() for a in (X, y, w)]
    Xd, yd, wd = to_dask(X, y, w)
    est = GDRidgeRegressor(alpha=1.0, solver=ClosedForm(method="svd")).fit(Xd, yd, wd)
    est.predict(Xd).compute()
    GDRidgeRegressor(alpha=1.0, solver="gd").fit(Xd, yd, wd)
    for a, b in zip((X, y, w), copies):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "where, match", [("X", "Input X contains NaN"), ("y", "Input y contains NaN")]
)
def test_nan_found_during_the_pass(scheduler, where, match):
    X, y, _ = make_data(seed=8)
    (X if where == "X" else y)[555] = np.nan
    Xd, yd, _ = to_dask(X, y)
    with pytest.raises(ValueError, match=match):
        GDRidgeRegressor().fit(Xd, yd)
    with pytest.raises(ValueError, match=match):
        GDRidgeRegressor(solver="gd").fit(Xd, yd)
    with pytest.raises(ValueError, match=match):
        GDRidgeRegressor(solver=ClosedForm(method="svd")).fit(Xd, yd)


def test_bad_inputs(threads):
    X, y, w = make_data(seed=9, weights=True)
    Xd, yd, wd = to_dask(X, y, w)
    with pytest.raises(ValueError, match="X must be 2-D"):
        GDRidgeRegressor().fit(Xd[:, 0], yd)
    with pytest.raises(ValueError, match="y has 699 rows but X has 700"):
        GDRidgeRegressor().fit(Xd, yd[:-1])
    with pytest.raises(ValueError, match="sample_weight has 699 rows"):
        GDRidgeRegressor().fit(Xd, yd, sample_weight=wd[:-1])
    with pytest.raises(ValueError, match="y must be 1 or 2-D"):
        GDRidgeRegressor().fit(Xd, da.zeros((700, 2, 2), chunks=100))
    unknown = Xd[Xd[:, 0] > 1.0]
    with pytest.raises(ValueError, match=r"compute_chunk_sizes\(\)"):
        GDRidgeRegressor().fit(unknown, unknown[:, 1])
    with pytest.raises(TypeError, match="X must have a numeric dtype"):
        GDRidgeRegressor().fit(da.from_array(np.array([["a", "b"]] * 4)), yd[:4])
    with pytest.raises(ValueError, match="non-negative"):
        GDRidgeRegressor().fit(Xd, yd, sample_weight=-wd)
    with pytest.raises(ValueError, match="positive sum"):
        GDRidgeRegressor().fit(Xd, yd, sample_weight=0 * wd)
    with pytest.raises(ValueError, match="0 samples"):
        GDRidgeRegressor().fit(Xd[:0], yd[:0])
    est = GDRidgeRegressor().fit(Xd, yd)
    with pytest.raises(ValueError, match="X has 11 features"):
        est.predict(Xd[:, 1:])
    with pytest.raises(ValueError, match="alpha"):
        GDRidgeRegressor(alpha=[1.0, 2.0]).fit(Xd, yd)


def test_data_larger_than_worker_memory_no_restarts(client):
    # 640 MB of data generated block by block on the workers, each of which
    # may use 400 MiB (the cluster 800 MiB in all, with the interpreter).
    n, p, chunk = 1_600_000, 50, 40_000
    rng = da.random.default_rng(0)
    X = rng.standard_normal((n, p), chunks=(chunk, p))
    coef = np.linspace(-1.0, 1.0, p)
    y = X @ coef + 3.0 + rng.standard_normal(n, chunks=chunk)
    assert X.nbytes > WORKER_MEMORY
    pids = client.run(os.getpid)
    with client.as_current(), dask.config.set(scheduler=client.get):
        est = GDRidgeRegressor(alpha=1.0).fit(X, y)
        r2 = est.score(X, y)
    assert client.run(os.getpid) == pids  # no worker was restarted
    np.testing.assert_allclose(est.coef_, coef, atol=5e-3)  # noise: sd 1 / sqrt(n)
    assert est.intercept_ == pytest.approx(3.0, abs=5e-3)
    assert 0.9 < r2 < 1.0


def _held_out_sse(X, y, w, train, test, alpha):
    m = Ridge(alpha=alpha).fit(X[train], y[train], sample_weight=w[train])
    r = (y[test] - m.predict(X[test])).reshape(len(test), -1)
    return (w[test][:, None] * r**2).sum(axis=0)


@pytest.mark.parametrize("kind", ["int", "fold_ids", "splitter"])
def test_fold_stats_give_every_fold_and_alpha(scheduler, kind):
    X, y, w = make_data(n=500, k=2, weights=True, seed=10)
    Xd, yd, wd = to_dask(X, y, w)
    K, alphas = 4, [0.1, 10.0]
    if kind == "int":
        cv, splitter = K, KFold(K)
    elif kind == "splitter":
        cv = splitter = KFold(K, shuffle=True, random_state=0)
    else:
        ids = np.random.default_rng(0).integers(0, K, len(y))
        cv = da.from_array(ids, chunks=100)
        splitter = [(np.flatnonzero(ids != f), np.flatnonzero(ids == f)) for f in range(K)]
    splits = list(splitter.split(X) if hasattr(splitter, "split") else splitter)
    folds = _dask.fold_stats(Xd, yd, wd, cv=cv)
    assert [f.n_samples for f in folds] == [len(test) for _, test in splits]
    total = _dask._merge_stats(*folds)
    for i, a in enumerate(alphas):
        for f, (train, test) in enumerate(splits):
            rest = total.subtract(folds[f])  # the training rows' statistics
            W, _ = solve_from_stats(rest, np.full(rest.n_targets, a))
            got = folds[f].squared_error(W, rest.intercept(W))
            expected = _held_out_sse(X, y, w, train, test, a)
            np.testing.assert_allclose(got, expected, rtol=1e-9)
    whole = _dask._merge_stats(*folds)
    np.testing.assert_allclose(whole.xx, RidgeStats.from_batch(X, y, w).xx, rtol=1e-10)


def test_fold_stats_errors(threads):
    X, y, _ = make_data(n=100, seed=11)
    Xd, yd, _ = to_dask(X, y, chunks=(40,))
    with pytest.raises(ValueError, match="Use K-fold"):
        _dask.fold_stats(Xd, yd, cv=None)
    with pytest.raises(ValueError, match="cv must be at least 2"):
        _dask.fold_stats(Xd, yd, cv=1)
    with pytest.raises(ValueError, match="fold ids must be in"):
        ids = np.r_[np.zeros(50, int), np.full(50, 2)]
        _dask.fold_stats(Xd, yd, cv=np.where(np.arange(100) == 7, -1, ids))


class _StatsPartialFit(Solver):
    """A deterministic stand-in for a stochastic solver (the order-free exact fit)."""

    name = None
    supports_partial_fit = True
    stochastic = True

    def solve(self, problem, **kwargs):  # pragma: no cover - not used on dask
        raise NotImplementedError


class _PartialFitRidge(GDRidgeRegressor):
    """partial_fit merges each block's statistics and solves: the result does not
    depend on the order, so the block loop can be checked against Ridge."""

    def partial_fit(self, X, y, sample_weight=None):
        from l2gd.solvers._closed_form import solve_from_stats

        batch = RidgeStats.from_batch(X, y, sample_weight)
        self.blocks_seen_ = getattr(self, "blocks_seen_", []) + [X.shape[0]]
        merged = getattr(self, "merged_", None)
        self.merged_ = batch if merged is None else merged.merge(batch)
        W, _ = solve_from_stats(self.merged_, np.full(1, self.alpha))
        self.coef_, self.intercept_ = W[:, 0], self.merged_.intercept(W)[0]
        self.n_features_in_ = X.shape[1]
        return self


def test_stochastic_solvers_call_partial_fit_block_by_block(threads):
    X, y, w = make_data(n=400, seed=12, weights=True)
    Xd, yd, wd = to_dask(X, y, w, chunks=(100, 50, 120))
    est = _PartialFitRidge(alpha=1.0, solver=_StatsPartialFit(), max_iter=1, random_state=0)
    est.fit(Xd, yd, sample_weight=wd)
    assert sorted(est.blocks_seen_) == sorted(Xd.chunks[0])
    assert est.blocks_seen_ != list(Xd.chunks[0])  # shuffled order (seeded)
    sk = Ridge(alpha=1.0).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(est.coef_, sk.coef_, rtol=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_sgd_on_dask_is_svrg_and_exact(threads, fit_intercept, n_targets):
    # The default streams the row chunks through SVRG epochs whose snapshots
    # are one exact pass: the same certified accuracy as on NumPy.
    X, y, sw = make_data(n=3000, p=6, k=n_targets if n_targets > 1 else None, weights=True, seed=13)
    Xd, yd, swd = to_dask(X, y, sw, chunks=(700, 900, 400))
    alpha = [1.0, 3.0][:n_targets] if n_targets > 1 else 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = GDRidgeRegressor(
            alpha=alpha, solver="sgd", tol=1e-8, random_state=0, fit_intercept=fit_intercept
        ).fit(Xd, yd, sample_weight=swd)
    sk = Ridge(alpha=np.asarray(alpha), fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
    rel = np.linalg.norm(est.coef_ - sk.coef_) / np.linalg.norm(sk.coef_)
    assert rel < 1e-7
    np.testing.assert_allclose(est.intercept_, sk.intercept_, rtol=1e-6, atol=1e-7)
    assert est.solver_ == "sgd" and est.n_iter_ < 100


def test_sgd_on_dask_streams_partial_fit_for_plain_and_early_stopping(threads):
    X, y, _ = make_data(n=2000, p=5, seed=13)
    Xd, yd, _ = to_dask(X, y, chunks=(500,))
    sk = Ridge(alpha=1.0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        plain = GDRidgeRegressor(
            alpha=1.0, solver=SGD(method="plain"), max_iter=20, random_state=0
        ).fit(Xd, yd)
    assert r2_score(y, plain.predict(Xd).compute()) > r2_score(y, sk.predict(X)) - 1e-2
    # early stopping needs a validation split of rows: streamed, and the fit
    # says it is not certified rather than passing for exact.
    with pytest.warns(ConvergenceWarning, match="not certified"):
        est = GDRidgeRegressor(
            alpha=1.0, solver=SGD(early_stopping=True), max_iter=20, random_state=0
        ).fit(Xd, yd)
    assert r2_score(y, est.predict(Xd).compute()) > r2_score(y, sk.predict(X)) - 1e-2


def test_dask_not_imported_by_l2gd():
    code = "import sys, l2gd; sys.exit('dask' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# -- GDRidgeCV on dask arrays ---------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_targets", [None, 2])
@pytest.mark.parametrize("scoring", [None, "neg_mean_squared_error"])
def test_gdridgecv_kfold_on_dask_equals_numpy(fit_intercept, weighted, n_targets, scoring):
    import dask.array as da
    from sklearn.model_selection import KFold

    from l2gd import GDRidgeCV

    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 5)) + 1.0
    shape = (120,) if n_targets is None else (120, n_targets)
    y = X @ rng.standard_normal((5,) + shape[1:]) + 2.0 + rng.standard_normal(shape)
    sw = rng.uniform(0.5, 2.0, 120) if weighted else None
    alphas = np.logspace(-2, 3, 12)
    params = dict(alphas=alphas, fit_intercept=fit_intercept, scoring=scoring)
    ref = GDRidgeCV(cv=KFold(4), **params).fit(X, y, sample_weight=sw)
    Xd = da.from_array(X, chunks=(35, 5))
    yd = da.from_array(y, chunks=(35,) + shape[1:])
    swd = None if sw is None else da.from_array(sw, chunks=35)
    with dask.config.set(scheduler="threads"):
        est = GDRidgeCV(cv=4, **params).fit(Xd, yd, sample_weight=swd)
        pred = est.predict(Xd)
    assert est.alpha_ == ref.alpha_
    assert np.allclose(est.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"],
                       rtol=1e-9)
    assert np.allclose(est.coef_, ref.coef_, rtol=1e-9)
    assert np.allclose(pred.compute(), ref.predict(X), rtol=1e-9)


def test_gdridgecv_on_dask_rejects_loo_and_unknown_scoring():
    import dask.array as da

    from l2gd import GDRidgeCV

    X = da.from_array(np.random.default_rng(0).standard_normal((40, 3)), chunks=10)
    y = da.from_array(np.random.default_rng(1).standard_normal(40), chunks=10)
    with pytest.raises(ValueError, match="Leave-one-out.*K-fold"):
        GDRidgeCV().fit(X, y)
    with pytest.raises(ValueError, match="scoring='neg_max_error' is not available on dask"):
        GDRidgeCV(cv=4, scoring="neg_max_error").fit(X, y)
