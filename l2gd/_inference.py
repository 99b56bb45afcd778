"""Ridge statistics: the spectrum-based quantities of a ridge fit, stated once.

Its one job: what statisticians compute *about* a ridge fit, from the
spectrum of the weighted, centered Gram matrix ``G = X_c^T S X_c`` (or of the
kernel ``S^{1/2} X_c X_c^T S^{1/2}``, which has the same non-zero
eigenvalues) and :class:`~l2gd.RidgeStats`:

- effective degrees of freedom ``df(alpha) = tr(X_c (G + alpha I)^-1 X_c^T S)
  = sum_i L_i / (L_i + alpha)`` (:func:`effective_dof`,
  :func:`dof_from_eigenvalues`, the one home of the formula) and its inverse
  (:func:`alpha_for_dof`);
- generalized cross-validation as MASS defines it (:func:`gcv_score`);
- the Hoerl-Kennard-Baldwin and Lawless-Wang estimates of alpha
  (:func:`alpha_estimates`);
- covariance, standard errors and intervals of a fitted model
  (:class:`RidgeInference`, built by :meth:`GDRidgeRegressor.inference
  <l2gd.GDRidgeRegressor.inference>`).

Which eigenvalues count (the rank) is decided on the centered, column-scaled
problem (:mod:`l2gd._linalg`); the eigenvalues themselves are those of the
user's ``G``, since ``alpha`` penalizes the coefficients in the user's units.
"""

from dataclasses import dataclass
from numbers import Real

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from scipy import optimize, stats as scipy_stats
from scipy.linalg.lapack import get_lapack_funcs
from sklearn.utils import check_array

from ._linalg import (
    GramCholesky,
    column_scales,
    gram_eigh_solve,
    gram_is_reliable,
    psd_pinv,
    spectral_cutoff,
)
from ._objective import RidgeProblem
from ._stats import RidgeStats
from ._validation import ACCEPT_SPARSE, FLOAT_DTYPES, _real_array, check_batch
from .solvers._closed_form import _kernel, deflate_intercept, solve_from_stats

__all__ = [
    "AlphaEstimates",
    "RidgeInference",
    "alpha_estimates",
    "alpha_for_dof",
    "dof_from_eigenvalues",
    "effective_dof",
    "gcv_score",
    "residual_dof_from_eigenvalues",
]


# ---------------------------------------------------------------------------
# Formulas on a spectrum (one home each; cross-validation calls these)
# ---------------------------------------------------------------------------
def _shrink(eigenvalues, alphas):
    """``L / (L + alpha)`` of shape (n_alphas, rank): 1 at alpha = 0, 0 at inf."""
    L = np.asarray(eigenvalues, dtype=np.float64)[None, :]
    a = np.asarray(alphas, dtype=np.float64).reshape(-1, 1)
    with np.errstate(invalid="ignore"):
        d = L / (L + a)
    return np.where(np.isinf(a), 0.0, d)


def dof_from_eigenvalues(eigenvalues, alphas):
    """Effective degrees of freedom ``sum_i L_i / (L_i + alpha)`` for each alpha.

    The one home of the formula: :func:`effective_dof` and cross-validation's
    generalized cross-validation call it with the eigenvalues they hold.

    Parameters
    ----------
    eigenvalues : array-like of shape (rank,)
        The positive eigenvalues ``L`` of the weighted centered Gram matrix
        (those above the numerical cutoff; the others count as zero).
    alphas : array-like of shape (n_alphas,)
        Penalties, ``>= 0``.

    Returns
    -------
    dof : ndarray of shape (n_alphas,)
        The intercept's degree of freedom is not included.

    Examples
    --------
    >>> from l2gd._inference import dof_from_eigenvalues
    >>> dof_from_eigenvalues([4.0, 1.0], [0.0, 1.0])
    array([2. , 1.3])
    """
    return _shrink(eigenvalues, alphas).sum(axis=1)


def residual_dof_from_eigenvalues(eigenvalues, alphas, sw_sum, fit_intercept):
    """Residual degrees of freedom ``S - tr(2H - H^2)`` for each alpha.

    ``H`` is the (weighted, symmetric) hat matrix including the intercept's
    projection, so ``tr(2H - H^2) = fit_intercept + sum_i (2 d_i - d_i^2)``
    with ``d_i = L_i / (L_i + alpha)``; ``S`` is the total weight. With this
    definition ``E[RSS] = sigma^2 * (S - tr(2H - H^2)) + ||bias||^2``, so
    ``RSS / residual_dof`` is unbiased for ``sigma^2`` when the ridge bias is
    negligible, and it is ``S - rank - fit_intercept`` at ``alpha = 0``
    (ordinary least squares).

    Parameters
    ----------
    eigenvalues : array-like of shape (rank,)
    alphas : array-like of shape (n_alphas,)
    sw_sum : float
        Total sample weight (the number of observations, weights counting as
        repetitions).
    fit_intercept : bool

    Returns
    -------
    residual_dof : ndarray of shape (n_alphas,)
    """
    d = _shrink(eigenvalues, alphas)
    return float(sw_sum) - float(bool(fit_intercept)) - (d * (2.0 - d)).sum(axis=1)


