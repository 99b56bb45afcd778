"""Direct (closed-form) solver: blocked Gram + Cholesky, dual form, SVD/LSQR fallbacks,
and the spectral regularization path (every alpha from one decomposition).

Products with X run in X's namespace and on its device; the small dense
factorizations (``n_features x n_features`` or ``n_samples x n_samples``) run on
the host with LAPACK, where they are cheap and where condition estimates exist.
"""

import copy
from dataclasses import dataclass

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
    singular_cutoff,
    spectral_cutoff,
    warn_if_singular,
)
from .._objective import RidgeProblem, moments_objective
from .._stats import _BLOCK_BYTES, RidgeStats, _block_rows
from ._base import PathResult, Solver, SolveResult
from ._mixed import PRECISIONS, mixed_primal, use_mixed
from ._positive import nnls_gram, warn_not_converged

_METHODS = ("auto", "gram", "svd")

# Blocks of device arrays (GPU) can be larger than host blocks.
_DEVICE_BLOCK_BYTES = 32 * _BLOCK_BYTES
# Refinement steps at most (each one pass over X).
_MAX_REFINE = 8


def solve_stats(stats, alpha, positive=False):
    """A :class:`SolveResult` from :class:`~l2gd.RidgeStats` alone (streaming,
    ``from_stats``); ``positive=True`` constrains the coefficients to be ``>= 0``."""
    if positive:
        result = nnls_gram(stats.xx, stats.xy, alpha)
        warn_not_converged(result, "ClosedForm(positive=True)")
        W, method = result.coef.astype(stats.xx.dtype, copy=False), "bpp"
    else:
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

    precision : {"auto", "double", "mixed"}, default="auto"
        Precision of the Gram matrix on float64 dense tall data
        (``n_samples >= 4 * n_features``). ``"mixed"``: formed and factorized
        in float32 (about half the time of float64 ``syrk`` with many
        features), float64 accuracy recovered by refinement steps with
        float64 residuals from X; when the float32 factor's condition estimate
        or the refinement's convergence says it would be less accurate than
        the float64 route, that route runs instead (``info["method"]`` is
        ``"cholesky32+refinement"`` when the mixed route answered). The
        mixed route computes no float64 statistics, so a fit on it keeps none
        for a later ``partial_fit`` or ``inference()`` without X.
        ``"double"``: float64 throughout. ``"auto"``: ``"double"`` wherever the
        statistics are kept (every estimator ``fit`` today); ``"mixed"`` from
        ``MIXED_MIN_FEATURES`` features on for problems that keep none.
        Other data (float32, sparse, other namespaces, wide) ignore it.

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
    #: Works from the ``p x p`` statistics (a data source computes them first).
    needs_gram = True

    def __init__(self, method="auto", precision="auto"):
        self.method = method
        self.precision = precision

    @property
    def supports_sparse(self):
        """Sparse X is supported except by ``method="svd"``."""
        return self.method != "svd"

    @property
    def supports_positive(self):
        """``positive=True`` (``w >= 0``) is solved on the statistics, except by
        ``method="svd"``, which promises an orthogonal factorization."""
        return self.method != "svd"

    @property
    def path_uses_stats(self):
        """The Gram route's path starts from statistics; ``method="svd"`` needs the rows."""
        return self.method != "svd"

    def _check_method(self):
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {self.method!r}.")
        if not isinstance(self.precision, str) or self.precision not in PRECISIONS:
            raise ValueError(
                f"precision must be one of {PRECISIONS}, got {self.precision!r}."
            )

    def spectrum(self, problem):
        """The :class:`Spectrum` of ``problem`` (host float64) that :meth:`solve_path` uses:
        :meth:`decompose`, then :meth:`SpectralBasis.project` of its targets."""
        basis = self.decompose(problem)
        return basis.project(problem, stats=basis.stats)

    def decompose(self, problem):
        """The :class:`SpectralBasis` of ``problem``: the part of its
        :class:`Spectrum` that depends on X (and the weights) only, shared by
        every problem with the same X and other targets (target batches).

        ``method="svd"``: an SVD of ``S^{1/2} X_c`` (:func:`spectrum_from_svd`).
        Otherwise the eigendecomposition of the Gram matrix of the statistics
        (``problem.stats`` when the problem offers them, else computed from the
        rows) when ``n_features <= n_samples``, of the deflated kernel otherwise.
        """
        self._check_method()
        stats = problem_stats(problem)
        if self.method == "svd":
            if not isinstance(problem, RidgeProblem):
                raise ValueError(
                    'ClosedForm(method="svd") needs the rows of the problem, not only its '
                    'statistics; use method="auto" or "gram".'
                )
            return basis_from_svd(problem)
        if stats is not None and (
            problem.n_features <= stats.n_samples or not isinstance(problem, RidgeProblem)
        ):
            return basis_from_stats(stats)
        if problem.n_features <= problem.n_samples:
            return basis_from_stats(RidgeStats._from_problem(problem))
        return basis_from_kernel(problem)

    def solve_path(
        self, problem, alphas, *, tol=None, max_iter=None, random_state=None, verbose=0,
        positive=False, basis=None,
    ):
        """The spectral path: every alpha from one decomposition (:meth:`spectrum`).

        ``positive=True``: no spectral path exists for the constrained
        problem; the statistics are formed once (or taken from
        ``problem.stats``) and each alpha is solved by block principal
        pivoting, from the largest alpha to the smallest, each warm-started
        from the previous solution's free set (``info["method"]`` is
        ``"bpp"``).

        Alphas at which the decomposition is not accurate enough
        (:meth:`Spectrum.accurate`: columns of very different scales, tiny
        alphas on rank-deficient data) are fit one at a time by orthogonal
        factorizations of the column-scaled design (:class:`DataFits`), or
        from the statistics when the problem has no rows (:class:`StatsFits`).
        ``info``: ``method`` (``"eigh"`` or ``"svd"``) and ``n_exact``, the
        number of alphas fit one at a time. ``basis``: :meth:`decompose` of a
        problem with the same X (another batch of targets), reused instead of
        decomposing X again.

        Returns
        -------
        path : PathResult
        """
        alphas = np.asarray(alphas, dtype=np.float64).reshape(-1)
        if positive:
            return self._positive_path(problem, alphas, verbose)
        spectrum = self.spectrum(problem) if basis is None else basis.project(problem)

        def fits():
            if isinstance(problem, RidgeProblem):
                return DataFits(problem)
            return StatsFits(problem_stats(problem))

        W, b, n_exact = spectral_path(spectrum, alphas, fits, problem.fit_intercept)
        if verbose:
            print(f"[ClosedForm] path of {len(alphas)} alphas by {spectrum.method}, "
                  f"{n_exact} fit one at a time")
        ones = np.ones(len(alphas))
        return PathResult(
            W, b, ones.astype(int), ones.astype(bool),
            {"method": spectrum.method, "n_exact": n_exact},
        )

    def partial_solve(
        self, state, X, Y, sample_weight, *, alpha, fit_intercept, random_state=None, verbose=0,
        positive=False,
    ):
        """Exact streaming: merge this batch's :class:`~l2gd.RidgeStats` into
        ``state`` (None for the first batch) and solve from the statistics
        (with ``w >= 0`` when ``positive``).

        Returns
        -------
        state : RidgeStats
        result : SolveResult
        """
        stats = self.merge_batch(state, X, Y, sample_weight, fit_intercept)
        return stats, solve_stats(stats, alpha, positive)

    @staticmethod
    def merge_batch(state, X, Y, sample_weight, fit_intercept):
        """``state`` (a :class:`~l2gd.RidgeStats`, or None for the first batch)
        with this batch's statistics merged in; the half of :meth:`partial_solve`
        that does not solve."""
        batch = RidgeStats._from_checked(X, Y, sample_weight, fit_intercept)
        return batch if state is None else state.merge(batch)

    def solve(
        self, problem, *, init=None, tol=None, max_iter=None, random_state=None, verbose=0,
        positive=False,
    ):
        """Minimize the ridge objective of ``problem`` exactly; see the class docstring.

        ``positive=True``: coefficients constrained to ``>= 0`` (intercept
        free), by block principal pivoting on the statistics
        (:func:`~l2gd.solvers._positive.nnls_gram`), warm-started from the
        positive entries of ``init``.
        """
        self._check_method()
        if positive:
            return self._solve_positive(problem, init, verbose)
        if not isinstance(problem, RidgeProblem):
            return self._from_moments(problem, verbose)
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

    # -- positive=True --------------------------------------------------------
    @staticmethod
    def _host_moments(problem):
        """``(xx, xy, yy, stats)`` of ``problem`` on the host: its statistics when it
        offers them (a fold's, a :class:`~l2gd._objective.GramProblem`'s), else
        computed from the rows once (``yy`` None when not computed)."""
        stats = problem_stats(problem)
        if stats is None and not isinstance(problem, RidgeProblem):
            stats = problem.stats
        if stats is not None:
            return stats.xx, stats.xy, stats.yy, stats
        xx, xy, yy = _gram(problem)
        return xx, xy, yy, getattr(problem, "_stats", None)

    def _solve_positive(self, problem, init, verbose):
        xx, xy, yy, stats = self._host_moments(problem)
        alpha = np.asarray(to_numpy(problem.alpha), dtype=np.float64)
        init = None if init is None else np.asarray(to_numpy(init))
        result = nnls_gram(xx, xy, alpha, init)
        warn_not_converged(result, "ClosedForm(positive=True)")
        W = result.coef
        if isinstance(problem, RidgeProblem) and is_numpy(problem.xp) and not problem.is_sparse:
            W = _refine_positive(problem, xx, alpha, W)
        W = W.astype(xx.dtype, copy=False)
        _check_finite(W, "the solution")
        value = float(np.sum(moments_objective(W, xx @ W, xy, yy, alpha)))
        if verbose:
            print(f"[ClosedForm] method bpp ({result.n_iter} pivoting iterations)  "
                  f"objective {value:.8e}")
        Wd = to_device(W, problem.xp, problem.device, problem.dtype)
        info = {"method": "bpp", "n_pivots": result.n_iter}
        if stats is not None:
            info["stats"] = stats
        return SolveResult(
            coef=Wd, intercept=problem.intercept(Wd), n_iter=1, converged=result.converged,
            history=(value,), info=info,
        )

    def _positive_path(self, problem, alphas, verbose):
        xx, xy, _, _ = self._host_moments(problem)
        x_mean = np.asarray(to_numpy(problem.X_offset), dtype=np.float64)
        y_mean = np.asarray(to_numpy(problem.y_offset), dtype=np.float64)
        n_alphas, (p, k) = len(alphas), xy.shape
        W = np.empty((n_alphas, p, k), dtype=xx.dtype)
        n_iter = np.ones(n_alphas, dtype=int)
        converged = np.empty(n_alphas, dtype=bool)
        init = None
        for i in np.argsort(-alphas, kind="stable"):
            result = nnls_gram(xx, xy, np.full(k, alphas[i]), init)
            warn_not_converged(result, "ClosedForm(positive=True)")
            W[i], converged[i], init = result.coef, result.converged, result.coef
        b = y_mean - np.einsum("j,ajk->ak", x_mean, W)
        if not problem.fit_intercept:
            b = np.zeros_like(b)
        if verbose:
            print(f"[ClosedForm] positive path of {n_alphas} alphas by bpp")
        return PathResult(W, b, n_iter, converged, {"method": "bpp"})

    def _from_moments(self, problem, verbose=0):
        """A problem without rows (:class:`~l2gd._objective.GramProblem`): Cholesky
        of its statistics where the Gram route is accurate unrefined (reciprocal
        condition at least ``REFINE_BELOW``, the threshold the data route refines
        below), else the problem's ``orthogonal_solve`` when it has one (TSQR on
        dask arrays; always for ``method="svd"``), else the statistics' own
        guarded solve (:func:`solve_from_stats`)."""
        stats, alpha = problem.stats, np.asarray(to_numpy(problem.alpha))
        orthogonal = getattr(problem, "orthogonal_solve", None)
        use_gram = self.method == "gram" or orthogonal is None or stats.n_features == 0
        if self.method == "auto" and not use_gram:
            use_gram = GramCholesky(stats.xx, alpha).rcond >= REFINE_BELOW
        if use_gram:
            W, method = solve_from_stats(stats, alpha)
            b, value = stats.intercept(W), float(np.sum(stats.objective(W, alpha)))
        else:
            (W, b, value), method = orthogonal(), "tsqr"
        if verbose:
            print(f"[ClosedForm] method {method}  objective {value:.8e}")
        return SolveResult(
            coef=W, intercept=b, n_iter=1, converged=True, history=(value,),
            info={"method": method, "stats": stats},
        )

    @staticmethod
    def _info(problem, method):
        """``method``, and the data's statistics when the Gram route computed them
        (NumPy/SciPy data): ``partial_fit`` after ``fit`` continues from them."""
        stats = getattr(problem, "_stats", None)
        return {"method": method} if stats is None else {"method": method, "stats": stats}

    def _primal(self, problem):
        def device(W):
            return to_device(W, problem.xp, problem.device, problem.dtype)

        if use_mixed(problem, self.precision):
            mixed = mixed_primal(problem)  # None: a guard says use float64
            if mixed is not None:
                return device(mixed[0]), "cholesky32+refinement", mixed[1]
        xx, xy, yy = _gram(problem)
        alpha = to_numpy(problem.alpha)

        fact = GramCholesky(xx, alpha)
        finite = np.all(np.isfinite(xy)) and np.all(np.isfinite(yy))
        if self.method == "auto" and not (finite and gram_is_reliable(fact.rcond, xx.dtype)):
            return (*_orthogonal_fallback(problem), None)
        if fact.rcond == 0.0:  # method="gram" on a singular system
            _check_gram_range(xx, problem)
            return device(gram_eigh_solve(xx, xy, alpha, "X")), "eigh", None
        W = fact.solve(xy)
        refine = np.isin(alpha, _needs_refinement(problem, fact))
        if not refine.any():
            # The objective from the Gram matrix: no further pass over X.
            value = moments_objective(W, xx @ W, xy, yy, alpha)
            return device(W), "cholesky", float(value.sum())
        if refine.all():
            return device(_refine(problem, fact, W)), "cholesky+refinement", None
        W[:, refine] = _refine(problem.for_targets(refine), fact.for_targets(refine), W[:, refine])
        return device(W), "cholesky+refinement", None

    def _dual(self, problem):
        xp = problem.xp
        system = dual_system(problem)
        K, b = system.K, system.b
        alpha = to_numpy(problem.alpha)
        C = np.empty_like(b)
        rcond = np.inf if K.shape[0] else 1.0  # n = 1 with an intercept: w = 0
        for a in np.unique(alpha) if K.shape[0] else ():
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
        C = to_device(system.to_samples(C), xp, problem.device, problem.dtype)
        return problem.rmatvec(C), "dual"


