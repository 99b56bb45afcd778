"""ONNX export of the fitted linear models through skl2onnx.

A fitted :class:`~l2gd.GDRidgeRegressor` or :class:`~l2gd.GDRidgeCV` predicts
``X @ coef_.T + intercept_``; the converter writes exactly that graph,
``MatMul`` then ``Add`` in the input's float type, after a ``Concat`` when the
features arrive as several inputs (one per column of a DataFrame). The output
has skl2onnx's regressor shape ``(n_samples, n_targets)``, with one column for
a single target where ``predict`` returns ``(n_samples,)``.

skl2onnx and onnx are the optional extra ``l2gd[onnx]``; they are imported
only here, inside functions, so that ``import l2gd`` never needs them.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._array_api import to_numpy

_EXTRA = "pip install 'l2gd[onnx]'"


def _skl2onnx():
    """The skl2onnx module, or an ImportError naming the extra."""
    try:
        import skl2onnx
    except ImportError as exc:
        raise ImportError(
            f"ONNX export of l2gd models needs skl2onnx and onnx: {_EXTRA}"
        ) from exc
    return skl2onnx


def _aliases():
    """skl2onnx's name for each estimator class (its registry is keyed by both)."""
    from ._cv import GDRidgeCV
    from ._ridge import GDRidgeRegressor

    return {GDRidgeRegressor: "L2gdGDRidgeRegressor", GDRidgeCV: "L2gdGDRidgeCV"}


def _linear_model(estimator):
    """``(coef, intercept)`` of a fitted estimator as float64 NumPy arrays of
    shapes ``(n_features, n_outputs)`` and ``(n_outputs,)``.

    Raises the errors ``predict`` would (not fitted; GDRidgeCV with
    ``refit=False``) before skl2onnx sees the model.
    """
    if getattr(estimator, "refit", True) is False:
        raise ValueError(
            f"{type(estimator).__name__} was initialized with refit=False: it chose "
            "alpha_ but holds no model to export. Export "
            "GDRidgeRegressor(alpha=cv.alpha_) fitted on all rows, or set refit=True."
        )
    check_is_fitted(estimator, ("coef_", "intercept_"))
    coef = np.asarray(to_numpy(estimator.coef_), dtype=np.float64)
    coef = coef.reshape(-1, estimator.n_features_in_).T
    intercept = np.asarray(to_numpy(estimator.intercept_), dtype=np.float64)
    intercept = np.broadcast_to(intercept.reshape(-1), (coef.shape[1],))
    return coef, np.ascontiguousarray(intercept)


def _float_type(operator):
    """The tensor type class shared by all inputs: FloatTensorType or
    DoubleTensorType; a TypeError names any other."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    kinds = {type(variable.type) for variable in operator.inputs}
    if len(kinds) == 1 and kinds <= {FloatTensorType, DoubleTensorType}:
        return kinds.pop()
    names = sorted(kind.__name__ for kind in kinds)
    raise TypeError(
        f"The ONNX converter of {type(operator.raw_operator).__name__} takes X as "
        f"float32 or float64 inputs (FloatTensorType or DoubleTensorType), all of "
        f"one type; got {names}. Cast X, e.g. X.astype(np.float32), before "
        "calling to_onnx."
    )


def _check_inputs(operator, n_features):
    """The inputs' widths add up to ``n_features``; single-column inputs named
    after the columns (a DataFrame) come in the order of ``feature_names_in_``."""
    estimator = operator.raw_operator
    name = type(estimator).__name__
    widths = []
    for variable in operator.inputs:
        shape = variable.type.shape
        if len(shape) != 2:
            raise ValueError(
                f"X must be 2-D for {name}; the ONNX input {variable.raw_name!r} has "
                f"shape {shape}."
            )
        widths.append(shape[1])
    if all(isinstance(w, (int, np.integer)) for w in widths) and sum(widths) != n_features:
        raise ValueError(
            f"X has {sum(widths)} features, but {name} is expecting {n_features} "
            "features as input."
        )
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and len(operator.inputs) > 1:
        given = [variable.raw_name for variable in operator.inputs]
        if widths == [1] * n_features and given != list(names):
            raise ValueError(
                f"The ONNX inputs {given} do not match the feature names seen at fit "
                f"{list(names)}: pass X with the fit's columns, in the same order."
            )


def _shape_calculator(operator):
    """skl2onnx shape calculator: float inputs of total width n_features_in_,
    one output ``(N, n_outputs)`` of the inputs' type."""
    coef, _ = _linear_model(operator.raw_operator)
    kind = _float_type(operator)
    _check_inputs(operator, coef.shape[0])
    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = kind([n_rows, coef.shape[1]])


