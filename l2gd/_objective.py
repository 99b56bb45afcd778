"""The ridge problem, stated once, and the interface solvers ask it through.

Every l2gd solver minimizes, for each target column ``k``,

.. math::

    f_k(w, b) = \\sum_{i=1}^{n} s_i \\, (y_{ik} - x_i^\\top w - b)^2
                + \\alpha_k \\, \\lVert w \\rVert_2^2

with sample weights ``s_i >= 0`` (default 1) and an unpenalized intercept
``b`` (``b = 0`` when ``fit_intercept=False``). This is exactly the objective
of :class:`sklearn.linear_model.Ridge` with the same ``alpha``: a sum, not a
mean, and not halved.

With an intercept, minimizing over ``b`` first gives ``b = \\bar y - \\bar x^\\top
w`` with the weighted means ``\\bar x = \\sum_i s_i x_i / S`` and ``\\bar y``,
``S = \\sum_i s_i``; what remains is the same problem without intercept on the
centered data ``X_c = X - 1 \\bar x^\\top``, ``y_c = y - \\bar y``. The
deterministic solvers work on that centered problem. Per target column::

    f(w)      = ||y_c - X_c w||_S^2 + alpha ||w||^2
    grad f(w) = -2 X_c^T S (y_c - X_c w) + 2 alpha w
    hess f    = 2 (X_c^T S X_c + alpha I)
    L         = 2 (lambda_max(X_c^T S X_c) + alpha)   (Lipschitz constant of grad f)

The interface
-------------
What an iterative solver may ask of a problem; ``W`` and ``P`` have shape
(n_features, n_targets), every target is solved at once.

=============================  ==================================================
``value(W)``                   ``sum_k f_k`` at ``W`` and the optimal intercept
``value_and_gradient(W)``      ``f_k`` per target and ``grad f`` (one pass)
``gradient(W)``                ``grad f``
``hessian_matvec(P)``          ``2 (X_c^T S X_c + alpha I) P``
``lipschitz()``                ``L`` per target (Lanczos, an upper bound)
``gram_diagonal()``            ``diag(X_c^T S X_c)`` (for a Jacobi preconditioner)
``intercept(W)``               the optimal ``b = y_offset - X_offset^T W``
``rescale_targets(c)``         the same problem for targets ``y * c`` (per target)
``gradient(W, batch=rows)``    unbiased estimate from the rows (data only)
``batch(rows)``                the sub-problem of the rows (data only)
=============================  ==================================================

plus the attributes ``alpha``, ``dtype``, ``xp``, ``device``, ``n_samples``,
``n_features``, ``n_targets``, ``sw_sum``, ``sample_weight``, ``fit_intercept``,
``X_offset``, ``y_offset``. Solvers never re-derive these formulas.

Two implementations
-------------------
:class:`RidgeProblem` holds the data: X (dense, sparse or any Array API
array), y, the weights. It never forms ``X_c``: products with it are corrected
on the small side (``X_c w = X w - 1 (\\bar x^\\top w)``, ``X_c^\\top r =
X^\\top r - \\bar x (1^\\top r)``), so a sparse X stays sparse and a dense X is
not copied; ``hessian_matvec`` costs one product with X and one with X^T,
``value`` is computed from the residual (accurate however good the fit).
It also offers the data-side products direct solvers use (``matvec``,
``rmatvec``, ``weighted``, ``residual``).

:class:`GramProblem` holds the moments: ``X_c^T S y_c``, ``y_c^T S y_c``, the
means, and either ``X_c^T S X_c`` (NumPy, :class:`~l2gd.RidgeStats`) or a
callable ``V -> X_c^T S X_c V`` (e.g. one Dask pass over X per product, for data
too wide for ``p x p``). Its value is ``yy - 2 w^T xy + w^T H w + alpha
||w||^2``, which cancels when the fit is very good (relative error about
``eps * ||y_c||^2 / f``). Gradient descent on it gives the iterates of gradient
descent on the data, up to rounding.
"""

import copy
import math

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackError, LinearOperator, eigsh

from ._array_api import is_numpy, namespace, to_device, to_numpy
from ._linalg import squared_entries
from ._stats import _block_rows

