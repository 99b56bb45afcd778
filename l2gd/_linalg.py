"""Rank and condition cutoffs and the small dense factorizations, in one place.

Every decision about rank or conditioning is made on the centered,
column-scaled problem, never on the raw design: a column's units must not
decide whether it counts. A 10th-degree polynomial (NIST Filip) is
numerically singular on raw columns and has condition 4e9 once centered and
column-scaled. The column scales are powers of two (:func:`column_scales`),
so scaling is exact: a Householder QR of the scaled design is bit for bit
the QR of the unscaled one with its R scaled, and only the decisions change.
Results are reported in the user's units.

The cutoffs (one home; every solver path and cross-validation use these):

- :func:`spectral_cutoff`: eigenvalues of a computed symmetric matrix (a Gram
  matrix, a kernel) below ``max(eigenvalues) * size * eps`` are rounding noise.
- :func:`singular_cutoff`: singular values of a matrix with ``n_rows`` rows
  below ``max(s) * max(n_rows, size) * eps`` are rounding noise (LAPACK's and
  NumPy's ``lstsq`` default).
- :func:`gram_is_reliable`: a Cholesky factorization of the equilibrated
  normal equations with reciprocal condition number below ``1e2 * eps`` says
  nothing about the solution; an orthogonal method on the data must be used.
- :data:`REFINE_BELOW`: the Gram route's relative error is about
  ``n * eps / rcond``; below this reciprocal condition number the solution is
  refined from the data (:func:`extended_dtype` says in which precision).
"""

import copy
import warnings

import numpy as np
import scipy.linalg as la
from scipy.linalg.lapack import get_lapack_funcs

#: Reciprocal condition number (1-norm estimate, equilibrated Gram matrix)
#: below which the Gram solution is refined from the data. The Gram route
#: loses about ``log10(n / rcond)`` digits where an orthogonal method loses
#: ``log10(sqrt(1 / rcond))``; at 5e-2 an unrefined Gram solution is within
#: about one digit of an orthogonal method's on the NIST StRD problems.
REFINE_BELOW = 5e-2

#: Factor by which :meth:`GramCholesky.rcond_2norm` lowers its Lanczos estimate
#: (Lanczos approaches the largest eigenvalues from below).
_LANCZOS_SAFETY = 2.0

#: ``gram_is_reliable`` threshold, as a multiple of the machine epsilon.
FALLBACK_EPS_FACTOR = 1e2


def eps(dtype):
    """Machine epsilon of a floating ``dtype``."""
    return float(np.finfo(dtype).eps)


def extended_dtype(dtype):
    """The NumPy dtype residuals are accumulated in when refining a ``dtype``
    solution: float64 for float32, ``numpy.longdouble`` for float64 where it
    is wider (x86 80-bit, IEEE quad), else float64."""
    if np.dtype(dtype).itemsize < 8:
        return np.dtype(np.float64)
    wide = np.dtype(np.longdouble)
    return wide if np.finfo(wide).eps < np.finfo(np.float64).eps else np.dtype(np.float64)


def squared_entries(X):
    """Sparse ``X`` with its stored entries squared, sharing X's index arrays
    (``X.multiply(X)`` recomputes the sparsity pattern: 3x slower at 10^6
    non-zeros). Its column sums (or ``.T @ weights``) are the diagonal of
    ``X^T S X``, its row sums the squared row norms."""
    X = X if X.format in ("csr", "csc") else X.tocsr()
    if not X.has_canonical_format:  # a duplicate (i, j) is a sum: square it summed
        X = X.copy()
        X.sum_duplicates()
    return type(X)((X.data * X.data, X.indices, X.indptr), shape=X.shape, copy=False)


def column_scales(norms):
    """Power-of-two scales ``d`` with ``norms / d`` in ``[0.5, 1)``; 1 where a
    norm is zero (or not finite). Dividing by ``d`` is exact."""
    norms = np.asarray(norms, dtype=np.float64)
    ok = np.isfinite(norms) & (norms > 0)
    return np.where(ok, np.ldexp(1.0, np.frexp(np.where(ok, norms, 1.0))[1]), 1.0)