def gcv_score(rss, dof, sw_sum):
    """Generalized cross-validation ``RSS / (S - dof)^2`` as MASS ``lm.ridge``
    defines it (lower is better).

    ``S`` is the total sample weight (``n`` without weights). MASS passes the
    coefficients' degrees of freedom (:func:`dof_from_eigenvalues`, without the
    intercept); passing ``dof + 1`` gives Golub, Heath and Wahba's criterion up
    to the constant factor ``S``. Where ``S - dof <= 0`` (a fit that
    interpolates) the score is ``inf``, never NaN.

    Parameters
    ----------
    rss : array-like of shape (n_alphas,) or (n_alphas, n_targets)
        Weighted residual sum of squares of the fit on all rows.
    dof : array-like of shape (n_alphas,) or broadcastable to ``rss``
        Degrees of freedom per alpha (a (n_alphas,) ``dof`` is broadcast
        over the targets of a 2-D ``rss``).
    sw_sum : float
        Total sample weight.

    Returns
    -------
    gcv : ndarray of the shape of ``rss``

    Examples
    --------
    >>> from l2gd._inference import gcv_score
    >>> gcv_score([8.0, 10.0], [2.0, 1.0], 6.0)
    array([0.5, 0.4])
    """
    rss = np.asarray(rss, dtype=np.float64)
    dof = np.asarray(dof, dtype=np.float64)
    if rss.ndim == dof.ndim + 1:
        dof = dof[..., None]
    rest = float(sw_sum) - dof
    ok = rest > 0
    safe = np.where(ok, rest, 1.0)
    return np.where(ok, rss / (safe * safe), np.inf) + np.zeros_like(rss)


# ---------------------------------------------------------------------------
# The spectrum of a design
# ---------------------------------------------------------------------------
def gram_eigenvalues(G, dtype):
    """The positive eigenvalues of a weighted centered Gram matrix ``G``,
    largest first, in the user's units.

    The rank is decided on ``G_s = D^-1 G D^-1``, equilibrated by the
    power-of-two :func:`~l2gd._linalg.column_scales` ``D`` of its diagonal
    (:func:`~l2gd._linalg.spectral_cutoff` for rounding in ``dtype``). With
    ``G_s = V L V^T`` on its numerical range, ``G = M M^T`` for ``M = D V
    L^{1/2}``, and the eigenvalues of ``G`` are the squared singular values of
    ``M``: see :func:`_graded_eigenvalues`.
    """
    G = np.asarray(G, dtype=np.float64)
    if G.shape[0] == 0:
        return np.zeros(0)
    d = column_scales(np.sqrt(np.clip(np.diag(G), 0.0, None)))
    L, V = la.eigh(G / d[:, None] / d[None, :], check_finite=False)
    keep = L > spectral_cutoff(L, dtype)
    return _graded_eigenvalues(L[keep], d, lambda: d[:, None] * (V[:, keep] * np.sqrt(L[keep])))


def _graded_eigenvalues(scaled, d, factor):
    """Eigenvalues of ``D G_s D`` (largest first) from the kept eigenvalues
    ``scaled`` of ``G_s`` and ``factor() = M`` with ``M M^T = D G_s D``.

    Equal scales: ``d_0^2 * scaled`` (exact). Otherwise the squared singular
    values of ``M`` by LAPACK's preconditioned Jacobi SVD (``gejsv``), which
    are accurate *relative to each eigenvalue* when ``G_s`` is well
    conditioned, whatever the column scales (a symmetric eigensolver on ``G``
    itself gets the small eigenvalues of mixed-scale data only to
    ``eps * max(eigenvalue)``, i.e. not at all).
    """
    if scaled.size == 0:
        return np.zeros(0)
    if np.all(d == d[0]):
        return np.sort(scaled)[::-1] * d[0] ** 2
    M = np.asfortranarray(factor(), dtype=np.float64)
    sva, _, _, work, _, info = get_lapack_funcs("gejsv", dtype=np.float64)(
        M, joba=2, jobu=3, jobv=3
    )
    if info != 0:  # not expected; the eigenvalues of M M^T directly then
        sva = np.sqrt(np.clip(la.eigvalsh(M @ M.T)[::-1][: scaled.size], 0.0, None))
        work = (1.0, 1.0)
    values = np.sort(sva * (work[0] / work[1]))[::-1] ** 2
    # An eigenvalue that counts is positive, however small its computed value.
    return np.maximum(values, np.finfo(np.float64).tiny)


