"""Seeded benchmark problems and their exact reference solutions.

Every problem is the ridge problem of :class:`sklearn.linear_model.Ridge`,
``sum_i (y_i - x_i.w - b)^2 + alpha ||w||^2`` with an unpenalized intercept.
References are computed here, independently of l2gd (an oracle, never our own
output):

* dense X: float64 SVD of the centered X, ``w = V diag(s / (s^2 + alpha)) U^T y_c``;
* sparse X: conjugate gradient on the float64 normal equations with implicit
  centering, run to a certified bound ``||w - w*|| <= ||H w - b|| / alpha``
  (``H = X_c^T X_c + alpha I`` has smallest eigenvalue >= alpha).

float32 problems are the float64 data rounded to float32; their reference is
the exact solution *for the rounded data* (computed in float64).
"""

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, cg

# Problem sizes per mode. "full" is the statement; "quick" keeps
# `run.py --quick` under two minutes on a 2-core VM; "smoke" is for the test.
SIZES = {
    "full": {
        "dense_tall": {"n": 200_000, "p": 100},
        "dense_wide": {"n": 2_000, "p": 5_000},
        "sparse": {"n": 100_000, "p": 20_000, "density": 1e-3},
        "illcond": {"n": 50_000, "p": 200, "cond": 1e4},
        "multitarget": {"n": 50_000, "p": 100, "k": 50},
        "cv": {"n": 50_000, "p": 200, "folds": 5, "n_alphas": 100},
        "scaling": {"ns": [10_000, 31_623, 100_000, 316_228, 1_000_000], "p": 100},
    },
    "quick": {
        "dense_tall": {"n": 20_000, "p": 100},
        "dense_wide": {"n": 500, "p": 1_500},
        "sparse": {"n": 20_000, "p": 3_000, "density": 2e-3},
        "illcond": {"n": 5_000, "p": 100, "cond": 1e4},
        "multitarget": {"n": 5_000, "p": 50, "k": 20},
        "cv": {"n": 5_000, "p": 50, "folds": 5, "n_alphas": 20},
        "scaling": {"ns": [10_000, 31_623, 100_000], "p": 50},
    },
    "smoke": {
        "dense_tall": {"n": 600, "p": 8},
        "dense_wide": {"n": 40, "p": 90},
        "sparse": {"n": 500, "p": 120, "density": 0.05},
        "illcond": {"n": 300, "p": 10, "cond": 1e3},
        "multitarget": {"n": 300, "p": 6, "k": 4},
        "cv": {"n": 300, "p": 6, "folds": 3, "n_alphas": 5},
        "scaling": {"ns": [300, 1_000], "p": 6},
    },
}

ALPHA = 1.0
ILLCOND_ALPHA = 1e-3


@dataclass
class Problem:
    """One benchmark problem: data, penalty, and the exact solution."""

    name: str
    X: object
    y: np.ndarray
    alpha: float
    description: str
    ref_coef: np.ndarray = None  # shape (n_targets, n_features)
    ref_intercept: np.ndarray = None  # shape (n_targets,)
    ref_method: str = ""
    ref_certificate: float = 0.0  # bound on the reference's own relative error
    meta: dict = field(default_factory=dict)

    @property
    def sparse(self):
        return sp.issparse(self.X)

    @property
    def shape(self):
        return self.X.shape

    @property
    def n_targets(self):
        return 1 if self.y.ndim == 1 else self.y.shape[1]

    @property
    def dtype(self):
        return self.X.dtype

    @property
    def X_nbytes(self):
        if self.sparse:
            return int(self.X.data.nbytes + self.X.indices.nbytes + self.X.indptr.nbytes)
        return int(self.X.nbytes)

    def summary(self):
        n, p = self.shape
        out = {
            "name": self.name,
            "n_samples": n,
            "n_features": p,
            "n_targets": self.n_targets,
            "dtype": str(self.dtype),
            "sparse": self.sparse,
            "alpha": self.alpha,
            "X_MB": self.X_nbytes / 2**20,
            "description": self.description,
            "reference": self.ref_method,
            "reference_rel_error_bound": self.ref_certificate,
        }
        if self.sparse:
            out["nnz"] = int(self.X.nnz)
        out.update(self.meta)
        return out

    def rel_error(self, coef):
        """``||coef - coef*||_F / ||coef*||_F``; inf when coef is not finite."""
        coef = np.asarray(coef, dtype=np.float64).reshape(self.ref_coef.shape)
        if not np.all(np.isfinite(coef)):
            return float("inf")
        return float(np.linalg.norm(coef - self.ref_coef) / np.linalg.norm(self.ref_coef))


def _targets(X, rng, k=1, noise=1.0):
    p = X.shape[1]
    W = rng.standard_normal((p, k))
    Y = np.asarray(X @ W) + noise * rng.standard_normal((X.shape[0], k)) + rng.uniform(-3, 3, k)
    return Y[:, 0] if k == 1 else Y


