"""Per-feature penalty factors, reduced exactly to ordinary ridge.

With factors ``f_j >= 0`` the objective is

.. math::

    \\sum_i s_i (y_i - x_i^\\top w - b)^2 + \\alpha \\sum_j f_j w_j^2

(all ones: ordinary ridge; ``f_j = 0``: feature ``j`` is not penalized, like the
intercept). Two exact reparametrizations turn it into the ordinary ridge
problem every solver and every path of l2gd already solves, with the same
``alpha``:

1. **Positive factors** (the set ``P``): with ``v_j = sqrt(f_j) w_j`` and the
   column ``x_j / sqrt(f_j)``, the penalty is ``alpha ||v||^2`` and the fit is
   unchanged. Sparse X stays sparse; nothing else is copied.
2. **Zero factors** (the set ``U``): for fixed ``w_P`` the best intercept and
   ``w_U`` are the weighted least-squares fit of ``y - X_P w_P`` on
   ``Z = [1, X_U]`` (Frisch, Waugh and Lovell), so what remains is ridge
   *without intercept* on ``M X_P`` and ``M y``, where ``M`` is the
   ``S``-weighted projection off the span of ``Z``; then
   ``w_U = beta - Gamma w_P`` with ``Gamma``, ``beta`` the least-squares
   coefficients of ``X_P`` and ``y`` on ``Z``. On the data ``M X_P`` is a dense
   ``n x |P|`` array (a sparse X becomes dense); on statistics it is the Schur
   complement of the ``U`` block, ``O(p^2)`` whatever the number of rows.

The objective values are the same in both forms (the eliminated part is
minimized exactly), so a solver's history needs no mapping. When no feature
is penalized, the reduced problem is one zero column (its coefficient is 0 for
every ``alpha``), so every solver and path runs unchanged. A rank-deficient
``Z`` (e.g. an unpenalized constant column next to the intercept) is solved in
the minimum-norm sense within ``U``, with the package's singular-value cutoff.

:class:`PenaltyReduction` holds one reduction; :func:`reduce_data` and
:func:`reduce_stats` build it from rows or from :class:`~l2gd.RidgeStats`.
"""

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ._array_api import is_numpy, namespace, to_device, to_numpy
from ._objective import _weighted_mean
from ._linalg import psd_pinv, singular_cutoff
from ._stats import RidgeStats


def _from_mapping(penalty_factor, n_features, feature_names):
    """Factors from ``{column: factor}``: column indices, or feature names when
    the data had them; columns not named get 1."""
    f = np.ones(n_features)
    names = {} if feature_names is None else {str(n): i for i, n in enumerate(feature_names)}
    for key, value in penalty_factor.items():
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            if not -n_features <= key < n_features:
                raise ValueError(
                    f"penalty_factor names column {key}, but X has {n_features} features."
                )
            f[key] = _real_factor(value)
        elif isinstance(key, str) and key in names:
            f[names[key]] = _real_factor(value)
        else:
            known = "no feature names" if not names else f"feature names {sorted(names)[:5]}..."
            raise ValueError(
                f"penalty_factor key {key!r} is neither a column index nor a feature name "
                f"of X (X has {n_features} features and {known})."
            )
    return f


def _real_factor(value):
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"penalty_factor values must be real numbers, got {value!r}.") from exc


def has_zero_factor(penalty_factor):
    """Whether ``penalty_factor`` (as given, before validation) leaves some feature
    unpenalized; known without the data."""
    if isinstance(penalty_factor, dict):
        penalty_factor = list(penalty_factor.values())
    try:
        return penalty_factor is not None and bool(np.any(to_numpy(penalty_factor) == 0))
    except (TypeError, ValueError):
        return False