def _needs_refinement(problem, fact):
    """The distinct alphas whose Gram solution the refinement passes over X
    must correct: reciprocal condition estimate of the equilibrated factor
    below ``REFINE_BELOW``, in the 1-norm and, with many more rows than
    features, also in the 2-norm (estimated reciprocal condition at least
    ``REFINE_BELOW`` means the Gram route's error, about ``n * eps / rcond``, is
    within a digit of an orthogonal method's; the 2-norm estimate costs
    ``O(p^2)`` per Lanczos step, a refinement step ``O(n p)`` in extended
    precision). Decided per alpha, so that with one alpha per target only the
    ill-conditioned targets are refined."""
    low = [a for a, rc in fact.rconds.items() if rc < REFINE_BELOW]
    if low and problem.n_samples >= 4 * problem.n_features:
        low = [a for a in low if fact.rcond_2norm([a]) < REFINE_BELOW]
    return low

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
    # No BLAS exists for longdouble: NumPy's einsum loops run its products
    # 1.3-2x faster than its matmul (measured, benchmarks/RESULTS.md); float64
    # (refining float32) keeps BLAS.
    blas = ext.itemsize <= 8
    for start in range(0, n, rows):
        Xb = problem.X[start : start + rows].astype(ext)
        XW = Xb @ We if blas else np.einsum("ij,jk->ik", Xb, We)
        r = problem.Y[start : start + rows].astype(ext) - XW - b
        if sw is not None:
            r *= sw[start : start + rows, None].astype(ext)
        XtSr += Xb.T @ r if blas else np.einsum("ij,ik->jk", Xb, r)
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


