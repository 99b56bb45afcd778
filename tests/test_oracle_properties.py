"""Property tests: every deterministic path agrees with an exact reference on
random and hostile designs.

The reference is built here, independently of l2gd: ``numpy.linalg.lstsq``
(SVD, float64) of the augmented weighted system in ``_helpers.exact_ridge``.
Designs are wide or tall, rank deficient, with column scales over 1e-8..1e8,
tiny and huge magnitudes, constant and zero columns, weights with zeros.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import exact_ridge
from sklearn.exceptions import ConvergenceWarning

from l2gd import GDRidgeRegressor, ridge_path

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

KINDS = ("gaussian", "rank_deficient", "mixed_scales", "tiny", "huge", "constant", "zero")
SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def _design(seed, n, p, kind, weights):
    """``X, y, sw`` and the factors ``(cx, cy)`` that scaled a unit-size design
    (tiny and huge kinds): the reference is computed on the unit-size design
    and mapped by Ridge's equivariance, ``coef = (cy / cx) coef0``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + rng.uniform(-2, 2, size=p)
    coef = rng.standard_normal(p)
    if kind == "rank_deficient" and p >= 2:
        X[:, -1] = X[:, 0] - 0.5 * X[:, min(1, p - 1)]
    elif kind == "mixed_scales":
        X *= 10.0 ** rng.uniform(-8, 8, size=p)
    elif kind == "constant":
        X[:, 0] = 3.0
    elif kind == "zero":
        X[:, -1] = 0.0
    signal = X @ coef
    signal = signal / max(np.abs(signal).max(), 1e-300)
    y = signal + 0.3 * rng.standard_normal(n) + 1.0
    sw = None
    if weights == "positive":
        sw = rng.uniform(0.5, 2.0, size=n)
    elif weights == "zeros":
        sw = rng.uniform(0.5, 2.0, size=n)
        sw[rng.random(n) < 0.3] = 0.0
        sw[0] = 1.0
    cx, cy = {"tiny": (1e-150, 1e-250), "huge": (1e150, 1e250)}.get(kind, (1.0, 1.0))
    return X, y, sw, cx, cy


def _case(case, log_shift=0.0):
    """The scaled design, its alpha and the exact reference ``(coef, intercept)``."""
    seed, n, p, kind, weights, log_rel, fit_intercept = case
    X0, y0, sw, cx, cy = _design(seed, n, p, kind, weights)
    alpha0 = _alpha(X0, log_rel + log_shift)
    coef0, icpt0 = exact_ridge(X0, y0, alpha0, sample_weight=sw, fit_intercept=fit_intercept)
    X, y, alpha = X0 * cx, y0 * cy, alpha0 * cx * cx
    return X, y, sw, alpha, (coef0 * (cy / cx), icpt0 * cy), fit_intercept


def _alpha(X, log_rel):
    # alpha relative to the design's scale (Ridge's alpha is in X's units squared).
    return float(np.mean(X.astype(np.float64) ** 2) * X.shape[0] * 10.0**log_rel)


designs = st.tuples(
    st.integers(0, 2**31 - 1),
    st.integers(3, 25),
    st.integers(1, 12),
    st.sampled_from(KINDS),
    st.sampled_from((None, "positive", "zeros")),
    st.floats(-6, 2),
    st.booleans(),
)


def coef_err(coef, ref_coef, X):
    """``||coef - ref|| / max(||ref||, 1 / ||X||_F)``: relative, except where the
    exact coefficients are (close to) zero, e.g. a constant column with an
    intercept (then relative to the coefficient scale of a unit response)."""
    Xd = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    x_scale = float(np.abs(Xd).max(initial=0.0))
    x_norm = x_scale * np.linalg.norm(Xd / x_scale) if x_scale > 0 else 0.0
    c = max(float(np.abs(ref_coef).max(initial=0.0)), float(np.abs(coef).max(initial=0.0)))
    if c == 0.0:
        return 0.0
    floor = 1.0 / x_norm / c if x_norm > 0 else 0.0
    diff = np.linalg.norm((np.asarray(coef) - ref_coef) / c)
    return diff / max(np.linalg.norm(ref_coef / c), floor, 1e-300)


