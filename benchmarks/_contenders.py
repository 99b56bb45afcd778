"""The contenders: every l2gd solver, scikit-learn's Ridge solvers and
SGDRegressor, and two bare baselines (the hardware floors).

A contender is a name plus a factory ``make(problem, tol=None, max_iter=None)``
returning an object with ``fit(X, y)`` that sets ``coef_``, ``intercept_`` and
(for iterative methods) ``n_iter_``. ``applicable(problem)`` returns None or
the reason it is skipped.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
from scipy.linalg.blas import get_blas_funcs
from sklearn.linear_model import Ridge, SGDRegressor

import l2gd
from l2gd import GDRidgeRegressor
from l2gd.solvers import SOLVERS

HAS_SGD = "sgd" in SOLVERS


def _find_gdridgecv():
    if hasattr(l2gd, "GDRidgeCV"):
        return l2gd.GDRidgeCV
    try:  # built but not exported yet
        from l2gd._cv import GDRidgeCV
    except ImportError:
        return None
    return GDRidgeCV


GDRidgeCV = _find_gdridgecv()
HAS_CV = GDRidgeCV is not None

# closed_form on sparse X forms a dense p x p Gram matrix; above this many
# features that is gigabytes and an O(p^3) factorization (l2gd's "auto" picks
# gd there), so the benchmark skips it.
SPARSE_CLOSED_FORM_MAX_FEATURES = 5000


@dataclass
class Contender:
    name: str
    family: str  # "l2gd", "sklearn", "peer" (glum, himalaya) or "baseline"
    make: Callable
    iterative: bool = False
    applicable: Callable = lambda problem: None
    stochastic: bool = False  # also swept over max_iter (epochs), as tol may not stop it

    def skip_reason(self, problem):
        return self.applicable(problem)


def _kw(tol, max_iter):
    kw = {}
    if tol is not None:
        kw["tol"] = tol
    if max_iter is not None:
        kw["max_iter"] = int(max_iter)
    return kw


def _l2gd(solver):
    def make(problem, tol=None, max_iter=None):
        return GDRidgeRegressor(
            alpha=problem.alpha, solver=solver, random_state=0, **_kw(tol, max_iter)
        )

    return make


def _gd(acceleration):
    from l2gd.solvers import GradientDescent

    return _l2gd(GradientDescent(acceleration=acceleration))


def _ridge(solver):
    def make(problem, tol=None, max_iter=None):
        return Ridge(alpha=problem.alpha, solver=solver, random_state=0, **_kw(tol, max_iter))

    return make


def _sgdregressor(problem, tol=None, max_iter=None):
    # SGDRegressor minimizes (1/n) sum 1/2 (y - xw - b)^2 + alpha/2 ||w||^2,
    # i.e. Ridge's objective / (2n) with Ridge.alpha = n * alpha.
    return SGDRegressor(
        alpha=problem.alpha / problem.shape[0], penalty="l2", random_state=0, **_kw(tol, max_iter)
    )


class BareGramCholesky:
    """Hardware floor: one BLAS ``syrk`` over the raw X (no centering copy),
    ``X^T y``, the rank-one centering correction, Cholesky. Not numerically
    careful (cancellation when means are large); a timing floor only."""

    def __init__(self, alpha):
        self.alpha = alpha

    def fit(self, X, y):
        X = np.asarray(X)
        Y = np.asarray(y).reshape(X.shape[0], -1)
        n, p = X.shape
        syrk = get_blas_funcs("syrk", dtype=X.dtype)
        G = syrk(1.0, X.T, trans=0, lower=1)  # X.T of a C array is Fortran: no copy
        xm, ym = X.mean(axis=0), Y.mean(axis=0)
        G -= n * np.outer(xm, xm)
        G.flat[:: p + 1] += self.alpha
        B = X.T @ Y - n * np.outer(xm, ym)
        W = la.cho_solve(la.cho_factor(G, lower=True, check_finite=False), B, check_finite=False)
        self.coef_ = W.T if W.shape[1] > 1 else W[:, 0]
        self.intercept_ = ym - xm @ W
        self.n_iter_ = 1
        return self


class BareBlockedGramCholesky(BareGramCholesky):
    """The issue's "bare blocked syrk + Cholesky": mean pass, then row blocks of
    ``[X - x_mean, y - y_mean]`` written into one preallocated buffer (about
    2 MB) and accumulated with ``syrk`` (Gram and ``X^T y`` in the same call),
    Cholesky. Numerically careful (centered before squaring)."""

    block_bytes = 2 * 2**20

    def fit(self, X, y):
        X = np.asarray(X)
        Y = np.asarray(y).reshape(X.shape[0], -1)
        n, p = X.shape
        q = p + Y.shape[1]
        xm, ym = X.mean(axis=0), Y.mean(axis=0)
        rows = int(min(n, max(256, self.block_bytes // (q * X.itemsize))))
        buf = np.empty((rows, q), dtype=X.dtype)
        syrk = get_blas_funcs("syrk", dtype=X.dtype)
        C = np.zeros((q, q), dtype=X.dtype, order="F")
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            b = buf[: stop - start]
            np.subtract(X[start:stop], xm, out=b[:, :p])
            np.subtract(Y[start:stop], ym, out=b[:, p:])
            C = syrk(1.0, b.T, beta=1.0, c=C, trans=0, lower=1, overwrite_c=1)
        G = C[:p, :p]
        G.flat[:: p + 1] += self.alpha
        W = la.cho_solve(
            la.cho_factor(G, lower=True, check_finite=False), C[p:, :p].T, check_finite=False
        )
        self.coef_ = W.T if W.shape[1] > 1 else W[:, 0]
        self.intercept_ = ym - xm @ W
        self.n_iter_ = 1
        return self


def _installed(module):
    """Version of an optional peer package, or None when it does not import."""
    try:
        return __import__(module).__version__
    except ImportError:
        return None


GLUM_VERSION = _installed("glum")
HIMALAYA_VERSION = _installed("himalaya")


def _glum(problem, tol=None, max_iter=None):
    # glum minimizes (1 / 2S) sum_i s_i (y_i - x_i.w - b)^2 + alpha_g / 2 ||w||^2
    # at l1_ratio=0 (Gaussian deviance): Ridge's objective / (2S), so
    # alpha_g = Ridge.alpha / S (S = n without weights). Checked to 1e-14.
    from glum import GeneralizedLinearRegressor

    kw = {"gradient_tol": tol} if tol is not None else {}
    if max_iter is not None:
        kw["max_iter"] = int(max_iter)
    return GeneralizedLinearRegressor(
        alpha=problem.alpha / problem.shape[0], l1_ratio=0.0, family="normal",
        scale_predictors=False, **kw,
    )


class _HimalayaRidge:
    """himalaya's ``Ridge`` (same objective and alpha as scikit-learn's) with
    ``coef_`` in scikit-learn's (n_targets, n_features) layout."""

    def __init__(self, alpha):
        self.alpha = alpha

    def fit(self, X, y):
        from himalaya.ridge import Ridge as HimalayaRidge

        model = HimalayaRidge(alpha=self.alpha, fit_intercept=True).fit(X, y)
        coef = np.asarray(model.coef_)
        self.coef_ = coef.T if coef.ndim == 2 else coef
        self.intercept_ = np.asarray(model.intercept_)
        self.n_iter_ = 1
        return self


