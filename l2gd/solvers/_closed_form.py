"""Direct (closed-form) solver: blocked Gram + Cholesky, dual form, SVD/LSQR fallbacks.

Products with X run in X's namespace and on its device; the small dense
factorizations (``n_features x n_features`` or ``n_samples x n_samples``) run on
the host with LAPACK, where they are cheap and where condition estimates exist.
"""

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from scipy.linalg.blas import get_blas_funcs
from scipy.sparse.linalg import LinearOperator, lsqr

from .._array_api import is_numpy, to_device, to_numpy
from .._linalg import (
    FALLBACK_EPS_FACTOR,
    REFINE_BELOW,
    GramCholesky,
    cholesky_rcond,
    column_scales,
    eps,
    extended_dtype,
    gram_eigh_solve,
    gram_is_reliable,
    numerical_rank,
    orthogonal_ridge,
    warn_if_singular,
)
from .._stats import _BLOCK_BYTES, RidgeStats, _block_rows
from ._base import Solver, SolveResult

_METHODS = ("auto", "gram", "svd")

# Blocks of device arrays (GPU) can be larger than host blocks.
_DEVICE_BLOCK_BYTES = 32 * _BLOCK_BYTES
# Refinement steps at most (each one pass over X).
_MAX_REFINE = 8

# The names the Dask engine imports from here (it should import ``_linalg``).
_GramSolve = GramCholesky
_FALLBACK_EPS_FACTOR = FALLBACK_EPS_FACTOR


def solve_stats(stats, alpha):
    """A :class:`SolveResult` from :class:`~l2gd.RidgeStats` alone (streaming,
    ``from_stats``)."""
    W, method = solve_from_stats(stats, alpha)
    value = float(np.sum(stats.objective(W, alpha)))
    return SolveResult(
        coef=W,
        intercept=stats.intercept(W),
        n_iter=1,
        converged=True,
        history=(value,),
        info={"method": method, "stats": stats},
    )


def _warn_singular(alpha, spectrum, cutoff, n_features, what):
    warn_if_singular(alpha, numerical_rank(spectrum, cutoff), n_features, what, stacklevel=5)


def _check_finite(W, what):
    if not np.all(np.isfinite(W)):
        raise ValueError(
            f"The closed-form solution overflowed ({what} is not finite): X or y is too "
            "close to the limits of its dtype's range. Rescale X and y (for example by a "
            "power of two) or use a wider dtype."
        )
    return W


def _check_gram_range(G, problem=None):
    """Refuse a Gram matrix that overflowed or whose entries underflowed (a
    non-zero diagonal entry below ``tiny / eps``, or, given the ``problem``,
    a zero one for a column of X that is not zero): no solution from it is
    right."""
    _check_finite(G, "the Gram matrix X^T X")
    diag = np.diag(G)
    lost = (diag > 0) & (diag < np.finfo(G.dtype).tiny / eps(G.dtype))
    if problem is not None and np.any(diag == 0):
        X = problem.X
        amax = abs(X).max(axis=0).toarray().ravel() if problem.is_sparse else to_numpy(
            problem.xp.max(problem.xp.abs(X), axis=0)
        )
        lost |= (diag == 0) & (np.asarray(amax) > 0)
    if np.any(lost):
        raise ValueError(
            "The Gram matrix X^T X underflowed: X is too close to zero for its dtype "
            "(sums of squares below the normal range). Rescale X (for example by a power "
            'of two) or use method="auto" or "svd".'
        )


def solve_from_stats(stats, alpha):
    """Coefficients from :class:`~l2gd.RidgeStats` (no access to X).

    Cholesky of the equilibrated ``xx + alpha I`` when reliable
    (:func:`~l2gd._linalg.gram_is_reliable`), otherwise an eigendecomposition
    with the rank decided on the equilibrated matrix and a minimum-norm
    pseudo-inverse (:func:`~l2gd._linalg.gram_eigh_solve`).

    Returns
    -------
    W : ndarray of shape (n_features, n_targets)
    method : str
    """
    G, B = stats.xx, stats.xy
    if G.shape[0] == 0:
        return np.zeros_like(B), "empty"
    _check_gram_range(G)
    _check_finite(B, "X^T y of the statistics")
    fact = GramCholesky(G, alpha)
    if gram_is_reliable(fact.rcond, G.dtype):
        return _check_finite(fact.solve(B), "the solution").astype(G.dtype, copy=False), "cholesky"
    W = gram_eigh_solve(G, B, alpha, "the Gram matrix of the statistics")
    return _check_finite(W, "the solution").astype(G.dtype, copy=False), "eigh"


