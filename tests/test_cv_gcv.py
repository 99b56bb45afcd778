"""GDRidgeCV(cv="gcv"), the ``dof`` entry of ``cv_results_`` and ``refit=False``.

Oracles built here in float64: per alpha a scikit-learn ``Ridge`` fit (on the
dense copy of X), its weighted residual sum of squares, and the trace of the
hat matrix ``X_c (X_c^T S X_c + alpha I)^-1 X_c^T S`` formed explicitly; GCV
as MASS ``lm.ridge`` defines it, ``RSS / (S - trace)^2``.
"""

import warnings

import numpy as np
import pytest
import scipy.linalg as la
import scipy.sparse as sp
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from l2gd import AlphaBoundaryWarning, GDRidgeCV

ALPHAS = np.logspace(-2, 3, 11)


@pytest.fixture(autouse=True)
def _quiet_boundary():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlphaBoundaryWarning)
        yield


def make_data(n, p, k=None, seed=0, sparse=False):
    """Correlated, non-centered X; a linear signal plus noise; uneven weights."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 1:] += 0.5 * X[:, :-1]
    X += 2.0
    if sparse:
        X[rng.random(X.shape) < 0.5] = 0.0
    Y = X @ rng.standard_normal((p, k or 1)) + rng.standard_normal((n, k or 1)) + 1.0
    sw = rng.uniform(0.3, 3.0, n)
    return (sp.csr_matrix(X) if sparse else X), (Y[:, 0] if k is None else Y), sw


def dense(X):
    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)


def hat_trace(X, sw, alpha, fit_intercept):
    """``tr(X_c (X_c^T S X_c + alpha I)^-1 X_c^T S)`` with the matrices formed."""
    X = dense(X)
    n, p = X.shape
    s = np.ones(n) if sw is None else np.asarray(sw, dtype=np.float64)
    Xc = X - (s @ X) / s.sum() if fit_intercept else X
    G = Xc.T @ (s[:, None] * Xc)
    H = Xc @ np.linalg.inv(G + alpha * np.eye(p)) @ (Xc.T * s)
    return float(np.trace(H))


def brute_gcv(X, Y, sw, alphas, fit_intercept):
    """``(gcv, rss, dof)`` of shapes (n_alphas, n_targets), same, (n_alphas,)."""
    Xd = dense(X)
    Y2 = np.asarray(Y, dtype=np.float64).reshape(len(Xd), -1)
    s = np.ones(len(Xd)) if sw is None else np.asarray(sw, dtype=np.float64)
    rss, dof = [], []
    for a in alphas:
        fit = Ridge(alpha=a, fit_intercept=fit_intercept, solver="cholesky").fit(
            Xd, Y2, sample_weight=sw
        )
        R = Y2 - fit.predict(Xd).reshape(Y2.shape)
        rss.append((s[:, None] * R**2).sum(axis=0))
        dof.append(hat_trace(Xd, sw, a, fit_intercept))
    rss, dof = np.array(rss), np.array(dof)
    return rss / (s.sum() - dof[:, None]) ** 2, rss, dof


SHAPES = {"tall": (40, 5), "wide": (15, 30)}


@pytest.mark.parametrize("shape", ["tall", "wide"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("k", [None, 3])
def test_gcv_scores_and_choice_equal_brute_force(shape, sparse, weighted, fit_intercept, k):
    X, y, sw = make_data(*SHAPES[shape], k=k, seed=1, sparse=sparse)
    sw = sw if weighted else None
    est = GDRidgeCV(alphas=ALPHAS, cv="gcv", fit_intercept=fit_intercept).fit(
        X, y, sample_weight=sw
    )
    gcv, _, dof = brute_gcv(X, y, sw, ALPHAS, fit_intercept)
    want = gcv.mean(axis=1)  # without alpha_per_target: the mean over targets
    res = est.cv_results_
    np.testing.assert_allclose(res["gcv"], want, rtol=1e-8)
    np.testing.assert_allclose(res["mean_test_score"], -want, rtol=1e-8)
    np.testing.assert_allclose(res["dof"], dof, rtol=1e-8, atol=1e-10)
    assert np.all(np.isnan(res["std_test_score"]))
    best = int(np.argmin(want))
    assert est.alpha_ == ALPHAS[best] and est.best_index_ == best
    np.testing.assert_allclose(est.best_score_, -want[best], rtol=1e-8)
    assert res["rank_test_score"][best] == 1 and est.n_splits_ == 1
    ref = Ridge(alpha=est.alpha_, fit_intercept=fit_intercept, solver="cholesky")
    ref.fit(dense(X), y, sample_weight=sw)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("shape", ["tall", "wide"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gcv_alpha_per_target_equals_brute_force(shape, sparse, fit_intercept):
    X, Y, sw = make_data(*SHAPES[shape], k=3, seed=2, sparse=sparse)
    Y[:, 1] *= 30.0  # targets with different noise levels choose different alphas
    Y[:, 2] = np.random.default_rng(5).standard_normal(len(Y))
    est = GDRidgeCV(alphas=ALPHAS, cv="gcv", alpha_per_target=True, fit_intercept=fit_intercept)
    est.fit(X, Y, sample_weight=sw)
    gcv, _, dof = brute_gcv(X, Y, sw, ALPHAS, fit_intercept)
    np.testing.assert_allclose(est.cv_results_["gcv"], gcv, rtol=1e-8)
    np.testing.assert_allclose(est.cv_results_["mean_test_score"], -gcv, rtol=1e-8)
    np.testing.assert_allclose(est.cv_results_["dof"], dof, rtol=1e-8, atol=1e-10)
    best = np.argmin(gcv, axis=0)
    np.testing.assert_array_equal(est.alpha_, ALPHAS[best])
    np.testing.assert_allclose(est.best_score_, -gcv[best, np.arange(3)], rtol=1e-8)
    assert est.coef_.shape == (3, X.shape[1])


def test_gcv_at_alpha_zero_is_least_squares():
    X, y, sw = make_data(50, 4, seed=3)
    est = GDRidgeCV(alphas=[0.0, 1.0], cv="gcv").fit(X, y, sample_weight=sw)
    A = np.sqrt(sw)[:, None] * np.column_stack([X, np.ones(len(X))])
    rss = la.lstsq(A, np.sqrt(sw) * y)[1]
    np.testing.assert_allclose(est.cv_results_["gcv"][0], rss / (sw.sum() - 4) ** 2, rtol=1e-9)
    np.testing.assert_allclose(est.cv_results_["dof"][0], 4.0, rtol=1e-12)


def test_gcv_zero_weight_rows_are_absent_rows():
    X, y, sw = make_data(40, 6, seed=4)
    sw[::5] = 0.0
    keep = sw > 0
    full = GDRidgeCV(alphas=ALPHAS, cv="gcv").fit(X, y, sample_weight=sw)
    part = GDRidgeCV(alphas=ALPHAS, cv="gcv").fit(X[keep], y[keep], sample_weight=sw[keep])
    np.testing.assert_allclose(full.cv_results_["gcv"], part.cv_results_["gcv"], rtol=1e-9)
    np.testing.assert_allclose(full.cv_results_["dof"], part.cv_results_["dof"], rtol=1e-9)


def exact_rss_and_trace(X, y, sw, alpha):
    """Weighted ridge with intercept by least squares on the augmented system
    (pivoted QR), and the hat trace as the squared norm of the top block of its
    orthogonal factor: accurate for columns of any scales."""
    n, p = X.shape
    r = np.sqrt(sw)
    Xc = X - (sw @ X) / sw.sum()
    A = np.vstack([r[:, None] * Xc, np.sqrt(alpha) * np.eye(p)])
    Q, _ = la.qr(A, mode="economic")
    yc = y - sw @ y / sw.sum()
    coef = la.lstsq(A, np.concatenate([r * yc, np.zeros(p)]), lapack_driver="gelsy")[0]
    return float(sw @ (yc - Xc @ coef) ** 2), float(np.sum(Q[:n] ** 2))


def test_gcv_on_mixed_scale_columns_equals_exact_fits():
    # Columns from 1e-4 to 1e4: the Gram spectrum is not accurate at the small
    # alphas, which are then fit one at a time (the scores must not change).
    rng = np.random.default_rng(6)
    n, p = 60, 4
    X = rng.standard_normal((n, p)) * np.array([1e-4, 1.0, 1e2, 1e4])
    y = X @ (1.0 / np.array([1e-4, 1.0, 1e2, 1e4])) + 0.1 * rng.standard_normal(n)
    sw = rng.uniform(0.5, 2.0, n)
    alphas = np.logspace(-14, 2, 9)
    est = GDRidgeCV(alphas=alphas, cv="gcv").fit(X, y, sample_weight=sw)
    parts = np.array([exact_rss_and_trace(X, y, sw, a) for a in alphas])
    want = parts[:, 0] / (sw.sum() - parts[:, 1]) ** 2
    np.testing.assert_allclose(est.cv_results_["gcv"], want, rtol=1e-6)
    np.testing.assert_allclose(est.cv_results_["dof"], parts[:, 1], rtol=1e-6)


# ---------------------------------------------------------------------------
# dof in every mode
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("cv", [None, 3, "gcv"])
@pytest.mark.parametrize("shape", ["tall", "wide"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dof_entry_equals_explicit_trace(cv, shape, sparse, fit_intercept):
    X, y, sw = make_data(*SHAPES[shape], seed=7, sparse=sparse)
    est = GDRidgeCV(alphas=ALPHAS, cv=cv, fit_intercept=fit_intercept).fit(
        X, y, sample_weight=sw
    )
    want = [hat_trace(X, sw, a, fit_intercept) for a in ALPHAS]
    np.testing.assert_allclose(est.cv_results_["dof"], want, rtol=1e-8, atol=1e-10)


def test_dof_entry_with_a_gradient_descent_path_and_an_svd():
    from l2gd.solvers import ClosedForm

    X, y, sw = make_data(40, 5, seed=8)
    want = [hat_trace(X, sw, a, True) for a in ALPHAS]
    for solver in ("gd", ClosedForm(method="svd")):
        est = GDRidgeCV(alphas=ALPHAS, cv=KFold(4), solver=solver, tol=1e-10)
        est.fit(X, y, sample_weight=sw)
        np.testing.assert_allclose(est.cv_results_["dof"], want, rtol=1e-8)


# ---------------------------------------------------------------------------
# refit=False
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("cv", [None, 3, "gcv"])
def test_refit_false_selects_without_the_final_fit(cv):
    X, y, sw = make_data(40, 5, seed=9)
    ref = GDRidgeCV(alphas=ALPHAS, cv=cv).fit(X, y, sample_weight=sw)
    est = GDRidgeCV(alphas=ALPHAS, cv=cv, refit=False).fit(X, y, sample_weight=sw)
    assert est.alpha_ == ref.alpha_ and est.best_score_ == ref.best_score_
    assert est.best_index_ == ref.best_index_ and est.n_features_in_ == 5
    np.testing.assert_array_equal(est.cv_results_["mean_test_score"],
                                  ref.cv_results_["mean_test_score"])
    for attr in ("coef_", "intercept_", "solver_", "n_iter_"):
        assert not hasattr(est, attr)
    assert not hasattr(est, "predict")  # as GridSearchCV(refit=False)
    with pytest.raises(AttributeError) as caught:
        est.predict(X)
    assert "refit=False" in str(caught.value.__cause__)  # the reason, chained


def test_refit_false_after_a_refit_drops_the_old_model():
    X, y, _ = make_data(40, 5, seed=10)
    est = GDRidgeCV(alphas=ALPHAS).fit(X, y)
    assert hasattr(est, "coef_")
    est.set_params(refit=False).fit(X, y)
    assert not hasattr(est, "coef_") and not hasattr(est, "intercept_")


def test_refit_is_validated():
    X, y, _ = make_data(20, 3, seed=11)
    with pytest.raises(ValueError, match="refit"):
        GDRidgeCV(refit="yes").fit(X, y)


# ---------------------------------------------------------------------------
# Parameter rules of cv="gcv"
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params, match",
    [
        ({"scoring": "r2"}, "takes no scoring"),
        ({"selection": "1se"}, "selection='1se'.*no splits"),
        ({"store_cv_results": True}, "store_cv_results"),
    ],
)
def test_gcv_parameter_rules(params, match):
    X, y, _ = make_data(30, 3, seed=12)
    with pytest.raises(ValueError, match=match):
        GDRidgeCV(alphas=ALPHAS, cv="gcv", **params).fit(X, y)


def test_gcv_refuses_groups():
    X, y, _ = make_data(30, 3, seed=12)
    with pytest.raises(ValueError, match="gcv.*no splitter"):
        GDRidgeCV(alphas=ALPHAS, cv="gcv").fit(X, y, groups=np.arange(30) % 3)


def test_gcv_infinite_everywhere_raises():
    # Total weight 0.3 is below the degrees of freedom at every alpha.
    X, y, _ = make_data(30, 5, seed=13)
    with pytest.raises(ValueError, match="infinite at every alpha"):
        GDRidgeCV(alphas=[1e-6, 1e-4], cv="gcv").fit(X, y, sample_weight=np.full(30, 0.01))


def test_gcv_interpolating_alphas_rank_last():
    X, y, _ = make_data(30, 5, seed=13)
    sw = np.full(30, 0.2)  # S = 6 > 5 = dof(0)
    est = GDRidgeCV(alphas=[0.0, 1.0, 10.0], cv="gcv").fit(X, y, sample_weight=sw)
    assert np.all(np.isfinite(est.cv_results_["gcv"]))
    est = GDRidgeCV(alphas=[1e-8, 1e3], cv="gcv").fit(X, y, sample_weight=np.full(30, 0.1))
    assert np.isinf(est.cv_results_["gcv"][0]) and est.alpha_ == 1e3


def test_cv_string_other_than_gcv_is_refused():
    X, y, _ = make_data(20, 3, seed=14)
    with pytest.raises(ValueError, match="cv"):
        GDRidgeCV(cv="loo").fit(X, y)


# ---------------------------------------------------------------------------
# Dask: GCV from the statistics of one pass
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("k", [None, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_gcv_on_dask_equals_numpy(fit_intercept, k, weighted):
    da = pytest.importorskip("dask.array")
    X, y, sw = make_data(60, 5, k=k, seed=15)
    sw = sw if weighted else None
    kwargs = dict(alphas=ALPHAS, cv="gcv", fit_intercept=fit_intercept)
    ref = GDRidgeCV(**kwargs).fit(X, y, sample_weight=sw)
    dsw = None if sw is None else da.from_array(sw, chunks=20)
    est = GDRidgeCV(**kwargs).fit(
        da.from_array(X, chunks=(20, 5)), da.from_array(y, chunks=20), sample_weight=dsw
    )
    np.testing.assert_allclose(est.cv_results_["gcv"], ref.cv_results_["gcv"], rtol=1e-8)
    np.testing.assert_allclose(est.cv_results_["dof"], ref.cv_results_["dof"], rtol=1e-10)
    assert est.alpha_ == ref.alpha_
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-8)


def test_dask_gcv_alpha_per_target_and_refit_false():
    da = pytest.importorskip("dask.array")
    X, Y, sw = make_data(60, 5, k=3, seed=16)
    Y[:, 1] *= 30.0
    kwargs = dict(alphas=ALPHAS, cv="gcv", alpha_per_target=True, refit=False)
    ref = GDRidgeCV(**kwargs).fit(X, Y)
    est = GDRidgeCV(**kwargs).fit(da.from_array(X, chunks=(20, 5)), da.from_array(Y, chunks=20))
    np.testing.assert_array_equal(est.alpha_, ref.alpha_)
    np.testing.assert_allclose(est.best_score_, ref.best_score_, rtol=1e-8)
    assert not hasattr(est, "coef_") and est.n_features_in_ == 5


def test_dask_kfold_has_dof():
    da = pytest.importorskip("dask.array")
    X, y, sw = make_data(60, 5, seed=17)
    est = GDRidgeCV(alphas=ALPHAS, cv=3).fit(da.from_array(X, chunks=(20, 5)),
                                              da.from_array(y, chunks=20))
    want = [hat_trace(X, None, a, True) for a in ALPHAS]
    np.testing.assert_allclose(est.cv_results_["dof"], want, rtol=1e-8)


def test_dask_loo_message_names_gcv():
    da = pytest.importorskip("dask.array")
    X, y, _ = make_data(30, 3, seed=18)
    with pytest.raises(ValueError, match="cv='gcv'"):
        GDRidgeCV().fit(da.from_array(X, chunks=10), da.from_array(y, chunks=10))


def test_dask_gcv_on_mixed_scale_columns_equals_exact_fits():
    # From statistics alone the inaccurate alphas are fit one at a time from the
    # Gram matrix scaled to a unit diagonal.
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(6)
    n, p = 60, 4
    scales = np.array([1e-4, 1.0, 1e2, 1e4])
    X = rng.standard_normal((n, p)) * scales
    y = X @ (1.0 / scales) + 0.1 * rng.standard_normal(n)
    alphas = np.logspace(-14, 2, 9)
    est = GDRidgeCV(alphas=alphas, cv="gcv").fit(
        da.from_array(X, chunks=(20, p)), da.from_array(y, chunks=20)
    )
    parts = np.array([exact_rss_and_trace(X, y, np.ones(n), a) for a in alphas])
    want = parts[:, 0] / (n - parts[:, 1]) ** 2
    np.testing.assert_allclose(est.cv_results_["gcv"], want, rtol=1e-6)
    np.testing.assert_allclose(est.cv_results_["dof"], parts[:, 1], rtol=1e-6)


@parametrize_with_checks([GDRidgeCV(cv="gcv", alphas=[0.1, 1.0, 10.0]), GDRidgeCV(cv="gcv")])
def test_sklearn_compatible_with_gcv(estimator, check):
    check(estimator)
