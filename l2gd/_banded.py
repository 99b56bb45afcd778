"""Banded ridge: one alpha per group of features, chosen by cross-validation.

With feature groups ``g(j)`` and group penalties ``alpha_g`` the objective is

.. math::

    \\sum_i s_i (y_i - x_i^\\top w - b)^2 + \\sum_j \\alpha_{g(j)} w_j^2,

which is ridge with ``penalty_factor`` ``f_j = alpha_{g(j)} / alpha``
(:mod:`l2gd._penalty`). Writing ``alpha_g = alpha / (G gamma_g)`` with group
weights ``gamma`` on the simplex (``G`` groups), the search is over ``gamma``
and ``alpha``: for each candidate ``gamma`` the exact cross-validation of
:class:`~l2gd.GDRidgeCV` scores the whole ``alpha`` grid at once (leave-one-out,
GCV or K-fold, from one decomposition per fold), so a candidate costs one
ordinary ``GDRidgeCV`` fit. Candidates, as in himalaya's random search: equal
weights first (so the result is never worse than the best single alpha on the
same folds), then draws from Dirichlet distributions of concentration 0.1 and 1
in turn (near the corners and in the middle of the simplex), then, for a shared
alpha, a coordinate refinement around the best weights (each group's weight
multiplied and divided by 4, then by 2, while it improves).
"""

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state

from . import _dask

#: Dirichlet concentrations cycled through by the random candidates.
CONCENTRATIONS = (0.1, 1.0)
#: Smallest group weight: keeps every ``alpha_g`` finite.
MIN_WEIGHT = 1e-10


def check_feature_groups(feature_groups, n_features):
    """``(labels, index)``: the sorted distinct group labels and each feature's
    position among them; ``ValueError`` for a wrong length."""
    groups = np.asarray(feature_groups)
    if groups.ndim != 1 or groups.shape[0] != n_features:
        raise ValueError(
            f"feature_groups must have one group label per feature, shape (n_features,) = "
            f"({n_features},); got shape {groups.shape}."
        )
    if groups.dtype.kind == "f" and not np.all(np.isfinite(groups)):
        raise ValueError(
            "feature_groups has NaN or infinite labels; give every feature a group label "
            "(a number or a string)."
        )
    labels, index = np.unique(groups, return_inverse=True)
    return labels, index


def candidate_weights(n_groups, n_candidates, random_state):
    """``(n_candidates, n_groups)`` group weights on the simplex: equal weights,
    then Dirichlet draws with the concentrations of :data:`CONCENTRATIONS` in turn."""
    rng = check_random_state(random_state)
    rows = [np.full(n_groups, 1.0 / n_groups)]
    for k in range(n_candidates - 1):
        rows.append(rng.dirichlet(np.full(n_groups, CONCENTRATIONS[k % len(CONCENTRATIONS)])))
    return _normalized(np.array(rows))


def _normalized(weights):
    weights = np.clip(weights, MIN_WEIGHT, None)
    return weights / weights.sum(axis=-1, keepdims=True)


class _Search:
    """The candidates scored so far, on the same folds."""

    def __init__(self, estimator, X, y, sample_weight, params, index):
        self.estimator, self.X, self.y, self.sw, self.params = (
            estimator, X, y, sample_weight, params
        )
        self.index = index
        self.weights, self.fits = [], []

    def score(self, gamma):
        """Fit the candidate ``gamma`` (no refit); return its best score (per target)."""
        factor = 1.0 / (len(gamma) * gamma[self.index])
        est = clone(self.estimator).set_params(penalty_factor=factor, refit=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=_boundary_warning())
            est._fit_alphas(self.X, self.y, self.sw, self.params)
        self.weights.append(gamma)
        self.fits.append(est)
        return est.best_score_

    def refine(self, gamma, best):
        """Coordinate search around ``gamma`` (shared alpha only)."""
        for step in (4.0, 2.0):
            improved = True
            while improved:
                improved = False
                for g in range(len(gamma)):
                    for move in (step, 1.0 / step):
                        trial = gamma.copy()
                        trial[g] *= move
                        trial = _normalized(trial)
                        score = self.score(trial)
                        if score > best:
                            gamma, best, improved = trial, score, True
        return gamma


