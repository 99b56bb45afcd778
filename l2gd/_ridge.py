"""GDRidgeRegressor: scikit-learn's Ridge objective with pluggable solvers."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

from . import _dask
from ._compat import HasMethods, Interval, StrOptions, _fit_context, validate_data
from ._objective import RidgeProblem
from ._validation import (
    ACCEPT_SPARSE,
    FLOAT_DTYPES,
    as_2d_targets,
    check_alpha,
    check_sample_weight,
)
from .solvers import SOLVERS

#: ``solver="auto"`` picks "closed_form" when the smaller side of a dense X,
#: or the number of features of a sparse X, is at most this; "gd" otherwise.
AUTO_CLOSED_FORM_MAX_DIM = 5000
AUTO_SPARSE_CLOSED_FORM_MAX_FEATURES = 2000


def resolve_auto_solver(X):
    """The solver name ``solver="auto"`` chooses for ``X`` (documented rule).

    Dense X: ``"closed_form"`` when ``min(n_samples, n_features) <= 5000``
    (one Gram or kernel matrix of at most 5000 x 5000), else ``"gd"``.
    Sparse X: ``"closed_form"`` when ``n_features <= 2000`` (the dense Gram
    matrix stays small), else ``"gd"`` (products with X only).
    """
    n_samples, n_features = X.shape
    if sp.issparse(X):
        small = n_features <= AUTO_SPARSE_CLOSED_FORM_MAX_FEATURES
    else:
        small = min(n_samples, n_features) <= AUTO_CLOSED_FORM_MAX_DIM
    return "closed_form" if small else "gd"


class GDRidgeRegressor(RegressorMixin, BaseEstimator):
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
    solver : {"auto", "closed_form", "gd"} or Solver, default="auto"
        ``"closed_form"``: exact direct solver (:class:`~l2gd.solvers.ClosedForm`).
        ``"gd"``: batch gradient descent
        (:class:`~l2gd.solvers.GradientDescent`). ``"auto"``: chosen from the
        data by :func:`~l2gd._ridge.resolve_auto_solver` (closed form unless
        the problem is large in both dimensions, or sparse and wide), recorded
        in ``solver_``. A :class:`~l2gd.solvers.Solver` object (built-in or
        your own) is used as given; its options are reachable as
        ``solver__<option>`` by :class:`~sklearn.model_selection.GridSearchCV`.
    tol : float, default=None
        Stopping tolerance of iterative solvers; ``None`` uses the solver's
        default. For ``"gd"``: the gradient norm at the returned coefficients
        relative to the gradient at the start (default ``sqrt(eps)`` of the
        dtype). Ignored by ``"closed_form"``.
    max_iter : int, default=None
        Maximum iterations of iterative solvers; ``None`` uses the solver's
        default (1000 for ``"gd"``).
    random_state : int, RandomState instance or None, default=None
        Seed for stochastic solvers. Deterministic solvers ignore it.
    warm_start : bool, default=False
        Start iterative solvers from the previous ``coef_`` when the shapes
        match.
    verbose : int, default=0
        Print the objective at each iteration when positive.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, with the shapes of ``Ridge.coef_``.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept, 0.0 when ``fit_intercept=False``.
    n_iter_ : int
        Iterations run by the solver (1 for the closed form).
    solver_ : str
        Name of the solver that ran (what ``"auto"`` chose).
    loss_curve_ : list of float
        Ridge objective (summed over targets) after each iteration; one value
        for the closed form.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.linear_model.Ridge : The reference this estimator matches.
    l2gd.solvers.ClosedForm : Direct solver.
    l2gd.solvers.GradientDescent : Batch gradient descent.

    Notes
    -----
    Other libraries scale the penalty differently: ``SGDRegressor(alpha=a)``
    and ``ElasticNet(alpha=a, l1_ratio=0)`` correspond to
    ``GDRidgeRegressor(alpha=n_samples * a)``; glmnet's ``lambda`` to
    ``alpha = n_samples * lambda``.

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
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
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
        solver="auto",
        tol=None,
        max_iter=None,
        random_state=None,
        warm_start=False,
        verbose=0,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    # -- solver resolution and capabilities (checked once, here) ------------
    def _solver_instance(self, X=None):
        """Return ``(solver, name)``; a fresh object, never the user's own."""
        if isinstance(self.solver, str):
            name = self.solver
            if name == "auto":
                name = resolve_auto_solver(X) if X is not None else "closed_form"
            return SOLVERS[name](), name
        solver = clone(self.solver)
        return solver, getattr(solver, "name", None) or type(solver).__name__

    @staticmethod
    def _check_capabilities(solver, name, X):
        if sp.issparse(X) and not getattr(solver, "supports_sparse", True):
            raise ValueError(
                f"solver {solver!r} does not support sparse X; use solver='closed_form' or "
                "'gd', or pass X.toarray()."
            )

    def _make_problem(self, X, y, sample_weight):
        Y = as_2d_targets(y, X.dtype)
        sw = check_sample_weight(sample_weight, X)
        alpha = check_alpha(self.alpha, Y.shape[1], X.dtype)
        if X.shape[0] == 0:
            raise ValueError("X has 0 samples; at least one is required.")
        return RidgeProblem(X, Y, alpha, sample_weight=sw, fit_intercept=self.fit_intercept)

    def _warm_start_init(self, problem):
        if not (self.warm_start and hasattr(self, "coef_")):
            return None
        W = np.reshape(self.coef_, (-1, problem.n_features)).T.astype(problem.dtype)
        return W if W.shape == (problem.n_features, problem.n_targets) else None

    def _set_fitted(self, result, y_ndim, name):
        # Exactly Ridge's shapes: coef_ is 1-D for one target (even y of shape
        # (n, 1)); intercept_ is a scalar for 1-D y, an array for 2-D y, and
        # 0.0 without intercept.
        coef = np.ascontiguousarray(result.coef.T)
        self.coef_ = coef[0] if coef.shape[0] == 1 else coef
        if not self.fit_intercept:
            self.intercept_ = 0.0
        else:
            self.intercept_ = result.intercept[0] if y_ndim == 1 else result.intercept
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
        if _dask.is_dask_collection(X):
            return _dask.fit(self, X, y, sample_weight)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=ACCEPT_SPARSE,
            dtype=FLOAT_DTYPES,
            multi_output=True,
            y_numeric=True,
        )
        problem = self._make_problem(X, y, sample_weight)
        solver, name = self._solver_instance(X)
        self._check_capabilities(solver, name, X)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        result = solver.solve(
            problem,
            init=self._warm_start_init(problem),
            tol=self.tol,
            max_iter=self.max_iter,
            random_state=seed,
            verbose=self.verbose,
        )
        self._set_fitted(result, np.ndim(y), name)
        return self

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
        check_is_fitted(self)
        if _dask.is_dask_collection(X):
            return _dask.predict(self, X)
        X = validate_data(self, X, accept_sparse=ACCEPT_SPARSE, dtype=FLOAT_DTYPES, reset=False)
        return safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_

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
        tags.input_tags.sparse = bool(getattr(solver, "supports_sparse", True))
        tags.non_deterministic = bool(getattr(solver, "stochastic", False))
        tags.target_tags.multi_output = True
        return tags
