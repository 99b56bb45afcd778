"""ONNX export (l2gd.onnx): the exported graph, run by onnxruntime, predicts
what ``predict`` and an independent float64 ridge solution predict."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from l2gd import GDRidgeCV, GDRidgeRegressor

from _helpers import exact_ridge, make_regression_data


@pytest.fixture
def skl2onnx():
    module = pytest.importorskip("skl2onnx")
    import l2gd.onnx

    l2gd.onnx.register()
    return module


@pytest.fixture
def ort():
    return pytest.importorskip("onnxruntime")


def _run(ort, onx, feeds):
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    if not isinstance(feeds, dict):
        feeds = {session.get_inputs()[0].name: feeds}
    return session.run(None, feeds)[0]


def _as_predicted(y_onnx, y_pred):
    """ONNX regressors give (n_samples, n_outputs); predict gives 1-D for one target."""
    assert y_onnx.shape == (len(y_pred), 1 if y_pred.ndim == 1 else y_pred.shape[1])
    return y_onnx.reshape(y_pred.shape)


TOL = {np.float32: 1e-6, np.float64: 1e-13}


def _assert_close(actual, desired, rtol):
    """Relative to the largest prediction: float32 (both predict and the graph
    compute in it) loses digits to cancellation where a prediction is near 0
    (7.5e-6 elementwise at y = 0.054 with terms of size 10), not elsewhere."""
    desired = np.asarray(desired)
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.max(np.abs(desired)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_targets", [None, 1, 3], ids=["1d", "2d-1", "2d-3"])
def test_exported_model_predicts_as_predict(skl2onnx, ort, dtype, fit_intercept, n_targets):
    X, y = make_regression_data(n_targets=n_targets, seed=1, dtype=dtype)
    if n_targets == 1:
        y = y.reshape(-1, 1)
    est = GDRidgeRegressor(alpha=2.0, fit_intercept=fit_intercept).fit(X, y)
    onx = skl2onnx.to_onnx(est, X[:1])
    y_onnx = _run(ort, onx, X)
    assert y_onnx.dtype == dtype
    y_pred = est.predict(X)
    _assert_close(_as_predicted(y_onnx, y_pred), y_pred, rtol=TOL[dtype])


@pytest.mark.parametrize("n_targets", [None, 3])
def test_float64_export_matches_an_independent_ridge_solution(skl2onnx, ort, n_targets):
    X, y = make_regression_data(n_targets=n_targets, seed=2)
    coef, intercept = exact_ridge(X, y, alpha=3.0)
    est = GDRidgeRegressor(alpha=3.0, solver="closed_form").fit(X, y)
    expected = X @ coef.T + intercept
    y_onnx = _run(ort, skl2onnx.to_onnx(est, X[:1]), X)
    _assert_close(_as_predicted(y_onnx, expected), expected, rtol=1e-10)


@pytest.mark.parametrize("fit_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("export_dtype", [np.float32, np.float64])
def test_export_type_is_the_sample_type_not_the_fit_type(skl2onnx, ort, fit_dtype, export_dtype):
    X, y = make_regression_data(seed=3, dtype=fit_dtype)
    est = GDRidgeRegressor(solver="gd").fit(X, y)
    X_new = X.astype(export_dtype)
    y_onnx = _run(ort, skl2onnx.to_onnx(est, X_new[:1]), X_new)
    assert y_onnx.dtype == export_dtype
    y_pred = est.predict(X_new)
    _assert_close(y_onnx[:, 0], y_pred, rtol=TOL[export_dtype])


def test_gdridgecv_exports_its_refit(skl2onnx, ort):
    X, y = make_regression_data(n_targets=2, seed=4)
    cv = GDRidgeCV(alphas=np.logspace(-2, 3, 6)).fit(X, y)
    y_onnx = _run(ort, skl2onnx.to_onnx(cv, X[:1]), X)
    _assert_close(y_onnx, cv.predict(X), rtol=1e-13)
    # The refit, not some other alpha: the graph is the model at alpha_.
    coef, intercept = exact_ridge(X, y, alpha=cv.alpha_)
    _assert_close(y_onnx, X @ coef.T + intercept, rtol=1e-10)


def test_gdridgecv_without_refit_has_no_model_to_export(skl2onnx):
    X, y = make_regression_data(seed=5)
    cv = GDRidgeCV(alphas=[0.1, 1.0, 10.0], refit=False).fit(X, y)
    with pytest.raises(ValueError, match=r"refit=False.*GDRidgeRegressor\(alpha=cv.alpha_\)"):
        skl2onnx.to_onnx(cv, X[:1])


@pytest.mark.parametrize("est", [GDRidgeRegressor(), GDRidgeCV()], ids=type)
def test_unfitted_model_raises_not_fitted(skl2onnx, est):
    X, _ = make_regression_data(seed=6)
    with pytest.raises(NotFittedError, match="not fitted"):
        skl2onnx.to_onnx(est, X[:1])


def test_sparse_fitted_model_exports_for_dense_input(skl2onnx, ort):
    X, y = make_regression_data(seed=7, sparse=True)
    est = GDRidgeRegressor(alpha=0.5).fit(X, y)
    X_dense = X.toarray()
    y_onnx = _run(ort, skl2onnx.to_onnx(est, X_dense[:1]), X_dense)
    _assert_close(y_onnx[:, 0], est.predict(X), rtol=1e-13)
    coef, intercept = exact_ridge(X, y, alpha=0.5)
    _assert_close(y_onnx[:, 0], X_dense @ coef + intercept, rtol=1e-10)
    assert sp.issparse(X)


def test_model_fitted_on_a_dataframe(skl2onnx, ort):
    pd = pytest.importorskip("pandas")
    X, y = make_regression_data(n_features=4, seed=8)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = GDRidgeRegressor().fit(df, y)
    y_pred = est.predict(df)
    # A NumPy sample: one input "X".
    _assert_close(
        _run(ort, skl2onnx.to_onnx(est, X[:1]), X)[:, 0], y_pred, rtol=1e-13
    )
    # A DataFrame sample: one input per column, named and ordered as at fit.
    onx = skl2onnx.to_onnx(est, df[:1])
    assert [i.name for i in onx.graph.input] == ["a", "b", "c", "d"]
    y_onnx = _run(ort, onx, {c: df[[c]].to_numpy() for c in df.columns})
    _assert_close(y_onnx[:, 0], y_pred, rtol=1e-13)
    with pytest.raises(ValueError, match="do not match the feature names"):
        skl2onnx.to_onnx(est, df[["b", "a", "c", "d"]][:1])


def test_wrong_number_of_features_or_integer_input_is_refused(skl2onnx):
    X, y = make_regression_data(n_features=5, seed=9)
    est = GDRidgeRegressor().fit(X, y)
    with pytest.raises(ValueError, match="X has 4 features, but GDRidgeRegressor is expecting 5"):
        skl2onnx.to_onnx(est, X[:1, :4])
    with pytest.raises(TypeError, match="float32 or float64.*Int64TensorType"):
        skl2onnx.to_onnx(est, X[:1].astype(np.int64))


def test_pipeline_with_a_scaler_exports(skl2onnx, ort):
    X, y = make_regression_data(n_targets=2, seed=10)
    pipe = make_pipeline(StandardScaler(), GDRidgeRegressor(alpha=1.0)).fit(X, y)
    X32 = X.astype(np.float32)
    y_onnx = _run(ort, skl2onnx.to_onnx(pipe, X32[:1]), X32)
    _assert_close(y_onnx, pipe.predict(X32), rtol=1e-6)
    y64 = _run(ort, skl2onnx.to_onnx(pipe, X[:1]), X)
    _assert_close(y64, pipe.predict(X), rtol=1e-13)


def test_export_leaves_the_model_unchanged(skl2onnx):
    X, y = make_regression_data(n_targets=2, seed=11, dtype=np.float32)
    est = GDRidgeRegressor().fit(X, y)
    coef, intercept = est.coef_.copy(), est.intercept_.copy()
    skl2onnx.to_onnx(est, X[:1].astype(np.float64))
    assert est.coef_.dtype == np.float32 and est.intercept_.dtype == np.float32
    np.testing.assert_array_equal(est.coef_, coef)
    np.testing.assert_array_equal(est.intercept_, intercept)


def test_register_is_idempotent(skl2onnx, ort):
    import l2gd.onnx

    l2gd.onnx.register()
    l2gd.onnx.register()
    names = skl2onnx.supported_converters()
    assert names.count("L2gdGDRidgeRegressor") == 1 and names.count("L2gdGDRidgeCV") == 1
    X, y = make_regression_data(seed=12)
    est = GDRidgeRegressor().fit(X, y)
    _assert_close(
        _run(ort, skl2onnx.to_onnx(est, X[:1]), X)[:, 0], est.predict(X), rtol=1e-13
    )


def test_importing_l2gd_onnx_registers_and_l2gd_alone_does_not(skl2onnx):
    # A fresh interpreter: import l2gd does not import skl2onnx; to_onnx fails
    # until l2gd.onnx is imported, then works.
    code = """