def spectral_cutoff(eigenvalues, dtype):
    """Eigenvalues of a computed symmetric PSD matrix at or below this are noise.

    ``max(eigenvalues) * len(eigenvalues) * eps(dtype)``. Apply it to the
    eigenvalues of an *equilibrated* matrix (unit diagonal) to decide rank.
    """
    L = np.asarray(eigenvalues)
    return max(float(L.max(initial=0.0)), 0.0) * max(L.size, 1) * eps(dtype)


def singular_cutoff(singular_values, n_rows, dtype):
    """Singular values of an ``n_rows``-row matrix at or below this are noise.

    ``max(s) * max(n_rows, len(s)) * eps(dtype)``. Apply it to the singular
    values of the centered, column-scaled design to decide rank.
    """
    s = np.asarray(singular_values)
    return float(s.max(initial=0.0)) * max(int(n_rows), s.size, 1) * eps(dtype)


def numerical_rank(values, cutoff):
    """Number of ``values`` (eigenvalues or singular values) above ``cutoff``."""
    return int(np.sum(np.asarray(values) > cutoff))


def gram_is_reliable(rcond, dtype):
    """Whether a Cholesky factorization with reciprocal condition ``rcond``
    (of the equilibrated normal equations) may be used at all."""
    return rcond >= FALLBACK_EPS_FACTOR * eps(dtype)


def warn_if_singular(alpha, rank, n_features, what, stacklevel=4):
    """``LinAlgWarning`` when some ``alpha`` is 0 and ``rank < n_features``."""
    if np.any(np.asarray(alpha) == 0) and rank < n_features:
        warnings.warn(
            f"Ill-conditioned problem: {what} is numerically singular (rank {rank} < "
            f"{n_features}) and alpha=0; returning the minimum-norm least-squares "
            "solution. A positive alpha makes the problem well posed.",
            la.LinAlgWarning,
            stacklevel=stacklevel,
        )


def cholesky_rcond(M):
    """Upper Cholesky factor of SPD ``M`` and its reciprocal 1-norm condition
    estimate (LAPACK ``pocon``); ``(None, 0.0)`` when ``M`` is not numerically
    SPD or not finite."""
    if not np.all(np.isfinite(M)):
        return None, 0.0
    try:
        c = la.cho_factor(M, lower=False, check_finite=False)
    except la.LinAlgError:
        return None, 0.0
    rc, info = get_lapack_funcs("pocon", dtype=M.dtype)(c[0], np.abs(M).sum(axis=0).max())
    rc = float(rc)
    return c, rc if info == 0 and np.isfinite(rc) else 0.0


