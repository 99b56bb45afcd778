"""The solver registry: names, the only definition of ``"auto"``, capabilities.

Every estimator and function that takes a ``solver`` argument resolves it
here, so a string and a user-written :class:`~l2gd.solvers.Solver` object go
through the same checks, and ``"auto"`` means one documented rule table.

Capabilities are derived from what a solver *has*, never declared twice: a
solver streams (``partial_fit``) because it defines ``partial_solve``; the
flags ``supports_sparse``, ``supports_array_api``, ``supports_positive`` and
``stochastic`` are its own attributes. :func:`check_capabilities` raises, once and up front, an
error that names the solvers that can do what was asked.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.base import clone

from ._closed_form import ClosedForm
from ._gd import GradientDescent
from ._sgd import SGD

#: Registry: solver name -> solver class. Parameter validation derives the
#: allowed values of ``solver`` from it.
SOLVERS = {cls.name: cls for cls in (ClosedForm, GradientDescent, SGD)}

#: ``"auto"`` solves in closed form when the matrix it forms is small: the
#: Gram (or kernel) of dense X, the ``n_features x n_features`` Gram of sparse
#: X, the ``O(n_features**2)`` statistics of a stream or a dask array. These
#: are its limits, derived from ``benchmarks/bench_auto.py`` (the measurements
#: are in ``benchmarks/RESULTS.md``, "solver='auto'"):
#:
#: - ``GRAM_MAX_DIM`` (dense X, streams, dask): one fit by gd beats the closed
#:   form from ``d`` about 1000 on well-conditioned designs but, on correlated
#:   ones (hundreds of gd iterations), only from about 5000 at 2 threads and
#:   later at one; 5000 also bounds the Gram at 200 MB. A stream has no
#:   cheaper exact alternative (one pass of SGD ends about 70% from the
#:   solution), so sparse and dense streams share it.
#: - ``SPARSE_FIT_MAX_FEATURES`` (one fit on sparse X): gd's products cost the
#:   non-zeros, the closed form a dense ``p x p`` factor; gd is faster from a
#:   few hundred features on every measured design (2-3x at 500, 10-20x at
#:   2000).
#: - ``SPARSE_PATH_MAX_FEATURES`` (``ridge_path``, ``GDRidgeCV`` on sparse X):
#:   one factorization serves every alpha, gd pays per alpha, so the closed
#:   form stays faster up to about 1100 (``ridge_path``, 30 alphas) and 1800
#:   features (5-fold CV); 1000 keeps the cost of the wrong choice under 1.4x.
GRAM_MAX_DIM = 5000
SPARSE_FIT_MAX_FEATURES = 500
SPARSE_PATH_MAX_FEATURES = 1000


@dataclass(frozen=True)
class AutoRule:
    """One row of the ``"auto"`` table: for ``task``, ``small`` is chosen when
    the matrix the closed form would form is small, else ``large``."""

    task: str
    small: str
    large: str
    description: str


#: The only definition of ``solver="auto"``.
AUTO_RULES = {
    rule.task: rule
    for rule in (
        AutoRule(
            "fit",
            "closed_form",
            "gd",
            f"dense X: min(n_samples, n_features) <= {GRAM_MAX_DIM}; "
            f"sparse X: n_features <= {SPARSE_FIT_MAX_FEATURES}",
        ),
        AutoRule(
            "path",
            "closed_form",
            "gd",
            f"ridge_path, GDRidgeCV: dense X: min(n_samples, n_features) <= {GRAM_MAX_DIM}; "
            f"sparse X: n_features <= {SPARSE_PATH_MAX_FEATURES}",
        ),
        AutoRule("stream", "closed_form", "sgd", f"n_features <= {GRAM_MAX_DIM}"),
        AutoRule("dask", "closed_form", "gd", f"n_features <= {GRAM_MAX_DIM}"),
    )
}


def gram_limit(task, sparse=False):
    """The largest side of the matrix ``"auto"`` still solves in closed form
    for ``task`` (see :data:`AUTO_RULES`)."""
    if sparse and task == "fit":
        return SPARSE_FIT_MAX_FEATURES
    if sparse and task == "path":
        return SPARSE_PATH_MAX_FEATURES
    return GRAM_MAX_DIM


def _gram_side(task, n_samples, n_features, sparse):
    if task in ("fit", "path") and not sparse:
        return min(n_samples, n_features)
    return n_features


def auto_solver(task, n_samples, n_features, *, sparse=False, positive=False):
    """The solver name ``solver="auto"`` chooses (see :data:`AUTO_RULES`).

    With ``positive=True`` (coefficients ``>= 0``) the choice must support
    bounds (``supports_positive``): when the rule's choice does not (``"sgd"``
    for large streams), the rule's other solver is chosen (``"closed_form"``:
    exact streaming from ``O(n_features**2)`` statistics).

    Parameters
    ----------
    task : {"fit", "path", "stream", "dask"}
        ``"fit"`` (one alpha), ``"path"`` (``ridge_path`` and ``GDRidgeCV``:
        many alphas), ``"stream"`` (``partial_fit``) or ``"dask"`` (dask
        arrays).
    n_samples, n_features : int
        Shape of X (``n_samples`` is not used by "stream" and "dask").
    sparse : bool, default=False
        Whether X is a SciPy sparse matrix.
    positive : bool, default=False
        Whether the coefficients are constrained to be non-negative.

    Returns
    -------
    name : str
        A key of :data:`SOLVERS`.
    """
    rule = AUTO_RULES[task]
    small = _gram_side(task, n_samples, n_features, sparse) <= gram_limit(task, sparse)
    name, other = (rule.small, rule.large) if small else (rule.large, rule.small)
    if positive and not _supports_positive(SOLVERS[name]()):
        return other
    return name


def resolve(solver, *, task="fit", shape=(0, 0), sparse=False, positive=False):
    """A fresh solver object and its name for the ``solver`` argument.

    Strings are looked up in :data:`SOLVERS` (``"auto"`` through
    :func:`auto_solver` with X's ``shape`` and ``positive``); a solver object
    is cloned, so the user's own object is never changed.

    Returns
    -------
    solver : Solver
    name : str
        The registry name, or the class name of an unregistered solver.
    """
    if isinstance(solver, str):
        name = (
            auto_solver(task, *shape, sparse=sparse, positive=positive)
            if solver == "auto" else solver
        )
        return SOLVERS[name](), name
    obj = clone(solver)
    return obj, getattr(obj, "name", None) or type(obj).__name__


def streams(solver):
    """Whether ``solver`` supports ``partial_fit``: it defines ``partial_solve``."""
    return callable(getattr(solver, "partial_solve", None))


def _supports_positive(solver):
    return bool(getattr(solver, "supports_positive", False))


def _able(capability):
    return sorted(name for name, cls in SOLVERS.items() if capability(cls()))


def check_capabilities(
    solver, name, *, sparse=False, namespace=None, stream=False, positive=False
):
    """Raise a ``ValueError`` naming the solvers that can, when ``solver`` cannot
    handle sparse X, X of a non-NumPy Array API ``namespace`` (its name),
    streaming, or non-negative coefficients (``positive``)."""
    if positive and not _supports_positive(solver):
        raise ValueError(
            f"solver {name!r} does not support positive=True (coefficients >= 0); use solver="
            + " or ".join(repr(n) for n in _able(_supports_positive))
            + ", or positive=False."
        )
    if sparse and not getattr(solver, "supports_sparse", True):
        raise ValueError(
            f"solver {name!r} does not support sparse X; use solver="
            + " or ".join(repr(n) for n in _able(lambda s: s.supports_sparse))
            + ", or pass X.toarray()."
        )
    if namespace is not None and not getattr(solver, "supports_array_api", False):
        raise ValueError(
            f"solver {name!r} runs on NumPy and SciPy inputs only; for {namespace} arrays "
            "use solver="
            + " or ".join(repr(n) for n in _able(lambda s: s.supports_array_api))
            + ", or turn array_api_dispatch off."
        )
    if stream and not streams(solver):
        raise ValueError(
            f"solver {name!r} does not support partial_fit; use solver="
            + " or ".join(repr(n) for n in _able(streams))
            + " (the solvers that stream), or fit."
        )


def capabilities(solver):
    """What ``solver`` can do, as a dict of booleans (the basis of the estimators'
    scikit-learn tags)."""
    return {
        "sparse": bool(getattr(solver, "supports_sparse", True)),
        "array_api": bool(getattr(solver, "supports_array_api", False)),
        "stochastic": bool(getattr(solver, "stochastic", False)),
        "positive": _supports_positive(solver),
        "partial_fit": streams(solver),
        "path": callable(getattr(solver, "solve_path", None)),
    }


def seed(random_state):
    """The int seed a solver receives, drawn once from ``random_state`` (the one
    place estimators turn a ``random_state`` into a solver's seed)."""
    from sklearn.utils import check_random_state

    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
