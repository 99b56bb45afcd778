"""The solver registry: the only "auto", capabilities that agree with methods,
and one capability check whose message names the remedy."""

import numpy as np
import pytest
import scipy.sparse as sp

from l2gd import GDRidgeRegressor
from l2gd.solvers import SOLVERS, ClosedForm, Solver, SolveResult
from l2gd.solvers import _registry


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_capability_flags_agree_with_methods(name):
    solver = SOLVERS[name]()
    can = _registry.capabilities(solver)
    assert can["partial_fit"] == callable(getattr(solver, "partial_solve", None))
    assert can["path"] == callable(getattr(solver, "solve_path", None))
    # The old flag, where a solver still carries it, must tell the truth.
    if hasattr(solver, "supports_partial_fit"):
        assert solver.supports_partial_fit == can["partial_fit"]


def test_every_registered_solver_but_gd_streams():
    assert sorted(n for n, c in SOLVERS.items() if _registry.streams(c())) == [
        "closed_form",
        "sgd",
    ]


@pytest.mark.parametrize(
    "task, shape, sparse, expected",
    [
        ("fit", (10_000, 100), False, "closed_form"),
        ("fit", (100, 10_000), False, "closed_form"),
        ("fit", (6000, 6000), False, "gd"),
        ("fit", (10_000, 2001), True, "gd"),
        ("fit", (10_000, 2000), True, "closed_form"),
        ("stream", (10, 5000), False, "closed_form"),
        ("stream", (10, 5001), False, "sgd"),
        ("stream", (10, 2001), True, "sgd"),
        ("dask", (0, 5001), False, "gd"),
    ],
)
def test_auto_rule_table(task, shape, sparse, expected):
    assert _registry.auto_solver(task, *shape, sparse=sparse) == expected


def test_resolve_clones_a_user_solver():
    user = ClosedForm(method="svd")
    obj, name = _registry.resolve(user)
    assert obj is not user and obj.method == "svd" and name == "closed_form"


class _DenseOnly(Solver):
    supports_sparse = False

    def solve(self, problem, **kwargs):
        W = np.zeros((problem.n_features, problem.n_targets))
        return SolveResult(coef=W, intercept=problem.intercept(W), n_iter=1, converged=True)


def test_capability_errors_name_the_solvers_that_can():
    X = sp.random(20, 3, density=0.5, format="csr", random_state=0)
    with pytest.raises(ValueError, match=r"does not support sparse X; use solver='closed_form'"):
        GDRidgeRegressor(solver=_DenseOnly()).fit(X, np.ones(20))
    with pytest.raises(ValueError, match=r"use solver='closed_form' or 'sgd'"):
        GDRidgeRegressor(solver="gd").partial_fit(np.ones((4, 2)), np.ones(4))
