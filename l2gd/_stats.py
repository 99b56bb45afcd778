"""Sufficient statistics of the ridge problem, computed blockwise and mergeable."""

import numpy as np
import scipy.sparse as sp
from scipy.linalg.blas import get_blas_funcs
from sklearn.utils.validation import assert_all_finite

# Rows per block are chosen so one centered block takes about this many bytes.
_BLOCK_BYTES = 8 * 2**20


# Rows per block of the Gram kernel: about this many bytes, so that a shifted
# copy of the block is still in cache when syrk reads it (measured: 1 MiB
# blocks run the copy path within about 10% of syrk on X itself; 8 MiB at 25%).
_GRAM_BLOCK_BYTES = 2**20
# A one-pass result is kept when, for every column, the second moment about the
# shift is at most this multiple of the centered one: the rounding error of the
# centered moments is then within one bit of the error of a pass centered at
# the exact means. Otherwise a second pass centers at the means just found.
_MAX_SHIFT_GAIN = 2.0
# Skip the shifted copy when the first block's means are this small next to its
# standard deviations (the moments about 0 then lose at most a few percent).
_RAW_SHIFT_RATIO = 0.25


def _block_rows(n_features, itemsize, n_samples, block_bytes=_BLOCK_BYTES, min_rows=256):
    """Rows of a block of about ``block_bytes`` (at least ``min_rows``, at most all)."""
    rows = max(min_rows, block_bytes // max(1, n_features * itemsize))
    return int(min(rows, max(n_samples, 1)))


def _moments_pass(X, Y, sample_weight, x_shift, y_shift, block_rows):
    """One read of dense ``X`` in row blocks: the moments about the shifts.

    Returns ``(C, F, zz, zs)`` with ``A = S^{1/2}(X - x_shift)``,
    ``Z = S^{1/2} [Y - y_shift, 1]``: ``C = A^T A`` (lower triangle),
    ``F = A^T Z``, ``zz`` the diagonal of ``Z^T Z`` and ``zs = Z^T S^{1/2} 1``
    (the shifted y sums, then the total weight). With ``x_shift`` None and no
    weights, syrk reads the blocks of X in place (no copy). Otherwise each
    block is shifted and weighted into one reused buffer, with few targets
    ``Z`` next to it, so that one syrk per block gives everything. Only SciPy's
    BLAS is called in the loop: alternating NumPy's and SciPy's (two OpenBLAS
    thread pools) block by block makes the idle threads of each pool spin
    against the other's, which cost 10x on a 16-core machine.
    """
    n, p = X.shape
    k = Y.shape[1]
    dtype = X.dtype
    syrk, gemm, gemv = get_blas_funcs(("syrk", "gemm", "gemv"), dtype=dtype)
    in_place = x_shift is None and sample_weight is None and X.flags.c_contiguous
    fused = not in_place and k + 1 <= max(1, p // 4)
    q = p + k + 1 if fused else p
    buf = None if in_place else np.empty((block_rows, q), dtype=dtype)
    C = np.zeros((q, q), dtype=dtype, order="F")
    F = np.zeros((p, k + 1), dtype=dtype, order="F")
    zz = np.zeros(k + 1, dtype=dtype)
    zs = np.zeros(k + 1, dtype=dtype)
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        B = X[start:stop] if in_place else buf[: stop - start]
        Z = B[:, p:] if fused else np.empty((stop - start, k + 1), dtype=dtype, order="F")
        np.subtract(Y[start:stop], y_shift, out=Z[:, :k], dtype=dtype)
        Z[:, k] = 1.0 if sample_weight is None else np.sqrt(sample_weight[start:stop])
        if not in_place:
            np.subtract(X[start:stop], 0.0 if x_shift is None else x_shift, out=B[:, :p])
            if sample_weight is not None:
                B[:, :p] *= Z[:, k, None]
                Z[:, :k] *= Z[:, k, None]
        # B is C-ordered (b, q), so B.T is a Fortran (q, b) view: C += B^T B.
        C = syrk(1.0, B.T, beta=1.0, c=C, trans=0, lower=1, overwrite_c=1)
        if not fused:
            F = gemm(1.0, B.T, Z, beta=1.0, c=F, overwrite_c=1)
            zz += np.einsum("ij,ij->j", Z, Z)
            zs = gemv(1.0, Z, Z[:, k], beta=1.0, y=zs, trans=1, overwrite_y=1)
    if fused:  # the lower triangle holds Z^T A, diag(Z^T Z) and Z^T S^{1/2} 1
        F, zz, zs = C[p:, :p].T, np.diag(C)[p:].copy(), C[q - 1, p:].copy()
        C = C[:p, :p]
    return C, F, zz, zs


def _symmetric(C):
    """The full symmetric matrix from syrk's lower triangle.

    ``C`` is a syrk result onto zeros (``lower=1``: the strict upper triangle
    is still 0), so ``C + C^T`` is the matrix with its diagonal doubled: one
    temporary instead of the three of masking each triangle (a third of the
    moments' time at p = 2000).
    """
    S = C + C.T
    S.flat[:: S.shape[0] + 1] = np.diagonal(C)
    return S


def _first_block_shift(X, Y, sample_weight, block_rows):
    """Shifts for :func:`_moments_pass` from the first block's weighted means:
    ``None`` for X (no copy) when there are no weights and those means are
    small next to the block's standard deviations."""
    Xb, Yb = X[:block_rows], Y[:block_rows]
    w = None if sample_weight is None else sample_weight[:block_rows]
    if w is not None and w.sum() > 0:
        x_c = (w @ Xb / w.sum()).astype(X.dtype, copy=False)
        y_c = (w @ Yb / w.sum()).astype(X.dtype, copy=False)
        return x_c, y_c
    x_c, y_c = Xb.mean(axis=0), Yb.mean(axis=0)
    if w is None and np.all(x_c**2 <= _RAW_SHIFT_RATIO**2 * Xb.var(axis=0)):
        return None, y_c
    return x_c, y_c


def _kept(raw, centered):
    """Whether moments about a shift (``raw``, diagonals) lose at most one bit
    to cancellation next to the ``centered`` ones (see ``_MAX_SHIFT_GAIN``)."""
    return bool(np.all((raw == 0) | (raw <= _MAX_SHIFT_GAIN * centered)))


def _dense_moments(X, Y, sample_weight, sw_sum, center=None, block_rows=None):
    """Weighted means and second moments of dense ``X`` and ``Y``: one pass over X.

    With ``center=(x_c, y_c)`` the moments are about these centers (zeros
    without intercept; the running means of a stream) and they are returned
    as the means. With ``center=None`` the weighted means come from the same
    pass: the moments are accumulated about a shift (the first block's means,
    or 0 when X is already about centered, then syrk reads X in place) and
    the means follow from the shifted sums, ``m = c + d`` with
    ``xx = M - S d d^T``. A column whose moment about the shift is more than
    ``_MAX_SHIFT_GAIN`` times its centered moment (sorted data: the first
    block is not typical) would lose more than one bit to that subtraction:
    then a second pass centers at the means found (the two-pass result).

    Returns ``(x_mean, y_mean, xx, xy, yy)``; ``yy`` is the diagonal of the
    Y moment matrix.
    """
    n, p = X.shape
    k = Y.shape[1]
    if block_rows is None:
        block_rows = _block_rows(p, X.dtype.itemsize, n, _GRAM_BLOCK_BYTES)
    if center is not None:
        x_c, y_c = center
        shift = None if sample_weight is None and not np.any(x_c) else x_c
        C, F, zz, _ = _moments_pass(X, Y, sample_weight, shift, y_c, block_rows)
        return x_c, y_c, _symmetric(C), np.ascontiguousarray(F[:, :k]), zz[:k].copy()
    x_c, y_c = _first_block_shift(X, Y, sample_weight, block_rows)
    C, F, zz, zs = _moments_pass(X, Y, sample_weight, x_c, y_c, block_rows)
    dx, dy = F[:, k] / sw_sum, zs[:k] / sw_sum
    xx = _symmetric(C)
    xx -= sw_sum * np.outer(dx, dx)  # symmetric: sw_sum * (dx_i * dx_j)
    xy = F[:, :k] - sw_sum * np.outer(dx, dy)
    yy = zz[:k] - sw_sum * dy**2
    x_mean = dx if x_c is None else x_c + dx
    y_mean = y_c + dy
    finite = np.all(np.isfinite(xx)) and np.all(np.isfinite(yy))
    if finite and not (_kept(np.diag(C), np.diag(xx)) and _kept(zz[:k], yy)):
        return _dense_moments(X, Y, sample_weight, sw_sum, (x_mean, y_mean), block_rows)
    return x_mean, y_mean, xx, np.ascontiguousarray(xy), yy


def _sparse_moments(X, Y, sample_weight, x_mean, y_mean, sw_sum):
    """Weighted centered moments of sparse ``X``: sparse products, then the
    centering correction on the small ``p x p`` result."""
    Xs = X if sample_weight is None else X.multiply(sample_weight[:, None]).tocsr()
    xx = np.asarray((X.T @ Xs).toarray(), dtype=X.dtype)
    xy = np.asarray(Xs.T @ Y, dtype=X.dtype)
    Ys = Y if sample_weight is None else Y * sample_weight[:, None]
    yy = np.einsum("ij,ij->j", Ys, Y)
    xx -= sw_sum * np.outer(x_mean, x_mean)
    xy -= sw_sum * np.outer(x_mean, y_mean)
    yy -= sw_sum * y_mean**2
    return xx, xy, yy


def combine_means(sw_a, means_a, sw_b, means_b):
    """The pairwise update of weighted means (Chan, Golub and LeVeque), stated once.

    ``means_a`` and ``means_b`` are tuples of arrays (e.g. the x and y means).
    Returns ``(S, means, c, d)``: the total weight ``S = sw_a + sw_b``, the
    merged means, and ``c = sw_a sw_b / S`` and the differences ``d = means_b -
    means_a`` such that the centered cross moments of the union of two sets of
    rows are ``M_a + M_b + c * d_u d_v^T`` for any two of the quantities. With
    zero weight on one side, the other side's means and ``c = 0``.
    """
    S = sw_a + sw_b
    d = tuple(mb - ma for ma, mb in zip(means_a, means_b))
    if sw_a <= 0 or sw_b <= 0:
        return S, (means_b if sw_a <= 0 else means_a), 0.0, d
    means = tuple(ma + db * (sw_b / S) for ma, db in zip(means_a, d))
    return S, means, sw_a * sw_b / S, d


def remove_means(sw_total, mean_total, sw_part, mean_part):
    """The inverse of :func:`combine_means`: the rest ``r`` of a total ``t`` after
    removing a part ``q``.

    Returns ``(S_r, mean_r, c, d)`` with the centered moments of the rest equal
    to ``M_t - M_q - c * d d^T`` (``c = S_r S_q / S_t``, ``d = mean_q - mean_r``).
    """
    S = sw_total - sw_part
    if sw_part <= 0:
        zeros = tuple(np.zeros_like(m) for m in mean_total)
        return S, mean_total, 0.0, zeros
    mean = tuple((sw_total * mt - sw_part * mq) / S for mt, mq in zip(mean_total, mean_part))
    d = tuple(mq - mr for mq, mr in zip(mean_part, mean))
    return S, mean, S * sw_part / sw_total, d


class RidgeStats:
    """Sufficient statistics of a weighted ridge problem, mergeable across batches.

    Everything :class:`~l2gd.GDRidgeRegressor` needs to solve the ridge problem
    exactly, for any ``alpha``: the total weight, the weighted means of X and
    y, and the centered weighted moment matrices. Its size is
    ``O(n_features**2)`` whatever the number of rows, and two statistics merge
    exactly (the pairwise update of Chan, Golub and LeVeque), so any engine
    that can map over blocks of rows and reduce (a loop over files, Dask, Ray,
    Spark) can fit l2gd exactly.

    Parameters
    ----------
    sw_sum : float
        Total sample weight ``S``.
    x_mean : ndarray of shape (n_features,)
        Weighted mean of the rows of X (zeros when ``fit_intercept=False``).
    y_mean : ndarray of shape (n_targets,)
        Weighted mean of y (zeros when ``fit_intercept=False``).
    xx : ndarray of shape (n_features, n_features)
        ``sum_i s_i (x_i - x_mean)(x_i - x_mean)^T``.
    xy : ndarray of shape (n_features, n_targets)
        ``sum_i s_i (x_i - x_mean)(y_i - y_mean)^T``.
    yy : ndarray of shape (n_targets,)
        ``sum_i s_i (y_i - y_mean)**2``.
    n_samples : int
        Number of rows seen.
    fit_intercept : bool
        Whether the moments are centered (the model has an intercept).

    See Also
    --------
    GDRidgeRegressor.from_stats : Fit an estimator from statistics.

    Examples
    --------
    >>> import numpy as np
    >>> from l2gd import RidgeStats
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((100, 3)), rng.standard_normal(100)
    >>> whole = RidgeStats.from_batch(X, y)
    >>> parts = RidgeStats.from_batch(X[:30], y[:30]).merge(
    ...     RidgeStats.from_batch(X[30:], y[30:]))
    >>> bool(np.allclose(whole.xx, parts.xx))
    True
    """

    def __init__(self, sw_sum, x_mean, y_mean, xx, xy, yy, n_samples, fit_intercept):
        self.sw_sum = float(sw_sum)
        self.x_mean = x_mean
        self.y_mean = y_mean
        self.xx = xx
        self.xy = xy
        self.yy = yy
        self.n_samples = int(n_samples)
        self.fit_intercept = bool(fit_intercept)

    @property
    def n_features(self):
        return self.xx.shape[0]

    @property
    def n_targets(self):
        return self.xy.shape[1]

    @property
    def dtype(self):
        return self.xx.dtype

    @classmethod
    def from_batch(cls, X, y, sample_weight=None, *, fit_intercept=True):
        """Compute the statistics of one batch of rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows of the design. Dense X is read in row blocks, never copied.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.
        fit_intercept : bool, default=True
            Center the moments (the model has an intercept).

        Returns
        -------
        stats : RidgeStats
        """
        from ._validation import check_batch

        X, Y, sw = check_batch(X, y, sample_weight, check_finite=False)
        return cls._from_unchecked(X, Y, sw, fit_intercept)

    @classmethod
    def _from_unchecked(cls, X, Y, sample_weight, fit_intercept, estimator_name=None):
        """:meth:`_from_checked` of rows whose X has not been checked for NaN or
        infinity: the Gram kernel's pass is the check, so dense X is read once.
        NaN or infinity in a column makes its diagonal entry of ``xx``
        non-finite, so a finite diagonal proves X finite; otherwise
        scikit-learn's check raises its error (or finds X finite: its squares
        overflowed, and the statistics are returned as they came out)."""
        with np.errstate(all="ignore"):
            stats = cls._from_checked(X, Y, sample_weight, fit_intercept)
        if not np.all(np.isfinite(np.diagonal(stats.xx))):
            assert_all_finite(X, input_name="X", estimator_name=estimator_name)
        return stats

    @classmethod
    def _from_problem(cls, problem):
        """Statistics of a :class:`~l2gd.RidgeProblem` (NumPy or SciPy data),
        centered at the problem's own offsets; when the problem has not yet
        computed X's means, they come from this pass and the problem keeps
        them (one read of X). Statistics the problem adopted
        (:meth:`~l2gd.RidgeProblem.adopt_stats`) are returned as they are."""
        if getattr(problem, "_stats", None) is not None:
            return problem._stats
        if problem.fit_intercept and getattr(problem, "_X_offset", 0) is None:
            stats = cls._from_checked(problem.X, problem.Y, problem.sample_weight, True)
            problem.X_offset = stats.x_mean
            return stats
        return cls._from_checked(
            problem.X,
            problem.Y,
            problem.sample_weight,
            problem.fit_intercept,
            x_mean=problem.X_offset,
            y_mean=problem.y_offset,
        )

    @classmethod
    def _from_checked(cls, X, Y, sample_weight, fit_intercept, x_mean=None, y_mean=None):
        """Statistics of validated rows; dense X is read once (the means come
        from the Gram kernel's pass, :func:`_dense_moments`), centered at
        ``x_mean``/``y_mean`` instead when given."""
        n = X.shape[0]
        dtype = X.dtype
        sw_sum = float(n if sample_weight is None else sample_weight.sum())
        find_means = fit_intercept and sw_sum > 0 and x_mean is None
        if not (fit_intercept and sw_sum > 0):
            x_mean = np.zeros(X.shape[1], dtype=dtype)
            y_mean = np.zeros(Y.shape[1], dtype=dtype)
        if sp.issparse(X):
            if find_means:
                from ._objective import _weighted_mean

                x_mean = _weighted_mean(X, sample_weight, sw_sum)
                y_mean = _weighted_mean(Y, sample_weight, sw_sum)
            xx, xy, yy = _sparse_moments(X, Y, sample_weight, x_mean, y_mean, sw_sum)
        else:
            center = None if find_means else (x_mean, y_mean)
            x_mean, y_mean, xx, xy, yy = _dense_moments(X, Y, sample_weight, sw_sum, center)
        return cls(sw_sum, x_mean, y_mean, xx, xy, yy, n, fit_intercept)

    def merge(self, other):
        """Return the statistics of both batches together (exact, order-free).

        Parameters
        ----------
        other : RidgeStats
            Statistics of other rows, with the same shapes and
            ``fit_intercept``.

        Returns
        -------
        merged : RidgeStats
            A new object; ``self`` and ``other`` are unchanged.
        """
        if not isinstance(other, RidgeStats):
            raise TypeError(f"other must be a RidgeStats, got {type(other).__name__}.")
        if other.fit_intercept != self.fit_intercept:
            raise ValueError("Cannot merge statistics with different fit_intercept.")
        if other.xy.shape != self.xy.shape:
            raise ValueError(
                "Cannot merge statistics of different shapes: "
                f"{self.xy.shape} (n_features, n_targets) and {other.xy.shape}."
            )
        xx = self.xx + other.xx
        xy = self.xy + other.xy
        yy = self.yy + other.yy
        if self.fit_intercept:
            S, (x_mean, y_mean), c, (dx, dy) = combine_means(
                self.sw_sum, (self.x_mean, self.y_mean), other.sw_sum, (other.x_mean, other.y_mean)
            )
            if c > 0:
                xx += c * np.outer(dx, dx)
                xy += c * np.outer(dx, dy)
                yy += c * dy**2
        else:
            S, x_mean, y_mean = self.sw_sum + other.sw_sum, self.x_mean, self.y_mean
        return RidgeStats(
            S, x_mean, y_mean, xx, xy, yy, self.n_samples + other.n_samples, self.fit_intercept
        )

    def subtract(self, part):
        """The statistics of the rows of ``self`` that are not in ``part`` (the
        inverse of :meth:`merge`; cross-validation's training folds).

        Parameters
        ----------
        part : RidgeStats
            Statistics of a subset of the rows of ``self``.

        Returns
        -------
        rest : RidgeStats

        Raises
        ------
        ValueError
            When the remaining rows have zero total weight.
        """
        if not self.sw_sum - part.sw_sum > 0:
            raise ValueError(
                "sample_weight sums to zero on the remaining rows (a training set of a "
                "split); every training set needs positive total weight."
            )
        xx, xy, yy = self.xx - part.xx, self.xy - part.xy, self.yy - part.yy
        if self.fit_intercept:
            S, (x_mean, y_mean), c, (dx, dy) = remove_means(
                self.sw_sum, (self.x_mean, self.y_mean), part.sw_sum, (part.x_mean, part.y_mean)
            )
            if c > 0:
                xx = xx - c * np.outer(dx, dx)
                xy = xy - c * np.outer(dx, dy)
                yy = yy - c * dy**2
        else:
            S, x_mean, y_mean = self.sw_sum - part.sw_sum, self.x_mean, self.y_mean
        return RidgeStats(
            S, x_mean, y_mean, xx, xy, yy, self.n_samples - part.n_samples, self.fit_intercept
        )

    def uncentered(self):
        """The same rows' statistics for a model without intercept (moments about 0).

        Returns
        -------
        stats : RidgeStats
            With ``fit_intercept=False``; ``self`` if it already is.
        """
        if not self.fit_intercept:
            return self
        S, m, ym = self.sw_sum, self.x_mean, self.y_mean
        return RidgeStats(
            S,
            np.zeros_like(m),
            np.zeros_like(ym),
            self.xx + S * np.outer(m, m),
            self.xy + S * np.outer(m, ym),
            self.yy + S * ym**2,
            self.n_samples,
            False,
        )

    def squared_error(self, W, b):
        """Weighted squared error ``sum_i s_i (y_i - x_i W - b)^2`` per target of
        these rows, from the statistics alone.

        ``W`` has shape (n_features, n_targets) or (n_alphas, n_features,
        n_targets) and ``b`` (n_targets,) or (n_alphas, n_targets): a whole path
        at once. Equal to ``yy - 2 W^T xy + W^T xx W + S (y_mean - x_mean W - b)^2``.
        """
        from ._objective import moments_objective

        W = np.asarray(W)
        gap = self.y_mean - np.einsum("i,...ik->...k", self.x_mean, W) - b
        return moments_objective(W, np.matmul(self.xx, W), self.xy, self.yy, 0.0) + (
            self.sw_sum * gap**2
        )

    def objective(self, W, alpha):
        """Ridge objective per target at coefficients ``W`` and the optimal intercept."""
        W = np.asarray(W)
        return self.squared_error(W, self.intercept(W)) + alpha * (W * W).sum(0)

    def intercept(self, W):
        """Optimal intercept for coefficients ``W``."""
        return self.y_mean - self.x_mean @ W
