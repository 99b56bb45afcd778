"""ridge_path, alpha grids, leave-one-out, fold scoring (one fold engine).

The path itself is a solver capability (``solver.solve_path(problem, alphas)``,
a :class:`~l2gd.solvers._base.PathResult`): the closed form's spectral path
(one decomposition for every alpha) or a warm-started path from the largest to
the smallest alpha. This module turns paths into what cross-validation needs:

* the grid that ``alphas=<int>`` builds (:func:`alpha_grid`);
* :func:`ridge_path`, the public path;
* K-fold scores from one fold engine (:func:`fold_scores`): for each fold, the
  training side's problem (its rows, with its statistics when the solver's
  path starts from them: the total of the test folds' statistics minus its
  own, :func:`train_stats`), its path, then the held-out scores. In memory
  the statistics come from the arrays and the held-out rows are scored;
  on Dask they come from :func:`l2gd._dask.fold_stats` in one pass and the
  held-out error from the test fold's statistics, through the same
  :func:`train_stats` and the same spectral path;
* leave-one-out (:class:`LeaveOneOut`): with ``U = S^{1/2} X_c V L^{-1/2}``,
  the leave-one-out residual of row ``i`` is ``r_i / (1 - h_i - s_i / S)``
  with ``r`` the residual of the fit on all rows and ``h_i`` the diagonal of
  the hat matrix ``U diag(L / (L + alpha)) U^T``, the ``s_i / S`` term
  accounting for the unpenalized intercept; both follow for every alpha from
  the closed form's spectrum;
* generalized cross-validation (:func:`gcv_path`): MASS's ``RSS(alpha) /
  (S - df(alpha))^2`` for every alpha from the same one decomposition, and
  the degrees of freedom ``df`` that every mode reports (:func:`grid_dof`).
"""

import copy
import inspect
from dataclasses import dataclass, replace
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_array
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.parallel import Parallel, delayed

from . import _callbacks
from ._array_api import to_numpy
from ._inference import design_eigenvalues, dof_from_eigenvalues, gcv_score
from ._objective import GramProblem, RidgeProblem
from ._penalty import check_penalty_factor, reduce_data, reduce_stats
from ._ridge import GDRidgeRegressor
from ._scaling import Rescaling
from ._scores import r2_from_parts, r2_scores
from ._stats import RidgeStats
from ._validation import ACCEPT_SPARSE, FLOAT_DTYPES, check_sample_weight
from .solvers import ClosedForm
from .solvers import _registry
from .solvers._closed_form import DataFits, StatsFits, inverse_shift, problem_stats, shrinkage

#: Relative ends of the grid that ``alphas=<int>`` builds (see :func:`alpha_grid`).
GRID_LOW, GRID_HIGH = 1e-6, 1e3


# Arrays of predictions or residuals for a chunk of alphas hold at most this
# many elements.
_CHUNK_ELEMENTS = 2**22


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
    return _grid(float(np.sum(problem._gram_diagonal())), problem.n_features, n_alphas)


def _grid(trace, n_features, n_alphas):
    """The grid from the trace of the weighted, centered Gram matrix."""
    if not np.isfinite(trace) or trace <= 0:
        trace = float(max(n_features, 1))
    mean = trace / max(n_features, 1)
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


#: ``target_batch_size="auto"``: targets per batch so that the largest
#: per-batch temporary holds about this many float64 values (32 MiB).
TARGET_BATCH_ELEMENTS = 2**22


def check_target_batch_size(target_batch_size):
    """``target_batch_size`` validated: ``"auto"`` or an int ``>= 1``."""
    if isinstance(target_batch_size, str) and target_batch_size == "auto":
        return target_batch_size
    if isinstance(target_batch_size, bool) or not isinstance(target_batch_size, Integral):
        raise TypeError(
            "target_batch_size must be 'auto' or an int >= 1 (the number of targets per "
            f"batch), got {target_batch_size!r}."
        )
    if target_batch_size < 1:
        raise ValueError(
            f"target_batch_size must be 'auto' or an int >= 1, got {target_batch_size}."
        )
    return int(target_batch_size)


