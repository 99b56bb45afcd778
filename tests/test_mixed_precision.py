"""Mixed precision on the closed form's Gram route (``ClosedForm(precision=...)``):
float32 Gram and factor, float64 accuracy from refinement with float64
residuals, and the guards that fall back to the float64 route."""

import warnings

import numpy as np
import pytest

from l2gd import GDRidgeRegressor, RidgeProblem
from l2gd.solvers import ClosedForm
from l2gd.solvers._mixed import MIXED_MIN_FEATURES, normal_residual64, use_mixed

from _helpers import exact_ridge, rel_err
from test_closed_form_accuracy import PROBLEMS, digits, nist_problem

MIXED = "cholesky32+refinement"


def make_tall(n=800, p=40, k=None, seed=0, scales=(0.5, 2.0), offset=3.0, cond=None):
    """Seeded tall data: column scales log-uniform in ``scales``, means up to
    ``offset``; with ``cond``, columns correlated so that the centered,
    column-scaled design has about that condition number."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if cond is not None:
        U = np.linalg.qr(rng.standard_normal((n, p)))[0]
        V = np.linalg.qr(rng.standard_normal((p, p)))[0]
        X = (U * np.logspace(0, -np.log10(cond), p)) @ V.T * np.sqrt(n)
    X = X * np.exp(rng.uniform(*np.log(scales), p)) + rng.uniform(-offset, offset, p)
    shape = (p,) if k is None else (p, k)
    y = X @ rng.standard_normal(shape) + 1.0 + rng.standard_normal((n,) + shape[1:])
    return X, y


def solve(precision, X, y, alpha=1.0, sample_weight=None, fit_intercept=True):
    Y = y.reshape(len(y), -1)
    a = np.broadcast_to(np.asarray(alpha, dtype=float), (Y.shape[1],)).copy()
    problem = RidgeProblem(X, Y, a, sample_weight=sample_weight, fit_intercept=fit_intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ClosedForm(precision=precision).solve(problem)


def errors(result, X, y, alpha, sample_weight=None, fit_intercept=True):
    coef, b = exact_ridge(X, y, alpha, sample_weight, fit_intercept)
    coef = np.reshape(coef, (-1, X.shape[1])).T
    return rel_err(result.coef, coef), rel_err(result.intercept, np.ravel(b))


WELL_CONDITIONED = {
    "plain": {},
    "weights": {"weights": True},
    "multi-target, alpha per target": {"k": 3, "alpha": [0.1, 1.0, 10.0]},
    "many targets (not fused)": {"k": 12, "p": 40},
    "no intercept": {"fit_intercept": False, "offset": 0.0},
    "column scales 1e-3..1e3": {"scales": (1e-3, 1e3), "alpha": 1e-8},
    "large means": {"offset": 1e4},
}


@pytest.mark.parametrize("case", list(WELL_CONDITIONED))
def test_mixed_is_float64_accurate_on_well_conditioned_problems(case):
    c = WELL_CONDITIONED[case]
    X, y = make_tall(p=c.get("p", 40), k=c.get("k"), scales=c.get("scales", (0.5, 2.0)),
                     offset=c.get("offset", 3.0), seed=sum(map(ord, case)))
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(X)) if c.get("weights") else None
    fi, alpha = c.get("fit_intercept", True), c.get("alpha", 1.0)
    X0, y0 = X.copy(), y.copy()
    mixed = solve("mixed", X, y, alpha, sw, fi)
    assert mixed.info["method"] == MIXED
    assert np.array_equal(X, X0) and np.array_equal(y, y0)  # caller arrays untouched
    err_w, err_b = errors(mixed, X, y, alpha, sw, fi)
    double = errors(solve("double", X, y, alpha, sw, fi), X, y, alpha, sw, fi)
    assert err_w <= 1e-12
    # The intercept b = y_mean - x_mean^T w inherits w's error times
    # |x_mean| |w| / |b| (large means): as the float64 route's, or 1e-12.
    assert err_b <= max(1e-12, 4 * double[1])
    # As accurate as the float64 route, to a few units of rounding.
    assert err_w <= 4 * double[0] + 1e-14 and err_b <= 4 * double[1] + 1e-14
    # The objective reported is the objective at the returned coefficients.
    problem = RidgeProblem(X, y.reshape(len(y), -1), np.broadcast_to(alpha, mixed.coef.shape[1:]),
                           sample_weight=sw, fit_intercept=fi)
    assert mixed.history[0] == pytest.approx(problem.value(mixed.coef), rel=1e-10)


ILL_CONDITIONED = {
    "cond 1e6": {"cond": 1e6, "alpha": 1e-8},
    "cond 1e10": {"cond": 1e10, "alpha": 0.0},
    "rank deficient": {"rank_deficient": True, "alpha": 0.0},
    "rank deficient, tiny alpha": {"rank_deficient": True, "alpha": 1e-10},
    "huge column scale": {"big": 1e25},
    "tiny column scale": {"big": 1e-25},
    "cond 1e6, weights, multi-target, no intercept": {
        "cond": 1e6, "alpha": 1e-8, "weights": True, "k": 2, "fit_intercept": False},
    "sorted rows, trend": {"sorted": "trend"},
    "sorted rows, exponential": {"sorted": "exp"},
}


@pytest.mark.parametrize("case", list(ILL_CONDITIONED))
def test_mixed_is_never_less_accurate_than_double(case):
    c = ILL_CONDITIONED[case]
    X, y = make_tall(n=4000 if "sorted" in c else 800, k=c.get("k"), cond=c.get("cond"))
    if c.get("rank_deficient"):
        X[:, 5] = 3.0 * X[:, 2] - X[:, 7]
    if "big" in c:
        X[:, 0] *= c["big"]
    # Sorted rows: the first rows' means are far from the means.
    if c.get("sorted") == "trend":
        X[:, 1] = np.arange(len(X), dtype=float)
    if c.get("sorted") == "exp":
        X[:, 1] = np.exp(np.linspace(0, 30, len(X)))
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(X)) if c.get("weights") else None
    fi, alpha = c.get("fit_intercept", True), c.get("alpha", 1.0)
    mixed = solve("mixed", X, y, alpha, sw, fi)
    double = solve("double", X, y, alpha, sw, fi)
    if mixed.info["method"] != MIXED:  # the guard fell back: the float64 route's answer
        assert mixed.info["method"] == double.info["method"]
        np.testing.assert_array_equal(mixed.coef, double.coef)
        np.testing.assert_array_equal(mixed.intercept, double.intercept)
        return
    err_m = errors(mixed, X, y, alpha, sw, fi)
    err_d = errors(double, X, y, alpha, sw, fi)
    assert err_m[0] <= 2 * err_d[0] + 1e-14 and err_m[1] <= 2 * err_d[1] + 1e-14


@pytest.mark.parametrize("cond", [1e6, 1e10])
def test_condition_guard_falls_back_on_ill_conditioned_data(cond):
    X, y = make_tall(cond=cond)
    assert solve("mixed", X, y, 1e-8).info["method"] != MIXED


def test_float32_overflow_falls_back():
    X, y = make_tall()
    X[:, 3] *= 1e25  # squares beyond float32's range
    with np.errstate(over="ignore"):
        assert solve("mixed", X, y).info["method"] == solve("double", X, y).info["method"]


@pytest.mark.parametrize("name", PROBLEMS)
def test_mixed_has_as_many_nist_digits_as_double(name):
    """Coefficients: at least the float64 route's digits. Intercept: its error
    at most the float64 route's plus the rounding of ``b = y_mean - x_mean^T w``
    itself (a few eps of ``|y_mean| + |x_mean^T w|``, relative to ``|b|``),
    which no coefficient accuracy removes."""
    X, y, fi, beta = nist_problem(name)
    coef, err_b = {}, {}
    for precision in ("mixed", "double"):
        est = GDRidgeRegressor(alpha=0.0, fit_intercept=fi, solver=ClosedForm(precision=precision))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        coef[precision] = digits(est.coef_, beta[1:] if fi else beta)
        if fi:
            err_b[precision] = abs(est.intercept_ - beta[0]) / abs(beta[0])
    assert coef["mixed"] >= coef["double"]
    if fi:
        m = X.mean(axis=0)
        rounding = 4 * np.finfo(float).eps * (abs(y.mean()) + np.abs(m) @ np.abs(beta[1:]))
        assert err_b["mixed"] <= err_b["double"] + rounding / abs(beta[0])


def test_normal_residual64_matches_the_centered_expression():
    X, Y = make_tall(n=300, p=7, k=2, offset=50.0)
    sw = np.random.default_rng(2).uniform(0.0, 3.0, 300)
    W = np.random.default_rng(3).standard_normal((7, 2))
    alpha = np.array([0.5, 2.0])
    for fi in (True, False):
        problem = RidgeProblem(X, Y, alpha, sample_weight=sw, fit_intercept=fi)
        m = np.average(X, axis=0, weights=sw) if fi else np.zeros(7)
        ym = np.average(Y, axis=0, weights=sw) if fi else np.zeros(2)
        R = (Y - ym) - (X - m) @ W
        expected = (X - m).T @ (sw[:, None] * R) - alpha * W
        G, rss, d = normal_residual64(problem, W, X[:20].mean(axis=0), means=True)
        np.testing.assert_allclose(G, expected, rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(rss, np.einsum("ij,ij->j", sw[:, None] * R, R), rtol=1e-11)
        np.testing.assert_allclose(d, m - X[:20].mean(axis=0) if fi else 0.0, atol=1e-12)


def test_rule_applies_to_float64_dense_tall_data_only():
    X, y = make_tall(n=400, p=40)
    Y = y[:, None]
    one = np.array([1.0])
    assert use_mixed(RidgeProblem(X, Y, one), "mixed")
    assert not use_mixed(RidgeProblem(X, Y, one), "double")
    assert not use_mixed(RidgeProblem(X.astype(np.float32), Y.astype(np.float32), one), "mixed")
    assert not use_mixed(RidgeProblem(X[:100], Y[:100], one), "mixed")  # n < 4 p
    import scipy.sparse as sp

    assert not use_mixed(RidgeProblem(sp.csr_matrix(X), Y, one), "mixed")
    # "auto": from MIXED_MIN_FEATURES features, and only where no statistics are kept.
    Xw, yw = make_tall(n=8 * MIXED_MIN_FEATURES, p=MIXED_MIN_FEATURES)
    problem = RidgeProblem(Xw, yw[:, None], one)
    assert not use_mixed(problem, "auto")
    problem.keep_stats = False
    assert use_mixed(problem, "auto")
    assert ClosedForm().solve(problem).info["method"] == MIXED
    small = RidgeProblem(X, Y, one)
    small.keep_stats = False
    assert not use_mixed(small, "auto")


def test_default_fit_keeps_statistics_for_partial_fit():
    """precision="auto" stays in float64 in an estimator's fit: the statistics
    are kept and partial_fit continues from fit's rows."""
    X, y = make_tall(n=4 * MIXED_MIN_FEATURES + 100, p=MIXED_MIN_FEATURES)
    est = GDRidgeRegressor(alpha=1.0).fit(X[:-100], y[:-100])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.partial_fit(X[-100:], y[-100:])
    # Invariance: continuing from fit's statistics is fitting all the rows.
    full = GDRidgeRegressor(alpha=1.0).fit(X, y)
    assert rel_err(est.coef_, full.coef_) <= 1e-10
    assert rel_err(est.intercept_, full.intercept_) <= 1e-10


