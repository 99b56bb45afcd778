"""Cross-validated choice of alpha (:class:`GDRidgeCV`) and the regularization path.

Everything here reuses :class:`~l2gd.RidgeProblem` (the objective, stated once),
:class:`~l2gd.RidgeStats` (mergeable sufficient statistics) and the solvers of
:mod:`l2gd.solvers`. Two ways of computing a whole path of solutions share one
interface (:func:`_solve_path`):

* exact (the :class:`~l2gd.solvers.ClosedForm` solver): one eigendecomposition
  of the weighted, centered Gram matrix ``X_c^T S X_c = V diag(L) V^T`` (or of
  the kernel ``S^{1/2} X_c X_c^T S^{1/2}`` when there are more features than
  rows) gives every solution at once,
  ``w(alpha) = V diag(1 / (L + alpha)) V^T X_c^T S y_c`` (:class:`_Spectrum`);
* iterative (any other solver): a warm-started path from the largest to the
  smallest alpha, each solve starting from the previous coefficients.

Leave-one-out uses the same decomposition: with ``U = S^{1/2} X_c V L^{-1/2}``,
the leave-one-out residual of row ``i`` is ``r_i / (1 - h_i - s_i / S)`` with
``r`` the residual of the fit on all rows and ``h_i`` the diagonal of the hat
matrix ``U diag(L / (L + alpha)) U^T``, the ``s_i / S`` term accounting for the
unpenalized intercept. Both are updated for every alpha by products with the
precomputed ``n_samples x rank`` matrix ``X_c V``.
"""

import copy
import inspect
import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.metrics import check_scoring, get_scorer, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils import check_array
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.parallel import Parallel, delayed

from . import _dask
from ._array_api import float_dtypes, to_numpy
from ._compat import HasMethods, Interval, StrOptions, _fit_context, validate_data
from ._objective import RidgeProblem
from ._ridge import GDRidgeRegressor, linear_predict
from ._linalg import spectral_cutoff
from ._scaling import Rescaling
from ._scores import r2_from_parts, r2_scores
from ._stats import RidgeStats
from ._validation import ACCEPT_SPARSE, FLOAT_DTYPES, as_2d_targets, check_sample_weight
from .solvers import _registry
from .solvers import SOLVERS, ClosedForm
from .solvers._closed_form import _kernel

#: Relative ends of the grid that ``alphas=<int>`` builds (see :func:`alpha_grid`).
GRID_LOW, GRID_HIGH = 1e-6, 1e3

#: Largest relative error of ``L + alpha`` (eigenvalue error over shifted
#: eigenvalue) at which the spectral path is used; beyond it, alpha is solved
#: on its own (see :meth:`_Spectrum.accurate`).
_SPECTRAL_RTOL = 1e-8

# Arrays of predictions or residuals for a chunk of alphas hold at most this
# many elements.
_CHUNK_ELEMENTS = 2**22


class AlphaBoundaryWarning(UserWarning):
    """The alpha chosen by cross-validation is at an end of the grid.

    The best alpha may lie outside the grid: extend ``alphas`` beyond that end.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from l2gd import GDRidgeCV, AlphaBoundaryWarning
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 3))
    >>> y = X @ [1.0, 2.0, 3.0]  # no noise: the smallest alpha wins
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = GDRidgeCV(alphas=[1.0, 10.0, 100.0]).fit(X, y)
    >>> [w.category.__name__ for w in caught]
    ['AlphaBoundaryWarning']
    """


# ---------------------------------------------------------------------------
# Grids and input checks
# ---------------------------------------------------------------------------
def alpha_grid(X, sample_weight=None, *, n_alphas=100, fit_intercept=True):
    """The log-spaced grid of alphas that ``alphas=<int>`` uses.

    ``n_alphas`` values from ``1e-6 * m`` to ``1e3 * t``, where ``t`` is the
    trace of the weighted, centered Gram matrix ``X_c^T S X_c`` (the weighted
    sum of squares of the centered features) and ``m = t / n_features`` its
    mean diagonal entry. Since the Gram matrix's eigenvalues lie in
    ``[0, t]``, the largest alpha shrinks every coefficient by a factor of at
    least 1000, and the smallest is a millionth of a typical eigenvalue: the
    grid scales with X, ``n_samples`` and the weights as
    :class:`~sklearn.linear_model.Ridge`'s ``alpha`` does.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.
    n_alphas : int, default=100
        Number of alphas.
    fit_intercept : bool, default=True
        Whether the features are centered.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        Increasing grid.

    Examples
    --------
    >>> import numpy as np
    >>> from l2gd import alpha_grid
    >>> X = np.random.default_rng(0).standard_normal((100, 4))
    >>> grid = alpha_grid(X, n_alphas=10)
    >>> grid.shape, bool(grid[0] < grid[-1])
    ((10,), True)
    """
    X = check_array(X, accept_sparse=ACCEPT_SPARSE, dtype=FLOAT_DTYPES)
    sw = check_sample_weight(sample_weight, X)
    return _alpha_grid(_problem(X, np.zeros((X.shape[0], 1)), sw, fit_intercept), n_alphas)


def _alpha_grid(problem, n_alphas):
    trace = float(np.sum(problem._gram_diagonal()))
    if not np.isfinite(trace) or trace <= 0:
        trace = float(max(problem.n_features, 1))
    mean = trace / max(problem.n_features, 1)
    return np.geomspace(GRID_LOW * mean, GRID_HIGH * trace, int(n_alphas))


