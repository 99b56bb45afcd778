"""Small seeded problems and exact oracles shared by the tests."""

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp


def make_regression_data(
    n_samples=60, n_features=8, n_targets=None, seed=0, sparse=False, dtype=np.float64, offset=2.0
):
    """Seeded X, y with a non-zero mean (so the intercept matters)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)) + offset
    if sparse:
        X[rng.random(X.shape) < 0.6] = 0.0
    shape = (n_features,) if n_targets is None else (n_features, n_targets)
    coef = rng.standard_normal(shape)
    y = X @ coef + 3.0 + 0.5 * rng.standard_normal((n_samples,) + shape[1:])
    X = X.astype(dtype)
    if sparse:
        X = sp.csr_matrix(X)
    return X, y.astype(dtype)


def exact_ridge(X, y, alpha, sample_weight=None, fit_intercept=True):
    """Ridge solution from an SVD of the augmented least-squares system.

    Independent of l2gd: minimizes ``||S^{1/2}(y - Xw - b)||^2 + alpha ||w||^2``
    as least squares on ``[S^{1/2} X, S^{1/2} 1; sqrt(alpha) I, 0]`` with
    ``scipy.linalg.lstsq`` (pivoted QR, minimum norm), in float64.
    Returns ``coef`` (n_targets, n_features) or (n_features,), and ``intercept``.
    """
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    Y = np.asarray(y, dtype=np.float64)
    Y2 = Y.reshape(len(Y), -1)
    n, p = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    alphas = np.broadcast_to(np.asarray(alpha, dtype=np.float64).ravel(), (Y2.shape[1],))
    coefs, intercepts = [], []
    for k in range(Y2.shape[1]):
        cols = [X, np.ones((n, 1))] if fit_intercept else [X]
        A = np.sqrt(s)[:, None] * np.hstack(cols)
        pen = np.hstack([np.sqrt(alphas[k]) * np.eye(p), np.zeros((p, A.shape[1] - p))])
        # Pivoted QR (LAPACK gelsy): accurate on graded (mixed-scale) columns,
        # where an SVD-based lstsq is only normwise accurate; minimum norm.
        sol = la.lstsq(
            np.vstack([A, pen]),
            np.concatenate([np.sqrt(s) * Y2[:, k], np.zeros(p)]),
            lapack_driver="gelsy",
        )[0]
        coefs.append(sol[:p])
        intercepts.append(sol[p] if fit_intercept else 0.0)
    coef, intercept = np.array(coefs), np.array(intercepts)
    if Y.ndim == 1:
        return coef[0], intercept[0]
    return coef, intercept


def rel_err(a, b):
    """``||a - b|| / ||b||``, computed without overflow or underflow at any scale."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(float(np.max(np.abs(b), initial=0.0)), float(np.max(np.abs(a), initial=0.0)))
    if scale == 0.0:
        return 0.0
    a, b = a / scale, b / scale
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)
