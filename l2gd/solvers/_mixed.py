"""Mixed precision for the closed form's Gram route (issue 15, item 2).

For float64 dense tall X with many features, the Gram matrix of the centered
rows is formed in float32 (one blocked ``ssyrk`` pass, each block shifted and
converted in cache, about half the time of ``dsyrk``) and factorized in
float32. Float64 accuracy is recovered by iterative refinement whose
residuals ``X_c^T S (y_c - X_c W) - alpha W`` are computed from X itself in
float64, one read of X per step (:func:`normal_residual64`): the float32
factor only has to be a good preconditioner, the answer is the float64
problem's.

Guards, each falling back to the float64 route by itself (the caller gets
None):

- condition: the float32 factor's reciprocal condition estimate
  (:class:`~l2gd._linalg.GramCholesky`, 1-norm, and the 2-norm Lanczos
  estimate on tall data) must be at least ``REFINE_BELOW``, where the float64
  route does not refine either. Refinement with float64 residuals then
  converges in two or three steps (contraction about ``eps32 / rcond``) to
  an error below the float64 Cholesky's; more ill-conditioned problems are
  left to the float64 route, which refines with extended-precision residuals.
- range: a float32 Gram that overflowed or underflowed (``GramCholesky``
  gives ``rcond = 0``).
- convergence: refinement must reach ``eps64`` (the next correction,
  predicted from the observed contraction, below ``4 eps ||W||``) within
  ``_MAX_STEPS``; a correction that stops shrinking above the accepted
  level means fall back.
"""

import numpy as np
from scipy.linalg.blas import get_blas_funcs

from .._array_api import is_numpy
from .._linalg import REFINE_BELOW, GramCholesky, eps, gram_is_reliable
from .._stats import _GRAM_BLOCK_BYTES, _block_rows, _symmetric

#: ``precision`` values of :class:`~l2gd.solvers.ClosedForm`.
PRECISIONS = ("auto", "double", "mixed")
#: ``precision="auto"`` forms the Gram matrix in float32 from this many
#: features on (float64 dense data with ``n_samples >= _MIN_ROWS_PER_FEATURE *
#: n_features``). Measured in ``benchmarks/bench_floor.py --section mixed``
#: (one thread, 20,000-50,000 rows): against the one-pass float64 fit the
#: mixed fit takes 0.73-0.82x the time at p = 1000, about 1.0x at p = 500 and
#: more at p <= 300 (two refinement passes and the factor's condition
#: estimates cost more than the halved ``syrk`` saves).
MIXED_MIN_FEATURES = 1000
#: The 2-norm condition estimate the guard relies on is made on tall data only
#: (as the float64 route's, ``_needs_refinement``).
_MIN_ROWS_PER_FEATURE = 4
#: Fall back when a column's second moment about the shift exceeds its centered
#: one by this factor (float32 loses its log2 in bits: the first rows were not
#: typical, as in sorted data).
_MAX_SHIFT_LOSS = 2.0**8
#: Refinement steps at most (each one read of X in float64).
_MAX_STEPS = 6
#: A refinement that stalls is accepted when its last correction was at most
#: this many eps relative to the coefficients (float64 rounding level).
_STALL_EPS = 64


def use_mixed(problem, precision):
    """The one rule: whether ``ClosedForm(precision=precision)`` forms the Gram
    matrix of ``problem`` in float32.

    ``"mixed"``: wherever it applies (float64 dense NumPy data with
    ``n_samples >= 4 n_features``). ``"auto"``: also from
    ``MIXED_MIN_FEATURES`` features on, and only for a problem that says its
    float64 statistics are not wanted (``problem.keep_stats is False``): a
    fit keeps them for ``partial_fit`` and ``inference()``, and this route
    computes none. ``"double"``: never. Never when the problem already holds
    its float64 statistics (``problem._stats``: a fit that formed them first,
    or an earlier solve): they are reused.
    """
    if precision == "double" or getattr(problem, "_stats", None) is not None:
        return False
    n, p = problem.n_samples, problem.n_features
    applies = (
        is_numpy(problem.xp)
        and not problem.is_sparse
        and problem.dtype == np.float64
        and p > 0
        and n >= _MIN_ROWS_PER_FEATURE * p
    )
    if not applies:
        return False
    if precision == "mixed":
        return True
    # "auto": the float64 statistics are kept after a fit (partial_fit continues
    # from them, inference() reads them); the float32 route has none.
    return p >= MIXED_MIN_FEATURES and getattr(problem, "keep_stats", True) is False


