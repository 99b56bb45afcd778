"""Batch gradient descent on the ridge objective."""

import warnings
from numbers import Real
from types import SimpleNamespace

import numpy as np
from scipy.linalg import LinAlgWarning, eigvalsh_tridiagonal

from .._array_api import eps, to_device, to_numpy
from ._base import IterativeSolver

_ACCELERATIONS = ("cg", "nesterov", "none")
_PRECONDITIONERS = ("auto", "jacobi", None)

# Recompute the residual from X every this many iterations, so the cheap
# recurrences used inside the loop never drift.
_RESYNC_EVERY = 50

# The error bound is measured at the true residual at those resynchronizations
# and whenever the cheap (recurrence) bound says tol is met. After this many
# such checks without the best bound improving by _PROGRESS, rounding is
# taken to have won and the solver stops with the best iterate.
_PATIENCE = 3
_PROGRESS = 0.5


def _ratio(xp, num, den):
    """Column-wise ``num / den`` with 0 where ``den`` is 0."""
    positive = den > 0
    safe = xp.where(positive, den, xp.ones_like(den))
    return xp.where(positive, num / safe, xp.zeros_like(num))


def _col_norms(xp, A):
    """Column 2-norms of ``A`` on the host (float64), without underflow or overflow."""
    big = xp.max(xp.abs(A), axis=0)
    safe = xp.where(big > 0, big, xp.ones_like(big))
    scaled = to_numpy(xp.sqrt(xp.sum((A / safe) ** 2, axis=0)))
    return np.asarray(to_numpy(big), dtype=np.float64) * np.asarray(scaled, dtype=np.float64)


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


