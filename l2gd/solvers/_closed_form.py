"""Direct (closed-form) solver: blocked Gram + Cholesky, dual form, SVD/LSQR fallbacks."""

import warnings

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from scipy.linalg.lapack import get_lapack_funcs
from scipy.sparse.linalg import LinearOperator, lsqr

from .._stats import RidgeStats
from ._base import Solver, SolveResult

_METHODS = ("auto", "gram", "svd")

# Reciprocal condition numbers (1-norm, of the equilibrated system matrix)
# below which the Gram route is refined from X, or replaced by an orthogonal
# method. The Gram route's error is about eps / rcond; an orthogonal method's
# about eps / sqrt(rcond).
_REFINE_BELOW = 1e-2
_FALLBACK_EPS_FACTOR = 1e2


def _eps(dtype):
    return float(np.finfo(dtype).eps)


class _GramSolve:
    """Cholesky factorizations of ``G + alpha_k I`` (equilibrated), one per
    distinct alpha; solves and reports the worst reciprocal condition."""

    def __init__(self, G, alpha):
        self.dtype = G.dtype
        d = np.sqrt(np.clip(np.diag(G), 0, None))
        d[d <= 0] = 1.0
        self.d = d
        Gs = G / d[:, None] / d[None, :]
        pocon = get_lapack_funcs("pocon", dtype=G.dtype)
        self.factors = {}
        self.rcond = np.inf
        for a in np.unique(alpha):
            M = Gs.copy()
            M.flat[:: M.shape[0] + 1] += a / d**2
            try:
                c = la.cho_factor(M, lower=False, check_finite=False)
            except la.LinAlgError:
                self.rcond = 0.0
                continue
            anorm = np.abs(M).sum(axis=0).max()
            rc, info = pocon(c[0], anorm, uplo="U")
            self.rcond = min(self.rcond, float(rc) if info == 0 else 0.0)
            self.factors[a] = c
        self.alpha = alpha

    def solve(self, B):
        W = np.empty_like(B)
        for k, a in enumerate(self.alpha):
            W[:, k] = la.cho_solve(self.factors[a], B[:, k] / self.d, check_finite=False) / self.d
        return W


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
    evals, V = la.eigh(G)
    cutoff = evals.max(initial=0.0) * G.shape[0] * _eps(G.dtype)
    _warn_singular(alpha, evals, cutoff, G.shape[0], "the Gram matrix of the statistics")
    proj = V.T @ B
    W = np.empty_like(B)
    for k, a in enumerate(alpha):
        den = evals + a
        inv = np.where(den > cutoff, 1.0 / np.where(den > cutoff, den, 1.0), 0.0)
        W[:, k] = V @ (inv * proj[:, k])
    return W, "eigh"


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

    def __init__(self, method="auto"):
        self.method = method

    @property
    def supports_sparse(self):
        """Sparse X is supported except by ``method="svd"``."""
        return self.method != "svd"

    def solve(self, problem, *, init=None, tol=None, max_iter=None, random_state=None, verbose=0):
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {self.method!r}.")
        if self.method == "svd":
            W, method = _svd_solve(problem), "svd"
        elif problem.n_features <= problem.n_samples:
            W, method = self._primal(problem)
        else:
            W, method = self._dual(problem)
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
        stats = RidgeStats._from_checked(
            problem.X,
            problem.Y,
            problem.sample_weight,
            problem.fit_intercept,
            x_mean=problem.X_offset,
            y_mean=problem.y_offset,
        )
        eps = _eps(problem.dtype)
        fact = _GramSolve(stats.xx, problem.alpha)
        if fact.rcond < _FALLBACK_EPS_FACTOR * eps and self.method == "auto":
            return _orthogonal_fallback(problem)
        if fact.rcond == 0.0:  # method="gram" on a singular system
            return solve_from_stats(stats, problem.alpha)[0], "eigh"
        W = fact.solve(stats.xy)
        if fact.rcond >= _REFINE_BELOW:
            return W, "cholesky"
        # Corrected normal equations: residual from X, correction from the factor.
        for _ in range(8):
            dW = fact.solve(-0.5 * problem.gradient(W))
            W = W + dW
            if np.linalg.norm(dW) <= 4 * eps * np.linalg.norm(W):
                break
        return W, "cholesky+refinement"

    def _dual(self, problem):
        eps = _eps(problem.dtype)
        K = _kernel(problem)
        root = (
            np.ones(problem.n_samples, dtype=problem.dtype)
            if problem.sample_weight is None
            else np.sqrt(problem.sample_weight)
        )
        b = problem.Yc * root[:, None]
        n = K.shape[0]
        C = np.empty_like(b)
        rcond = np.inf
        pocon = get_lapack_funcs("pocon", dtype=K.dtype)
        for a in np.unique(problem.alpha):
            M = K.copy()
            M.flat[:: n + 1] += a
            try:
                c = la.cho_factor(M, lower=False, check_finite=False)
            except la.LinAlgError:
                rcond = 0.0
                break
            rc, info = pocon(c[0], np.abs(M).sum(axis=0).max(), uplo="U")
            rcond = min(rcond, float(rc) if info == 0 else 0.0)
            cols = problem.alpha == a
            C[:, cols] = la.cho_solve(c, b[:, cols], check_finite=False)
        if rcond < np.sqrt(eps) and self.method == "auto":
            return _orthogonal_fallback(problem)
        if rcond == 0.0:
            evals, V = la.eigh(K)
            cutoff = evals.max(initial=0.0) * n * eps
            for k, a in enumerate(problem.alpha):
                den = evals + a
                inv = np.where(den > cutoff, 1.0 / np.where(den > cutoff, den, 1.0), 0.0)
                C[:, k] = V @ (inv * (V.T @ b[:, k]))
        return problem.rmatvec(C * root[:, None]), "dual"


