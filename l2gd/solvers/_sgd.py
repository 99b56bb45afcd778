"""Mini-batch stochastic gradient descent on the ridge objective: variance
reduced (SVRG, certified, the default) or plain with schedules (and streaming)."""

import math
import warnings
from dataclasses import dataclass, field, replace
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.linalg import LinAlgWarning

from .._array_api import eps, is_numpy, to_device, to_numpy
from .._objective import RidgeProblem, _weighted_mean
from .._scaling import Rescaling, _max_abs, data_scale
from .._scores import r2_scores
from ..schedules import Constant, as_schedule
from ._base import IterativeSolver, SolveResult
from ._gd import _col_norms

_METHODS = ("svrg", "plain")

# Rows of the evenly spaced subsample on which the top eigenvalue of the
# centered Gram matrix is estimated, at most this many entries; also the
# entries of one row block when the Gram matrix is formed.
_SUBSAMPLE_ENTRIES = 2**21
# Up to this many features the Gram matrix is formed (for any input format);
# above, the top eigenvalue comes from Lanczos on the implicit operator.
_SMALL_P = 64
# Up to this many features the top eigenvalue of the (subsampled) Gram matrix
# comes from the formed matrix (m p^2 flops, one read of the rows), above by
# Lanczos (tens of products with the rows): measured faster to p = 128.
_GRAM_EIG_P = 128
# Inflation of that estimate when it comes from a subsample.
_SUBSAMPLE_SAFETY = 1.25
# SVRG extrapolates the snapshots (Nesterov) only while an epoch shrinks the
# gradient by less than this factor: fast epochs need no acceleration, and
# momentum would only amplify their stochastic noise.
_SLOW_EPOCH = 0.25
# batch_size="auto": this many rows; for "svrg" fewer on small data, so that an
# epoch makes at least _AUTO_MIN_STEPS steps, but never below _AUTO_MIN_BATCH
# rows (per-step overhead); data of at most _AUTO_FULL rows runs full batches
# (deterministic epochs, as before). Measured on small data
# (benchmarks/RESULTS.md): 32 steps of 16 rows per epoch take fewer epochs to
# tol=1e-8 than 16 of 32 (diabetes: 62 vs 89).
_AUTO_BATCH, _AUTO_MIN_BATCH, _AUTO_MIN_STEPS, _AUTO_FULL = 256, 16, 32, 32
# A snapshot is rejected when its objective rises by more than this many
# epsilons relative (below that, the rise is rounding, not a too large step).
_ROUNDING = 1e3
# SVRG has stalled (rounding) after _STALL_FACTOR * n_iter_no_change epochs
# without the gradient of any target falling below 0.9 times its lowest.
_STALL_FACTOR = 4
# SVRG on rows in host memory: up to this many flops of one batch's Gram
# matrix (batch_size * n_features**2) a step is one product with its
# precomputed step matrix instead of two with the batch's rows.
_GRAM_STEP_FLOPS = 2**14


# -- rows of X in any format and namespace (the batch arithmetic of SGD) -------
def _take(A, rows, xp):
    """Rows ``rows`` (a slice, or integer indices in A's namespace) of ``A``."""
    if A is None:
        return None
    if sp.issparse(A) or is_numpy(xp):
        return A[rows]
    if isinstance(rows, slice):
        return A[rows, ...]
    return xp.take(A, rows, axis=0)


def _as_dense(A, xp):
    """Products of a SciPy sparse matrix with dense arrays come back as ndarrays."""
    return np.asarray(A) if is_numpy(xp) and not isinstance(A, np.ndarray) else A


def _centered_matvec(problem, Xb, W):
    """``X_c[B] @ W`` for the rows ``Xb`` of X."""
    out = _as_dense(Xb @ W, problem.xp)
    if problem.fit_intercept:
        out = out - problem.X_offset @ W
    return out


def _centered_rmatvec(problem, Xb, swb, R):
    """``X_c[B]^T S_B R`` for the rows ``Xb`` of X and their weights ``swb``."""
    xp = problem.xp
    if swb is not None:
        R = R * swb[:, None]
    out = _as_dense(Xb.T @ R, xp)
    if problem.fit_intercept:
        out = out - problem.X_offset[:, None] * xp.sum(R, axis=0)[None, :]
    return out


def _subproblem(problem, rows):
    """The problem of the rows ``rows`` (host integer indices or a slice), with
    the whole problem's centers: :meth:`RidgeProblem.batch` in any namespace."""
    xp = problem.xp
    if is_numpy(xp):
        return problem.batch(rows)
    idx = rows if isinstance(rows, slice) else xp.asarray(rows, device=problem.device)
    return RidgeProblem(
        _take(problem.X, idx, xp),
        _take(problem.Y, idx, xp),
        problem.alpha,
        sample_weight=_take(problem.sample_weight, idx, xp),
        fit_intercept=problem.fit_intercept,
        X_offset=problem.X_offset,
        y_offset=problem.y_offset,
    )


def _row_norms_sq(problem, block_rows=4096):
    """``s_i ||x_i - x_offset||^2`` on the host, in float64 for any namespace."""
    xp = problem.xp
    if is_numpy(xp):
        return problem.row_norms_sq()
    n = problem.n_samples
    parts = []
    for start in range(0, n, block_rows):
        Xb = problem.X[start : min(start + block_rows, n), ...]
        if problem.fit_intercept:
            Xb = Xb - problem.X_offset
        parts.append(np.asarray(to_numpy(xp.sum(Xb * Xb, axis=1)), dtype=np.float64))
    out = np.concatenate(parts) if parts else np.zeros(0)
    if problem.sample_weight is not None:
        out = out * np.asarray(to_numpy(problem.sample_weight), dtype=np.float64)
    return out


