"""Displays in scikit-learn's style: the loss curve, the regularization path, the CV curve.

Each display stores the data it draws (the constructor only stores its
arguments), computes it in ``from_estimator`` / ``from_cv_results``, and
draws it in ``plot(ax=None, ...)``, which returns the display with the
artists as attributes (``line_``/``lines_``, ``ax_``, ``figure_``), as
:class:`sklearn.metrics.PredictionErrorDisplay` and
:class:`sklearn.model_selection.ValidationCurveDisplay` do.

matplotlib is optional (the ``plot`` extra) and imported only when a display
is built or drawn; importing this module never imports it.
"""

import re
from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._cv import GDRidgeCV, _select
from ._inference import effective_dof
from ._path import ridge_path
from ._ridge import GDRidgeRegressor

__all__ = ["CVCurveDisplay", "LossCurveDisplay", "RegularizationPathDisplay"]


def _check_matplotlib_support(caller_name):
    """Raise an ImportError naming the extra when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{caller_name} requires matplotlib, which is not installed. Install l2gd's "
            "'plot' extra: pip install 'l2gd[plot]' (or pip install matplotlib)."
        ) from exc


def _axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    return ax


def _check_choice(name, value, options):
    if not isinstance(value, str) or value not in options:
        raise ValueError(
            f"{name} must be one of {sorted(options)}; got {value!r}."
        )


def _set_alpha_scale(ax, alphas):
    """Log scale for alphas; symlog (linear below the smallest positive alpha)
    when the grid contains 0, which a log axis cannot show."""
    alphas = np.asarray(alphas, dtype=np.float64)
    positive = alphas[alphas > 0]
    if positive.size == alphas.size:
        ax.set_xscale("log")
    else:
        ax.set_xscale("symlog", linthresh=float(positive.min()) if positive.size else 1.0)


def _name(estimator):
    return type(estimator).__name__


# ---------------------------------------------------------------------------
# Loss curve
# ---------------------------------------------------------------------------
class LossCurveDisplay:
    """The ridge objective, or its gap to the optimum, per iteration (log scale).

    It is recommended to build the display with :meth:`from_estimator`. All
    parameters are stored as attributes.

    Parameters
    ----------
    loss_curve : array-like of shape (n_iter,)
        Objective after each iteration, such as
        :attr:`GDRidgeRegressor.loss_curve_ <l2gd.GDRidgeRegressor>` or a
        solver's ``SolveResult.history``: Ridge's objective ``sum_i s_i (y_i -
        x_i . w - b)^2 + alpha ||w||^2``, summed over targets.
    optimum : float, default=None
        Minimum of the objective, needed for ``kind="gap"``.
    kind : {"objective", "gap"}, default="objective"
        ``"objective"`` draws ``loss_curve``; ``"gap"`` draws ``loss_curve -
        optimum``, the suboptimality. Gaps ``<= 0`` (the rounding floor: the
        iterate is as good as the optimum computed) are not drawn: their
        ``y`` data is NaN.
    estimator_name : str, default=None
        Label of the line in the legend; no legend when None.

    Attributes
    ----------
    line_ : matplotlib.lines.Line2D
        The curve: ``x`` is the iteration (from 1; an epoch for ``"sgd"``),
        ``y`` the objective or gap.
    ax_ : matplotlib.axes.Axes
        Axes with the curve.
    figure_ : matplotlib.figure.Figure
        Figure containing the curve.

    See Also
    --------
    RegularizationPathDisplay : Coefficients against alpha.
    CVCurveDisplay : Cross-validated score against alpha.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from l2gd import GDRidgeRegressor
    >>> from l2gd.plot import LossCurveDisplay
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 20)) * np.logspace(0, 2, 20)
    >>> y = X @ rng.standard_normal(20) + rng.standard_normal(200)
    >>> est = GDRidgeRegressor(alpha=1.0, solver="gd").fit(X, y)
    >>> disp = LossCurveDisplay.from_estimator(est, X, y, kind="gap")
    >>> disp.ax_.get_yscale(), disp.ax_.get_xlabel()
    ('log', 'Iteration')
    >>> len(disp.line_.get_ydata()) == est.n_iter_
    True
    >>> plt.show()  # doctest: +SKIP
    """

    def __init__(self, *, loss_curve, optimum=None, kind="objective", estimator_name=None):
        self.loss_curve = loss_curve
        self.optimum = optimum
        self.kind = kind
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, name=None, line_kw=None):
        """Plot the curve.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure and axes when None.
        name : str, default=None
            Label of the line, overriding ``estimator_name``.
        line_kw : dict, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : LossCurveDisplay
            This display, with ``line_``, ``ax_`` and ``figure_`` set.
        """
        _check_matplotlib_support(f"{type(self).__name__}.plot")
        _check_choice("kind", self.kind, {"objective", "gap"})
        values = np.asarray(self.loss_curve, dtype=np.float64)
        if values.ndim != 1 or values.size == 0:
            raise ValueError(
                "loss_curve must be a non-empty 1-D sequence of objective values; got "
                f"shape {values.shape}."
            )
        if self.kind == "gap":
            if self.optimum is None:
                raise ValueError(
                    "kind='gap' needs optimum, the minimum of the objective (from_estimator "
                    "computes it from X and y)."
                )
            values = values - float(self.optimum)
            values[values <= 0] = np.nan
            ylabel = "Objective - optimum"
        else:
            ylabel = "Objective"
        ax = _axes(ax)
        label = name if name is not None else self.estimator_name
        kw = {"label": label, **(line_kw or {})}
        (self.line_,) = ax.plot(np.arange(1, values.size + 1), values, **kw)
        ax.set_yscale("log")
        ax.set_xlabel("Iteration")
        ax.set_ylabel(ylabel)
        if kw["label"] is not None:
            ax.legend()
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_estimator(
        cls, estimator, X=None, y=None, *, sample_weight=None, kind="objective", ax=None,
        name=None, line_kw=None,
    ):
        """Plot a fitted :class:`~l2gd.GDRidgeRegressor`'s ``loss_curve_``.

        Parameters
        ----------
        estimator : GDRidgeRegressor
            Fitted estimator (its ``loss_curve_`` is drawn).
        X : {array-like, sparse matrix} of shape (n_samples, n_features), default=None
            Training data, needed for ``kind="gap"``.
        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            Training targets, needed for ``kind="gap"``.
        sample_weight : array-like of shape (n_samples,), default=None
            The weights of the fit, for ``kind="gap"``.
        kind : {"objective", "gap"}, default="objective"
            The objective, or its gap to the optimum: the objective of the
            closed-form solution at the estimator's ``alpha`` (one
            :class:`~l2gd.GDRidgeRegressor` fit with ``solver="closed_form"``
            on ``X``, ``y``).
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure and axes when None.
        name : str, default=None
            Label of the line; by default the estimator's class and ``solver_``.
        line_kw : dict, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : LossCurveDisplay
        """
        _check_matplotlib_support(f"{cls.__name__}.from_estimator")
        _check_choice("kind", kind, {"objective", "gap"})
        if not isinstance(estimator, GDRidgeRegressor):
            raise TypeError(
                f"estimator must be a GDRidgeRegressor (it records loss_curve_); got "
                f"{_name(estimator)}. For a GDRidgeCV, fit GDRidgeRegressor(alpha=cv.alpha_)."
            )
        check_is_fitted(estimator, "loss_curve_")
        optimum = None
        if kind == "gap":
            if X is None or y is None:
                raise ValueError(
                    "kind='gap' needs the training data X and y, to compute the optimum."
                )
            exact = GDRidgeRegressor(
                alpha=estimator.alpha, fit_intercept=estimator.fit_intercept,
                solver="closed_form",
            ).fit(X, y, sample_weight=sample_weight)
            optimum = exact.loss_curve_[-1]
        disp = cls(
            loss_curve=np.asarray(estimator.loss_curve_, dtype=np.float64),
            optimum=optimum,
            kind=kind,
            estimator_name=f"{_name(estimator)} ({estimator.solver_})",
        )
        return disp.plot(ax=ax, name=name, line_kw=line_kw)


# ---------------------------------------------------------------------------
# Regularization path
# ---------------------------------------------------------------------------
class RegularizationPathDisplay:
    """Ridge coefficients against alpha, or against the effective degrees of freedom.

    It is recommended to build the display with :meth:`from_estimator`. All
    parameters are stored as attributes.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
        Penalties of the path.
    coefs : array-like of shape (n_features, n_alphas)
        Coefficients of one target at each alpha (as :func:`~l2gd.ridge_path`
        returns them for a 1-D ``y``).
    dof : array-like of shape (n_alphas,), default=None
        Effective degrees of freedom at each alpha
        (:func:`~l2gd.effective_dof`), needed for ``x_axis="dof"``.
    feature_names : array-like of str of shape (n_features,), default=None
        Labels of the lines; ``x0, x1, ...`` when None.
    alpha : float, default=None
        An alpha to mark with a vertical line (the estimator's), or None.
    alpha_dof : float, default=None
        The degrees of freedom at ``alpha``, where it is marked with
        ``x_axis="dof"``.
    estimator_name : str, default=None
        Name of the estimator, in the title.

    Attributes
    ----------
    lines_ : list of matplotlib.lines.Line2D
        One line per feature: ``x`` the alphas (or dofs), ``y`` its coefficient.
    alpha_line_ : matplotlib.lines.Line2D or None
        Vertical line at ``alpha`` (None without ``alpha``).
    ax_ : matplotlib.axes.Axes
        Axes with the path.
    figure_ : matplotlib.figure.Figure
        Figure containing the path.

    See Also
    --------
    l2gd.ridge_path : Coefficients along a grid of alphas.
    l2gd.effective_dof : Degrees of freedom at an alpha.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from l2gd import GDRidgeRegressor
    >>> from l2gd.plot import RegularizationPathDisplay
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 4))
    >>> y = X @ [1.0, -2.0, 3.0, 0.5] + rng.standard_normal(100)
    >>> est = GDRidgeRegressor(alpha=10.0).fit(X, y)
    >>> disp = RegularizationPathDisplay.from_estimator(
    ...     est, X, y, alphas=np.logspace(-2, 4, 30), x_axis="dof")
    >>> len(disp.lines_), disp.ax_.get_xlabel()
    (4, 'Effective degrees of freedom')
    >>> plt.show()  # doctest: +SKIP
    """

    def __init__(
        self, *, alphas, coefs, dof=None, feature_names=None, alpha=None, alpha_dof=None,
        estimator_name=None,
    ):
        self.alphas = alphas
        self.coefs = coefs
        self.dof = dof
        self.feature_names = feature_names
        self.alpha = alpha
        self.alpha_dof = alpha_dof
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, x_axis="alpha", legend="auto", line_kw=None):
        """Plot the path.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure and axes when None.
        x_axis : {"alpha", "dof"}, default="alpha"
            ``"alpha"``: alphas on a log axis (symlog when the grid holds 0);
            ``"dof"``: effective degrees of freedom on a linear axis.
        legend : bool or "auto", default="auto"
            Show the feature names; ``"auto"`` shows them for at most 10 features.
        line_kw : dict, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.plot`, for every line.

        Returns
        -------
        display : RegularizationPathDisplay
            This display, with ``lines_``, ``alpha_line_``, ``ax_`` and
            ``figure_`` set.
        """
        _check_matplotlib_support(f"{type(self).__name__}.plot")
        _check_choice("x_axis", x_axis, {"alpha", "dof"})
        if not (isinstance(legend, bool) or legend == "auto"):
            raise ValueError(f"legend must be True, False or 'auto'; got {legend!r}.")
        alphas = np.asarray(self.alphas, dtype=np.float64).reshape(-1)
        coefs = np.asarray(self.coefs, dtype=np.float64)
        if coefs.ndim != 2 or coefs.shape[1] != alphas.size:
            raise ValueError(
                f"coefs must have shape (n_features, n_alphas) = (n_features, {alphas.size});"
                f" got {coefs.shape}."
            )
        if x_axis == "dof":
            if self.dof is None:
                raise ValueError("x_axis='dof' needs dof, the degrees of freedom per alpha.")
            x = np.asarray(self.dof, dtype=np.float64).reshape(-1)
            if x.size != alphas.size:
                raise ValueError(f"dof must have {alphas.size} values; got {x.size}.")
            mark = self.alpha_dof
            xlabel = "Effective degrees of freedom"
        else:
            x, mark, xlabel = alphas, self.alpha, "alpha"
        names = self.feature_names
        if names is None:
            names = [f"x{i}" for i in range(coefs.shape[0])]
        names = [str(n) for n in names]
        if len(names) != coefs.shape[0]:
            raise ValueError(
                f"feature_names must have {coefs.shape[0]} names; got {len(names)}."
            )
        ax = _axes(ax)
        order = np.argsort(x, kind="stable")
        self.lines_ = [
            ax.plot(x[order], c[order], label=n, **(line_kw or {}))[0]
            for c, n in zip(coefs, names)
        ]
        self.alpha_line_ = None
        if mark is not None:
            self.alpha_line_ = ax.axvline(
                float(mark), color="k", linestyle="--", linewidth=1,
                label=f"alpha = {float(self.alpha):.3g}" if self.alpha is not None else None,
            )
        if x_axis == "alpha":
            _set_alpha_scale(ax, alphas)
        ax.axhline(0.0, color="0.8", linewidth=0.8, zorder=0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Coefficient")
        if self.estimator_name is not None:
            ax.set_title(f"Regularization path ({self.estimator_name})")
        if legend is True or (legend == "auto" and len(names) <= 10):
            ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_estimator(
        cls, estimator, X, y, *, alphas=100, x_axis="alpha", sample_weight=None, target=0,
        feature_names=None, ax=None, legend="auto", line_kw=None,
    ):
        """Compute the path with an estimator's options and plot it.

        The coefficients come from :func:`~l2gd.ridge_path` with the
        estimator's ``fit_intercept``, ``solver``, ``tol``, ``max_iter`` and
        ``random_state``; the degrees of freedom from
        :func:`~l2gd.effective_dof`. The estimator need not be fitted; when it
        is a fitted :class:`~l2gd.GDRidgeCV` its ``alpha_`` is marked, for a
        :class:`~l2gd.GDRidgeRegressor` its ``alpha``.

        Parameters
        ----------
        estimator : GDRidgeRegressor or GDRidgeCV
            Gives the options of the path and the alpha to mark.
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        alphas : int or array-like of shape (n_alphas,), default=100
            Penalties, or their number on :func:`~l2gd.alpha_grid`'s grid.
        x_axis : {"alpha", "dof"}, default="alpha"
            Horizontal axis, see :meth:`plot`.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.
        target : int, default=0
            The target (column of a 2-D ``y``) whose coefficients are drawn.
        feature_names : array-like of str, default=None
            Labels; by default the fitted estimator's ``feature_names_in_``,
            or ``X``'s columns when it is a DataFrame.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure and axes when None.
        legend : bool or "auto", default="auto"
            See :meth:`plot`.
        line_kw : dict, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : RegularizationPathDisplay
        """
        _check_matplotlib_support(f"{cls.__name__}.from_estimator")
        _check_choice("x_axis", x_axis, {"alpha", "dof"})
        if not isinstance(estimator, (GDRidgeRegressor, GDRidgeCV)):
            raise TypeError(
                f"estimator must be a GDRidgeRegressor or a GDRidgeCV; got {_name(estimator)}."
            )
        n_targets = 1 if np.ndim(y) == 1 else np.shape(y)[1]
        if (
            not isinstance(target, Integral) or isinstance(target, bool)
            or not 0 <= target < n_targets
        ):
            raise ValueError(
                f"target must be an int in [0, {n_targets}) (y has {n_targets} "
                f"target{'s' if n_targets > 1 else ''}); got {target!r}."
            )
        if feature_names is None:
            feature_names = getattr(estimator, "feature_names_in_", None)
        if feature_names is None and hasattr(X, "columns"):
            feature_names = list(X.columns)
        params = estimator.get_params(deep=False)
        if params["positive"] and x_axis == "dof":
            raise ValueError(
                "x_axis='dof' needs a linear smoother; with positive=True the effective "
                "degrees of freedom are not defined. Use x_axis='alpha'."
            )
        penalty, mark = _path_penalty(estimator, params, target, n_targets)
        grid, coefs, _ = ridge_path(
            X, y, alphas=alphas, sample_weight=sample_weight,
            fit_intercept=params["fit_intercept"], positive=params["positive"],
            penalty_factor=penalty, solver=params["solver"],
            tol=params["tol"], max_iter=params["max_iter"],
            random_state=params["random_state"],
        )
        if coefs.ndim == 3:
            coefs = coefs[target]
        dof = mark_dof = None
        if x_axis == "dof":
            dof_kw = dict(sample_weight=sample_weight, fit_intercept=params["fit_intercept"],
                          penalty_factor=penalty)
            dof = effective_dof(X, grid, **dof_kw)
            if mark is not None:
                mark_dof = float(effective_dof(X, mark, **dof_kw))
        disp = cls(
            alphas=grid, coefs=coefs, dof=dof, feature_names=feature_names, alpha=mark,
            alpha_dof=mark_dof, estimator_name=_name(estimator),
        )
        return disp.plot(ax=ax, x_axis=x_axis, legend=legend, line_kw=line_kw)


def _path_penalty(estimator, params, target, n_targets):
    """``(penalty_factor, alpha to mark)`` of the path through ``estimator``'s fit:
    its own penalty factors and alpha; for banded ridge (``feature_groups``) the
    group penalties relative to their geometric mean, which is the alpha marked."""
    mark = getattr(estimator, "alpha_", None) if isinstance(estimator, GDRidgeCV) else (
        params["alpha"]
    )
    penalty = params.get("penalty_factor")
    if params.get("feature_groups") is not None and mark is not None:
        groups = np.atleast_2d(np.asarray(mark, dtype=np.float64))
        groups = groups[target] if groups.shape[0] == n_targets else groups[0]
        index = np.unique(np.asarray(params["feature_groups"]), return_inverse=True)[1]
        mark = float(np.exp(np.mean(np.log(groups))))
        return groups[index] / mark, mark
    if mark is not None and np.ndim(mark) == 1:
        mark = mark[target] if len(mark) == n_targets else None
    return penalty, None if mark is None else float(mark)


# ---------------------------------------------------------------------------
# Cross-validation curve
# ---------------------------------------------------------------------------
_SPLIT_KEY = re.compile(r"^split(\d+)_test_score$")


def _split_scores(cv_results):
    keys = sorted(
        (int(m.group(1)), k) for k in cv_results if (m := _SPLIT_KEY.match(k)) is not None
    )
    return [np.asarray(cv_results[k], dtype=np.float64) for _, k in keys] or None


def _score_name(estimator):
    if isinstance(estimator.cv, str) and estimator.cv == "gcv":
        return "Minus the GCV criterion"
    if estimator.scoring is None:
        return "Minus the mean squared LOO error" if estimator.cv is None else "R^2"
    if isinstance(estimator.scoring, str):
        return estimator.scoring.replace("_", " ").capitalize()
    return "Score"


class CVCurveDisplay:
    """Cross-validated score against alpha, with its standard-error band.

    The band is ``mean_test_score +- std_test_score / sqrt(n_splits - 1)``,
    the standard error :class:`~l2gd.GDRidgeCV` uses for ``selection="1se"``.
    Markers show the chosen alpha and the 1-SE alpha (the largest alpha whose
    mean score is within one standard error of the best; the same function
    chooses it as in :class:`~l2gd.GDRidgeCV`). Without standard deviations
    (``cv="gcv"``) there is neither band nor 1-SE alpha.

    It is recommended to build the display with :meth:`from_estimator` or
    :meth:`from_cv_results`. All parameters are stored as attributes.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
        Penalties.
    mean_test_score : array-like of shape (n_alphas,) or (n_alphas, n_targets)
        Mean score per alpha (per target with ``alpha_per_target``).
    std_test_score : array-like of the shape of ``mean_test_score``
        Standard deviation of the score over the splits (NaN: none).
    n_splits : int
        Number of splits (``n_samples`` for leave-one-out).
    split_test_scores : list of array-like, default=None
        Score of each split, each of the shape of ``mean_test_score``, for
        ``folds=True``.
    chosen_alpha : float or array-like of shape (n_targets,), default=None
        The chosen alpha(s); None chooses the best mean score (``"min"``).
    score_name : str, default=None
        Label of the y axis; ``"Mean test score"`` when None.
    estimator_name : str, default=None
        Name of the estimator, in the title.

    Attributes
    ----------
    lines_ : list of matplotlib.lines.Line2D
        Mean score, one line per target drawn.
    line_ : matplotlib.lines.Line2D or None
        ``lines_[0]`` when one curve is drawn, else None.
    fill_between_ : list of matplotlib.collections.PolyCollection or None
        Standard-error bands (None when there are none).
    fold_lines_ : list of matplotlib.lines.Line2D or None
        Score of each split (and target drawn), with ``folds=True``.
    chosen_markers_ : list of matplotlib.lines.Line2D
        Marker at the chosen alpha on each curve.
    one_se_markers_ : list of matplotlib.lines.Line2D or None
        Marker at the 1-SE alpha on each curve (None without standard deviations).
    chosen_alpha_ : ndarray of shape (n_curves,)
        The chosen alpha of each curve drawn.
    alpha_1se_ : ndarray of shape (n_curves,) or None
        The 1-SE alpha of each curve drawn.
    ax_ : matplotlib.axes.Axes
        Axes with the curve.
    figure_ : matplotlib.figure.Figure
        Figure containing the curve.

    See Also
    --------
    l2gd.GDRidgeCV : Computes ``cv_results_``.
    sklearn.model_selection.ValidationCurveDisplay : The same picture for any parameter.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from l2gd import GDRidgeCV
    >>> from l2gd.plot import CVCurveDisplay
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 8))
    >>> y = X @ rng.standard_normal(8) + 3.0 * rng.standard_normal(100)
    >>> cv = GDRidgeCV(alphas=np.logspace(-2, 4, 25), cv=5).fit(X, y)
    >>> disp = CVCurveDisplay.from_estimator(cv, folds=True)
    >>> bool(disp.chosen_alpha_[0] == cv.alpha_), len(disp.fold_lines_)
    (True, 5)
    >>> bool(disp.alpha_1se_[0] >= cv.alpha_)
    True
    >>> plt.show()  # doctest: +SKIP
    """

    def __init__(
        self, *, alphas, mean_test_score, std_test_score, n_splits, split_test_scores=None,
        chosen_alpha=None, score_name=None, estimator_name=None,
    ):
        self.alphas = alphas
        self.mean_test_score = mean_test_score
        self.std_test_score = std_test_score
        self.n_splits = n_splits
        self.split_test_scores = split_test_scores
        self.chosen_alpha = chosen_alpha
        self.score_name = score_name
        self.estimator_name = estimator_name

    def _columns(self):
        alphas = np.asarray(self.alphas, dtype=np.float64).reshape(-1)
        mean = np.asarray(self.mean_test_score, dtype=np.float64)
        std = np.asarray(self.std_test_score, dtype=np.float64)
        if mean.ndim not in (1, 2) or mean.shape[0] != alphas.size:
            raise ValueError(
                "mean_test_score must have shape (n_alphas,) or (n_alphas, n_targets) with "
                f"n_alphas = {alphas.size}; got {mean.shape}."
            )
        if std.shape != mean.shape:
            raise ValueError(
                f"std_test_score must have the shape of mean_test_score {mean.shape}; got "
                f"{std.shape}."
            )
        if not isinstance(self.n_splits, Integral) or self.n_splits < 1:
            raise ValueError(f"n_splits must be a positive int; got {self.n_splits!r}.")
        splits = self.split_test_scores
        if splits is not None:
            splits = [np.asarray(s, dtype=np.float64) for s in splits]
            if any(s.shape != mean.shape for s in splits):
                raise ValueError(
                    "split_test_scores must each have the shape of mean_test_score "
                    f"{mean.shape}; got {[s.shape for s in splits]}."
                )
            splits = [s.reshape(len(alphas), -1) for s in splits]
        return alphas, mean.reshape(len(alphas), -1), std.reshape(len(alphas), -1), splits

    def plot(
        self, ax=None, *, target=None, folds=False, std_band=True, line_kw=None,
        fill_between_kw=None, fold_line_kw=None,
    ):
        """Plot the curve.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure and axes when None.
        target : int or None, default=None
            With per-target scores (``alpha_per_target``), the target to draw;
            None draws one curve per target.
        folds : bool, default=False
            Also draw the score of each split (thin lines); needs
            ``split_test_scores``.
        std_band : bool, default=True
            Draw the standard-error band.
        line_kw, fill_between_kw, fold_line_kw : dict, default=None
            Keyword arguments of the mean lines, the bands and the split lines.

        Returns
        -------
        display : CVCurveDisplay
            This display, with the artists set.
        """
        _check_matplotlib_support(f"{type(self).__name__}.plot")
        alphas, mean, std, splits = self._columns()
        n_targets = mean.shape[1]
        if target is None:
            columns = list(range(n_targets))
        elif (
            isinstance(target, Integral) and not isinstance(target, bool)
            and 0 <= target < n_targets
        ):
            columns = [int(target)]
        else:
            raise ValueError(
                f"target must be None or an int in [0, {n_targets}) (the scores have "
                f"{n_targets} target column{'s' if n_targets > 1 else ''}); got {target!r}."
            )
        if folds and splits is None:
            raise ValueError(
                "folds=True needs split_test_scores (K-fold cv_results_ have them; "
                "leave-one-out and GCV results do not)."
            )
        chosen = None
        if self.chosen_alpha is not None:
            chosen = np.broadcast_to(
                np.asarray(self.chosen_alpha, dtype=np.float64).reshape(-1), (n_targets,)
            )
        ax = _axes(ax)
        order = np.argsort(alphas, kind="stable")
        se = std / np.sqrt(max(self.n_splits - 1, 1))
        has_se = bool(np.isfinite(se).any())
        many = len(columns) > 1
        self.lines_, self.fill_between_, self.fold_lines_ = [], [], [] if folds else None
        self.chosen_markers_, self.one_se_markers_ = [], [] if has_se else None
        chosen_alphas, one_se_alphas = [], []
        for j in columns:
            m, s = mean[:, j], se[:, j]
            label = f"target {j}" if many else "Mean score"
            (line,) = ax.plot(alphas[order], m[order], label=label, **(line_kw or {}))
            self.lines_.append(line)
            color = line.get_color()
            if std_band and has_se:
                self.fill_between_.append(ax.fill_between(
                    alphas[order], (m - s)[order], (m + s)[order],
                    **{"alpha": 0.2, "color": color, **(fill_between_kw or {})},
                ))
            if folds:
                for i, sc in enumerate(splits):
                    (fl,) = ax.plot(
                        alphas[order], sc[order, j],
                        **{"color": color, "alpha": 0.35, "linewidth": 0.8,
                           "label": "splits" if i == 0 and not many else None,
                           **(fold_line_kw or {})},
                    )
                    self.fold_lines_.append(fl)
            if chosen is None:
                c_idx = _select(alphas, m, std[:, j], self.n_splits, "min")
            else:
                hits = np.flatnonzero(alphas == chosen[j])
                if hits.size == 0:
                    raise ValueError(
                        f"chosen_alpha={chosen[j]:g} is not one of the alphas."
                    )
                c_idx = int(hits[0])
            chosen_alphas.append(alphas[c_idx])
            (mk,) = ax.plot(
                [alphas[c_idx]], [m[c_idx]], linestyle="none", marker="o", markersize=8,
                color=color, label="chosen alpha" if not many else None,
            )
            self.chosen_markers_.append(mk)
            if has_se:
                se_idx = _select(alphas, m, std[:, j], self.n_splits, "1se")
                one_se_alphas.append(alphas[se_idx])
                (mk,) = ax.plot(
                    [alphas[se_idx]], [m[se_idx]], linestyle="none", marker="D",
                    markersize=7, markerfacecolor="none", color=color,
                    label="1-SE alpha" if not many else None,
                )
                self.one_se_markers_.append(mk)
        if not self.fill_between_:
            self.fill_between_ = None
        self.line_ = self.lines_[0] if len(self.lines_) == 1 else None
        self.chosen_alpha_ = np.asarray(chosen_alphas)
        self.alpha_1se_ = np.asarray(one_se_alphas) if has_se else None
        _set_alpha_scale(ax, alphas)
        ax.set_xlabel("alpha")
        ax.set_ylabel(self.score_name if self.score_name is not None else "Mean test score")
        if self.estimator_name is not None:
            ax.set_title(f"Cross-validation ({self.estimator_name})")
        ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_cv_results(
        cls, cv_results, *, n_splits=None, selection="min", score_name=None, ax=None,
        target=None, folds=False, std_band=True, line_kw=None, fill_between_kw=None,
        fold_line_kw=None,
    ):
        """Plot a :class:`~l2gd.GDRidgeCV`'s ``cv_results_``.

        Parameters
        ----------
        cv_results : dict
            ``cv_results_`` of a fitted :class:`~l2gd.GDRidgeCV` (``"alphas"``,
            ``"mean_test_score"``, ``"std_test_score"``, and
            ``"split<i>_test_score"`` for K-fold).
        n_splits : int, default=None
            Number of splits; by default the number of ``split<i>_test_score``
            entries. Required for leave-one-out results, which have none (pass
            the estimator's ``n_splits_``).
        selection : {"min", "1se"}, default="min"
            Which alpha to mark as chosen, as ``GDRidgeCV(selection=...)``.
        score_name : str, default=None
            Label of the y axis (``"Minus the GCV criterion"`` for GCV results,
            ``"Mean test score"`` otherwise).
        ax, target, folds, std_band, line_kw, fill_between_kw, fold_line_kw
            See :meth:`plot`.

        Returns
        -------
        display : CVCurveDisplay
        """
        _check_matplotlib_support(f"{cls.__name__}.from_cv_results")
        _check_choice("selection", selection, {"min", "1se"})
        if not isinstance(cv_results, dict) or not {
            "alphas", "mean_test_score", "std_test_score"
        } <= set(cv_results):
            raise ValueError(
                "cv_results must be a GDRidgeCV's cv_results_, a dict with 'alphas', "
                "'mean_test_score' and 'std_test_score'."
            )
        splits = _split_scores(cv_results)
        std = np.asarray(cv_results["std_test_score"], dtype=np.float64)
        if n_splits is None:
            if splits is not None:
                n_splits = len(splits)
            elif np.isnan(std).all():
                n_splits = 1  # GCV: no splits, no standard error
            else:
                raise ValueError(
                    "n_splits is needed: these cv_results have no split<i>_test_score "
                    "entries (leave-one-out); pass n_splits=cv.n_splits_."
                )
        elif splits is not None and n_splits != len(splits):
            raise ValueError(
                f"n_splits={n_splits!r} disagrees with the {len(splits)} split<i>_test_score "
                "entries of cv_results."
            )
        if selection == "1se" and np.isnan(std).all():
            raise ValueError(
                "selection='1se' needs standard deviations of the scores; these "
                "cv_results have none (GCV). Use selection='min'."
            )
        alphas = np.asarray(cv_results["alphas"], dtype=np.float64)
        mean = np.asarray(cv_results["mean_test_score"], dtype=np.float64)
        m2, s2 = mean.reshape(len(alphas), -1), std.reshape(len(alphas), -1)
        chosen = [
            alphas[_select(alphas, m2[:, j], s2[:, j], n_splits, selection)]
            for j in range(m2.shape[1])
        ]
        if score_name is None:
            score_name = "Minus the GCV criterion" if "gcv" in cv_results else (
                "Mean test score"
            )
        disp = cls(
            alphas=alphas, mean_test_score=mean, std_test_score=std, n_splits=int(n_splits),
            split_test_scores=splits, chosen_alpha=chosen, score_name=score_name,
        )
        return disp.plot(
            ax=ax, target=target, folds=folds, std_band=std_band, line_kw=line_kw,
            fill_between_kw=fill_between_kw, fold_line_kw=fold_line_kw,
        )

    @classmethod
    def from_estimator(
        cls, estimator, *, score_name=None, ax=None, target=None, folds=False,
        std_band=True, line_kw=None, fill_between_kw=None, fold_line_kw=None,
    ):
        """Plot a fitted :class:`~l2gd.GDRidgeCV`'s scores, marking its ``alpha_``.

        Parameters
        ----------
        estimator : GDRidgeCV
            Fitted estimator.
        score_name : str, default=None
            Label of the y axis; by default named after the estimator's
            ``scoring`` and ``cv``.
        ax, target, folds, std_band, line_kw, fill_between_kw, fold_line_kw
            See :meth:`plot`.

        Returns
        -------
        display : CVCurveDisplay
        """
        _check_matplotlib_support(f"{cls.__name__}.from_estimator")
        if not isinstance(estimator, GDRidgeCV):
            raise TypeError(f"estimator must be a GDRidgeCV; got {_name(estimator)}.")
        check_is_fitted(estimator, "cv_results_")
        res = estimator.cv_results_
        disp = cls(
            alphas=res["alphas"],
            mean_test_score=res["mean_test_score"],
            std_test_score=res["std_test_score"],
            n_splits=int(estimator.n_splits_),
            split_test_scores=_split_scores(res),
            chosen_alpha=estimator.alpha_,
            score_name=score_name if score_name is not None else _score_name(estimator),
            estimator_name=f"{_name(estimator)}, selection={estimator.selection!r}",
        )
        return disp.plot(
            ax=ax, target=target, folds=folds, std_band=std_band, line_kw=line_kw,
            fill_between_kw=fill_between_kw, fold_line_kw=fold_line_kw,
        )
