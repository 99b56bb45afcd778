"""penalty_factor: ``alpha * sum_j f_j w_j**2``, checked against independent oracles.

The oracle is the float64 least-squares solution of the augmented weighted
system ``[sqrt(s) [1, X]; diag(sqrt(alpha * [0, f]))] [b; w] = [sqrt(s) y; 0]``,
which needs no reduction: unpenalized features and the intercept are simply
rows of zeros in the penalty block.
"""

import warnings

import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold

from l2gd import GDRidgeCV, GDRidgeRegressor, RidgeStats, ridge_path
from l2gd.solvers import SGD

N, P = 150, 6
MIXED = np.array([1.0, 0.0, 2.0, 0.5, 0.0, 3.0])  # two unpenalized features
POSITIVE = np.array([1.0, 4.0, 2.0, 0.5, 1.0, 3.0])


def _data(seed=0):
    """Mixed column scales and an offset (an intercept to fit), two targets, weights."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, P)) * np.array([1.0, 10.0, 0.1, 1.0, 1.0, 3.0]) + 0.5
    Y2 = X @ rng.standard_normal((P, 2)) + rng.standard_normal((N, 2))
    return X, Y2, rng.uniform(0.1, 2.0, N)


def oracle(X, y, alpha, factor, sample_weight=None, fit_intercept=True):
    """``(coef, intercept)`` of the augmented least-squares system, float64."""
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    Y = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)
    n, p = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    A = np.c_[np.ones(n), X] if fit_intercept else X
    pen = np.r_[0.0, factor] if fit_intercept else np.asarray(factor, dtype=np.float64)
    root = np.sqrt(s)[:, None]
    coefs = []
    for k in range(Y.shape[1]):
        a = np.atleast_1d(alpha)[k % np.size(alpha)]
        M = np.r_[A * root, np.diag(np.sqrt(a * pen))]
        rhs = np.r_[Y[:, k] * root[:, 0], np.zeros(A.shape[1])]
        coefs.append(np.linalg.lstsq(M, rhs, rcond=None)[0])
    sol = np.array(coefs)
    if fit_intercept:
        return sol[:, 1:], sol[:, 0]
    return sol, np.zeros(Y.shape[1])


def rel(a, b):
    return np.max(np.abs(np.asarray(a) - b)) / max(np.max(np.abs(b)), 1e-300)


SOLVERS = {
    "closed_form": {"solver": "closed_form"},
    "svd": {"solver": "closed_form"},
    "gd": {"solver": "gd", "tol": 1e-12, "max_iter": 20_000},
    "sgd": {"solver": SGD(batch_size=16), "tol": 1e-11, "max_iter": 20_000, "random_state": 0},
}


@pytest.mark.parametrize("solver", ["closed_form", "gd", "sgd"])
@pytest.mark.parametrize("factor", [MIXED, POSITIVE], ids=["zeros", "positive"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_fit_matches_augmented_lstsq(solver, factor, sparse, fit_intercept):
    X, Y2, SW = _data()
    Xf = sp.csr_matrix(X) if sparse else X
    alpha = np.array([3.0, 30.0])
    est = GDRidgeRegressor(
        alpha=alpha, penalty_factor=factor, fit_intercept=fit_intercept, **SOLVERS[solver]
    ).fit(Xf, Y2, sample_weight=SW)
    W, b = oracle(X, Y2, alpha, factor, SW, fit_intercept)
    tol = 1e-8 if solver == "sgd" else 1e-9
    assert rel(est.coef_, W) < tol
    assert rel(est.intercept_, b) < tol if fit_intercept else est.intercept_ == 0.0


def test_one_target_float32_and_shapes():
    X, Y2, SW = _data()
    y = Y2[:, 0]
    est = GDRidgeRegressor(alpha=2.0, penalty_factor=MIXED).fit(X.astype(np.float32), y)
    W, b = oracle(X.astype(np.float32), y, 2.0, MIXED)
    assert est.coef_.shape == (P,) and np.ndim(est.intercept_) == 0
    assert est.coef_.dtype == np.float32
    assert rel(est.coef_, W[0]) < 1e-4


def test_positive_factors_equal_ridge_on_rescaled_columns():
    """Independent of the reduction: sklearn's Ridge on X_j / sqrt(f_j)."""
    X, Y2, SW = _data()
    d = 1.0 / np.sqrt(POSITIVE)
    ref = Ridge(alpha=5.0).fit(X * d, Y2, sample_weight=SW)
    est = GDRidgeRegressor(alpha=5.0, penalty_factor=POSITIVE).fit(X, Y2, sample_weight=SW)
    assert rel(est.coef_, ref.coef_ * d) < 1e-10
    assert rel(est.intercept_, ref.intercept_) < 1e-10


