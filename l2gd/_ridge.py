"""GDRidgeRegressor: scikit-learn's Ridge objective with pluggable solvers."""

import warnings
from dataclasses import dataclass, replace
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import assert_all_finite, check_is_fitted

from . import _callbacks, _dask
from ._compat import (
    CallbackSupportMixin,
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    check_same_namespace,
    validate_data,
)
from ._array_api import float_dtypes, is_numpy, namespace, to_device, to_numpy
from ._objective import RidgeProblem
from ._penalty import (
    PenaltyReduction,
    check_penalty_factor,
    has_zero_factor,
    reduce_data,
    reduce_stats,
)
from ._scaling import Rescaling, data_scale, moments_need_no_scale
from ._sources import DaskSource, warm_model
from ._stats import RidgeStats
from ._validation import (
    ACCEPT_SPARSE,
    as_2d_targets,
    check_alpha,
    check_real_input,
    check_sample_weight,
)
from .solvers import SOLVERS, ClosedForm, IterativeSolver, SolveResult
from .solvers import _registry
from .solvers._closed_form import solve_stats

class _NoStreamingError(AttributeError, ValueError):
    """partial_fit is unavailable for this solver: an AttributeError, so that
    ``hasattr(est, "partial_fit")`` is honest, and a ValueError, since the
    value of ``solver`` is the cause."""


@dataclass(frozen=True)
class _Stream:
    """What ``partial_fit`` carries from one call to the next.

    ``state`` is the solver's streaming state (:class:`~l2gd.RidgeStats` for
    the closed form, :class:`~l2gd.solvers.SGDState` for SGD), or None when
    the last ``fit`` kept none (then the next ``partial_fit`` starts a new
    stream, with a warning, see :meth:`GDRidgeRegressor.partial_fit`).
    """

    solver: str
    state: object
    n_targets: int
    fit_intercept: bool
    #: The penalty factors of the stream (SGD's state is in their reduced units).
    penalty: object = None


def check_solve_result(result, n_features, n_targets, solver):
    """Reject a :class:`~l2gd.solvers.SolveResult` of the wrong shapes or with
    non-finite values: the one check every solver's result passes before it
    becomes fitted attributes."""
    name = solver if isinstance(solver, str) else type(solver).__name__
    if not isinstance(result, SolveResult):
        raise TypeError(
            f"solver {name!r} returned {type(result).__name__}; solve must return a SolveResult."
        )
    coef, intercept = result.coef, result.intercept
    if tuple(coef.shape) != (n_features, n_targets):
        raise ValueError(
            f"solver {name!r} returned coef of shape {tuple(coef.shape)}; expected "
            f"(n_features, n_targets) = {(n_features, n_targets)}."
        )
    if tuple(intercept.shape) != (n_targets,):
        raise ValueError(
            f"solver {name!r} returned intercept of shape {tuple(intercept.shape)}; expected "
            f"(n_targets,) = {(n_targets,)}."
        )
    xp, _ = namespace(coef)
    if not (bool(xp.all(xp.isfinite(coef))) and bool(xp.all(xp.isfinite(intercept)))):
        raise ValueError(
            f"solver {name!r} returned non-finite coefficients or intercepts (NaN or "
            "infinity); the data may be numerically singular for it. Try "
            "solver='closed_form'."
        )
    return result


def _partial_solver(solver):
    """The streaming update of ``solver`` (its ``partial_solve``), or None."""
    return solver.partial_solve if _registry.streams(solver) else None


def solve_penalized_stats(stats, alpha, penalty, positive=False):
    """:func:`solve_stats` with penalty factors (None: ordinary ridge): the
    statistics reduced (:func:`l2gd._penalty.reduce_stats`), solved, mapped back."""
    if penalty is None:
        return solve_stats(stats, alpha, positive=positive)
    reduced, reduction = reduce_stats(penalty, stats)
    result = reduction.result(solve_stats(reduced, alpha, positive=positive))
    return replace(result, info={**result.info, "stats": stats})  # the user's statistics


def _same_penalty(a, b):
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and bool(np.all(a == b))


#: Optional fitted attributes, set from ``SolveResult.info`` when a solver reports them.
_INFO_ATTRIBUTES = {
    "t": "t_",
    "stats": "stats_",
    "best_iteration": "best_iteration_",
    "validation_scores": "validation_scores_",
}


def _ridge_shapes(result, y_ndim, fit_intercept):
    """``(coef_, intercept_)`` of ``result`` with exactly Ridge's shapes: coef_ is
    1-D for one target (even y of shape (n, 1)); intercept_ is a scalar for 1-D
    y, an array for 2-D y, and 0.0 without intercept."""
    coef = result.coef.T
    coef = np.ascontiguousarray(coef) if isinstance(coef, np.ndarray) else coef
    coef = coef[0, :] if coef.shape[0] == 1 else coef
    if not fit_intercept:
        return coef, 0.0
    return coef, result.intercept[0] if y_ndim == 1 else result.intercept


def _forms_gram_first(solver, X, sample_weight):
    """Whether ``solver`` on X starts by forming X's Gram matrix from the rows
    (the closed form's primal route on dense NumPy data, which is what
    :meth:`ClosedForm.solve` takes when ``n_features <= n_samples``), and the
    rows are unweighted (see :meth:`GDRidgeRegressor._problem`). Not with
    ``precision="mixed"``, whose float32 Gram replaces that float64 pass."""
    return (
        isinstance(solver, ClosedForm)
        and solver.method != "svd"
        and solver.precision != "mixed"
        and isinstance(X, np.ndarray)
        and sample_weight is None
        and X.shape[1] <= X.shape[0]
    )