def test_mixed_fit_keeps_no_statistics_and_says_so(capsys):
    X, y = make_tall(n=500, p=40)
    sw = np.random.default_rng(4).uniform(0.5, 2.0, 500)
    est = GDRidgeRegressor(alpha=1.0, solver=ClosedForm(precision="mixed"), verbose=1)
    est.fit(X[:400], y[:400], sample_weight=sw[:400])
    assert MIXED in capsys.readouterr().out  # the route the fit took
    coef, _ = exact_ridge(X[:400], y[:400], 1.0, sw[:400])
    assert rel_err(est.coef_, coef) <= 1e-12
    with pytest.raises(ValueError, match="kept none"):
        est.inference()
    inf = est.inference(X[:400], y[:400], sw[:400])  # with the data it works
    assert inf.coef_se.shape == (40,)
    with pytest.warns(UserWarning, match="new stream"):
        est.partial_fit(X[400:], y[400:], sample_weight=sw[400:])
    coef, _ = exact_ridge(X[400:], y[400:], 1.0, sw[400:])
    assert rel_err(est.coef_, coef) <= 1e-10


def test_statistics_already_formed_are_reused_not_recomputed_in_float32():
    X, y = make_tall(n=800, p=40)
    problem = RidgeProblem(X, y[:, None], np.array([1.0]))
    first = ClosedForm(precision="double").solve(problem)  # forms problem's statistics
    assert not use_mixed(problem, "mixed")
    again = ClosedForm(precision="mixed").solve(problem)
    assert again.info["method"] == first.info["method"] != MIXED
    np.testing.assert_allclose(again.coef, first.coef, rtol=1e-12)


@pytest.mark.parametrize("bad", ["single", "float32", None, 1])
def test_precision_is_validated(bad):
    X, y = make_tall(n=100, p=4)
    with pytest.raises(ValueError, match="precision must be one of"):
        GDRidgeRegressor(solver=ClosedForm(precision=bad)).fit(X, y)


def test_precision_is_a_grid_searchable_parameter():
    solver = ClosedForm(precision="mixed")
    assert solver.get_params()["precision"] == "mixed"
    assert solver.set_params(precision="double").precision == "double"


def test_unweighted_fit_with_precision_mixed_takes_the_mixed_route(capsys):
    """The estimator forms the float64 statistics before the solver on dense
    unweighted data (one pass over X); with ``precision="mixed"`` that pass is
    the float32 Gram's instead, so the route asked for is the route taken."""
    X, y = make_tall(n=500, p=40)
    est = GDRidgeRegressor(alpha=1.0, solver=ClosedForm(precision="mixed"), verbose=1).fit(X, y)
    assert MIXED in capsys.readouterr().out
    coef, intercept = exact_ridge(X, y, 1.0)
    assert rel_err(est.coef_, coef) <= 1e-12