@pytest.mark.parametrize("c", [0.25, 7.0])
def test_constant_factor_is_alpha_times_c(c):
    X, Y2, SW = _data()
    a = GDRidgeRegressor(alpha=3.0, penalty_factor=np.full(P, c)).fit(X, Y2)
    b = GDRidgeRegressor(alpha=3.0 * c).fit(X, Y2)
    assert rel(a.coef_, b.coef_) < 1e-12


def test_zero_factor_is_the_limit_of_an_unpenalized_column():
    """A column multiplied by a huge c carries almost no penalty (alpha / c**2):
    sklearn's Ridge on it approaches the f_j = 0 fit."""
    X, Y2, SW = _data()
    c = 1e5
    Xc = X.copy()
    Xc[:, [1, 4]] *= c
    ref = Ridge(alpha=4.0).fit(Xc, Y2[:, 0])
    est = GDRidgeRegressor(alpha=4.0, penalty_factor=(MIXED > 0).astype(float)).fit(X, Y2[:, 0])
    expected = ref.coef_.copy()
    expected[[1, 4]] *= c
    assert rel(est.coef_, expected) < 1e-7


@pytest.mark.parametrize("solver", ["closed_form", "gd", "sgd"])
def test_all_zero_factors_is_ordinary_least_squares(solver):
    X, Y2, SW = _data()
    est = GDRidgeRegressor(alpha=10.0, penalty_factor=np.zeros(P), **SOLVERS[solver])
    est.fit(X, Y2, sample_weight=SW)
    root = np.sqrt(SW)[:, None]
    ref = np.linalg.lstsq(np.c_[np.ones(N), X] * root, Y2 * root, rcond=None)[0]
    assert rel(est.coef_, ref[1:].T) < 1e-10
    assert rel(est.intercept_, ref[0]) < 1e-10


def test_one_penalized_feature_left():
    X, Y2, SW = _data()
    f = np.zeros(P)
    f[2] = 1.0
    est = GDRidgeRegressor(alpha=10.0, penalty_factor=f).fit(X, Y2, sample_weight=SW)
    W, b = oracle(X, Y2, 10.0, f, SW)
    assert rel(est.coef_, W) < 1e-10 and rel(est.intercept_, b) < 1e-10


def test_rank_deficient_unpenalized_block_predicts_like_lstsq():
    """An unpenalized constant column duplicates the intercept: the fit (and so
    the predictions) is still the unique minimizer's."""
    X, Y2, SW = _data()
    Xd = np.c_[X, np.full(N, 2.0)]
    f = np.r_[MIXED, 0.0]
    est = GDRidgeRegressor(alpha=3.0, penalty_factor=f).fit(Xd, Y2[:, 0])
    W, b = oracle(Xd, Y2[:, 0], 3.0, f)
    assert rel(est.predict(Xd), Xd @ W[0] + b[0]) < 1e-10
    assert np.all(np.isfinite(est.coef_))


def test_caller_arrays_are_not_modified():
    X, Y2, SW = _data()
    Xc, yc, swc, fc = X.copy(), Y2.copy(), SW.copy(), MIXED.copy()
    GDRidgeRegressor(penalty_factor=fc).fit(Xc, yc, sample_weight=swc)
    GDRidgeCV(penalty_factor=fc, cv=3).fit(Xc, yc, sample_weight=swc)
    for a, b in ((Xc, X), (yc, Y2), (swc, SW), (fc, MIXED)):
        np.testing.assert_array_equal(a, b)


def test_warm_start_reaches_the_same_solution():
    X, Y2, SW = _data()
    est = GDRidgeRegressor(alpha=3.0, penalty_factor=MIXED, solver="gd", tol=1e-12,
                           max_iter=20_000, warm_start=True)
    est.fit(X, Y2)
    first = est.n_iter_
    est.fit(X, Y2)
    W, _ = oracle(X, Y2, 3.0, MIXED)
    assert rel(est.coef_, W) < 1e-9
    assert est.n_iter_ < first


