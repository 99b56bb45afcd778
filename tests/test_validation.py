"""Bad input gets a clear error; the caller's arrays are never modified."""

import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import make_regression_data

from l2gd import GDRidgeRegressor
from l2gd.solvers import ClosedForm


def fit(X, y, sample_weight=None, **params):
    return GDRidgeRegressor(**params).fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("solver", ["closed_form", "gd"])
@pytest.mark.parametrize(
    "mutate, exc, match",
    [
        (lambda X, y, w: (np.where(np.eye(*X.shape, dtype=bool), np.nan, X), y, w),
         ValueError, "NaN"),
        (lambda X, y, w: (np.where(np.eye(*X.shape, dtype=bool), np.inf, X), y, w),
         ValueError, "infinity"),
        (lambda X, y, w: (X, np.where(np.arange(len(y)) == 0, np.nan, y), w), ValueError, "NaN"),
        (lambda X, y, w: (X[:-1], y, w), ValueError, "inconsistent numbers of samples"),
        (lambda X, y, w: (X, y, w[:-1]), ValueError, "sample_weight.shape"),
        (lambda X, y, w: (X, y, np.vstack([w, w]).T), ValueError, "1D"),
        (lambda X, y, w: (X, y, -w), ValueError, "[Nn]egative"),
        (lambda X, y, w: (X, y, 0 * w), ValueError, "[Ss]ample.weight"),
        (lambda X, y, w: (X[:0], y[:0], None), ValueError, "0 sample"),
        (lambda X, y, w: (X.astype(str).astype(object) + "x", y, w), ValueError, "float"),
        (lambda X, y, w: (X, y.astype(str).astype(object) + "x", w), ValueError, "float"),
    ],
)
def test_bad_data_raises_clear_error(solver, mutate, exc, match):
    X, y = make_regression_data(seed=0)
    w = np.ones(len(y))
    Xb, yb, wb = mutate(X, y, w)
    with pytest.raises(exc, match=match):
        fit(Xb, yb, wb, solver=solver)


@pytest.mark.parametrize(
    "params, exc, match",
    [
        ({"alpha": -1.0}, ValueError, "alpha"),
        ({"alpha": [1.0, 2.0]}, ValueError, "alpha has 2 values but y has 1 target"),
        ({"alpha": [-1.0]}, ValueError, "alpha must be >= 0"),
        ({"alpha": [[1.0]]}, ValueError, "alpha must be a scalar or 1-D"),
        ({"alpha": np.nan}, ValueError, "alpha"),
        ({"alpha": "big"}, ValueError, "alpha"),
        ({"solver": "newton"}, ValueError, "solver"),
        ({"solver": object()}, ValueError, "solver"),
        ({"tol": -1.0}, ValueError, "tol"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"fit_intercept": "yes"}, ValueError, "fit_intercept"),
    ],
)
def test_bad_parameters_raise_naming_the_parameter(params, exc, match):
    X, y = make_regression_data(seed=1)
    with pytest.raises(exc, match=match):
        fit(X, y, **params)


def test_svd_method_refuses_sparse_with_remedy():
    X, y = make_regression_data(seed=2, sparse=True)
    with pytest.raises(ValueError, match="does not support sparse X; use solver='closed_form'"):
        fit(X, y, solver=ClosedForm(method="svd"))


@pytest.mark.parametrize("solver", ["closed_form", "gd", ClosedForm(method="svd")])
@pytest.mark.parametrize("sparse", [False, True])
def test_callers_arrays_are_not_modified(solver, sparse):
    if sparse and isinstance(solver, ClosedForm):
        return
    X, y = make_regression_data(n_targets=2, seed=3, sparse=sparse)
    w = np.random.default_rng(0).uniform(0.5, 2, X.shape[0])
    X0 = X.copy()
    y0, w0 = y.copy(), w.copy()
    fit(X, y, w, solver=solver, alpha=[1.0, 2.0])
    if sp.issparse(X):
        assert (X != X0).nnz == 0
    else:
        assert np.array_equal(X, X0)
    assert np.array_equal(y, y0) and np.array_equal(w, w0)


def test_readonly_inputs_work():
    X, y = make_regression_data(seed=4)
    X.setflags(write=False)
    y.setflags(write=False)
    for solver in ["closed_form", "gd"]:
        assert np.all(np.isfinite(fit(X, y, solver=solver).coef_))


def test_predict_checks_width():
    X, y = make_regression_data(seed=5)
    est = fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :-1])


def test_feature_names_are_recorded_and_checked_in_fit_and_partial_fit():
    import pandas as pd

    X, y = make_regression_data(seed=6)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    reordered = df[df.columns[::-1]]
    est = GDRidgeRegressor().fit(df, y)
    assert list(est.feature_names_in_) == list(df.columns)
    with pytest.raises(ValueError, match="feature names"):
        est.predict(reordered)
    stream = GDRidgeRegressor(solver="closed_form").partial_fit(df[:30], y[:30])
    assert list(stream.feature_names_in_) == list(df.columns)
    before = stream.coef_.copy()
    with pytest.raises(ValueError, match="feature names"):
        stream.partial_fit(reordered[30:], y[30:])
    assert np.array_equal(stream.coef_, before)
