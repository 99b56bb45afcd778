"""Ridge with non-negative coefficients (``positive=True``): the two engines.

The problem, per target column ``k`` (the intercept stays free and is
eliminated by centering, as without the bound)::

    minimize  f_k(w) = ||y_c - X_c w||_S^2 + alpha_k ||w||^2   subject to  w >= 0

the objective of :class:`sklearn.linear_model.Ridge` with ``positive=True``.
Its optimality (KKT) conditions, with ``g = grad f(w)``: ``w >= 0``,
``g >= 0`` and ``w_j g_j = 0`` for every ``j``. On the set ``F`` of positive
coefficients the solution is the ridge solution of the columns ``F`` alone,
so once ``F`` is known the problem is a linear system.

:func:`nnls_gram` (the closed form's engine): block principal pivoting
(Kim and Park, *Fast nonnegative matrix factorization*, SIAM J. Sci. Comput.
33, 2011; Júdice and Pires, 1994) on the ``p x p`` statistics, shifted by
alpha and equilibrated to a unit diagonal. Each iteration solves the system
on the current ``F`` (one Cholesky factorization shared by every target with
the same ``F``), then moves every variable that violates a KKT condition
across (or, when that stops reducing the number of violations, only the
last one: the backup rule that makes the method terminate). It terminates
at the exact solution, typically in a handful of iterations, whatever the
number of active bounds (Lawson-Hanson's active set moves one variable per
iteration).

:class:`ProjectedNewton` (gradient descent's engine): a projected Newton
method (Bertsekas, *Projected Newton methods for optimization problems with
simple constraints*, SIAM J. Control Optim. 20, 1982) that asks the problem
only for ``value_and_gradient`` and ``hessian_matvec``, so it runs on rows
(dense, sparse) and on statistics or a Hessian operator (Dask): each
iteration fixes the variables at the bound whose gradient pushes outward,
takes a Jacobi-preconditioned conjugate-gradient Newton step on the others,
and searches along the projection arc ``max(w + t d, 0)`` (Armijo). Its
stopping test is the projected gradient, the KKT residual.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
from sklearn.exceptions import ConvergenceWarning

from .._array_api import to_device, to_numpy
from ._base import IterativeSolver

# A KKT condition counts as violated beyond this multiple of eps times the
# scale of the column (coefficients, or the right-hand side for the gradient).
_KKT_EPS_FACTOR = 64


def _kkt_slack(p, dtype):
    return _KKT_EPS_FACTOR * np.sqrt(max(p, 1)) * np.finfo(dtype).eps


def _solve_free(A, B, F, X, cols):
    """``X[:, c]`` = the solution of ``A_FF x = B_F`` (0 outside ``F``) for each
    column ``c`` of ``cols``; one factorization per distinct ``F``. Cholesky,
    or the minimum-norm least-squares solution when ``A_FF`` is singular
    (``alpha = 0`` on rank-deficient data)."""
    groups = {}
    for c in cols:
        groups.setdefault(F[:, c].tobytes(), []).append(c)
    for members in groups.values():
        idx = np.flatnonzero(F[:, members[0]])
        X[:, members] = 0.0
        if len(idx) == 0:
            continue
        sub = A[np.ix_(idx, idx)]
        rhs = B[np.ix_(idx, members)]
        try:
            sol = la.cho_solve(la.cho_factor(sub, check_finite=False), rhs, check_finite=False)
        except la.LinAlgError:
            sol = la.lstsq(sub, rhs, check_finite=False)[0]
        X[np.ix_(idx, members)] = sol


def _bpp(A, B, init=None, max_iter=None):
    """Block principal pivoting for ``min x^T A x - 2 b^T x, x >= 0`` per column of ``B``.

    ``A`` symmetric positive (semi)definite with a unit (or zero) diagonal.
    Returns ``(X, n_iter, converged)``.
    """
    p, k = B.shape
    max_iter = 10 * p + 100 if max_iter is None else max_iter
    F = np.zeros((p, k), dtype=bool) if init is None else np.asarray(init) > 0
    F &= (np.diag(A) > 0)[:, None]  # a zero column stays at 0 (its gradient is 0)
    X = np.zeros((p, k), dtype=A.dtype)
    slack = _kkt_slack(p, A.dtype)
    y_tol = slack * np.maximum(np.abs(B).max(axis=0, initial=0.0), np.finfo(A.dtype).tiny)
    best = np.full(k, p + 1)
    backup = np.full(k, 3)
    todo = np.arange(k)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        _solve_free(A, B, F, X, todo)
        Y = A @ X[:, todo] - B[:, todo]
        x_tol = slack * np.abs(X[:, todo]).max(axis=0, initial=0.0)
        Ft = F[:, todo]
        bad = (Ft & (X[:, todo] < -x_tol)) | (~Ft & (Y < -y_tol[todo]) & (np.diag(A) > 0)[:, None])
        n_bad = bad.sum(axis=0)
        keep = n_bad > 0
        if not keep.any():
            todo = todo[:0]
            break
        todo, bad, n_bad = todo[keep], bad[:, keep], n_bad[keep]
        fewer = n_bad < best[todo]
        best[todo] = np.where(fewer, n_bad, best[todo])
        backup[todo] = np.where(fewer, 3, backup[todo] - 1)
        single = backup[todo] < 0  # the backup rule: move the last violator only
        if single.any():
            last = p - 1 - np.argmax(bad[::-1, single], axis=0)
            bad[:, single] = False
            bad[last, np.flatnonzero(single)] = True
        F[:, todo] ^= bad
    X[X < 0] = 0.0
    return X, n_iter, len(todo) == 0


def _equilibrated(G, alpha):
    """``D^{-1} (G + alpha I) D^{-1}`` with ``D = sqrt(diag(G) + alpha)`` (1 where 0)."""
    d = np.sqrt(np.clip(np.diag(G), 0.0, None) + alpha)
    d[~(d > 0)] = 1.0
    A = G / d[:, None] / d[None, :]
    A.flat[:: A.shape[0] + 1] += alpha / d**2
    return A, d


@dataclass(frozen=True)
class NNLSResult:
    """What :func:`nnls_gram` returns: ``coef`` (p, k), BPP iterations, convergence."""

    coef: np.ndarray
    n_iter: int
    converged: bool


def nnls_gram(G, B, alpha, init=None, max_iter=None):
    """Non-negative ridge from the statistics: ``min w^T (G + alpha_k I) w - 2 B_k^T w``
    over ``w >= 0`` for each column ``k`` of ``B``, by block principal pivoting.

    Parameters
    ----------
    G : ndarray of shape (n_features, n_features)
        ``X_c^T S X_c``.
    B : ndarray of shape (n_features, n_targets)
        ``X_c^T S y_c``.
    alpha : array-like of shape (n_targets,)
        Penalty per target.
    init : ndarray of shape (n_features, n_targets), default=None
        A previous solution (e.g. at a neighbouring alpha): its positive
        entries are the first guess of the free set.
    max_iter : int, default=None
        Pivoting iterations at most (``10 * n_features + 100`` when None).

    Returns
    -------
    result : NNLSResult

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import nnls
    >>> from l2gd.solvers._positive import nnls_gram
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((40, 5)), rng.standard_normal(40)
    >>> res = nnls_gram(X.T @ X, (X.T @ y)[:, None], [0.0])
    >>> bool(np.allclose(res.coef[:, 0], nnls(X, y)[0]))
    True
    """
    G = np.asarray(G, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    alpha = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (B.shape[1],))
    W = np.zeros_like(B)
    n_iter, converged = 0, True
    for a in np.unique(alpha):
        cols = np.flatnonzero(alpha == a)
        A, d = _equilibrated(G, a)
        start = None if init is None else np.asarray(init)[:, cols]
        V, it, ok = _bpp(A, B[:, cols] / d[:, None], start, max_iter)
        W[:, cols] = V / d[:, None]
        n_iter, converged = max(n_iter, it), converged and ok
    return NNLSResult(W, n_iter, converged)


def warn_not_converged(result, what):
    if not result.converged:
        warnings.warn(
            f"{what}: block principal pivoting did not find the active set in {result.n_iter} "
            "iterations (alpha = 0 on rank-deficient data?); the coefficients may violate "
            "the optimality conditions. Use a positive alpha or solver='gd'.",
            ConvergenceWarning,
            stacklevel=4,
        )


def projected_gradient(W, G, xp):
    """The KKT residual of ``min f(w), w >= 0``: ``g`` where ``w > 0``, ``min(g, 0)``
    where ``w = 0``."""
    return xp.where(W > 0, G, xp.minimum(G, xp.zeros_like(G)))


# ---------------------------------------------------------------------------
# Projected Newton (gradient descent's engine)
# ---------------------------------------------------------------------------
# Recompute the gradient and the objective from the problem every this many
# iterations (the loop carries them by linearity in between).
_RESYNC_EVERY = 20
# Armijo constant and step halvings at most along the projection arc.
_ARMIJO = 1e-4
_MAX_HALVINGS = 40
# Bound on the width of the "almost at the bound" band (Bertsekas's epsilon).
_EPS_BAND = 1e-3


def _col_norms(xp, A):
    return np.asarray(to_numpy(xp.sqrt(xp.sum(A * A, axis=0))), dtype=np.float64)


def _host(xp, a):
    return np.asarray(to_numpy(a), dtype=np.float64)


@dataclass
class _PNState:
    problem: object
    W: object
    G: object
    value: object
    diag: object
    g0: np.ndarray
    criterion: float = np.inf
    certified: bool = True
    stalled: bool = False
    n_products: int = 0
    since_sync: int = 0


class ProjectedNewton(IterativeSolver):
    """Projected Newton-CG for ridge with ``w >= 0`` (see the module docstring).

    Not a registered solver: :class:`~l2gd.solvers.GradientDescent` runs it
    for ``positive=True``. An iteration is one Newton step: conjugate-gradient
    iterations on the free variables (to a relative residual of
    ``min(0.1, sqrt(criterion))``) plus the line search, each one
    ``hessian_matvec``; ``info["n_hessian_products"]`` counts them.

    Parameters
    ----------
    jacobi : bool, default=True
        Precondition conjugate gradient by the Hessian's diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> from l2gd import RidgeProblem
    >>> from l2gd.solvers._positive import ProjectedNewton
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.standard_normal((60, 4)), rng.standard_normal((60, 2))
    >>> res = ProjectedNewton().solve(RidgeProblem(X, Y, np.ones(2)), tol=1e-10)
    >>> bool(res.converged and (res.coef >= 0).all())
    True
    """

    default_max_iter = 1000

    def __init__(self, jacobi=True):
        self.jacobi = jacobi

    def default_tol(self, dtype, xp=np):
        return 1.5e-8 if xp.finfo(dtype).bits >= 64 else 1.2e-5

    def _init_state(self, problem, W0, rng):
        xp = problem.xp
        W = xp.where(W0 > 0, W0, xp.zeros_like(W0))
        value, G = problem.value_and_gradient(W)
        if bool(xp.any(W != 0)):
            g0 = _col_norms(xp, problem.gradient(xp.zeros_like(W)))
        else:
            g0 = _col_norms(xp, G)
        p, k = problem.n_features, problem.n_targets
        if self.jacobi:
            diag = 2.0 * (xp.reshape(problem.gram_diagonal(), (p, 1)) + problem.alpha)
            diag = xp.where(diag > 0, diag, xp.ones_like(diag))
        else:
            diag = xp.ones((p, k), dtype=problem.dtype, device=problem.device)
        state = _PNState(problem, W, G, value, diag, np.where(g0 > 0, g0, 1.0))
        self._measure(state)
        return state

    def _measure(self, state):
        xp = state.problem.xp
        pg = _col_norms(xp, projected_gradient(state.W, state.G, xp))
        state.criterion = float(np.max(pg / state.g0, initial=0.0))

    def _sync(self, state):
        state.value, state.G = state.problem.value_and_gradient(state.W)
        state.since_sync = 0

    def _hess(self, state, P):
        state.n_products += 1
        return state.problem.hessian_matvec(P)

    def _step(self, problem, state):
        xp = problem.xp
        W, G, D = state.W, state.G, state.diag
        zero = xp.zeros_like(W)
        # Bertsekas's band: variables within eps of the bound whose gradient
        # points outward are held there; the others are free.
        band = xp.max(xp.abs(W - xp.where(W - G / D > 0, W - G / D, zero)), axis=0)
        band = xp.where(band < _EPS_BAND, band, xp.full_like(band, _EPS_BAND))
        held = (W <= band) & (G > 0)
        free = xp.astype(~held, W.dtype)
        # Newton direction on the free variables: PCG on H_FF d = -g_F.
        r = -G * free
        rnorm0 = _col_norms(xp, r)
        eta = min(0.1, np.sqrt(state.criterion))
        d = xp.zeros_like(W)
        z = r / D
        P = z
        rz = xp.sum(r * z, axis=0)
        active = rnorm0 > 0
        for _ in range(problem.n_features):
            if not active.any():
                break
            Q = self._hess(state, P) * free
            pq = xp.sum(P * Q, axis=0)
            on = to_device(active, xp, problem.device) & (pq > 0)
            a = xp.where(on, rz / xp.where(pq > 0, pq, xp.ones_like(pq)), xp.zeros_like(pq))
            d = d + a * P
            r = r - a * Q
            active &= _host(xp, on).astype(bool) & (_col_norms(xp, r) > eta * rnorm0)
            z = r / D
            rz_new = xp.sum(r * z, axis=0)
            beta = xp.where(rz > 0, rz_new / xp.where(rz > 0, rz, xp.ones_like(rz)), zero[0, :])
            P = z + beta * P
            rz = rz_new
        d = d - G / D * (1.0 - free)
        # Armijo search along the projection arc, per target.
        t = np.ones(problem.n_targets)
        pending = np.ones(problem.n_targets, dtype=bool)
        for _ in range(_MAX_HALVINGS):
            tt = to_device(np.where(pending, t, 0.0), xp, problem.device, W.dtype)
            Wt = W + tt * d
            delta = xp.where(Wt > 0, Wt, zero) - W
            delta = delta * to_device(pending.astype(float), xp, problem.device, W.dtype)
            HD = self._hess(state, delta)
            slope = xp.sum(G * delta, axis=0)
            change = slope + 0.5 * xp.sum(delta * HD, axis=0)
            ok = _host(xp, (change <= _ARMIJO * xp.where(slope < 0, slope, xp.zeros_like(slope))))
            ok = pending & ok.astype(bool)
            okd = to_device(ok.astype(float), xp, problem.device, W.dtype)
            W = W + delta * okd
            G = G + HD * okd
            state.value = state.value + change * okd
            pending &= ~ok
            t = np.where(pending, 0.5 * t, t)
            if not pending.any():
                break
        state.W, state.G = W, G
        state.since_sync += 1
        if state.since_sync >= _RESYNC_EVERY:
            self._sync(state)
        previous = state.criterion
        self._measure(state)
        if state.criterion <= self._tol and state.since_sync:
            self._sync(state)  # certify at the exact gradient
            self._measure(state)
        # No target moved: rounding has won.
        state.stalled = bool(pending.all()) or (
            state.criterion >= previous and not bool(xp.any(d != 0))
        )

    def solve(self, problem, *, init=None, tol=None, max_iter=None, random_state=None, verbose=0):
        self._tol = self.default_tol(problem.dtype, problem.xp) if tol is None else tol
        return super().solve(
            problem, init=init, tol=self._tol, max_iter=max_iter, random_state=random_state,
            verbose=verbose,
        )

    def _finish(self, problem, state):
        return state.W, problem.intercept(state.W)

    def _info(self, state):
        return {"method": "projected_newton", "n_hessian_products": state.n_products}

    def _not_converged_message(self, state, tol, max_iter):
        return (
            f"GradientDescent (positive=True, projected Newton) did not converge in "
            f"max_iter={max_iter} iterations (projected gradient {state.criterion:.3e} of the "
            f"gradient at 0 > tol={tol:.1e}). Increase max_iter or tol, or use "
            "solver='closed_form'."
        )