def _check_alphas(alphas, *, positive):
    """A validated 1-D float64 array of alphas (user order kept)."""
    message = f"alphas must be an int or an array of real numbers, got {alphas!r}."
    if isinstance(alphas, str):
        raise TypeError(message)
    try:
        arr = np.asarray(to_numpy(alphas))
    except (TypeError, ValueError) as exc:
        raise TypeError(message) from exc
    if arr.dtype.kind not in "iuf" and not (
        arr.dtype.kind == "O" and all(isinstance(a, Real) for a in arr.ravel())
    ):
        raise TypeError(message)  # strings, booleans, complex, objects: as RidgeCV
    arr = arr.astype(np.float64)
    arr = arr.reshape(-1) if arr.ndim == 0 else arr
    if arr.ndim != 1:
        raise ValueError(f"alphas must be 1-D, got an array of shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError("alphas must not be empty.")
    if not np.all(np.isfinite(arr)):
        raise ValueError("alphas must be finite.")
    if positive and np.any(arr <= 0):
        raise ValueError(
            "alphas must be > 0 with cv=None (leave-one-out): alpha=0 can make a "
            f"leave-one-out residual 0/0. Got {alphas!r}. Use positive alphas or set cv."
        )
    if np.any(arr < 0):
        raise ValueError(f"alphas must be >= 0, got {alphas!r}.")
    return arr


def _problem(X, Y, sample_weight, fit_intercept, alpha=0.0):
    return _PathProblem(
        X,
        Y,
        np.full(Y.shape[1], alpha, dtype=X.dtype),
        sample_weight=sample_weight,
        fit_intercept=fit_intercept,
    )


def _rows(A, idx):
    return None if A is None else A[idx]


def _chunk_size(n_rows, per_alpha):
    """Alphas per chunk so each ``(n_rows, chunk, per_alpha)`` temporary stays
    within ``_CHUNK_ELEMENTS`` (a fixed budget: memory does not grow with the
    data beyond one alpha's arrays)."""
    return max(1, _CHUNK_ELEMENTS // max(1, n_rows * per_alpha))


# ---------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------
class _PathProblem(RidgeProblem):
    """A :class:`RidgeProblem` whose alpha changes along a path.

    Quantities that do not depend on alpha (the top eigenvalue of the Gram
    matrix, used for step sizes) are computed once and shared by the copies
    that :meth:`with_alpha` makes.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._gram_norms = {}

    def gram_norm(self, tol=1e-3):
        if tol not in self._gram_norms:
            self._gram_norms[tol] = super().gram_norm(tol)
        return self._gram_norms[tol]

    def with_alpha(self, alpha):
        new = copy.copy(self)
        new.alpha = np.full(self.n_targets, alpha, dtype=self.dtype)
        return new


class _Spectrum:
    """Ridge solutions for every alpha from one eigendecomposition.

    ``X_c^T S X_c = V diag(L) V^T`` restricted to its numerical range
    (``L > cutoff``); ``P = V^T X_c^T S y_c``. Then
    ``w(alpha) = V (P / (L + alpha))`` and ``b = y_mean - x_mean @ w``.

    The eigenvalues carry an absolute error of about ``error = eps * dim *
    L_max``; :meth:`accurate` says for which alphas that error is negligible
    next to ``L + alpha`` in every direction (``floor`` is the smallest
    eigenvalue). ``kernel`` (kernel route only) holds what leave-one-out
    needs in the weighted sample space (see :class:`_KernelParts`).
    """

    def __init__(self, V, L, P, x_mean, y_mean, *, error=0.0, floor=0.0, kernel=None):
        self.V, self.L, self.P = V, L, P
        self.x_mean, self.y_mean = x_mean, y_mean
        self.error, self.floor = error, floor
        self.kernel = kernel

    @classmethod
    def from_stats(cls, stats):
        L, V = la.eigh(stats.xx, check_finite=False)
        error, floor = spectral_cutoff(L, np.float64), max(float(L.min(initial=0.0)), 0.0)
        keep = L > error
        V, L = V[:, keep], L[keep]
        return cls(V, L, V.T @ stats.xy, stats.x_mean, stats.y_mean, error=error, floor=floor)

    @classmethod
    def from_problem(cls, problem):
        if problem.n_features <= problem.n_samples:
            return cls.from_stats(RidgeStats._from_problem(problem))
        # Wide: eigendecomposition of the kernel S^1/2 X_c X_c^T S^1/2 = U L U^T
        # (deflated of the intercept's null direction), so that
        # X_c^T S X_c = V L V^T with V = X_c^T S^1/2 U L^-1/2.
        root = _root_weights(problem)
        K = _kernel(problem)
        if problem.fit_intercept:
            K, Q = deflate_intercept(K, root)
        L, U = la.eigh(K, check_finite=False)
        if problem.fit_intercept:
            U = Q @ U
        error, floor = spectral_cutoff(L, np.float64), max(float(L.min(initial=0.0)), 0.0)
        keep = L > error
        Ys = problem.Yc * root[:, None]
        Uk, Lk, Ud = U[:, keep], L[keep], U[:, ~keep]
        sl = np.sqrt(Lk)
        V = problem.rmatvec(Uk * root[:, None]) / sl
        P = sl[:, None] * (Uk.T @ Ys)
        kernel = _KernelParts(Uk, np.einsum("ij,ij->i", Ud, Ud), Ud @ (Ud.T @ Ys))
        return cls(
            V, Lk, P, problem.X_offset, problem.y_offset, error=error, floor=floor, kernel=kernel
        )

    def accurate(self, alphas):
        """Whether the spectral solution is accurate at each alpha: the eigenvalue
        error is below ``_SPECTRAL_RTOL`` times ``L + alpha`` for every ``L``."""
        return self.error <= _SPECTRAL_RTOL * (np.asarray(alphas) + self.floor)

    def coefs(self, alphas):
        """Coefficients of shape (n_alphas, n_features, n_targets)."""
        r, k = self.P.shape
        scaled = self.P[:, None, :] * _inverse_shift(self.L, alphas)[:, :, None]
        W = self.V @ scaled.reshape(r, len(alphas) * k)
        return np.ascontiguousarray(W.reshape(len(self.V), len(alphas), k).transpose(1, 0, 2))

    def intercepts(self, W):
        return self.y_mean - np.einsum("j,ajk->ak", self.x_mean, W)


@dataclass(frozen=True)
class _KernelParts:
    """Leave-one-out pieces of the kernel route, in the weighted sample space.

    ``U``: the kept eigenvectors (orthogonal to ``S^{1/2} 1`` with an
    intercept); ``q``: squared row norms of the other eigenvectors of the
    deflated kernel (``1 - h_i - s_i / S`` at ``alpha = 0``, computed without
    cancellation); ``r0``: the projection of ``S^{1/2} y_c`` on them (the
    weighted least-squares residual).
    """

    U: np.ndarray
    q: np.ndarray
    r0: np.ndarray


def deflate_intercept(K, u):
    """The centered kernel restricted to the complement of its null vector ``u``.

    With an intercept the kernel ``K = S^{1/2} X_c X_c^T S^{1/2}`` has the exact
    null vector ``u = S^{1/2} 1``; computed, its eigenvalue is rounding
    noise that would pass for data. ``Q`` (``n x (n - 1)``, orthonormal
    columns orthogonal to ``u``: a Householder reflector's last columns)
    removes it exactly: ``K = Q (Q^T K Q) Q^T``.

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
    Q : ndarray of shape (n, n - 1)
    """
    v = np.asarray(u, dtype=K.dtype) / np.linalg.norm(u)
    h = v.copy()
    h[0] += 1.0 if v[0] >= 0 else -1.0  # H v = -sign(v_0) e_0, no cancellation
    Q = np.eye(len(v), dtype=K.dtype)[:, 1:] - (2.0 / (h @ h)) * np.outer(h, h[1:])
    Kd = Q.T @ K @ Q
    return (Kd + Kd.T) / 2.0, Q


def _inverse_shift(L, alphas):
    """``1 / (L + alpha)`` of shape (rank, n_alphas); 0 for an infinite alpha."""
    return 1.0 / (L[:, None] + np.asarray(alphas, dtype=np.float64)[None, :])


def _shrinkage(L, alphas):
    """``alpha / (L + alpha)`` of shape (rank, n_alphas), finite for alpha = 0 or inf."""
    with np.errstate(divide="ignore"):
        return 1.0 / (1.0 + L[:, None] / np.asarray(alphas, dtype=np.float64)[None, :])


class _StatsFits:
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


class _DataFits:
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
        self.c = self.Q.T @ (problem.Yc * root[:, None])

    def _factor(self, alpha):
        M = np.vstack([self.R, np.diag(np.sqrt(alpha) / self.d)])
        Qa, Ra = la.qr(M, mode="economic", check_finite=False)
        diag = np.abs(np.diag(Ra))
        if not diag.min(initial=np.inf) > spectral_cutoff(diag, np.float64):  # alpha = 0, rank deficient
            Ra_pinv = np.linalg.pinv(Ra)
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


def _path(spectrum, alphas, fits, fit_intercept):
    """Coefficients and intercepts for every alpha: from the spectrum where it is
    accurate (:meth:`_Spectrum.accurate`), by an exact fit per alpha elsewhere.

    ``fits`` is a function returning :class:`_DataFits` or :class:`_StatsFits`
    (called only if some alpha needs it).
    """
    W = spectrum.coefs(alphas)
    inaccurate = np.flatnonzero(~spectrum.accurate(alphas))
    if len(inaccurate):
        exact = fits()
        for i in inaccurate:
            W[i] = exact.coef(alphas[i])
    b = spectrum.intercepts(W) if fit_intercept else np.zeros(W.shape[::2])
    return W, b


def _root_weights(problem):
    if problem.sample_weight is None:
        return np.ones(problem.n_samples, dtype=problem.dtype)
    return np.sqrt(problem.sample_weight)


def _is_exact(solver):
    """Whether the path can come from one decomposition (the closed-form solver)."""
    return isinstance(solver, ClosedForm)


def _solve_path(problem, alphas, solver, *, tol=None, max_iter=None, random_state=None):
    """Solutions for every alpha, in the order given.

    Returns ``W`` of shape (n_alphas, n_features, n_targets), intercepts of
    shape (n_alphas, n_targets) and iterations per alpha.
    """
    if _is_exact(solver):
        spectrum = _Spectrum.from_problem(problem)
        W, b = _path(spectrum, alphas, lambda: _DataFits(problem), problem.fit_intercept)
        return W, b, np.ones(len(alphas), dtype=int)
    n_alphas = len(alphas)
    W = np.empty((n_alphas, problem.n_features, problem.n_targets), dtype=problem.dtype)
    b = np.empty((n_alphas, problem.n_targets), dtype=problem.dtype)
    n_iter = np.empty(n_alphas, dtype=int)
    init = None
    # Large to small alpha: each solution starts the next, better conditioned to worse.
    for i in np.argsort(-alphas, kind="stable"):
        result = solver.solve(
            problem.with_alpha(alphas[i]),
            init=init,
            tol=tol,
            max_iter=max_iter,
            random_state=random_state,
        )
        init = result.coef
        W[i], b[i], n_iter[i] = result.coef, result.intercept, result.n_iter
    if not problem.fit_intercept:
        b[:] = 0.0
    return W, b, n_iter


def _resolve_solver(solver, X):
    """A fresh solver object and its name, checked against X, as the estimator does."""
    est = GDRidgeRegressor(solver=solver)
    obj, name = est._solver_instance(X)
    est._check_capabilities(obj, name, X)
    return obj, name


def ridge_path(
    X,
    y,
    *,
    alphas=100,
    sample_weight=None,
    fit_intercept=True,
    solver="auto",
    tol=None,
    max_iter=None,
    random_state=None,
):
    """Compute ridge coefficients along a grid of alphas.

    The objective is :class:`sklearn.linear_model.Ridge`'s for each alpha.
    With the closed-form solver one eigendecomposition serves every alpha;
    with an iterative solver the path runs from the largest to the smallest
    alpha, each solve warm-started from the previous solution.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Targets.
    alphas : int or array-like of shape (n_alphas,), default=100
        Penalties (``>= 0``), or the number of them on the grid of
        :func:`alpha_grid`.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.
    fit_intercept : bool, default=True
        Whether to fit an unpenalized intercept.
    solver : {"auto", "closed_form", "gd"} or Solver, default="auto"
        As in :class:`~l2gd.GDRidgeRegressor`.
    tol : float, default=None
        Tolerance of iterative solvers (their default when None).
    max_iter : int, default=None
        Iterations per alpha of iterative solvers (their default when None).
    random_state : int, RandomState instance or None, default=None
        Seed of stochastic solvers.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The alphas, in decreasing order (as :func:`sklearn.linear_model.lasso_path`).
    coefs : ndarray of shape (n_features, n_alphas) or (n_targets, n_features, n_alphas)
        Coefficients along the path.
    intercepts : ndarray of shape (n_alphas,) or (n_targets, n_alphas)
        Intercepts along the path (zeros when ``fit_intercept=False``).

    See Also
    --------
    GDRidgeCV : Choose alpha by cross-validation along such a path.
    sklearn.linear_model.lasso_path : The same interface for the lasso.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from l2gd import ridge_path
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((50, 3)), rng.standard_normal(50)
    >>> alphas, coefs, intercepts = ridge_path(X, y, alphas=[0.1, 1.0, 10.0])
    >>> alphas, coefs.shape
    (array([10. ,  1. ,  0.1]), (3, 3))
    >>> bool(np.allclose(coefs[:, 1], Ridge(alpha=1.0).fit(X, y).coef_))
    True
    """
    from ._validation import check_batch

    X, Y, sw = check_batch(X, y, sample_weight)
    if X.shape[0] == 0:
        raise ValueError("X has 0 samples; at least one is required.")
    # Data near the ends of the float range: the path of the exactly rescaled
    # problem, mapped back (alphas scale by 1 / x_scale**2).
    resc = Rescaling.of(X, Y)
    problem = _problem(*resc.data(X, Y), sw, fit_intercept)
    if isinstance(alphas, Integral) and not isinstance(alphas, bool):
        if alphas < 1:
            raise ValueError(f"alphas must be a positive int or an array, got {alphas}.")
        grid = _alpha_grid(problem, alphas) * resc.x_scale**2
    else:
        grid = _check_alphas(alphas, positive=False)
    grid = np.sort(grid)[::-1].astype(X.dtype)
    solver_obj, _ = _resolve_solver(solver, X)
    seed = _registry.seed(random_state)
    W, b, _ = _solve_path(
        problem, resc.alpha(grid), solver_obj, tol=tol, max_iter=max_iter, random_state=seed
    )
    coefs = resc.coef(W).transpose(2, 1, 0)  # (n_targets, n_features, n_alphas)
    intercepts = resc.intercept(b).T
    if np.ndim(y) == 1:
        coefs, intercepts = coefs[0], intercepts[0]
    return grid, np.ascontiguousarray(coefs), np.ascontiguousarray(intercepts)


# ---------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------
class _PathPoint(GDRidgeRegressor):
    """A :class:`GDRidgeRegressor` set from one point of a computed path.

    ``predict`` on the validation block it was made for returns the
    predictions already computed for the whole path (one matrix product for
    every alpha); on anything else it predicts as usual. Scorers and
    callables receive a real fitted estimator and the real validation X.
    """

    def predict(self, X):
        if X is self._X_val:
            return self._y_pred
        return super().predict(X)


def _path_point(alpha, coef, intercept, X_val, y_pred, fit_intercept):
    est = _PathPoint(alpha=alpha, fit_intercept=fit_intercept)
    est.coef_ = coef
    est.intercept_ = intercept
    est.n_features_in_ = X_val.shape[1]
    est.n_iter_ = 1
    est._X_val = X_val
    est._y_pred = y_pred
    return est


class _Identity(RegressorMixin, BaseEstimator):
    """Regressor whose prediction is its input (scores precomputed predictions)."""

    def predict(self, X):
        return X


def _accepts_sample_weight(scorer):
    try:
        params = inspect.signature(scorer).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == "sample_weight" or p.kind is p.VAR_KEYWORD for p in params)


def _slice_params(params, idx, n_samples):
    """Rows ``idx`` of the per-sample entries of ``params`` (others as they are)."""
    out = {}
    for key, value in params.items():
        if hasattr(value, "__len__") and not isinstance(value, str) and len(value) == n_samples:
            value = value.iloc[idx] if hasattr(value, "iloc") else np.asarray(value)[idx]
        out[key] = value
    return out


def _score_path(W, b, alphas, X_val, Y_val, score_params, scorer, per_target, y_1d, fi):
    """Validation scores of a path: shape (n_alphas,) or (n_alphas, n_targets).

    ``scorer=None`` is the estimator's default score, R^2, computed for all
    alphas at once; any other scorer is called with a fitted
    :class:`GDRidgeRegressor` per alpha (and per target with ``per_target``).
    """
    n_alphas, p, k = W.shape
    n_val = X_val.shape[0]
    scores = np.empty((n_alphas, k) if per_target else n_alphas)
    step = _chunk_size(n_val, k)
    for start in range(0, n_alphas, step):
        stop = min(start + step, n_alphas)
        Wc = W[start:stop].transpose(1, 0, 2).reshape(p, -1)
        pred = safe_sparse_dot(X_val, Wc, dense_output=True).reshape(n_val, stop - start, k)
        pred += b[start:stop]
        if scorer is None:
            sw = score_params.get("sample_weight")
            scores[start:stop] = r2_scores(Y_val, pred, sw, per_target)
            continue
        for c, i in enumerate(range(start, stop)):
            if per_target:
                for j in range(k):
                    est = _path_point(
                        alphas[i], W[i, :, j], b[i, j], X_val, pred[:, c, j], fi
                    )
                    scores[i, j] = scorer(est, X_val, Y_val[:, j], **score_params)
            else:
                coef, icpt, yp, yv = W[i].T, b[i], pred[:, c, :], Y_val
                if y_1d:
                    coef, icpt, yp, yv = coef[0], icpt[0], yp[:, 0], yv[:, 0]
                est = _path_point(alphas[i], coef, icpt, X_val, yp, fi)
                scores[i] = scorer(est, X_val, yv, **score_params)
    return scores


@dataclass(frozen=True)
class _FoldData:
    """What every fold reads: the rows (rescaled by ``rescaling``, as the
    fits run) and the user's rows (what scorers see)."""

    X: object
    Y: np.ndarray
    sample_weight: object
    fit_intercept: bool
    X_user: object
    Y_user: np.ndarray
    rescaling: Rescaling


def _fold_scores(fold, alphas, solver, opts, data, scoring):
    """Fit the path on a fold's training rows (or statistics) and score it.

    ``alphas`` are in the rescaled units; R^2 (``scorer=None``) is scored
    there (it is invariant), any scorer in the user's units."""
    X, Y, sw, fit_intercept = data.X, data.Y, data.sample_weight, data.fit_intercept
    train, test, stats, score_params = fold
    if stats is not None:
        # Statistics serve every alpha the spectrum gets right; the others are
        # fit from the training rows.
        def fits():
            return _DataFits(_problem(X[train], Y[train], _rows(sw, train), fit_intercept))

        W, b = _path(_Spectrum.from_stats(stats), alphas, fits, fit_intercept)
    else:
        problem = _problem(X[train], Y[train], _rows(sw, train), fit_intercept)
        W, b, _ = _solve_path(problem, alphas, solver, **opts)
    scorer, per_target, y_1d, user_alphas = scoring
    if scorer is None:
        return _score_path(
            W, b, alphas, X[test], Y[test], score_params, None, per_target, y_1d, fit_intercept
        )
    resc = data.rescaling
    return _score_path(
        resc.coef(W), resc.intercept(b), user_alphas, data.X_user[test], data.Y_user[test],
        score_params, scorer, per_target, y_1d, fit_intercept,
    )


def _fold_stats(X, Y, sw, rows, fit_intercept):
    return RidgeStats._from_checked(X[rows], Y[rows], _rows(sw, rows), fit_intercept)


def _is_partition(splits, n_samples):
    """Whether the test sets partition the rows and each train set is the rest."""
    seen = np.zeros(n_samples, dtype=int)
    for train, test in splits:
        if len(train) + len(test) != n_samples:
            return False
        seen[test] += 1
    return bool(np.all(seen == 1))


class _LeaveOneOut:
    """Leave-one-out residuals ``e_i = r_i / (1 - h_i - s_i / S)`` for any alpha.

    From the spectrum where it is accurate (:meth:`_Spectrum.accurate`):
    on the primal route with ``Z = X_c V`` and the squared rows
    ``U2 = S Z^2 / L`` of ``U = S^{1/2} X_c V L^{-1/2}``, on the kernel route in
    the weighted sample space, where the deflated kernel's null space gives
    ``1 - h_i - s_i / S`` at ``alpha = 0`` without cancellation. Elsewhere, one
    orthogonal factorization per alpha (:class:`_DataFits`) gives the fit and
    the hat diagonal ``h_i = s_i x_ci^T (G + alpha I)^-1 x_ci``.
    """

    def __init__(self, problem):
        self.problem = problem
        self.spectrum = spectrum = _Spectrum.from_problem(problem)
        self.s = np.ones(problem.n_samples) if problem.sample_weight is None else (
            problem.sample_weight
        )
        L, P = spectrum.L, spectrum.P
        parts = spectrum.kernel
        if parts is None:
            self.Z = problem.matvec(spectrum.V)  # X_c V, (n, rank)
            self.U2 = self.s[:, None] * self.Z**2 / L
            self.r0 = problem.Yc - self.Z @ (P / L[:, None])  # least-squares residual
            q = 1.0 - self.U2.sum(axis=1)
            if problem.fit_intercept:
                q = q - self.s / problem.sw_sum
            self.q = np.clip(q, 0.0, None)
        else:
            self.U2, self.q, self.r0 = parts.U**2, parts.q, parts.r0
            self.C = P / np.sqrt(L)[:, None]  # U^T S^1/2 y_c
            self.pos = self.s > 0
            self.root = np.sqrt(self.s[self.pos])
            # Rows of weight zero do not shape the fit: their residual is the prediction error.
            self.Z0 = problem.matvec(spectrum.V)[~self.pos] if not self.pos.all() else None
        self._exact = None

    def residuals(self, alphas):
        """Leave-one-out residuals of shape (n_samples, n_alphas, n_targets)."""
        E = self._spectral(alphas)
        for c in np.flatnonzero(~self.spectrum.accurate(alphas)):
            E[:, c, :] = self._exact_residuals(alphas[c])
        return E

    def _spectral(self, alphas):
        L, P, n = self.spectrum.L, self.spectrum.P, self.problem.n_samples
        t = _shrinkage(L, alphas)  # alpha / (L + alpha), (rank, c)
        m, k, r = len(alphas), P.shape[1], len(L)
        den = self.q[:, None] + self.U2 @ t
        if self.spectrum.kernel is None:
            R = self.r0[:, None, :] + (
                self.Z @ ((t / L[:, None])[:, :, None] * P[:, None, :]).reshape(r, m * k)
            ).reshape(n, m, k)
            with np.errstate(divide="ignore", invalid="ignore"):
                return R / den[:, :, None]
        Rs = self.r0[:, None, :] + (
            self.spectrum.kernel.U @ (t[:, :, None] * self.C[:, None, :]).reshape(r, m * k)
        ).reshape(n, m, k)
        E = np.empty((n, m, k))
        with np.errstate(divide="ignore", invalid="ignore"):
            E[self.pos] = Rs[self.pos] / (den[self.pos] * self.root[:, None])[:, :, None]
        if self.Z0 is not None:
            W = P[:, None, :] * _inverse_shift(L, alphas)[:, :, None]
            Yc0 = self.problem.Yc[~self.pos]
            E[~self.pos] = Yc0[:, None, :] - (self.Z0 @ W.reshape(r, m * k)).reshape(-1, m, k)
        return E

    def _exact_residuals(self, alpha):
        problem = self.problem
        if self._exact is None:
            self._exact = _DataFits(problem)
        W, h = self._exact.coef_and_hat(alpha)
        # On wide data at a tiny alpha, 1 - h_i - s_i / S is itself ill
        # conditioned (about alpha / L); a few digits are lost there.
        q = 1.0 - h - (self.s / problem.sw_sum if problem.fit_intercept else 0.0)
        R = problem.Yc - self._exact.Xc @ W
        with np.errstate(divide="ignore", invalid="ignore"):
            return R / np.clip(q, 0.0, None)[:, None]


def _loo(problem, alphas, scorer, score_params, y, per_target, store, rescaling):
    """Leave-one-out scores for every alpha from one decomposition.

    ``problem`` and ``alphas`` are in the rescaled units of ``rescaling``;
    predictions, what scorers see and their scores are in the user's, the
    default score (minus the weighted mean squared error) in the rescaled
    units (``rescaling.objective`` maps it back).
    Returns ``(mean, std, predictions)``: mean and std of the per-sample
    scores (std is NaN with a scorer, which only scores whole vectors), and
    the leave-one-out predictions of shape (n_samples, n_targets, n_alphas)
    when ``store``.
    """
    loo = _LeaveOneOut(problem)
    n, k = problem.n_samples, problem.n_targets
    s = loo.s
    n_alphas = len(alphas)
    shape = (n_alphas, k) if per_target else (n_alphas,)
    mean, std = np.empty(shape), np.full(shape, np.nan)
    preds = np.empty((n, k, n_alphas)) if store else None
    step = _chunk_size(n, k)
    for start in range(0, n_alphas, step):
        a = alphas[start:start + step]
        E = loo.residuals(a)  # leave-one-out residuals, rescaled units
        Yp = rescaling.intercept(problem.Y[:, None, :] - E)  # predictions, user's units
        if store:
            preds[:, :, start:start + len(a)] = Yp.transpose(0, 2, 1)
        if scorer is None:
            # RidgeCV's default: minus the mean of s_i * e_i^2 (over rows and targets).
            with np.errstate(invalid="ignore", over="ignore"):
                per_sample = -(s[:, None, None] * E**2)
            if not per_target:
                per_sample = per_sample.mean(axis=2)
            mean[start:start + len(a)] = per_sample.mean(axis=0)
            std[start:start + len(a)] = per_sample.std(axis=0)
            continue
        for c in range(len(a)):
            yp = Yp[:, c, :]
            if per_target:
                for j in range(k):
                    mean[start + c, j] = scorer(_Identity(), yp[:, j], y[:, j], **score_params)
            else:
                mean[start + c] = scorer(
                    _Identity(), yp[:, 0] if y.ndim == 1 else yp, y, **score_params
                )
    return mean, std, preds


def _select(alphas, mean, std, n_splits, selection):
    """Index of the chosen alpha: the best mean score, or with ``"1se"`` the
    largest alpha whose mean is within one standard error of the best."""
    m = np.where(np.isnan(mean), -np.inf, mean)
    best = int(np.argmax(m))  # first of ties, in the order of the grid
    if selection == "min":
        return best
    if np.isnan(std[best]):
        raise ValueError(
            "selection='1se' needs per-split scores; with cv=None they exist only for "
            "scoring=None. Use scoring=None or set cv."
        )
    se = std[best] / np.sqrt(max(n_splits - 1, 1))
    within = np.flatnonzero(m >= m[best] - se)
    return int(within[np.argmax(alphas[within])])


# ---------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------
class GDRidgeCV(RegressorMixin, BaseEstimator):
    """Ridge regression with alpha chosen by cross-validation, reusing work across alphas.

    The objective is :class:`sklearn.linear_model.Ridge`'s (and
    :class:`~l2gd.GDRidgeRegressor`'s), ``sum_i s_i (y_i - x_i . w - b)^2 +
    alpha * ||w||^2``. Each candidate alpha is scored by cross-validation,
    the chosen one is refit on all rows with :class:`~l2gd.GDRidgeRegressor`.

    * ``cv=None``: exact leave-one-out for the whole grid from one
      eigendecomposition, as :class:`~sklearn.linear_model.RidgeCV`
      (same ``alpha_``, ``best_score_``, ``coef_``), with sample weights and
      ``alpha_per_target``. Memory is a few times the data's, independent
      of the number of alphas unless ``store_cv_results=True``.
    * ``cv=<int>`` or a splitter: the folds are split once. With the
      closed-form solver, the sufficient statistics of each test fold are
      computed once, each training set's follow by subtraction from their
      total, and one eigendecomposition per fold gives every alpha. With an
      iterative solver, each fold runs a path from the largest to the
      smallest alpha, warm-started. Same results as
      ``GridSearchCV(Ridge(), {"alpha": alphas}, cv=cv)``.

    Parameters
    ----------
    alphas : int or array-like of shape (n_alphas,), default=100
        Candidate penalties (``>= 0``, ``> 0`` for ``cv=None``), or the number
        of candidates on a log grid derived from the data: from ``1e-6 * m``
        to ``1e3 * t`` with ``t`` the trace of the weighted centered Gram
        matrix and ``m = t / n_features`` (see :func:`~l2gd.alpha_grid`).
    fit_intercept : bool, default=True
        Whether to fit an unpenalized intercept.
    cv : int, cross-validation generator or iterable, default=None
        ``None``: efficient leave-one-out. An int: that many
        :class:`~sklearn.model_selection.KFold` folds (no shuffling). Any
        scikit-learn splitter or iterable of ``(train, test)`` indices.
    scoring : str, callable or None, default=None
        Scorer (a name from :func:`sklearn.metrics.get_scorer_names` or a
        callable ``scorer(estimator, X, y)``). ``None``: minus the mean
        squared leave-one-out error (weighted by ``sample_weight``, averaged
        over rows as ``RidgeCV`` does) for ``cv=None``, otherwise the
        estimator's ``score`` (R^2). With ``cv`` set, scorers receive a
        fitted :class:`~l2gd.GDRidgeRegressor` for each alpha and the
        validation rows. A NaN score raises a ``ValueError`` naming the split
        and the alpha (as ``error_score="raise"``); so does the default R^2 on
        a test fold whose weights are all zero.
    solver : {"auto", "closed_form", "gd"} or Solver, default="auto"
        Solver of the path on each fold and of the final refit, as in
        :class:`~l2gd.GDRidgeRegressor` (``"auto"`` chooses from the data).
        Leave-one-out scores always come from the exact decomposition; the
        solver then only refits.
    tol : float, default=None
        Tolerance of iterative solvers (see :class:`~l2gd.GDRidgeRegressor`).
    max_iter : int, default=None
        Iterations per alpha of iterative solvers.
    alpha_per_target : bool, default=False
        Choose one alpha per target (needs at least two targets). Scores are
        then computed per target.
    selection : {"min", "1se"}, default="min"
        ``"min"``: the alpha with the best mean score (the first of ties, in
        the order of ``alphas``). ``"1se"``: the largest alpha whose mean
        score is within one standard error of the best, the standard error
        being ``std_test_score / sqrt(n_splits - 1)`` of the best alpha (for
        ``cv=None`` the splits are the rows; needs ``scoring=None`` there).
    store_cv_results : bool, default=False
        With ``cv=None``, keep the leave-one-out predictions of every row for
        every alpha in ``cv_results_["loo_predictions"]``.
    n_jobs : int, default=None
        Folds computed in parallel through joblib (``None`` means 1 unless
        in a :func:`joblib.parallel_config` context).
    random_state : int, RandomState instance or None, default=None
        Seed of stochastic solvers.

    Attributes
    ----------
    alpha_ : float or ndarray of shape (n_targets,)
        Chosen alpha (one per target with ``alpha_per_target``).
    best_score_ : float or ndarray of shape (n_targets,)
        Mean cross-validated score of ``alpha_``.
    best_index_ : int or ndarray of shape (n_targets,)
        Index of ``alpha_`` in ``alphas_``.
    alphas_ : ndarray of shape (n_alphas,)
        The grid that was searched.
    cv_results_ : dict of ndarray
        ``"alphas"``; ``"mean_test_score"``, ``"std_test_score"`` and
        ``"rank_test_score"`` of shape (n_alphas,) or (n_alphas, n_targets);
        with ``cv`` set, ``"split<i>_test_score"`` for each split; with
        ``store_cv_results``, ``"loo_predictions"`` of shape
        (n_samples, n_alphas) or (n_samples, n_targets, n_alphas).
    n_splits_ : int
        Number of splits (``n_samples`` for leave-one-out).
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients refit on all rows, with ``Ridge``'s shapes.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept of the refit.
    solver_ : str
        Solver of the refit.
    n_iter_ : int
        Iterations of the refit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.linear_model.RidgeCV : Reference for ``cv=None``.
    sklearn.model_selection.GridSearchCV : Reference for ``cv`` set.
    ridge_path : Coefficients along a grid of alphas.
    AlphaBoundaryWarning : Raised when ``alpha_`` is at an end of the grid.

    Notes
    -----
    Accuracy: the spectral path's eigenvalues carry an absolute error of about
    ``eps * dim * L_max``. Alphas at which that is not negligible next to
    ``L + alpha`` (columns of very different scales, tiny alphas on
    rank-deficient data) are fit one by one instead, by orthogonal
    factorizations of the column-scaled design, so every score is that of an
    exact fit. Data near the float range limits is rescaled by powers of two
    (alphas by ``1 / x_scale**2``), scores are reported in the user's units.
    Array API inputs are cross-validated on the host in NumPy; the refit runs
    in X's namespace. Ties between alphas go to the first in ``alphas``.

    With ``cv`` set, ``sample_weight`` weights both the fits and the
    validation scores (``GridSearchCV`` weights scores only with metadata
    routing). Under metadata routing (``sklearn.set_config(
    enable_metadata_routing=True)``), ``fit`` routes its extra parameters to
    the scorer and the splitter (e.g. ``groups``), and ``sample_weight`` to
    the scorer if it requests it (the default scorer does); without routing,
    ``groups`` is passed to the splitter.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import RidgeCV
    >>> from l2gd import GDRidgeCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 5))
    >>> y = X @ np.arange(5.0) + 5.0 * rng.standard_normal(100)
    >>> alphas = np.logspace(-2, 3, 30)
    >>> cv = GDRidgeCV(alphas=alphas).fit(X, y)
    >>> bool(np.isclose(cv.alpha_, RidgeCV(alphas=alphas).fit(X, y).alpha_))
    True
    >>> cv5 = GDRidgeCV(alphas=alphas, cv=5).fit(X, y)
    >>> sorted(cv5.cv_results_)[:3]
    ['alphas', 'mean_test_score', 'rank_test_score']
    """

    _parameter_constraints = {
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "solver": [StrOptions({"auto", *SOLVERS}), HasMethods(["solve"])],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "alpha_per_target": ["boolean"],
        "selection": [StrOptions({"min", "1se"})],
        "store_cv_results": ["boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        alphas=100,
        *,
        fit_intercept=True,
        cv=None,
        scoring=None,
        solver="auto",
        tol=None,
        max_iter=None,
        alpha_per_target=False,
        selection="min",
        store_cv_results=False,
        n_jobs=None,
        random_state=None,
    ):
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.scoring = scoring
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.alpha_per_target = alpha_per_target
        self.selection = selection
        self.store_cv_results = store_cv_results
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- scoring and routing -------------------------------------------------
    def _get_scorer(self):
        if self.scoring is None and get_config()["enable_metadata_routing"]:
            # As RidgeCV: the default R^2 scorer asks for the weights.
            return get_scorer("r2").set_score_request(sample_weight=True)
        return check_scoring(self, scoring=self.scoring)

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            Routing of ``fit``'s parameters to the scorer (``score``) and the
            splitter (``split``).
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                scorer=self._get_scorer(),
                method_mapping=MethodMapping().add(caller="fit", callee="score"),
            )
            .add(
                splitter=check_cv(self.cv) if self.cv is not None else None,
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        )

    def _route(self, sample_weight, params):
        """Return ``(score_params, split_params)`` for ``fit``."""
        if get_config()["enable_metadata_routing"]:
            if sample_weight is not None:
                params = {**params, "sample_weight": sample_weight}
            routed = process_routing(self, "fit", **params)
            return dict(routed.scorer.score), dict(routed.splitter.split)
        unknown = sorted(set(params) - {"groups"})
        if unknown:
            raise ValueError(
                f"GDRidgeCV.fit got unexpected parameters {unknown}; only groups is accepted "
                "without metadata routing. Enable it with "
                "sklearn.set_config(enable_metadata_routing=True) to route others."
            )
        split = {"groups": params["groups"]} if params.get("groups") is not None else {}
        return None, split

    # -- fit -----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Choose alpha by cross-validation, then refit on all rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights, used by the fits and the validation scores.
        **params : dict
            ``groups`` for the splitter; with metadata routing enabled, any
            parameter requested by the scorer or the splitter.

        Returns
        -------
        self : GDRidgeCV
            Fitted estimator.
        """
        if _dask.is_dask_collection(X):
            return self._fit_dask(X, y, sample_weight, params)
        score_params, split_params = self._route(sample_weight, params)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=ACCEPT_SPARSE,
            dtype=float_dtypes(X),
            multi_output=True,
            y_numeric=True,
        )
        loo = self.cv is None
        if loo and split_params:
            raise ValueError(
                f"groups (and other split parameters {sorted(split_params)}) need cv set; "
                "cv=None (leave-one-out) has no splitter to pass them to."
            )
        # Cross-validation runs on the host in float64 (as RidgeCV's
        # leave-one-out), on data rescaled by powers of two when its
        # magnitudes are extreme; the refit keeps X's namespace and dtype.
        X64 = np.asarray(to_numpy(X), dtype=np.float64) if not sp.issparse(X) else (
            X.astype(np.float64, copy=False)
        )
        y_host = np.asarray(to_numpy(y))
        Y = as_2d_targets(y_host, np.float64)
        sw = check_sample_weight(
            None if sample_weight is None else to_numpy(sample_weight)
            if not isinstance(sample_weight, Real) else sample_weight,
            X64,
        )
        self._check_fit_options(y_host, Y, loo)
        resc = Rescaling.of(X64, Y)
        Xs, Ys = resc.data(X64, Y)
        problem = _problem(Xs, Ys, sw, self.fit_intercept)
        if isinstance(self.alphas, Integral) and not isinstance(self.alphas, bool):
            alphas = _alpha_grid(problem, self.alphas)  # rescaled units
            with np.errstate(over="ignore", under="ignore"):
                user_alphas = alphas * resc.x_scale * resc.x_scale
        else:
            user_alphas = _check_alphas(self.alphas, positive=loo)
            with np.errstate(over="ignore", under="ignore"):
                alphas = np.asarray(resc.alpha(user_alphas), dtype=np.float64)
        if score_params is None:
            score_params = {}
            pass_weights = sw is not None
        else:
            pass_weights = False
        y_orig = Y if y_host.ndim == 2 else Y[:, 0]  # float64, the user's shape
        select_on = None

        results = {"alphas": user_alphas}
        if loo:
            scorer = None if self.scoring is None else self._get_scorer()
            if pass_weights and scorer is not None and _accepts_sample_weight(scorer):
                score_params = {**score_params, "sample_weight": sw}
            mean, std, preds = _loo(
                problem, alphas, scorer, score_params, y_orig, self.alpha_per_target,
                self.store_cv_results, resc,
            )
            _check_no_nan([mean], user_alphas, loo=True)
            if scorer is None:  # chosen on the rescaled scores, reported in the user's units
                select_on = mean, std
                mean, std = resc.objective(mean), resc.objective(std)
            n_splits = problem.n_samples
            if preds is not None:
                results["loo_predictions"] = preds[:, 0, :] if y_host.ndim == 1 else preds
        else:
            data = _FoldData(Xs, Ys, sw, self.fit_intercept, X64, Y, resc)
            mean, std, split_scores = self._cv_scores(
                data, y_host.ndim == 1, (alphas, user_alphas), score_params, split_params,
                pass_weights,
            )
            n_splits = len(split_scores)
            for i, sc in enumerate(split_scores):
                results[f"split{i}_test_score"] = sc
        return self._select_and_refit(
            results, mean, std, n_splits, X, y, sample_weight, select_on=select_on
        )

    def _check_fit_options(self, y, Y, loo):
        """The cross-parameter rules of ``fit``, checked once."""
        if self.alpha_per_target and Y.shape[1] < 2:
            raise ValueError(
                "alpha_per_target=True needs y with at least 2 targets (columns); got "
                f"{'a 1-D y' if y.ndim == 1 else '1 target'}. Set alpha_per_target=False."
            )
        if self.store_cv_results and not loo:
            raise ValueError(
                "store_cv_results=True needs cv=None (leave-one-out); got cv="
                f"{self.cv!r}."
            )
        if loo and Y.shape[0] < 2:
            raise ValueError(
                f"cv=None (leave-one-out) needs at least 2 samples; got {Y.shape[0]} sample."
            )

    def _select_and_refit(
        self, results, mean, std, n_splits, X, y, sample_weight, select_on=None
    ):
        """Record ``cv_results_``, choose alpha (per target), warn at the grid's
        edge, refit on all rows with :class:`GDRidgeRegressor`.

        ``select_on``: the ``(mean, std)`` to rank and choose by, when the
        recorded ones (in the user's units) may have overflowed."""
        alphas = results["alphas"]
        rank_mean, rank_std = (mean, std) if select_on is None else select_on
        results.update(
            mean_test_score=mean, std_test_score=std, rank_test_score=_rank(rank_mean)
        )
        self.cv_results_, self.alphas_, self.n_splits_ = results, alphas, int(n_splits)
        if self.alpha_per_target:
            idx = np.array(
                [_select(alphas, rank_mean[:, j], rank_std[:, j], n_splits, self.selection)
                 for j in range(mean.shape[1])]
            )
            self.alpha_, self.best_score_ = alphas[idx], mean[idx, np.arange(mean.shape[1])]
        else:
            idx = _select(alphas, rank_mean, rank_std, n_splits, self.selection)
            self.alpha_, self.best_score_ = float(alphas[idx]), float(mean[idx])
        self.best_index_ = idx
        _warn_if_at_boundary(alphas, np.atleast_1d(self.alpha_))
        refit = GDRidgeRegressor(
            alpha=self.alpha_,
            fit_intercept=self.fit_intercept,
            solver=self.solver,
            tol=self.tol,
            max_iter=self.max_iter,
            random_state=self.random_state,
        ).fit(X, y, sample_weight=sample_weight)
        for attr in ("coef_", "intercept_", "solver_", "n_iter_", "n_features_in_"):
            setattr(self, attr, getattr(refit, attr))
        return self

    def _fit_dask(self, X, y, sample_weight, params):
        """K-fold on dask arrays: one pass gives every fold's statistics, and all
        folds and alphas follow from them (R^2 or mean squared error)."""
        if self.cv is None:
            raise ValueError(_dask.loo_message())
        if params:
            raise ValueError(
                f"GDRidgeCV on dask arrays takes no fit parameters; got {sorted(params)}."
            )
        scoring = {None: "r2", "r2": "r2", "neg_mean_squared_error": "mse"}.get(
            self.scoring if isinstance(self.scoring, (str, type(None))) else "", None
        )
        if scoring is None:
            raise ValueError(
                f"scoring={self.scoring!r} is not available on dask arrays: scores come "
                "from sufficient statistics there; use scoring=None (R^2) or "
                "'neg_mean_squared_error'."
            )
        # Centered statistics of each test fold (with their means), whatever
        # fit_intercept: the held-out error needs them, and the training
        # statistics of a model without intercept follow exactly.
        folds = _dask.fold_stats(X, y, sample_weight, cv=self.cv, fit_intercept=True)
        n_targets = folds[0].n_targets
        if self.alpha_per_target and n_targets < 2:
            raise ValueError(
                "alpha_per_target=True needs y with at least 2 targets (columns). Set "
                "alpha_per_target=False."
            )
        total = folds[0]
        for part in folds[1:]:
            total = total.merge(part)
        if isinstance(self.alphas, Integral) and not isinstance(self.alphas, bool):
            train = total if self.fit_intercept else total.uncentered()
            trace = float(np.trace(train.xx)) or float(max(train.n_features, 1))
            alphas = np.geomspace(
                GRID_LOW * trace / max(train.n_features, 1), GRID_HIGH * trace, int(self.alphas)
            )
        else:
            alphas = _check_alphas(self.alphas, positive=False)
        split_scores = []
        for i, part in enumerate(folds):
            if scoring == "r2" and not part.sw_sum > 0:
                raise ValueError(
                    f"sample_weight sums to zero on the test rows of split {i}: R^2 is "
                    "undefined there. Give every test fold positive weight."
                )
            train = total.subtract(part)
            if not self.fit_intercept:
                train = train.uncentered()
            W, b = _path(
                _Spectrum.from_stats(train), alphas, lambda: _StatsFits(train), self.fit_intercept
            )
            err = part.squared_error(W, b)  # (n_alphas, n_targets), held out
            sc = -err / part.sw_sum if scoring == "mse" else r2_from_parts(err, part.yy)
            split_scores.append(sc if self.alpha_per_target else sc.mean(axis=1))
        _check_no_nan(split_scores, alphas, loo=False)
        stacked = np.stack(split_scores)
        results = {"alphas": alphas}
        for i, sc in enumerate(split_scores):
            results[f"split{i}_test_score"] = sc
        return self._select_and_refit(
            results, stacked.mean(axis=0), stacked.std(axis=0), len(folds), X, y, sample_weight
        )

    def _splits(self, X, Y, y_1d, split_params):
        """The folds, split once and checked."""
        n_samples = X.shape[0]
        cv = check_cv(self.cv)
        try:
            splits = [
                (np.asarray(train), np.asarray(test))
                for train, test in cv.split(X, Y if not y_1d else Y[:, 0], **split_params)
            ]
        except ValueError as exc:
            raise ValueError(
                f"cv={self.cv!r} cannot split n_samples={n_samples} rows: {exc}"
            ) from exc
        if not splits:
            raise ValueError(f"cv={self.cv!r} yielded no splits.")
        for i, (train, test) in enumerate(splits):
            if len(train) == 0 or len(test) == 0:
                raise ValueError(
                    f"cv={self.cv!r} yielded an empty {'training' if len(train) == 0 else 'test'}"
                    f" set in split {i}; every split needs rows on both sides."
                )
        return splits

    def _cv_scores(self, data, y_1d, alphas, score_params, split_params, pass_weights):
        X, Y, sw = data.X, data.Y, data.sample_weight
        alphas, user_alphas = alphas
        n_samples, n_features = X.shape
        splits = self._splits(X, Y, y_1d, split_params)
        solver, _ = _resolve_solver(self.solver, X)
        min_test = min(len(test) for _, test in splits)
        if self.scoring is None and min_test >= 2:
            # The default score, R^2, is computed for all alphas at once; it is
            # weighted exactly when the r2 scorer would be (see _get_scorer).
            scorer = None
            if pass_weights:
                score_params = {**score_params, "sample_weight": sw}
            weights = score_params.get("sample_weight")
            for i, (_, test) in enumerate(splits):
                if weights is not None and not np.sum(np.asarray(weights)[test]) > 0:
                    raise ValueError(
                        f"sample_weight sums to zero on the test rows of split {i}: the "
                        "weighted R^2 score is undefined there. Give every test fold "
                        "positive weight, or pass a scoring that handles it."
                    )
        else:
            scorer = self._get_scorer()
            if pass_weights and _accepts_sample_weight(scorer):
                score_params = {**score_params, "sample_weight": sw}
        seed = _registry.seed(self.random_state)
        opts = {"tol": self.tol, "max_iter": self.max_iter, "random_state": seed}
        parallel = Parallel(n_jobs=self.n_jobs)
        stats = [None] * len(splits)
        min_train = min(len(train) for train, _ in splits)
        if _is_exact(solver) and n_features <= min_train and _is_partition(splits, n_samples):
            # Statistics of each test fold once; training = total minus fold.
            parts = parallel(
                delayed(_fold_stats)(X, Y, sw, test, data.fit_intercept) for _, test in splits
            )
            total = parts[0]
            for part in parts[1:]:
                total = total.merge(part)
            stats = [total.subtract(part) for part in parts]
        folds = [
            (train, test, st, _slice_params(score_params, test, n_samples))
            for (train, test), st in zip(splits, stats)
        ]
        scoring = (scorer, self.alpha_per_target, y_1d, user_alphas)
        split_scores = parallel(
            delayed(_fold_scores)(fold, alphas, solver, opts, data, scoring) for fold in folds
        )
        _check_no_nan(split_scores, user_alphas, loo=False)
        stacked = np.stack(split_scores)
        return stacked.mean(axis=0), stacked.std(axis=0), split_scores

    # -- predict -------------------------------------------------------------
    def predict(self, X):
        """Predict with the refit linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions.
        """
        return linear_predict(self, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        solver = self.solver
        if isinstance(solver, str):
            solver = SOLVERS.get(solver, SOLVERS["closed_form"])()
        tags.input_tags.sparse = bool(getattr(solver, "supports_sparse", True))
        tags.non_deterministic = bool(getattr(solver, "stochastic", False))
        tags.target_tags.multi_output = True
        return tags


def _rank(mean):
    """Rank 1 for the best mean score, ties sharing the lowest rank (as
    GridSearchCV's ``rank_test_score``), per column; NaN ranks last."""
    m = -np.where(np.isnan(mean), -np.inf, mean).reshape(len(mean), -1)
    ranks = np.column_stack(
        [np.searchsorted(np.sort(col), col, side="left") + 1 for col in m.T]
    )
    return ranks.astype(np.int32).reshape(np.shape(mean))


def _check_no_nan(scores, alphas, *, loo):
    """Raise when a score is NaN, naming the split and alpha (a NaN must not be
    ranked, nor silently lose to the other alphas)."""
    for i, sc in enumerate(scores):
        bad = np.argwhere(np.isnan(np.reshape(sc, (len(alphas), -1))))
        if len(bad):
            where = "the leave-one-out score" if loo else f"the score of split {i}"
            raise ValueError(
                f"GDRidgeCV: {where} at alpha={alphas[bad[0][0]]:.6g} is NaN; it cannot be "
                "ranked. Check the scoring (it must return a number for every fit) and "
                "the sample weights of that split."
            )


def _warn_if_at_boundary(alphas, chosen):
    if len(np.unique(alphas)) < 2:
        return
    lo, hi = alphas.min(), alphas.max()
    for end, value, side in ((lo, "smallest", "below"), (hi, "largest", "above")):
        if np.any(chosen == end):
            warnings.warn(
                f"The chosen alpha_={end:.4g} is the {value} alpha of the grid "
                f"[{lo:.4g}, {hi:.4g}]; the best alpha may lie outside it. Extend alphas "
                f"{side} it.",
                AlphaBoundaryWarning,
                stacklevel=4,  # the caller of fit, above _fit_context's wrapper
            )
