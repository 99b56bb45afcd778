"""Data sources: the one seam between the estimators and where the rows live.

An estimator's ``fit`` asks a source for the problem its solver needs and never
looks at the engine behind it. Each source offers:

=============================  ==============================================
``problem(alpha, solver)``     the quadratic problem (``l2gd._objective``) the
                               solver declares it needs (``solver.needs_gram``)
``stream(model, solver)``      stochastic solvers: ``model.partial_fit`` over
                               the rows, epoch after epoch
``n_features``, ``y_ndim``     what the fitted attributes need
=============================  ==============================================

:class:`DaskSource` is the only source with an engine behind it
(:mod:`l2gd._dask`: chunk kernels, tree reductions, TSQR, the persist policy).
Its problems are :class:`~l2gd._objective.GramProblem` objects: the statistics
of all rows from one pass (``p x p``), or, for gradient descent on data too wide
for that, one pass per Hessian product. The problem also carries TSQR as its
``orthogonal_solve``, so :class:`~l2gd.solvers.ClosedForm` decides once, for
every engine, when the Gram route is not accurate enough (refinement from the
rows in memory, the orthogonal solve without rows). In-memory arrays (NumPy,
SciPy sparse, any Array API namespace) are validated and rescaled by the
estimator, which builds a :class:`~l2gd.RidgeProblem` on them directly.
Adding a Ray or Spark source means one more class here with these methods.
"""

import copy
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import _dask
from ._objective import GramProblem, RidgeProblem
from .solvers import _registry

#: Passes over the row chunks for stochastic solvers on dask when ``max_iter``
#: is None.
DASK_DEFAULT_EPOCHS = 5