def _kernel_eigenvalues(X, sample_weight, fit_intercept):
    """Positive eigenvalues of ``S^{1/2} X_c X_c^T S^{1/2}`` (wide data).

    The kernel of the column-scaled design ``A_s = S^{1/2} X_c D^-1`` is
    deflated of the intercept's exact null vector and decomposed, ``A_s
    A_s^T = U L U^T``; its numerical range decides the rank, and the
    eigenvalues in the user's units are the squared singular values of
    ``M = X_c^T S^{1/2} U`` (``M^T M = U^T A A^T U``), as for the Gram matrix.
    """
    Y = np.zeros((X.shape[0], 1), dtype=X.dtype)
    problem = RidgeProblem(X, Y, np.zeros(1), sample_weight, fit_intercept)
    root = np.sqrt(sample_weight) if sample_weight is not None else np.ones(X.shape[0])
    d = column_scales(np.sqrt(problem._gram_diagonal()))
    Xs = X @ sp.diags(1.0 / d) if sp.issparse(X) else X / d  # exact: powers of two
    scaled = RidgeProblem(Xs, Y, np.zeros(1), sample_weight, fit_intercept)
    K = np.asarray(_kernel(scaled), dtype=np.float64)
    if fit_intercept:
        K, Q = deflate_intercept(K, root)
    L, U = la.eigh(K, check_finite=False)
    keep = L > spectral_cutoff(L, X.dtype)
    U = Q.lift(U[:, keep]) if fit_intercept else U[:, keep]
    return _graded_eigenvalues(
        L[keep], d, lambda: np.asarray(problem.rmatvec(U * root[:, None]), dtype=np.float64)
    )


def design_eigenvalues(X, sample_weight, fit_intercept):
    """The positive eigenvalues of the weighted centered Gram matrix, accurate
    relative to each one, for :func:`effective_dof`, :func:`alpha_for_dof` and
    cross-validation's ``dof``: of the statistics' Gram matrix for a
    :class:`~l2gd.RidgeStats` or tall data, of the kernel for wide data."""
    if isinstance(X, RidgeStats):
        if sample_weight is not None:
            raise ValueError("sample_weight must be None when X is a RidgeStats (it holds them).")
        return gram_eigenvalues(X.xx, X.dtype)
    if not isinstance(fit_intercept, (bool, np.bool_)):
        raise TypeError(f"fit_intercept must be a bool, got {fit_intercept!r}.")
    X, _, sw = check_batch(X, np.zeros(np.shape(X)[0]), sample_weight)
    n, p = X.shape
    if p > n - int(fit_intercept):
        return _kernel_eigenvalues(X, sw, bool(fit_intercept))
    stats = RidgeStats._from_checked(X, np.zeros((n, 1), dtype=X.dtype), sw, bool(fit_intercept))
    return gram_eigenvalues(stats.xx, X.dtype)


def _check_values(value, name, *, positive=False):
    arr = _real_array(value, name)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    if np.any(arr <= 0) if positive else np.any(arr < 0):
        raise ValueError(f"{name} must be {'> 0' if positive else '>= 0'}, got {value!r}.")
    return arr


# ---------------------------------------------------------------------------
# Public: degrees of freedom
# ---------------------------------------------------------------------------
def effective_dof(X, alpha, sample_weight=None, fit_intercept=True, penalty_factor=None):
    """Effective degrees of freedom of ridge regression at ``alpha``.

    ``df(alpha) = tr(X_c (X_c^T S X_c + alpha I)^-1 X_c^T S) = sum_i L_i /
    (L_i + alpha)``, with ``X_c`` the weighted-centered design (not centered
    when ``fit_intercept=False``), ``S = diag(sample_weight)`` and ``L`` the
    eigenvalues of ``X_c^T S X_c``. The intercept's one degree of freedom is
    **not** included: the trace of the full hat matrix is
    ``df(alpha) + fit_intercept``. At ``alpha = 0`` it is the rank of the
    centered design, decided on its column-scaled version as everywhere in
    l2gd; ``df`` decreases to 0 as ``alpha`` grows.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features) or RidgeStats
        Design (any shape, wide included: then the kernel's eigenvalues are
        used), or its :class:`~l2gd.RidgeStats` (e.g. from Dask, in one pass).
    alpha : float or array-like of shape (n_alphas,)
        Penalties, ``>= 0``, as ``Ridge.alpha``.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights (None with a RidgeStats).
    fit_intercept : bool, default=True
        Center X (ignored with a RidgeStats, which knows).
    penalty_factor : array-like of shape (n_features,) or dict, default=None
        Per-feature penalty factors (as in :class:`~l2gd.GDRidgeRegressor`):
        the trace of ``X_c (X_c^T S X_c + alpha diag(f))^-1 X_c^T S``, where
        each unpenalized feature (``f_j = 0``) counts one.

    Returns
    -------
    dof : float or ndarray of shape (n_alphas,)
        A float for a scalar ``alpha``.

    See Also
    --------
    alpha_for_dof : The inverse.

    Examples
    --------
    >>> import numpy as np
    >>> from l2gd import effective_dof
    >>> X = np.random.default_rng(0).standard_normal((50, 4))
    >>> effective_dof(X, 0.0)
    4.0
    >>> np.round(effective_dof(X, [1.0, 100.0]), 3)
    array([3.906, 1.229])
    """
    a = _check_values(alpha, "alpha")
    X, sample_weight, fit_intercept, free = _reduced_design(
        X, sample_weight, fit_intercept, penalty_factor
    )
    L = design_eigenvalues(X, sample_weight, fit_intercept)
    df = dof_from_eigenvalues(L, a.ravel()).reshape(a.shape) + free
    return float(df) if df.ndim == 0 else df