class GramCholesky:
    """Cholesky factorizations of the equilibrated ``G + alpha_k I``, one per
    distinct alpha, and the worst reciprocal condition number (``rcond``).

    ``G`` is scaled by the power-of-two :func:`column_scales` of its diagonal
    (exact), so ``rcond`` describes the column-scaled problem. A ``G`` that
    is not finite, or whose non-zero diagonal entries are too small to carry
    full precision (data near the underflow threshold), has ``rcond = 0``:
    callers then use an orthogonal method on the data or raise.

    ``dtype`` is the precision of the factors: float64 by default (a float32
    ``G`` is factorized in float64); ``numpy.float32`` for the float32 factor
    of mixed precision (:mod:`l2gd.solvers._mixed`), whose :meth:`solve`
    takes and returns float64 right-hand sides.
    """

    def __init__(self, G, alpha, dtype=None):
        diag = np.diag(G)
        self.d = column_scales(np.sqrt(np.clip(diag, 0, None)))
        self.alpha = alpha
        self.factors = {}
        self.rconds = {}  # per distinct alpha
        self.rcond = np.inf
        tiny = np.finfo(G.dtype).tiny / eps(G.dtype)
        if not np.all(np.isfinite(G)) or np.any((diag > 0) & (diag < tiny)):
            self.rcond = 0.0
        self.dtype = np.dtype(np.float64 if dtype is None else dtype)
        d = self.d.astype(np.result_type(G.dtype, self.dtype))  # exact: powers of two
        Gs = (G / d[:, None] / d[None, :]).astype(self.dtype, copy=False)
        self._scaled = Gs
        for a in np.unique(alpha):
            M = Gs.copy()
            M.flat[:: M.shape[0] + 1] += a / self.d**2
            c, rc = cholesky_rcond(M)
            self.rcond = min(self.rcond, rc)
            self.factors[a] = c
            self.rconds[a] = rc if self.rcond > 0 else 0.0

    def for_targets(self, cols):
        """The same factors for the targets ``cols`` (a boolean mask) only."""
        new = copy.copy(self)
        new.alpha = self.alpha[cols]
        return new

    def rcond_2norm(self, alphas=None):
        """An estimate of the worst reciprocal 2-norm condition number of the
        factorized (equilibrated) matrices (of those of ``alphas`` when given): Lanczos estimates of the largest
        eigenvalue of each matrix and of its inverse (through the Cholesky
        factor), ``O(p^2)`` per step, each inflated and their product doubled
        (``_LANCZOS_SAFETY``) so that it errs towards ill conditioning.

        ``kappa_2 <= kappa_1`` for a symmetric matrix, and the 1-norm estimate
        :attr:`rcond` falls with ``p`` on well-conditioned data while this does
        not (20,000 random rows, ``p = 1000``: 0.009 where the exact 2-norm
        value is 0.40). 0.0 when an estimate is unavailable.
        """
        from ._objective import top_eigenvalue

        if self.rcond == 0.0:
            return 0.0
        worst = np.inf
        p = self._scaled.shape[0]
        for a, c in self.factors.items():
            if alphas is not None and a not in alphas:
                continue
            M = self._scaled.copy()
            M.flat[:: p + 1] += a / self.d**2
            top = top_eigenvalue(
                lambda v: M @ v.astype(self.dtype), p, float(np.abs(M).sum(axis=0).max()), 1e-2
            )
            inv = top_eigenvalue(
                lambda v: la.cho_solve(c, v.astype(self.dtype), check_finite=False), p,
                np.inf, 1e-2,
            )
            worst = min(worst, 1.0 / (_LANCZOS_SAFETY * top * inv) if top * inv > 0 else 0.0)
        return float(worst)

    def solve(self, B):
        """``(G + alpha_k I)^{-1} b_k`` for each column ``k`` of ``B``."""
        W = np.empty_like(B)
        for a, c in self.factors.items():
            cols = self.alpha == a
            Bs = B[:, cols] / self.d[:, None]
            if self.dtype.itemsize < Bs.dtype.itemsize:
                # A right-hand side in the factor's precision, scaled by a power
                # of two per column so that it neither underflows nor overflows.
                s = column_scales(np.abs(Bs).max(axis=0, initial=0.0))
                x = la.cho_solve(c, (Bs / s).astype(self.dtype), check_finite=False)
                W[:, cols] = x.astype(B.dtype) * s
            else:
                W[:, cols] = la.cho_solve(c, Bs, check_finite=False)
        return W / self.d[:, None]


def psd_pinv(M, dtype):
    """Pseudo-inverse of a symmetric PSD matrix ``M`` (and its numerical rank):
    the eigendecomposition of the equilibrated matrix (exact power-of-two
    scales), eigenvalues at or below :func:`spectral_cutoff` treated as zero."""
    d = column_scales(np.sqrt(np.clip(np.diag(M), 0.0, None)))
    lam, Q = la.eigh(M / d[:, None] / d[None, :])
    keep = lam > spectral_cutoff(lam, dtype)
    return (Q[:, keep] / lam[keep]) @ Q[:, keep].T / d[:, None] / d[None, :], int(keep.sum())


