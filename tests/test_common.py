"""scikit-learn's estimator checks, one estimator per solver configuration."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from l2gd import GDRidgeCV, GDRidgeRegressor
from l2gd.solvers import SGD, ClosedForm, GradientDescent

ESTIMATORS = [
    GDRidgeRegressor(),
    GDRidgeRegressor(solver="closed_form"),
    GDRidgeRegressor(solver=ClosedForm(method="svd")),
    # Tight tolerance: the sample-weight equivalence checks compare predictions
    # to rtol=1e-7, which a deterministic solver must meet.
    GDRidgeRegressor(solver="gd", tol=1e-12, max_iter=10_000),
    GDRidgeRegressor(solver=GradientDescent(acceleration="nesterov"), tol=1e-12, max_iter=50_000),
    GDRidgeRegressor(solver="gd", fit_intercept=False, tol=1e-12, max_iter=10_000),
    # Default SGD: the checks' data sets are smaller than one batch, so this
    # runs full batches and passes every check, weights included.
    GDRidgeRegressor(solver="sgd", random_state=0),
    # Truly stochastic configurations (several batches per epoch). The
    # variance-reduced default converges to the exact weighted solution, so at
    # a tight tol it passes the sample-weight checks too.
    GDRidgeRegressor(solver=SGD(batch_size=4), tol=1e-10, max_iter=10_000, random_state=0),
    GDRidgeRegressor(solver=SGD(method="plain", batch_size=4), random_state=0),
    GDRidgeRegressor(
        solver=SGD(batch_size=3, average=True, early_stopping=True),
        fit_intercept=False,
        random_state=0,
    ),
    # positive=True (coefficients >= 0): each solver that supports bounds, and
    # K-fold cross-validation with the bound in every fold.
    GDRidgeRegressor(positive=True),
    GDRidgeRegressor(positive=True, fit_intercept=False),
    GDRidgeRegressor(positive=True, solver="gd", tol=1e-12, max_iter=10_000),
    GDRidgeCV(positive=True, cv=3, alphas=[0.1, 1.0, 10.0]),
    # penalty_factor: the checks' data sets vary n_features, so the factors are
    # given by column index (the others stay 1). Column 0 unpenalized (it is
    # eliminated with the intercept), or penalized twice as much.
    GDRidgeRegressor(penalty_factor={0: 0.0}),
    GDRidgeRegressor(penalty_factor={0: 2.0}, solver="gd", tol=1e-12, max_iter=10_000),
    GDRidgeRegressor(penalty_factor={0: 0.0}, solver="sgd", random_state=0),
    GDRidgeCV(penalty_factor={0: 0.0}, cv=3, alphas=[0.1, 1.0, 10.0]),
    GDRidgeCV(penalty_factor={0: 2.0}),
]

_STOCHASTIC_REASON = (
    "plain mini-batch SGD honours sample_weight in expectation only: a row of weight k is "
    "one step where k repeated rows are k steps, so the iterates differ by SGD noise, far "
    "above the check's rtol=1e-7; early stopping holds out other rows when rows are "
    "repeated than when they are weighted"
)


def expected_failed_checks(estimator):
    solver = estimator.solver
    noisy = isinstance(solver, SGD) and (solver.method == "plain" or solver.early_stopping)
    if noisy and solver.batch_size < 10:
        return {
            "check_sample_weight_equivalence_on_dense_data": _STOCHASTIC_REASON,
            "check_sample_weight_equivalence_on_sparse_data": _STOCHASTIC_REASON,
        }
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