def _warn_if_singular(problem, diag):
    """``LinAlgWarning`` when ``alpha == 0`` for a target and X_c is structurally
    rank deficient (a constant column, or fewer informative rows than columns)."""
    alpha = np.asarray(to_numpy(problem.alpha))
    if not np.any(alpha == 0):
        return
    sw = problem.sample_weight
    rows = problem.n_samples if sw is None else int(np.sum(to_numpy(sw) > 0))
    rank_bound = min(rows - int(problem.fit_intercept), int(np.sum(to_numpy(diag) > 0)))
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

    Each iteration costs one product with X and one with X^T (all targets
    at once); sparse X is centered implicitly.

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
    preconditioner : {"auto", "jacobi", None}, default="auto"
        ``"jacobi"``: conjugate gradient preconditioned by the diagonal
        ``D = diag(X_c^T S X_c) + alpha`` (constant columns get ``alpha``), so
        its iterates do not depend on the scales of the columns: columns
        spanning 1e-8 ... 1e8 converge as fast as standardized ones. It needs
        only the diagonal (one pass over X, no extra cost per iteration).
        Targets with ``alpha = 0`` are not preconditioned (from zero, plain CG
        stays in the row space of X and so returns the minimum-norm solution
        when X is rank deficient; the preconditioned one would not).
        ``None``: plain (unpreconditioned) conjugate gradient. ``"auto"``:
        ``"jacobi"`` with ``acceleration="cg"``, ``None`` otherwise (nesterov
        and plain steps are on the unpreconditioned objective).

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

    - ``E = ||D^{-1/2} z|| / (theta_min * sqrt(min D))``, where ``theta_min``
      is the smallest Ritz value of the preconditioned operator
      ``D^{-1/2} A D^{-1/2}``, read for free from the CG coefficients (the
      Lanczos tridiagonal matrix), kept as the minimum over restarts;
    - or ``E = ||z|| / alpha`` (a rigorous bound, as ``lambda_min(A) >=
      alpha``), whichever is smaller; this is the only bound available to
      ``acceleration="nesterov"`` and ``"none"``, which therefore cannot
      certify ``alpha = 0`` problems.

    The bound is computed at the true residual ``y_c - X_c w`` (the cheap
    recurrence only decides when to look), every 50 iterations and whenever
    the recurrence says ``tol`` is met, so rounding in the recurrences can not
    fake convergence. The best certified iterate is returned, not the last:
    when rounding (about ``eps * kappa``) keeps the bound from improving for
    a few checks the solver stops there. If the bound is above ``tol`` at
    the end (``max_iter`` reached, or the attainable accuracy ``eps * kappa``
    is above ``tol``: ill-conditioned data with a tiny ``alpha``), a
    ``ConvergenceWarning`` gives the estimated error and names the remedy,
    ``solver="closed_form"``, and ``SolveResult.converged`` is False.

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
    """

    name = "gd"
    supports_array_api = True
    default_max_iter = 1000

    def __init__(self, learning_rate="auto", acceleration="cg", preconditioner="auto"):
        self.learning_rate = learning_rate
        self.acceleration = acceleration
        self.preconditioner = preconditioner

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
        if self.preconditioner == "jacobi" and self.acceleration != "cg":
            raise ValueError(
                "preconditioner='jacobi' needs acceleration='cg'; nesterov and plain steps "
                "are on the unpreconditioned objective (use preconditioner='auto' or None)."
            )
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

    # -- set-up -----------------------------------------------------------------
    def _diagonal(self, problem, diag):
        """The preconditioner ``D`` (n_features, n_targets): ``diag + alpha_k`` for
        targets with ``alpha_k > 0`` under Jacobi, else a constant (no preconditioning)."""
        xp = problem.xp
        alpha = problem.alpha
        top = xp.max(diag) if diag.shape[0] else xp.asarray(1.0, dtype=problem.dtype)
        flat = xp.where(top > 0, top, xp.ones_like(top))
        jacobi = self.preconditioner in ("auto", "jacobi") and self.acceleration == "cg"
        D = diag[:, None] + alpha[None, :]
        if not jacobi:
            return xp.zeros_like(D) + flat
        return xp.where(alpha[None, :] > 0, D, xp.zeros_like(D) + flat)

    def _init_state(self, problem, W0, rng):
        self._check_params()
        xp = problem.xp
        diag = problem.gram_diagonal()
        _warn_if_singular(problem, diag)
        warm = bool(xp.any(W0 != 0))
        R = problem.residual(W0) if warm else problem.Yc  # no pass over X from zero
        Z = problem.rmatvec(problem.weighted(R)) - problem.alpha * W0  # = -grad / 2
        D = self._diagonal(problem, diag)
        # Per-target power-of-two units in which the preconditioned gradient
        # is about 1: the inner products below then never underflow or
        # overflow, and the iterates do not depend on the targets' magnitude.
        scale = _power_of_two(_col_norms(xp, Z / xp.sqrt(D)))
        s = to_device(scale, xp, problem.device, problem.dtype)
        inv = to_device(1.0 / scale, xp, problem.device, problem.dtype)
        state = SimpleNamespace(
            W=W0 * inv, R=R * inv, Z=Z * inv, D=D, s=s, s2=s * s, it=0,
            alpha=np.asarray(to_numpy(problem.alpha), dtype=np.float64),
            dmin_sqrt=np.sqrt(np.asarray(to_numpy(xp.min(D, axis=0)), dtype=np.float64)),
            theta_done=np.full(problem.n_targets, np.inf), theta_lo=np.full(problem.n_targets, np.inf),
            theta_hi=np.zeros(problem.n_targets), steps=[], betas=[],
            best_W=None, best=np.inf, progress_ref=np.inf, n_checks=0, stalled=False,
            certified=True, tol=None,
        )
        state.value_s = problem.value_from_residual(state.R, state.W)
        state.value = state.value_s * state.s2
        state.best_W = state.W
        self._assess(problem, state)
        if self.acceleration == "cg":
            state.Zt = state.Z / D
            state.rz = xp.sum(state.Z * state.Zt, axis=0)
            state.P = state.Zt
        else:
            if self.learning_rate == "auto":
                step = 1.0 / problem.lipschitz()
            else:
                step = np.full(problem.n_targets, self.learning_rate / problem.sw_sum)
            state.step = to_device(step, xp, problem.device, problem.dtype)
            state.Y, state.RY, state.ZY = state.W, state.R, state.Z
            state.t = xp.ones(problem.n_targets, dtype=problem.dtype, device=problem.device)
        return state

    # -- the certificate ----------------------------------------------------------
    def _bound(self, problem, state):
        """Per target, the estimated relative coefficient error of ``state.W``."""
        xp = problem.xp
        z = _col_norms(xp, state.Z)
        zd = _col_norms(xp, state.Z / xp.sqrt(state.D))
        w = _col_norms(xp, state.W)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ritz = np.where(np.isfinite(state.theta_lo), zd / (state.theta_lo * state.dmin_sqrt), np.inf)
            ritz = np.where(state.theta_lo > 0, ritz, np.inf)
            rigorous = np.where(state.alpha > 0, z / state.alpha, np.inf)
            E = np.fmin(ritz, rigorous)
            rel = np.where(w > E, E / (w - E), np.inf)
        return np.where(z == 0, 0.0, rel)

    def _refresh_ritz(self, state):
        """Update the extreme Ritz values from the current CG run's coefficients."""
        if not state.steps:
            return
        a = np.array(state.steps)
        b = np.array(state.betas) if state.betas else np.zeros((0, a.shape[1]))
        for k in range(a.shape[1]):
            lo, hi = _ritz_extremes(a[:, k], b[:, k])
            state.theta_lo[k] = min(state.theta_done[k], lo)
            state.theta_hi[k] = max(state.theta_hi[k], hi)

    def _assess(self, problem, state, drift=False):
        """Set ``state.criterion`` at a true residual and keep the best iterate.

        ``drift``: the recurrences claimed ``tol`` here; when that keeps
        happening without the true bound making progress, rounding has won
        (the recurrences drift below the truth) and the solver stops.
        """
        state.criterion = float(np.max(self._bound(problem, state), initial=0.0))
        state.certified = True
        if state.criterion <= state.best:
            state.best, state.best_W = state.criterion, state.W
        if state.best <= _PROGRESS * state.progress_ref:
            state.progress_ref, state.n_checks = state.best, 0
        elif drift:
            state.n_checks += 1
            state.stalled = state.n_checks >= _PATIENCE

    def _true_residual(self, problem, state):
        return problem.residual(state.W * state.s) * (1.0 / state.s)

    def _check_at_true_residual(self, problem, state):
        """Recompute R, Z and the objective from X at ``state.W``."""
        state.R = self._true_residual(problem, state)
        state.value_s = problem.value_from_residual(state.R, state.W)
        state.Z = problem.rmatvec(problem.weighted(state.R)) - problem.alpha * state.W

    def _certify(self, problem, state, tol, exact):
        """Bound the error of the new iterate (``exact``: its Z is from the true residual);
        confirm at the true residual when the cheap bound meets ``tol``."""
        if not exact and np.all(np.isfinite(state.theta_lo)):
            # Stale Ritz values only under-estimate the bound: look no further.
            if self._cheap_bound_misses(problem, state, tol):
                return
        self._refresh_ritz(state)
        if not exact:
            if self._cheap_bound_misses(problem, state, tol):
                return
            self._check_at_true_residual(problem, state)
        # Evidence that rounding has won: the recurrences claimed tol falsely,
        # or (CG) no progress while the bound is within reach of the rounding
        # level eps * kappa (far from it, a hard problem is just slow).
        self._assess(problem, state, drift=not exact or self._near_rounding(problem, state))

    def _near_rounding(self, problem, state):
        if self.acceleration != "cg":
            return False
        with np.errstate(divide="ignore", invalid="ignore"):
            kappa = np.max(state.theta_hi / state.theta_lo)
        return bool(state.best <= 1e3 * eps(problem.xp, problem.dtype) * kappa)

    def _cheap_bound_misses(self, problem, state, tol):
        state.criterion = float(np.max(self._bound(problem, state), initial=0.0))
        state.certified = False
        return state.criterion > tol

    # -- iterations -----------------------------------------------------------------
    def solve(self, problem, *, init=None, tol=None, max_iter=None, random_state=None, verbose=0):
        self._tol = self.default_tol(problem.dtype, problem.xp) if tol is None else tol
        return super().solve(
            problem, init=init, tol=tol, max_iter=max_iter, random_state=random_state,
            verbose=verbose,
        )

    def _step(self, problem, state):
        state.it += 1
        if self.acceleration == "cg":
            self._cg_step(problem, state)
        else:
            self._momentum_step(problem, state)
        state.value = state.value_s * state.s2

    def _cg_step(self, problem, state):
        xp = problem.xp
        Q = problem.matvec(state.P)
        denom = xp.sum(problem.weighted(Q) * Q, axis=0) + problem.alpha * xp.sum(
            state.P * state.P, axis=0
        )
        a = _ratio(xp, state.rz, denom)
        state.W = state.W + a * state.P
        exact = state.it % _RESYNC_EVERY == 0
        state.R = self._true_residual(problem, state) if exact else state.R - a * Q
        value = problem.value_from_residual(state.R, state.W)
        restart = bool(xp.any(value > state.value_s))
        if restart and not exact:
            # CG decreases the objective monotonically in exact arithmetic; a
            # rise means rounding has broken conjugacy (near the attainable
            # accuracy, e.g. in float32). Resynchronize and restart from the
            # preconditioned steepest-descent direction.
            state.R = self._true_residual(problem, state)
            value = problem.value_from_residual(state.R, state.W)
            exact = True
        state.value_s = value
        state.Z = problem.rmatvec(problem.weighted(state.R)) - problem.alpha * state.W
        state.steps.append(np.asarray(to_numpy(a), dtype=np.float64))
        self._certify(problem, state, self._tol, exact)
        Zt = state.Z / state.D
        rz = xp.sum(state.Z * Zt, axis=0)
        beta = xp.zeros_like(rz) if restart else _ratio(xp, rz, state.rz)
        if restart:  # a new Lanczos run: keep what the old one found
            self._refresh_ritz(state)
            state.theta_done = np.fmin(state.theta_done, state.theta_lo)
            state.steps, state.betas = [], []
        else:
            state.betas.append(np.asarray(to_numpy(beta), dtype=np.float64))
        state.P = Zt + beta * state.P
        state.rz = rz

    def _momentum_step(self, problem, state):
        # Gradient step from the extrapolated point Y, whose gradient -2 ZY is
        # known; the bound is then measured at the new point W.
        xp = problem.xp
        step = state.step
        W_new = state.Y + 2.0 * step * state.ZY
        exact = state.it % _RESYNC_EVERY == 0
        if exact:
            R_new = self._true_residual(problem, SimpleNamespace(W=W_new, s=state.s))
        else:
            R_new = state.RY - 2.0 * step * problem.matvec(state.ZY)
        value_new = problem.value_from_residual(R_new, W_new)
        if self.acceleration == "nesterov":
            restart = value_new > state.value_s
            t_next = 0.5 * (1.0 + xp.sqrt(1.0 + 4.0 * state.t**2))
            beta = xp.where(restart, xp.zeros_like(t_next), (state.t - 1.0) / t_next)
            state.t = xp.where(restart, xp.ones_like(t_next), t_next)
        else:
            beta = xp.zeros_like(state.t)
        W_old, R_old = state.W, state.R
        state.W, state.R, state.value_s = W_new, R_new, value_new
        state.Z = problem.rmatvec(problem.weighted(R_new)) - problem.alpha * W_new
        self._rayleigh_quotient(problem, state)
        self._certify(problem, state, self._tol, exact)
        state.Y = state.W + beta * (state.W - W_old)
        state.RY = state.R + beta * (state.R - R_old)
        state.ZY = problem.rmatvec(problem.weighted(state.RY)) - problem.alpha * state.Y

    def _rayleigh_quotient(self, problem, state):
        """Lower the estimate of ``lambda_min`` with the Rayleigh quotient of ``ZY``.

        The step ``W = Y + 2 step ZY`` gives ``A ZY = (ZY - Z) / (2 step)`` for
        free; the quotient is in the operator's spectrum, and the running
        minimum approaches ``lambda_min`` as the remaining error settles on the
        slow directions (the role the Ritz values play for CG).
        """
        xp = problem.xp
        num = to_numpy(xp.sum(state.ZY * (state.ZY - state.Z), axis=0))
        den = to_numpy(2.0 * state.step * xp.sum(state.ZY * state.ZY, axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            rq = np.asarray(num, dtype=np.float64) / np.asarray(den, dtype=np.float64)
        scale = np.asarray(to_numpy(state.D[0, ...]), dtype=np.float64)  # D is constant here
        ok = np.isfinite(rq) & (rq > 0)
        state.theta_lo = np.where(ok, np.fmin(state.theta_lo, rq / scale), state.theta_lo)
        state.theta_hi = np.where(ok, np.fmax(state.theta_hi, rq / scale), state.theta_hi)

    # -- the end ------------------------------------------------------------------
    def _conclude(self, problem, state, tol, converged):
        if not state.certified:
            self._check_at_true_residual(problem, state)
            self._refresh_ritz(state)
            self._assess(problem, state)
        state.criterion = state.best
        return bool(state.best <= tol)

    def _finish(self, problem, state):
        W = state.best_W * state.s
        return W, problem.intercept(W)

    def _info(self, state):
        with np.errstate(divide="ignore", invalid="ignore"):
            kappa = float(np.max(state.theta_hi / np.fmin(state.theta_done, state.theta_lo)))
        return {"method": self.acceleration, "error_bound": state.best, "condition": kappa}

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