def _reduced_design(X, sample_weight, fit_intercept, penalty_factor):
    """``(X, sample_weight, fit_intercept, free_dof)`` of the ordinary ridge problem
    that ``penalty_factor`` reduces to (:mod:`l2gd._penalty`); unchanged without it."""
    from ._penalty import check_penalty_factor, reduce_data, reduce_stats

    if penalty_factor is None:
        return X, sample_weight, fit_intercept, 0
    n_features = X.n_features if isinstance(X, RidgeStats) else np.shape(X)[1]
    penalty = check_penalty_factor(penalty_factor, n_features)
    if penalty is None:
        return X, sample_weight, fit_intercept, 0
    if isinstance(X, RidgeStats):
        stats, reduction = reduce_stats(penalty, X)
        return stats, sample_weight, fit_intercept, reduction.free_rank
    X, _, sw = check_batch(X, np.zeros(np.shape(X)[0]), sample_weight)
    X, _, fit_intercept, reduction = reduce_data(
        penalty, X, np.zeros((X.shape[0], 1), dtype=X.dtype), sw, bool(fit_intercept)
    )
    return X, sw, fit_intercept, reduction.free_rank


def _alpha_at(L, target):
    """The alpha with ``dof_from_eigenvalues(L, alpha) == target``, ``0 < target
    <= rank``: Brent's method on ``log(alpha)`` inside a guaranteed bracket."""
    r = L.size
    if target >= r:
        return 0.0
    lo = L[-1] * (r - target) / target  # every term >= L_min / (L_min + a): df(lo) >= target
    hi = L.sum() / target  # df(a) <= tr / a: df(hi) <= target

    def f(t):
        return dof_from_eigenvalues(L, [np.exp(t)])[0] - target

    t_lo, t_hi = np.log(lo), np.log(hi)
    if f(t_lo) <= 0:
        return float(lo)
    if f(t_hi) >= 0:
        return float(hi)
    t = optimize.brentq(f, t_lo, t_hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
    return float(np.exp(t))


def alpha_for_dof(X, dof, sample_weight=None, fit_intercept=True):
    """The ``alpha`` at which ridge regression has ``dof`` effective degrees of freedom.

    The inverse of :func:`effective_dof` ("ridge with 5 degrees of freedom",
    as textbooks tabulate it): ``df(alpha)`` decreases strictly from the rank
    at ``alpha = 0`` to 0, so the root is unique; it is found by Brent's
    method on ``log(alpha)`` inside a bracket derived from the spectrum.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features) or RidgeStats
        Design, or its statistics.
    dof : float or array-like of shape (n_dofs,)
        Requested degrees of freedom, in ``(0, rank]`` (without the
        intercept's, as :func:`effective_dof`).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.
    fit_intercept : bool, default=True
        Center X.

    Returns
    -------
    alpha : float or ndarray of shape (n_dofs,)
        ``0.0`` for ``dof == rank``.

    Raises
    ------
    ValueError
        When some ``dof`` is not in ``(0, rank]``.

    Examples
    --------
    >>> import numpy as np
    >>> from l2gd import alpha_for_dof, effective_dof
    >>> X = np.random.default_rng(0).standard_normal((50, 4))
    >>> alpha = alpha_for_dof(X, 2.5)
    >>> round(effective_dof(X, alpha), 10)
    2.5
    """
    target = _check_values(dof, "dof", positive=True)
    L = design_eigenvalues(X, sample_weight, fit_intercept)
    if np.any(target > L.size):
        raise ValueError(
            f"dof must be in (0, rank] = (0, {L.size}] (the rank of the centered design, "
            f"without the intercept's degree of freedom), got {dof!r}."
        )
    alphas = np.array([_alpha_at(L, t) for t in target.ravel()]).reshape(target.shape)
    return float(alphas) if alphas.ndim == 0 else alphas


# ---------------------------------------------------------------------------
# Public: the HKB and Lawless-Wang estimates (MASS lm.ridge)
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AlphaEstimates:
    """The Hoerl-Kennard-Baldwin and Lawless-Wang estimates of the penalty.

    Both are in MASS's units, which are l2gd's ``alpha`` for a model fitted
    on the *standardized* design (columns centered and divided by ``scales``,
    what :class:`~sklearn.preprocessing.StandardScaler` does): MASS and l2gd
    both penalize a sum of squares, not a mean, and neither halves it. So
    ``make_pipeline(StandardScaler(), GDRidgeRegressor(alpha=est.hkb))``
    reproduces ``lm.ridge(y ~ X, lambda = kHKB)``. On the raw design the same
    fit penalizes coefficient ``j`` by ``hkb * scales[j]**2``, which is one
    ``alpha`` only when all scales are equal.

    Attributes
    ----------
    hkb : float or ndarray of shape (n_targets,)
        ``(p - 2) * sigma2 / ||b||^2`` (MASS ``kHKB``).
    lw : float or ndarray of shape (n_targets,)
        ``(p - 2) * sigma2 * S / ||X_s b||^2`` (MASS ``kLW``).
    sigma2 : float or ndarray of shape (n_targets,)
        Least-squares residual variance ``RSS / (S - p - fit_intercept)``.
    scales : ndarray of shape (n_features,)
        MASS's ``scales``: ``sqrt(sum_i s_i x_cij^2 / S)``, the (weighted)
        standard deviations with divisor ``S`` (root mean squares without
        intercept).
    """

    hkb: object
    lw: object
    sigma2: object
    scales: np.ndarray


def alpha_estimates(X, y=None, sample_weight=None, fit_intercept=True):
    """The HKB and Lawless-Wang estimates of alpha, as MASS ``lm.ridge`` computes them.

    MASS centers the columns (with an intercept), scales them to unit
    variance with divisor ``n`` (``scales``), fits ordinary least squares
    ``b`` on the standardized design ``X_s`` and returns
    ``kHKB = (p - 2) s^2 / ||b||^2`` and ``kLW = (p - 2) s^2 n / ||X_s b||^2``
    with ``s^2 = RSS / (n - p - fit_intercept)``. With sample weights (as
    repetitions) ``n`` is the total weight ``S`` and all sums are weighted.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features) or RidgeStats
        Design (full column rank, ``n_features >= 3``), or its statistics
        (then ``y`` and ``sample_weight`` are None).
    y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
        Targets (required with a design); one estimate per target.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.
    fit_intercept : bool, default=True
        Center X and y (MASS: a formula with an intercept).

    Returns
    -------
    estimates : AlphaEstimates
        ``hkb`` and ``lw`` in MASS's units, which are ``alpha`` for
        :class:`~l2gd.GDRidgeRegressor` on the standardized design (see
        :class:`AlphaEstimates`).

    Raises
    ------
    ValueError
        With fewer than 3 features, a rank-deficient design, or no residual
        degrees of freedom.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from l2gd import GDRidgeRegressor, alpha_estimates
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 5))
    >>> y = X @ np.array([1.0, 0.5, 0.0, -0.5, 2.0]) + rng.standard_normal(60)
    >>> est = alpha_estimates(X, y)
    >>> round(est.hkb, 4), round(est.lw, 4)
    (0.361, 0.3253)
    >>> model = make_pipeline(StandardScaler(), GDRidgeRegressor(alpha=est.hkb)).fit(X, y)
    """
    stats = _stats_of(X, y, sample_weight, fit_intercept)
    p, S = stats.n_features, stats.sw_sum
    if p < 3:
        raise ValueError(f"alpha_estimates needs at least 3 features (p - 2 > 0), got {p}.")
    G = np.asarray(stats.xx, dtype=np.float64)
    scales = np.sqrt(np.clip(np.diag(G), 0.0, None) / S)
    rank = gram_eigenvalues(G, stats.dtype).size
    resid_dof = S - p - int(stats.fit_intercept)
    if rank < p or not np.all(scales > 0):
        raise ValueError(
            f"alpha_estimates needs a design of full column rank; X has rank {rank} < {p} "
            "(once centered and column-scaled)."
        )
    if not resid_dof > 0:
        raise ValueError(
            f"alpha_estimates needs residual degrees of freedom: total weight {S:g} <= "
            f"n_features + fit_intercept = {p + int(stats.fit_intercept)}."
        )
    W = np.asarray(solve_from_stats(stats, np.zeros(stats.n_targets))[0], dtype=np.float64)
    b = W * scales[:, None]  # least squares on the standardized design
    fit = np.einsum("ik,ik->k", W, np.asarray(stats.xy, dtype=np.float64))  # ||X_s b||^2
    sigma2 = np.clip(np.asarray(stats.yy, dtype=np.float64) - fit, 0.0, None) / resid_dof
    hkb = (p - 2) * sigma2 / np.einsum("ik,ik->k", b, b)
    lw = (p - 2) * sigma2 * S / fit
    one = stats.n_targets == 1 and _y_is_1d(y)
    pick = (lambda v: float(v[0])) if one else (lambda v: v)
    return AlphaEstimates(hkb=pick(hkb), lw=pick(lw), sigma2=pick(sigma2), scales=scales)


def _y_is_1d(y):
    return y is None or np.ndim(y) == 1


def _stats_of(X, y, sample_weight, fit_intercept):
    if isinstance(X, RidgeStats):
        if y is not None or sample_weight is not None:
            raise ValueError("y and sample_weight must be None when X is a RidgeStats.")
        return X
    if y is None:
        raise ValueError("y is required when X is a design (not a RidgeStats).")
    return RidgeStats.from_batch(X, y, sample_weight, fit_intercept=bool(fit_intercept))


# ---------------------------------------------------------------------------
# Public: covariance, standard errors and intervals of a fitted model
# ---------------------------------------------------------------------------
def _check_level(level):
    if not (isinstance(level, Real) and not isinstance(level, bool) and 0 < level < 1):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}.")
    return float(level)


