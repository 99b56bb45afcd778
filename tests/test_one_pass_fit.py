"""The closed-form fit of dense tall data reads X once (issue 15, item 1).

The Gram kernel's pass also decides what used to take two more passes over X:
a finite Gram diagonal proves X finite (scikit-learn's NaN/inf check), and the
raw second moments bound ``max |X|`` for the exact power-of-two rescaling
(:mod:`l2gd._scaling`). These tests protect both: that the extra passes are
gone, and that nothing they guarded changed (NaN/inf refused with
scikit-learn's message; data at the edges of the safe range rescaled as
before, checked against an augmented least-squares oracle).
"""

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.utils.validation as skv

import l2gd._scaling as scaling_module
from l2gd import GDRidgeRegressor, RidgeStats


def _data(n=400, p=6, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, p)) + 3.0).astype(dtype)
    y = (X @ rng.standard_normal(p) + rng.standard_normal(n)).astype(dtype)
    return X, y


def _augmented_lstsq(X, y, alpha):
    """Ridge with an unpenalized intercept as one float64 least-squares problem."""
    n, p = X.shape
    A = np.vstack([np.hstack([np.ones((n, 1)), X]),
                   np.hstack([np.zeros((p, 1)), np.sqrt(alpha) * np.eye(p)])])
    b = np.concatenate([y, np.zeros(p)])
    sol = np.linalg.lstsq(A, b, rcond=None)[0]
    return sol[1:], sol[0]


def _record_passes(monkeypatch):
    """Shapes of the arrays scikit-learn's finite check and l2gd's max|X| read."""
    seen = []
    finite, max_abs = skv._assert_all_finite, scaling_module._max_abs

    def spy_finite(X, *args, **kwargs):
        seen.append(("finite", np.shape(X)))
        return finite(X, *args, **kwargs)

    def spy_max_abs(A):
        seen.append(("max_abs", np.shape(A)))
        return max_abs(A)

    monkeypatch.setattr(skv, "_assert_all_finite", spy_finite)
    monkeypatch.setattr(scaling_module, "_max_abs", spy_max_abs)
    return seen


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_closed_form_fit_of_dense_tall_data_reads_X_only_in_the_gram_pass(
    monkeypatch, fit_intercept, dtype
):
    X, y = _data(dtype=dtype)
    seen = _record_passes(monkeypatch)
    est = GDRidgeRegressor(solver="closed_form", fit_intercept=fit_intercept).fit(X, y)
    assert [kind for kind, shape in seen if shape == X.shape] == []
    assert est.coef_.dtype == dtype  # and the fit happened
    assert seen  # the spies are live: y is still checked


def test_gd_still_checks_X_before_it_iterates(monkeypatch):
    """Only the closed form's Gram pass replaces the checks; other solvers read
    X many times and are checked up front, as before."""
    X, y = _data()
    seen = _record_passes(monkeypatch)
    GDRidgeRegressor(solver="gd").fit(X, y)
    assert ("finite", X.shape) in seen and ("max_abs", X.shape) in seen


@pytest.mark.parametrize("value, word", [(np.nan, "NaN"), (np.inf, "infinity"),
                                         (-np.inf, "infinity")])
@pytest.mark.parametrize("where", [(0, 0), (-1, -1), (200, 3)])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_non_finite_X_is_refused_with_scikit_learns_message(value, word, where, fit_intercept,
                                                           dtype):
    X, y = _data(dtype=dtype)
    X[where] = value
    before = X.copy()
    with pytest.raises(ValueError, match=f"Input X contains {word}"):
        GDRidgeRegressor(solver="closed_form", fit_intercept=fit_intercept).fit(X, y)
    np.testing.assert_array_equal(X, before)


def test_finite_X_whose_gram_overflows_is_solved_exactly():
    """Magnitudes near 2**510: the Gram matrix of the raw data overflows although
    X is finite; the fit must not mistake that for NaN/inf and must rescale."""
    X, y = _data()
    c = 2.0**510
    est = GDRidgeRegressor(solver="closed_form", alpha=1.0).fit(X * c, y)
    coef, intercept = _augmented_lstsq(X, y, 1.0 / c**2)
    np.testing.assert_allclose(est.coef_ * c, coef, rtol=1e-9)
    np.testing.assert_allclose(est.intercept_, intercept, rtol=1e-9)


