"""The ridge problem, stated once.

Every l2gd solver minimizes, for each target column ``k``,

.. math::

    f_k(w, b) = \\sum_{i=1}^{n} s_i \\, (y_{ik} - x_i^\\top w - b)^2
                + \\alpha_k \\, \\lVert w \\rVert_2^2

with sample weights ``s_i >= 0`` (default 1) and an unpenalized intercept
``b`` (``b = 0`` when ``fit_intercept=False``). This is exactly the objective
of :class:`sklearn.linear_model.Ridge` with the same ``alpha``: a sum, not a
mean, and not halved.

With an intercept, minimizing over ``b`` first gives ``b = \\bar y - \\bar x^\\top
w`` with the weighted means ``\\bar x = \\sum_i s_i x_i / S`` and ``\\bar y``,
``S = \\sum_i s_i``; what remains is the same problem without intercept on the
centered data ``X_c = X - 1 \\bar x^\\top``, ``y_c = y - \\bar y``. The
deterministic solvers work on that centered problem. :class:`RidgeProblem`
never forms ``X_c``: products with it are corrected on the small side
(``X_c w = X w - 1 (\\bar x^\\top w)``, ``X_c^\\top r = X^\\top r - \\bar x
(1^\\top r)``), so a sparse ``X`` stays sparse and a dense ``X`` is not copied.

Gradient with respect to ``w`` (per target column)::

    grad f = -2 X_c^T S r + 2 alpha w,   r = y_c - X_c w

and its Lipschitz constant is ``2 (lambda_max(X_c^T S X_c) + alpha)``.
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackError, LinearOperator, eigsh

from ._array_api import is_numpy, namespace, to_device, to_numpy


def _weighted_mean(A, sample_weight, sw_sum, xp=np):
    """Column means of ``A`` (dense or sparse) weighted by ``sample_weight``."""
    if sp.issparse(A):
        total = A.sum(axis=0) if sample_weight is None else A.T @ sample_weight
        return (np.asarray(total).ravel() / sw_sum).astype(A.dtype, copy=False)
    total = xp.sum(A, axis=0) if sample_weight is None else A.T @ sample_weight
    return total / sw_sum


def top_eigenvalue(matvec, n, upper, tol=1e-3):
    """Largest eigenvalue of a symmetric PSD operator ``v -> matvec(v)`` of size ``n``.

    Lanczos (ARPACK) on the host in float64, started from a seeded vector, the
    estimate inflated by ``tol`` relative to bound it from above in practice
    and capped by ``upper`` (a known upper bound such as the trace), which is
    also returned when ARPACK cannot run (``n <= 2``, a zero operator).
    """
    if n <= 2 or upper <= 0:
        return upper
    op = LinearOperator(
        (n, n), matvec=lambda v: np.asarray(matvec(v), dtype=np.float64), dtype=np.float64
    )
    v0 = np.random.default_rng(0).standard_normal(n)
    try:
        top = eigsh(op, k=1, which="LA", tol=tol, v0=v0, return_eigenvectors=False)
    except ArpackError:
        return upper
    return min(max(float(top[0]), 0.0) * (1.0 + tol), upper)


class RidgeProblem:
    """Ridge regression problem: data, weights, penalty and intercept handling.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data. Never copied or modified.
    Y : ndarray of shape (n_samples, n_targets)
        Targets, always 2-D here.
    alpha : ndarray of shape (n_targets,)
        Penalty per target, ``>= 0``.
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative weights; None means all ones.
    fit_intercept : bool
        Whether the problem has an unpenalized intercept (then it is
        eliminated by implicit centering, see the module docstring).
    X_offset, y_offset : ndarray or None, default=None
        Centers to use instead of the weighted means of these rows (streaming
        solvers pass the running means of all rows seen so far). Only used
        with ``fit_intercept=True``.

    Attributes
    ----------
    sw_sum : float
        Total weight ``S``.
    X_offset : ndarray of shape (n_features,)
        Weighted column means of X (zeros without intercept).
    y_offset : ndarray of shape (n_targets,)
        Weighted means of Y (zeros without intercept).
    """

    def __init__(
        self, X, Y, alpha, sample_weight=None, fit_intercept=True, *, X_offset=None, y_offset=None
    ):
        xp, device = namespace(X)
        self.xp, self.device = xp, device
        self.X = X
        self.Y = Y
        self.dtype = X.dtype
        self.alpha = to_device(np.asarray(to_numpy(alpha)), xp, device, X.dtype)
        self.sample_weight = sample_weight
        self.fit_intercept = fit_intercept
        n_samples = X.shape[0]
        self.sw_sum = float(n_samples if sample_weight is None else xp.sum(sample_weight))
        if fit_intercept and X_offset is not None:
            self.X_offset = xp.asarray(X_offset, dtype=X.dtype, device=device)
            self.y_offset = xp.asarray(y_offset, dtype=X.dtype, device=device)
        elif fit_intercept:
            self.X_offset = _weighted_mean(X, sample_weight, self.sw_sum, xp)
            self.y_offset = _weighted_mean(Y, sample_weight, self.sw_sum, xp)
        else:
            self.X_offset = xp.zeros(X.shape[1], dtype=X.dtype, device=device)
            self.y_offset = xp.zeros(Y.shape[1], dtype=X.dtype, device=device)
        # The centered targets are small (n x k) next to X; keep them.
        self.Yc = Y - self.y_offset

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]

    @property
    def n_targets(self):
        return self.Y.shape[1]

    @property
    def is_sparse(self):
        return sp.issparse(self.X)

    # -- products with the (implicitly) centered design ---------------------
    def matvec(self, W):
        """Return ``X_c @ W`` for ``W`` of shape (n_features, m)."""
        out = self.X @ W
        if self.fit_intercept:
            out = out - self.X_offset @ W
        return out

    def rmatvec(self, R):
        """Return ``X_c.T @ R`` for ``R`` of shape (n_samples, m)."""
        out = self.X.T @ R
        if self.fit_intercept:
            out = out - self.X_offset[:, None] * self.xp.sum(R, axis=0)[None, :]
        return out

    def weighted(self, R):
        """Return ``S @ R``: rows of ``R`` scaled by the sample weights."""
        if self.sample_weight is None:
            return R
        return R * self.sample_weight[:, None]

    # -- objective ----------------------------------------------------------
    def residual(self, W):
        """Residual ``r = y_c - X_c W`` of shape (n_samples, n_targets)."""
        return self.Yc - self.matvec(W)

    def value_from_residual(self, R, W):
        """Objective per target from a residual ``R`` at ``W``."""
        xp = self.xp
        return xp.sum(self.weighted(R) * R, axis=0) + self.alpha * xp.sum(W * W, axis=0)

    def value(self, W):
        """Ridge objective summed over targets at the optimal intercept for ``W``.

        Equal to ``sum_k f_k(W[:, k], b_k)`` with ``b = intercept(W)``, the
        quantity :class:`sklearn.linear_model.Ridge` minimizes.
        """
        return float(self.xp.sum(self.value_from_residual(self.residual(W), W)))

    def gradient(self, W, R=None, *, batch=None):
        """Gradient of the objective with respect to ``W``.

        ``R`` is the residual at ``W`` when the caller already has it.

        With ``batch`` (a slice or an integer array of row indices), the
        unbiased mini-batch estimate of the same gradient::

            (n / |B|) * (-2 X_c[B]^T S_B r_B) + 2 alpha W

        whose expectation over a uniformly drawn batch ``B`` is the full
        gradient, exactly, with or without sample weights. Only the rows in
        ``B`` are read (a slice of a dense X or memmap is a view).
        """
        if batch is not None:
            return self._batch_gradient(W, batch)
        if R is None:
            R = self.residual(W)
        return 2.0 * (self.alpha * W - self.rmatvec(self.weighted(R)))

    def _batch_gradient(self, W, batch):
        Xb = self.X[batch]
        size = Xb.shape[0]
        R = self.Yc[batch] - np.asarray(Xb @ W)
        if self.fit_intercept:
            R += self.X_offset @ W
        if self.sample_weight is not None:
            R *= self.sample_weight[batch][:, None]
        G = np.asarray(Xb.T @ R)
        if self.fit_intercept:
            G -= np.outer(self.X_offset, R.sum(axis=0))
        return 2.0 * (self.alpha * W - (self.n_samples / size) * G)

    def batch(self, rows):
        """The sub-problem of the given rows, with the same centers and alpha.

        ``rows`` is a slice or an integer array. The centers (``X_offset``,
        ``y_offset``) stay those of the whole problem, so products with the
        sub-problem are products with rows of the same centered design.
        """
        sw = None if self.sample_weight is None else self.sample_weight[rows]
        return RidgeProblem(
            self.X[rows],
            self.Y[rows],
            self.alpha,
            sample_weight=sw,
            fit_intercept=self.fit_intercept,
            X_offset=self.X_offset,
            y_offset=self.y_offset,
        )

    def row_norms_sq(self, block_rows=4096):
        """Weighted squared norms ``s_i ||x_i - x_offset||^2`` of the centered rows.

        Read in row blocks (a memmap is never loaded whole).
        """
        n = self.n_samples
        out = np.empty(n, dtype=self.dtype)
        for start in range(0, n, block_rows):
            rows = slice(start, min(start + block_rows, n))
            Xb = self.X[rows]
            if self.is_sparse:
                sq = np.asarray(Xb.multiply(Xb).sum(axis=1)).ravel()
                if self.fit_intercept:
                    m = self.X_offset
                    sq = sq - 2.0 * np.asarray(Xb @ m).ravel() + m @ m
            else:
                Xb = Xb - self.X_offset if self.fit_intercept else Xb
                sq = np.einsum("ij,ij->i", Xb, Xb)
            out[rows] = np.clip(sq, 0, None)
        if self.sample_weight is not None:
            out *= self.sample_weight
        return out

    def intercept(self, W):
        """Optimal intercept ``y_offset - X_offset @ W`` for coefficients ``W``."""
        return self.y_offset - self.X_offset @ W

    def lipschitz(self, tol=1e-3):
        """Lipschitz constants of the gradient, one per target.

        ``2 * (lambda_max(X_c^T S X_c) + alpha)``; the top eigenvalue comes
        from Lanczos (ARPACK) on the implicit operator, so X is never copied.
        The estimate is inflated by ``tol`` relative to make it an upper bound
        in practice.
        """
        return 2.0 * (self.gram_norm(tol) + to_numpy(self.alpha).astype(np.float64))

    def gram_norm(self, tol=1e-3):
        """Largest eigenvalue of the centered weighted Gram matrix ``X_c^T S X_c``."""
        p = self.n_features

        def mv(v):
            # Lanczos runs on the host; the products run on X's device.
            v = to_device(np.reshape(v, (p, 1)), self.xp, self.device, self.dtype)
            return to_numpy(self.rmatvec(self.weighted(self.matvec(v)))).ravel()

        # Frobenius bound: the trace of the Gram matrix bounds its norm.
        return top_eigenvalue(mv, p, float(self.xp.sum(self._gram_diagonal())), tol)

    def gram_diagonal(self):
        """Diagonal of the centered weighted Gram matrix ``X_c^T S X_c``.

        Computed without forming ``X_c`` or copying X, in X's namespace and
        on its device. An entry is exactly 0 when its column is constant (with
        weights: constant on the rows of positive weight) to rounding: the
        centered sum of squares is then within ``n * eps`` of the uncentered
        one's cancellation, pure rounding noise that would otherwise look like
        a column of tiny scale (and a huge Jacobi step on it).

        Returns
        -------
        diag : array of shape (n_features,)
            Non-negative.
        """
        xp = self.xp
        raw, centered = self._gram_diagonal_parts()
        noise = self.n_samples * float(xp.finfo(self.dtype).eps) * raw
        return xp.where(centered > noise, centered, xp.zeros_like(centered))

    def _gram_diagonal(self):
        """Diagonal of ``X_c^T S X_c`` without forming it or copying X."""
        return self._gram_diagonal_parts()[1]

    def _gram_diagonal_parts(self):
        """Uncentered ``diag(X^T S X)`` and centered ``diag(X_c^T S X_c)`` (clipped at 0)."""
        X, sw = self.X, self.sample_weight
        if self.is_sparse:
            sq = X.multiply(X)
            diag = np.asarray(sq.sum(axis=0) if sw is None else sq.T @ sw).ravel()
        elif not is_numpy(self.xp):
            sq = X * X
            diag = self.xp.sum(sq, axis=0) if sw is None else sw @ sq
        elif sw is None:
            diag = np.einsum("ij,ij->j", X, X)
        else:
            diag = np.einsum("ij,ij,i->j", X, X, sw)
        return diag, self.xp.clip(diag - self.sw_sum * self.X_offset**2, 0, None)