def linear_predict(estimator, X):
    """``X @ coef_.T + intercept_`` for a fitted linear l2gd estimator.

    Dask arrays give a lazy blockwise result; other arrays are validated
    against the fit (features, namespace and device) first.
    """
    check_is_fitted(estimator)
    if _dask.is_dask_collection(X):
        return _dask.predict(estimator, X)
    check_same_namespace(X, estimator, attribute="coef_", method="predict")
    X = validate_data(
        estimator, X, accept_sparse=ACCEPT_SPARSE, dtype=float_dtypes(X), reset=False
    )
    xp, device = namespace(X)
    coef = to_device(estimator.coef_, xp, device, X.dtype)
    return safe_sparse_dot(X, coef.T if coef.ndim == 2 else coef, dense_output=True) + (
        estimator.intercept_
    )


class GDRidgeRegressor(CallbackSupportMixin, RegressorMixin, BaseEstimator):
    """Ridge regression with closed-form, gradient-descent and stochastic solvers.

    Minimizes exactly the objective of :class:`sklearn.linear_model.Ridge`,
    with the same ``alpha``, whatever the solver::

        sum_i s_i (y_i - x_i . w - b)^2 + alpha * ||w||^2

    where ``s`` is ``sample_weight`` (default 1) and the intercept ``b`` is
    not penalized.

    Parameters
    ----------
    alpha : float or array-like of shape (n_targets,), default=1.0
        Penalty strength, ``>= 0``, as ``Ridge.alpha``. An array gives one
        penalty per target. ``alpha=0`` is ordinary least squares (the
        minimum-norm solution when X is rank deficient).
    fit_intercept : bool, default=True
        Whether to fit an unpenalized intercept. Sparse X is centered
        implicitly, never densified.
    positive : bool, default=False
        Constrain the coefficients to be ``>= 0`` (the intercept stays
        free), as ``Ridge(positive=True)``, for every target at once.
        ``"closed_form"`` solves it exactly on the ``p x p`` statistics (block
        principal pivoting); ``"gd"`` by a projected Newton method on the
        rows (for sparse, wide or Dask data); ``"sgd"`` does not support it
        (an error names the solvers that do), and ``"auto"`` picks a solver
        that does. See Notes.
    penalty_factor : array-like of shape (n_features,) or dict, default=None
        Per-feature factors ``f_j >= 0`` of the penalty, which becomes
        ``alpha * sum_j f_j w_j**2`` (glmnet's ``penalty.factor``); None (or
        all ones) is ordinary ridge. A dict ``{column: factor}`` (column
        indices, or feature names of a DataFrame) sets some factors and leaves
        the others at 1. ``f_j = 0`` leaves feature ``j``
        unpenalized, like the intercept (e.g. a treatment indicator or a
        confounder). Every solver honours it: positive factors rescale the
        columns (sparse X stays sparse), zero factors are eliminated exactly
        with the intercept (Frisch-Waugh-Lovell; the penalized columns are
        then projected, which makes a sparse X dense). See Notes.
    solver : {"auto", "closed_form", "gd", "sgd"} or Solver, default="auto"
        ``"closed_form"``: exact direct solver (:class:`~l2gd.solvers.ClosedForm`).
        ``"gd"``: batch gradient descent
        (:class:`~l2gd.solvers.GradientDescent`). ``"sgd"``: mini-batch
        stochastic gradient descent (:class:`~l2gd.solvers.SGD`, default
        options). ``"auto"``: chosen from the
        data by :func:`l2gd.solvers._registry.auto_solver` (closed form unless
        the problem is large in both dimensions, or sparse and wide), recorded
        in ``solver_``. A :class:`~l2gd.solvers.Solver` object (built-in or
        your own) is used as given; its options are reachable as
        ``solver__<option>`` by :class:`~sklearn.model_selection.GridSearchCV`.
    tol : float, default=None
        Stopping tolerance of iterative solvers; ``None`` uses the solver's
        default. For ``"gd"``: the gradient norm at the returned coefficients
        relative to the gradient at zero (default 1.5e-8 for float64, 1.2e-5
        for float32). For ``"sgd"``: the relative decrease of the objective per
        epoch (or the rise of the validation R^2 with early stopping) below
        which an epoch counts as no improvement (default 1e-4). Ignored by
        ``"closed_form"``.
    max_iter : int, default=None
        Maximum iterations of iterative solvers; ``None`` uses the solver's
        default (1000 for ``"gd"``, 1000 epochs for ``"sgd"``).
    random_state : int, RandomState instance or None, default=None
        Seed for stochastic solvers (row order, validation split): an int
        makes ``fit`` and each ``partial_fit`` call reproducible.
        Deterministic solvers ignore it.
    warm_start : bool, default=False
        Start iterative solvers from the previous ``coef_`` when the shapes
        match (``"sgd"`` restarts its schedule at ``t = 0``; ``partial_fit``
        is the way to continue it).
    verbose : int, default=0
        Print the objective at each iteration when positive.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, with the shapes of ``Ridge.coef_``.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept, 0.0 when ``fit_intercept=False``.
    n_iter_ : int
        Iterations run by the solver (1 for the closed form; epochs for
        ``"sgd"``); after ``partial_fit``, the passes made so far.
    solver_ : str
        Name of the solver that ran (what ``"auto"`` chose).
    loss_curve_ : list of float
        Ridge objective (summed over targets) after each iteration; one value
        for the closed form.
    t_ : int
        ``"sgd"`` only: mini-batch updates made (the schedule's clock); it
        persists across ``partial_fit`` calls.
    best_iteration_ : int
        ``"sgd"`` with ``early_stopping`` only: the epoch (from 1) whose
        coefficients were restored.
    validation_scores_ : list of float
        ``"sgd"`` with ``early_stopping`` only: validation R^2 per epoch.
    stats_ : RidgeStats
        Closed-form ``partial_fit`` and :meth:`from_stats` only: the merged
        sufficient statistics of all rows seen.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.linear_model.Ridge : The reference this estimator matches.
    l2gd.solvers.ClosedForm : Direct solver.
    l2gd.solvers.GradientDescent : Batch gradient descent.
    l2gd.solvers.SGD : Mini-batch stochastic gradient descent.
    l2gd.RidgeStats : Mergeable sufficient statistics (exact streaming).

    Notes
    -----
    Other libraries scale the penalty differently: ``SGDRegressor(alpha=a)``
    and ``ElasticNet(alpha=a, l1_ratio=0)`` correspond to
    ``GDRidgeRegressor(alpha=n_samples * a)``; glmnet's ``lambda`` to
    ``alpha = n_samples * lambda``.

    **Non-negative coefficients.** With ``positive=True`` each target solves
    ``min sum_i s_i (y_i - x_i . w - b)^2 + alpha ||w||^2`` over ``w >= 0``
    and a free ``b``: the intercept still follows from the means,
    ``b = y_mean - x_mean . w``, and the optimality conditions are, with
    ``g`` the gradient in ``w``, ``g_j = 0`` where ``w_j > 0`` and
    ``g_j >= 0`` where ``w_j = 0``. The closed form pivots whole blocks of
    variables between the free and the bound set (Kim and Park's block
    principal pivoting, on the equilibrated ``X_c^T S X_c + alpha I``) and
    ends at the exact solution, typically in a few factorizations; it also
    streams (``partial_fit``, :meth:`from_stats`). For ``"gd"``, ``tol``
    is the norm of the projected gradient relative to the gradient at zero.

    **Penalty factors.** With ``penalty_factor=f`` the objective is
    ``sum_i s_i (y_i - x_i . w - b)^2 + alpha * sum_j f_j w_j**2``. It is
    solved as ordinary ridge with the same ``alpha`` on the columns
    ``x_j / sqrt(f_j)`` (coefficients ``sqrt(f_j) w_j``), after projecting
    off the unpenalized columns and the intercept where some ``f_j = 0``;
    see :mod:`l2gd._penalty` for the reduction. Zero factors need the whole
    data at once: they stream with ``"closed_form"`` (exact, on the
    statistics) but not with ``"sgd"``, are not combined with
    ``positive=True``, and on dask arrays are solved in closed form.

    **Progress callbacks.** With scikit-learn >= 1.9, ``set_callbacks``
    takes :mod:`sklearn.callback` callbacks (``ProgressBar()``, which needs
    ``rich``; ``ScoringMonitor``; your own), as scikit-learn's
    ``LogisticRegression`` does. ``fit`` is one task with one subtask per
    iteration of ``"gd"`` (per epoch of ``"sgd"``; on dask arrays, per pass
    over the data), whose ``fitted_estimator`` holds that iteration's
    coefficients; the closed form is one task. Inside a meta-estimator
    (``GridSearchCV``, :class:`GDRidgeCV`'s refit) the tasks nest in its
    tree. Without the callback API the estimator works as before.

    **Streaming.** :meth:`partial_fit` treats the rows of all its calls as one
    dataset (passing the same rows twice weighs them twice, as in ``fit`` on
    the concatenation). ``"closed_form"`` streams exactly: each call merges
    the batch's :class:`~l2gd.RidgeStats` and re-solves, so after any
    sequence of batches ``coef_`` equals ``fit`` on their concatenation.
    ``"sgd"`` makes one pass over each batch, continuing its schedule,
    averaging and running means. ``"gd"`` does not stream (``partial_fit``
    is then unavailable). With ``"auto"`` the first call chooses
    (:func:`l2gd.solvers._registry.auto_solver` with ``task="stream"``) and records the choice
    in ``solver_``. :meth:`fit` followed by :meth:`partial_fit` continues the
    fitted state for ``"sgd"``; the closed form keeps no statistics from
    ``fit``, so its ``partial_fit`` then starts a new stream.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from l2gd import GDRidgeRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 5))
    >>> y = X @ np.arange(5.0) + 0.1 * rng.standard_normal(100)
    >>> est = GDRidgeRegressor(alpha=1.0, solver="gd").fit(X, y)
    >>> bool(np.allclose(est.coef_, Ridge(alpha=1.0).fit(X, y).coef_, rtol=1e-6))
    True
    >>> est.solver_, est.n_iter_ > 0
    ('gd', True)

    Progress callbacks (scikit-learn >= 1.9): ``ScoringMonitor`` scores the
    coefficients of each iteration:

    >>> from sklearn.callback import ScoringMonitor
    >>> monitor = ScoringMonitor(scoring="r2")
    >>> watched = GDRidgeRegressor(solver="gd").set_callbacks(monitor).fit(X, y)
    >>> rows = [r for r in monitor.get_logs().data if r["task_name"] == "iteration"]
    >>> len(rows) == watched.n_iter_, bool(np.isclose(rows[-1]["r2"], watched.score(X, y)))
    (True, True)
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "positive": ["boolean"],
        "penalty_factor": ["array-like", dict, None],
        "solver": [StrOptions({"auto", *SOLVERS}), HasMethods(["solve"])],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        positive=False,
        penalty_factor=None,
        solver="auto",
        tol=None,
        max_iter=None,
        random_state=None,
        warm_start=False,
        verbose=0,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.penalty_factor = penalty_factor
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    # -- solver resolution and capabilities (checked once, here) ------------
    def _solver_instance(self, X=None, task="fit"):
        """Return ``(solver, name)`` from the registry; a fresh object, never the
        user's own. Without X, ``"auto"`` stands for the closed form."""
        positive = bool(getattr(self, "positive", False))
        if X is None:
            return _registry.resolve(self.solver, task=task, shape=(1, 1), positive=positive)
        return _registry.resolve(
            self.solver, task=task, shape=X.shape, sparse=sp.issparse(X), positive=positive
        )

    def _check_capabilities(self, solver, name, X):
        xp, _ = namespace(X)
        _registry.check_capabilities(
            solver, name, sparse=sp.issparse(X), namespace=None if is_numpy(xp) else xp.__name__,
            positive=self.positive,
        )

    def _bound(self):
        """The keyword a solver receives for ``positive=True`` (nothing otherwise,
        so a solver without the capability never sees it)."""
        return {"positive": True} if self.positive else {}

    def _validate_fit_data(self, X, y, sample_weight, reset=True, check_finite=True):
        """Validated ``X, Y (2-D), sample_weight, y.ndim``; y and the weights
        follow X's namespace and device (scikit-learn's convention).
        ``check_finite=False`` leaves X's NaN/infinity check to the caller
        (:meth:`_problem`); y is always checked."""
        check_real_input(X, "X")
        check_real_input(y, "y")
        check_real_input(sample_weight, "sample_weight")
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse=ACCEPT_SPARSE,
            dtype=float_dtypes(X),
            multi_output=True,
            y_numeric=True,
            ensure_all_finite=check_finite,
        )
        if X.shape[0] == 0:
            raise ValueError("X has 0 samples; at least one is required.")
        xp, device = namespace(X)
        y = to_device(y, xp, device)
        return X, as_2d_targets(y, X.dtype, xp), check_sample_weight(sample_weight, X), y.ndim

    def _warm_start_init(self, problem, scaling, reduction=None):
        """The previous coefficients as a starting point (rescaled and reduced as
        the problem is), or None: no warm start, or a fit of another shape (cold
        start, as scikit-learn does)."""
        if not (self.warm_start and hasattr(self, "coef_")):
            return None
        n_features = problem.n_features if reduction is None else reduction.factor.size
        if int(np.size(self.coef_)) != n_features * problem.n_targets:
            return None
        xp = problem.xp
        coef = to_device(self.coef_, xp, problem.device, problem.dtype)
        coef = xp.reshape(coef, (-1, n_features)).T
        if reduction is not None:
            coef = reduction.reduced_coef(coef)
        return scaling.scaled_coef(coef)

    def _set_fitted(self, result, y_ndim, name):
        for key, attr in _INFO_ATTRIBUTES.items():
            if key in result.info:
                value = result.info[key]
                setattr(self, attr, list(value) if isinstance(value, tuple) else value)
            elif attr in self.__dict__:
                delattr(self, attr)
        self.coef_, self.intercept_ = _ridge_shapes(result, y_ndim, self.fit_intercept)
        self.n_iter_ = int(result.n_iter)
        self.solver_ = name
        self.loss_curve_ = list(result.history)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (float64 or float32; other dtypes become float64).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights; weight k means the same as repeating the row k
            times.

        Returns
        -------
        self : GDRidgeRegressor
            Fitted estimator.
        """
        with _callbacks.fitting(self, X, y, sample_weight, max_subtasks=self._n_tasks()):
            return self._fit(X, y, sample_weight)

    def _n_tasks(self):
        """Subtasks of the fit's callback task: the iteration budget of an
        iterative solver (the loop's bound), 0 for the closed form, None
        (unknown) when ``"auto"`` chooses from the data or for other solvers."""
        solver = SOLVERS.get(self.solver) if isinstance(self.solver, str) else type(self.solver)
        if solver is None:
            return None
        if issubclass(solver, IterativeSolver):
            return solver.default_max_iter if self.max_iter is None else self.max_iter
        return 0 if issubclass(solver, ClosedForm) else None

    def _fit(self, X, y, sample_weight):
        if _dask.is_dask_collection(X):
            return self._fit_dask(X, y, sample_weight)
        X, Y, sw, y_ndim = self._validate_fit_data(X, y, sample_weight, check_finite=False)
        alpha = check_alpha(self.alpha, Y.shape[1], X.dtype)
        # Penalty factors: ordinary ridge on reduced columns (l2gd._penalty).
        fit_intercept, reduction = self.fit_intercept, None
        penalty = self._penalty_factor(X.shape[1])
        if penalty is not None:
            self._check_finite(X)
            X, Y, fit_intercept, reduction = reduce_data(penalty, X, Y, sw, fit_intercept)
        solver, name = self._solver_instance(X)
        self._check_capabilities(solver, name, X)
        problem, scaling = self._problem(solver, X, Y, alpha, sw, fit_intercept)
        result = scaling.result(
            self._run_solver(solver, name, problem, scaling, reduction, y_ndim=y_ndim)
        )
        if reduction is not None:
            result = reduction.result(result)
        self._set_fitted(result, y_ndim, name)
        # The stream continues from fit's rows when the solver kept a state in
        # the user's units (SGD's state; the closed form's statistics; a
        # rescaled fit keeps neither, see Rescaling.result).
        state = result.info.get("state", result.info.get("stats"))
        self._stream = _Stream(name, state, problem.n_targets, self.fit_intercept)
        return self

    def _check_finite(self, X):
        """scikit-learn's NaN/infinity check of X (and its message)."""
        assert_all_finite(X, input_name="X", estimator_name=type(self).__name__)

    def _problem(self, solver, X, Y, alpha, sw, fit_intercept):
        """The fit's :class:`RidgeProblem` and :class:`Rescaling` (data near the
        ends of the float range is solved exactly in rescaled units, powers of
        two, and the result mapped back); X's NaN/infinity check happens here.

        When the closed form is going to form the Gram matrix of dense NumPy X
        (unweighted rows, ``n_samples >= n_features``), that pass comes first
        and is the only read of X: a finite Gram diagonal proves X finite and
        the raw second moments bound ``max |X|``
        (:func:`~l2gd._scaling.moments_need_no_scale`); the problem adopts the
        statistics. When they prove nothing (NaN or infinity, squares that
        overflow or underflow), X is checked and measured as for any solver.
        """
        if _forms_gram_first(solver, X, sw) and data_scale(Y, X.dtype) == 1.0:
            stats = RidgeStats._from_unchecked(X, Y, None, fit_intercept, type(self).__name__)
            if moments_need_no_scale(stats):
                problem = RidgeProblem(X, Y, alpha, fit_intercept=fit_intercept)
                problem.adopt_stats(stats)
                return problem, Rescaling()
        self._check_finite(X)
        scaling = Rescaling.of(X, Y)
        Xs, Ys = scaling.data(X, Y)
        problem = RidgeProblem(
            Xs, Ys, scaling.alpha(alpha), sample_weight=sw, fit_intercept=fit_intercept
        )
        return problem, scaling

    def _penalty_factor(self, n_features):
        """The validated penalty factors (None for ordinary ridge)."""
        return check_penalty_factor(
            self.penalty_factor, n_features, positive=self.positive,
            feature_names=getattr(self, "feature_names_in_", None),
        )

    def _fit_dask(self, X, y, sample_weight):
        """Fit on dask arrays: positive penalty factors rescale X's columns lazily
        (a stream's ``partial_fit`` rescales each chunk itself); zero factors are
        eliminated from the statistics (closed form)."""
        source = DaskSource(X, y, sample_weight, self.fit_intercept)  # validates X
        penalty = None if self.penalty_factor is None else self._penalty_factor(
            source.n_features
        )
        if penalty is None:
            return self._fit_source(source)
        reduction = PenaltyReduction(penalty)
        if not reduction.has_free:
            return self._fit_source(source, reduction)
        solver, name = _registry.resolve(
            self.solver, task=source.task, shape=(0, source.n_features), positive=False
        )
        if not isinstance(solver, ClosedForm):
            raise ValueError(
                "penalty_factor with zero entries on dask arrays is solved in closed form "
                f"from the statistics; use solver='closed_form' or 'auto', got {self.solver!r}."
            )
        alpha = check_alpha(self.alpha, source.n_targets, source.dtype)
        stats = source.problem(alpha, ClosedForm(method="gram")).stats
        self._set_fitted(solve_penalized_stats(stats, alpha, penalty), source.y_ndim, name)
        self.n_features_in_ = source.n_features
        self.__dict__.pop("feature_names_in_", None)
        return self

    def _fit_source(self, source, reduction=None):
        """Fit on a data source without rows in memory (:mod:`l2gd._sources`): the
        problem the solver needs from it, or its stream for stochastic solvers
        (whose ``partial_fit`` applies the penalty factors itself). ``reduction``:
        positive penalty factors, applied to the problem's columns."""
        solver, name = _registry.resolve(
            self.solver, task=source.task, shape=(0, source.n_features), positive=self.positive
        )
        _registry.check_capabilities(solver, name, positive=self.positive)
        if source.streams(solver):
            model = source.stream(
                warm_model(self, clone(self)), solver, max_iter=self.max_iter,
                seed=_registry.seed(self.random_state),
            )
            # The model is a clone carried through the updates: its whole state
            # (fitted attributes, stream state) is the fit.
            vars(self).update(vars(model))
            return self
        alpha = check_alpha(self.alpha, source.n_targets, source.dtype)
        if reduction is not None:
            scaled = source.X * reduction.scale.astype(source.X.dtype)
            source = DaskSource(scaled, source.Y, source.sample_weight, source.fit_intercept)
        problem = source.problem(alpha, solver)
        result = self._run_solver(
            solver, name, problem, Rescaling(), reduction, y_ndim=source.y_ndim
        )
        if reduction is not None:
            result = reduction.result(result)
        self._set_fitted(result, source.y_ndim, name)
        self.n_features_in_ = source.n_features
        self.__dict__.pop("feature_names_in_", None)
        return self

    def _run_solver(self, solver, name, problem, scaling, reduction=None, y_ndim=2):
        """``solver.solve(problem)`` with this estimator's tol, max_iter, seed,
        verbosity and warm start, its result checked; progress callbacks see
        each iteration's coefficients in the user's units."""
        seed = _registry.seed(self.random_state)

        def attributes(coef, intercept):
            result = scaling.result(SolveResult(coef, intercept, 0, False))
            result = result if reduction is None else reduction.result(result)
            coef_, intercept_ = _ridge_shapes(result, y_ndim, self.fit_intercept)
            return {"coef_": coef_, "intercept_": intercept_}

        with _callbacks.solving(self, attributes):
            result = self._solve(solver, problem, scaling, reduction, seed)
        return check_solve_result(result, problem.n_features, problem.n_targets, name)

    def _solve(self, solver, problem, scaling, reduction, seed):
        return solver.solve(
            problem,
            init=self._warm_start_init(problem, scaling, reduction),
            tol=self.tol,
            max_iter=self.max_iter,
            random_state=seed,
            verbose=self.verbose,
            **self._bound(),
        )

    # -- streaming --------------------------------------------------------
    def _stream_solver(self, X=None):
        """``(solver, name, update)`` that ``partial_fit`` uses."""
        stream = getattr(self, "_stream", None)
        if self.solver == "auto" and stream is not None and stream.state is not None:
            solver, name = SOLVERS[stream.solver](), stream.solver  # the stream's choice
        else:
            solver, name = self._solver_instance(X, task="stream")
        return solver, name, _partial_solver(solver)

    def _partial_fit_available(self):
        solver, name, update = self._stream_solver()
        if update is not None and name != "closed_form" and has_zero_factor(
            self.penalty_factor
        ):
            raise _NoStreamingError(
                "penalty_factor with zero entries streams with solver='closed_form' only "
                f"(the unpenalized features are eliminated using all rows); got {name!r}. "
                "Use solver='closed_form', or fit."
            )
        if update is None:
            streaming = sorted(n for n, cls in SOLVERS.items() if _partial_solver(cls()))
            raise _NoStreamingError(
                f"solver {name!r} does not support partial_fit; use solver="
                + " or ".join(repr(n) for n in streaming)
                + " (the solvers that stream), or fit."
            )
        return True

    @property
    def partial_fit(self):
        """Update the model with one batch of rows (streaming).

        ``"closed_form"``: exact; after any sequence of batches the model
        equals :meth:`fit` on their concatenation. ``"sgd"``: one pass of SGD
        over the batch. The first call fixes ``n_features_in_`` (and
        ``feature_names_in_``) and the number of targets; a later batch of
        another width raises a ``ValueError`` and leaves the model unchanged.
        ``"gd"`` does not stream: ``partial_fit`` then raises an error that is
        both an ``AttributeError`` and a ``ValueError``, naming the solvers
        that do. See Notes of the class for the semantics.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of rows.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Their targets.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights.

        Returns
        -------
        self : GDRidgeRegressor
            Updated estimator.

        Examples
        --------
        >>> import numpy as np
        >>> from l2gd import GDRidgeRegressor
        >>> rng = np.random.default_rng(0)
        >>> X, y = rng.standard_normal((300, 4)), rng.standard_normal(300)
        >>> est = GDRidgeRegressor(solver="closed_form")
        >>> for rows in np.array_split(np.arange(300), 3):
        ...     est = est.partial_fit(X[rows], y[rows])
        >>> full = GDRidgeRegressor(solver="closed_form").fit(X, y)
        >>> bool(np.allclose(est.coef_, full.coef_, rtol=1e-10))
        True
        """
        # A property, so that the error for a solver that does not stream is
        # both an AttributeError (``hasattr`` is honest) and a ValueError
        # naming the remedy; ``available_if`` would hide the message.
        self._partial_fit_available()
        return self._partial_fit

    @_fit_context(prefer_skip_nested_validation=True)
    def _partial_fit(self, X, y, sample_weight=None):
        # A failed call leaves the model exactly as it was.
        before = dict(self.__dict__)
        try:
            return self._partial_fit_update(X, y, sample_weight)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _check_stream(self, stream, name, n_targets, penalty=None):
        """Errors for a batch that cannot continue ``stream``."""
        if name != stream.solver:
            raise ValueError(
                f"solver is now {name!r} but the stream was started with {stream.solver!r}; "
                "call fit, or clone the estimator to start a new stream."
            )
        if n_targets != stream.n_targets:
            raise ValueError(
                f"y has {n_targets} targets but earlier batches had {stream.n_targets}; "
                "every partial_fit call needs the same number of targets."
            )
        if name != "closed_form" and not _same_penalty(penalty, stream.penalty):
            raise ValueError(
                "penalty_factor differs from the one the stream was started with; call fit, "
                "or clone the estimator to start a new stream."
            )
        if self.fit_intercept != stream.fit_intercept:
            raise ValueError(
                f"fit_intercept is now {self.fit_intercept} but the stream was started with "
                f"fit_intercept={stream.fit_intercept}; call fit, or clone the estimator to "
                "start a new stream."
            )

    def _partial_fit_update(self, X, y, sample_weight):
        stream = getattr(self, "_stream", None)
        first = stream is None or stream.state is None
        X, Y, sw, y_ndim = self._validate_fit_data(X, y, sample_weight, reset=first)
        solver, name, update = self._stream_solver(X)
        self._check_capabilities(solver, name, X)
        if not is_numpy(namespace(X)[0]):
            raise ValueError(
                "partial_fit runs on NumPy and SciPy inputs only; use fit for "
                "array API inputs, or turn array_api_dispatch off."
            )
        for A, what in ((X, "X"), (Y, "y")):
            if data_scale(A, X.dtype) != 1.0:
                raise ValueError(
                    f"partial_fit: {what} has magnitudes beyond what streaming statistics hold "
                    f"in {X.dtype} without overflow or underflow (largest |value| "
                    f"{float(abs(A).max()):.3g}); rescale every batch by the same factor, or "
                    "use fit, which rescales exactly."
                )
        if first and stream is not None and hasattr(self, "coef_"):
            warnings.warn(
                f"partial_fit after fit with solver {stream.solver!r}: fit kept no streaming "
                "state (the closed form keeps its statistics only on the Gram route, for "
                "data with n_samples >= n_features), so this call starts a new stream and "
                "the rows given to fit are not part of it.",
                UserWarning,
                stacklevel=3,
            )
        penalty = self._penalty_factor(X.shape[1])
        if not first:
            self._check_stream(stream, name, Y.shape[1], penalty)
        alpha = check_alpha(self.alpha, Y.shape[1], X.dtype)
        state, result = self._stream_update(
            solver, update, None if first else stream.state, X, Y, sw, alpha, penalty, name
        )
        check_solve_result(result, X.shape[1], Y.shape[1], name)
        passes = 0 if first else self.n_iter_
        curve = [] if first else self.loss_curve_
        self._set_fitted(result, y_ndim, name)
        self.n_iter_ = passes + 1
        self.loss_curve_ = curve + list(result.history)
        self._stream = _Stream(name, state, Y.shape[1], self.fit_intercept, penalty)
        return self

    def _stream_update(self, solver, update, state, X, Y, sw, alpha, penalty, name):
        """One streaming update; with penalty factors, the closed form merges the
        batch into its (unreduced) statistics and solves them reduced, SGD steps
        on the rescaled columns."""
        if penalty is not None and isinstance(solver, ClosedForm):
            state = solver.merge_batch(state, X, Y, sw, self.fit_intercept)
            return state, solve_penalized_stats(state, alpha, penalty, positive=self.positive)
        reduction = None
        if penalty is not None and name != "closed_form":
            reduction = PenaltyReduction(penalty)
            if reduction.has_free:
                raise ValueError(
                    "penalty_factor with zero entries streams with solver='closed_form' only "
                    f"(the unpenalized features are eliminated using all rows); got {name!r}."
                )
            X = reduce_data(penalty, X, Y, sw, self.fit_intercept)[0]
        state, result = update(
            state, X, Y, sw, alpha=alpha, fit_intercept=self.fit_intercept,
            random_state=_registry.seed(self.random_state), verbose=self.verbose,
            **self._bound(),
        )
        if reduction is not None:
            result = reduction.result(result)
        return state, result

    @classmethod
    def from_stats(cls, stats, **params):
        """An estimator fitted, in closed form, from sufficient statistics.

        For engines that map over blocks of rows and reduce (Dask, Ray,
        Spark, a loop over files): compute :meth:`RidgeStats.from_batch` per
        block, :meth:`~RidgeStats.merge` them, and solve here. The result
        equals :meth:`fit` on all the rows; :meth:`partial_fit` may continue
        the stream.

        Parameters
        ----------
        stats : RidgeStats
            Statistics of all the rows.
        **params
            Estimator parameters (``alpha``, ...). ``fit_intercept`` defaults
            to, and must agree with, ``stats.fit_intercept``; ``solver``
            defaults to ``"closed_form"`` and must solve from statistics.

        Returns
        -------
        estimator : GDRidgeRegressor
            Fitted; ``coef_`` is 1-D when the statistics have one target.

        Examples
        --------
        >>> import numpy as np
        >>> from l2gd import GDRidgeRegressor, RidgeStats
        >>> rng = np.random.default_rng(0)
        >>> X, y = rng.standard_normal((200, 3)), rng.standard_normal(200)
        >>> stats = RidgeStats.from_batch(X[:50], y[:50])
        >>> for start in range(50, 200, 50):
        ...     rows = slice(start, start + 50)
        ...     stats = stats.merge(RidgeStats.from_batch(X[rows], y[rows]))
        >>> est = GDRidgeRegressor.from_stats(stats, alpha=2.0)
        >>> ref = GDRidgeRegressor(alpha=2.0).fit(X, y)
        >>> bool(np.allclose(est.coef_, ref.coef_, rtol=1e-10))
        True
        """
        if not isinstance(stats, RidgeStats):
            raise TypeError(f"stats must be a RidgeStats, got {type(stats).__name__}.")
        params.setdefault("fit_intercept", stats.fit_intercept)
        params.setdefault("solver", "closed_form")
        est = cls(**params)
        est._validate_params()
        if est.fit_intercept != stats.fit_intercept:
            raise ValueError(
                f"fit_intercept={est.fit_intercept} but the statistics were computed with "
                f"fit_intercept={stats.fit_intercept}."
            )
        solver, name, update = est._stream_solver()
        if not isinstance(solver, ClosedForm):
            raise ValueError(
                "from_stats solves in closed form; solver must be 'closed_form' or 'auto', "
                f"got {est.solver!r}."
            )
        if not stats.sw_sum > 0:
            raise ValueError("stats has zero total sample weight; nothing to fit.")
        alpha = check_alpha(est.alpha, stats.n_targets, stats.dtype)
        penalty = est._penalty_factor(stats.n_features)
        result = solve_penalized_stats(stats, alpha, penalty, positive=est.positive)
        est.n_features_in_ = stats.n_features
        est._set_fitted(result, 1 if stats.n_targets == 1 else 2, "closed_form")
        est._stream = _Stream(
            "closed_form", stats, stats.n_targets, stats.fit_intercept, penalty
        )
        return est

    def inference(self, X=None, y=None, sample_weight=None):
        """Covariance, standard errors and intervals of the fitted coefficients.

        Needs the statistics of the training rows (:class:`~l2gd.RidgeStats`)
        and the residual sum of squares. Given ``X`` and ``y`` (the training
        data), both are computed from them: one pass for the statistics
        (NumPy, SciPy sparse, or Dask, where the residual sum of squares comes
        from the statistics too), plus the residuals for in-memory data.
        Without them, the estimator's own statistics are used (after
        ``partial_fit`` or :meth:`from_stats` with the closed form, and after
        ``fit`` when the closed form took its Gram route), with the residual
        sum of squares computed from the statistics.

        The result describes the fitted ``coef_`` and ``intercept_``; at
        ``alpha = 0`` it is exactly ordinary least-squares inference. See
        :class:`~l2gd.RidgeInference` for the formulas, which residual degrees
        of freedom ``sigma2`` uses, and what the intervals mean for a biased
        estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features), default=None
            The training data, or None to use the stored statistics.
        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            The training targets (with X).
        sample_weight : array-like of shape (n_samples,), default=None
            The training weights (with X).

        Returns
        -------
        inference : RidgeInference

        Raises
        ------
        NotFittedError
            When the estimator is not fitted.
        ValueError
            Without X when the fit kept no statistics; with X but no y; when
            there are no residual degrees of freedom.

        Examples
        --------
        >>> import numpy as np
        >>> from l2gd import GDRidgeRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.standard_normal((100, 3))
        >>> y = X @ np.array([1.0, 0.0, -2.0]) + rng.standard_normal(100)
        >>> inf = GDRidgeRegressor(alpha=1.0).fit(X, y).inference(X, y)
        >>> inf.coef_se.shape, inf.conf_int().shape
        ((3,), (3, 2))
        >>> print(inf.summary())
        ridge alpha=1, dof=2.971 (+1 intercept), residual dof=96, sigma2=0.8441
                        coef         se        t      [2.5%     97.5%]
        intercept   -0.04212    0.09228   -0.456    -0.2253     0.1411
        x0            0.9765    0.08378   11.655     0.8102      1.143
        x1           -0.1322     0.0909   -1.454    -0.3126    0.04824
        x2            -2.134    0.09541  -22.368     -2.323     -1.945
        """
        from ._inference import ridge_inference

        check_is_fitted(self)
        stats, rss = self._inference_stats(X, y, sample_weight)
        n_targets = 1 if np.ndim(self.coef_) == 1 else np.shape(self.coef_)[0]
        if stats.n_targets != n_targets or stats.n_features != self.n_features_in_:
            raise ValueError(
                f"The data have {stats.n_features} features and {stats.n_targets} targets; "
                f"the model has {self.n_features_in_} and {n_targets}."
            )
        alpha = check_alpha(self.alpha, n_targets, np.float64)
        names = getattr(self, "feature_names_in_", None)
        penalty = self._penalty_factor(stats.n_features)
        return ridge_inference(
            stats, to_numpy(self.coef_), to_numpy(self.intercept_), alpha, rss, names, penalty
        )

    def _inference_stats(self, X, y, sample_weight):
        """The training rows' :class:`~l2gd.RidgeStats` and residual sum of
        squares per target, for :meth:`inference`."""
        if X is None:
            if y is not None or sample_weight is not None:
                raise ValueError("inference: y and sample_weight need X; pass all three.")
            stream = getattr(self, "_stream", None)
            stats = getattr(stream, "state", None)
            if not isinstance(stats, RidgeStats) or stats.fit_intercept != self.fit_intercept:
                raise ValueError(
                    f"inference() without X needs the training statistics, and this fit (solver "
                    f"{self.solver_!r}) kept none; pass the training data: inference(X, y, "
                    "sample_weight). The closed form keeps them after partial_fit, from_stats, "
                    "and fit on tall data."
                )
            return stats, self._stats_rss(stats)
        if y is None:
            raise ValueError("inference(X, y): y is required with X (the training targets).")
        if _dask.is_dask_collection(X):
            stats = _dask.compute_stats(X, y, sample_weight, fit_intercept=self.fit_intercept)
            return stats, self._stats_rss(stats)
        X, Y, sw, _ = self._validate_fit_data(X, y, sample_weight, reset=False)
        if not is_numpy(namespace(X)[0]):
            X, Y = to_numpy(X), to_numpy(Y)
            sw = None if sw is None else to_numpy(sw)
        stats = RidgeStats._from_checked(X, Y, sw, self.fit_intercept)
        R = Y - safe_sparse_dot(X, self._coef_matrix().astype(X.dtype), dense_output=True)
        R = np.asarray(R, dtype=np.float64) - self._intercepts()
        rss = np.einsum("ij,ij->j", R, R) if sw is None else np.einsum("ij,ij,i->j", R, R, sw)
        return stats, rss

    def _coef_matrix(self):
        """``coef_`` as a (n_features, n_targets) host array."""
        return np.asarray(to_numpy(self.coef_), dtype=np.float64).reshape(-1, self.n_features_in_).T

    def _intercepts(self):
        k = self._coef_matrix().shape[1]
        b = np.asarray(to_numpy(self.intercept_), dtype=np.float64).ravel()
        return np.broadcast_to(b, (k,))

    def _stats_rss(self, stats):
        return np.clip(stats.squared_error(self._coef_matrix(), self._intercepts()), 0.0, None)

    def predict(self, X):
        """Predict with the linear model.

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

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 of the predictions.

        As :meth:`sklearn.base.RegressorMixin.score`; on dask arrays it is
        computed blockwise without gathering the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            True values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R^2 of ``self.predict(X)`` against ``y``.
        """
        if _dask.is_dask_collection(X):
            return _dask.score(self, X, y, sample_weight)
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        solver = self.solver
        if isinstance(solver, str):
            solver = SOLVERS.get(solver, SOLVERS["closed_form"])()
        can = _registry.capabilities(solver)
        tags.input_tags.sparse = can["sparse"]
        tags.non_deterministic = can["stochastic"]
        tags.array_api_support = can["array_api"]
        tags.target_tags.multi_output = True
        return tags
