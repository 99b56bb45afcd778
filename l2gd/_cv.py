"""GDRidgeCV: parameters, routing, selection, refit.

The estimator only decides: it validates its parameters, routes metadata,
splits the folds once, asks :mod:`l2gd._path` for the scores (leave-one-out,
or the one fold engine over in-memory rows or dask statistics, each fold's
path by ``solver.solve_path``), chooses alpha and refits on all rows with
:class:`~l2gd.GDRidgeRegressor`.
"""

import warnings
from dataclasses import replace
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.metrics import check_scoring, get_scorer, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.metaestimators import available_if

from . import _callbacks, _dask
from ._array_api import float_dtypes, to_numpy
from ._compat import (
    CallbackSupportMixin,
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)
from ._path import (
    FoldData,
    Scoring,
    _accepts_sample_weight,
    _alpha_grid,
    _check_alphas,
    _problem,
    _resolve_solver,
    alpha_grid,
    dask_folds,
    _stats_problem,
    fold_scores,
    full_dof,
    gcv_path,
    loo_scores,
    ridge_path,
    row_folds,
    stats_alpha_grid,
    TargetBatches,
    check_target_batch_size,
    target_batch_slices,
)
from ._banded import fit_banded
from ._inference import gcv_score
from ._penalty import (
    PenaltyReduction,
    check_penalty_factor,
    reduce_data,
    reduce_stats,
    scale_columns,
)
from ._ridge import GDRidgeRegressor, linear_predict
from ._scaling import Rescaling
from ._validation import ACCEPT_SPARSE, as_2d_targets, check_sample_weight
from .solvers import _registry
from .solvers import SOLVERS, ClosedForm

# ridge_path and alpha_grid are re-exported: l2gd/__init__.py imports the public names from here.
__all__ = ["AlphaBoundaryWarning", "GDRidgeCV", "alpha_grid", "ridge_path"]


class AlphaBoundaryWarning(UserWarning):
    """The alpha chosen by cross-validation is at an end of the grid.

    The best alpha may lie outside the grid: extend ``alphas`` beyond that end.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from l2gd import GDRidgeCV, AlphaBoundaryWarning
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 3))
    >>> y = X @ [1.0, 2.0, 3.0]  # no noise: the smallest alpha wins
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = GDRidgeCV(alphas=[1.0, 10.0, 100.0]).fit(X, y)
    >>> [w.category.__name__ for w in caught]
    ['AlphaBoundaryWarning']
    """


def _is_gcv(cv):
    return isinstance(cv, str) and cv == "gcv"


def _select(alphas, mean, std, n_splits, selection):
    """Index of the chosen alpha: the best mean score, or with ``"1se"`` the
    largest alpha whose mean is within one standard error of the best."""
    m = np.where(np.isnan(mean), -np.inf, mean)
    best = int(np.argmax(m))  # first of ties, in the order of the grid
    if selection == "min":
        return best
    if np.isnan(std[best]):
        raise ValueError(
            "selection='1se' needs per-split scores; with cv=None they exist only for "
            "scoring=None. Use scoring=None or set cv."
        )
    se = std[best] / np.sqrt(max(n_splits - 1, 1))
    within = np.flatnonzero(m >= m[best] - se)
    return int(within[np.argmax(alphas[within])])


