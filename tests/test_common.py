"""scikit-learn's estimator checks, one estimator per solver configuration."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from l2gd import GDRidgeRegressor
from l2gd.solvers import ClosedForm, GradientDescent

ESTIMATORS = [
    GDRidgeRegressor(),
    GDRidgeRegressor(solver="closed_form"),
    GDRidgeRegressor(solver=ClosedForm(method="svd")),
    # Tight tolerance: the sample-weight equivalence checks compare predictions
    # to rtol=1e-7, which a deterministic solver must meet.
    GDRidgeRegressor(solver="gd", tol=1e-12, max_iter=10_000),
    GDRidgeRegressor(solver=GradientDescent(acceleration="nesterov"), tol=1e-12, max_iter=50_000),
    GDRidgeRegressor(solver="gd", fit_intercept=False, tol=1e-12, max_iter=10_000),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
