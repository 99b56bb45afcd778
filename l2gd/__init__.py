"""l2gd: scikit-learn's Ridge objective, solved exactly, by gradient descent or by SGD."""

from . import plot, schedules
from ._cv import AlphaBoundaryWarning, GDRidgeCV, alpha_grid, ridge_path
from ._inference import (
    AlphaEstimates,
    RidgeInference,
    alpha_estimates,
    alpha_for_dof,
    effective_dof,
)
from ._objective import RidgeProblem
from ._ridge import GDRidgeRegressor
from ._stats import RidgeStats

__version__ = "0.1.0.dev0"

__all__ = [
    "AlphaBoundaryWarning",
    "AlphaEstimates",
    "GDRidgeCV",
    "GDRidgeRegressor",
    "RidgeInference",
    "RidgeProblem",
    "RidgeStats",
    "__version__",
    "alpha_estimates",
    "alpha_for_dof",
    "alpha_grid",
    "effective_dof",
    "ridge_path",
    "plot",
    "schedules",
]
