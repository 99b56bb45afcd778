"""The few helpers l2gd needs to run on any Array API namespace.

scikit-learn's switch decides: with ``sklearn.set_config(array_api_dispatch=True)``
the namespace and device of ``X`` are used for all arithmetic (everything
follows X, as in scikit-learn); with dispatch off everything is NumPy. Small
dense linear algebra (``n_features x n_features`` factorizations, the Lanczos
estimate of the Lipschitz constant) runs on the host with LAPACK; only the
products with X run on X's device.
"""

import numpy as np
import scipy.sparse as sp

from ._compat import (
    _is_numpy_namespace,
    get_namespace_and_device,
    move_to,
    supported_float_dtypes,
)


def namespace(*arrays):
    """``(xp, device)`` of the arrays (NumPy's, when dispatch is off or X is sparse)."""
    dense = [a for a in arrays if a is not None and not sp.issparse(a)]
    if not dense:
        return np, "cpu"
    xp, _, device = get_namespace_and_device(*dense)
    return xp, device


def is_numpy(xp):
    return xp is np or _is_numpy_namespace(xp)


def to_numpy(a):
    """A NumPy copy (or view) of ``a`` on the host."""
    if isinstance(a, np.ndarray) or sp.issparse(a):
        return a
    if isinstance(a, (list, tuple, float, int, np.generic)):
        return np.asarray(a)
    return np.asarray(move_to(a, xp=np, device="cpu"))


def to_device(a, xp, device, dtype=None):
    """``a`` (NumPy or any namespace) as an array of ``xp`` on ``device``."""
    if is_numpy(xp):
        return np.asarray(to_numpy(a), dtype=dtype)
    if isinstance(a, (list, tuple, float, int, np.generic)):
        a = np.asarray(a)
    out = move_to(a, xp=xp, device=device)
    return out if dtype is None else xp.astype(out, dtype)


def eps(xp, dtype):
    """Machine epsilon of ``dtype`` in namespace ``xp``."""
    return float(xp.finfo(dtype).eps)


def float_dtypes(X):
    """The floating dtypes validation may convert ``X`` to, best first
    (float64 then float32; float32 only on devices without float64)."""
    xp, device = namespace(X)
    if is_numpy(xp):
        return [np.float64, np.float32]
    return list(supported_float_dtypes(xp, device))
