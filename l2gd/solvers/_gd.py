"""Batch gradient descent on the ridge objective, with a certificate on the coefficients.

The solver asks the problem (data or statistics, see :mod:`l2gd._objective`)
only for ``value_and_gradient``, ``hessian_matvec``, ``gram_diagonal``,
``lipschitz``, ``intercept`` and ``rescale_targets``; one ``hessian_matvec``
per iteration, the gradient carried by linearity in between.
"""

import warnings
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
from scipy.linalg import LinAlgWarning, eigvalsh_tridiagonal

from .._array_api import eps, to_device, to_numpy
from ._base import IterativeSolver
from ._nystrom import NystromPreconditioner
from ._positive import ProjectedNewton

_ACCELERATIONS = ("cg", "nesterov", "none")
_PRECONDITIONERS = ("auto", "jacobi", "nystrom", None)

# Recompute the gradient and the objective from the problem every this many
# iterations, so the cheap recurrences used inside the loop never drift.
_RESYNC_EVERY = 50

# The error bound is measured at the exact gradient at those resynchronizations
# and whenever the cheap (recurrence) bound says tol is met. After this many
# such checks without the best bound improving by _PROGRESS, rounding is
# taken to have won and the solver stops with the best iterate.
_PATIENCE = 3
_PROGRESS = 0.5

# Conjugate gradient restarts when the exact Z (at a resynchronization or a
# check) differs from the recurrence by more than this fraction: below the
# rounding floor the recurrence keeps shrinking while the truth does not, and
# continuing from the mismatch would wreck the directions and the Ritz values.
_DRIFT = 0.1


def _col_norms(xp, A):
    """Column 2-norms of ``A`` on the host (float64), without underflow or overflow."""
    big = xp.max(xp.abs(A), axis=0)
    safe = xp.where(big > 0, big, xp.ones_like(big))
    scaled = to_numpy(xp.sqrt(xp.sum((A / safe) ** 2, axis=0)))
    return np.asarray(to_numpy(big), dtype=np.float64) * np.asarray(scaled, dtype=np.float64)


def _fast_norms(xp, A):
    """Column 2-norms of ``A`` on the host (float64) from one fused sum of squares;
    :func:`_col_norms` (scaled) only when a sum over- or underflowed."""
    return _norms_from_squares(xp, A, xp.sum(A * A, axis=0))


def _norms_from_squares(xp, A, squares):
    """``sqrt(squares)`` (the column sums of ``A**2``, already computed) when no
    term could have overflowed or underflowed, else the scaled norms of ``A``."""
    ss = np.asarray(to_numpy(squares), dtype=np.float64)
    info = xp.finfo(A.dtype)
    # Below this, terms lost to underflow (each < tiny) could matter.
    floor = max(A.shape[0], 1) * float(info.smallest_normal) / float(info.eps)
    if np.all((ss >= floor) & (ss < float(info.max))):
        return np.sqrt(ss)
    return _col_norms(xp, A)


class _Diagonal:
    """A diagonal preconditioner ``D`` (n_features or 1, n_targets): ``apply(Z) = Z / D``.

    ``name`` is "jacobi" or None (a constant ``D``: plain CG in units of the
    Gram matrix's largest diagonal entry); ``sqrt_min`` and ``sqrt_max`` are
    ``sqrt(min D)`` and ``sqrt(max D)`` per target on the host.
    """

    rank = None

    def __init__(self, xp, D, name):
        self.xp, self.D, self.name = xp, D, name
        self.sqrt_min = np.sqrt(np.asarray(to_numpy(xp.min(D, axis=0)), dtype=np.float64))
        self.sqrt_max = np.sqrt(np.asarray(to_numpy(xp.max(D, axis=0)), dtype=np.float64))

    def apply(self, Z):
        return Z / self.D

    def scale_norms(self, col_norms, Z):
        return col_norms(self.xp, Z / self.xp.sqrt(self.D))


def _rank_bound(problem, diag):
    """An upper bound on the rank of ``X_c^T S X_c`` from its shape: the rows of
    positive weight (less one for the intercept) and the non-constant columns."""
    sw = problem.sample_weight
    rows = problem.n_samples if sw is None else int(np.sum(to_numpy(sw) > 0))
    informative = int(np.sum(to_numpy(diag) > 0))
    return min(rows - int(problem.fit_intercept), informative), informative