def dense_reference(X, y, alpha):
    """Exact ridge solution with intercept from a float64 SVD of the centered X."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)
    x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
    U, s, Vt = la.svd(X - x_mean, full_matrices=False, check_finite=False)
    coef = (Vt.T @ ((s / (s**2 + alpha))[:, None] * (U.T @ (Y - y_mean)))).T
    return coef, y_mean - coef @ x_mean


def sparse_reference(X, y, alpha, rtol=1e-14):
    """Ridge solution with intercept for sparse X by CG on the normal equations
    (implicit centering), with its certified relative error bound."""
    X = X.astype(np.float64).tocsr()
    Y = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)
    n, p = X.shape
    x_mean = np.asarray(X.mean(axis=0)).ravel()
    y_mean = Y.mean(axis=0)
    XT = X.T.tocsr()

    def hv(v):
        Xv = X @ v - x_mean @ v
        return XT @ Xv - x_mean * Xv.sum() + alpha * v

    H = LinearOperator((p, p), matvec=hv, dtype=np.float64)
    coef = np.empty((Y.shape[1], p))
    bound = 0.0
    for k in range(Y.shape[1]):
        yc = Y[:, k] - y_mean[k]
        b = XT @ yc - x_mean * yc.sum()
        w, _ = cg(H, b, rtol=rtol, atol=0.0, maxiter=20 * p)
        coef[k] = w
        bound = max(bound, np.linalg.norm(hv(w) - b) / alpha / np.linalg.norm(w))
    return coef, y_mean - coef @ x_mean, bound


def _finish(problem, dtype):
    """Cast to ``dtype`` and attach the exact reference for the data as stored."""
    if dtype != np.float64:
        problem.X = problem.X.astype(dtype)
        problem.y = problem.y.astype(dtype)
        problem.name += "_f32"
        problem.description += " (float32)"
    if problem.sparse:
        c, b, cert = sparse_reference(problem.X, problem.y, problem.alpha)
        problem.ref_method = "float64 CG on normal equations, certified"
        problem.ref_certificate = float(cert)
    else:
        c, b = dense_reference(problem.X, problem.y, problem.alpha)
        problem.ref_method = "float64 SVD of centered X"
    problem.ref_coef, problem.ref_intercept = c, b
    return problem


def dense_tall(n, p, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    scales = np.exp(rng.uniform(np.log(0.5), np.log(2.0), p))
    X = rng.standard_normal((n, p)) * scales + rng.uniform(-1, 1, p)
    prob = Problem(
        "dense_tall",
        X,
        _targets(X, rng),
        ALPHA,
        f"dense tall n={n:,} p={p}: normal columns, scales in [0.5, 2], nonzero means",
    )
    return _finish(prob, dtype)


def dense_wide(n, p, dtype=np.float64, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    prob = Problem("dense_wide", X, _targets(X, rng), ALPHA, f"dense wide n={n:,} p={p:,}: normal")
    return _finish(prob, dtype)


def sparse(n, p, density, dtype=np.float64, seed=2):
    rng = np.random.default_rng(seed)
    X = sp.random_array(
        (n, p),
        density=density,
        format="csr",
        rng=rng,
        data_sampler=lambda size: 1.0 + rng.standard_normal(size),
    )
    X = sp.csr_matrix(X)
    prob = Problem(
        "sparse",
        X,
        _targets(X, rng),
        ALPHA,
        f"sparse CSR n={n:,} p={p:,} density {density:g}, values N(1,1), with intercept",
    )
    return _finish(prob, dtype)


def illcond(n, p, cond, dtype=np.float64, seed=3):
    """X = U diag(s) V^T + column means, s log-spaced so cond(X_c) = ``cond``."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, p))
    U, _ = la.qr(A - A.mean(axis=0), mode="economic")
    V, _ = la.qr(rng.standard_normal((p, p)))
    s = np.sqrt(n) * np.logspace(0, -np.log10(cond), p)
    X = (U * s) @ V.T + rng.uniform(-1, 1, p)
    prob = Problem(
        "illcond",
        X,
        _targets(X, rng, noise=0.1),
        ILLCOND_ALPHA,
        f"ill-conditioned dense n={n:,} p={p}: cond(X_c)={cond:g}, alpha={ILLCOND_ALPHA:g} "
        f"(Hessian condition ~{(s[0] ** 2 + ILLCOND_ALPHA) / (s[-1] ** 2 + ILLCOND_ALPHA):.1e})",
    )
    return _finish(prob, dtype)


def multitarget(n, p, k, dtype=np.float64, seed=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + rng.uniform(-1, 1, p)
    prob = Problem(
        "multitarget", X, _targets(X, rng, k=k), ALPHA, f"multi-target n={n:,} p={p} targets={k}"
    )
    return _finish(prob, dtype)


def cv_data(n, p, seed=5):
    """The GDRidgeCV issue's CV problem: dense n x p, normal, with an intercept."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + rng.uniform(-1, 1, p)
    return X, _targets(X, rng, noise=5.0)


def scaling_data(n, p, seed=6):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    return X, _targets(X, rng)


def make_problems(mode, names=None):
    """Yield the problems of ``mode`` (optionally only those in ``names``),
    one at a time so that only one large X lives in memory."""
    size = SIZES[mode]
    builders = {
        "dense_tall": lambda: dense_tall(**size["dense_tall"]),
        "dense_tall_f32": lambda: dense_tall(**size["dense_tall"], dtype=np.float32),
        "dense_wide": lambda: dense_wide(**size["dense_wide"]),
        "dense_wide_f32": lambda: dense_wide(**size["dense_wide"], dtype=np.float32),
        "sparse": lambda: sparse(**size["sparse"]),
        "sparse_f32": lambda: sparse(**size["sparse"], dtype=np.float32),
        "illcond": lambda: illcond(**size["illcond"]),
        "multitarget": lambda: multitarget(**size["multitarget"]),
    }
    for name, build in builders.items():
        if names is None or name in names:
            yield name, build


PROBLEM_NAMES = [
    "dense_tall",
    "dense_tall_f32",
    "dense_wide",
    "dense_wide_f32",
    "sparse",
    "sparse_f32",
    "illcond",
    "multitarget",
]