def _refine_positive(problem, xx, alpha, W):
    """Iterative refinement of a non-negative solution on its free set (the
    positive entries): residuals from X in extended precision
    (:func:`_normal_residual`), corrections from the equilibrated Cholesky
    factor of ``xx_FF + alpha I``, as :func:`_refine` for the unconstrained
    problem. A correction that would cross the bound, or that stops
    shrinking, ends it (the free set is then the pivoting's, to rounding).
    Only when a free set's system is ill-conditioned (reciprocal condition
    below ``REFINE_BELOW``, the unconstrained route's threshold)."""
    W = np.array(W, dtype=np.float64)
    tiny = eps(problem.dtype)
    factors, worst = {}, np.inf
    for k in range(W.shape[1]):
        idx = np.flatnonzero(W[:, k] > 0)
        key = (idx.tobytes(), float(alpha[k]))
        if len(idx) == 0 or key in factors:
            continue
        d = np.sqrt(np.clip(np.diag(xx)[idx], 0.0, None) + alpha[k])
        d[~(d > 0)] = 1.0
        M = xx[np.ix_(idx, idx)] / d[:, None] / d[None, :]
        M.flat[:: len(idx) + 1] += alpha[k] / d**2
        c, rcond = cholesky_rcond(M)
        if c is None:
            return W
        factors[key], worst = (c, d), min(worst, rcond)
    if not worst < REFINE_BELOW:  # accurate unrefined, as the unconstrained Gram route
        return W
    last = np.inf
    for _ in range(_MAX_REFINE):
        R = _normal_residual(problem, W.astype(problem.dtype)).astype(np.float64)
        dW = np.zeros_like(W)
        for k in range(W.shape[1]):
            idx = np.flatnonzero(W[:, k] > 0)
            if len(idx) == 0:
                continue
            c, d = factors[(idx.tobytes(), float(alpha[k]))]
            dW[idx, k] = la.cho_solve(c, R[idx, k] / d, check_finite=False) / d
        size = float(np.linalg.norm(dW))
        if size >= last or np.any(W + dW < 0):
            break
        W = W + dW
        if size <= 4 * tiny * float(np.linalg.norm(W)):
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