class DaskSource:
    """Rows in dask arrays chunked by rows (one chunk of columns).

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
    y : dask or numpy array of shape (n_samples,) or (n_samples, n_targets)
    sample_weight : dask or numpy array of shape (n_samples,) or None
    fit_intercept : bool

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from l2gd._sources import DaskSource
    >>> from l2gd.solvers import ClosedForm
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((100, 3)), rng.standard_normal(100)
    >>> source = DaskSource(da.from_array(X, chunks=25), da.from_array(y, chunks=25),
    ...                     None, fit_intercept=True)
    >>> problem = source.problem(np.ones(1), ClosedForm())
    >>> problem.n_samples, problem.n_features
    (100, 3)
    """

    task = "dask"

    def __init__(self, X, y, sample_weight, fit_intercept):
        self.X, self.Y, self.sample_weight = _dask._check_inputs(X, y, sample_weight)
        self.fit_intercept = fit_intercept
        self.y_ndim = self.Y.ndim

    @property
    def n_features(self):
        return self.X.shape[1]

    @property
    def n_targets(self):
        return 1 if self.y_ndim == 1 else self.Y.shape[1]

    @property
    def dtype(self):
        return self.X.dtype

    def streams(self, solver):
        """Whether ``solver`` trains by :meth:`stream` (``partial_fit`` over the
        chunks) rather than on :meth:`problem`: stochastic solvers, except SGD's
        variance-reduced default without early stopping on data small enough for
        the ``p x p`` statistics (:func:`_gram_fits`), whose snapshots and row
        chunks the problem provides."""
        if not solver.stochastic:
            return False
        chunked = (
            getattr(solver, "method", None) == "svrg"
            and not getattr(solver, "early_stopping", False)
            and self._gram_fits()
        )
        return not chunked and solver.supports_partial_fit

    def _gram_fits(self):
        """Whether every solver works on the one-pass ``p x p`` statistics (up
        to the size where ``"auto"`` stops choosing the closed form on dask),
        rather than one pass over the chunks per Hessian product."""
        return self.n_features <= _registry.gram_limit(self.task)

    def problem(self, alpha, solver):
        """The :class:`~l2gd._objective.GramProblem` ``solver`` needs, with TSQR
        (one more pass) as its orthogonal solve; for a stochastic solver also
        its snapshots (``snapshot(W)``: objective per target and ``X_c^T S r -
        alpha W``, one exact pass), the row chunks centered at the data's means
        (``row_chunks(rng)``) and ``max_row_norm`` (one pass)."""
        X, Y, sw, fi = self.X, self.Y, self.sample_weight, self.fit_intercept
        if getattr(solver, "needs_gram", False) or self._gram_fits():
            stats = _dask.compute_stats(X, Y, sw, fit_intercept=fi)
            problem = GramProblem(stats, alpha)
            problem.orthogonal_solve = lambda: _dask.tsqr_solve(
                X, Y, sw, problem.alpha, fi, shift=(stats.x_mean, stats.y_mean)
            )
            if solver.stochastic:
                self._add_rows(problem)
            return problem
        X, sw = _dask.maybe_persist(X, sw)
        cross, matvec = _dask.gram_operator(X, Y, sw, fi)
        return GramProblem(cross, alpha, gram_matvec=matvec, gram_diagonal=cross.xdiag)

    def _add_rows(self, problem):
        X, Y, sw = self.X, self.Y, self.sample_weight
        x_mean, y_mean = problem.X_offset, problem.y_offset

        def snapshot(W):
            rss, XtSR = _dask.residual_pass(X, Y, sw, W, x_mean, y_mean)
            alpha = problem.alpha
            return rss + alpha * np.einsum("pk,pk->k", W, W), XtSR - alpha * W

        def row_chunks(rng):
            for Xb, Yb, swb in _dask.row_chunks(X, Y, sw, rng.permutation(X.numblocks[0])):
                yield RidgeProblem(
                    Xb, Yb.reshape(Yb.shape[0], -1), problem.alpha, sample_weight=swb,
                    fit_intercept=problem.fit_intercept, X_offset=x_mean, y_offset=y_mean,
                )

        problem.snapshot, problem.row_chunks = snapshot, row_chunks
        problem.max_row_norm = _dask.max_row_norm(X, sw, x_mean)

    def stream(self, model, solver, *, max_iter=None, seed=0):
        """``model.partial_fit`` over the row chunks in a shuffled order, epoch
        after epoch, each update a task next to its chunk (the model moves, the
        data stays); returns the trained model. This is plain SGD whatever the
        solver's ``method``: a ``ConvergenceWarning`` says so for the
        variance-reduced default, whose certificate needs the rows in memory."""
        if not callable(getattr(model, "partial_fit", None)):
            raise ValueError(
                f"solver {type(solver).__name__} on dask arrays needs "
                f"{type(model).__name__}.partial_fit, which this version does not have; "
                "use solver='closed_form' or 'gd'."
            )
        n_epochs = DASK_DEFAULT_EPOCHS if max_iter is None else max_iter
        model = _dask.partial_fit_epochs(
            model, self.X, self.Y, self.sample_weight, n_epochs, np.random.default_rng(seed)
        )
        if getattr(solver, "method", "plain") != "plain":
            # The variance-reduced default certifies tol in memory; on chunks it
            # is not available, and saying nothing would pass the noise ball of
            # plain SGD off as the exact solution.
            warnings.warn(
                f"{type(solver).__name__}(method={solver.method!r}) on dask arrays runs "
                f"plain SGD ({n_epochs} passes of partial_fit over the row chunks): the "
                "coefficients approach Ridge's solution but are not certified to tol. "
                "For the exact solution use solver='closed_form' or 'gd' (one pass over "
                "the chunks for up to "
                f"{_registry.gram_limit(self.task)} features), or SGD(method='plain') to "
                "silence this warning.",
                ConvergenceWarning,
                stacklevel=4,
            )
        return model


def warm_model(estimator, fresh):
    """The model a stream starts from: a copy of ``estimator`` when it warm-starts
    from its own fit, else ``fresh`` (an unfitted clone)."""
    if estimator.warm_start and hasattr(estimator, "coef_"):
        return copy.deepcopy(estimator)
    return fresh