def _frozen(value):
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    return value


@dataclass(frozen=True, repr=False)
class RidgeInference:
    """Covariance, standard errors and intervals of a fitted ridge model.

    Built by :meth:`GDRidgeRegressor.inference <l2gd.GDRidgeRegressor.inference>`
    (read-only). Shapes follow the estimator's ``coef_``: for one target
    ``coef_se`` has shape (n_features,) and the per-target quantities are
    floats; for ``n_targets`` they gain a leading ``n_targets`` axis.

    The model is ``y_i = x_i^T w + b + e_i`` with independent errors of
    variance ``sigma^2 / s_i`` (``s`` the sample weights; weight ``k`` counts
    as ``k`` repetitions of the row). With ``G = X_c^T S X_c`` the weighted
    centered Gram matrix, the ridge estimator ``w_alpha = (G + alpha I)^-1
    X_c^T S y_c`` has covariance ``sigma^2 (G + alpha I)^-1 G (G + alpha
    I)^-1`` and the intercept ``b = y_mean - x_mean^T w_alpha`` has variance
    ``sigma^2 / S + x_mean^T Cov(w_alpha) x_mean``.

    **What the intervals mean.** Ridge is biased: ``E[w_alpha] = (G + alpha
    I)^-1 G w``, shrunk towards 0. The standard errors measure the estimator's
    spread around *its own mean*, not its error about the true ``w``; an
    interval ``coef +- t * se`` covers ``E[w_alpha]`` at the stated level
    (under Gaussian errors), and covers the true coefficient less often the
    larger the bias, i.e. the larger ``alpha``. They are intervals for the
    shrunk estimand, not bias-corrected confidence intervals for ``w``; at
    ``alpha = 0`` they are exactly the ordinary least-squares intervals.

    Attributes
    ----------
    coef, intercept : ndarray or float
        The fitted ``coef_`` and ``intercept_``.
    alpha : float or ndarray of shape (n_targets,)
    dof : float or ndarray of shape (n_targets,)
        Effective degrees of freedom of the coefficients
        (:func:`~l2gd.effective_dof`); the fit's hat matrix has trace
        ``dof + fit_intercept``.
    residual_dof : float or ndarray of shape (n_targets,)
        ``S - tr(2H - H^2)`` (see :attr:`sigma2`).
    sigma2 : float or ndarray of shape (n_targets,)
        ``RSS / residual_dof``, ``RSS`` the weighted residual sum of squares.
        Of the standard residual degrees of freedom (``S - p - 1``, ``S -
        tr(H)``, ``S - tr(2H - H^2)``) this uses the last (Hastie and
        Tibshirani, 1990): ``E[RSS] = sigma^2 (S - tr(2H - H^2)) + ||bias||^2``,
        so it is unbiased when the bias is small and biased upwards
        (conservative) otherwise; ``S - p - 1`` ignores the shrinkage and
        ``S - tr(H)`` undercounts the residual's variance. All three are
        ``S - p - 1`` at ``alpha = 0`` (full rank).
    coef_cov : ndarray of shape (n_features, n_features) or (n_targets, n_features, n_features)
    coef_se : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_se : float, ndarray of shape (n_targets,), or None
        None when the model has no intercept.
    x_mean : ndarray of shape (n_features,)
        Weighted column means of the training data (zeros without intercept).
    sw_sum : float
        Total sample weight ``S``.
    fit_intercept : bool
    feature_names : tuple of str

    Notes
    -----
    Intervals use Student's t with ``residual_dof`` degrees of freedom (exact
    for ordinary least squares with Gaussian errors, the normal quantile for
    large samples).
    """

    coef: object
    intercept: object
    alpha: object
    dof: object
    residual_dof: object
    sigma2: object
    coef_cov: np.ndarray
    coef_se: np.ndarray
    intercept_se: object
    x_mean: np.ndarray
    sw_sum: float
    fit_intercept: bool
    feature_names: tuple

    def __post_init__(self):
        for value in self.__dict__.values():
            _frozen(value)

    def __repr__(self):
        return (
            f"RidgeInference(n_features={len(self.feature_names)}, "
            f"n_targets={self._n_targets}, alpha={self.alpha!r}, dof={self.dof!r}, "
            f"residual_dof={self.residual_dof!r})"
        )

    @property
    def _single(self):
        return np.ndim(self.coef) == 1

    @property
    def _n_targets(self):
        return 1 if self._single else np.shape(self.coef)[0]

    def _per_target(self, value):
        return np.asarray(value, dtype=np.float64).reshape(self._n_targets, *np.shape(value)[
            (0 if self._single else 1):
        ])

    def _quantile(self, level):
        nu = self._per_target(self.residual_dof)
        return scipy_stats.t.ppf(0.5 + _check_level(level) / 2.0, nu)

    def _shape(self, A):
        """(n_targets, ..., 2) -> the user's shape (leading axis dropped for one target)."""
        return A[0] if self._single else A

    def conf_int(self, level=0.95):
        """Intervals ``coef +- t * coef_se`` for the coefficients.

        Parameters
        ----------
        level : float, default=0.95
            Coverage in ``(0, 1)`` (see the class docstring for what is covered).

        Returns
        -------
        intervals : ndarray of shape (n_features, 2) or (n_targets, n_features, 2)
            Lower and upper ends.
        """
        q = self._quantile(level)[:, None]
        W, se = self._per_target(self.coef), self._per_target(self.coef_se)
        return self._shape(np.stack([W - q * se, W + q * se], axis=-1))

    def intercept_conf_int(self, level=0.95):
        """Interval for the intercept: shape (2,) or (n_targets, 2); None without one."""
        if not self.fit_intercept:
            return None
        q = self._quantile(level)
        b, se = self._per_target(self.intercept), self._per_target(self.intercept_se)
        return self._shape(np.stack([b - q * se, b + q * se], axis=-1))

    def prediction_interval(self, X_new, level=0.95, *, mean=False):
        """Prediction intervals at new rows.

        ``y_hat +- t * sqrt(sigma2 + Var(y_hat))`` with ``Var(y_hat) = x_c^T
        coef_cov x_c + fit_intercept * sigma2 / S`` (``x_c = x - x_mean``): for
        a new observation of weight 1 drawn from the model. ``mean=True``
        gives the interval for the fitted mean ``x^T w + b`` instead (without
        the new observation's noise). As for :meth:`conf_int`, the center is
        the shrunk prediction; the interval does not correct for ridge's bias.

        Parameters
        ----------
        X_new : {array-like, sparse matrix} of shape (n_new, n_features)
        level : float, default=0.95
        mean : bool, default=False

        Returns
        -------
        intervals : ndarray of shape (n_new, 2) or (n_new, n_targets, 2)
        """
        q = self._quantile(level)
        X = check_array(X_new, accept_sparse=ACCEPT_SPARSE, dtype=FLOAT_DTYPES)
        p = len(self.feature_names)
        if X.shape[1] != p:
            raise ValueError(f"X_new has {X.shape[1]} features, but the model has {p}.")
        W = self._per_target(self.coef)
        cov = self._per_target(self.coef_cov)
        s2 = self._per_target(self.sigma2)
        b = self._per_target(self.intercept) if self.fit_intercept else np.zeros(len(W))
        out = np.empty((X.shape[0], len(W), 2))
        for start in range(0, X.shape[0], 1024):
            blk = X[start : start + 1024]
            Xb = np.asarray(blk.toarray() if sp.issparse(blk) else blk, dtype=np.float64)
            pred = Xb @ W.T + b
            Xc = Xb - self.x_mean
            var = np.einsum("ij,kjl,il->ik", Xc, cov, Xc) + s2 * (
                float(self.fit_intercept) / self.sw_sum + (0.0 if mean else 1.0)
            )
            half = q * np.sqrt(np.clip(var, 0.0, None))
            out[start : start + 1024] = np.stack([pred - half, pred + half], axis=-1)
        return out[:, 0] if self._single else out

    def summary(self, level=0.95):
        """A text table per target: coefficient, standard error, t, interval.

        Parameters
        ----------
        level : float, default=0.95

        Returns
        -------
        text : str
        """
        lo, hi = 50 * (1 - _check_level(level)), 50 * (1 + level)
        names = (["intercept"] if self.fit_intercept else []) + list(self.feature_names)
        width = max(9, *(len(n) for n in names))
        ci = self._per_target(self.conf_int(level)).reshape(self._n_targets, -1, 2)
        icpt = self.intercept_conf_int(level)
        blocks = []
        for k in range(self._n_targets):
            rows = [
                (v, s, c) for v, s, c in zip(
                    self._per_target(self.coef)[k], self._per_target(self.coef_se)[k], ci[k]
                )
            ]
            if self.fit_intercept:
                ic = np.reshape(icpt, (self._n_targets, 2))[k]
                b = self._per_target(self.intercept)[k]
                rows.insert(0, (b, self._per_target(self.intercept_se)[k], ic))
            blocks.append(self._table(k, names, rows, width, lo, hi))
        return "\n\n".join(blocks)

    def _table(self, k, names, rows, width, lo, hi):
        def at(value):
            return self._per_target(value)[k]

        title = "" if self._single else f"target {k}: "
        head = [
            f"{title}ridge alpha={at(self.alpha):.4g}, dof={at(self.dof):.4g}"
            + (" (+1 intercept)" if self.fit_intercept else "")
            + f", residual dof={at(self.residual_dof):.4g}, sigma2={at(self.sigma2):.4g}",
            f"{'':<{width}} {'coef':>10} {'se':>10} {'t':>8} {f'[{lo:g}%':>10} {f'{hi:g}%]':>10}",
        ]
        for name, (v, s, (a, b)) in zip(names, rows):
            t = f"{v / s:8.3f}" if s > 0 else f"{'inf' if v else 'nan':>8}"
            head.append(f"{name:<{width}} {v:10.4g} {s:10.4g} {t} {a:10.4g} {b:10.4g}")
        return "\n".join(head)