@pytest.mark.parametrize("exponent", [-500, -300, -257, -255, 250, 255, 257, 300])
def test_magnitudes_at_the_edges_of_the_safe_range_match_the_oracle(exponent):
    """float64's safe range for unrescaled Gram arithmetic ends near 2**+-256;
    on both sides of each end (and far beyond) the fit equals the oracle."""
    X, y = _data()
    c = 2.0**exponent
    alpha = 1.0
    est = GDRidgeRegressor(solver="closed_form", alpha=alpha * c * c).fit(X * c, y)
    coef, intercept = _augmented_lstsq(X, y, alpha)
    np.testing.assert_allclose(est.coef_ * c, coef, rtol=1e-9)
    np.testing.assert_allclose(est.intercept_, intercept, rtol=1e-9)


def test_all_zero_X_is_fit_as_the_mean():
    X = np.zeros((50, 3))
    y = np.arange(50.0)
    est = GDRidgeRegressor(solver="closed_form").fit(X, y)
    np.testing.assert_array_equal(est.coef_, 0.0)
    assert est.intercept_ == pytest.approx(24.5)


def test_weighted_fit_keeps_its_magnitude_check_and_matches_repetition():
    """With weights the second moments bound max|X| only on rows of positive
    weight: the magnitude pass stays, and weights still mean repetition."""
    X, y = _data(n=60)
    w = np.arange(60) % 3
    est = GDRidgeRegressor(solver="closed_form").fit(X * 2.0**300, y, sample_weight=w)
    rep = np.repeat(np.arange(60), w)
    coef, intercept = _augmented_lstsq(X[rep], y[rep], 1.0 / 2.0**600)
    np.testing.assert_allclose(est.coef_ * 2.0**300, coef, rtol=1e-9)
    np.testing.assert_allclose(est.intercept_, intercept, rtol=1e-9)


def test_stats_from_batch_read_X_only_in_the_gram_pass(monkeypatch):
    X, y = _data()
    seen = _record_passes(monkeypatch)
    stats = RidgeStats.from_batch(X, y)
    assert [kind for kind, shape in seen if shape == X.shape] == []
    Xc = X - X.mean(axis=0)
    np.testing.assert_allclose(stats.xx, Xc.T @ Xc, rtol=1e-12)


@pytest.mark.parametrize("value, word", [(np.nan, "NaN"), (np.inf, "infinity")])
@pytest.mark.parametrize("sparse", [False, True])
def test_stats_from_batch_refuse_non_finite_X(value, word, sparse):
    X, y = _data()
    X[7, 2] = value
    with pytest.raises(ValueError, match=f"Input (X )?contains {word}"):
        RidgeStats.from_batch(sp.csr_matrix(X) if sparse else X, y)


def test_stats_from_batch_of_finite_X_whose_squares_overflow_are_returned():
    """Finite X is not refused because its Gram matrix overflows (as before:
    the statistics are not finite, and solving from them says so)."""
    X, y = _data()
    stats = RidgeStats.from_batch(X * 2.0**520, y)
    assert not np.all(np.isfinite(stats.xx))


@pytest.mark.parametrize("offset", [0.0, 3.0], ids=["about-centered", "shifted"])
@pytest.mark.parametrize("weighted", [False, True])
def test_stats_gram_is_exactly_symmetric_and_matches_the_centered_product(offset, weighted):
    # The Gram is assembled from syrk's lower triangle and a rank-one mean
    # correction: both must keep it exactly symmetric (Cholesky and eigh read
    # one triangle; an asymmetric G would make the two disagree).
    rng = np.random.default_rng(4)
    X = rng.standard_normal((700, 60)) * np.logspace(-1, 1, 60) + offset
    y = rng.standard_normal(700)
    sw = rng.uniform(0.5, 2.0, 700) if weighted else None
    stats = RidgeStats.from_batch(X, y, sample_weight=sw)
    w = np.ones(700) if sw is None else sw
    Xc = X - (w @ X) / w.sum()
    oracle = (Xc * w[:, None]).T @ Xc
    assert np.array_equal(stats.xx, stats.xx.T)
    np.testing.assert_allclose(stats.xx, oracle, rtol=1e-12, atol=1e-12 * np.abs(oracle).max())