def _check_coef(est, ref, tol, what, X):
    ref_coef, ref_icpt = ref
    assert np.all(np.isfinite(est.coef_)) and np.isfinite(est.intercept_), what
    err = coef_err(est.coef_, ref_coef, X)
    assert err < tol, (what, err)
    # b = y_mean - x_mean @ w carries the error of w through x_mean.
    x_mean = np.abs(np.asarray(X.toarray() if sp.issparse(X) else X)).max(axis=0)
    icpt_scale = abs(ref_icpt) + x_mean @ np.abs(ref_coef)
    assert abs(est.intercept_ - ref_icpt) <= tol * max(icpt_scale, 1e-300), what


@SETTINGS
@given(designs)
def test_closed_form_fit_equals_exact_solution(case):
    X, y, sw, alpha, ref, fit_intercept = _case(case)
    est = GDRidgeRegressor(alpha=alpha, fit_intercept=fit_intercept, solver="closed_form")
    est.fit(X, y, sample_weight=sw)
    _check_coef(est, ref, 1e-7, case, X)
    assert not np.any(np.isnan(est.loss_curve_))


@SETTINGS
@given(designs)
def test_sparse_closed_form_equals_exact_solution(case):
    X, y, sw, alpha, ref, fit_intercept = _case(case)
    est = GDRidgeRegressor(alpha=alpha, fit_intercept=fit_intercept, solver="closed_form")
    est.fit(sp.csr_matrix(X), y, sample_weight=sw)
    _check_coef(est, ref, 1e-6, case, X)


@SETTINGS
@given(designs)
def test_gd_is_exact_or_says_it_is_not(case):
    X, y, sw, alpha, ref, fit_intercept = _case(case)
    est = GDRidgeRegressor(alpha=alpha, fit_intercept=fit_intercept, solver="gd")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y, sample_weight=sw)
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert np.all(np.isfinite(est.coef_)) and np.isfinite(est.intercept_)
    assert not np.any(np.isnan(est.loss_curve_))
    if not warned:
        assert coef_err(est.coef_, ref[0], X) < 1e-5, (case, coef_err(est.coef_, ref[0], X))


@SETTINGS
@given(designs, st.integers(1, 4))
def test_partial_fit_over_random_splits_equals_exact_solution(case, n_parts):
    X, y, sw, alpha, ref, fit_intercept = _case(case)
    assume(case[3] not in ("tiny", "huge"))  # streaming refuses those (tested elsewhere)
    n = X.shape[0]
    n_cuts = min(n_parts, n) - 1
    cuts = np.sort(np.random.default_rng(case[0]).choice(np.arange(1, n), n_cuts, False))
    batches = np.split(np.arange(n), cuts)
    # scikit-learn refuses a batch whose weights are all zero.
    assume(sw is None or all(sw[rows].sum() > 0 for rows in batches))
    est = GDRidgeRegressor(alpha=alpha, fit_intercept=fit_intercept, solver="closed_form")
    for rows in batches:
        est.partial_fit(X[rows], y[rows], sample_weight=None if sw is None else sw[rows])
    _check_coef(est, ref, 1e-7, case, X)


@SETTINGS
@given(designs)
def test_ridge_path_equals_exact_solution_per_alpha(case):
    X, y, sw, _, _, fit_intercept = _case(case)
    shifts = (2.0, 0.0, -2.0)
    alphas = [_case(case, d)[3] for d in shifts]
    grid, coefs, intercepts = ridge_path(
        X, y, alphas=alphas, sample_weight=sw, fit_intercept=fit_intercept, solver="closed_form"
    )
    assert np.all(np.isfinite(coefs)) and np.all(np.isfinite(intercepts))
    for j, d in enumerate(shifts):  # the grid comes back in decreasing order
        ref_coef = _case(case, d)[4][0]
        err = coef_err(coefs[:, j], ref_coef, X)
        assert err < 1e-6, (case, d, err)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(designs)
def test_dask_closed_form_equals_exact_solution(case):
    da = pytest.importorskip("dask.array")
    import dask

    X, y, sw, alpha, ref, fit_intercept = _case(case)
    assume(case[3] not in ("tiny", "huge"))
    n, p = X.shape
    chunks = max(1, n // 3)
    Xd, yd = da.from_array(X, chunks=(chunks, p)), da.from_array(y, chunks=chunks)
    swd = None if sw is None else da.from_array(sw, chunks=chunks)
    est = GDRidgeRegressor(alpha=alpha, fit_intercept=fit_intercept, solver="closed_form")
    with dask.config.set(scheduler="synchronous"):
        est.fit(Xd, yd, sample_weight=swd)
    _check_coef(est, ref, 1e-7, case, X)