def check_penalty_factor(penalty_factor, n_features, *, positive=False, feature_names=None):
    """``penalty_factor`` as a float64 array of shape (n_features,), or None.

    An array-like gives one factor per feature; a dict ``{column: factor}``
    (column indices, or feature names of a DataFrame X) sets the named columns
    and leaves the others at 1. None, and all ones, mean ordinary ridge (None
    is returned for both, so the default path is untouched). Raises
    ``ValueError`` for a wrong shape or key, a negative, NaN or infinite
    value, and for zero factors with ``positive=True``.
    """
    if penalty_factor is None:
        return None
    if isinstance(penalty_factor, dict):
        penalty_factor = _from_mapping(penalty_factor, n_features, feature_names)
    try:
        f = np.asarray(to_numpy(penalty_factor), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            "penalty_factor must be None or an array-like of non-negative reals, got "
            f"{type(penalty_factor).__name__}."
        ) from exc
    if f.ndim != 1 or f.shape[0] != n_features:
        raise ValueError(
            f"penalty_factor must have shape (n_features,) = ({n_features},), got shape "
            f"{f.shape}."
        )
    if not np.all(np.isfinite(f)) or np.any(f < 0):
        raise ValueError(
            "penalty_factor must be finite and >= 0 (0: that feature is not penalized), "
            f"got {penalty_factor!r}."
        )
    if positive and np.any(f == 0):
        raise ValueError(
            "penalty_factor with zero entries cannot be combined with positive=True "
            "(the unpenalized features are eliminated with the intercept, unconstrained); "
            "use small positive factors instead, or positive=False."
        )
    return None if np.all(f == 1.0) else f


@dataclass(frozen=True)
class PenaltyReduction:
    """The reduction of one weighted ridge problem with penalty factors.

    The reduced problem has the columns ``penalized`` of X, divided by
    ``sqrt(f)`` (and, when ``free`` is not empty, projected off ``Z``); its
    solution ``V`` maps back by :meth:`coef` and :meth:`intercept`.

    Parameters
    ----------
    factor : ndarray of shape (n_features,)
        The penalty factors.
    gamma : ndarray of shape (n_free, n_penalized) or None
        Least-squares coefficients of the (centered) penalized columns on the
        (centered) free ones; None without free columns.
    beta : ndarray of shape (n_free, n_targets) or None
        The same for the targets.
    x_mean, y_mean : ndarray or None
        Weighted means of X and y (only with free columns and an intercept:
        the reduced problem then has no intercept of its own).
    free_rank : int
        Numerical rank of the free columns (centered with an intercept).
    """

    factor: np.ndarray
    gamma: np.ndarray = None
    beta: np.ndarray = None
    x_mean: np.ndarray = None
    y_mean: np.ndarray = None
    #: Numerical rank of the (centered, weighted) free columns: the degrees of
    #: freedom they add to the fit's (each unpenalized feature counts one).
    free_rank: int = 0
    #: Leverage of the eliminated block (intercept and free columns) of each row,
    #: the diagonal of its weighted hat matrix (rows only, not statistics).
    free_leverage: np.ndarray = None

    @property
    def penalized(self):
        return np.flatnonzero(self.factor > 0)

    @property
    def free(self):
        return np.flatnonzero(self.factor == 0)

    @property
    def scale(self):
        """``1 / sqrt(f_j)`` of the penalized columns (one 1.0 for the zero column
        that stands in when no feature is penalized)."""
        if self.penalized.size == 0:
            return np.ones(1)
        return 1.0 / np.sqrt(self.factor[self.penalized])

    @property
    def has_free(self):
        return self.free.size > 0

    def reduced_intercept(self, fit_intercept):
        """Whether the reduced problem keeps an intercept (not when the free
        columns took it)."""
        return fit_intercept and not self.has_free

    def coef(self, V):
        """Coefficients ``W`` (n_features, n_targets) from the reduced problem's ``V``
        (any namespace; computed on the host, returned like ``V``)."""
        xp, device = namespace(V)
        Vh = np.asarray(to_numpy(V), dtype=np.float64)
        W = np.zeros((self.factor.size, Vh.shape[1]))
        if self.penalized.size:
            W[self.penalized] = self.scale[:, None] * Vh
        if self.has_free:
            W[self.free] = self.beta - self.gamma[:, : self.penalized.size] @ W[self.penalized]
        return to_device(W, xp, device, V.dtype)

    def intercept(self, W, b_reduced):
        """Intercepts for ``W`` (already mapped back): the reduced problem's own
        without free columns, else ``y_mean - x_mean^T W`` (0 without intercept)."""
        if not self.has_free:
            return b_reduced
        xp, device = namespace(W)
        if self.x_mean is None:
            return b_reduced * 0
        Wh = np.asarray(to_numpy(W), dtype=np.float64)
        b = self.y_mean - self.x_mean @ Wh
        return to_device(b, xp, device, W.dtype)

    def reduced_coef(self, W):
        """The reduced problem's coefficients of ``W`` (a warm start)."""
        xp, device = namespace(W)
        Wh = np.asarray(to_numpy(W), dtype=np.float64)[self.penalized]
        if not self.penalized.size:
            Wh = np.zeros((1, Wh.shape[1]))
        return to_device(Wh / self.scale[:, None], xp, device, W.dtype)

    def result(self, result):
        """A :class:`~l2gd.solvers.SolveResult` of the reduced problem in the
        original coefficients; a streaming state or statistics (of the reduced
        problem) are dropped."""
        W = self.coef(result.coef)
        info = {k: v for k, v in result.info.items() if k not in ("stats", "state")}
        return replace(result, coef=W, intercept=self.intercept(W, result.intercept), info=info)

    def path(self, W_path, b_path):
        """Map a path ``(n_alphas, n_penalized, n_targets)`` of coefficients and
        ``(n_alphas, n_targets)`` of intercepts back."""
        W = np.stack([np.asarray(self.coef(np.asarray(V))) for V in W_path])
        b = np.stack([np.asarray(self.intercept(w, c)) for w, c in zip(W, b_path)])
        return W, b