def _penalized_inverse(G, alpha, dtype):
    """``(G + alpha I)^-1`` from the equilibrated Cholesky factorization; the
    rank-aware (minimum-norm, pseudo-inverse at ``alpha = 0``) eigendecomposition
    when that is unreliable."""
    p = G.shape[0]
    alphas = np.full(p, alpha)
    fact = GramCholesky(G, alphas)
    if gram_is_reliable(fact.rcond, dtype):
        return fact.solve(np.eye(p))
    return gram_eigh_solve(G, np.eye(p), alphas, "the Gram matrix of the statistics")


def _factor_dofs(G, alpha, factor, S, fit_intercept, dtype):
    """``(dof, residual dof, F)`` per alpha with penalty factors, from the hat
    matrix traces ``tr(H) = tr(F G)`` and ``tr(H^2) = tr((F G)^2)``."""
    dof, nu, inverses = np.empty(len(alpha)), np.empty(len(alpha)), {}
    for a in np.unique(alpha):
        F = inverses[a] = psd_pinv(G + float(a) * np.diag(factor), dtype)[0]
        FG = F @ G
        tr1, tr2 = np.trace(FG), np.sum(FG * FG.T)
        dof[alpha == a] = tr1
        nu[alpha == a] = S - float(bool(fit_intercept)) - (2.0 * tr1 - tr2)
    return dof, nu, inverses