# ---------------------------------------------------------------------------
# The dual (kernel) system: one home for the dual solve and the spectral path
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class InterceptComplement:
    """An orthonormal basis ``Q`` (``n x (n - 1)``) of the complement of a vector ``u``.

    ``Q`` is the last ``n - 1`` columns of the Householder reflector
    ``H = I - beta h h^T`` with ``H u = -sign(u_0) ||u|| e_0`` (no
    cancellation), applied in ``O(n)`` per column, never formed.
    """

    h: np.ndarray
    beta: float

    @classmethod
    def of(cls, u):
        v = np.asarray(u, dtype=np.float64) / np.linalg.norm(u)
        h = v.copy()
        h[0] += 1.0 if v[0] >= 0 else -1.0
        return cls(h, 2.0 / float(h @ h))

    def reduce(self, B):
        """``Q^T B`` for ``B`` of shape (n, k) (or (n, n) as a left product)."""
        return (B - self.beta * np.outer(self.h, self.h @ B))[1:]

    def lift(self, C):
        """``Q C`` for ``C`` of shape (n - 1, k)."""
        return np.vstack([np.zeros((1, C.shape[1]), dtype=C.dtype), C]) - self.beta * np.outer(
            self.h, self.h[1:] @ C
        )


def deflate_intercept(K, u):
    """The kernel restricted to the complement of its null vector ``u``.

    With an intercept the kernel ``K = S^{1/2} X_c X_c^T S^{1/2}`` has the exact
    null vector ``u = S^{1/2} 1``; computed, its eigenvalue is rounding
    noise that would pass for data (a spurious eigenvalue ``alpha`` of
    ``K + alpha I``, a spurious direction of the spectral path). With ``Q``
    the orthonormal complement of ``u`` (:class:`InterceptComplement`),
    ``K = Q (Q^T K Q) Q^T`` exactly.

    Parameters
    ----------
    K : ndarray of shape (n, n)
        Symmetric kernel with ``K u = 0`` in exact arithmetic.
    u : ndarray of shape (n,)
        The null vector (non-zero).

    Returns
    -------
    Kd : ndarray of shape (n - 1, n - 1)
        ``Q^T K Q``, symmetric.
    Q : InterceptComplement
    """
    Q = InterceptComplement.of(u)
    Kd = Q.reduce(Q.reduce(K).T)
    return (Kd + Kd.T) / 2.0, Q


