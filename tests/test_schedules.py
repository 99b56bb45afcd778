"""Schedules: exact value sequences, binding to data, plateau feedback, pickling."""

import copy
import dataclasses
import pickle

import numpy as np
import pytest
from sklearn.base import clone

from l2gd.schedules import Adaptive, Constant, InverseScaling, Optimal, Schedule, as_schedule
from l2gd.solvers import SGD


def test_constant_sequence():
    assert [Constant(0.25)(t) for t in range(4)] == [0.25] * 4


def test_inverse_scaling_sequence():
    s = InverseScaling(eta0=2.0, power_t=0.5)
    expected = [2.0 / np.sqrt(t + 1.0) for t in range(5)]
    np.testing.assert_allclose([s(t) for t in range(5)], expected, rtol=1e-15)
    assert InverseScaling(eta0=1.0, power_t=1.0)(3) == 0.25


def test_optimal_sequence_and_binding():
    s = Optimal(strong_convexity=0.5, t0=4.0)
    assert [s(t) for t in range(3)] == [1 / (0.5 * 4), 1 / (0.5 * 5), 1 / (0.5 * 6)]
    bound = Optimal().bind(safe_step=0.1, strong_convexity=2.0)
    assert bound == Optimal(strong_convexity=2.0, t0=5.0)
    # The first step of the bound schedule is the safe step.
    assert bound(0) == pytest.approx(0.1, rel=1e-15)


def test_optimal_needs_strong_convexity():
    with pytest.raises(ValueError, match="alpha > 0"):
        Optimal().bind(safe_step=0.1, strong_convexity=0.0)


def test_adaptive_plateaus_divide_then_stop():
    s = Adaptive(eta0=1.0, divisor=4.0, n_reductions=2)
    steps = []
    while s is not None:
        steps.append(s(123))
        s = s.on_plateau()
    assert steps == [1.0, 0.25, 0.0625]


@pytest.mark.parametrize("schedule", [Constant(), InverseScaling(), Adaptive()])
def test_eta0_none_binds_to_safe_step(schedule):
    with pytest.raises(ValueError, match="bind"):
        schedule(0)
    bound = schedule.bind(safe_step=0.3, strong_convexity=1.0)
    assert bound(0) == 0.3
    # Binding an already bound schedule changes nothing.
    assert bound.bind(safe_step=7.0, strong_convexity=1.0) == bound


def test_non_adaptive_schedules_stop_on_plateau():
    for s in [Constant(0.1), InverseScaling(0.1), Optimal(1.0, 1.0)]:
        assert s.on_plateau() is None


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Constant(-1.0), "Constant.eta0"),
        (lambda: Constant(float("nan")), "Constant.eta0"),
        (lambda: InverseScaling(1.0, power_t=0.0), "power_t"),
        (lambda: Optimal(strong_convexity=-2.0), "strong_convexity"),
        (lambda: Adaptive(divisor=1.0), "divisor"),
        (lambda: Adaptive(n_reductions=-1), "n_reductions"),
    ],
)
def test_invalid_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_as_schedule():
    assert as_schedule(0.5) == Constant(0.5)
    assert as_schedule("auto") == Adaptive()
    s = InverseScaling(0.1)
    assert as_schedule(s) is s
    for bad in ["optimal", -1.0, 0, True, None, lambda t: 0.1]:
        with pytest.raises(ValueError, match="learning_rate"):
            as_schedule(bad)


@pytest.mark.parametrize(
    "schedule", [Constant(0.1), InverseScaling(0.2, 0.3), Optimal(1.0, 2.0), Adaptive(0.5)]
)
def test_pickle_copy_clone_frozen(schedule):
    assert isinstance(schedule, Schedule)
    assert pickle.loads(pickle.dumps(schedule)) == schedule
    assert copy.deepcopy(schedule) == schedule
    with pytest.raises(dataclasses.FrozenInstanceError):
        schedule.eta0 = 1.0
    solver = SGD(learning_rate=schedule)
    cloned = clone(solver)
    assert cloned.get_params()["learning_rate"] == schedule
    assert pickle.loads(pickle.dumps(solver)).learning_rate == schedule