def _kernel(problem):
    """``A A^T`` with ``A = S^{1/2} X_c``: column blocks for dense X (one centered
    block at a time), sparse product plus centering correction for sparse X."""
    X, dtype = problem.X, problem.dtype
    root = None if problem.sample_weight is None else np.sqrt(problem.sample_weight)
    m = problem.X_offset
    if sp.issparse(X):
        K = np.asarray((X @ X.T).toarray(), dtype=dtype)
        if problem.fit_intercept:
            u = np.asarray(X @ m).ravel()
            K -= u[:, None] + u[None, :]
            K += m @ m
    else:
        n, p = X.shape
        K = np.zeros((n, n), dtype=dtype)
        step = max(256, (8 * 2**20) // max(1, n * dtype.itemsize))
        for start in range(0, p, step):
            blk = X[:, start : start + step] - m[start : start + step]
            K += blk @ blk.T
    if root is not None:
        K *= root[:, None]
        K *= root[None, :]
    return K


def _orthogonal_fallback(problem):
    if problem.is_sparse:
        return _lsqr_solve(problem), "lsqr"
    return _svd_solve(problem), "svd"


def _svd_solve(problem):
    """SVD of ``S^{1/2} X_c`` (a dense copy); minimum-norm for alpha=0."""
    X = np.asarray(problem.X)
    A = X - problem.X_offset
    b = problem.Yc
    if problem.sample_weight is not None:
        root = np.sqrt(problem.sample_weight)[:, None]
        A *= root
        b = b * root
    U, s, Vt = la.svd(A, full_matrices=False, check_finite=False, lapack_driver="gesdd")
    cutoff = s.max(initial=0.0) * max(A.shape) * _eps(A.dtype)
    _warn_singular(problem.alpha, s, cutoff, problem.n_features, "X")
    Ub = U.T @ b
    W = np.empty((problem.n_features, problem.n_targets), dtype=problem.dtype)
    for k, a in enumerate(problem.alpha):
        keep = s > cutoff
        d = np.zeros_like(s)
        d[keep] = s[keep] / (s[keep] ** 2 + a)
        W[:, k] = Vt.T @ (d * Ub[:, k])
    return W


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
