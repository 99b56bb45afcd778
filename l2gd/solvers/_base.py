"""The solver interface, its result type and the shared iteration loop.

A solver is a small object with one job::

    result = solver.solve(problem, init=None, tol=None, max_iter=None,
                          random_state=None, verbose=0)

where ``problem`` is a :class:`l2gd.RidgeProblem` and ``result`` a
:class:`SolveResult`. Solvers are scikit-learn estimators in the narrow sense
(:class:`~sklearn.base.BaseEstimator`), so their options are reachable as
``solver__learning_rate`` by :class:`~sklearn.model_selection.GridSearchCV`,
and they clone and pickle.

Capabilities are class attributes, checked once by the estimator before any
work: ``supports_sparse``, ``supports_partial_fit``, ``supports_array_api``
(runs on any Array API namespace and device), ``stochastic``.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning


@dataclass(frozen=True)
class SolveResult:
    """What a solver returns.

    Parameters
    ----------
    coef : ndarray of shape (n_features, n_targets)
        Coefficients.
    intercept : ndarray of shape (n_targets,)
        Intercepts (zeros without intercept).
    n_iter : int
        Iterations run (passes over the data for stochastic solvers, 1 for
        the closed form).
    converged : bool
        Whether the stopping test was met.
    history : tuple of float
        Ridge objective (summed over targets) after each iteration.
    info : dict
        Solver-specific details, e.g. ``{"method": "cholesky"}``.
    """

    coef: np.ndarray
    intercept: np.ndarray
    n_iter: int
    converged: bool
    history: tuple = ()
    info: dict = field(default_factory=dict)


class Solver(BaseEstimator):
    """Base class of l2gd solvers.

    Subclasses implement :meth:`solve` and set the capability attributes.
    ``name`` is the string the registry knows the solver by (``None`` for
    user-written solvers that are not registered).
    """

    name = None
    supports_sparse = True

    @property
    def supports_partial_fit(self):
        """Whether the solver streams: derived from having ``partial_solve``."""
        return callable(getattr(self, "partial_solve", None))

    supports_array_api = False
    stochastic = False

    def default_tol(self, dtype, xp=np):
        """Tolerance used when the estimator's ``tol`` is None (for ``dtype`` of ``xp``)."""
        return None

    default_max_iter = None

    def solve(self, problem, *, init=None, tol=None, max_iter=None, random_state=None, verbose=0):
        """Minimize the ridge objective of ``problem``; return a :class:`SolveResult`."""
        raise NotImplementedError


class IterativeSolver(Solver):
    """Solver whose iterations share one loop.

    Order of calls in :meth:`solve`:

    1. ``state = self._init_state(problem, W0, rng)``
    2. repeat up to ``max_iter`` times:
       ``self._step(problem, state)`` updates ``state`` in place;
       the loop checks that ``state.value`` (objective per target) is finite and
       has not grown past ``divergence_factor`` times its start, else raises
       the ``ValueError`` built by ``self._divergence_message``; appends the
       objective to the history; stops when ``state.criterion <= tol``.
    3. ``ConvergenceWarning`` when ``max_iter`` is reached first.
    4. ``self._finish(problem, state)`` returns the coefficients.

    ``state`` is any object with attributes ``value`` (ndarray (n_targets,))
    and ``criterion`` (float), set by ``_init_state`` and ``_step``. Optional
    attributes (absent means the default): ``certified`` (default True): the
    criterion was measured at the current iterate, so ``criterion <= tol`` may
    stop the loop (False: it is a cheap estimate that does not stop it);
    ``stalled`` (default False): the solver can do no better (e.g. rounding),
    stop now without claiming convergence.

    Optional hooks: ``self._conclude(problem, state, tol, converged)`` runs
    after the loop and returns the final ``converged`` (e.g. after choosing
    the best iterate); ``self._not_converged_message(state, tol, max_iter)``
    words the ``ConvergenceWarning``. An objective that is not finite at the
    starting point (data too large for the dtype) is a ``ValueError``, never
    a history of NaN.
    """

    divergence_factor = 1e3

    def solve(self, problem, *, init=None, tol=None, max_iter=None, random_state=None, verbose=0):
        tol = self.default_tol(problem.dtype, problem.xp) if tol is None else tol
        max_iter = self.default_max_iter if max_iter is None else max_iter
        xp = problem.xp
        shape = (problem.n_features, problem.n_targets)
        if init is None:
            W0 = xp.zeros(shape, dtype=problem.dtype, device=problem.device)
        else:
            W0 = xp.asarray(init, dtype=problem.dtype, device=problem.device, copy=True)
        rng = np.random.default_rng(random_state)
        state = self._init_state(problem, W0, rng)
        start = float(xp.sum(state.value))
        if not np.isfinite(start):
            raise ValueError(self._overflow_message(problem))
        start = max(start, float(xp.finfo(problem.dtype).smallest_normal))
        history = []
        converged = self._stop_test(state, tol)
        n_iter = 0
        while not converged and n_iter < max_iter and not getattr(state, "stalled", False):
            self._step(problem, state)
            n_iter += 1
            total = float(xp.sum(state.value))
            if not np.isfinite(total) or total > self.divergence_factor * start:
                raise ValueError(self._divergence_message(problem, state))
            history.append(total)
            converged = self._stop_test(state, tol)
            if verbose:
                print(
                    f"[{type(self).__name__}] iter {n_iter:5d}  objective {total:.8e}  "
                    f"criterion {state.criterion:.3e}  (tol {tol:.1e})"
                )
        converged = self._conclude(problem, state, tol, converged)
        if not converged:
            warnings.warn(
                self._not_converged_message(state, tol, max_iter), ConvergenceWarning, stacklevel=3
            )
        coef, intercept = self._finish(problem, state)
        return SolveResult(
            coef=coef,
            intercept=intercept,
            n_iter=n_iter,
            converged=bool(converged),
            history=tuple(history),
            info=self._info(state),
        )

    @staticmethod
    def _stop_test(state, tol):
        return bool(state.criterion <= tol) and getattr(state, "certified", True)

    def _conclude(self, problem, state, tol, converged):
        return converged

    def _not_converged_message(self, state, tol, max_iter):
        return (
            f"{type(self).__name__} did not converge in max_iter={max_iter} iterations "
            f"(stopping criterion {state.criterion:.3e} > tol={tol:.1e}). "
            "Increase max_iter or tol."
        )

    def _overflow_message(self, problem):
        return (
            f"{type(self).__name__}: the ridge objective at the starting point is not finite in "
            f"{problem.dtype} (the magnitudes of X or y are too large for it); rescale X and y "
            "(by powers of two, which is exact) before solving."
        )

    def _info(self, state):
        return {}

    def _divergence_message(self, problem, state):
        return f"{type(self).__name__} diverged: the objective became non-finite or exploded."
