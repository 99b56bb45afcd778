"""The solver registry: the only "auto", capabilities that agree with methods,
and one capability check whose message names the remedy."""

import numpy as np
import pytest
import scipy.sparse as sp

from l2gd import GDRidgeCV, GDRidgeRegressor, ridge_path
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
        # one fit on sparse X: gd from a few hundred features (bench_auto.py)
        ("fit", (10_000, 501), True, "gd"),
        ("fit", (10_000, 500), True, "closed_form"),
        # many alphas: one factorization serves them all
        ("path", (10_000, 1001), True, "gd"),
        ("path", (10_000, 1000), True, "closed_form"),
        ("path", (100, 10_000), False, "closed_form"),
        ("path", (6000, 6000), False, "gd"),
        ("stream", (10, 5000), False, "closed_form"),
        ("stream", (10, 5001), False, "sgd"),
        # a stream has no cheaper exact alternative, sparse or not
        ("stream", (10, 5000), True, "closed_form"),
        ("stream", (10, 5001), True, "sgd"),
        ("dask", (0, 5000), False, "closed_form"),
        ("dask", (0, 5001), False, "gd"),
    ],
)
def test_auto_rule_table(task, shape, sparse, expected):
    assert _registry.auto_solver(task, *shape, sparse=sparse) == expected


def test_auto_descriptions_state_the_limits_used():
    # The table users read (docs, README) and the rule applied cannot drift:
    # each description names the limits auto_solver compares against.
    for task, rule in _registry.AUTO_RULES.items():
        for sparse in (False, True):
            assert f"<= {_registry.gram_limit(task, sparse)}" in rule.description


@pytest.mark.parametrize("cv", [None, 3])
def test_one_fit_and_many_alphas_follow_their_own_rows(monkeypatch, cv):
    # 600 sparse features: one fit by gd; ridge_path and GDRidgeCV, which solve
    # for many alphas, by the "path" row (closed form), the refit by "fit".
    asked = []
    rule = _registry.auto_solver

    def spy(task, *args, **kwargs):
        name = rule(task, *args, **kwargs)
        asked.append((task, name))
        return name

    monkeypatch.setattr(_registry, "auto_solver", spy)
    rng = np.random.default_rng(0)
    X = sp.random(300, 600, density=0.05, format="csr", random_state=0)
    y = rng.standard_normal(300)
    assert GDRidgeRegressor().fit(X, y).solver_ == "gd"
    assert asked == [("fit", "gd")]
    asked.clear()
    ridge_path(X, y, alphas=5)
    assert asked == [("path", "closed_form")]
    asked.clear()
    assert GDRidgeCV(alphas=[0.1, 1.0, 10.0], cv=cv).fit(X, y).solver_ == "gd"
    assert ("path", "closed_form") in asked and asked[-1] == ("fit", "gd")
    assert {task for task, _ in asked} == {"path", "fit"}


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
