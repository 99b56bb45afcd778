"""Array API: torch and array-api-strict inputs give numpy's results, in their namespace."""

import os

import numpy as np
import pytest
import sklearn
from _helpers import make_regression_data

from l2gd import GDRidgeRegressor
from l2gd.solvers import ClosedForm, GradientDescent

# Imported, not importorskip'ed: the test extra installs both, and CI must fail
# rather than skip the array API checks silently.
import array_api_strict  # noqa: E402
import torch  # noqa: E402

CONFIGS = {
    "closed_form": lambda: ClosedForm(),
    "closed_form_svd": lambda: ClosedForm(method="svd"),
    "gd_cg": lambda: GradientDescent(),
    "gd_nesterov": lambda: GradientDescent(acceleration="nesterov"),
}


def test_array_api_checks_are_not_skipped():
    # scikit-learn silently skips its array API checks without this.
    assert os.environ.get("SCIPY_ARRAY_API") == "1"
    with sklearn.config_context(array_api_dispatch=True):  # raises if SciPy's mode is off
        pass
    assert GDRidgeRegressor().__sklearn_tags__().array_api_support


def to_namespace(name, a):
    if name == "torch":
        return torch.asarray(a)
    return array_api_strict.asarray(a)


def to_np(a):
    if isinstance(a, torch.Tensor):
        return a.numpy()
    return np.asarray(array_api_strict.asarray(a, device=array_api_strict.Device("CPU_DEVICE")))


@pytest.mark.parametrize("namespace", ["torch", "array_api_strict"])
@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_targets", [None, 2])
def test_results_equal_numpy_results(namespace, config, dtype, weighted, n_targets):
    X, y = make_regression_data(n_samples=50, n_features=6, n_targets=n_targets, dtype=dtype)
    sw = np.random.default_rng(0).uniform(0.5, 2, 50).astype(dtype) if weighted else None
    alpha = 1.0 if n_targets is None else [0.5, 2.0]
    tol = 1e-12 if dtype == np.float64 else 1e-6
    est_np = GDRidgeRegressor(alpha=alpha, solver=CONFIGS[config](), tol=tol, max_iter=10_000)
    est_np.fit(X, y, sample_weight=sw)
    Xx, yx = to_namespace(namespace, X), to_namespace(namespace, y)
    swx = None if sw is None else to_namespace(namespace, sw)
    with sklearn.config_context(array_api_dispatch=True):
        est = GDRidgeRegressor(alpha=alpha, solver=CONFIGS[config](), tol=tol, max_iter=10_000)
        est.fit(Xx, yx, sample_weight=swx)
        pred = est.predict(Xx)
    assert type(est.coef_) is type(Xx) and type(pred) is type(Xx)
    assert est.coef_.dtype == Xx.dtype
    rtol = 1e-9 if dtype == np.float64 else 1e-4
    assert np.allclose(to_np(est.coef_), est_np.coef_, rtol=rtol, atol=rtol)
    assert np.allclose(to_np(est.intercept_), est_np.intercept_, rtol=rtol, atol=rtol)
    assert np.allclose(to_np(pred), est_np.predict(X), rtol=rtol, atol=rtol)


def test_dispatch_off_converts_to_numpy():
    X, y = make_regression_data(n_samples=30, n_features=4)
    est = GDRidgeRegressor().fit(torch.asarray(X), torch.asarray(y))
    assert isinstance(est.coef_, np.ndarray)
    assert np.allclose(est.coef_, GDRidgeRegressor().fit(X, y).coef_)


def test_y_and_weights_follow_x_namespace():
    # scikit-learn's convention ("everything follows X"): y and sample_weight
    # from another namespace are moved to X's namespace and device.
    X, y = make_regression_data(n_samples=30, n_features=4)
    with sklearn.config_context(array_api_dispatch=True):
        est = GDRidgeRegressor().fit(torch.asarray(X), y, sample_weight=np.ones(30))
    assert isinstance(est.coef_, torch.Tensor)
    assert np.allclose(est.coef_.numpy(), GDRidgeRegressor().fit(X, y).coef_)


@pytest.mark.parametrize("namespace", ["torch", "array_api_strict"])
@pytest.mark.parametrize("weighted", [False, True])
def test_means_of_offset_float32_columns_in_other_namespaces(namespace, weighted):
    # The centers of the iterative solvers, summed in X's namespace and dtype
    # about a shift: float32 "years" (2000 +- 0.5) over 300,000 rows, whose
    # float32 sum row by row drifts by several standard deviations. Oracle: the
    # long double mean of the same values; allowed: a rounding that grows with
    # the spread (0.5), not with the magnitude (2000).
    from l2gd._objective import RidgeProblem

    rng = np.random.default_rng(0)
    n = 300_000
    X = np.stack([2000.0 + 0.5 * rng.standard_normal(n), rng.standard_normal(n)], axis=1)
    X = X.astype(np.float32)
    sw = rng.uniform(0.5, 2.0, n).astype(np.float32) if weighted else None
    Xx = to_namespace(namespace, X)
    swx = None if sw is None else to_namespace(namespace, sw)
    with sklearn.config_context(array_api_dispatch=True):
        yx = to_namespace(namespace, np.zeros((n, 1), np.float32))
        problem = RidgeProblem(Xx, yx, np.ones(1), sample_weight=swx)
        got = to_np(problem.X_offset).astype(np.longdouble)
    s = np.ones(n, np.longdouble) if sw is None else sw.astype(np.longdouble)
    exact = (s @ X.astype(np.longdouble)) / s.sum()
    ulp = np.spacing(np.abs(exact).astype(np.float32))
    assert np.all(np.abs(got - exact) <= 2 * ulp + 1e-3 * 0.5)
