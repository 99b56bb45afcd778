"""
Choosing alpha by cross-validation, with the CV curve
=====================================================

:class:`~l2gd.GDRidgeCV` scores a whole grid of alphas at the cost of about
one fit per fold: with the closed form, each fold's statistics are computed
once and one decomposition gives every alpha. Its ``cv_results_`` holds the
mean and standard deviation of the score per alpha (and per split for
K-fold), which :class:`~l2gd.plot.CVCurveDisplay` draws with a
standard-error band, the chosen alpha and the one-standard-error alpha
marked.
"""

# %%
# Noisy data with more features than signal
# ------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV

from l2gd import GDRidgeCV
from l2gd.plot import CVCurveDisplay

rng = np.random.default_rng(0)
n_samples, n_features = 150, 30
X = rng.standard_normal((n_samples, n_features))
coef = np.r_[rng.standard_normal(5), np.zeros(n_features - 5)]
y = X @ coef + 2.0 * rng.standard_normal(n_samples)

# %%
# Ten folds, forty alphas
# -----------------------
# ``selection="1se"`` picks the largest alpha whose mean score is within one
# standard error of the best: a simpler model that is statistically as good.
alphas = np.logspace(-2, 4, 40)
cv = GDRidgeCV(alphas=alphas, cv=10, selection="1se").fit(X, y)
print(f"chosen alpha (1-SE rule): {cv.alpha_:.3g}, mean R^2 {cv.best_score_:.3f}")
print(f"best alpha: {alphas[np.argmax(cv.cv_results_['mean_test_score'])]:.3g}")

# %%
# The same scores as a grid search over scikit-learn's Ridge, in one fit:
search = GridSearchCV(Ridge(), {"alpha": alphas}, cv=10).fit(X, y)
print("same mean scores as GridSearchCV(Ridge):",
      np.allclose(search.cv_results_["mean_test_score"], cv.cv_results_["mean_test_score"]))

# %%
# The CV curve
# ------------
# The thin lines are the ten folds; the band is the standard error of the
# mean score, ``std / sqrt(n_splits - 1)``.
display = CVCurveDisplay.from_estimator(cv, folds=True)
display.ax_.set_ylim(-0.5, 1.0)
plt.show()

# %%
# Leave-one-out and GCV
# ---------------------
# ``cv=None`` is exact leave-one-out from one eigendecomposition (the same
# ``alpha_`` as :class:`~sklearn.linear_model.RidgeCV`); ``cv="gcv"`` is
# generalized cross-validation as R's MASS defines it. Every mode reports the
# effective degrees of freedom of each alpha in ``cv_results_["dof"]``.
loo = GDRidgeCV(alphas=alphas).fit(X, y)
gcv = GDRidgeCV(alphas=alphas, cv="gcv").fit(X, y)
print(f"leave-one-out alpha {loo.alpha_:.3g}, GCV alpha {gcv.alpha_:.3g}, "
      f"dof at the GCV alpha {gcv.cv_results_['dof'][gcv.best_index_]:.1f}")