# The one-read Gram product (:meth:`RidgeProblem.gram_matvec`) takes dense X
# in row blocks of about this many bytes, which stay in cache between the
# product with X and the one with X^T. With this many targets or more the
# two products are compute-bound and the blocks gain nothing (measured at
# 20,000 x 200 and 4,000 x 1,500 with 50 targets: 0.9-1.1x), so X is swept twice.
_PRODUCT_BLOCK_BYTES = 2**19
_PRODUCT_MAX_TARGETS = 32
# Row blocks of the means pass in namespaces other than NumPy's (see _weighted_mean).
_MEAN_MIN_ROWS = 256
_MEAN_BLOCK_BYTES = 2**22
# The centered Gram diagonal from uncentered moments is summed again about the
# centers where its value is within this factor of its worst-case rounding.
_DIAG_TRUST = 2**10


def _weighted_mean(A, sample_weight, sw_sum, xp=np):
    """Column means of ``A`` (dense or sparse) weighted by ``sample_weight``: the
    one home of the centers that every solver's implicit centering uses.

    Summed row by row in float32, a million float32 "years" (2000 +- 0.5)
    drift 35 standard deviations, and the centered problem is another one.
    NumPy data are summed in float64 (or A's precision, if higher), dense
    ones in about ``sqrt(n)`` blocks of rows whose sums are then added: the
    rounding of the mean is then about ``n**0.25 * eps * |mean|`` instead of
    ``sqrt(n) * eps * |mean|``, at the cost of one plain sum. Other
    namespaces (whose sums are trees, in A's dtype) are summed in blocks
    about a shift, the mean of the first rows, so that their rounding grows
    with each column's spread, not with its magnitude.
    """
    if sp.issparse(A):
        acc = np.promote_types(A.dtype, np.float64)
        if sample_weight is None:
            total = A.sum(axis=0, dtype=acc)
        else:
            total = A.T @ np.asarray(sample_weight, dtype=acc)
        return (np.asarray(total).ravel() / sw_sum).astype(A.dtype, copy=False)
    n, p = A.shape
    if is_numpy(xp):
        acc = np.promote_types(A.dtype, np.float64)
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=acc)
        rows = max(_MEAN_MIN_ROWS, math.isqrt(n))
        total = np.zeros(p, dtype=acc)
        for start in range(0, n, rows):
            B = A[start : start + rows]
            total += B.sum(axis=0, dtype=acc) if sw is None else sw[start : start + rows] @ B
        return (total / sw_sum).astype(A.dtype, copy=False)
    shift = xp.mean(A[: min(n, _MEAN_MIN_ROWS), ...], axis=0)
    total = xp.zeros_like(shift)
    rows = _block_rows(p, 8, n, _MEAN_BLOCK_BYTES, _MEAN_MIN_ROWS)
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        B = A[start:stop, ...] - shift
        total = total + (
            xp.sum(B, axis=0) if sample_weight is None else B.T @ sample_weight[start:stop]
        )
    return shift + total / sw_sum


def moments_objective(W, HW, xy, yy, alpha):
    """The ridge objective per target from the moments: ``yy - 2 w^T xy +
    w^T H w + alpha ||w||^2``, with ``HW = H @ W`` given (the caller has it,
    or forms it with one BLAS product: a three-operand ``einsum`` over
    ``W, H, W`` loops without BLAS, 11 s instead of 0.3 s at 500 features and
    20,000 targets).

    ``W`` and ``HW`` may carry leading axes (a path: ``(n_alphas, p, k)``).
    """
    cross = np.einsum("...pk,pk->...k", W, xy)
    quad = np.einsum("...pk,...pk->...k", W, HW)
    return yy - 2.0 * cross + quad + alpha * np.einsum("...pk,...pk->...k", W, W)


