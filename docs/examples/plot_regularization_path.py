"""
Regularization path with effective degrees of freedom
=====================================================

:func:`~l2gd.ridge_path` computes the ridge coefficients along a grid of
alphas, and :class:`~l2gd.plot.RegularizationPathDisplay` draws them against
alpha or against the **effective degrees of freedom**
``df(alpha) = sum_i L_i / (L_i + alpha)`` (:func:`~l2gd.effective_dof`,
``L`` the eigenvalues of the centered Gram matrix). The degrees of freedom
are a scale that does not depend on how X is scaled: they go from the number
of features at ``alpha=0`` down to 0, and say how complex a fit is.
"""

# %%
# The diabetes data (bundled with scikit-learn)
# ---------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes

from l2gd import GDRidgeCV, alpha_for_dof, effective_dof
from l2gd.plot import RegularizationPathDisplay

X, y = load_diabetes(return_X_y=True, as_frame=True)
alphas = np.logspace(-4, 2, 50)
cv = GDRidgeCV(alphas=alphas, cv="gcv").fit(X, y)
print(f"alpha chosen by GCV: {cv.alpha_:.3g}, "
      f"effective dof {effective_dof(X, cv.alpha_):.2f} of {X.shape[1]}")

# %%
# The path against alpha and against the degrees of freedom
# ---------------------------------------------------------
# The vertical line marks the estimator's ``alpha_``; the feature names come
# from the DataFrame.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
RegularizationPathDisplay.from_estimator(cv, X, y, alphas=alphas, ax=ax1, legend=False)
RegularizationPathDisplay.from_estimator(
    cv, X, y, alphas=alphas, x_axis="dof", ax=ax2, legend=False)
ax2.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize="small")
fig.tight_layout()
plt.show()

# %%
# The alpha for a given number of degrees of freedom
# --------------------------------------------------
# :func:`~l2gd.alpha_for_dof` inverts ``df``: a model of "about five
# parameters' worth" of complexity.
alpha5 = alpha_for_dof(X, 5.0)
print(f"alpha with 5 effective degrees of freedom: {alpha5:.4g} "
      f"(check: {effective_dof(X, alpha5):.6f})")