import sys
import numpy as np
import l2gd
assert "skl2onnx" not in sys.modules and "onnx" not in sys.modules
import skl2onnx
X = np.arange(12.0).reshape(6, 2)
est = l2gd.GDRidgeRegressor().fit(X, X[:, 0] + 1.0)
try:
    skl2onnx.to_onnx(est, X[:1])
except Exception as exc:
    print("before:", type(exc).__name__)
import l2gd.onnx
print("after:", [i.name for i in skl2onnx.to_onnx(est, X[:1]).graph.input])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "before: MissingShapeCalculator" in out.stdout
    assert "after: ['X']" in out.stdout


def test_without_skl2onnx_register_names_the_extra(monkeypatch):
    import importlib

    import l2gd.onnx

    monkeypatch.setitem(sys.modules, "skl2onnx", None)  # "import skl2onnx" raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'l2gd\[onnx\]'"):
        l2gd.onnx.register()
    # Importing the module stays possible (nothing to register into).
    importlib.reload(l2gd.onnx)


def test_model_fitted_on_torch_tensors_exports(skl2onnx, ort):
    # Array API fits keep coef_ in the input's namespace; the graph takes NumPy.
    torch = pytest.importorskip("torch")
    import sklearn

    X, y = make_regression_data(n_targets=2, seed=13)
    with sklearn.config_context(array_api_dispatch=True):
        est = GDRidgeRegressor().fit(torch.asarray(X), torch.asarray(y))
        y_pred = est.predict(torch.asarray(X)).numpy()
    assert isinstance(est.coef_, torch.Tensor)
    _assert_close(_run(ort, skl2onnx.to_onnx(est, X[:1]), X), y_pred, rtol=1e-13)