def centered_gram_block(B, V, shift=None, sample_weight=None):
    """One row block's share of ``X_c^T S X_c V``: the single home of the
    blocked Hessian product (row blocks in memory, Dask chunks).

    ``T = S_B (B V - 1 shift^T)`` with ``shift = x_offset^T V`` (``None``:
    uncentered) and ``S_B`` the block's weights; returns ``(B^T T, 1^T T)``
    (the second ``None`` when uncentered). Over all blocks,
    ``X_c^T S X_c V = sum B^T T - x_offset (sum 1^T T)``: the centering of
    the second factor is applied once, by the caller. ``T`` has the dtype
    NumPy's promotion gives the two-sweep product.
    """
    dtype = np.result_type(B, V, *(a for a in (shift, sample_weight) if a is not None))
    T = (B @ V).astype(dtype, copy=False)
    if shift is not None:
        T -= shift
    if sample_weight is not None:
        T *= sample_weight[:, None]
    return B.T @ T, (None if shift is None else T.sum(axis=0))


def top_eigenvalue(matvec, n, upper, tol=1e-3):
    """Largest eigenvalue of a symmetric PSD operator ``v -> matvec(v)`` of size ``n``.

    Lanczos (ARPACK) on the host in float64, started from a seeded vector, the
    estimate inflated by ``tol`` relative to bound it from above in practice
    and capped by ``upper`` (a known upper bound such as the trace), which is
    also returned when ARPACK cannot run (``n <= 2``, a zero operator).
    """
    if n <= 2 or upper <= 0:
        return upper
    op = LinearOperator(
        (n, n), matvec=lambda v: np.asarray(matvec(v), dtype=np.float64), dtype=np.float64
    )
    v0 = np.random.default_rng(0).standard_normal(n)
    try:
        top = eigsh(op, k=1, which="LA", tol=tol, v0=v0, return_eigenvectors=False)
    except ArpackError:
        return upper
    return min(max(float(top[0]), 0.0) * (1.0 + tol), upper)


