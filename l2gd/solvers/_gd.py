"""Batch gradient descent on the ridge objective."""

from numbers import Real
from types import SimpleNamespace

import numpy as np

from .._array_api import eps, to_device
from ._base import IterativeSolver

_ACCELERATIONS = ("cg", "nesterov", "none")

# Recompute the residual from X every this many iterations, so the cheap
# recurrences used inside the loop never drift.
_RESYNC_EVERY = 50


def _ratio(xp, num, den):
    """Column-wise ``num / den`` with 0 where ``den`` is 0."""
    positive = den > 0
    safe = xp.where(positive, den, xp.ones_like(den))
    return xp.where(positive, num / safe, xp.zeros_like(num))


def _criterion(xp, zz, zz0):
    """Largest relative gradient norm over the targets."""
    return float(xp.max(xp.sqrt(_ratio(xp, zz, zz0))))


class GradientDescent(IterativeSolver):
    """Full-batch gradient descent on the ridge objective.

    Each iteration costs one product with X and one with X^T (all targets
    at once); sparse X is centered implicitly. The stopping test is scale
    free: the gradient norm relative to the gradient at zero,
    ``max_k ||grad_k(w)|| / ||grad_k(0)|| <= tol``, checked at the returned
    coefficients (a convergence certificate).

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

    See Also
    --------
    ClosedForm : Direct solver.

    Notes
    -----
    ``tol=None`` means ``max(sqrt(eps_float64), 100 * eps)`` with ``eps`` the
    machine epsilon of the data's dtype: 1.5e-8 for float64, 1.2e-5 for
    float32 (coefficients then carry about float32 resolution times the
    condition number); ``max_iter=None`` means 1000.

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

    def __init__(self, learning_rate="auto", acceleration="cg"):
        self.learning_rate = learning_rate
        self.acceleration = acceleration

    def default_tol(self, dtype, xp=np):
        return max(float(np.sqrt(np.finfo(np.float64).eps)), 100 * eps(xp, dtype))

    def _check_params(self):
        if self.acceleration not in _ACCELERATIONS:
            raise ValueError(
                f"acceleration must be one of {_ACCELERATIONS}, got {self.acceleration!r}."
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

    # -- shared loop hooks --------------------------------------------------
    def _init_state(self, problem, W0, rng):
        self._check_params()
        xp = problem.xp
        warm = bool(xp.any(W0 != 0))
        R = problem.residual(W0) if warm else problem.Yc  # no pass over X from zero
        Z = problem.rmatvec(problem.weighted(R)) - problem.alpha * W0  # = -grad / 2
        zz = xp.sum(Z * Z, axis=0)
        # Reference: the gradient at w = 0, so the test does not depend on the
        # starting point (a warm start near the optimum stops at once).
        if warm:
            Z_zero = problem.rmatvec(problem.weighted(problem.Yc))
            zz0 = xp.sum(Z_zero * Z_zero, axis=0)
        else:
            zz0 = zz
        state = SimpleNamespace(
            W=W0, R=R, Z=Z, zz0=zz0, zz=zz, value=problem.value_from_residual(R, W0), it=0
        )
        state.criterion = _criterion(xp, zz, zz0)
        if self.acceleration == "cg":
            state.P = Z
        else:
            if self.learning_rate == "auto":
                step = 1.0 / problem.lipschitz()
            else:
                step = np.full(problem.n_targets, self.learning_rate / problem.sw_sum)
            state.step = to_device(step, xp, problem.device, problem.dtype)
            state.Y, state.RY, state.ZY = W0, R, Z
            state.t = xp.ones(problem.n_targets, dtype=problem.dtype, device=problem.device)
        return state

    def _step(self, problem, state):
        state.it += 1
        if self.acceleration == "cg":
            self._cg_step(problem, state)
        else:
            self._momentum_step(problem, state)
        state.criterion = _criterion(problem.xp, state.zz, state.zz0)

    def _cg_step(self, problem, state):
        xp = problem.xp
        Q = problem.matvec(state.P)
        denom = xp.sum(problem.weighted(Q) * Q, axis=0) + problem.alpha * xp.sum(
            state.P * state.P, axis=0
        )
        a = _ratio(xp, state.zz, denom)
        state.W = state.W + a * state.P
        if state.it % _RESYNC_EVERY == 0:
            state.R = problem.residual(state.W)
        else:
            state.R = state.R - a * Q
        value = problem.value_from_residual(state.R, state.W)
        restart = bool(xp.any(value > state.value))
        if restart:
            # CG decreases the objective monotonically in exact arithmetic; a
            # rise means rounding has broken conjugacy (near the attainable
            # accuracy, e.g. in float32). Resynchronize and restart from the
            # steepest-descent direction.
            state.R = problem.residual(state.W)
            value = problem.value_from_residual(state.R, state.W)
        state.Z = problem.rmatvec(problem.weighted(state.R)) - problem.alpha * state.W
        zz = xp.sum(state.Z * state.Z, axis=0)
        beta = xp.zeros_like(zz) if restart else _ratio(xp, zz, state.zz)
        state.P = state.Z + beta * state.P
        state.zz = zz
        state.value = value

    def _momentum_step(self, problem, state):
        # Gradient step from the extrapolated point Y, whose gradient -2 ZY is
        # known. ||grad(W_new)|| <= ||grad(Y)|| because I - step * Hessian is a
        # contraction for step <= 2 / L, so testing the gradient at Y
        # certifies the returned W_new.
        xp = problem.xp
        step = state.step
        state.zz = xp.sum(state.ZY * state.ZY, axis=0)
        W_new = state.Y + 2.0 * step * state.ZY
        if state.it % _RESYNC_EVERY == 0:
            R_new = problem.residual(W_new)
        else:
            R_new = state.RY - 2.0 * step * problem.matvec(state.ZY)
        value_new = problem.value_from_residual(R_new, W_new)
        if self.acceleration == "nesterov":
            restart = value_new > state.value
            t_next = 0.5 * (1.0 + xp.sqrt(1.0 + 4.0 * state.t**2))
            beta = xp.where(restart, xp.zeros_like(t_next), (state.t - 1.0) / t_next)
            state.t = xp.where(restart, xp.ones_like(t_next), t_next)
        else:
            beta = xp.zeros_like(state.t)
        state.Y = W_new + beta * (W_new - state.W)
        state.RY = R_new + beta * (R_new - state.R)
        state.W, state.R, state.value = W_new, R_new, value_new
        state.ZY = problem.rmatvec(problem.weighted(state.RY)) - problem.alpha * state.Y

    def _finish(self, problem, state):
        return state.W, problem.intercept(state.W)

    def _info(self, state):
        return {"method": self.acceleration}

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