def _centered_gram(problem):
    """``X_c^T S X_c`` in float64 on the host, formed from the implicit operator on row blocks.

    Each block of centered rows is ``X[rows] @ I - x_offset`` (exact: products
    with the identity), so dense, sparse, C or Fortran order and memmaps give
    the same matrix up to the rounding of the final sums. A block holds at most
    ``_SUBSAMPLE_ENTRIES`` entries; X is never densified whole.
    """
    n, p, xp = problem.n_samples, problem.n_features, problem.xp
    eye = xp.eye(p, dtype=problem.dtype, device=problem.device) if not is_numpy(xp) else (
        np.eye(p, dtype=problem.dtype)
    )
    G = np.zeros((p, p))
    block = max(1, _SUBSAMPLE_ENTRIES // max(1, p))
    for start in range(0, n, block):
        rows = slice(start, min(start + block, n))
        Xb = _take(problem.X, rows, xp)
        if isinstance(Xb, np.ndarray):  # the product with I, without its p^2 flops per row
            C = np.array(Xb - problem.X_offset if problem.fit_intercept else Xb, np.float64)
        else:
            C = np.asarray(to_numpy(_centered_matvec(problem, Xb, eye)), dtype=np.float64)
        if problem.sample_weight is not None:
            sw = _host(_take(problem.sample_weight, rows, xp))
            C *= np.sqrt(sw)[:, None]
        G += C.T @ C
    return G


def _top_eigenvalue(problem):
    """Largest eigenvalue of ``X_c^T S X_c``: from the formed Gram matrix up to
    ``_GRAM_EIG_P`` features, else by Lanczos on the implicit operator; either
    way the same computation for every input format, so the step does not
    depend on it."""
    if problem.n_features > _GRAM_EIG_P:
        return problem.gram_norm(tol=1e-2)
    if problem.n_features == 0:
        return 0.0
    return float(np.linalg.eigvalsh(_centered_gram(problem))[-1])
def _check_magnitudes(**arrays):
    """Refuse data whose magnitudes leave the range in which SGD's step size
    and objective are representable (see :func:`l2gd._scaling.data_scale`)."""
    for name, A in arrays.items():
        if data_scale(A) != 1.0:
            raise ValueError(
                f"SGD: {name} has entries of magnitude {_max_abs(A):.3g}, too close to the end of "
                f"the {A.dtype} range for SGD's step size and objective to be "
                f"representable. Rescale {name} by a power of two (exact), or use "
                "GDRidgeRegressor.fit or SGD.solve, which do so internally."
            )


def _warn_if_rank_deficient(problem):
    """``LinAlgWarning`` when a target has ``alpha=0`` and ``S^{1/2} X_c`` is
    numerically rank deficient (then SGD, whose iterates from zero stay in the
    row space of ``X_c``, tends to the minimum-norm solution).

    Decided on the column-equilibrated Gram matrix with the closed form's
    cutoff (``p * eps`` relative) when ``n_features <= 64``; for more features,
    only the certain case of fewer weighted rows than features is detected.
    """
    if not np.any(np.asarray(to_numpy(problem.alpha)) == 0):
        return
    p = problem.n_features
    sw = problem.sample_weight
    n_rows = problem.n_samples if sw is None else int(np.count_nonzero(to_numpy(sw)))
    if p <= _SMALL_P:
        tiny = eps(problem.xp, problem.dtype)
        G = _centered_gram(problem)
        diag = np.diag(G)
        # A constant column centers to rounding noise (relative to its
        # uncentered sum of squares); equilibrated it would look independent.
        raw = diag + problem.sw_sum * np.asarray(to_numpy(problem.X_offset), dtype=np.float64) ** 2
        live = diag > problem.n_samples * tiny * raw
        d = np.sqrt(diag[live])
        evals = np.linalg.eigvalsh(G[np.ix_(live, live)] / np.outer(d, d))
        cutoff = evals.max(initial=0.0) * p * tiny
        rank = int(np.sum(evals > cutoff))
        what = f"rank {rank} < {p}"
    else:
        rank = min(p, max(0, n_rows - int(problem.fit_intercept)))
        what = f"rank at most {rank} < {p}: fewer weighted rows than features"
    if rank < p:
        warnings.warn(
            f"Ill-conditioned problem: X_c is numerically singular ({what}) and "
            "alpha=0; SGD's iterates (from zero) tend to the minimum-norm least-squares "
            "solution. A positive alpha makes the problem well posed.",
            LinAlgWarning,
            stacklevel=3,
        )


def _is_int(x):
    return isinstance(x, Integral) and not isinstance(x, (bool, np.bool_))


@dataclass
class SGDState:
    """What SGD carries from one pass to the next (and across ``partial_fit`` calls).

    ``W`` is the current iterate, ``avg`` the running Polyak-Ruppert average
    of the ``n_avg`` iterates seen since averaging started (None before), ``t``
    the number of mini-batch updates made (the schedule's clock), ``n_passes``
    the passes made. ``sw_sum``, ``x_mean`` and ``y_mean`` are the total
    weight and weighted means of all rows seen: the centers of the implicit
    centering, from which the intercept follows exactly. ``safe_step`` is the
    smallest safe step seen.
    """

    W: np.ndarray
    avg: np.ndarray = None
    n_avg: int = 0
    t: int = 0
    n_passes: int = 0
    sw_sum: float = 0.0
    x_mean: np.ndarray = None
    y_mean: np.ndarray = None
    safe_step: float = math.inf

    @property
    def coef(self):
        """The coefficients SGD reports: the average once averaging started."""
        return self.avg if self.n_avg > 0 else self.W

    def copy(self):
        return replace(self, avg=None if self.avg is None else self.avg.copy())


def _unscaled_state(state, scaling):
    """An :class:`SGDState` of a rescaled problem in the user's units."""
    return replace(
        state,
        W=scaling.coef(state.W),
        avg=None if state.avg is None else scaling.coef(state.avg),
        x_mean=state.x_mean * scaling.x_scale,
        y_mean=state.y_mean * scaling.y_scale,
        safe_step=state.safe_step / scaling.x_scale / scaling.x_scale,
    )


@dataclass(slots=True)
class _Run:
    """The state of one ``SGD.solve`` run, shared by both methods.

    Common: ``kind`` (the method), ``rng``, the objective per target
    ``value``, the loop's ``criterion``, the step ``schedule`` and the
    early-stopping record (``window`` of recent gains, validation ``scores``,
    the best validation iterate ``best_val_W``, its epoch ``best_iteration``
    and score ``best_score``). ``"plain"``: the stream state ``sgd`` and the
    lowest objective ``best``. ``"svrg"``: the snapshot ``W`` with ``Z`` (minus
    half its gradient) and objective ``f``, the extrapolated point ``Y`` with
    ``ZY``, Nesterov's ``beta`` and ``nesterov_t``, the secant estimates
    ``theta`` of the smallest eigenvalue (NaN before the first), the column
    norms ``z_norm`` of ``Z``, the best certified bound ``best`` and
    iterate ``best_W``, the stall record (``z_best``, ``since_best``,
    ``stalled``), updates ``t``, epochs ``epoch``, ``alpha`` on the host,
    ``safe_step`` and whether the step is the data's (``auto``).
    """

    kind: str
    rng: object
    window: list = field(default_factory=list)
    scores: list = field(default_factory=list)
    best_val_W: object = None
    best_iteration: int = 0
    best_score: float = -math.inf
    criterion: float = math.inf
    value: object = None
    schedule: object = None
    best: float = math.inf
    sgd: SGDState = None
    safe_step: float = math.inf
    auto: bool = False
    t: int = 0
    epoch: int = 0
    beta: float = 0.0
    nesterov_t: float = 1.0
    alpha: np.ndarray = None
    theta: np.ndarray = None
    best_W: object = None
    since_best: int = 0
    stalled: bool = False
    z_best: np.ndarray = None
    Z: object = None
    W: object = None
    f: float = math.inf
    Y: object = None
    ZY: object = None
    z_norm: np.ndarray = None


class _Fit:
    """What the shared loop sees during ``SGD.solve``: the (training) problem,
    the validation split and the tolerance, which the plateau logic needs."""

    def __init__(self, problem, validation, tol):
        self.problem = problem
        self.validation = validation
        self.tol = tol
        self.dtype = problem.dtype
        self.xp, self.device = problem.xp, problem.device
        self.n_features = problem.n_features
        self.n_targets = problem.n_targets




def _epoch_order(n, b, shuffle, rng):
    """The rows of one pass in batch order: None (consecutive rows) or a seeded
    permutation drawn on the host (the same rows for every input format and
    namespace), each batch of ``b`` rows sorted (contiguous reads of a memmap)."""
    if not shuffle:
        return None
    order = rng.permutation(n)
    full = n - n % b
    order[:full].reshape(-1, b).sort(axis=1)
    order[full:].sort()
    return order


def _epoch_batches(n, b, shuffle, rng, xp, device):
    """Row indices of the mini-batches of one pass (:func:`_epoch_order`):
    consecutive slices, or the permutation's batches, moved to X's device once
    per pass."""
    order = _epoch_order(n, b, shuffle, rng)
    if order is None:
        return [slice(start, min(start + b, n)) for start in range(0, n, b)]
    if not is_numpy(xp):
        order = xp.asarray(order, device=device)
    return [order[start : min(start + b, n)] for start in range(0, n, b)]


def _batch(problem, rows):
    """``(X[B], Y_c[B], s_B)`` of the rows ``rows`` in X's namespace."""
    xp = problem.xp
    return (
        _take(problem.X, rows, xp),
        _take(problem.Yc, rows, xp),
        _take(problem.sample_weight, rows, xp),
    )


def _host(a):
    return np.asarray(to_numpy(a), dtype=np.float64)


if hasattr(np, "vecdot"):  # NumPy >= 2: one ufunc call, the fastest on small arrays

    def _np_col_dots(A, B):
        return np.vecdot(A, B, axis=0)

else:  # pragma: no cover

    def _np_col_dots(A, B):
        return np.einsum("ij,ij->j", A, B)


def _col_dots(xp, A, B):
    """``sum_i A_ik B_ik`` per column ``k``, on the host in float64."""
    if is_numpy(xp):
        return _np_col_dots(A, B).astype(np.float64, copy=False)
    return _host(xp.sum(A * B, axis=0))


def _norms(xp, A):
    """Column 2-norms of ``A`` on the host, in float64: one product for NumPy
    arrays whose norms are far from under- and overflow, else
    :func:`~l2gd.solvers._gd._col_norms` (scaled)."""
    if is_numpy(xp):
        A = np.asarray(A, dtype=np.float64)
        s = np.sqrt(_np_col_dots(A, A))
        if (1e-100 < s[0] < 1e100) if len(s) == 1 else (s.min() > 1e-100 and s.max() < 1e100):
            return s
    return _col_norms(xp, A)


def _curvatures(problem, one_row=False, checked=False):
    """``(max_i s_i ||x_i - x_mean||^2, tr(H) / S, lambda_max(H) / S)`` with
    ``H = X_c^T S X_c``: what the safe step needs (see ``SGD`` Notes).

    From the rows (``lambda_max`` on an evenly spaced subsample, inflated), or,
    for rows not in memory, from the problem's statistics and the largest
    weighted row norm its source measured (``problem.max_row_norm``).
    ``checked``: X's magnitudes are known to be safe (no pass to check them).
    """
    S = problem.sw_sum
    if not isinstance(problem, RidgeProblem):
        trace = float(np.sum(problem.gram_diagonal(), dtype=np.float64)) / S
        lam = float(np.linalg.eigvalsh(np.asarray(problem.stats.xx, dtype=np.float64))[-1]) / S
        return float(problem.max_row_norm), trace, lam
    if not checked:
        _check_magnitudes(X=problem.X)
    norms = _row_norms_sq(problem)
    biggest, trace = float(norms.max(initial=0.0)), float(norms.sum()) / S
    if one_row:
        return biggest, trace, trace
    n, p = problem.n_samples, problem.n_features
    m = min(n, max(64, _SUBSAMPLE_ENTRIES // max(1, p) if p > _SMALL_P else 4096))
    if m == n:
        sub, safety = problem, 1.0
    else:
        sub = _subproblem(problem, np.unique(np.linspace(0, n - 1, m).astype(np.intp)))
        safety = _SUBSAMPLE_SAFETY
    lam = safety * _top_eigenvalue(sub) / sub.sw_sum if sub.sw_sum > 0 else trace
    return biggest, trace, lam


# -- SVRG steps on rows in host memory (NumPy, SciPy sparse, memmap) ---------
def _centered_rows(problem, rows, out):
    """Write the dense centered rows ``X_c[rows]`` into the first rows of ``out``
    (X's dtype, on the host; sparse rows densified: callers keep ``out``
    small); return their number."""
    X = problem.X
    if sp.issparse(X):
        Xb = X[rows].toarray()
        m = Xb.shape[0]
        out[:m] = Xb
    elif isinstance(rows, slice):
        m = len(range(*rows.indices(X.shape[0])))
        out[:m] = X[rows]
    else:
        m = len(rows)
        np.take(np.asarray(X), rows, axis=0, out=out[:m], mode="clip")
    if problem.fit_intercept:
        out[:m] -= problem.X_offset
    return m


def _step_coefficients(schedule, t, n, b, S, dtype):
    """Per batch of one pass, ``c = eta |B| / (b S)`` and ``e = 2 n eta / (b S)``:
    the SVRG step ``W <- W - c (G0 + 2 alpha D) - e X_c[B]^T S_B X_c[B] D`` of
    ``SGD`` (``D = W - W0``), in the problem's dtype."""
    steps = -(-n // b)
    if isinstance(schedule, Constant):
        eta = np.full(steps, float(schedule(t)), dtype=dtype)
    else:
        eta = np.array([schedule(t + k) for k in range(steps)], dtype=dtype)
    c = eta * (1.0 / S)
    c[-1] *= (n - (steps - 1) * b) / b
    return c, eta * (2.0 * n / (b * S))


def _batch_rows_of(order, k0, k1, b, n):
    """Rows of batches ``k0`` to ``k1 - 1`` of a pass in the order ``order``."""
    start, stop = k0 * b, min(k1 * b, n)
    return slice(start, stop) if order is None else order[start:stop]


def _affine_steps(C3, CW3, c, e, a, G0):
    """The steps ``D <- (1 - 2 c_k a) D - e_k G_k D - c_k G0`` of the batches
    ``C3[k]`` (``G_k = C3[k]^T CW3[k]``, one alpha ``a``) composed into one map
    ``D -> M D + V``: the steps as augmented matrices ``[[M_k, V_k], [0, I]]``,
    padded with identities to a power of two and multiplied pairwise, ``log2``
    batched products instead of one per step (the same map up to rounding)."""
    K, p, T = C3.shape[0], C3.shape[2], G0.shape[1]
    q = p + T
    A = np.zeros((1 << (K - 1).bit_length(), q, q), dtype=C3.dtype)
    np.matmul(C3.transpose(0, 2, 1), CW3 * -e[:, None, None], out=A[:K, :p, :p])
    np.multiply(c[:, None, None], -G0, out=A[:K, :p, p:])
    diag = A.reshape(len(A), q * q)[:, :: q + 1]
    diag += 1.0
    diag[:K, :p] -= (2.0 * a) * c[:, None]
    while len(A) > 1:
        A = A[1::2] @ A[0::2]
    return A[0, :p, :p], A[0, :p, p:]


def _gram_steps(problem, order, b, c, e, G0, D, acc):
    """The steps of one pass on few features from ``D = 0``, with the Gram
    matrices ``X_c[B]^T S_B X_c[B]`` of a chunk of batches at once (batches
    padded with zero rows, which add nothing): composed (:func:`_affine_steps`)
    for one alpha and a few targets, else one product per step."""
    n, p, sw, alpha = problem.n_samples, problem.n_features, problem.sample_weight, problem.alpha
    composed = acc is None and D.shape[1] <= p and (len(alpha) == 1 or alpha.min() == alpha.max())
    a2 = None if composed else (2.0 * alpha).astype(D.dtype)
    per_chunk = max(1, _SUBSAMPLE_ENTRIES // max(b * p, p * p, 1))
    for k0 in range(0, len(c), per_chunk):
        k1 = min(k0 + per_chunk, len(c))
        rows = _batch_rows_of(order, k0, k1, b, n)
        C = np.zeros(((k1 - k0) * b, p), dtype=D.dtype)
        m = _centered_rows(problem, rows, C)
        CW = C
        if sw is not None:
            CW = np.zeros_like(C)
            np.multiply(C[:m], sw[rows][:, None], out=CW[:m])
        C3, CW3 = C.reshape(k1 - k0, b, p), CW.reshape(k1 - k0, b, p)
        if composed:
            M, V = _affine_steps(C3, CW3, c[k0:k1], e[k0:k1], float(alpha[0]), G0)
            D = V if k0 == 0 else M @ D + V
            continue
        G = np.matmul(C3.transpose(0, 2, 1), CW3)
        for k in range(k0, k1):
            D = D - e[k] * (G[k - k0] @ D) - c[k] * (G0 + a2 * D)
            if acc is not None:
                acc += D
    return D, acc


def _direct_steps(problem, order, b, c, e, G0, D, acc):
    """The steps of one pass: per batch two products with its rows ``X[B]``
    (never densified), the centering applied to the products."""
    n, X, sw = problem.n_samples, problem.X, problem.sample_weight
    off = problem.X_offset if problem.fit_intercept else None
    a2 = (2.0 * _host(problem.alpha)).astype(D.dtype)
    for k in range(len(c)):
        rows = _batch_rows_of(order, k, k + 1, b, n)
        Xb = X[rows]
        Q = _as_dense(Xb @ D, np)
        if off is not None:
            Q -= off @ D
        if sw is not None:
            Q *= sw[rows][:, None]
        H = _as_dense(Xb.T @ Q, np)
        if off is not None:
            H -= off[:, None] * Q.sum(axis=0)
        H *= e[k]
        H += c[k] * (G0 + a2 * D)
        D -= H
        if acc is not None:
            acc += D
    return D, acc


class SGD(IterativeSolver):
    """Mini-batch stochastic gradient descent on the ridge objective.

    Minimizes exactly the objective of every l2gd solver (that of
    :class:`sklearn.linear_model.Ridge`, same ``alpha``). Each iteration
    (epoch) is one pass over the rows in mini-batches; all targets are updated
    together, with no per-sample Python loop. Two methods:

    ``method="svrg"`` (default): stochastic variance-reduced gradient
    (Johnson and Zhang, 2013). Each epoch starts from a *snapshot* ``w~`` whose
    full gradient ``g~`` is known, and steps along the unbiased estimate, exact
    at the optimum::

        v_B = g_B(w) - g_B(w~) + g~ = g~ + 2 (n / |B|) X_c[B]^T S_B X_c[B] (w - w~)
                                        + 2 alpha (w - w~)

    so its variance vanishes as the iterates converge and the iterates
    converge linearly to Ridge's exact minimizer with a constant step, not to
    a noise ball. The last iterate of the epoch (the mean of the epoch's
    iterates with ``average``) is the next snapshot; its full gradient, one
    pass over X, is also the stopping certificate. While epochs shrink the
    gradient slowly (ill-conditioned data), the snapshots are extrapolated
    with Nesterov momentum (the gradient of the extrapolated point follows
    exactly from the two snapshots' gradients, as the gradient is affine),
    restarted whenever the objective rises (O'Donoghue and Candes, 2015).
    A snapshot whose objective is higher than the previous one is rejected;
    with the data's step (``learning_rate="auto"``) the step is then halved.

    ``method="plain"``: plain SGD with the schedules of
    :mod:`l2gd.schedules` and Polyak-Ruppert averaging; for a batch ``B``::

        g_B = (n / |B|) * (-2 X_c[B]^T S_B r_B) + 2 alpha w

    It settles in a noise ball whose size follows the step; it is what
    :meth:`partial_solve` (``partial_fit``, streaming) always runs, whatever
    ``method``.

    Both step as ``w <- w - eta_t * (|B| / batch_size) * v / S`` with ``S``
    the total sample weight, so ``eta_t`` is a step on the mean-scaled
    objective ``f / S`` (independent of ``n_samples``), and a short last batch
    moves the iterate in proportion to its size.

    The intercept is never learnt by steps: the rows are centered implicitly
    at the weighted means ``x_mean``, ``y_mean`` of the rows seen (all rows in
    ``fit``; the running means over the calls in ``partial_fit``), and the
    intercept ``y_mean - x_mean @ w`` is the exact minimizer for the returned
    ``w``. With ``method="plain"``, ``fit`` and ``partial_fit`` run the same
    update (:meth:`partial_solve` on the whole data is one epoch of
    :meth:`solve`), so with the same data order, settings and ``random_state``
    they give the same coefficients.

    Sample weights: the batch estimates are unbiased estimates of the
    weighted gradient, so a weight ``k`` equals ``k`` repeated rows **in
    expectation**; ``"svrg"`` converges to the exact weighted minimizer, so the
    two agree to ``tol``. Sparse X is centered implicitly, never densified;
    float32 stays float32. Array API inputs (``array_api_dispatch``) run in
    X's namespace and on its device, the row order drawn on the host from
    ``random_state`` (the same rows as for NumPy).

    Parameters
    ----------
    batch_size : int or "auto", default="auto"
        Rows per mini-batch (at most ``n_samples``). ``"auto"``: 256; for
        ``"svrg"`` ``min(256, max(16, n_samples // 32))``, so that an epoch
        makes at least 32 steps on small data (the progress of an epoch grows
        with its steps, while ``L_b`` grows with the batch, see Notes), and
        full batches on data of at most 32 rows.
    learning_rate : "auto", float or schedule, default="auto"
        ``"auto"``: for ``"svrg"``, the constant safe step of the data (below,
        halved when a snapshot is rejected); for ``"plain"``,
        :class:`l2gd.schedules.Adaptive` ``()``: the safe step divided by 5
        each time the objective stops improving, up to 4 times. A float is
        :class:`~l2gd.schedules.Constant` (a step on the mean-scaled
        objective). Any schedule of :mod:`l2gd.schedules`, whose
        ``eta0=None`` means the safe step (``"svrg"`` needs no decay: a
        constant step converges).
    shuffle : bool, default=True
        Draw a new random order of the rows at every epoch; otherwise the
        batches are consecutive rows in the given order.
    average : bool or int, default=False
        ``"plain"``: Polyak-Ruppert averaging, report the mean of the iterates
        instead of the last one. ``"svrg"``: the next snapshot is the mean of
        the epoch's iterates instead of its last one. ``True`` averages from
        the first update, an int ``k`` from epoch ``k + 1`` on (after ``k``
        passes; in ``partial_fit``, after ``k`` calls).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (drawn with
        ``random_state``; the training rows are copied), monitor the R^2 on
        them after each epoch, stop after ``n_iter_no_change`` epochs without
        an improvement larger than ``tol``, and restore the coefficients of
        the best epoch. A validation split of zero total ``sample_weight`` is
        a ``ValueError``.
    validation_fraction : float, default=0.1
        Fraction of rows held out with ``early_stopping``, in (0, 1).
    n_iter_no_change : int, default=5
        Epochs without an improvement larger than ``tol`` that make a
        plateau (``"plain"``, and ``early_stopping``); ``"svrg"`` stops,
        uncertified, when its gradient has not fallen by 10% for four times as many
        epochs (rounding reached).
    method : {"svrg", "plain"}, default="svrg"
        Variance-reduced (converges to the exact solution, certified ``tol``)
        or plain SGD (schedules, the noise ball; what streaming runs).

    Notes
    -----
    **Safe step.** The default step is ``1 / L_b`` with ``L_b`` the expected
    smoothness constant of ``b``-row batches drawn without replacement
    (Gower et al., 2019), ``L_b = n (b - 1) / (b (n - 1)) L + (n - b) / (b (n - 1))
    L_max``, where ``L_max = 2 max_i (n s_i ||x_i - x_mean||^2 + alpha) / S``
    bounds one-row batches (exact, from one blockwise pass) and
    ``L = 2 (lambda_max(X_c^T S X_c) + alpha) / S`` is computed on an evenly
    spaced subsample of rows (inflated by 1.25 when subsampled, bracketed by
    the exact lower bound ``max_i s_i ||x_i - x_mean||^2`` and the trace):
    from the formed Gram matrix up to 64 features, else by Lanczos. Both are
    the same computation for dense, sparse, C or Fortran ordered and memmapped
    X, so the same ``random_state`` gives the same iterates (up to rounding)
    whatever the format. If the objective still blows up (a ``learning_rate``
    too large), a ``ValueError`` names the learning rate and the safe step.

    **What tol means.** ``"svrg"``: as for
    :class:`~l2gd.solvers.GradientDescent`, a bound on the coefficients.
    At every snapshot, with ``z = X_c^T S (y_c - X_c w) - alpha w`` (minus
    half the gradient, from the pass that computes the snapshot),
    ``E = ||z|| / theta`` estimates ``||w - w*||`` per target, where
    ``theta`` is the smallest Rayleigh quotient of the Hessian seen between
    consecutive snapshots (``-dw^T dz / dw^T dw``, exact, as ``dz = -A dw``;
    it approaches ``lambda_min`` from above as the error settles on the slow
    directions), or ``alpha`` (rigorous, as ``lambda_min >= alpha``) before
    two snapshots exist. The solver stops when ``E / (||w|| - E) <= tol`` for
    every target, returning the best certified snapshot. ``tol=None`` means
    ``max(1e-4, 100 * eps)``; ``tol=1e-8`` gives coefficients about as close
    to Ridge's as ``"gd"``'s. ``"plain"``: an epoch *improves* when the
    objective at the reported coefficients falls by more than ``tol``
    relative to the best so far (with ``early_stopping``: when the validation
    R^2 rises by more than ``tol``); after ``n_iter_no_change`` epochs without
    improvement the schedule is asked to adapt (:class:`~l2gd.schedules.Adaptive`
    divides its step) and when it cannot, the solver stops; ``tol=None``
    means 1e-4. ``max_iter=None`` means 1000 epochs. Each ``"svrg"`` epoch
    reads X twice (the stochastic pass and the snapshot's full pass).

    **alpha=0.** From zero, the iterates stay in the row space of ``X_c``, so
    on a rank-deficient design they tend to the minimum-norm least-squares
    solution, as the closed form returns; ``solve`` then raises a
    ``LinAlgWarning``. Rank is decided on the column-equilibrated Gram matrix
    up to 64 features; above, only fewer weighted rows than features is
    detected. ``partial_fit`` does not check rank (a batch alone says nothing).

    **Magnitudes.** ``solve`` runs data near the ends of the float range
    (entries beyond ``2**±256`` in float64) in exact power-of-two rescaled
    units and maps the result back; ``partial_solve`` and :meth:`safe_step`
    refuse such data with a ``ValueError`` (the state of a stream has one
    scale).

    **partial_fit.** Each call is one pass of plain SGD over the given rows;
    the update counter ``t``, the averaging state and the running means
    persist. The penalty is that of the data seen so far: the rows of all
    calls form one dataset, as for the closed form's exact streaming, so
    passing the same rows twice weighs them twice. The plateau logic and
    ``early_stopping`` apply to ``fit`` only.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from l2gd import GDRidgeRegressor
    >>> from l2gd.solvers import SGD
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2000, 5))
    >>> y = X @ np.arange(1.0, 6.0) + 0.1 * rng.standard_normal(2000)
    >>> est = GDRidgeRegressor(solver=SGD(batch_size=32), tol=1e-8, random_state=0).fit(X, y)
    >>> ref = Ridge(alpha=1.0).fit(X, y)
    >>> bool(np.linalg.norm(est.coef_ - ref.coef_) < 1e-7 * np.linalg.norm(ref.coef_))
    True
    >>> plain = GDRidgeRegressor(solver=SGD(method="plain"), random_state=0).fit(X, y)
    >>> bool(np.linalg.norm(plain.coef_ - ref.coef_) < 1e-2 * np.linalg.norm(ref.coef_))
    True
    """

    name = "sgd"
    stochastic = True
    supports_array_api = True
    default_max_iter = 1000

    def __init__(
        self,
        batch_size="auto",
        learning_rate="auto",
        shuffle=True,
        average=False,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        method="svrg",
    ):
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.shuffle = shuffle
        self.average = average
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.method = method

    def default_tol(self, dtype, xp=np):
        if self.method == "plain":
            return 1e-4
        return max(1e-4, 100 * eps(xp, dtype))

    # -- parameters ---------------------------------------------------------
    def _check_params(self):
        """Validate the options; return the learning-rate schedule."""
        if not isinstance(self.method, str) or self.method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {self.method!r}.")
        if self.batch_size != "auto" and (not _is_int(self.batch_size) or self.batch_size < 1):
            raise ValueError(f"batch_size must be 'auto' or a positive int, got {self.batch_size!r}.")
        if not isinstance(self.shuffle, (bool, np.bool_)):
            raise ValueError(f"shuffle must be a bool, got {self.shuffle!r}.")
        if not isinstance(self.average, (bool, np.bool_)) and not (
            _is_int(self.average) and self.average >= 0
        ):
            raise ValueError(f"average must be a bool or an int >= 0, got {self.average!r}.")
        if not isinstance(self.early_stopping, (bool, np.bool_)):
            raise ValueError(f"early_stopping must be a bool, got {self.early_stopping!r}.")
        vf = self.validation_fraction
        if not isinstance(vf, Real) or isinstance(vf, bool) or not 0 < vf < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {vf!r}.")
        if not _is_int(self.n_iter_no_change) or self.n_iter_no_change < 1:
            raise ValueError(
                f"n_iter_no_change must be a positive int, got {self.n_iter_no_change!r}."
            )
        return as_schedule(self.learning_rate)

    def _batch_rows(self, n, method=None):
        """Rows per mini-batch for ``n`` rows (``batch_size``, resolved and capped at ``n``)."""
        b = self.batch_size
        if b == "auto" and (method or self.method) == "plain":
            b = _AUTO_BATCH
        elif b == "auto":
            b = max(_AUTO_MIN_BATCH, n // _AUTO_MIN_STEPS)
            b = n if n <= _AUTO_FULL else min(_AUTO_BATCH, b)
        return max(1, min(int(b), n))

    def _average_start(self):
        """Passes after which averaging starts, or None without averaging."""
        if isinstance(self.average, (bool, np.bool_)):
            return 0 if self.average else None
        return int(self.average)

    # -- data-derived step --------------------------------------------------
    def safe_step(self, problem, method=None):
        """The default step ``1 / L_b`` for ``problem`` (see Notes).

        Parameters
        ----------
        problem : RidgeProblem
        method : {"svrg", "plain"} or None, default=None
            The method whose batch size the step is for (None: ``self.method``).

        Returns
        -------
        step : float

        Raises
        ------
        ValueError
            When X's magnitudes are too close to the ends of the float range
            for the step to be representable (:meth:`solve` rescales such
            data first).
        """
        return self._safe_step(problem, method, checked=False)

    def _safe_step(self, problem, method=None, checked=True):
        """:meth:`safe_step`; ``checked``: X's magnitudes are known to be safe
        (``solve`` and ``partial_solve`` check them first), no second pass."""
        n, S = problem.n_samples, problem.sw_sum
        b = self._batch_rows(n, method)
        penalty = float(np.max(_host(problem.alpha), initial=0.0)) / S
        biggest, trace, lam = _curvatures(problem, one_row=b == 1 or n == 1, checked=checked)
        l_max = n * biggest / S
        if b == 1 or n == 1:
            curvature = l_max
        else:
            lam = min(max(lam, biggest / S), trace)
            curvature = (n * (b - 1) * lam + (n - b) * l_max) / (b * (n - 1))
        L = 2.0 * (curvature + penalty)
        return 1.0 / L if L > 0 else 1.0

    @staticmethod
    def _strong_convexity(problem):
        return 2.0 * float(np.min(_host(problem.alpha))) / problem.sw_sum

    # -- the passes -------------------------------------------------------------
    def _pass(self, problem, state, schedule, rng):
        """One pass of plain SGD over ``problem``'s rows; updates ``state``."""
        xp, n = problem.xp, problem.n_samples
        b = self._batch_rows(n, "plain")
        start_avg = self._average_start()
        averaging = start_avg is not None and state.n_passes >= start_avg
        if averaging and state.avg is None:
            state.avg = xp.zeros_like(state.W)
        W, scale = state.W, 1.0 / (b * problem.sw_sum)
        with np.errstate(over="ignore", invalid="ignore"):
            for rows in _epoch_batches(n, b, self.shuffle, rng, xp, problem.device):
                Xb, Yb, swb = _batch(problem, rows)
                size = Xb.shape[0]
                R = Yb - _centered_matvec(problem, Xb, W)
                G = 2.0 * (problem.alpha * W - (n / size) * _centered_rmatvec(problem, Xb, swb, R))
                W = W - (schedule(state.t) * size * scale) * G
                state.t += 1
                if averaging:
                    state.n_avg += 1
                    state.avg = state.avg + (W - state.avg) / state.n_avg
        state.W = W
        state.n_passes += 1

    def _vr_pass(self, problem, state, W0, G0, rng):
        """One SVRG pass from the snapshot ``W0`` of full gradient ``G0``;
        returns the next snapshot (the last iterate, or the epoch's mean)."""
        n = problem.n_samples
        b = self._batch_rows(n)
        scale = 1.0 / (b * problem.sw_sum)
        start_avg = self._average_start()
        averaging = start_avg is not None and state.epoch >= start_avg
        if isinstance(problem, RidgeProblem) and is_numpy(problem.xp):
            return self._host_vr_pass(problem, state, W0, G0, rng, b, averaging)
        W, total, count = W0, None, 0
        # Rows in memory are one block; a source's row chunks (centered at the
        # whole data's means) come one at a time in a random order.
        blocks = [problem] if isinstance(problem, RidgeProblem) else problem.row_chunks(rng)
        with np.errstate(over="ignore", invalid="ignore"):
            for block in blocks:
                xp = block.xp
                for rows in _epoch_batches(block.n_samples, b, self.shuffle, rng, xp, block.device):
                    Xb, _, swb = _batch(block, rows)
                    size = Xb.shape[0]
                    D = W - W0
                    Q = _centered_matvec(block, Xb, D)
                    HD = 2.0 * ((n / size) * _centered_rmatvec(block, Xb, swb, Q) + block.alpha * D)
                    W = W - (state.schedule(state.t) * size * scale) * (G0 + HD)
                    state.t += 1
                    if averaging:
                        count += 1
                        total = W if total is None else total + (W - total) / count
        return total if averaging else W

    def _host_vr_pass(self, problem, state, W0, G0, rng, b, averaging):
        """:meth:`_vr_pass` on rows in host memory: the same rows, order and
        steps in fewer Python operations, the iterate carried as ``D = W - W0``
        (the correction ``g_B(W) - g_B(W0)`` is linear in it); on few features
        each step is one product with a precomputed matrix (:func:`_gram_steps`)."""
        n, p = problem.n_samples, problem.n_features
        order = _epoch_order(n, b, self.shuffle, rng)
        c, e = _step_coefficients(state.schedule, state.t, n, b, problem.sw_sum, W0.dtype)
        D = np.zeros_like(W0)
        acc = np.zeros_like(W0) if averaging else None
        steps = _gram_steps if b * p * p <= _GRAM_STEP_FLOPS else _direct_steps
        D, acc = steps(problem, order, b, c, e, G0, D, acc)  # under _step's errstate
        state.t += len(c)
        return W0 + (D if acc is None else acc / len(c))

    def _diverged(self, step, safe_step):
        return ValueError(
            f"SGD diverged with learning_rate={self.learning_rate!r} (step "
            f"{step:.4g} on the mean-scaled objective): the objective became "
            "non-finite or grew without bound. The safe step for this data is "
            f"{safe_step:.4g}; use a smaller learning_rate, a schedule with "
            "eta0=None, or learning_rate='auto'."
        )

    # -- fit: the shared loop -------------------------------------------------
    def solve(self, problem, *, init=None, tol=None, max_iter=None, random_state=None, verbose=0):
        """Run epochs of SGD on ``problem``; return a :class:`SolveResult`.

        ``SolveResult.info`` holds ``"t"`` (updates made), ``"state"`` (the
        :class:`SGDState`, from which ``partial_fit`` continues), ``"method"``,
        for ``"svrg"`` ``"error_bound"`` (the certified relative error of the
        coefficients returned) and ``"n_passes"`` (passes over X), and, with
        early stopping, ``"validation_scores"`` and ``"best_iteration"``.

        Data near the ends of the float range (see
        :func:`l2gd._scaling.data_scale`) is solved exactly in power-of-two
        rescaled units and the result (and state) mapped back, so the same
        seed gives the same iterates up to the scale.
        """
        self._check_params()
        if not isinstance(problem, RidgeProblem):
            return self._solve_chunked(problem, init, tol, max_iter, random_state, verbose)
        scaling = Rescaling.of(problem.X, problem.Y)
        if scaling.identity:
            return self._solve(problem, init, tol, max_iter, random_state, verbose)
        X, Y = scaling.data(problem.X, problem.Y)
        scaled = RidgeProblem(
            X,
            Y,
            scaling.alpha(problem.alpha),
            sample_weight=problem.sample_weight,
            fit_intercept=problem.fit_intercept,
            X_offset=problem.X_offset / scaling.x_scale,
            y_offset=problem.y_offset / scaling.y_scale,
        )
        init = None if init is None else scaling.scaled_coef(init)
        inner = self._solve(scaled, init, tol, max_iter, random_state, verbose)
        # SGD's state has an image in the user's units (its coefficients are
        # the result's), unlike moments: keep it for partial_fit.
        result = scaling.result(inner)
        state = _unscaled_state(inner.info["state"], scaling)
        return replace(result, info={**result.info, "state": state})

    def _solve(self, problem, init, tol, max_iter, random_state, verbose):
        """:meth:`solve` on data of safe magnitudes."""
        tol = self.default_tol(problem.dtype, problem.xp) if tol is None else tol
        validation = None
        if self.early_stopping:
            problem, validation = self._split(problem, random_state)
        _warn_if_rank_deficient(problem)
        return super().solve(
            _Fit(problem, validation, tol),
            init=init,
            tol=tol,
            max_iter=max_iter,
            random_state=random_state,
            verbose=verbose,
        )

    def _solve_chunked(self, problem, init, tol, max_iter, random_state, verbose):
        """:meth:`solve` on rows not in memory (:mod:`l2gd._sources`): SVRG whose
        snapshots are one pass of the source (``problem.snapshot``) and whose
        inner loop streams its row chunks (``problem.row_chunks``)."""
        if self.method != "svrg" or self.early_stopping:
            raise ValueError(
                "SGD on row chunks runs method='svrg' without early_stopping; got "
                f"method={self.method!r}, early_stopping={self.early_stopping!r} "
                "(these stream through partial_fit instead)."
            )
        tol = self.default_tol(problem.dtype, problem.xp) if tol is None else tol
        return super().solve(
            _Fit(problem, None, tol), init=init, tol=tol, max_iter=max_iter,
            random_state=random_state, verbose=verbose,
        )

    def _split(self, problem, random_state):
        n, xp = problem.n_samples, problem.xp
        n_val = int(math.ceil(self.validation_fraction * n))
        if n_val < 1 or n - n_val < 1:
            raise ValueError(
                "early_stopping needs at least one training and one validation row; got "
                f"n_samples={n} with validation_fraction={self.validation_fraction}."
            )
        seed = random_state if isinstance(random_state, np.random.Generator) else [1, random_state]
        if random_state is None:
            seed = None
        perm = np.random.default_rng(seed).permutation(n)
        val, train = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        if not is_numpy(xp):
            val, train = (xp.asarray(i, device=problem.device) for i in (val, train))
        sw = problem.sample_weight
        sw_train, sw_val = _take(sw, train, xp), _take(sw, val, xp)
        if sw is not None and not float(xp.sum(sw_train)) > 0:
            raise ValueError("early_stopping: the training split has zero total sample_weight.")
        if sw is not None and not float(xp.sum(sw_val)) > 0:
            raise ValueError(
                "early_stopping: the validation split (validation_fraction="
                f"{self.validation_fraction} of the rows, drawn with random_state) has zero "
                "total sample_weight, so no validation score exists. Use another "
                "random_state or validation_fraction, or drop the zero-weight rows."
            )
        train_problem = RidgeProblem(
            _take(problem.X, train, xp),
            _take(problem.Y, train, xp),
            problem.alpha,
            sample_weight=sw_train,
            fit_intercept=problem.fit_intercept,
        )
        Yv = _host(_take(problem.Y, val, xp))
        validation = (_take(problem.X, val, xp), Yv, None if sw is None else _host(sw_val))
        return train_problem, validation

    def _score(self, fit, W):
        Xv, Yv, swv = fit.validation
        P = _host(_as_dense(Xv @ W, fit.xp) + fit.problem.intercept(W))
        return float(r2_scores(Yv, P, swv, per_target=False))

    def _validate(self, fit, state, W, epoch):
        """Validation R^2 of ``W``: keep the best epoch; return the gain over the best."""
        score = self._score(fit, W)
        state.scores.append(score)
        gain = score - state.best_score
        if state.best_val_W is None or score > state.best_score:
            state.best_score, state.best_val_W, state.best_iteration = score, W, epoch
        return gain

    def _plateau(self, state, gain, tol):
        """Track epochs without a gain above ``tol``; True after ``n_iter_no_change``."""
        state.window = [] if gain > tol else state.window + [max(gain, 0.0)]
        return len(state.window) >= self.n_iter_no_change

    def _init_state(self, fit, W0, rng):
        if self.method == "plain":
            return self._plain_init(fit, W0, rng)
        return self._vr_init(fit, W0, rng)

    def _step(self, fit, state):
        if state.kind == "plain":
            return self._plain_step(fit, state)
        # Overflow and 0/0 give inf and NaN, which the loop and the bound test.
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            return self._vr_step(fit, state)

    # -- plain SGD in the loop ---------------------------------------------------
    def _common_state(self, kind, fit, rng):
        return _Run(kind=kind, rng=rng)

    def _plain_init(self, fit, W0, rng):
        problem = fit.problem
        state = self._common_state("plain", fit, rng)
        state.sgd = SGDState(
            W=W0,
            sw_sum=problem.sw_sum,
            x_mean=problem.X_offset,
            y_mean=problem.y_offset,
            safe_step=self._safe_step(problem),
        )
        state.schedule = self._check_params().bind(
            state.sgd.safe_step, self._strong_convexity(problem)
        )
        state.value = problem.value_from_residual(problem.residual(W0), W0)
        total = float(problem.xp.sum(state.value))
        # A zero objective is its minimum: nothing to do.
        state.criterion = 0.0 if total == 0.0 else math.inf
        state.best = total
        if fit.validation is not None:
            state.best_score = self._score(fit, W0)
        return state

    def _plain_step(self, fit, state):
        problem, sgd = fit.problem, state.sgd
        self._pass(problem, sgd, state.schedule, state.rng)
        W = sgd.coef
        state.value = problem.value_from_residual(problem.residual(W), W)
        total = float(problem.xp.sum(state.value))
        if not np.isfinite(total):
            return  # the loop raises the divergence error
        if fit.validation is not None:
            gain = self._validate(fit, state, W, sgd.n_passes)
        else:
            gain = (state.best - total) / state.best if state.best > 0 else 0.0
            state.best = min(state.best, total)
        state.criterion = math.inf
        if self._plateau(state, gain, fit.tol):
            adapted = state.schedule.on_plateau()
            if adapted is None:
                state.criterion = max(state.window)
            else:
                state.schedule = adapted
                state.window = []

    # -- SVRG in the loop ----------------------------------------------------------
    @staticmethod
    def _full_pass(problem, W, at_zero=False):
        """Objective per target and ``Z = X_c^T S r - alpha W`` (minus half the
        gradient) at ``W``: one pass over X (the source's own pass for rows
        not in memory, ``problem.snapshot``). ``at_zero``: ``W`` is 0, whose
        residual is ``Y_c`` (no product with X)."""
        if not isinstance(problem, RidgeProblem):
            return problem.snapshot(W)
        R = problem.Yc if at_zero else problem.residual(W)
        return problem.value_from_residual(R, W), problem.rmatvec(problem.weighted(R)) - (
            problem.alpha * W
        )

    def _vr_init(self, fit, W0, rng):
        problem = fit.problem
        state = self._common_state("svrg", fit, rng)
        state.safe_step = self._safe_step(problem)
        schedule = self._check_params()
        state.auto = isinstance(self.learning_rate, str)
        if state.auto:
            schedule = Constant()
        state.schedule = schedule.bind(state.safe_step, self._strong_convexity(problem))
        state.t, state.epoch, state.beta, state.nesterov_t = 0, 0, 0.0, 1.0
        state.alpha = _host(problem.alpha)
        state.theta = np.full(problem.n_targets, np.nan)  # NaN: no secant yet
        state.best, state.best_W, state.since_best, state.stalled = math.inf, W0, 0, False
        state.z_best = None
        state.value, state.Z = self._full_pass(problem, W0, not problem.xp.any(W0 != 0))
        state.z_norm = _norms(problem.xp, state.Z)
        state.W, state.f = W0, float(problem.xp.sum(state.value))
        state.Y, state.ZY = state.W, state.Z
        with np.errstate(divide="ignore", invalid="ignore"):
            self._certify(problem, state)
        if fit.validation is not None:
            state.best_score = self._score(fit, W0)
        return state

    def _bound(self, problem, state):
        """Per target, the estimated relative error of the snapshot (see Notes)."""
        z, w = state.z_norm, _norms(problem.xp, state.W)
        theta = np.fmax(state.theta, state.alpha)  # alpha where theta is NaN
        # Under the errstate of the callers: E is inf where theta = 0 (alpha
        # = 0, no secant yet), NaN where z is 0 too (then the bound is 0).
        E = z / theta
        rel = np.where(w > E, E / (w - E), np.inf)
        return np.where(z == 0, 0.0, rel)

    def _certify(self, problem, state):
        """Set the criterion at the snapshot; keep the best certified snapshot."""
        state.criterion = float(self._bound(problem, state).max(initial=0.0))
        if state.criterion < state.best:
            state.best, state.best_W = state.criterion, state.W
        # Rounding has won when the gradient stops reaching new lows (the bound
        # itself may rise while the estimate of lambda_min falls).
        z = state.z_norm
        if state.z_best is None or (z < 0.9 * state.z_best).any():
            state.z_best, state.since_best = z if state.z_best is None else np.fmin(z, state.z_best), 0
        else:
            state.since_best += 1
            state.stalled = state.since_best >= _STALL_FACTOR * self.n_iter_no_change

    def _secant(self, problem, dW, dZ, state):
        """Lower the Rayleigh-quotient estimate of ``lambda_min`` with ``dZ = -A dW``."""
        num, den = -_col_dots(problem.xp, dW, dZ), _col_dots(problem.xp, dW, dW)
        rq = num / den  # under _step's errstate: inf or NaN where den = 0
        # Quotients not finite or <= 0 (rounding) say nothing; fmin ignores NaN.
        state.theta = np.fmin(state.theta, np.where(np.isfinite(rq) & (rq > 0), rq, np.nan))

    def _extrapolate(self, problem, state, W_new, Z, z_new, dW, dZ):
        """Nesterov's extrapolation of the snapshots while epochs are slow,
        restarted when the gradient at the extrapolated point opposes the
        move (O'Donoghue and Candes' gradient test, immune to the rounding of
        the objective). The gradient is affine: that of ``Y`` is exact.
        ``z_new`` are the column norms of ``Z``, ``dW = W_new - W``, ``dZ = Z - Z_W``."""
        xp = problem.xp
        slow = float((z_new / np.fmax(state.z_norm, 1e-300)).max())
        opposed = float(_col_dots(xp, state.ZY, dW).sum()) < 0
        if slow > _SLOW_EPOCH and not opposed:
            t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * state.nesterov_t**2))
            state.beta, state.nesterov_t = (state.nesterov_t - 1.0) / t_next, t_next
        else:
            state.beta, state.nesterov_t = 0.0, 1.0
        if state.beta == 0:
            state.Y, state.ZY = W_new, Z
        else:
            state.Y = W_new + state.beta * dW
            state.ZY = Z + state.beta * dZ

    def _vr_step(self, fit, state):
        problem, xp = fit.problem, fit.problem.xp
        state.epoch += 1
        W_new = self._vr_pass(problem, state, state.Y, -2.0 * state.ZY, state.rng)
        value, Z = self._full_pass(problem, W_new)
        f_new = float(xp.sum(value))
        if not np.isfinite(f_new):
            state.value = value  # the loop raises the divergence error
            return
        dW, dZ = W_new - state.W, Z - state.Z
        self._secant(problem, dW, dZ, state)
        # A rise beyond the rounding of the objective rejects the snapshot.
        rise = f_new - state.f > _ROUNDING * eps(xp, problem.dtype) * abs(state.f)
        if rise and (state.beta > 0 or state.auto):
            # Restart the momentum, or (no momentum) halve the data's step.
            if state.beta == 0:
                state.schedule = Constant(state.schedule(state.t) / 2.0)
            state.nesterov_t, state.beta = 1.0, 0.0
            state.Y, state.ZY = state.W, state.Z
        else:
            z_new = _norms(xp, Z)
            self._extrapolate(problem, state, W_new, Z, z_new, dW, dZ)
            state.W, state.Z, state.value, state.f = W_new, Z, value, f_new
            state.z_norm = z_new
        self._certify(problem, state)
        if fit.validation is not None:
            gain = self._validate(fit, state, state.W, state.epoch)
            if self._plateau(state, gain, fit.tol):
                state.criterion = max(state.window)

    # -- the end ------------------------------------------------------------------
    def _conclude(self, fit, state, tol, converged):
        if state.kind == "svrg" and fit.validation is None:
            return bool(state.best <= tol)
        return converged

    def _finish(self, fit, state):
        problem = fit.problem
        if state.kind == "plain":
            sgd = state.sgd
            if fit.validation is not None and state.best_val_W is not None:
                sgd.W, sgd.avg, sgd.n_avg = state.best_val_W, None, 0
            W = sgd.coef
        else:
            W = state.best_val_W if fit.validation is not None else state.best_W
            state.sgd = SGDState(
                W=W,
                t=state.t,
                n_passes=state.epoch,
                sw_sum=problem.sw_sum,
                x_mean=problem.X_offset,
                y_mean=problem.y_offset,
                safe_step=state.safe_step,
            )
        return W, problem.intercept(W)

    def _info(self, state):
        info = {
            "t": state.sgd.t, "state": state.sgd, "learning_rate": state.schedule,
            "method": state.kind,
        }
        if state.kind == "svrg":
            info["error_bound"] = state.best
            info["n_passes"] = 2 * state.epoch + 1
        if state.best_val_W is not None:
            info["validation_scores"] = tuple(state.scores)
            info["best_iteration"] = state.best_iteration
        return info

    def _not_converged_message(self, state, tol, max_iter):
        if state.kind == "plain":
            return (
                f"SGD(method='plain') did not converge in max_iter={max_iter} epochs: the "
                f"{'validation score' if state.best_val_W is not None else 'objective'} was "
                f"still improving by more than tol={tol:.1e} (relative) within the last "
                f"{self.n_iter_no_change} epochs. Increase max_iter or tol, or use "
                "method='svrg', which converges to the exact solution."
            )
        why = (
            "its error bound stopped improving (rounding or a too large learning_rate)"
            if state.stalled else f"max_iter={max_iter} epochs were not enough"
        )
        return (
            f"SGD could not certify the coefficients to tol={tol:.1e}: the estimated "
            f"relative coefficient error is {state.best:.2e}; {why}. Increase max_iter or "
            'tol, or use solver="gd" or "closed_form".'
        )

    def _divergence_message(self, fit, state):
        if state.kind == "plain":
            return str(self._diverged(state.schedule(state.sgd.t), state.sgd.safe_step))
        return str(self._diverged(state.schedule(state.t), state.safe_step))

    @staticmethod
    def _batch_value(problem, W):
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.sum(problem.value_from_residual(problem.residual(W), W)))

    # -- partial_fit -----------------------------------------------------------
    def partial_solve(
        self, state, X, Y, sample_weight, *, alpha, fit_intercept, random_state=None, verbose=0
    ):
        """One pass of plain SGD over a batch of rows, continuing ``state``.

        Whatever ``method``: streaming needs no snapshot of the whole data.

        Parameters
        ----------
        state : SGDState or None
            What earlier calls (or ``solve``) left; None for the first call.
            Not modified.
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Y : ndarray of shape (n_samples, n_targets)
        sample_weight : ndarray of shape (n_samples,) or None
        alpha : ndarray of shape (n_targets,)
        fit_intercept : bool
        random_state : int, Generator or None
            Seed of the row order of this pass.
        verbose : int

        Returns
        -------
        state : SGDState
            The new state.
        result : SolveResult
            Coefficients and intercept after the pass, and the objective of
            this batch (with its share ``S_batch / S_seen`` of the penalty).
        """
        schedule = self._check_params()
        _check_magnitudes(X=X, Y=Y)
        n_features, n_targets = X.shape[1], Y.shape[1]
        if state is None:
            state = SGDState(
                W=np.zeros((n_features, n_targets), dtype=X.dtype),
                x_mean=np.zeros(n_features, dtype=X.dtype),
                y_mean=np.zeros(n_targets, dtype=X.dtype),
            )
        else:
            state = state.copy()
        S_batch = float(X.shape[0] if sample_weight is None else sample_weight.sum())
        S_seen = state.sw_sum + S_batch
        if fit_intercept:
            x_mean = _weighted_mean(X, sample_weight, S_batch)
            y_mean = _weighted_mean(Y, sample_weight, S_batch)
            if state.sw_sum > 0:
                x_mean = state.x_mean + (x_mean - state.x_mean) * (S_batch / S_seen)
                y_mean = state.y_mean + (y_mean - state.y_mean) * (S_batch / S_seen)
            state.x_mean, state.y_mean = x_mean, y_mean
        state.sw_sum = S_seen
        problem = RidgeProblem(
            X,
            Y,
            np.asarray(alpha, dtype=X.dtype) * (S_batch / S_seen),
            sample_weight=sample_weight,
            fit_intercept=fit_intercept,
            X_offset=state.x_mean,
            y_offset=state.y_mean,
        )
        W_before = state.coef.copy()
        state.safe_step = min(state.safe_step, self._safe_step(problem, "plain"))
        schedule = schedule.bind(state.safe_step, self._strong_convexity(problem))
        self._pass(problem, state, schedule, np.random.default_rng(random_state))
        W = state.coef
        value = self._batch_value(problem, W)
        # Cheap test first (the objective at w = 0 needs only Y), then the
        # objective on this batch at the coefficients before the pass.
        at_zero = float(np.sum(problem.weighted(problem.Yc) * problem.Yc))
        if not np.isfinite(value) or (
            value > self.divergence_factor * at_zero
            and value > self.divergence_factor * self._batch_value(problem, W_before)
        ):
            raise self._diverged(schedule(state.t), state.safe_step)
        if verbose:
            print(f"[SGD] partial_fit pass {state.n_passes}  t {state.t}  objective {value:.8e}")
        result = SolveResult(
            coef=W,
            intercept=problem.intercept(W),
            n_iter=1,
            converged=False,
            history=(value,),
            info={"t": state.t, "state": state, "learning_rate": schedule},
        )
        return state, result
