"""The variance-reduced default of the "sgd" solver (SVRG): exact Ridge solutions
for every option, linear convergence, a tol that bounds the coefficient error,
the same answer for every input format, early stopping, and Array API inputs."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from _helpers import exact_ridge, rel_err
from sklearn.exceptions import ConvergenceWarning

from l2gd import GDRidgeRegressor, RidgeProblem
from l2gd.solvers import SGD

import array_api_strict  # noqa: E402  (the test extra installs both)
import torch  # noqa: E402


def make_data(n=600, p=6, n_targets=None, seed=0, weights=False, offset=1.5, heavy=False):
    """Seeded non-centered data; ``heavy``: a few rows with 30x larger norms."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * np.linspace(0.5, 2.0, p) + offset
    if heavy:
        X[:5] *= 30.0
    shape = (p,) if n_targets is None else (p, n_targets)
    y = X @ rng.standard_normal(shape) + 2.0 + 0.5 * rng.standard_normal((n,) + shape[1:])
    sw = rng.uniform(0.2, 3.0, n) if weights else None
    return X, y, sw


def fit(X, y, sw=None, **params):
    solver = params.pop("solver", SGD())
    est = GDRidgeRegressor(solver=solver, random_state=0, **params)
    return est.fit(X, y, sample_weight=sw)