@dataclass(frozen=True)
class DualSystem:
    """The dual form of a problem on the host: ``K = A A^T`` and ``b = S^{1/2} y_c``
    with ``A = S^{1/2} X_c``, both restricted to the complement of the
    intercept's null direction when there is one (``complement``).

    ``w = A^T (K + alpha I)^{-1} b``; :meth:`to_samples` maps a solution ``C``
    of the (restricted) system to ``S^{1/2} Q C``, so that ``w = X_c^T`` of it.
    """

    K: np.ndarray
    b: np.ndarray
    root: np.ndarray
    complement: InterceptComplement = None

    def lift(self, C):
        """``Q C`` (``C`` itself without intercept)."""
        return C if self.complement is None else self.complement.lift(C)

    def to_samples(self, C):
        return self.lift(C) * self.root[:, None]


def dual_system(problem, targets=True):
    """The :class:`DualSystem` of ``problem`` (the kernel by :func:`_kernel`);
    ``b`` is None with ``targets=False`` (the kernel only)."""
    root = _root_weights(problem)
    K = np.asarray(to_numpy(_kernel(problem)))
    b = np.asarray(to_numpy(problem.Yc)) * root[:, None] if targets else None
    if not problem.fit_intercept:
        return DualSystem(K, b, root)
    K, Q = deflate_intercept(K, root)
    return DualSystem(K, None if b is None else Q.reduce(b), root, Q)


def _root_weights(problem):
    """``S^{1/2}`` on the host (ones without weights)."""
    if problem.sample_weight is None:
        return np.ones(problem.n_samples, dtype=np.float64)
    return np.sqrt(np.asarray(to_numpy(problem.sample_weight), dtype=np.float64))


# ---------------------------------------------------------------------------
# The spectral path
# ---------------------------------------------------------------------------
#: Largest relative error of ``L + alpha`` (eigenvalue error over shifted
#: eigenvalue) at which the spectral path is used; beyond it, alpha is solved
#: on its own (see :meth:`Spectrum.accurate`).
_SPECTRAL_RTOL = 1e-8


@dataclass(frozen=True)
class KernelParts:
    """Leave-one-out pieces of the wide (sample-space) routes.

    ``U``: the kept left singular vectors of ``S^{1/2} X_c`` (orthogonal to
    ``S^{1/2} 1`` with an intercept); ``q``: squared row norms of the other
    directions of the (deflated) sample space (``1 - h_i - s_i / S`` at
    ``alpha = 0``, computed without cancellation); ``r0``: the projection of
    ``S^{1/2} y_c`` on them (the weighted least-squares residual).
    """

    U: np.ndarray
    q: np.ndarray
    r0: np.ndarray