def target_batch_slices(n_targets, target_batch_size, per_target):
    """Slices of consecutive targets, ``target_batch_size`` per batch (an int),
    or with ``"auto"`` ``TARGET_BATCH_ELEMENTS // per_target`` (at least one):
    ``per_target`` is the number of values one target adds to the largest
    temporary of a batch (``n_samples`` for leave-one-out and GCV,
    ``max(n_samples, n_alphas * n_features)`` for a path)."""
    size = target_batch_size
    if size == "auto":
        size = max(1, TARGET_BATCH_ELEMENTS // max(1, int(per_target)))
    size = max(1, min(int(size), n_targets))
    return [slice(start, min(start + size, n_targets)) for start in range(0, n_targets, size)]


@dataclass(frozen=True)
class TargetBatches:
    """The problems of consecutive batches of targets on the same rows.

    Each batch's :class:`_PathProblem` holds only its targets' columns (their
    centered copy is ``n_samples x batch``), so no array of all targets
    beyond ``Y`` itself is formed. Iterating yields ``(cols, problem)``.
    """

    X: object
    Y: np.ndarray
    sample_weight: object
    fit_intercept: bool
    slices: tuple

    @classmethod
    def of(cls, X, Y, sample_weight, fit_intercept, target_batch_size="auto", per_target=None):
        per_target = X.shape[0] if per_target is None else per_target
        slices = target_batch_slices(Y.shape[1], target_batch_size, per_target)
        return cls(X, Y, sample_weight, fit_intercept, tuple(slices))

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_targets(self):
        return self.Y.shape[1]

    def whole(self):
        """One batch of every target."""
        return replace(self, slices=(slice(0, self.n_targets),))

    def __iter__(self):
        for cols in self.slices:
            yield cols, _problem(self.X, self.Y[:, cols], self.sample_weight, self.fit_intercept)


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


def _resolve_solver(solver, X, positive=False):
    """A fresh solver object and its name for many alphas (the ``"path"`` row
    of ``"auto"``), checked against X (and ``positive``), as the estimator
    does."""
    est = GDRidgeRegressor(solver=solver, positive=positive)
    obj, name = est._solver_instance(X, task="path")
    est._check_capabilities(obj, name, X)
    return obj, name


def ridge_path(
    X,
    y,
    *,
    alphas=100,
    sample_weight=None,
    fit_intercept=True,
    positive=False,
    penalty_factor=None,
    solver="auto",
    tol=None,
    max_iter=None,
    random_state=None,
    target_batch_size="auto",
):
    """Compute ridge coefficients along a grid of alphas.

    The objective is :class:`sklearn.linear_model.Ridge`'s for each alpha.
    With the closed-form solver one decomposition serves every alpha (an SVD
    with ``ClosedForm(method="svd")``);
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
    positive : bool, default=False
        Constrain the coefficients to be ``>= 0`` (as in
        :class:`~l2gd.GDRidgeRegressor`); every alpha is then solved on its
        own, warm-started from the previous one.
    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature penalty factors (as in :class:`~l2gd.GDRidgeRegressor`):
        the path of ``alpha * sum_j f_j w_j**2``. The default grid is then
        that of the reduced problem (see :mod:`l2gd._penalty`).
    solver : {"auto", "closed_form", "gd"} or Solver, default="auto"
        As in :class:`~l2gd.GDRidgeRegressor`; ``"auto"`` follows the rule for
        many alphas (``task="path"`` of
        :func:`l2gd.solvers._registry.auto_solver`), which keeps the closed
        form up to 1000 sparse features.
    tol : float, default=None
        Tolerance of iterative solvers (their default when None).
    max_iter : int, default=None
        Iterations per alpha of iterative solvers (their default when None).
    random_state : int, RandomState instance or None, default=None
        Seed of stochastic solvers.
    target_batch_size : "auto" or int, default="auto"
        With the closed form, targets whose paths are computed together, each
        batch projected on one decomposition of X (extra memory about
        ``n_features**2 + max(n_samples, n_alphas * n_features) *
        target_batch_size`` beyond the returned path). ``"auto"``: ``2**22 //
        max(n_samples, n_alphas * n_features)`` targets (32 MiB per batch).
        Iterative solvers, ``positive=True`` and penalty factors with zeros
        take all targets at once. The path does not depend on it.

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
    penalty = check_penalty_factor(penalty_factor, X.shape[1], positive=positive)
    n_features, reduction = X.shape[1], None
    if penalty is not None:
        X, Y, fit_intercept, reduction = reduce_data(penalty, X, Y, sw, fit_intercept)
    # Data near the ends of the float range: the path of the exactly rescaled
    # problem, mapped back (alphas scale by 1 / x_scale**2).
    resc = Rescaling.of(X, Y)
    batch_size = check_target_batch_size(target_batch_size)
    Xs, Ys = resc.data(X, Y)
    if isinstance(alphas, Integral) and not isinstance(alphas, bool):
        if alphas < 1:
            raise ValueError(f"alphas must be a positive int or an array, got {alphas}.")
        # X only: one target stands for all.
        grid = _alpha_grid(_problem(Xs, Ys[:, :1], sw, fit_intercept), alphas) * resc.x_scale**2
    else:
        grid = _check_alphas(alphas, positive=False)
    grid = np.sort(grid)[::-1].astype(X.dtype)
    solver_obj, _ = _resolve_solver(solver, X, positive)
    seed = _registry.seed(random_state)
    opts = {"tol": tol, "max_iter": max_iter, "random_state": seed}
    opts.update({"positive": True} if positive else {})
    batches = TargetBatches.of(
        Xs, Ys, sw, fit_intercept, batch_size, max(Xs.shape[0], len(grid) * Xs.shape[1])
    )
    if positive or reduction is not None or not callable(getattr(solver_obj, "decompose", None)):
        batches = batches.whole()
    coefs = intercepts = basis = None
    for cols, problem in batches:
        if len(batches.slices) > 1:
            basis = solver_obj.decompose(problem) if basis is None else basis
            opts["basis"] = basis
        path = solver_obj.solve_path(problem, resc.alpha(grid), **opts)
        W, b = resc.coef(path.coefs), resc.intercept(path.intercepts)
        if reduction is not None:
            W, b = reduction.path(W, b)
        if coefs is None:  # the dtype of the path
            coefs = np.empty((Y.shape[1], n_features, len(grid)), dtype=W.dtype)
            intercepts = np.empty((Y.shape[1], len(grid)), dtype=b.dtype)
        coefs[cols] = W.transpose(2, 1, 0)  # (n_targets, n_features, n_alphas)
        intercepts[cols] = b.T
    if np.ndim(y) == 1:
        coefs, intercepts = coefs[0], intercepts[0]
    return grid, coefs, intercepts


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


# ---------------------------------------------------------------------------
# The fold engine
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class FoldData:
    """What every in-memory fold reads: the rows (rescaled by ``rescaling``,
    as the fits run) and the user's rows (what scorers see)."""

    X: object
    Y: np.ndarray
    sample_weight: object
    fit_intercept: bool
    X_user: object
    Y_user: np.ndarray
    rescaling: Rescaling
    #: Penalty factors with zero entries (:mod:`l2gd._penalty`), eliminated on
    #: each fold's training rows; None otherwise (positive factors are applied
    #: to the columns of ``X`` once, for all folds).
    penalty: object = None


@dataclass(frozen=True)
class Scoring:
    """How held-out rows are scored: ``scorer=None`` is R^2 for every alpha
    at once (in the rescaled units, where it is the same), any scorer is
    called per alpha in the user's units (``user_alphas``)."""

    scorer: object
    per_target: bool
    y_1d: bool
    user_alphas: np.ndarray


class _FoldProblem(_PathProblem):
    """A fold's training rows, with their statistics when they are known
    (``stats``: the total of the test folds' statistics minus this fold's)."""

    stats = None

    def __init__(self, *args, stats=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stats = stats


@dataclass(frozen=True)
class RowsFold:
    """An in-memory fold: its training problem, and the scores of its held-out rows."""

    data: FoldData
    train: np.ndarray
    test: np.ndarray
    stats: RidgeStats
    score_params: dict
    scoring: Scoring

    def problem(self, cols=None):
        """The training problem (of the targets ``cols`` only, a slice, when given)."""
        d, rows = self.data, self.train
        Y = d.Y[rows] if cols is None else d.Y[:, cols][rows]
        X, sw, fi = d.X[rows], _rows(d.sample_weight, rows), d.fit_intercept
        reduction = None
        if d.penalty is not None:
            X, Y, fi, reduction = reduce_data(d.penalty, X, Y, sw, fi)
        problem = _FoldProblem(
            X, Y, np.zeros(Y.shape[1], dtype=X.dtype), sample_weight=sw, fit_intercept=fi,
            stats=self.stats,
        )
        problem.reduction = reduction
        return problem

    def score(self, path, alphas, cols=None):
        """Held-out scores of ``path`` (of the targets ``cols`` only, then per target)."""
        d, test, sc = self.data, self.test, self.scoring
        W, b = path.coefs, path.intercepts
        per_target = sc.per_target or cols is not None
        cols = slice(None) if cols is None else cols
        if sc.scorer is None:
            return _score_path(
                W, b, alphas, d.X[test], d.Y[:, cols][test], self.score_params, None,
                per_target, sc.y_1d, d.fit_intercept,
            )
        resc = d.rescaling
        return _score_path(
            resc.coef(W), resc.intercept(b), sc.user_alphas, d.X_user[test],
            d.Y_user[:, cols][test], self.score_params, sc.scorer, per_target, sc.y_1d,
            d.fit_intercept,
        )


@dataclass(frozen=True)
class StatsFold:
    """A fold known by its statistics only (Dask): the training side's and the
    test fold's. Held-out error from the test statistics
    (:meth:`~l2gd.RidgeStats.squared_error`); ``scoring`` is ``"r2"`` or
    ``"mse"`` (minus the weighted mean squared error)."""

    train: RidgeStats
    test: RidgeStats
    scoring: str
    per_target: bool
    #: Penalty factors with zero entries, eliminated from the training statistics.
    penalty: object = None

    def problem(self):
        if self.penalty is None:
            return _stats_problem(self.train)
        reduced, reduction = reduce_stats(self.penalty, self.train)
        problem = _stats_problem(reduced)
        problem.reduction = reduction
        return problem

    def score(self, path, alphas):
        err = self.test.squared_error(path.coefs, path.intercepts)  # (n_alphas, n_targets)
        if self.scoring == "mse":
            sc = -err / self.test.sw_sum
        else:
            sc = r2_from_parts(err, self.test.yy)
        return sc if self.per_target else sc.mean(axis=1)


def _stats_problem(stats):
    """The statistics (Gram) problem of ``stats``, at alpha 0."""
    return GramProblem(stats, np.zeros(stats.n_targets, dtype=stats.dtype))


def fold_scores(folds, alphas, solver, opts=None, n_jobs=None, target_slices=None):
    """The one fold engine: for each fold, the path of its training problem
    (``solver.solve_path``), then its held-out scores.

    ``folds``: :class:`RowsFold` or :class:`StatsFold` objects. Returns one
    array per fold, of shape (n_alphas,) or (n_alphas, n_targets).
    Under an estimator's fit with progress callbacks (:mod:`l2gd._callbacks`)
    this is one ``"cross-validation"`` task with one ``"fold"`` subtask per
    fold (created here, before the workers start, as scikit-learn's searches
    do), each with one ``"alpha"`` subtask per alpha of a warm-started path.
    ``target_slices`` (in-memory folds, a solver with ``decompose``): the
    targets are taken batch by batch, each fold's X decomposed once for all
    batches (:func:`batched_fold_score`).
    """
    folds = list(folds)
    tasks = _fold_tasks(len(folds), len(np.atleast_1d(alphas)))
    scores = Parallel(n_jobs=n_jobs)(
        delayed(_fold_score)(fold, alphas, solver, opts or {}, task, target_slices)
        for fold, task in zip(folds, tasks[1:])
    )
    if tasks[0] is not None:
        tasks[0].end()
    return scores


def _fold_tasks(n_folds, n_alphas):
    """``[cross-validation task, fold tasks...]`` under the current fit task, or
    Nones without one."""
    parent = _callbacks.current("fit")
    if parent is None:
        return [None] * (n_folds + 1)
    cv = parent.subtask("cross-validation", max_subtasks=n_folds).begin()
    # A fold's hooks see no rows: the estimator's X is not the fold's (and is
    # not sent to the workers once per fold).
    fold = {"max_subtasks": n_alphas, "kind": "path", "X": None, "y": None, "metadata": None}
    return [cv] + [cv.subtask("fold", **fold) for _ in range(n_folds)]


def _fold_score(fold, alphas, solver, opts, task=None, target_slices=None):
    with _callbacks.running(task):
        if task is not None:
            task.begin()
        if target_slices is None:
            scores = _fold_path(fold, alphas, solver, opts)
        else:
            scores = batched_fold_score(fold, alphas, solver, opts, target_slices)
        if task is not None:
            task.end()
    return scores


def batched_fold_score(fold, alphas, solver, opts, target_slices):
    """The scores of a :class:`RowsFold`, target batch by target batch: one
    ``solver.decompose`` of the fold's training X, reused by every batch's path
    (``solve_path(basis=...)``). Peak memory: that of one batch's path."""
    basis, parts = None, []
    for cols in target_slices:
        problem = fold.problem(cols)
        if basis is None:
            basis = solver.decompose(problem)
        parts.append(_fold_path(fold, alphas, solver, {**opts, "basis": basis}, problem, cols))
    scores = np.concatenate(parts, axis=1)
    return scores if fold.scoring.per_target else scores.mean(axis=1)


def _fold_path(fold, alphas, solver, opts, problem=None, cols=None):
    problem = fold.problem() if problem is None else problem
    path = solver.solve_path(problem, alphas, **opts)
    reduction = getattr(problem, "reduction", None)
    if reduction is not None:  # back to the coefficients of all the features
        coefs, intercepts = reduction.path(path.coefs, path.intercepts)
        path = replace(path, coefs=coefs, intercepts=intercepts)
    return fold.score(path, alphas) if cols is None else fold.score(path, alphas, cols)


def train_stats(parts, fit_intercept):
    """The total of the test folds' centered statistics ``parts``, and each
    fold's training statistics: the total minus the fold (uncentered without
    intercept). The same for NumPy and Dask statistics."""
    total = parts[0]
    for part in parts[1:]:
        total = total.merge(part)
    train = [total.subtract(part) for part in parts]
    return total, train if fit_intercept else [t.uncentered() for t in train]


def _fold_stats(X, Y, sw, rows):
    return RidgeStats._from_checked(X[rows], Y[rows], _rows(sw, rows), True)


def _is_partition(splits, n_samples):
    """Whether the test sets partition the rows and each train set is the rest."""
    seen = np.zeros(n_samples, dtype=int)
    for train, test in splits:
        if len(train) + len(test) != n_samples:
            return False
        seen[test] += 1
    return bool(np.all(seen == 1))


def row_folds(data, splits, solver, score_params, scoring, n_jobs=None, batched=False):
    """The :class:`RowsFold` of each split. When the solver's path starts from
    statistics (``solver.path_uses_stats``), every training set has at least
    as many rows as features and the test sets partition the rows, each test
    fold's statistics are computed once and each training set's follow by
    subtraction (:func:`train_stats`), unless the targets are ``batched``
    (the statistics of all targets would hold ``n_features x n_targets`` per
    fold: each fold's Gram matrix is then formed from its rows, once)."""
    X, Y, sw = data.X, data.Y, data.sample_weight
    n_samples, n_features = X.shape
    stats = [None] * len(splits)
    min_train = min(len(train) for train, _ in splits)
    if (
        getattr(solver, "path_uses_stats", False)
        and not batched
        and data.penalty is None
        and n_features <= min_train
        and _is_partition(splits, n_samples)
    ):
        parts = Parallel(n_jobs=n_jobs)(
            delayed(_fold_stats)(X, Y, sw, test) for _, test in splits
        )
        stats = train_stats(parts, data.fit_intercept)[1]
    return [
        RowsFold(data, train, test, st, _slice_params(score_params, test, n_samples), scoring)
        for (train, test), st in zip(splits, stats)
    ]


def dask_folds(X, y, sample_weight, cv, fit_intercept, scoring, per_target, penalty=None):
    """The :class:`StatsFold` of each fold of dask arrays (one pass,
    :func:`l2gd._dask.fold_stats`), and the total statistics of the training
    problem (for the alpha grid)."""
    from . import _dask

    parts = _dask.fold_stats(X, y, sample_weight, cv=cv, fit_intercept=True)
    total, train = train_stats(parts, fit_intercept)
    for i, part in enumerate(parts):
        if scoring == "r2" and not part.sw_sum > 0:
            raise ValueError(
                f"sample_weight sums to zero on the test rows of split {i}: R^2 is "
                "undefined there. Give every test fold positive weight."
            )
    folds = [StatsFold(tr, part, scoring, per_target, penalty) for tr, part in zip(train, parts)]
    return folds, total if fit_intercept else total.uncentered()


def stats_alpha_grid(stats, n_alphas):
    """:func:`alpha_grid` from statistics (the trace of ``stats.xx``)."""
    return _grid(float(np.trace(stats.xx)), stats.n_features, n_alphas)


class LeaveOneOut:
    """Leave-one-out residuals ``e_i = r_i / (1 - h_i - s_i / S)`` for any alpha.

    From ``spectrum`` (a :class:`~l2gd.solvers._closed_form.Spectrum` of
    ``problem``) where it is accurate (its ``accurate``):
    on the primal route with ``Z = X_c V`` and the squared rows
    ``U2 = S Z^2 / L`` of ``U = S^{1/2} X_c V L^{-1/2}``, on the kernel route in
    the weighted sample space, where the deflated kernel's null space gives
    ``1 - h_i - s_i / S`` at ``alpha = 0`` without cancellation. Elsewhere, one
    orthogonal factorization per alpha
    (:class:`~l2gd.solvers._closed_form.DataFits`) gives the fit and the hat
    diagonal ``h_i = s_i x_ci^T (G + alpha I)^-1 x_ci``.

    ``fixed_leverage``: the leverage of unpenalized columns eliminated before
    (:mod:`l2gd._penalty`; the intercept's included), subtracted as ``s_i / S``
    is: the hat matrix of the whole fit is their sum.
    """

    def __init__(self, problem, spectrum, fixed_leverage=None):
        self.problem = problem
        self.spectrum = spectrum
        self.fixed = 0.0 if fixed_leverage is None else np.asarray(fixed_leverage)
        self.s = np.ones(problem.n_samples) if problem.sample_weight is None else (
            problem.sample_weight
        )
        L, P = spectrum.L, spectrum.P
        parts = spectrum.kernel
        if parts is None:
            self.Z = problem.matvec(spectrum.V)  # X_c V, (n, rank)
            self.U2 = self.s[:, None] * self.Z**2 / L
            self.r0 = problem.Yc - self.Z @ (P / L[:, None])  # least-squares residual
            q = 1.0 - self.U2.sum(axis=1) - self.fixed
            if problem.fit_intercept:
                q = q - self.s / problem.sw_sum
            self.q = np.clip(q, 0.0, None)
        else:
            self.U2, self.r0 = parts.U**2, parts.r0
            self.q = np.clip(parts.q - self.fixed, 0.0, None)
            self.C = P / np.sqrt(L)[:, None]  # U^T S^1/2 y_c
            self.pos = self.s > 0
            self.root = np.sqrt(self.s[self.pos])
            # Rows of weight zero do not shape the fit: their residual is the prediction error.
            self.Z0 = problem.matvec(spectrum.V)[~self.pos] if not self.pos.all() else None
        self._exact = None

    def for_targets(self, problem, spectrum):
        """The same leave-one-out for other targets on the same rows: ``problem``
        shares X, the weights and the intercept, ``spectrum`` is its projection
        on the same :class:`~l2gd.solvers._closed_form.SpectralBasis`. What
        depends on X only (``Z``, the leverages) is reused."""
        new = copy.copy(self)
        new.problem, new.spectrum = problem, spectrum
        L, P = spectrum.L, spectrum.P
        if spectrum.kernel is None:
            new.r0 = problem.Yc - self.Z @ (P / L[:, None])
        else:
            new.r0, new.C = spectrum.kernel.r0, P / np.sqrt(L)[:, None]
        new._exact = None if self._exact is None else self._exact.for_targets(problem)
        return new

    def residuals(self, alphas):
        """Leave-one-out residuals of shape (n_samples, n_alphas, n_targets)."""
        E = self._spectral(alphas)
        for c in np.flatnonzero(~self.spectrum.accurate(alphas)):
            E[:, c, :] = self._exact_residuals(alphas[c])
        return E

    def _spectral(self, alphas):
        L, P, n = self.spectrum.L, self.spectrum.P, self.problem.n_samples
        t = shrinkage(L, alphas)  # alpha / (L + alpha), (rank, c)
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
            W = P[:, None, :] * inverse_shift(L, alphas)[:, :, None]
            Yc0 = self.problem.Yc[~self.pos]
            E[~self.pos] = Yc0[:, None, :] - (self.Z0 @ W.reshape(r, m * k)).reshape(-1, m, k)
        return E

    def _exact_residuals(self, alpha):
        problem = self.problem
        if self._exact is None:
            self._exact = DataFits(problem)
        W, h = self._exact.coef_and_hat(alpha)
        # On wide data at a tiny alpha, 1 - h_i - s_i / S is itself ill
        # conditioned (about alpha / L); a few digits are lost there.
        q = 1.0 - h - self.fixed - (self.s / problem.sw_sum if problem.fit_intercept else 0.0)
        R = problem.Yc - self._exact.Xc @ W
        with np.errstate(divide="ignore", invalid="ignore"):
            return R / np.clip(q, 0.0, None)[:, None]


def spectral_solver(solver):
    """The solver whose decomposition leave-one-out uses: ``solver`` when it has
    ``spectrum`` and ``decompose`` methods (the closed form, with its
    ``method``), else the default closed form."""
    ok = all(callable(getattr(solver, m, None)) for m in ("spectrum", "decompose"))
    return solver if ok else ClosedForm()


def batch_spectra(batches, solver):
    """``(cols, problem, spectrum)`` for each batch of :class:`TargetBatches`,
    every spectrum a projection of one decomposition of X (that of the first
    batch's problem, by :func:`spectral_solver`)."""
    basis = None
    for cols, problem in batches:
        if basis is None:
            basis = spectral_solver(solver).decompose(problem)
            yield cols, problem, basis.project(problem, stats=basis.stats)
        else:
            yield cols, problem, basis.project(problem)


def loo_scores(
    batches, alphas, scorer, score_params, y, per_target, store, rescaling, solver,
    reduction=None,
):
    """Leave-one-out scores for every alpha from one decomposition (that of
    :func:`spectral_solver`), the targets taken batch by batch
    (:class:`TargetBatches`; a scorer of all targets together takes them all
    at once).

    ``batches`` and ``alphas`` are in the rescaled units of ``rescaling``;
    predictions, what scorers see and their scores are in the user's, the
    default score (minus the weighted mean squared error) in the rescaled
    units (``rescaling.objective`` maps it back). ``reduction``: the
    ``(targets, leverage, dof)`` of unpenalized columns eliminated from
    ``problem`` (:mod:`l2gd._penalty`): the unreduced targets (rescaled) the
    predictions subtract the residuals from, the leverage of the eliminated
    block, and the degrees of freedom it adds.
    Returns a :class:`LOOScores`.
    """
    Y_fit, fixed, free_dof = (None, None, 0) if reduction is None else reduction
    if scorer is not None and not per_target:
        batches = batches.whole()
    n, k, n_alphas = batches.n_samples, batches.n_targets, len(alphas)
    shape = (n_alphas, k) if per_target else (n_alphas,)
    out = LOOScores(
        np.empty(shape), np.full(shape, np.nan),
        np.empty((n, k, n_alphas)) if store else None, None,
    )
    # Without per_target, the default score's per-row values are means over all targets.
    row_sums = np.zeros((n, n_alphas)) if scorer is None and not per_target else None
    loo = first = None
    for cols, problem, spectrum in batch_spectra(batches, solver):
        if loo is None:
            loo, first = LeaveOneOut(problem, spectrum, fixed), problem
        else:
            loo = loo.for_targets(problem, spectrum)
        Y_batch = problem.Y if Y_fit is None else Y_fit[:, cols]
        _loo_batch(loo, cols, alphas, scorer, score_params, y, per_target, rescaling, out,
                   row_sums, Y_batch)
    if row_sums is not None:
        per_sample = row_sums / k
        out.mean[:], out.std[:] = per_sample.mean(axis=0), per_sample.std(axis=0)
    return replace(out, dof=grid_dof(loo.spectrum, alphas, first) + free_dof)


def _loo_batch(loo, cols, alphas, scorer, score_params, y, per_target, rescaling, out, row_sums,
               Y_fit):
    """The scores of one batch of targets (columns ``cols``) into ``out``
    (a :class:`LOOScores`), or with ``row_sums`` their per-row sums over the
    batch's targets. ``Y_fit``: the batch's targets the predictions subtract
    the leave-one-out residuals from (unreduced, rescaled units)."""
    problem, s = loo.problem, loo.s
    n, k = problem.n_samples, problem.n_targets
    step = _chunk_size(n, k)
    for start in range(0, len(alphas), step):
        a = alphas[start:start + step]
        at = slice(start, start + len(a))
        E = loo.residuals(a)  # leave-one-out residuals, rescaled units
        Yp = rescaling.intercept(Y_fit[:, None, :] - E)  # predictions, user's units
        if out.predictions is not None:
            out.predictions[:, cols, at] = Yp.transpose(0, 2, 1)
        if scorer is None:
            # RidgeCV's default: minus the mean of s_i * e_i^2 (over rows and targets).
            with np.errstate(invalid="ignore", over="ignore"):
                per_sample = -(s[:, None, None] * E**2)
            if row_sums is not None:
                row_sums[:, at] += per_sample.sum(axis=2)
            else:
                out.mean[at, cols] = per_sample.mean(axis=0)
                out.std[at, cols] = per_sample.std(axis=0)
            continue
        for c in range(len(a)):
            yp = Yp[:, c, :]
            if per_target:
                for j in range(k):
                    out.mean[start + c, cols.start + j] = scorer(
                        _Identity(), yp[:, j], y[:, cols.start + j], **score_params
                    )
            else:
                out.mean[start + c] = scorer(
                    _Identity(), yp[:, 0] if y.ndim == 1 else yp, y, **score_params
                )


@dataclass(frozen=True)
class LOOScores:
    """What :func:`loo_scores` returns.

    ``mean`` and ``std``: of the per-sample scores, shape (n_alphas,) or
    (n_alphas, n_targets) (``std`` is NaN with a scorer, which only scores
    whole vectors); ``predictions``: the leave-one-out predictions of shape
    (n_samples, n_targets, n_alphas), or None unless stored; ``dof``: the
    effective degrees of freedom of the fit on all rows (:func:`grid_dof`).
    """

    mean: np.ndarray
    std: np.ndarray
    predictions: object
    dof: np.ndarray


# ---------------------------------------------------------------------------
# Degrees of freedom and generalized cross-validation along a grid
# ---------------------------------------------------------------------------
def _exact_eigenvalues(problem):
    """The eigenvalues of ``problem``'s weighted centered Gram matrix, accurate
    relative to each one (:func:`~l2gd._inference.design_eigenvalues`)."""
    if not isinstance(problem, RidgeProblem):
        return design_eigenvalues(problem_stats(problem), None, None)
    return design_eigenvalues(problem.X, problem.sample_weight, bool(problem.fit_intercept))


def grid_dof(spectrum, alphas, problem):
    """Effective degrees of freedom of the fit on all rows of ``problem`` at
    each alpha, as :func:`~l2gd.effective_dof` defines them (the intercept's
    not included), by :func:`~l2gd._inference.dof_from_eigenvalues`.

    The eigenvalues are ``spectrum``'s (the decomposition the scores came
    from, or :func:`full_dof`'s) at the alphas where it is accurate
    (:meth:`Spectrum.accurate <l2gd.solvers._closed_form.Spectrum.accurate>`:
    each eigenvalue's error is below ``1e-8 * (L + alpha)``, so each term
    ``L / (L + alpha)`` is right to about ``1e-8``); elsewhere, or with
    ``spectrum=None``, those accurate relative to each eigenvalue, computed
    once for the grid.

    Returns
    -------
    dof : ndarray of shape (n_alphas,)
    """
    alphas = np.asarray(alphas, dtype=np.float64).reshape(-1)
    ok = np.zeros(len(alphas), dtype=bool) if spectrum is None else spectrum.accurate(alphas)
    dof = np.empty(len(alphas))
    if ok.any():
        dof[ok] = dof_from_eigenvalues(spectrum.L, alphas[ok])
    if not ok.all():
        dof[~ok] = dof_from_eigenvalues(_exact_eigenvalues(problem), alphas[~ok])
    return dof


def full_dof(problem, alphas, solver=None):
    """:func:`grid_dof` for modes whose scores decompose only the folds (K-fold,
    in memory or on Dask): one more decomposition, of all rows of ``problem``
    (or its statistics), by :func:`spectral_solver` (an SVD for
    ``ClosedForm(method="svd")``)."""
    return grid_dof(spectral_solver(solver).spectrum(problem), alphas, problem)


@dataclass(frozen=True)
class GCVPath:
    """Generalized cross-validation along a grid (:func:`gcv_path`).

    ``gcv``: MASS's criterion ``RSS / (S - dof)^2`` per alpha and target,
    shape (n_alphas, n_targets), lower is better (``inf`` where the fit
    interpolates, ``S <= dof``); ``rss``: the weighted residual sum of
    squares of the fit on all rows, same shape; ``dof``: shape (n_alphas,);
    ``sw_sum``: the total weight ``S``.
    """

    gcv: np.ndarray
    rss: np.ndarray
    dof: np.ndarray
    sw_sum: float


def gcv_path(problem, alphas, solver=None):
    """Generalized cross-validation for every alpha from one decomposition.

    The decomposition is :func:`spectral_solver`'s (``ClosedForm``'s
    spectrum, the one leave-one-out uses), of the rows of ``problem`` or of
    its statistics alone (a Gram problem, e.g. from Dask). With ``r0`` the
    residual of the least-squares fit in the spectrum's range, ``P = V^T
    X_c^T S y_c`` and ``t_i = alpha / (L_i + alpha)``, the residual of the
    ridge fit is ``r0`` plus a part in the range, orthogonal to it, so

    ``RSS(alpha) = ||S^{1/2} r0||^2 + sum_i t_i^2 P_i^2 / L_i``

    with no cancellation between alphas; ``||S^{1/2} r0||^2`` comes from the
    rows when there are rows (the kernel route's sample-space residual on wide
    data) and from ``y_c^T S y_c - sum_i P_i^2 / L_i`` for statistics. At
    alphas where the spectrum is not accurate (:meth:`Spectrum.accurate
    <l2gd.solvers._closed_form.Spectrum.accurate>`) the fit is exact, one
    alpha at a time, as on the spectral path. ``problem`` may be
    :class:`TargetBatches`: the targets are then taken batch by batch, every
    batch projected on one decomposition of X. ``dof`` by :func:`grid_dof`,
    the criterion by :func:`~l2gd._inference.gcv_score` with ``S`` the total
    weight.

    Returns
    -------
    path : GCVPath
    """
    alphas = np.asarray(alphas, dtype=np.float64).reshape(-1)
    batches = problem if isinstance(problem, TargetBatches) else ((slice(None), problem),)
    rss = np.empty((len(alphas), problem.n_targets))
    inaccurate = fits = first = None
    for cols, batch, spectrum in batch_spectra(batches, solver):
        if first is None:
            first, first_spectrum = batch, spectrum
            inaccurate = np.flatnonzero(~spectrum.accurate(alphas))
        L, P = spectrum.L, spectrum.P
        t = shrinkage(L, alphas)  # (rank, n_alphas)
        rss[:, cols] = _least_squares_rss(batch, spectrum)[None, :] + (t * t).T @ (
            P * P / L[:, None]
        )
        if len(inaccurate):
            rss[inaccurate, cols], fits = _exact_rss(batch, alphas[inaccurate], fits)
    dof = grid_dof(first_spectrum, alphas, first)
    S = float(first.sw_sum)
    return GCVPath(gcv_score(rss, dof, S), rss, dof, S)


def _weighted_sq(R, s):
    return np.einsum("ij,ij->j", R, R) if s is None else np.einsum("ij,ij,i->j", R, R, s)


def _least_squares_rss(problem, spectrum):
    """``||S^{1/2} r0||^2`` per target: the residual of the fit in the range of
    ``spectrum``."""
    L, P = spectrum.L, spectrum.P
    if spectrum.kernel is not None:  # already in the weighted sample space
        return _weighted_sq(spectrum.kernel.r0, None)
    if isinstance(problem, RidgeProblem):
        Z = np.asarray(problem.matvec(spectrum.V), dtype=np.float64)  # X_c V
        R = np.asarray(problem.Yc, dtype=np.float64) - Z @ (P / L[:, None])
        return _weighted_sq(R, problem.sample_weight)
    stats = problem_stats(problem)
    return np.clip(np.asarray(stats.yy, dtype=np.float64) - (P * P / L[:, None]).sum(0), 0, None)


def _exact_rss(problem, alphas, fits=None):
    """RSS of exact fits, one alpha at a time: shape (len(alphas), n_targets),
    and the factorization used (``fits``, of another batch of targets on the
    same rows, is reused)."""
    if isinstance(problem, RidgeProblem):
        fits = DataFits(problem) if fits is None else fits.for_targets(problem)
        Yc = np.asarray(problem.Yc, dtype=np.float64)
        return np.stack(
            [_weighted_sq(Yc - fits.Xc @ fits.coef(a), problem.sample_weight) for a in alphas]
        ), fits
    stats = problem_stats(problem)
    fits = StatsFits(stats)
    out = []
    for a in alphas:
        W = fits.coef(a)
        out.append(np.clip(stats.squared_error(W, stats.intercept(W)), 0.0, None))
    return np.stack(out), fits
