"""Exact power-of-two rescaling of data whose magnitudes would overflow or underflow.

Ridge is equivariant: with ``X = c_x X'`` and ``y = c_y y'``, the minimizer of
``sum_i s_i (y_i - x_i.w - b)^2 + alpha ||w||^2`` is ``w = (c_y / c_x) w'``,
``b = c_y b'``, where ``(w', b')`` minimizes the same objective on ``(X', y')``
with ``alpha' = alpha / c_x**2``; the objective itself scales by ``c_y**2``.
With ``c_x`` and ``c_y`` powers of two the division is exact (no rounding), so
solving the rescaled problem loses nothing. LAPACK's least-squares drivers
(``xGELSS``) do the same when the entries of A or b leave a safe range.

:func:`data_scale` is the one place that decides whether (and by how much) to
rescale; :class:`Rescaling` applies it and maps results back to the user's
units. Data whose magnitudes are already safe is never copied.
"""

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ._array_api import is_numpy, namespace, to_numpy


def _safe_exponent(A, dtype):
    """Largest binary exponent ``e`` such that data of magnitude up to ``2**e``
    (or down to ``2**-e``) has sums of squares of products that stay finite and
    normal: a quarter of the exponent range of ``dtype`` (in ``A``'s namespace)."""
    if sp.issparse(A) or isinstance(A, np.ndarray) or dtype is None:
        top = np.finfo(np.float64 if dtype is None else dtype).max
    else:
        top = namespace(A)[0].finfo(dtype).max
    return int(np.frexp(float(top))[1]) // 4


def _max_abs(A):
    if A is None:
        return 0.0
    if sp.issparse(A):
        return float(abs(A).max()) if A.nnz else 0.0
    xp, _ = namespace(A)
    if is_numpy(xp):
        return _max_abs_blocked(np.asarray(A))
    return float(to_numpy(xp.max(xp.abs(A)))) if A.shape[0] else 0.0