def _gram(problem):
    """Centered weighted ``X_c^T S X_c``, ``X_c^T S y_c`` and the diagonal of
    ``y_c^T S y_c``, as host arrays.

    NumPy/sparse X: :class:`~l2gd.RidgeStats` (BLAS ``syrk`` over row blocks).
    Other namespaces: matrix products over row blocks on X's device.
    """
    if is_numpy(problem.xp):
        problem._stats = RidgeStats._from_problem(problem)  # kept for streaming after fit
        return problem._stats.xx, problem._stats.xy, problem._stats.yy
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

    def partial_solve(
        self, state, X, Y, sample_weight, *, alpha, fit_intercept, random_state=None, verbose=0
    ):
        """Exact streaming: merge this batch's :class:`~l2gd.RidgeStats` into
        ``state`` (None for the first batch) and solve from the statistics.

        Returns
        -------
        state : RidgeStats
        result : SolveResult
        """
        batch = RidgeStats._from_checked(X, Y, sample_weight, fit_intercept)
        stats = batch if state is None else state.merge(batch)
        return stats, solve_stats(stats, alpha)

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
        _check_finite(to_numpy(W), "the solution")
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
            info=self._info(problem, method),
        )

    @staticmethod
    def _info(problem, method):
        """``method``, and the data's statistics when the Gram route computed them
        (NumPy/SciPy data): ``partial_fit`` after ``fit`` continues from them."""
        stats = getattr(problem, "_stats", None)
        return {"method": method} if stats is None else {"method": method, "stats": stats}

    def _primal(self, problem):
        xx, xy, yy = _gram(problem)
        alpha = to_numpy(problem.alpha)

        def device(W):
            return to_device(W, problem.xp, problem.device, problem.dtype)

        fact = GramCholesky(xx, alpha)
        finite = np.all(np.isfinite(xy)) and np.all(np.isfinite(yy))
        if self.method == "auto" and not (finite and gram_is_reliable(fact.rcond, xx.dtype)):
            return (*_orthogonal_fallback(problem), None)
        if fact.rcond == 0.0:  # method="gram" on a singular system
            _check_gram_range(xx, problem)
            return device(gram_eigh_solve(xx, xy, alpha, "X")), "eigh", None
        W = fact.solve(xy)
        if fact.rcond >= REFINE_BELOW:
            # The objective from the Gram matrix: no further pass over X.
            quad = np.einsum("ik,ij,jk->k", W, xx, W)
            value = yy - 2.0 * np.einsum("ik,ik->k", W, xy) + quad + alpha * (W * W).sum(0)
            return device(W), "cholesky", float(value.sum())
        return device(_refine(problem, fact, W)), "cholesky+refinement", None

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
            c, rc = cholesky_rcond(M)
            rcond = min(rcond, rc)
            if c is None:
                break
            cols = alpha == a
            C[:, cols] = la.cho_solve(c, b[:, cols], check_finite=False)
        if rcond < np.sqrt(eps(K.dtype)) and self.method == "auto":
            return _orthogonal_fallback(problem)
        if rcond == 0.0:
            _check_finite(K, "the kernel matrix X X^T")
            C = gram_eigh_solve(K, b, alpha, "the kernel matrix")
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


def _scaled(A, xp):
    """``A / d`` and the power-of-two column scales ``d`` (host) that bring each
    column's norm into ``[0.5, 1)``; exact, and safe from overflow: the
    columns are first scaled by their largest magnitude."""
    big = column_scales(to_numpy(xp.max(xp.abs(A), axis=0)))
    A = A / to_device(big, xp, None if is_numpy(xp) else A.device, A.dtype)
    norms = to_numpy(xp.sqrt(xp.sum(A * A, axis=0)))
    small = column_scales(norms)
    A = A / to_device(small, xp, None if is_numpy(xp) else A.device, A.dtype)
    return A, big * small