def _boundary_warning():
    from ._cv import AlphaBoundaryWarning

    return AlphaBoundaryWarning


def fit_banded(estimator, X, y, sample_weight, params):
    """Fit ``estimator`` (a :class:`~l2gd.GDRidgeCV` with ``feature_groups``): search
    the group weights, set the fitted attributes, refit. Returns the estimator."""
    if estimator.penalty_factor is not None:
        raise ValueError(
            "feature_groups and penalty_factor cannot be combined: feature_groups learns "
            "one penalty per group (its alpha_); pass one of them."
        )
    labels, index = check_feature_groups(estimator.feature_groups, X.shape[1])
    cv = estimator.cv
    if cv is not None and cv != "gcv" and not _dask.is_dask_collection(X):
        # The same folds for every candidate, even from a shuffling splitter.
        splits = list(check_cv(cv).split(X, y, **{k: v for k, v in params.items() if k == "groups"}))
        params = {k: v for k, v in params.items() if k != "groups"}
        cv = splits
    base = clone(estimator).set_params(feature_groups=None, cv=cv)
    search = _Search(base, X, y, sample_weight, params, index)
    for gamma in candidate_weights(len(labels), estimator.n_group_candidates,
                                   estimator.random_state):
        search.score(gamma)
    scores = np.array([fit.best_score_ for fit in search.fits])
    if not estimator.alpha_per_target and len(labels) > 1:
        best = int(np.argmax(scores))
        search.refine(search.weights[best], scores[best])
        scores = np.array([fit.best_score_ for fit in search.fits])
    _set_fitted(estimator, search, scores, labels, index)
    if estimator.refit:
        _refit(estimator, X, y, sample_weight, index)
    return estimator


def _set_fitted(estimator, search, scores, labels, index):
    """Attributes of the best candidate (per target with ``alpha_per_target``)."""
    weights = np.array(search.weights)
    n_groups = len(labels)
    if estimator.alpha_per_target:
        best = np.argmax(scores, axis=0)  # (n_targets,)
        targets = np.arange(scores.shape[1])
        alpha = np.array([search.fits[c].alpha_[t] for t, c in zip(targets, best)])
        estimator.alpha_ = alpha[:, None] / (n_groups * weights[best])
        estimator.best_score_ = scores[best, targets]
        overall = int(np.argmax(scores.mean(axis=1)))
    else:
        overall = int(np.argmax(scores))
        estimator.alpha_ = search.fits[overall].alpha_ / (n_groups * weights[overall])
        estimator.best_score_ = float(scores[overall])
    chosen = search.fits[overall]
    for attr in ("cv_results_", "alphas_", "n_splits_", "best_index_"):
        setattr(estimator, attr, getattr(chosen, attr))
    estimator.feature_groups_ = labels
    estimator.group_weights_ = weights
    estimator.group_scores_ = scores
    for attr in ("n_features_in_", "feature_names_in_"):
        if hasattr(chosen, attr):
            setattr(estimator, attr, getattr(chosen, attr))


def _refit(estimator, X, y, sample_weight, index):
    """One refit per distinct vector of group penalties (one per target at most)."""
    from ._ridge import GDRidgeRegressor

    params = dict(fit_intercept=estimator.fit_intercept, positive=estimator.positive,
                  solver=estimator.solver, tol=estimator.tol, max_iter=estimator.max_iter,
                  random_state=estimator.random_state)
    if not estimator.alpha_per_target:
        fit = GDRidgeRegressor(alpha=1.0, penalty_factor=estimator.alpha_[index], **params)
        fit.fit(X, y, sample_weight=sample_weight)
        coef, intercept = fit.coef_, fit.intercept_
    else:
        fits = [
            GDRidgeRegressor(alpha=1.0, penalty_factor=a[index], **params).fit(
                X, y[:, t], sample_weight=sample_weight
            )
            for t, a in enumerate(estimator.alpha_)
        ]
        coef = np.stack([np.asarray(f.coef_) for f in fits])
        intercept = np.array([f.intercept_ for f in fits], dtype=coef.dtype)
        fit = fits[0]
    estimator.coef_, estimator.intercept_ = coef, intercept
    estimator.solver_, estimator.n_iter_ = fit.solver_, fit.n_iter_
