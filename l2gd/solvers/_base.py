"""The solver interface, its result type and the shared iteration loop.

A solver is a small object with one job::

    result = solver.solve(problem, init=None, tol=None, max_iter=None,
                          random_state=None, verbose=0)

where ``problem`` is a :class:`l2gd.RidgeProblem` and ``result`` a
:class:`SolveResult`; and a whole regularization path::

    path = solver.solve_path(problem, alphas, tol=None, max_iter=None,
                             random_state=None, verbose=0)

a :class:`PathResult` (by default warm-started solves from the largest to the
smallest alpha; :class:`~l2gd.solvers.ClosedForm` overrides it with the
spectral path). Solvers are scikit-learn estimators in the narrow sense
(:class:`~sklearn.base.BaseEstimator`), so their options are reachable as
``solver__learning_rate`` by :class:`~sklearn.model_selection.GridSearchCV`,
and they clone and pickle.

Capabilities are class attributes, checked once by the estimator before any
work: ``supports_sparse``, ``supports_partial_fit``, ``supports_array_api``
(runs on any Array API namespace and device), ``stochastic``,
``supports_positive`` (accepts ``positive=True`` in :meth:`Solver.solve` and
:meth:`Solver.solve_path`: coefficients constrained to ``>= 0``, the
intercept free; a solver without it is never passed ``positive``).
"""

import copy
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning

from .. import _callbacks
from .._array_api import to_numpy


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


@dataclass(frozen=True)
class PathResult:
    """What :meth:`Solver.solve_path` returns: solutions along a grid of alphas.

    Parameters
    ----------
    coefs : ndarray of shape (n_alphas, n_features, n_targets)
        Coefficients, one slice per alpha, in the order of the alphas given.
    intercepts : ndarray of shape (n_alphas, n_targets)
        Intercepts (zeros without intercept).
    n_iter : ndarray of int of shape (n_alphas,)
        Iterations of each alpha's solve (1 for the closed form).
    converged : ndarray of bool of shape (n_alphas,)
        Whether each alpha's solve met its stopping test.
    info : dict
        Solver-specific details, e.g. ``{"method": "eigh", "n_exact": 0}``.

    Examples
    --------
    >>> import numpy as np
    >>> from l2gd import RidgeProblem
    >>> from l2gd.solvers import ClosedForm
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.standard_normal((30, 3)), rng.standard_normal((30, 1))
    >>> path = ClosedForm().solve_path(RidgeProblem(X, Y, [0.0]), [0.1, 1.0, 10.0])
    >>> path.coefs.shape, bool(path.converged.all())
    ((3, 3, 1), True)
    """

    coefs: np.ndarray
    intercepts: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    info: dict = field(default_factory=dict)


def at_alpha(problem, alpha):
    """``problem`` with the penalty ``alpha`` for every target: its
    ``with_alpha(alpha)`` when it has one (which may share alpha-independent
    work between the copies), else a shallow copy with ``alpha`` replaced."""
    with_alpha = getattr(problem, "with_alpha", None)
    if callable(with_alpha):
        return with_alpha(alpha)
    new = copy.copy(problem)
    new.alpha = problem.xp.asarray(
        np.full(problem.n_targets, alpha), dtype=problem.dtype, device=problem.device
    )
    return new


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
    #: Whether ``solve`` and ``solve_path`` accept ``positive=True`` (``w >= 0``).
    supports_positive = False

    def default_tol(self, dtype, xp=np):
        """Tolerance used when the estimator's ``tol`` is None (for ``dtype`` of ``xp``)."""
        return None

    default_max_iter = None

    #: Whether :meth:`solve_path` starts from the problem's statistics when it
    #: offers them (``problem.stats``), so a caller that has them (a fold's
    #: training rows: the total minus the test fold) should pass them.
    path_uses_stats = False

    #: Whether :meth:`solve` needs the ``p x p`` statistics of the problem (a
    #: data source without rows in memory then computes them in one pass);
    #: otherwise Hessian products suffice.
    needs_gram = False

    def solve(self, problem, *, init=None, tol=None, max_iter=None, random_state=None, verbose=0):
        """Minimize the ridge objective of ``problem``; return a :class:`SolveResult`.

        A solver with ``supports_positive = True`` also accepts
        ``positive=True`` (coefficients ``>= 0``).
        """
        raise NotImplementedError

    def solve_path(
        self, problem, alphas, *, tol=None, max_iter=None, random_state=None, verbose=0,
        positive=False,
    ):
        """Solutions for every alpha of ``alphas`` (in the order given).

        The default is a warm-started path: the alphas are solved from the
        largest to the smallest (from the best conditioned problem to the
        worst), each solve starting from the previous coefficients.
        ``problem.alpha`` is ignored. ``positive=True`` is passed on to
        :meth:`solve` (only then, so a solver without the capability never
        sees it).

        Returns
        -------
        path : PathResult
        """
        alphas = np.asarray(alphas, dtype=np.float64).reshape(-1)
        n_alphas, shape = len(alphas), (problem.n_features, problem.n_targets)
        W = np.empty((n_alphas, *shape), dtype=problem.dtype)
        b = np.zeros((n_alphas, problem.n_targets), dtype=problem.dtype)
        n_iter = np.empty(n_alphas, dtype=int)
        converged = np.empty(n_alphas, dtype=bool)
        init = None
        bound = {"positive": True} if positive else {}
        path_task = _callbacks.current("path")  # a CV fold: one task per alpha
        for i in np.argsort(-alphas, kind="stable"):
            task = None if path_task is None else path_task.subtask("alpha").begin()
            with _callbacks.running(None):
                result = self.solve(
                    at_alpha(problem, alphas[i]), init=init, tol=tol, max_iter=max_iter,
                    random_state=random_state, verbose=verbose, **bound,
                )
            if task is not None:
                task.end()
            init = result.coef
            W[i], n_iter[i], converged[i] = _host(result.coef), result.n_iter, result.converged
            if problem.fit_intercept:
                b[i] = _host(result.intercept)
        return PathResult(W, b, n_iter, converged, {"method": "warm_start"})


def _host(A):
    return np.asarray(to_numpy(A))


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

    With progress callbacks set on the estimator that runs the solve
    (:mod:`l2gd._callbacks`), each pass of step 2 is one callback task (named
    ``"epoch"`` for stochastic solvers, ``"iteration"`` otherwise), ended with
    the coefficients ``_finish`` would return at that point; a callback that
    asks to stop ends the loop (without a ``ConvergenceWarning``).

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
        n_iter, stopped = 0, False
        fit_task = _callbacks.current("solve")  # an estimator's fit: one task per iteration
        while not converged and n_iter < max_iter and not getattr(state, "stalled", False):
            task = None if fit_task is None else fit_task.subtask(self._task_name).begin()
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
            if task is not None and task.end(lambda: self._iterate(problem, state)):
                stopped = True  # a callback asked to stop: no ConvergenceWarning
                break
        converged = self._conclude(problem, state, tol, converged)
        if not converged and not stopped:
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

    @property
    def _task_name(self):
        """The name of one iteration's callback task."""
        return "epoch" if self.stochastic else "iteration"

    def _iterate(self, problem, state):
        """``(coef, intercept)`` as if the loop stopped now (for callbacks):
        ``_finish`` on a copy of the state, which it may change."""
        return self._finish(problem, _callbacks.snapshot(state))

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
