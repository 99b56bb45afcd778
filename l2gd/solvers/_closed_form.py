"""Direct (closed-form) solver: blocked Gram + Cholesky, dual form, SVD/LSQR fallbacks.

Products with X run in X's namespace and on its device; the small dense
factorizations (``n_features x n_features`` or ``n_samples x n_samples``) run on
the host with LAPACK, where they are cheap and where condition estimates exist.
"""

import warnings

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from scipy.linalg.blas import get_blas_funcs
from scipy.linalg.lapack import get_lapack_funcs
from scipy.sparse.linalg import LinearOperator, lsqr

from .._array_api import is_numpy, to_device, to_numpy
from .._stats import _BLOCK_BYTES, RidgeStats, _block_rows
from ._base import Solver, SolveResult

_METHODS = ("auto", "gram", "svd")

# Reciprocal condition numbers (1-norm, of the equilibrated system matrix)
# below which the Gram route is refined from X, or replaced by an orthogonal
# method. The Gram route's error is about eps / rcond; an orthogonal method's
# about eps / sqrt(rcond).
_REFINE_BELOW = 1e-2
_FALLBACK_EPS_FACTOR = 1e2
# Blocks of device arrays (GPU) can be larger than host blocks.
_DEVICE_BLOCK_BYTES = 32 * _BLOCK_BYTES


def _eps(dtype):
    return float(np.finfo(dtype).eps)


def _cholesky_rcond(M):
    """Upper Cholesky factor of SPD ``M`` and its reciprocal 1-norm condition
    estimate (LAPACK ``pocon``); ``(None, 0.0)`` when ``M`` is not numerically SPD."""
    try:
        c = la.cho_factor(M, lower=False, check_finite=False)
    except la.LinAlgError:
        return None, 0.0
    rc, info = get_lapack_funcs("pocon", dtype=M.dtype)(c[0], np.abs(M).sum(axis=0).max())
    return c, float(rc) if info == 0 else 0.0


class _GramSolve:
    """Cholesky factorizations of the column-equilibrated ``G + alpha_k I``, one
    per distinct alpha (host arrays); solves and reports the worst
    reciprocal condition number."""

    def __init__(self, G, alpha):
        d = np.sqrt(np.clip(np.diag(G), 0, None))
        d[d <= 0] = 1.0
        self.d = d
        Gs = G / d[:, None] / d[None, :]
        self.factors = {}
        self.rcond = np.inf
        self.alpha = alpha
        for a in np.unique(alpha):
            M = Gs.copy()
            M.flat[:: M.shape[0] + 1] += a / d**2
            c, rc = _cholesky_rcond(M)
            self.rcond = min(self.rcond, rc)
            self.factors[a] = c

    def solve(self, B):
        W = np.empty_like(B)
        for a, c in self.factors.items():
            cols = self.alpha == a
            W[:, cols] = la.cho_solve(c, B[:, cols] / self.d[:, None], check_finite=False)
        return W / self.d[:, None]


def _eigh_solve(G, B, alpha, what):
    """Minimum-norm solution of ``(G + alpha_k I) w_k = b_k`` by eigendecomposition."""
    evals, V = la.eigh(G)
    cutoff = evals.max(initial=0.0) * G.shape[0] * _eps(G.dtype)
    _warn_singular(alpha, evals, cutoff, G.shape[0], what)
    den = evals[:, None] + alpha[None, :]
    keep = den > cutoff
    inv = np.where(keep, 1.0 / np.where(keep, den, 1.0), 0.0)
    return V @ (inv * (V.T @ B))


def solve_from_stats(stats, alpha):
    """Coefficients from :class:`~l2gd.RidgeStats` (no access to X).

    Cholesky of the equilibrated ``xx + alpha I`` when well conditioned,
    otherwise an eigendecomposition with a minimum-norm pseudo-inverse.

    Returns
    -------
    W : ndarray of shape (n_features, n_targets)
    method : str
    """
    G, B = stats.xx, stats.xy
    if G.shape[0] == 0:
        return np.zeros_like(B), "empty"
    fact = _GramSolve(G, alpha)
    if fact.rcond >= _FALLBACK_EPS_FACTOR * _eps(G.dtype):
        return fact.solve(B), "cholesky"
    return _eigh_solve(G, B, alpha, "the Gram matrix of the statistics"), "eigh"