def _svd_solve(problem):
    """Orthogonal solve on the centered, column-scaled design (a dense copy).

    Householder QR of ``S^{1/2} X_c D^{-1}`` (``D`` the power-of-two column
    norms, so the QR is that of the unscaled design, exactly) in X's
    namespace; ``Q^T S^{1/2} y_c`` from it; then, on the host,
    :func:`~l2gd._linalg.orthogonal_ridge`: the rank decided on the singular
    values of R (those of the scaled design), the minimum-norm solution in
    the user's units for ``alpha = 0``.
    """
    xp = problem.xp
    A = problem.X - problem.X_offset
    b = problem.Yc
    if problem.sample_weight is not None:
        root = xp.sqrt(problem.sample_weight)[:, None]
        A, b = A * root, b * root
    A, d = _scaled(A, xp)
    b, cy = _scaled(b, xp)
    if is_numpy(xp):
        Q, R = la.qr(A, mode="economic", overwrite_a=True, check_finite=False)
    else:
        Q, R = xp.linalg.qr(A)
    C = to_numpy(Q.T @ b).astype(np.float64)
    R = to_numpy(R).astype(np.float64)
    # Scaling y leaves alpha unchanged (the solution scales with y).
    alpha = to_numpy(problem.alpha).astype(np.float64)
    W = orthogonal_ridge(R, C, d, alpha, problem.n_samples, "X") * cy
    return to_device(W, xp, problem.device, problem.dtype)


def _normal_residual(problem, W):
    """``X_c^T S (y_c - X_c W) - alpha W`` (minus half the gradient), with
    the residual and the product accumulated in
    :func:`~l2gd._linalg.extended_dtype` (dense NumPy X; X's dtype otherwise).

    Computed from the raw rows as ``X^T S r - X_offset (1^T S r)`` with
    ``r = y - X W - b`` and ``b = y_offset - X_offset^T W``, which equals the
    centered expression exactly for any offsets and involves no centered
    copy: refinement then converges to the solution of the data as given.
    One pass over X in row blocks.
    """
    if problem.is_sparse or not is_numpy(problem.xp):
        W = to_device(W, problem.xp, problem.device, problem.dtype)
        return -0.5 * to_numpy(problem.gradient(W))
    ext = extended_dtype(problem.dtype)
    We = W.astype(ext)
    m = problem.X_offset.astype(ext)
    b = problem.y_offset.astype(ext) - m @ We
    sw = problem.sample_weight
    n, p = problem.X.shape
    rows = _block_rows(p, ext.itemsize, n)
    XtSr = np.zeros_like(We)
    total = np.zeros(W.shape[1], dtype=ext)
    for start in range(0, n, rows):
        Xb = problem.X[start : start + rows].astype(ext)
        r = problem.Y[start : start + rows].astype(ext) - Xb @ We - b
        if sw is not None:
            r *= sw[start : start + rows, None].astype(ext)
        XtSr += Xb.T @ r
        total += r.sum(axis=0)
    if problem.fit_intercept:
        XtSr -= m[:, None] * total[None, :]
    return (XtSr - problem.alpha.astype(ext) * We).astype(np.float64).astype(W.dtype)


def _refine(problem, fact, W):
    """Iterative refinement (corrected normal equations): residuals from X
    (:func:`_normal_residual`), corrections from the Cholesky factor ``fact``.

    Stops when the next correction, predicted from the observed contraction,
    is below ``eps * ||W||``, or when a correction stops shrinking (the
    previous iterate is kept).
    """
    tiny = eps(W.dtype)
    last = np.inf
    for _ in range(_MAX_REFINE):
        dW = fact.solve(_normal_residual(problem, W))
        size = float(np.linalg.norm(dW))
        if size >= last:
            break
        W = W + dW
        if size * min(1.0, size / last) <= 4 * tiny * float(np.linalg.norm(W)):
            break
        last = size
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
    tol = eps(problem.dtype)
    W = np.empty((p, problem.n_targets), dtype=problem.dtype)
    for k, a in enumerate(problem.alpha):
        out = lsqr(
            op, problem.Yc[:, k] * root, damp=np.sqrt(a), atol=tol, btol=tol, iter_lim=20 * p
        )
        W[:, k] = out[0]
    return W
