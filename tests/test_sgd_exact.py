"""SGD's exact guarantees: the same seed gives the same iterates whatever the
input format; clear errors instead of silent nonsense; alpha=0 on a
rank-deficient design tends to the minimum-norm solution, with a warning."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import LinAlgWarning
from sklearn.exceptions import ConvergenceWarning

from l2gd import RidgeProblem
from l2gd.schedules import Constant
from l2gd.solvers import SGD


def make_problem_data(n=300, p=6, seed=0, weights=False, offset=2.0):
    """Seeded non-centered X, one target, optional positive weights."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + offset
    y = X @ rng.standard_normal(p) + 1.0 + 0.3 * rng.standard_normal(n)
    sw = rng.uniform(0.5, 2.0, size=n) if weights else None
    return X, y[:, None], sw


def as_format(X, fmt, tmp_path):
    if fmt == "C":
        return np.ascontiguousarray(X)
    if fmt == "F":
        return np.asfortranarray(X)
    if fmt == "csr":
        return sp.csr_matrix(X)
    if fmt == "csc":
        return sp.csc_matrix(X)
    mm = np.memmap(tmp_path / "X.dat", dtype=np.float64, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    return np.memmap(tmp_path / "X.dat", dtype=np.float64, mode="r", shape=X.shape)


def run_sgd(solver, X, Y, sw, fit_intercept, alpha=1.0, max_iter=8, random_state=0):
    problem = RidgeProblem(X, Y, np.array([alpha]), sample_weight=sw, fit_intercept=fit_intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return solver.solve(problem, tol=0.0, max_iter=max_iter, random_state=random_state)


def rel_diff(a, b):
    return float(np.linalg.norm(np.asarray(a) - b) / np.linalg.norm(b))


FORMATS = ["F", "csr", "csc", "memmap"]


@pytest.mark.parametrize("batch_size", [1, 16, 300])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weights", [False, True])
def test_same_seed_same_iterates_whatever_the_format(tmp_path, batch_size, fit_intercept, weights):
    X, Y, sw = make_problem_data(weights=weights)
    solver = SGD(batch_size=batch_size)
    ref = run_sgd(solver, X, Y, sw, fit_intercept)
    for fmt in FORMATS:
        res = run_sgd(solver, as_format(X, fmt, tmp_path), Y, sw, fit_intercept)
        assert rel_diff(res.coef, ref.coef) <= 1e-10, fmt
        np.testing.assert_allclose(res.intercept, ref.intercept, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(res.history, ref.history, rtol=1e-10)


@pytest.mark.parametrize(
    "shape", [(300, 150), (300, 80), (6000, 5)], ids=["lanczos", "gram", "subsample"]
)
def test_same_safe_step_whatever_the_format(tmp_path, shape):
    # Wide enough for the Lanczos estimate; tall enough for the row subsample.
    X, Y, sw = make_problem_data(n=shape[0], p=shape[1], weights=True, seed=3)
    solver = SGD(batch_size=32)
    steps = [
        solver.safe_step(RidgeProblem(as_format(X, fmt, tmp_path), Y, np.array([1.0]), sw))
        for fmt in ["C"] + FORMATS
    ]
    np.testing.assert_allclose(steps, steps[0], rtol=1e-12)


def test_same_seed_same_iterates_with_early_stopping_and_averaging(tmp_path):
    X, Y, sw = make_problem_data(weights=True, seed=1)
    solver = SGD(batch_size=8, average=True, early_stopping=True)
    ref = run_sgd(solver, X, Y, sw, True)
    for fmt in FORMATS:
        res = run_sgd(solver, as_format(X, fmt, tmp_path), Y, sw, True)
        assert rel_diff(res.coef, ref.coef) <= 1e-10, fmt
        assert res.info["best_iteration"] == ref.info["best_iteration"]


def test_zero_weight_validation_split_raises():
    X, Y, _ = make_problem_data(n=100)
    solver = SGD(early_stopping=True, validation_fraction=0.2)
    Xv = solver._split(RidgeProblem(X, Y, np.array([1.0])), 0)[1][0]
    # Put zero weight on exactly the rows the split holds out.
    sw = np.ones(100)
    held_out = np.isin(X[:, 0], Xv[:, 0])
    assert held_out.sum() == len(Xv) == 20
    sw[held_out] = 0.0
    problem = RidgeProblem(X, Y, np.array([1.0]), sample_weight=sw)
    with pytest.raises(ValueError, match="validation split.*validation_fraction.*sample_weight"):
        solver.solve(problem, random_state=0, max_iter=5)


def min_norm_least_squares(X, Y, sw, fit_intercept=True):
    """Independent oracle: minimum-norm w of the weighted centered system (lstsq)."""
    s = np.ones(len(X)) if sw is None else sw
    if fit_intercept:
        xm, ym = s @ X / s.sum(), s @ Y / s.sum()
    else:
        xm, ym = np.zeros(X.shape[1]), np.zeros(Y.shape[1])
    root = np.sqrt(s)[:, None]
    W = np.linalg.lstsq(root * (X - xm), root * (Y - ym), rcond=None)[0]
    return W, ym - xm @ W


def rank_deficient_data(seed=0, n=200, weights=False):
    """Well-scaled X with a duplicated and a combined column (rank 4 of 6)."""
    X, Y, sw = make_problem_data(n=n, p=4, seed=seed, weights=weights)
    X = np.column_stack([X, X[:, 0], X[:, 1] - X[:, 2]])
    return X, Y, sw


@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_alpha_zero_rank_deficient_warns_and_tends_to_min_norm(weights, fit_intercept):
    X, Y, sw = rank_deficient_data(weights=weights)
    W_ref, b_ref = min_norm_least_squares(X, Y, sw, fit_intercept)
    # Full batches: deterministic gradient steps, linear convergence in the row space.
    solver = SGD(batch_size=len(X), learning_rate=Constant(), shuffle=False)
    with pytest.warns(LinAlgWarning, match="rank 4 < 6"):
        res = run_sgd(solver, X, Y, sw, fit_intercept, alpha=0.0, max_iter=3000)
    assert rel_diff(res.coef, W_ref) <= 1e-8
    np.testing.assert_allclose(res.intercept, b_ref, rtol=1e-8, atol=1e-8)


def test_alpha_zero_rank_deficient_minibatch_sparse():
    X, Y, _ = rank_deficient_data(seed=2, n=400)
    W_ref, _ = min_norm_least_squares(X, Y, None)
    with pytest.warns(LinAlgWarning, match="minimum-norm"):
        res = run_sgd(SGD(batch_size=16, average=5), sp.csr_matrix(X), Y, None, True, 0.0, 60)
    assert rel_diff(res.coef, W_ref) <= 1e-2


def test_alpha_zero_wide_data_warns():
    # Fewer rows than features: rank deficient whatever the values (Lanczos path, p > 64).
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((40, 100)), rng.standard_normal((40, 1))
    W_ref, _ = min_norm_least_squares(X, Y, None)
    with pytest.warns(LinAlgWarning, match="rank"):
        res = run_sgd(SGD(batch_size=40, learning_rate=Constant()), X, Y, None, True, 0.0, 2000)
    assert rel_diff(res.coef, W_ref) <= 1e-6


def test_alpha_zero_constant_column_with_intercept_warns():
    # The mean of 200 copies of 0.3 rounds off 0.3: the centered column is noise, not zero.
    X, Y, _ = make_problem_data(n=200, p=5, seed=5)
    X = np.column_stack([X, np.full(200, 0.3)])
    with pytest.warns(LinAlgWarning, match="rank 5 < 6"):
        run_sgd(SGD(batch_size=16), X, Y, None, True, alpha=0.0, max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LinAlgWarning)
        run_sgd(SGD(batch_size=16), X, Y, None, False, alpha=0.0, max_iter=3)


def test_alpha_zero_full_rank_does_not_warn():
    X, Y, _ = make_problem_data(n=200, p=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LinAlgWarning)
        run_sgd(SGD(batch_size=16), X, Y, None, True, alpha=0.0, max_iter=3)


@pytest.mark.parametrize("x_factor, y_factor", [(1e300, 1.0), (1e-300, 1.0), (1.0, 1e-300)])
@pytest.mark.parametrize("sparse", [False, True])
def test_extreme_magnitudes_on_the_solver_are_equivariant(x_factor, y_factor, sparse):
    # Ridge is equivariant: (X d, y c) with alpha d^2 has coef c/d times that of (X, y).
    # alpha=0 keeps alpha d^2 representable.
    X, Y, _ = make_problem_data(n=200, p=5, seed=6)
    solver = SGD(batch_size=16)
    ref = run_sgd(solver, X, Y, None, True, alpha=0.0, max_iter=5)
    Xs = X * x_factor
    res = run_sgd(
        solver, sp.csr_matrix(Xs) if sparse else Xs, Y * y_factor, None, True, 0.0, max_iter=5
    )
    assert np.all(np.isfinite(res.coef)) and np.all(np.isfinite(res.intercept))
    assert not np.any(np.isnan(res.history))
    assert rel_diff(res.coef * (x_factor / y_factor), ref.coef) <= 1e-9
    np.testing.assert_allclose(res.intercept / y_factor, ref.intercept, rtol=1e-9)
    # The state left for partial_fit is in the user's units.
    np.testing.assert_allclose(res.info["state"].coef, res.coef, rtol=1e-15, atol=0)


@pytest.mark.parametrize("which", ["X", "Y"])
def test_partial_solve_refuses_extreme_magnitudes_clearly(which):
    X, Y, _ = make_problem_data(n=100, p=4)
    if which == "X":
        X = X * 1e300
    else:
        Y = Y * 1e-300
    with pytest.raises(ValueError, match=f"{which} has entries of magnitude"):
        SGD().partial_solve(None, X, Y, None, alpha=np.array([1.0]), fit_intercept=True)


def test_safe_step_refuses_huge_data_clearly():
    X, Y, _ = make_problem_data(n=100, p=4)
    problem = RidgeProblem(X * 1e300, Y, np.array([1.0]))
    with pytest.raises(ValueError, match="X has entries of magnitude"):
        SGD().safe_step(problem)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("p", [6, 80], ids=["gram_steps", "direct_steps"])
@pytest.mark.parametrize("method", ["svrg", "plain"])
def test_solve_leaves_the_callers_arrays_unchanged(fit_intercept, p, method):
    # Without an intercept, views of X's rows must never be scaled in place.
    X, Y, sw = make_problem_data(n=300, p=p, weights=True)
    X = np.ascontiguousarray(X)
    before = [A.copy() for A in (X, Y, sw)]
    run_sgd(SGD(batch_size=16, method=method), X, Y, sw, fit_intercept, max_iter=3)
    for A, B in zip((X, Y, sw), before):
        np.testing.assert_array_equal(A, B)