def _max_abs_blocked(A, block_bytes=2**20):
    """``max |A|`` of a NumPy array in row blocks through one small buffer: a
    single read of ``A`` and no temporary of its size (a memmap stays on disk)."""
    if A.size == 0:
        return 0.0
    A = A.reshape(A.shape[0], -1) if A.ndim > 1 else A.reshape(-1, 1)
    rows = max(1, block_bytes // max(1, A.shape[1] * A.itemsize))
    buf = np.empty((min(rows, A.shape[0]), A.shape[1]), dtype=A.dtype)
    amax = 0.0
    for start in range(0, A.shape[0], rows):
        block = A[start:start + rows]
        out = buf[: block.shape[0]]
        np.abs(block, out=out)
        amax = max(amax, float(out.max()))
    return amax


def data_scale(A, dtype=None):
    """Power of two ``c`` such that ``A / c`` has its largest magnitude in a safe
    range, or 1.0 when ``A`` needs no rescaling (or is all zeros).

    Parameters
    ----------
    A : {ndarray, sparse matrix, Array API array}
        Data (X, y); NaN and infinity are rejected before this is called.
    dtype : dtype, default=None
        The dtype the computation runs in (``A.dtype`` when None).

    Returns
    -------
    scale : float
        ``1.0`` or ``2**e`` with ``|e|`` above a quarter of the exponent range
        of ``dtype``.
    """
    dtype = getattr(A, "dtype", None) if dtype is None else dtype
    amax = _max_abs(A)
    if not (amax > 0.0 and np.isfinite(amax)):
        return 1.0
    exponent = int(np.frexp(amax)[1])
    if abs(exponent) <= _safe_exponent(A, dtype):
        return 1.0
    return float(np.ldexp(1.0, exponent))


def moments_need_no_scale(stats):
    """Whether the statistics of unweighted rows prove that :func:`data_scale`
    of their X is 1.0, so that X need not be read again to measure it.

    Per column, the raw second moment ``R_j = xx_jj + n m_j**2`` bounds
    ``max_i x_ij**2`` from below by ``R_j / n`` and from above by ``R_j``, so
    ``max |X|`` lies in ``[sqrt(max R / n), sqrt(max R)]``; when that interval,
    widened by a factor of 2 for rounding, is inside the safe range, the answer
    is proved. False decides nothing (then measure X): non-finite moments (NaN
    or infinity in X, or finite X whose squares overflow), moments that
    underflow to zero, or an interval reaching out of the safe range.

    Parameters
    ----------
    stats : RidgeStats
        Statistics of rows without weights (with weights, rows of weight 0 are
        not bounded by them).

    Returns
    -------
    proved : bool
    """
    with np.errstate(over="ignore", invalid="ignore"):
        mean = np.asarray(stats.x_mean, dtype=np.float64)
        raw = np.diagonal(stats.xx).astype(np.float64) + stats.n_samples * mean * mean
        top = float(np.max(raw, initial=0.0))
    if not (np.isfinite(top) and top > 0.0):
        return False
    safe = _safe_exponent(None, stats.dtype)
    bounds = (np.sqrt(top / stats.n_samples) / 2.0, np.sqrt(top) * 2.0)
    return all(abs(int(np.frexp(b)[1])) <= safe for b in bounds)


@dataclass(frozen=True)
class Rescaling:
    """The rescaling of one fit: ``X = x_scale * X'``, ``y = y_scale * y'``.

    Parameters
    ----------
    x_scale, y_scale : float
        Powers of two (1.0: that side is not rescaled).
    """

    x_scale: float = 1.0
    y_scale: float = 1.0

    @classmethod
    def of(cls, X, Y):
        """The rescaling that makes ``X`` and ``Y`` safe (identity when they are)."""
        return cls(data_scale(X), data_scale(Y, getattr(X, "dtype", None)))

    @property
    def identity(self):
        return self.x_scale == 1.0 and self.y_scale == 1.0

    def data(self, X, Y):
        """``(X', Y')``: copies only of the sides that are rescaled."""
        if self.x_scale != 1.0:
            X = X * (1.0 / self.x_scale) if sp.issparse(X) else X / self.x_scale
        if self.y_scale != 1.0:
            Y = Y / self.y_scale
        return X, Y

    def alpha(self, alpha):
        """``alpha' = alpha / x_scale**2`` (exact; may underflow to 0 where alpha
        is negligible next to the rescaled Gram matrix)."""
        if self.x_scale == 1.0:
            return alpha
        with np.errstate(over="ignore"):
            scaled = alpha / self.x_scale / self.x_scale
        if not np.all(np.isfinite(to_numpy(scaled))):
            raise ValueError(
                f"alpha is too large next to X's magnitude (max |X| about {self.x_scale:.1e}): "
                "alpha / max|X|**2 overflows, so X^T X is below rounding next to alpha. "
                "Scale X up (e.g. StandardScaler) or use a smaller alpha."
            )
        return scaled

    def coef(self, W):
        """Coefficients in the user's units, ``(y_scale / x_scale) W'``."""
        if self.identity:
            return W
        return W * (self.y_scale / self.x_scale) if self._ratio_is_finite() else (
            W / self.x_scale * self.y_scale
        )

    def intercept(self, b):
        """Intercepts in the user's units, ``y_scale * b'``."""
        return b if self.y_scale == 1.0 else b * self.y_scale

    def objective(self, values):
        """Objective values in the user's units, ``y_scale**2 * f'`` (infinite
        when the true value is beyond the dtype's range)."""
        if self.y_scale == 1.0:
            return values
        with np.errstate(over="ignore"):
            return np.asarray(values, dtype=np.float64) * self.y_scale * self.y_scale

    def scaled_coef(self, W):
        """Coefficients in the rescaled units, ``(x_scale / y_scale) W`` (a warm start)."""
        if self.identity:
            return W
        return W * self.x_scale / self.y_scale

    #: ``SolveResult.info`` entries that hold moments or iterates of the rescaled
    #: problem (a stream's statistics or state): they have no finite image in the
    #: user's units in general, so :meth:`result` drops them.
    UNIT_BOUND_INFO = ("stats", "state")

    def result(self, result):
        """A :class:`~l2gd.solvers.SolveResult` of the rescaled problem in the user's
        units; the info entries of :data:`UNIT_BOUND_INFO` are dropped."""
        if self.identity:
            return result
        info = {k: v for k, v in result.info.items() if k not in self.UNIT_BOUND_INFO}
        return replace(
            result,
            coef=self.coef(result.coef),
            intercept=self.intercept(result.intercept),
            history=tuple(float(v) for v in self.objective(result.history)),
            info=info,
        )

    def _ratio_is_finite(self):
        ratio = self.y_scale / self.x_scale
        return np.isfinite(ratio) and ratio > 0