def auto_preconditioner(problem, diag):
    """What ``preconditioner="auto"`` means for conjugate gradient on ``problem``.

    ``"jacobi"`` when ``X_c^T S X_c`` can have full rank on its non-constant
    columns (at least as many rows as columns), else ``None``. On wide data
    ``X_c^T S X_c + alpha I`` has the eigenvalue ``alpha`` ``p - n`` times;
    plain CG from 0 stays in the row space of ``X_c`` and never sees it, while
    ``D^{-1/2} A D^{-1/2}`` spreads it over ``alpha / D``, the spread of the
    column scales squared, which CG then has to resolve: measured on
    500 x 1500 Gaussian data to 1e-6, 96 iterations instead of 26 at equal
    column scales, 800 instead of 52 at scales spanning 1 ... 10, no
    convergence in 20,000 instead of 3,318 at 1 ... 1e6 (sparse 1000 x 3000
    alike). On tall data Jacobi never needed more iterations than plain CG
    (10 and 10 at equal scales, 10 instead of 16 at a spread of 2, 10 instead
    of 527 at 100); ``python benchmarks/bench_gd.py --section spread``.
    """
    rank, informative = _rank_bound(problem, diag)
    return "jacobi" if rank >= informative else None


def _rescaling_is_exact(xp, value, norms, dtype):
    """Whether the objective and gradient norms (user units) are far enough inside the
    normal range that multiplying them by powers of two gives the new units' exactly."""
    info = xp.finfo(dtype)
    floor = float(info.smallest_normal) / float(info.eps) ** 2
    value = np.asarray(to_numpy(value), dtype=np.float64)
    inside = lambda a: (a >= floor) & (a <= float(info.max) * float(info.eps))  # noqa: E731
    return bool(np.all(inside(value) & (inside(norms) | (norms == 0))))


def _power_of_two(norms):
    """Powers of two near ``norms`` (1 where a norm is 0 or not finite)."""
    ok = np.isfinite(norms) & (norms > 0)
    return np.where(ok, np.ldexp(1.0, np.frexp(np.where(ok, norms, 1.0))[1] - 1), 1.0)


def _ritz_extremes(a, b):
    """Smallest and largest eigenvalue of the Lanczos matrix of one CG run.

    ``a`` are the step lengths, ``b`` the ``beta`` coefficients of
    (preconditioned) conjugate gradient on one column; the tridiagonal matrix
    ``T`` with diagonal ``1/a_j + b_{j-1}/a_{j-1}`` and off-diagonal
    ``sqrt(b_j)/a_j`` is the Lanczos matrix of the operator (Saad, *Iterative
    Methods for Sparse Linear Systems*, 6.7.3); its extreme eigenvalues
    (Ritz values) approach the operator's from inside. Only the prefix of
    valid steps is used.
    """
    valid = np.isfinite(a) & (a > 0)
    m = len(a) if valid.all() else int(np.argmin(valid))
    if m == 0:
        return np.inf, 0.0
    a, b = a[:m], np.clip(b[: m - 1], 0, None)
    d = 1.0 / a
    d[1:] += b / a[:-1]
    e = np.sqrt(b) / a[:-1]
    lo = eigvalsh_tridiagonal(d, e, select="i", select_range=(0, 0))[0]
    hi = eigvalsh_tridiagonal(d, e, select="i", select_range=(m - 1, m - 1))[0]
    return max(lo, 0.0), hi


@dataclass
class _Spectrum:
    """Estimates of the extreme eigenvalues of the (preconditioned) operator, per target.

    ``lo`` and ``hi`` are the smallest and largest Ritz (CG) or Rayleigh
    (momentum) values seen, ``done`` the smallest over finished CG runs, and
    ``steps``, ``betas`` the coefficients of the current CG run.
    """

    lo: np.ndarray
    hi: np.ndarray
    done: np.ndarray
    steps: list = field(default_factory=list)
    betas: list = field(default_factory=list)

    @classmethod
    def empty(cls, n_targets):
        return cls(np.full(n_targets, np.inf), np.zeros(n_targets), np.full(n_targets, np.inf))

    def refresh(self):
        """Update ``lo`` and ``hi`` from the current CG run's coefficients."""
        if not self.steps:
            return
        a = np.array(self.steps)
        b = np.array(self.betas) if self.betas else np.zeros((0, a.shape[1]))
        for k in range(a.shape[1]):
            lo, hi = _ritz_extremes(a[:, k], b[:, k])
            self.lo[k] = min(self.done[k], lo)
            self.hi[k] = max(self.hi[k], hi)

    def new_run(self):
        """A CG restart: keep what the finished run found, forget its coefficients."""
        self.refresh()
        self.done = np.fmin(self.done, self.lo)
        self.steps, self.betas = [], []

    def add_rayleigh(self, rq):
        """Widen ``[lo, hi]`` by the Rayleigh quotients ``rq`` that are finite and positive."""
        ok = np.isfinite(rq) & (rq > 0)
        self.lo = np.where(ok, np.fmin(self.lo, rq), self.lo)
        self.hi = np.where(ok, np.fmax(self.hi, rq), self.hi)

    def condition(self):
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.max(self.hi / np.fmin(self.done, self.lo)))