class RidgeProblem:
    """Ridge regression problem: data, weights, penalty and intercept handling.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data. Never copied or modified.
    Y : ndarray of shape (n_samples, n_targets)
        Targets, always 2-D here.
    alpha : ndarray of shape (n_targets,)
        Penalty per target, ``>= 0``.
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative weights; None means all ones.
    fit_intercept : bool
        Whether the problem has an unpenalized intercept (then it is
        eliminated by implicit centering, see the module docstring).
    X_offset, y_offset : ndarray or None, default=None
        Centers to use instead of the weighted means of these rows (streaming
        solvers pass the running means of all rows seen so far). Only used
        with ``fit_intercept=True``.

    Attributes
    ----------
    sw_sum : float
        Total weight ``S``.
    X_offset : ndarray of shape (n_features,)
        Weighted column means of X (zeros without intercept).
    y_offset : ndarray of shape (n_targets,)
        Weighted means of Y (zeros without intercept).
    """

    def __init__(
        self, X, Y, alpha, sample_weight=None, fit_intercept=True, *, X_offset=None, y_offset=None
    ):
        xp, device = namespace(X)
        self.xp, self.device = xp, device
        self.X = X
        self.Y = Y
        self.dtype = X.dtype
        self.alpha = to_device(np.asarray(to_numpy(alpha)), xp, device, X.dtype)
        self.sample_weight = sample_weight
        self.fit_intercept = fit_intercept
        n_samples = X.shape[0]
        self.sw_sum = float(n_samples if sample_weight is None else xp.sum(sample_weight))
        if fit_intercept and X_offset is not None:
            self.X_offset = xp.asarray(X_offset, dtype=X.dtype, device=device)
            self.y_offset = xp.asarray(y_offset, dtype=X.dtype, device=device)
        elif fit_intercept:
            # X's means are computed when first used: the closed form takes
            # them from its one pass over X (RidgeStats._from_problem).
            self._X_offset = None
            self.y_offset = _weighted_mean(Y, sample_weight, self.sw_sum, xp)
        else:
            self.X_offset = xp.zeros(X.shape[1], dtype=X.dtype, device=device)
            self.y_offset = xp.zeros(Y.shape[1], dtype=X.dtype, device=device)
        self._Yc = None
        self._stats = None

    @property
    def Yc(self):
        """The centered targets ``Y - y_offset``, formed when first used and
        kept (small next to X with few targets; a closed-form fit from the
        statistics never forms them, which matters with many targets)."""
        if self._Yc is None:
            self._Yc = self.Y - self.y_offset
        return self._Yc

    def adopt_stats(self, stats):
        """Keep ``stats``, the :class:`~l2gd.RidgeStats` of these very rows
        computed before the problem (the fit's one pass over X), as the
        problem's statistics and X's means."""
        self._stats = stats
        if self.fit_intercept:
            self.X_offset = stats.x_mean

    @property
    def X_offset(self):
        """Weighted column means of X (the centers; zeros without intercept)."""
        if self._X_offset is None:
            self._X_offset = _weighted_mean(self.X, self.sample_weight, self.sw_sum, self.xp)
        return self._X_offset

    @X_offset.setter
    def X_offset(self, value):
        self._X_offset = value

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]

    @property
    def n_targets(self):
        return self.Y.shape[1]

    @property
    def is_sparse(self):
        return sp.issparse(self.X)

    # -- products with the (implicitly) centered design ---------------------
    def matvec(self, W):
        """Return ``X_c @ W`` for ``W`` of shape (n_features, m)."""
        return self._centered_matvec(self.X, W)

    def rmatvec(self, R):
        """Return ``X_c.T @ R`` for ``R`` of shape (n_samples, m)."""
        return self._centered_rmatvec(self.X, R)

    def _centered_matvec(self, Xb, W):
        """``(Xb - 1 X_offset^T) @ W`` for rows ``Xb`` of X."""
        out = Xb @ W
        if self.fit_intercept:
            out = out - self.X_offset @ W
        return out

    def _centered_rmatvec(self, Xb, R):
        """``(Xb - 1 X_offset^T).T @ R`` for rows ``Xb`` of X."""
        out = Xb.T @ R
        if self.fit_intercept:
            out = out - self.X_offset[:, None] * self.xp.sum(R, axis=0)[None, :]
        return out

    def _rows(self, A, rows):
        """Rows of ``A`` (X, Y or the weights): a slice, or integer indices in any namespace."""
        if sp.issparse(A) or is_numpy(self.xp):
            return A[rows]
        if isinstance(rows, slice):
            return A[rows, ...]
        idx = self.xp.asarray(np.asarray(to_numpy(rows)), device=self.device)
        return self.xp.take(A, idx, axis=0)

    def weighted(self, R):
        """Return ``S @ R``: rows of ``R`` scaled by the sample weights."""
        if self.sample_weight is None:
            return R
        return R * self.sample_weight[:, None]

    # -- objective ----------------------------------------------------------
    def residual(self, W):
        """Residual ``r = y_c - X_c W`` of shape (n_samples, n_targets)."""
        return self.Yc - self.matvec(W)

    def value_from_residual(self, R, W):
        """Objective per target from a residual ``R`` at ``W``."""
        xp = self.xp
        return xp.sum(self.weighted(R) * R, axis=0) + self.alpha * xp.sum(W * W, axis=0)

    def value(self, W):
        """Ridge objective summed over targets at the optimal intercept for ``W``.

        Equal to ``sum_k f_k(W[:, k], b_k)`` with ``b = intercept(W)``, the
        quantity :class:`sklearn.linear_model.Ridge` minimizes.
        """
        return float(self.xp.sum(self.value_from_residual(self.residual(W), W)))

    def value_and_gradient(self, W):
        """The objective per target and its gradient at ``W``, from one residual.

        One product with X and one with X^T (only the latter from ``W = 0``).

        Returns
        -------
        value : array of shape (n_targets,)
            ``f_k`` per target (:meth:`value` is their sum).
        gradient : array of shape (n_features, n_targets)
        """
        R = self.residual(W) if bool(self.xp.any(W != 0)) else self.Yc
        return self.value_from_residual(R, W), self._gradient_from_residual(R, W)

    def _gradient_from_residual(self, R, W):
        return 2.0 * (self.alpha * W - self.rmatvec(self.weighted(R)))

    def gradient(self, W, *, batch=None):
        """Gradient of the objective with respect to ``W``.

        With ``batch`` (a slice or an integer array of row indices), the
        unbiased mini-batch estimate of the same gradient::

            (n / |B|) * (-2 X_c[B]^T S_B r_B) + 2 alpha W

        whose expectation over a uniformly drawn batch ``B`` is the full
        gradient, exactly, with or without sample weights. Only the rows in
        ``B`` are read (a slice of a dense X or memmap is a view). Both run in
        X's namespace and on its device.
        """
        if batch is not None:
            return self._batch_gradient(W, batch)
        return self._gradient_from_residual(self.residual(W), W)

    def _batch_gradient(self, W, batch):
        Xb = self._rows(self.X, batch)
        R = self._rows(self.Yc, batch) - self._centered_matvec(Xb, W)
        if self.sample_weight is not None:
            R = R * self._rows(self.sample_weight, batch)[:, None]
        G = self._centered_rmatvec(Xb, R)
        return 2.0 * (self.alpha * W - (self.n_samples / Xb.shape[0]) * G)

    def gram_matvec(self, V):
        """``X_c^T S X_c V`` for ``V`` of shape (n_features, m), X never copied.

        Dense NumPy X (in memory or a memmap) with few columns in ``V`` is read
        once: each row block ``B`` gives ``T = S (B - 1 x_offset^T) V`` and
        ``B^T T`` while it is still in cache, and the centering of the second
        product is applied once at the end (``- x_offset 1^T T``). Two sweeps
        over X otherwise (sparse X, other namespaces, many columns in ``V``).
        """
        X, (n, p), k = self.X, self.X.shape, V.shape[1]
        dense = not self.is_sparse and is_numpy(self.xp)
        rows = _block_rows(p, X.dtype.itemsize, n, _PRODUCT_BLOCK_BYTES, 32) if dense else n
        if rows >= n or k >= _PRODUCT_MAX_TARGETS:
            return self.rmatvec(self.weighted(self.matvec(V)))
        sw = self.sample_weight
        shift = self.X_offset @ V if self.fit_intercept else None
        out = total = None
        for start in range(0, n, rows):
            block = slice(start, start + rows)
            part, sums = centered_gram_block(X[block], V, shift, None if sw is None else sw[block])
            if out is None:
                out, total = part, sums
            else:
                out += part
                if sums is not None:
                    total += sums
        return out if shift is None else out - np.outer(self.X_offset, total)

    def hessian_matvec(self, P):
        """``2 (X_c^T S X_c + alpha I) P`` (:meth:`gram_matvec`: one read of dense X)."""
        return 2.0 * (self.gram_matvec(P) + self.alpha * P)

    def rescale_targets(self, factor):
        """The same problem with the targets multiplied by ``factor`` (one per target).

        X is shared, not copied; the minimizer of the new problem is ``factor``
        times this one's (exactly, for a power of two). Solvers use it to work
        in units in which the gradient is about 1.
        """
        c = to_device(np.asarray(to_numpy(factor)), self.xp, self.device, self.dtype)
        new = copy.copy(self)
        new.Y, new.y_offset = self.Y * c, self.y_offset * c
        new._Yc = None if self._Yc is None else self._Yc * c
        new._stats = None  # they hold the old targets' moments
        return new

    def batch(self, rows):
        """The sub-problem of the given rows, with the same centers and alpha.

        ``rows`` is a slice or an integer array. The centers (``X_offset``,
        ``y_offset``) stay those of the whole problem, so products with the
        sub-problem are products with rows of the same centered design.
        """
        sw = None if self.sample_weight is None else self._rows(self.sample_weight, rows)
        return RidgeProblem(
            self._rows(self.X, rows),
            self._rows(self.Y, rows),
            self.alpha,
            sample_weight=sw,
            fit_intercept=self.fit_intercept,
            X_offset=self.X_offset,
            y_offset=self.y_offset,
        )

    def for_targets(self, cols):
        """The sub-problem of the targets ``cols`` (a boolean mask or indices):
        the same rows, centers and weights."""
        return RidgeProblem(
            self.X, self.Y[:, cols], to_numpy(self.alpha)[cols],
            sample_weight=self.sample_weight, fit_intercept=self.fit_intercept,
            X_offset=self.X_offset, y_offset=self.y_offset[cols],
        )

    def row_norms_sq(self, block_rows=4096):
        """Weighted squared norms ``s_i ||x_i - x_offset||^2`` of the centered rows.

        Read in row blocks (a memmap is never loaded whole).
        """
        n = self.n_samples
        out = np.empty(n, dtype=self.dtype)
        for start in range(0, n, block_rows):
            rows = slice(start, min(start + block_rows, n))
            Xb = self.X[rows]
            if self.is_sparse:
                sq = np.asarray(squared_entries(Xb).sum(axis=1)).ravel()
                if self.fit_intercept:
                    m = self.X_offset
                    sq = sq - 2.0 * np.asarray(Xb @ m).ravel() + m @ m
            else:
                Xb = Xb - self.X_offset if self.fit_intercept else Xb
                sq = np.einsum("ij,ij->i", Xb, Xb)
            out[rows] = np.clip(sq, 0, None)
        if self.sample_weight is not None:
            out *= self.sample_weight
        return out

    def intercept(self, W):
        """Optimal intercept ``y_offset - X_offset @ W`` for coefficients ``W``."""
        return self.y_offset - self.X_offset @ W

    def lipschitz(self, tol=1e-3):
        """Lipschitz constants of the gradient, one per target.

        ``2 * (lambda_max(X_c^T S X_c) + alpha)``; the top eigenvalue comes
        from Lanczos (ARPACK) on the implicit operator, so X is never copied.
        The estimate is inflated by ``tol`` relative to make it an upper bound
        in practice.
        """
        return 2.0 * (self.gram_norm(tol) + to_numpy(self.alpha).astype(np.float64))

    def gram_norm(self, tol=1e-3):
        """Largest eigenvalue of the centered weighted Gram matrix ``X_c^T S X_c``."""
        p = self.n_features

        def mv(v):
            # Lanczos runs on the host; the products run on X's device.
            v = to_device(np.reshape(v, (p, 1)), self.xp, self.device, self.dtype)
            return to_numpy(self.gram_matvec(v)).ravel()

        # Frobenius bound: the trace of the Gram matrix bounds its norm.
        return top_eigenvalue(mv, p, float(self.xp.sum(self._gram_diagonal())), tol)

    def gram_diagonal(self):
        """Diagonal of the centered weighted Gram matrix ``X_c^T S X_c``.

        Computed without forming ``X_c`` or copying X, in X's namespace and
        on its device. An entry is exactly 0 when its column is constant (with
        weights: constant on the rows of positive weight) to rounding: the
        centered sum of squares is then within ``n * eps`` of the uncentered
        one's cancellation, pure rounding noise that would otherwise look like
        a column of tiny scale (and a huge Jacobi step on it).

        Returns
        -------
        diag : array of shape (n_features,)
            Non-negative.
        """
        xp = self.xp
        raw, centered = self._gram_diagonal_parts()
        noise = self.n_samples * float(xp.finfo(self.dtype).eps) * raw
        return xp.where(centered > noise, centered, xp.zeros_like(centered))

    def _gram_diagonal(self):
        """Diagonal of ``X_c^T S X_c`` without forming it or copying X."""
        return self._gram_diagonal_parts()[1]

    def _gram_diagonal_parts(self):
        """``(scale, centered)``: ``diag(X_c^T S X_c)`` (clipped at 0) and the
        moment its rounding scales with (see :meth:`gram_diagonal`).

        From the uncentered ``diag(X^T S X)`` less ``S x_offset**2`` (then
        ``scale`` is the uncentered one), in one read of X. That subtraction
        loses ``log2(1 + mean**2 / var)`` bits of a column, which in float32
        over a million rows leaves nothing of a column whose mean is 3
        standard deviations: on dense NumPy X the columns whose centered value
        is within ``_DIAG_TRUST`` of that rounding are summed again about the
        centers (:func:`_moments_about`), and their ``scale`` is then the
        moment about the centers.
        """
        X, sw = self.X, self.sample_weight
        dense = not self.is_sparse and is_numpy(self.xp) and self.fit_intercept
        eps = float(np.finfo(self.dtype).eps) if dense else None
        if dense and _DIAG_TRUST * self.n_samples * eps >= 1:
            # centered <= uncentered: every column would be summed again below.
            return _moments_about(X, sw, self.sw_sum, self.X_offset, np.arange(X.shape[1]))
        if self.is_sparse:
            sq = squared_entries(X)
            diag = np.asarray(sq.sum(axis=0) if sw is None else sq.T @ sw).ravel()
        elif not is_numpy(self.xp):
            sq = X * X
            diag = self.xp.sum(sq, axis=0) if sw is None else sw @ sq
        elif sw is None:
            diag = np.einsum("ij,ij->j", X, X)
        else:
            diag = np.einsum("ij,ij,i->j", X, X, sw)
        centered = self.xp.clip(diag - self.sw_sum * self.X_offset**2, 0, None)
        if not dense:
            return diag, centered
        redo = np.flatnonzero(centered <= _DIAG_TRUST * self.n_samples * eps * diag)
        if redo.size:
            about, spread = _moments_about(X, sw, self.sw_sum, self.X_offset, redo)
            diag, centered = diag.copy(), centered.copy()
            diag[redo], centered[redo] = about, spread
        return diag, centered