# ---------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------
class GDRidgeCV(CallbackSupportMixin, RegressorMixin, BaseEstimator):
    """Ridge regression with alpha chosen by cross-validation, reusing work across alphas.

    The objective is :class:`sklearn.linear_model.Ridge`'s (and
    :class:`~l2gd.GDRidgeRegressor`'s), ``sum_i s_i (y_i - x_i . w - b)^2 +
    alpha * ||w||^2``. Each candidate alpha is scored by cross-validation,
    the chosen one is refit on all rows with :class:`~l2gd.GDRidgeRegressor`.

    * ``cv=None``: exact leave-one-out for the whole grid from one
      eigendecomposition, as :class:`~sklearn.linear_model.RidgeCV`
      (same ``alpha_``, ``best_score_``, ``coef_``), with sample weights and
      ``alpha_per_target``. Extra memory is about ``n_features**2 +
      n_samples * target_batch_size`` (targets are taken in batches), independent
      of the number of alphas unless ``store_cv_results=True``.
    * ``cv=<int>`` or a splitter: the folds are split once. With the
      closed-form solver, the sufficient statistics of each test fold are
      computed once, each training set's follow by subtraction from their
      total, and one decomposition per fold gives every alpha (an SVD of the
      fold's rows with ``ClosedForm(method="svd")``). With an
      iterative solver, each fold runs a path from the largest to the
      smallest alpha, warm-started. Same results as
      ``GridSearchCV(Ridge(), {"alpha": alphas}, cv=cv)``.
    * ``cv="gcv"``: generalized cross-validation as MASS ``lm.ridge``
      defines it, ``GCV(alpha) = RSS(alpha) / (S - df(alpha))^2``, with
      ``RSS`` the weighted residual sum of squares of the fit on all rows,
      ``S`` the total sample weight (``n_samples`` without weights) and
      ``df`` the effective degrees of freedom (:func:`~l2gd.effective_dof`,
      the intercept's not counted, as in MASS), for the whole grid from the
      one decomposition leave-one-out uses (and, on dask arrays, from the
      statistics of one pass). It is not leave-one-out: GCV replaces each
      row's leverage ``h_i`` in the leave-one-out residual ``r_i / (1 - h_i)``
      by the average leverage, which makes it invariant to rotations of the
      data and cheaper; the two usually choose nearby alphas.

    Parameters
    ----------
    alphas : int or array-like of shape (n_alphas,), default=100
        Candidate penalties (``>= 0``, ``> 0`` for ``cv=None``), or the number
        of candidates on a log grid derived from the data: from ``1e-6 * m``
        to ``1e3 * t`` with ``t`` the trace of the weighted centered Gram
        matrix and ``m = t / n_features`` (see :func:`~l2gd.alpha_grid`).
    fit_intercept : bool, default=True
        Whether to fit an unpenalized intercept.
    positive : bool, default=False
        Constrain the coefficients to be ``>= 0`` (intercept free), as
        ``Ridge(positive=True)``: each fold fits the constrained problem for
        every alpha (warm-started along the path; the closed form from each
        fold's statistics, by block principal pivoting), and so does the
        refit. Needs a K-fold ``cv``: ``cv=None`` and ``"gcv"`` raise a
        ``ValueError`` (their shortcuts hold for the unconstrained fit only).
    penalty_factor : array-like of shape (n_features,) or dict, default=None
        Per-feature penalty factors, as in :class:`GDRidgeRegressor`: every
        candidate and the refit minimize ``... + alpha * sum_j f_j w_j**2``.
        Positive factors work with every ``cv`` (the columns are rescaled
        once). Zero factors (unpenalized features) are eliminated on each
        training set (K-fold) or on all rows (leave-one-out and ``"gcv"``,
        whose leverages and degrees of freedom then include theirs: each
        unpenalized feature counts one).
    feature_groups : array-like of shape (n_features,), default=None
        Banded ridge: a group label per feature. One alpha per group (per
        target with ``alpha_per_target=True``) is learned by the chosen ``cv``:
        ``alpha_`` is then an array of shape (n_groups,) or (n_targets,
        n_groups), its columns in the order of ``feature_groups_``, and the
        objective is ``... + sum_j alpha_{g(j)} w_j**2``. The search
        (:mod:`l2gd._banded`) scores ``n_group_candidates`` weightings of the
        groups, each over the whole alpha grid at once; equal weights come
        first, so ``best_score_`` is at least that of the best single alpha on
        the same folds. Not combined with ``penalty_factor``.
    n_group_candidates : int, default=30
        With ``feature_groups``: the number of group weightings drawn (equal
        weights, then random points of the simplex), before a coordinate
        refinement around the best one (shared alpha only).
    cv : int, cross-validation generator, iterable or "gcv", default=None
        ``None``: efficient leave-one-out. ``"gcv"``: generalized
        cross-validation (see above; ``scoring`` must be None and
        ``selection`` ``"min"``). An int: that many
        :class:`~sklearn.model_selection.KFold` folds (no shuffling). Any
        scikit-learn splitter or iterable of ``(train, test)`` indices.
    scoring : str, callable or None, default=None
        Scorer (a name from :func:`sklearn.metrics.get_scorer_names` or a
        callable ``scorer(estimator, X, y)``). ``None``: minus the mean
        squared leave-one-out error (weighted by ``sample_weight``, averaged
        over rows as ``RidgeCV`` does) for ``cv=None``, otherwise the
        estimator's ``score`` (R^2); for ``cv="gcv"``, minus the GCV
        criterion (no other scoring). With ``cv`` set, scorers receive a
        fitted :class:`~l2gd.GDRidgeRegressor` for each alpha and the
        validation rows. A NaN score raises a ``ValueError`` naming the split
        and the alpha (as ``error_score="raise"``); so does the default R^2 on
        a test fold whose weights are all zero.
    solver : {"auto", "closed_form", "gd"} or Solver, default="auto"
        Solver of the path on each fold and of the final refit, as in
        :class:`~l2gd.GDRidgeRegressor`. ``"auto"`` chooses from the data:
        the paths by the rule for many alphas (``task="path"`` of
        :func:`l2gd.solvers._registry.auto_solver`: the closed form up to 1000
        sparse features, one factorization for every alpha), the refit by
        the rule for one fit (``solver_``).
        Each fold's path is ``solver.solve_path``. Leave-one-out scores always
        come from the closed form's decomposition (that of the given
        ``ClosedForm``'s ``method``, an SVD for ``"svd"``); another solver then
        only refits. On dask arrays the scores come from the fold statistics
        through the closed form's spectral path; the solver refits.
    tol : float, default=None
        Tolerance of iterative solvers (see :class:`~l2gd.GDRidgeRegressor`).
    max_iter : int, default=None
        Iterations per alpha of iterative solvers.
    alpha_per_target : bool, default=False
        Choose one alpha per target (needs at least two targets). Scores are
        then computed per target.
    selection : {"min", "1se"}, default="min"
        ``"min"``: the alpha with the best mean score (the first of ties, in
        the order of ``alphas``). ``"1se"``: the largest alpha whose mean
        score is within one standard error of the best, the standard error
        being ``std_test_score / sqrt(n_splits - 1)`` of the best alpha (for
        ``cv=None`` the splits are the rows; needs ``scoring=None`` there).
    store_cv_results : bool, default=False
        With ``cv=None``, keep the leave-one-out predictions of every row for
        every alpha in ``cv_results_["loo_predictions"]``.
    refit : bool, default=True
        Refit the chosen alpha on all rows. With ``refit=False`` only alpha
        is selected: ``alpha_``, ``best_score_``, ``best_index_``,
        ``alphas_`` and ``cv_results_`` are set, ``coef_``, ``intercept_``,
        ``solver_`` and ``n_iter_`` are not, and ``predict`` is not
        available (``hasattr(cv, "predict")`` is False), as for
        :class:`~sklearn.model_selection.GridSearchCV` with ``refit=False``.
    n_jobs : int, default=None
        Folds computed in parallel through joblib (``None`` means 1 unless
        in a :func:`joblib.parallel_config` context).
    random_state : int, RandomState instance or None, default=None
        Seed of stochastic solvers.
    target_batch_size : "auto" or int, default="auto"
        Targets scored together (many targets in bounded memory, as
        himalaya's ``n_targets_batch``): the decomposition of X (of each
        fold's training X for a K-fold ``cv``) is computed once and each
        batch of targets is projected on it, so the extra memory is about
        ``n_features**2 + n_samples * target_batch_size`` (K-fold:
        ``n_alphas * n_features * target_batch_size``) rather than growing
        with all targets times all alphas. An int: that many targets per
        batch. ``"auto"``: as many as keep the largest per-batch array at
        about ``2**22`` float64 values (32 MiB), i.e. ``2**22 // n_samples``
        targets for ``cv=None`` and ``"gcv"``, ``2**22 // max(n_samples,
        n_alphas * n_features)`` for a K-fold ``cv``. The scores do not
        depend on it (up to rounding). Targets are taken all at once by a
        ``scoring`` that scores all targets together (without
        ``alpha_per_target``), by iterative solvers, with ``positive=True``
        and on dask arrays.

    Attributes
    ----------
    alpha_ : float or ndarray of shape (n_targets,)
        Chosen alpha (one per target with ``alpha_per_target``). With
        ``feature_groups``: the penalty of each group, shape (n_groups,) or
        (n_targets, n_groups).
    best_score_ : float or ndarray of shape (n_targets,)
        Mean cross-validated score of ``alpha_``.
    feature_groups_ : ndarray of shape (n_groups,)
        With ``feature_groups``: the distinct group labels, the order of the
        columns of ``alpha_``.
    group_weights_ : ndarray of shape (n_candidates, n_groups)
        With ``feature_groups``: the group weightings scored (rows sum to 1;
        a weighting ``gamma`` with the grid's alpha gives the group penalties
        ``alpha / (n_groups * gamma)``); ``cv_results_``, ``alphas_`` and
        ``best_index_`` are those of the best one (best on average over the
        targets with ``alpha_per_target``).
    group_scores_ : ndarray of shape (n_candidates,) or (n_candidates, n_targets)
        With ``feature_groups``: the best score of each weighting.
    best_index_ : int or ndarray of shape (n_targets,)
        Index of ``alpha_`` in ``alphas_``.
    alphas_ : ndarray of shape (n_alphas,)
        The grid that was searched.
    cv_results_ : dict of ndarray
        ``"alphas"``; ``"dof"`` of shape (n_alphas,), the effective degrees
        of freedom of the fit on all rows at each alpha
        (:func:`~l2gd.effective_dof`, without the intercept's), in every mode
        but ``positive=True`` (the constrained fit is not a linear smoother);
        ``"mean_test_score"``, ``"std_test_score"`` and
        ``"rank_test_score"`` of shape (n_alphas,) or (n_alphas, n_targets);
        with ``cv`` a splitter, ``"split<i>_test_score"`` for each split; with
        ``store_cv_results``, ``"loo_predictions"`` of shape
        (n_samples, n_alphas) or (n_samples, n_targets, n_alphas). For
        ``cv="gcv"``: ``"gcv"``, the criterion ``RSS / (S - dof)^2`` (lower
        is better; ``inf`` where ``S <= dof``), ``"mean_test_score"`` its
        negative (larger is better, as every scikit-learn score; without
        ``alpha_per_target`` the criterion is averaged over the targets), and
        ``"std_test_score"`` NaN (there are no splits).
    n_splits_ : int
        Number of splits (``n_samples`` for leave-one-out, 1 for ``"gcv"``).
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients refit on all rows, with ``Ridge``'s shapes (only with
        ``refit=True``, as ``intercept_``, ``solver_`` and ``n_iter_``).
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept of the refit.
    solver_ : str
        Solver of the refit.
    n_iter_ : int
        Iterations of the refit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.linear_model.RidgeCV : Reference for ``cv=None``.
    sklearn.model_selection.GridSearchCV : Reference for ``cv`` set.
    ridge_path : Coefficients along a grid of alphas.
    AlphaBoundaryWarning : Raised when ``alpha_`` is at an end of the grid.

    Notes
    -----
    Accuracy: the spectral path's eigenvalues carry an absolute error of about
    ``eps * dim * L_max``. Alphas at which that is not negligible next to
    ``L + alpha`` (columns of very different scales, tiny alphas on
    rank-deficient data) are fit one by one instead, by orthogonal
    factorizations of the column-scaled design, so every score is that of an
    exact fit. Data near the float range limits is rescaled by powers of two
    (alphas by ``1 / x_scale**2``), scores are reported in the user's units.
    Array API inputs are cross-validated on the host in NumPy; the refit runs
    in X's namespace. Ties between alphas go to the first in ``alphas``.

    **Progress callbacks.** With scikit-learn >= 1.9, ``set_callbacks``
    takes :mod:`sklearn.callback` callbacks (``ProgressBar()``, which needs
    ``rich``; ``ScoringMonitor``; your own). The tasks of ``fit``: one
    ``"cross-validation"`` task with one ``"fold"`` subtask per split (each
    with one ``"alpha"`` subtask per alpha when the solver's path is a
    sequence of warm-started solves, ``"gd"`` and ``"sgd"``; the closed form's
    spectral path is one step), then ``"refit"``, which is the
    :class:`GDRidgeRegressor` fit on all rows (auto-propagated callbacks such
    as ``ProgressBar`` reach its iterations). ``cv=None`` and ``cv="gcv"``
    have no folds. With ``n_jobs``, the fold tasks run in the workers.

    Leave-one-out and GCV: scikit-learn's :class:`~sklearn.linear_model.RidgeCV`
    documented its efficient leave-one-out as "generalized cross-validation"
    for years (scikit-learn issue #18079); here ``cv=None`` is that
    leave-one-out and ``cv="gcv"`` is GCV in Golub, Heath and Wahba's sense
    with MASS's degrees of freedom: given MASS's design (it centers and
    scales the columns first) and the same grid, ``cv_results_["gcv"]`` is
    the ``GCV`` of MASS ``lm.ridge`` (unweighted; with weights, ``S`` is the
    total weight, weights counting as repetitions of rows).

    With ``cv`` set, ``sample_weight`` weights both the fits and the
    validation scores (``GridSearchCV`` weights scores only with metadata
    routing). Under metadata routing (``sklearn.set_config(
    enable_metadata_routing=True)``), ``fit`` routes its extra parameters to
    the scorer and the splitter (e.g. ``groups``), and ``sample_weight`` to
    the scorer if it requests it (the default scorer does); without routing,
    ``groups`` is passed to the splitter.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import RidgeCV
    >>> from l2gd import GDRidgeCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 5))
    >>> y = X @ np.arange(5.0) + 5.0 * rng.standard_normal(100)
    >>> alphas = np.logspace(-2, 3, 30)
    >>> cv = GDRidgeCV(alphas=alphas).fit(X, y)
    >>> bool(np.isclose(cv.alpha_, RidgeCV(alphas=alphas).fit(X, y).alpha_))
    True
    >>> cv5 = GDRidgeCV(alphas=alphas, cv=5).fit(X, y)
    >>> sorted(cv5.cv_results_)[:3]
    ['alphas', 'dof', 'mean_test_score']
    >>> gcv = GDRidgeCV(alphas=alphas, cv="gcv").fit(X, y)
    >>> bool(gcv.best_score_ == -gcv.cv_results_["gcv"].min())
    True

    Progress callbacks (scikit-learn >= 1.9): a callback set with
    ``set_callbacks`` sees one task per fold (and per alpha of a gd or sgd
    path), then the refit:

    >>> from sklearn.callback import ScoringMonitor
    >>> cv_monitor = ScoringMonitor(scoring="r2")
    >>> cv_watched = GDRidgeCV(alphas=alphas, cv=5).set_callbacks(cv_monitor).fit(X, y)
    >>> [row["task_name"] for row in cv_monitor.get_logs().data]
    ['fit']
    >>> bool(np.isclose(cv_monitor.get_logs().data[0]["r2"], cv_watched.score(X, y)))
    True
    """

    _parameter_constraints = {
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "positive": ["boolean"],
        "penalty_factor": ["array-like", dict, None],
        "feature_groups": ["array-like", None],
        "n_group_candidates": [Interval(Integral, 1, None, closed="left")],
        "cv": ["cv_object", StrOptions({"gcv"})],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "solver": [StrOptions({"auto", *SOLVERS}), HasMethods(["solve"])],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "alpha_per_target": ["boolean"],
        "selection": [StrOptions({"min", "1se"})],
        "store_cv_results": ["boolean"],
        "refit": ["boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "target_batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        alphas=100,
        *,
        fit_intercept=True,
        positive=False,
        penalty_factor=None,
        feature_groups=None,
        n_group_candidates=30,
        cv=None,
        scoring=None,
        solver="auto",
        tol=None,
        max_iter=None,
        alpha_per_target=False,
        selection="min",
        store_cv_results=False,
        refit=True,
        n_jobs=None,
        random_state=None,
        target_batch_size="auto",
    ):
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.penalty_factor = penalty_factor
        self.feature_groups = feature_groups
        self.n_group_candidates = n_group_candidates
        self.cv = cv
        self.scoring = scoring
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.alpha_per_target = alpha_per_target
        self.selection = selection
        self.store_cv_results = store_cv_results
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.target_batch_size = target_batch_size

    # -- scoring and routing -------------------------------------------------
    def _get_scorer(self):
        if self.scoring is None and get_config()["enable_metadata_routing"]:
            # As RidgeCV: the default R^2 scorer asks for the weights.
            return get_scorer("r2").set_score_request(sample_weight=True)
        return check_scoring(self, scoring=self.scoring)

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            Routing of ``fit``'s parameters to the scorer (``score``) and the
            splitter (``split``).
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                scorer=self._get_scorer(),
                method_mapping=MethodMapping().add(caller="fit", callee="score"),
            )
            .add(
                splitter=None if self.cv is None or _is_gcv(self.cv) else check_cv(self.cv),
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        )

    def _route(self, sample_weight, params):
        """Return ``(score_params, split_params)`` for ``fit``."""
        if get_config()["enable_metadata_routing"]:
            if sample_weight is not None:
                params = {**params, "sample_weight": sample_weight}
            routed = process_routing(self, "fit", **params)
            return dict(routed.scorer.score), dict(routed.splitter.split)
        unknown = sorted(set(params) - {"groups"})
        if unknown:
            raise ValueError(
                f"GDRidgeCV.fit got unexpected parameters {unknown}; only groups is accepted "
                "without metadata routing. Enable it with "
                "sklearn.set_config(enable_metadata_routing=True) to route others."
            )
        split = {"groups": params["groups"]} if params.get("groups") is not None else {}
        return None, split

    # -- fit -----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Choose alpha by cross-validation, then refit on all rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights, used by the fits and the validation scores.
        **params : dict
            ``groups`` for the splitter; with metadata routing enabled, any
            parameter requested by the scorer or the splitter.

        Returns
        -------
        self : GDRidgeCV
            Fitted estimator.
        """
        # Callback tasks: "cross-validation" (the fold engine's), then "refit";
        # the search over group weightings is one task (its candidates' folds
        # would be hundreds).
        banded = self.feature_groups is not None
        n_tasks = 0 if banded else 1 + bool(self.refit)
        with _callbacks.fitting(self, X, y, sample_weight, max_subtasks=n_tasks):
            if banded:
                with _callbacks.running(None):
                    return fit_banded(self, X, y, sample_weight, params)
            return self._fit_alphas(X, y, sample_weight, params)

    def _fit_alphas(self, X, y, sample_weight, params):
        """``fit`` for one alpha per target (or shared): the alpha grid scored by
        cross-validation, then the refit."""
        if _dask.is_dask_collection(X):
            return self._fit_dask(X, y, sample_weight, params)
        score_params, split_params = self._route(sample_weight, params)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=ACCEPT_SPARSE,
            dtype=float_dtypes(X),
            multi_output=True,
            y_numeric=True,
        )
        loo, gcv = self.cv is None, _is_gcv(self.cv)
        if (loo or gcv) and split_params:
            name = "cv='gcv' (generalized cross-validation)" if gcv else "cv=None (leave-one-out)"
            raise ValueError(
                f"groups (and other split parameters {sorted(split_params)}) need cv set to "
                f"a splitter; {name} has no splitter to pass them to."
            )
        data, alphas = self._host_data(X, y, sample_weight, loo)
        if score_params is None:
            score_params, pass_weights = {}, data.sample_weight is not None
        else:
            pass_weights = False
        if gcv:
            results, mean, std, n_splits, select_on = self._gcv(data, alphas)
        elif loo:
            results, mean, std, n_splits, select_on = self._loo(
                data, alphas, score_params, pass_weights, np.ndim(y) == 1
            )
        else:
            results, mean, std, n_splits = self._kfold(
                data, np.ndim(y) == 1, alphas, score_params, split_params, pass_weights
            )
            select_on = None
        return self._select_and_refit(
            results, mean, std, n_splits, X, y, sample_weight, select_on=select_on
        )

    def _host_data(self, X, y, sample_weight, loo):
        """The rows on the host in float64 (as RidgeCV's leave-one-out), rescaled
        by powers of two when their magnitudes are extreme, and the alphas in
        the rescaled and the user's units. The refit keeps X's namespace and dtype."""
        X64 = np.asarray(to_numpy(X), dtype=np.float64) if not sp.issparse(X) else (
            X.astype(np.float64, copy=False)
        )
        y_host = np.asarray(to_numpy(y))
        Y = as_2d_targets(y_host, np.float64)
        sw = check_sample_weight(
            None if sample_weight is None else to_numpy(sample_weight)
            if not isinstance(sample_weight, Real) else sample_weight,
            X64,
        )
        self._check_fit_options(y_host, Y, loo)
        X64, penalty = self._apply_penalty(X64)
        resc = Rescaling.of(X64, Y)
        Xs, Ys = resc.data(X64, Y)
        if isinstance(self.alphas, Integral) and not isinstance(self.alphas, bool):
            # X only: one target stands for all (no centered copy of every target).
            grid_problem = self._full_problem(Xs, Ys[:, :1], sw, penalty)[0]
            alphas = _alpha_grid(grid_problem, self.alphas)
            with np.errstate(over="ignore", under="ignore"):
                user_alphas = alphas * resc.x_scale * resc.x_scale
        else:
            user_alphas = _check_alphas(self.alphas, positive=loo)
            with np.errstate(over="ignore", under="ignore"):
                alphas = np.asarray(resc.alpha(user_alphas), dtype=np.float64)
        data = FoldData(Xs, Ys, sw, self.fit_intercept, X64, Y, resc, penalty)
        return data, (alphas, user_alphas)

    def _apply_penalty(self, X):
        """``(X, penalty)``: positive penalty factors rescale X's columns once for
        every fold (:func:`l2gd._penalty.scale_columns`; a dask array lazily);
        factors with zeros are returned, to be eliminated on each fold's
        training rows (K-fold only); ``(X, None)`` for ordinary ridge."""
        penalty = check_penalty_factor(
            self.penalty_factor, X.shape[1], positive=self.positive,
            feature_names=getattr(self, "feature_names_in_", None),
        )
        if penalty is None:
            return X, None
        reduction = PenaltyReduction(penalty)
        if reduction.has_free:
            return X, penalty
        if _dask.is_dask_collection(X):
            return X * reduction.scale.astype(X.dtype), None
        return scale_columns(X, reduction.scale), None

    def _full_problem(self, X, Y, sw, penalty):
        """The problem on all rows (for the alpha grid, leave-one-out, GCV and the
        degrees of freedom), with zero penalty factors eliminated, and the
        :class:`~l2gd._penalty.PenaltyReduction` (None without)."""
        if penalty is None:
            return _problem(X, Y, sw, self.fit_intercept), None
        X, Y, fit_intercept, reduction = reduce_data(penalty, X, Y, sw, self.fit_intercept)
        return _problem(X, Y, sw, fit_intercept), reduction

    def _loo(self, data, alphas, score_params, pass_weights, y_1d):
        """Leave-one-out: ``(results, mean, std, n_splits, select_on)``."""
        alphas, user_alphas = alphas
        sw, resc = data.sample_weight, data.rescaling
        X, Y, fit_intercept, reduction = data.X, data.Y, self.fit_intercept, None
        if data.penalty is not None:  # unpenalized columns eliminated on all rows
            X, Y, fit_intercept, reduction = reduce_data(data.penalty, X, Y, sw, fit_intercept)
            # unreduced targets, the eliminated block's leverage and degrees of freedom
            reduction = (data.Y, reduction.free_leverage, reduction.free_rank)
        batches = TargetBatches.of(X, Y, sw, fit_intercept, self.target_batch_size)
        scorer = None if self.scoring is None else self._get_scorer()
        if pass_weights and scorer is not None and _accepts_sample_weight(scorer):
            score_params = {**score_params, "sample_weight": sw}
        solver, _ = _resolve_solver(self.solver, data.X_user)
        y_user = data.Y_user[:, 0] if y_1d else data.Y_user  # float64, the user's shape
        scores = loo_scores(
            batches, alphas, scorer, score_params, y_user, self.alpha_per_target,
            self.store_cv_results, resc, solver, reduction,
        )
        mean, std, preds = scores.mean, scores.std, scores.predictions
        _check_no_nan([mean], user_alphas, loo=True)
        select_on = None
        if scorer is None:  # chosen on the rescaled scores, reported in the user's units
            select_on = mean, std
            mean, std = resc.objective(mean), resc.objective(std)
        results = {"alphas": user_alphas, "dof": scores.dof}
        if preds is not None:
            results["loo_predictions"] = preds[:, 0, :] if y_1d else preds
        return results, mean, std, batches.n_samples, select_on

    def _gcv(self, data, alphas):
        """Generalized cross-validation in memory: ``(results, mean, std, n_splits,
        select_on)``, from the decomposition leave-one-out uses."""
        alphas, user_alphas = alphas
        X, Y, fit_intercept, free_dof = data.X, data.Y, self.fit_intercept, 0
        if data.penalty is not None:  # unpenalized columns eliminated on all rows
            X, Y, fit_intercept, reduction = reduce_data(
                data.penalty, X, Y, data.sample_weight, fit_intercept
            )
            free_dof = reduction.free_rank
        batches = TargetBatches.of(X, Y, data.sample_weight, fit_intercept, self.target_batch_size)
        solver, _ = _resolve_solver(self.solver, data.X_user)
        path = _count_free(gcv_path(batches, alphas, solver), free_dof)
        return self._gcv_results(path, user_alphas, data.rescaling)

    def _gcv_results(self, path, user_alphas, rescaling):
        """``cv_results_`` of a :class:`~l2gd._path.GCVPath`: the scores are minus
        the criterion (per target, or its mean over targets), chosen on the
        rescaled values and reported in the user's units."""
        crit = path.gcv if self.alpha_per_target else path.gcv.mean(axis=1)
        _check_no_nan([crit], user_alphas, loo=True)
        finite = np.isfinite(crit).reshape(len(crit), -1)
        if not finite.any(axis=0).all():
            raise ValueError(
                "cv='gcv': the generalized cross-validation criterion RSS / (S - dof)^2 is "
                "infinite at every alpha: the total sample weight S does not exceed the "
                f"degrees of freedom (S = {path.sw_sum:g}, dof from "
                f"{path.dof.min():.4g} to {path.dof.max():.4g}), so every fit interpolates. "
                "Use larger alphas, or cv=None (leave-one-out) or a K-fold cv."
            )
        std = np.full(crit.shape, np.nan)
        user_crit = rescaling.objective(crit)
        results = {"alphas": user_alphas, "dof": path.dof, "gcv": user_crit}
        return results, -user_crit, std, 1, (-crit, std)

    def _check_gcv_options(self):
        """The rules of ``cv='gcv'`` (in memory and on dask arrays)."""
        if self.scoring is not None:
            raise ValueError(
                f"cv='gcv' scores by the generalized cross-validation criterion; it takes "
                f"no scoring (got scoring={self.scoring!r}). Use scoring=None, or set cv "
                "to None (leave-one-out) or a K-fold cv to use a scorer."
            )
        if self.selection == "1se":
            raise ValueError(
                "selection='1se' needs per-split scores; cv='gcv' has no splits. Use "
                "selection='min', or cv=None (leave-one-out) or a K-fold cv."
            )
        if self.store_cv_results:
            raise ValueError(
                "store_cv_results=True needs cv=None (leave-one-out); got cv='gcv'."
            )

    def _check_positive_cv(self):
        """``positive=True`` needs a K-fold ``cv``: leave-one-out and GCV come from
        the spectral decomposition of the unconstrained fit."""
        if self.positive and (self.cv is None or _is_gcv(self.cv)):
            mode = "cv='gcv' (generalized cross-validation)" if _is_gcv(self.cv) else (
                "cv=None (efficient leave-one-out)"
            )
            raise ValueError(
                f"positive=True needs a K-fold cv (e.g. cv=5 or a splitter): {mode} comes "
                "from the spectral decomposition of the unconstrained ridge fit, which does "
                "not apply to coefficients constrained to be >= 0."
            )

    def _check_fit_options(self, y, Y, loo):
        """The cross-parameter rules of ``fit``, checked once."""
        check_target_batch_size(self.target_batch_size)  # booleans, which Interval lets by
        self._check_positive_cv()
        if _is_gcv(self.cv):
            self._check_gcv_options()
        if self.alpha_per_target and Y.shape[1] < 2:
            raise ValueError(
                "alpha_per_target=True needs y with at least 2 targets (columns); got "
                f"{'a 1-D y' if y.ndim == 1 else '1 target'}. Set alpha_per_target=False."
            )
        if self.store_cv_results and not loo:
            raise ValueError(
                "store_cv_results=True needs cv=None (leave-one-out); got cv="
                f"{self.cv!r}."
            )
        if loo and Y.shape[0] < 2:
            raise ValueError(
                f"cv=None (leave-one-out) needs at least 2 samples; got {Y.shape[0]} sample."
            )

    def _select_and_refit(
        self, results, mean, std, n_splits, X, y, sample_weight, select_on=None
    ):
        """Record ``cv_results_``, choose alpha (per target), warn at the grid's
        edge, refit on all rows with :class:`GDRidgeRegressor`.

        ``select_on``: the ``(mean, std)`` to rank and choose by, when the
        recorded ones (in the user's units) may have overflowed."""
        alphas = results["alphas"]
        rank_mean, rank_std = (mean, std) if select_on is None else select_on
        results.update(
            mean_test_score=mean, std_test_score=std, rank_test_score=_rank(rank_mean)
        )
        self.cv_results_, self.alphas_, self.n_splits_ = results, alphas, int(n_splits)
        if self.alpha_per_target:
            idx = np.array(
                [_select(alphas, rank_mean[:, j], rank_std[:, j], n_splits, self.selection)
                 for j in range(mean.shape[1])]
            )
            self.alpha_, self.best_score_ = alphas[idx], mean[idx, np.arange(mean.shape[1])]
        else:
            idx = _select(alphas, rank_mean, rank_std, n_splits, self.selection)
            self.alpha_, self.best_score_ = float(alphas[idx]), float(mean[idx])
        self.best_index_ = idx
        _warn_if_at_boundary(alphas, np.atleast_1d(self.alpha_))
        if not self.refit:
            for attr in ("coef_", "intercept_", "solver_", "n_iter_"):  # of an earlier fit
                self.__dict__.pop(attr, None)
            if _dask.is_dask_collection(X):  # validate_data did not run
                self.n_features_in_ = X.shape[1]
                self.__dict__.pop("feature_names_in_", None)
            return self
        refit = GDRidgeRegressor(
            alpha=self.alpha_,
            fit_intercept=self.fit_intercept,
            positive=self.positive,
            penalty_factor=self.penalty_factor,
            solver=self.solver,
            tol=self.tol,
            max_iter=self.max_iter,
            random_state=self.random_state,
        )
        _callbacks.fit_nested("refit", refit, X, y, sample_weight=sample_weight)
        for attr in ("coef_", "intercept_", "solver_", "n_iter_", "n_features_in_"):
            setattr(self, attr, getattr(refit, attr))
        return self

    def _fit_dask(self, X, y, sample_weight, params):
        """K-fold on dask arrays: one pass gives every fold's statistics, and the
        fold engine gives every fold's and alpha's score from them (R^2 or
        minus the mean squared error), through the closed form's spectral path."""
        self._check_positive_cv()
        if self.cv is None:
            raise ValueError(
                _dask.loo_message() + " Or cv='gcv' (generalized cross-validation), also "
                "from one pass."
            )
        if params:
            raise ValueError(
                f"GDRidgeCV on dask arrays takes no fit parameters; got {sorted(params)}."
            )
        X_user = X
        X, penalty = (X, None) if self.penalty_factor is None else self._apply_penalty(X)
        if _is_gcv(self.cv):
            return self._gcv_dask(X, y, sample_weight, X_user, penalty)
        scoring = {None: "r2", "r2": "r2", "neg_mean_squared_error": "mse"}.get(
            self.scoring if isinstance(self.scoring, (str, type(None))) else "", None
        )
        if scoring is None:
            raise ValueError(
                f"scoring={self.scoring!r} is not available on dask arrays: scores come "
                "from sufficient statistics there; use scoring=None (R^2) or "
                "'neg_mean_squared_error'."
            )
        folds, total = dask_folds(
            X, y, sample_weight, self.cv, self.fit_intercept, scoring, self.alpha_per_target,
            penalty,
        )
        free_dof = 0
        if penalty is not None:
            total, reduction = reduce_stats(penalty, total)
            free_dof = reduction.free_rank
        if self.alpha_per_target and total.n_targets < 2:
            raise ValueError(
                "alpha_per_target=True needs y with at least 2 targets (columns). Set "
                "alpha_per_target=False."
            )
        if isinstance(self.alphas, Integral) and not isinstance(self.alphas, bool):
            alphas = stats_alpha_grid(total, self.alphas)
        else:
            alphas = _check_alphas(self.alphas, positive=False)
        split_scores = fold_scores(folds, alphas, ClosedForm(), self._bound(), n_jobs=None)
        results, mean, std = _kfold_results(alphas, split_scores)
        if not self.positive:
            results["dof"] = full_dof(_stats_problem(total), alphas, ClosedForm()) + free_dof
        return self._select_and_refit(
            results, mean, std, len(folds), X_user, y, sample_weight
        )

    def _gcv_dask(self, X, y, sample_weight, X_user, penalty=None):
        """Generalized cross-validation on dask arrays: the statistics of all rows
        in one pass (:func:`l2gd._dask.compute_stats`), then the residual sums of
        squares and the degrees of freedom for every alpha from their Gram
        matrix (:func:`~l2gd._path.gcv_path`)."""
        self._check_gcv_options()
        total = _dask.compute_stats(X, y, sample_weight, fit_intercept=self.fit_intercept)
        free_dof = 0
        if penalty is not None:
            total, reduction = reduce_stats(penalty, total)
            free_dof = reduction.free_rank
        if self.alpha_per_target and total.n_targets < 2:
            raise ValueError(
                "alpha_per_target=True needs y with at least 2 targets (columns). Set "
                "alpha_per_target=False."
            )
        if isinstance(self.alphas, Integral) and not isinstance(self.alphas, bool):
            alphas = stats_alpha_grid(total, self.alphas)
        else:
            alphas = _check_alphas(self.alphas, positive=False)
        path = _count_free(gcv_path(_stats_problem(total), alphas, ClosedForm()), free_dof)
        results, mean, std, n_splits, select_on = self._gcv_results(path, alphas, Rescaling())
        return self._select_and_refit(
            results, mean, std, n_splits, X_user, y, sample_weight, select_on=select_on
        )

    def _splits(self, X, Y, y_1d, split_params):
        """The folds, split once and checked."""
        n_samples = X.shape[0]
        cv = check_cv(self.cv)
        try:
            splits = [
                (np.asarray(train), np.asarray(test))
                for train, test in cv.split(X, Y if not y_1d else Y[:, 0], **split_params)
            ]
        except ValueError as exc:
            raise ValueError(
                f"cv={self.cv!r} cannot split n_samples={n_samples} rows: {exc}"
            ) from exc
        if not splits:
            raise ValueError(f"cv={self.cv!r} yielded no splits.")
        for i, (train, test) in enumerate(splits):
            if len(train) == 0 or len(test) == 0:
                raise ValueError(
                    f"cv={self.cv!r} yielded an empty {'training' if len(train) == 0 else 'test'}"
                    f" set in split {i}; every split needs rows on both sides."
                )
        return splits

    def _kfold(self, data, y_1d, alphas, score_params, split_params, pass_weights):
        """K-fold in memory: ``(results, mean, std, n_splits)``."""
        alphas, user_alphas = alphas
        sw = data.sample_weight
        splits = self._splits(data.X, data.Y, y_1d, split_params)
        solver, _ = _resolve_solver(self.solver, data.X, self.positive)
        if self.scoring is None and min(len(test) for _, test in splits) >= 2:
            # The default score, R^2, is computed for all alphas at once; it is
            # weighted exactly when the r2 scorer would be (see _get_scorer).
            scorer = None
            if pass_weights:
                score_params = {**score_params, "sample_weight": sw}
            _check_test_weights(score_params.get("sample_weight"), splits)
        else:
            scorer = self._get_scorer()
            if pass_weights and _accepts_sample_weight(scorer):
                score_params = {**score_params, "sample_weight": sw}
        seed = _registry.seed(self.random_state)
        opts = {"tol": self.tol, "max_iter": self.max_iter, "random_state": seed, **self._bound()}
        scoring = Scoring(scorer, self.alpha_per_target, y_1d, user_alphas)
        slices = self._fold_target_slices(data, alphas, solver, scorer)
        folds = row_folds(
            data, splits, solver, score_params, scoring, self.n_jobs, slices is not None
        )
        split_scores = fold_scores(folds, alphas, solver, opts, self.n_jobs, slices)
        results, mean, std = _kfold_results(user_alphas, split_scores)
        if not self.positive:
            problem, reduction = self._full_problem(data.X, data.Y[:, :1], sw, data.penalty)
            results["dof"] = full_dof(problem, alphas, solver) + _free_dof(reduction)
        return results, mean, std, len(split_scores)

    def _fold_target_slices(self, data, alphas, solver, scorer):
        """The target batches of a K-fold in memory, or None to take all targets
        at once (one batch; a scorer of all targets together; a solver without
        ``decompose``; ``positive=True``)."""
        n, p = data.X.shape
        slices = target_batch_slices(
            data.Y.shape[1], self.target_batch_size, max(n, len(alphas) * p)
        )
        together = scorer is not None and not self.alpha_per_target
        decomposes = callable(getattr(solver, "decompose", None))
        if len(slices) < 2 or together or not decomposes or self.positive:
            return None
        return slices

    def _bound(self):
        """What each fold's ``solve_path`` receives for ``positive=True``."""
        return {"positive": True} if self.positive else {}

    # -- predict -------------------------------------------------------------
    def _refits(self):
        if not self.refit:
            raise AttributeError(
                "This GDRidgeCV was initialized with refit=False: predict is available "
                "only after refitting on the chosen alpha. Fit "
                "GDRidgeRegressor(alpha=cv.alpha_) on all rows, or set refit=True."
            )
        return True

    @available_if(_refits)
    def predict(self, X):
        """Predict with the refit linear model.

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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        solver = self.solver
        if isinstance(solver, str):
            solver = SOLVERS.get(solver, SOLVERS["closed_form"])()
        tags.input_tags.sparse = bool(getattr(solver, "supports_sparse", True))
        tags.non_deterministic = bool(getattr(solver, "stochastic", False))
        tags.target_tags.multi_output = True
        return tags


def _free_dof(reduction):
    """Degrees of freedom of the unpenalized features eliminated by ``reduction``."""
    return 0 if reduction is None else reduction.free_rank


def _count_free(path, free_dof):
    """A :class:`~l2gd._path.GCVPath` of the problem reduced by zero penalty factors,
    with each unpenalized feature counted as one degree of freedom (the criterion
    recomputed from the same residuals)."""
    if not free_dof:
        return path
    dof = path.dof + free_dof
    return replace(path, dof=dof, gcv=gcv_score(path.rss, dof, path.sw_sum))


def _check_test_weights(weights, splits):
    """The default weighted R^2 needs positive weight on every test fold."""
    for i, (_, test) in enumerate(splits):
        if weights is not None and not np.sum(np.asarray(weights)[test]) > 0:
            raise ValueError(
                f"sample_weight sums to zero on the test rows of split {i}: the "
                "weighted R^2 score is undefined there. Give every test fold "
                "positive weight, or pass a scoring that handles it."
            )


def _kfold_results(alphas, split_scores):
    """``cv_results_`` entries of the splits, and the mean and std over splits."""
    _check_no_nan(split_scores, alphas, loo=False)
    stacked = np.stack(split_scores)
    results = {"alphas": alphas}
    for i, sc in enumerate(split_scores):
        results[f"split{i}_test_score"] = sc
    return results, stacked.mean(axis=0), stacked.std(axis=0)


def _rank(mean):
    """Rank 1 for the best mean score, ties sharing the lowest rank (as
    GridSearchCV's ``rank_test_score``), per column; NaN ranks last."""
    m = -np.where(np.isnan(mean), -np.inf, mean).reshape(len(mean), -1)
    ranks = np.column_stack(
        [np.searchsorted(np.sort(col), col, side="left") + 1 for col in m.T]
    )
    return ranks.astype(np.int32).reshape(np.shape(mean))


def _check_no_nan(scores, alphas, *, loo):
    """Raise when a score is NaN, naming the split and alpha (a NaN must not be
    ranked, nor silently lose to the other alphas)."""
    for i, sc in enumerate(scores):
        bad = np.argwhere(np.isnan(np.reshape(sc, (len(alphas), -1))))
        if len(bad):
            where = "the leave-one-out score" if loo else f"the score of split {i}"
            raise ValueError(
                f"GDRidgeCV: {where} at alpha={alphas[bad[0][0]]:.6g} is NaN; it cannot be "
                "ranked. Check the scoring (it must return a number for every fit) and "
                "the sample weights of that split."
            )


def _warn_if_at_boundary(alphas, chosen):
    if len(np.unique(alphas)) < 2:
        return
    lo, hi = alphas.min(), alphas.max()
    for end, value, side in ((lo, "smallest", "below"), (hi, "largest", "above")):
        if np.any(chosen == end):
            warnings.warn(
                f"The chosen alpha_={end:.4g} is the {value} alpha of the grid "
                f"[{lo:.4g}, {hi:.4g}]; the best alpha may lie outside it. Extend alphas "
                f"{side} it.",
                AlphaBoundaryWarning,
                stacklevel=4,  # the caller of fit, above _fit_context's wrapper
            )