@dataclass
class _GDState:
    """What gradient descent carries from one iteration to the next.

    Arrays are in the problem's namespace, per-target ``(n_features,
    n_targets)`` or ``(n_targets,)``, and in the rescaled units of ``problem``
    (the targets divided by ``s``): ``W`` the iterate, ``Z = -gradient / 2``
    at ``W``, ``value_s`` the objective there; ``value`` is the objective in
    the user's units (what the iteration loop checks and records).
    """

    problem: object
    W: object
    Z: object
    M: object  # the preconditioner: apply(Z) = M^{-1} Z, sqrt_min = sqrt(lambda_min(M))
    s: object
    value_s: object
    value: object
    alpha: np.ndarray  # on the host, float64
    spectrum: _Spectrum
    best_W: object
    it: int = 0
    criterion: float = np.inf
    certified: bool = True
    stalled: bool = False
    best: float = np.inf
    progress_ref: float = np.inf
    n_checks: int = 0
    # conjugate gradient: the direction, M^-1 Z and <Z, M^-1 Z> (for the current Z)
    P: object = None
    Zt: object = None
    rz: object = None
    rz_of: object = None  # the Z that Zt and rz belong to
    inf: object = None  # (n_targets,) of inf: x / where(d > 0, d, inf) is 0 where d is 0
    # momentum: the step, the extrapolated point, -gradient/2 there, Nesterov's t
    step: object = None
    Y: object = None
    ZY: object = None
    t: object = None


def _warn_if_singular(problem, diag):
    """``LinAlgWarning`` when ``alpha == 0`` for a target and X_c is structurally
    rank deficient (a constant column, or fewer informative rows than columns)."""
    alpha = np.asarray(to_numpy(problem.alpha))
    if not np.any(alpha == 0):
        return
    rank_bound = _rank_bound(problem, diag)[0]
    if rank_bound < problem.n_features:
        warnings.warn(
            f"Ill-conditioned problem: the centered design has rank at most {rank_bound} < "
            f"{problem.n_features} and alpha=0; gradient descent returns the minimum-norm "
            "least-squares solution (without the Jacobi preconditioner, which would change "
            "which solution). A positive alpha makes the problem well posed.",
            LinAlgWarning,
            stacklevel=5,
        )