def _moments_about(X, sample_weight, sw_sum, center, columns):
    """For the given columns of dense ``X``, ``(q2, q2 - q1**2 / S)`` with
    ``q_k = sum_i s_i (x_ij - center_j)**k``: the weighted moment about
    ``center`` (in X's dtype) and the centered one, whose rounding scales with
    ``q2``, not with the columns' magnitudes. Each block of rows (in cache) is
    shifted and summed in X's dtype, the blocks' sums added in float64 (3.4x
    one ``einsum`` pass in float32 at 1e6 x 50, relative error 1e-7).
    Constant columns give ``q2 - q1**2 / S`` within ``n eps q2`` of 0."""
    acc = np.promote_types(X.dtype, np.float64)
    c = np.asarray(center, dtype=X.dtype)[columns]
    every = columns.size == X.shape[1]
    rows = _block_rows(columns.size, X.dtype.itemsize, X.shape[0], _PRODUCT_BLOCK_BYTES, 32)
    q1, q2 = np.zeros(columns.size, acc), np.zeros(columns.size, acc)
    for start in range(0, X.shape[0], rows):
        B = X[start : start + rows]
        D = (B if every else B[:, columns]) - c
        SD = D if sample_weight is None else D * sample_weight[start : start + rows, None]
        q1 += np.einsum("ij->j", SD)
        q2 += np.einsum("ij,ij->j", SD, D)
    spread = np.clip(q2 - q1 * q1 / sw_sum, 0, None)
    return q2.astype(X.dtype), spread.astype(X.dtype)