def scale_columns(X, scale):
    """``X`` with column ``j`` multiplied by ``scale[j]`` (a new array; sparse stays
    sparse, in its format)."""
    if sp.issparse(X):
        return (X @ sp.diags(scale.astype(X.dtype))).asformat(X.format)
    xp, device = namespace(X)
    return X * to_device(scale, xp, device, X.dtype)


def _take_columns(X, idx):
    if sp.issparse(X):
        return X.tocsc()[:, idx].toarray()
    xp, device = namespace(X)
    if is_numpy(xp):
        return X[:, idx]
    return xp.take(X, xp.asarray(idx, device=device), axis=1)


def _weighted_lstsq(A, Bs, root):
    """Least-squares coefficients of each ``B`` in ``Bs`` on ``A`` with row weights
    ``root**2``, minimum-norm below the singular-value cutoff, and the rank of
    ``A``. ``A`` is small (n x k) and solved on the host in float64; the
    products with ``B`` run in B's namespace."""
    Ah = np.asarray(to_numpy(A))
    dtype = Ah.dtype
    Ah = Ah.astype(np.float64)
    if root is not None:
        Ah = Ah * np.asarray(to_numpy(root), dtype=np.float64)[:, None]
    U, s, Vt = np.linalg.svd(Ah, full_matrices=False)
    keep = s > singular_cutoff(s, Ah.shape[0], dtype)
    leverage = np.einsum("ij,ij->i", U[:, keep], U[:, keep])
    coefs = []
    for B in Bs:
        xp, device = namespace(B)
        Ur = to_device(U[:, keep], xp, device, B.dtype)
        Bw = B if root is None else B * root[:, None]
        UtB = np.asarray(to_numpy(Ur.T @ Bw), dtype=np.float64)
        coefs.append((Vt[keep].T / s[keep]) @ UtB)
    return coefs, int(keep.sum()), leverage


