"""Plots of l2gd's fits, as scikit-learn Displays (matplotlib: the ``plot`` extra).

- :class:`LossCurveDisplay`: the objective (or its gap to the optimum) per
  iteration of a fitted :class:`~l2gd.GDRidgeRegressor`;
- :class:`RegularizationPathDisplay`: the coefficients against alpha or against
  the effective degrees of freedom (:func:`~l2gd.ridge_path`,
  :func:`~l2gd.effective_dof`);
- :class:`CVCurveDisplay`: :class:`~l2gd.GDRidgeCV`'s mean score with its
  standard-error band, the chosen and the 1-SE alphas marked.

Each has ``from_estimator`` (and ``CVCurveDisplay.from_cv_results``) and
``plot(ax=None, ...)``, and keeps what it drew as attributes (``line_`` or
``lines_``, ``ax_``, ``figure_``). matplotlib is imported only when a display
is drawn: ``pip install 'l2gd[plot]'``.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import numpy as np
>>> from l2gd import GDRidgeCV
>>> from l2gd.plot import CVCurveDisplay
>>> rng = np.random.default_rng(0)
>>> X = rng.standard_normal((80, 5))
>>> y = X @ np.arange(5.0) + 2.0 * rng.standard_normal(80)
>>> cv = GDRidgeCV(alphas=np.logspace(-2, 3, 20)).fit(X, y)
>>> disp = CVCurveDisplay.from_estimator(cv)
>>> disp.ax_.get_xscale()
'log'
"""

from ._plot import CVCurveDisplay, LossCurveDisplay, RegularizationPathDisplay

__all__ = ["CVCurveDisplay", "LossCurveDisplay", "RegularizationPathDisplay"]