class GradientDescent(IterativeSolver):
    """Full-batch gradient descent on the ridge objective, with a certificate
    on the coefficients.

    Each iteration costs one product with the Hessian (``hessian_matvec``:
    on data, one product with X and one with X^T, all targets at once; sparse
    X is centered implicitly); the gradient and the objective are carried by
    linearity in between and recomputed from the problem every 50 iterations.
    It runs on any problem with the interface of :mod:`l2gd._objective`: the
    data (:class:`~l2gd.RidgeProblem`) or its moments (the Gram problem that
    Dask fits use), with the same iterates.

    Parameters
    ----------
    learning_rate : "auto" or float, default="auto"
        Step size on the mean-scaled objective ``f / sum(sample_weight)``, so
        that it does not depend on the number of samples. ``"auto"`` uses
        ``1 / L`` with ``L`` the Lipschitz constant of that gradient
        (estimated by Lanczos). A fixed value must stay below the stable
        bound ``1 / L``; if the objective blows up, a ``ValueError`` names the
        value and the bound. Not used by ``acceleration="cg"``, which chooses
        exact steps itself.
    acceleration : {"cg", "nesterov", "none"}, default="cg"
        ``"cg"``: conjugate-gradient directions with exact line search (the
        optimal gradient method on a quadratic; no step size needed).
        ``"nesterov"``: Nesterov momentum with function-value adaptive restart
        (O'Donoghue and Candes, 2015), ``O(sqrt(kappa))`` iterations.
        ``"none"``: plain gradient descent, ``O(kappa)`` iterations.
    preconditioner : {"auto", "jacobi", "nystrom", None}, default="auto"
        ``"jacobi"``: conjugate gradient preconditioned by the diagonal
        ``D = diag(X_c^T S X_c) + alpha`` (constant columns get ``alpha``), so
        on tall data its iterates do not depend on the scales of the columns:
        columns spanning 1e-8 ... 1e8 converge as fast as standardized ones.
        It needs only the diagonal (one pass over X, one division per
        iteration). On wide data (fewer rows than columns) it is slow: the
        ``(p - n)``-fold eigenvalue ``alpha`` of ``X_c^T S X_c + alpha I``,
        which plain CG from zero never sees (its iterates stay in the row
        space of ``X_c``), becomes ``alpha / D``, spread as widely as the
        squared column scales, and CG has to resolve it (500 x 1500: 96
        iterations instead of 26 at equal scales, thousands instead of a
        hundred at scales spanning 1 ... 100).
        ``"nystrom"``: conjugate gradient preconditioned by a randomized
        Nystrom approximation of ``X_c^T S X_c`` of rank ``rank`` (Frangella,
        Tropp and Udell, 2023), from one Hessian product with ``rank``
        columns, seeded by ``random_state``; for fast spectral decay (a few
        large eigenvalues above ``alpha``) it needs far fewer iterations than
        Jacobi or none, at ``4 p rank`` extra flops per iteration.
        ``None``: plain (unpreconditioned) conjugate gradient. ``"auto"``:
        with ``acceleration="cg"``, ``"jacobi"`` when ``X_c^T S X_c`` can have
        full rank on its non-constant columns (at least as many rows, less
        one for the intercept, as such columns), ``None`` otherwise (see
        ``l2gd.solvers._gd.auto_preconditioner``); with nesterov and plain steps, ``None``
        (they are on the unpreconditioned objective). Targets with
        ``alpha = 0`` are never preconditioned (from zero, plain CG stays in
        the row space of X and so returns the minimum-norm solution when X is
        rank deficient; a preconditioned one would not).
    rank : "auto" or int, default="auto"
        Rank of the Nystrom approximation (only with
        ``preconditioner="nystrom"``). ``"auto"``: 16, doubled until the
        smallest sketched eigenvalue is within ``10 * alpha`` (then the
        preconditioned condition number is about 11) or the rank reaches
        ``n_features / 4``.

    See Also
    --------
    ClosedForm : Direct solver.

    Notes
    -----
    **What tol means.** The solver stops when it certifies the coefficients:
    for every target, an estimated bound ``E`` on ``||w - w*||_2`` (``w*`` the
    exact minimizer) satisfies ``E / (||w||_2 - E) <= tol``, which bounds the
    relative error ``||w - w*|| / ||w*||``. A small gradient alone is not
    trusted: on an ill-conditioned problem it can sit next to coefficients far
    off. With ``z = X_c^T S (y_c - X_c w) - alpha w`` (minus half the
    gradient), ``A = X_c^T S X_c + alpha I`` and ``w - w* = -A^{-1} z``,

    - ``E = ||M^{-1/2} z|| / (theta_min * sqrt(lambda_min(M)))``, with
      ``M`` the preconditioner (``D`` for Jacobi, so ``lambda_min(M) =
      min D``; the Nystrom ``P`` has ``lambda_min = 1``; a constant without
      one), where ``theta_min`` is the smallest Ritz value of the
      preconditioned operator ``M^{-1/2} A M^{-1/2}``, read for free from
      the CG coefficients (the Lanczos tridiagonal matrix), kept as the
      minimum over restarts. It is an estimate: the Ritz values approach
      the spectrum from inside, and in exact arithmetic plain CG from zero
      never meets the eigenvalue ``alpha`` of wide data; that is harmless,
      as then ``z`` stays in the row space where ``theta_min`` lives (a
      start off the row space brings ``alpha`` into the Krylov space, where
      Lanczos finds it);
    - or ``E = ||z|| / alpha`` (a rigorous bound, as ``lambda_min(A) >=
      alpha``), whichever is smaller; this is the only bound available to
      ``acceleration="nesterov"`` and ``"none"``, which therefore cannot
      certify ``alpha = 0`` problems.

    The bound is computed at the exact gradient (from the problem; the cheap
    recurrence only decides when to look, with ``||z||`` bounded by
    ``sqrt(lambda_max(M) <z, M^{-1} z>)``), every 50 iterations and whenever
    the recurrence says ``tol`` is met, so rounding in the recurrences can not
    fake convergence. The best certified iterate is returned, not the last:
    when rounding (about ``eps * kappa``) keeps the bound from improving for
    a few checks the solver stops there. If the bound is above ``tol`` at
    the end (``max_iter`` reached, or the attainable accuracy ``eps * kappa``
    is above ``tol``: ill-conditioned data with a tiny ``alpha``), a
    ``ConvergenceWarning`` gives the estimated error and names the remedy,
    ``solver="closed_form"``, and ``SolveResult.converged`` is False.

    **positive=True** (coefficients ``>= 0``, :meth:`solve`): a projected
    Newton method runs instead (:class:`~l2gd.solvers._positive.ProjectedNewton`):
    variables at the bound whose gradient points outward are held there,
    conjugate gradient (Jacobi-preconditioned as ``"auto"`` decides, on tall
    data, or with ``"jacobi"``; plain otherwise) gives a Newton step on the others, and an Armijo search along the
    projection ``max(w + t d, 0)`` keeps the iterates feasible; it uses the
    same problem interface (rows, statistics, Dask). ``learning_rate`` and
    ``acceleration`` do not apply. ``tol`` is then the norm of the projected
    gradient (the KKT residual: ``g_j`` where ``w_j > 0``, ``min(g_j, 0)``
    where ``w_j = 0``) relative to the gradient at zero, per target;
    ``max_iter`` counts Newton steps (each several Hessian products).

    The computation runs in power-of-two rescaled units per target (exact),
    so targets of any magnitude (1e-300 ... 1e300) give the same iterates;
    the objective in the history is in the user's units (it may underflow to
    0; an objective that overflows the dtype is a ``ValueError``).

    ``tol=None`` means ``max(sqrt(eps_float64), 100 * eps)`` with ``eps`` the
    machine epsilon of the data's dtype: 1.5e-8 for float64, 1.2e-5 for
    float32; ``max_iter=None`` means 1000. With ``alpha = 0`` and a
    structurally rank-deficient X (constant columns, more columns than rows)
    a ``LinAlgWarning`` says that the minimum-norm solution is returned.

    Examples
    --------
    >>> import numpy as np
    >>> from l2gd import GDRidgeRegressor
    >>> from l2gd.solvers import GradientDescent
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((50, 3)), rng.standard_normal(50)
    >>> est = GDRidgeRegressor(solver=GradientDescent(acceleration="nesterov")).fit(X, y)
    >>> est.solver_
    'gd'

    A randomized Nystrom preconditioner on data with fast spectral decay:

    >>> from l2gd import RidgeProblem
    >>> U = np.linalg.qr(rng.standard_normal((300, 100)))[0]
    >>> X = (U * np.exp(-np.arange(100) / 5.0)) @ np.linalg.qr(rng.standard_normal((100, 100)))[0]
    >>> Y = X @ rng.standard_normal((100, 1))
    >>> problem = RidgeProblem(X, Y, np.array([1e-4]))
    >>> nystrom = GradientDescent(preconditioner="nystrom").solve(problem, random_state=0)
    >>> jacobi = GradientDescent(preconditioner="jacobi").solve(problem, max_iter=5000)
    >>> plain = GradientDescent(preconditioner=None).solve(problem, max_iter=5000)
    >>> nystrom.converged, nystrom.info["rank"]
    (True, 16)
    >>> bool(4 * nystrom.n_iter < jacobi.n_iter and 2 * nystrom.n_iter < plain.n_iter)
    True
    """

    name = "gd"
    supports_array_api = True
    supports_positive = True
    default_max_iter = 1000

    def __init__(self, learning_rate="auto", acceleration="cg", preconditioner="auto", rank="auto"):
        self.learning_rate = learning_rate
        self.acceleration = acceleration
        self.preconditioner = preconditioner
        self.rank = rank

    def default_tol(self, dtype, xp=np):
        return max(float(np.sqrt(np.finfo(np.float64).eps)), 100 * eps(xp, dtype))

    def _check_params(self):
        if self.acceleration not in _ACCELERATIONS:
            raise ValueError(
                f"acceleration must be one of {_ACCELERATIONS}, got {self.acceleration!r}."
            )
        if not any(self.preconditioner is p or self.preconditioner == p for p in _PRECONDITIONERS):
            raise ValueError(
                f"preconditioner must be one of {_PRECONDITIONERS}, got {self.preconditioner!r}."
            )
        if self.preconditioner in ("jacobi", "nystrom") and self.acceleration != "cg":
            raise ValueError(
                f"preconditioner={self.preconditioner!r} needs acceleration='cg'; nesterov and "
                "plain steps are on the unpreconditioned objective (use preconditioner='auto' "
                "or None)."
            )
        self._check_rank()
        lr = self.learning_rate
        if isinstance(lr, str):
            if lr != "auto":
                raise ValueError(f"learning_rate must be 'auto' or a positive float, got {lr!r}.")
        elif not isinstance(lr, Real) or isinstance(lr, bool) or not (lr > 0 and np.isfinite(lr)):
            raise ValueError(f"learning_rate must be 'auto' or a positive float, got {lr!r}.")
        elif self.acceleration == "cg":
            raise ValueError(
                "learning_rate is not used with acceleration='cg' (conjugate gradient chooses "
                "exact steps); use acceleration='nesterov' or 'none' with a fixed learning_rate."
            )

    def _check_rank(self):
        rank = self.rank
        if isinstance(rank, str):
            if rank != "auto":
                raise ValueError(f"rank must be 'auto' or a positive integer, got {rank!r}.")
            return
        if not isinstance(rank, Integral) or isinstance(rank, bool) or rank < 1:
            raise ValueError(f"rank must be 'auto' or a positive integer, got {rank!r}.")
        if self.preconditioner != "nystrom":
            raise ValueError(
                f"rank is only used with preconditioner='nystrom', got rank={rank!r} with "
                f"preconditioner={self.preconditioner!r}."
            )

    # -- set-up -----------------------------------------------------------------
    def _preconditioner(self, problem, diag, rng):
        """``M`` for the run: Nystrom, Jacobi (``diag + alpha_k`` for targets with
        ``alpha_k > 0``, a constant for the others) or a constant (none)."""
        xp = problem.xp
        kind = self.preconditioner if self.acceleration == "cg" else None
        if kind == "auto":
            kind = auto_preconditioner(problem, diag)
        if kind == "nystrom":
            return NystromPreconditioner(problem, self.rank, rng)
        alpha = problem.alpha
        top = xp.max(diag) if diag.shape[0] else xp.asarray(1.0, dtype=problem.dtype)
        flat = xp.where(top > 0, top, xp.ones_like(top)) + xp.zeros_like(alpha)[None, :]
        if kind != "jacobi":
            return _Diagonal(xp, flat, None)
        D = diag[:, None] + alpha[None, :]
        return _Diagonal(xp, xp.where(alpha[None, :] > 0, D, xp.zeros_like(D) + flat), "jacobi")

    def _init_state(self, problem, W0, rng):
        self._check_params()
        xp = problem.xp
        diag = problem.gram_diagonal()
        _warn_if_singular(problem, diag)
        M = self._preconditioner(problem, diag, rng)
        # Per-target power-of-two units in which the preconditioned gradient
        # is about 1: the inner products below then never underflow or
        # overflow, and the iterates do not depend on the targets' magnitude.
        value, gradient = problem.value_and_gradient(W0)
        norms = M.scale_norms(_col_norms, gradient)
        scale = _power_of_two(norms)
        s = to_device(scale, xp, problem.device, problem.dtype)
        inv = to_device(1.0 / scale, xp, problem.device, problem.dtype)
        scaled = problem.rescale_targets(inv)
        W = W0 * inv
        if _rescaling_is_exact(xp, value, norms, problem.dtype):
            value_s, gradient = value * inv * inv, gradient * inv  # powers of two: exact
        else:  # they under- or overflowed in the user's units: recompute in the new ones
            value_s, gradient = scaled.value_and_gradient(W)
        state = _GDState(
            problem=scaled, W=W, Z=-0.5 * gradient, M=M, s=s, value_s=value_s,
            value=value_s * s * s, alpha=np.asarray(to_numpy(problem.alpha), dtype=np.float64),
            spectrum=_Spectrum.empty(problem.n_targets), best_W=W,
        )
        self._assess(state)
        if self.acceleration == "cg":
            self._precondition(state)
            state.P = state.Zt
            state.inf = xp.full_like(state.rz, np.inf)
        else:
            if self.learning_rate == "auto":
                step = 1.0 / problem.lipschitz()
            else:
                step = np.full(problem.n_targets, self.learning_rate / problem.sw_sum)
            state.step = to_device(step, xp, problem.device, problem.dtype)
            state.Y, state.ZY = state.W, state.Z
            state.t = xp.ones(problem.n_targets, dtype=problem.dtype, device=problem.device)
        return state

    def _precondition(self, state):
        """``state.Zt = M^{-1} Z`` and ``state.rz = <Z, M^{-1} Z>`` for the current
        ``state.Z`` (computed once per Z: the bound and the next CG direction share them)."""
        if state.rz_of is state.Z:
            return
        state.Zt = state.M.apply(state.Z)
        state.rz = state.problem.xp.sum(state.Z * state.Zt, axis=0)
        state.rz_of = state.Z

    # -- the certificate ----------------------------------------------------------
    def _bound(self, state, cheap=False):
        """Per target, the estimated relative coefficient error of ``state.W``.

        ``||M^{-1/2} z|| = sqrt(rz)``, shared with the next CG direction.
        ``cheap`` (the test every iteration that decides whether to look
        closer): ``||z||`` is bounded by ``sqrt(lambda_max(M) rz)`` instead of
        computed, which can only overstate the bound.
        """
        xp = state.problem.xp
        # In the solver's units the preconditioned gradient starts at about 1,
        # so <Z, M^-1 Z> neither overflows nor underflows.
        self._precondition(state)
        zd = np.sqrt(np.clip(np.asarray(to_numpy(state.rz), dtype=np.float64), 0, None))
        z = zd * state.M.sqrt_max if cheap else _fast_norms(xp, state.Z)
        w = _fast_norms(xp, state.W)
        lo = state.spectrum.lo
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ritz = np.where(np.isfinite(lo), zd / (lo * state.M.sqrt_min), np.inf)
            ritz = np.where(lo > 0, ritz, np.inf)
            rigorous = np.where(state.alpha > 0, z / state.alpha, np.inf)
            E = np.fmin(ritz, rigorous)
            rel = np.where(w > E, E / (w - E), np.inf)
        return np.where(z == 0, 0.0, rel)

    def _assess(self, state, drift=False):
        """Set ``state.criterion`` at an exact gradient and keep the best iterate.

        ``drift``: the recurrences claimed ``tol`` here; when that keeps
        happening without the true bound making progress, rounding has won
        (the recurrences drift below the truth) and the solver stops.
        """
        state.criterion = float(np.max(self._bound(state), initial=0.0))
        state.certified = True
        if state.criterion <= state.best:
            state.best, state.best_W = state.criterion, state.W
        if state.best <= _PROGRESS * state.progress_ref:
            state.progress_ref, state.n_checks = state.best, 0
        elif drift:
            state.n_checks += 1
            state.stalled = state.n_checks >= _PATIENCE

    def _resync(self, state, W=None):
        """Exact objective and ``Z`` at ``W`` (default ``state.W``), from the problem."""
        value, gradient = state.problem.value_and_gradient(state.W if W is None else W)
        return value, -0.5 * gradient

    def _certify(self, state, tol, exact):
        """Bound the error of the new iterate (``exact``: its Z is from the problem,
        not the recurrence); confirm at the exact gradient when the cheap bound meets ``tol``."""
        if not exact and np.all(np.isfinite(state.spectrum.lo)):
            # Stale Ritz values only under-estimate the bound: look no further.
            if self._cheap_bound_misses(state, tol):
                return
        state.spectrum.refresh()
        if not exact:
            if self._cheap_bound_misses(state, tol):
                return
            state.value_s, state.Z = self._resync(state)
        # Evidence that rounding has won: the recurrences claimed tol falsely,
        # or (CG) no progress while the bound is within reach of the rounding
        # level eps * kappa (far from it, a hard problem is just slow).
        self._assess(state, drift=not exact or self._near_rounding(state))

    def _near_rounding(self, state):
        if self.acceleration != "cg":
            return False
        with np.errstate(divide="ignore", invalid="ignore"):
            kappa = np.max(state.spectrum.hi / state.spectrum.lo)
        problem = state.problem
        return bool(state.best <= 1e3 * eps(problem.xp, problem.dtype) * kappa)

    def _cheap_bound_misses(self, state, tol):
        state.criterion = float(np.max(self._bound(state, cheap=True), initial=0.0))
        state.certified = False
        return state.criterion > tol

    # -- iterations -----------------------------------------------------------------
    def solve(
        self, problem, *, init=None, tol=None, max_iter=None, random_state=None, verbose=0,
        positive=False,
    ):
        """Minimize the ridge objective of ``problem`` (with ``w >= 0`` when
        ``positive``); see the class docstring."""
        if positive:
            self._check_params()
            if self.preconditioner == "nystrom":
                raise ValueError(
                    "preconditioner='nystrom' does not support positive=True (the projected "
                    "Newton steps use Jacobi or no preconditioner); use preconditioner='auto'."
                )
            jacobi = self.preconditioner == "jacobi" or (
                self.preconditioner == "auto"
                and auto_preconditioner(problem, problem.gram_diagonal()) == "jacobi"
            )
            engine = ProjectedNewton(jacobi=jacobi)
            tol = self.default_tol(problem.dtype, problem.xp) if tol is None else tol
            return engine.solve(
                problem, init=init, tol=tol, max_iter=max_iter, random_state=random_state,
                verbose=verbose,
            )
        self._tol = self.default_tol(problem.dtype, problem.xp) if tol is None else tol
        return super().solve(
            problem, init=init, tol=tol, max_iter=max_iter, random_state=random_state,
            verbose=verbose,
        )

    def _step(self, problem, state):
        # ``problem`` is the user's; the iterations run on ``state.problem``,
        # the same problem in rescaled units.
        state.it += 1
        if self.acceleration == "cg":
            self._cg_step(state)
        else:
            self._momentum_step(state)
        state.value = state.value_s * state.s * state.s

    def _cg_step(self, state):
        """One step of (preconditioned) conjugate gradient with exact line search.

        Along ``P``, ``A P`` (``A`` = half the Hessian) gives the step length,
        the new ``Z = Z - a A P``, and the new objective by the trapezoid rule
        ``f(W + a P) = f(W) - a (Z_old + Z_new)^T P`` (exact on a quadratic).
        """
        xp = state.problem.xp
        AP = 0.5 * state.problem.hessian_matvec(state.P)
        pAp = xp.sum(state.P * AP, axis=0)
        a = state.rz / xp.where(pAp > 0, pAp, state.inf)  # 0 where pAp is 0
        state.W = state.W + a * state.P
        Z_rec = state.Z - a * AP
        exact = state.it % _RESYNC_EVERY == 0
        if exact:
            value, Z = self._resync(state)
        else:
            # (Z + Z_new)^T P = 2 Z^T P - a P^T A P (no Z + Z_new array).
            Z = Z_rec
            value = state.value_s - a * (2.0 * xp.sum(state.Z * state.P, axis=0) - a * pAp)
        restart = bool(xp.any(value > state.value_s))
        if restart and not exact:
            # CG decreases the objective monotonically in exact arithmetic; a
            # rise means rounding has broken conjugacy (near the attainable
            # accuracy, e.g. in float32). Resynchronize and restart from the
            # preconditioned steepest-descent direction.
            value, Z = self._resync(state)
            exact = True
        state.value_s, state.Z = value, Z
        state.spectrum.steps.append(np.asarray(to_numpy(a), dtype=np.float64))
        rz_old = state.rz
        self._certify(state, self._tol, exact)
        restart = restart or self._drifted(state, Z_rec)
        self._precondition(state)  # done by the bound already, unless it was skipped
        if restart:  # a new Lanczos run: keep what the old one found
            state.spectrum.new_run()
            state.P = state.Zt
        else:
            beta = state.rz / xp.where(rz_old > 0, rz_old, state.inf)
            state.spectrum.betas.append(np.asarray(to_numpy(beta), dtype=np.float64))
            state.P = state.Zt + beta * state.P

    def _drifted(self, state, Z_rec):
        """Whether the exact ``state.Z`` (if it was recomputed) left the recurrence ``Z_rec``."""
        if state.Z is Z_rec:
            return False
        xp = state.problem.xp
        gap = _col_norms(xp, state.Z - Z_rec)
        return bool(np.any(gap > _DRIFT * _col_norms(xp, state.Z)))

    def _momentum_step(self, state):
        """A gradient step from the extrapolated point ``Y``, whose ``ZY = -grad/2``
        is known (by linearity); the bound is then measured at the new point."""
        xp = state.problem.xp
        step = state.step
        W_new = state.Y + 2.0 * step * state.ZY
        exact = state.it % _RESYNC_EVERY == 0
        if exact:
            value_new, Z_new = self._resync(state, W_new)
        else:
            AZY = 0.5 * state.problem.hessian_matvec(state.ZY)
            Z_new = state.ZY - 2.0 * step * AZY
            value_new = state.value_s - xp.sum((state.Z + Z_new) * (W_new - state.W), axis=0)
            self._rayleigh_quotient(state, AZY)
        if self.acceleration == "nesterov":
            restart = value_new > state.value_s
            t_next = 0.5 * (1.0 + xp.sqrt(1.0 + 4.0 * state.t**2))
            beta = xp.where(restart, xp.zeros_like(t_next), (state.t - 1.0) / t_next)
            state.t = xp.where(restart, xp.ones_like(t_next), t_next)
        else:
            beta = xp.zeros_like(state.t)
        W_old, Z_old = state.W, state.Z
        state.W, state.Z, state.value_s = W_new, Z_new, value_new
        self._certify(state, self._tol, exact)
        state.Y = state.W + beta * (state.W - W_old)
        state.ZY = state.Z + beta * (state.Z - Z_old)

    def _rayleigh_quotient(self, state, AZY):
        """Lower the estimate of ``lambda_min`` with the Rayleigh quotient of ``ZY``.

        ``AZY`` is ``A ZY`` (half the Hessian times ``ZY``), known from the
        step; the quotient is in the operator's spectrum, and the running
        minimum approaches ``lambda_min`` as the remaining error settles on the
        slow directions (the role the Ritz values play for CG).
        """
        xp = state.problem.xp
        num = to_numpy(xp.sum(state.ZY * AZY, axis=0))
        den = to_numpy(xp.sum(state.ZY * state.ZY, axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            rq = np.asarray(num, dtype=np.float64) / np.asarray(den, dtype=np.float64)
        scale = np.asarray(to_numpy(state.M.D[0, ...]), dtype=np.float64)  # D is constant here
        state.spectrum.add_rayleigh(rq / scale)

    # -- the end ------------------------------------------------------------------
    def _conclude(self, problem, state, tol, converged):
        if not state.certified:
            state.value_s, state.Z = self._resync(state)
            state.spectrum.refresh()
            self._assess(state)
        state.criterion = state.best
        return bool(state.best <= tol)

    def _finish(self, problem, state):
        W = state.best_W * state.s
        return W, problem.intercept(W)

    def _info(self, state):
        return {
            "method": self.acceleration, "error_bound": state.best,
            "condition": state.spectrum.condition(),
            "preconditioner": state.M.name, "rank": state.M.rank,
        }

    def _not_converged_message(self, state, tol, max_iter):
        why = (
            "rounding stopped its progress (the problem is too ill-conditioned for "
            "an iterative solver at this tol)" if state.stalled
            else f"max_iter={max_iter} iterations were not enough"
        )
        return (
            f"GradientDescent could not certify the coefficients to tol={tol:.1e}: the "
            f"estimated relative coefficient error is {state.best:.2e}; {why}. Use "
            'solver="closed_form" (a direct solve), or increase alpha, tol or max_iter.'
        )

    def _divergence_message(self, problem, state):
        if self.acceleration == "cg" or self.learning_rate == "auto":
            return (
                "Gradient descent diverged although its step came from the data; the "
                "problem may be numerically singular. Try solver='closed_form'."
            )
        bound = problem.sw_sum / float(np.max(problem.lipschitz()))
        return (
            f"Gradient descent diverged with learning_rate={self.learning_rate!r}: the "
            f"objective grew without bound. The stable bound for this data is "
            f"learning_rate <= {bound:.4g} (1/L of the mean-scaled objective); use a "
            "smaller value or learning_rate='auto'."
        )
