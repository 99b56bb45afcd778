"""Ridge statistics (l2gd._inference) against independent float64 oracles built here:
explicit traces and inverses, an OLS with an intercept column, MASS lm.ridge's SVD code."""

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats as scipy_stats
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from l2gd import (
    GDRidgeRegressor,
    RidgeInference,
    RidgeStats,
    alpha_estimates,
    alpha_for_dof,
    effective_dof,
)
from l2gd._inference import dof_from_eigenvalues, gcv_score, residual_dof_from_eigenvalues

ALPHAS = np.array([0.0, 1e-3, 0.3, 2.0, 50.0, 1e4])


def _data(n=40, p=5, k=None, seed=0, sparse=False, scales=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 1.5
    if scales is not None:
        X = X * np.asarray(scales)
    if sparse:
        X[rng.random(X.shape) < 0.5] = 0.0
    shape = (p,) if k is None else (p, k)
    y = X @ rng.standard_normal(shape) + 2.0 + 0.7 * rng.standard_normal((n,) + shape[1:])
    return (sp.csr_matrix(X) if sparse else X), y


def _weights(n, seed=1):
    return np.random.default_rng(seed).uniform(0.2, 3.0, n)


def _dense(X):
    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)


def _weighted_design(X, sw, fit_intercept):
    """``A = S^{1/2} X_c`` and the weights, explicitly."""
    X = _dense(X)
    s = np.ones(len(X)) if sw is None else np.asarray(sw, dtype=np.float64)
    Xc = X - (s @ X) / s.sum() if fit_intercept else X
    return np.sqrt(s)[:, None] * Xc, s


def _oracle_dof(X, alpha, sw=None, fit_intercept=True):
    """The trace by an explicit inverse (rank by SVD at alpha = 0)."""
    A, _ = _weighted_design(X, sw, fit_intercept)
    if alpha == 0:
        return float(np.linalg.matrix_rank(A))
    p = A.shape[1]
    return float(np.trace(A @ np.linalg.solve(A.T @ A + alpha * np.eye(p), A.T)))


def _mp_dof(X, alpha, digits=60):
    """The trace in 60-digit arithmetic (mpmath), centering included: the
    oracle for mixed-scale columns, where a float64 Gram matrix loses the
    small eigenvalues."""
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(digits):
        M = mpmath.matrix(X.tolist())
        n, p = X.shape
        for j in range(p):
            m = mpmath.fsum(M[i, j] for i in range(n)) / n
            for i in range(n):
                M[i, j] -= m
        G = M.T * M
        H = G * mpmath.inverse(G + alpha * mpmath.eye(p))
        return float(mpmath.fsum(H[j, j] for j in range(p)))


def _oracle_inference(X, y, alpha, sw=None, fit_intercept=True):
    """Ridge fit, hat matrix, sigma2 and covariances by explicit inverses (one target)."""
    A, s = _weighted_design(X, sw, fit_intercept)
    X = _dense(X)
    n, p = X.shape
    S = s.sum()
    G = A.T @ A
    Minv = np.linalg.inv(G + alpha * np.eye(p))
    ym = s @ y / S if fit_intercept else 0.0
    w = Minv @ (A.T @ (np.sqrt(s) * (y - ym)))
    xm = s @ X / S if fit_intercept else np.zeros(p)
    b = ym - xm @ w if fit_intercept else 0.0
    r = y - X @ w - b
    u = np.sqrt(s)
    H = A @ Minv @ A.T + (np.outer(u, u) / S if fit_intercept else 0.0)
    nu = S - np.trace(2 * H - H @ H)
    sigma2 = np.sum(s * r * r) / nu
    cov = sigma2 * Minv @ G @ Minv
    b_var = sigma2 / S + xm @ cov @ xm
    return dict(
        coef=w, intercept=b, sigma2=sigma2, nu=nu, cov=cov, se=np.sqrt(np.diag(cov)),
        b_se=np.sqrt(b_var), xm=xm, S=S, dof=np.trace(A @ Minv @ A.T),
    )


