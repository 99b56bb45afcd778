"""Regression scores from their parts, stated once and batched.

R^2 is ``1 - sse / sst`` with ``sse = sum_i s_i (y_i - yhat_i)^2`` and ``sst =
sum_i s_i (y_i - ybar)^2`` (weighted mean ``ybar``), per target, with
:func:`sklearn.metrics.r2_score`'s ``force_finite`` rule where ``sst == 0``
(1 for a perfect prediction, else 0). Cross-validation (every alpha and fold
at once), Dask (parts merged across chunks), SGD early stopping and the
estimators' ``score`` all compute it here.
"""

import numpy as np


def r2_from_parts(sse, sst):
    """R^2 from residual and total sums of squares (arrays broadcast together).

    Parameters
    ----------
    sse : array-like
        Weighted residual sums of squares.
    sst : array-like
        Weighted total sums of squares about the weighted mean (the same shape,
        or broadcastable).

    Returns
    -------
    r2 : ndarray
        ``1 - sse / sst``; where ``sst == 0``: 1.0 if ``sse == 0`` else 0.0.
    """
    sse, sst = np.asarray(sse, dtype=np.float64), np.asarray(sst, dtype=np.float64)
    sse, sst = np.broadcast_arrays(sse, sst)
    safe = np.where(sst > 0, sst, 1.0)
    return np.where(sst > 0, 1.0 - sse / safe, np.where(sse > 0, 0.0, 1.0))


def total_sum_of_squares(Y, sample_weight=None):
    """Weighted ``sum_i s_i (y_i - ybar)^2`` per column of 2-D ``Y``."""
    w = np.ones(Y.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    S = w.sum()
    mean = (w @ Y) / S if S > 0 else np.zeros(Y.shape[1])
    return w @ (Y - mean) ** 2


def residual_sum_of_squares(Y, pred, sample_weight=None):
    """Weighted ``sum_i s_i (y_i - yhat_i)^2`` over the first axis.

    ``Y`` has shape (n, k) and ``pred`` (n, ..., k) (e.g. one column block per
    alpha); the result has ``pred``'s shape without its first axis.
    """
    w = np.ones(Y.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    E = Y.reshape(Y.shape[:1] + (1,) * (pred.ndim - Y.ndim) + Y.shape[1:]) - pred
    # einsum, not BLAS: identical predictions give bit-identical sums (ties stay ties).
    return np.einsum("i,i...->...", w, E * E)


def r2_scores(Y, pred, sample_weight=None, per_target=True):
    """R^2 of predictions ``pred`` (n, ..., k) of 2-D ``Y`` (n, k).

    Returns shape ``pred.shape[1:]`` with ``per_target``, else that shape
    averaged over the last axis (targets weighted uniformly, as
    :func:`sklearn.metrics.r2_score`'s default ``"uniform_average"``).
    """
    r2 = r2_from_parts(
        residual_sum_of_squares(Y, pred, sample_weight), total_sum_of_squares(Y, sample_weight)
    )
    return r2 if per_target else r2.mean(axis=-1)