@dataclass(frozen=True)
class Spectrum:
    """Ridge solutions for every alpha from one decomposition.

    ``X_c^T S X_c = V diag(L) V^T`` restricted to its numerical range;
    ``P = V^T X_c^T S y_c``. Then ``w(alpha) = V (P / (L + alpha))`` and
    ``b = y_mean - x_mean @ w``.

    ``L_err`` bounds the absolute error of each kept ``L``; ``null_err`` that
    of the dropped directions (taken as exactly 0; 0 when none is dropped).
    :meth:`accurate` says for which alphas these errors are negligible next
    to ``L + alpha``. ``kernel`` (wide routes) holds what leave-one-out needs
    in the weighted sample space. ``method`` names the decomposition.
    """

    V: np.ndarray
    L: np.ndarray
    P: np.ndarray
    x_mean: np.ndarray
    y_mean: np.ndarray
    L_err: np.ndarray
    null_err: float
    method: str
    kernel: KernelParts = None

    def accurate(self, alphas):
        """Whether the spectral solution is accurate at each alpha: every
        eigenvalue's error is below ``_SPECTRAL_RTOL`` times ``L + alpha``."""
        a = np.asarray(alphas, dtype=np.float64)
        ok = np.all(self.L_err[:, None] <= _SPECTRAL_RTOL * (self.L[:, None] + a[None, :]), axis=0)
        return ok & (self.null_err <= _SPECTRAL_RTOL * a)

    def coefs(self, alphas):
        """Coefficients of shape (n_alphas, n_features, n_targets)."""
        r, k = self.P.shape
        scaled = self.P[:, None, :] * inverse_shift(self.L, alphas)[:, :, None]
        W = self.V @ scaled.reshape(r, len(alphas) * k)
        return np.ascontiguousarray(W.reshape(len(self.V), len(alphas), k).transpose(1, 0, 2))

    def intercepts(self, W):
        return self.y_mean - np.einsum("j,ajk->ak", self.x_mean, W)


def _eigen_errors(L):
    """Kept eigenvalues, and the errors of the :class:`Spectrum` fields, for a
    symmetric eigendecomposition: absolute error ``spectral_cutoff(L)``."""
    error = spectral_cutoff(L, np.float64)
    keep = L > error
    return keep, np.full(int(keep.sum()), error), error if not keep.all() else 0.0


@dataclass(frozen=True)
class SpectralBasis:
    """The part of a :class:`Spectrum` that depends on X and the weights only.

    ``X_c^T S X_c = V diag(L) V^T`` (``L_err``, ``null_err``, ``method`` as in
    :class:`Spectrum`). :meth:`project` adds the targets of any problem with
    the same X, weights and intercept: ``P = V^T X_c^T S y_c`` from
    ``left^T S^{1/2} y_c`` on the SVD and sample-space routes (``left``:
    ``U sv`` of the kept directions on a tall SVD, the kept sample-space
    vectors ``U`` otherwise, with ``null`` the others), else from the
    statistics' ``X^T y``. ``stats``: the statistics decomposed, when the
    decomposition computed them.
    """

    V: np.ndarray
    L: np.ndarray
    x_mean: np.ndarray
    L_err: np.ndarray
    null_err: float
    method: str
    left: np.ndarray = None
    null: np.ndarray = None
    stats: RidgeStats = None

    def project(self, problem, *, stats=None):
        """The :class:`Spectrum` of ``problem``'s targets on this basis (``stats``:
        statistics of ``problem`` to take ``X_c^T S y_c`` from)."""
        stats = problem_stats(problem) if stats is None else stats
        errors = (self.L_err, self.null_err, self.method)
        if self.left is None:
            if stats is not None:
                xy, y_mean = stats.xy, stats.y_mean
            else:  # X_c^T S y_c of these targets only
                xy = np.asarray(to_numpy(problem.rmatvec(problem.weighted(problem.Yc))))
                y_mean = problem.y_offset
            return Spectrum(self.V, self.L, self.V.T @ xy, self.x_mean, y_mean, *errors)
        Ys = np.asarray(problem.Yc, dtype=np.float64) * _root_weights(problem)[:, None]
        if self.null is None:  # tall SVD: left = U sv
            P = self.left.T @ Ys
            return Spectrum(self.V, self.L, P, self.x_mean, problem.y_offset, *errors)
        P = np.sqrt(self.L)[:, None] * (self.left.T @ Ys)
        Ud = self.null
        kernel = KernelParts(self.left, np.einsum("ij,ij->i", Ud, Ud), Ud @ (Ud.T @ Ys))
        return Spectrum(self.V, self.L, P, self.x_mean, problem.y_offset, *errors, kernel=kernel)