# ---------------------------------------------------------------------------
# effective_dof and alpha_for_dof
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(40, 5), (12, 30)])
def test_effective_dof_matches_explicit_trace(sparse, fit_intercept, weighted, shape):
    X, _ = _data(*shape, sparse=sparse)
    sw = _weights(shape[0]) if weighted else None
    got = effective_dof(X, ALPHAS, sample_weight=sw, fit_intercept=fit_intercept)
    want = [_oracle_dof(X, a, sw, fit_intercept) for a in ALPHAS]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    assert got[0] == min(shape[0] - fit_intercept, shape[1])  # alpha = 0: the rank
    assert isinstance(effective_dof(X, 1.0, sample_weight=sw, fit_intercept=fit_intercept), float)


def test_effective_dof_mixed_scales_against_extended_precision():
    # Columns of scales 1e-6..1e6: the rank is the centered, column-scaled one
    # (4; on the raw Gram matrix the smallest eigenvalue is below rounding
    # noise), and every eigenvalue counts to full relative accuracy.
    X, _ = _data(50, 4, scales=[1e-6, 1.0, 1e3, 1e6])
    assert effective_dof(X, 0.0) == 4.0
    alphas = [1e-14, 1e-9, 1e-3, 1.0, 1e6, 1e14]
    want = [_mp_dof(X, a) for a in alphas]
    np.testing.assert_allclose(effective_dof(X, alphas), want, rtol=1e-12)
    a = alpha_for_dof(X, 3.5)
    assert effective_dof(X, a) == pytest.approx(3.5, rel=1e-12)


def test_effective_dof_rank_deficient():
    X, _ = _data(30, 4)
    X = np.hstack([X, X[:, :2] @ np.array([[2.0], [-1.0]])])  # 5 columns, rank 4
    assert effective_dof(X, 0.0) == 4.0 == effective_dof(sp.csr_matrix(X), 0.0)
    want = [_oracle_dof(X, a) for a in [1e-6, 1.0]]
    np.testing.assert_allclose(effective_dof(X, [1e-6, 1.0]), want, rtol=1e-9)
    with pytest.raises(ValueError, match=r"\(0, 4\]"):
        alpha_for_dof(X, 4.5)


def test_effective_dof_accepts_stats_and_intercept_dof_is_separate():
    X, y = _data(30, 4)
    stats = RidgeStats.from_batch(X, y)
    np.testing.assert_allclose(effective_dof(stats, ALPHAS), effective_dof(X, ALPHAS), rtol=1e-12)
    # The hat matrix's trace is dof + 1 with an intercept.
    est = GDRidgeRegressor(alpha=2.0).fit(X, y)
    assert est.inference(X, y).dof == pytest.approx(_oracle_dof(X, 2.0), rel=1e-10)


def test_effective_dof_weights_equal_repetitions():
    X, _ = _data(20, 4)
    reps = np.random.default_rng(3).integers(0, 4, 20)
    reps[0] = 1
    got = effective_dof(X, ALPHAS, sample_weight=reps.astype(float))
    want = effective_dof(np.repeat(X, reps, axis=0), ALPHAS)
    np.testing.assert_allclose(got, want, rtol=1e-10)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("shape", [(40, 5), (12, 30)])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_alpha_for_dof_inverts_effective_dof(sparse, shape, fit_intercept):
    X, _ = _data(*shape, sparse=sparse)
    sw = _weights(shape[0])
    kw = dict(sample_weight=sw, fit_intercept=fit_intercept)
    alphas = np.array([1e-2, 0.5, 3.0, 40.0, 1e3])
    dofs = effective_dof(X, alphas, **kw)
    np.testing.assert_allclose(alpha_for_dof(X, dofs, **kw), alphas, rtol=1e-8)
    assert alpha_for_dof(X, float(dofs[2]), **kw) == pytest.approx(alphas[2], rel=1e-8)
    rank = effective_dof(X, 0.0, **kw)
    assert alpha_for_dof(X, rank, **kw) == 0.0


