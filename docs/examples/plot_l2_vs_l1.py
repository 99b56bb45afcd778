"""
L2 against L1 on correlated features: shrinkage versus sparsity
===============================================================

Ridge (L2) and the lasso (L1) both regularize a linear model, but they treat
groups of correlated features differently. The lasso tends to keep one
feature of a correlated group and set the others to zero (sparsity); ridge
shrinks the whole group together and spreads the effect over its members
(shrinkage). Here three groups of four strongly correlated features carry the
signal, and six independent features carry none. Both penalties are chosen by
5-fold cross-validation with the one-standard-error rule (the largest penalty
whose mean score is within one standard error of the best): l2gd's
``GDRidgeCV(selection="1se")`` and, from scikit-learn's
:class:`~sklearn.linear_model.LassoCV` error path, a
:class:`~sklearn.linear_model.Lasso`.
"""

# %%
# Data: three correlated groups and some noise features
# -----------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Lasso, LassoCV

from l2gd import GDRidgeCV

rng = np.random.default_rng(0)
n_samples, group_size, n_groups, n_noise = 120, 4, 3, 6
latent = rng.standard_normal((n_samples, n_groups))
groups = [latent[:, [g]] + 0.1 * rng.standard_normal((n_samples, group_size))
          for g in range(n_groups)]
X = np.hstack(groups + [rng.standard_normal((n_samples, n_noise))])
true_coef = np.r_[np.repeat([1.0, -0.75, 0.5], group_size), np.zeros(n_noise)]
y = X @ true_coef + 2.0 * rng.standard_normal(n_samples)
print("correlation within the first group:",
      np.round(np.corrcoef(X[:, :group_size], rowvar=False)[0, 1:], 2))

# %%
# Fit both, alpha chosen by cross-validation
# ------------------------------------------
ridge = GDRidgeCV(alphas=np.logspace(-2, 4, 30), cv=5, selection="1se").fit(X, y)

lasso_cv = LassoCV(cv=5).fit(X, y)
mse, n_folds = lasso_cv.mse_path_.mean(axis=1), lasso_cv.mse_path_.shape[1]
best = np.argmin(mse)
se = lasso_cv.mse_path_[best].std() / np.sqrt(n_folds - 1)
lasso = Lasso(alpha=lasso_cv.alphas_[mse <= mse[best] + se].max()).fit(X, y)
print(f"ridge alpha {ridge.alpha_:.3g}: {np.sum(ridge.coef_ != 0)} nonzero coefficients")
print(f"lasso alpha {lasso.alpha:.3g}: {np.sum(lasso.coef_ != 0)} nonzero coefficients")
for name, c in [("ridge", ridge.coef_), ("lasso", lasso.coef_)]:
    sums = [c[g * group_size:(g + 1) * group_size].sum() for g in range(n_groups)]
    print(f"{name}: sum of coefficients per group {np.round(sums, 2)} "
          f"(true {group_size * np.array([1.0, -0.75, 0.5])})")

# %%
# The coefficients side by side
# -----------------------------
# Ridge keeps every member of a group, each with about a quarter of the
# group's effect; the lasso concentrates it on few members.
idx = np.arange(X.shape[1])
fig, ax = plt.subplots(figsize=(9, 3.5))
ax.bar(idx - 0.27, true_coef, width=0.27, label="true", color="0.6")
ax.bar(idx, ridge.coef_, width=0.27, label="l2gd GDRidgeCV (L2)")
ax.bar(idx + 0.27, lasso.coef_, width=0.27, label="scikit-learn Lasso (L1)")
for g in range(1, n_groups + 1):
    ax.axvline(g * group_size - 0.5, color="k", lw=0.5, ls=":")
ax.set(xlabel="feature", ylabel="coefficient", xticks=idx)
ax.legend()
fig.tight_layout()
plt.show()

# %%
# Which to use
# ------------
# Ridge's answer tends to be the more stable one: with correlated features,
# small changes of the data can move the lasso's choice within a group,
# while ridge's coefficients move little. The lasso gives a sparse model. Ridge also has a closed form,
# exact cross-validation shortcuts and the ridge statistics (degrees of
# freedom, standard errors) of :meth:`l2gd.GDRidgeRegressor.inference`.