def ridge_inference(stats, coef, intercept, alpha, rss, feature_names=None, penalty=None):
    """A :class:`RidgeInference` from the statistics of the training rows.

    Parameters
    ----------
    stats : RidgeStats
        Statistics of the training rows.
    coef, intercept
        The fitted ``coef_`` and ``intercept_`` (their shapes set the result's).
    alpha : ndarray of shape (n_targets,)
    rss : ndarray of shape (n_targets,)
        Weighted residual sum of squares of the fit on those rows.
    feature_names : sequence of str, default=None
        ``x0, x1, ...`` when None.
    penalty : ndarray of shape (n_features,), default=None
        Penalty factors ``f`` (the penalty ``alpha * sum_j f_j w_j**2``); the
        hat matrix is then ``X_c (G + alpha diag(f))^-1 X_c^T S``.
    """
    k, p, S, fi = stats.n_targets, stats.n_features, stats.sw_sum, stats.fit_intercept
    W = np.asarray(coef, dtype=np.float64).reshape(k, p)
    G = np.asarray(stats.xx, dtype=np.float64)
    if not (np.all(np.isfinite(G)) and np.all(np.isfinite(rss))):
        raise ValueError("The statistics or the residuals are not finite; no inference from them.")
    if penalty is None:
        L = gram_eigenvalues(G, stats.dtype)
        dof, nu = dof_from_eigenvalues(L, alpha), residual_dof_from_eigenvalues(L, alpha, S, fi)
        inverses = {}
    else:
        dof, nu, inverses = _factor_dofs(G, alpha, penalty, S, fi, stats.dtype)
    if not np.all(nu > 0):
        raise ValueError(
            f"No residual degrees of freedom: total weight {S:g} <= tr(2H - H^2) at alpha="
            f"{alpha[~(nu > 0)][0]:g} (the fit interpolates the data); sigma2 cannot be "
            "estimated. Use more rows or a larger alpha."
        )
    sigma2 = np.asarray(rss, dtype=np.float64) / nu
    cov = np.empty((k, p, p))
    for a in np.unique(alpha):
        F = inverses[a] if a in inverses else _penalized_inverse(G, float(a), stats.dtype)
        C = F if a == 0 and penalty is None else F @ G @ F
        cov[alpha == a] = (C + C.T) / 2.0
    cov *= sigma2[:, None, None]
    se = np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2), 0.0, None))
    m = np.asarray(stats.x_mean, dtype=np.float64)
    b_se = np.sqrt(sigma2 / S + np.einsum("i,kij,j->k", m, cov, m)) if fi else None
    single = np.ndim(coef) == 1
    first = (lambda v: v[0]) if single else (lambda v: v)
    scalar = (lambda v: float(v[0])) if single else (lambda v: v)
    b = np.asarray(intercept, dtype=np.float64)
    names = tuple(f"x{j}" for j in range(p)) if feature_names is None else tuple(
        str(n) for n in feature_names
    )
    return RidgeInference(
        coef=np.array(coef, dtype=np.float64),
        intercept=float(b.ravel()[0]) if single and b.size == 1 else b.copy(),
        alpha=scalar(np.asarray(alpha, dtype=np.float64)),
        dof=scalar(dof),
        residual_dof=scalar(nu),
        sigma2=scalar(sigma2),
        coef_cov=first(cov),
        coef_se=first(se),
        intercept_se=None if b_se is None else scalar(b_se),
        x_mean=m.copy(),
        sw_sum=float(S),
        fit_intercept=bool(fi),
        feature_names=names,
    )