def _warn_singular(alpha, spectrum, cutoff, n_features, what):
    rank = int(np.sum(spectrum > cutoff))
    if np.any(alpha == 0) and rank < n_features:
        warnings.warn(
            f"Ill-conditioned problem: {what} is numerically singular (rank {rank} < "
            f"{n_features}) and alpha=0; returning the minimum-norm least-squares "
            "solution. A positive alpha makes the problem well posed.",
            la.LinAlgWarning,
            stacklevel=4,
        )


def _gram(problem):
    """Centered weighted ``X_c^T S X_c``, ``X_c^T S y_c`` and the diagonal of
    ``y_c^T S y_c``, as host arrays.

    NumPy/sparse X: :class:`~l2gd.RidgeStats` (BLAS ``syrk`` over row blocks).
    Other namespaces: matrix products over row blocks on X's device.
    """
    if is_numpy(problem.xp):
        stats = RidgeStats._from_problem(problem)
        return stats.xx, stats.xy, stats.yy
    xp, X = problem.xp, problem.X
    n, p = X.shape
    rows = _block_rows(p, 8, n) * (_DEVICE_BLOCK_BYTES // _BLOCK_BYTES)
    xx = xp.zeros((p, p), dtype=problem.dtype, device=problem.device)
    xy = xp.zeros((p, problem.n_targets), dtype=problem.dtype, device=problem.device)
    for start in range(0, n, rows):
        stop = min(start + rows, n)  # strict namespaces reject out-of-range slices
        Xb = X[start:stop, :] - problem.X_offset
        Yb = problem.Yc[start:stop, :]
        if problem.sample_weight is not None:
            root = xp.sqrt(problem.sample_weight[start:stop])[:, None]
            Xb, Yb = Xb * root, Yb * root
        xx = xx + Xb.T @ Xb
        xy = xy + Xb.T @ Yb
    yy = xp.sum(problem.weighted(problem.Yc) * problem.Yc, axis=0)
    return to_numpy(xx), to_numpy(xy), to_numpy(yy)


class ClosedForm(Solver):
    """Exact solver for the ridge problem.

    Dense tall data (``n_samples >= n_features``): the weighted, centered Gram
    matrix and ``X^T y`` are accumulated over row blocks with BLAS ``syrk``
    (extra memory ``O(n_features**2)`` plus one block, X never copied), then
    a Cholesky factorization of the column-equilibrated ``G + alpha I``.
    Wide data: the dual (kernel) form, ``w = A^T (A A^T + alpha I)^{-1} b``
    with ``A = S^{1/2} X_c``. Sparse X: sparse products, the centering
    correction applied to the small result.

    Accuracy: the Gram route squares the condition number. The reciprocal
    condition number of the factorized matrix is estimated (LAPACK ``pocon``);
    when it is below 1e-2 the solution is refined iteratively with residuals
    computed from X itself (corrected normal equations, accurate to about
    ``eps * cond(X)``, like an orthogonal method), and when it is near
    machine precision the solver switches to an SVD of the centered data
    (dense) or LSQR (sparse). ``SolveResult.info["method"]`` says which
    route ran. A ``LinAlgWarning`` is raised when ``alpha=0`` and X is
    numerically rank deficient (the minimum-norm solution is returned, as
    :class:`sklearn.linear_model.Ridge` does).

    Parameters
    ----------
    method : {"auto", "gram", "svd"}, default="auto"
        ``"auto"`` as described above; ``"gram"`` forces the Gram/dual route
        with its checks; ``"svd"`` always uses the SVD (dense X only; copies X).

    Examples
    --------
    >>> import numpy as np
    >>> from l2gd import GDRidgeRegressor
    >>> from l2gd.solvers import ClosedForm
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((50, 3)), rng.standard_normal(50)
    >>> GDRidgeRegressor(solver=ClosedForm()).fit(X, y).n_iter_
    1
    """

    name = "closed_form"
    supports_array_api = True

    def __init__(self, method="auto"):
        self.method = method

    @property
    def supports_sparse(self):
        """Sparse X is supported except by ``method="svd"``."""
        return self.method != "svd"

    def solve(self, problem, *, init=None, tol=None, max_iter=None, random_state=None, verbose=0):
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {self.method!r}.")
        value = None
        if self.method == "svd":
            W, method = _svd_solve(problem), "svd"
        elif problem.n_features <= problem.n_samples:
            W, method, value = self._primal(problem)
        else:
            W, method = self._dual(problem)
        if value is None:
            value = problem.value(W)
        if verbose:
            print(f"[ClosedForm] method {method}  objective {value:.8e}")
        return SolveResult(
            coef=W,
            intercept=problem.intercept(W),
            n_iter=1,
            converged=True,
            history=(value,),
            info={"method": method},
        )

    def _primal(self, problem):
        xx, xy, yy = _gram(problem)
        alpha = to_numpy(problem.alpha)
        eps = _eps(xx.dtype)

        def device(W):
            return to_device(W, problem.xp, problem.device, problem.dtype)

        fact = _GramSolve(xx, alpha)
        if fact.rcond < _FALLBACK_EPS_FACTOR * eps and self.method == "auto":
            return (*_orthogonal_fallback(problem), None)
        if fact.rcond == 0.0:  # method="gram" on a singular system
            return device(_eigh_solve(xx, xy, alpha, "X")), "eigh", None
        W = fact.solve(xy)
        if fact.rcond >= _REFINE_BELOW:
            # The objective from the Gram matrix: no further pass over X.
            quad = np.einsum("ik,ij,jk->k", W, xx, W)
            value = yy - 2.0 * np.einsum("ik,ik->k", W, xy) + quad + alpha * (W * W).sum(0)
            return device(W), "cholesky", float(value.sum())
        # Corrected normal equations: residual from X, correction from the factor.
        for _ in range(8):
            dW = fact.solve(to_numpy(-0.5 * problem.gradient(device(W))))
            W = W + dW
            if np.linalg.norm(dW) <= 4 * eps * np.linalg.norm(W):
                break
        return device(W), "cholesky+refinement", None

    def _dual(self, problem):
        xp = problem.xp
        K = to_numpy(_kernel(problem))
        alpha = to_numpy(problem.alpha)
        root = None if problem.sample_weight is None else xp.sqrt(problem.sample_weight)
        b = problem.Yc if root is None else problem.Yc * root[:, None]
        b = to_numpy(b)
        if problem.fit_intercept:
            # The centered kernel has the null vector u = S^{1/2} 1, so K + alpha I
            # always has the eigenvalue alpha and its condition says nothing about
            # the data. b is orthogonal to u (y is centered), so adding c u u^T
            # leaves the solution unchanged and removes the spurious eigenvalue.
            u = np.ones(K.shape[0], dtype=K.dtype) if root is None else to_numpy(root)
            K += (np.trace(K) / K.shape[0] / (u @ u)) * np.outer(u, u)
        C = np.empty_like(b)
        rcond = np.inf
        for a in np.unique(alpha):
            M = K.copy()
            M.flat[:: K.shape[0] + 1] += a
            c, rc = _cholesky_rcond(M)
            rcond = min(rcond, rc)
            if c is None:
                break
            cols = alpha == a
            C[:, cols] = la.cho_solve(c, b[:, cols], check_finite=False)
        if rcond < np.sqrt(_eps(K.dtype)) and self.method == "auto":
            return _orthogonal_fallback(problem)
        if rcond == 0.0:
            C = _eigh_solve(K, b, alpha, "the kernel matrix")
        C = to_device(C, xp, problem.device, problem.dtype)
        if root is not None:
            C = C * root[:, None]
        return problem.rmatvec(C), "dual"


def _kernel(problem):
    """``A A^T`` with ``A = S^{1/2} X_c``: column blocks for dense X (one centered
    block at a time), sparse product plus centering correction for sparse X."""
    X, xp = problem.X, problem.xp
    m = problem.X_offset
    n, p = X.shape
    if sp.issparse(X):
        K = np.asarray((X @ X.T).toarray(), dtype=problem.dtype)
        if problem.fit_intercept:
            u = np.asarray(X @ m).ravel()
            K -= u[:, None] + u[None, :]
            K += m @ m
    elif is_numpy(xp):
        syrk = get_blas_funcs("syrk", dtype=problem.dtype)
        K = np.zeros((n, n), dtype=problem.dtype, order="F")
        step = max(256, _BLOCK_BYTES // max(1, n * 8))
        for start in range(0, p, step):
            stop = min(start + step, p)
            blk = X[:, start:stop] - m[start:stop]
            # blk is C-ordered (n, s): blk.T is a Fortran (s, n) view, K += blk blk^T.
            K = syrk(1.0, blk.T, beta=1.0, c=K, trans=1, lower=1, overwrite_c=1)
        K = np.tril(K) + np.tril(K, -1).T
    else:
        K = xp.zeros((n, n), dtype=problem.dtype, device=problem.device)
        step = max(256, _BLOCK_BYTES // max(1, n * 8))
        for start in range(0, p, step):
            stop = min(start + step, p)
            blk = X[:, start:stop] - m[start:stop]
            K = K + blk @ blk.T
    if problem.sample_weight is not None:
        root = xp.sqrt(problem.sample_weight)
        K = K * root[:, None] * root[None, :]
    return K


def _orthogonal_fallback(problem):
    if problem.is_sparse:
        return _lsqr_solve(problem), "lsqr"
    return _svd_solve(problem), "svd"


def _svd_solve(problem):
    """SVD of ``S^{1/2} X_c`` (a dense copy, in X's namespace); minimum-norm for alpha=0."""
    xp = problem.xp
    A = problem.X - problem.X_offset
    b = problem.Yc
    if problem.sample_weight is not None:
        root = xp.sqrt(problem.sample_weight)[:, None]
        A, b = A * root, b * root
    U, s, Vt = xp.linalg.svd(A, full_matrices=False)
    s_host = to_numpy(s)
    cutoff = float(s_host.max(initial=0.0)) * max(A.shape) * _eps(s_host.dtype)
    _warn_singular(to_numpy(problem.alpha), s_host, cutoff, problem.n_features, "X")
    keep = s[:, None] > cutoff
    den = xp.where(keep, s[:, None] ** 2 + problem.alpha[None, :], xp.ones_like(keep, dtype=s.dtype))
    D = xp.where(keep, s[:, None] / den, xp.zeros_like(den))
    return Vt.T @ (D * (U.T @ b))


def _lsqr_solve(problem):
    """LSQR on ``S^{1/2} X_c`` with implicit centering, one target at a time."""
    n, p = problem.n_samples, problem.n_features
    root = (
        np.ones(n, dtype=problem.dtype)
        if problem.sample_weight is None
        else np.sqrt(problem.sample_weight)
    )

    def mv(v):
        return problem.matvec(np.asarray(v).reshape(p, 1)).ravel() * root

    def rmv(r):
        return problem.rmatvec((np.asarray(r).ravel() * root).reshape(n, 1)).ravel()

    op = LinearOperator((n, p), matvec=mv, rmatvec=rmv, dtype=problem.dtype)
    eps = _eps(problem.dtype)
    W = np.empty((p, problem.n_targets), dtype=problem.dtype)
    for k, a in enumerate(problem.alpha):
        out = lsqr(
            op, problem.Yc[:, k] * root, damp=np.sqrt(a), atol=eps, btol=eps, iter_lim=20 * p
        )
        W[:, k] = out[0]
    return W
