"""
Ridge regression on Dask arrays
===============================

Pass dask arrays chunked by rows and the same estimators run on the cluster;
nothing but the ``n_features x n_features`` statistics is gathered onto the
client. The closed form takes **one pass**: per-chunk
:class:`~l2gd.RidgeStats` merged in a tree, then the solve on the client;
:class:`~l2gd.GDRidgeCV` with ``cv=K`` computes every fold's statistics in
the same single pass. Predictions stay lazy dask arrays.

To keep this example small it uses Dask's synchronous scheduler (everything
in this process); with ``distributed.Client(...)`` the same code runs on a
cluster. ``pip install "l2gd[dask]"``.
"""

# %%
# A small dask array, chunked by rows
# -----------------------------------
import dask
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np

from l2gd import GDRidgeCV, GDRidgeRegressor
from l2gd.plot import CVCurveDisplay

dask.config.set(scheduler="synchronous")

rng = np.random.default_rng(0)
X_np = rng.standard_normal((20_000, 15))
y_np = X_np @ rng.standard_normal(15) + 3.0 * rng.standard_normal(20_000)
X = da.from_array(X_np, chunks=(2_500, 15))
y = da.from_array(y_np, chunks=2_500)
print(X)

# %%
# Fit, predict, score
# -------------------
est = GDRidgeRegressor(alpha=10.0).fit(X, y)
ref = GDRidgeRegressor(alpha=10.0).fit(X_np, y_np)
print("same coefficients as in memory:", np.allclose(est.coef_, ref.coef_))
y_pred = est.predict(X)
print("predict returns", type(y_pred).__name__, "- computed on demand:",
      np.round(y_pred[:3].compute(), 3))
print(f"R^2 (one blockwise pass): {est.score(X, y):.4f}")

# %%
# Cross-validation in one pass over the chunks
# --------------------------------------------
cv = GDRidgeCV(alphas=np.logspace(-1, 5, 25), cv=5).fit(X, y)
print(f"alpha chosen by 5-fold CV on dask: {cv.alpha_:.3g}")
CVCurveDisplay.from_estimator(cv)
plt.show()