def _glum_applicable(problem):
    if problem.n_targets > 1:
        return "glum fits one target per model"
    return None


def _himalaya_applicable(problem):
    if problem.sparse:
        return "himalaya's Ridge (solver='svd') needs dense X"
    return None


def _peers():
    """The strongest peers that install here (the benchmark extra)."""
    out = []
    if GLUM_VERSION:
        out.append(Contender(f"glum {GLUM_VERSION}", "peer", _glum, iterative=True,
                             applicable=_glum_applicable))
    if HIMALAYA_VERSION:
        out.append(Contender(
            f"himalaya {HIMALAYA_VERSION} Ridge", "peer",
            lambda problem, tol=None, max_iter=None: _HimalayaRidge(problem.alpha),
            applicable=_himalaya_applicable,
        ))
    return out


def _dense_tall_only(problem):
    if problem.sparse or problem.shape[0] < problem.shape[1]:
        return "baseline defined for dense tall X only"
    return None


def _ridge_applicable(solver):
    def check(problem):
        if problem.sparse and solver in ("cholesky", "svd", "saga"):
            return f"Ridge(solver={solver!r}) does not fit an intercept on sparse X"
        return None

    return check


def _closed_form_applicable(problem):
    if problem.sparse and problem.shape[1] > SPARSE_CLOSED_FORM_MAX_FEATURES:
        p = problem.shape[1]
        return (
            f"dense {p}x{p} Gram ({p * p * 8 / 2**30:.1f} GB) and O(p^3) Cholesky; "
            "l2gd's solver='auto' uses gd here"
        )
    return None


