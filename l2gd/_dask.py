"""Dask support: fit, predict and score on dask collections (optional extra ``l2gd[dask]``).

Nothing here imports dask at module import time: :func:`is_dask_collection`
recognizes dask objects by duck typing, so the estimators can route dask input
here *before* scikit-learn's validation would load it into memory.
"""


def is_dask_collection(x):
    """True when ``x`` is a dask collection (dask array, dataframe or series)."""
    return hasattr(x, "__dask_graph__") and type(x).__module__.startswith("dask")


def fit(estimator, X, y, sample_weight=None):
    """Fit ``estimator`` (a GDRidgeRegressor) on dask arrays; return it."""
    raise NotImplementedError("Dask support is being built (issue 6).")


def predict(estimator, X):
    """Lazy, blockwise predictions of a fitted estimator on a dask array."""
    raise NotImplementedError("Dask support is being built (issue 6).")


def score(estimator, X, y, sample_weight=None):
    """R^2 of a fitted estimator on dask arrays."""
    raise NotImplementedError("Dask support is being built (issue 6).")
