"""Randomized Nystrom preconditioner for conjugate gradient on the ridge Hessian.

Frangella, Tropp and Udell, "Randomized Nystrom preconditioning", SIAM J.
Matrix Anal. Appl. 44 (2023): Algorithm 2.1 (the stable rank-``r`` Nystrom
approximation ``H ~ U diag(lam) U^T`` of the Gram matrix ``H = X_c^T S X_c``
from one product ``H Omega`` with a Gaussian test matrix) and Algorithm 5.1
(the preconditioner ``P``, with inverse::

    P^{-1} = (lam_r + alpha) U (diag(lam) + alpha)^{-1} U^T + (I - U U^T)

for each target's ``alpha``). The eigenvalues of ``P`` are
``(lam_i + alpha) / (lam_r + alpha) >= 1`` on ``U`` and 1 elsewhere, so
``lambda_min(P) = 1``, which the certificate of
:class:`~l2gd.solvers.GradientDescent` uses.

Only the problem's ``hessian_matvec`` is used (on data, statistics or Dask):
the Gram product ``H V`` is the Hessian product of the same problem with
alpha 0 for each column of ``V``.
"""

import copy

import numpy as np
import scipy.linalg as la

from .._array_api import to_device, to_numpy

# "auto" rank: start here, double while the smallest eigenvalue of the sketch
# is above _AUTO_RATIO * alpha (the preconditioned condition number is about
# (lam_r + alpha) / alpha) and the rank stays below _AUTO_MAX_FRACTION of p.
_AUTO_START = 16
_AUTO_RATIO = 10.0
_AUTO_MAX_FRACTION = 0.25


def gram_product(problem, V):
    """``X_c^T S X_c V`` from the problem's Hessian product (alpha 0 per column of ``V``)."""
    xp = problem.xp
    plain = copy.copy(problem)
    plain.alpha = xp.zeros((V.shape[1],), dtype=problem.dtype, device=problem.device)
    return 0.5 * plain.hessian_matvec(V)


def _sketch(problem, rng, rank, omega=None, Y=None):
    """Extend the orthonormal test matrix ``omega`` (p, m) and ``Y = H omega`` to
    ``rank`` columns: the new Gaussian columns are orthogonalized against the old
    ones (twice, block Gram-Schmidt), so only they cost a product with ``H``."""
    p = problem.n_features
    G = rng.standard_normal((p, rank - (0 if omega is None else omega.shape[1])))
    if omega is not None:
        for _ in range(2):
            G -= omega @ (omega.T @ G)
    new = la.qr(G, mode="economic")[0]
    dev = to_device(new, problem.xp, problem.device, problem.dtype)
    Ynew = np.asarray(to_numpy(gram_product(problem, dev)), dtype=np.float64)
    if omega is None:
        return new, Ynew
    return np.hstack([omega, new]), np.hstack([Y, Ynew])


def nystrom_factors(problem, rank, rng):
    """``U`` (p, r) with orthonormal columns and ``lam`` (r,), descending, >= 0, on
    the host in float64: ``H ~ U diag(lam) U^T`` (Algorithm 2.1)."""
    return _factors_from_sketch(*_sketch(problem, rng, rank))


def _factors_from_sketch(omega, Y):
    nu = np.sqrt(omega.shape[0]) * np.finfo(np.float64).eps * max(np.linalg.norm(Y, 2), 1e-300)
    Y = Y + nu * omega
    C = omega.T @ Y
    C = 0.5 * (C + C.T)
    try:
        R = la.cholesky(C, lower=False)
    except la.LinAlgError:  # rounding made the core indefinite: shift it once more
        shift = 10 * np.finfo(np.float64).eps * np.trace(C)
        Y, C = Y + shift * omega, C + shift * np.eye(len(C))
        nu += shift
        R = la.cholesky(C, lower=False)
    B = la.solve_triangular(R, Y.T, trans="T", lower=False).T
    U, s, _ = la.svd(B, full_matrices=False)
    return U, np.maximum(s**2 - nu, 0.0)


def auto_rank(problem, rng):
    """The factors at the first rank (16, 32, ...) whose smallest sketched eigenvalue
    is within ``10 alpha`` (the smallest positive alpha), capped at ``p / 4``; each
    doubling sketches only the new columns (Frangella, Tropp, Udell, Algorithm 5.2
    without its error estimate)."""
    alpha = np.asarray(to_numpy(problem.alpha), dtype=np.float64)
    alpha = float(np.min(alpha[alpha > 0], initial=np.inf))
    limit = max(1, min(problem.n_features, int(_AUTO_MAX_FRACTION * problem.n_features)))
    rank = min(_AUTO_START, limit)
    omega = Y = None
    while True:
        omega, Y = _sketch(problem, rng, rank, omega, Y)
        U, lam = _factors_from_sketch(omega, Y)
        if rank >= limit or lam[-1] <= _AUTO_RATIO * alpha:
            return U, lam
        rank = min(2 * rank, limit)


class NystromPreconditioner:
    """``P^{-1}`` of Algorithm 5.1 for each target's alpha, applied in the problem's
    namespace; ``sqrt_min`` and ``sqrt_max`` are ``sqrt(lambda_min(P))`` (1) and
    ``sqrt(lambda_max(P))`` per target."""

    name = "nystrom"

    def __init__(self, problem, rank, rng):
        U, lam = auto_rank(problem, rng) if rank == "auto" else nystrom_factors(
            problem, min(int(rank), problem.n_features), rng)
        xp, dev, dt = problem.xp, problem.device, problem.dtype
        alpha = np.asarray(to_numpy(problem.alpha), dtype=np.float64)
        self.rank = U.shape[1]
        self.U = to_device(U, xp, dev, dt)
        # per target: (lam_r + alpha) / (lam_i + alpha) - 1 on U's columns
        # Targets with alpha = 0 are not preconditioned (from zero, plain CG
        # returns the minimum-norm solution; a preconditioned one would not).
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = (lam[-1] + alpha)[None, :] / (lam[:, None] + alpha[None, :]) - 1.0
        coef = np.where(alpha[None, :] > 0, coef, 0.0)
        self.coef = to_device(coef, xp, dev, dt)
        self.sqrt_min = np.ones(problem.n_targets)
        # lambda_max(P) = (lam_1 + alpha) / (lam_r + alpha) (1 where not preconditioned)
        self.sqrt_max = np.sqrt(1.0 / (1.0 + np.min(coef, axis=0, initial=0.0)))
        self.xp = xp

    def apply(self, Z):
        """``P^{-1} Z``: ``Z + U (coef * (U^T Z))``, two thin products."""
        return Z + self.U @ (self.coef * (self.U.T @ Z))

    def scale_norms(self, col_norms, Z):
        """Norms of ``Z`` in which the preconditioned gradient is about 1 (``||Z||``:
        ``P^{-1}`` has eigenvalues in (0, 1])."""
        return col_norms(self.xp, Z)