def _sgdregressor_applicable(problem):
    if problem.n_targets > 1:
        return "SGDRegressor does not support multi-output y"
    return None


def contenders():
    """All contenders, in a fixed order (l2gd first)."""
    out = [
        Contender(
            "l2gd closed_form", "l2gd", _l2gd("closed_form"), applicable=_closed_form_applicable
        ),
        Contender("l2gd gd cg", "l2gd", _gd("cg"), iterative=True),
        Contender("l2gd gd nesterov", "l2gd", _gd("nesterov"), iterative=True),
        Contender("l2gd gd none", "l2gd", _gd("none"), iterative=True),
    ]
    if HAS_SGD:
        out.append(Contender("l2gd sgd", "l2gd", _l2gd("sgd"), iterative=True, stochastic=True))
    for solver in ("auto", "cholesky", "svd", "lsqr", "sparse_cg", "sag", "saga"):
        out.append(
            Contender(
                f"Ridge {solver}",
                "sklearn",
                _ridge(solver),
                iterative=solver in ("lsqr", "sparse_cg", "sag", "saga"),
                applicable=_ridge_applicable(solver),
            )
        )
    out.append(
        Contender(
            "SGDRegressor",
            "sklearn",
            _sgdregressor,
            iterative=True,
            applicable=_sgdregressor_applicable,
            stochastic=True,
        )
    )
    out.extend(_peers())
    out.append(
        Contender(
            "bare syrk+cholesky",
            "baseline",
            lambda problem, tol=None, max_iter=None: BareGramCholesky(problem.alpha),
            applicable=_dense_tall_only,
        )
    )
    out.append(
        Contender(
            "bare blocked syrk+cholesky",
            "baseline",
            lambda problem, tol=None, max_iter=None: BareBlockedGramCholesky(problem.alpha),
            applicable=_dense_tall_only,
        )
    )
    return out


def notes():
    """What is missing from this run and why."""
    out = []
    if not HAS_SGD:
        out.append(
            "l2gd 'sgd' solver not in l2gd.solvers.SOLVERS yet: sgd rows and targets skipped."
        )
    if not HAS_CV:
        out.append(
            "l2gd.GDRidgeCV not available yet: CV problem runs RidgeCV and GridSearchCV only."
        )
    elif not hasattr(l2gd, "GDRidgeCV"):
        out.append("GDRidgeCV imported from l2gd._cv (not yet exported from l2gd).")
    for name, version in (("glum", GLUM_VERSION), ("himalaya", HIMALAYA_VERSION)):
        if version is None:
            out.append(f"{name} is not installed (pip install '.[bench]'): not a contender.")
    return out