def basis_from_stats(stats):
    """:class:`SpectralBasis` from the eigendecomposition of ``stats.xx``."""
    L, V = la.eigh(stats.xx, check_finite=False)
    keep, L_err, null_err = _eigen_errors(L)
    return SpectralBasis(V[:, keep], L[keep], stats.x_mean, L_err, null_err, "eigh", stats=stats)


def spectrum_from_stats(stats):
    """:class:`Spectrum` from the eigendecomposition of ``stats.xx``."""
    return basis_from_stats(stats).project(None, stats=stats)


def _sample_space_basis(problem, system, U, L, V, keep, errors, method):
    """:class:`SpectralBasis` of a wide route from the sample-space decomposition
    ``U`` (of the restricted system), ``L`` and ``V = A^T U L^{-1/2}``."""
    U = system.lift(U)
    return SpectralBasis(
        V, L[keep], problem.X_offset, *errors, method, left=U[:, keep], null=U[:, ~keep]
    )


def basis_from_kernel(problem):
    """:class:`SpectralBasis` from the eigendecomposition of the (deflated) kernel
    (:func:`dual_system`): ``X_c^T S X_c = V L V^T`` with
    ``V = X_c^T S^{1/2} U L^{-1/2}``."""
    system = dual_system(problem, targets=False)
    L, U = la.eigh(system.K, check_finite=False)
    keep, L_err, null_err = _eigen_errors(L)
    Uk = system.to_samples(U[:, keep])
    V = np.asarray(problem.rmatvec(Uk)) / np.sqrt(L[keep])
    return _sample_space_basis(problem, system, U, L, V, keep, (L_err, null_err), "eigh")


def spectrum_from_kernel(problem):
    """:class:`Spectrum` of :func:`basis_from_kernel`."""
    return basis_from_kernel(problem).project(problem)


def _weighted_design(problem):
    """``S^{1/2} X_c`` as a dense host float64 copy."""
    X = problem.X.toarray() if problem.is_sparse else np.asarray(to_numpy(problem.X))
    A = np.asarray(X, dtype=np.float64) - np.asarray(to_numpy(problem.X_offset))
    return A * _root_weights(problem)[:, None]


def basis_from_svd(problem):
    """:class:`SpectralBasis` from an SVD of the design ``A = S^{1/2} X_c`` (dense copy).

    Singular values carry an absolute error ``delta`` of about
    :func:`~l2gd._linalg.singular_cutoff`, so ``L = s^2`` one of
    ``2 s delta + delta^2``: far smaller than an eigendecomposition's
    ``eps * L_max`` for the small ``L``. Wide data with an intercept: the SVD
    of ``Q^T A`` (``Q`` the complement of ``S^{1/2} 1``), whose left
    singular vectors give leave-one-out's sample-space pieces.
    """
    A = _weighted_design(problem)
    wide = problem.n_features > problem.n_samples
    system = None
    if wide:
        root = _root_weights(problem)
        Q = InterceptComplement.of(root) if problem.fit_intercept else None
        system = DualSystem(None, None, root, Q)
        A = A if Q is None else Q.reduce(A)
    U, sv, Vt = la.svd(A, full_matrices=False, check_finite=False, lapack_driver="gesvd")
    delta = singular_cutoff(sv, max(A.shape), np.float64)
    keep = sv > delta
    errors = (2.0 * sv[keep] * delta + delta**2, delta**2 if not keep.all() else 0.0)
    V, L = Vt[keep].T, sv**2
    if wide:
        return _sample_space_basis(problem, system, U, L, V, keep, errors, "svd")
    left = U[:, keep] * sv[keep]
    return SpectralBasis(V, L[keep], problem.X_offset, *errors, "svd", left=left)


def spectrum_from_svd(problem):
    """:class:`Spectrum` of :func:`basis_from_svd`."""
    return basis_from_svd(problem).project(problem)


def inverse_shift(L, alphas):
    """``1 / (L + alpha)`` of shape (rank, n_alphas); 0 for an infinite alpha."""
    return 1.0 / (L[:, None] + np.asarray(alphas, dtype=np.float64)[None, :])


def shrinkage(L, alphas):
    """``alpha / (L + alpha)`` of shape (rank, n_alphas), finite for alpha = 0 or inf."""
    with np.errstate(divide="ignore"):
        return 1.0 / (1.0 + L[:, None] / np.asarray(alphas, dtype=np.float64)[None, :])