@pytest.mark.parametrize("factor", [MIXED, POSITIVE], ids=["zeros", "positive"])
def test_streaming_and_from_stats(factor):
    X, Y2, SW = _data()
    W, b = oracle(X, Y2, 3.0, factor, SW)
    est = GDRidgeRegressor(alpha=3.0, penalty_factor=factor, solver="closed_form")
    for rows in np.array_split(np.arange(N), 4):
        est.partial_fit(X[rows], Y2[rows], sample_weight=SW[rows])
    assert rel(est.coef_, W) < 1e-10 and rel(est.intercept_, b) < 1e-10
    stats = RidgeStats.from_batch(X, Y2, SW)
    fitted = GDRidgeRegressor.from_stats(stats, alpha=3.0, penalty_factor=factor)
    assert rel(fitted.coef_, W) < 1e-10 and rel(fitted.intercept_, b) < 1e-10


def test_sgd_streams_positive_factors_not_zeros():
    X, Y2, SW = _data()
    est = GDRidgeRegressor(alpha=3.0, penalty_factor=POSITIVE, solver="sgd", random_state=0)
    ref = GDRidgeRegressor(alpha=3.0, solver="sgd", random_state=0)
    d = 1.0 / np.sqrt(POSITIVE)
    for _ in range(3):
        est.partial_fit(X, Y2[:, 0])
        ref.partial_fit(X * d, Y2[:, 0])
    # The same passes as on the rescaled columns, mapped back.
    assert rel(est.coef_, ref.coef_ * d) < 1e-10
    est.set_params(penalty_factor=POSITIVE * 2)
    with pytest.raises(ValueError, match="penalty_factor differs"):
        est.partial_fit(X, Y2[:, 0])
    with pytest.raises(ValueError, match="streams with solver='closed_form' only"):
        GDRidgeRegressor(penalty_factor=MIXED, solver="sgd").partial_fit(X, Y2[:, 0])


def test_ridge_path_matches_oracle():
    X, Y2, SW = _data()
    alphas, coefs, intercepts = ridge_path(
        X, Y2, alphas=[0.1, 10.0], sample_weight=SW, penalty_factor=MIXED
    )
    for k, a in enumerate(alphas):
        W, b = oracle(X, Y2, a, MIXED, SW)
        assert rel(coefs[:, :, k], W) < 1e-10
        assert rel(intercepts[:, k], b) < 1e-10


def _r2(y, pred, s):
    m = np.average(y, weights=s)
    return 1 - np.sum(s * (y - pred) ** 2) / np.sum(s * (y - m) ** 2)