def test_alpha_for_dof_equal_eigenvalues_and_errors():
    X = np.vstack([np.eye(3), -np.eye(3)])  # centered Gram 2 I: all eigenvalues equal
    assert alpha_for_dof(X, 1.5) == pytest.approx(2.0, rel=1e-12)  # 3 * 2 / (2 + a) = 1.5
    for bad in (0.0, -1.0, 3.5):
        with pytest.raises(ValueError, match=r"dof must be"):
            alpha_for_dof(X, bad)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        effective_dof(X, -1.0)
    with pytest.raises(ValueError, match="alpha must be finite"):
        effective_dof(X, np.nan)
    with pytest.raises(TypeError, match="alpha"):
        effective_dof(X, "big")


# ---------------------------------------------------------------------------
# GCV and residual degrees of freedom on a spectrum
# ---------------------------------------------------------------------------
def test_gcv_score_matches_mass_definition_by_brute_force():
    X, y = _data(30, 6)
    alphas = np.array([0.0, 0.1, 1.0, 10.0, 100.0])
    A, s = _weighted_design(X, None, True)
    L = np.linalg.eigvalsh(A.T @ A)
    rss, dof = [], []
    for a in alphas:
        o = _oracle_inference(X, y, a)
        rss.append(o["sigma2"] * o["nu"])
        dof.append(o["dof"])
    rss, dof = np.array(rss), np.array(dof)
    want = rss / (30 - dof) ** 2  # MASS: colSums(resid^2) / (n - df)^2
    np.testing.assert_allclose(gcv_score(rss, dof_from_eigenvalues(L, alphas), 30), want, rtol=1e-9)
    two = gcv_score(np.column_stack([rss, 2 * rss]), dof, 30.0)
    np.testing.assert_allclose(two, np.column_stack([want, 2 * want]), rtol=1e-12)
    assert gcv_score([1.0, 0.0], [30.0, 31.0], 30.0).tolist() == [np.inf, np.inf]


def test_residual_dof_from_eigenvalues():
    L = np.array([5.0, 2.0, 0.5])
    a = np.array([0.0, 1.0])
    d = L[None] / (L[None] + a[:, None])
    want = 20.0 - 1.0 - (2 * d - d * d).sum(1)
    np.testing.assert_allclose(residual_dof_from_eigenvalues(L, a, 20.0, True), want)
    assert residual_dof_from_eigenvalues(L, [0.0], 20.0, False)[0] == 17.0