def _gram32(problem, shift):
    """One read of X: ``C``, the lower triangle of ``Z^T Z`` in float32 with
    ``Z = S^{1/2} [X - shift, Y_c, 1]`` (the targets only when few, else
    ``Z = S^{1/2} [X - shift, 1]``), each block shifted and rounded to float32
    into one reused buffer (the subtraction in float64). Returns ``(C, k)``,
    ``k`` the number of target columns in ``Z``."""
    X, Yc, sw = problem.X, problem.Yc, problem.sample_weight
    n, p = X.shape
    k = Yc.shape[1] if Yc.shape[1] + 1 <= max(1, p // 4) else 0
    q = p + k + 1
    rows = _block_rows(q, 4, n, _GRAM_BLOCK_BYTES)
    syrk = get_blas_funcs("syrk", dtype=np.float32)
    buf = np.empty((rows, q), dtype=np.float32)
    C = np.zeros((q, q), dtype=np.float32, order="F")
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        B = buf[: stop - start]
        np.subtract(X[start:stop], shift, out=B[:, :p], casting="same_kind")
        if k:
            B[:, p : p + k] = Yc[start:stop]
        if sw is None:
            B[:, q - 1] = 1.0
        else:
            B[:, q - 1] = np.sqrt(sw[start:stop])
            B[:, : q - 1] *= B[:, q - 1, None]
        # B is C-ordered (b, q), so B.T is a Fortran (q, b) view: C += B^T B.
        C = syrk(1.0, B.T, beta=1.0, c=C, trans=0, lower=1, overwrite_c=1)
    return C, k


def normal_residual64(problem, W, shift, means=False):
    """``X_c^T S (y_c - X_c W) - alpha W`` in float64, one read of X in row
    blocks (each block shifted by ``shift`` into a reused buffer, in cache).

    With ``d = x_mean - shift`` (small: ``shift`` is about the means) the
    centered expression is ``a - d sigma`` with ``a = B^T S (y_c - B W)`` and
    ``sigma = 1^T S (y_c - B W)`` for the shifted rows ``B`` (exact algebra,
    no cancellation). ``means=True``: ``d`` is computed in the same pass
    (from ``u = B^T S 1``) and returned; otherwise ``problem.X_offset`` is used.

    Returns ``(G, rss, d)``: the residual, ``sum_i s_i r_i^2`` per target of
    the centered residual ``r = y_c - X_c W``, and ``d``.
    """
    X, Yc, sw = problem.X, problem.Yc, problem.sample_weight
    n, p = X.shape
    k = W.shape[1]
    rows = _block_rows(p, 8, n, _GRAM_BLOCK_BYTES // 4)
    buf = np.empty((rows, p))
    A = np.zeros((p, k + 1))
    sigma = np.zeros(k)
    rss = np.zeros(k)
    R = np.empty((rows, k + 1))
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        B = (
            np.subtract(X[start:stop], shift, out=buf[: stop - start])
            if problem.fit_intercept else X[start:stop]
        )
        Rb = R[: stop - start]
        np.subtract(Yc[start:stop], B @ W, out=Rb[:, :k])
        s = 1.0 if sw is None else sw[start:stop, None]
        rss += np.einsum("ij,ij->j", Rb[:, :k] * s, Rb[:, :k])
        Rb[:, :k] *= s
        Rb[:, k] = s if sw is None else sw[start:stop]
        A += B.T @ Rb
        sigma += Rb[:, :k].sum(axis=0)
    d = A[:, k] / problem.sw_sum if means else problem.X_offset - shift
    if not problem.fit_intercept:
        d = np.zeros(p)
    dW = d @ W
    # Centered residual r_c = r + d^T W: sum s r_c^2 = rss + 2 dW sigma + S dW^2.
    rss = rss + 2.0 * dW * sigma + problem.sw_sum * dW**2
    G = A[:, :k] - np.outer(d, sigma) - problem.alpha * W
    return G, rss, d


def _factor(problem, C, k):
    """The float32 factor of the equilibrated centered Gram matrix plus alpha,
    the starting coefficients (float32 ``X^T y`` when fused, else zeros) and
    the approximate mean shift ``d``; None when a guard says fall back."""
    p, S = problem.n_features, problem.sw_sum
    # The float32 factor needs only float32 arithmetic (its error is eps32
    # relative whatever is done here); the moments of the few extra columns
    # are promoted.
    F = C[p:, :].astype(np.float64)  # Z^T B, Z^T Z (lower) for Z = [Y_c, 1]
    d = F[k, :p] / S if problem.fit_intercept else np.zeros(p)
    G = _symmetric(C[:p, :p])
    raw = np.diag(G).astype(np.float64)
    G -= (S * np.outer(d, d)).astype(np.float32)
    centered = np.diag(G)
    if np.any((raw > 0) & ~(raw <= _MAX_SHIFT_LOSS * centered)):
        return None  # the first rows' means were far from the means (sorted data)
    fact = GramCholesky(G, problem.alpha, dtype=np.float32)
    if not gram_is_reliable(fact.rcond, np.float32):
        return None
    if fact.rcond < REFINE_BELOW and fact.rcond_2norm() < REFINE_BELOW:
        return None
    W = fact.solve(F[:k, :p].T - np.outer(d, F[k, p : p + k])) if k else None
    return fact, W


def _first_block_mean(problem):
    """The shift: the (weighted) mean of the first rows (zeros without intercept)."""
    if not problem.fit_intercept:
        return np.zeros(problem.n_features)
    first = problem.X[: _block_rows(problem.n_features, 8, problem.n_samples, 2**18)]
    sw = problem.sample_weight
    if sw is None or not sw[: len(first)].sum() > 0:
        return first.mean(axis=0)
    return sw[: len(first)] @ first / sw[: len(first)].sum()


def mixed_primal(problem):
    """Coefficients of ``problem`` from the float32 Gram matrix refined in
    float64 (see the module docstring), or None to fall back to the float64
    route.

    Returns
    -------
    W : ndarray of shape (n_features, n_targets), or None
    value : float
        The objective at ``W``.
    n_steps : int
        Refinement steps (reads of X in float64).
    """
    shift = _first_block_mean(problem)
    C, k = _gram32(problem, shift)
    if not np.all(np.isfinite(C)):
        return None
    factored = _factor(problem, C, k)
    if factored is None:
        return None
    fact, W = factored
    return _refine(problem, fact, W, shift)


def _refine(problem, fact, W, shift):
    """Refinement from ``W`` (None: from zero) until the next correction,
    predicted from the contraction, is below ``4 eps ||W||``: the observed
    one, but at least ``eps32 / rcond`` (each float32 solve's own rounding,
    which the first steps from a poor start do not show). A
    correction that does not shrink ends it: the previous iterate is kept
    when its correction was at rounding level (``_STALL_EPS`` eps), else
    None (fall back), as it is when the steps run out."""
    tiny = eps(np.float64)
    floor = eps(np.float32) / max(fact.rcond, eps(np.float32))
    p, k = problem.n_features, problem.n_targets
    last = np.inf if W is None else float(np.linalg.norm(W))
    W = np.zeros((p, k)) if W is None else W
    previous = None
    for step in range(1, _MAX_STEPS + 1):
        G, rss, d = normal_residual64(problem, W, shift, means=step == 1)
        if step == 1 and problem.fit_intercept:
            problem.X_offset = shift + d  # the exact weighted means
        dW = fact.solve(G)
        size = float(np.linalg.norm(dW))
        if not np.isfinite(size) or size >= last:
            stalled = previous is not None and last <= _STALL_EPS * tiny * previous[2]
            return (previous[0], previous[1], step - 1) if stalled else None
        # The objective at W + dW for a quadratic, with dW solving H dW = G.
        value = rss + problem.alpha * (W * W).sum(axis=0) - np.einsum("ij,ij->j", G, dW)
        W = W + dW
        norm = float(np.linalg.norm(W))
        if norm == 0.0 or size * max(size / last, floor) <= 4 * tiny * norm:
            return W, float(value.sum()), step
        previous, last = (W, float(value.sum()), norm), size
    return None
