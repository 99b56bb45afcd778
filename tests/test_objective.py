"""The problem interface (data and moments): value, gradient, Hessian products and
Lipschitz constant against direct float64 formulas built here."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import make_regression_data
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from l2gd import GDRidgeRegressor, RidgeProblem, RidgeStats
from l2gd._objective import GramProblem


def make_problem(sparse=False, fit_intercept=True, weighted=True, n_targets=2, seed=0):
    X, y = make_regression_data(n_targets=n_targets, sparse=sparse, seed=seed)
    rng = np.random.default_rng(seed)
    sw = rng.uniform(0.5, 2.0, X.shape[0]) if weighted else None
    alpha = np.linspace(0.5, 3.0, n_targets)
    return RidgeProblem(X, y, alpha, sample_weight=sw, fit_intercept=fit_intercept), X, y, sw


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_value_is_ridge_objective_at_optimal_intercept(sparse, fit_intercept):
    problem, X, y, sw = make_problem(sparse, fit_intercept)
    Xd = X.toarray() if sp.issparse(X) else X
    W = np.random.default_rng(1).standard_normal((X.shape[1], y.shape[1]))
    b = problem.intercept(W)
    if fit_intercept:
        assert np.allclose(b, np.average(y - Xd @ W, axis=0, weights=sw))
    else:
        assert np.all(b == 0)
    R = y - Xd @ W - b
    direct = sum(sw @ R[:, k] ** 2 + problem.alpha[k] * W[:, k] @ W[:, k] for k in range(2))
    assert np.isclose(problem.value(W), direct, rtol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_gradient_matches_finite_differences(sparse):
    problem, X, y, _ = make_problem(sparse)
    rng = np.random.default_rng(2)
    W = rng.standard_normal((X.shape[1], y.shape[1]))
    G = problem.gradient(W)
    h = 1e-6
    for _ in range(5):
        D = rng.standard_normal(W.shape)
        fd = (problem.value(W + h * D) - problem.value(W - h * D)) / (2 * h)
        assert np.isclose(np.sum(G * D), fd, rtol=1e-6)


def test_gradient_is_zero_at_exact_solution():
    from _helpers import exact_ridge

    problem, X, y, sw = make_problem()
    coef, _ = exact_ridge(X, y, problem.alpha, sw)
    G = problem.gradient(coef.T)
    assert np.linalg.norm(G) < 1e-8 * np.linalg.norm(problem.gradient(np.zeros_like(coef.T)))


@pytest.mark.parametrize("sparse", [False, True])
def test_lipschitz_is_tight_upper_bound(sparse):
    problem, X, y, sw = make_problem(sparse, n_targets=1)
    Xd = X.toarray() if sp.issparse(X) else X
    Xc = Xd - np.average(Xd, axis=0, weights=sw)
    top = np.linalg.eigvalsh(Xc.T @ (sw[:, None] * Xc))[-1]
    L = problem.lipschitz()
    exact = 2 * (top + problem.alpha)
    assert np.all(L >= exact * (1 - 1e-9))
    assert np.all(L <= exact * 1.01)


def test_lipschitz_of_constant_design_is_two_alpha():
    X = np.ones((5, 3))
    problem = RidgeProblem(X, np.ones((5, 1)), np.array([0.7]))
    assert np.allclose(problem.lipschitz(), 1.4)


def test_implicit_centering_products():
    problem, X, y, sw = make_problem(sparse=True)
    Xc = X.toarray() - problem.X_offset
    rng = np.random.default_rng(3)
    W, R = rng.standard_normal((X.shape[1], 2)), rng.standard_normal((X.shape[0], 2))
    assert np.allclose(problem.matvec(W), Xc @ W)
    assert np.allclose(problem.rmatvec(R), Xc.T @ R)


def _explicit(X, Y, alpha, sw, fit_intercept):
    """``(X_c, y_c, S, H)`` in float64 with ``H = 2 (X_c^T S X_c + alpha I)`` per target."""
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    s = np.ones(len(X)) if sw is None else np.asarray(sw, dtype=np.float64)
    Xc, Yc = X, np.asarray(Y, dtype=np.float64)
    if fit_intercept:
        Xc, Yc = X - s @ X / s.sum(), Yc - s @ Yc / s.sum()
    gram = Xc.T @ (s[:, None] * Xc)
    H = [2.0 * (gram + a * np.eye(X.shape[1])) for a in alpha]
    return Xc, Yc, s, H


def _both_problems(sparse, fit_intercept, weighted, n_targets=3, seed=0):
    problem, X, y, sw = make_problem(sparse, fit_intercept, weighted, n_targets, seed)
    stats = RidgeStats.from_batch(X, y, sw, fit_intercept=fit_intercept)
    return problem, GramProblem(stats, problem.alpha), X, y, sw


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_hessian_matvec_and_gradient_are_the_explicit_formulas(sparse, fit_intercept, weighted):
    data, gram, X, y, sw = _both_problems(sparse, fit_intercept, weighted)
    Xc, Yc, s, H = _explicit(X, y, data.alpha, sw, fit_intercept)
    rng = np.random.default_rng(4)
    P, W = rng.standard_normal((2, X.shape[1], y.shape[1]))
    HP = np.column_stack([H[k] @ P[:, k] for k in range(y.shape[1])])
    G = -2.0 * Xc.T @ (s[:, None] * (Yc - Xc @ W)) + 2.0 * data.alpha * W
    f = s @ (Yc - Xc @ W) ** 2 + data.alpha * np.sum(W * W, axis=0)
    for problem in (data, gram):
        np.testing.assert_allclose(problem.hessian_matvec(P), HP, rtol=1e-12, atol=0)
        np.testing.assert_allclose(problem.gradient(W), G, rtol=1e-10)
        value, gradient = problem.value_and_gradient(W)
        np.testing.assert_allclose(value, f, rtol=1e-10)
        np.testing.assert_allclose(gradient, G, rtol=1e-10)
        assert problem.value(W) == pytest.approx(f.sum(), rel=1e-10)
        np.testing.assert_allclose(problem.intercept(W), data.intercept(W), rtol=1e-12)
        np.testing.assert_allclose(problem.lipschitz(), data.lipschitz(), rtol=1e-2)


def test_gradient_from_zero_is_the_explicit_formula():
    data, gram, X, y, sw = _both_problems(False, True, True)
    Xc, Yc, s, _ = _explicit(X, y, data.alpha, sw, True)
    W = np.zeros((X.shape[1], y.shape[1]))
    for problem in (data, gram):
        value, gradient = problem.value_and_gradient(W)
        np.testing.assert_allclose(value, s @ Yc**2, rtol=1e-12)
        np.testing.assert_allclose(gradient, -2.0 * Xc.T @ (s[:, None] * Yc), rtol=1e-12)
    assert gram.n_gram_matvecs == 0  # nothing to multiply from zero


@pytest.mark.parametrize("sparse", [False, True])
def test_rescale_targets_scales_values_and_gradients(sparse):
    data, gram, X, y, sw = _both_problems(sparse, True, True)
    c = np.array([2.0**-40, 1.0, 2.0**30])
    rng = np.random.default_rng(5)
    W = rng.standard_normal((X.shape[1], 3))
    for problem in (data, gram):
        scaled = problem.rescale_targets(c)
        value, gradient = problem.value_and_gradient(W)
        value_c, gradient_c = scaled.value_and_gradient(W * c)
        np.testing.assert_allclose(value_c, value * c**2, rtol=1e-10)
        np.testing.assert_allclose(gradient_c, gradient * c, rtol=1e-10)
        np.testing.assert_allclose(scaled.intercept(W * c), problem.intercept(W) * c, rtol=1e-12)
        assert problem.value(W) == pytest.approx(float(np.sum(value)))  # the original is unchanged


def test_batch_gradient_is_the_explicit_formula_in_the_namespace_of_x():
    import array_api_strict as xps
    import sklearn

    problem, X, y, sw = make_problem(fit_intercept=True, weighted=True)
    rows = np.array([3, 7, 8, 20, 41])
    W = np.random.default_rng(6).standard_normal((X.shape[1], y.shape[1]))
    s = sw
    Xc = X - np.average(X, axis=0, weights=sw)  # the whole problem's centers
    Yc = y - np.average(y, axis=0, weights=sw)
    Rb = s[rows, None] * (Yc[rows] - Xc[rows] @ W)
    expected = 2.0 * (problem.alpha * W - (X.shape[0] / len(rows)) * Xc[rows].T @ Rb)
    np.testing.assert_allclose(problem.gradient(W, batch=rows), expected, rtol=1e-12)
    np.testing.assert_allclose(problem.gradient(W, batch=slice(3, 9)), 2.0 * (
        problem.alpha * W - (X.shape[0] / 6) * Xc[3:9].T @ (s[3:9, None] * (Yc[3:9] - Xc[3:9] @ W))
    ), rtol=1e-12)
    with sklearn.config_context(array_api_dispatch=True):
        strict = RidgeProblem(
            xps.asarray(X), xps.asarray(y), problem.alpha, sample_weight=xps.asarray(sw)
        )
        for batch in (rows, slice(3, 9)):
            G = strict.gradient(xps.asarray(W), batch=batch)
            assert isinstance(G, type(xps.asarray(W)))
            got = np.asarray(xps.asarray(G, device=xps.Device("CPU_DEVICE")))
            np.testing.assert_allclose(got, problem.gradient(W, batch=batch), rtol=1e-12)


def test_sparse_gram_diagonal_sums_duplicate_entries_before_squaring():
    # A CSR matrix may store (i, j) twice; its value is the sum. The diagonal of
    # X^T X squares that sum, not each stored part (an oracle on the dense copy).
    import scipy.sparse as sp

    from l2gd._objective import RidgeProblem

    data, rows, cols = [1.0, 2.0, 3.0, -1.0], [0, 0, 1, 2], [0, 0, 1, 1]
    X = sp.csr_matrix((data, (rows, cols)), shape=(3, 2))
    X = sp.csr_matrix((X.data, X.indices, X.indptr), shape=X.shape)  # canonical: sum first
    Xd = sp.coo_matrix((data, (rows, cols)), shape=(3, 2))
    Xdup = sp.csr_matrix((np.array(data), np.array(cols), np.array([0, 2, 3, 4])), shape=(3, 2))
    assert not Xdup.has_canonical_format
    dense = Xd.toarray()
    for M in (X, Xdup):
        problem = RidgeProblem(M, np.zeros((3, 1)), np.ones(1), fit_intercept=False)
        np.testing.assert_allclose(problem.gram_diagonal(), (dense**2).sum(axis=0))
        np.testing.assert_allclose(problem.row_norms_sq(), (dense**2).sum(axis=1))


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("order", ["C", "F", "memmap"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_columns", [1, 5, 40])
def test_gram_matvec_in_row_blocks_is_the_explicit_product(
        fit_intercept, weighted, order, dtype, n_columns, monkeypatch, tmp_path):
    # Small blocks so that 1,000 rows make many (and a ragged last one): the
    # one-read product must equal X_c^T S X_c V formed here in long double.
    import l2gd._objective as objective

    monkeypatch.setattr(objective, "_PRODUCT_BLOCK_BYTES", 2**12)
    rng = np.random.default_rng(3)
    n, p = 1_003, 30
    X = (rng.standard_normal((n, p)) * np.logspace(-2, 2, p) + 5.0).astype(dtype)
    if order == "F":
        X = np.asfortranarray(X)
    elif order == "memmap":
        path = tmp_path / "X.dat"
        X.tofile(path)
        X = np.memmap(path, dtype=dtype, mode="r", shape=(n, p))
    X_before = np.array(X)
    # Weights in X's dtype, as the estimators' validation passes them.
    sw = rng.uniform(0.5, 2.0, n).astype(dtype) if weighted else None
    y = rng.standard_normal((n, 1))
    problem = RidgeProblem(X, y, np.ones(1), sample_weight=sw, fit_intercept=fit_intercept)
    V = rng.standard_normal((p, n_columns)).astype(dtype)
    calls = []
    monkeypatch.setattr(problem, "matvec", lambda W: calls.append(W) or RidgeProblem.matvec(problem, W))
    out = problem.gram_matvec(V)

    s = np.ones(n, np.longdouble) if sw is None else sw.astype(np.longdouble)
    XL = np.asarray(X_before, dtype=np.longdouble)
    # Centering is implicit (X is never copied), so rounding scales with the
    # raw entries plus the mean, not with the centered ones.
    mean = (s @ XL) / s.sum() if fit_intercept else np.zeros(p, np.longdouble)
    VL = V.astype(np.longdouble)
    expected = (XL - mean).T @ (s[:, None] * ((XL - mean) @ VL))
    A = np.abs(XL) + np.abs(mean)
    scale = A.T @ (s[:, None] * (A @ np.abs(VL)))
    eps = np.finfo(dtype).eps
    assert out.shape == (p, n_columns) and out.dtype == dtype
    assert np.all(np.abs(out - expected) <= 50 * eps * scale)
    # Few columns take the blocked path (X read once, no separate X @ V).
    assert (len(calls) == 0) == (n_columns < objective._PRODUCT_MAX_TARGETS)
    np.testing.assert_array_equal(np.asarray(X), X_before)


def test_gram_matvec_paths_promote_dtypes_alike():
    # float32 X with float64 weights: the one-read path and the two-sweep
    # path (many columns) must give the same dtype, NumPy's promotion of all three.
    import l2gd._objective as objective

    rng = np.random.default_rng(4)
    X = rng.standard_normal((2_000, 40)).astype(np.float32)
    problem = RidgeProblem(X, rng.standard_normal((2_000, 1)), np.ones(1),
                           sample_weight=rng.uniform(0.5, 2.0, 2_000))
    for k in (1, objective._PRODUCT_MAX_TARGETS):
        V = rng.standard_normal((40, k)).astype(np.float32)
        fused = problem.gram_matvec(V)
        two_sweeps = problem.rmatvec(problem.weighted(problem.matvec(V)))
        assert fused.dtype == two_sweeps.dtype == np.float64
        np.testing.assert_allclose(fused, two_sweeps, rtol=1e-4, atol=1e-3 * np.abs(two_sweeps).max())


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gram_diagonal_of_columns_far_from_zero(weighted, dtype):
    # diag(X^T S X) - S m^2 loses log2(1 + m^2 / var) bits: in float32 over
    # 300,000 rows it declared a column 10 standard deviations from zero
    # constant (0), and Jacobi and the error bound of gd followed. Oracle: the
    # long-double moments about the problem's own centers.
    rng = np.random.default_rng(4)
    n = 300_000
    offsets = np.array([0.0, 3.0, 10.0, 100.0, 4000.0, 1e7])
    X = rng.standard_normal((n, offsets.size)) + offsets
    X = np.column_stack([X, np.full(n, 3.3)]).astype(dtype)  # and a constant column
    sw = rng.uniform(0.5, 2.0, n).astype(dtype) if weighted else None
    problem = RidgeProblem(X, np.zeros((n, 1), dtype), np.ones(1, dtype), sample_weight=sw)
    diag = problem.gram_diagonal()
    s = np.ones(n, np.longdouble) if sw is None else sw.astype(np.longdouble)
    D = X.astype(np.longdouble) - problem.X_offset.astype(np.longdouble)
    expected = s @ (D * D)
    expected = np.asarray(expected[:-1], np.float64)
    assert diag.dtype == dtype and diag[-1] == 0
    # The promise: within 2**-10 of the truth (the uncentered route is kept
    # only where its worst-case rounding is that small) ...
    np.testing.assert_allclose(diag[:-1], expected, rtol=2.0**-10)
    # ... and columns beyond it (here 4000 and 1e7 standard deviations from
    # zero, in float32 all but the first) are summed about the centers.
    far = slice(1, None) if dtype == np.float32 else slice(4, None)
    np.testing.assert_allclose(diag[:-1][far], expected[far], rtol=100 * np.finfo(dtype).eps)


def test_float32_gd_on_columns_far_from_zero_converges_certified():
    # "Age" (40 +- 12) and a tight column (5 +- 0.1) in float32: before, gd
    # took 14 iterations and warned it could not certify at 300,000 rows
    # (1,000 iterations, 8 s, at 1e6 rows); centered data took 4.
    rng = np.random.default_rng(0)
    n = 300_000
    X = rng.standard_normal((n, 5))
    X[:, 0] = 40.0 + 12.0 * X[:, 0]
    X[:, 1] = 5.0 + 0.1 * X[:, 1]
    y = X @ np.array([0.5, 2.0, 1.0, 1.0, 1.0]) + rng.standard_normal(n)
    X, y = X.astype(np.float32), y.astype(np.float32)
    ref = Ridge(alpha=1.0).fit(X.astype(np.float64), y.astype(np.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = GDRidgeRegressor(alpha=1.0, solver="gd").fit(X, y)
    assert est.n_iter_ <= 8
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=2e-5)