# ---------------------------------------------------------------------------
# Inference
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_inference_matches_explicit_formulas(sparse, fit_intercept, weighted):
    X, y = _data(40, 5, sparse=sparse)
    sw = _weights(40) if weighted else None
    alpha = 3.0
    est = GDRidgeRegressor(alpha=alpha, fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
    inf = est.inference(X, y, sample_weight=sw)
    o = _oracle_inference(X, y, alpha, sw, fit_intercept)
    np.testing.assert_allclose(est.coef_, o["coef"], rtol=1e-10)
    assert inf.dof == pytest.approx(o["dof"], rel=1e-10)
    assert inf.residual_dof == pytest.approx(o["nu"], rel=1e-10)
    assert inf.sigma2 == pytest.approx(o["sigma2"], rel=1e-9)
    np.testing.assert_allclose(inf.coef_cov, o["cov"], rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(inf.coef_se, o["se"], rtol=1e-9)
    if fit_intercept:
        assert inf.intercept_se == pytest.approx(o["b_se"], rel=1e-9)
    else:
        assert inf.intercept_se is None and inf.intercept_conf_int() is None
    q = scipy_stats.t.ppf(0.95, o["nu"])  # level 0.9
    np.testing.assert_allclose(
        inf.conf_int(0.9), np.column_stack([o["coef"] - q * o["se"], o["coef"] + q * o["se"]]),
        rtol=1e-9,
    )
    # Prediction intervals at new rows, against the explicit variance.
    Xn = _dense(_data(7, 5, seed=5)[0])
    pred = Xn @ o["coef"] + o["intercept"]
    xc = Xn - o["xm"]
    var = np.einsum("ij,jk,ik->i", xc, o["cov"], xc) + o["sigma2"] * (
        fit_intercept / o["S"] + 1.0
    )
    got = inf.prediction_interval(sp.csr_matrix(Xn) if sparse else Xn, level=0.9)
    half = q * np.sqrt(var)
    np.testing.assert_allclose(got, np.column_stack([pred - half, pred + half]), rtol=1e-9)
    mean = inf.prediction_interval(Xn, level=0.9, mean=True)
    assert np.all(mean[:, 1] - mean[:, 0] < got[:, 1] - got[:, 0])


def _ols_oracle(X, y, sw=None, fit_intercept=True):
    """Weighted OLS with an explicit intercept column and (X1^T W X1)^-1."""
    X = _dense(X)
    n, p = X.shape
    s = np.ones(n) if sw is None else sw
    X1 = np.column_stack([np.ones(n), X]) if fit_intercept else X
    inv = np.linalg.inv(X1.T @ (s[:, None] * X1))
    beta = inv @ (X1.T @ (s * y))
    r = y - X1 @ beta
    sigma2 = np.sum(s * r * r) / (s.sum() - X1.shape[1])
    return beta, np.sqrt(sigma2 * np.diag(inv)), sigma2, s.sum() - X1.shape[1]


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_alpha_zero_is_ordinary_least_squares(fit_intercept, weighted):
    X, y = _data(30, 4)
    sw = _weights(30) if weighted else None
    inf = GDRidgeRegressor(alpha=0.0, fit_intercept=fit_intercept).fit(
        X, y, sample_weight=sw
    ).inference(X, y, sample_weight=sw)
    beta, se, sigma2, nu = _ols_oracle(X, y, sw, fit_intercept)
    assert inf.dof == 4.0 and inf.residual_dof == pytest.approx(nu, rel=1e-13)
    assert inf.sigma2 == pytest.approx(sigma2, rel=1e-10)
    np.testing.assert_allclose(inf.coef_se, se[1:] if fit_intercept else se, rtol=1e-10)
    if fit_intercept:
        assert inf.intercept_se == pytest.approx(se[0], rel=1e-10)
    q = scipy_stats.t.ppf(0.975, nu)
    b = beta[1:] if fit_intercept else beta
    s_ = se[1:] if fit_intercept else se
    np.testing.assert_allclose(inf.conf_int(), np.column_stack([b - q * s_, b + q * s_]), rtol=1e-9)


def test_multi_target_with_alpha_per_target():
    X, Y = _data(40, 5, k=3, sparse=True)
    sw = _weights(40)
    alpha = np.array([0.0, 1.0, 30.0])
    est = GDRidgeRegressor(alpha=alpha).fit(X, Y, sample_weight=sw)
    inf = est.inference(X, Y, sample_weight=sw)
    assert inf.coef_cov.shape == (3, 5, 5) and inf.coef_se.shape == (3, 5)
    assert inf.conf_int().shape == (3, 5, 2) and inf.intercept_se.shape == (3,)
    assert inf.prediction_interval(X[:4]).shape == (4, 3, 2)
    for k in range(3):
        o = _oracle_inference(X, Y[:, k], alpha[k], sw)
        np.testing.assert_allclose(inf.coef_se[k], o["se"], rtol=1e-9)
        assert inf.intercept_se[k] == pytest.approx(o["b_se"], rel=1e-9)
        assert inf.dof[k] == pytest.approx(o["dof"], rel=1e-10)
        assert inf.sigma2[k] == pytest.approx(o["sigma2"], rel=1e-9)
    text = inf.summary()
    assert text.count("target ") == 3 and "intercept" in text


def test_weights_equal_repetitions():
    X, y = _data(25, 4)
    reps = np.random.default_rng(4).integers(0, 4, 25)
    reps[:2] = 1
    a = GDRidgeRegressor(alpha=2.0).fit(X, y, sample_weight=reps.astype(float))
    inf_w = a.inference(X, y, sample_weight=reps.astype(float))
    Xr, yr = np.repeat(X, reps, axis=0), np.repeat(y, reps)
    inf_r = GDRidgeRegressor(alpha=2.0).fit(Xr, yr).inference(Xr, yr)
    for name in ("dof", "residual_dof", "sigma2", "intercept_se"):
        assert getattr(inf_w, name) == pytest.approx(getattr(inf_r, name), rel=1e-9), name
    np.testing.assert_allclose(inf_w.coef_se, inf_r.coef_se, rtol=1e-9)


def test_inference_from_statistics_alone():
    X, y = _data(60, 4)
    want = GDRidgeRegressor(alpha=1.5, solver="closed_form").fit(X, y).inference(X, y)
    est = GDRidgeRegressor(alpha=1.5, solver="closed_form")
    for rows in np.array_split(np.arange(60), 3):
        est.partial_fit(X[rows], y[rows])
    stats = RidgeStats.from_batch(X, y)
    fitted = GDRidgeRegressor(alpha=1.5, solver="closed_form").fit(X, y)
    for inf in (est.inference(), GDRidgeRegressor.from_stats(stats, alpha=1.5).inference(),
                fitted.inference()):
        assert inf.sigma2 == pytest.approx(want.sigma2, rel=1e-9)
        np.testing.assert_allclose(inf.coef_se, want.coef_se, rtol=1e-9)
        assert inf.intercept_se == pytest.approx(want.intercept_se, rel=1e-9)


def test_inference_on_dask_is_one_pass_over_statistics():
    da = pytest.importorskip("dask.array")
    X, y = _data(60, 4)
    est = GDRidgeRegressor(alpha=1.0).fit(X, y)
    want = est.inference(X, y)
    got = est.inference(da.from_array(X, chunks=20), da.from_array(y, chunks=20))
    np.testing.assert_allclose(got.coef_se, want.coef_se, rtol=1e-9)
    assert got.sigma2 == pytest.approx(want.sigma2, rel=1e-9)


def test_float32_and_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = _data(40, 3)
    df = pd.DataFrame(X.astype(np.float32), columns=["age", "dose", "weight"])
    inf = GDRidgeRegressor(alpha=1.0).fit(df, y.astype(np.float32)).inference(df, y)
    o = _oracle_inference(X.astype(np.float32), y.astype(np.float32), 1.0)
    np.testing.assert_allclose(inf.coef_se, o["se"], rtol=1e-4)
    assert inf.feature_names == ("age", "dose", "weight")
    assert "dose" in inf.summary()


def test_inference_result_is_read_only():
    X, y = _data(30, 3)
    inf = GDRidgeRegressor().fit(X, y).inference(X, y)
    assert isinstance(inf, RidgeInference)
    with pytest.raises(dataclasses.FrozenInstanceError):
        inf.sigma2 = 1.0
    with pytest.raises(ValueError, match="read-only"):
        inf.coef_se[0] = 0.0
    assert "RidgeInference(n_features=3" in repr(inf)


def test_summary_table():
    X, y = _data(50, 3)
    inf = GDRidgeRegressor(alpha=0.0).fit(X, y).inference(X, y)
    lines = inf.summary(level=0.9).splitlines()
    assert lines[0].startswith("ridge alpha=0, dof=3 (+1 intercept), residual dof=46")
    assert lines[1].split() == ["coef", "se", "t", "[5%", "95%]"]
    assert [line.split()[0] for line in lines[2:]] == ["intercept", "x0", "x1", "x2"]
    _, se, _, _ = _ols_oracle(X, y)
    t_x0 = float(lines[3].split()[3])
    assert t_x0 == pytest.approx(inf.coef[0] / se[1], abs=1e-3)


def test_inference_errors():
    X, y = _data(30, 3)
    with pytest.raises(NotFittedError):
        GDRidgeRegressor().inference(X, y)
    gd = GDRidgeRegressor(solver="gd").fit(X, y)
    with pytest.raises(ValueError, match="kept none; pass the training data"):
        gd.inference()
    assert gd.inference(X, y).coef_se.shape == (3,)
    est = GDRidgeRegressor().fit(X, y)
    with pytest.raises(ValueError, match="y is required"):
        est.inference(X)
    with pytest.raises(ValueError, match="need X"):
        est.inference(y=y)
    with pytest.raises(ValueError, match="features"):
        est.inference(X[:, :2], y)
    inf = est.inference(X, y)
    for level in (0.0, 1.0, 1.5, -0.1, "0.9", True):
        with pytest.raises(ValueError, match="level must be"):
            inf.conf_int(level)
    with pytest.raises(ValueError, match="level must be"):
        inf.prediction_interval(X, level=2)
    with pytest.raises(ValueError, match="X_new has 2 features"):
        inf.prediction_interval(X[:, :2])
    # n = p + 1 with an intercept at alpha = 0: the fit interpolates.
    Xs, ys = X[:4], y[:4]
    exact = GDRidgeRegressor(alpha=0.0).fit(Xs, ys)
    with pytest.raises(ValueError, match="No residual degrees of freedom"):
        exact.inference(Xs, ys)


# ---------------------------------------------------------------------------
# alpha_estimates: MASS lm.ridge
# ---------------------------------------------------------------------------
def _mass_lm_ridge(X, y, lam):
    """MASS::lm.ridge, line by line (intercept; SVD of the scaled design)."""
    n, p = X.shape
    Xm, Ym = X.mean(0), y.mean()
    Xc, Yc = X - Xm, y - Ym
    scale = np.sqrt((Xc**2).mean(0))
    Xs = Xc / scale
    U, d, Vt = np.linalg.svd(Xs, full_matrices=False)
    rhs = U.T @ Yc
    lscoef = Vt.T @ (rhs / d)
    lsfit = Xs @ lscoef
    s2 = np.sum((Yc - lsfit) ** 2) / (n - p - 1)
    hkb = (p - 2) * s2 / np.sum(lscoef**2)
    lw = (p - 2) * s2 * n / np.sum(lsfit**2)
    coef = Vt.T @ (d * rhs / (d**2 + lam))  # on the scaled design
    return hkb, lw, s2, scale, coef


def test_alpha_estimates_match_mass():
    X, y = _data(50, 5, scales=[1.0, 10.0, 0.1, 3.0, 1.0])
    hkb, lw, s2, scale, _ = _mass_lm_ridge(X, y, 0.0)
    est = alpha_estimates(X, y)
    assert est.hkb == pytest.approx(hkb, rel=1e-10)
    assert est.lw == pytest.approx(lw, rel=1e-10)
    assert est.sigma2 == pytest.approx(s2, rel=1e-10)
    np.testing.assert_allclose(est.scales, scale, rtol=1e-12)
    # MASS's lambda is l2gd's alpha on the standardized design.
    coef_mass = _mass_lm_ridge(X, y, est.hkb)[4]
    pipe = make_pipeline(StandardScaler(), GDRidgeRegressor(alpha=est.hkb)).fit(X, y)
    np.testing.assert_allclose(pipe[-1].coef_, coef_mass, rtol=1e-9)
    # Statistics in, and per target for 2-D y.
    via_stats = alpha_estimates(RidgeStats.from_batch(X, y))
    assert via_stats.hkb == pytest.approx(hkb, rel=1e-10)
    two = alpha_estimates(X, np.column_stack([y, 2 * y]))
    np.testing.assert_allclose(two.hkb, [hkb, hkb], rtol=1e-9)  # scale-free in y


def test_alpha_estimates_weights_equal_repetitions_and_errors():
    X, y = _data(30, 4)
    reps = np.random.default_rng(2).integers(1, 4, 30)
    got = alpha_estimates(X, y, sample_weight=reps.astype(float))
    want = alpha_estimates(np.repeat(X, reps, axis=0), np.repeat(y, reps))
    assert got.hkb == pytest.approx(want.hkb, rel=1e-10)
    assert got.lw == pytest.approx(want.lw, rel=1e-10)
    with pytest.raises(ValueError, match="at least 3 features"):
        alpha_estimates(X[:, :2], y)
    with pytest.raises(ValueError, match="full column rank"):
        alpha_estimates(np.column_stack([X, X[:, :2] @ np.array([2.0, -1.0])]), y)
    with pytest.raises(ValueError, match="residual degrees of freedom"):
        alpha_estimates(X[:5], y[:5])
    with pytest.raises(ValueError, match="y is required"):
        alpha_estimates(X)
