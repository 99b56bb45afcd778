"""Input checks shared by the estimators and the statistics object."""

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array, check_consistent_length

from ._array_api import is_numpy, namespace, to_device, to_numpy
from ._compat import _check_sample_weight

ACCEPT_SPARSE = ("csr", "csc")
FLOAT_DTYPES = (np.float64, np.float32)


def as_2d_targets(y, dtype, xp=np):
    """Targets as a 2-D array of ``dtype`` (a view when possible, never modified)."""
    Y = np.asarray(y, dtype=dtype) if is_numpy(xp) else xp.astype(y, dtype)
    return xp.reshape(Y, (-1, 1)) if Y.ndim == 1 else Y


def check_sample_weight(sample_weight, X):
    """Validated weights of X's dtype, or None for unit weights.

    Raises a ValueError for negative weights, a 2-D array, the wrong length or a
    total weight of zero.
    """
    if sample_weight is None:
        return None
    xp, device = namespace(X)
    if not is_numpy(xp) and not isinstance(sample_weight, Real):
        sample_weight = to_device(sample_weight, xp, device)  # everything follows X
    sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
    if not bool(xp.all(xp.isfinite(sw))):
        raise ValueError("sample_weight must be finite; got NaN or infinity.")
    if float(xp.sum(sw)) <= 0:
        raise ValueError("sample_weight must have a positive sum; all weights are zero.")
    return sw


def check_batch(X, y, sample_weight=None, check_finite=True):
    """Validate one batch of rows outside an estimator (no feature-name tracking).

    ``check_finite=False``: dense X is not checked for NaN or infinity (the
    caller's pass over X does it, see ``RidgeStats._from_unchecked``); sparse
    X always is (its check reads only the stored values)."""
    X = check_array(
        X, accept_sparse=ACCEPT_SPARSE, dtype=FLOAT_DTYPES,
        ensure_all_finite=check_finite or sp.issparse(X),
    )
    Y = check_array(y, ensure_2d=False, dtype=X.dtype)
    if Y.ndim > 2:
        raise ValueError(f"y must be 1-D or 2-D, got an array of shape {Y.shape}.")
    check_consistent_length(X, Y)
    return X, as_2d_targets(Y, X.dtype), check_sample_weight(sample_weight, X)


def _real_array(value, name):
    """``value`` (scalar, sequence or array of any namespace and device) as a
    float64 NumPy array on the host; a TypeError for strings, booleans and
    complex or non-numeric values, as scikit-learn raises."""
    if isinstance(value, (str, bytes, bool, np.bool_)):
        raise TypeError(f"{name} must be a real number or an array of real numbers, got {value!r}.")
    if not isinstance(value, (list, tuple, Real, np.ndarray, np.generic)):
        value = to_numpy(value)  # Array API arrays on any device move to the host first
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be a real number or an array of real numbers, got {value!r} "
            f"(dtype {arr.dtype})."
        )
    return arr.astype(np.float64)


def check_alpha(alpha, n_targets, dtype):
    """Return alpha as a NumPy array of shape (n_targets,), validated.

    A scalar is broadcast; an array (NumPy, a sequence, or an Array API array
    on any device, moved to the host) must have one value per target (or a
    single value), be real, finite and non-negative.
    """
    arr = _real_array(alpha, "alpha")
    if arr.ndim > 1:
        raise ValueError(f"alpha must be a scalar or 1-D array, got shape {arr.shape}.")
    arr = arr.reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, n_targets)
    if arr.size != n_targets:
        raise ValueError(
            f"alpha has {arr.size} values but y has {n_targets} targets; pass a scalar "
            "or one value per target."
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("alpha must be finite.")
    if np.any(arr < 0):
        raise ValueError(f"alpha must be >= 0, got {alpha!r}.")
    try:
        return arr.astype(np.dtype(dtype))
    except TypeError:  # a dtype of another namespace: RidgeProblem converts
        return arr


def check_real_input(A, name):
    """Reject what validation would silently change: complex values (their
    imaginary part would be dropped) and tensors that require gradients."""
    if A is None or sp.issparse(A) or isinstance(A, (list, tuple, Real)):
        return
    if getattr(A, "requires_grad", False):
        raise TypeError(
            f"{name} is a tensor that requires grad; l2gd's fit is not differentiable. "
            f"Pass {name}.detach()."
        )
    dtype = getattr(A, "dtype", None)
    if dtype is None:
        return
    if isinstance(dtype, np.dtype):
        is_complex = dtype.kind == "c"
    else:
        try:
            is_complex = bool(namespace(A)[0].isdtype(dtype, "complex floating"))
        except (AttributeError, TypeError):  # not an array of the active namespace
            is_complex = bool(getattr(dtype, "is_complex", False))
    if is_complex:
        raise ValueError(f"Complex data not supported: {name} has dtype {dtype}.")


def is_real_scalar(x):
    return isinstance(x, Real) and not isinstance(x, (bool, np.bool_))
