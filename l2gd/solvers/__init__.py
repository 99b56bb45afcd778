"""Solvers for the ridge problem and the registry that names them.

Every solver implements ``solve(problem, *, init, tol, max_iter,
random_state, verbose) -> SolveResult`` (see :class:`Solver`). The estimator
resolves a string ``solver`` through :data:`SOLVERS` (``l2gd.solvers._registry``,
which also holds the only definition of ``"auto"`` and the capability checks)
and never branches on solver names; a user-written :class:`Solver` subclass
works the same way as a built-in one.
"""

from ._base import IterativeSolver, PathResult, Solver, SolveResult
from ._closed_form import ClosedForm
from ._gd import GradientDescent
from ._registry import SOLVERS
from ._sgd import SGD, SGDState

__all__ = [
    "SOLVERS",
    "ClosedForm",
    "GradientDescent",
    "IterativeSolver",
    "PathResult",
    "SGD",
    "SGDState",
    "SolveResult",
    "Solver",
]