# -- accuracy against the exact solution -------------------------------------------
@pytest.mark.parametrize("batch_size", ["auto", 1, 16, 10_000])
@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("n_targets", [None, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_tol_1e_8_reaches_the_exact_solution(batch_size, weights, n_targets, fit_intercept):
    X, y, sw = make_data(n=300 if batch_size == 1 else 600, n_targets=n_targets, weights=weights)
    alpha = 1.0 if n_targets is None else np.array([0.1, 3.0, 100.0])
    coef, intercept = exact_ridge(X, y, alpha, sw, fit_intercept)
    est = fit(X, y, sw, solver=SGD(batch_size=batch_size), alpha=alpha, tol=1e-8,
              fit_intercept=fit_intercept)
    assert rel_err(est.coef_, coef) <= 1e-7
    np.testing.assert_allclose(est.intercept_, intercept, rtol=1e-7, atol=1e-7)
    assert est.error_bound_ <= 1e-8 if hasattr(est, "error_bound_") else True


@pytest.mark.parametrize("heavy", [False, True])
def test_default_reaches_1e_4_sparse_and_heavy_rows(heavy):
    X, y, _ = make_data(n=2000, p=20, seed=1, heavy=heavy)
    X[np.random.default_rng(2).random(X.shape) < 0.7] = 0.0
    coef, intercept = exact_ridge(X, y, 1.0)
    for data in (X, sp.csr_matrix(X)):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            est = fit(data, y)
        assert rel_err(est.coef_, coef) <= 1e-4
        assert abs(est.intercept_ - intercept) <= 1e-4 * (1 + abs(intercept))


def test_float32_reaches_its_default_tol():
    X, y, _ = make_data(n=1000, seed=3)
    coef, _ = exact_ridge(X.astype(np.float32), y.astype(np.float32), 1.0)
    est = fit(X.astype(np.float32), y.astype(np.float32))
    assert est.coef_.dtype == np.float32
    assert rel_err(est.coef_, coef) <= 1e-4


def test_averaged_snapshots_converge():
    X, y, sw = make_data(weights=True, seed=4)
    coef, _ = exact_ridge(X, y, 1.0, sw)
    est = fit(X, y, sw, solver=SGD(batch_size=8, average=True), tol=1e-8)
    assert rel_err(est.coef_, coef) <= 1e-7


def test_certificate_bounds_the_error_it_reports():
    X, y, _ = make_data(n=800, seed=5)
    coef, _ = exact_ridge(X, y, 1.0)
    problem = RidgeProblem(X, y[:, None], np.array([1.0]))
    for tol in (1e-3, 1e-6, 1e-9):
        result = SGD(batch_size=32).solve(problem, tol=tol, random_state=0)
        assert result.converged and result.info["error_bound"] <= tol
        assert rel_err(result.coef[:, 0], coef) <= tol
        assert result.info["n_passes"] == 2 * result.n_iter + 1


# -- linear convergence ----------------------------------------------------------------
def test_objective_gap_shrinks_by_a_constant_factor_per_epoch():
    # Well conditioned and tall: every epoch divides the gap by a fixed factor.
    X, y, _ = make_data(n=4000, p=5, seed=6, offset=0.0)
    coef, intercept = exact_ridge(X, y, 1.0)
    best = np.sum((y - X @ coef - intercept) ** 2) + np.sum(coef**2)
    problem = RidgeProblem(X, y[:, None], np.array([1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = SGD(batch_size=64).solve(problem, tol=0.0, max_iter=6, random_state=0)
    gaps = (np.array(result.history) - best) / best
    assert np.all(gaps[:5] > 0)
    assert np.all(gaps[1:5] <= 0.1 * gaps[:4]), gaps


# -- same data, same seed, same answer ---------------------------------------------------
def as_format(X, fmt, tmp_path):
    if fmt == "F":
        return np.asfortranarray(X)
    if fmt in ("csr", "csc"):
        return sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    mm = np.memmap(tmp_path / "X.dat", dtype=np.float64, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    return np.memmap(tmp_path / "X.dat", dtype=np.float64, mode="r", shape=X.shape)


@pytest.mark.parametrize("average", [False, True])
def test_same_seed_same_answer_whatever_the_format(tmp_path, average):
    X, y, sw = make_data(n=400, weights=True, seed=7)
    problem = lambda A: RidgeProblem(A, y[:, None], np.array([1.0]), sample_weight=sw)  # noqa: E731
    solver = SGD(batch_size=16, average=average)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = solver.solve(problem(np.ascontiguousarray(X)), tol=0.0, max_iter=6, random_state=1)
        for fmt in ["F", "csr", "csc", "memmap"]:
            res = solver.solve(problem(as_format(X, fmt, tmp_path)), tol=0.0, max_iter=6,
                               random_state=1)
            assert rel_err(res.coef, ref.coef) <= 1e-10, fmt
            np.testing.assert_allclose(res.history, ref.history, rtol=1e-10)


# -- early stopping ----------------------------------------------------------------------
def test_early_stopping_restores_the_best_epoch():
    X, y, _ = make_data(n=400, seed=8)
    y = y + 5.0 * np.random.default_rng(9).standard_normal(400)
    problem = RidgeProblem(X, y[:, None], np.array([1.0]))
    solver = SGD(batch_size=8, early_stopping=True, n_iter_no_change=3)
    result = solver.solve(problem, tol=1e-3, max_iter=50, random_state=0)
    scores, best = result.info["validation_scores"], result.info["best_iteration"]
    assert result.converged and best >= 1 and scores[best - 1] == max(scores)
    _, (Xv, Yv, _) = solver._split(problem, 0)
    pred = Xv @ result.coef + result.intercept
    r2 = 1 - np.sum((Yv - pred) ** 2) / np.sum((Yv - Yv.mean()) ** 2)
    assert r2 == pytest.approx(max(scores), rel=1e-12)


@pytest.mark.parametrize("method", ["svrg", "plain"])
def test_zero_weight_validation_split_raises(method):
    X, y, _ = make_data(n=100, seed=10)
    solver = SGD(early_stopping=True, validation_fraction=0.2, method=method)
    problem = RidgeProblem(X, y[:, None], np.array([1.0]))
    Xv = solver._split(problem, 0)[1][0]
    sw = np.where(np.isin(X[:, 0], Xv[:, 0]), 0.0, 1.0)
    weighted = RidgeProblem(X, y[:, None], np.array([1.0]), sample_weight=sw)
    with pytest.raises(ValueError, match="validation split.*zero total sample_weight"):
        solver.solve(weighted, random_state=0)


# -- the data's step, rejected snapshots and a too large learning_rate ----------------------
def test_too_large_learning_rate_raises_naming_it():
    X, y, _ = make_data(n=500, seed=11)
    with pytest.raises(ValueError, match=r"learning_rate=50\.0.*safe step"):
        fit(X, y, solver=SGD(learning_rate=50.0))


def test_partial_fit_after_svrg_fit_continues_plainly():
    X, y, _ = make_data(n=500, seed=12)
    est = fit(X, y, tol=1e-8)
    coef, t = est.coef_.copy(), est.t_
    est.partial_fit(X[:100], y[:100])
    assert est.t_ == t + 1 and rel_err(est.coef_, coef) < 1e-2


# -- Array API -------------------------------------------------------------------------------
def _to(name, a):
    return torch.asarray(a) if name == "torch" else array_api_strict.asarray(a)


def _np(a):
    if isinstance(a, torch.Tensor):
        return a.numpy()
    return np.asarray(array_api_strict.asarray(a, device=array_api_strict.Device("CPU_DEVICE")))


@pytest.mark.parametrize("namespace", ["torch", "array_api_strict"])
@pytest.mark.parametrize("method", ["svrg", "plain"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_array_api_runs_in_x_namespace_with_numpy_rows(namespace, method, early_stopping):
    X, y, sw = make_data(n=300, n_targets=2, weights=True, seed=13)
    solver = SGD(batch_size=16, method=method, early_stopping=early_stopping, average=1)
    params = dict(alpha=[1.0, 5.0], max_iter=4, tol=0.0, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = GDRidgeRegressor(solver=solver, **params).fit(X, y, sample_weight=sw)
        with sklearn.config_context(array_api_dispatch=True):
            Xx, yx, swx = _to(namespace, X), _to(namespace, y), _to(namespace, sw)
            est = GDRidgeRegressor(solver=solver, **params).fit(Xx, yx, sample_weight=swx)
            again = GDRidgeRegressor(solver=solver, **params).fit(Xx, yx, sample_weight=swx)
            pred = est.predict(Xx)
    assert type(est.coef_) is type(Xx) and type(pred) is type(Xx)
    # The same seeded rows as NumPy: the same iterates up to rounding.
    np.testing.assert_allclose(_np(est.coef_), ref.coef_, rtol=1e-9)
    np.testing.assert_array_equal(_np(again.coef_), _np(est.coef_))


@pytest.mark.parametrize("namespace", ["torch", "array_api_strict"])
def test_array_api_float32_converges(namespace):
    X, y, _ = make_data(n=500, seed=14)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    coef, _ = exact_ridge(X32, y32, 1.0)
    with sklearn.config_context(array_api_dispatch=True):
        est = GDRidgeRegressor(solver="sgd", random_state=0).fit(_to(namespace, X32),
                                                                  _to(namespace, y32))
    assert est.coef_.dtype == _to(namespace, X32).dtype
    assert rel_err(_np(est.coef_), coef) <= 1e-4


@pytest.mark.parametrize(
    "n, rows", [(1, 1), (27, 27), (32, 32), (33, 16), (442, 16), (1000, 31), (10_000, 256)]
)
def test_auto_batch_size_of_svrg(n, rows):
    # Full batches up to 32 rows; above, at least 32 steps of 16 to 256 rows.
    assert SGD()._batch_rows(n) == rows
    assert SGD(method="plain")._batch_rows(n) == min(n, 256)


@pytest.mark.parametrize(
    "p, alpha, average",
    [(6, [2.0, 2.0], False), (6, [1.0, 5.0], False), (6, [2.0, 2.0], True), (90, [1.0, 5.0], False)],
    ids=["composed", "gram_loop_alphas", "gram_loop_average", "direct"],
)
@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_host_passes_match_the_generic_pass(p, alpha, average, weights, fit_intercept):
    # The NumPy passes (steps composed from batch Gram matrices, one per step,
    # or products with the rows) against the namespace-generic per-batch
    # update that array_api_strict runs: the same iterates up to rounding.
    X, y, sw = make_data(n=250, p=p, n_targets=2, weights=weights, seed=21)
    solver = SGD(batch_size=16, average=average)
    params = dict(alpha=alpha, fit_intercept=fit_intercept, max_iter=5, tol=0.0, random_state=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = GDRidgeRegressor(solver=solver, **params).fit(X, y, sample_weight=sw)
        with sklearn.config_context(array_api_dispatch=True):
            Xx, yx = _to("array_api_strict", X), _to("array_api_strict", y)
            swx = None if sw is None else _to("array_api_strict", sw)
            est = GDRidgeRegressor(solver=solver, **params).fit(Xx, yx, sample_weight=swx)
    assert rel_err(_np(est.coef_), ref.coef_) <= 1e-10
    np.testing.assert_allclose(est.loss_curve_, ref.loss_curve_, rtol=1e-10)