def _converter(scope, operator, container):
    """skl2onnx converter: ``Concat`` (several inputs), ``MatMul``, ``Add``, in
    the inputs' float type."""
    from skl2onnx.algebra.onnx_ops import OnnxAdd, OnnxConcat, OnnxMatMul
    from skl2onnx.common.data_types import DoubleTensorType

    coef, intercept = _linear_model(operator.raw_operator)
    dtype = np.float64 if _float_type(operator) is DoubleTensorType else np.float32
    opv = container.target_opset
    inputs = list(operator.inputs)
    X = inputs[0] if len(inputs) == 1 else OnnxConcat(*inputs, axis=1, op_version=opv)
    product = OnnxMatMul(X, coef.astype(dtype), op_version=opv)
    y = OnnxAdd(product, intercept.astype(dtype), op_version=opv,
                output_names=operator.outputs[:1])
    y.add_to(scope, container)


def register():
    """Register l2gd's estimators with skl2onnx.

    After this call :func:`skl2onnx.to_onnx` (and :func:`skl2onnx.convert_sklearn`)
    convert a fitted :class:`~l2gd.GDRidgeRegressor` or :class:`~l2gd.GDRidgeCV`,
    alone or as the last step of a :class:`~sklearn.pipeline.Pipeline`. Importing
    :mod:`l2gd.onnx` calls it already; calling it again changes nothing.

    Raises
    ------
    ImportError
        If skl2onnx is not installed (``pip install 'l2gd[onnx]'``).

    See Also
    --------
    skl2onnx.to_onnx : The conversion itself.

    Notes
    -----
    The graph computes ``X @ coef_.T + intercept_`` with ``MatMul`` and ``Add``
    in the type of the input given to ``to_onnx``: float32 for a float32 sample,
    float64 for a float64 one (as skl2onnx converts ``Ridge``'s doubles). The
    output has shape ``(n_samples, n_targets)``; a single-target model gives
    one column where ``predict`` returns a 1-D array. A DataFrame sample gives
    one ONNX input per column, named as the columns, in the order of
    ``feature_names_in_``; all columns must be of one float type.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime
    >>> from skl2onnx import to_onnx
    >>> from l2gd import GDRidgeRegressor
    >>> from l2gd.onnx import register
    >>> register()
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(20, 3)).astype(np.float32)
    >>> y = X @ np.array([1.0, 2.0, 3.0]) + 4.0
    >>> est = GDRidgeRegressor(alpha=1.0).fit(X, y)
    >>> onx = to_onnx(est, X[:1])
    >>> session = onnxruntime.InferenceSession(
    ...     onx.SerializeToString(), providers=["CPUExecutionProvider"])
    >>> y_onnx = session.run(None, {"X": X})[0]
    >>> y_onnx.shape
    (20, 1)
    >>> bool(np.allclose(y_onnx[:, 0], est.predict(X), rtol=1e-6))
    True
    """
    skl2onnx = _skl2onnx()
    for cls, alias in _aliases().items():
        skl2onnx.update_registered_converter(cls, alias, _shape_calculator, _converter)


def _register_if_installed():
    """Register at import of :mod:`l2gd.onnx` when skl2onnx is importable
    (without it nothing could call ``to_onnx``; :func:`register` names the extra)."""
    try:
        _skl2onnx()
    except ImportError:
        return False
    register()
    return True