class GramProblem:
    """The ridge problem seen through its moments: the interface of
    :class:`RidgeProblem` (see the module docstring) without X.

    Everything comes from the means, ``xy = X_c^T S y_c``, ``yy = y_c^T S
    y_c`` and products with the Gram matrix ``H = X_c^T S X_c``::

        value_k    = yy_k - 2 w_k^T xy_k + w_k^T H w_k + alpha_k ||w_k||^2
        gradient   = 2 (H W + alpha W - xy)
        hessian P  = 2 (H P + alpha P)

    so a solver that asks only for these gives on it the iterates it gives
    on the data (up to rounding). ``H V`` is ``stats.xx @ V`` in memory, or a
    ``gram_matvec`` callable (e.g. one pass over a Dask array per product,
    for data too wide for ``p x p``). Statistics live on the host, in NumPy.

    Parameters
    ----------
    stats : RidgeStats or object with the same attributes
        ``sw_sum``, ``x_mean``, ``y_mean``, ``xy``, ``yy``, ``n_samples``,
        ``fit_intercept``, and ``xx`` unless ``gram_matvec`` is given.
    alpha : array-like of shape (n_targets,)
        Penalty per target, ``>= 0``.
    gram_matvec : callable, default=None
        ``V -> H @ V`` for ``V`` of shape (n_features, m); default ``stats.xx @ V``.
    gram_diagonal : ndarray of shape (n_features,), default=None
        Diagonal of ``H``; default ``diag(stats.xx)``.

    Attributes
    ----------
    n_gram_matvecs : int
        Products with ``H`` computed so far (an all-zero ``V`` costs none).

    Examples
    --------
    >>> import numpy as np
    >>> from l2gd import RidgeProblem, RidgeStats
    >>> from l2gd._objective import GramProblem
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.standard_normal((50, 3)), rng.standard_normal((50, 1))
    >>> gram = GramProblem(RidgeStats.from_batch(X, Y), [1.0])
    >>> W = rng.standard_normal((3, 1))
    >>> bool(np.isclose(gram.value(W), RidgeProblem(X, Y, np.array([1.0])).value(W)))
    True
    """

    is_sparse = False
    sample_weight = None
    xp = np  # statistics live on the host
    device = "cpu"

    def __init__(self, stats, alpha, gram_matvec=None, gram_diagonal=None):
        self.stats = stats
        self.xy, self.yy = stats.xy, stats.yy
        self.dtype = self.xy.dtype
        self.alpha = np.asarray(alpha, dtype=self.dtype)
        self.sw_sum = float(stats.sw_sum)
        self.n_samples = int(stats.n_samples)
        self.fit_intercept = stats.fit_intercept
        self.X_offset = stats.x_mean
        self.y_offset = stats.y_mean
        self._matvec = gram_matvec if gram_matvec is not None else (lambda V: stats.xx @ V)
        self._diag = gram_diagonal if gram_diagonal is not None else np.diagonal(stats.xx)
        self.n_gram_matvecs = 0

    @property
    def n_features(self):
        return self.xy.shape[0]

    @property
    def n_targets(self):
        return self.xy.shape[1]

    def gram_matvec(self, V):
        """``H @ V = X_c^T S X_c V`` (nothing computed when ``V`` is zero)."""
        if not np.any(V):
            return np.zeros_like(V)
        self.n_gram_matvecs += 1
        return np.asarray(self._matvec(V), dtype=self.dtype)

    # -- the interface ----------------------------------------------------
    def value_and_gradient(self, W):
        """The objective per target and its gradient at ``W`` (one product with ``H``)."""
        HW = self.gram_matvec(W)
        value = moments_objective(W, HW, self.xy, self.yy, self.alpha)
        return value, 2.0 * (HW + self.alpha * W - self.xy)

    def value(self, W):
        """Ridge objective summed over targets at the optimal intercept."""
        return float(np.sum(self.value_and_gradient(W)[0]))

    def gradient(self, W):
        """Gradient of the objective with respect to ``W``."""
        return 2.0 * (self.gram_matvec(W) + self.alpha * W - self.xy)

    def hessian_matvec(self, P):
        """``2 (H + alpha I) P``: one product with ``H``."""
        return 2.0 * (self.gram_matvec(P) + self.alpha * P)

    def intercept(self, W):
        """Optimal intercept ``y_offset - X_offset @ W``."""
        return self.y_offset - self.X_offset @ W

    def rescale_targets(self, factor):
        """The same problem with the targets multiplied by ``factor`` (one per target)."""
        c = np.asarray(factor, dtype=self.dtype)
        new = copy.copy(self)
        new.xy, new.yy, new.y_offset = self.xy * c, self.yy * c * c, self.y_offset * c
        return new

    def lipschitz(self, tol=1e-3):
        """``2 (lambda_max(H) + alpha)``, as :meth:`RidgeProblem.lipschitz`."""
        return 2.0 * (self.gram_norm(tol) + self.alpha.astype(np.float64))

    def gram_diagonal(self):
        """Diagonal of ``H``, with constant columns exactly 0, as
        :meth:`RidgeProblem.gram_diagonal`."""
        centered = np.clip(self._diag, 0, None)
        raw = centered + self.sw_sum * np.asarray(self.X_offset, dtype=self.dtype) ** 2
        noise = self.n_samples * np.finfo(self.dtype).eps * raw
        return np.where(centered > noise, centered, 0).astype(self.dtype, copy=False)

    def _gram_diagonal(self):
        """Diagonal of ``H`` clipped at 0 (no rounding-noise test)."""
        return np.clip(self._diag, 0, None)

    def gram_norm(self, tol=1e-3):
        """Largest eigenvalue of ``H`` (Lanczos, bounded by the trace, as RidgeProblem)."""
        p = self.n_features

        def mv(v):
            return self.gram_matvec(np.asarray(v, dtype=self.dtype).reshape(p, 1)).ravel()

        return top_eigenvalue(mv, p, float(np.sum(self._gram_diagonal())), tol)
