"""ONNX export of fitted l2gd models (optional extra ``l2gd[onnx]``).

Importing this module registers :class:`~l2gd.GDRidgeRegressor` and
:class:`~l2gd.GDRidgeCV` with skl2onnx, so that :func:`skl2onnx.to_onnx`
converts them, alone or inside a :class:`~sklearn.pipeline.Pipeline`.
:func:`register` does the same explicitly and may be called any number of
times. ``import l2gd`` alone neither imports skl2onnx nor registers anything.

The exported graph computes ``X @ coef_.T + intercept_`` (``MatMul``, ``Add``)
in the float type of the sample given to ``to_onnx``, with the output shape
``(n_samples, n_targets)`` of skl2onnx's regressors. See :func:`register`.

Examples
--------
>>> import numpy as np
>>> import onnxruntime
>>> import skl2onnx
>>> import l2gd.onnx
>>> from l2gd import GDRidgeCV
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(40, 3))
>>> Y = X @ rng.normal(size=(3, 2)) + rng.normal(scale=3.0, size=(40, 2))
>>> cv = GDRidgeCV(alphas=[0.1, 10.0, 1000.0]).fit(X, Y)
>>> float(cv.alpha_)
10.0
>>> onx = skl2onnx.to_onnx(cv, X[:1])
>>> session = onnxruntime.InferenceSession(
...     onx.SerializeToString(), providers=["CPUExecutionProvider"])
>>> Y_onnx = session.run(None, {"X": X})[0]
>>> Y_onnx.dtype, Y_onnx.shape
(dtype('float64'), (40, 2))
>>> bool(np.allclose(Y_onnx, cv.predict(X), rtol=1e-12))
True
"""

from ._onnx import _register_if_installed, register

__all__ = ["register"]

_register_if_installed()