def _min_norm(W, N):
    """Remove from each column of ``W`` its component in the span of ``N``
    (the null space in the user's units): the minimum-norm solution."""
    if N.shape[1] == 0:
        return W
    Q = la.qr(N, mode="economic")[0]
    return W - Q @ (Q.T @ W)


def gram_eigh_solve(G, B, alpha, what):
    """Solve ``(G + alpha_k I) w_k = b_k`` by eigendecomposition, for a ``G``
    whose Cholesky is unreliable.

    For ``alpha_k = 0`` the rank is decided on the equilibrated ``G`` and the
    minimum-norm solution (in the user's units) is returned, with a
    ``LinAlgWarning`` when the rank is deficient.
    """
    W = np.empty_like(B)
    zero = alpha == 0
    if np.any(~zero):
        evals, V = la.eigh(G)
        den = evals[:, None] + alpha[None, ~zero]
        keep = den > spectral_cutoff(evals, G.dtype)
        inv = np.where(keep, 1.0 / np.where(keep, den, 1.0), 0.0)
        W[:, ~zero] = V @ (inv * (V.T @ B[:, ~zero]))
    if np.any(zero):
        d = column_scales(np.sqrt(np.clip(np.diag(G), 0, None)))
        evals, V = la.eigh(G / d[:, None] / d[None, :])
        cutoff = spectral_cutoff(evals, G.dtype)
        keep = evals > cutoff
        warn_if_singular(alpha, int(keep.sum()), G.shape[0], what, stacklevel=5)
        Vk = V[:, keep]
        Wz = (Vk @ ((Vk.T @ (B[:, zero] / d[:, None])) / evals[keep, None])) / d[:, None]
        W[:, zero] = _min_norm(Wz, V[:, ~keep] / d[:, None])
    return W


def orthogonal_ridge(R, C, d, alpha, n_rows, what):
    """Ridge solutions from the R factor of the column-scaled design.

    With ``A D^{-1} = Q R`` (``A = S^{1/2} X_c``, ``D = diag(d)`` powers of
    two) and ``C = Q^T S^{1/2} y_c``, the coefficients minimize
    ``||R v - c||^2 + alpha ||D^{-1} v||^2`` with ``w = D^{-1} v``.
    ``alpha = 0``: rank decided on the singular values of R (those of the
    scaled design, :func:`singular_cutoff`), triangular solve when full rank,
    else the minimum-norm solution in the user's units with a
    ``LinAlgWarning``. ``alpha > 0``: least squares on ``[R; sqrt(alpha) D^{-1}]``
    by Householder QR.

    ``R`` may be wide (``n_samples < n_features``).

    Returns
    -------
    W : ndarray of shape (n_features, n_targets)
    """
    m, p = R.shape
    W = np.empty((p, C.shape[1]), dtype=R.dtype)
    for a in np.unique(alpha):
        cols = alpha == a
        if a > 0:
            M = np.vstack([R, np.diag(np.sqrt(a) / d)])
            Q2, R2 = la.qr(M, mode="economic")
            W[:, cols] = la.solve_triangular(R2, Q2[:m].T @ C[:, cols]) / d[:, None]
            continue
        U, s, Vt = la.svd(R)
        keep = s > singular_cutoff(s, n_rows, R.dtype)
        rank = int(keep.sum())
        warn_if_singular(alpha, rank, p, what, stacklevel=5)
        if rank == p:
            W[:, cols] = la.solve_triangular(R, C[:, cols]) / d[:, None]
            continue
        V = Vt.T
        null = np.hstack([V[:, : s.size][:, ~keep], V[:, s.size :]])
        Wz = (V[:, : s.size][:, keep] @ ((U[:, keep].T @ C[:, cols]) / s[keep, None])) / d[:, None]
        W[:, cols] = _min_norm(Wz, null / d[:, None])
    return W