class StatsFits:
    """Exact fits per alpha from statistics only: Cholesky of ``G + alpha I``
    scaled to a unit diagonal (``D = diag(sqrt(diag(G) + alpha))``), accurate
    for columns of any scales; a pseudo-inverse from an eigendecomposition
    when the scaled matrix is numerically singular."""

    def __init__(self, stats):
        self.stats = stats

    def coef(self, alpha):
        G, B = self.stats.xx, self.stats.xy
        d = np.sqrt(np.clip(np.diag(G), 0.0, None) + alpha)
        d[~(d > 0)] = 1.0
        M = G / d[:, None] / d[None, :]
        M.flat[:: M.shape[0] + 1] += alpha / d**2
        try:
            return la.cho_solve(la.cho_factor(M), B / d[:, None], check_finite=False) / d[:, None]
        except la.LinAlgError:
            m, V = la.eigh(M, check_finite=False)
            keep = m > spectral_cutoff(m, np.float64)
            F = V[:, keep] / np.sqrt(m[keep])
            return F @ (F.T @ (B / d[:, None])) / d[:, None]


class DataFits:
    """Exact fits per alpha from the data, by orthogonal factorizations.

    One QR factorization of the column-scaled weighted design
    ``S^{1/2} X_c D^{-1} = Q R`` (``D`` the column norms); for each alpha,
    least squares on ``[R; sqrt(alpha) D^{-1}]`` by a second QR,
    ``= Q_a R_a``. Both are column-scaling invariant and do not square the
    condition number, so the fits are accurate where the spectral path is
    not (columns of very different scales, tiny alphas). The hat diagonal
    ``h_i = s_i x_ci^T (G + alpha I)^-1 x_ci`` is the squared column norms of
    ``R_a^{-T} R^T Q^T``.
    """

    def __init__(self, problem):
        X = problem.X.toarray() if problem.is_sparse else problem.X
        root = _root_weights(problem)
        self.Xc = np.asarray(X, dtype=np.float64) - problem.X_offset
        A = self.Xc * root[:, None]
        d = np.linalg.norm(A, axis=0)
        d[~(d > 0)] = 1.0
        self.d = d
        self.Q, self.R = la.qr(A / d, mode="economic", check_finite=False)
        self.root = root
        self.c = self.Q.T @ (problem.Yc * root[:, None])

    def for_targets(self, problem):
        """The same factorization for the targets of ``problem`` (same rows and weights)."""
        new = copy.copy(self)
        new.c = self.Q.T @ (problem.Yc * self.root[:, None])
        return new

    def _factor(self, alpha):
        M = np.vstack([self.R, np.diag(np.sqrt(alpha) / self.d)])
        Qa, Ra = la.qr(M, mode="economic", check_finite=False)
        diag = np.abs(np.diag(Ra))
        if not diag.min(initial=np.inf) > spectral_cutoff(diag, np.float64):
            Ra_pinv = np.linalg.pinv(Ra)  # alpha = 0, rank deficient
            return Qa, (lambda B: Ra_pinv @ B), (lambda B: Ra_pinv.T @ B)
        return (
            Qa,
            lambda B: la.solve_triangular(Ra, B, check_finite=False),
            lambda B: la.solve_triangular(Ra, B, trans="T", check_finite=False),
        )

    def coef(self, alpha):
        Qa, solve, _ = self._factor(alpha)
        return solve(Qa[: len(self.R)].T @ self.c) / self.d[:, None]

    def coef_and_hat(self, alpha):
        """Coefficients and the hat diagonal ``h`` (without the intercept's term)."""
        Qa, solve, solve_t = self._factor(alpha)
        T = solve_t(self.R.T @ self.Q.T)  # (p, n)
        return solve(Qa[: len(self.R)].T @ self.c) / self.d[:, None], np.einsum("ji,ji->i", T, T)


def spectral_path(spectrum, alphas, fits, fit_intercept):
    """Coefficients and intercepts for every alpha: from ``spectrum`` where it is
    accurate (:meth:`Spectrum.accurate`), by an exact fit per alpha elsewhere.

    ``fits`` is a function returning :class:`DataFits` or :class:`StatsFits`
    (called only if some alpha needs it). Returns ``(W, b, n_exact)``.
    """
    W = spectrum.coefs(alphas)
    inaccurate = np.flatnonzero(~spectrum.accurate(alphas))
    if len(inaccurate):
        exact = fits()
        for i in inaccurate:
            W[i] = exact.coef(alphas[i])
    b = spectrum.intercepts(W) if fit_intercept else np.zeros(W.shape[::2])
    return W, b, len(inaccurate)


def problem_stats(problem):
    """The statistics ``problem`` offers (``problem.stats``, a
    :class:`~l2gd.RidgeStats`), or None."""
    stats = getattr(problem, "stats", None)
    return stats if isinstance(stats, RidgeStats) else None
