"""Input checks shared by the estimators and the statistics object."""

from numbers import Real

import numpy as np
from sklearn.utils import check_array, check_consistent_length

from ._array_api import is_numpy, namespace, to_device
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


def check_batch(X, y, sample_weight=None):
    """Validate one batch of rows outside an estimator (no feature-name tracking)."""
    X = check_array(X, accept_sparse=ACCEPT_SPARSE, dtype=FLOAT_DTYPES)
    Y = check_array(y, ensure_2d=False, dtype=X.dtype)
    if Y.ndim > 2:
        raise ValueError(f"y must be 1-D or 2-D, got an array of shape {Y.shape}.")
    check_consistent_length(X, Y)
    return X, as_2d_targets(Y, X.dtype), check_sample_weight(sample_weight, X)


def check_alpha(alpha, n_targets, dtype):
    """Return alpha as an array of shape (n_targets,), validated.

    A scalar is broadcast; an array must have one value per target (or a
    single value), be finite and non-negative.
    """
    if isinstance(alpha, (bool, np.bool_)) or isinstance(alpha, str):
        raise TypeError(f"alpha must be a non-negative float or array of floats, got {alpha!r}.")
    try:
        arr = np.asarray(alpha, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"alpha must be a non-negative float or array of floats, got {alpha!r}."
        ) from exc
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


def is_real_scalar(x):
    return isinstance(x, Real) and not isinstance(x, (bool, np.bool_))