@pytest.mark.parametrize("solver", ["closed_form", "gd"])
@pytest.mark.parametrize("factor", [MIXED, POSITIVE], ids=["zeros", "positive"])
@pytest.mark.parametrize("sparse", [False, True])
def test_kfold_matches_brute_force(solver, factor, sparse):
    X, Y2, SW = _data()
    y = Y2[:, 0]
    alphas = [0.1, 3.0, 100.0]
    cv = KFold(4, shuffle=True, random_state=0)
    est = GDRidgeCV(alphas=alphas, cv=cv, penalty_factor=factor, solver=solver, tol=1e-12,
                    max_iter=20_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(sp.csr_matrix(X) if sparse else X, y, sample_weight=SW)
    expected = []
    for a in sorted(alphas, reverse=True):
        scores = []
        for tr, te in cv.split(X):
            W, b = oracle(X[tr], y[tr], a, factor, SW[tr])
            scores.append(_r2(y[te], X[te] @ W[0] + b[0], SW[te]))
        expected.append(np.mean(scores))
    order = np.argsort(est.cv_results_["alphas"])[::-1]
    np.testing.assert_allclose(est.cv_results_["mean_test_score"][order], expected, atol=1e-9)
    W, b = oracle(X, y, est.alpha_, factor, SW)
    assert rel(est.coef_, W[0]) < 1e-8


def test_kfold_dof_counts_unpenalized_features():
    X, Y2, SW = _data()
    alphas = [1e-8, 1e8]
    est = GDRidgeCV(alphas=alphas, cv=3, penalty_factor=MIXED).fit(X, Y2[:, 0])
    dof = dict(zip(est.cv_results_["alphas"], est.cv_results_["dof"]))
    # alpha -> 0: all P features; alpha -> infinity: only the two unpenalized ones.
    assert dof[1e-8] == pytest.approx(P, abs=1e-6)
    assert dof[1e8] == pytest.approx(2.0, abs=1e-4)


@pytest.mark.parametrize("cv", [None, "gcv"])
def test_loo_and_gcv_with_positive_factors(cv):
    X, Y2, SW = _data()
    y = Y2[:, 0]
    alphas = [0.3, 3.0, 30.0]
    est = GDRidgeCV(alphas=alphas, cv=cv, penalty_factor=POSITIVE).fit(X, y, sample_weight=SW)
    d = 1.0 / np.sqrt(POSITIVE)
    ref = GDRidgeCV(alphas=alphas, cv=cv).fit(X * d, y, sample_weight=SW)
    np.testing.assert_allclose(
        est.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-10
    )
    if cv is None:  # and against a brute-force leave-one-out
        errors = []
        for i in range(N):
            keep = np.arange(N) != i
            W, b = oracle(X[keep], y[keep], est.alpha_, POSITIVE, SW[keep])
            errors.append(SW[i] * (y[i] - X[i] @ W[0] - b[0]) ** 2)
        assert est.best_score_ == pytest.approx(-np.mean(errors), rel=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_leave_one_out_with_zero_factors_matches_brute_force(weighted, fit_intercept):
    """Exact leave-one-out with unpenalized features: every row left out and refit
    by the augmented least squares; predictions stored are those refits'."""
    X, Y2, SW = _data()
    y, alphas = Y2[:, 0], [0.3, 3.0, 30.0]
    sw = SW if weighted else np.ones(N)
    est = GDRidgeCV(alphas=alphas, penalty_factor=MIXED, fit_intercept=fit_intercept,
                    store_cv_results=True).fit(X, y, sample_weight=sw if weighted else None)
    for k, a in enumerate(est.cv_results_["alphas"]):
        preds = []
        for i in range(N):
            keep = np.arange(N) != i
            W, b = oracle(X[keep], y[keep], a, MIXED, sw[keep], fit_intercept)
            preds.append(X[i] @ W[0] + b[0])
        preds = np.array(preds)
        np.testing.assert_allclose(est.cv_results_["loo_predictions"][:, k], preds, rtol=1e-9)
        assert est.cv_results_["mean_test_score"][k] == pytest.approx(
            -np.mean(sw * (y - preds) ** 2), rel=1e-9
        )
    wide = np.random.default_rng(1).standard_normal((20, 40))  # the kernel route
    f = np.r_[0.0, 0.0, np.ones(38)]
    est = GDRidgeCV(alphas=[1.0], penalty_factor=f, store_cv_results=True).fit(wide, y[:20])
    for i in range(20):
        keep = np.arange(20) != i
        W, b = oracle(wide[keep], y[:20][keep], 1.0, f)
        assert est.cv_results_["loo_predictions"][i, 0] == pytest.approx(
            wide[i] @ W[0] + b[0], rel=1e-8
        )


@pytest.mark.parametrize("dask", [False, True])
def test_gcv_with_zero_factors_matches_the_hat_matrix(dask):
    """MASS's GCV, RSS / (S - df)^2 with df = tr(H) minus the intercept's 1, from
    the augmented hat matrix H = A (A'SA + L)^-1 A'S (unpenalized features count 1)."""
    X, Y2, SW = _data()
    y, alphas = Y2[:, 0], np.array([0.3, 3.0, 30.0])
    Xf, yf, sf = (da.from_array(a, chunks=40) for a in (X, y, SW)) if dask else (X, y, SW)
    est = GDRidgeCV(alphas=alphas, cv="gcv", penalty_factor=MIXED).fit(Xf, yf, sample_weight=sf)
    A = np.c_[np.ones(N), X]
    AtSA = A.T @ (SW[:, None] * A)
    expected = {}
    for a in alphas:
        H = A @ np.linalg.inv(AtSA + np.diag(np.r_[0.0, a * MIXED])) @ A.T * SW[None, :]
        rss = np.sum(SW * (y - H @ y) ** 2)
        expected[a] = (rss / (SW.sum() - (np.trace(H) - 1.0)) ** 2, np.trace(H) - 1.0)
    got = dict(zip(est.cv_results_["alphas"], zip(est.cv_results_["gcv"], est.cv_results_["dof"])))
    for a in alphas:
        assert got[a][0] == pytest.approx(expected[a][0], rel=1e-9)
        assert got[a][1] == pytest.approx(expected[a][1], rel=1e-9)


@pytest.mark.parametrize("factor", [MIXED, POSITIVE], ids=["zeros", "positive"])
def test_dask_fit_and_kfold(factor):
    X, Y2, SW = _data()
    Xd, yd, sd = (da.from_array(a, chunks=40) for a in (X, Y2[:, 0], SW))
    est = GDRidgeRegressor(alpha=3.0, penalty_factor=factor).fit(Xd, yd, sample_weight=sd)
    W, b = oracle(X, Y2[:, 0], 3.0, factor, SW)
    assert rel(est.coef_, W[0]) < 1e-10 and rel(est.intercept_, b) < 1e-10
    alphas = [0.1, 3.0, 100.0]
    cv = GDRidgeCV(alphas=alphas, cv=4, penalty_factor=factor).fit(Xd, yd, sample_weight=sd)
    ref = GDRidgeCV(alphas=alphas, cv=KFold(4), penalty_factor=factor).fit(
        X, Y2[:, 0], sample_weight=SW
    )
    np.testing.assert_allclose(
        cv.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], atol=1e-10
    )


def test_dask_zero_factors_need_the_closed_form():
    X, Y2, SW = _data()
    Xd, yd = da.from_array(X, chunks=40), da.from_array(Y2[:, 0], chunks=40)
    with pytest.raises(ValueError, match="solved in closed form"):
        GDRidgeRegressor(penalty_factor=MIXED, solver="gd").fit(Xd, yd)


@pytest.mark.parametrize("factor", [MIXED, POSITIVE], ids=["zeros", "positive"])
def test_array_api_strict(factor):
    X, Y2, SW = _data()
    xps = pytest.importorskip("array_api_strict")
    from sklearn import config_context

    with config_context(array_api_dispatch=True):
        est = GDRidgeRegressor(alpha=3.0, penalty_factor=factor).fit(
            xps.asarray(X), xps.asarray(Y2)
        )
        assert type(est.coef_).__module__.startswith("array_api_strict")
        coef = np.asarray(est.coef_)
    W, _ = oracle(X, Y2, 3.0, factor)
    assert rel(coef, W) < 1e-10


def test_dict_by_index_and_by_feature_name():
    X, Y2, SW = _data()
    pd = pytest.importorskip("pandas")
    names = [f"x{j}" for j in range(P)]
    df = pd.DataFrame(X, columns=names)
    by_name = GDRidgeRegressor(penalty_factor={"x1": 0.0, "x4": 0.0, "x2": 2.0}).fit(df, Y2)
    by_index = GDRidgeRegressor(penalty_factor={1: 0.0, 4: 0, 2: 2.0}).fit(X, Y2)
    f = np.array([1.0, 0.0, 2.0, 1.0, 0.0, 1.0])
    W, _ = oracle(X, Y2, 1.0, f)
    assert rel(by_name.coef_, W) < 1e-10 and rel(by_index.coef_, W) < 1e-10


@pytest.mark.parametrize(
    "factor, match",
    [
        (np.ones(P + 1), r"shape \(n_features,\) = \(6,\)"),
        (np.r_[-1.0, np.ones(P - 1)], "finite and >= 0"),
        (np.r_[np.nan, np.ones(P - 1)], "finite and >= 0"),
        ({9: 0.0}, "names column 9"),
        ({"nope": 0.0}, "neither a column index nor a feature name"),
    ],
)
def test_bad_penalty_factor_is_a_clear_error(factor, match):
    X, Y2, SW = _data()
    with pytest.raises(ValueError, match=match):
        GDRidgeRegressor(penalty_factor=factor).fit(X, Y2)
    with pytest.raises(ValueError, match=match):
        GDRidgeCV(penalty_factor=factor, cv=3).fit(X, Y2[:, 0])


def test_zeros_with_positive_is_refused_positive_factors_work():
    X, Y2, SW = _data()
    with pytest.raises(ValueError, match="cannot be combined with positive=True"):
        GDRidgeRegressor(positive=True, penalty_factor=MIXED).fit(X, Y2[:, 0])
    est = GDRidgeRegressor(positive=True, penalty_factor=POSITIVE).fit(X, Y2[:, 0])
    d = 1.0 / np.sqrt(POSITIVE)
    ref = Ridge(alpha=1.0, positive=True, solver="lbfgs", tol=1e-12).fit(X * d, Y2[:, 0])
    assert np.all(est.coef_ >= 0)
    assert rel(est.coef_, ref.coef_ * d) < 1e-5


@pytest.mark.parametrize("factor", [MIXED, POSITIVE], ids=["zeros", "positive"])
def test_inference_matches_the_augmented_sandwich(factor):
    """Standard errors from the augmented design A = [1, X] and penalty
    L = diag(0, alpha f): Cov = sigma2 (A'SA + L)^-1 A'SA (A'SA + L)^-1, with
    sigma2 = RSS / (S - tr(2H - H^2)), H = A (A'SA + L)^-1 A'S."""
    X, Y2, SW = _data()
    y, alpha = Y2[:, 0], 4.0
    est = GDRidgeRegressor(alpha=alpha, penalty_factor=factor).fit(X, y, sample_weight=SW)
    inf = est.inference(X, y, sample_weight=SW)
    A = np.c_[np.ones(N), X]
    AtSA = A.T @ (SW[:, None] * A)
    Minv = np.linalg.inv(AtSA + np.diag(np.r_[0.0, alpha * factor]))
    H = A @ Minv @ A.T * SW[None, :]
    theta = Minv @ A.T @ (SW * y)
    rss = np.sum(SW * (y - A @ theta) ** 2)
    nu = SW.sum() - np.trace(2 * H - H @ H)
    cov = rss / nu * Minv @ AtSA @ Minv
    se = np.sqrt(np.diag(cov))
    assert inf.dof == pytest.approx(np.trace(H) - 1.0, rel=1e-10)
    assert inf.residual_dof == pytest.approx(nu, rel=1e-10)
    np.testing.assert_allclose(inf.coef_se, se[1:], rtol=1e-9)
    assert inf.intercept_se == pytest.approx(se[0], rel=1e-9)


def test_streamed_inference_uses_the_stream_statistics():
    X, Y2, SW = _data()
    est = GDRidgeRegressor(alpha=4.0, penalty_factor=MIXED, solver="closed_form")
    for rows in np.array_split(np.arange(N), 3):
        est.partial_fit(X[rows], Y2[rows, 0])
    from_rows = GDRidgeRegressor(alpha=4.0, penalty_factor=MIXED).fit(X, Y2[:, 0])
    np.testing.assert_allclose(
        est.inference().coef_se, from_rows.inference(X, Y2[:, 0]).coef_se, rtol=1e-9
    )


@pytest.mark.parametrize("solver", [SGD(), SGD(early_stopping=True), "gd"], ids=str)
def test_dask_positive_factors_equal_the_rescaled_columns(solver):
    """On dask arrays, positive factors (whether the solver streams partial_fit over
    chunks, or solves a problem) give exactly the fit on the rescaled columns."""
    X, Y2, SW = _data()
    d = 1.0 / np.sqrt(POSITIVE)
    Xd, yd = da.from_array(X, chunks=40), da.from_array(Y2[:, 0], chunks=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = GDRidgeRegressor(alpha=3.0, penalty_factor=POSITIVE, solver=solver,
                               random_state=0).fit(Xd, yd)
        ref = GDRidgeRegressor(alpha=3.0, solver=solver, random_state=0).fit(Xd * d, yd)
    np.testing.assert_allclose(est.coef_, ref.coef_ * d, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("factor", [MIXED, POSITIVE], ids=["zeros", "positive"])
def test_effective_dof_is_the_hat_matrix_trace(factor):
    X, Y2, SW = _data()
    from l2gd import effective_dof

    A = np.c_[np.ones(N), X]
    alphas = np.array([0.0, 1.0, 100.0])
    for stats_input in (False, True):
        data = RidgeStats.from_batch(X, Y2[:, 0], SW) if stats_input else X
        kw = {} if stats_input else {"sample_weight": SW}
        got = effective_dof(data, alphas, penalty_factor=factor, **kw)
        for a, g in zip(alphas, got):
            M = A.T @ (SW[:, None] * A) + np.diag(np.r_[0.0, a * factor])
            H = A @ np.linalg.solve(M, A.T * SW[None, :])
            assert g == pytest.approx(np.trace(H) - 1.0, rel=1e-10)