def reduce_data(factor, X, Y, sample_weight, fit_intercept):
    """The reduced rows ``(X', Y', fit_intercept')`` and their :class:`PenaltyReduction`.

    ``X`` and ``Y`` (2-D) are validated arrays in any supported form; they are
    not modified. Without zero factors ``X'`` is ``X`` with scaled columns.
    """
    red = PenaltyReduction(factor)
    if not red.has_free:
        return scale_columns(X, red.scale), Y, fit_intercept, red
    xp, _ = namespace(X)
    XP, Z = _take_columns(X, red.penalized), _take_columns(X, red.free)
    if not red.penalized.size:  # nothing penalized: a zero column keeps the shapes
        XP = namespace(XP)[0].zeros((X.shape[0], 1), dtype=X.dtype, device=namespace(X)[1])
    x_mean = y_mean = None
    if fit_intercept:
        total = float(X.shape[0] if sample_weight is None else xp.sum(sample_weight))
        mZ, mP, mY = (_weighted_mean(A, sample_weight, total, xp) for A in (Z, XP, Y))
        Z, XP, Y = Z - mZ, XP - mP, Y - mY
        x_mean = np.zeros(factor.size)
        x_mean[red.free] = to_numpy(mZ)
        x_mean[red.penalized] = to_numpy(mP)
        y_mean = np.asarray(to_numpy(mY), dtype=np.float64)
    root = None if sample_weight is None else xp.sqrt(sample_weight)
    (gamma, beta), rank, leverage = _weighted_lstsq(Z, (XP, Y), root)
    device = namespace(X)[1]
    XP = XP - Z @ to_device(gamma, xp, device, X.dtype)
    Y = Y - Z @ to_device(beta, xp, device, X.dtype)
    if fit_intercept:  # the intercept's leverage, s_i / S (Z is centered: they add)
        s = np.ones(X.shape[0]) if sample_weight is None else np.asarray(
            to_numpy(sample_weight), dtype=np.float64)
        leverage = leverage + s / s.sum()
    red = PenaltyReduction(factor, gamma, beta, x_mean, y_mean, rank, leverage)
    return scale_columns(XP, red.scale), Y, False, red


def reduce_stats(factor, stats):
    """The reduced :class:`~l2gd.RidgeStats` and their :class:`PenaltyReduction`.

    Free columns are eliminated by the Schur complement of their block of the
    (centered) moments, with a pseudo-inverse below the package's eigenvalue
    cutoff; the penalized block is then scaled by ``1 / sqrt(f)``.
    """
    red = PenaltyReduction(factor)
    P, U, s = red.penalized, red.free, red.scale
    xx, xy, yy = stats.xx.astype(np.float64), stats.xy.astype(np.float64), stats.yy
    if red.has_free:
        G_up = xx[np.ix_(U, P)]
        pinv, rank = psd_pinv(xx[np.ix_(U, U)], stats.dtype)
        gamma, beta = pinv @ G_up, pinv @ xy[U]
        xy_u = xy[U]
        xx = xx[np.ix_(P, P)] - G_up.T @ gamma
        xx = (xx + xx.T) / 2
        xy = xy[P] - G_up.T @ beta
        if not P.size:  # nothing penalized: a zero column keeps the shapes
            xx, xy = np.zeros((1, 1)), np.zeros((1, xy.shape[1]))
        yy = np.clip(yy - np.sum(xy_u * beta, axis=0), 0, None)
        red = PenaltyReduction(
            factor, gamma, beta,
            np.asarray(stats.x_mean, dtype=np.float64) if stats.fit_intercept else None,
            np.asarray(stats.y_mean, dtype=np.float64) if stats.fit_intercept else None,
            rank,
        )
        x_mean, y_mean = np.zeros(max(P.size, 1)), np.zeros(stats.n_targets)
    else:
        x_mean, y_mean = stats.x_mean * s, stats.y_mean
    dtype = stats.dtype
    reduced = RidgeStats(
        stats.sw_sum,
        np.asarray(x_mean, dtype=dtype),
        np.asarray(y_mean, dtype=dtype),
        (xx * np.outer(s, s)).astype(dtype),
        (xy * s[:, None]).astype(dtype),
        np.asarray(yy, dtype=dtype),
        stats.n_samples,
        stats.fit_intercept,
    )
    return reduced, red
